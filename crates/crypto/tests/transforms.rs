//! ESP / IKE SK transforms: RFC 3602 AES-CBC vectors, NIST SP 800-38A CBC-AES256, the GCM spec
//! (McGrew-Viega) test cases 4 and 16 laid out as an IKE SK payload, ICVs recomputed with an
//! independent HMAC implementation (RustCrypto `hmac`), round trips and tampering.

mod common;
use common::*;

use hmac::{KeyInit, Mac};
use mobstrap_crypto::ikev2::Integ;
use mobstrap_crypto::transform::{cbc_decrypt, cbc_encrypt, Cipher, Encr, ESP_HEADER_LEN};
use mobstrap_crypto::Error;

#[test]
fn rfc3602_and_sp800_38a_cbc_vectors() {
    // (key, iv, plaintext, ciphertext): RFC 3602 §4 cases 1-4, SP 800-38A F.2.5 (AES-256).
    let cases: [(&str, &str, Vec<u8>, &str); 5] = [
        (
            "06a9214036b8a15b512e03d534120006",
            "3dafba429d9eb430b422da802c9fac41",
            b"Single block msg".to_vec(),
            "e353779c1079aeb82708942dbe77181a",
        ),
        (
            "c286696d887c9aa0611bbb3e2025a45a",
            "562e17996d093d28ddb3ba695a2e6f58",
            h("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
            "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1",
        ),
        (
            "6c3ea0477630ce21a2ce334aa746c2cd",
            "c782dc4c098c66cbd9cd27d825682c81",
            b"This is a 48-byte message (exactly 3 AES blocks)".to_vec(),
            "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c8579695d83ba2684",
        ),
        (
            "56e47a38c5598974bc46903dba290349",
            "8ce82eefbea0da3c44699ed7db51b7d9",
            h("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"),
            "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55",
        ),
        (
            "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
            "000102030405060708090a0b0c0d0e0f",
            h("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"),
            "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
        ),
    ];
    for (key, iv, pt, ct) in cases {
        let mut buf = pt.clone();
        cbc_encrypt(&h(key), &ha(iv), &mut buf).unwrap();
        assert_eq!(buf, h(ct), "key {key}");
        cbc_decrypt(&h(key), &ha(iv), &mut buf).unwrap();
        assert_eq!(buf, pt);
    }
    assert!(matches!(
        cbc_encrypt(&[0; 24], &[0; 16], &mut [0; 16]),
        Err(Error::InvalidLength {
            what: "AES key",
            ..
        })
    ));
}

/// GCM test case 4 (AES-128) and 16 (AES-256): 12-octet IV cafebabefacedbaddecaf888 =
/// salt cafebabe | IV facedbaddecaf888, 20-octet AAD, 60-octet plaintext.
#[test]
fn gcm_spec_vectors_in_ike_layout() {
    let aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let pt = h("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    let cases = [
        (
            Encr::AesGcm16_128,
            "feffe9928665731c6d6a8f9467308308",
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
            "5bc94fbc3221a5db94fae95ae7121a47",
        ),
        (
            Encr::AesGcm16_256,
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b",
        ),
    ];
    for (encr, key, ct, tag) in cases {
        let keymat = [h(key), h("cafebabe")].concat();
        let c = Cipher::new(encr, &keymat, None).unwrap();
        let mut buf = [
            aad.clone(),
            h("facedbaddecaf888"),
            pt.clone(),
            vec![0u8; 16],
        ]
        .concat();
        c.seal_ike(&mut buf, aad.len()).unwrap();
        assert_eq!(buf[..20], aad[..]);
        assert_eq!(buf[28..88], h(ct)[..], "{encr:?} ciphertext");
        assert_eq!(buf[88..], h(tag)[..], "{encr:?} tag");
        c.open_ike(&mut buf, aad.len()).unwrap();
        assert_eq!(buf[28..88], pt[..]);
    }
}

fn hmac_sha256_128(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes()[..16].to_vec()
}

fn esp_packet(iv_len: usize, payload: &[u8], icv_len: usize) -> Vec<u8> {
    let mut b = vec![0x00, 0x00, 0x12, 0x34, 0x00, 0x00, 0x00, 0x07]; // SPI 0x1234, Seq 7
    assert_eq!(b.len(), ESP_HEADER_LEN);
    b.extend((0..iv_len).map(|i| i as u8 ^ 0x5a));
    b.extend_from_slice(payload);
    b.extend(std::iter::repeat_n(0u8, icv_len));
    b
}

#[test]
fn esp_cbc_hmac_icv_matches_independent_hmac_with_and_without_esn() {
    let ek = [0x11u8; 32];
    let ik = [0x22u8; 32];
    let c = Cipher::new(Encr::AesCbc256, &ek, Some((Integ::HmacSha256_128, &ik))).unwrap();
    assert_eq!((c.iv_len(), c.icv_len()), (16, 16));
    let payload: Vec<u8> = (0..64u8).collect();
    for esn in [None, Some(0xdead_beef_u32)] {
        let mut pkt = esp_packet(16, &payload, 16);
        c.seal_esp(&mut pkt, esn).unwrap();
        let n = pkt.len();
        // Ciphertext is plain AES-256-CBC under the IV from the packet.
        let mut ct = payload.clone();
        cbc_encrypt(&ek, &pkt[8..24].try_into().unwrap(), &mut ct).unwrap();
        assert_eq!(pkt[24..n - 16], ct[..]);
        // ICV over SPI | Seq | IV | ciphertext (| Seq high with ESN, RFC 4303 §3.3.2.1).
        let hi = esn.map(u32::to_be_bytes);
        let mut parts: Vec<&[u8]> = vec![&pkt[..n - 16]];
        if let Some(hi) = &hi {
            parts.push(hi);
        }
        assert_eq!(
            pkt[n - 16..],
            hmac_sha256_128(&ik, &parts)[..],
            "ESN {esn:?}"
        );
        let sealed = pkt.clone();
        c.open_esp(&mut pkt, esn).unwrap();
        assert_eq!(pkt[24..n - 16], payload[..]);
        // Wrong ESN high bits, or any flipped bit, fails before decryption.
        let mut p2 = sealed.clone();
        assert_eq!(
            c.open_esp(&mut p2, Some(esn.unwrap_or(0).wrapping_add(1))),
            Err(Error::AuthenticationFailed { what: "ICV" })
        );
        assert_eq!(p2, sealed, "nothing decrypted on ICV failure");
        for pos in [0, 5, 8, 23, 24, n - 17, n - 1] {
            let mut p = sealed.clone();
            p[pos] ^= 0x01;
            assert!(c.open_esp(&mut p, esn).is_err(), "bit flip at {pos}");
        }
    }
}

#[test]
fn esp_gcm_aad_with_and_without_esn() {
    for encr in [Encr::AesGcm16_128, Encr::AesGcm16_256] {
        let keymat: Vec<u8> = (0..encr.keymat_len() as u8).collect();
        let c = Cipher::new(encr, &keymat, None).unwrap();
        assert_eq!((c.iv_len(), c.icv_len()), (8, 16));
        let payload = b"an inner IPv6 packet, padded, pad length, next header".to_vec();
        let mut plain = esp_packet(8, &payload, 16);
        let mut esn = plain.clone();
        c.seal_esp(&mut plain, None).unwrap();
        c.seal_esp(&mut esn, Some(1)).unwrap();
        // Same key/nonce/plaintext: same ciphertext, but the tag covers different AAD.
        let n = plain.len();
        assert_eq!(plain[16..n - 16], esn[16..n - 16]);
        assert_ne!(plain[n - 16..], esn[n - 16..]);
        // Independent check of the AAD construction (RFC 4106 §5) with aws-lc-rs directly.
        let key = aws_lc_rs::aead::LessSafeKey::new(
            aws_lc_rs::aead::UnboundKey::new(
                if encr == Encr::AesGcm16_128 {
                    &aws_lc_rs::aead::AES_128_GCM
                } else {
                    &aws_lc_rs::aead::AES_256_GCM
                },
                &keymat[..encr.key_len()],
            )
            .unwrap(),
        );
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&keymat[encr.key_len()..]);
        nonce[4..].copy_from_slice(&plain[8..16]);
        let aad = [&plain[0..4], &[0, 0, 0, 1], &plain[4..8]].concat();
        let mut check = payload.clone();
        let tag = key
            .seal_in_place_separate_tag(
                aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce),
                aws_lc_rs::aead::Aad::from(&aad),
                &mut check,
            )
            .unwrap();
        assert_eq!(check[..], esn[16..n - 16]);
        assert_eq!(tag.as_ref(), &esn[n - 16..]);

        let sealed = esn.clone();
        c.open_esp(&mut esn, Some(1)).unwrap();
        assert_eq!(esn[16..n - 16], payload[..]);
        let mut p = sealed.clone();
        assert!(
            c.open_esp(&mut p, None).is_err(),
            "ESN bits are authenticated"
        );
        for pos in [0, 7, 8, 15, 16, n - 17, n - 1] {
            let mut p = sealed.clone();
            p[pos] ^= 0x80;
            assert_eq!(
                c.open_esp(&mut p, Some(1)),
                Err(Error::AuthenticationFailed { what: "ICV" }),
                "pos {pos}"
            );
        }
    }
}

#[test]
fn ike_sk_cbc_hmac_round_trip_and_icv_scope() {
    for (encr, integ) in [
        (Encr::AesCbc128, Integ::HmacSha1_96),
        (Encr::AesCbc128, Integ::HmacSha256_128),
        (Encr::AesCbc256, Integ::HmacSha384_192),
        (Encr::AesCbc256, Integ::HmacSha512_256),
    ] {
        let ek = vec![0x33u8; encr.keymat_len()];
        let ik = vec![0x44u8; integ.key_len()];
        let c = Cipher::new(encr, &ek, Some((integ, &ik))).unwrap();
        let header = vec![0xabu8; 28 + 4]; // IKE header + SK payload header
        let inner = vec![0xcdu8; 48]; // inner payloads + padding + pad length
        let mut msg = [
            header.clone(),
            vec![0x77; 16],
            inner.clone(),
            vec![0; integ.icv_len()],
        ]
        .concat();
        c.seal_ike(&mut msg, header.len()).unwrap();
        let n = msg.len();
        assert_eq!(msg[..32], header[..], "header stays in clear");
        let range = c.payload_range(n, header.len()).unwrap();
        assert_eq!(range, 48..96);
        // RFC 7296 §3.14: the checksum covers the whole message up to the ICV.
        let k = mobstrap_crypto::ikev2::IntegKey::new(integ, &ik).unwrap();
        assert_eq!(
            k.compute(&msg[..n - integ.icv_len()]).as_bytes(),
            &msg[n - integ.icv_len()..]
        );
        let sealed = msg.clone();
        c.open_ike(&mut msg, header.len()).unwrap();
        assert_eq!(msg[range], inner[..]);
        let mut m = sealed.clone();
        m[3] ^= 1; // IKE header is authenticated
        assert!(c.open_ike(&mut m, header.len()).is_err());
    }
}

#[test]
fn wrong_key_fails_for_every_transform() {
    for encr in [
        Encr::AesCbc128,
        Encr::AesCbc256,
        Encr::AesGcm16_128,
        Encr::AesGcm16_256,
    ] {
        let integ = (!encr.is_aead()).then_some(Integ::HmacSha256_128);
        let mk = |b: u8| {
            let ek = vec![b; encr.keymat_len()];
            let ik = [b; 32];
            Cipher::new(encr, &ek, integ.map(|i| (i, &ik[..]))).unwrap()
        };
        let a = mk(1);
        let b = mk(2);
        let mut pkt = esp_packet(encr.iv_len(), &[0u8; 32], a.icv_len());
        a.seal_esp(&mut pkt, None).unwrap();
        assert!(b.open_esp(&mut pkt, None).is_err(), "{encr:?}");
    }
}
