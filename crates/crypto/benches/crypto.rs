//! Criterion benchmarks of the per-subscriber and per-packet crypto:
//! `cargo bench -p mobstrap-crypto --bench crypto`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

use mobstrap_crypto::dh::{Dh, DhKey, Group};
use mobstrap_crypto::eap_aka::AkaKeys;
use mobstrap_crypto::eap_aka_prime::AkaPrimeKeys;
use mobstrap_crypto::ikev2::{skeyseed, IkeSaKeys, Integ, KeyLengths, Prf};
use mobstrap_crypto::milenage::Milenage;
use mobstrap_crypto::transform::{Cipher, Encr};

const PAYLOAD: usize = 1400;
/// CBC needs whole blocks: 1400 octets of payload padded to 1408 by the codec.
const CBC_PAYLOAD: usize = 1408;

fn aka(c: &mut Criterion) {
    let mut g = c.benchmark_group("aka");
    let m = Milenage::new(&[0x46; 16], &[0xcd; 16]);
    let rand = [0x23u8; 16];
    g.bench_function("milenage_f2345", |b| b.iter(|| m.f2345(black_box(&rand))));
    g.bench_function("milenage_generate_vector", |b| {
        b.iter(|| {
            m.generate_vector(black_box(&rand), 0x42, [0x80, 0])
                .unwrap()
        })
    });
    let (ik, ck) = ([0x97u8; 16], [0x53u8; 16]);
    g.bench_function("eap_aka_keys", |b| {
        b.iter(|| AkaKeys::derive(black_box(b"0555444333222111@wlan.example"), &ik, &ck))
    });
    g.bench_function("eap_aka_prime_keys", |b| {
        b.iter(|| {
            AkaPrimeKeys::derive_from_ck_ik(
                black_box(b"6555444333222111@wlan.example"),
                &ck,
                &ik,
                b"WLAN",
                &[1; 6],
            )
            .unwrap()
        })
    });
    g.finish();
}

fn dh(c: &mut Criterion) {
    let mut g = c.benchmark_group("dh");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    for group in [
        Group::Curve25519,
        Group::Ecp256,
        Group::Ecp384,
        Group::Modp2048,
        Group::Modp3072,
    ] {
        let peer = DhKey::generate(group).unwrap();
        let peer_pub = peer.public_key().to_vec();
        g.bench_function(format!("{group:?}_keygen_agree"), |b| {
            b.iter(|| {
                let k = DhKey::generate(group).unwrap();
                k.agree(black_box(&peer_pub)).unwrap()
            })
        });
    }
    g.finish();
}

fn esp_packet(iv: usize, payload: usize, icv: usize) -> Vec<u8> {
    let mut p = vec![0u8; 8 + iv + payload + icv];
    p[..8].copy_from_slice(&[0, 0, 0x12, 0x34, 0, 0, 0, 1]);
    p
}

fn transforms(c: &mut Criterion) {
    let mut g = c.benchmark_group("esp_seal_1400");
    g.throughput(Throughput::Bytes(PAYLOAD as u64));
    let gcm = Cipher::new(Encr::AesGcm16_128, &[7u8; 20], None).unwrap();
    let mut buf = esp_packet(8, PAYLOAD, 16);
    g.bench_function("aes_gcm_128", |b| {
        b.iter(|| gcm.seal_esp(black_box(&mut buf), None).unwrap())
    });
    let gcm256 = Cipher::new(Encr::AesGcm16_256, &[7u8; 36], None).unwrap();
    g.bench_function("aes_gcm_256", |b| {
        b.iter(|| gcm256.seal_esp(black_box(&mut buf), None).unwrap())
    });
    let cbc = Cipher::new(
        Encr::AesCbc128,
        &[7u8; 16],
        Some((Integ::HmacSha256_128, &[9u8; 32])),
    )
    .unwrap();
    let mut buf = esp_packet(16, CBC_PAYLOAD, 16);
    g.bench_function("aes_cbc_128_hmac_sha256_128", |b| {
        b.iter(|| cbc.seal_esp(black_box(&mut buf), None).unwrap())
    });
    let cbc1 = Cipher::new(
        Encr::AesCbc128,
        &[7u8; 16],
        Some((Integ::HmacSha1_96, &[9u8; 20])),
    )
    .unwrap();
    let mut buf1 = esp_packet(16, CBC_PAYLOAD, 12);
    g.bench_function("aes_cbc_128_hmac_sha1_96", |b| {
        b.iter(|| cbc1.seal_esp(black_box(&mut buf1), None).unwrap())
    });
    let mut sealed = esp_packet(16, CBC_PAYLOAD, 16);
    cbc.seal_esp(&mut sealed, None).unwrap();
    g.bench_function("aes_cbc_128_hmac_sha256_128_open", |b| {
        b.iter(|| {
            let mut p = sealed.clone();
            cbc.open_esp(black_box(&mut p), None).unwrap()
        })
    });
    g.finish();

    // Which AES-CBC backend: RustCrypto `aes` + `cbc` vs aws-lc-rs (used), 1408 octets, key
    // schedules prepared outside the loop on both sides.
    let mut g = c.benchmark_group("cbc_backend_1408");
    g.throughput(Throughput::Bytes(1408));
    let key = [7u8; 16];
    let iv = [3u8; 16];
    let mut data = vec![0u8; 1408];
    {
        use aes::cipher::{Array, BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyInit};
        let aes = aes::Aes128::new(&Array::from(key));
        let iv_arr = Array::from(iv);
        g.bench_function("rustcrypto_encrypt", |b| {
            b.iter(|| {
                let (blocks, _) = Array::<u8, aes::cipher::consts::U16>::slice_as_chunks_mut(
                    black_box(&mut data),
                );
                cbc::Encryptor::inner_iv_init(aes.clone(), &iv_arr).encrypt_blocks(blocks)
            })
        });
        g.bench_function("rustcrypto_decrypt", |b| {
            b.iter(|| {
                let (blocks, _) = Array::<u8, aes::cipher::consts::U16>::slice_as_chunks_mut(
                    black_box(&mut data),
                );
                cbc::Decryptor::inner_iv_init(aes.clone(), &iv_arr).decrypt_blocks(blocks)
            })
        });
    }
    use aws_lc_rs::cipher::{
        DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey,
        AES_128,
    };
    use aws_lc_rs::iv::FixedLength;
    let ek = EncryptingKey::cbc(UnboundCipherKey::new(&AES_128, &key).unwrap()).unwrap();
    let dk = DecryptingKey::cbc(UnboundCipherKey::new(&AES_128, &key).unwrap()).unwrap();
    g.bench_function("aws_lc_encrypt", |b| {
        b.iter(|| {
            ek.less_safe_encrypt(
                black_box(&mut data),
                EncryptionContext::Iv128(FixedLength::from(iv)),
            )
            .unwrap()
        })
    });
    g.bench_function("aws_lc_decrypt", |b| {
        b.iter(|| {
            dk.decrypt(
                black_box(&mut data),
                DecryptionContext::Iv128(FixedLength::from(iv)),
            )
            .map(|_| ())
            .unwrap()
        })
    });
    g.finish();
}

fn ikev2(c: &mut Criterion) {
    let mut g = c.benchmark_group("ikev2");
    let ni = [1u8; 32];
    let nr = [2u8; 32];
    let g_ir = [3u8; 32];
    let prf = Prf::HmacSha256;
    let seed = skeyseed(prf, &ni, &nr, &g_ir);
    // AES-CBC-256 + HMAC-SHA2-256-128: 3*32 + 2*32 + 2*32 = 224 octets of prf+.
    let lens = KeyLengths {
        encr: 32,
        integ: 32,
    };
    g.bench_function("skeyseed_and_ike_sa_keys_sha256", |b| {
        b.iter(|| {
            let s = skeyseed(prf, black_box(&ni), &nr, &g_ir);
            IkeSaKeys::derive(prf, &s, &ni, &nr, &[4; 8], &[5; 8], lens).unwrap()
        })
    });
    g.bench_function("prf_plus_224_sha256", |b| {
        let mut out = [0u8; 224];
        b.iter(|| {
            prf.prf_plus(black_box(&seed), &[&ni, &nr, &[4; 8], &[5; 8]], &mut out)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = aka, dh, transforms, ikev2
}
criterion_main!(benches);
