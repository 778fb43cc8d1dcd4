//! Every entry point that takes outside data returns an error instead of panicking, whatever
//! the lengths and contents (property tests over arbitrary inputs).

use mobstrap_crypto::dh::{Dh, DhKey, Group};
use mobstrap_crypto::eap_aka::{decrypt_encr_data, verify_at_mac, Checkcode, MacAlg};
use mobstrap_crypto::erp::{verify_packet_tag, Cryptosuite};
use mobstrap_crypto::ikev2::{Integ, IntegKey, Prf};
use mobstrap_crypto::milenage::{c2, Milenage};
use mobstrap_crypto::transform::{Cipher, Encr};
use proptest::prelude::*;
use std::sync::LazyLock;

static KEYS: LazyLock<Vec<DhKey>> = LazyLock::new(|| {
    [
        Group::Modp2048,
        Group::Ecp256,
        Group::Ecp384,
        Group::Curve25519,
    ]
    .into_iter()
    .map(|g| DhKey::generate(g).unwrap())
    .collect()
});

fn ciphers() -> Vec<Cipher> {
    vec![
        Cipher::new(
            Encr::AesCbc128,
            &[1; 16],
            Some((Integ::HmacSha1_96, &[2; 20])),
        )
        .unwrap(),
        Cipher::new(
            Encr::AesCbc256,
            &[1; 32],
            Some((Integ::HmacSha512_256, &[2; 64])),
        )
        .unwrap(),
        Cipher::new(Encr::AesGcm16_128, &[1; 20], None).unwrap(),
        Cipher::new(Encr::AesGcm16_256, &[1; 36], None).unwrap(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn transforms_never_panic(mut buf in proptest::collection::vec(any::<u8>(), 0..200),
                              aad in any::<usize>(), small_aad in 0usize..64, esn in any::<Option<u32>>()) {
        for c in ciphers() {
            let mut b = buf.clone();
            prop_assert!(c.open_esp(&mut b, esn).is_err(), "random data never authenticates");
            let _ = c.open_ike(&mut b, aad);
            let _ = c.open_ike(&mut b, small_aad);
            let _ = c.seal_ike(&mut buf, small_aad);
            let _ = c.seal_esp(&mut buf, esn);
            let _ = c.payload_range(buf.len(), aad);
        }
    }

    #[test]
    fn dh_agree_never_panics(peer in proptest::collection::vec(any::<u8>(), 0..400)) {
        for k in KEYS.iter() {
            let _ = k.agree(&peer);
        }
        for g in [Group::Modp2048, Group::Ecp256, Group::Curve25519] {
            let _ = DhKey::from_randomness(g, &peer);
        }
    }

    #[test]
    fn eap_attribute_crypto_never_panics(pkt in proptest::collection::vec(any::<u8>(), 0..100),
                                         off in any::<usize>(), small_off in 0usize..100,
                                         mut data in proptest::collection::vec(any::<u8>(), 0..80)) {
        for alg in [MacAlg::HmacSha1_128, MacAlg::HmacSha256_128] {
            prop_assert!(verify_at_mac(alg, b"k_aut", &pkt, off, b"").is_err());
            let _ = verify_at_mac(alg, b"k_aut", &pkt, small_off, &data);
        }
        let _ = decrypt_encr_data(&[0; 16], &[0; 16], &mut data);
        let c = Checkcode::aka();
        let _ = c.verify(&pkt);
        let _ = verify_packet_tag(&pkt, &data);
        let _ = c2(&pkt);
        let _ = Cryptosuite::from_id(pkt.first().copied().unwrap_or(0));
    }

    #[test]
    fn keyed_primitives_accept_any_input(key in proptest::collection::vec(any::<u8>(), 0..200),
                                         data in proptest::collection::vec(any::<u8>(), 0..200),
                                         auts in any::<[u8; 14]>(), rand in any::<[u8; 16]>()) {
        for p in [Prf::HmacSha1, Prf::HmacSha256, Prf::HmacSha384, Prf::HmacSha512] {
            prop_assert_eq!(p.compute(&key, &data).len(), p.output_len());
        }
        let _ = IntegKey::new(Integ::HmacSha256_128, &key).map(|k| k.verify(&data, &data));
        let m = Milenage::new(&[0; 16], &[0; 16]);
        let _ = m.resync(&rand, &auts);
        let mut autn = [0u8; 16];
        autn[..14].copy_from_slice(&auts);
        let _ = m.usim_authenticate(&rand, &autn, 0, |_| true);
    }
}
