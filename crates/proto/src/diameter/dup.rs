//! Duplicate detection (RFC 6733 §3, §6.1.9): a request is known by its Origin-Host and
//! End-to-End Identifier. A duplicate (typically retransmitted with the T flag after a
//! failover) gets the first request's answer again instead of being executed twice.
//!
//! The cache is bounded by a time window and a number of entries (oldest first out); a
//! duplicate arriving after its entry left is executed again. `A` is the node's stored
//! answer (cheap to clone, e.g. `bytes::Bytes`).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::{Duration, Instant};

/// The keys are already a hash (of Origin-Host) and a counter: a multiply-mix is enough and
/// much cheaper than SipHash on this per-request path. An attacker choosing End-to-End
/// Identifiers only slows its own entries' bucket (the host hash differs per peer).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(v as u64);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// What [`DuplicateCache::begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DupStatus<A> {
    /// First time: process it (and call [`DuplicateCache::complete`] with the answer).
    New,
    /// The first copy is still being processed: drop this one.
    InProgress,
    /// Already answered: send this answer again (with this request's Hop-by-Hop Identifier).
    Answered(A),
}

#[derive(Debug)]
enum Slot<A> {
    InProgress,
    Answered(A),
}

type KeyMap<V> = HashMap<(u64, u32), V, BuildHasherDefault<KeyHasher>>;

/// See the module documentation.
#[derive(Debug)]
pub struct DuplicateCache<A> {
    map: KeyMap<(Slot<A>, Instant)>,
    fifo: VecDeque<((u64, u32), Instant)>,
    window: Duration,
    capacity: usize,
}

/// FNV-1a, 64 bits, over the identity as received.
fn host_key(origin_host: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in origin_host.as_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl<A: Clone> DuplicateCache<A> {
    /// `capacity` 0 disables detection.
    pub fn new(window: Duration, capacity: usize) -> Self {
        DuplicateCache {
            map: HashMap::default(),
            fifo: VecDeque::new(),
            window,
            capacity,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(k, t)) = self.fifo.front() {
            if self.fifo.len() <= self.capacity && t + self.window > now {
                break;
            }
            self.fifo.pop_front();
            if self.map.get(&k).is_some_and(|(_, t0)| *t0 == t) {
                self.map.remove(&k);
            }
        }
    }

    /// Drops the entries that have left the window and, when the tables have emptied to a
    /// quarter of what they hold room for, gives that room back: entries otherwise leave only
    /// when the next request arrives, so an idle node kept the answers of its last busy
    /// seconds (and the table sized for them). Call it now and then (a node does every few
    /// seconds).
    pub fn sweep(&mut self, now: Instant) {
        if self.capacity == 0 {
            return;
        }
        self.expire(now);
        if self.map.capacity() > 64 && self.map.len() * 4 < self.map.capacity() {
            self.map.shrink_to(self.map.len() * 2);
        }
        if self.fifo.capacity() > 64 && self.fifo.len() * 4 < self.fifo.capacity() {
            self.fifo.shrink_to(self.fifo.len() * 2);
        }
    }

    /// Room the tables hold (entries), for tests and metrics.
    pub fn allocated(&self) -> usize {
        self.map.capacity() + self.fifo.capacity()
    }

    /// A request arrived; records it as in progress when new.
    pub fn begin(&mut self, origin_host: &str, end_to_end: u32, now: Instant) -> DupStatus<A> {
        if self.capacity == 0 {
            return DupStatus::New;
        }
        self.expire(now);
        let k = (host_key(origin_host), end_to_end);
        match self.map.get(&k) {
            Some((Slot::InProgress, _)) => DupStatus::InProgress,
            Some((Slot::Answered(a), _)) => DupStatus::Answered(a.clone()),
            None => {
                self.map.insert(k, (Slot::InProgress, now));
                self.fifo.push_back((k, now));
                DupStatus::New
            }
        }
    }

    /// The answer to a request recorded by [`DuplicateCache::begin`].
    pub fn complete(&mut self, origin_host: &str, end_to_end: u32, answer: A) {
        if self.capacity == 0 {
            return;
        }
        if let Some((slot, _)) = self.map.get_mut(&(host_key(origin_host), end_to_end)) {
            *slot = Slot::Answered(answer);
        }
    }

    /// Forgets a request that got no answer (so a retransmission is executed).
    pub fn abandon(&mut self, origin_host: &str, end_to_end: u32) {
        let k = (host_key(origin_host), end_to_end);
        if matches!(self.map.get(&k), Some((Slot::InProgress, _))) {
            self.map.remove(&k);
        }
    }
}
