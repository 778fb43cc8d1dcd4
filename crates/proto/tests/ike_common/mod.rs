//! A small in-memory network for IKE conversations: a virtual clock, one initiator
//! `IkeSa` and one responder `Dispatcher`, with seeded loss, duplication, reordering and
//! per-direction filters. Deterministic for a given seed.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mobstrap_proto::ikev2::{
    Config, Dispatcher, DispatcherConfig, EapPeer, Event, IkeSa, SaId, Transmit,
};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

pub const I_ADDR: &str = "10.0.0.1:500";
pub const R_ADDR: &str = "10.0.0.2:500";

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub fn rng(seed: u64) -> Box<dyn RngCore + Send> {
    Box::new(StdRng::seed_from_u64(seed))
}

/// Faults applied to datagrams in flight.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    pub loss: f64,
    pub duplicate: f64,
    /// Probability of an extra random delay (up to 300 ms), which reorders.
    pub reorder: f64,
}

pub struct Packet {
    pub at: Instant,
    pub seq: u64,
    pub t: Transmit,
    pub to_responder: bool,
}

pub type Filter = Box<dyn FnMut(&Transmit, bool) -> bool>;
/// Given a datagram, its direction and its index in that direction, returns a corrupted
/// copy to deliver just before it.
pub type Mutate = Box<dyn FnMut(&Transmit, bool, usize) -> Option<Vec<u8>>>;
/// What the test does with responder events (EAP relay, addresses); gets the dispatcher.
pub type Hook = Box<dyn FnMut(&mut Dispatcher, SaId, &Event, Instant)>;
pub type IHook = Box<dyn FnMut(&mut IkeSa, &Event, Instant)>;

pub struct Sim {
    pub now: Instant,
    pub start: Instant,
    pub net_rng: StdRng,
    pub faults: Faults,
    pub latency: Duration,
    pub flight: Vec<Packet>,
    seq: u64,
    pub init: IkeSa,
    pub resp: Dispatcher,
    pub i_events: Vec<Event>,
    pub r_events: Vec<(SaId, Event)>,
    /// Returns false to drop a datagram (`to_responder` tells the direction).
    pub filter: Option<Filter>,
    pub mutate: Option<Mutate>,
    pub resp_hook: Option<Hook>,
    pub init_hook: Option<IHook>,
    pub delivered: u64,
    pub sent_to_responder: Vec<Vec<u8>>,
    pub sent_to_initiator: Vec<Vec<u8>>,
    /// Every datagram sent, in order.
    pub log: Vec<Transmit>,
}

impl Sim {
    pub fn new(
        iconf: Config,
        rconf: Config,
        eap: Option<Box<dyn EapPeer>>,
        dconf: DispatcherConfig,
        seed: u64,
    ) -> Sim {
        let now = Instant::now();
        let init = IkeSa::initiate(
            Arc::new(iconf),
            rng(seed),
            eap,
            addr(I_ADDR),
            addr(R_ADDR),
            now,
        )
        .expect("initiate");
        let resp = Dispatcher::new(Arc::new(rconf), dconf, rng(seed ^ 0x5555));
        Sim {
            now,
            start: now,
            net_rng: StdRng::seed_from_u64(seed ^ 0xaaaa),
            faults: Faults::default(),
            latency: Duration::from_millis(5),
            flight: Vec::new(),
            seq: 0,
            init,
            resp,
            i_events: Vec::new(),
            r_events: Vec::new(),
            filter: None,
            mutate: None,
            resp_hook: None,
            init_hook: None,
            delivered: 0,
            sent_to_responder: Vec::new(),
            sent_to_initiator: Vec::new(),
            log: Vec::new(),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    fn enqueue(&mut self, t: Transmit, to_responder: bool) {
        self.log.push(t.clone());
        if to_responder {
            self.sent_to_responder.push(t.data.clone());
        } else {
            self.sent_to_initiator.push(t.data.clone());
        }
        if let Some(f) = self.filter.as_mut() {
            if !f(&t, to_responder) {
                return;
            }
        }
        if let Some(m) = self.mutate.as_mut() {
            let idx = if to_responder {
                self.sent_to_responder.len() - 1
            } else {
                self.sent_to_initiator.len() - 1
            };
            if let Some(bad) = m(&t, to_responder, idx) {
                self.seq += 1;
                let mut b = t.clone();
                b.data = bad;
                self.flight.push(Packet {
                    at: self.now + self.latency,
                    seq: self.seq,
                    t: b,
                    to_responder,
                });
            }
        }
        let mut copies = 1;
        if self.net_rng.random_bool(self.faults.loss) {
            copies = 0;
        } else if self.net_rng.random_bool(self.faults.duplicate) {
            copies = 2;
        }
        for _ in 0..copies {
            let mut delay = self.latency;
            if self.net_rng.random_bool(self.faults.reorder) {
                delay += Duration::from_millis(self.net_rng.random_range(0..300));
            }
            self.seq += 1;
            self.flight.push(Packet {
                at: self.now + delay,
                seq: self.seq,
                t: t.clone(),
                to_responder,
            });
        }
    }

    fn collect(&mut self) {
        while let Some(t) = self.init.poll_transmit() {
            self.enqueue(t, true);
        }
        while let Some(t) = self.resp.poll_transmit() {
            self.enqueue(t, false);
        }
        while let Some(e) = self.init.poll_event() {
            if let Some(h) = self.init_hook.as_mut() {
                h(&mut self.init, &e, self.now);
            }
            self.i_events.push(e);
        }
        while let Some((id, e)) = self.resp.poll_event() {
            if let Some(h) = self.resp_hook.as_mut() {
                h(&mut self.resp, id, &e, self.now);
            }
            self.r_events.push((id, e));
        }
    }

    /// Advances to the next delivery or timer; false when nothing is left to do.
    pub fn step(&mut self) -> bool {
        self.collect();
        // Hooks may have produced output.
        self.collect();
        let next_pkt = self.flight.iter().map(|p| (p.at, p.seq)).min();
        let ti = self.init.poll_timeout();
        let tr = self.resp.poll_timeout();
        let mut next = next_pkt.map(|p| p.0);
        for t in [ti, tr].into_iter().flatten() {
            next = Some(next.map_or(t, |n: Instant| n.min(t)));
        }
        let Some(next) = next else { return false };
        if next > self.now {
            self.now = next;
        }
        // Deliver everything due, in (time, seq) order.
        self.flight.sort_by_key(|p| (p.at, p.seq));
        let due: Vec<Packet> = {
            let n = self.flight.iter().take_while(|p| p.at <= self.now).count();
            self.flight.drain(..n).collect()
        };
        for p in due {
            self.delivered += 1;
            if p.to_responder {
                self.resp
                    .handle_datagram(self.now, p.t.remote, p.t.local, &p.t.data);
            } else {
                self.init
                    .handle_datagram(self.now, p.t.remote, p.t.local, &p.t.data);
            }
            self.collect();
        }
        if self.init.poll_timeout().is_some_and(|t| t <= self.now) {
            self.init.handle_timeout(self.now);
        }
        if self.resp.poll_timeout().is_some_and(|t| t <= self.now) {
            self.resp.handle_timeout(self.now);
        }
        self.collect();
        true
    }

    /// Runs until `done` or until `limit` of virtual time or 100k steps.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Sim) -> bool) -> bool {
        let end = self.now + limit;
        for _ in 0..100_000 {
            if done(self) {
                return true;
            }
            if self.now > end || !self.step() {
                return done(self);
            }
        }
        done(self)
    }

    /// Runs for a span of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        for _ in 0..100_000 {
            self.collect();
            let next_pkt = self.flight.iter().map(|p| p.at).min();
            let mut next = next_pkt;
            for t in [self.init.poll_timeout(), self.resp.poll_timeout()]
                .into_iter()
                .flatten()
            {
                next = Some(next.map_or(t, |n: Instant| n.min(t)));
            }
            match next {
                Some(t) if t <= end => {
                    self.step();
                }
                _ => {
                    self.now = end;
                    return;
                }
            }
        }
    }

    pub fn i_established(&self) -> bool {
        self.i_events
            .iter()
            .any(|e| matches!(e, Event::Established(_)))
    }
    pub fn r_established(&self) -> bool {
        self.r_events
            .iter()
            .any(|(_, e)| matches!(e, Event::Established(_)))
    }
    pub fn both_established(&self) -> bool {
        self.i_established() && self.r_established()
    }
    pub fn i_closed(&self) -> Option<mobstrap_proto::ikev2::CloseReason> {
        self.i_events.iter().find_map(|e| match e {
            Event::Closed(r) => Some(*r),
            _ => None,
        })
    }
    pub fn r_closed(&self) -> Option<mobstrap_proto::ikev2::CloseReason> {
        self.r_events.iter().find_map(|(_, e)| match e {
            Event::Closed(r) => Some(*r),
            _ => None,
        })
    }
    pub fn i_est(&self) -> &mobstrap_proto::ikev2::Established {
        self.i_events
            .iter()
            .find_map(|e| match e {
                Event::Established(x) => Some(&**x),
                _ => None,
            })
            .expect("initiator established")
    }
    pub fn r_est(&self) -> &mobstrap_proto::ikev2::Established {
        self.r_events
            .iter()
            .find_map(|(_, e)| match e {
                Event::Established(x) => Some(&**x),
                _ => None,
            })
            .expect("responder established")
    }
    pub fn r_id(&self) -> SaId {
        self.r_events
            .first()
            .map(|(id, _)| *id)
            .or_else(|| self.resp.ids().next())
            .expect("responder SA")
    }
}
