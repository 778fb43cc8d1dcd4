//! IKEv2 key material (RFC 7296) with the HMAC PRFs and integrity transforms of RFC 2104 /
//! RFC 4868.
//!
//! * [`Prf`]: PRF_HMAC_SHA1 (2), PRF_HMAC_SHA2_256 (5), _384 (6), _512 (7); [`Prf::prf_plus`].
//!   PRF_AES128_XCBC / CMAC are not implemented.
//! * [`skeyseed`], [`rekey_skeyseed`], [`IkeSaKeys`] (RFC 7296 §2.14, §2.18).
//! * Child SA KEYMAT with and without PFS: [`child_keymat`], [`ChildSaKeys`] (§2.17).
//! * AUTH for shared keys and EAP (§2.15, §2.16, RFC 5998): [`maced_id`], [`auth_shared_key`],
//!   [`verify_auth_shared_key`], [`eap_shared_key`], [`signed_octets`].
//! * [`Integ`]/[`IntegKey`]: AUTH_HMAC_SHA1_96 (2), AUTH_HMAC_SHA2_256_128 (12),
//!   _384_192 (13), _512_256 (14), compute and constant-time verify.

use aws_lc_rs::hmac;
use core::fmt;

use crate::secret::SecretVec;
use crate::util::{ct_eq, hmac_parts, hmac_parts_with, Output};
use crate::{Error, Result};

/// "Key Pad for IKEv2", the pad of the shared-key AUTH computation (RFC 7296 §2.15).
pub const KEY_PAD: &[u8] = b"Key Pad for IKEv2";

/// An IKEv2 pseudo-random function (Transform Type 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prf {
    /// PRF_HMAC_SHA1 (2).
    HmacSha1,
    /// PRF_HMAC_SHA2_256 (5).
    HmacSha256,
    /// PRF_HMAC_SHA2_384 (6).
    HmacSha384,
    /// PRF_HMAC_SHA2_512 (7).
    HmacSha512,
}

impl Prf {
    /// The IANA Transform ID.
    pub const fn transform_id(self) -> u16 {
        match self {
            Prf::HmacSha1 => 2,
            Prf::HmacSha256 => 5,
            Prf::HmacSha384 => 6,
            Prf::HmacSha512 => 7,
        }
    }

    /// From an IANA Transform ID (None for PRFs this crate does not implement).
    pub const fn from_transform_id(id: u16) -> Option<Self> {
        match id {
            2 => Some(Prf::HmacSha1),
            5 => Some(Prf::HmacSha256),
            6 => Some(Prf::HmacSha384),
            7 => Some(Prf::HmacSha512),
            _ => None,
        }
    }

    /// Output length in octets.
    pub const fn output_len(self) -> usize {
        match self {
            Prf::HmacSha1 => 20,
            Prf::HmacSha256 => 32,
            Prf::HmacSha384 => 48,
            Prf::HmacSha512 => 64,
        }
    }

    /// The preferred key length, which is the length of SK_d, SK_pi and SK_pr (RFC 7296 §2.14;
    /// for the HMAC PRFs it equals the output length, RFC 4868 §2.2).
    pub const fn key_len(self) -> usize {
        self.output_len()
    }

    pub(crate) fn hmac_alg(self) -> hmac::Algorithm {
        match self {
            Prf::HmacSha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Prf::HmacSha256 => hmac::HMAC_SHA256,
            Prf::HmacSha384 => hmac::HMAC_SHA384,
            Prf::HmacSha512 => hmac::HMAC_SHA512,
        }
    }

    /// prf(key, data).
    pub fn compute(self, key: &[u8], data: &[u8]) -> Output {
        self.compute_parts(key, &[data])
    }

    /// prf(key, part1 | part2 | ...), without building the concatenation.
    pub fn compute_parts(self, key: &[u8], parts: &[&[u8]]) -> Output {
        Output::new(hmac_parts(self.hmac_alg(), key, parts).as_ref())
    }

    /// prf+(key, seed) filling `out` (RFC 7296 §2.13); at most 255 PRF blocks.
    pub fn prf_plus(self, key: &[u8], seed: &[&[u8]], out: &mut [u8]) -> Result<()> {
        crate::util::prf_plus("prf+", self.hmac_alg(), key, seed, out)
    }
}

/// SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 §2.14). `g_ir` is the DH shared secret padded to
/// the group's length (as [`crate::dh`] returns it).
pub fn skeyseed(prf: Prf, ni: &[u8], nr: &[u8], g_ir: &[u8]) -> Output {
    let mut key = Vec::with_capacity(ni.len().saturating_add(nr.len()));
    key.extend_from_slice(ni);
    key.extend_from_slice(nr);
    prf.compute(&key, g_ir)
}

/// SKEYSEED of a rekeyed IKE SA = prf(SK_d (old), g^ir (new) | Ni | Nr) (RFC 7296 §2.18),
/// with the PRF of the old IKE SA and the nonces of the CREATE_CHILD_SA exchange.
pub fn rekey_skeyseed(
    old_prf: Prf,
    old_sk_d: &[u8],
    g_ir_new: &[u8],
    ni: &[u8],
    nr: &[u8],
) -> Output {
    old_prf.compute_parts(old_sk_d, &[g_ir_new, ni, nr])
}

/// Key lengths of the negotiated transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLengths {
    /// Encryption key octets including any salt (AES-GCM: key + 4, see
    /// [`crate::transform::Encr::keymat_len`]).
    pub encr: usize,
    /// Integrity key octets (0 with an AEAD cipher).
    pub integ: usize,
}

/// The seven keys of an IKE SA: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
/// prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeSaKeys {
    /// SK_d: derives Child SA keys.
    pub sk_d: SecretVec,
    /// SK_ai: integrity, initiator to responder.
    pub sk_ai: SecretVec,
    /// SK_ar: integrity, responder to initiator.
    pub sk_ar: SecretVec,
    /// SK_ei: encryption, initiator to responder.
    pub sk_ei: SecretVec,
    /// SK_er: encryption, responder to initiator.
    pub sk_er: SecretVec,
    /// SK_pi: the initiator's AUTH (MACedIDForI and EAP without MSK).
    pub sk_pi: SecretVec,
    /// SK_pr: the responder's AUTH.
    pub sk_pr: SecretVec,
}

impl IkeSaKeys {
    /// Total octets of prf+ output for these lengths.
    pub fn total_len(prf: Prf, lens: KeyLengths) -> usize {
        3 * prf.key_len() + 2 * lens.integ + 2 * lens.encr
    }

    /// Derives the keys from SKEYSEED (RFC 7296 §2.14).
    pub fn derive(
        prf: Prf,
        skeyseed: &[u8],
        ni: &[u8],
        nr: &[u8],
        spi_i: &[u8; 8],
        spi_r: &[u8; 8],
        lens: KeyLengths,
    ) -> Result<Self> {
        let km = Self::keymat(prf, skeyseed, ni, nr, spi_i, spi_r, lens)?;
        let [d, ai, ar, ei, er, pi, pr] = Self::layout(prf, lens)
            .map(|r| SecretVec::from_slice(km.as_bytes().get(r).unwrap_or(&[])));
        Ok(Self {
            sk_d: d,
            sk_ai: ai,
            sk_ar: ar,
            sk_ei: ei,
            sk_er: er,
            sk_pi: pi,
            sk_pr: pr,
        })
    }

    /// Where each key lies in [`IkeSaKeys::keymat`]'s buffer: SK_d, SK_ai, SK_ar, SK_ei,
    /// SK_er, SK_pi, SK_pr, in that order (RFC 7296 §2.14).
    pub fn layout(prf: Prf, lens: KeyLengths) -> [core::ops::Range<usize>; 7] {
        let p = prf.key_len();
        let sizes = [p, lens.integ, lens.integ, lens.encr, lens.encr, p, p];
        let mut at = 0;
        sizes.map(|n| {
            at += n;
            at - n..at
        })
    }

    /// The same keys as one buffer, SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr
    /// ([`IkeSaKeys::total_len`] octets): one allocation for an SA that keeps them.
    pub fn keymat(
        prf: Prf,
        skeyseed: &[u8],
        ni: &[u8],
        nr: &[u8],
        spi_i: &[u8; 8],
        spi_r: &[u8; 8],
        lens: KeyLengths,
    ) -> Result<SecretVec> {
        let total = lens
            .integ
            .checked_mul(2)
            .and_then(|i| lens.encr.checked_mul(2).and_then(|e| e.checked_add(i)))
            .and_then(|x| x.checked_add(3 * prf.key_len()))
            .ok_or(Error::OutputTooLong {
                what: "prf+",
                len: usize::MAX,
            })?;
        let mut km = SecretVec::zeroed(total);
        prf.prf_plus(skeyseed, &[ni, nr, spi_i, spi_r], km.as_mut_bytes())?;
        Ok(km)
    }
}

/// Cuts consecutive keys off a KEYMAT buffer whose total length was computed beforehand.
struct Splitter<'a> {
    rest: &'a [u8],
}

impl<'a> Splitter<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { rest: b }
    }

    fn take(&mut self, n: usize) -> SecretVec {
        let n = n.min(self.rest.len());
        let (a, b) = self.rest.split_at(n);
        self.rest = b;
        SecretVec::from_slice(a)
    }
}

/// KEYMAT = prf+(SK_d, Ni | Nr), or prf+(SK_d, g^ir (new) | Ni | Nr) with PFS
/// (RFC 7296 §2.17). Fills `out`.
pub fn child_keymat(
    prf: Prf,
    sk_d: &[u8],
    g_ir_new: Option<&[u8]>,
    ni: &[u8],
    nr: &[u8],
    out: &mut [u8],
) -> Result<()> {
    match g_ir_new {
        Some(g) => prf.prf_plus(sk_d, &[g, ni, nr], out),
        None => prf.prf_plus(sk_d, &[ni, nr], out),
    }
}

/// The keys of one Child SA pair, taken from KEYMAT in the order of RFC 7296 §2.17: the SA
/// carrying data from initiator to responder first, encryption key before integrity key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSaKeys {
    /// Encryption key (with salt for AES-GCM), initiator to responder.
    pub encr_i: SecretVec,
    /// Integrity key, initiator to responder (empty with AEAD).
    pub integ_i: SecretVec,
    /// Encryption key, responder to initiator.
    pub encr_r: SecretVec,
    /// Integrity key, responder to initiator.
    pub integ_r: SecretVec,
}

impl ChildSaKeys {
    /// Derives KEYMAT and splits it.
    pub fn derive(
        prf: Prf,
        sk_d: &[u8],
        g_ir_new: Option<&[u8]>,
        ni: &[u8],
        nr: &[u8],
        lens: KeyLengths,
    ) -> Result<Self> {
        let total = lens
            .encr
            .checked_add(lens.integ)
            .and_then(|x| x.checked_mul(2))
            .ok_or(Error::OutputTooLong {
                what: "prf+",
                len: usize::MAX,
            })?;
        let mut km = SecretVec::zeroed(total);
        child_keymat(prf, sk_d, g_ir_new, ni, nr, km.as_mut_bytes())?;
        let mut split = Splitter::new(km.as_bytes());
        Ok(Self {
            encr_i: split.take(lens.encr),
            integ_i: split.take(lens.integ),
            encr_r: split.take(lens.encr),
            integ_r: split.take(lens.integ),
        })
    }
}

/// MACedIDForI/R = prf(SK_pi/SK_pr, RestOfIDPayload), where RestOfIDPayload is the ID payload
/// after its generic header: ID Type | RESERVED (3) | Identification Data (RFC 7296 §2.15).
pub fn maced_id(prf: Prf, sk_p: &[u8], rest_of_id_payload: &[u8]) -> Output {
    prf.compute(sk_p, rest_of_id_payload)
}

/// Appends the signed octets RealMessage | Nonce | MACedID to `out` (for signature
/// authentication methods; the shared-key methods below stream them instead).
pub fn signed_octets(real_message: &[u8], peer_nonce: &[u8], maced_id: &[u8], out: &mut Vec<u8>) {
    out.reserve(real_message.len() + peer_nonce.len() + maced_id.len());
    out.extend_from_slice(real_message);
    out.extend_from_slice(peer_nonce);
    out.extend_from_slice(maced_id);
}

/// AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), RealMessage | Nonce | MACedID)
/// (RFC 7296 §2.15). For the initiator: RealMessage = its IKE_SA_INIT request, Nonce = Nr,
/// MACedID = prf(SK_pi, RestOfInitIDPayload); the responder mirrors it.
pub fn auth_shared_key(
    prf: Prf,
    shared_secret: &[u8],
    real_message: &[u8],
    peer_nonce: &[u8],
    maced_id: &[u8],
) -> Output {
    let inner = prf.compute(shared_secret, KEY_PAD);
    let key = hmac::Key::new(prf.hmac_alg(), inner.as_bytes());
    Output::new(hmac_parts_with(&key, &[real_message, peer_nonce, maced_id]).as_ref())
}

/// Verifies a received shared-key AUTH value in constant time.
pub fn verify_auth_shared_key(
    prf: Prf,
    shared_secret: &[u8],
    real_message: &[u8],
    peer_nonce: &[u8],
    maced_id: &[u8],
    received: &[u8],
) -> Result<()> {
    let want = auth_shared_key(prf, shared_secret, real_message, peer_nonce, maced_id);
    if want.ct_eq(received) {
        Ok(())
    } else {
        Err(Error::AuthenticationFailed { what: "AUTH" })
    }
}

/// The shared secret of an EAP-authenticated AUTH payload: the MSK when the EAP method
/// produced one, otherwise SK_pi (initiator's AUTH) or SK_pr (responder's AUTH)
/// (RFC 7296 §2.16, RFC 5998 §4).
pub fn eap_shared_key<'a>(msk: Option<&'a [u8]>, sk_p: &'a [u8]) -> &'a [u8] {
    match msk {
        Some(m) if !m.is_empty() => m,
        _ => sk_p,
    }
}

/// An integrity transform (Transform Type 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Integ {
    /// AUTH_HMAC_SHA1_96 (2).
    HmacSha1_96,
    /// AUTH_HMAC_SHA2_256_128 (12).
    HmacSha256_128,
    /// AUTH_HMAC_SHA2_384_192 (13).
    HmacSha384_192,
    /// AUTH_HMAC_SHA2_512_256 (14).
    HmacSha512_256,
}

impl Integ {
    /// The IANA Transform ID.
    pub const fn transform_id(self) -> u16 {
        match self {
            Integ::HmacSha1_96 => 2,
            Integ::HmacSha256_128 => 12,
            Integ::HmacSha384_192 => 13,
            Integ::HmacSha512_256 => 14,
        }
    }

    /// From an IANA Transform ID.
    pub const fn from_transform_id(id: u16) -> Option<Self> {
        match id {
            2 => Some(Integ::HmacSha1_96),
            12 => Some(Integ::HmacSha256_128),
            13 => Some(Integ::HmacSha384_192),
            14 => Some(Integ::HmacSha512_256),
            _ => None,
        }
    }

    /// Key length in octets (RFC 2404, RFC 4868 §2.1.1).
    pub const fn key_len(self) -> usize {
        match self {
            Integ::HmacSha1_96 => 20,
            Integ::HmacSha256_128 => 32,
            Integ::HmacSha384_192 => 48,
            Integ::HmacSha512_256 => 64,
        }
    }

    /// ICV (truncated MAC) length in octets.
    pub const fn icv_len(self) -> usize {
        match self {
            Integ::HmacSha1_96 => 12,
            Integ::HmacSha256_128 => 16,
            Integ::HmacSha384_192 => 24,
            Integ::HmacSha512_256 => 32,
        }
    }

    fn hmac_alg(self) -> hmac::Algorithm {
        match self {
            Integ::HmacSha1_96 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Integ::HmacSha256_128 => hmac::HMAC_SHA256,
            Integ::HmacSha384_192 => hmac::HMAC_SHA384,
            Integ::HmacSha512_256 => hmac::HMAC_SHA512,
        }
    }
}

/// A keyed integrity transform (the HMAC key schedule is prepared once per SA).
#[derive(Clone)]
pub struct IntegKey {
    alg: Integ,
    key: hmac::Key,
}

impl fmt::Debug for IntegKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IntegKey({:?}, redacted)", self.alg)
    }
}

impl IntegKey {
    /// Keys the transform; the key must have [`Integ::key_len`] octets.
    pub fn new(alg: Integ, key: &[u8]) -> Result<Self> {
        if key.len() != alg.key_len() {
            return Err(Error::InvalidLength {
                what: "integrity key",
                len: key.len(),
            });
        }
        Ok(Self {
            alg,
            key: hmac::Key::new(alg.hmac_alg(), key),
        })
    }

    /// The transform.
    pub fn alg(&self) -> Integ {
        self.alg
    }

    /// The truncated ICV over the concatenation of `parts`.
    pub fn compute_parts(&self, parts: &[&[u8]]) -> Output {
        let tag = hmac_parts_with(&self.key, parts);
        let icv = tag
            .as_ref()
            .get(..self.alg.icv_len())
            .unwrap_or(tag.as_ref());
        Output::new(icv)
    }

    /// The truncated ICV over `data`.
    pub fn compute(&self, data: &[u8]) -> Output {
        self.compute_parts(&[data])
    }

    /// Verifies a received ICV over the concatenation of `parts`, in constant time.
    pub fn verify_parts(&self, parts: &[&[u8]], icv: &[u8]) -> Result<()> {
        if ct_eq(self.compute_parts(parts).as_bytes(), icv) {
            Ok(())
        } else {
            Err(Error::AuthenticationFailed { what: "ICV" })
        }
    }

    /// Verifies a received ICV over `data`.
    pub fn verify(&self, data: &[u8], icv: &[u8]) -> Result<()> {
        self.verify_parts(&[data], icv)
    }
}

/// NAT_DETECTION_SOURCE_IP / _DESTINATION_IP data (RFC 7296 §2.23):
/// SHA-1(SPIi | SPIr | IP address | port), the address as 4 or 16 octets, the port big-endian.
/// SPIr is zero in the first IKE_SA_INIT request.
pub fn nat_detection_hash(spi_i: &[u8; 8], spi_r: &[u8; 8], ip: &[u8], port: u16) -> [u8; 20] {
    let d = crate::util::digest_parts(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        &[spi_i, spi_r, ip, &port.to_be_bytes()],
    );
    crate::util::take(d.as_ref())
}

/// The Certification Authority value of a CERTREQ for X.509 (RFC 7296 §3.7): SHA-1 of the
/// CA certificate's DER SubjectPublicKeyInfo.
pub fn ca_key_hash(subject_public_key_info: &[u8]) -> [u8; 20] {
    let d = crate::util::digest_parts(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        &[subject_public_key_info],
    );
    crate::util::take(d.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_ids_round_trip() {
        for p in [
            Prf::HmacSha1,
            Prf::HmacSha256,
            Prf::HmacSha384,
            Prf::HmacSha512,
        ] {
            assert_eq!(Prf::from_transform_id(p.transform_id()), Some(p));
        }
        for i in [
            Integ::HmacSha1_96,
            Integ::HmacSha256_128,
            Integ::HmacSha384_192,
            Integ::HmacSha512_256,
        ] {
            assert_eq!(Integ::from_transform_id(i.transform_id()), Some(i));
        }
        assert_eq!(Prf::from_transform_id(4), None); // PRF_AES128_XCBC: not implemented
        assert_eq!(Integ::from_transform_id(5), None);
    }

    #[test]
    fn psk_auth_matches_hand_construction() {
        let prf = Prf::HmacSha256;
        let psk = b"shared secret";
        let msg = b"IKE_SA_INIT request bytes";
        let nr = [0x55u8; 32];
        let sk_pi = [0x11u8; 32];
        let rest_of_id = [2u8, 0, 0, 0, b'a', b'@', b'b'];
        let mid = maced_id(prf, &sk_pi, &rest_of_id);
        let auth = auth_shared_key(prf, psk, msg, &nr, &mid);

        let h = |k: &[u8], d: &[u8]| {
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k), d)
                .as_ref()
                .to_vec()
        };
        let mid2 = h(&sk_pi, &rest_of_id);
        assert_eq!(mid.as_bytes(), &mid2[..]);
        let mut octets = Vec::new();
        signed_octets(msg, &nr, &mid2, &mut octets);
        let want = h(&h(psk, b"Key Pad for IKEv2"), &octets);
        assert_eq!(auth.as_bytes(), &want[..]);

        verify_auth_shared_key(prf, psk, msg, &nr, &mid, &want).unwrap();
        let mut bad = want.clone();
        bad[0] ^= 1;
        assert!(verify_auth_shared_key(prf, psk, msg, &nr, &mid, &bad).is_err());
        assert!(verify_auth_shared_key(prf, psk, msg, &nr, &mid, &want[..31]).is_err());
    }

    #[test]
    fn eap_shared_key_falls_back_to_sk_p() {
        let sk_p = [1u8; 32];
        assert_eq!(eap_shared_key(Some(&[9u8; 64]), &sk_p), &[9u8; 64][..]);
        assert_eq!(eap_shared_key(None, &sk_p), &sk_p[..]);
        assert_eq!(eap_shared_key(Some(&[]), &sk_p), &sk_p[..]);
    }

    #[test]
    fn ike_sa_key_split_order_and_lengths() {
        let prf = Prf::HmacSha256;
        let lens = KeyLengths { encr: 36, integ: 0 };
        let keys =
            IkeSaKeys::derive(prf, &[7u8; 32], b"ni", b"nr", &[1; 8], &[2; 8], lens).unwrap();
        let mut km = vec![0u8; IkeSaKeys::total_len(prf, lens)];
        prf.prf_plus(&[7u8; 32], &[b"ni", b"nr", &[1; 8], &[2; 8]], &mut km)
            .unwrap();
        let mut cat = Vec::new();
        for k in [
            &keys.sk_d,
            &keys.sk_ai,
            &keys.sk_ar,
            &keys.sk_ei,
            &keys.sk_er,
            &keys.sk_pi,
            &keys.sk_pr,
        ] {
            cat.extend_from_slice(k.as_bytes());
        }
        assert_eq!(cat, km);
        // keymat() is the same buffer, and layout() cuts it where derive() does
        let whole =
            IkeSaKeys::keymat(prf, &[7u8; 32], b"ni", b"nr", &[1; 8], &[2; 8], lens).unwrap();
        assert_eq!(whole.as_bytes(), &km[..]);
        let layout = IkeSaKeys::layout(prf, lens);
        assert_eq!(layout[6].end, km.len());
        assert_eq!(&km[layout[3].clone()], keys.sk_ei.as_bytes());
        assert_eq!(&km[layout[6].clone()], keys.sk_pr.as_bytes());
        assert_eq!(keys.sk_ei.len(), 36);
        assert!(keys.sk_ai.is_empty());
        assert_eq!(keys.sk_pr.len(), 32);
    }

    #[test]
    fn child_sa_split_order() {
        let prf = Prf::HmacSha1;
        let lens = KeyLengths {
            encr: 16,
            integ: 32,
        };
        let k = ChildSaKeys::derive(prf, &[3u8; 20], None, b"n1", b"n2", lens).unwrap();
        let mut km = [0u8; 96];
        child_keymat(prf, &[3u8; 20], None, b"n1", b"n2", &mut km).unwrap();
        assert_eq!(k.encr_i.as_bytes(), &km[..16]);
        assert_eq!(k.integ_i.as_bytes(), &km[16..48]);
        assert_eq!(k.encr_r.as_bytes(), &km[48..64]);
        assert_eq!(k.integ_r.as_bytes(), &km[64..96]);
    }

    #[test]
    fn integ_key_length_and_verify() {
        assert!(IntegKey::new(Integ::HmacSha256_128, &[0; 31]).is_err());
        let k = IntegKey::new(Integ::HmacSha1_96, &[0x0b; 20]).unwrap();
        let icv = k.compute(b"data");
        assert_eq!(icv.len(), 12);
        k.verify(b"data", &icv).unwrap();
        k.verify_parts(&[b"da", b"ta"], &icv).unwrap();
        assert!(k.verify(b"datA", &icv).is_err());
        assert!(k.verify(b"data", &icv[..11]).is_err());
    }

    #[test]
    fn prf_plus_limit() {
        let mut out = vec![0u8; 255 * 20 + 1];
        assert!(Prf::HmacSha1.prf_plus(b"k", &[b"s"], &mut out).is_err());
        assert!(Prf::HmacSha1
            .prf_plus(b"k", &[b"s"], &mut out[..255 * 20])
            .is_ok());
    }

    #[test]
    fn nat_detection_hash_is_sha1_of_the_concatenation() {
        use sha1::Digest;
        let (i, r) = ([1u8; 8], [0u8; 8]);
        let h = nat_detection_hash(&i, &r, &[192, 0, 2, 1], 500);
        let mut want = sha1::Sha1::new();
        want.update(i);
        want.update(r);
        want.update([192, 0, 2, 1, 0x01, 0xf4]);
        assert_eq!(&h[..], &want.finalize()[..]);
        assert_ne!(h, nat_detection_hash(&i, &r, &[192, 0, 2, 1], 4500));
        let spki = [0x30u8, 3, 1, 2, 3];
        let mut want = sha1::Sha1::new();
        want.update(spki);
        assert_eq!(&ca_key_hash(&spki)[..], &want.finalize()[..]);
    }
}
