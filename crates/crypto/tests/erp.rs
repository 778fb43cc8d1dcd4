//! ERP / RFC 5295 key hierarchy. NO PUBLISHED TEST VECTORS EXIST (see
//! tests/data/erp_rfc5295_rfc6696.json). These tests recompute every derivation with an
//! independent construction — RustCrypto's `hmac`/`sha2` (not aws-lc-rs, which the crate
//! uses), with the PRF+ iterations spelled out by hand — and check structural properties.

mod common;
use common::*;

use hmac::{KeyInit, Mac};
use mobstrap_crypto::erp::{
    auth_tag, dsrk, emsk_name, kdf, keyname_nai, pmip6_mag_lma_key, rik, rmsk, rrk, usrk,
    verify_auth_tag, verify_packet_tag, Cryptosuite, LABEL_PMIP6_MAG_LMA,
};
use mobstrap_crypto::Error;

fn hmac256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// RFC 5295 §3.1.2 spelled out: S = label | 0x00 | data | L (2 octets); T1 = HMAC(K, S | 1),
/// T2 = HMAC(K, T1 | S | 2), ...
fn kdf_by_hand(key: &[u8], label: &str, data: &[u8], len: u16) -> Vec<u8> {
    let mut s = label.as_bytes().to_vec();
    s.push(0);
    s.extend_from_slice(data);
    s.extend_from_slice(&len.to_be_bytes());
    let t1 = hmac256(key, &[&s[..], &[1]].concat());
    let t2 = hmac256(key, &[&t1[..], &s[..], &[2]].concat());
    let t3 = hmac256(key, &[&t2[..], &s[..], &[3]].concat());
    let mut out = [t1, t2, t3].concat();
    out.truncate(len.into());
    out
}

fn emsk() -> Vec<u8> {
    // The EMSK of RFC 5448 Appendix C case 1 (an EAP-AKA' run), a realistic input.
    let f = load("eap_aka_prime_rfc5448_rfc9048.json");
    hx(&f["vectors"][0]["emsk"])
}

#[test]
fn the_vector_file_confirms_there_are_no_published_vectors() {
    let f = load("erp_rfc5295_rfc6696.json");
    assert_eq!(f["count"], 0);
    assert!(f["vectors"].as_array().unwrap().is_empty());
}

#[test]
fn rrk_rik_rmsk_match_independent_construction() {
    let emsk = emsk();
    assert_eq!(emsk.len(), 64);
    let rrk = rrk(&emsk).unwrap();
    assert_eq!(rrk.len(), 64, "rRK length = EMSK length");
    assert_eq!(
        rrk.as_bytes(),
        &kdf_by_hand(&emsk, "EAP Re-authentication Root Key@ietf.org", &[], 64)[..]
    );

    let rik = rik(rrk.as_bytes(), Cryptosuite::HmacSha256_128).unwrap();
    assert_eq!(rik.len(), 64, "rIK length = rRK length");
    assert_eq!(
        rik.as_bytes(),
        &kdf_by_hand(
            rrk.as_bytes(),
            "Re-authentication Integrity Key@ietf.org",
            &[2],
            64
        )[..]
    );
    // The cryptosuite is part of the derivation.
    assert_ne!(
        rik,
        mobstrap_crypto::erp::rik(rrk.as_bytes(), Cryptosuite::HmacSha256_256).unwrap()
    );

    for seq in [0u16, 1, 0x1234, u16::MAX] {
        let m = rmsk(rrk.as_bytes(), seq).unwrap();
        assert_eq!(
            m.as_bytes()[..],
            kdf_by_hand(
                rrk.as_bytes(),
                "Re-authentication Master Session Key@ietf.org",
                &seq.to_be_bytes(),
                64
            )[..],
            "SEQ {seq}"
        );
    }
    assert_ne!(
        rmsk(rrk.as_bytes(), 1).unwrap(),
        rmsk(rrk.as_bytes(), 2).unwrap()
    );
}

#[test]
fn emsk_name_and_keyname_nai() {
    // EAP-AKA' Session-ID = 0x32 | RAND | AUTN (RFC 9048 §6): case 1 of RFC 5448 App. C.
    let f = load("eap_aka_prime_rfc5448_rfc9048.json");
    let v = &f["vectors"][0];
    let session_id = [vec![0x32], hx(&v["rand"]), hx(&v["autn"])].concat();
    let name = emsk_name(&session_id).unwrap();
    assert_eq!(name.to_vec(), kdf_by_hand(&session_id, "EMSK", &[], 8));
    let nai = keyname_nai(&name, "mnc001.mcc001.3gppnetwork.org");
    assert_eq!(nai.len(), 16 + 1 + 29);
    assert!(nai.starts_with(&hex::encode(name)));
    assert!(nai.ends_with("@mnc001.mcc001.3gppnetwork.org"));
}

#[test]
fn usrk_dsrk_and_pmip6_key() {
    let emsk = emsk();
    let u = usrk(&emsk, b"private1", b"opt", 40).unwrap();
    assert_eq!(
        u.as_bytes(),
        &kdf_by_hand(&emsk, "private1", b"opt", 40)[..]
    );
    let d = dsrk(&emsk, b"visited.example", 64).unwrap();
    assert_eq!(
        d.as_bytes(),
        &kdf_by_hand(&emsk, "dsrk@ietf.org", b"visited.example", 64)[..]
    );
    assert_ne!(d, dsrk(&emsk, b"home.example", 64).unwrap());
    // rRK from a DSRK (local ER server) uses the same label.
    let local = rrk(d.as_bytes()).unwrap();
    assert_eq!(
        local.as_bytes(),
        &kdf_by_hand(
            d.as_bytes(),
            "EAP Re-authentication Root Key@ietf.org",
            &[],
            64
        )[..]
    );

    let k = pmip6_mag_lma_key(&emsk, b"lma1.example").unwrap();
    assert_eq!(
        k.as_bytes()[..],
        kdf_by_hand(
            &emsk,
            std::str::from_utf8(LABEL_PMIP6_MAG_LMA).unwrap(),
            b"lma1.example",
            64
        )[..]
    );
    assert_ne!(k, pmip6_mag_lma_key(&emsk, b"lma2.example").unwrap());
}

#[test]
fn kdf_length_is_bound_into_the_output() {
    // Because L is part of S, a shorter output is NOT a prefix of a longer one.
    let mut a = [0u8; 32];
    let mut b = [0u8; 64];
    kdf(b"key", b"label", b"", &mut a).unwrap();
    kdf(b"key", b"label", b"", &mut b).unwrap();
    assert_ne!(a[..], b[..32]);
    // Label and optional data are separated by the NUL: ("ab", "c") ≠ ("a", "bc").
    let mut c = [0u8; 32];
    let mut d = [0u8; 32];
    kdf(b"k", b"ab", b"c", &mut c).unwrap();
    kdf(b"k", b"a", b"bc", &mut d).unwrap();
    assert_ne!(c, d);
    assert!(matches!(
        kdf(b"k", b"l", b"", &mut vec![0u8; 70000]),
        Err(Error::OutputTooLong { .. })
    ));
}

/// An EAP-Initiate/Re-auth (Code 5, Type 1) as RFC 6696 §5.3.2 lays it out: header, flags,
/// SEQ, keyName-NAI TLV, cryptosuite, authentication tag.
fn initiate_reauth(nai: &str, seq: u16, cs: Cryptosuite) -> Vec<u8> {
    let tag_len = cs.tag_len();
    let len = 4 + 1 + 1 + 2 + 2 + nai.len() + 1 + tag_len;
    let mut p = vec![5, 0x2a];
    p.extend_from_slice(&(len as u16).to_be_bytes());
    p.extend_from_slice(&[1, 0]);
    p.extend_from_slice(&seq.to_be_bytes());
    p.push(1);
    p.push(nai.len() as u8);
    p.extend_from_slice(nai.as_bytes());
    p.push(cs.id());
    p.extend(std::iter::repeat_n(0u8, tag_len));
    p
}

#[test]
fn authentication_tag_every_cryptosuite() {
    let emsk = emsk();
    let rrk = rrk(&emsk).unwrap();
    let rik = rik(rrk.as_bytes(), Cryptosuite::HmacSha256_128).unwrap();
    for cs in [
        Cryptosuite::HmacSha256_64,
        Cryptosuite::HmacSha256_128,
        Cryptosuite::HmacSha256_256,
    ] {
        let mut p = initiate_reauth("0123456789abcdef@example.com", 7, cs);
        let covered_len = p.len() - cs.tag_len();
        let tag = auth_tag(rik.as_bytes(), cs, &p[..covered_len]);
        assert_eq!(tag.len(), cs.tag_len());
        // HMAC-SHA-256 over Code..Cryptosuite, truncated (RFC 6696 §5.3.2).
        assert_eq!(
            tag.as_bytes(),
            &hmac256(rik.as_bytes(), &p[..covered_len])[..cs.tag_len()]
        );
        p[covered_len..].copy_from_slice(tag.as_bytes());
        verify_auth_tag(rik.as_bytes(), cs, &p[..covered_len], &p[covered_len..]).unwrap();
        assert_eq!(verify_packet_tag(rik.as_bytes(), &p).unwrap(), cs);
        for pos in [0, 6, 10, covered_len - 1, p.len() - 1] {
            let mut bad = p.clone();
            bad[pos] ^= 0x04;
            assert!(
                verify_packet_tag(rik.as_bytes(), &bad).is_err(),
                "{cs:?} flip at {pos}"
            );
        }
        assert!(verify_packet_tag(&[0u8; 64], &p).is_err(), "wrong rIK");
    }
    assert!(verify_packet_tag(rik.as_bytes(), &[]).is_err());
    assert!(verify_packet_tag(rik.as_bytes(), &[2]).is_err());
}
