#![no_main]
//! ICMPv6 (DHAAD, Mobile Prefix): parse and dissect never panic; re-emit is exact.
use libfuzzer_sys::fuzz_target;
use mobstrap_wire::icmpv6;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = icmpv6::Repr::parse(data) {
        let mut out = Vec::new();
        r.emit(&mut out).expect("a parsed message re-emits");
        assert_eq!(out, data, "emit(parse(b)) == b");
        assert_eq!(r.buffer_len(), data.len());
        let _ = r.dissect();
        let _ = icmpv6::verify_checksum(data, &[1; 16], &[2; 16]);
    }
});
