//! Criterion benchmarks: one IKE SA establishment (X25519, PSK, AES-GCM-128, SHA-256, one
//! Child SA) with initiator and responder in this process; the cryptography alone for the
//! same exchanges; ESP seal/open of 1400-octet packets. `cargo bench -p mobstrap-proto`.
//! The `ike_bench` example prints rates, the ratio and responder CPU per SA directly.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mobstrap_crypto::ikev2::Integ;
use mobstrap_crypto::transform::Encr;
use mobstrap_crypto::SecretVec;
use mobstrap_proto::esp::{Inbound, Outbound};
use mobstrap_proto::ikev2::{EspAlgs, EspKeys};

fn ike(c: &mut Criterion) {
    let (i, r) = common::configs();
    let mut resp = common::dispatcher(r, 1);
    let now = Instant::now();
    let mut n = 0u64;
    c.bench_function("ike_sa_establishment", |b| {
        b.iter(|| {
            n += 1;
            black_box(common::establish(&i, &mut resp, n, now))
        })
    });
    let mut s = 0u64;
    c.bench_function("ike_sa_crypto_only", |b| {
        b.iter(|| {
            s += 1;
            common::crypto_only(s, (400, 300))
        })
    });
}

fn esp(c: &mut Criterion) {
    let mut g = c.benchmark_group("esp_1400");
    g.throughput(Throughput::Elements(1));
    for (name, encr, integ) in [
        ("gcm128", Encr::AesGcm16_128, None),
        (
            "cbc128_sha256",
            Encr::AesCbc128,
            Some(Integ::HmacSha256_128),
        ),
    ] {
        let algs = EspAlgs {
            encr,
            integ,
            esn: false,
            dh: None,
        };
        let keys = EspKeys {
            encr: SecretVec::from_slice(&vec![7; encr.keymat_len()]),
            integ: SecretVec::from_slice(&vec![8; integ.map_or(0, |i| i.key_len())]),
        };
        let mut out = Outbound::new(1000, &algs, &keys, [1; 32]).unwrap();
        let payload = vec![0x45u8; 1400];
        let mut buf = Vec::with_capacity(1500);
        g.bench_function(format!("{name}_seal"), |b| {
            b.iter(|| out.seal(black_box(&payload), 4, &mut buf).unwrap())
        });
        // Open: a fresh SA per batch would reset the window; instead turn replay off so
        // the same packet can be opened again and again (the ICV and decryption still run).
        let mut inb = Inbound::new(1000, &algs, &keys, 0).unwrap();
        out.seal(&payload, 4, &mut buf).unwrap();
        let sealed = buf.clone();
        let mut work = sealed.clone();
        g.bench_function(format!("{name}_open"), |b| {
            b.iter(|| {
                work.copy_from_slice(&sealed);
                black_box(inb.open(&mut work).unwrap());
            })
        });
    }
    g.finish();
}

criterion_group!(benches, ike, esp);
criterion_main!(benches);
