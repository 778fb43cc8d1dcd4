//! # mobstrap-store: persistent state
//!
//! The embedded HSS (subscribers, keys, profiles), SQN allocation, and the EAP-AKA temporary
//! identities, behind one contract ([`Backend`]) with two back ends chosen by URL: SQLite
//! (the default: `sqlite:///path/db.sqlite` or a bare path; the file is created and migrated
//! at open) and PostgreSQL (`postgres://…`; several AAA / gateway nodes sharing state). One
//! schema, migrations per database (`migrations/{sqlite,postgres}`), applied at open.
//!
//! [`Store`] is what a node holds: the back end plus
//! * the SQN allocator ([`sqn`]): `next_sqn` returns an SQN that is durable in the database
//!   and never issued before — also across a crash, and across nodes sharing PostgreSQL —
//!   with one group-committed write per block of SEQ values, not one fsync per
//!   authentication;
//! * a subscriber cache: an authentication reads K/OPc from memory; updates and deletes
//!   through this `Store` invalidate it, and entries expire after
//!   [`StoreOptions::cache_ttl`] so changes made by another process are picked up.
//!
//! This crate may not touch sockets or protocol logic: nodes call it. It is documented for
//! users in `docs/store.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backend;
pub mod csv;
mod error;
pub mod model;
pub mod pool;
pub mod sqn;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use backend::{
    AnyBackend, Backend, BackendKind, ConnectOptions, Provision, Purged, StoredSubscriber,
    WriteMode,
};
pub use error::{Error, Result};
pub use model::{
    AaaSessionRecord, AccessType, AkaMethod, Amf, ApnProfile, FieldError, GatewaySelection,
    HostRef, Imsi, Ipv6Prefix, Key128, MncLen, PdnType, PermanentIdentity, PseudonymRecord,
    ReauthRecord, SessionKind, Subscriber, SubscriberProfile,
};
pub use pool::PoolSpec;
pub use sqn::SqnPolicy;

/// How a [`Store`] is opened.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Pool and timeouts.
    pub connect: ConnectOptions,
    /// SQN allocation of this node.
    pub sqn: SqnPolicy,
    /// How long a cached subscriber is trusted (changes made through this `Store` take
    /// effect at once; changes made by another process after at most this long). `None`:
    /// no cache.
    pub cache_ttl: Option<Duration>,
    /// Most subscribers kept in the cache (the cache is emptied when it is full).
    pub cache_capacity: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            connect: ConnectOptions::default(),
            sqn: SqnPolicy::default(),
            cache_ttl: Some(Duration::from_secs(60)),
            cache_capacity: 1_000_000,
        }
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

struct Cache {
    /// foldhash, seeded per process (IMSIs come from peers).
    map: RwLock<HashMap<String, (Arc<StoredSubscriber>, Instant), foldhash::fast::RandomState>>,
    ttl: Option<Duration>,
    capacity: usize,
    /// Bumped by every invalidation, so a load that raced with an update is not cached.
    generation: AtomicU64,
}

impl Cache {
    fn get(&self, imsi: &str) -> Option<Arc<StoredSubscriber>> {
        let ttl = self.ttl?;
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        let (s, at) = map.get(imsi)?;
        (at.elapsed() < ttl).then(|| s.clone())
    }

    fn put(&self, generation: u64, s: Arc<StoredSubscriber>) {
        if self.ttl.is_none() {
            return;
        }
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(s.subscriber.imsi.as_str().to_owned(), (s, Instant::now()));
    }

    /// Drops the entries past their TTL (and, once the table is three-quarters empty, the
    /// room they took): `get` only ignores them, so without this an idle node kept every
    /// subscriber it had served until the capacity was reached. Returns how many left.
    fn sweep(&self) -> usize {
        let Some(ttl) = self.ttl else { return 0 };
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        let before = map.len();
        map.retain(|_, (_, at)| at.elapsed() < ttl);
        if map.capacity() > 64 && map.len() * 4 < map.capacity() {
            let keep = map.len() * 2;
            map.shrink_to(keep);
        }
        before - map.len()
    }

    fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn invalidate(&self, imsi: Option<&str>) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        match imsi {
            Some(i) => {
                map.remove(i);
            }
            None => map.clear(),
        }
    }
}

/// Where a cache miss gets its answer.
type LoadReply = tokio::sync::oneshot::Sender<Result<Option<Arc<StoredSubscriber>>>>;

/// Most IMSIs one batched load asks for.
const LOAD_BATCH: usize = 64;

/// The batched subscriber loader ("group read", the counterpart of the group commit):
/// cache misses queue here, and one task turns everything queued into one statement per
/// batch, up to `parallel` statements at a time (one per connection). Under load a miss
/// costs a fraction of a round trip to the database instead of one each: with SQLite every
/// statement is a hand-off to the connection's worker thread, and during a burst of first
/// attaches each of those was a thread wake-up and a context switch on both sides. A lone
/// miss is one statement, as before; several concurrent misses of one IMSI are one row.
fn start_loader(
    db: Arc<AnyBackend>,
    parallel: usize,
) -> tokio::sync::mpsc::UnboundedSender<(String, LoadReply)> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, LoadReply)>();
    let permits = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    tokio::spawn(async move {
        let mut queued = Vec::with_capacity(LOAD_BATCH);
        loop {
            if rx.recv_many(&mut queued, LOAD_BATCH).await == 0 {
                break;
            }
            // While every connection is busy, more misses queue and join this batch.
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            while queued.len() < LOAD_BATCH {
                match rx.try_recv() {
                    Ok(item) => queued.push(item),
                    Err(_) => break,
                }
            }
            let batch = std::mem::replace(&mut queued, Vec::with_capacity(LOAD_BATCH));
            let db = db.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let mut waiters: HashMap<String, Vec<LoadReply>> =
                    HashMap::with_capacity(batch.len());
                for (imsi, reply) in batch {
                    waiters.entry(imsi).or_default().push(reply);
                }
                let loaded = {
                    let keys: Vec<&str> = waiters.keys().map(String::as_str).collect();
                    db.load_subscribers(&keys).await
                };
                match loaded {
                    Ok(found) => {
                        let mut found: HashMap<String, Arc<StoredSubscriber>> = found
                            .into_iter()
                            .map(|s| (s.subscriber.imsi.as_str().to_owned(), Arc::new(s)))
                            .collect();
                        for (imsi, replies) in waiters {
                            let s = found.remove(&imsi);
                            for r in replies {
                                let _ = r.send(Ok(s.clone()));
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, subscribers = waiters.len(), "subscriber load failed");
                        for r in waiters.into_values().flatten() {
                            let _ = r.send(Err(e.duplicate()));
                        }
                    }
                }
            });
        }
    });
    tx
}

struct Inner {
    db: Arc<AnyBackend>,
    cache: Cache,
    /// The batched loader of cache misses.
    loader: tokio::sync::mpsc::UnboundedSender<(String, LoadReply)>,
    sqn: sqn::Allocator,
    /// The address-pool writer (group commit, [`pool`]).
    pool: tokio::sync::mpsc::UnboundedSender<pool::PoolOp>,
}

/// A node's handle on the store: cheap to clone, shared by every task of the node.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.db.kind())
            .field("sqn", self.inner.sqn.policy())
            .finish()
    }
}

impl Store {
    /// Opens `url` with default options (must run inside a tokio runtime: the group-commit
    /// writer is a task).
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with(url, StoreOptions::default()).await
    }

    /// Opens `url`: connects, creates (SQLite) and migrates, starts the SQN writer.
    pub async fn open_with(url: &str, opts: StoreOptions) -> Result<Self> {
        opts.sqn.validate()?;
        let db = Arc::new(AnyBackend::open(url, &opts.connect).await?);
        let sqn = sqn::Allocator::start(db.clone(), opts.sqn);
        let pool = pool::start_writer(db.clone());
        let loader = start_loader(db.clone(), opts.connect.max_connections as usize);
        Ok(Self {
            inner: Arc::new(Inner {
                loader,
                db,
                cache: Cache {
                    map: RwLock::new(HashMap::default()),
                    ttl: opts.cache_ttl,
                    capacity: opts.cache_capacity.max(1),
                    generation: AtomicU64::new(0),
                },
                sqn,
                pool,
            }),
        })
    }

    pub(crate) fn pool_writer(&self) -> &tokio::sync::mpsc::UnboundedSender<pool::PoolOp> {
        &self.inner.pool
    }

    /// The back end (for operations this facade does not wrap).
    pub fn backend(&self) -> &AnyBackend {
        &self.inner.db
    }

    /// SQLite or PostgreSQL.
    pub fn kind(&self) -> BackendKind {
        self.inner.db.kind()
    }

    /// This node's SQN policy.
    pub fn sqn_policy(&self) -> &SqnPolicy {
        self.inner.sqn.policy()
    }

    // --- subscribers -------------------------------------------------------------------

    /// Provisions one new subscriber; [`Error::Exists`] if the IMSI is taken.
    pub async fn add_subscriber(&self, p: &Provision) -> Result<()> {
        self.write_subscribers(std::slice::from_ref(p), WriteMode::Add)
            .await
            .map(|_| ())
    }

    /// Provisions several subscribers in one transaction (all or none).
    pub async fn write_subscribers(&self, subs: &[Provision], mode: WriteMode) -> Result<usize> {
        let r = self
            .inner
            .db
            .write_subscribers(subs, mode, unix_now())
            .await;
        for p in subs {
            self.inner
                .cache
                .invalidate(Some(p.subscriber.imsi.as_str()));
            if p.sqn.is_some() {
                // The counter may have moved up past this node's block.
                self.inner.sqn.forget(p.subscriber.imsi.as_str());
            }
        }
        r
    }

    /// One subscriber, from the cache when fresh.
    pub async fn subscriber(&self, imsi: &Imsi) -> Result<Option<Arc<StoredSubscriber>>> {
        if let Some(s) = self.inner.cache.get(imsi.as_str()) {
            metrics::counter!("mobstrap_store_subscriber_cache_total", "result" => "hit")
                .increment(1);
            return Ok(Some(s));
        }
        metrics::counter!("mobstrap_store_subscriber_cache_total", "result" => "miss").increment(1);
        let generation = self.inner.cache.generation.load(Ordering::Acquire);
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.inner
            .loader
            .send((imsi.as_str().to_owned(), reply))
            .map_err(|_| Error::Closed)?;
        let loaded = rx.await.map_err(|_| Error::Closed)??;
        if let Some(s) = &loaded {
            self.inner.cache.put(generation, s.clone());
        }
        Ok(loaded)
    }

    /// Drops cached subscribers past `StoreOptions::cache_ttl` and their room; returns how
    /// many. A node calls it now and then (the AAA every `store.purge_interval`).
    pub fn sweep_cache(&self) -> usize {
        self.inner.cache.sweep()
    }

    /// Subscribers in the cache (fresh or not yet swept).
    pub fn cached_subscribers(&self) -> usize {
        self.inner.cache.len()
    }

    /// One subscriber read from the database (the SEQ high-water mark is current).
    pub async fn subscriber_uncached(&self, imsi: &Imsi) -> Result<Option<StoredSubscriber>> {
        self.inner.db.load_subscriber(imsi).await
    }

    /// Up to `limit` subscribers after `after`, in IMSI order.
    pub async fn list_subscribers(
        &self,
        after: Option<&Imsi>,
        limit: u32,
    ) -> Result<Vec<StoredSubscriber>> {
        self.inner.db.list_subscribers(after, limit).await
    }

    /// Number of subscribers.
    pub async fn count_subscribers(&self) -> Result<u64> {
        self.inner.db.count_subscribers().await
    }

    /// Deletes a subscriber (and its temporary identities); whether it existed.
    pub async fn delete_subscriber(&self, imsi: &Imsi) -> Result<bool> {
        let r = self.inner.db.delete_subscriber(imsi).await;
        self.inner.cache.invalidate(Some(imsi.as_str()));
        self.inner.sqn.forget(imsi.as_str());
        r
    }

    /// Drops every cached subscriber (after a bulk change made elsewhere).
    pub fn invalidate_cache(&self) {
        self.inner.cache.invalidate(None);
    }

    // --- SQN ---------------------------------------------------------------------------

    /// The SQN for the next authentication vector of `imsi`: committed to the database
    /// before it is returned, and never returned before (see [`sqn`]).
    pub async fn next_sqn(&self, imsi: &Imsi) -> Result<u64> {
        self.inner.sqn.next_sqn(imsi.as_str()).await
    }

    /// Resynchronisation: `sqn_ms` is SQN_MS recovered from AUTS (after MAC-S was checked).
    /// The next SQN will have a SEQ above SEQ_MS. Never moves the counter backwards.
    /// Returns the new SEQ high-water mark.
    pub async fn resync_sqn(&self, imsi: &Imsi, sqn_ms: u64) -> Result<u64> {
        self.inner.sqn.resync(imsi.as_str(), sqn_ms).await
    }

    /// Administrative reset of the SEQ counter, also backwards: the next SQN will have
    /// SEQ = SEQ(`sqn`) + 1. Only for a replaced card whose SQN_MS is far below ours (see
    /// `docs/store.md`): SQNs may then repeat values issued to the old card.
    pub async fn reset_sqn(&self, imsi: &Imsi, sqn: u64) -> Result<()> {
        let hwm = sqn::split(sqn).0 + 1;
        let found = self.inner.db.set_seq_hwm(imsi, hwm).await?;
        self.inner.sqn.forget(imsi.as_str());
        if found {
            Ok(())
        } else {
            Err(Error::NotFound {
                imsi: imsi.to_string(),
            })
        }
    }

    // --- shared secrets ------------------------------------------------------------------

    /// The secret `name` every node on this database shares (table `aaa_secret`): the one
    /// stored, or `fresh` if none was, stored now. Nodes racing to create it all get the
    /// first one stored.
    pub async fn shared_secret(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>> {
        self.inner.db.shared_secret(name, fresh, unix_now()).await
    }

    // --- temporary identities ----------------------------------------------------------

    /// Stores a pseudonym; returns once it is committed (group-committed with other
    /// writes). [`Error::NotFound`] if the subscriber does not exist.
    pub async fn put_pseudonym(&self, rec: PseudonymRecord) -> Result<()> {
        wait(self.inner.sqn.queue_pseudonym(rec, true)?).await
    }

    /// Queues a pseudonym for the next group commit without waiting. A crash before the
    /// commit loses it; the peer then falls back to its permanent identity.
    pub fn put_pseudonym_nowait(&self, rec: PseudonymRecord) -> Result<()> {
        self.inner.sqn.queue_pseudonym(rec, false).map(|_| ())
    }

    /// The pseudonym `username` if it has not expired at `now`.
    pub async fn pseudonym(&self, username: &str, now: i64) -> Result<Option<PseudonymRecord>> {
        self.inner.db.pseudonym(username, now).await
    }

    /// Removes a pseudonym.
    pub async fn delete_pseudonym(&self, username: &str) -> Result<bool> {
        self.inner.db.delete_pseudonym(username).await
    }

    /// Stores a fast re-authentication identity; returns once it is committed.
    pub async fn put_reauth(&self, rec: ReauthRecord) -> Result<()> {
        rec.validate()?;
        wait(self.inner.sqn.queue_reauth(rec, true)?).await
    }

    /// Queues a fast re-authentication identity for the next group commit without waiting.
    pub fn put_reauth_nowait(&self, rec: ReauthRecord) -> Result<()> {
        rec.validate()?;
        self.inner.sqn.queue_reauth(rec, false).map(|_| ())
    }

    /// The fast re-authentication identity `username` if it has not expired (read only).
    pub async fn reauth(&self, username: &str, now: i64) -> Result<Option<ReauthRecord>> {
        self.inner.db.reauth(username, now).await
    }

    /// Takes (reads and deletes, atomically) a fast re-authentication identity: it is
    /// one-time, and with several nodes only one of them gets it.
    pub async fn take_reauth(&self, username: &str, now: i64) -> Result<Option<ReauthRecord>> {
        self.inner.db.take_reauth(username, now).await
    }

    /// Waits until every write queued so far (also the `_nowait` ones) is committed; call
    /// before shutting down.
    pub async fn flush(&self) -> Result<()> {
        self.inner.sqn.flush().await
    }

    // --- AAA sessions ----------------------------------------------------------------------

    /// Stores (inserts or replaces) an AAA session; returns once it is committed
    /// (group-committed with other writes). [`Error::NotFound`] if the subscriber does not
    /// exist.
    pub async fn put_session(&self, rec: AaaSessionRecord) -> Result<()> {
        rec.validate()?;
        wait(self.inner.sqn.queue_session(rec, true)?).await
    }

    /// Queues an AAA session for the next group commit without waiting.
    pub fn put_session_nowait(&self, rec: AaaSessionRecord) -> Result<()> {
        rec.validate()?;
        self.inner.sqn.queue_session(rec, false).map(|_| ())
    }

    /// The AAA session `session_id` if it has not expired at `now`.
    pub async fn session(&self, session_id: &str, now: i64) -> Result<Option<AaaSessionRecord>> {
        self.inner.db.session(session_id, now).await
    }

    /// The subscriber's AAA sessions that have not expired at `now`, newest first.
    pub async fn sessions_for(&self, imsi: &Imsi, now: i64) -> Result<Vec<AaaSessionRecord>> {
        self.inner.db.sessions_for(imsi, now).await
    }

    /// Removes an AAA session (group-committed with other writes); whether it existed.
    pub async fn delete_session(&self, session_id: &str) -> Result<bool> {
        self.inner.sqn.delete_session(session_id).await
    }

    /// Removes temporary identities and AAA sessions expired at `now`.
    pub async fn purge_expired(&self, now: i64) -> Result<Purged> {
        self.inner.db.purge_expired(now).await
    }
}

async fn wait(rx: Option<tokio::sync::oneshot::Receiver<Result<()>>>) -> Result<()> {
    match rx {
        Some(rx) => rx.await.map_err(|_| Error::Closed)?,
        None => Ok(()),
    }
}
