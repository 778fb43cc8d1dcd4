//! Parse and emit of a realistic Proxy Binding Update (MN-ID NAI, HNP, HI, ATT, Timestamp,
//! Service Selection, IPv4 HoA Request): `cargo bench -p mobstrap-wire --bench mh`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use mobstrap_wire::mh::{bu_flags, BindingUpdate, Message, MobOption as O, OptionType, Repr};

fn pbu() -> Repr<'static> {
    Repr::new(
        Message::BindingUpdate(BindingUpdate {
            seq: 1,
            flags: bu_flags::A | bu_flags::H | bu_flags::P,
            lifetime: 1000,
        }),
        vec![
            O::MobileNodeIdentifier {
                subtype: 1,
                identifier: b"0232010000000000@example.com",
            },
            O::HomeNetworkPrefix {
                reserved: 0,
                prefix_len: 0,
                prefix: [0; 16],
            },
            O::HandoffIndicator {
                reserved: 0,
                indicator: 1,
            },
            O::AccessTechnologyType {
                reserved: 0,
                att: 4,
            },
            O::Timestamp((1_700_000_000u64 << 16) | 0x8000),
            O::ServiceSelection(b"internet.example"),
            O::Ipv4HomeAddressRequest {
                bits: 0,
                address: [0; 4],
            },
        ],
    )
}

fn bench(c: &mut Criterion) {
    let (src, dst) = ([0x20; 16], [0x21; 16]);
    let repr = pbu();
    let mut wire = Vec::new();
    repr.emit_with_checksum(&src, &dst, &mut wire)
        .expect("emit");

    c.bench_function("mh/pbu/parse", |b| {
        b.iter(|| Repr::parse(black_box(&wire)).expect("parse"))
    });
    c.bench_function("mh/pbu/parse+find_options", |b| {
        b.iter(|| {
            let r = Repr::parse(black_box(&wire)).expect("parse");
            let id = r.options.find(OptionType::MobileNodeIdentifier);
            let hnp = r.options.find(OptionType::HomeNetworkPrefix);
            let ts = r.options.find(OptionType::Timestamp);
            black_box((id, hnp, ts))
        })
    });
    c.bench_function("mh/pbu/verify_checksum", |b| {
        b.iter(|| {
            mobstrap_wire::mh::verify_checksum(black_box(&wire), &src, &dst).expect("checksum")
        })
    });
    let mut out = Vec::with_capacity(256);
    c.bench_function("mh/pbu/emit", |b| {
        b.iter(|| {
            out.clear();
            black_box(&repr).emit(&mut out).expect("emit");
            black_box(out.len())
        })
    });
    c.bench_function("mh/pbu/emit_with_checksum", |b| {
        b.iter(|| {
            out.clear();
            black_box(&repr)
                .emit_with_checksum(&src, &dst, &mut out)
                .expect("emit");
            black_box(out.len())
        })
    });
    let parsed = Repr::parse(&wire).expect("parse");
    c.bench_function("mh/pbu/re-emit_parsed", |b| {
        b.iter(|| {
            out.clear();
            black_box(&parsed).emit(&mut out).expect("emit");
            black_box(out.len())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
