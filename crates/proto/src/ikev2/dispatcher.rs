//! The responder side of a node (ePDG, PDN GW, LMA): many IKE SAs behind one pair of
//! ports. The dispatcher routes each datagram by our SPI (by initiator SPI and address for
//! IKE_SA_INIT retransmissions), creates SAs for new IKE_SA_INIT requests, and protects
//! itself: above `cookie_threshold` half-open SAs it answers with a stateless COOKIE
//! (RFC 7296 §2.6) and creates state only for requests that return it; above
//! `max_half_open` it drops new requests. INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN and
//! INVALID_SYNTAX for IKE_SA_INIT are answered without creating state.
//!
//! Timers: one heap of (deadline, SA) entries with lazy invalidation, so
//! `poll_timeout`/`handle_timeout` cost O(log n) per SA touched, not O(n).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mobstrap_crypto::ikev2::Prf;
use mobstrap_wire::ikev2::{
    classify_udp4500, flags, ExchangeType, Header, Message, NotifyType, Packet, PayloadBody,
    Udp4500, NON_ESP_MARKER,
};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use super::eap::{EapPeer, EapReply};
use super::sa::{init_error_reply, IkeSa, InitReject};
use super::{Addresses, Config, Error, Event, Transmit};

/// An SA's handle in a dispatcher (stable for the SA's life, across IKE SA rekeys).
pub type SaId = u64;

/// What one SA holds in the indexes: its SPIs and its IKE_SA_INIT key while half-open.
type IndexEntry = (Vec<[u8; 8]>, Option<(SocketAddr, [u8; 8])>);

/// Dispatcher settings.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// Half-open SAs (IKE_SA_INIT answered, IKE_AUTH not completed) from which on a COOKIE
    /// is required (0: always). strongSwan's default is 10.
    pub cookie_threshold: usize,
    /// Half-open SAs beyond which new IKE_SA_INIT requests are dropped.
    pub max_half_open: usize,
    /// Total SAs beyond which new IKE_SA_INIT requests are dropped.
    pub max_sas: usize,
    /// The cookie secret changes this often (the previous one stays valid).
    pub cookie_secret_lifetime: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            cookie_threshold: 10,
            max_half_open: 100_000,
            max_sas: 10_000_000,
            cookie_secret_lifetime: Duration::from_secs(120),
        }
    }
}

/// Counters (for metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatcherStats {
    pub sas_created: u64,
    pub cookies_sent: u64,
    pub cookies_rejected: u64,
    pub init_rejected: u64,
    pub dropped: u64,
}

const COOKIE_LEN: usize = 4 + 16;

/// See the module documentation.
pub struct Dispatcher {
    config: Arc<Config>,
    dconfig: DispatcherConfig,
    rng: Box<dyn RngCore + Send>,
    sa_rng: Option<Arc<Mutex<StdRng>>>,
    /// Boxed: an `IkeSa` is over a kilobyte, and a table of them inline doubles it (the
    /// table grows by powers of two: up to half of it is empty slots of full size).
    sas: HashMap<SaId, Box<IkeSa>>,
    by_spi: HashMap<[u8; 8], SaId>,
    by_init: HashMap<(SocketAddr, [u8; 8]), SaId>,
    /// SA → the keys it holds in `by_spi` and `by_init`.
    index: HashMap<SaId, IndexEntry>,
    half_open: HashSet<SaId>,
    next_id: SaId,
    timers: BinaryHeap<Reverse<(Instant, SaId)>>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<(SaId, Event)>,
    secret: [u8; 32],
    secret_version: u32,
    prev_secret: Option<[u8; 32]>,
    secret_since: Option<Instant>,
    stats: DispatcherStats,
}

impl core::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("sas", &self.sas.len())
            .field("half_open", &self.half_open.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// One generator (seeded from the dispatcher's) shared by the dispatcher's SAs: a generator of
/// their own cost every SA 320 bytes of ChaCha state for the few nonces, SPIs and DH keys it
/// draws in its life.
struct SharedRng(Arc<Mutex<StdRng>>);

impl SharedRng {
    fn with<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        // The generator's state is valid whatever panicked while it was held.
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl RngCore for SharedRng {
    fn next_u32(&mut self) -> u32 {
        self.with(|r| r.next_u32())
    }
    fn next_u64(&mut self) -> u64 {
        self.with(|r| r.next_u64())
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.with(|r| r.fill_bytes(dst))
    }
}

impl Dispatcher {
    /// `rng` must be cryptographically secure; the SAs draw from a generator seeded from it.
    pub fn new(
        config: Arc<Config>,
        dconfig: DispatcherConfig,
        mut rng: Box<dyn RngCore + Send>,
    ) -> Self {
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        Dispatcher {
            config,
            dconfig,
            rng,
            sa_rng: None,
            sas: HashMap::new(),
            by_spi: HashMap::new(),
            by_init: HashMap::new(),
            index: HashMap::new(),
            half_open: HashSet::new(),
            next_id: 1,
            timers: BinaryHeap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            secret,
            secret_version: 1,
            prev_secret: None,
            secret_since: None,
            stats: DispatcherStats::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.sas.len()
    }
    pub fn is_empty(&self) -> bool {
        self.sas.is_empty()
    }
    pub fn half_open(&self) -> usize {
        self.half_open.len()
    }
    pub fn stats(&self) -> DispatcherStats {
        self.stats
    }
    pub fn sa(&self, id: SaId) -> Option<&IkeSa> {
        self.sas.get(&id).map(|b| &**b)
    }
    pub fn ids(&self) -> impl Iterator<Item = SaId> + '_ {
        self.sas.keys().copied()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<(SaId, Event)> {
        self.events.pop_front()
    }

    /// Entries in the timer heap (about one per SA with a deadline; tests and metrics).
    pub fn timer_entries(&self) -> usize {
        self.timers.len()
    }

    pub fn poll_timeout(&mut self) -> Option<Instant> {
        // Drop stale heap entries at the top; an SA whose armed entry turned out early
        // (its deadline moved later) is armed again at its real deadline.
        while let Some(Reverse((t, id))) = self.timers.peek().copied() {
            let Some(sa) = self.sas.get_mut(&id) else {
                self.timers.pop();
                continue;
            };
            match sa.poll_timeout() {
                Some(real) if real == t => return Some(t),
                Some(real) if real < t => {
                    sa.timer_armed = Some(real);
                    self.timers.push(Reverse((real, id)));
                    return Some(real);
                }
                real => {
                    self.timers.pop();
                    if sa.timer_armed == Some(t) {
                        sa.timer_armed = real;
                        if let Some(r) = real {
                            self.timers.push(Reverse((r, id)));
                        }
                    }
                }
            }
        }
        None
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        let mut due = Vec::new();
        while let Some(Reverse((t, id))) = self.timers.peek().copied() {
            if t > now {
                break;
            }
            self.timers.pop();
            if let Some(sa) = self.sas.get_mut(&id) {
                if sa.timer_armed == Some(t) {
                    sa.timer_armed = None;
                }
            }
            due.push(id);
        }
        due.sort_unstable();
        due.dedup();
        for id in due {
            if let Some(sa) = self.sas.get_mut(&id) {
                if sa.poll_timeout().is_some_and(|t| t <= now) {
                    sa.handle_timeout(now);
                }
                self.after(id, now);
            }
        }
        if self.timers.len() > 2 * self.sas.len() + 1024 {
            self.rebuild_timers();
        }
    }

    fn rebuild_timers(&mut self) {
        self.timers = self
            .sas
            .iter_mut()
            .filter_map(|(id, s)| {
                s.timer_armed = s.poll_timeout();
                s.timer_armed.map(|t| Reverse((t, *id)))
            })
            .collect();
    }

    /// Runs `f` on an SA (an application call such as `eap_reply`), then collects its
    /// output. Returns `None` for an unknown (or closed) SA.
    pub fn with_sa<R>(
        &mut self,
        id: SaId,
        now: Instant,
        f: impl FnOnce(&mut IkeSa, Instant) -> R,
    ) -> Option<R> {
        let sa = self.sas.get_mut(&id)?;
        let r = f(sa, now);
        self.after(id, now);
        Some(r)
    }

    pub fn eap_reply(&mut self, id: SaId, reply: EapReply, now: Instant) -> bool {
        self.with_sa(id, now, |s, now| s.eap_reply(reply, now))
            .is_some()
    }

    pub fn provide_addresses(&mut self, id: SaId, addresses: Addresses, now: Instant) -> bool {
        self.with_sa(id, now, |s, now| s.provide_addresses(addresses, now))
            .is_some()
    }

    pub fn fail_addresses(&mut self, id: SaId, now: Instant) -> bool {
        self.with_sa(id, now, |s, now| s.fail_addresses(now))
            .is_some()
    }

    /// Refuses a responder's IKE_AUTH with an error notify (see `IkeSa::refuse_auth`).
    pub fn refuse_auth(&mut self, id: SaId, notify: NotifyType, now: Instant) -> bool {
        self.with_sa(id, now, |s, now| s.refuse_auth(notify, now))
            .is_some()
    }

    pub fn delete(&mut self, id: SaId, now: Instant) -> bool {
        self.with_sa(id, now, |s, now| s.delete(now)).is_some()
    }

    /// Starts an SA as initiator within this dispatcher (a node that both answers and
    /// initiates, e.g. a MAG).
    pub fn connect(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        eap: Option<Box<dyn EapPeer>>,
    ) -> Result<SaId, Error> {
        self.connect_as(now, local, remote, eap, None)
    }

    /// [`Dispatcher::connect`] with this SA's own identity (IDi) instead of the
    /// configuration's: one initiator node for many UEs, each with its NAI.
    pub fn connect_as(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        eap: Option<Box<dyn EapPeer>>,
        local_id: Option<super::Identity>,
    ) -> Result<SaId, Error> {
        let rng = self.sa_rng();
        let mut sa = IkeSa::initiate(self.config.clone(), rng, eap, local, remote, now)?;
        if let Some(id) = local_id {
            sa.set_local_id(id);
        }
        let id = self.next_id;
        self.next_id += 1;
        let spi = sa.local_spi();
        self.by_spi.insert(spi, id);
        self.index.insert(id, (vec![spi], None));
        self.sas.insert(id, Box::new(sa));
        self.after(id, now);
        Ok(id)
    }

    fn sa_rng(&mut self) -> Box<dyn RngCore + Send> {
        let shared = self.sa_rng.get_or_insert_with(|| {
            let mut seed = [0u8; 32];
            self.rng.fill_bytes(&mut seed);
            Arc::new(Mutex::new(StdRng::from_seed(seed)))
        });
        Box::new(SharedRng(shared.clone()))
    }

    /// Moves an SA's output into the dispatcher's queues and keeps the indexes current.
    fn after(&mut self, id: SaId, now: Instant) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        while let Some(t) = sa.poll_transmit() {
            self.transmits.push_back(t);
        }
        let mut closed = false;
        while let Some(e) = sa.poll_event() {
            match &e {
                Event::Established(_) => {
                    self.half_open.remove(&id);
                    if let Some((_, init)) = self.index.get_mut(&id) {
                        if let Some(k) = init.take() {
                            self.by_init.remove(&k);
                        }
                    }
                }
                Event::IkeRekeyed { new_local_spi, .. } => {
                    self.by_spi.insert(*new_local_spi, id);
                    if let Some((spis, _)) = self.index.get_mut(&id) {
                        spis.push(*new_local_spi);
                    }
                }
                Event::IkeSpiRetired { local_spi } => {
                    if self.by_spi.get(local_spi) == Some(&id) {
                        self.by_spi.remove(local_spi);
                    }
                    if let Some((spis, _)) = self.index.get_mut(&id) {
                        spis.retain(|s| s != local_spi);
                    }
                }
                Event::Closed(_) => closed = true,
                _ => {}
            }
            self.events.push_back((id, e));
        }
        if closed {
            self.remove(id);
            return;
        }
        if sa.is_established() {
            sa.compact();
        }
        // One heap entry per SA at its earliest deadline: an SA touched by every message of
        // an attach would otherwise leave an entry per message (stale ones are dropped only
        // when they come up). A later deadline waits for the armed entry to fire.
        if let Some(t) = sa.poll_timeout() {
            if sa.timer_armed.is_none_or(|armed| t < armed) {
                sa.timer_armed = Some(t);
                self.timers.push(Reverse((t, id)));
            }
        }
        let _ = now;
    }

    fn remove(&mut self, id: SaId) {
        self.sas.remove(&id);
        self.half_open.remove(&id);
        if let Some((spis, init)) = self.index.remove(&id) {
            for s in spis {
                if self.by_spi.get(&s) == Some(&id) {
                    self.by_spi.remove(&s);
                }
            }
            if let Some(k) = init {
                self.by_init.remove(&k);
            }
        }
    }

    fn answer(&mut self, local: SocketAddr, remote: SocketAddr, msg: Vec<u8>) {
        let data = if local.port() == self.config.ports.natt
            && self.config.ports.natt != self.config.ports.ike
        {
            let mut v = Vec::with_capacity(4 + msg.len());
            v.extend_from_slice(&NON_ESP_MARKER);
            v.extend_from_slice(&msg);
            v
        } else {
            msg
        };
        self.transmits.push_back(Transmit {
            local,
            remote,
            data,
        });
    }

    fn rotate_secret(&mut self, now: Instant) {
        match self.secret_since {
            None => self.secret_since = Some(now),
            Some(t) if now.saturating_duration_since(t) >= self.dconfig.cookie_secret_lifetime => {
                self.prev_secret = Some(self.secret);
                self.rng.fill_bytes(&mut self.secret);
                self.secret_version = self.secret_version.wrapping_add(1);
                self.secret_since = Some(now);
            }
            _ => {}
        }
    }

    /// Cookie = version (4) | HMAC-SHA-256(secret, Ni | IPi | SPIi)[..16] (RFC 7296 §2.6).
    fn cookie(
        secret: &[u8; 32],
        version: u32,
        ni: &[u8],
        ip: &SocketAddr,
        spi_i: &[u8; 8],
    ) -> [u8; COOKIE_LEN] {
        let ipb = match ip.ip() {
            std::net::IpAddr::V4(a) => a.octets().to_vec(),
            std::net::IpAddr::V6(a) => a.octets().to_vec(),
        };
        let h = Prf::HmacSha256.compute_parts(secret, &[ni, &ipb, spi_i]);
        let mut c = [0u8; COOKIE_LEN];
        c[..4].copy_from_slice(&version.to_be_bytes());
        c[4..].copy_from_slice(&h.as_bytes()[..16]);
        c
    }

    fn cookie_ok(&self, got: &[u8], ni: &[u8], remote: &SocketAddr, spi_i: &[u8; 8]) -> bool {
        use subtle::ConstantTimeEq;
        if got.len() != COOKIE_LEN {
            return false;
        }
        let v = u32::from_be_bytes([got[0], got[1], got[2], got[3]]);
        let secret = if v == self.secret_version {
            self.secret
        } else if v == self.secret_version.wrapping_sub(1) {
            match self.prev_secret {
                Some(s) => s,
                None => return false,
            }
        } else {
            return false;
        };
        let want = Self::cookie(&secret, v, ni, remote, spi_i);
        bool::from(want[..].ct_eq(got))
    }

    /// Feeds one datagram received on `local` from `remote`. On the NAT-T port, ESP and
    /// keepalives are not the dispatcher's: the node demultiplexes them first (they are
    /// ignored here).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        let natt = local.port() == self.config.ports.natt
            && self.config.ports.natt != self.config.ports.ike;
        let msg = if natt {
            match classify_udp4500(data) {
                Ok(Udp4500::Ike(m)) => m,
                _ => return,
            }
        } else {
            data
        };
        let Ok(pkt) = Packet::new_checked(msg) else {
            self.stats.dropped += 1;
            return;
        };
        let response = pkt.flags() & flags::RESPONSE != 0;
        let from_initiator = pkt.flags() & flags::INITIATOR != 0;
        let exchange = pkt.exchange_type();
        if pkt.major_version() != 2 {
            // RFC 7296 §2.5: tell the sender the version we speak.
            if exchange == ExchangeType::IkeSaInit && !response && pkt.major_version() > 2 {
                let h = Header::new(pkt.spi_i(), [0; 8], exchange, 0, pkt.message_id());
                let m = init_error_reply(&h, [0; 8], NotifyType::InvalidMajorVersion, &[]);
                self.answer(local, remote, m);
            }
            self.stats.dropped += 1;
            return;
        }
        let (spi_i, spi_r) = (pkt.spi_i(), pkt.spi_r());
        if exchange == ExchangeType::IkeSaInit && !response && spi_r == [0; 8] && from_initiator {
            if let Some(&id) = self.by_init.get(&(remote, spi_i)) {
                if let Some(sa) = self.sas.get_mut(&id) {
                    sa.handle_datagram(now, local, remote, data);
                    self.after(id, now);
                }
                return;
            }
            self.new_sa(now, local, remote, msg);
            return;
        }
        let ours = if from_initiator { spi_r } else { spi_i };
        let Some(&id) = self.by_spi.get(&ours) else {
            // Unknown SPI: dropped (an INVALID_IKE_SPI answer is optional, §2.21.4).
            self.stats.dropped += 1;
            return;
        };
        if let Some(sa) = self.sas.get_mut(&id) {
            sa.handle_datagram(now, local, remote, data);
            self.after(id, now);
        }
    }

    fn new_sa(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, msg: &[u8]) {
        if self.half_open.len() >= self.dconfig.max_half_open
            || self.sas.len() >= self.dconfig.max_sas
        {
            self.stats.dropped += 1;
            return;
        }
        if self.half_open.len() >= self.dconfig.cookie_threshold {
            self.rotate_secret(now);
            // Stateless check: the request must start with our COOKIE.
            let Ok(m) = Message::parse(msg) else {
                self.stats.dropped += 1;
                return;
            };
            let ni = m.payloads.iter().find_map(|p| match &p.body {
                PayloadBody::Nonce(n) => Some(*n),
                _ => None,
            });
            let Some(ni) = ni else {
                self.stats.dropped += 1;
                return;
            };
            let got = match m.payloads.first().map(|p| &p.body) {
                Some(PayloadBody::Notify(n)) if n.notify_type == NotifyType::Cookie => Some(n.data),
                _ => None,
            };
            let ok = got.is_some_and(|c| self.cookie_ok(c, ni, &remote, &m.header.spi_i));
            if !ok {
                if got.is_some() {
                    self.stats.cookies_rejected += 1;
                }
                let c = Self::cookie(
                    &self.secret,
                    self.secret_version,
                    ni,
                    &remote,
                    &m.header.spi_i,
                );
                let reply = init_error_reply(&m.header, [0; 8], NotifyType::Cookie, &c);
                self.stats.cookies_sent += 1;
                self.answer(local, remote, reply);
                return;
            }
        }
        let mut spi_r = [0u8; 8];
        while spi_r == [0; 8] || self.by_spi.contains_key(&spi_r) {
            self.rng.fill_bytes(&mut spi_r);
        }
        let rng = self.sa_rng();
        match IkeSa::accept(self.config.clone(), rng, spi_r, local, remote, msg, now) {
            Ok(sa) => {
                let id = self.next_id;
                self.next_id += 1;
                let key = (remote, sa.spi_i());
                self.by_spi.insert(spi_r, id);
                self.by_init.insert(key, id);
                self.index.insert(id, (vec![spi_r], Some(key)));
                self.half_open.insert(id);
                self.sas.insert(id, Box::new(sa));
                self.stats.sas_created += 1;
                self.after(id, now);
            }
            Err(InitReject::Answer(m)) => {
                self.stats.init_rejected += 1;
                self.answer(local, remote, m);
            }
            Err(InitReject::Drop) => self.stats.dropped += 1,
        }
    }
}
