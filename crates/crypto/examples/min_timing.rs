//! Minimum-of-N timings of the benchmarked operations. Criterion reports means and medians,
//! which a loaded shared machine inflates; the minimum over many short rounds is robust to that.
//! `cargo run --release -p mobstrap-crypto --example min_timing`

use mobstrap_crypto::dh::{Dh, DhKey, Group};
use mobstrap_crypto::eap_aka::AkaKeys;
use mobstrap_crypto::eap_aka_prime::AkaPrimeKeys;
use mobstrap_crypto::ikev2::{skeyseed, IkeSaKeys, Integ, KeyLengths, Prf};
use mobstrap_crypto::milenage::Milenage;
use mobstrap_crypto::transform::{Cipher, Encr};
use std::hint::black_box;
use std::time::Instant;

fn min_ns(name: &str, rounds: usize, inner: usize, mut f: impl FnMut()) {
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..inner {
            f();
        }
        best = best.min(t.elapsed().as_nanos() as f64 / inner as f64);
    }
    if best > 1e6 {
        println!("{name:45} {:10.2} ms", best / 1e6);
    } else if best > 1e3 {
        println!("{name:45} {:10.2} µs", best / 1e3);
    } else {
        println!("{name:45} {:10.0} ns", best);
    }
}

fn main() {
    let m = Milenage::new(&[0x46; 16], &[0xcd; 16]);
    let rand = [0x23u8; 16];
    min_ns("milenage f2345", 2000, 100, || {
        black_box(m.f2345(black_box(&rand)));
    });
    min_ns("milenage generate_vector", 2000, 100, || {
        black_box(m.generate_vector(black_box(&rand), 1, [0x80, 0]).unwrap());
    });
    let (ik, ck) = ([0x97u8; 16], [0x53u8; 16]);
    min_ns("EAP-AKA keys (MK + FIPS PRF 160 B)", 2000, 50, || {
        black_box(AkaKeys::derive(
            black_box(b"0555444333222111@wlan"),
            &ik,
            &ck,
        ));
    });
    min_ns("EAP-AKA' keys (CK'/IK' + PRF' 208 B)", 1000, 20, || {
        black_box(
            AkaPrimeKeys::derive_from_ck_ik(
                black_box(b"6555444333222111@wlan"),
                &ck,
                &ik,
                b"WLAN",
                &[1; 6],
            )
            .unwrap(),
        );
    });
    for group in [
        Group::Curve25519,
        Group::Ecp256,
        Group::Ecp384,
        Group::Modp2048,
        Group::Modp3072,
    ] {
        let peer = DhKey::generate(group).unwrap();
        let pp = peer.public_key().to_vec();
        let rounds = if matches!(group, Group::Modp2048 | Group::Modp3072) {
            30
        } else {
            300
        };
        min_ns(&format!("DH {group:?} keygen + agree"), rounds, 3, || {
            let k = DhKey::generate(group).unwrap();
            black_box(k.agree(black_box(&pp)).unwrap());
        });
    }
    let gcm = Cipher::new(Encr::AesGcm16_128, &[7u8; 20], None).unwrap();
    let mut buf = vec![0u8; 8 + 8 + 1400 + 16];
    min_ns("ESP AES-GCM-128 seal 1400 B", 3000, 50, || {
        gcm.seal_esp(black_box(&mut buf), None).unwrap()
    });
    let gcm2 = Cipher::new(Encr::AesGcm16_256, &[7u8; 36], None).unwrap();
    min_ns("ESP AES-GCM-256 seal 1400 B", 3000, 50, || {
        gcm2.seal_esp(black_box(&mut buf), None).unwrap()
    });
    let cbc = Cipher::new(
        Encr::AesCbc128,
        &[7u8; 16],
        Some((Integ::HmacSha256_128, &[9u8; 32])),
    )
    .unwrap();
    let mut buf = vec![0u8; 8 + 16 + 1408 + 16];
    min_ns(
        "ESP AES-CBC-128 + HMAC-SHA-256-128 seal 1408 B",
        3000,
        50,
        || cbc.seal_esp(black_box(&mut buf), None).unwrap(),
    );
    let mut sealed = buf.clone();
    cbc.seal_esp(&mut sealed, None).unwrap();
    min_ns(
        "ESP AES-CBC-128 + HMAC-SHA-256-128 open 1408 B",
        3000,
        50,
        || {
            let mut p = sealed.clone();
            cbc.open_esp(black_box(&mut p), None).unwrap()
        },
    );
    let cbc1 = Cipher::new(
        Encr::AesCbc128,
        &[7u8; 16],
        Some((Integ::HmacSha1_96, &[9u8; 20])),
    )
    .unwrap();
    let mut buf = vec![0u8; 8 + 16 + 1408 + 12];
    min_ns(
        "ESP AES-CBC-128 + HMAC-SHA1-96 seal 1408 B",
        3000,
        50,
        || cbc1.seal_esp(black_box(&mut buf), None).unwrap(),
    );
    cbc_backends();
    let prf = Prf::HmacSha256;
    let (ni, nr, g) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    min_ns(
        "IKE SA keys: SKEYSEED + prf+ 224 B (SHA-256)",
        2000,
        50,
        || {
            let s = skeyseed(prf, black_box(&ni), &nr, &g);
            black_box(
                IkeSaKeys::derive(
                    prf,
                    &s,
                    &ni,
                    &nr,
                    &[4; 8],
                    &[5; 8],
                    KeyLengths {
                        encr: 32,
                        integ: 32,
                    },
                )
                .unwrap(),
            );
        },
    );
}

/// AES-CBC backend comparison, key schedules prepared outside the loop on both sides.
fn cbc_backends() {
    use aes::cipher::{Array, BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyInit};
    use aws_lc_rs::cipher::{
        DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey,
        AES_128,
    };
    use aws_lc_rs::iv::FixedLength;
    type B16 = Array<u8, aes::cipher::consts::U16>;
    let key = [7u8; 16];
    let iv = [3u8; 16];
    let mut data = vec![0u8; 1408];
    let aes = aes::Aes128::new(&Array::from(key));
    let iv_arr = Array::from(iv);
    let ek = EncryptingKey::cbc(UnboundCipherKey::new(&AES_128, &key).unwrap()).unwrap();
    let dk = DecryptingKey::cbc(UnboundCipherKey::new(&AES_128, &key).unwrap()).unwrap();
    min_ns(
        "AES-128-CBC 1408 B encrypt, RustCrypto aes+cbc",
        3000,
        50,
        || {
            let (b, _) = B16::slice_as_chunks_mut(black_box(&mut data));
            cbc::Encryptor::inner_iv_init(aes.clone(), &iv_arr).encrypt_blocks(b)
        },
    );
    min_ns("AES-128-CBC 1408 B encrypt, aws-lc-rs", 3000, 50, || {
        let ctx = EncryptionContext::Iv128(FixedLength::from(iv));
        ek.less_safe_encrypt(black_box(&mut data), ctx).unwrap();
    });
    min_ns(
        "AES-128-CBC 1408 B decrypt, RustCrypto aes+cbc",
        3000,
        50,
        || {
            let (b, _) = B16::slice_as_chunks_mut(black_box(&mut data));
            cbc::Decryptor::inner_iv_init(aes.clone(), &iv_arr).decrypt_blocks(b)
        },
    );
    min_ns("AES-128-CBC 1408 B decrypt, aws-lc-rs", 3000, 50, || {
        let ctx = DecryptionContext::Iv128(FixedLength::from(iv));
        dk.decrypt(black_box(&mut data), ctx).unwrap();
    });
}
