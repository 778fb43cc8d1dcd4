#![no_main]
//! ESP: header and trailer parsing and the dissectors never panic; parses are exact.
use libfuzzer_sys::fuzz_target;
use mobstrap_wire::esp::{self, Esp, Trailer};

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = Esp::parse(data) {
        let mut out = Vec::with_capacity(data.len());
        e.emit(&mut out).expect("a parsed packet emits");
        assert_eq!(out, data);
    }
    if let Ok(t) = Trailer::parse(data) {
        let mut out = Vec::with_capacity(data.len());
        t.emit(&mut out).expect("a parsed trailer emits");
        assert_eq!(out, data);
        let _ = t.padding_is_default();
    }
    let _ = esp::dissect(data);
    let _ = esp::dissect_null(data);
});
