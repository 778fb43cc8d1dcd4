#![no_main]
//! RADIUS: parse never panics, whatever parses re-emits byte for byte and dissects (the
//! EAP inside included); the zero-copy view and the locators never panic.
use libfuzzer_sys::fuzz_target;
use mobstrap_wire::radius;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = radius::Repr::parse(data) {
        let mut out = Vec::new();
        r.emit(&mut out).expect("a parsed packet emits");
        assert_eq!(out, data);
        assert_eq!(r.buffer_len(), data.len());
        radius::dissect(data).expect("a parsed packet dissects");
        let joined = r.eap_message();
        let view = radius::Packet::new_checked(data).expect("a parsed packet has a view");
        let viewed = view.eap_message().expect("a parsed packet's attributes walk");
        assert_eq!(joined, viewed);
    }
    if let Ok(p) = radius::Packet::new_checked(data) {
        let _ = p.attributes().count();
        let _ = p.eap_message();
        if let Ok(Some(at)) = p.message_authenticator_offset() {
            assert!(at + 16 <= data.len());
        }
    }
});
