//! Diffie-Hellman: RFC 5903 §8.1/§8.2 (P-256, P-384), RFC 7748 §5.2 and §6.1 (X25519), MODP
//! groups 14/15 against values computed with Python's pow() (no published MODP vector), agreement
//! between two parties in every group, and rejection of invalid peer values.

mod common;
use common::*;

use mobstrap_crypto::dh::{Dh, DhKey, Group};
use mobstrap_crypto::Error;

struct Rfc5903 {
    group: Group,
    i: &'static str,
    gix: &'static str,
    giy: &'static str,
    r: &'static str,
    grx: &'static str,
    gry: &'static str,
    girx: &'static str,
}

/// RFC 5903 §8.1 (256-bit random ECP group) and §8.2 (384-bit).
const RFC5903: [Rfc5903; 2] = [
    Rfc5903 {
        group: Group::Ecp256,
        i: "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
        gix: "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180",
        giy: "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
        r: "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
        grx: "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63",
        gry: "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
        girx: "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de",
    },
    Rfc5903 {
        group: Group::Ecp384,
        i: "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab194",
        gix: "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa",
        giy: "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c",
        r: "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a7448fc",
        grx: "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571",
        gry: "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c",
        girx: "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746",
    },
];

#[test]
fn rfc5903_ecp_vectors_both_directions() {
    for t in &RFC5903 {
        let i = DhKey::from_randomness(t.group, &h(t.i)).unwrap();
        let r = DhKey::from_randomness(t.group, &h(t.r)).unwrap();
        // RFC 5903 encoding: x | y, no 0x04 prefix.
        assert_eq!(
            i.public_key(),
            &[h(t.gix), h(t.giy)].concat()[..],
            "{:?} g^i",
            t.group
        );
        assert_eq!(
            r.public_key(),
            &[h(t.grx), h(t.gry)].concat()[..],
            "{:?} g^r",
            t.group
        );
        let z1 = i.agree(r.public_key()).unwrap();
        let z2 = r.agree(i.public_key()).unwrap();
        // The shared secret is the x coordinate of g^ir only (RFC 5903 §9).
        assert_eq!(z1.as_bytes(), &h(t.girx)[..], "{:?} g^ir", t.group);
        assert_eq!(z1, z2);
        assert_eq!(z1.len(), t.group.shared_len());
    }
}

#[test]
fn rfc7748_x25519_vectors() {
    // §5.2: scalar, input u-coordinate, output u-coordinate.
    let scalar_mult = [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ];
    for (k, u, out) in scalar_mult {
        let key = DhKey::from_randomness(Group::Curve25519, &h(k)).unwrap();
        assert_eq!(key.agree(&h(u)).unwrap().as_bytes(), &h(out)[..]);
    }
    // §6.1: Alice and Bob.
    let a_priv = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    let a_pub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    let b_priv = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    let b_pub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    let k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    let a = DhKey::from_randomness(Group::Curve25519, &h(a_priv)).unwrap();
    let b = DhKey::from_randomness(Group::Curve25519, &h(b_priv)).unwrap();
    assert_eq!(a.public_key(), &h(a_pub)[..]);
    assert_eq!(b.public_key(), &h(b_pub)[..]);
    assert_eq!(a.agree(&h(b_pub)).unwrap().as_bytes(), &h(k)[..]);
    assert_eq!(b.agree(&h(a_pub)).unwrap().as_bytes(), &h(k)[..]);
}

#[test]
fn modp_groups_14_15_match_independent_pow() {
    let f = load("modp_python_pow.json");
    let vs = f["vectors"].as_array().unwrap();
    assert_eq!(vs.len(), 2);
    for v in vs {
        let group = Group::from_id(v["group"].as_u64().unwrap() as u16).unwrap();
        let a = DhKey::from_randomness(group, &hx(&v["x_initiator"])).unwrap();
        let b = DhKey::from_randomness(group, &hx(&v["x_responder"])).unwrap();
        assert_eq!(a.public_key(), &hx(&v["public_initiator"])[..], "{group:?}");
        assert_eq!(b.public_key(), &hx(&v["public_responder"])[..], "{group:?}");
        let z = a.agree(b.public_key()).unwrap();
        assert_eq!(z.as_bytes(), &hx(&v["shared"])[..], "{group:?}");
        assert_eq!(b.agree(a.public_key()).unwrap(), z);
        assert_eq!(z.len(), group.shared_len());
    }
}

#[test]
fn every_group_agrees_with_system_rng_keys() {
    for group in [
        Group::Modp2048,
        Group::Modp3072,
        Group::Ecp256,
        Group::Ecp384,
        Group::Curve25519,
    ] {
        let a = DhKey::generate(group).unwrap();
        let b = DhKey::generate(group).unwrap();
        assert_eq!(a.group(), group);
        assert_eq!(a.public_key().len(), group.public_len());
        assert_ne!(a.public_key(), b.public_key());
        let z = a.agree(b.public_key()).unwrap();
        assert_eq!(z, b.agree(a.public_key()).unwrap(), "{group:?}");
        assert_eq!(z.len(), group.shared_len());
        assert_eq!(Group::from_id(group.id()), Some(group));
    }
    assert_eq!(Group::from_id(2), None);
}

#[test]
fn invalid_peer_values_are_rejected() {
    let p14 = h(concat!(
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD",
        "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
        "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
        "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
        "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
        "15728E5A8AACAA68FFFFFFFFFFFFFFFF"
    ));
    let a = DhKey::from_randomness(Group::Modp2048, &[7u8; 40]).unwrap();
    let bad = Error::InvalidPublicValue { group: 14 };
    let mut one = vec![0u8; 256];
    one[255] = 1;
    let mut two = vec![0u8; 256];
    two[255] = 2;
    let mut p_minus_1 = p14.clone();
    p_minus_1[255] -= 1;
    let mut p_minus_2 = p14.clone();
    p_minus_2[255] -= 2;
    assert_eq!(a.agree(&vec![0u8; 256]).unwrap_err(), bad);
    assert_eq!(a.agree(&one).unwrap_err(), bad);
    assert_eq!(a.agree(&p_minus_1).unwrap_err(), bad);
    assert_eq!(a.agree(&p14).unwrap_err(), bad);
    assert_eq!(a.agree(&[0xffu8; 256]).unwrap_err(), bad);
    assert_eq!(a.agree(&two[1..]).unwrap_err(), bad);
    assert_eq!(a.agree(&[two.clone(), vec![0]].concat()).unwrap_err(), bad);
    assert!(a.agree(&two).is_ok());
    assert!(a.agree(&p_minus_2).is_ok());

    for group in [Group::Ecp256, Group::Ecp384] {
        let k = DhKey::generate(group).unwrap();
        let peer = DhKey::generate(group).unwrap();
        let bad = Error::InvalidPublicValue { group: group.id() };
        let mut off_curve = peer.public_key().to_vec();
        let last = off_curve.len() - 1;
        off_curve[last] ^= 1;
        assert_eq!(k.agree(&off_curve).unwrap_err(), bad, "{group:?} off curve");
        assert_eq!(
            k.agree(&vec![0u8; group.public_len()]).unwrap_err(),
            bad,
            "{group:?} zero"
        );
        // With a 0x04 prefix (SEC1) the length is wrong for IKEv2.
        let sec1 = [&[4u8][..], peer.public_key()].concat();
        assert_eq!(k.agree(&sec1).unwrap_err(), bad, "{group:?} SEC1 prefix");
        assert_eq!(k.agree(&peer.public_key()[1..]).unwrap_err(), bad);
    }

    let x = DhKey::generate(Group::Curve25519).unwrap();
    let bad = Error::InvalidPublicValue { group: 31 };
    // Small-order points give an all-zero shared secret: refused (RFC 8031 §2).
    assert_eq!(x.agree(&[0u8; 32]).unwrap_err(), bad);
    let mut one = [0u8; 32];
    one[0] = 1;
    assert_eq!(x.agree(&one).unwrap_err(), bad);
    assert_eq!(x.agree(&[9u8; 31]).unwrap_err(), bad);
}

#[test]
fn invalid_private_randomness() {
    for group in [
        Group::Modp2048,
        Group::Modp3072,
        Group::Ecp256,
        Group::Ecp384,
        Group::Curve25519,
    ] {
        let n = group.randomness_len();
        assert!(matches!(
            DhKey::from_randomness(group, &vec![1u8; n + 1]),
            Err(Error::InvalidLength { .. })
        ));
        assert!(matches!(
            DhKey::from_randomness(group, &vec![1u8; n - 1]),
            Err(Error::InvalidLength { .. })
        ));
    }
    // Zero scalar / exponent below 2.
    for group in [Group::Modp2048, Group::Ecp256, Group::Ecp384] {
        let zero = vec![0u8; group.randomness_len()];
        assert_eq!(
            DhKey::from_randomness(group, &zero).unwrap_err(),
            Error::InvalidPrivateValue { group: group.id() }
        );
    }
    // P-256 scalar ≥ n.
    assert!(matches!(
        DhKey::from_randomness(Group::Ecp256, &[0xffu8; 32]),
        Err(Error::InvalidPrivateValue { group: 19 })
    ));
    let k = DhKey::from_randomness(Group::Modp2048, &[0xaa; 40]).unwrap();
    assert!(!format!("{k:?}").contains("aa"));
}
