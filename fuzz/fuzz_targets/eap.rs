#![no_main]
//! EAP (with EAP-AKA/AKA' attributes and ERP): parse never panics, whatever parses
//! re-emits byte for byte, and dissect succeeds on it. Also the attribute parser alone (the
//! decrypted AT_ENCR_DATA path), ERP type data alone, and the MAC/tag locators.
use libfuzzer_sys::fuzz_target;
use mobstrap_wire::eap::{self, aka, erp, Code};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = eap::Repr::parse(data) {
        let mut out = Vec::new();
        r.emit(&mut out).expect("a parsed packet emits");
        assert_eq!(out, data);
        assert_eq!(r.buffer_len(), data.len());
        eap::dissect(data).expect("a parsed packet dissects");
    }
    if let Ok(attrs) = aka::parse_attributes(data) {
        let mut out = Vec::new();
        aka::emit_attributes(&attrs, &mut out).expect("parsed attributes emit");
        assert_eq!(out, data);
        for a in &attrs {
            let _ = aka::dissect_attribute(a);
        }
    }
    if let Some((&c, rest)) = data.split_first() {
        let code = if c & 1 == 0 { Code::Initiate } else { Code::Finish };
        if let Ok(m) = erp::Message::parse(code, rest) {
            let mut out = Vec::new();
            m.emit(code, &mut out).expect("parsed ERP data emits");
            assert_eq!(out, rest);
        }
    }
    if let Ok(Some(at)) = aka::mac_offset(data) {
        assert!(at + 16 <= data.len());
        let mut v = Vec::new();
        aka::mac_input(data, &mut v).expect("mac input");
    }
    if let Ok(r) = erp::tag_range(data) {
        assert!(r.start <= r.end && r.end <= data.len());
    }
});
