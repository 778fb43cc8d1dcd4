//! Minimum-of-N timing of one full EAP-AKA / EAP-AKA' authentication in the engines, server
//! side, peer side and both (HSS Milenage excluded), robust on a loaded machine: many short
//! rounds, the fastest round's mean per authentication is reported.
//!
//! `cargo run --release -p mobstrap-proto --example eap_min_timing [ROUNDS]`

use std::time::Duration;

use mobstrap_proto::eap::Method;

#[path = "../benches/support/mod.rs"]
mod support;
use support::{Bench, Side};

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    const PER_ROUND: u32 = 50;
    for (name, method) in [("EAP-AKA", Method::Aka), ("EAP-AKA'", Method::AkaPrime)] {
        for (sname, side) in [
            ("server", Side::Server),
            ("peer", Side::Peer),
            ("both", Side::Both),
        ] {
            let mut b = Bench::new(method);
            let mut best = Duration::MAX;
            for _ in 0..rounds {
                let t: Duration = (0..PER_ROUND).map(|_| b.one(side)).sum();
                best = best.min(t / PER_ROUND);
            }
            println!(
                "{name:9} {sname:6} {:7.2} µs per full authentication ({:.0}/s on one core)",
                best.as_secs_f64() * 1e6,
                1.0 / best.as_secs_f64()
            );
        }
    }
}
