#![no_main]
//! Mobile IPv4 registration messages and agent advertisements: parse and dissect never panic;
//! re-emit is exact.
use libfuzzer_sys::fuzz_target;
use mobstrap_wire::mip4;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = mip4::Repr::parse(data) {
        let mut out = Vec::new();
        r.emit(&mut out).expect("a parsed message re-emits");
        assert_eq!(out, data, "emit(parse(b)) == b");
        assert_eq!(r.buffer_len(), data.len());
        let _ = r.dissect();
        let _ = r.dual_stack().count();
    }
    for kind in [32, 33, 34, 36] {
        if let Some(p) = mip4::authenticated_prefix(data, kind) {
            assert!(p.len() <= data.len());
        }
    }
    if let Ok(a) = mip4::agent::AgentAdvertisement::parse(data) {
        let mut out = Vec::new();
        a.emit(&mut out).expect("re-emit");
        assert_eq!(out, data);
        let _ = a.dissect();
    }
});
