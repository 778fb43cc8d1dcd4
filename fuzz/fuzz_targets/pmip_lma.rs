#![no_main]
//! The PMIPv6 LMA (with its roaming relay) and MAG engines never panic on any input. Each
//! 1-byte opcode picks: arbitrary bytes as a Mobility Header from a MAG or a home gateway, a
//! valid PBU built from fuzz bytes (flags, lifetime, options present or not, timestamps near
//! or far), an answer to a pending authorisation (allocation or status), or a clock step.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use mobstrap_proto::pmip::lma::{Allocation, Lma, LmaConfig, LmaEvent};
use mobstrap_proto::pmip::mag::{Mag, MagConfig};
use mobstrap_proto::pmip::{build_pbu, Clock, Pbu};

fuzz_target!(|data: &[u8]| {
    let now0 = Instant::now();
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut now = now0;
    let clock = Clock::new(now0, wall);
    let mut lma = Lma::new(
        LmaConfig {
            relay: Some(MagConfig::default()),
            max_bindings: 64,
            ..LmaConfig::default()
        },
        now,
        wall,
        1,
    );
    let mut mag = Mag::new(MagConfig::default(), now, wall, 2);
    let mags = [
        SocketAddr::from(([10, 0, 0, 1], 40000)),
        SocketAddr::from(([10, 0, 0, 2], 40000)),
        SocketAddr::from(([10, 0, 0, 9], 5436)),
    ];
    let mut pending = Vec::new();
    let mut it = data.chunks(24);
    while let Some(c) = it.next() {
        let op = c[0];
        let rest = &c[1..];
        let peer = mags[(op as usize >> 4) % mags.len()];
        match op & 7 {
            0 | 1 => {
                let _ = lma.handle(peer, rest, now);
            }
            2 => {
                let _ = mag.handle(peer, rest, now);
            }
            3 | 4 => {
                let b = |i: usize| rest.get(i).copied().unwrap_or(0);
                let ts = clock.timestamp(now) as i64 + (b(5) as i8 as i64) * 4096;
                let p = Pbu {
                    seq: u16::from_be_bytes([b(0), b(1)]),
                    flags: u16::from_be_bytes([b(2), b(3)]),
                    lifetime: b(4) as u32 * 4,
                    nai: (b(6) & 1 != 0).then(|| format!("u{}@x", b(7) % 4)),
                    apn: (b(6) & 2 != 0).then(|| "internet".into()),
                    hnp: (b(6) & 4 != 0).then(|| (Ipv6Addr::new(0x2001, 0xdb8, 0, b(8) as u16 % 3, 0, 0, 0, 0), b(9) % 2 * 64)),
                    v4_request: (b(6) & 8 != 0).then(|| (Ipv4Addr::new(0, 0, 0, b(10) % 3), 0)),
                    hi: (b(6) & 16 != 0).then_some(b(11) % 6),
                    att: (b(6) & 32 != 0).then_some(4),
                    timestamp: (b(6) & 64 != 0).then_some(ts.max(0) as u64),
                    home_gw: (b(6) & 128 != 0).then_some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9))),
                    multiple_v4: false,
                };
                let _ = lma.handle(peer, &build_pbu(&p), now);
            }
            5 => {
                if let Some(id) = pending.pop() {
                    let r = if rest.first().copied().unwrap_or(0) & 1 == 0 {
                        Ok(Allocation {
                            hnp: Some(("2001:db8:5::".parse().unwrap(), 64)),
                            v4: Some((Ipv4Addr::new(10, 1, 0, 1), 16)),
                            v4_router: None,
                        })
                    } else {
                        Err(rest.get(1).copied().unwrap_or(130))
                    };
                    lma.complete(id, r, now);
                }
            }
            _ => {
                now += Duration::from_millis(u16::from_be_bytes([
                    rest.first().copied().unwrap_or(0),
                    rest.get(1).copied().unwrap_or(0),
                ]) as u64 * 50);
                lma.handle_timeout(now);
                mag.handle_timeout(now);
            }
        }
        while let Some(e) = lma.poll_event() {
            if let LmaEvent::Authorize(a) = e {
                pending.push(a.id);
            }
        }
        while lma.poll_transmit().is_some() {}
        while mag.poll_transmit().is_some() {}
        while mag.poll_event().is_some() {}
        let _ = lma.poll_timeout();
    }
});
