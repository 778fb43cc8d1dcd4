//! Encryption transforms of IKE SK payloads (RFC 7296 §3.14, RFC 5282) and ESP (RFC 4303,
//! RFC 3602, RFC 4106), applied in place to a buffer the codec has laid out.
//!
//! * [`Encr::AesCbc128`]/[`Encr::AesCbc256`] (ENCR_AES_CBC, 12) with an HMAC integrity
//!   transform ([`crate::ikev2::Integ`]), encrypt-then-MAC.
//! * [`Encr::AesGcm16_128`]/[`Encr::AesGcm16_256`] (ENCR_AES_GCM_16, 20): key material is
//!   key | 4-octet salt, nonce = salt | 8-octet IV, 16-octet ICV.
//!
//! Buffer layouts (`buf` is the whole packet; the caller has written the IV, the plaintext
//! with its padding and pad length, and reserved [`Cipher::icv_len`] octets at the end):
//!
//! ```text
//! IKE: | IKE header ... SK payload header | IV | inner payloads, Padding, Pad Length | ICV |
//!      |<------------- aad_len ---------->|
//! ESP: | SPI | Sequence Number | IV | Payload, Padding, Pad Length, Next Header | ICV |
//!      |<-------- 8 -------->|
//! ```
//!
//! | transform | IKE (aad_len header)              | ESP                                       |
//! |-----------|-----------------------------------|-------------------------------------------|
//! | CBC+HMAC  | ICV over header..ciphertext        | ICV over SPI..ciphertext (+ Seq high, ESN) |
//! | GCM       | AAD = header through SK header     | AAD = SPI \| Seq (\| high\|low with ESN)   |
//!
//! Nothing is allocated per packet. For GCM the caller must never reuse an IV with the same
//! key (ESP: use the 64-bit sequence number; IKE: a per-SA counter). CBC IVs must be
//! unpredictable (random).

use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::{aead, cipher};
use core::fmt;
use core::ops::Range;

use crate::ikev2::{Integ, IntegKey};
use crate::{Error, Result};

/// ESP: the authenticated-only header SPI | Sequence Number.
pub const ESP_HEADER_LEN: usize = 8;

/// GCM ICV length (ENCR_AES_GCM_16).
pub const GCM_ICV_LEN: usize = 16;

/// An encryption transform (Transform Type 1) with its key length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encr {
    /// ENCR_AES_CBC, 128-bit key.
    AesCbc128,
    /// ENCR_AES_CBC, 256-bit key.
    AesCbc256,
    /// ENCR_AES_GCM_16, 128-bit key.
    AesGcm16_128,
    /// ENCR_AES_GCM_16, 256-bit key.
    AesGcm16_256,
}

impl Encr {
    /// The IANA Transform ID.
    pub const fn transform_id(self) -> u16 {
        match self {
            Encr::AesCbc128 | Encr::AesCbc256 => 12,
            Encr::AesGcm16_128 | Encr::AesGcm16_256 => 20,
        }
    }

    /// The Key Length attribute value (bits).
    pub const fn key_bits(self) -> u16 {
        match self {
            Encr::AesCbc128 | Encr::AesGcm16_128 => 128,
            Encr::AesCbc256 | Encr::AesGcm16_256 => 256,
        }
    }

    /// From Transform ID and Key Length attribute.
    pub const fn from_transform(id: u16, key_bits: u16) -> Option<Self> {
        match (id, key_bits) {
            (12, 128) => Some(Encr::AesCbc128),
            (12, 256) => Some(Encr::AesCbc256),
            (20, 128) => Some(Encr::AesGcm16_128),
            (20, 256) => Some(Encr::AesGcm16_256),
            _ => None,
        }
    }

    /// True for the AEAD transforms (no separate integrity transform).
    pub const fn is_aead(self) -> bool {
        matches!(self, Encr::AesGcm16_128 | Encr::AesGcm16_256)
    }

    /// AES key length in octets.
    pub const fn key_len(self) -> usize {
        match self {
            Encr::AesCbc128 | Encr::AesGcm16_128 => 16,
            Encr::AesCbc256 | Encr::AesGcm16_256 => 32,
        }
    }

    /// Octets of key material to take from prf+ / KEYMAT: GCM adds the 4-octet salt
    /// (RFC 5282 §7.1, RFC 4106 §8.1).
    pub const fn keymat_len(self) -> usize {
        if self.is_aead() {
            self.key_len() + 4
        } else {
            self.key_len()
        }
    }

    /// IV length in octets.
    pub const fn iv_len(self) -> usize {
        if self.is_aead() {
            8
        } else {
            16
        }
    }

    /// The plaintext must be a multiple of this (CBC: 16). ESP additionally requires the
    /// ciphertext to end on a 4-octet boundary (RFC 4303 §2.4), which the codec handles.
    pub const fn block_len(self) -> usize {
        if self.is_aead() {
            1
        } else {
            16
        }
    }
}

/// AES-CBC key schedules (encryption and decryption) on aws-lc-rs, which measured faster than
/// RustCrypto `aes` + `cbc` here (see the `cbc_backend_1408` benchmark).
struct AesKey {
    enc: cipher::EncryptingKey,
    dec: cipher::DecryptingKey,
}

impl AesKey {
    fn new(key: &[u8]) -> Result<Self> {
        let alg = match key.len() {
            16 => &cipher::AES_128,
            32 => &cipher::AES_256,
            n => {
                return Err(Error::InvalidLength {
                    what: "AES key",
                    len: n,
                })
            }
        };
        let unbound =
            || cipher::UnboundCipherKey::new(alg, key).map_err(|_| Error::Backend("AES key"));
        Ok(Self {
            enc: cipher::EncryptingKey::cbc(unbound()?)
                .map_err(|_| Error::Backend("AES-CBC key"))?,
            dec: cipher::DecryptingKey::cbc(unbound()?)
                .map_err(|_| Error::Backend("AES-CBC key"))?,
        })
    }

    fn encrypt(&self, iv: &[u8; 16], data: &mut [u8]) -> Result<()> {
        check_blocks("AES-CBC plaintext", data.len())?;
        self.enc
            .less_safe_encrypt(
                data,
                cipher::EncryptionContext::Iv128(FixedLength::from(*iv)),
            )
            .map(|_| ())
            .map_err(|_| Error::Backend("AES-CBC encrypt"))
    }

    fn decrypt(&self, iv: &[u8; 16], data: &mut [u8]) -> Result<()> {
        check_blocks("AES-CBC ciphertext", data.len())?;
        self.dec
            .decrypt(
                data,
                cipher::DecryptionContext::Iv128(FixedLength::from(*iv)),
            )
            .map(|_| ())
            .map_err(|_| Error::Backend("AES-CBC decrypt"))
    }
}

fn check_blocks(what: &'static str, len: usize) -> Result<()> {
    if len.is_multiple_of(16) {
        Ok(())
    } else {
        Err(Error::InvalidLength { what, len })
    }
}

/// AES-CBC encryption in place without padding (length must be a multiple of 16).
pub fn cbc_encrypt(key: &[u8], iv: &[u8; 16], data: &mut [u8]) -> Result<()> {
    AesKey::new(key)?.encrypt(iv, data)
}

/// AES-CBC decryption in place without padding (length must be a multiple of 16).
pub fn cbc_decrypt(key: &[u8], iv: &[u8; 16], data: &mut [u8]) -> Result<()> {
    AesKey::new(key)?.decrypt(iv, data)
}

// One per SA direction, built once. The CBC key schedules and HMAC context (about 2 KB)
// live behind a box so that a GCM cipher, and every IKE SA that holds two of either kind,
// stays small: a responder keeps many thousands of them; the box costs one pointer chase per
// packet.
enum Inner {
    Cbc(Box<CbcKeys>),
    Gcm {
        key: aead::LessSafeKey,
        salt: [u8; 4],
    },
}

struct CbcKeys {
    aes: AesKey,
    integ: IntegKey,
}

/// The keyed transform of one direction of an IKE SA or ESP SA.
pub struct Cipher {
    encr: Encr,
    inner: Inner,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let integ = match &self.inner {
            Inner::Cbc(k) => Some(k.integ.alg()),
            Inner::Gcm { .. } => None,
        };
        write!(f, "Cipher({:?}, {:?}, redacted)", self.encr, integ)
    }
}

/// How the sequence number enters the integrity check of an ESP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aad {
    /// IKE: the first `n` octets of the buffer.
    Ike(usize),
    /// ESP: SPI | Seq, with the high 32 bits of an extended sequence number if given.
    Esp(Option<u32>),
}

impl Cipher {
    /// Keys a transform. `encr_keymat` has [`Encr::keymat_len`] octets (SK_ei/SK_er or the
    /// Child SA's encryption KEYMAT); CBC needs `integ`, GCM must not have one.
    pub fn new(encr: Encr, encr_keymat: &[u8], integ: Option<(Integ, &[u8])>) -> Result<Self> {
        if encr_keymat.len() != encr.keymat_len() {
            return Err(Error::InvalidLength {
                what: "encryption key material",
                len: encr_keymat.len(),
            });
        }
        let inner = if encr.is_aead() {
            if integ.is_some() {
                return Err(Error::Unsupported {
                    what: "integrity transform with AEAD",
                    id: integ.map_or(0, |(i, _)| i.transform_id()),
                });
            }
            let (key, salt) = encr_keymat.split_at(encr.key_len());
            let alg = if encr.key_len() == 16 {
                &aead::AES_128_GCM
            } else {
                &aead::AES_256_GCM
            };
            let unbound =
                aead::UnboundKey::new(alg, key).map_err(|_| Error::Backend("AES-GCM key"))?;
            Inner::Gcm {
                key: aead::LessSafeKey::new(unbound),
                salt: crate::util::take(salt),
            }
        } else {
            let (alg, key) = integ.ok_or(Error::Unsupported {
                what: "AES-CBC without integrity transform",
                id: encr.transform_id(),
            })?;
            Inner::Cbc(Box::new(CbcKeys {
                aes: AesKey::new(encr_keymat)?,
                integ: IntegKey::new(alg, key)?,
            }))
        };
        Ok(Self { encr, inner })
    }

    /// The encryption transform.
    pub fn encr(&self) -> Encr {
        self.encr
    }

    /// IV length.
    pub fn iv_len(&self) -> usize {
        self.encr.iv_len()
    }

    /// ICV length (the integrity transform's, or 16 for GCM).
    pub fn icv_len(&self) -> usize {
        match &self.inner {
            Inner::Cbc(k) => k.integ.alg().icv_len(),
            Inner::Gcm { .. } => GCM_ICV_LEN,
        }
    }

    /// The range of `buf` holding the plaintext/ciphertext for a header of `aad_len` octets.
    pub fn payload_range(&self, buf_len: usize, aad_len: usize) -> Result<Range<usize>> {
        let start = aad_len.checked_add(self.iv_len());
        let end = buf_len.checked_sub(self.icv_len());
        match (start, end) {
            (Some(s), Some(e)) if s <= e => Ok(s..e),
            _ => Err(Error::InvalidLength {
                what: "encrypted payload",
                len: buf_len,
            }),
        }
    }

    /// Encrypts an IKE SK (or SKF) payload in place: `aad_len` = octets from the IKE header
    /// through the SK payload header. The IKE header's Length and the SK payload's Payload
    /// Length must already be final.
    pub fn seal_ike(&self, buf: &mut [u8], aad_len: usize) -> Result<()> {
        self.seal(buf, Aad::Ike(aad_len))
    }

    /// Verifies and decrypts an IKE SK payload in place; the plaintext is then at
    /// [`Cipher::payload_range`]. On failure the payload octets are unspecified.
    pub fn open_ike(&self, buf: &mut [u8], aad_len: usize) -> Result<()> {
        self.open(buf, Aad::Ike(aad_len))
    }

    /// Encrypts an ESP packet in place (`buf` starts at the SPI). `esn_high` is the high
    /// 32 bits of the sequence number when extended sequence numbers are in use.
    pub fn seal_esp(&self, buf: &mut [u8], esn_high: Option<u32>) -> Result<()> {
        self.seal(buf, Aad::Esp(esn_high))
    }

    /// Verifies and decrypts an ESP packet in place.
    pub fn open_esp(&self, buf: &mut [u8], esn_high: Option<u32>) -> Result<()> {
        self.open(buf, Aad::Esp(esn_high))
    }

    fn aad_len(aad: Aad) -> usize {
        match aad {
            Aad::Ike(n) => n,
            Aad::Esp(_) => ESP_HEADER_LEN,
        }
    }

    fn seal(&self, buf: &mut [u8], aad: Aad) -> Result<()> {
        let aad_len = Self::aad_len(aad);
        let range = self.payload_range(buf.len(), aad_len)?;
        let iv_len = self.iv_len();
        let (head, rest) = buf.split_at_mut(aad_len);
        let (iv, rest) = rest.split_at_mut(iv_len);
        let (payload, icv) = rest.split_at_mut(range.len());
        match &self.inner {
            Inner::Cbc(k) => {
                let (aes, integ) = (&k.aes, &k.integ);
                let iv16: [u8; 16] = crate::util::take(iv);
                aes.encrypt(&iv16, payload)?;
                let tag = match aad {
                    Aad::Esp(Some(hi)) => {
                        integ.compute_parts(&[head, iv, payload, &hi.to_be_bytes()])
                    }
                    _ => integ.compute_parts(&[head, iv, payload]),
                };
                icv.copy_from_slice(tag.as_bytes());
            }
            Inner::Gcm { key, salt } => {
                let nonce = gcm_nonce(salt, iv);
                let tag = match esn_aad(aad, head) {
                    Some(a) => key.seal_in_place_separate_tag(nonce, aead::Aad::from(&a), payload),
                    None => key.seal_in_place_separate_tag(nonce, aead::Aad::from(&*head), payload),
                }
                .map_err(|_| Error::Backend("AES-GCM seal"))?;
                icv.copy_from_slice(tag.as_ref());
            }
        }
        Ok(())
    }

    fn open(&self, buf: &mut [u8], aad: Aad) -> Result<()> {
        let aad_len = Self::aad_len(aad);
        let range = self.payload_range(buf.len(), aad_len)?;
        let iv_len = self.iv_len();
        let (head, rest) = buf.split_at_mut(aad_len);
        let (iv, rest) = rest.split_at_mut(iv_len);
        let (payload, icv) = rest.split_at_mut(range.len());
        match &self.inner {
            Inner::Cbc(k) => {
                let (aes, integ) = (&k.aes, &k.integ);
                let verified = match aad {
                    Aad::Esp(Some(hi)) => {
                        integ.verify_parts(&[head, iv, payload, &hi.to_be_bytes()], icv)
                    }
                    _ => integ.verify_parts(&[head, iv, payload], icv),
                };
                verified?;
                let iv16: [u8; 16] = crate::util::take(iv);
                aes.decrypt(&iv16, payload)?;
            }
            Inner::Gcm { key, salt } => {
                let nonce = gcm_nonce(salt, iv);
                let opened = match esn_aad(aad, head) {
                    Some(a) => {
                        key.open_in_place_separate_tag(nonce, aead::Aad::from(&a), icv, payload)
                    }
                    None => {
                        key.open_in_place_separate_tag(nonce, aead::Aad::from(&*head), icv, payload)
                    }
                };
                opened.map_err(|_| Error::AuthenticationFailed { what: "ICV" })?;
            }
        }
        Ok(())
    }
}

/// The 12-octet GCM nonce salt | IV.
fn gcm_nonce(salt: &[u8; 4], iv: &[u8]) -> aead::Nonce {
    let mut n = [0u8; 12];
    n[..4].copy_from_slice(salt);
    let k = iv.len().min(8);
    n[4..4 + k].copy_from_slice(&iv[..k]);
    aead::Nonce::assume_unique_for_key(n)
}

/// ESP with ESN: AAD = SPI | Seq high | Seq low (RFC 4106 §5).
fn esn_aad(aad: Aad, head: &[u8]) -> Option<[u8; 12]> {
    match aad {
        Aad::Esp(Some(hi)) if head.len() == ESP_HEADER_LEN => {
            let mut a = [0u8; 12];
            a[..4].copy_from_slice(&head[..4]);
            a[4..8].copy_from_slice(&hi.to_be_bytes());
            a[8..].copy_from_slice(&head[4..8]);
            Some(a)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encr_ids_and_lengths() {
        for e in [
            Encr::AesCbc128,
            Encr::AesCbc256,
            Encr::AesGcm16_128,
            Encr::AesGcm16_256,
        ] {
            assert_eq!(
                Encr::from_transform(e.transform_id(), e.key_bits()),
                Some(e)
            );
        }
        assert_eq!(Encr::AesGcm16_256.keymat_len(), 36);
        assert_eq!(Encr::AesCbc128.keymat_len(), 16);
        assert_eq!(Encr::from_transform(12, 192), None);
    }

    #[test]
    fn constructor_checks() {
        assert!(Cipher::new(Encr::AesCbc128, &[0; 16], None).is_err());
        assert!(Cipher::new(
            Encr::AesCbc128,
            &[0; 15],
            Some((Integ::HmacSha256_128, &[0; 32]))
        )
        .is_err());
        assert!(Cipher::new(
            Encr::AesCbc128,
            &[0; 16],
            Some((Integ::HmacSha256_128, &[0; 31]))
        )
        .is_err());
        assert!(Cipher::new(Encr::AesGcm16_128, &[0; 16], None).is_err());
        assert!(Cipher::new(
            Encr::AesGcm16_128,
            &[0; 20],
            Some((Integ::HmacSha1_96, &[0; 20]))
        )
        .is_err());
        assert!(Cipher::new(Encr::AesGcm16_128, &[0; 20], None).is_ok());
    }

    #[test]
    fn short_buffers_are_errors() {
        let c = Cipher::new(
            Encr::AesCbc128,
            &[1; 16],
            Some((Integ::HmacSha256_128, &[2; 32])),
        )
        .unwrap();
        for len in 0..(8 + 16 + 16) {
            let mut b = vec![0u8; len];
            assert!(c.seal_esp(&mut b, None).is_err(), "len {len}");
            assert!(c.open_esp(&mut b, None).is_err(), "len {len}");
        }
        // Not a multiple of 16.
        let mut b = vec![0u8; 8 + 16 + 17 + 16];
        assert!(c.seal_esp(&mut b, None).is_err());
        let g = Cipher::new(Encr::AesGcm16_128, &[1; 20], None).unwrap();
        let mut b = vec![0u8; 8 + 8 + 16 - 1];
        assert!(g.seal_esp(&mut b, None).is_err());
        let mut b = vec![0u8; 30];
        assert!(g.seal_ike(&mut b, usize::MAX).is_err());
    }
}
