//! SQN allocation (3GPP TS 33.102 §6.3 and Annex C) with group commit.
//!
//! ## Scheme
//!
//! SQN (48 bits) = SEQ (43 bits) ‖ IND (5 bits), the profile of TS 33.102 Annex C.3.2: the
//! USIM keeps, per IND value, the highest SEQ it accepted, and accepts a challenge whose SEQ
//! is above the one stored for its IND (and not too far ahead of the highest it has seen).
//!
//! * SEQ comes from one counter per subscriber, shared by every node: the persisted
//!   **high-water mark** `seq_hwm` (every SEQ below it may have been handed out). A node
//!   *reserves* a block of [`SqnPolicy::block`] values with one atomic
//!   `UPDATE … SET seq_hwm = seq_hwm + n … RETURNING seq_hwm`, and hands values out of the
//!   block from memory. Two nodes therefore get disjoint blocks: SEQ, and so SQN, never
//!   repeats for a subscriber.
//! * IND identifies the node ([`SqnPolicy::ind`]): interleaved SEQs from two nodes land in
//!   different USIM array slots, so node B's larger SEQ does not make the USIM reject node A's
//!   next (smaller) one. Within a node SEQ only grows, so per IND it only grows.
//! * A reservation is **durable before any value of it is returned**: `next_sqn` awaits the
//!   commit. After a crash the unused rest of the block is skipped (a gap of at most
//!   `block - 1` per subscriber), never reissued.
//! * Reservations of concurrent authentications are **group-committed**: one writer task
//!   takes every request queued while the previous transaction was committing and commits
//!   them together — one fsync for the batch, none at all for values served from memory.
//! * **Resynchronisation**: from SQN_MS (recovered from AUTS by
//!   `mobstrap_crypto::milenage::Milenage::resync`) the high-water mark becomes at least
//!   SEQ_MS + 1, atomically and never backwards; this node's block is cut at the same point,
//!   so the next challenge carries a SEQ above everything the USIM has accepted.
//!
//! See `docs/store.md` for the figures, the crash argument, and what a USIM without the
//! IND array (a plain "greater than" check, like wpa_supplicant's) sees with two nodes.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::backend::{AnyBackend, Backend, Batch, Outcome, ReserveItem, ResyncItem};
use crate::error::{Error, Result};
use crate::model::{AaaSessionRecord, AkaMethod, FieldError, Imsi, PseudonymRecord, ReauthRecord};

/// Bits of IND (TS 33.102 Annex C.3.4: 5).
pub const IND_BITS: u32 = 5;
/// Number of IND values (the USIM array size, 32).
pub const IND_COUNT: u8 = 1 << IND_BITS;
/// One above the largest SEQ (2^43).
pub const SEQ_LIMIT: u64 = 1 << (48 - IND_BITS);
/// The largest SQN (2^48 - 1).
pub const SQN_MAX: u64 = (1 << 48) - 1;

/// SQN = SEQ ‖ IND.
pub fn compose(seq: u64, ind: u8) -> u64 {
    ((seq & (SEQ_LIMIT - 1)) << IND_BITS) | u64::from(ind & (IND_COUNT - 1))
}

/// (SEQ, IND) of an SQN.
pub fn split(sqn: u64) -> (u64, u8) {
    let sqn = sqn & SQN_MAX;
    (sqn >> IND_BITS, (sqn & u64::from(IND_COUNT - 1)) as u8)
}

/// How this node allocates SQNs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqnPolicy {
    /// The IND values this node uses (each 0..=31); with several, SEQ modulo their number
    /// picks one. Give every node sharing
    /// a database its own values: node 0 `[0]`, node 1 `[1]`, ... Default `[0]`.
    #[serde(default = "default_ind")]
    pub ind: Vec<u8>,
    /// SEQ values reserved per store write for one subscriber (1..=65536; default 32).
    /// Larger: fewer writes when one subscriber authenticates often; smaller: smaller SEQ
    /// gaps after a crash, and fewer out-of-order SEQs seen by USIMs without the IND array
    /// when several nodes serve one subscriber.
    #[serde(default = "default_block")]
    pub block: u32,
}

fn default_ind() -> Vec<u8> {
    vec![0]
}

fn default_block() -> u32 {
    32
}

impl Default for SqnPolicy {
    fn default() -> Self {
        Self {
            ind: default_ind(),
            block: default_block(),
        }
    }
}

impl SqnPolicy {
    /// A policy for node number `node` (IND = node) with the default block.
    pub fn for_node(node: u8) -> Result<Self, FieldError> {
        let p = Self {
            ind: vec![node],
            ..Self::default()
        };
        p.validate()?;
        Ok(p)
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.ind.is_empty() {
            return Err(FieldError::new("sqn.ind", "at least one IND value"));
        }
        for (n, i) in self.ind.iter().enumerate() {
            if *i >= IND_COUNT {
                return Err(FieldError::new(
                    "sqn.ind",
                    format!("{i}: IND is 5 bits (0 to 31)"),
                ));
            }
            if self.ind[..n].contains(i) {
                return Err(FieldError::new("sqn.ind", format!("{i} listed twice")));
            }
        }
        if !(1..=65536).contains(&self.block) {
            return Err(FieldError::new("sqn.block", "must be 1 to 65536"));
        }
        Ok(())
    }
}

/// Largest batch the writer commits at once.
const MAX_BATCH: usize = 4096;

/// How long a batch of `_nowait` writes alone (nobody waits for them) is held open for more
/// writes before it is committed. Under load every batch has a waiter (an SQN reservation)
/// and none is held; at a few hundred authentications per second each identity or session
/// row was its own transaction (three round trips to SQLite's thread and a disk flush,
/// ~400 µs of CPU per authentication: docs/performance.md, sixth session). A waiting write
/// or a flush that arrives ends the wait at once.
pub(crate) const NOWAIT_LINGER: std::time::Duration = std::time::Duration::from_millis(10);

type Waiter = oneshot::Sender<Result<u64>>;

/// This node's view of one subscriber's SEQ counter.
#[derive(Default)]
struct Slot {
    /// Next value to hand out, and one past the last reserved; `next == end`: nothing left.
    next: u64,
    end: u64,
    /// Callers waiting for a reservation, served in order.
    waiters: VecDeque<Waiter>,
    /// A reservation for this subscriber is queued or being committed.
    pending: bool,
    /// A committed reservation made ahead of time (when less than half of the block was
    /// left), used when the current one runs out: so that an authentication seldom waits
    /// for a commit (a slow fsync stalls nobody while values are left).
    spare: Option<(u64, u64)>,
}

pub(crate) enum Op {
    Reserve(String),
    Resync {
        imsi: String,
        target: u64,
        reply: oneshot::Sender<Result<u64>>,
    },
    Pseudonym {
        rec: PseudonymRecord,
        reply: Option<oneshot::Sender<Result<()>>>,
    },
    Reauth {
        rec: ReauthRecord,
        reply: Option<oneshot::Sender<Result<()>>>,
    },
    Session {
        rec: AaaSessionRecord,
        reply: Option<oneshot::Sender<Result<()>>>,
    },
    /// Delete an AAA session; the answer says whether it existed.
    DeleteSession {
        session_id: String,
        reply: oneshot::Sender<Result<bool>>,
    },
    /// Answered once everything queued before it is committed.
    Flush(oneshot::Sender<Result<()>>),
}

impl Op {
    /// A `_nowait` write: nobody waits for its commit.
    fn can_wait(&self) -> bool {
        match self {
            Op::Pseudonym { reply, .. } | Op::Reauth { reply, .. } | Op::Session { reply, .. } => {
                reply.is_none()
            }
            Op::Reserve(_) | Op::Resync { .. } | Op::DeleteSession { .. } | Op::Flush(_) => false,
        }
    }
}

struct Shared {
    slots: Mutex<HashMap<String, Slot>>,
    policy: SqnPolicy,
}

impl Shared {
    fn slots(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // A panic elsewhere while holding the lock leaves the map consistent (every update
        // is a single assignment), so a poisoned lock is still usable.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The SQN allocator and group-commit writer of one node.
pub(crate) struct Allocator {
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Op>,
}

impl Allocator {
    /// Starts the writer task on the current tokio runtime.
    pub(crate) fn start(db: Arc<AnyBackend>, policy: SqnPolicy) -> Self {
        let shared = Arc::new(Shared {
            slots: Mutex::new(HashMap::new()),
            policy,
        });
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(db, shared.clone(), rx));
        Self { shared, tx }
    }

    pub(crate) fn policy(&self) -> &SqnPolicy {
        &self.shared.policy
    }

    /// The IND for a SEQ: a function of SEQ, so that with several IND values each one
    /// still sees only growing SEQs, however concurrent callers interleave.
    fn ind_for(&self, seq: u64) -> u8 {
        let ind = &self.shared.policy.ind;
        ind[(seq % ind.len() as u64) as usize]
    }

    /// The next SQN for `imsi`, durable in the store before it is returned.
    pub(crate) async fn next_sqn(&self, imsi: &str) -> Result<u64> {
        let rx = {
            let mut slots = self.shared.slots();
            let slot = match slots.get_mut(imsi) {
                Some(s) => s,
                None => slots.entry(imsi.to_owned()).or_default(),
            };
            if slot.next >= slot.end && slot.waiters.is_empty() {
                if let Some((next, end)) = slot.spare.take() {
                    slot.next = next;
                    slot.end = end;
                }
            }
            if slot.next < slot.end && slot.waiters.is_empty() {
                let seq = slot.next;
                slot.next += 1;
                // Reserve the next block ahead of time when half of this one is used.
                let block = u64::from(self.shared.policy.block);
                if block >= 4
                    && slot.end - slot.next <= block / 2
                    && slot.spare.is_none()
                    && !slot.pending
                {
                    slot.pending = true;
                    let _ = self.tx.send(Op::Reserve(imsi.to_owned()));
                }
                drop(slots);
                metrics::counter!("mobstrap_store_sqn_allocations_total", "path" => "memory")
                    .increment(1);
                return Ok(compose(seq, self.ind_for(seq)));
            }
            let (tx, rx) = oneshot::channel();
            slot.waiters.push_back(tx);
            if !slot.pending {
                slot.pending = true;
                self.tx
                    .send(Op::Reserve(imsi.to_owned()))
                    .map_err(|_| Error::Closed)?;
            }
            rx
        };
        let seq = rx.await.map_err(|_| Error::Closed)??;
        metrics::counter!("mobstrap_store_sqn_allocations_total", "path" => "reserved")
            .increment(1);
        Ok(compose(seq, self.ind_for(seq)))
    }

    /// Raises the high-water mark above SEQ_MS of `sqn_ms` and returns the new mark.
    pub(crate) async fn resync(&self, imsi: &str, sqn_ms: u64) -> Result<u64> {
        if sqn_ms > SQN_MAX {
            return Err(FieldError::new("sqn_ms", "above 2^48 - 1").into());
        }
        let target = split(sqn_ms).0 + 1;
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Op::Resync {
                imsi: imsi.to_owned(),
                target,
                reply,
            })
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Forgets this node's block for `imsi` (after a delete or an administrative reset).
    pub(crate) fn forget(&self, imsi: &str) {
        let mut slots = self.shared.slots();
        if let Entry::Occupied(mut e) = slots.entry(imsi.to_owned()) {
            let s = e.get_mut();
            if s.waiters.is_empty() && !s.pending {
                e.remove();
            } else {
                s.next = s.end;
                s.spare = None;
            }
        }
    }

    /// Queues a pseudonym for the next group commit; with `wait`, returns the receiver of
    /// the commit's outcome.
    pub(crate) fn queue_pseudonym(
        &self,
        rec: PseudonymRecord,
        wait: bool,
    ) -> Result<Option<oneshot::Receiver<Result<()>>>> {
        let (reply, rx) = reply_pair(wait);
        self.tx
            .send(Op::Pseudonym { rec, reply })
            .map_err(|_| Error::Closed)?;
        Ok(rx)
    }

    /// Queues a re-authentication identity for the next group commit.
    pub(crate) fn queue_reauth(
        &self,
        rec: ReauthRecord,
        wait: bool,
    ) -> Result<Option<oneshot::Receiver<Result<()>>>> {
        let (reply, rx) = reply_pair(wait);
        self.tx
            .send(Op::Reauth { rec, reply })
            .map_err(|_| Error::Closed)?;
        Ok(rx)
    }
}

impl Allocator {
    /// Waits until every write queued before this call is committed (or failed).
    pub(crate) async fn flush(&self) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Op::Flush(reply)).map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Deletes an AAA session in the next group commit; whether it existed.
    pub(crate) async fn delete_session(&self, session_id: &str) -> Result<bool> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Op::DeleteSession {
                session_id: session_id.to_owned(),
                reply,
            })
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Queues an AAA session for the next group commit.
    pub(crate) fn queue_session(
        &self,
        rec: AaaSessionRecord,
        wait: bool,
    ) -> Result<Option<oneshot::Receiver<Result<()>>>> {
        let (reply, rx) = reply_pair(wait);
        self.tx
            .send(Op::Session { rec, reply })
            .map_err(|_| Error::Closed)?;
        Ok(rx)
    }
}

type Reply = (
    Option<oneshot::Sender<Result<()>>>,
    Option<oneshot::Receiver<Result<()>>>,
);

fn reply_pair(wait: bool) -> Reply {
    if wait {
        let (t, r) = oneshot::channel();
        (Some(t), Some(r))
    } else {
        (None, None)
    }
}

fn outcome_error(o: Outcome, imsi: &str) -> Error {
    match o {
        Outcome::Exhausted => Error::SqnExhausted {
            imsi: imsi.to_owned(),
        },
        _ => Error::NotFound {
            imsi: imsi.to_owned(),
        },
    }
}

/// The key of a pseudonym or re-authentication identity in a batch: its subscriber and method.
fn identity_key(imsi: &Imsi, method: AkaMethod) -> String {
    let (i, m) = (imsi.as_str(), method.as_str());
    let mut k = String::with_capacity(i.len() + 1 + m.len());
    k.push_str(i);
    k.push('/');
    k.push_str(m);
    k
}

/// The outcome and IMSI of the batch item stored under `key` by [`upsert`].
fn outcome_of<'a, T>(
    items: &'a [(T, Outcome)],
    at: &KeyIndex,
    key: &str,
    imsi: fn(&T) -> &Imsi,
) -> Option<(Outcome, &'a str)> {
    let (t, o) = items.get(*at.get(key)?)?;
    Some((*o, imsi(t).as_str()))
}

/// A batch's unique keys → their item's place (foldhash: a batch holds thousands).
type KeyIndex = HashMap<String, usize, foldhash::fast::RandomState>;

/// Puts `rec` into `items` under `key`: in place of an earlier item with that key, else
/// at the end.
fn upsert<T>(items: &mut Vec<(T, Outcome)>, at: &mut KeyIndex, key: String, rec: T) {
    match at.entry(key) {
        Entry::Occupied(e) => items[*e.get()] = (rec, Outcome::Pending),
        Entry::Vacant(e) => {
            e.insert(items.len());
            items.push((rec, Outcome::Pending));
        }
    }
}

/// Serves waiters from the slot's block; returns whether waiters remain.
fn serve(slot: &mut Slot) -> bool {
    while slot.next < slot.end {
        let Some(w) = slot.waiters.pop_front() else {
            break;
        };
        // A waiter that gave up does not consume the value: it never left this process.
        if w.send(Ok(slot.next)).is_ok() {
            slot.next += 1;
        }
    }
    !slot.waiters.is_empty()
}

/// Takes what is queued, up to a full batch; true when the channel has closed.
fn drain(rx: &mut mpsc::UnboundedReceiver<Op>, ops: &mut Vec<Op>) -> bool {
    while ops.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(op) => ops.push(op),
            Err(mpsc::error::TryRecvError::Empty) => return false,
            Err(mpsc::error::TryRecvError::Disconnected) => return true,
        }
    }
    false
}

/// The group-commit writer: one transaction per round, holding every request that arrived
/// while the previous round was committing.
async fn writer(db: Arc<AnyBackend>, shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Op>) {
    let block = u64::from(shared.policy.block);
    // IMSIs whose waiters outnumbered their last block.
    let mut carry: Vec<String> = Vec::new();
    let mut closed = false;
    loop {
        // Sized for what is queued: the batch's vectors of records (hundreds of octets each)
        // moved themselves again at every doubling.
        let mut ops = Vec::with_capacity(rx.len().clamp(1, MAX_BATCH));
        if carry.is_empty() {
            if closed {
                break;
            }
            match rx.recv().await {
                Some(op) => ops.push(op),
                None => break,
            }
        }
        closed |= drain(&mut rx, &mut ops);
        // Only `_nowait` writes: wait a little for more (see NOWAIT_LINGER).
        if !closed && carry.is_empty() && !ops.is_empty() && ops.iter().all(Op::can_wait) {
            let until = tokio::time::Instant::now() + NOWAIT_LINGER;
            while ops.len() < MAX_BATCH {
                match tokio::time::timeout_at(until, rx.recv()).await {
                    Ok(Some(op)) => {
                        let urgent = !op.can_wait();
                        ops.push(op);
                        if urgent {
                            break;
                        }
                    }
                    Ok(None) => {
                        closed = true;
                        break;
                    }
                    Err(_) => break,
                }
            }
            closed |= drain(&mut rx, &mut ops);
        }

        let mut batch = Batch::default();
        let (mut n_pseudo, mut n_reauth, mut n_session) = (0, 0, 0);
        for op in &ops {
            match op {
                Op::Pseudonym { .. } => n_pseudo += 1,
                Op::Reauth { .. } => n_reauth += 1,
                Op::Session { .. } => n_session += 1,
                _ => {}
            }
        }
        batch.pseudonyms.reserve_exact(n_pseudo);
        batch.reauths.reserve_exact(n_reauth);
        batch.sessions.reserve_exact(n_session);
        let mut resync_replies: HashMap<String, Vec<oneshot::Sender<Result<u64>>>> = HashMap::new();
        let mut pseudo_replies = Vec::new();
        let mut reauth_replies = Vec::new();
        let mut session_replies = Vec::new();
        let mut flushes = Vec::new();
        let (mut pseudo_at, mut reauth_at, mut session_at) = (
            KeyIndex::with_capacity_and_hasher(n_pseudo, Default::default()),
            KeyIndex::with_capacity_and_hasher(n_reauth, Default::default()),
            KeyIndex::with_capacity_and_hasher(n_session, Default::default()),
        );
        let mut reserve: Vec<String> = std::mem::take(&mut carry);
        let mut deletes: HashMap<String, Vec<oneshot::Sender<Result<bool>>>> = HashMap::new();
        for op in ops {
            match op {
                Op::Reserve(imsi) => reserve.push(imsi),
                Op::Resync {
                    imsi,
                    target,
                    reply,
                } => {
                    match batch.resync.iter_mut().find(|r| r.imsi == imsi) {
                        Some(r) => r.target = r.target.max(target),
                        None => batch.resync.push(ResyncItem {
                            imsi: imsi.clone(),
                            target,
                            outcome: Outcome::Pending,
                        }),
                    }
                    resync_replies.entry(imsi).or_default().push(reply);
                }
                // Unique keys per statement: a later write of the same key wins (it takes
                // the earlier one's place). Found through a map: a linear search made a
                // full batch (4096 writes) cost millions of string comparisons.
                // A subscriber has one of each per method (the store's key): a later one in
                // the same batch supersedes the earlier, whose waiter is answered with it.
                Op::Pseudonym { rec, reply } => {
                    let key = identity_key(&rec.imsi, rec.method);
                    // A `_nowait` write has nobody to answer: no key kept for it.
                    if let Some(reply) = reply {
                        pseudo_replies.push((key.clone(), reply));
                    }
                    upsert(&mut batch.pseudonyms, &mut pseudo_at, key, rec);
                }
                Op::Reauth { rec, reply } => {
                    let key = identity_key(&rec.imsi, rec.method);
                    if let Some(reply) = reply {
                        reauth_replies.push((key.clone(), reply));
                    }
                    upsert(&mut batch.reauths, &mut reauth_at, key, rec);
                }
                Op::Session { rec, reply } => {
                    // stored again after a delete in this batch: the delete is void
                    if let Some(waiting) = deletes.remove(&rec.session_id) {
                        for w in waiting {
                            let _ = w.send(Ok(true));
                        }
                    }
                    if let Some(reply) = reply {
                        session_replies.push((rec.session_id.clone(), reply));
                    }
                    upsert(
                        &mut batch.sessions,
                        &mut session_at,
                        rec.session_id.clone(),
                        rec,
                    );
                }
                Op::DeleteSession { session_id, reply } => {
                    deletes.entry(session_id).or_default().push(reply);
                }
                Op::Flush(reply) => flushes.push(reply),
            }
        }
        batch.session_deletes = deletes
            .keys()
            .map(|k| (k.clone(), Outcome::Pending))
            .collect();
        reserve.sort_unstable();
        reserve.dedup();
        {
            let slots = shared.slots();
            for imsi in reserve {
                let want = slots.get(&imsi).map(|s| s.waiters.len()).unwrap_or(0) as u64;
                batch.reserve.push(ReserveItem {
                    count: want.clamp(block, block.max(65536)),
                    imsi,
                    outcome: Outcome::Pending,
                });
            }
        }
        if batch.is_empty() {
            for f in flushes {
                let _ = f.send(Ok(()));
            }
            continue;
        }

        let started = std::time::Instant::now();
        let result = commit_with_retry(&db, &mut batch).await;
        metrics::histogram!("mobstrap_store_batch_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("mobstrap_store_batch_size").record(
            (batch.reserve.len()
                + batch.resync.len()
                + batch.pseudonyms.len()
                + batch.reauths.len()
                + batch.sessions.len()
                + batch.session_deletes.len()) as f64,
        );

        for f in flushes {
            let _ = f.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(e.duplicate()),
            });
        }
        let mut slots = shared.slots();
        match &result {
            Ok(()) => {
                for r in &batch.resync {
                    let res = match r.outcome {
                        Outcome::Done(hwm) => {
                            // Cut this node's block: nothing at or below SEQ_MS goes out.
                            if let Some(s) = slots.get_mut(&r.imsi) {
                                s.next = s.next.max(r.target).min(s.end);
                                s.spare = s
                                    .spare
                                    .map(|(n, e)| (n.max(r.target), e))
                                    .filter(|(n, e)| n < e);
                            }
                            Ok(hwm)
                        }
                        o => Err(outcome_error(o, &r.imsi)),
                    };
                    for reply in resync_replies.remove(&r.imsi).unwrap_or_default() {
                        let _ = reply.send(match &res {
                            Ok(h) => Ok(*h),
                            Err(e) => Err(e.duplicate()),
                        });
                    }
                }
                for r in &batch.reserve {
                    let Some(slot) = slots.get_mut(&r.imsi) else {
                        continue;
                    };
                    match r.outcome {
                        Outcome::Done(hwm) if slot.next < slot.end && slot.waiters.is_empty() => {
                            // Reserved ahead of time: kept for when this block runs out.
                            slot.spare = Some((hwm - r.count, hwm));
                            slot.pending = false;
                        }
                        Outcome::Done(hwm) => {
                            slot.next = hwm - r.count;
                            slot.end = hwm;
                            if serve(slot) {
                                carry.push(r.imsi.clone());
                            } else {
                                slot.pending = false;
                            }
                        }
                        o => {
                            let e = outcome_error(o, &r.imsi);
                            for w in slot.waiters.drain(..) {
                                let _ = w.send(Err(e.duplicate()));
                            }
                            // Unknown IMSIs leave nothing behind in memory.
                            slots.remove(&r.imsi);
                        }
                    }
                }
                // each waiter's key → its item's place in the batch (the map built above)
                let answers =
                    pseudo_replies
                        .into_iter()
                        .map(|(k, r)| {
                            (
                                outcome_of(&batch.pseudonyms, &pseudo_at, &k, |p| &p.imsi),
                                r,
                            )
                        })
                        .chain(reauth_replies.into_iter().map(|(k, r)| {
                            (outcome_of(&batch.reauths, &reauth_at, &k, |p| &p.imsi), r)
                        }))
                        .chain(session_replies.into_iter().map(|(k, r)| {
                            (outcome_of(&batch.sessions, &session_at, &k, |a| &a.imsi), r)
                        }));
                for (id, outcome) in &batch.session_deletes {
                    for reply in deletes.remove(id).unwrap_or_default() {
                        let _ = reply.send(Ok(matches!(outcome, Outcome::Done(1))));
                    }
                }
                for (outcome, reply) in answers {
                    let _ = reply.send(match outcome {
                        Some((Outcome::Done(_), _)) => Ok(()),
                        Some((Outcome::Taken, imsi)) => Err(Error::IdentityTaken {
                            imsi: imsi.to_owned(),
                        }),
                        Some((_, imsi)) => Err(Error::NotFound {
                            imsi: imsi.to_owned(),
                        }),
                        None => Err(Error::Closed),
                    });
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, items = batch.reserve.len() + batch.resync.len(),
                    "store batch failed");
                metrics::counter!("mobstrap_store_batch_failures_total").increment(1);
                for replies in resync_replies.into_values() {
                    for r in replies {
                        let _ = r.send(Err(e.duplicate()));
                    }
                }
                for r in &batch.reserve {
                    if let Some(slot) = slots.get_mut(&r.imsi) {
                        for w in slot.waiters.drain(..) {
                            let _ = w.send(Err(e.duplicate()));
                        }
                        slot.pending = false;
                    }
                }
                for reply in deletes.into_values().flatten() {
                    let _ = reply.send(Err(e.duplicate()));
                }
                for (_, reply) in pseudo_replies
                    .into_iter()
                    .chain(reauth_replies)
                    .chain(session_replies)
                {
                    let _ = reply.send(Err(e.duplicate()));
                }
            }
        }
    }
    // Shutting down: nobody is left to serve the waiters.
    for slot in shared.slots().values_mut() {
        for w in slot.waiters.drain(..) {
            let _ = w.send(Err(Error::Closed));
        }
        slot.pending = false;
    }
}

/// Commits, retrying transient failures (PostgreSQL serialization failures and deadlocks,
/// a subscriber deleted between check and insert, a dropped connection) a few times.
async fn commit_with_retry(db: &AnyBackend, batch: &mut Batch) -> Result<()> {
    let mut attempt = 0u32;
    loop {
        match db.commit_batch(batch).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 4 && transient(&e) => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, "store batch retried");
                tokio::time::sleep(std::time::Duration::from_millis(5 << attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn transient(e: &Error) -> bool {
    match e {
        Error::Database(sqlx::Error::Database(d)) => matches!(
            d.code().as_deref(),
            Some("40001" | "40P01" | "23503" | "5" | "6" | "517")
        ),
        Error::Database(
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed,
        ) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_and_split() {
        assert_eq!(compose(1, 0), 32);
        assert_eq!(compose(1, 31), 63);
        assert_eq!(split(compose(123_456_789, 7)), (123_456_789, 7));
        assert_eq!(split(SQN_MAX), (SEQ_LIMIT - 1, 31));
        assert_eq!(compose(SEQ_LIMIT - 1, 31), SQN_MAX);
    }

    #[test]
    fn policy_validation() {
        assert!(SqnPolicy::default().validate().is_ok());
        assert!(SqnPolicy::for_node(31).is_ok());
        assert_eq!(SqnPolicy::for_node(32).unwrap_err().field, "sqn.ind");
        let p = SqnPolicy {
            ind: vec![1, 2, 1],
            block: 8,
        };
        assert!(p.validate().unwrap_err().reason.contains("twice"));
        let p = SqnPolicy {
            ind: vec![1],
            block: 0,
        };
        assert_eq!(p.validate().unwrap_err().field, "sqn.block");
        let p: SqnPolicy = toml_like(r#"{"ind":[3,4]}"#);
        assert_eq!(p.block, 32);
    }

    fn toml_like(s: &str) -> SqnPolicy {
        serde_json::from_str(s).unwrap()
    }
}
