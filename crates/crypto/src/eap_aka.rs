//! EAP-AKA (RFC 4187) and EAP-SIM (RFC 4186) keys and attribute cryptography.
//!
//! * Full authentication (RFC 4187 §7): MK = SHA1(Identity | IK | CK); the FIPS 186-2 PRF
//!   seeded with MK gives K_encr (16) | K_aut (16) | MSK (64) | EMSK (64): [`AkaKeys`].
//!   EAP-SIM differs only in MK ([`sim_mk`]).
//! * Fast re-authentication (RFC 4187 §7, RFC 4186 §7): XKEY' = SHA1(Identity | counter |
//!   NONCE_S | MK); the PRF seeded with XKEY' gives MSK | EMSK; K_encr and K_aut are kept from
//!   the full authentication: [`ReauthKeys`].
//! * AT_MAC (RFC 4187 §10.15): HMAC-SHA1-128 over the whole EAP packet with the MAC value
//!   field read as zeros, followed by method-specific extra data. EAP-AKA' uses
//!   HMAC-SHA-256-128 with the same layout; see [`MacAlg`].
//! * AT_CHECKCODE (RFC 4187 §10.13): a hash of the AKA-Identity round trips ([`Checkcode`]).
//! * AT_ENCR_DATA (RFC 4187 §10.12): AES-128-CBC with the IV of AT_IV, no padding scheme:
//!   the codec pads the plaintext to a multiple of 16 with AT_PADDING.

use aws_lc_rs::{digest, hmac};

use crate::fips186::Fips186Prf;
use crate::secret::SecretBytes;
use crate::util::{ct_eq, digest_parts, hmac_parts, take, Output};
use crate::{Error, Result};

/// Length of the AT_MAC value.
pub const AT_MAC_LEN: usize = 16;

/// MK = SHA1(Identity | IK | CK) (RFC 4187 §7). `identity` is the identity as used in the
/// key derivation (the last AT_IDENTITY, or the EAP-Response/Identity, without trailing NUL).
pub fn aka_mk(identity: &[u8], ik: &[u8; 16], ck: &[u8; 16]) -> SecretBytes<20> {
    let d = digest_parts(&digest::SHA1_FOR_LEGACY_USE_ONLY, &[identity, ik, ck]);
    SecretBytes::new(take::<20>(d.as_ref()))
}

/// EAP-SIM MK = SHA1(Identity | n*Kc | NONCE_MT | Version List | Selected Version)
/// (RFC 4186 §7). `version_list` is the AT_VERSION_LIST value (2 octets per version, without
/// the actual-length field or padding).
pub fn sim_mk(
    identity: &[u8],
    kcs: &[[u8; 8]],
    nonce_mt: &[u8; 16],
    version_list: &[u8],
    selected_version: [u8; 2],
) -> SecretBytes<20> {
    let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(identity);
    for kc in kcs {
        ctx.update(kc);
    }
    ctx.update(nonce_mt);
    ctx.update(version_list);
    ctx.update(&selected_version);
    SecretBytes::new(take::<20>(ctx.finish().as_ref()))
}

/// Keys of an EAP-AKA or EAP-SIM full authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AkaKeys {
    /// The master key MK (kept for fast re-authentication).
    pub mk: SecretBytes<20>,
    /// K_encr: AES-128 key of AT_ENCR_DATA.
    pub k_encr: SecretBytes<16>,
    /// K_aut: HMAC-SHA1-128 key of AT_MAC.
    pub k_aut: SecretBytes<16>,
    /// MSK, exported to the authenticator.
    pub msk: SecretBytes<64>,
    /// EMSK, kept by peer and server (ERP, USRKs).
    pub emsk: SecretBytes<64>,
}

impl AkaKeys {
    /// EAP-AKA: derives MK from the identity, IK and CK, then the keys.
    pub fn derive(identity: &[u8], ik: &[u8; 16], ck: &[u8; 16]) -> Self {
        Self::from_mk(aka_mk(identity, ik, ck))
    }

    /// Splits the PRF output seeded with MK (used by EAP-AKA and EAP-SIM alike).
    pub fn from_mk(mk: SecretBytes<20>) -> Self {
        let mut prf = Fips186Prf::new(mk.as_bytes());
        let mut k_encr = SecretBytes::<16>::zero();
        let mut k_aut = SecretBytes::<16>::zero();
        let mut msk = SecretBytes::<64>::zero();
        let mut emsk = SecretBytes::<64>::zero();
        // 160 octets from one continuous stream.
        let mut stream = SecretBytes::<160>::zero();
        prf.fill(stream.as_mut_bytes());
        let s = stream.as_bytes();
        k_encr.as_mut_bytes().copy_from_slice(&s[0..16]);
        k_aut.as_mut_bytes().copy_from_slice(&s[16..32]);
        msk.as_mut_bytes().copy_from_slice(&s[32..96]);
        emsk.as_mut_bytes().copy_from_slice(&s[96..160]);
        Self {
            mk,
            k_encr,
            k_aut,
            msk,
            emsk,
        }
    }
}

/// Keys of an EAP-AKA / EAP-SIM fast re-authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReauthKeys {
    /// XKEY' = SHA1(Identity | counter | NONCE_S | MK).
    pub xkey_prime: SecretBytes<20>,
    /// The new MSK.
    pub msk: SecretBytes<64>,
    /// The new EMSK.
    pub emsk: SecretBytes<64>,
}

impl ReauthKeys {
    /// RFC 4187 §7 / RFC 4186 §7. `identity` is the fast re-authentication identity,
    /// `counter` the AT_COUNTER value, `nonce_s` the AT_NONCE_S value and `mk` the MK of the
    /// full authentication.
    pub fn derive(identity: &[u8], counter: u16, nonce_s: &[u8; 16], mk: &[u8; 20]) -> Self {
        let d = digest_parts(
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            &[identity, &counter.to_be_bytes(), nonce_s, mk],
        );
        let xkey_prime = SecretBytes::new(take::<20>(d.as_ref()));
        let mut stream = SecretBytes::<128>::zero();
        Fips186Prf::new(xkey_prime.as_bytes()).fill(stream.as_mut_bytes());
        let mut msk = SecretBytes::<64>::zero();
        let mut emsk = SecretBytes::<64>::zero();
        msk.as_mut_bytes().copy_from_slice(&stream.as_bytes()[..64]);
        emsk.as_mut_bytes()
            .copy_from_slice(&stream.as_bytes()[64..]);
        Self {
            xkey_prime,
            msk,
            emsk,
        }
    }
}

/// The AT_MAC algorithm: EAP-SIM/EAP-AKA use HMAC-SHA1-128, EAP-AKA' HMAC-SHA-256-128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacAlg {
    /// HMAC-SHA1-128 (RFC 4186, RFC 4187).
    HmacSha1_128,
    /// HMAC-SHA-256-128 (RFC 9048 §3.4.1).
    HmacSha256_128,
}

impl MacAlg {
    fn hmac(self) -> hmac::Algorithm {
        match self {
            MacAlg::HmacSha1_128 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            MacAlg::HmacSha256_128 => hmac::HMAC_SHA256,
        }
    }
}

const ZERO_MAC: [u8; AT_MAC_LEN] = [0u8; AT_MAC_LEN];

/// Computes the AT_MAC value over `packet` (the whole EAP packet, header included) with the 16
/// octets at `mac_offset` (the MAC value inside AT_MAC) read as zeros, followed by `extra`
/// (EAP-SIM: NONCE_MT or n*SRES; EAP-AKA re-authentication: NONCE_S; otherwise empty).
pub fn at_mac(
    alg: MacAlg,
    k_aut: &[u8],
    packet: &[u8],
    mac_offset: usize,
    extra: &[u8],
) -> Result<[u8; AT_MAC_LEN]> {
    let end = mac_offset
        .checked_add(AT_MAC_LEN)
        .filter(|&e| e <= packet.len())
        .ok_or(Error::InvalidLength {
            what: "AT_MAC offset",
            len: packet.len(),
        })?;
    let tag = hmac_parts(
        alg.hmac(),
        k_aut,
        &[&packet[..mac_offset], &ZERO_MAC, &packet[end..], extra],
    );
    Ok(take::<AT_MAC_LEN>(tag.as_ref()))
}

/// Computes AT_MAC and writes it into `packet` at `mac_offset`.
pub fn set_at_mac(
    alg: MacAlg,
    k_aut: &[u8],
    packet: &mut [u8],
    mac_offset: usize,
    extra: &[u8],
) -> Result<()> {
    let mac = at_mac(alg, k_aut, packet, mac_offset, extra)?;
    // at_mac checked mac_offset + 16 <= len.
    if let Some(dst) = packet.get_mut(mac_offset..mac_offset + AT_MAC_LEN) {
        dst.copy_from_slice(&mac);
    }
    Ok(())
}

/// Verifies the AT_MAC value found in `packet` at `mac_offset`, in constant time.
pub fn verify_at_mac(
    alg: MacAlg,
    k_aut: &[u8],
    packet: &[u8],
    mac_offset: usize,
    extra: &[u8],
) -> Result<()> {
    let mac = at_mac(alg, k_aut, packet, mac_offset, extra)?;
    let received = packet
        .get(mac_offset..mac_offset + AT_MAC_LEN)
        .ok_or(Error::InvalidLength {
            what: "AT_MAC offset",
            len: packet.len(),
        })?;
    if ct_eq(&mac, received) {
        Ok(())
    } else {
        Err(Error::AuthenticationFailed { what: "AT_MAC" })
    }
}

/// AT_CHECKCODE accumulator: feed every EAP-Request/AKA-Identity and EAP-Response/AKA-Identity
/// packet, as transmitted, in order; then compare with the peer's AT_CHECKCODE value.
/// SHA-1 (20 octets) for EAP-AKA, SHA-256 (32 octets) for EAP-AKA'. When no identity round
/// trip happened, AT_CHECKCODE carries no value (a codec matter, not computed here).
#[derive(Clone)]
pub struct Checkcode {
    ctx: digest::Context,
}

impl core::fmt::Debug for Checkcode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Checkcode({:?})", self.ctx.algorithm())
    }
}

impl Checkcode {
    /// EAP-AKA (SHA-1).
    pub fn aka() -> Self {
        Self {
            ctx: digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY),
        }
    }

    /// EAP-AKA' (SHA-256).
    pub fn aka_prime() -> Self {
        Self {
            ctx: digest::Context::new(&digest::SHA256),
        }
    }

    /// Adds one AKA-Identity EAP packet.
    pub fn update(&mut self, eap_packet: &[u8]) {
        self.ctx.update(eap_packet);
    }

    /// The checkcode value (the accumulator can go on: it is cloned).
    pub fn value(&self) -> Output {
        Output::new(self.ctx.clone().finish().as_ref())
    }

    /// Compares with a received AT_CHECKCODE value, in constant time.
    pub fn verify(&self, received: &[u8]) -> Result<()> {
        if self.value().ct_eq(received) {
            Ok(())
        } else {
            Err(Error::AuthenticationFailed {
                what: "AT_CHECKCODE",
            })
        }
    }
}

/// Encrypts an AT_ENCR_DATA plaintext in place (AES-128-CBC, the IV of AT_IV). The length must
/// be a non-zero multiple of 16 (the codec adds AT_PADDING first).
pub fn encrypt_encr_data(k_encr: &[u8; 16], iv: &[u8; 16], data: &mut [u8]) -> Result<()> {
    check_encr_len(data.len())?;
    crate::transform::cbc_encrypt(k_encr, iv, data)
}

/// Decrypts an AT_ENCR_DATA value in place.
pub fn decrypt_encr_data(k_encr: &[u8; 16], iv: &[u8; 16], data: &mut [u8]) -> Result<()> {
    check_encr_len(data.len())?;
    crate::transform::cbc_decrypt(k_encr, iv, data)
}

fn check_encr_len(len: usize) -> Result<()> {
    if len == 0 || !len.is_multiple_of(16) {
        return Err(Error::InvalidLength {
            what: "AT_ENCR_DATA",
            len,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_mac_reads_mac_field_as_zero() {
        let k = [9u8; 16];
        let mut pkt = vec![0x01, 0x02, 0x00, 0x1c, 23, 1, 0, 0, 11, 5, 0, 0];
        pkt.extend_from_slice(&[0xee; 16]); // garbage where the MAC goes
        let off = 12;
        let m1 = at_mac(MacAlg::HmacSha1_128, &k, &pkt, off, b"").unwrap();
        pkt[off..off + 16].fill(0);
        let m2 = at_mac(MacAlg::HmacSha1_128, &k, &pkt, off, b"").unwrap();
        assert_eq!(m1, m2);
        // Independent construction: HMAC over the zeroed packet.
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &k),
            &pkt,
        );
        assert_eq!(&m1[..], &tag.as_ref()[..16]);
    }

    #[test]
    fn set_then_verify_and_tamper() {
        let k = [3u8; 32];
        let mut pkt = vec![0u8; 40];
        pkt[0] = 1;
        for alg in [MacAlg::HmacSha1_128, MacAlg::HmacSha256_128] {
            set_at_mac(alg, &k, &mut pkt, 20, b"nonce").unwrap();
            verify_at_mac(alg, &k, &pkt, 20, b"nonce").unwrap();
            assert!(verify_at_mac(alg, &k, &pkt, 20, b"nonc").is_err());
            let mut bad = pkt.clone();
            bad[1] ^= 1;
            assert_eq!(
                verify_at_mac(alg, &k, &bad, 20, b"nonce"),
                Err(Error::AuthenticationFailed { what: "AT_MAC" })
            );
            let mut bad = pkt.clone();
            bad[35] ^= 1; // inside the MAC value
            assert!(verify_at_mac(alg, &k, &bad, 20, b"nonce").is_err());
        }
    }

    #[test]
    fn at_mac_offset_checked() {
        let pkt = [0u8; 20];
        assert!(at_mac(MacAlg::HmacSha1_128, b"k", &pkt, 5, b"").is_err());
        assert!(at_mac(MacAlg::HmacSha1_128, b"k", &pkt, 4, b"").is_ok());
        assert!(at_mac(MacAlg::HmacSha1_128, b"k", &pkt, usize::MAX, b"").is_err());
        assert!(verify_at_mac(MacAlg::HmacSha1_128, b"k", &pkt, 10, b"").is_err());
    }

    #[test]
    fn checkcode_hashes_identity_messages_in_order() {
        let req = [1u8, 5, 0, 12, 23, 5, 0, 0, 17, 1, 0, 0];
        let resp = [2u8, 5, 0, 8, 23, 5, 0, 0];
        let mut c = Checkcode::aka();
        c.update(&req);
        c.update(&resp);
        let mut all = req.to_vec();
        all.extend_from_slice(&resp);
        let want = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &all);
        assert_eq!(c.value().as_bytes(), want.as_ref());
        c.verify(want.as_ref()).unwrap();
        assert!(c.verify(&want.as_ref()[..19]).is_err());
        let mut p = Checkcode::aka_prime();
        p.update(&all);
        assert_eq!(p.value().len(), 32);
        assert!(p.verify(want.as_ref()).is_err());
    }

    #[test]
    fn encr_data_round_trip_and_length_rules() {
        let k = [0x42u8; 16];
        let iv = [0x24u8; 16];
        let mut data = *b"0123456789abcdef0123456789abcdef";
        let orig = data;
        encrypt_encr_data(&k, &iv, &mut data).unwrap();
        assert_ne!(data, orig);
        decrypt_encr_data(&k, &iv, &mut data).unwrap();
        assert_eq!(data, orig);
        assert!(encrypt_encr_data(&k, &iv, &mut [0u8; 15]).is_err());
        assert!(encrypt_encr_data(&k, &iv, &mut []).is_err());
        assert!(decrypt_encr_data(&k, &iv, &mut [0u8; 33]).is_err());
    }

    #[test]
    fn reauth_keys_differ_by_counter_and_nonce() {
        let mk = [1u8; 20];
        let a = ReauthKeys::derive(b"id", 1, &[0; 16], &mk);
        let b = ReauthKeys::derive(b"id", 2, &[0; 16], &mk);
        let c = ReauthKeys::derive(b"id", 1, &[1; 16], &mk);
        assert_ne!(a.msk, b.msk);
        assert_ne!(a.msk, c.msk);
        assert_ne!(a.msk.as_bytes()[..], a.emsk.as_bytes()[..]);
    }
}
