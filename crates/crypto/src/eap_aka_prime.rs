//! EAP-AKA' (RFC 9048, which obsoletes RFC 5448) keys.
//!
//! * CK' | IK' = HMAC-SHA-256(CK | IK, S) with S = FC (0x20) | network name | its length (2) |
//!   SQN⊕AK | 0x0006 (3GPP TS 33.402 Annex A.2, KDF of TS 33.220 Annex B.2): [`ck_ik_prime`].
//! * PRF' (RFC 9048 §3.4.1): T1 = HMAC-SHA-256(K, S | 0x01), Tn = HMAC-SHA-256(K, T(n-1) | S | n).
//! * MK = PRF'(IK' | CK', "EAP-AKA'" | Identity) = K_encr (16) | K_aut (32) | K_re (32) |
//!   MSK (64) | EMSK (64): [`AkaPrimeKeys`].
//! * Fast re-authentication (RFC 9048 §3.3): MK = PRF'(K_re, "EAP-AKA' re-auth" | Identity |
//!   counter | NONCE_S), MSK = MK[0..64], EMSK = MK[64..128]: [`AkaPrimeReauthKeys`].
//! * AT_MAC uses HMAC-SHA-256-128 ([`crate::eap_aka::MacAlg::HmacSha256_128`]) keyed with the
//!   32-octet K_aut; AT_CHECKCODE uses SHA-256 ([`crate::eap_aka::Checkcode::aka_prime`]).

use aws_lc_rs::hmac;

use crate::secret::SecretBytes;
use crate::util::{hmac_parts, prf_plus};
use crate::{Error, Result};

/// FC value of the CK'/IK' derivation (TS 33.402 Annex A.2).
pub const FC_CK_IK_PRIME: u8 = 0x20;

/// The label of the full-authentication key derivation.
pub const LABEL_FULL: &[u8] = b"EAP-AKA'";

/// The label of the fast re-authentication key derivation.
pub const LABEL_REAUTH: &[u8] = b"EAP-AKA' re-auth";

/// CK' and IK' from CK, IK, the access network name (AT_KDF_INPUT, e.g. "WLAN") and SQN⊕AK
/// (the first six octets of AUTN).
pub fn ck_ik_prime(
    ck: &[u8; 16],
    ik: &[u8; 16],
    network_name: &[u8],
    sqn_xor_ak: &[u8; 6],
) -> Result<(SecretBytes<16>, SecretBytes<16>)> {
    let l0 = u16::try_from(network_name.len()).map_err(|_| Error::InvalidLength {
        what: "AT_KDF_INPUT network name",
        len: network_name.len(),
    })?;
    let mut key = SecretBytes::<32>::zero();
    key.as_mut_bytes()[..16].copy_from_slice(ck);
    key.as_mut_bytes()[16..].copy_from_slice(ik);
    let tag = hmac_parts(
        hmac::HMAC_SHA256,
        key.as_bytes(),
        &[
            &[FC_CK_IK_PRIME],
            network_name,
            &l0.to_be_bytes(),
            sqn_xor_ak,
            &[0x00, 0x06],
        ],
    );
    let t = tag.as_ref();
    let ck_p = SecretBytes::<16>::from_slice("CK'", &t[..16])?;
    let ik_p = SecretBytes::<16>::from_slice("IK'", &t[16..32])?;
    Ok((ck_p, ik_p))
}

/// PRF' (HMAC-SHA-256 prf+) over the seed parts, filling `out` (at most 255 × 32 octets).
pub fn prf_prime(key: &[u8], seed: &[&[u8]], out: &mut [u8]) -> Result<()> {
    prf_plus("PRF'", hmac::HMAC_SHA256, key, seed, out)
}

/// Keys of an EAP-AKA' full authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AkaPrimeKeys {
    /// K_encr (AES-128 of AT_ENCR_DATA).
    pub k_encr: SecretBytes<16>,
    /// K_aut (HMAC-SHA-256-128 of AT_MAC).
    pub k_aut: SecretBytes<32>,
    /// K_re (fast re-authentication).
    pub k_re: SecretBytes<32>,
    /// MSK.
    pub msk: SecretBytes<64>,
    /// EMSK.
    pub emsk: SecretBytes<64>,
}

impl AkaPrimeKeys {
    /// From the identity (as used in the key derivation) and CK', IK'.
    pub fn derive(identity: &[u8], ck_prime: &[u8; 16], ik_prime: &[u8; 16]) -> Result<Self> {
        let mut key = SecretBytes::<32>::zero();
        key.as_mut_bytes()[..16].copy_from_slice(ik_prime);
        key.as_mut_bytes()[16..].copy_from_slice(ck_prime);
        let mut mk = SecretBytes::<208>::zero();
        prf_prime(key.as_bytes(), &[LABEL_FULL, identity], mk.as_mut_bytes())?;
        let m = mk.as_bytes();
        Ok(Self {
            k_encr: SecretBytes::from_slice("K_encr", &m[0..16])?,
            k_aut: SecretBytes::from_slice("K_aut", &m[16..48])?,
            k_re: SecretBytes::from_slice("K_re", &m[48..80])?,
            msk: SecretBytes::from_slice("MSK", &m[80..144])?,
            emsk: SecretBytes::from_slice("EMSK", &m[144..208])?,
        })
    }

    /// From CK, IK, network name and SQN⊕AK in one call.
    pub fn derive_from_ck_ik(
        identity: &[u8],
        ck: &[u8; 16],
        ik: &[u8; 16],
        network_name: &[u8],
        sqn_xor_ak: &[u8; 6],
    ) -> Result<Self> {
        let (ck_p, ik_p) = ck_ik_prime(ck, ik, network_name, sqn_xor_ak)?;
        Self::derive(identity, ck_p.as_bytes(), ik_p.as_bytes())
    }
}

/// Keys of an EAP-AKA' fast re-authentication (K_encr and K_aut stay those of the full
/// authentication).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AkaPrimeReauthKeys {
    /// The new MSK.
    pub msk: SecretBytes<64>,
    /// The new EMSK.
    pub emsk: SecretBytes<64>,
}

impl AkaPrimeReauthKeys {
    /// RFC 9048 §3.3: MK = PRF'(K_re, "EAP-AKA' re-auth" | Identity | counter | NONCE_S).
    pub fn derive(
        k_re: &[u8; 32],
        identity: &[u8],
        counter: u16,
        nonce_s: &[u8; 16],
    ) -> Result<Self> {
        let mut mk = SecretBytes::<128>::zero();
        prf_prime(
            k_re,
            &[LABEL_REAUTH, identity, &counter.to_be_bytes(), nonce_s],
            mk.as_mut_bytes(),
        )?;
        Ok(Self {
            msk: SecretBytes::from_slice("MSK", &mk.as_bytes()[..64])?,
            emsk: SecretBytes::from_slice("EMSK", &mk.as_bytes()[64..])?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent PRF' spelled out with direct HMAC calls.
    fn prf_prime_by_hand(key: &[u8], s: &[u8], len: usize) -> Vec<u8> {
        let k = hmac::Key::new(hmac::HMAC_SHA256, key);
        let mut out = Vec::new();
        let mut t: Vec<u8> = Vec::new();
        let mut n = 1u8;
        while out.len() < len {
            let mut msg = t.clone();
            msg.extend_from_slice(s);
            msg.push(n);
            t = hmac::sign(&k, &msg).as_ref().to_vec();
            out.extend_from_slice(&t);
            n += 1;
        }
        out.truncate(len);
        out
    }

    #[test]
    fn reauth_keys_match_hand_construction() {
        let k_re = [0x5au8; 32];
        let nonce = [0xa5u8; 16];
        let keys = AkaPrimeReauthKeys::derive(&k_re, b"reauth-id@example", 3, &nonce).unwrap();
        let mut s = b"EAP-AKA' re-auth".to_vec();
        s.extend_from_slice(b"reauth-id@example");
        s.extend_from_slice(&[0, 3]);
        s.extend_from_slice(&nonce);
        let mk = prf_prime_by_hand(&k_re, &s, 128);
        assert_eq!(keys.msk.as_bytes()[..], mk[..64]);
        assert_eq!(keys.emsk.as_bytes()[..], mk[64..]);
    }

    #[test]
    fn prf_prime_limits() {
        let mut ok = vec![0u8; 255 * 32];
        prf_prime(b"k", &[b"s"], &mut ok).unwrap();
        let mut too_long = vec![0u8; 255 * 32 + 1];
        assert_eq!(
            prf_prime(b"k", &[b"s"], &mut too_long),
            Err(Error::OutputTooLong {
                what: "PRF'",
                len: 255 * 32 + 1
            })
        );
        assert_eq!(ok[..100], prf_prime_by_hand(b"k", b"s", 100)[..]);
    }

    #[test]
    fn network_name_length_limit() {
        let big = vec![b'a'; 65536];
        assert!(ck_ik_prime(&[0; 16], &[0; 16], &big, &[0; 6]).is_err());
        assert!(ck_ik_prime(&[0; 16], &[0; 16], &big[..65535], &[0; 6]).is_ok());
    }
}
