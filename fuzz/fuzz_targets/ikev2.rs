#![no_main]
//! IKEv2: the outer message, the inner (decrypted SK) chain and the dissectors never panic,
//! and whatever parses re-emits byte for byte.
use libfuzzer_sys::fuzz_target;
use mobstrap_wire::ikev2::{self, Message, PayloadType, Plaintext};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::parse(data) {
        let mut out = Vec::with_capacity(data.len());
        m.emit(&mut out).expect("a parsed message emits");
        assert_eq!(out, data, "emit(parse(b)) == b");
        assert_eq!(m.buffer_len(), data.len());
    }
    let _ = ikev2::dissect(data);
    let _ = ikev2::dissect_null_encrypted(data);
    let _ = ikev2::dissect_udp4500(data);
    let _ = ikev2::encrypted_layout(data, 16, 16);
    // The first byte picks the inner chain's first payload type; the rest is the plaintext.
    if let Some((&first, rest)) = data.split_first() {
        if let Ok(p) = Plaintext::parse(PayloadType::from(first), rest) {
            let mut out = Vec::with_capacity(rest.len());
            let t = p.emit(&mut out).expect("a parsed plaintext emits");
            assert_eq!(out, rest, "inner chain is exact");
            if !p.payloads.is_empty() {
                assert_eq!(t, PayloadType::from(first));
            }
        }
    }
});
