//! Property tests of the text forms: no input makes a parser panic, and what is formatted
//! parses back to the same value.

use mobstrap_store::*;
use proptest::prelude::*;

fn gateway() -> impl Strategy<Value = GatewaySelection> {
    prop_oneof![
        Just(GatewaySelection::Dynamic),
        any::<[u8; 4]>().prop_map(|a| GatewaySelection::Address(std::net::IpAddr::from(a))),
        any::<[u8; 16]>().prop_map(|a| GatewaySelection::Address(std::net::IpAddr::from(a))),
        "[a-z][a-z0-9-]{0,10}[a-z0-9](\\.[a-z][a-z0-9]{0,8}){0,3}".prop_map(GatewaySelection::Fqdn),
    ]
}

fn pdn() -> impl Strategy<Value = PdnType> {
    prop_oneof![
        Just(PdnType::Ipv4),
        Just(PdnType::Ipv6),
        Just(PdnType::Ipv4v6),
        Just(PdnType::Ipv4OrIpv6)
    ]
}

fn profile() -> impl Strategy<Value = ApnProfile> {
    (
        "[a-z][a-z0-9]{0,8}(\\.[a-z0-9]{1,6}){0,2}",
        gateway(),
        any::<bool>(),
        pdn(),
    )
        .prop_map(|(apn, gateway, visited_allowed, pdn_type)| ApnProfile {
            apn,
            gateway,
            visited_allowed,
            pdn_type,
        })
}

proptest! {
    #[test]
    fn apn_lists_round_trip(list in proptest::collection::vec(profile(), 0..6)) {
        let mut seen = std::collections::HashSet::new();
        let list: Vec<ApnProfile> = list.into_iter().filter(|p| seen.insert(p.apn.clone())).collect();
        let text = ApnProfile::format_list(&list);
        prop_assert_eq!(ApnProfile::parse_list("apns", &text).unwrap(), list);
    }

    #[test]
    fn parsers_never_panic(s in "\\PC{0,80}") {
        let _ = ApnProfile::parse_list("apns", &s);
        let _ = HostRef::parse("h", &s);
        let _ = Ipv6Prefix::parse("p", &s);
        let _ = GatewaySelection::parse("g", &s);
        let _ = AccessType::parse_list("a", &s);
        let _ = PermanentIdentity::parse(&s);
        let _ = Imsi::new(&s);
        let _ = Key128::from_hex("k", &s);
        let _ = Amf::from_hex(&s);
        let _ = mobstrap_store::csv::parse_sqn(&s);
    }

    #[test]
    fn csv_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut input = b"imsi,k,opc,apns,sqn,mnc_len,access_types\n".to_vec();
        input.extend_from_slice(&body);
        let _ = mobstrap_store::csv::parse(input.as_slice());
        let _ = mobstrap_store::csv::parse(body.as_slice());
    }

    #[test]
    fn csv_rows_from_fields(imsi in "[0-9]{6,15}", mnc in 2u8..4, apns in proptest::collection::vec(profile(), 0..3)) {
        let mut seen = std::collections::HashSet::new();
        let apns: Vec<ApnProfile> = apns.into_iter().filter(|p| seen.insert(p.apn.clone())).collect();
        let text = format!(
            "imsi,k,opc,mnc_len,apns\n{imsi},00112233445566778899aabbccddeeff,ffeeddccbbaa99887766554433221100,{mnc},{}\n",
            ApnProfile::format_list(&apns)
        );
        match mobstrap_store::csv::parse(text.as_bytes()) {
            Ok(rows) => {
                prop_assert_eq!(rows.len(), 1);
                prop_assert_eq!(&rows[0].subscriber.profile.apns, &apns);
            }
            // Only a too-short IMSI for a 3-digit MNC may fail.
            Err(e) => prop_assert!(imsi.len() < 7 && e.0[0].column.as_deref() == Some("imsi"), "{}", e),
        }
    }
}
