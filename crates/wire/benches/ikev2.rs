//! IKEv2 codec benchmarks: a realistic IKE_AUTH request, as it travels (header + SK with
//! AES-CBC-sized IV/padding/ICV) and its decrypted inner chain (IDi, IDr, CP request, SA,
//! TSi, TSr, N).

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mobstrap_wire::ikev2::cp::{CfgAttrType as A, CfgAttribute, CfgType, Cp};
use mobstrap_wire::ikev2::sa::{
    EncrId, EsnId, IntegId, Proposal, Sa, Transform, TransformType as T,
};
use mobstrap_wire::ikev2::{
    emit_encrypted, emit_inner, encrypted_layout, flags, EncryptedKind, ExchangeType, Header, Id,
    IdType, Message, Notify, NotifyType, Payload, PayloadBody as B, Plaintext, ProtocolId,
    SkParams, TrafficSelector, Ts,
};

fn inner_payloads(spi: &[u8]) -> Vec<Payload<'_>> {
    let v4 = TrafficSelector::ipv4_any(Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST);
    let v6 = TrafficSelector::ipv6_any(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from([0xff; 16]));
    vec![
        Payload::new(B::IdI(Id::new(
            IdType::Rfc822Addr,
            b"0234150999999999@nai.epc.mnc015.mcc234.3gppnetwork.org",
        ))),
        Payload::new(B::IdR(Id::new(IdType::Fqdn, b"ims"))),
        Payload::new(B::Cp(Cp::new(
            CfgType::Request,
            vec![
                CfgAttribute::request(A::InternalIp4Address),
                CfgAttribute::request(A::InternalIp4Dns),
                CfgAttribute::request(A::InternalIp6Address),
                CfgAttribute::request(A::InternalIp6Dns),
                CfgAttribute::request(A::PCscfIp4Address),
                CfgAttribute::request(A::PCscfIp6Address),
            ],
        ))),
        Payload::new(B::Sa(Sa {
            proposals: vec![Proposal::new(
                1,
                ProtocolId::Esp,
                spi,
                vec![
                    Transform::new(T::Encr, EncrId::AesCbc.into()).with_key_length(128),
                    Transform::new(T::Integ, IntegId::HmacSha2_256_128.into()),
                    Transform::new(T::Esn, EsnId::No.into()),
                ],
            )],
        })),
        Payload::new(B::TsI(Ts::new(vec![v4, v6]))),
        Payload::new(B::TsR(Ts::new(vec![v4, v6]))),
        Payload::new(B::Notify(Notify::new(
            NotifyType::EapOnlyAuthentication,
            &[],
        ))),
    ]
}

fn bench(c: &mut Criterion) {
    let spi = [0xc1, 0x0a, 0x55, 0x01];
    let inner = inner_payloads(&spi);
    let mut plain = Vec::new();
    let first = emit_inner(&inner, &mut plain).expect("inner emits");
    let params = SkParams {
        iv_len: 16,
        block_len: 16,
        icv_len: 16,
    };
    let header = Header::new([1; 8], [2; 8], ExchangeType::IkeAuth, flags::INITIATOR, 1);
    let mut outer = Vec::new();
    let layout = emit_encrypted(
        &header,
        &[],
        EncryptedKind::Sk,
        first,
        &plain,
        &params,
        &mut outer,
    )
    .expect("outer emits");
    // The decrypted SK content: inner chain, padding, pad length.
    let decrypted = outer[layout.ciphertext.clone()].to_vec();
    let msg = Message::parse(&outer).expect("outer parses");
    let pt = Plaintext::parse(first, &decrypted).expect("inner parses");

    let mut g = c.benchmark_group("ikev2/IKE_AUTH-request");
    g.throughput(Throughput::Bytes(outer.len() as u64));
    g.bench_function("outer parse", |b| {
        b.iter(|| Message::parse(black_box(&outer)).map(|m| m.payloads.len()))
    });
    let mut buf = Vec::with_capacity(2048);
    g.bench_function("outer emit", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&msg).emit(&mut buf).map(|_| buf.len())
        })
    });
    g.bench_function("SK layout", |b| {
        b.iter(|| encrypted_layout(black_box(&outer), 16, 16).map(|l| l.icv.start))
    });
    g.bench_function("emit_encrypted (placeholders)", |b| {
        b.iter(|| {
            buf.clear();
            emit_encrypted(
                &header,
                &[],
                EncryptedKind::Sk,
                first,
                black_box(&plain),
                &params,
                &mut buf,
            )
            .map(|l| l.icv.end)
        })
    });
    g.throughput(Throughput::Bytes(decrypted.len() as u64));
    g.bench_function("inner parse", |b| {
        b.iter(|| Plaintext::parse(first, black_box(&decrypted)).map(|p| p.payloads.len()))
    });
    g.bench_function("inner emit", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&pt).emit(&mut buf).map(|_| buf.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
