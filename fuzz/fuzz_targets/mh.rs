#![no_main]
//! Mobility Header: parse, dissect and the RFC 5844 UDP layout never panic; whatever parses
//! re-emits byte for byte.
use libfuzzer_sys::fuzz_target;
use mobstrap_wire::mh;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = mh::Repr::parse(data) {
        let mut out = Vec::new();
        r.emit(&mut out).expect("a parsed message re-emits");
        assert_eq!(out, data, "emit(parse(b)) == b");
        let _ = r.dissect();
        for o in r.options.iter() {
            let _ = o.dissect();
        }
        let _ = r.emit_with_checksum(&[1; 16], &[2; 16], &mut Vec::new());
    }
    if let Ok(t) = mh::udp::Ipv4Transport::parse(data) {
        let mut out = Vec::new();
        t.emit(&mut out).expect("re-emit");
        assert_eq!(out, data);
    }
    let _ = mh::udp::DataPacket::parse(data);
    if let Ok(loc) = mh::ip6::locate(data) {
        let _ = mh::verify_checksum(loc.mh, &loc.src, &loc.dst);
        let _ = mh::dissect(loc.mh);
    }
    let _ = mh::options::MobOption::parse(data);
});
