//! The LMA's binding cache (RFC 5213 §5.3, RFC 5844 §3.1) and the visited gateway's relay
//! toward the home gateway (seed 002 steps 11–14).
//!
//! Processing order of a PBU (RFC 5213 §5.3.1): proxy flag, MN-ID (160), MAG authorisation
//! (154), duplicate (answered from the binding's last reply), timestamp window (156) and
//! ordering (157) — or, without timestamps, sequence numbers (135) — HNP / IPv4 request
//! present (158), HI (161), ATT (162), one IPv4 request (173), then de-registration, refresh
//! or a new binding. A new binding needs the node: [`LmaEvent::Authorize`] (AAA + pools),
//! answered with [`Lma::complete`]. A PBU carrying the home gateway vendor option, on a gateway
//! configured to relay, becomes a pending binding registered upstream by an embedded
//! [`Mag`]; the MAG is answered after the home gateway's PBA, with its prefix and address.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use mobstrap_wire::mh::{self, ba_flags};

use super::mag::{AttachRequest, Failure, Mag, MagConfig, MagEvent};
use super::{
    build_pba, is_unspecified_prefix, parse_pbu, status, timestamp_diff_ns, v4_reply, Clock,
    InputError, MnKey, Pba, Pbu, Prefix6, Transmit,
};

/// LMA settings.
#[derive(Debug, Clone)]
pub struct LmaConfig {
    /// Largest lifetime granted, seconds.
    pub max_lifetime: u32,
    /// RFC 5213 TimestampValidityWindow.
    pub timestamp_window: Duration,
    /// Refuse PBUs without a Timestamp option (156); otherwise order them by sequence number.
    pub require_timestamp: bool,
    /// MAGs allowed to register (`None`: any; the transport is expected to be protected).
    pub allowed_mags: Option<Vec<IpAddr>>,
    /// Relay PBUs carrying the home gateway option to that gateway (visited gateway role);
    /// the embedded MAG uses these settings.
    pub relay: Option<MagConfig>,
    /// UDP port of home gateways (the vendor option carries only their address).
    pub relay_port: u16,
    /// Most bindings and pending registrations (beyond: 130).
    pub max_bindings: usize,
}

impl Default for LmaConfig {
    fn default() -> Self {
        LmaConfig {
            max_lifetime: 86400,
            timestamp_window: Duration::from_millis(300),
            require_timestamp: true,
            allowed_mags: None,
            relay: None,
            relay_port: mobstrap_wire::mh::udp::PORT_CONTROL,
            max_bindings: 1_000_000,
        }
    }
}

/// What the node allocated for a mobility session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allocation {
    pub hnp: Option<Prefix6>,
    pub v4: Option<(Ipv4Addr, u8)>,
    pub v4_router: Option<Ipv4Addr>,
}

/// A new binding to authorise and allocate for (node: AAA over S6b, then the pools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorize {
    pub id: u64,
    pub key: MnKey,
    pub mag: SocketAddr,
    pub want_v6: bool,
    pub want_v4: bool,
    /// A specific prefix the MAG asked for (not `::/0`): refuse with 155 unless it is the one
    /// the pool holds for `key`.
    pub hnp_hint: Option<Prefix6>,
    /// A specific IPv4 address the MAG asked for: refuse with 171 unless it is the pool's.
    pub v4_hint: Option<Ipv4Addr>,
    pub lifetime: u32,
}

/// Why a binding left the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveReason {
    Deregistered,
    Expired,
    /// The home gateway refused or stopped answering a refresh (relay bindings).
    UpstreamLost,
    /// Authorised after the MAG gave up (de-registered while pending): release only.
    Cancelled,
}

/// What the LMA tells its node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LmaEvent {
    Authorize(Authorize),
    /// A new binding: route its prefix/address toward `mag` (tunnel), count it.
    Registered {
        key: MnKey,
        mag: SocketAddr,
        allocation: Allocation,
        lifetime: u32,
        /// Relay bindings: the home gateway holding the real binding.
        relayed_to: Option<SocketAddr>,
    },
    Refreshed {
        key: MnKey,
        mag: SocketAddr,
        lifetime: u32,
    },
    /// Binding gone: remove routes; release the allocation and end the AAA session unless
    /// `relayed_to` is set (the home gateway owns those).
    Removed {
        key: MnKey,
        mag: SocketAddr,
        allocation: Allocation,
        reason: RemoveReason,
        relayed_to: Option<SocketAddr>,
    },
    /// A PBU was refused (metrics / logs).
    Refused {
        key: Option<MnKey>,
        status: u8,
    },
}

#[derive(Debug)]
struct Bce {
    mag: SocketAddr,
    allocation: Allocation,
    lifetime: u32,
    last_ts: Option<u64>,
    last_seq: u16,
    last_reply: Vec<u8>,
    timer_gen: u64,
    relayed_to: Option<SocketAddr>,
}

#[derive(Debug)]
struct Pending {
    id: u64,
    mag: SocketAddr,
    pbu: Pbu,
    relayed_to: Option<SocketAddr>,
}

/// The LMA engine.
#[derive(Debug)]
pub struct Lma {
    config: LmaConfig,
    clock: Clock,
    next_id: u64,
    next_gen: u64,
    cache: HashMap<MnKey, Bce>,
    pending: HashMap<MnKey, Pending>,
    pending_ids: HashMap<u64, MnKey>,
    timers: BinaryHeap<Reverse<(Instant, u64, MnKey)>>,
    upstream: Option<Mag>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<LmaEvent>,
}

impl Lma {
    pub fn new(config: LmaConfig, now: Instant, wall: SystemTime, seq_seed: u16) -> Self {
        let upstream = config
            .relay
            .clone()
            .map(|c| Mag::new(c, now, wall, seq_seed));
        Lma {
            config,
            clock: Clock::new(now, wall),
            next_id: 1,
            next_gen: 1,
            cache: HashMap::new(),
            pending: HashMap::new(),
            pending_ids: HashMap::new(),
            timers: BinaryHeap::new(),
            upstream,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub fn config(&self) -> &LmaConfig {
        &self.config
    }

    /// Bindings in the cache.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// Registrations waiting for the node or the home gateway.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The binding of `key`: (MAG, allocation, relay target).
    pub fn binding(&self, key: &MnKey) -> Option<(SocketAddr, &Allocation, Option<SocketAddr>)> {
        self.cache
            .get(key)
            .map(|b| (b.mag, &b.allocation, b.relayed_to))
    }

    /// Every binding (for the node's user-plane routes).
    pub fn bindings(&self) -> impl Iterator<Item = (&MnKey, SocketAddr, &Allocation)> {
        self.cache.iter().map(|(k, b)| (k, b.mag, &b.allocation))
    }

    /// A Mobility Header from `peer`: a PBU from a MAG, or (relay) a PBA from a home gateway.
    pub fn handle(
        &mut self,
        peer: SocketAddr,
        bytes: &[u8],
        now: Instant,
    ) -> Result<(), InputError> {
        let pkt =
            mh::Packet::new_checked(bytes).map_err(|e| InputError::Malformed(e.to_string()))?;
        match pkt.mh_type() {
            mh::MhType::BindingAcknowledgement => {
                let Some(up) = self.upstream.as_mut() else {
                    return Err(InputError::Unexpected("binding acknowledgement"));
                };
                up.handle(peer, bytes, now)?;
                self.drain_upstream(now);
                Ok(())
            }
            mh::MhType::BindingUpdate => {
                let pbu = parse_pbu(bytes)?;
                self.handle_pbu(peer, pbu, now);
                Ok(())
            }
            _ => Err(InputError::Unexpected("not a binding update")),
        }
    }

    fn reply(&mut self, peer: SocketAddr, pbu: &Pbu, status: u8, ts_now: bool, now: Instant) {
        let ts = if ts_now {
            Some(self.clock.timestamp(now))
        } else {
            pbu.timestamp
        };
        let pba = Pba {
            status,
            flags: ba_flags::P,
            seq: pbu.seq,
            lifetime: 0,
            nai: pbu.nai.clone(),
            apn: pbu.apn.clone(),
            hnp: pbu.hnp,
            v4_reply: pbu
                .v4_request
                .map(|(a, l)| (v4_reply::FAILURE_UNSPECIFIED, a, l)),
            v4_router: None,
            hi: pbu.hi,
            att: pbu.att,
            timestamp: ts,
        };
        let key = pbu
            .nai
            .as_ref()
            .map(|n| MnKey::new(n.clone(), pbu.apn.clone().unwrap_or_default()));
        self.events.push_back(LmaEvent::Refused { key, status });
        self.transmits.push_back(Transmit {
            peer,
            mh: build_pba(&pba),
        });
    }

    fn accept_pba(pbu: &Pbu, alloc: &Allocation, lifetime: u32) -> Vec<u8> {
        let v4_reply = pbu.v4_request.map(|(a, l)| match alloc.v4 {
            Some((addr, len)) => (v4_reply::SUCCESS, addr, len),
            None => (v4_reply::DYNAMIC_ASSIGNMENT_NOT_AVAILABLE, a, l),
        });
        build_pba(&Pba {
            status: status::ACCEPTED,
            flags: ba_flags::P,
            seq: pbu.seq,
            lifetime,
            nai: pbu.nai.clone(),
            apn: pbu.apn.clone(),
            hnp: if pbu.hnp.is_some() {
                alloc.hnp.or(pbu.hnp)
            } else {
                None
            },
            v4_reply,
            v4_router: alloc
                .v4_router
                .filter(|_| alloc.v4.is_some() && pbu.v4_request.is_some()),
            hi: pbu.hi,
            att: pbu.att,
            timestamp: pbu.timestamp,
        })
    }

    fn handle_pbu(&mut self, peer: SocketAddr, pbu: Pbu, now: Instant) {
        if pbu.flags & mh::bu_flags::P == 0 {
            return self.reply(
                peer,
                &pbu,
                status::HOME_REGISTRATION_NOT_SUPPORTED,
                false,
                now,
            );
        }
        let Some(nai) = pbu.nai.clone() else {
            return self.reply(peer, &pbu, status::MISSING_MN_IDENTIFIER_OPTION, false, now);
        };
        if let Some(allowed) = &self.config.allowed_mags {
            if !allowed.contains(&peer.ip()) {
                return self.reply(
                    peer,
                    &pbu,
                    status::MAG_NOT_AUTHORIZED_FOR_PROXY_REG,
                    false,
                    now,
                );
            }
        }
        let key = MnKey::new(nai, pbu.apn.clone().unwrap_or_default());
        // A retransmission of what was last accepted: the same answer, nothing re-done.
        if let Some(b) = self.cache.get(&key) {
            if b.mag == peer && b.last_seq == pbu.seq && b.last_ts == pbu.timestamp {
                let mh = b.last_reply.clone();
                self.transmits.push_back(Transmit { peer, mh });
                return;
            }
        }
        if let Some(p) = self.pending.get_mut(&key) {
            if p.mag == peer && pbu.lifetime != 0 {
                // Still working on it: answer this copy's sequence number when done.
                p.pbu.seq = pbu.seq;
                p.pbu.timestamp = pbu.timestamp;
                return;
            }
        }
        match pbu.timestamp {
            Some(ts) => {
                let skew = timestamp_diff_ns(ts, self.clock.timestamp(now)).unsigned_abs();
                if skew > self.config.timestamp_window.as_nanos() {
                    return self.reply(peer, &pbu, status::TIMESTAMP_MISMATCH, true, now);
                }
                if let Some(last) = self.cache.get(&key).and_then(|b| b.last_ts) {
                    if ts <= last {
                        return self.reply(
                            peer,
                            &pbu,
                            status::TIMESTAMP_LOWER_THAN_PREV_ACCEPTED,
                            true,
                            now,
                        );
                    }
                }
            }
            None if self.config.require_timestamp => {
                return self.reply(peer, &pbu, status::TIMESTAMP_MISMATCH, true, now);
            }
            None => {
                if let Some(b) = self.cache.get(&key) {
                    // RFC 6275 §9.5.1: newer modulo 2^16.
                    let d = pbu.seq.wrapping_sub(b.last_seq);
                    if d == 0 || d >= 0x8000 {
                        let last = b.last_seq;
                        // The PBA carries the last accepted number (RFC 6275 §9.5.1).
                        let mut p = pbu.clone();
                        p.seq = last;
                        return self.reply(peer, &p, status::SEQUENCE_OUT_OF_WINDOW, false, now);
                    }
                }
            }
        }
        if pbu.hnp.is_none() && pbu.v4_request.is_none() {
            return self.reply(
                peer,
                &pbu,
                status::MISSING_HOME_NETWORK_PREFIX_OPTION,
                false,
                now,
            );
        }
        if pbu.hi.is_none() {
            return self.reply(
                peer,
                &pbu,
                status::MISSING_HANDOFF_INDICATOR_OPTION,
                false,
                now,
            );
        }
        if pbu.att.is_none() {
            return self.reply(
                peer,
                &pbu,
                status::MISSING_ACCESS_TECH_TYPE_OPTION,
                false,
                now,
            );
        }
        if pbu.multiple_v4 {
            return self.reply(
                peer,
                &pbu,
                status::MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED,
                false,
                now,
            );
        }
        if pbu.lifetime == 0 {
            return self.deregister(peer, key, pbu, now);
        }
        if self.cache.contains_key(&key) {
            return self.refresh(peer, key, pbu, now);
        }
        if self.cache.len() + self.pending.len() >= self.config.max_bindings {
            return self.reply(peer, &pbu, status::INSUFFICIENT_RESOURCES, false, now);
        }
        let lifetime = pbu.lifetime.min(self.config.max_lifetime);
        let id = self.next_id;
        self.next_id += 1;
        if let (Some(home), Some(up)) = (pbu.home_gw, self.upstream.as_mut()) {
            let home = SocketAddr::new(home, self.config.relay_port);
            let mut req = AttachRequest::new(key.clone(), home);
            req.want_v6 = pbu.hnp.is_some();
            req.want_v4 = pbu.v4_request.is_some();
            req.hi = pbu.hi.unwrap_or(super::hi::NEW_INTERFACE);
            req.att = pbu.att;
            if up.attach(req, now).is_err() {
                return self.reply(peer, &pbu, status::INSUFFICIENT_RESOURCES, false, now);
            }
            self.pending_ids.insert(id, key.clone());
            self.pending.insert(
                key,
                Pending {
                    id,
                    mag: peer,
                    pbu,
                    relayed_to: Some(home),
                },
            );
            self.drain_upstream(now);
            return;
        }
        self.events.push_back(LmaEvent::Authorize(Authorize {
            id,
            key: key.clone(),
            mag: peer,
            want_v6: pbu.hnp.is_some(),
            want_v4: pbu.v4_request.is_some(),
            hnp_hint: pbu.hnp.filter(|p| !is_unspecified_prefix(p)),
            v4_hint: pbu
                .v4_request
                .map(|(a, _)| a)
                .filter(|a| !a.is_unspecified()),
            lifetime,
        }));
        self.pending_ids.insert(id, key.clone());
        self.pending.insert(
            key,
            Pending {
                id,
                mag: peer,
                pbu,
                relayed_to: None,
            },
        );
    }

    fn refresh(&mut self, peer: SocketAddr, key: MnKey, pbu: Pbu, now: Instant) {
        let Some(b) = self.cache.get(&key) else {
            return;
        };
        // The prefix/address asked for must be the binding's (RFC 5213 §5.3.2).
        if let (Some(req), Some(have)) = (pbu.hnp, b.allocation.hnp) {
            if !is_unspecified_prefix(&req) && req != have {
                return self.reply(
                    peer,
                    &pbu,
                    status::BCE_PBU_PREFIX_SET_DO_NOT_MATCH,
                    false,
                    now,
                );
            }
        }
        if let (Some((req, _)), Some((have, _))) = (pbu.v4_request, b.allocation.v4) {
            if !req.is_unspecified() && req != have {
                return self.reply(
                    peer,
                    &pbu,
                    status::NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS,
                    false,
                    now,
                );
            }
        }
        let mut lifetime = pbu.lifetime.min(self.config.max_lifetime);
        if let (Some(_), Some(up)) = (b.relayed_to, self.upstream.as_ref()) {
            if let Some(ub) = up.binding(&key) {
                lifetime = lifetime.min(ub.lifetime.as_secs() as u32).max(1);
            }
        }
        let reply = Self::accept_pba(&pbu, &b.allocation, lifetime);
        let gen = self.next_gen;
        self.next_gen += 1;
        let Some(b) = self.cache.get_mut(&key) else {
            return;
        };
        b.mag = peer;
        b.lifetime = lifetime;
        b.last_ts = pbu.timestamp;
        b.last_seq = pbu.seq;
        b.last_reply = reply.clone();
        b.timer_gen = gen;
        self.timers.push(Reverse((
            now + Duration::from_secs(lifetime as u64),
            gen,
            key.clone(),
        )));
        self.transmits.push_back(Transmit { peer, mh: reply });
        self.events.push_back(LmaEvent::Refreshed {
            key,
            mag: peer,
            lifetime,
        });
    }

    fn deregister(&mut self, peer: SocketAddr, key: MnKey, pbu: Pbu, now: Instant) {
        if let Some(p) = self.pending.get(&key) {
            if p.mag == peer {
                // Cancelled while pending: `complete` releases what was allocated.
                if let Some(p) = self.pending.remove(&key) {
                    if p.relayed_to.is_some() {
                        self.pending_ids.remove(&p.id);
                        if let Some(up) = self.upstream.as_mut() {
                            let _ = up.detach(&key, now);
                        }
                    }
                }
            }
        }
        let owned = self.cache.get(&key).is_some_and(|b| b.mag == peer);
        if owned {
            if let Some(b) = self.cache.remove(&key) {
                if b.relayed_to.is_some() {
                    if let Some(up) = self.upstream.as_mut() {
                        let _ = up.detach(&key, now);
                    }
                }
                self.events.push_back(LmaEvent::Removed {
                    key: key.clone(),
                    mag: b.mag,
                    allocation: b.allocation,
                    reason: RemoveReason::Deregistered,
                    relayed_to: b.relayed_to,
                });
            }
        }
        // Accepted whether or not there was a binding (RFC 5213 §5.3.5).
        let reply = build_pba(&Pba {
            status: status::ACCEPTED,
            flags: ba_flags::P,
            seq: pbu.seq,
            lifetime: 0,
            nai: pbu.nai.clone(),
            apn: pbu.apn.clone(),
            hnp: pbu.hnp,
            v4_reply: None,
            v4_router: None,
            hi: pbu.hi,
            att: pbu.att,
            timestamp: pbu.timestamp,
        });
        self.transmits.push_back(Transmit { peer, mh: reply });
        self.drain_upstream(now);
    }

    /// The node's answer to [`LmaEvent::Authorize`]: the allocation, or the PBA status to
    /// refuse with (e.g. 130 pool exhausted, 129/151 AAA refusal, 155/171 wrong hint).
    pub fn complete(&mut self, id: u64, result: Result<Allocation, u8>, now: Instant) {
        let Some(key) = self.pending_ids.remove(&id) else {
            return;
        };
        let pending = match self.pending.get(&key) {
            Some(p) if p.id == id => self.pending.remove(&key),
            _ => None,
        };
        let Some(p) = pending else {
            // Cancelled meanwhile: give back what was allocated.
            if let Ok(allocation) = result {
                self.events.push_back(LmaEvent::Removed {
                    key,
                    mag: SocketAddr::from(([0, 0, 0, 0], 0)),
                    allocation,
                    reason: RemoveReason::Cancelled,
                    relayed_to: None,
                });
            }
            return;
        };
        match result {
            Err(st) => self.reply(p.mag, &p.pbu, st.max(128), false, now),
            Ok(allocation) => self.install(key, p, allocation, now),
        }
    }

    fn install(&mut self, key: MnKey, p: Pending, allocation: Allocation, now: Instant) {
        let lifetime = p.pbu.lifetime.min(self.config.max_lifetime);
        let reply = Self::accept_pba(&p.pbu, &allocation, lifetime);
        let gen = self.next_gen;
        self.next_gen += 1;
        self.timers.push(Reverse((
            now + Duration::from_secs(lifetime as u64),
            gen,
            key.clone(),
        )));
        self.transmits.push_back(Transmit {
            peer: p.mag,
            mh: reply.clone(),
        });
        self.events.push_back(LmaEvent::Registered {
            key: key.clone(),
            mag: p.mag,
            allocation: allocation.clone(),
            lifetime,
            relayed_to: p.relayed_to,
        });
        self.cache.insert(
            key,
            Bce {
                mag: p.mag,
                allocation,
                lifetime,
                last_ts: p.pbu.timestamp,
                last_seq: p.pbu.seq,
                last_reply: reply,
                timer_gen: gen,
                relayed_to: p.relayed_to,
            },
        );
    }

    fn drain_upstream(&mut self, now: Instant) {
        let Some(up) = self.upstream.as_mut() else {
            return;
        };
        let mut evs = Vec::new();
        while let Some(e) = up.poll_event() {
            evs.push(e);
        }
        for e in evs {
            match e {
                MagEvent::Registered { key, binding } => {
                    let Some(p) = self.pending.remove(&key) else {
                        // The MAG went away meanwhile.
                        if let Some(up) = self.upstream.as_mut() {
                            let _ = up.detach(&key, now);
                        }
                        continue;
                    };
                    self.pending_ids.remove(&p.id);
                    let allocation = Allocation {
                        hnp: binding.hnp,
                        v4: binding.v4,
                        v4_router: binding.v4_router,
                    };
                    self.install(key, p, allocation, now);
                }
                MagEvent::Failed { key, failure } => {
                    if let Some(p) = self.pending.remove(&key) {
                        self.pending_ids.remove(&p.id);
                        let st = match failure {
                            Failure::Status(s) => s,
                            Failure::Timeout | Failure::Cancelled => status::REASON_UNSPECIFIED,
                        };
                        self.reply(p.mag, &p.pbu, st, false, now);
                    }
                }
                MagEvent::Lost { key, .. } => {
                    if let Some(b) = self.cache.remove(&key) {
                        self.events.push_back(LmaEvent::Removed {
                            key,
                            mag: b.mag,
                            allocation: b.allocation,
                            reason: RemoveReason::UpstreamLost,
                            relayed_to: b.relayed_to,
                        });
                    }
                }
                MagEvent::Refreshed { .. } | MagEvent::Deregistered { .. } => {}
            }
        }
    }

    /// The next moment `handle_timeout` has work.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let mut own = None;
        while let Some(Reverse((at, gen, key))) = self.timers.peek() {
            if self.cache.get(key).is_some_and(|b| b.timer_gen == *gen) {
                own = Some(*at);
                break;
            }
            self.timers.pop();
        }
        let up = self.upstream.as_mut().and_then(|u| u.poll_timeout());
        match (own, up) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Binding expiry and the relay's retransmissions/refreshes due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((at, gen, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let gen = *gen;
            let Some(Reverse((_, _, key))) = self.timers.pop() else {
                break;
            };
            if self.cache.get(&key).is_none_or(|b| b.timer_gen != gen) {
                continue;
            }
            if let Some(b) = self.cache.remove(&key) {
                if b.relayed_to.is_some() {
                    if let Some(up) = self.upstream.as_mut() {
                        let _ = up.detach(&key, now);
                    }
                }
                self.events.push_back(LmaEvent::Removed {
                    key,
                    mag: b.mag,
                    allocation: b.allocation,
                    reason: RemoveReason::Expired,
                    relayed_to: b.relayed_to,
                });
            }
        }
        if let Some(up) = self.upstream.as_mut() {
            up.handle_timeout(now);
        }
        self.drain_upstream(now);
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits
            .pop_front()
            .or_else(|| self.upstream.as_mut().and_then(|u| u.poll_transmit()))
    }

    pub fn poll_event(&mut self) -> Option<LmaEvent> {
        self.events.pop_front()
    }
}
