//! CPU of one full EAP-AKA / EAP-AKA' authentication in the engines, server side and peer
//! side measured apart (`iter_custom` times only the calls into the side under test; the
//! other side and the HSS's Milenage run untimed). The server does what the AAA does per
//! authentication: EAP-Response/Identity from the NAS → vector → Challenge (with encrypted
//! pseudonym and re-authentication id) → Response → Success with MSK/EMSK.
//!
//! `cargo bench -p mobstrap-proto --bench eap`

use criterion::{criterion_group, criterion_main, Criterion};
use mobstrap_crypto::milenage::Milenage;
use mobstrap_proto::eap::Method;

mod support;
use support::{Bench, Side};

const K: [u8; 16] = [0x46; 16];
const OPC: [u8; 16] = [0x3c; 16];

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("eap_full_auth");
    for (name, method) in [("aka", Method::Aka), ("aka_prime", Method::AkaPrime)] {
        for (sname, side) in [
            ("server", Side::Server),
            ("peer", Side::Peer),
            ("both", Side::Both),
        ] {
            let mut b = Bench::new(method);
            g.bench_function(format!("{name}/{sname}"), |bn| {
                bn.iter_custom(|iters| (0..iters).map(|_| b.one(side)).sum())
            });
        }
    }
    g.finish();
    let hss = Milenage::new(&K, &OPC);
    let mut sqn = 1u64;
    c.bench_function("hss_milenage_vector", |bn| {
        bn.iter(|| {
            sqn += 1;
            hss.generate_vector(&[sqn as u8; 16], sqn, [0x80, 0])
                .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
