//! The MAG's binding update list (RFC 5213 §6): one entry per mobility session (MN-ID NAI +
//! APN), PBU with P/A flags, retransmission with exponential back-off (RFC 6275 §11.8 / RFC 5213
//! §6.9.4), refresh before the granted lifetime runs out, de-registration (lifetime 0).
//!
//! Sequence numbers come from one counter per engine, so an outstanding PBU is found from the
//! PBA's sequence number alone (a retransmission keeps its number and carries a fresh
//! Timestamp, so the LMA's timestamp window holds for every copy).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use mobstrap_wire::mh::bu_flags;

use super::{
    build_pbu, hi, is_unspecified_prefix, parse_pba, status, Clock, InputError, MnKey, Pbu,
    Prefix6, Transmit, ATT_WLAN,
};

/// MAG settings.
#[derive(Debug, Clone)]
pub struct MagConfig {
    /// First retransmission timeout (RFC 6275 InitialBindackTimeoutFirstReg: 1.5 s).
    pub initial_timeout: Duration,
    /// Back-off ceiling (RFC 6275 MAX_BINDACK_TIMEOUT: 32 s).
    pub max_timeout: Duration,
    /// Transmissions of one PBU (the first included) before giving up.
    pub max_transmissions: u32,
    /// Lifetime asked for, in seconds.
    pub lifetime: u32,
    /// Re-register when this fraction of the granted lifetime has passed (0 < f < 1).
    pub refresh_fraction: f32,
    /// Access Technology Type sent (4 = IEEE 802.11a/b/g: untrusted WLAN behind an ePDG).
    pub att: u8,
    /// Send the Timestamp option (RFC 5213 §5.5); otherwise the LMA orders by sequence number.
    pub timestamps: bool,
}

impl Default for MagConfig {
    fn default() -> Self {
        MagConfig {
            initial_timeout: Duration::from_millis(1500),
            max_timeout: Duration::from_secs(32),
            max_transmissions: 5,
            lifetime: 3600,
            refresh_fraction: 0.8,
            att: ATT_WLAN,
            timestamps: true,
        }
    }
}

/// What to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachRequest {
    pub key: MnKey,
    /// The LMA (or, in roaming, the visited gateway): address and UDP port (5436; 0 for a
    /// raw Mobility Header socket).
    pub lma: SocketAddr,
    /// Ask for a home network prefix (Home Network Prefix option `::/0`).
    pub want_v6: bool,
    /// Ask for an IPv4 home address (IPv4 Home Address Request `0.0.0.0`).
    pub want_v4: bool,
    /// Roaming: the home gateway, sent in mobstrap's vendor-specific option.
    pub home_gw: Option<IpAddr>,
    /// Handoff Indicator (default 1: attachment over a new interface).
    pub hi: u8,
    /// Access Technology Type; `None`: the configured one.
    pub att: Option<u8>,
}

impl AttachRequest {
    pub fn new(key: MnKey, lma: SocketAddr) -> Self {
        AttachRequest {
            key,
            lma,
            want_v6: true,
            want_v4: true,
            home_gw: None,
            hi: hi::NEW_INTERFACE,
            att: None,
        }
    }
}

/// A registered binding as the LMA granted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub lma: SocketAddr,
    pub hnp: Option<Prefix6>,
    /// IPv4 home address and its prefix length.
    pub v4: Option<(Ipv4Addr, u8)>,
    pub v4_router: Option<Ipv4Addr>,
    /// Granted lifetime.
    pub lifetime: Duration,
}

/// Why a registration did not happen or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The PBA's status (≥ 128), or an accepted PBA that granted nothing asked for.
    Status(u8),
    /// No PBA after every retransmission.
    Timeout,
    /// `detach` before the registration completed.
    Cancelled,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Status(s) => write!(f, "PBA status {s} ({})", status::name(*s)),
            Failure::Timeout => f.write_str("no PBA (retransmissions exhausted)"),
            Failure::Cancelled => f.write_str("cancelled"),
        }
    }
}

/// What the MAG tells its node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MagEvent {
    /// The initial registration was accepted.
    Registered { key: MnKey, binding: Binding },
    /// A refresh was accepted (the binding may carry a new lifetime).
    Refreshed { key: MnKey, binding: Binding },
    /// The initial registration failed; nothing is left for `key`.
    Failed { key: MnKey, failure: Failure },
    /// A registered binding was lost (refresh refused or unanswered); nothing is left. The
    /// binding it had, so that the node can take down what it set up for it.
    Lost {
        key: MnKey,
        failure: Failure,
        binding: Option<Binding>,
    },
    /// De-registration finished (answered or not); nothing is left for `key`. The binding
    /// it had, as with `Lost`.
    Deregistered {
        key: MnKey,
        binding: Option<Binding>,
    },
}

/// `attach` / `detach` refusals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MagError {
    #[error("{0}: a binding or registration exists already")]
    Exists(MnKey),
    #[error("{0}: no binding")]
    NotFound(MnKey),
    #[error("{0}: asks for neither IPv4 nor IPv6")]
    NothingRequested(MnKey),
    #[error("too many registrations in flight")]
    Busy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Registering,
    Registered,
    Refreshing,
    Deregistering,
}

#[derive(Debug)]
struct Entry {
    req: AttachRequest,
    phase: Phase,
    seq: u16,
    transmissions: u32,
    rto: Duration,
    timer_gen: u64,
    binding: Option<Binding>,
}

/// The MAG engine.
#[derive(Debug)]
pub struct Mag {
    config: MagConfig,
    clock: Clock,
    next_seq: u16,
    next_gen: u64,
    /// Boxed (an `Entry` with its request and binding is a few hundred bytes).
    entries: HashMap<MnKey, Box<Entry>>,
    outstanding: HashMap<u16, MnKey>,
    timers: BinaryHeap<Reverse<(Instant, u64, MnKey)>>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<MagEvent>,
    /// xorshift state for the retransmission jitter (not for anything secret).
    jitter: u64,
}

impl Mag {
    /// `now`/`wall` are the same moment; `seq_seed` (random) starts the sequence numbers.
    pub fn new(config: MagConfig, now: Instant, wall: SystemTime, seq_seed: u16) -> Self {
        Mag {
            config,
            clock: Clock::new(now, wall),
            next_seq: seq_seed,
            next_gen: 1,
            entries: HashMap::new(),
            outstanding: HashMap::new(),
            timers: BinaryHeap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            jitter: (u64::from(seq_seed) << 32) ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    pub fn config(&self) -> &MagConfig {
        &self.config
    }

    /// Bindings and registrations in the list.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The binding of `key` once registered.
    pub fn binding(&self, key: &MnKey) -> Option<&Binding> {
        self.entries.get(key).and_then(|e| e.binding.as_ref())
    }

    /// Starts a registration; the outcome is a `Registered` or `Failed` event.
    pub fn attach(&mut self, req: AttachRequest, now: Instant) -> Result<(), MagError> {
        if !req.want_v4 && !req.want_v6 {
            return Err(MagError::NothingRequested(req.key));
        }
        if self.entries.contains_key(&req.key) {
            return Err(MagError::Exists(req.key));
        }
        if self.outstanding.len() >= 60_000 {
            return Err(MagError::Busy);
        }
        let key = req.key.clone();
        self.entries.insert(
            key.clone(),
            Box::new(Entry {
                req,
                phase: Phase::Registering,
                seq: 0,
                transmissions: 0,
                rto: self.config.initial_timeout,
                timer_gen: 0,
                binding: None,
            }),
        );
        self.start_exchange(&key, Phase::Registering, now);
        Ok(())
    }

    /// De-registers `key` (lifetime 0); ends with `Deregistered`. A registration still in
    /// flight first ends with `Failed { Cancelled }`.
    pub fn detach(&mut self, key: &MnKey, now: Instant) -> Result<(), MagError> {
        let Some(e) = self.entries.get(key) else {
            return Err(MagError::NotFound(key.clone()));
        };
        match e.phase {
            Phase::Deregistering => return Ok(()),
            Phase::Registering => self.events.push_back(MagEvent::Failed {
                key: key.clone(),
                failure: Failure::Cancelled,
            }),
            _ => {}
        }
        self.start_exchange(key, Phase::Deregistering, now);
        Ok(())
    }

    /// Forgets `key` without signalling (the node lost interest, e.g. at shutdown).
    pub fn forget(&mut self, key: &MnKey) {
        if let Some(e) = self.entries.remove(key) {
            self.release_seq(e.seq, key);
        }
    }

    /// Forgets the outstanding PBU `seq` if it is `key`'s. An entry's `seq` is the number of
    /// its last exchange (0 before the first), which may since belong to another entry's
    /// exchange: removing it blindly made that other exchange's PBA unmatched ("no matching
    /// binding update (sequence 0)"), and its registration fail after all retransmissions.
    fn release_seq(&mut self, seq: u16, key: &MnKey) {
        if self.outstanding.get(&seq) == Some(key) {
            self.outstanding.remove(&seq);
        }
    }

    /// The next sequence number no outstanding PBU uses. New registrations stop at 60,000
    /// outstanding, but refreshes and de-registrations of more bindings than that may use all
    /// 65,536: then the number is shared, and a PBA is told apart by its MN-ID.
    fn take_seq(&mut self) -> u16 {
        let first = self.next_seq;
        loop {
            let seq = self.next_seq;
            self.next_seq = self.next_seq.wrapping_add(1);
            if !self.outstanding.contains_key(&seq) || self.next_seq == first {
                return seq;
            }
        }
    }

    fn start_exchange(&mut self, key: &MnKey, phase: Phase, now: Instant) {
        let Some(old) = self.entries.get(key).map(|e| e.seq) else {
            return;
        };
        self.release_seq(old, key);
        let seq = self.take_seq();
        let Some(e) = self.entries.get_mut(key) else {
            return;
        };
        e.phase = phase;
        e.seq = seq;
        e.transmissions = 0;
        e.rto = self.config.initial_timeout;
        self.outstanding.insert(seq, key.clone());
        self.transmit(key, now);
    }

    fn transmit(&mut self, key: &MnKey, now: Instant) {
        let ts = self.config.timestamps.then(|| self.clock.timestamp(now));
        let Some(e) = self.entries.get_mut(key) else {
            return;
        };
        let b = e.binding.as_ref();
        let (hnp, v4, hi_value, lifetime) = match e.phase {
            Phase::Registering => (
                e.req.want_v6.then_some((Ipv6Addr::UNSPECIFIED, 0u8)),
                e.req.want_v4.then_some((Ipv4Addr::UNSPECIFIED, 0u8)),
                e.req.hi,
                self.config.lifetime,
            ),
            Phase::Refreshing | Phase::Registered | Phase::Deregistering => (
                b.and_then(|b| b.hnp)
                    .or_else(|| e.req.want_v6.then_some((Ipv6Addr::UNSPECIFIED, 0))),
                b.and_then(|b| b.v4)
                    .or_else(|| e.req.want_v4.then_some((Ipv4Addr::UNSPECIFIED, 0))),
                hi::NOT_CHANGED,
                if e.phase == Phase::Deregistering {
                    0
                } else {
                    self.config.lifetime
                },
            ),
        };
        let pbu = Pbu {
            seq: e.seq,
            flags: bu_flags::A | bu_flags::H | bu_flags::P,
            lifetime,
            nai: Some(e.req.key.nai.to_string()),
            apn: (!e.req.key.apn.is_empty()).then(|| e.req.key.apn.to_string()),
            hnp,
            v4_request: v4,
            hi: Some(hi_value),
            att: Some(e.req.att.unwrap_or(self.config.att)),
            timestamp: ts,
            home_gw: e.req.home_gw,
            multiple_v4: false,
        };
        e.transmissions += 1;
        // The timeout, stretched by a random 0–20 %: PBUs sent in one burst (a mass detach)
        // and lost together are not retransmitted together again.
        let mut x = self.jitter;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.jitter = x;
        let deadline = now + e.rto + e.rto.mul_f64((x % 1000) as f64 / 5000.0);
        e.rto = (e.rto * 2).min(self.config.max_timeout);
        let gen = self.next_gen;
        self.next_gen += 1;
        e.timer_gen = gen;
        self.timers.push(Reverse((deadline, gen, key.clone())));
        self.transmits.push_back(Transmit {
            peer: e.req.lma,
            mh: build_pbu(&pbu),
        });
    }

    fn schedule(&mut self, key: &MnKey, at: Instant) {
        let gen = self.next_gen;
        self.next_gen += 1;
        if let Some(e) = self.entries.get_mut(key) {
            e.timer_gen = gen;
            self.timers.push(Reverse((at, gen, key.clone())));
        }
    }

    /// A Mobility Header from `peer`: only a PBA matching an outstanding PBU is acted on.
    pub fn handle(&mut self, peer: SocketAddr, mh: &[u8], now: Instant) -> Result<(), InputError> {
        let pba = parse_pba(mh)?;
        let Some(key) = self.outstanding.get(&pba.seq).cloned() else {
            return Err(InputError::NoMatch(pba.seq));
        };
        let Some(e) = self.entries.get_mut(&key) else {
            self.outstanding.remove(&pba.seq);
            return Err(InputError::NoMatch(pba.seq));
        };
        if e.req.lma != peer {
            return Err(InputError::NoMatch(pba.seq));
        }
        if let Some(nai) = &pba.nai {
            if **nai != *key.nai {
                return Err(InputError::NoMatch(pba.seq));
            }
        }
        if pba.status == status::TIMESTAMP_MISMATCH
            && e.transmissions < self.config.max_transmissions
        {
            // RFC 5213 §5.5: the PBU's timestamp was outside the LMA's window — our clocks
            // differ, or (seen in a mass de-registration) the PBU waited in the LMA's queue
            // longer than the window. Sent again at once, with a fresh timestamp; refusing
            // the de-registration for good left the binding at the LMA until its lifetime.
            self.transmit(&key, now);
            return Ok(());
        }
        self.outstanding.remove(&pba.seq);
        let phase = e.phase;
        if phase == Phase::Deregistering {
            let binding = self.entries.remove(&key).and_then(|e| e.binding);
            self.events
                .push_back(MagEvent::Deregistered { key, binding });
            return Ok(());
        }
        // Accepted, and it granted something asked for.
        let hnp = pba
            .hnp
            .filter(|p| e.req.want_v6 && !is_unspecified_prefix(p));
        let v4 = pba
            .v4_reply
            .filter(|r| e.req.want_v4 && r.0 == 0 && !r.1.is_unspecified())
            .map(|r| (r.1, r.2));
        let failure = if pba.status >= 128 {
            Some(Failure::Status(pba.status))
        } else if (hnp.is_none() && v4.is_none()) || pba.lifetime == 0 {
            Some(Failure::Status(status::REASON_UNSPECIFIED))
        } else {
            None
        };
        if let Some(failure) = failure {
            let binding = self.entries.remove(&key).and_then(|e| e.binding);
            self.events.push_back(if phase == Phase::Registering {
                MagEvent::Failed { key, failure }
            } else {
                MagEvent::Lost {
                    key,
                    failure,
                    binding,
                }
            });
            return Ok(());
        }
        let binding = Binding {
            lma: peer,
            hnp,
            v4,
            v4_router: pba.v4_router.filter(|_| v4.is_some()),
            lifetime: Duration::from_secs(pba.lifetime as u64),
        };
        e.phase = Phase::Registered;
        e.binding = Some(binding.clone());
        let refresh = Duration::from_secs_f32(
            (pba.lifetime as f32 * self.config.refresh_fraction.clamp(0.1, 0.95)).max(1.0),
        );
        self.schedule(&key, now + refresh);
        self.events.push_back(if phase == Phase::Registering {
            MagEvent::Registered { key, binding }
        } else {
            MagEvent::Refreshed { key, binding }
        });
        Ok(())
    }

    /// The next moment `handle_timeout` has work.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, gen, key))) = self.timers.peek() {
            if self.entries.get(key).is_some_and(|e| e.timer_gen == *gen) {
                return Some(*at);
            }
            self.timers.pop();
        }
        None
    }

    /// Retransmissions, give-ups and refreshes due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((at, gen, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let gen = *gen;
            let Some(Reverse((_, _, key))) = self.timers.pop() else {
                break;
            };
            let Some(e) = self.entries.get(&key) else {
                continue;
            };
            if e.timer_gen != gen {
                continue;
            }
            match e.phase {
                Phase::Registered => self.start_exchange(&key, Phase::Refreshing, now),
                phase if e.transmissions < self.config.max_transmissions => {
                    let _ = phase;
                    self.transmit(&key, now)
                }
                phase => {
                    let mut binding = None;
                    if let Some(e) = self.entries.remove(&key) {
                        self.release_seq(e.seq, &key);
                        binding = e.binding;
                    }
                    self.events.push_back(match phase {
                        Phase::Registering => MagEvent::Failed {
                            key,
                            failure: Failure::Timeout,
                        },
                        Phase::Refreshing => MagEvent::Lost {
                            key,
                            failure: Failure::Timeout,
                            binding,
                        },
                        _ => MagEvent::Deregistered { key, binding },
                    });
                }
            }
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<MagEvent> {
        self.events.pop_front()
    }
}
