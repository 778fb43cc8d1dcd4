//! The EMSK key hierarchy (RFC 5295) and the EAP Re-authentication Protocol keys (RFC 6696).
//!
//! **No published test vectors exist** for any of these derivations (neither RFC has an
//! appendix, and no implementation ships known answers). The tests check the construction
//! against an independent spelled-out HMAC computation and structural properties; see
//! `docs/protocols/crypto.md`.
//!
//! * [`kdf`]: the RFC 5295 §3.1.2 KDF with the default PRF (1, HMAC-SHA-256 prf+):
//!   S = key label | 0x00 | optional data | length (2 octets, output length in octets);
//!   T1 = HMAC(K, S | 0x01), Tn = HMAC(K, T(n-1) | S | n); at most 255 blocks.
//! * [`usrk`] (any label), [`dsrk`] (label "dsrk@ietf.org" as registered by IANA, optional
//!   data = the domain name), [`emsk_name`] (KDF(EAP Session-ID, "EMSK", 8 octets)).
//! * ERP: [`rrk`] = KDF(EMSK or DSRK, "EAP Re-authentication Root Key@ietf.org", len(parent)),
//!   [`rik`] = KDF(rRK, "Re-authentication Integrity Key@ietf.org", cryptosuite, len(rRK)),
//!   [`rmsk`] = KDF(rRK, "Re-authentication Master Session Key@ietf.org", SEQ, 64).
//!   rRK and rIK are named by the EMSKname (their keyName-NAI is hex(EMSKname)@realm,
//!   [`keyname_nai`]); an rMSK is named by that NAI and the SEQ.
//! * The ERP authentication tag: HMAC-SHA-256 with rIK over the EAP-Initiate/Re-auth or
//!   EAP-Finish/Re-auth packet from the Code field through the Cryptosuite field, truncated
//!   per [`Cryptosuite`].
//! * [`pmip6_mag_lma_key`]: mobstrap's own USRK for the PMIPv6 MAG–LMA IKEv2 pre-shared key
//!   (label [`LABEL_PMIP6_MAG_LMA`]).

use aws_lc_rs::hmac;

use crate::secret::{SecretBytes, SecretVec};
use crate::util::{ct_eq, hmac_parts, Output};
use crate::{Error, Result};

/// USRK label of the EMSK name derivation (RFC 5295 §3.2).
pub const LABEL_EMSK_NAME: &[u8] = b"EMSK";
/// USRK label of the Domain-Specific Root Key (RFC 5295, IANA "User Specific Root Keys (USRK)
/// Key Labels" registry).
pub const LABEL_DSRK: &[u8] = b"dsrk@ietf.org";
/// USRK label of the ERP re-authentication root key (RFC 6696 §4.1).
pub const LABEL_RRK: &[u8] = b"EAP Re-authentication Root Key@ietf.org";
/// Label of the re-authentication integrity key (RFC 6696 §4.3).
pub const LABEL_RIK: &[u8] = b"Re-authentication Integrity Key@ietf.org";
/// Label of the re-authentication MSK (RFC 6696 §4.6).
pub const LABEL_RMSK: &[u8] = b"Re-authentication Master Session Key@ietf.org";
/// mobstrap's USRK label for the PMIPv6 MAG–LMA IKEv2 key (seed 003, "pmip-boot-emsk").
/// Not IANA-registered: it lives in our own `label@domain` namespace.
pub const LABEL_PMIP6_MAG_LMA: &[u8] = b"mobstrap PMIPv6 MAG-LMA Key@mobstrap.example";

/// Length of EMSKname (64 bits).
pub const EMSK_NAME_LEN: usize = 8;
/// Length of an rMSK.
pub const RMSK_LEN: usize = 64;
/// Length of the PMIPv6 MAG–LMA key.
pub const PMIP6_KEY_LEN: usize = 64;

/// The RFC 5295 KDF: fills `out` with KDF(key, label | 0x00 | optional_data | len(out)).
pub fn kdf(key: &[u8], label: &[u8], optional_data: &[u8], out: &mut [u8]) -> Result<()> {
    let len = u16::try_from(out.len()).map_err(|_| Error::OutputTooLong {
        what: "RFC 5295 KDF",
        len: out.len(),
    })?;
    crate::util::prf_plus(
        "RFC 5295 KDF",
        hmac::HMAC_SHA256,
        key,
        &[label, &[0u8], optional_data, &len.to_be_bytes()],
        out,
    )
}

/// A Usage-Specific Root Key of `len` octets from the EMSK with any key label.
pub fn usrk(emsk: &[u8], label: &[u8], optional_data: &[u8], len: usize) -> Result<SecretVec> {
    let mut out = SecretVec::zeroed(len);
    kdf(emsk, label, optional_data, out.as_mut_bytes())?;
    Ok(out)
}

/// The Domain-Specific Root Key for `domain` (64 octets by default).
pub fn dsrk(emsk: &[u8], domain: &[u8], len: usize) -> Result<SecretVec> {
    usrk(emsk, LABEL_DSRK, domain, len)
}

/// EMSKname = KDF(EAP Session-ID, "EMSK", 8 octets) (RFC 5295 §3.2). For EAP-AKA the
/// Session-ID is 0x17 | RAND | AUTN (RFC 5247 Appendix A); for EAP-AKA' 0x32 | RAND | AUTN.
pub fn emsk_name(session_id: &[u8]) -> Result<[u8; EMSK_NAME_LEN]> {
    let mut out = [0u8; EMSK_NAME_LEN];
    kdf(session_id, LABEL_EMSK_NAME, &[], &mut out)?;
    Ok(out)
}

/// keyName-NAI = hex(EMSKname) "@" realm (RFC 6696 §5.3.2): names rRK and rIK.
pub fn keyname_nai(emsk_name: &[u8; EMSK_NAME_LEN], realm: &str) -> String {
    let mut s = String::with_capacity(2 * EMSK_NAME_LEN + 1 + realm.len());
    for b in emsk_name {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 0x0f)]));
    }
    s.push('@');
    s.push_str(realm);
    s
}

/// rRK = KDF(K, "EAP Re-authentication Root Key@ietf.org", length) with K = EMSK (home ER
/// server) or DSRK (local ER server); its length equals the parent key's.
pub fn rrk(parent: &[u8]) -> Result<SecretVec> {
    usrk(parent, LABEL_RRK, &[], parent.len())
}

/// An ERP cryptosuite (RFC 6696 §5.3.2): HMAC-SHA-256 truncated to 64, 128 or 256 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cryptosuite {
    /// 1: HMAC-SHA256-64.
    HmacSha256_64,
    /// 2: HMAC-SHA256-128 (mandatory to implement; the one hostapd and iwd use for rIK).
    HmacSha256_128,
    /// 3: HMAC-SHA256-256.
    HmacSha256_256,
}

impl Cryptosuite {
    /// The cryptosuite number.
    pub const fn id(self) -> u8 {
        match self {
            Cryptosuite::HmacSha256_64 => 1,
            Cryptosuite::HmacSha256_128 => 2,
            Cryptosuite::HmacSha256_256 => 3,
        }
    }

    /// From the cryptosuite number.
    pub const fn from_id(id: u8) -> Option<Self> {
        match id {
            1 => Some(Cryptosuite::HmacSha256_64),
            2 => Some(Cryptosuite::HmacSha256_128),
            3 => Some(Cryptosuite::HmacSha256_256),
            _ => None,
        }
    }

    /// Authentication Tag length in octets.
    pub const fn tag_len(self) -> usize {
        match self {
            Cryptosuite::HmacSha256_64 => 8,
            Cryptosuite::HmacSha256_128 => 16,
            Cryptosuite::HmacSha256_256 => 32,
        }
    }
}

/// rIK = KDF(rRK, "Re-authentication Integrity Key@ietf.org", cryptosuite, length), length =
/// the rRK's length (RFC 6696 §4.3). Use [`Cryptosuite::HmacSha256_128`] to interoperate with
/// hostapd and iwd, which derive the rIK with the mandatory cryptosuite.
pub fn rik(rrk: &[u8], cryptosuite: Cryptosuite) -> Result<SecretVec> {
    usrk(rrk, LABEL_RIK, &[cryptosuite.id()], rrk.len())
}

/// rMSK = KDF(rRK, "Re-authentication Master Session Key@ietf.org", SEQ, 64) (RFC 6696 §4.6).
pub fn rmsk(rrk: &[u8], seq: u16) -> Result<SecretBytes<RMSK_LEN>> {
    let mut out = SecretBytes::<RMSK_LEN>::zero();
    kdf(rrk, LABEL_RMSK, &seq.to_be_bytes(), out.as_mut_bytes())?;
    Ok(out)
}

/// The ERP Authentication Tag over `covered` (the packet from Code through Cryptosuite).
pub fn auth_tag(rik: &[u8], cryptosuite: Cryptosuite, covered: &[u8]) -> Output {
    let tag = hmac_parts(hmac::HMAC_SHA256, rik, &[covered]);
    let t = tag.as_ref();
    Output::new(t.get(..cryptosuite.tag_len()).unwrap_or(t))
}

/// Verifies a received Authentication Tag in constant time.
pub fn verify_auth_tag(
    rik: &[u8],
    cryptosuite: Cryptosuite,
    covered: &[u8],
    tag: &[u8],
) -> Result<()> {
    if ct_eq(auth_tag(rik, cryptosuite, covered).as_bytes(), tag) {
        Ok(())
    } else {
        Err(Error::AuthenticationFailed {
            what: "ERP Authentication Tag",
        })
    }
}

/// Splits a whole EAP-Initiate/Re-auth or EAP-Finish/Re-auth packet whose last octets are
/// Cryptosuite | Authentication Tag and verifies the tag. Returns the cryptosuite.
pub fn verify_packet_tag(rik: &[u8], packet: &[u8]) -> Result<Cryptosuite> {
    // The tag length depends on the cryptosuite, which sits just before the tag: try each.
    for cs in [
        Cryptosuite::HmacSha256_128,
        Cryptosuite::HmacSha256_64,
        Cryptosuite::HmacSha256_256,
    ] {
        let Some(cs_pos) = packet.len().checked_sub(cs.tag_len() + 1) else {
            continue;
        };
        if packet.get(cs_pos) != Some(&cs.id()) {
            continue;
        }
        let (covered, tag) = packet.split_at(cs_pos + 1);
        if verify_auth_tag(rik, cs, covered, tag).is_ok() {
            return Ok(cs);
        }
    }
    Err(Error::AuthenticationFailed {
        what: "ERP Authentication Tag",
    })
}

/// The PMIPv6 MAG–LMA IKEv2 pre-shared key that the AAA derives from the MAG's EMSK:
/// USRK(EMSK, [`LABEL_PMIP6_MAG_LMA`], optional data = the LMA's IKEv2 Identification Data,
/// 64 octets). Binding the LMA identity makes the key differ per LMA.
pub fn pmip6_mag_lma_key(emsk: &[u8], lma_identity: &[u8]) -> Result<SecretBytes<PMIP6_KEY_LEN>> {
    let mut out = SecretBytes::<PMIP6_KEY_LEN>::zero();
    kdf(emsk, LABEL_PMIP6_MAG_LMA, lma_identity, out.as_mut_bytes())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyname_nai_format() {
        assert_eq!(
            keyname_nai(
                &[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
                "example.com"
            ),
            "0123456789abcdef@example.com"
        );
    }

    #[test]
    fn cryptosuite_ids() {
        for cs in [
            Cryptosuite::HmacSha256_64,
            Cryptosuite::HmacSha256_128,
            Cryptosuite::HmacSha256_256,
        ] {
            assert_eq!(Cryptosuite::from_id(cs.id()), Some(cs));
        }
        assert_eq!(Cryptosuite::from_id(0), None);
        assert_eq!(Cryptosuite::from_id(4), None);
    }

    #[test]
    fn kdf_length_limits() {
        let mut big = vec![0u8; 255 * 32 + 1];
        assert!(kdf(b"k", b"l", b"", &mut big).is_err());
        let mut huge = vec![0u8; 65536];
        assert!(kdf(b"k", b"l", b"", &mut huge).is_err());
        assert!(kdf(b"k", b"l", b"", &mut big[..255 * 32]).is_ok());
    }
}
