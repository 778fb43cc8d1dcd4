//! Address pools of the gateways: IPv4 ranges and IPv6 prefixes carved into delegated
//! prefixes (a /48 into /64s). A pool is configuration ([`PoolSpec`]); what is allocated lives
//! in `pool_allocation` (migration 0003), one row per slot, keyed by an owner string (the
//! gateway uses `NAI/APN`). Allocation is idempotent: the same owner gets the same slot back,
//! also after a restart and from another node sharing PostgreSQL. Exhaustion is
//! [`Error::PoolExhausted`] (the LMA answers PBA status 130).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::backend::AnyBackend;
use crate::{Error, Result, Store};

/// A pool's range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolSpec {
    /// IPv4 addresses `first..=last`, handed out with `prefix_len` (the on-link prefix the
    /// mobile node is told, RFC 5844 IPv4 Home Address Reply).
    V4 {
        /// First address handed out.
        first: Ipv4Addr,
        /// Last address handed out.
        last: Ipv4Addr,
        /// Prefix length told to the mobile node.
        prefix_len: u8,
    },
    /// Prefixes of length `delegated_len` inside `base/base_len`.
    V6 {
        /// The pool prefix.
        base: Ipv6Addr,
        /// Its length.
        base_len: u8,
        /// Length of each prefix handed out (64 for a home network prefix).
        delegated_len: u8,
    },
}

impl PoolSpec {
    /// Parses `192.0.2.10-192.0.2.200/24`, `192.0.2.0/24` (hosts 1 .. broadcast-1, the last
    /// one kept for the router) or `2001:db8:1::/48` with `/64` delegation (`2001:db8:1::/48,64`).
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        if s.contains(':') {
            let (net, dl) = match s.split_once(',') {
                Some((n, d)) => (
                    n,
                    d.trim()
                        .trim_start_matches('/')
                        .parse::<u8>()
                        .map_err(|_| format!("{s:?}: bad delegated prefix length"))?,
                ),
                None => (s, 64),
            };
            let (addr, len) = net
                .split_once('/')
                .ok_or_else(|| format!("{s:?}: expected PREFIX/LEN"))?;
            let base: Ipv6Addr = addr
                .trim()
                .parse()
                .map_err(|_| format!("{s:?}: bad IPv6 prefix"))?;
            let base_len: u8 = len
                .trim()
                .parse()
                .map_err(|_| format!("{s:?}: bad prefix length"))?;
            if base_len > 128 || dl > 128 || dl < base_len || dl - base_len > 40 {
                return Err(format!(
                    "{s:?}: delegated length must be within 40 bits below the prefix length"
                ));
            }
            let mask = if base_len == 0 {
                0
            } else {
                u128::MAX << (128 - base_len as u32)
            };
            return Ok(PoolSpec::V6 {
                base: Ipv6Addr::from(u128::from(base) & mask),
                base_len,
                delegated_len: dl,
            });
        }
        if let Some((range, len)) = s.split_once('/') {
            let prefix_len: u8 = len
                .trim()
                .parse()
                .map_err(|_| format!("{s:?}: bad prefix length"))?;
            if !(1..=30).contains(&prefix_len) {
                return Err(format!("{s:?}: prefix length must be 1..30"));
            }
            if let Some((a, b)) = range.split_once('-') {
                let first: Ipv4Addr = a
                    .trim()
                    .parse()
                    .map_err(|_| format!("{s:?}: bad first address"))?;
                let last: Ipv4Addr = b
                    .trim()
                    .parse()
                    .map_err(|_| format!("{s:?}: bad last address"))?;
                if u32::from(last) < u32::from(first) {
                    return Err(format!("{s:?}: last address before first"));
                }
                return Ok(PoolSpec::V4 {
                    first,
                    last,
                    prefix_len,
                });
            }
            let net: Ipv4Addr = range
                .trim()
                .parse()
                .map_err(|_| format!("{s:?}: bad IPv4 network"))?;
            let mask = u32::MAX << (32 - prefix_len as u32);
            let base = u32::from(net) & mask;
            let bcast = base | !mask;
            // network and broadcast are not hosts; the last host is the default router
            return Ok(PoolSpec::V4 {
                first: Ipv4Addr::from(base + 1),
                last: Ipv4Addr::from(bcast - 2),
                prefix_len,
            });
        }
        Err(format!(
            "{s:?}: expected FIRST-LAST/LEN, NETWORK/LEN or an IPv6 PREFIX/LEN"
        ))
    }

    /// Slots in the pool.
    pub fn size(&self) -> u64 {
        match self {
            PoolSpec::V4 { first, last, .. } => (u32::from(*last) - u32::from(*first)) as u64 + 1,
            PoolSpec::V6 {
                base_len,
                delegated_len,
                ..
            } => 1u64 << (delegated_len - base_len),
        }
    }

    /// The address (IPv4) or prefix (IPv6) of `slot`, with its prefix length.
    pub fn slot(&self, slot: u64) -> Option<(IpAddr, u8)> {
        if slot >= self.size() {
            return None;
        }
        Some(match self {
            PoolSpec::V4 {
                first, prefix_len, ..
            } => (
                IpAddr::V4(Ipv4Addr::from(u32::from(*first) + slot as u32)),
                *prefix_len,
            ),
            PoolSpec::V6 {
                base,
                delegated_len,
                ..
            } => {
                let shift = 128 - *delegated_len as u32;
                let v = u128::from(*base) | ((slot as u128) << shift);
                (IpAddr::V6(Ipv6Addr::from(v)), *delegated_len)
            }
        })
    }

    /// The slot holding `addr` (an address of the IPv4 range, or any address in a delegated
    /// IPv6 prefix).
    pub fn slot_of(&self, addr: IpAddr) -> Option<u64> {
        match (self, addr) {
            (PoolSpec::V4 { first, last, .. }, IpAddr::V4(a)) => {
                let a = u32::from(a);
                (u32::from(*first)..=u32::from(*last))
                    .contains(&a)
                    .then(|| (a - u32::from(*first)) as u64)
            }
            (
                PoolSpec::V6 {
                    base,
                    base_len,
                    delegated_len,
                },
                IpAddr::V6(a),
            ) => {
                let a = u128::from(a);
                let mask = if *base_len == 0 {
                    0
                } else {
                    u128::MAX << (128 - *base_len as u32)
                };
                if a & mask != u128::from(*base) {
                    return None;
                }
                let bits = (*delegated_len - *base_len) as u32;
                if bits == 0 {
                    return Some(0);
                }
                Some(((a >> (128 - *delegated_len as u32)) & ((1u128 << bits) - 1)) as u64)
            }
            _ => None,
        }
    }
}

macro_rules! pool_sql {
    ($db:expr, |$p:ident| $body:expr) => {
        match $db {
            AnyBackend::Sqlite(b) => {
                let $p = b.pool();
                $body
            }
            AnyBackend::Postgres(b) => {
                let $p = b.pool();
                $body
            }
        }
    };
}

/// The lowest free slot of a pool (a scan of the pool's rows: only used when the allocation
/// cursor wraps around the pool).
const FIND_FREE: &str = "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pool_allocation WHERE pool = $1 AND slot = 0) \
     THEN 0 ELSE (SELECT MIN(a.slot + 1) FROM pool_allocation a WHERE a.pool = $1 \
     AND NOT EXISTS (SELECT 1 FROM pool_allocation b WHERE b.pool = a.pool AND b.slot = a.slot + 1)) END";

/// Most pool operations committed in one transaction.
const MAX_BATCH: usize = 512;

/// A pool write waiting for the writer.
pub(crate) enum PoolOp {
    Allocate {
        pool: String,
        size: u64,
        owner: String,
        expires_at: i64,
        reply: oneshot::Sender<Result<u64>>,
    },
    Touch {
        pool: String,
        owner: String,
        expires_at: i64,
        reply: oneshot::Sender<Result<bool>>,
    },
    Release {
        pool: String,
        owner: String,
        reply: oneshot::Sender<Result<bool>>,
    },
}

/// What an operation came to, before the commit.
enum Done {
    Slot(Result<u64>),
    Flag(bool),
}

/// The pool writer: a task that commits every pool write waiting at the moment in one
/// transaction (the group commit: one fsync for a batch of attaches, not one each), and
/// answers the waiters after the commit (a slot is durable before the gateway hands it
/// out). Free slots are found from a cursor per pool (the slot after the last one taken,
/// O(log n) per allocation); when the cursor reaches the end of the pool it starts again at
/// the lowest free slot. So a released address is not handed out again until the pool has
/// gone round once (or the node restarted), which also keeps a just-released address from
/// reaching another UE at once. Several nodes on one PostgreSQL: a slot another node took
/// makes the insert a no-op, and the cursor moves on.
pub(crate) fn start_writer(db: Arc<AnyBackend>) -> mpsc::UnboundedSender<PoolOp> {
    let (tx, mut rx) = mpsc::unbounded_channel::<PoolOp>();
    tokio::spawn(async move {
        let mut cursors: HashMap<String, u64> = HashMap::new();
        let mut ops: Vec<PoolOp> = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut ops, MAX_BATCH).await > 0 {
            match commit(&db, &ops, &mut cursors).await {
                Ok(done) => {
                    for (op, d) in ops.drain(..).zip(done) {
                        match (op, d) {
                            (PoolOp::Allocate { reply, .. }, Done::Slot(r)) => {
                                let _ = reply.send(r);
                            }
                            (PoolOp::Touch { reply, .. }, Done::Flag(f))
                            | (PoolOp::Release { reply, .. }, Done::Flag(f)) => {
                                let _ = reply.send(Ok(f));
                            }
                            _ => {}
                        }
                    }
                }
                Err(e) => {
                    // Nothing of the batch is committed: every waiter gets the error, and the
                    // cursors are re-read (they may have moved over rolled-back slots).
                    tracing::error!(error = %e, ops = ops.len(), "pool write failed");
                    cursors.clear();
                    for op in ops.drain(..) {
                        match op {
                            PoolOp::Allocate { reply, .. } => {
                                let _ = reply.send(Err(e.duplicate()));
                            }
                            PoolOp::Touch { reply, .. } | PoolOp::Release { reply, .. } => {
                                let _ = reply.send(Err(e.duplicate()));
                            }
                        }
                    }
                }
            }
        }
    });
    tx
}

/// Statement sizes of the batched pool statements (rows per statement): a batch is cut into
/// pieces of these sizes, so a handful of statement texts stay prepared.
const POOL_PIECES: [usize; 4] = [64, 16, 4, 1];

fn pool_piece(left: usize) -> usize {
    POOL_PIECES.into_iter().find(|&n| n <= left).unwrap_or(1)
}

/// `INSERT … VALUES` of `rows` (pool, slot, owner, expires_at) rows, skipping taken slots and
/// owners that hold one.
fn multi_insert_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let b = r * 4;
            format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4)
        })
        .collect();
    format!(
        "INSERT INTO pool_allocation (pool, slot, owner, expires_at) VALUES {} ON CONFLICT DO NOTHING",
        values.join(", ")
    )
}

/// `DELETE` of up to `owners` owners' slots of one pool (`$1`), returning whose went.
fn multi_release_sql(owners: usize) -> String {
    let marks: Vec<String> = (0..owners).map(|i| format!("${}", i + 2)).collect();
    format!(
        "DELETE FROM pool_allocation WHERE pool = $1 AND owner IN ({}) RETURNING owner",
        marks.join(", ")
    )
}

/// Which kind of op, for cutting a batch into runs of one kind.
fn op_kind(op: &PoolOp) -> u8 {
    match op {
        PoolOp::Allocate { .. } => 0,
        PoolOp::Touch { .. } => 1,
        PoolOp::Release { .. } => 2,
    }
}

/// Applies `ops` in one transaction; one [`Done`] per op, in order.
///
/// The batch is taken in runs of one kind, in order. A run of allocations is first tried
/// in multi-row statements: per pool, the next slots from the cursor, up to 64 rows per
/// `INSERT … ON CONFLICT DO NOTHING`; when the row count says every row went in, each op has
/// its slot. Ops whose row did not go in (the owner holds a slot, another node took the
/// slot) and ops near the end of the pool take the one-op path (owner lookup, wrap-around
/// scan, reclaiming expired slots). A run of releases is one `DELETE … IN (…)` per pool.
/// So a burst of attaches costs a few statements per commit, not one per address: with
/// SQLite each statement is a hand-off to its worker thread (docs/performance.md).
async fn commit(
    db: &AnyBackend,
    ops: &[PoolOp],
    cursors: &mut HashMap<String, u64>,
) -> Result<Vec<Done>> {
    macro_rules! cursor_of {
        ($tx:ident, $pool:expr) => {{
            match cursors.get($pool) {
                Some(c) => *c,
                None => {
                    let q = "SELECT MAX(slot) FROM pool_allocation WHERE pool = $1";
                    let m: Option<i64> = sqlx::query_scalar(q)
                        .bind($pool)
                        .fetch_one(&mut *$tx)
                        .await?;
                    m.map_or(0, |m| m as u64 + 1)
                }
            }
        }};
    }
    macro_rules! one_op {
        ($tx:ident, $op:expr) => {{
            let op = $op;
            match op {
                PoolOp::Allocate {
                    pool,
                    size,
                    owner,
                    expires_at,
                    ..
                } => {
                    // The common case is one statement: the insert at the cursor. An
                    // owner that already holds a slot makes it a no-op (the unique index
                    // on (pool, owner)); then its slot is looked up and refreshed.
                    let by_owner =
                        "SELECT slot FROM pool_allocation WHERE pool = $1 AND owner = $2";
                    let refresh =
                        "UPDATE pool_allocation SET expires_at = $1 WHERE pool = $2 AND owner = $3";
                    let mut result = Err(Error::PoolExhausted { pool: pool.clone() });
                    let mut cursor = Some(cursor_of!($tx, pool.as_str()));
                    let mut purged = false;
                    // Bounded: each try inserts, finds the owner's slot, moves the cursor
                    // past a taken slot, or falls back to the scan (at most twice).
                    for _ in 0..64 {
                        let slot = match cursor {
                            Some(c) if c < *size => Some(c),
                            _ => {
                                let free: Option<i64> = sqlx::query_scalar(FIND_FREE)
                                    .bind(pool)
                                    .fetch_one(&mut *$tx)
                                    .await?;
                                match free {
                                    Some(s) if s >= 0 && (s as u64) < *size => Some(s as u64),
                                    _ => None,
                                }
                            }
                        };
                        let inserted = match slot {
                            Some(slot) => {
                                let ins =
                                    "INSERT INTO pool_allocation (pool, slot, owner, expires_at) \
                                               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
                                sqlx::query(ins)
                                    .bind(pool)
                                    .bind(slot as i64)
                                    .bind(owner)
                                    .bind(expires_at)
                                    .execute(&mut *$tx)
                                    .await?
                                    .rows_affected()
                                    == 1
                            }
                            None => false,
                        };
                        if let (true, Some(slot)) = (inserted, slot) {
                            cursor = Some(slot + 1);
                            result = Ok(slot);
                            break;
                        }
                        // The owner holds a slot already (or another node just
                        // allocated for it)?
                        let held: Option<i64> = sqlx::query_scalar(by_owner)
                            .bind(pool)
                            .bind(owner)
                            .fetch_optional(&mut *$tx)
                            .await?;
                        if let Some(h) = held {
                            sqlx::query(refresh)
                                .bind(expires_at)
                                .bind(pool)
                                .bind(owner)
                                .execute(&mut *$tx)
                                .await?;
                            result = Ok(h as u64);
                            break;
                        }
                        match slot {
                            // another node took the slot
                            Some(s) => cursor = Some(s + 1),
                            // full: reclaim expired slots once, then give up
                            None if !purged => {
                                purged = true;
                                let q = "DELETE FROM pool_allocation WHERE pool = $1 \
                                             AND expires_at > 0 AND expires_at <= $2";
                                sqlx::query(q)
                                    .bind(pool)
                                    .bind(crate::unix_now())
                                    .execute(&mut *$tx)
                                    .await?;
                                cursor = None;
                            }
                            None => break,
                        }
                    }
                    match cursor {
                        Some(c) => {
                            cursors.insert(pool.clone(), c);
                        }
                        None => {
                            cursors.remove(pool.as_str());
                        }
                    }
                    Done::Slot(result)
                }
                PoolOp::Touch {
                    pool,
                    owner,
                    expires_at,
                    ..
                } => {
                    let q =
                        "UPDATE pool_allocation SET expires_at = $1 WHERE pool = $2 AND owner = $3";
                    let n = sqlx::query(q)
                        .bind(expires_at)
                        .bind(pool)
                        .bind(owner)
                        .execute(&mut *$tx)
                        .await?
                        .rows_affected();
                    Done::Flag(n > 0)
                }
                PoolOp::Release { pool, owner, .. } => {
                    let q = "DELETE FROM pool_allocation WHERE pool = $1 AND owner = $2";
                    let n = sqlx::query(q)
                        .bind(pool)
                        .bind(owner)
                        .execute(&mut *$tx)
                        .await?
                        .rows_affected();
                    Done::Flag(n > 0)
                }
            }
        }};
    }
    macro_rules! body {
        ($tx:ident) => {{
            let mut done: Vec<Option<Done>> = (0..ops.len()).map(|_| None).collect();
            let mut i = 0;
            while i < ops.len() {
                let kind = op_kind(&ops[i]);
                let mut j = i + 1;
                while j < ops.len() && op_kind(&ops[j]) == kind {
                    j += 1;
                }
                // The run's ops per pool, in order.
                let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
                for k in i..j {
                    let pool = match &ops[k] {
                        PoolOp::Allocate { pool, .. }
                        | PoolOp::Touch { pool, .. }
                        | PoolOp::Release { pool, .. } => pool.as_str(),
                    };
                    match groups.iter_mut().find(|(p, _)| *p == pool) {
                        Some((_, v)) => v.push(k),
                        None => groups.push((pool, vec![k])),
                    }
                }
                for (pool, idx) in &groups {
                    match kind {
                        0 => {
                            let mut cursor = cursor_of!($tx, *pool);
                            let mut rest = &idx[..];
                            while !rest.is_empty() {
                                let n = pool_piece(rest.len());
                                let (chunk, tail) = rest.split_at(n);
                                let fits = chunk.iter().enumerate().all(|(m, &k)| {
                                    matches!(&ops[k], PoolOp::Allocate { size, .. } if cursor + (m as u64) < *size)
                                });
                                if !fits {
                                    break;
                                }
                                rest = tail;
                                let sql = multi_insert_sql(n);
                                let mut q = sqlx::query(&sql);
                                for (m, &k) in chunk.iter().enumerate() {
                                    if let PoolOp::Allocate { owner, expires_at, .. } = &ops[k] {
                                        q = q
                                            .bind(*pool)
                                            .bind((cursor + m as u64) as i64)
                                            .bind(owner.as_str())
                                            .bind(*expires_at);
                                    }
                                }
                                let affected = q.execute(&mut *$tx).await?.rows_affected();
                                if affected == n as u64 {
                                    for (m, &k) in chunk.iter().enumerate() {
                                        done[k] = Some(Done::Slot(Ok(cursor + m as u64)));
                                    }
                                    cursor += n as u64;
                                    continue;
                                }
                                // Some rows did not go in: which slots are whose. The cursor
                                // moves past the last slot now taken, so that a slot left
                                // free (its owner already held one) is used next.
                                let mut next = cursor;
                                for (m, &k) in chunk.iter().enumerate() {
                                    let slot = cursor + m as u64;
                                    let q = "SELECT owner FROM pool_allocation WHERE pool = $1 AND slot = $2";
                                    let got: Option<String> = sqlx::query_scalar(q)
                                        .bind(*pool)
                                        .bind(slot as i64)
                                        .fetch_optional(&mut *$tx)
                                        .await?;
                                    if got.is_some() {
                                        next = slot + 1;
                                    }
                                    if matches!((&ops[k], got), (PoolOp::Allocate { owner, .. }, Some(g)) if *owner == g) {
                                        done[k] = Some(Done::Slot(Ok(slot)));
                                    }
                                }
                                cursor = next;
                            }
                            cursors.insert((*pool).to_owned(), cursor);
                        }
                        2 => {
                            let mut seen: Vec<&str> = Vec::with_capacity(idx.len());
                            let mut firsts = std::collections::HashSet::with_capacity(idx.len());
                            for &k in idx {
                                if let PoolOp::Release { owner, .. } = &ops[k] {
                                    if firsts.insert(owner.as_str()) {
                                        seen.push(owner.as_str());
                                    } else {
                                        // released by its first occurrence in this run
                                        done[k] = Some(Done::Flag(false));
                                    }
                                }
                            }
                            let mut gone: std::collections::HashSet<String> = Default::default();
                            let mut rest = &seen[..];
                            while !rest.is_empty() {
                                let n = pool_piece(rest.len());
                                let (chunk, tail) = rest.split_at(n);
                                rest = tail;
                                let sql = multi_release_sql(n);
                                let mut q = sqlx::query_scalar::<_, String>(&sql).bind(*pool);
                                for o in chunk {
                                    q = q.bind(*o);
                                }
                                gone.extend(q.fetch_all(&mut *$tx).await?);
                            }
                            for &k in idx {
                                if let (PoolOp::Release { owner, .. }, None) = (&ops[k], &done[k]) {
                                    done[k] = Some(Done::Flag(gone.contains(owner.as_str())));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                // What the batched statements did not settle, one op at a time, in order.
                for k in i..j {
                    if done[k].is_none() {
                        done[k] = Some(one_op!($tx, &ops[k]));
                    }
                }
                i = j;
            }
            $tx.commit().await?;
            Ok(done.into_iter().map(|d| d.unwrap_or(Done::Flag(false))).collect())
        }};
    }
    match db {
        AnyBackend::Sqlite(b) => {
            let mut tx = b.begin_write().await?;
            body!(tx)
        }
        AnyBackend::Postgres(b) => {
            let mut tx = b.begin_write().await?;
            body!(tx)
        }
    }
}

impl Store {
    /// The slot `owner` holds in `pool`, allocating a free one if it holds none (`size`
    /// slots exist). `expires_at` (Unix seconds, 0 = never) is set or refreshed; expired
    /// slots are reclaimed when the pool is full. Committed (group commit, see
    /// [`start_writer`]) before it returns.
    pub async fn pool_allocate(
        &self,
        pool: &str,
        size: u64,
        owner: &str,
        expires_at: i64,
    ) -> Result<u64> {
        let (reply, rx) = oneshot::channel();
        self.pool_writer()
            .send(PoolOp::Allocate {
                pool: pool.to_owned(),
                size,
                owner: owner.to_owned(),
                expires_at,
                reply,
            })
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// The slot `owner` holds in `pool`.
    pub async fn pool_lookup(&self, pool: &str, owner: &str) -> Result<Option<u64>> {
        let q = "SELECT slot FROM pool_allocation WHERE pool = $1 AND owner = $2";
        let s: Option<i64> = pool_sql!(self.backend(), |p| sqlx::query_scalar(q)
            .bind(pool)
            .bind(owner)
            .fetch_optional(p)
            .await?);
        Ok(s.map(|s| s as u64))
    }

    /// Sets the expiry of `owner`'s slot (group-committed); whether it holds one.
    pub async fn pool_touch(&self, pool: &str, owner: &str, expires_at: i64) -> Result<bool> {
        let (reply, rx) = oneshot::channel();
        self.pool_writer()
            .send(PoolOp::Touch {
                pool: pool.to_owned(),
                owner: owner.to_owned(),
                expires_at,
                reply,
            })
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Frees `owner`'s slot (group-committed); whether it had one.
    pub async fn pool_release(&self, pool: &str, owner: &str) -> Result<bool> {
        let (reply, rx) = oneshot::channel();
        self.pool_writer()
            .send(PoolOp::Release {
                pool: pool.to_owned(),
                owner: owner.to_owned(),
                reply,
            })
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Slots allocated in `pool`.
    pub async fn pool_count(&self, pool: &str) -> Result<u64> {
        let q = "SELECT COUNT(*) FROM pool_allocation WHERE pool = $1";
        let n: i64 = pool_sql!(self.backend(), |p| sqlx::query_scalar(q)
            .bind(pool)
            .fetch_one(p)
            .await?);
        Ok(n as u64)
    }

    /// Every (slot, owner) of `pool`, by slot.
    pub async fn pool_list(&self, pool: &str) -> Result<Vec<(u64, String)>> {
        let q = "SELECT slot, owner FROM pool_allocation WHERE pool = $1 ORDER BY slot";
        let rows: Vec<(i64, String)> = pool_sql!(self.backend(), |p| sqlx::query_as(q)
            .bind(pool)
            .fetch_all(p)
            .await?);
        Ok(rows.into_iter().map(|(s, o)| (s as u64, o)).collect())
    }

    /// Deletes slots whose expiry has passed (any pool); how many.
    pub async fn pool_purge_expired(&self, now: i64) -> Result<u64> {
        let q = "DELETE FROM pool_allocation WHERE expires_at > 0 AND expires_at <= $1";
        let n = pool_sql!(self.backend(), |p| sqlx::query(q)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n)
    }
}
