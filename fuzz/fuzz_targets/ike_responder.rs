#![no_main]
//! The IKEv2 responder dispatcher never panics on any datagram sequence. The input drives a
//! conversation between a real PSK initiator and the responder: each step delivers the
//! initiator's next datagram as is or with a byte flipped, injects arbitrary bytes on the
//! IKE or NAT-T port (also as if from the initiator's address, so they reach its SA), or
//! advances the clock. Deterministic: every RNG is seeded.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mobstrap_proto::ikev2::{Config, Dispatcher, DispatcherConfig, IkeSa, Identity};
use rand::rngs::StdRng;
use rand::SeedableRng;

fuzz_target!(|data: &[u8]| {
    let now0 = Instant::now();
    let mut now = now0;
    let i_addr: SocketAddr = "10.0.0.1:500".parse().unwrap();
    let r_addr: SocketAddr = "10.0.0.2:500".parse().unwrap();
    let r_natt: SocketAddr = "10.0.0.2:4500".parse().unwrap();
    let mut ic = Config::new(Identity::fqdn("i")).with_psk(None, b"fuzz");
    ic.fragment_mtu = 576;
    let rc = Config::new(Identity::fqdn("r")).with_psk(None, b"fuzz");
    let dconf = DispatcherConfig {
        cookie_threshold: 2,
        ..DispatcherConfig::default()
    };
    let mut resp = Dispatcher::new(Arc::new(rc), dconf, Box::new(StdRng::seed_from_u64(1)));
    let Ok(mut init) = IkeSa::initiate(
        Arc::new(ic),
        Box::new(StdRng::seed_from_u64(2)),
        None,
        i_addr,
        r_addr,
        now,
    ) else {
        return;
    };
    let mut to_r: Vec<(SocketAddr, SocketAddr, Vec<u8>)> = Vec::new();
    let mut to_i: Vec<(SocketAddr, SocketAddr, Vec<u8>)> = Vec::new();
    let mut i = 0usize;
    let mut steps = 0;
    while i < data.len() && steps < 64 {
        steps += 1;
        while let Some(t) = init.poll_transmit() {
            to_r.push((t.remote, t.local, t.data));
        }
        while let Some(t) = resp.poll_transmit() {
            to_i.push((t.remote, t.local, t.data));
        }
        while resp.poll_event().is_some() {}
        while init.poll_event().is_some() {}
        let op = data[i];
        i += 1;
        let arg = |i: &mut usize| -> usize {
            let v = data.get(*i..*i + 2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]) as usize);
            *i += 2;
            v
        };
        match op % 6 {
            0 => {
                if !to_r.is_empty() {
                    let (l, r, d) = to_r.remove(0);
                    resp.handle_datagram(now, l, r, &d);
                }
            }
            1 => {
                let pos = arg(&mut i);
                if !to_r.is_empty() {
                    let (l, r, mut d) = to_r.remove(0);
                    if !d.is_empty() {
                        let p = pos % d.len();
                        d[p] ^= 1 << (pos % 8);
                    }
                    resp.handle_datagram(now, l, r, &d);
                }
            }
            2 | 3 => {
                let n = arg(&mut i).min(data.len().saturating_sub(i));
                let bytes = data.get(i..i + n).unwrap_or(&[]);
                i += n;
                let local = if op % 6 == 2 { r_addr } else { r_natt };
                resp.handle_datagram(now, local, i_addr, bytes);
            }
            4 => {
                now += Duration::from_secs(u64::from(op / 6) + 1);
                init.handle_timeout(now);
                resp.handle_timeout(now);
            }
            _ => {
                if !to_i.is_empty() {
                    let (l, r, d) = to_i.remove(0);
                    init.handle_datagram(now, l, r, &d);
                }
            }
        }
        let _ = resp.poll_timeout();
    }
});
