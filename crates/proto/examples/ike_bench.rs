//! IKE SA establishments per second with initiator and responder in one process (X25519,
//! PSK, AES-GCM-128, PRF-HMAC-SHA-256, one Child SA each), the cost of the cryptography
//! alone for the same exchanges, their ratio, the responder's CPU per SA, and ESP packets
//! per second for 1400-octet packets.
//!
//! `cargo run --release -p mobstrap-proto --example ike_bench [SAS] [ROUNDS]`
//! (defaults 20000 SAs, 3 rounds; the best round is reported, as machine load only slows).

#[path = "../benches/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use mobstrap_crypto::ikev2::Integ;
use mobstrap_crypto::transform::Encr;
use mobstrap_crypto::SecretVec;
use mobstrap_proto::esp::{Inbound, Outbound};
use mobstrap_proto::ikev2::{EspAlgs, EspKeys};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let rounds: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let (i, r) = common::configs();

    let mut best_full = Duration::MAX;
    let mut best_resp = Duration::MAX;
    let mut per_sa_bytes = 0.0;
    for round in 0..rounds {
        let rss0 = rss();
        let mut resp = common::dispatcher(r.clone(), 100 + round as u64);
        let now = Instant::now();
        let t0 = Instant::now();
        let mut in_resp = Duration::ZERO;
        for k in 0..n {
            in_resp += common::establish(&i, &mut resp, k + 1 + round as u64 * n, now);
        }
        let el = t0.elapsed();
        assert_eq!(resp.len() as u64, n);
        if round == 0 {
            per_sa_bytes = rss().saturating_sub(rss0) as f64 / n as f64;
        }
        best_full = best_full.min(el);
        best_resp = best_resp.min(in_resp);
    }
    let mut best_crypto = Duration::MAX;
    for _ in 0..rounds {
        let t0 = Instant::now();
        for k in 0..n {
            common::crypto_only(k, (400, 300));
        }
        best_crypto = best_crypto.min(t0.elapsed());
    }
    let per = |d: Duration| d.as_secs_f64() / n as f64;
    println!("IKE SA establishments (IKE_SA_INIT + IKE_AUTH + Child SA, X25519/PSK/AES-GCM-128/SHA-256):");
    println!(
        "  {n} SAs in {:.3} s: {:.0} SAs/s, {:.1} µs per SA (both sides)",
        best_full.as_secs_f64(),
        1.0 / per(best_full),
        per(best_full) * 1e6
    );
    println!(
        "  responder CPU per SA: {:.1} µs ({:.3} ms)",
        per(best_resp) * 1e6,
        per(best_resp) * 1e3
    );
    println!("  cryptography alone (2 DH keygen+agree, PRFs/keys, 4 AUTH, 2 Child keys, 2 AEAD seal+open): {:.1} µs per SA", per(best_crypto) * 1e6);
    println!(
        "  ratio full / crypto-only: {:.2}",
        best_full.as_secs_f64() / best_crypto.as_secs_f64()
    );
    println!(
        "  responder memory per established SA (with its Child SA; resident set growth): {per_sa_bytes:.0} bytes"
    );

    for (name, encr, integ) in [
        ("AES-GCM-128", Encr::AesGcm16_128, None),
        (
            "AES-CBC-128 + HMAC-SHA-256-128",
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
        let mut inb = Inbound::new(1000, &algs, &keys, 1024).unwrap();
        let payload = vec![0x45u8; 1400];
        let packets = 200_000u64;
        let mut buf = Vec::with_capacity(1500);
        let mut sealed = Vec::with_capacity(packets as usize);
        let t0 = Instant::now();
        for _ in 0..packets {
            out.seal(&payload, 4, &mut buf).unwrap();
            sealed.push(buf.clone());
        }
        let seal = t0.elapsed();
        // Subtract the copy into `sealed` with a copy-only loop of the same shape.
        let t0 = Instant::now();
        let mut copies = Vec::with_capacity(packets as usize);
        for _ in 0..packets {
            copies.push(buf.clone());
        }
        let copy = t0.elapsed();
        drop(copies);
        let t0 = Instant::now();
        for p in &mut sealed {
            inb.open(p).unwrap();
        }
        let open = t0.elapsed();
        let seal = seal.saturating_sub(copy);
        println!(
            "ESP {name}, 1400-octet payload: seal {:.0} packets/s ({:.2} µs), open {:.0} packets/s ({:.2} µs)",
            packets as f64 / seal.as_secs_f64(),
            seal.as_secs_f64() / packets as f64 * 1e6,
            packets as f64 / open.as_secs_f64(),
            open.as_secs_f64() / packets as f64 * 1e6
        );
    }
}

/// Resident set size in bytes (Linux).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|x| x.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}
