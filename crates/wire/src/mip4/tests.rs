//! Mobile IPv4 tests: the scapy Registration Reply, hand-checked layouts, the seed-004 vendor
//! extensions, the agent advertisement, errors that name the field, property round trips.

use proptest::prelude::*;

use super::agent::{AdvExtension, AgentAdvertisement};
use super::dualstack::{nvse_type, DualStack, VENDOR_MOBSTRAP};
use super::ext::{Extension as E, Extensions};
use super::samples::{assignments, requests, rrp, rrq_ccoa};
use super::*;
use crate::ErrorKind;

const VECTORS: &str = include_str!("../../tests/data/mobility_mip6_mipv4_scapy.json");

fn reemit(r: &Repr<'_>) -> Vec<u8> {
    let mut v = Vec::new();
    r.emit(&mut v).unwrap();
    v
}

#[test]
fn scapy_registration_reply() {
    let doc: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
    let v = doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["dissect_as"] == "IPv4")
        .unwrap();
    let pkt = hex::decode(v["hex"].as_str().unwrap()).unwrap();
    let p = crate::frame::peel_ip(&pkt).unwrap();
    let f = &v["expected_fields"];
    assert_eq!(
        p.frame.transport,
        crate::frame::Transport::Udp {
            src: PORT,
            dst: PORT
        },
        "scapy's sport/dport are 434"
    );
    let r = Repr::parse(p.payload).unwrap();
    let Message::Reply {
        code,
        lifetime,
        home_address,
        home_agent,
        identification,
    } = r.message
    else {
        panic!("not a reply: {:?}", r.message)
    };
    assert_eq!(f["mip.type"], 3);
    assert_eq!(code as u64, f["rrp.code"].as_u64().unwrap());
    assert_eq!(lifetime as u64, f["rrp.lifetime"].as_u64().unwrap());
    assert_eq!(
        crate::dissect::ip_text(&home_address),
        f["rrp.homeaddr"].as_str().unwrap()
    );
    assert_eq!(
        crate::dissect::ip_text(&home_agent),
        f["rrp.haaddr"].as_str().unwrap()
    );
    assert_eq!(identification, f["rrp.id"].as_u64().unwrap());
    assert_eq!(reemit(&r), p.payload);
}

/// RFC 5944 §3.3 and RFC 2794 / RFC 3115 laid out by hand.
#[test]
fn hand_checked_rrq_layout() {
    let r = Repr::new(
        Message::Request {
            flags: flags::S | flags::T,
            lifetime: 0x0102,
            home_address: [10, 0, 0, 1],
            home_agent: [10, 0, 0, 2],
            care_of_address: [10, 0, 0, 3],
            identification: 0x1122_3344_5566_7788,
        },
        vec![
            E::Nai(b"a@b"),
            DualStack::TemporaryIpv4HomeAddress([0; 4]).to_extension(),
            E::Cvse {
                reserved: 0,
                vendor_id: VENDOR_MOBSTRAP,
                vendor_type: 5,
                value: &[192, 0, 2, 50],
            },
            E::GeneralizedAuth {
                subtype: 1,
                spi: 7,
                authenticator: &[0xaa; 2],
            },
            E::Auth {
                kind: 32,
                spi: 0x100,
                authenticator: &[0xbb; 2],
            },
        ],
    );
    let b = reemit(&r);
    let mut want = vec![
        1, 0x82, 1, 2, 10, 0, 0, 1, 10, 0, 0, 2, 10, 0, 0, 3, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
        0x77, 0x88,
    ];
    want.extend_from_slice(&[131, 3, b'a', b'@', b'b']);
    want.extend_from_slice(&[134, 12, 0, 0, 0, 0, 0x7e, 0xd9, 0, 3, 0, 0, 0, 0]);
    want.extend_from_slice(&[38, 0, 0, 10, 0, 0, 0x7e, 0xd9, 0, 5, 192, 0, 2, 50]);
    want.extend_from_slice(&[36, 1, 0, 6, 0, 0, 0, 7, 0xaa, 0xaa]);
    want.extend_from_slice(&[32, 6, 0, 0, 1, 0, 0xbb, 0xbb]);
    assert_eq!(b, want);
    assert_eq!(b.len(), r.buffer_len());
    let p = Repr::parse(&b).unwrap();
    assert_eq!(p.message, r.message);
    assert_eq!(
        p.extensions.iter().collect::<Vec<_>>(),
        r.extensions.iter().collect::<Vec<_>>()
    );
    assert_eq!(
        p.dual_stack().collect::<Vec<_>>(),
        [
            DualStack::TemporaryIpv4HomeAddress([0; 4]),
            DualStack::ForeignHomeAgentAddress([192, 0, 2, 50])
        ]
    );
    // MN-HA authenticator covers everything up to and including its SPI.
    let cover = authenticated_prefix(&b, 32).unwrap();
    assert_eq!(cover.len(), b.len() - 2);
    assert_eq!(&cover[cover.len() - 6..], &[32, 6, 0, 0, 1, 0]);
    let cover = authenticated_prefix(&b, 36).unwrap();
    assert_eq!(&cover[cover.len() - 8..], &[36, 1, 0, 6, 0, 0, 0, 7]);
    assert!(authenticated_prefix(&b, 33).is_none());
}

#[test]
fn seed004_fields_round_trip_with_keygen() {
    let req = requests();
    let r = rrq_ccoa(&req, true);
    let b = reemit(&r);
    let p = Repr::parse(&b).unwrap();
    assert_eq!(p.dual_stack().collect::<Vec<_>>(), req);
    assert!(p.extensions.iter().any(|e| matches!(
        e,
        E::LongForm {
            kind: 42,
            subtype: 1,
            ..
        }
    )));
    assert_eq!(reemit(&p), b);
    let asg = assignments();
    let b = reemit(&rrp(&asg, true));
    let p = Repr::parse(&b).unwrap();
    assert_eq!(p.dual_stack().collect::<Vec<_>>(), asg);
    assert!(p
        .extensions
        .iter()
        .any(|e| matches!(e, E::LongForm { kind: 43, .. })));
    // The exact NVSE bytes documented in docs/protocols/mobility.md.
    let mut nvse = Vec::new();
    DualStack::Ipv6HomeAgentAddress([0x20; 16])
        .to_extension()
        .emit(&mut nvse)
        .unwrap();
    let mut want = vec![
        134,
        24,
        0,
        0,
        0,
        0,
        0x7e,
        0xd9,
        0,
        nvse_type::IPV6_HOME_AGENT_ADDRESS as u8,
    ];
    want.extend_from_slice(&[0x20; 16]);
    assert_eq!(nvse, want);
    // Ours, wrong length: named. Someone else's vendor id: not ours.
    assert_eq!(
        DualStack::decode(VENDOR_MOBSTRAP, 1, &[0; 4])
            .unwrap_err()
            .field,
        "nvse.mobstrap.ipv6_address"
    );
    assert_eq!(
        DualStack::decode(VENDOR_MOBSTRAP, 3, &[0; 16])
            .unwrap_err()
            .field,
        "nvse.mobstrap.ipv4_address"
    );
    assert_eq!(DualStack::decode(5535, 1, &[0; 16]).unwrap(), None);
    assert_eq!(
        DualStack::decode(VENDOR_MOBSTRAP, 99, &[0; 16]).unwrap(),
        None
    );
}

#[test]
fn errors_name_fields() {
    let f = |b: &[u8]| Repr::parse(b).unwrap_err();
    assert_eq!(f(&[]).field, "type");
    assert_eq!(f(&[1, 0, 0]).field, "rrq.lifetime");
    let mut rrp = vec![3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(f(&rrp).field, "rrp.identification");
    rrp.push(0);
    assert!(Repr::parse(&rrp).is_ok());
    rrp.extend_from_slice(&[131, 5, b'a']);
    let e = f(&rrp);
    assert_eq!(
        (e.field, e.kind),
        ("extension.length", ErrorKind::Truncated)
    );
    rrp.truncate(20);
    rrp.extend_from_slice(&[32, 2, 0, 0]);
    assert_eq!(f(&rrp).field, "extension.auth.spi");
    rrp.truncate(20);
    rrp.extend_from_slice(&[36, 1, 0, 9, 0, 0, 0, 1]);
    assert_eq!(f(&rrp).field, "extension.generalized_auth.length");
    rrp.truncate(20);
    rrp.extend_from_slice(&[38, 0, 0, 4, 0, 0, 0x7e, 0xd9]);
    assert_eq!(f(&rrp).field, "extension.cvse.vendor_type");
    rrp.truncate(20);
    rrp.extend_from_slice(&[134, 4, 0, 0, 0, 0]);
    assert_eq!(f(&rrp).field, "extension.nvse.vendor_id");
    // Emitting a value too long for its 8-bit length.
    let long = vec![b'x'; 256];
    let r = Repr::new(
        Message::Other {
            msg_type: 9,
            body: &[],
        },
        vec![],
    );
    assert!(r.emit(&mut Vec::new()).is_ok());
    let r = Repr {
        extensions: Extensions::List(vec![E::Nai(&long)]),
        ..r
    };
    assert_eq!(r.emit(&mut Vec::new()).unwrap_err().field, "extensions");
    let mut out = Vec::new();
    assert_eq!(
        E::Nai(&long).emit(&mut out).unwrap_err().field,
        "extension.length"
    );
    assert_eq!(
        E::Unknown {
            kind: 36,
            data: &[]
        }
        .emit(&mut out)
        .unwrap_err()
        .field,
        "extension.type"
    );
}

#[test]
fn unknown_extensions_and_messages_are_kept() {
    let mut b = vec![3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&[145, 3, 1, b'h', b'i', 200, 0, 44, 2, 0, 0]);
    let r = Repr::parse(&b).unwrap();
    let kinds: Vec<u8> = r.extensions.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, [145, 200, 44]);
    assert_eq!(reemit(&r), b);
    let other = [7, 1, 2, 3];
    let r = Repr::parse(&other).unwrap();
    assert_eq!(
        r.message,
        Message::Other {
            msg_type: 7,
            body: &[1, 2, 3]
        }
    );
    assert_eq!(reemit(&r), other);
}

#[test]
fn agent_advertisement() {
    let s = samples()
        .into_iter()
        .find(|s| s.name == "mip4/AgentAdvertisement")
        .unwrap();
    let p = crate::frame::peel_ip(&s.packet).unwrap();
    let a = AgentAdvertisement::parse(p.payload).unwrap();
    AgentAdvertisement::verify_checksum(p.payload).unwrap();
    let mut bad = p.payload.to_vec();
    bad[9] ^= 1;
    assert_eq!(
        AgentAdvertisement::verify_checksum(&bad).unwrap_err().field,
        "icmp.checksum"
    );
    assert_eq!(a.num_addrs(), 1);
    let exts: Vec<_> = a.extensions().collect();
    assert!(matches!(
        exts[0],
        AdvExtension::MobilityAgent {
            sequence: 7,
            lifetime: 1800,
            care_of_addresses: &[192, 0, 2, 40],
            ..
        }
    ));
    assert_eq!(exts[1], AdvExtension::PrefixLengths(&[24]));
    assert_eq!(exts[2], AdvExtension::Padding);
    let mut out = Vec::new();
    a.emit(&mut out).unwrap();
    assert_eq!(out, p.payload);
    // RFC 5944 §2.1.1 by hand: 16, length 6 + 4N, sequence, lifetime, flags, CoAs.
    let ext_at = 16;
    assert_eq!(
        &p.payload[ext_at..ext_at + 14],
        &[16, 10, 0, 7, 0x07, 0x08, 0x91, 0x00, 192, 0, 2, 40, 19, 1]
    );
    let mut short = p.payload.to_vec();
    short[ext_at + 1] = 9;
    assert!(AgentAdvertisement::parse(&short).is_err());
    assert_eq!(
        AgentAdvertisement::parse(&[8, 0, 0, 0]).unwrap_err().field,
        "icmp.type"
    );
    assert_eq!(
        AgentAdvertisement::parse(&[9, 0, 0, 0, 1, 2, 0, 0])
            .unwrap_err()
            .field,
        "icmp.num_addrs"
    );
}

#[test]
fn samples_round_trip_and_dissect() {
    for s in samples() {
        let p = crate::frame::peel_ip(&s.packet).unwrap();
        let tree = s.decode().unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert!(!tree.fields().is_empty());
        if s.name.contains("Agent") {
            continue;
        }
        let r = Repr::parse(p.payload).unwrap();
        assert_eq!(reemit(&r), p.payload, "{}", s.name);
    }
}

fn ext_strategy() -> impl Strategy<Value = E<'static>> {
    let bytes = |n| {
        proptest::collection::vec(any::<u8>(), 0..n).prop_map(|v| &*Box::leak(v.into_boxed_slice()))
    };
    prop_oneof![
        (32u8..=34, any::<u32>(), bytes(20)).prop_map(|(kind, spi, authenticator)| E::Auth {
            kind,
            spi,
            authenticator
        }),
        (any::<u8>(), any::<u32>(), bytes(20)).prop_map(|(subtype, spi, authenticator)| {
            E::GeneralizedAuth {
                subtype,
                spi,
                authenticator,
            }
        }),
        (any::<u8>(), any::<u32>(), any::<u16>(), bytes(20)).prop_map(
            |(reserved, vendor_id, vendor_type, value)| E::Cvse {
                reserved,
                vendor_id,
                vendor_type,
                value
            }
        ),
        (prop_oneof![40u8..=43, Just(47)], any::<u8>(), bytes(20)).prop_map(
            |(kind, subtype, data)| E::LongForm {
                kind,
                subtype,
                data
            }
        ),
        bytes(40).prop_map(E::Nai),
        bytes(20).prop_map(E::Challenge),
        (any::<u16>(), any::<u32>(), any::<u16>(), bytes(20)).prop_map(
            |(reserved, vendor_id, vendor_type, value)| E::Nvse {
                reserved,
                vendor_id,
                vendor_type,
                value
            }
        ),
        (
            prop_oneof![0u8..=31, 44u8..=46, 48u8..=130, 135u8..=255],
            bytes(20)
        )
            .prop_map(|(kind, data)| E::Unknown { kind, data }),
    ]
}

proptest! {
    #[test]
    fn round_trip(req: bool, f: u8, code: u8, life: u16, a: [u8; 4], b: [u8; 4], c: [u8; 4], id: u64,
                  exts in proptest::collection::vec(ext_strategy(), 0..8)) {
        let message = if req {
            Message::Request { flags: f, lifetime: life, home_address: a, home_agent: b, care_of_address: c, identification: id }
        } else {
            Message::Reply { code, lifetime: life, home_address: a, home_agent: b, identification: id }
        };
        let r = Repr::new(message, exts);
        let bytes = reemit(&r);
        prop_assert_eq!(bytes.len(), r.buffer_len());
        let p = Repr::parse(&bytes).unwrap();
        prop_assert_eq!(p.message, r.message);
        prop_assert_eq!(p.extensions.iter().collect::<Vec<_>>(), r.extensions.iter().collect::<Vec<_>>());
        prop_assert_eq!(reemit(&p), bytes.clone());
        let _ = p.dissect();
    }

    #[test]
    fn arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(r) = Repr::parse(&b) {
            prop_assert_eq!(reemit(&r), b.clone());
            let _ = r.dissect();
        }
        if let Ok(a) = AgentAdvertisement::parse(&b) {
            let mut out = Vec::new();
            a.emit(&mut out).unwrap();
            prop_assert_eq!(out, b.clone());
            let _ = a.dissect();
        }
        let _ = authenticated_prefix(&b, 32);
    }
}
