#![no_main]
//! Diameter: parse, walk every AVP (nested included) with every typed getter, dissect, and
//! the exactness property `emit(parse(b)) == b` for both the view and the owned Repr.
use libfuzzer_sys::fuzz_target;
use mobstrap_wire::diameter::{self, Avps, Message, MessageRepr};

fuzz_target!(|data: &[u8]| {
    let _ = diameter::dissect(data);
    let _ = diameter::Packet::new_checked(data);
    match Message::check(data) {
        Ok(m) => {
            let mut out = Vec::new();
            m.emit(&mut out).expect("a parsed message re-emits");
            assert_eq!(out, data, "Message: emit(parse(b)) != b");
            let mut n = 0usize;
            diameter::walk(m.avps(), &mut |_, a| {
                n += 1;
                let _ = (a.u32(), a.u64(), a.i32(), a.f64(), a.time(), a.utf8(), a.address(), a.name());
            });
            let r = MessageRepr::parse(data).expect("a valid Message converts to a MessageRepr");
            assert_eq!(r.to_vec().expect("emit"), data, "MessageRepr: emit(parse(b)) != b");
            assert_eq!(r.buffer_len(), data.len());
            let _ = (m.session_id(), m.result_code(), m.experimental_result(), n);
        }
        Err(f) => {
            if let Some(a) = f.avp {
                assert!(a.bytes.len() <= data.len());
            }
        }
    }
    // Bare AVP sequences (what a Grouped AVP holds).
    if let Ok(avps) = Avps::parse(data) {
        let mut out = Vec::new();
        for a in avps {
            out.extend_from_slice(a.raw());
            if let Ok(g) = a.grouped() {
                for x in g {
                    let _ = x.utf8();
                }
            }
        }
        assert_eq!(out, data, "Avps: raw AVPs do not cover the input");
    }
});
