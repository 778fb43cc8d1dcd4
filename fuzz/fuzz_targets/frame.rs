#![no_main]
//! Captured frames: peeling link, IP and transport headers never panics.
use libfuzzer_sys::fuzz_target;
use mobstrap_wire::frame;

fuzz_target!(|data: &[u8]| {
    if let Ok(ip) = frame::strip_link(frame::linktype::ETHERNET, data) {
        let _ = frame::peel_ip(ip);
    }
    let _ = frame::peel_ip(data);
});
