//! MAG ↔ LMA (↔ home LMA) conversations in memory on a virtual clock, with loss and
//! duplication; every PBA status the LMA produces.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use mobstrap_wire::mh::bu_flags;

use super::lma::{Allocation, Authorize, Lma, LmaConfig, LmaEvent, RemoveReason};
use super::mag::{AttachRequest, Failure, Mag, MagConfig, MagEvent};
use super::*;

const MAG: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 40000);
const LMA: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 5436);
const HLMA: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3)), 5436);

/// A pool in the test's node: /64s from 2001:db8:1::/48 and 192.0.2.0/24 by arrival order.
#[derive(Default)]
struct Pools {
    by_key: HashMap<MnKey, Allocation>,
    next: u16,
    limit: Option<u16>,
    v4: bool,
    refuse: Option<u8>,
}

impl Pools {
    fn new() -> Self {
        Pools {
            v4: true,
            ..Default::default()
        }
    }
    fn answer(&mut self, a: &Authorize) -> Result<Allocation, u8> {
        if let Some(s) = self.refuse {
            return Err(s);
        }
        if let Some(x) = self.by_key.get(&a.key) {
            return Ok(x.clone());
        }
        if self.limit.is_some_and(|l| self.next >= l) {
            return Err(status::INSUFFICIENT_RESOURCES);
        }
        if a.want_v4 && !a.want_v6 && !self.v4 {
            return Err(status::NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE);
        }
        self.next += 1;
        let n = self.next;
        let x = Allocation {
            hnp: a
                .want_v6
                .then(|| (Ipv6Addr::new(0x2001, 0xdb8, 1, n, 0, 0, 0, 0), 64)),
            v4: (a.want_v4 && self.v4).then(|| (Ipv4Addr::new(192, 0, 2, n as u8), 24)),
            v4_router: self.v4.then_some(Ipv4Addr::new(192, 0, 2, 254)),
        };
        self.by_key.insert(a.key.clone(), x.clone());
        Ok(x)
    }
}

struct Net {
    origin: Instant,
    now: Instant,
    mag: Mag,
    lmas: HashMap<SocketAddr, (Lma, Pools, Vec<LmaEvent>)>,
    mag_events: Vec<MagEvent>,
    /// (from, to, bytes) for inspection
    wire: Vec<(SocketAddr, SocketAddr, Vec<u8>)>,
    /// drop the n-th (0-based) datagram overall when it is in this list
    drop: Vec<usize>,
    dup: Vec<usize>,
    sent: usize,
    authorizes: usize,
}

fn wall() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

impl Net {
    fn new(lma: LmaConfig) -> Self {
        let now = Instant::now();
        let mut lmas = HashMap::new();
        lmas.insert(LMA, (Lma::new(lma, now, wall(), 7), Pools::new(), vec![]));
        Net {
            origin: now,
            now,
            mag: Mag::new(MagConfig::default(), now, wall(), 100),
            lmas,
            mag_events: vec![],
            wire: vec![],
            drop: vec![],
            dup: vec![],
            sent: 0,
            authorizes: 0,
        }
    }

    fn roaming(relay: MagConfig) -> Self {
        let mut n = Net::new(LmaConfig {
            relay: Some(relay),
            ..LmaConfig::default()
        });
        n.lmas.insert(
            HLMA,
            (
                Lma::new(LmaConfig::default(), n.now, wall(), 9),
                Pools::new(),
                vec![],
            ),
        );
        // The visited gateway allocates nothing itself.
        n.lmas.get_mut(&LMA).unwrap().1.refuse = Some(status::NOT_LMA_FOR_THIS_MOBILE_NODE);
        n
    }

    /// Delivers everything queued until quiet (no clock movement).
    fn run(&mut self) {
        for _ in 0..1000 {
            let mut q: Vec<(SocketAddr, Transmit)> = vec![];
            while let Some(t) = self.mag.poll_transmit() {
                q.push((MAG, t));
            }
            let addrs: Vec<SocketAddr> = self.lmas.keys().copied().collect();
            for a in &addrs {
                let (l, pools, evs) = self.lmas.get_mut(a).unwrap();
                while let Some(e) = l.poll_event() {
                    if let LmaEvent::Authorize(x) = &e {
                        self.authorizes += 1;
                        let r = pools.answer(x);
                        l.complete(x.id, r, self.now);
                    }
                    evs.push(e);
                }
                while let Some(t) = l.poll_transmit() {
                    q.push((*a, t));
                }
            }
            while let Some(e) = self.mag.poll_event() {
                self.mag_events.push(e);
            }
            if q.is_empty() {
                return;
            }
            for (from, t) in q {
                let i = self.sent;
                self.sent += 1;
                self.wire.push((from, t.peer, t.mh.clone()));
                if self.drop.contains(&i) {
                    continue;
                }
                let copies = if self.dup.contains(&i) { 2 } else { 1 };
                for _ in 0..copies {
                    self.deliver(from, t.peer, &t.mh);
                }
            }
        }
        panic!("no quiescence");
    }

    fn deliver(&mut self, from: SocketAddr, to: SocketAddr, mh: &[u8]) {
        if to == MAG {
            let _ = self.mag.handle(from, mh, self.now);
        } else if let Some((l, ..)) = self.lmas.get_mut(&to) {
            let _ = l.handle(from, mh, self.now);
        }
    }

    /// Moves the clock to each timer in turn up to `now + d`.
    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            self.run();
            let mut next = self.mag.poll_timeout();
            for (l, ..) in self.lmas.values_mut() {
                next = match (next, l.poll_timeout()) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.mag.handle_timeout(self.now);
                    for (l, ..) in self.lmas.values_mut() {
                        l.handle_timeout(self.now);
                    }
                }
                _ => break,
            }
        }
        self.now = end;
        self.run();
    }

    fn lma_events(&self, a: SocketAddr) -> &Vec<LmaEvent> {
        &self.lmas[&a].2
    }

    fn pbus_sent(&self) -> Vec<Pbu> {
        self.wire
            .iter()
            .filter(|(f, ..)| *f == MAG)
            .map(|(_, _, b)| parse_pbu(b).unwrap())
            .collect()
    }
}

fn key(n: u32) -> MnKey {
    MnKey::new(
        format!("0001010000000{n:03}@nai.epc.mnc001.mcc001.3gppnetwork.org"),
        "internet",
    )
}

fn registered(evs: &[MagEvent]) -> Vec<&mag::Binding> {
    evs.iter()
        .filter_map(|e| match e {
            MagEvent::Registered { binding, .. } => Some(binding),
            _ => None,
        })
        .collect()
}

#[test]
fn attach_registers_with_prefix_and_address() {
    let mut n = Net::new(LmaConfig::default());
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    n.run();
    let b = registered(&n.mag_events);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].hnp, Some(("2001:db8:1:1::".parse().unwrap(), 64)));
    assert_eq!(b[0].v4, Some(("192.0.2.1".parse().unwrap(), 24)));
    assert_eq!(b[0].v4_router, Some("192.0.2.254".parse().unwrap()));
    assert_eq!(b[0].lifetime, Duration::from_secs(3600));
    // The PBU as RFC 5213 §6.9.1.1 / RFC 5844 §3.1.1 want it.
    let pbu = &n.pbus_sent()[0];
    assert_eq!(
        pbu.flags & (bu_flags::A | bu_flags::P),
        bu_flags::A | bu_flags::P
    );
    assert_eq!(pbu.nai.as_deref(), Some(&*key(1).nai));
    assert_eq!(pbu.apn.as_deref(), Some("internet"));
    assert_eq!(pbu.hnp, Some((Ipv6Addr::UNSPECIFIED, 0)));
    assert_eq!(pbu.v4_request, Some((Ipv4Addr::UNSPECIFIED, 0)));
    assert_eq!(pbu.hi, Some(hi::NEW_INTERFACE));
    assert_eq!(pbu.att, Some(ATT_WLAN));
    assert_eq!(
        pbu.timestamp,
        Some(to_timestamp(Duration::from_secs(1_700_000_000)))
    );
    assert_eq!(pbu.home_gw, None);
    // The PBA carries what was asked for.
    let (_, _, pba) = n.wire.iter().find(|(f, ..)| *f == LMA).unwrap();
    let pba = parse_pba(pba).unwrap();
    assert_eq!(pba.status, 0);
    assert_eq!(pba.seq, pbu.seq);
    assert_eq!(pba.timestamp, pbu.timestamp);
    assert_eq!(pba.v4_reply.map(|r| r.0), Some(0));
    assert_eq!(pba.hi, Some(1));
    assert_eq!(pba.att, Some(ATT_WLAN));
    assert!(n.lmas[&LMA].0.binding(&key(1)).is_some());
    assert!(matches!(
        n.lma_events(LMA).last(),
        Some(LmaEvent::Registered { lifetime: 3600, .. })
    ));
}

#[test]
fn only_v6_or_only_v4() {
    let mut n = Net::new(LmaConfig::default());
    let mut r = AttachRequest::new(key(1), LMA);
    r.want_v4 = false;
    n.mag.attach(r, n.now).unwrap();
    let mut r = AttachRequest::new(key(2), LMA);
    r.want_v6 = false;
    n.mag.attach(r, n.now).unwrap();
    n.run();
    let b = registered(&n.mag_events);
    assert_eq!((b[0].hnp.is_some(), b[0].v4.is_some()), (true, false));
    assert_eq!((b[1].hnp.is_some(), b[1].v4.is_some()), (false, true));
    assert_eq!(n.pbus_sent()[1].hnp, None, "no HNP option when IPv4 only");
}

#[test]
fn lost_pbu_is_retransmitted_with_backoff_then_fails() {
    let mut n = Net::new(LmaConfig::default());
    n.drop = (0..100).collect();
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    let t0 = n.now;
    n.advance(Duration::from_secs(46));
    assert!(n.mag_events.is_empty());
    n.advance(Duration::from_secs(10));
    let p = n.pbus_sent();
    let times: Vec<u128> = p
        .iter()
        .map(|x| {
            (timestamp_diff_ns(x.timestamp.unwrap(), p[0].timestamp.unwrap()) / 1_000_000) as u128
        })
        .collect();
    // timeouts 1.5, 3, 6, 12, 24 s, each stretched by 0-20 % (jitter): PBUs at about 0, 1.5,
    // 4.5, 10.5, 22.5 s, failure at about 46.5 s
    assert_eq!(times.len(), 5, "{times:?}");
    for (i, nominal) in [1500u128, 3000, 6000, 12000].into_iter().enumerate() {
        let gap = times[i + 1] - times[i];
        assert!(
            gap >= nominal && gap < nominal * 6 / 5 + 1,
            "retransmission {i}: {gap} ms after the previous, nominal {nominal}: {times:?}"
        );
    }

    assert_eq!(
        n.mag_events,
        vec![MagEvent::Failed {
            key: key(1),
            failure: Failure::Timeout
        }]
    );
    assert!((n.now - t0) >= Duration::from_millis(46500));
    assert!(n.mag.is_empty());
    // the jitter differs between PBUs: not every gap is exactly the nominal one
    assert!(
        [1500u128, 3000, 6000, 12000]
            .iter()
            .enumerate()
            .any(|(i, nominal)| times[i + 1] - times[i] != *nominal),
        "no jitter: {times:?}"
    );
    // every copy has the same sequence number and a fresh timestamp
    let p = n.pbus_sent();
    assert!(p.iter().all(|x| x.seq == p[0].seq));
    assert!(p.windows(2).all(|w| w[1].timestamp > w[0].timestamp));
}

#[test]
fn backoff_is_capped() {
    let mut n = Net::new(LmaConfig::default());
    n.mag = Mag::new(
        MagConfig {
            max_transmissions: 9,
            ..MagConfig::default()
        },
        n.now,
        wall(),
        1,
    );
    n.drop = (0..100).collect();
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    n.advance(Duration::from_secs(300));
    // 1.5+3+6+12+24+32+32+32+32
    assert_eq!(n.pbus_sent().len(), 9);
    assert!(matches!(
        n.mag_events[0],
        MagEvent::Failed {
            failure: Failure::Timeout,
            ..
        }
    ));
}

#[test]
fn lost_pba_retransmission_is_answered_without_reallocating() {
    let mut n = Net::new(LmaConfig::default());
    n.drop = vec![1]; // the first PBA
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    n.advance(Duration::from_secs(2));
    assert_eq!(registered(&n.mag_events).len(), 1);
    assert_eq!(n.authorizes, 1, "one allocation");
    // The retransmission (fresh timestamp) was a refresh of the same binding.
    let b = registered(&n.mag_events)[0].clone();
    assert_eq!(b.hnp, Some(("2001:db8:1:1::".parse().unwrap(), 64)));
}

#[test]
fn duplicated_pbu_and_pba() {
    let mut n = Net::new(LmaConfig::default());
    n.dup = vec![0, 1];
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    n.run();
    assert_eq!(n.authorizes, 1);
    assert_eq!(
        registered(&n.mag_events).len(),
        1,
        "the duplicate PBA is ignored"
    );
    // The second copy arrived while the first was being authorised: absorbed.
    assert_eq!(n.wire.iter().filter(|(f, ..)| *f == LMA).count(), 1);
    // A copy arriving after the binding exists gets the cached answer, byte for byte.
    let pbu = n.wire[0].2.clone();
    n.deliver(MAG, LMA, &pbu);
    let again = n.lmas.get_mut(&LMA).unwrap().0.poll_transmit().unwrap();
    assert_eq!(again.mh, n.wire[1].2);
    assert_eq!(n.authorizes, 1);
}

#[test]
fn refresh_before_expiry_and_deregistration() {
    let mut n = Net::new(LmaConfig {
        max_lifetime: 100,
        ..LmaConfig::default()
    });
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    n.run();
    assert_eq!(
        registered(&n.mag_events)[0].lifetime,
        Duration::from_secs(100),
        "capped"
    );
    n.advance(Duration::from_secs(250));
    let refreshes = n
        .mag_events
        .iter()
        .filter(|e| matches!(e, MagEvent::Refreshed { .. }))
        .count();
    assert_eq!(refreshes, 3, "every 80 s");
    assert!(n.lmas[&LMA].0.binding(&key(1)).is_some(), "never expired");
    assert_eq!(n.authorizes, 1);
    let p = n.pbus_sent();
    assert_eq!(p[1].hi, Some(hi::NOT_CHANGED));
    assert_eq!(p[1].hnp, Some(("2001:db8:1:1::".parse().unwrap(), 64)));
    assert_eq!(p[1].v4_request, Some(("192.0.2.1".parse().unwrap(), 24)));
    n.mag.detach(&key(1), n.now).unwrap();
    n.run();
    // the event carries the binding, so the node can take down its routes
    match n.mag_events.last() {
        Some(MagEvent::Deregistered {
            key: k,
            binding: Some(b),
        }) => {
            assert_eq!(*k, key(1));
            assert_eq!(b.hnp, Some(("2001:db8:1:1::".parse().unwrap(), 64)));
            assert_eq!(b.v4.map(|v| v.0), Some("192.0.2.1".parse().unwrap()));
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(n.pbus_sent().last().unwrap().lifetime, 0);
    assert!(n.lmas[&LMA].0.binding(&key(1)).is_none());
    assert!(matches!(
        n.lma_events(LMA).last(),
        Some(LmaEvent::Removed {
            reason: RemoveReason::Deregistered,
            ..
        })
    ));
    assert!(n.mag.is_empty());
}

#[test]
fn binding_expires_without_refresh() {
    let mut n = Net::new(LmaConfig {
        max_lifetime: 40,
        ..LmaConfig::default()
    });
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    n.run();
    n.mag.forget(&key(1));
    n.advance(Duration::from_secs(39));
    assert!(n.lmas[&LMA].0.binding(&key(1)).is_some());
    n.advance(Duration::from_secs(2));
    assert!(n.lmas[&LMA].0.binding(&key(1)).is_none());
    assert!(matches!(
        n.lma_events(LMA).last(),
        Some(LmaEvent::Removed {
            reason: RemoveReason::Expired,
            ..
        })
    ));
}

#[test]
fn refresh_lost_when_lma_forgets() {
    let mut n = Net::new(LmaConfig {
        max_lifetime: 20,
        ..LmaConfig::default()
    });
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    n.run();
    let drop_from = n.sent;
    n.drop = (drop_from..drop_from + 100).collect();
    n.advance(Duration::from_secs(120));
    assert!(n.mag_events.iter().any(|e| matches!(
        e,
        MagEvent::Lost {
            failure: Failure::Timeout,
            binding: Some(_),
            ..
        }
    )));
}

/// Sends one hand-made PBU to the LMA and returns the PBA.
fn exchange(n: &mut Net, p: &Pbu) -> Pba {
    let bytes = build_pbu(p);
    n.lmas
        .get_mut(&LMA)
        .unwrap()
        .0
        .handle(MAG, &bytes, n.now)
        .unwrap();
    n.run_lma_only()
}

impl Net {
    fn run_lma_only(&mut self) -> Pba {
        let (l, pools, evs) = self.lmas.get_mut(&LMA).unwrap();
        while let Some(e) = l.poll_event() {
            if let LmaEvent::Authorize(x) = &e {
                let r = pools.answer(x);
                l.complete(x.id, r, self.now);
            }
            evs.push(e);
        }
        let t = l.poll_transmit().expect("a PBA");
        assert_eq!(t.peer, MAG);
        assert!(l.poll_transmit().is_none());
        parse_pba(&t.mh).unwrap()
    }
}

fn good_pbu(n: &Net, seq: u16) -> Pbu {
    Pbu {
        seq,
        flags: bu_flags::A | bu_flags::P,
        lifetime: 600,
        nai: Some(key(1).nai.to_string()),
        apn: Some("internet".into()),
        hnp: Some((Ipv6Addr::UNSPECIFIED, 0)),
        v4_request: Some((Ipv4Addr::UNSPECIFIED, 0)),
        hi: Some(1),
        att: Some(4),
        timestamp: Some(Clock::new(n.origin, wall()).timestamp(n.now)),
        home_gw: None,
        multiple_v4: false,
    }
}

#[test]
fn status_codes() {
    let mut n = Net::new(LmaConfig::default());
    let now_ts = Clock::new(n.now, wall()).timestamp(n.now);
    type Mutation = Box<dyn Fn(&mut Pbu)>;
    let cases: Vec<(&str, Mutation, u8)> = vec![
        ("no P flag", Box::new(|p| p.flags = bu_flags::A), 131),
        ("no MN-ID", Box::new(|p| p.nai = None), 160),
        (
            "no HNP or IPv4 request",
            Box::new(|p| {
                p.hnp = None;
                p.v4_request = None
            }),
            158,
        ),
        ("no HI", Box::new(|p| p.hi = None), 161),
        ("no ATT", Box::new(|p| p.att = None), 162),
        ("no timestamp", Box::new(|p| p.timestamp = None), 156),
        (
            "timestamp 1 s late",
            Box::new(move |p| p.timestamp = Some(now_ts - 65536)),
            156,
        ),
        (
            "timestamp 1 s early",
            Box::new(move |p| p.timestamp = Some(now_ts + 65536)),
            156,
        ),
    ];
    for (what, f, want) in cases {
        let mut p = good_pbu(&n, 1);
        f(&mut p);
        let a = exchange(&mut n, &p);
        assert_eq!(a.status, want, "{what}");
        assert_eq!(a.seq, 1);
        assert_eq!(a.lifetime, 0);
        if want == 156 {
            assert_eq!(a.timestamp, Some(now_ts), "{what}: the LMA's time");
        }
    }
    assert_eq!(n.authorizes_in_lma(), 0);
    assert!(n.lmas[&LMA].0.is_empty());

    // A good one, then an older timestamp (157), a different prefix (159), wrong IPv4 (171).
    let p = good_pbu(&n, 10);
    assert_eq!(exchange(&mut n, &p).status, 0);
    let mut old = good_pbu(&n, 11);
    old.timestamp = Some(p.timestamp.unwrap() - 1);
    let a = exchange(&mut n, &old);
    assert_eq!(a.status, 157);
    n.now += Duration::from_millis(10);
    let mut other = good_pbu(&n, 12);
    other.hnp = Some(("2001:db8:9::".parse().unwrap(), 64));
    assert_eq!(exchange(&mut n, &other).status, 159);
    let mut other = good_pbu(&n, 13);
    other.hnp = Some(("2001:db8:1:1::".parse().unwrap(), 64));
    other.v4_request = Some(("192.0.2.200".parse().unwrap(), 24));
    assert_eq!(exchange(&mut n, &other).status, 171);
    let mut same = good_pbu(&n, 14);
    same.hnp = Some(("2001:db8:1:1::".parse().unwrap(), 64));
    same.v4_request = Some(("192.0.2.1".parse().unwrap(), 24));
    assert_eq!(
        exchange(&mut n, &same).status,
        0,
        "refresh with the assigned values"
    );

    // Two IPv4 requests: 173 (built by hand: the builder writes one).
    let mut p = good_pbu(&n, 20);
    p.nai = Some("other@x".into());
    let mut bytes = build_pbu(&p);
    let r = mobstrap_wire::mh::Repr::parse(&bytes).unwrap();
    let mut opts: Vec<_> = r.options.iter().collect();
    opts.push(mobstrap_wire::mh::MobOption::Ipv4HomeAddressRequest {
        bits: 0,
        address: [0; 4],
    });
    let r2 = mobstrap_wire::mh::Repr::new(r.message, opts);
    let mut out = vec![];
    r2.emit(&mut out).unwrap();
    bytes = out;
    n.lmas
        .get_mut(&LMA)
        .unwrap()
        .0
        .handle(MAG, &bytes, n.now)
        .unwrap();
    assert_eq!(n.run_lma_only().status, 173);
}

impl Net {
    fn authorizes_in_lma(&self) -> usize {
        self.lma_events(LMA)
            .iter()
            .filter(|e| matches!(e, LmaEvent::Authorize(_)))
            .count()
    }
}

#[test]
fn node_refusals_reach_the_mag() {
    for (refuse, limit, v4, want_v6, want) in [
        (None, Some(0), true, true, 130),
        (Some(151), None, true, true, 151),
        (Some(129), None, true, true, 129),
        (None, None, false, false, 170),
    ] {
        let mut n = Net::new(LmaConfig::default());
        let pools = &mut n.lmas.get_mut(&LMA).unwrap().1;
        pools.refuse = refuse;
        pools.limit = limit;
        pools.v4 = v4;
        let mut r = AttachRequest::new(key(1), LMA);
        r.want_v6 = want_v6;
        n.mag.attach(r, n.now).unwrap();
        n.run();
        assert_eq!(
            n.mag_events,
            vec![MagEvent::Failed {
                key: key(1),
                failure: Failure::Status(want)
            }]
        );
        assert!(n.lmas[&LMA].0.is_empty() && n.lmas[&LMA].0.pending() == 0);
    }
}

#[test]
fn dual_stack_request_without_ipv4_pool_gets_ipv6_only() {
    let mut n = Net::new(LmaConfig::default());
    n.lmas.get_mut(&LMA).unwrap().1.v4 = false;
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    n.run();
    let b = registered(&n.mag_events);
    assert!(b[0].hnp.is_some() && b[0].v4.is_none());
    let pba = parse_pba(&n.wire[1].2).unwrap();
    assert_eq!(
        pba.v4_reply.map(|r| r.0),
        Some(v4_reply::DYNAMIC_ASSIGNMENT_NOT_AVAILABLE)
    );
}

#[test]
fn unauthorized_mag() {
    let mut n = Net::new(LmaConfig {
        allowed_mags: Some(vec![HLMA.ip()]),
        ..LmaConfig::default()
    });
    let p = good_pbu(&n, 3);
    assert_eq!(exchange(&mut n, &p).status, 154);
}

#[test]
fn sequence_numbers_without_timestamps() {
    let mut n = Net::new(LmaConfig {
        require_timestamp: false,
        ..LmaConfig::default()
    });
    let mut p = good_pbu(&n, 500);
    p.timestamp = None;
    assert_eq!(exchange(&mut n, &p).status, 0);
    let mut q = p.clone();
    q.seq = 499;
    q.hi = Some(5);
    let a = exchange(&mut n, &q);
    assert_eq!((a.status, a.seq), (135, 500), "the last accepted number");
    q.seq = 501;
    assert_eq!(exchange(&mut n, &q).status, 0);
    // an exact retransmission of 501 gets the same bytes again
    let bytes = build_pbu(&q);
    let l = &mut n.lmas.get_mut(&LMA).unwrap().0;
    l.handle(MAG, &bytes, n.now).unwrap();
    let first = l.poll_transmit().unwrap();
    l.handle(MAG, &bytes, n.now).unwrap();
    assert_eq!(l.poll_transmit().unwrap(), first);
}

#[test]
fn deregistration_of_unknown_binding_is_accepted() {
    let mut n = Net::new(LmaConfig::default());
    let mut p = good_pbu(&n, 3);
    p.lifetime = 0;
    let a = exchange(&mut n, &p);
    assert_eq!((a.status, a.lifetime), (0, 0));
}

#[test]
fn malformed_input_changes_nothing() {
    let mut n = Net::new(LmaConfig::default());
    let l = &mut n.lmas.get_mut(&LMA).unwrap().0;
    for b in [
        &b""[..],
        &[0u8; 3],
        &[59, 0, 5, 0, 0, 0, 0, 0],
        &[59, 1, 5, 0, 0, 0, 0, 0],
    ] {
        assert!(l.handle(MAG, b, n.now).is_err());
    }
    assert!(l.poll_transmit().is_none() && l.is_empty());
    assert!(n.mag.handle(LMA, &[59, 0, 6, 0], n.now).is_err());
}

#[test]
fn pba_from_wrong_peer_or_sequence_is_ignored() {
    let mut n = Net::new(LmaConfig::default());
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    let t = n.mag.poll_transmit().unwrap();
    let pbu = parse_pbu(&t.mh).unwrap();
    let pba = build_pba(&Pba {
        status: 0,
        flags: 0x20,
        seq: pbu.seq,
        lifetime: 100,
        nai: pbu.nai.clone(),
        apn: pbu.apn.clone(),
        hnp: Some(("2001:db8::".parse().unwrap(), 64)),
        v4_reply: None,
        v4_router: None,
        hi: None,
        att: None,
        timestamp: None,
    });
    assert!(n.mag.handle(HLMA, &pba, n.now).is_err());
    let mut other = parse_pba(&pba).unwrap();
    other.seq = pbu.seq.wrapping_add(1);
    assert!(n.mag.handle(LMA, &build_pba(&other), n.now).is_err());
    assert!(n.mag.poll_event().is_none());
    assert!(n.mag.handle(LMA, &pba, n.now).is_ok());
    assert!(matches!(
        n.mag.poll_event(),
        Some(MagEvent::Registered { .. })
    ));
}

#[test]
fn roaming_relay_mag_vgw_hgw() {
    let mut n = Net::roaming(MagConfig::default());
    let mut r = AttachRequest::new(key(1), LMA);
    r.home_gw = Some(HLMA.ip());
    n.mag.attach(r, n.now).unwrap();
    n.run();
    let b = registered(&n.mag_events);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].lma, LMA);
    assert_eq!(
        b[0].hnp,
        Some(("2001:db8:1:1::".parse().unwrap(), 64)),
        "the home gw's prefix"
    );
    // Ladder: MAG→vGW PBU, vGW→hGW PBU, hGW→vGW PBA, vGW→MAG PBA.
    let hops: Vec<(SocketAddr, SocketAddr)> = n.wire.iter().map(|(f, t, _)| (*f, *t)).collect();
    assert_eq!(hops, vec![(MAG, LMA), (LMA, HLMA), (HLMA, LMA), (LMA, MAG)]);
    let up = parse_pbu(&n.wire[1].2).unwrap();
    assert_eq!(up.home_gw, None, "no home gateway option upstream");
    assert_eq!(up.nai.as_deref(), Some(&*key(1).nai));
    assert_eq!(up.apn.as_deref(), Some("internet"));
    assert_eq!(up.hnp, Some((Ipv6Addr::UNSPECIFIED, 0)));
    assert_eq!(n.pbus_sent()[0].home_gw, Some(HLMA.ip()));
    assert_eq!(n.lmas[&LMA].0.binding(&key(1)).unwrap().2, Some(HLMA));
    assert_eq!(
        n.lmas[&LMA]
            .2
            .iter()
            .filter(|e| matches!(e, LmaEvent::Authorize(_)))
            .count(),
        0
    );
    assert!(n.lmas[&HLMA].0.binding(&key(1)).is_some());
    // Refresh: answered by the vGW, which keeps the upstream binding alive itself.
    n.advance(Duration::from_secs(3000));
    assert!(n
        .mag_events
        .iter()
        .any(|e| matches!(e, MagEvent::Refreshed { .. })));
    assert!(n.lmas[&HLMA].0.binding(&key(1)).is_some());
    // De-registration reaches the home gateway.
    n.mag.detach(&key(1), n.now).unwrap();
    n.advance(Duration::from_secs(1));
    assert!(
        matches!(
            n.mag_events.last(),
            Some(MagEvent::Deregistered { key: k, binding: Some(_) }) if *k == key(1)
        ),
        "{:?}",
        n.mag_events.last()
    );
    assert!(n.lmas[&LMA].0.binding(&key(1)).is_none());
    assert!(n.lmas[&HLMA].0.binding(&key(1)).is_none());
}

#[test]
fn roaming_errors_map_back() {
    let mut n = Net::roaming(MagConfig::default());
    n.lmas.get_mut(&HLMA).unwrap().1.limit = Some(0);
    let mut r = AttachRequest::new(key(1), LMA);
    r.home_gw = Some(HLMA.ip());
    n.mag.attach(r, n.now).unwrap();
    n.run();
    assert_eq!(
        n.mag_events,
        vec![MagEvent::Failed {
            key: key(1),
            failure: Failure::Status(130)
        }]
    );
    assert!(n.lmas[&LMA].0.is_empty() && n.lmas[&LMA].0.pending() == 0);
}

#[test]
fn roaming_home_gateway_unreachable() {
    let mut n = Net::roaming(MagConfig {
        max_transmissions: 3,
        initial_timeout: Duration::from_millis(500),
        ..MagConfig::default()
    });
    n.lmas.remove(&HLMA);
    let mut r = AttachRequest::new(key(1), LMA);
    r.home_gw = Some(HLMA.ip());
    n.mag.attach(r, n.now).unwrap();
    n.advance(Duration::from_secs(10));
    assert_eq!(
        n.mag_events,
        vec![MagEvent::Failed {
            key: key(1),
            failure: Failure::Status(128)
        }]
    );
    let upstream = n
        .wire
        .iter()
        .filter(|(f, t, _)| *f == LMA && *t == HLMA)
        .count();
    assert_eq!(upstream, 3);
}

#[test]
fn many_sessions_with_loss() {
    let mut n = Net::new(LmaConfig::default());
    n.drop = (0..400).filter(|i| i % 7 == 3).collect();
    for i in 0..100 {
        n.mag
            .attach(AttachRequest::new(key(i), LMA), n.now)
            .unwrap();
    }
    n.advance(Duration::from_secs(20));
    assert_eq!(registered(&n.mag_events).len(), 100);
    assert_eq!(n.lmas[&LMA].0.len(), 100);
    let hnps: std::collections::HashSet<_> =
        registered(&n.mag_events).iter().map(|b| b.hnp).collect();
    assert_eq!(hnps.len(), 100, "distinct prefixes");
    assert_eq!(n.authorizes, 100);
}

#[test]
fn timestamp_encoding() {
    assert_eq!(
        to_timestamp(Duration::from_millis(1500)),
        (1 << 16) | 0x8000
    );
    let c = Clock::new(
        Instant::now(),
        SystemTime::UNIX_EPOCH + Duration::from_secs(10),
    );
    assert_eq!(
        c.timestamp(Instant::now() - Duration::from_secs(100)) >> 16,
        10
    );
    assert_eq!(timestamp_diff_ns(65536, 0), 1_000_000_000);
}

#[test]
fn deregistration_while_authorising_releases_once() {
    let mut n = Net::new(LmaConfig::default());
    let p = good_pbu(&n, 1);
    let mut p3 = good_pbu(&n, 3);
    let l = &mut n.lmas.get_mut(&LMA).unwrap().0;
    l.handle(MAG, &build_pbu(&p), n.now).unwrap();
    let Some(LmaEvent::Authorize(a)) = l.poll_event() else {
        panic!("authorize")
    };
    let mut d = p.clone();
    d.lifetime = 0;
    d.seq = 2;
    l.handle(MAG, &build_pbu(&d), n.now).unwrap();
    let pba = parse_pba(&l.poll_transmit().unwrap().mh).unwrap();
    assert_eq!((pba.status, pba.seq), (0, 2));
    l.complete(a.id, Ok(Allocation::default()), n.now);
    assert!(matches!(
        l.poll_event(),
        Some(LmaEvent::Removed {
            reason: RemoveReason::Cancelled,
            ..
        })
    ));
    assert!(
        l.poll_transmit().is_none(),
        "the cancelled PBU gets no answer"
    );
    assert!(l.is_empty() && l.pending() == 0);

    // Cancelled, re-registered, then the old answer arrives: nothing released.
    p3.timestamp = p3.timestamp.map(|t| t + 1);
    l.handle(MAG, &build_pbu(&p3), n.now).unwrap();
    let Some(LmaEvent::Authorize(a3)) = l.poll_event() else {
        panic!("authorize")
    };
    let mut d4 = p3.clone();
    d4.lifetime = 0;
    d4.seq = 4;
    l.handle(MAG, &build_pbu(&d4), n.now).unwrap();
    let mut p5 = p3.clone();
    p5.seq = 5;
    p5.timestamp = p5.timestamp.map(|t| t + 2);
    l.handle(MAG, &build_pbu(&p5), n.now).unwrap();
    let Some(LmaEvent::Authorize(a5)) = l.poll_event() else {
        panic!("authorize")
    };
    l.complete(a3.id, Ok(Allocation::default()), n.now);
    assert!(
        !std::iter::from_fn(|| l.poll_event()).any(|e| matches!(e, LmaEvent::Removed { .. })),
        "the newer registration keeps the allocation"
    );
    l.complete(
        a5.id,
        Ok(Allocation {
            hnp: Some(("2001:db8::".parse().unwrap(), 64)),
            ..Allocation::default()
        }),
        n.now,
    );
    assert!(l.binding(&key(1)).is_some());
}

/// A new entry starts with sequence number 0 before its first exchange; starting that
/// exchange used to drop whatever outstanding PBU had number 0, so another session's
/// registration whose PBU carried 0 never matched its PBA (seen about once per 20,000-UE
/// `bench attach` run as NETWORK_FAILURE after four retransmissions).
#[test]
fn a_new_registration_keeps_another_sessions_pbu_zero() {
    let mut n = Net::new(LmaConfig::default());
    n.mag = Mag::new(MagConfig::default(), n.now, wall(), 0);
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    n.mag
        .attach(AttachRequest::new(key(2), LMA), n.now)
        .unwrap();
    n.run();
    let seqs: Vec<u16> = n.pbus_sent().iter().map(|p| p.seq).collect();
    assert_eq!(seqs, vec![0, 1]);
    let b = registered(&n.mag_events);
    assert_eq!(b.len(), 2, "events: {:?}", n.mag_events);
    assert!(n.mag.binding(&key(1)).is_some());
    assert!(n.mag.binding(&key(2)).is_some());
    // And no retransmission is pending: both exchanges are complete.
    n.advance(Duration::from_secs(5));
    assert_eq!(n.pbus_sent().len(), 2);
}

/// After the counter wraps, a number still used by an outstanding PBU is skipped.
#[test]
fn sequence_numbers_skip_one_still_outstanding() {
    let mut n = Net::new(LmaConfig::default());
    n.mag = Mag::new(MagConfig::default(), n.now, wall(), 65535);
    n.drop = vec![0];
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    n.run();
    // key(1)'s PBU 65535 was lost and is outstanding; 65,535 exchanges later the counter
    // comes round to 65535 again.
    for i in 0..65535u32 {
        n.mag
            .attach(AttachRequest::new(key(1000 + i), LMA), n.now)
            .ok();
        n.mag.forget(&key(1000 + i));
        while n.mag.poll_transmit().is_some() {}
    }
    n.mag
        .attach(AttachRequest::new(key(2), LMA), n.now)
        .unwrap();
    n.run();
    let last = n.pbus_sent().last().map(|p| p.seq);
    assert_eq!(last, Some(0), "65535 is still key(1)'s");
    assert!(n.mag.binding(&key(2)).is_some());
    // key(1)'s retransmission still matches its own PBA.
    n.advance(Duration::from_secs(2));
    assert!(n.mag.binding(&key(1)).is_some());
}

/// A PBU that reaches the LMA after its timestamp window (300 ms; e.g. queued behind a burst
/// of de-registrations) is refused with TIMESTAMP_MISMATCH; the MAG sends it again at once
/// with a fresh timestamp instead of giving up (a refused de-registration had left the
/// binding and its addresses at the LMA until the lifetime ended).
#[test]
fn timestamp_mismatch_is_retried_with_a_fresh_timestamp() {
    let mut n = Net::new(LmaConfig::default());
    let late = |n: &mut Net| {
        let t = n.mag.poll_transmit().expect("a PBU");
        n.now += Duration::from_millis(400);
        n.wire.push((MAG, t.peer, t.mh.clone()));
        n.deliver(MAG, t.peer, &t.mh);
        n.run();
    };
    n.mag
        .attach(AttachRequest::new(key(1), LMA), n.now)
        .unwrap();
    late(&mut n);
    assert!(n.mag.binding(&key(1)).is_some(), "{:?}", n.mag_events);
    assert_eq!(n.pbus_sent().len(), 2, "the late PBU and its resend");

    n.mag.detach(&key(1), n.now).unwrap();
    late(&mut n);
    assert!(
        n.mag_events
            .iter()
            .any(|e| matches!(e, MagEvent::Deregistered { .. })),
        "{:?}",
        n.mag_events
    );
    assert!(
        n.lma_events(LMA)
            .iter()
            .any(|e| matches!(e, LmaEvent::Removed { .. })),
        "the LMA let the binding go: {:?}",
        n.lma_events(LMA)
    );
}
