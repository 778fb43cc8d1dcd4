//! IKEv2 tests: hand-checked RFC 7296 layouts, an independent capture, error cases that
//! name the field, the SK helpers, the independent `ipsec-parser` decoder on our samples,
//! and proptest round trips.

use core::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::cp::CfgAttrType as A;
use super::sa::TransformType as T;
use super::*;
use crate::ErrorKind;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).expect("hex")
}

fn round_trip(b: &[u8]) -> Message<'_> {
    let m = Message::parse(b).expect("parses");
    let mut out = Vec::new();
    m.emit(&mut out).expect("emits");
    assert_eq!(out, b, "emit(parse(b)) == b");
    assert_eq!(m.buffer_len(), b.len());
    m
}

/// RFC 7296 §3.1-3.4 drawn by hand: an IKE_SA_INIT request with one SA proposal
/// (ENCR_AES_CBC/128, PRF_HMAC_SHA2_256, AUTH_HMAC_SHA2_256_128, group 14), KE and Ni.
#[test]
fn hand_built_ike_sa_init() {
    let b = h("
        0001020304050607 0000000000000000 21 20 22 08 00000000 00000060
        22 00 0030
          00 00 002c 01 01 00 04
            03 00 000c 01 00 000c 800e 0080
            03 00 0008 02 00 0005
            03 00 0008 03 00 000c
            00 00 0008 04 00 000e
        28 00 000c 000e 0000 aabbccdd
        00 00 0008 01020304");
    let m = round_trip(&b);
    assert_eq!(m.header.exchange_type, ExchangeType::IkeSaInit);
    assert!(m.header.is_initiator() && !m.header.is_response() && !m.header.higher_version());
    assert_eq!(m.payloads.len(), 3);
    let PayloadBody::Sa(sa) = &m.payloads[0].body else {
        panic!("SA first")
    };
    let p = &sa.proposals[0];
    assert_eq!(
        (p.number, p.protocol_id, p.spi.len(), p.transforms.len()),
        (1, ProtocolId::Ike, 0, 4)
    );
    assert_eq!(p.transform(T::Encr).and_then(|t| t.key_length()), Some(128));
    assert_eq!(p.transform(T::Ke).map(|t| t.transform_id), Some(14));
    let PayloadBody::Ke(ke) = &m.payloads[1].body else {
        panic!("KE second")
    };
    assert_eq!((ke.dh_group, ke.data), (14, &[0xaa, 0xbb, 0xcc, 0xdd][..]));
    assert_eq!(m.payloads[2].body, PayloadBody::Nonce(&[1, 2, 3, 4]));
    // The header view agrees.
    let v = Packet::new_checked(&b[..]).unwrap();
    assert_eq!(
        (v.major_version(), v.minor_version(), v.length()),
        (2, 0, 0x60)
    );
    assert_eq!(v.next_payload(), PayloadType::Sa);
}

/// A real IKE_SA_INIT request (strongSwan-style, group 30, RFC 7427 and REDIRECT_SUPPORTED
/// notifies) from the `ipsec-parser` test suite: parsed and re-emitted byte for byte.
#[test]
fn independent_capture_round_trips() {
    let b = h(include_str!(
        "../../tests/data/ikev2_sa_init_request_ipsec_parser.hex"
    ));
    let m = round_trip(&b);
    let kinds: Vec<PayloadType> = m.payloads.iter().map(|p| p.payload_type()).collect();
    assert_eq!(
        kinds,
        [
            PayloadType::Sa,
            PayloadType::Ke,
            PayloadType::Nonce,
            PayloadType::Notify,
            PayloadType::Notify,
            PayloadType::Notify,
            PayloadType::Notify
        ]
    );
    let PayloadBody::Ke(ke) = &m.payloads[1].body else {
        panic!()
    };
    assert_eq!((ke.dh_group, ke.data.len()), (30, 128));
    let sh = m
        .notifies(NotifyType::SignatureHashAlgorithms)
        .next()
        .expect("RFC 7427 notify");
    assert_eq!(
        sh.signature_hash_algorithms()
            .map(|a| a.value())
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(m.notifies(NotifyType::RedirectSupported).next().is_some());
    assert_eq!(
        m.notifies(NotifyType::NatDetectionSourceIp)
            .next()
            .map(|n| n.data.len()),
        Some(20)
    );
}

#[test]
fn every_sample_round_trips_and_dissects() {
    let mut ike = 0;
    for s in crate::sample::all() {
        let p = crate::frame::peel_ip(&s.packet).unwrap();
        s.decode().unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let data = match classify_udp4500(p.payload) {
            _ if matches!(
                p.frame.transport,
                crate::frame::Transport::Udp { dst: 500, .. }
            ) =>
            {
                p.payload
            }
            Ok(Udp4500::Ike(m)) => m,
            _ => continue,
        };
        let m = round_trip(data);
        ike += 1;
        // NULL-protected samples: the inner chain round-trips too.
        if let Some(sk) = m.encrypted() {
            if s.name.contains("encrypted") {
                continue;
            }
            let pt = Plaintext::parse(sk.first_payload, sk.data)
                .unwrap_or_else(|e| panic!("{}: {e}", s.name));
            let mut out = Vec::new();
            assert_eq!(pt.emit(&mut out).unwrap(), sk.first_payload);
            assert_eq!(out, sk.data, "{}", s.name);
        }
    }
    assert!(ike >= 15, "only {ike} IKE samples");
}

/// `ipsec-parser` (an independent decoder) reads our samples to the same header and the
/// same payload types.
#[test]
fn ipsec_parser_agrees_on_samples() {
    use ipsec_parser::{parse_ikev2_message, IkeV2PayloadContent as C};
    let mut checked = 0;
    for s in crate::sample::all() {
        let p = crate::frame::peel_ip(&s.packet).unwrap();
        let data = match classify_udp4500(p.payload) {
            _ if matches!(
                p.frame.transport,
                crate::frame::Transport::Udp { dst: 500, .. }
            ) =>
            {
                p.payload
            }
            Ok(Udp4500::Ike(m)) => m,
            Ok(Udp4500::Esp(e)) => {
                let ipsec_parser::ESPData::ESP(hdr) =
                    ipsec_parser::parse_esp_encapsulated(p.payload)
                        .expect("esp")
                        .1
                else {
                    panic!("{}: ipsec-parser does not see ESP", s.name)
                };
                assert_eq!(hdr.spi_index, &e[..4]);
                continue;
            }
            _ => continue,
        };
        let ours = Message::parse(data).unwrap();
        let (rest, (hdr, payloads)) =
            parse_ikev2_message(data).unwrap_or_else(|e| panic!("{}: {e:?}", s.name));
        assert!(rest.is_empty());
        assert_eq!(hdr.init_spi.to_be_bytes(), ours.header.spi_i, "{}", s.name);
        assert_eq!(hdr.resp_spi.to_be_bytes(), ours.header.spi_r);
        assert_eq!(hdr.exch_type.0, ours.header.exchange_type.value());
        assert_eq!(hdr.flags, ours.header.flags);
        assert_eq!(hdr.msg_id, ours.header.message_id);
        assert_eq!(hdr.length as usize, data.len());
        assert_eq!((hdr.maj_ver, hdr.min_ver), (2, 0));
        let theirs = payloads.unwrap_or_else(|e| panic!("{}: {e:?}", s.name));
        // ipsec-parser puts a dummy first element carrying the header's next payload.
        let their_types: Vec<u8> = theirs
            .windows(2)
            .map(|w| w[0].hdr.next_payload_type.0)
            .collect();
        let our_types: Vec<u8> = ours
            .payloads
            .iter()
            .map(|p| p.payload_type().value())
            .collect();
        assert_eq!(their_types, our_types, "{}", s.name);
        for (t, o) in theirs[1..].iter().zip(&ours.payloads) {
            assert_eq!(t.hdr.payload_length as usize, o.buffer_len(), "{}", s.name);
            match (&t.content, &o.body) {
                (C::KE(k), PayloadBody::Ke(ke)) => {
                    assert_eq!((k.dh_group.0, k.kex_data), (ke.dh_group, ke.data))
                }
                (C::Nonce(n), PayloadBody::Nonce(d)) => assert_eq!(n.nonce_data, *d),
                (C::Notify(n), PayloadBody::Notify(nt)) => {
                    assert_eq!(n.notify_type.0, nt.notify_type.value());
                    // ipsec-parser 0.7 subtracts the 4-byte generic header twice and so
                    // drops the last 4 bytes of Notification Data (and all of it when it
                    // is 4 bytes or shorter); the rest must agree with ours.
                    let expect = nt
                        .data
                        .len()
                        .checked_sub(4)
                        .filter(|&n| n > 0)
                        .map(|n| &nt.data[..n]);
                    assert_eq!(n.notify_data, expect, "{}", s.name);
                }
                (C::SA(props), PayloadBody::Sa(sa)) => {
                    assert_eq!(props.len(), sa.proposals.len());
                    for (tp, op) in props.iter().zip(&sa.proposals) {
                        assert_eq!(tp.num_transforms as usize, op.transforms.len());
                        let tt: Vec<(u8, u16)> = tp
                            .transforms
                            .iter()
                            .map(|x| (x.transform_type.0, x.transform_id))
                            .collect();
                        let ot: Vec<(u8, u16)> = op
                            .transforms
                            .iter()
                            .map(|x| (x.transform_type.value(), x.transform_id))
                            .collect();
                        assert_eq!(tt, ot);
                    }
                }
                (C::Encrypted(e), PayloadBody::Sk(sk)) => assert_eq!(e.0, sk.data),
                _ => {}
            }
        }
        checked += 1;
    }
    assert!(checked >= 15, "checked {checked}");
}

#[test]
fn errors_name_the_field() {
    let good =
        h("0001020304050607 0000000000000000 28 20 22 08 00000000 00000024  00 00 0008 01020304");
    round_trip(&good);
    let field = |b: &[u8]| Message::parse(b).unwrap_err().field;
    let kind = |b: &[u8]| Message::parse(b).unwrap_err().kind;

    let mut b = good.clone();
    b[17] = 0x10; // IKEv1
    assert_eq!(field(&b), "header.version");
    let mut b = good.clone();
    b[27] = 0x25;
    assert_eq!(
        (field(&b), kind(&b)),
        ("header.length", ErrorKind::Truncated)
    );
    let mut b = good.clone();
    b.push(0);
    assert_eq!(
        (field(&b), kind(&b)),
        ("header.length", ErrorKind::TrailingBytes)
    );
    let mut b = good.clone();
    b[31] = 3; // payload length below its header
    assert_eq!(
        (field(&b), kind(&b)),
        ("payload.length", ErrorKind::BadLength)
    );
    let mut b = good.clone();
    b[28] = 40; // next payload claims another after the last
    assert_eq!(field(&b), "payload.next_payload");
    assert_eq!(field(&good[..20]), "header.message_id");

    // Substructures.
    let sa = |body: &str| Sa::parse(&h(body)).unwrap_err().field;
    assert_eq!(sa("02 00 0008 01 01 00 00"), "SA.proposal.last_substruc"); // says "more" but is last
    assert_eq!(
        sa("00 00 0008 01 01 00 01"),
        "SA.proposal.transform.last_substruc"
    );
    assert_eq!(
        sa("00 00 0010 01 01 00 01  03 00 0008 01 00 000c"),
        "SA.proposal.transform.last_substruc"
    );
    assert_eq!(
        sa("00 00 0014 01 01 00 01  00 00 0008 01 00 000c"),
        "SA.proposal.length"
    );
    assert_eq!(
        sa("00 00 0012 01 01 00 01  00 00 000a 01 00 000c 800e"),
        "SA.proposal.transform.attribute.value"
    );
    assert_eq!(
        sa("00 00 0010 01 01 00 01  00 00 0007 01 00 000c"),
        "SA.proposal.transform.length"
    );
    assert_eq!(
        sa("00 00 0010 01 01 00 00  00 00 0008 01 00 000c"),
        "SA.proposal.num_transforms"
    );
    assert_eq!(
        Delete::parse(&h("03 04 0002 11111111")).unwrap_err().field,
        "D.num_spis"
    );
    assert_eq!(
        Ts::parse(&h("01 000000 07 00 0010 0000ffff 00000000"))
            .unwrap_err()
            .field,
        "TS.selector_length"
    );
    assert_eq!(
        Ts::parse(&h("02 000000 07 00 0010 0000ffff 00000000 ffffffff"))
            .unwrap_err()
            .field,
        "TS.ts_type"
    );
    assert_eq!(
        Ts::parse(&h("01 000000 08 00 0010 0000ffff 00000000 ffffffff"))
            .unwrap_err()
            .field,
        "TS.selector_length"
    );
    assert_eq!(
        Cp::parse(&h("01 000000 0001 0002 0a00")).unwrap_err().field,
        "CP.attribute.INTERNAL_IP4_ADDRESS.length"
    );
    assert_eq!(
        Cp::parse(&h("02 000000 0008 0010 20010db8000000000000000000000001"))
            .unwrap_err()
            .field,
        "CP.attribute.INTERNAL_IP6_ADDRESS.length"
    );
    assert_eq!(
        Cp::parse(&h("01 000000 000e 0001 00")).unwrap_err().field,
        "CP.attribute.SUPPORTED_ATTRIBUTES.length"
    );
    assert_eq!(
        Notify::parse(&h("03 04 4000 1122")).unwrap_err().field,
        "N.spi"
    );

    // SK must be the last payload.
    let sk_then_n = h("0001020304050607 0000000000000000 2e 20 25 08 00000001 00000028  29 00 0004  00 00 0008 00000000");
    assert_eq!(field(&sk_then_n), "SK");
}

#[test]
fn reserved_bytes_and_critical_bit_are_kept() {
    // Critical bit and reserved bits set on a V payload, reserved bytes in ID, AUTH, KE,
    // TS, CP, transform and proposal, R bit on a CP attribute.
    let sa = Sa {
        proposals: vec![Proposal {
            reserved: 0x77,
            ..Proposal::new(
                1,
                ProtocolId::Ike,
                &[],
                vec![Transform {
                    reserved: [0x55, 0x66],
                    ..Transform::new(T::Encr, 12)
                }],
            )
        }],
    };
    let msg = Message::new(
        Header::new(
            [0, 1, 2, 3, 4, 5, 6, 7],
            [0x11; 8],
            ExchangeType::IkeAuth,
            0x28,
            1,
        ),
        vec![
            Payload {
                flags: 0xff,
                body: PayloadBody::VendorId(&[0xaa, 0xbb, 0xcc, 0xdd]),
            },
            Payload::new(PayloadBody::IdI(Id {
                id_type: IdType::Fqdn,
                reserved: [1, 2, 3],
                data: b"ike",
            })),
            Payload::new(PayloadBody::Auth(Auth {
                method: AuthMethod::SharedKeyMic,
                reserved: [0xa, 0xb, 0xc],
                data: &[0x5a; 4],
            })),
            Payload::new(PayloadBody::Sa(sa)),
            Payload::new(PayloadBody::Cp(Cp {
                cfg_type: CfgType::Reply,
                reserved: [0xab, 0xcd, 0xef],
                attributes: vec![CfgAttribute {
                    raw_type: 0x8001,
                    value: &[10, 0, 0, 1],
                }],
            })),
            Payload::new(PayloadBody::Ke(Ke {
                dh_group: 19,
                reserved: 0x1234,
                data: &[0xbe, 0xef],
            })),
            Payload::new(PayloadBody::TsI(Ts {
                reserved: [9, 9, 9],
                selectors: vec![],
            })),
        ],
    );
    let mut out = Vec::new();
    msg.emit(&mut out).unwrap();
    let back = round_trip(&out);
    assert_eq!(back, msg);
    assert!(back.payloads[0].is_critical());
    let PayloadBody::Cp(cp) = &back.payloads[4].body else {
        panic!()
    };
    assert!(cp.attributes[0].reserved_bit());
    assert_eq!(
        cp.attributes[0].typed(),
        CfgValue::Ip4(Ipv4Addr::new(10, 0, 0, 1))
    );
    // Byte positions: V's critical byte, then ID reserved bytes.
    assert_eq!(out[29], 0xff);
    assert_eq!(&out[41..44], &[1, 2, 3]);
}

#[test]
fn unknown_payload_and_code_points_are_kept() {
    // Payload type 200 (unknown), notify type 50000, ID type 99, transform type 77.
    let msg = Message::new(
        Header::new([9; 8], [8; 8], ExchangeType::Unknown(99), 0x20, 7),
        vec![
            Payload::new(PayloadBody::Unknown {
                payload_type: 200,
                data: &[1, 2, 3],
            }),
            Payload::new(PayloadBody::Notify(Notify::new(
                NotifyType::from(50000),
                &[4],
            ))),
            Payload::new(PayloadBody::IdR(Id::new(IdType::from(99), b"x"))),
            Payload::new(PayloadBody::Sa(Sa {
                proposals: vec![Proposal::new(
                    7,
                    ProtocolId::from(9),
                    &[1, 2, 3, 4, 5, 6, 7, 8],
                    vec![Transform {
                        attributes: vec![TransformAttribute {
                            attr_type: 0x1234,
                            value: AttributeValue::Tlv(&[7; 5]),
                        }],
                        ..Transform::new(TransformType::from(77), 4242)
                    }],
                )],
            })),
        ],
    );
    let mut out = Vec::new();
    msg.emit(&mut out).unwrap();
    assert_eq!(round_trip(&out), msg);
    // An unknown-typed body claiming a known type cannot be emitted (it would not parse back).
    let bad = Message::new(
        msg.header,
        vec![Payload::new(PayloadBody::Unknown {
            payload_type: 40,
            data: &[],
        })],
    );
    assert_eq!(bad.emit(&mut Vec::new()).unwrap_err().field, "payload.type");
}

#[test]
fn cp_typed_values() {
    let ip6 = h("20010db8000000000000000000000007 40");
    let link = h("0000000000000001 4c01");
    let mip6 = h("00000e10 20010db8004500000000000000000000 40");
    let ha = h("20010db8000200000000000000000001 c6336402");
    let ha6 = h("20010db8000200000000000000000001");
    let sup = h("0001 0003 8008");
    fn v(t: A, d: &[u8]) -> CfgValue<'_> {
        CfgAttribute::new(t, d).typed()
    }
    assert_eq!(
        v(A::InternalIp6Address, &ip6),
        CfgValue::Ip6Prefix("2001:db8::7".parse().unwrap(), 64)
    );
    assert_eq!(
        v(A::InternalIp6Link, &link),
        CfgValue::Ip6Link {
            interface_id: 1,
            link_id: &[0x4c, 1]
        }
    );
    assert_eq!(
        v(A::Mip6HomePrefix, &mip6),
        CfgValue::Mip6HomePrefix {
            lifetime: 3600,
            prefix: "2001:db8:45::".parse().unwrap(),
            prefix_len: 64
        }
    );
    assert_eq!(
        v(A::HomeAgentAddress, &ha),
        CfgValue::HomeAgent {
            ipv6: "2001:db8:2::1".parse().unwrap(),
            ipv4: Some(Ipv4Addr::new(198, 51, 100, 2))
        }
    );
    assert_eq!(
        v(A::HomeAgentAddress, &ha6),
        CfgValue::HomeAgent {
            ipv6: "2001:db8:2::1".parse().unwrap(),
            ipv4: None
        }
    );
    assert_eq!(
        v(A::InternalIp4Subnet, &h("0a000000 ffff0000")),
        CfgValue::Ip4Subnet(Ipv4Addr::new(10, 0, 0, 0), Ipv4Addr::new(255, 255, 0, 0))
    );
    assert_eq!(v(A::InternalIp6Dns, &[]), CfgValue::Empty);
    assert_eq!(v(A::ApplicationVersion, b"x"), CfgValue::Bytes(b"x"));
    let a = CfgAttribute::new(A::SupportedAttributes, &sup);
    assert_eq!(
        a.supported_attributes().collect::<Vec<_>>(),
        [
            A::InternalIp4Address,
            A::InternalIp4Dns,
            A::InternalIp6Address
        ]
    );
    // Zero-length request forms of every attribute the flows use are accepted.
    for t in [
        A::InternalIp6Link,
        A::InternalIp6Prefix,
        A::HomeAgentAddress,
        A::PCscfIp6Address,
        A::Mip6HomePrefix,
    ] {
        assert!(CfgAttribute::request(t).check_length().is_ok());
    }
}

#[test]
fn notify_helpers() {
    let g = 31u16.to_be_bytes();
    assert_eq!(
        Notify::new(NotifyType::InvalidKePayload, &g).accepted_dh_group(),
        Some(31)
    );
    assert_eq!(
        Notify::new(NotifyType::Cookie, &g).accepted_dh_group(),
        None
    );
    assert_eq!(
        Notify::new(NotifyType::AdditionalIp4Address, &[192, 0, 2, 1]).additional_ip4(),
        Some(Ipv4Addr::new(192, 0, 2, 1))
    );
    assert!(NotifyType::InvalidKePayload.is_error() && !NotifyType::InitialContact.is_error());
    // IANA / RFC numbers spot-checked.
    assert_eq!(NotifyType::EapOnlyAuthentication.value(), 16417);
    assert_eq!(NotifyType::Ikev2FragmentationSupported.value(), 16430);
    assert_eq!(NotifyType::SignatureHashAlgorithms.value(), 16431);
    assert_eq!(NotifyType::MobikeSupported.value(), 16396);
    assert_eq!(NotifyType::UpdateSaAddresses.value(), 16400);
    assert_eq!(NotifyType::RekeySa.value(), 16393);
    assert_eq!(NotifyType::UseTransportMode.value(), 16391);
    assert_eq!(A::HomeAgentAddress.value(), 19);
    assert_eq!(A::Mip6HomePrefix.value(), 16);
    assert_eq!(A::PCscfIp6Address.value(), 21);
    assert_eq!(PayloadType::Skf.value(), 53);
}

#[test]
fn delete_iterates_spis() {
    let d = Delete::child(ProtocolId::Esp, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    assert_eq!(d.num_spis, 2);
    assert_eq!(
        d.iter().collect::<Vec<_>>(),
        [&[1, 2, 3, 4][..], &[5, 6, 7, 8][..]]
    );
    assert_eq!(Delete::ike().iter().count(), 0);
    assert!(Delete::child(ProtocolId::Esp, &[1, 2, 3]).is_err());
    // SPI size 0 with a non-zero count is representable and exact.
    let b = h("01 00 0003");
    let d = Delete::parse(&b).unwrap();
    let mut out = Vec::new();
    d.emit(&mut out).unwrap();
    assert_eq!(out, b);
}

/// The engine's path: emit with placeholders, fill IV, "encrypt" in place, write the
/// ICV; the receiver finds the same ranges and gets the plaintext back.
#[test]
fn sk_emit_layout_and_unprotect() {
    let inner = vec![
        Payload::new(PayloadBody::IdI(Id::new(IdType::Fqdn, b"ue.example.net"))),
        Payload::new(PayloadBody::Notify(Notify::new(
            NotifyType::InitialContact,
            &[],
        ))),
    ];
    let mut plain = Vec::new();
    let first = emit_inner(&inner, &mut plain).unwrap();
    assert_eq!(first, PayloadType::IdI);
    let params = SkParams {
        iv_len: 16,
        block_len: 16,
        icv_len: 12,
    };
    let header = Header::new([1; 8], [2; 8], ExchangeType::IkeAuth, flags::INITIATOR, 1);
    let mut out = vec![0xee; 3]; // emitting appends: offsets are absolute in `out`
    let l = emit_encrypted(
        &header,
        &[],
        EncryptedKind::Sk,
        first,
        &plain,
        &params,
        &mut out,
    )
    .unwrap();
    assert_eq!(l.message, 3..out.len());
    assert_eq!(l.aad, 3..3 + 28 + 4);
    assert_eq!(l.iv, l.aad.end..l.aad.end + 16);
    assert_eq!(l.ciphertext.start, l.iv.end);
    assert_eq!(l.ciphertext.len() % 16, 0);
    assert_eq!(l.icv, out.len() - 12..out.len());
    assert_eq!(l.authenticated, 3..l.icv.start);
    // The engine: IV, XOR "cipher", ICV.
    out[l.iv.clone()].copy_from_slice(&[0x42; 16]);
    for b in &mut out[l.ciphertext.clone()] {
        *b ^= 0x5c;
    }
    let icv = [0x99; 12];
    out[l.icv.clone()].copy_from_slice(&icv);
    let msg_bytes = &out[3..];
    let m = Message::parse(msg_bytes).unwrap();
    let sk = m.encrypted().unwrap();
    assert_eq!(sk.first_payload, PayloadType::IdI);
    let rl = encrypted_layout(msg_bytes, 16, 12).unwrap();
    let shift = |r: &core::ops::Range<usize>| r.start - 3..r.end - 3;
    assert_eq!(
        (
            rl.aad.clone(),
            rl.iv.clone(),
            rl.ciphertext.clone(),
            rl.icv.clone()
        ),
        (
            shift(&l.aad),
            shift(&l.iv),
            shift(&l.ciphertext),
            shift(&l.icv)
        )
    );
    assert_eq!(rl.authenticated, 0..msg_bytes.len() - 12);
    let dec: Vec<u8> = msg_bytes[rl.ciphertext.clone()]
        .iter()
        .map(|b| b ^ 0x5c)
        .collect();
    let pt = Plaintext::parse(sk.first_payload, &dec).unwrap();
    assert_eq!(pt.payloads, inner);
    assert_eq!(pt.padding.len(), 16 - (plain.len() + 1) % 16);
    // Errors: no SK, too short for IV + ICV.
    let mut clear = Vec::new();
    Message::new(header, inner.clone())
        .emit(&mut clear)
        .unwrap();
    assert_eq!(encrypted_layout(&clear, 16, 12).unwrap_err().field, "SK");
    assert_eq!(
        encrypted_layout(msg_bytes, 16, 1000).unwrap_err().field,
        "SK.encrypted_data"
    );
    assert_eq!(
        sk::split_padding(&[1, 2, 9]).unwrap_err().field,
        "SK.pad_length"
    );
}

#[test]
fn skf_emit_and_checks() {
    let header = Header::new([1; 8], [2; 8], ExchangeType::IkeAuth, flags::INITIATOR, 1);
    let params = SkParams {
        iv_len: 8,
        block_len: 1,
        icv_len: 16,
    };
    let mut out = Vec::new();
    let l = emit_encrypted(
        &header,
        &[],
        EncryptedKind::Skf {
            fragment_number: 2,
            total_fragments: 3,
        },
        PayloadType::NoNext,
        &[7; 40],
        &params,
        &mut out,
    )
    .unwrap();
    assert_eq!(l.aad, 0..28 + 8);
    let m = round_trip(&out);
    let PayloadBody::Skf(f) = &m.payloads[0].body else {
        panic!()
    };
    assert_eq!(
        (f.fragment_number, f.total_fragments, f.first_payload),
        (2, 3, PayloadType::NoNext)
    );
    assert!(f.check().is_ok());
    assert_eq!(encrypted_layout(&out, 8, 16).unwrap(), l);
    let bad = EncryptedFragment {
        fragment_number: 4,
        ..*f
    };
    assert_eq!(bad.check().unwrap_err().field, "SKF.fragment_number");
    let bad = EncryptedFragment {
        first_payload: PayloadType::IdI,
        ..*f
    };
    assert_eq!(bad.check().unwrap_err().field, "SKF.next_payload");
}

#[test]
fn udp4500_demux() {
    assert_eq!(classify_udp4500(&[0xff]).unwrap(), Udp4500::Keepalive);
    assert_eq!(
        classify_udp4500(&[0, 0, 0, 0, 1, 2]).unwrap(),
        Udp4500::Ike(&[1, 2])
    );
    assert_eq!(
        classify_udp4500(&[0, 0, 1, 0, 0, 0, 0, 1]).unwrap(),
        Udp4500::Esp(&[0, 0, 1, 0, 0, 0, 0, 1])
    );
    assert_eq!(
        classify_udp4500(&[0, 0]).unwrap_err().field,
        "udp4500.non_esp_marker"
    );
    let m = Message::new(
        Header::new([1; 8], [0; 8], ExchangeType::IkeSaInit, 8, 0),
        vec![],
    );
    let mut out = Vec::new();
    natt::emit_udp4500(&m, &mut out).unwrap();
    assert_eq!(&out[..4], &NON_ESP_MARKER);
    assert!(dissect_udp4500(&out).is_ok());
}

#[test]
fn dissect_shows_inner_payloads_of_null_sk() {
    let inner = [Payload::new(PayloadBody::IdI(Id::new(
        IdType::Ipv4Addr,
        &[192, 0, 2, 1],
    )))];
    let mut plain = Vec::new();
    let first = emit_inner(&inner, &mut plain).unwrap();
    let mut out = Vec::new();
    emit_encrypted(
        &Header::new([1; 8], [2; 8], ExchangeType::IkeAuth, 8, 1),
        &[],
        EncryptedKind::Sk,
        first,
        &plain,
        &SkParams {
            iv_len: 0,
            block_len: 1,
            icv_len: 0,
        },
        &mut out,
    )
    .unwrap();
    let t = dissect_null_encrypted(&out).unwrap();
    assert!(t
        .fields()
        .contains(&("isakmp.id.data.ipv4_addr", "192.0.2.1")));
    let opaque = dissect(&out).unwrap();
    assert!(!opaque
        .fields()
        .iter()
        .any(|(n, _)| *n == "isakmp.id.data.ipv4_addr"));
}

// ---- proptest round trips ----

fn leak(v: Vec<u8>) -> &'static [u8] {
    v.leak()
}
fn bytes(max: usize) -> impl Strategy<Value = &'static [u8]> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(leak)
}

fn attr() -> impl Strategy<Value = TransformAttribute<'static>> {
    prop_oneof![
        (0u16..0x8000, any::<u16>()).prop_map(|(t, v)| TransformAttribute {
            attr_type: t,
            value: AttributeValue::Tv(v)
        }),
        (0u16..0x8000, bytes(8)).prop_map(|(t, v)| TransformAttribute {
            attr_type: t,
            value: AttributeValue::Tlv(v)
        }),
    ]
}

fn transform() -> impl Strategy<Value = Transform<'static>> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<[u8; 2]>(),
        proptest::collection::vec(attr(), 0..3),
    )
        .prop_map(|(t, id, reserved, attributes)| Transform {
            transform_type: TransformType::from(t),
            transform_id: id,
            reserved,
            attributes,
        })
}

fn sa() -> impl Strategy<Value = Sa<'static>> {
    proptest::collection::vec(
        (
            any::<u8>(),
            any::<u8>(),
            bytes(9),
            any::<u8>(),
            proptest::collection::vec(transform(), 0..5),
        )
            .prop_map(|(number, proto, spi, reserved, transforms)| Proposal {
                number,
                protocol_id: ProtocolId::from(proto),
                spi,
                reserved,
                transforms,
            }),
        1..4,
    )
    .prop_map(|proposals| Sa { proposals })
}

fn selector() -> impl Strategy<Value = TrafficSelector<'static>> {
    prop_oneof![
        (
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<[u8; 4]>(),
            any::<[u8; 4]>()
        )
            .prop_map(|(p, s, e, a, b)| {
                TrafficSelector::Ipv4 {
                    ip_protocol: p,
                    start_port: s,
                    end_port: e,
                    start: a.into(),
                    end: b.into(),
                }
            }),
        (
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<[u8; 16]>(),
            any::<[u8; 16]>()
        )
            .prop_map(|(p, s, e, a, b)| {
                TrafficSelector::Ipv6 {
                    ip_protocol: p,
                    start_port: s,
                    end_port: e,
                    start: Ipv6Addr::from(a),
                    end: Ipv6Addr::from(b),
                }
            }),
        (9u8..=255, any::<u8>(), bytes(12)).prop_map(|(t, b1, d)| TrafficSelector::Other {
            ts_type: TsType::from(t),
            byte1: b1,
            data: d
        }),
    ]
}

fn cfg_attr() -> impl Strategy<Value = CfgAttribute<'static>> {
    prop_oneof![
        (any::<u16>(), Just(&[][..])).prop_map(|(t, v)| CfgAttribute {
            raw_type: t,
            value: v
        }),
        (
            prop_oneof![Just(1u16), Just(2), Just(3), Just(4), Just(6), Just(20)],
            any::<[u8; 4]>()
        )
            .prop_map(|(t, v)| CfgAttribute {
                raw_type: t,
                value: leak(v.to_vec())
            }),
        (
            prop_oneof![Just(8u16), Just(15), Just(18)],
            proptest::collection::vec(any::<u8>(), 17..=17)
        )
            .prop_map(|(t, v)| CfgAttribute {
                raw_type: t,
                value: leak(v)
            }),
        (22u16..0x8000, bytes(20)).prop_map(|(t, v)| CfgAttribute {
            raw_type: t,
            value: v
        }),
    ]
    .prop_filter("valid lengths", |a| a.check_length().is_ok())
}

fn body() -> impl Strategy<Value = PayloadBody<'static>> {
    prop_oneof![
        sa().prop_map(PayloadBody::Sa),
        (any::<u16>(), any::<u16>(), bytes(40)).prop_map(|(g, r, d)| PayloadBody::Ke(Ke {
            dh_group: g,
            reserved: r,
            data: d
        })),
        (any::<u8>(), any::<[u8; 3]>(), bytes(30)).prop_map(|(t, r, d)| PayloadBody::IdI(Id {
            id_type: IdType::from(t),
            reserved: r,
            data: d
        })),
        (any::<u8>(), any::<[u8; 3]>(), bytes(30)).prop_map(|(t, r, d)| PayloadBody::IdR(Id {
            id_type: IdType::from(t),
            reserved: r,
            data: d
        })),
        (any::<u8>(), bytes(40)).prop_map(|(e, d)| PayloadBody::Cert(Cert {
            encoding: CertEncoding::from(e),
            data: d
        })),
        (any::<u8>(), bytes(40)).prop_map(|(e, d)| PayloadBody::CertReq(Cert {
            encoding: CertEncoding::from(e),
            data: d
        })),
        (any::<u8>(), any::<[u8; 3]>(), bytes(40)).prop_map(|(m, r, d)| PayloadBody::Auth(Auth {
            method: AuthMethod::from(m),
            reserved: r,
            data: d
        })),
        bytes(40).prop_map(PayloadBody::Nonce),
        (any::<u8>(), any::<u16>(), bytes(8), bytes(20)).prop_map(|(p, t, s, d)| {
            PayloadBody::Notify(Notify {
                protocol_id: ProtocolId::from(p),
                notify_type: NotifyType::from(t),
                spi: s,
                data: d,
            })
        }),
        (any::<u8>(), 0u8..9, 0u16..4).prop_flat_map(|(p, size, n)| {
            proptest::collection::vec(
                any::<u8>(),
                size as usize * n as usize..=size as usize * n as usize,
            )
            .prop_map(move |spis| {
                PayloadBody::Delete(Delete {
                    protocol_id: ProtocolId::from(p),
                    spi_size: size,
                    num_spis: n,
                    spis: leak(spis),
                })
            })
        }),
        bytes(20).prop_map(PayloadBody::VendorId),
        (
            any::<[u8; 3]>(),
            proptest::collection::vec(selector(), 0..4)
        )
            .prop_map(|(r, s)| PayloadBody::TsI(Ts {
                reserved: r,
                selectors: s
            })),
        (
            any::<[u8; 3]>(),
            proptest::collection::vec(selector(), 0..4)
        )
            .prop_map(|(r, s)| PayloadBody::TsR(Ts {
                reserved: r,
                selectors: s
            })),
        (
            any::<u8>(),
            any::<[u8; 3]>(),
            proptest::collection::vec(cfg_attr(), 0..6)
        )
            .prop_map(|(t, r, a)| PayloadBody::Cp(Cp {
                cfg_type: CfgType::from(t),
                reserved: r,
                attributes: a
            })),
        bytes(40).prop_map(PayloadBody::Eap),
        (prop_oneof![(0u8..33), (49u8..53), (54u8..=255)], bytes(20)).prop_map(|(t, d)| {
            PayloadBody::Unknown {
                payload_type: t,
                data: d,
            }
        }),
    ]
    .prop_filter("type 0 is the chain end", |b| {
        !matches!(
            b,
            PayloadBody::Unknown {
                payload_type: 0,
                ..
            }
        )
    })
}

fn last_body() -> impl Strategy<Value = Option<PayloadBody<'static>>> {
    prop_oneof![
        Just(None),
        (any::<u8>(), bytes(40)).prop_map(|(n, d)| Some(PayloadBody::Sk(Encrypted {
            first_payload: PayloadType::from(n),
            data: d
        }))),
        (any::<u8>(), any::<u16>(), any::<u16>(), bytes(40)).prop_map(|(n, f, t, d)| Some(
            PayloadBody::Skf(EncryptedFragment {
                first_payload: PayloadType::from(n),
                fragment_number: f,
                total_fragments: t,
                data: d
            })
        )),
    ]
}

fn message() -> impl Strategy<Value = Message<'static>> {
    (
        any::<[u8; 8]>(),
        any::<[u8; 8]>(),
        0u8..16,
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
        proptest::collection::vec((any::<u8>(), body()), 0..6),
        (any::<u8>(), last_body()),
    )
        .prop_map(|(i, r, minor, x, f, id, bodies, (lf, last))| {
            let mut payloads: Vec<Payload<'static>> = bodies
                .into_iter()
                .map(|(flags, body)| Payload { flags, body })
                .collect();
            if let Some(b) = last {
                payloads.push(Payload { flags: lf, body: b });
            }
            Message {
                header: Header {
                    spi_i: i,
                    spi_r: r,
                    version: 0x20 | minor,
                    exchange_type: ExchangeType::from(x),
                    flags: f,
                    message_id: id,
                },
                payloads,
            }
        })
}

proptest! {
    #[test]
    fn message_round_trips(m in message()) {
        let mut out = Vec::new();
        m.emit(&mut out).unwrap();
        prop_assert_eq!(out.len(), m.buffer_len());
        let back = Message::parse(&out).unwrap();
        prop_assert_eq!(&back, &m);
        let mut again = Vec::new();
        back.emit(&mut again).unwrap();
        prop_assert_eq!(&again, &out);
        prop_assert!(dissect(&again).is_ok());
    }

    #[test]
    fn inner_plaintext_round_trips(bodies in proptest::collection::vec(body(), 0..6), pad in bytes(20)) {
        let pt = Plaintext { payloads: bodies.into_iter().map(Payload::new).collect(), padding: pad };
        let mut out = Vec::new();
        let first = pt.emit(&mut out).unwrap();
        let back = Plaintext::parse(first, &out).unwrap();
        prop_assert_eq!(&back, &pt);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_are_exact(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(m) = Message::parse(&b) {
            let mut out = Vec::new();
            m.emit(&mut out).unwrap();
            prop_assert_eq!(out, b.clone());
        }
        let _ = dissect(&b);
        let _ = dissect_udp4500(&b);
        let _ = dissect_null_encrypted(&b);
        let _ = encrypted_layout(&b, 16, 16);
        if let Ok(p) = Plaintext::parse(PayloadType::IdI, &b) {
            let mut out = Vec::new();
            p.emit(&mut out).unwrap();
            prop_assert_eq!(out, b);
        }
    }
}

#[test]
fn layout_with_absurd_sizes_is_an_error_not_a_panic() {
    let mut out = Vec::new();
    emit_encrypted(
        &Header::new([1; 8], [2; 8], ExchangeType::IkeAuth, 8, 1),
        &[],
        EncryptedKind::Sk,
        PayloadType::NoNext,
        &[],
        &SkParams {
            iv_len: 0,
            block_len: 1,
            icv_len: 0,
        },
        &mut out,
    )
    .unwrap();
    assert!(encrypted_layout(&out, usize::MAX, 0).is_err());
    assert!(encrypted_layout(&out, 0, usize::MAX).is_err());
    assert!(encrypted_layout(&out, 0, 0).is_ok());
}
