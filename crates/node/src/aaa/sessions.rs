//! Tables of the AAA's in-memory state, sharded so that concurrent requests rarely meet on a
//! lock: unfinished EAP conversations (keyed by RADIUS State or Diameter Session-Id) and
//! authorized Diameter sessions (keyed by Session-Id).
//!
//! A conversation is taken out of the table while a request of it is being processed (the
//! entry is marked busy), so two requests of one conversation never run at once; it is put
//! back afterwards or removed when the conversation ended. Idle entries expire; the table is
//! bounded (a new conversation beyond the bound is refused, existing ones continue).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const SHARDS: usize = 64;

/// An entry: the value, or a marker that a request of it is being processed.
enum Slot<V> {
    Idle(V, Instant),
    Busy(Instant),
}

/// What [`Table::take`] found.
pub(crate) enum Take<V> {
    Got(V),
    Busy,
    Unknown,
}

/// Why an insert was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    Full,
    Exists,
}

/// foldhash, seeded per process: the keys come from peers, and SipHash (twice: shard, then
/// map) was 4 % of the AAA's CPU.
type Map<K, V> = HashMap<K, Slot<V>, foldhash::fast::RandomState>;
type Shard<K, V> = Mutex<Map<K, V>>;

pub(crate) struct Table<K, V> {
    shards: Box<[Shard<K, V>]>,
    hasher: foldhash::fast::RandomState,
    len: AtomicUsize,
    max: usize,
}

impl<K: Hash + Eq, V> Table<K, V> {
    pub fn new(max: usize) -> Self {
        Table {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(HashMap::default()))
                .collect(),
            hasher: Default::default(),
            len: AtomicUsize::new(0),
            max,
        }
    }

    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, Map<K, V>> {
        let i = (self.hasher.hash_one(key) as usize) % SHARDS;
        // Every update is a single map operation: a poisoned shard is still consistent.
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Entries (idle and busy).
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Inserts a new entry already marked busy (its first request is being processed).
    pub fn insert_busy(&self, key: K, now: Instant) -> Result<(), Refused> {
        if self.len.load(Ordering::Relaxed) >= self.max {
            return Err(Refused::Full);
        }
        let mut s = self.shard(&key);
        if s.contains_key(&key) {
            return Err(Refused::Exists);
        }
        s.insert(key, Slot::Busy(now));
        self.len.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Takes the value out (the entry stays, marked busy).
    pub fn take<Q>(&self, key: &Q, now: Instant) -> Take<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut s = self.shard(key);
        let Some(slot) = s.get_mut(key) else {
            return Take::Unknown;
        };
        match std::mem::replace(slot, Slot::Busy(now)) {
            Slot::Idle(v, _) => Take::Got(v),
            busy @ Slot::Busy(_) => {
                *slot = busy;
                Take::Busy
            }
        }
    }

    /// Puts a value back (or in, while there is room) as idle.
    pub fn put<Q>(&self, key: &Q, v: V, now: Instant)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut s = self.shard(key);
        match s.get_mut(key) {
            Some(slot) => *slot = Slot::Idle(v, now),
            None => {
                // Bounded: beyond the limit a new entry is not kept.
                if self.len.load(Ordering::Relaxed) < self.max {
                    s.insert(key.to_owned(), Slot::Idle(v, now));
                    self.len.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Removes an entry (idle or busy); its value if it was idle.
    pub fn remove<Q>(&self, key: &Q) -> Option<Option<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let r = self.shard(key).remove(key)?;
        self.len.fetch_sub(1, Ordering::Relaxed);
        Some(match r {
            Slot::Idle(v, _) => Some(v),
            Slot::Busy(_) => None,
        })
    }

    /// Reads an idle value.
    pub fn with<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.shard(key).get(key) {
            Some(Slot::Idle(v, _)) => Some(f(v)),
            _ => None,
        }
    }

    /// Drops idle entries untouched for `idle` and busy ones stuck for `busy`; how many.
    pub fn expire(&self, now: Instant, idle: Duration, busy: Duration) -> usize {
        let mut n = 0;
        for shard in self.shards.iter() {
            let mut s = shard.lock().unwrap_or_else(|e| e.into_inner());
            let before = s.len();
            s.retain(|_, slot| match slot {
                Slot::Idle(_, t) => now.saturating_duration_since(*t) < idle,
                Slot::Busy(t) => now.saturating_duration_since(*t) < busy,
            });
            n += before - s.len();
        }
        self.len.fetch_sub(n, Ordering::Relaxed);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_put_remove_expire_and_bound() {
        let t: Table<String, u32> = Table::new(2);
        let now = Instant::now();
        t.insert_busy("a".into(), now).unwrap();
        assert!(matches!(t.take("a", now), Take::Busy));
        t.put("a", 1, now);
        assert!(matches!(t.take("a", now), Take::Got(1)));
        assert!(matches!(t.take("a", now), Take::Busy), "taken: busy");
        t.put("a", 2, now);
        assert_eq!(t.with("a", |v| *v), Some(2));
        assert!(matches!(t.take("zz", now), Take::Unknown));
        assert_eq!(t.insert_busy("a".into(), now), Err(Refused::Exists));
        t.insert_busy("b".into(), now).unwrap();
        assert_eq!(t.insert_busy("c".into(), now), Err(Refused::Full));
        assert_eq!(t.len(), 2);
        let later = now + Duration::from_secs(10);
        assert_eq!(
            t.expire(later, Duration::from_secs(5), Duration::from_secs(60)),
            1
        );
        assert_eq!(t.len(), 1);
        assert!(
            matches!(t.take("a", later), Take::Unknown),
            "idle one expired"
        );
        assert_eq!(t.remove("b"), Some(None));
        assert_eq!(t.len(), 0);
    }
}
