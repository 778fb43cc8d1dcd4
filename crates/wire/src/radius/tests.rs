use super::*;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn load(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn round_trip(b: &[u8]) -> Repr<'_> {
    let r = Repr::parse(b).unwrap();
    let mut out = Vec::new();
    r.emit(&mut out).unwrap();
    assert_eq!(out, b, "re-emit differs");
    assert_eq!(r.buffer_len(), b.len());
    r
}

/// Every packet of the three vector files parses into the attributes the file lists and
/// re-emits byte for byte.
#[test]
fn published_vectors_parse_and_re_emit_exactly() {
    let mut n = 0;
    for file in [
        "radius_rfc2865_examples.json",
        "radius_rfc5997_status_server.json",
        "radius_scapy_captures.json",
    ] {
        let v = load(file);
        for x in v["vectors"].as_array().unwrap() {
            let b = hex(x["hex"].as_str().unwrap());
            let r = round_trip(&b);
            let name = x["name"].as_str().unwrap();
            assert_eq!(r.code.value() as u64, x["code"].as_u64().unwrap(), "{name}");
            assert_eq!(
                r.identifier as u64,
                x["identifier"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(
                hex(x["authenticator"].as_str().unwrap()),
                r.authenticator,
                "{name}"
            );
            assert_eq!(
                Code::from(r.code.value()).name(),
                x["code_name"].as_str(),
                "{name}"
            );
            let attrs = x["attributes"].as_array().unwrap();
            assert_eq!(r.attributes.len(), attrs.len(), "{name}");
            for (a, want) in r.attributes.iter().zip(attrs) {
                assert_eq!(
                    a.typ.value() as u64,
                    want["type"].as_u64().unwrap(),
                    "{name}"
                );
                assert_eq!(a.typ.name(), want["name"].as_str(), "{name}");
                assert_eq!(
                    a.buffer_len() as u64,
                    want["length"].as_u64().unwrap(),
                    "{name}"
                );
                let mut raw = Vec::new();
                a.emit(&mut raw).unwrap();
                assert_eq!(
                    raw[2..],
                    hex(want["value_hex"].as_str().unwrap())[..],
                    "{name}"
                );
                match (&a.value, &want["value"]) {
                    (Value::Integer(i), serde_json::Value::Number(w)) => {
                        assert_eq!(*i as u64, w.as_u64().unwrap())
                    }
                    (Value::Ipv4(ip), serde_json::Value::String(w)) => {
                        assert_eq!(&ip.to_string(), w)
                    }
                    (Value::Octets(o), serde_json::Value::String(w)) => {
                        assert_eq!(*o, w.as_bytes())
                    }
                    (Value::Vendor(vsa), _) => {
                        assert_eq!(vsa.vendor_id as u64, want["vendor_id"].as_u64().unwrap());
                        let sub = vsa
                            .sub(want["vendor_type"].as_u64().unwrap() as u8)
                            .unwrap();
                        assert_eq!(
                            sub.value.len() as u64 + 2,
                            want["vendor_length"].as_u64().unwrap()
                        );
                        if let Some(t) = want["vendor_value"].as_str() {
                            assert_eq!(sub.value, t.as_bytes());
                        }
                    }
                    (_, serde_json::Value::Null) => {}
                    (v, w) => panic!("{name}: {v:?} vs {w}"),
                }
            }
            dissect(&b).unwrap();
            n += 1;
        }
    }
    assert_eq!(n, 15);
}

#[test]
fn message_authenticator_offset_and_eap() {
    // RFC 5997 §6.1: the Message-Authenticator value right after the header.
    let b = hex("0cda00268a54f4686fb394c52866e302185d062350125a665e2e1e8411f3e243822097c84fa3");
    assert_eq!(message_authenticator_offset(&b).unwrap(), Some(22));
    let p = Packet::new_checked(&b[..]).unwrap();
    assert_eq!(p.code(), Code::StatusServer);
    assert_eq!(p.authenticator()[..], b[4..20]);
    assert_eq!(p.eap_message().unwrap(), None);
    // scapy LEAP request: the EAP-Response/Identity inside, borrowed.
    let v = load("radius_scapy_captures.json");
    let b = hex(v["vectors"][0]["hex"].as_str().unwrap());
    let r = Repr::parse(&b).unwrap();
    let eap = r.eap_message().unwrap();
    assert!(matches!(eap, Cow::Borrowed(_)));
    assert_eq!(&eap[..], &hex("02010009016c656170")[..]);
    assert_eq!(
        Packet::new_checked(&b[..])
            .unwrap()
            .eap_message()
            .unwrap()
            .unwrap(),
        eap
    );
    // Its Message-Authenticator: after 20 + 6 + 6 + 27 + 6 + 19 + 19 + 11 bytes, + 2.
    assert_eq!(message_authenticator_offset(&b).unwrap(), Some(116));
    assert_eq!(b[116..132], hex("55bc12cd4d00f8db34f11872ca5f8cf6")[..]);
    // A Message-Authenticator of the wrong size is an error for the offset finder.
    let bad = hex("0c01 0017 00000000000000000000000000000000 5003 00");
    assert_eq!(
        message_authenticator_offset(&bad).unwrap_err().field,
        "Message-Authenticator.Length"
    );
}

#[test]
fn eap_message_split_and_join() {
    let eap: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
    let mut r = Repr::new(Code::AccessRequest, 7, [1; 16]);
    r.attributes
        .push(Attribute::octets(AttrType::UserName, b"u"));
    r.push_eap_message(&eap);
    r.push_message_authenticator();
    let lens: Vec<usize> = r
        .attributes
        .iter()
        .filter(|a| a.typ == AttrType::EapMessage)
        .map(Attribute::value_len)
        .collect();
    assert_eq!(lens, vec![253, 253, 94]);
    let mut out = Vec::new();
    r.emit(&mut out).unwrap();
    let back = round_trip(&out);
    assert_eq!(&back.eap_message().unwrap()[..], &eap[..]);
    assert!(matches!(back.eap_message().unwrap(), Cow::Owned(_)));
    let at = message_authenticator_offset(&out).unwrap().unwrap();
    assert_eq!(at, out.len() - 16);
    assert_eq!(out[at - 2..at], [80, 18]);
    // Exactly 253 bytes: one attribute; EAP-Start: one empty attribute.
    let mut r = Repr::new(Code::AccessRequest, 7, [1; 16]);
    r.push_eap_message(&eap[..253]);
    assert_eq!(r.attributes.len(), 1);
    let mut r = Repr::new(Code::AccessRequest, 7, [1; 16]);
    r.push_eap_message(&[]);
    assert_eq!(
        r.attributes,
        vec![Attribute::octets(AttrType::EapMessage, &[])]
    );
    assert_eq!(r.eap_message().unwrap().len(), 0);
}

#[test]
fn errors_name_the_field() {
    let e = Repr::parse(&[1, 0, 0]).unwrap_err();
    assert_eq!((e.field, e.kind), ("header", ErrorKind::Truncated));
    let mut b = vec![1, 0, 0, 19];
    b.extend([0; 16]);
    assert_eq!(Repr::parse(&b).unwrap_err().field, "Length");
    b[3] = 20;
    b.push(0);
    assert_eq!(Repr::parse(&b).unwrap_err().kind, ErrorKind::TrailingBytes);
    // The view accepts and trims the padding after Length.
    assert_eq!(Packet::new_checked(&b[..]).unwrap().message().len(), 20);
    let b = hex("01000016 00000000000000000000000000000000 0101");
    assert_eq!(Repr::parse(&b).unwrap_err().field, "Attribute.Length");
    assert_eq!(Repr::parse(&b).unwrap_err().kind, ErrorKind::BadLength);
    let b = hex("01000016 00000000000000000000000000000000 0105");
    assert_eq!(Repr::parse(&b).unwrap_err().kind, ErrorKind::Truncated);
    let b = hex("01000015 00000000000000000000000000000000 01");
    assert_eq!(Repr::parse(&b).unwrap_err().field, "Attribute.Length");
    // Emit: values longer than 253 bytes.
    let long = [0u8; 254];
    let mut r = Repr::new(Code::AccessRequest, 0, [0; 16]);
    r.attributes.push(Attribute::octets(AttrType::State, &long));
    let e = r.emit(&mut Vec::new()).unwrap_err();
    assert_eq!((e.field, e.kind), ("Attribute.Length", ErrorKind::TooLong));
    let r = Repr {
        code: Code::AccessRequest,
        identifier: 0,
        authenticator: [0; 16],
        attributes: vec![Attribute {
            typ: AttrType::State,
            value: Value::Vendor(Vsa::new(1, vec![])),
        }],
    };
    assert_eq!(r.emit(&mut Vec::new()).unwrap_err().field, "Attribute.Type");
}

#[test]
fn typed_values_and_odd_lengths() {
    // A 3-byte NAS-Port and a 5-byte NAS-IP-Address are kept as octets, exactly.
    let b = hex("04000020 00000000000000000000000000000000 0505 000003 0407 c0000201ff");
    let r = round_trip(&b);
    assert_eq!(r.attributes[0].value, Value::Octets(&[0, 0, 3]));
    assert_eq!(r.attributes[1].value, Value::Octets(&[192, 0, 2, 1, 255]));
    // Integer, IPv4, IPv6, unknown attribute 250, zero-length value.
    let b = hex("0b00003e 00000000000000000000000000000000
                 1b06 00000e10 0806 c6336414 5f12 20010db8000000000000000000000001 fa04 abcd 6602
                 0c06 000005dc");
    let r = round_trip(&b);
    assert_eq!(r.attributes[0].as_u32(), Some(3600));
    assert_eq!(
        r.attributes[1].value,
        Value::Ipv4(Ipv4Addr::new(198, 51, 100, 20))
    );
    assert_eq!(
        r.attributes[2].value,
        Value::Ipv6("2001:db8::1".parse().unwrap())
    );
    assert_eq!(r.attributes[3].typ, AttrType::Unknown(250));
    assert_eq!(r.attributes[3].as_bytes(), Some(&[0xab, 0xcd][..]));
    assert_eq!(r.attributes[4].as_bytes(), Some(&[][..]));
    assert_eq!(
        r.attribute(AttrType::FramedMtu).unwrap().as_u32(),
        Some(1500)
    );
}

#[test]
fn vendor_specific_and_mppe() {
    // MS-MPPE-Send-Key and MS-MPPE-Recv-Key in one VSA; a raw VSA; a too-short one.
    let send = hex("8001 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    let mut v = Vec::new();
    let vsa = Vsa::new(
        VENDOR_MICROSOFT,
        vec![
            VendorAttr {
                vendor_type: 16,
                value: &send,
            },
            VendorAttr {
                vendor_type: 17,
                value: &send,
            },
        ],
    );
    let mut r = Repr::new(Code::AccessAccept, 9, [0; 16]);
    r.attributes.push(Attribute::vendor(vsa.clone()));
    r.attributes
        .push(Attribute::octets(AttrType::VendorSpecific, &[0, 0, 0]));
    r.attributes.push(Attribute::vendor(Vsa {
        vendor_id: 10415,
        data: VsaData::Raw(&[1]),
    }));
    r.emit(&mut v).unwrap();
    assert_eq!(v[20..28], hex("1a 4e 00000137 10 24")[..]);
    let back = round_trip(&v);
    assert_eq!(back.attributes[0].value, Value::Vendor(vsa));
    assert_eq!(back.attributes[1].value, Value::Octets(&[0, 0, 0]));
    assert_eq!(
        back.attributes[2].value,
        Value::Vendor(Vsa {
            vendor_id: 10415,
            data: VsaData::Raw(&[1])
        })
    );
    let Value::Vendor(vsa) = &back.attributes[0].value else {
        panic!()
    };
    let k = MppeKey::parse(vsa.sub(17).unwrap().value).unwrap();
    assert_eq!(k.salt, [0x80, 0x01]);
    assert_eq!(k.encrypted.len(), 32);
    assert!(MppeKey::parse(&[1]).is_err());
    let f = dissect(&v).unwrap();
    assert!(f.fields().contains(&("radius.avp.vendor_id", "311")));
    assert!(f
        .fields()
        .iter()
        .any(|(k, _)| *k == "radius.MS_MPPE_Recv_Key"));
}

#[test]
fn codes_and_views() {
    assert!(Code::AccountingRequest.has_computed_request_authenticator());
    assert!(!Code::AccessRequest.has_computed_request_authenticator());
    assert!(Code::CoaNak.is_response() && !Code::StatusServer.is_response());
    assert_eq!(Code::from(45).to_string(), "CoA-NAK");
    let mut b = hex("0500 0014 00000000000000000000000000000000");
    let mut p = Packet::new_checked(&mut b[..]).unwrap();
    p.set_authenticator(&[7; 16]);
    assert_eq!(b[4..20], [7; 16]);
}

#[test]
fn every_radius_sample_is_exact_and_covers_every_code() {
    let mut codes = std::collections::BTreeSet::new();
    for s in samples_with_request_authenticators().iter().map(|(s, _)| s) {
        let p = crate::frame::peel_ip(&s.packet).unwrap();
        let r = round_trip(p.payload);
        codes.insert(r.code.value());
        s.decode().unwrap();
    }
    assert_eq!(
        codes.into_iter().collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 11, 12, 13, 40, 41, 42, 43, 44, 45]
    );
}

// --- property tests ---

fn value_strategy() -> impl Strategy<Value = (u8, u8, Vec<u8>, u32)> {
    (
        any::<u8>(),
        0u8..5,
        proptest::collection::vec(any::<u8>(), 0..60),
        any::<u32>(),
    )
}

proptest! {
    #[test]
    fn reprs_round_trip(code in any::<u8>(), id in any::<u8>(), auth in any::<[u8; 16]>(),
                        items in proptest::collection::vec(value_strategy(), 0..12)) {
        let attributes: Vec<Attribute<'_>> = items
            .iter()
            .map(|(t, k, v, n)| match k {
                0 => Attribute::integer(AttrType::from(*n as u8 % 5 + 5), *n),
                1 => Attribute::ipv4(AttrType::FramedIpAddress, Ipv4Addr::from(*n)),
                2 => Attribute::vendor(Vsa::new(*n, vec![VendorAttr { vendor_type: *t, value: v }])),
                3 => Attribute::octets(AttrType::from(*t), v),
                _ => Attribute::ipv6(AttrType::NasIpv6Address, Ipv6Addr::from([*t; 16])),
            })
            .collect();
        let r = Repr { code: Code::from(code), identifier: id, authenticator: auth, attributes };
        let mut out = Vec::new();
        r.emit(&mut out).unwrap();
        prop_assert_eq!(out.len(), r.buffer_len());
        let back = Repr::parse(&out).unwrap();
        let mut again = Vec::new();
        back.emit(&mut again).unwrap();
        prop_assert_eq!(&again, &out);
        // Octets of a typed attribute with a fitting length come back typed; compare bytes.
        prop_assert_eq!(Repr::parse(&again).unwrap(), back);
    }

    #[test]
    fn arbitrary_bytes(mut b in proptest::collection::vec(any::<u8>(), 0..200)) {
        if b.len() >= 20 {
            let n = b.len() as u16;
            b[2..4].copy_from_slice(&n.to_be_bytes());
        }
        if let Ok(r) = Repr::parse(&b) {
            let mut out = Vec::new();
            r.emit(&mut out).unwrap();
            prop_assert_eq!(&out, &b);
            dissect(&b).unwrap();
        }
        let _ = message_authenticator_offset(&b);
        if let Ok(p) = Packet::new_checked(&b[..]) {
            let _ = p.eap_message();
            let _ = p.attributes().count();
        }
    }
}

/// Real traffic from hostapd's EAP-AKA/AKA' server and eapol_test (see the JSON's
/// `source`): every RADIUS packet and the EAP packet inside re-emit byte for byte, and every
/// EAP-AKA/AKA' attribute hostapd and wpa_supplicant send is a known one.
#[test]
fn hostapd_eap_aka_capture() {
    use crate::eap::{self, aka, Body, Data};
    let v = load("radius_hostapd_eap_aka.json");
    let mut seen_subtypes = std::collections::BTreeSet::new();
    let mut seen_attrs = std::collections::BTreeSet::new();
    let mut n = 0;
    for run in v["runs"].as_array().unwrap() {
        for h in run["packets"].as_array().unwrap() {
            let b = hex(h.as_str().unwrap());
            let r = round_trip(&b);
            dissect(&b).unwrap();
            assert!(r.attribute(AttrType::MessageAuthenticator).is_some());
            let e = r.eap_message().unwrap();
            let er = eap::Repr::parse(&e).unwrap();
            let mut out = Vec::new();
            er.emit(&mut out).unwrap();
            assert_eq!(&out[..], &e[..]);
            if let Body::Request(Data::Aka(m) | Data::AkaPrime(m))
            | Body::Response(Data::Aka(m) | Data::AkaPrime(m)) = &er.body
            {
                seen_subtypes.insert(m.subtype.value());
                for a in &m.attributes {
                    assert!(
                        !matches!(a, aka::Attribute::Unknown { .. }),
                        "unknown attribute {a:?}"
                    );
                    seen_attrs.insert(a.type_code());
                }
                if m.subtype == aka::Subtype::Challenge {
                    assert!(aka::mac_offset(&e).unwrap().is_some());
                }
            }
            if r.code == Code::AccessAccept {
                // hostapd sends each key in its own Vendor-Specific attribute.
                let key = |t: u8| {
                    r.attributes
                        .iter()
                        .find_map(|a| match &a.value {
                            Value::Vendor(v) if v.vendor_id == VENDOR_MICROSOFT => {
                                v.sub(t).map(|s| s.value)
                            }
                            _ => None,
                        })
                        .unwrap()
                };
                assert_eq!(MppeKey::parse(key(16)).unwrap().encrypted.len(), 48);
                assert_eq!(MppeKey::parse(key(17)).unwrap().encrypted.len(), 48);
            }
            n += 1;
        }
    }
    assert_eq!(n, 18);
    // Challenge, Authentication-Reject (the wrong-Ki run), Identity.
    assert_eq!(seen_subtypes.into_iter().collect::<Vec<_>>(), vec![1, 2, 5]);
    // AT_RAND, AT_AUTN, AT_RES, AT_MAC, AT_IDENTITY, AT_KDF_INPUT, AT_KDF, AT_CHECKCODE and
    // AT_RESULT_IND among them.
    for t in [1, 2, 3, 11, 14, 23, 24, 134, 135] {
        assert!(
            seen_attrs.contains(&t),
            "hostapd capture has no attribute {t}: {seen_attrs:?}"
        );
    }
}
