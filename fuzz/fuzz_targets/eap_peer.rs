#![no_main]
//! The EAP peer (EAP framing + EAP-AKA/AKA' with a Milenage USIM) fed arbitrary Requests,
//! Success and Failure packets: it must never panic and never report a success.
//!
//! Input: one flags byte (configuration), then chunks `ctl len bytes…`; `ctl` bit 0 makes the
//! chunk a Request, bit 1 fixes Length, bit 2 makes it an EAP-AKA' one, so that the fuzzer
//! reaches the method.
use libfuzzer_sys::fuzz_target;
use mobstrap_proto::eap::{AkaEapPeer, AkaPeerConfig, Method, PeerEvent, SqnPolicy, Usim};
use rand::rngs::StdRng;
use rand::SeedableRng;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let mut cfg = AkaPeerConfig::new("001010000000001", Some("example.org"));
    cfg.result_ind = flags & 1 != 0;
    if flags & 2 != 0 {
        cfg.methods = vec![Method::Aka];
    }
    let policy = if flags & 4 != 0 {
        SqnPolicy::IndArray {
            ind_bits: 5,
            delta: Some(1 << 20),
            max_age: Some(32),
        }
    } else {
        SqnPolicy::Simple { delta: None }
    };
    let mut peer = AkaEapPeer::aka(cfg, Usim::new(&[0x11; 16], &[0x22; 16], 0, policy));
    let mut rng = StdRng::seed_from_u64(u64::from(flags));
    if flags & 8 != 0 {
        let _ = peer.begin_with_external_identity();
    }
    while let Some((&ctl, tail)) = rest.split_first() {
        let Some((&len, tail)) = tail.split_first() else {
            break;
        };
        let n = usize::from(len).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        rest = next;
        let mut p = chunk.to_vec();
        if p.len() >= 5 {
            if ctl & 1 != 0 {
                p[0] = 1;
                p[4] = if ctl & 4 != 0 { 50 } else { 23 };
            }
            if ctl & 2 != 0 {
                let l = p.len() as u16;
                p[2..4].copy_from_slice(&l.to_be_bytes());
            }
        }
        let _ = peer.handle_request(&p, &mut rng);
        let _ = peer.poll_transmit();
        while let Some(e) = peer.poll_event() {
            assert!(!matches!(e, PeerEvent::Success(_)), "garbage authenticated");
        }
    }
});
