//! The persistence contract ([`Backend`]) and its two implementations, SQLite and PostgreSQL.
//!
//! The SQL text is shared wherever the two dialects agree (positional `$n` parameters work in
//! both, as do `RETURNING`, `ON CONFLICT` and `CASE`); the code that runs it is written once
//! in [`shared_impl!`] and expanded for each database. What differs is connecting, and the
//! group commit of SQN reservations: SQLite runs one prepared statement per row inside one
//! `BEGIN IMMEDIATE` transaction (in-process, microseconds each); PostgreSQL locks the rows
//! in IMSI order (so two nodes' batches never deadlock) and updates them with one `UNNEST`
//! statement per kind (one round trip for the whole batch).
//!
//! This module knows nothing about caching or the SQN allocator ([`crate::sqn`]); it only
//! reads and writes rows.

use std::collections::HashSet;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;

use crate::error::{Error, Result};
use crate::model::{
    AaaSessionRecord, AccessType, AkaMethod, Amf, ApnProfile, FieldError, GatewaySelection,
    HostRef, Imsi, Ipv6Prefix, Key128, MncLen, PdnType, PseudonymRecord, ReauthRecord, SessionKind,
    Subscriber, SubscriberProfile,
};
use crate::sqn::SEQ_LIMIT;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// SQLite file (or `sqlite::memory:`).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A subscriber as stored, with its SQN state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSubscriber {
    /// The subscriber.
    pub subscriber: Subscriber,
    /// The SEQ high-water mark: the next SEQ no node has reserved (TS 33.102 Annex C;
    /// [`crate::sqn`]).
    pub seq_hwm: u64,
    /// Unix time of provisioning.
    pub created_at: i64,
    /// Unix time of the last change of keys or profile.
    pub updated_at: i64,
}

/// A subscriber to provision, with the SQN to start from.
#[derive(Debug, Clone)]
pub struct Provision {
    /// The subscriber.
    pub subscriber: Subscriber,
    /// The highest SQN the USIM has accepted so far (from the card's personalisation, or a
    /// previous HSS); the next challenge uses a SEQ above it. `None`: a fresh card (SEQ
    /// starts at 1).
    pub sqn: Option<u64>,
}

impl Provision {
    /// The SEQ high-water mark this provisioning asks for.
    pub(crate) fn seq_hwm(&self) -> u64 {
        self.sqn
            .map(|s| crate::sqn::split(s).0 + 1)
            .unwrap_or(1)
            .min(SEQ_LIMIT)
    }
}

/// What [`Backend::write_subscribers`] does with an IMSI that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Fail with [`Error::Exists`] (nothing of the batch is written).
    Add,
    /// Replace keys and profile; the SQN high-water mark only moves up.
    Replace,
}

/// How many expired temporary identities [`Backend::purge_expired`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purged {
    /// Pseudonyms.
    pub pseudonyms: u64,
    /// Fast re-authentication identities.
    pub reauth_ids: u64,
    /// AAA sessions.
    pub sessions: u64,
}

/// The result of one item of a [`Batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not executed yet.
    Pending,
    /// Done; for SQN items the new high-water mark.
    Done(u64),
    /// No such subscriber.
    NotFound,
    /// The SEQ space is used up.
    Exhausted,
    /// A pseudonym / re-authentication identity whose username is another subscriber's.
    Taken,
}

/// Reserve `count` SEQ values: `seq_hwm += count`; the values are `new - count .. new`.
#[derive(Debug, Clone)]
pub struct ReserveItem {
    /// The IMSI (unique within a batch).
    pub imsi: String,
    /// How many values.
    pub count: u64,
    /// Result.
    pub outcome: Outcome,
}

/// Raise the high-water mark to at least `target` (resynchronisation).
#[derive(Debug, Clone)]
pub struct ResyncItem {
    /// The IMSI (unique within a batch).
    pub imsi: String,
    /// SEQ_MS + 1.
    pub target: u64,
    /// Result.
    pub outcome: Outcome,
}

/// Several writes committed in one transaction (one fsync): the group commit.
#[derive(Debug, Default)]
pub struct Batch {
    /// Resynchronisations, applied before the reservations.
    pub resync: Vec<ResyncItem>,
    /// SEQ reservations.
    pub reserve: Vec<ReserveItem>,
    /// Pseudonyms to insert or replace (unique usernames).
    pub pseudonyms: Vec<(PseudonymRecord, Outcome)>,
    /// Re-authentication identities to insert or replace (unique usernames).
    pub reauths: Vec<(ReauthRecord, Outcome)>,
    /// AAA sessions to insert or replace (unique Session-Ids).
    pub sessions: Vec<(AaaSessionRecord, Outcome)>,
    /// AAA sessions to delete (unique Session-Ids), after the inserts: `Done(1)` when the
    /// row existed, `Done(0)` when not.
    pub session_deletes: Vec<(String, Outcome)>,
}

impl Batch {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.resync.is_empty()
            && self.reserve.is_empty()
            && self.pseudonyms.is_empty()
            && self.reauths.is_empty()
            && self.sessions.is_empty()
            && self.session_deletes.is_empty()
    }
}

/// The persistence contract: everything the store reads and writes. Implemented by
/// [`SqliteBackend`] and [`PgBackend`]; [`AnyBackend`] picks one from a URL.
pub trait Backend: Send + Sync + 'static {
    /// Which database.
    fn kind(&self) -> BackendKind;

    /// One subscriber with its APN profiles and SQN state.
    fn load_subscriber(
        &self,
        imsi: &Imsi,
    ) -> impl Future<Output = Result<Option<StoredSubscriber>>> + Send;

    /// Several subscribers (those that exist, each once, in any order; one statement per
    /// 64 distinct IMSIs): what the store's batched loader asks for when several
    /// authentications miss the cache at once.
    fn load_subscribers(
        &self,
        imsis: &[&str],
    ) -> impl Future<Output = Result<Vec<StoredSubscriber>>> + Send;

    /// Up to `limit` subscribers with IMSIs above `after`, in IMSI order.
    fn list_subscribers(
        &self,
        after: Option<&Imsi>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredSubscriber>>> + Send;

    /// Number of subscribers.
    fn count_subscribers(&self) -> impl Future<Output = Result<u64>> + Send;

    /// Provisions subscribers in one transaction: all or none. Returns how many were written.
    fn write_subscribers(
        &self,
        subs: &[Provision],
        mode: WriteMode,
        now: i64,
    ) -> impl Future<Output = Result<usize>> + Send;

    /// Deletes a subscriber with its APN profiles and temporary identities.
    fn delete_subscriber(&self, imsi: &Imsi) -> impl Future<Output = Result<bool>> + Send;

    /// Sets the SEQ high-water mark, also downwards (administrative reset; see
    /// `docs/store.md` for when that is safe). Returns whether the subscriber exists.
    fn set_seq_hwm(&self, imsi: &Imsi, seq_hwm: u64) -> impl Future<Output = Result<bool>> + Send;

    /// Commits a batch in one transaction and fills in every item's outcome. An error
    /// means nothing of the batch was committed.
    fn commit_batch(&self, batch: &mut Batch) -> impl Future<Output = Result<()>> + Send;

    /// A pseudonym that has not expired at `now`.
    fn pseudonym(
        &self,
        username: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<PseudonymRecord>>> + Send;

    /// Removes a pseudonym.
    fn delete_pseudonym(&self, username: &str) -> impl Future<Output = Result<bool>> + Send;

    /// A fast re-authentication identity that has not expired at `now`.
    fn reauth(
        &self,
        username: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<ReauthRecord>>> + Send;

    /// Removes a fast re-authentication identity and returns it if it had not expired: the
    /// identity is one-time (RFC 4187 §5.1), so two nodes cannot both use it.
    fn take_reauth(
        &self,
        username: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<ReauthRecord>>> + Send;

    /// Removes temporary identities and AAA sessions that expired before `now`.
    fn purge_expired(&self, now: i64) -> impl Future<Output = Result<Purged>> + Send;

    /// The shared secret `name`: the stored one, or `fresh` (stored now) if there was none.
    /// Nodes racing to create it all get the one that was stored first.
    fn shared_secret(
        &self,
        name: &str,
        fresh: &[u8],
        now: i64,
    ) -> impl Future<Output = Result<Vec<u8>>> + Send;

    /// An AAA session that has not expired at `now`.
    fn session(
        &self,
        session_id: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<AaaSessionRecord>>> + Send;

    /// The subscriber's AAA sessions that have not expired at `now`, newest first.
    fn sessions_for(
        &self,
        imsi: &Imsi,
        now: i64,
    ) -> impl Future<Output = Result<Vec<AaaSessionRecord>>> + Send;

    /// Removes an AAA session; whether it existed.
    fn delete_session(&self, session_id: &str) -> impl Future<Output = Result<bool>> + Send;
}

/// Pool and durability settings.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Connections in the pool.
    pub max_connections: u32,
    /// How long to wait for a connection (and, in SQLite, for a lock).
    pub timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Masks a password in a URL for messages.
pub(crate) fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((auth, host)) = rest.split_once('@') {
            if let Some((user, _)) = auth.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_owned()
}

// ---------------------------------------------------------------------------------------
// Row <-> value conversions shared by both databases.

struct SubscriberColumns {
    imsi: String,
    mnc_len: i32,
    k: Vec<u8>,
    opc: Vec<u8>,
    opc_from_op: bool,
    amf: Vec<u8>,
    seq_hwm: i64,
    msisdn: Option<String>,
    default_apn: Option<String>,
    static_ipv4: Option<String>,
    static_ipv6_prefix: Option<String>,
    home_agent: Option<String>,
    mip4_fha: Option<String>,
    access_types: String,
    created_at: i64,
    updated_at: i64,
}

struct ApnColumns {
    apn: String,
    gateway: String,
    visited_allowed: bool,
    pdn_type: String,
}

fn corrupt(what: &'static str, key: &str, e: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        what,
        key: key.to_owned(),
        reason: e.to_string(),
    }
}

impl ApnColumns {
    fn decode(self, imsi: &str) -> Result<ApnProfile> {
        Ok(ApnProfile {
            gateway: GatewaySelection::parse("gateway", &self.gateway)
                .map_err(|e| corrupt("apn_profile.gateway", imsi, e))?,
            pdn_type: PdnType::parse(&self.pdn_type).ok_or_else(|| {
                corrupt("apn_profile.pdn_type", imsi, format!("{:?}", self.pdn_type))
            })?,
            visited_allowed: self.visited_allowed,
            apn: self.apn,
        })
    }
}

impl SubscriberColumns {
    fn decode(self, apns: Vec<ApnProfile>) -> Result<StoredSubscriber> {
        let key = self.imsi.clone();
        let c = |what: &'static str| {
            let key = key.clone();
            move |e: FieldError| corrupt(what, &key, e)
        };
        fn opt<T>(
            what: &'static str,
            key: &str,
            v: Option<String>,
            f: impl Fn(&str) -> Result<T, FieldError>,
        ) -> Result<Option<T>> {
            v.as_deref()
                .map(f)
                .transpose()
                .map_err(|e| corrupt(what, key, e))
        }
        let profile = SubscriberProfile {
            msisdn: self.msisdn,
            apns,
            default_apn: self.default_apn,
            static_ipv4: self
                .static_ipv4
                .as_deref()
                .map(|s| s.parse().map_err(|_| corrupt("static_ipv4", &key, s)))
                .transpose()?,
            static_ipv6_prefix: opt("static_ipv6_prefix", &key, self.static_ipv6_prefix, |s| {
                Ipv6Prefix::parse("static_ipv6_prefix", s)
            })?,
            home_agent: opt("home_agent", &key, self.home_agent, |s| {
                HostRef::parse("home_agent", s)
            })?,
            mip4_fha: opt("mip4_fha", &key, self.mip4_fha, |s| {
                HostRef::parse("mip4_fha", s)
            })?,
            access_types: AccessType::parse_list("access_types", &self.access_types)
                .map_err(c("access_types"))?,
        };
        let amf: [u8; 2] = self
            .amf
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("amf", &key, "not 2 octets"))?;
        let subscriber = Subscriber {
            imsi: Imsi::new(&self.imsi).map_err(c("imsi"))?,
            mnc_len: MncLen::from_digits(self.mnc_len as u64).map_err(c("mnc_len"))?,
            k: Key128::from_slice("k", &self.k).map_err(c("k"))?,
            opc: Key128::from_slice("opc", &self.opc).map_err(c("opc"))?,
            opc_from_op: self.opc_from_op,
            amf: Amf(amf),
            profile,
        };
        Ok(StoredSubscriber {
            subscriber,
            seq_hwm: u64::try_from(self.seq_hwm).map_err(|e| corrupt("seq_hwm", &key, e))?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

struct ReauthColumns {
    username: String,
    imsi: String,
    method: String,
    counter: i32,
    mk: Vec<u8>,
    k_re: Vec<u8>,
    k_aut: Vec<u8>,
    k_encr: Vec<u8>,
    expires_at: i64,
}

impl ReauthColumns {
    fn decode(mut self) -> Result<ReauthRecord> {
        let key = self.username.clone();
        let r = ReauthRecord {
            username: std::mem::take(&mut self.username),
            imsi: Imsi::new(&self.imsi).map_err(|e| corrupt("imsi", &key, e))?,
            method: AkaMethod::from_str(&self.method).map_err(|e| corrupt("method", &key, e))?,
            counter: u16::try_from(self.counter).map_err(|e| corrupt("counter", &key, e))?,
            mk: std::mem::take(&mut self.mk),
            k_re: std::mem::take(&mut self.k_re),
            k_aut: std::mem::take(&mut self.k_aut),
            k_encr: std::mem::take(&mut self.k_encr),
            expires_at: self.expires_at,
        };
        r.validate().map_err(|e| corrupt("keys", &key, e))?;
        Ok(r)
    }
}

impl Drop for ReauthColumns {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.mk.zeroize();
        self.k_re.zeroize();
        self.k_aut.zeroize();
        self.k_encr.zeroize();
    }
}

const SUBSCRIBER_COLUMNS: &str = "imsi, mnc_len, k, opc, opc_from_op, amf, seq_hwm, msisdn, \
     default_apn, static_ipv4, static_ipv6_prefix, home_agent, mip4_fha, access_types, \
     created_at, updated_at";

/// A subscriber and its APN profiles in one statement (`$1`: the IMSI), in profile order.
static SUBSCRIBER_WITH_APNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let cols: Vec<String> = SUBSCRIBER_COLUMNS
        .split(',')
        .map(|c| format!("s.{}", c.trim()))
        .collect();
    format!(
        "SELECT {}, a.apn, a.gateway, a.visited_allowed, a.pdn_type FROM subscriber s \
         LEFT JOIN apn_profile a ON a.imsi = s.imsi WHERE s.imsi = $1 ORDER BY a.position",
        cols.join(", ")
    )
});

/// Statement shapes of [`Backend::load_subscribers`]: the IMSI list is padded to one of
/// these sizes (the last IMSI repeated), so a handful of statement texts stay prepared.
const LOAD_SHAPES: [usize; 4] = [1, 4, 16, 64];

/// Subscribers and their APN profiles for `n` IMSIs (`$1`..`$n`), one statement per shape.
static SUBSCRIBERS_WITH_APNS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    let cols: Vec<String> = SUBSCRIBER_COLUMNS
        .split(',')
        .map(|c| format!("s.{}", c.trim()))
        .collect();
    LOAD_SHAPES
        .iter()
        .map(|&n| {
            let marks: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
            format!(
                "SELECT {}, a.apn, a.gateway, a.visited_allowed, a.pdn_type FROM subscriber s \
                 LEFT JOIN apn_profile a ON a.imsi = s.imsi WHERE s.imsi IN ({}) \
                 ORDER BY s.imsi, a.position",
                cols.join(", "),
                marks.join(", ")
            )
        })
        .collect()
});

const INSERT_SUBSCRIBER: &str = "INSERT INTO subscriber (imsi, mnc_len, k, opc, opc_from_op, \
     amf, seq_hwm, msisdn, default_apn, static_ipv4, static_ipv6_prefix, home_agent, mip4_fha, \
     access_types, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)";

const UPSERT_SUFFIX: &str = " ON CONFLICT (imsi) DO UPDATE SET mnc_len = excluded.mnc_len, \
     k = excluded.k, opc = excluded.opc, opc_from_op = excluded.opc_from_op, amf = excluded.amf, \
     seq_hwm = CASE WHEN subscriber.seq_hwm > excluded.seq_hwm THEN subscriber.seq_hwm \
                    ELSE excluded.seq_hwm END, \
     msisdn = excluded.msisdn, default_apn = excluded.default_apn, \
     static_ipv4 = excluded.static_ipv4, static_ipv6_prefix = excluded.static_ipv6_prefix, \
     home_agent = excluded.home_agent, mip4_fha = excluded.mip4_fha, \
     access_types = excluded.access_types, updated_at = excluded.updated_at";

const INSERT_APN: &str = "INSERT INTO apn_profile (imsi, position, apn, gateway, \
     visited_allowed, pdn_type) VALUES ($1, $2, $3, $4, $5, $6)";

const REAUTH_COLUMNS: &str = "username, imsi, method, counter, mk, k_re, k_aut, k_encr, expires_at";

const SESSION_COLUMNS: &str = "session_id, imsi, kind, peer, aaa_host, nai, apn, gateway_host, \
     gateway_address, visited_network, mag_lma_key, lma_identity, created_ms, expires_at";

struct SessionColumns {
    session_id: String,
    imsi: String,
    kind: String,
    peer: String,
    aaa_host: String,
    nai: String,
    apn: Option<String>,
    gateway_host: Option<String>,
    gateway_address: Option<String>,
    visited_network: Option<String>,
    mag_lma_key: Option<Vec<u8>>,
    lma_identity: Option<String>,
    created_ms: i64,
    expires_at: i64,
}

impl SessionColumns {
    fn decode(mut self) -> Result<AaaSessionRecord> {
        let key = self.session_id.clone();
        let r = AaaSessionRecord {
            session_id: std::mem::take(&mut self.session_id),
            imsi: Imsi::new(&self.imsi).map_err(|e| corrupt("aaa_session.imsi", &key, e))?,
            kind: SessionKind::from_str(&self.kind)
                .map_err(|e| corrupt("aaa_session.kind", &key, e))?,
            peer: std::mem::take(&mut self.peer),
            aaa_host: std::mem::take(&mut self.aaa_host),
            nai: std::mem::take(&mut self.nai),
            apn: self.apn.take(),
            gateway_host: self.gateway_host.take(),
            gateway_address: self.gateway_address.take(),
            visited_network: self.visited_network.take(),
            mag_lma_key: self.mag_lma_key.take().unwrap_or_default(),
            lma_identity: self.lma_identity.take(),
            created_ms: self.created_ms,
            expires_at: self.expires_at,
        };
        r.validate()
            .map_err(|e| corrupt("aaa_session.mag_lma_key", &key, e))?;
        Ok(r)
    }
}

impl Drop for SessionColumns {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        if let Some(k) = &mut self.mag_lma_key {
            k.zeroize();
        }
    }
}

/// The code both back ends share, expanded once per database: `$db` is the sqlx database
/// type, `$row` its row type.
macro_rules! shared_impl {
    ($backend:ident, $db:ty, $row:ty) => {
        impl $backend {
            fn subscriber_columns(row: &$row) -> Result<SubscriberColumns> {
                Ok(SubscriberColumns {
                    imsi: row.try_get("imsi")?,
                    mnc_len: row.try_get("mnc_len")?,
                    k: row.try_get("k")?,
                    opc: row.try_get("opc")?,
                    opc_from_op: row.try_get("opc_from_op")?,
                    amf: row.try_get("amf")?,
                    seq_hwm: row.try_get("seq_hwm")?,
                    msisdn: row.try_get("msisdn")?,
                    default_apn: row.try_get("default_apn")?,
                    static_ipv4: row.try_get("static_ipv4")?,
                    static_ipv6_prefix: row.try_get("static_ipv6_prefix")?,
                    home_agent: row.try_get("home_agent")?,
                    mip4_fha: row.try_get("mip4_fha")?,
                    access_types: row.try_get("access_types")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            }

            fn apn_columns(row: &$row) -> Result<(String, ApnColumns)> {
                Ok((
                    row.try_get("imsi")?,
                    ApnColumns {
                        apn: row.try_get("apn")?,
                        gateway: row.try_get("gateway")?,
                        visited_allowed: row.try_get("visited_allowed")?,
                        pdn_type: row.try_get("pdn_type")?,
                    },
                ))
            }

            fn session_columns(row: &$row) -> Result<SessionColumns> {
                Ok(SessionColumns {
                    session_id: row.try_get("session_id")?,
                    imsi: row.try_get("imsi")?,
                    kind: row.try_get("kind")?,
                    peer: row.try_get("peer")?,
                    aaa_host: row.try_get("aaa_host")?,
                    nai: row.try_get("nai")?,
                    apn: row.try_get("apn")?,
                    gateway_host: row.try_get("gateway_host")?,
                    gateway_address: row.try_get("gateway_address")?,
                    visited_network: row.try_get("visited_network")?,
                    mag_lma_key: row.try_get("mag_lma_key")?,
                    lma_identity: row.try_get("lma_identity")?,
                    created_ms: row.try_get("created_ms")?,
                    expires_at: row.try_get("expires_at")?,
                })
            }

            async fn session_impl(
                &self,
                session_id: &str,
                now: i64,
            ) -> Result<Option<AaaSessionRecord>> {
                let sql = format!(
                    "SELECT {SESSION_COLUMNS} FROM aaa_session \
                     WHERE session_id = $1 AND expires_at > $2"
                );
                let row = sqlx::query(&sql)
                    .bind(session_id)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| Self::session_columns(&r)?.decode()).transpose()
            }

            async fn sessions_for_impl(
                &self,
                imsi: &Imsi,
                now: i64,
            ) -> Result<Vec<AaaSessionRecord>> {
                let sql = format!(
                    "SELECT {SESSION_COLUMNS} FROM aaa_session \
                     WHERE imsi = $1 AND expires_at > $2 \
                     ORDER BY created_ms DESC, session_id DESC LIMIT 1000"
                );
                let rows = sqlx::query(&sql)
                    .bind(imsi.as_str())
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| Self::session_columns(r)?.decode())
                    .collect()
            }

            async fn delete_session_impl(&self, session_id: &str) -> Result<bool> {
                let r = sqlx::query("DELETE FROM aaa_session WHERE session_id = $1")
                    .bind(session_id)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            fn reauth_columns(row: &$row) -> Result<ReauthColumns> {
                Ok(ReauthColumns {
                    username: row.try_get("username")?,
                    imsi: row.try_get("imsi")?,
                    method: row.try_get("method")?,
                    counter: row.try_get("counter")?,
                    mk: row.try_get("mk")?,
                    k_re: row.try_get("k_re")?,
                    k_aut: row.try_get("k_aut")?,
                    k_encr: row.try_get("k_encr")?,
                    expires_at: row.try_get("expires_at")?,
                })
            }

            async fn load_subscriber_impl(&self, imsi: &Imsi) -> Result<Option<StoredSubscriber>> {
                // One statement, the subscriber's columns repeated on each of its APN rows
                // (one row with NULL APN columns when it has none): a subscriber not cached
                // costs one round trip to the database, not two.
                let rows = sqlx::query(&SUBSCRIBER_WITH_APNS)
                    .bind(imsi.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                let Some(first) = rows.first() else {
                    return Ok(None);
                };
                let cols = Self::subscriber_columns(first)?;
                let mut apns = Vec::with_capacity(rows.len());
                for r in &rows {
                    if r.try_get::<Option<String>, _>("apn")?.is_some() {
                        apns.push(Self::apn_columns(r)?.1.decode(imsi.as_str())?);
                    }
                }
                Ok(Some(cols.decode(apns)?))
            }

            async fn load_subscribers_impl(&self, imsis: &[&str]) -> Result<Vec<StoredSubscriber>> {
                let mut imsis = imsis.to_vec();
                imsis.sort_unstable();
                imsis.dedup();
                let mut out = Vec::with_capacity(imsis.len());
                for chunk in imsis.chunks(LOAD_SHAPES[LOAD_SHAPES.len() - 1]) {
                    let Some(last) = chunk.last() else { continue };
                    let shape = LOAD_SHAPES
                        .iter()
                        .position(|&n| n >= chunk.len())
                        .unwrap_or(LOAD_SHAPES.len() - 1);
                    let mut q = sqlx::query(&SUBSCRIBERS_WITH_APNS[shape]);
                    for i in chunk.iter().chain(std::iter::repeat(last)).take(LOAD_SHAPES[shape]) {
                        q = q.bind(*i);
                    }
                    let rows = q.fetch_all(self.batch_read_pool()).await?;
                    // Rows come grouped by IMSI: one subscriber per run of rows.
                    let mut start = 0;
                    while start < rows.len() {
                        let cols = Self::subscriber_columns(&rows[start])?;
                        let mut end = start + 1;
                        while end < rows.len()
                            && rows[end].try_get::<String, _>("imsi")? == cols.imsi
                        {
                            end += 1;
                        }
                        let mut apns = Vec::with_capacity(end - start);
                        for r in &rows[start..end] {
                            if r.try_get::<Option<String>, _>("apn")?.is_some() {
                                apns.push(Self::apn_columns(r)?.1.decode(&cols.imsi)?);
                            }
                        }
                        out.push(cols.decode(apns)?);
                        start = end;
                    }
                }
                Ok(out)
            }

            async fn list_subscribers_impl(
                &self,
                after: Option<&Imsi>,
                limit: u32,
            ) -> Result<Vec<StoredSubscriber>> {
                let after = after.map(|i| i.as_str()).unwrap_or("");
                let sql = format!(
                    "SELECT {SUBSCRIBER_COLUMNS} FROM subscriber WHERE imsi > $1 \
                     ORDER BY imsi LIMIT $2"
                );
                let rows = sqlx::query(&sql)
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                let Some(last) = rows.last() else {
                    return Ok(Vec::new());
                };
                let last: String = last.try_get("imsi")?;
                let apn_rows = sqlx::query(
                    "SELECT imsi, apn, gateway, visited_allowed, pdn_type FROM apn_profile \
                     WHERE imsi > $1 AND imsi <= $2 ORDER BY imsi, position",
                )
                .bind(after)
                .bind(&last)
                .fetch_all(&self.pool)
                .await?;
                let mut by_imsi: std::collections::HashMap<String, Vec<ApnProfile>> =
                    std::collections::HashMap::new();
                for r in &apn_rows {
                    let (imsi, cols) = Self::apn_columns(r)?;
                    let p = cols.decode(&imsi)?;
                    by_imsi.entry(imsi).or_default().push(p);
                }
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    let cols = Self::subscriber_columns(r)?;
                    let apns = by_imsi.remove(&cols.imsi).unwrap_or_default();
                    out.push(cols.decode(apns)?);
                }
                Ok(out)
            }

            async fn count_subscribers_impl(&self) -> Result<u64> {
                let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM subscriber")
                    .fetch_one(&self.pool)
                    .await?
                    .try_get("n")?;
                Ok(n.max(0) as u64)
            }

            async fn write_subscribers_impl(
                &self,
                subs: &[Provision],
                mode: WriteMode,
                now: i64,
            ) -> Result<usize> {
                for p in subs {
                    p.subscriber.validate()?;
                }
                let insert = match mode {
                    WriteMode::Add => INSERT_SUBSCRIBER.to_owned(),
                    WriteMode::Replace => format!("{INSERT_SUBSCRIBER}{UPSERT_SUFFIX}"),
                };
                let mut tx = self.begin_write().await?;
                for p in subs {
                    let s = &p.subscriber;
                    let pr = &s.profile;
                    let imsi = s.imsi.as_str();
                    let r = sqlx::query(&insert)
                        .bind(imsi)
                        .bind(s.mnc_len.digits() as i32)
                        .bind(s.k.as_bytes().as_slice())
                        .bind(s.opc.as_bytes().as_slice())
                        .bind(s.opc_from_op)
                        .bind(s.amf.0.as_slice())
                        .bind(p.seq_hwm() as i64)
                        .bind(pr.msisdn.as_deref())
                        .bind(pr.default_apn.as_deref().map(str::to_ascii_lowercase))
                        .bind(pr.static_ipv4.map(|a| a.to_string()))
                        .bind(pr.static_ipv6_prefix.map(|a| a.to_string()))
                        .bind(pr.home_agent.as_ref().map(|a| a.to_string()))
                        .bind(pr.mip4_fha.as_ref().map(|a| a.to_string()))
                        .bind(AccessType::format_list(&pr.access_types))
                        .bind(now)
                        .execute(&mut *tx)
                        .await;
                    match r {
                        Ok(_) => {}
                        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                            return Err(Error::Exists {
                                imsi: imsi.to_owned(),
                            });
                        }
                        Err(e) => return Err(e.into()),
                    }
                    if mode == WriteMode::Replace {
                        sqlx::query("DELETE FROM apn_profile WHERE imsi = $1")
                            .bind(imsi)
                            .execute(&mut *tx)
                            .await?;
                    }
                    for (i, a) in pr.apns.iter().enumerate() {
                        sqlx::query(INSERT_APN)
                            .bind(imsi)
                            .bind(i as i32)
                            .bind(&a.apn)
                            .bind(a.gateway.to_string())
                            .bind(a.visited_allowed)
                            .bind(a.pdn_type.as_str())
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                Ok(subs.len())
            }

            async fn delete_subscriber_impl(&self, imsi: &Imsi) -> Result<bool> {
                let r = sqlx::query("DELETE FROM subscriber WHERE imsi = $1")
                    .bind(imsi.as_str())
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn set_seq_hwm_impl(&self, imsi: &Imsi, seq_hwm: u64) -> Result<bool> {
                let v = seq_hwm.clamp(1, SEQ_LIMIT) as i64;
                let r = sqlx::query("UPDATE subscriber SET seq_hwm = $2 WHERE imsi = $1")
                    .bind(imsi.as_str())
                    .bind(v)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn pseudonym_impl(
                &self,
                username: &str,
                now: i64,
            ) -> Result<Option<PseudonymRecord>> {
                let row = sqlx::query(
                    "SELECT username, imsi, method, expires_at FROM pseudonym \
                     WHERE username = $1 AND expires_at > $2",
                )
                .bind(username)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let imsi: String = row.try_get("imsi")?;
                let method: String = row.try_get("method")?;
                Ok(Some(PseudonymRecord {
                    username: row.try_get("username")?,
                    imsi: Imsi::new(&imsi).map_err(|e| corrupt("pseudonym.imsi", username, e))?,
                    method: AkaMethod::from_str(&method)
                        .map_err(|e| corrupt("pseudonym.method", username, e))?,
                    expires_at: row.try_get("expires_at")?,
                }))
            }

            async fn delete_pseudonym_impl(&self, username: &str) -> Result<bool> {
                let r = sqlx::query("DELETE FROM pseudonym WHERE username = $1")
                    .bind(username)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn reauth_impl(&self, username: &str, now: i64) -> Result<Option<ReauthRecord>> {
                let sql = format!(
                    "SELECT {REAUTH_COLUMNS} FROM reauth_identity \
                     WHERE username = $1 AND expires_at > $2"
                );
                let row = sqlx::query(&sql)
                    .bind(username)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| Self::reauth_columns(&r)?.decode()).transpose()
            }

            async fn take_reauth_impl(
                &self,
                username: &str,
                now: i64,
            ) -> Result<Option<ReauthRecord>> {
                let sql = format!(
                    "DELETE FROM reauth_identity WHERE username = $1 RETURNING {REAUTH_COLUMNS}"
                );
                let row = sqlx::query(&sql)
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    Some(r) => {
                        let rec = Self::reauth_columns(&r)?.decode()?;
                        Ok((rec.expires_at > now).then_some(rec))
                    }
                    None => Ok(None),
                }
            }

            async fn shared_secret_impl(
                &self,
                name: &str,
                fresh: &[u8],
                now: i64,
            ) -> Result<Vec<u8>> {
                sqlx::query(
                    "INSERT INTO aaa_secret (name, value, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(fresh)
                .bind(now)
                .execute(&self.pool)
                .await?;
                let row = sqlx::query("SELECT value FROM aaa_secret WHERE name = $1")
                    .bind(name)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(row.try_get("value")?)
            }

            async fn purge_expired_impl(&self, now: i64) -> Result<Purged> {
                let mut tx = self.begin_write().await?;
                let p = sqlx::query("DELETE FROM pseudonym WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let r = sqlx::query("DELETE FROM reauth_identity WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let a = sqlx::query("DELETE FROM aaa_session WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(Purged {
                    pseudonyms: p,
                    reauth_ids: r,
                    sessions: a,
                })
            }
        }

        impl Backend for $backend {
            fn kind(&self) -> BackendKind {
                Self::KIND
            }
            async fn load_subscriber(&self, imsi: &Imsi) -> Result<Option<StoredSubscriber>> {
                self.load_subscriber_impl(imsi).await
            }
            async fn load_subscribers(&self, imsis: &[&str]) -> Result<Vec<StoredSubscriber>> {
                self.load_subscribers_impl(imsis).await
            }
            async fn list_subscribers(
                &self,
                after: Option<&Imsi>,
                limit: u32,
            ) -> Result<Vec<StoredSubscriber>> {
                self.list_subscribers_impl(after, limit).await
            }
            async fn count_subscribers(&self) -> Result<u64> {
                self.count_subscribers_impl().await
            }
            async fn write_subscribers(
                &self,
                subs: &[Provision],
                mode: WriteMode,
                now: i64,
            ) -> Result<usize> {
                self.write_subscribers_impl(subs, mode, now).await
            }
            async fn delete_subscriber(&self, imsi: &Imsi) -> Result<bool> {
                self.delete_subscriber_impl(imsi).await
            }
            async fn set_seq_hwm(&self, imsi: &Imsi, seq_hwm: u64) -> Result<bool> {
                self.set_seq_hwm_impl(imsi, seq_hwm).await
            }
            async fn commit_batch(&self, batch: &mut Batch) -> Result<()> {
                self.commit_batch_impl(batch).await
            }
            async fn pseudonym(&self, username: &str, now: i64) -> Result<Option<PseudonymRecord>> {
                self.pseudonym_impl(username, now).await
            }
            async fn delete_pseudonym(&self, username: &str) -> Result<bool> {
                self.delete_pseudonym_impl(username).await
            }
            async fn reauth(&self, username: &str, now: i64) -> Result<Option<ReauthRecord>> {
                self.reauth_impl(username, now).await
            }
            async fn take_reauth(&self, username: &str, now: i64) -> Result<Option<ReauthRecord>> {
                self.take_reauth_impl(username, now).await
            }
            async fn purge_expired(&self, now: i64) -> Result<Purged> {
                self.purge_expired_impl(now).await
            }
            async fn shared_secret(&self, name: &str, fresh: &[u8], now: i64) -> Result<Vec<u8>> {
                self.shared_secret_impl(name, fresh, now).await
            }
            async fn session(
                &self,
                session_id: &str,
                now: i64,
            ) -> Result<Option<AaaSessionRecord>> {
                self.session_impl(session_id, now).await
            }
            async fn sessions_for(&self, imsi: &Imsi, now: i64) -> Result<Vec<AaaSessionRecord>> {
                self.sessions_for_impl(imsi, now).await
            }
            async fn delete_session(&self, session_id: &str) -> Result<bool> {
                self.delete_session_impl(session_id).await
            }
        }
    };
}

// ---------------------------------------------------------------------------------------
// SQLite

/// `[["imsi", n], ...]` (IMSIs are digits only: nothing to escape).
fn json_pairs<'a>(items: impl Iterator<Item = (&'a String, u64)>) -> String {
    let mut s = String::from("[");
    for (i, (imsi, n)) in items.enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("[\"{imsi}\",{n}]"));
    }
    s.push(']');
    s
}

fn sqlite_hwm_map(
    rows: &[sqlx::sqlite::SqliteRow],
) -> Result<std::collections::HashMap<String, u64>> {
    let mut m = std::collections::HashMap::with_capacity(rows.len());
    for r in rows {
        let h: i64 = r.try_get("seq_hwm")?;
        m.insert(r.try_get::<String, _>("imsi")?, h as u64);
    }
    Ok(m)
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static PG_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// SQLite back end: one file, WAL journal, `synchronous = FULL` (a commit is on disk when it
/// returns; the group commit makes that one fsync per batch, not per authentication).
#[derive(Debug, Clone)]
pub struct SqliteBackend {
    pool: SqlitePool,
    /// The one connection write transactions use (SQLite has one writer at a time anyway).
    /// A connection's page cache is dropped whenever another connection has written, so
    /// writes that rotated over the pool's connections re-read their index pages from the
    /// OS on most commits; on its own connection the writer keeps them cached. (For
    /// `:memory:` the same one-connection pool as everything else.)
    writer: SqlitePool,
}

const INSERT_PSEUDONYM: &str = "INSERT INTO pseudonym (username, imsi, method, expires_at) \
     SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM subscriber WHERE imsi = $2) \
     AND NOT EXISTS (SELECT 1 FROM pseudonym o WHERE o.username = $1 \
                     AND (o.imsi <> $2 OR o.method <> $3)) \
     ON CONFLICT (imsi, method) DO UPDATE SET username = excluded.username, \
     expires_at = excluded.expires_at";

const INSERT_REAUTH: &str = "INSERT INTO reauth_identity (username, imsi, method, counter, mk, \
     k_re, k_aut, k_encr, expires_at) \
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM subscriber WHERE imsi = $2) \
     AND NOT EXISTS (SELECT 1 FROM reauth_identity o WHERE o.username = $1 \
                     AND (o.imsi <> $2 OR o.method <> $3)) \
     ON CONFLICT (imsi, method) DO UPDATE SET username = excluded.username, \
     counter = excluded.counter, mk = excluded.mk, k_re = excluded.k_re, k_aut = excluded.k_aut, \
     k_encr = excluded.k_encr, expires_at = excluded.expires_at";

const INSERT_SESSION: &str = "INSERT INTO aaa_session (session_id, imsi, kind, peer, aaa_host, \
     nai, apn, gateway_host, gateway_address, visited_network, mag_lma_key, lma_identity, \
     created_ms, expires_at) \
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 \
     WHERE EXISTS (SELECT 1 FROM subscriber WHERE imsi = $2) \
     ON CONFLICT (session_id) DO UPDATE SET imsi = excluded.imsi, kind = excluded.kind, \
     peer = excluded.peer, aaa_host = excluded.aaa_host, nai = excluded.nai, apn = excluded.apn, \
     gateway_host = excluded.gateway_host, gateway_address = excluded.gateway_address, \
     visited_network = excluded.visited_network, mag_lma_key = excluded.mag_lma_key, \
     lma_identity = excluded.lma_identity, expires_at = excluded.expires_at";

/// Rows of one multi-row upsert on SQLite: the largest of 256, 64, 16, 4, 1 not above what
/// is left. Few distinct statements (5 per kind) stay in the statement cache, however the
/// batches vary; 14 columns × 256 rows stays far below SQLite's 32,766 bound parameters.
fn sqlite_piece(left: usize) -> usize {
    [256, 64, 16, 4, 1]
        .into_iter()
        .find(|&n| n <= left)
        .unwrap_or(1)
}

/// [`sqlite_multi_upsert`], built once per statement and row count: the writer asked for
/// the same few strings (3 statements × the 5 sizes of [`sqlite_piece`]) at every commit,
/// and built each anew (1–1.5 % of the AAA's CPU). Bounded: only those sizes reach it.
fn sqlite_multi_upsert_cached(single: &'static str, cols: usize, rows: usize) -> &'static str {
    type Built = std::collections::HashMap<(usize, usize), &'static str>;
    static BUILT: std::sync::OnceLock<std::sync::Mutex<Built>> = std::sync::OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    built
        .entry((single.as_ptr() as usize, rows))
        .or_insert_with(|| Box::leak(sqlite_multi_upsert(single, cols, rows).into_boxed_str()))
}

/// `single` (an `INSERT INTO t (cols) SELECT $1.. WHERE EXISTS (.. imsi = $2) .. ON CONFLICT ..`
/// statement) rewritten for `rows` rows of `cols` parameters each, from a VALUES list, its
/// WHERE condition kept with `$n` read as the row's column n (a row whose subscriber is gone
/// is not written; [`sqlite_outcomes`] finds which).
fn sqlite_multi_upsert(single: &str, cols: usize, rows: usize) -> String {
    let (head, rest) = single.split_once(" SELECT ").unwrap_or((single, ""));
    let conflict_at = rest.find("ON CONFLICT").unwrap_or(rest.len());
    let conflict = &rest[conflict_at..];
    let mut cond = rest[..conflict_at]
        .split_once(" WHERE ")
        .map(|(_, c)| c.to_owned())
        .unwrap_or_else(|| "true ".to_owned());
    // highest first, so that $1 does not match the start of $12
    for c in (1..=cols).rev() {
        cond = cond.replace(&format!("${c}"), &format!("v.column{c}"));
    }
    let mut sql = String::with_capacity(head.len() + conflict.len() + rows * (cols * 2 + 4) + 128);
    sql.push_str(head);
    sql.push_str(" SELECT ");
    for c in 1..=cols {
        if c > 1 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("v.column{c}"));
    }
    sql.push_str(" FROM (VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            sql.push('?');
        }
        sql.push(')');
    }
    sql.push_str(") AS v WHERE ");
    sql.push_str(&cond);
    sql.push_str(conflict);
    sql
}

/// The outcomes of a multi-row upsert that wrote `affected` rows: all `Done` when every row
/// was written (the usual case, known without reading anything back: a `RETURNING` row per
/// written row had cost a message from SQLite's worker thread each); otherwise the rows
/// whose subscriber is gone are `NotFound`.
async fn sqlite_outcomes<T>(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    chunk: &mut [(T, Outcome)],
    imsi: impl Fn(&T) -> &str,
    affected: u64,
) -> Result<()> {
    if all_written(chunk, affected) {
        return Ok(());
    }
    let known = sqlite_known(tx, chunk.iter().map(|(t, _)| imsi(t))).await?;
    for (t, o) in chunk.iter_mut() {
        *o = if known.contains(imsi(t)) {
            Outcome::Done(0)
        } else {
            Outcome::NotFound
        };
    }
    Ok(())
}

/// The outcomes of a multi-row identity upsert (pseudonyms, re-authentication identities)
/// that wrote `affected` rows: all `Done` when every row was written; otherwise each row is
/// looked up by username: `Done` when it is there with its subscriber and method, else
/// `NotFound` (the subscriber is gone) or `Taken` (the username is another's).
async fn sqlite_identity_outcomes<T>(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    table: &'static str,
    chunk: &mut [(T, Outcome)],
    key: fn(&T) -> (&str, &str, &str),
    affected: u64,
) -> Result<()> {
    if all_written(chunk, affected) {
        return Ok(());
    }
    let marks = vec!["?"; chunk.len()].join(", ");
    let sql = format!("SELECT username, imsi, method FROM {table} WHERE username IN ({marks})");
    let mut q = sqlx::query(&sql);
    for (t, _) in chunk.iter() {
        q = q.bind(key(t).0.to_owned());
    }
    let mut stored = HashSet::new();
    for r in q.fetch_all(&mut **tx).await? {
        stored.insert((
            r.try_get::<String, _>("username")?,
            r.try_get::<String, _>("imsi")?,
            r.try_get::<String, _>("method")?,
        ));
    }
    let known = sqlite_known(tx, chunk.iter().map(|(t, _)| key(t).1)).await?;
    for (t, o) in chunk.iter_mut() {
        *o = identity_outcome(key(t), |k| stored.contains(&k), &known);
    }
    Ok(())
}

/// Marks every row `Done` when the statement wrote them all (`affected`); whether it did.
fn all_written<T>(chunk: &mut [(T, Outcome)], affected: u64) -> bool {
    let all = affected >= chunk.len() as u64;
    if all {
        for (_, o) in chunk.iter_mut() {
            *o = Outcome::Done(0);
        }
    }
    all
}

/// Which of `imsis` are provisioned.
async fn sqlite_known<'a>(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    imsis: impl ExactSizeIterator<Item = &'a str>,
) -> Result<HashSet<String>> {
    let marks = vec!["?"; imsis.len()].join(", ");
    let sql = format!("SELECT imsi FROM subscriber WHERE imsi IN ({marks})");
    let mut q = sqlx::query_scalar::<_, String>(&sql);
    for i in imsis {
        q = q.bind(i.to_owned());
    }
    Ok(q.fetch_all(&mut **tx).await?.into_iter().collect())
}

/// [`sqlite_identity_outcomes`]' rule for one row: written, subscriber gone, or taken.
fn identity_outcome(
    (username, imsi, method): (&str, &str, &str),
    written: impl Fn((String, String, String)) -> bool,
    known: &HashSet<String>,
) -> Outcome {
    if written((username.to_owned(), imsi.to_owned(), method.to_owned())) {
        Outcome::Done(0)
    } else if known.contains(imsi) {
        Outcome::Taken
    } else {
        Outcome::NotFound
    }
}

impl SqliteBackend {
    const KIND: BackendKind = BackendKind::Sqlite;

    /// Opens (creating the file if needed) and migrates. `target` is a `sqlite:` URL or a
    /// path.
    pub async fn open(target: &str, opts: &ConnectOptions) -> Result<Self> {
        let url_err = |reason: String| Error::Url {
            url: target.to_owned(),
            reason,
        };
        let base = if target.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(target).map_err(|e| url_err(e.to_string()))?
        } else {
            SqliteConnectOptions::new().filename(target)
        };
        let memory = target.contains(":memory:") || target.contains("mode=memory");
        let co = base
            .create_if_missing(true)
            .journal_mode(if memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(opts.timeout)
            // 32 MiB of page cache per connection (SQLite's default is 2 MiB): with the
            // tables of sessions and identities past a few MiB, every insert re-read index
            // pages from the OS.
            .pragma("cache_size", "-32768")
            .statement_cache_capacity(64);
        let pool = SqlitePoolOptions::new()
            // A local file: no connection to test before each use (sqlx pings by default,
            // one more round trip to the connection's worker thread per statement).
            .test_before_acquire(false)
            // An in-memory database lives in one connection.
            .max_connections(if memory {
                1
            } else {
                opts.max_connections.max(1)
            })
            .min_connections(if memory { 1 } else { 0 })
            .idle_timeout(if memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if memory {
                None
            } else {
                Some(Duration::from_secs(3600))
            })
            .acquire_timeout(opts.timeout)
            .connect_with(co.clone())
            .await?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        let writer = if memory {
            pool.clone()
        } else {
            SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(opts.timeout)
                .connect_with(co)
                .await?
        };
        Ok(Self { pool, writer })
    }

    /// The pool (tests and tools).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Where batched subscriber loads run: on the writer's connection. A pool connection
    /// drops its whole page cache whenever another connection has written (SQLite's WAL
    /// read transaction sees a changed database), so under a stream of group commits every
    /// load re-read the subscriber and APN index pages with pread; the writer wrote those
    /// changes itself and keeps its cache. A load waits for a commit in progress, which the
    /// batching absorbs (A/B in docs/performance.md).
    fn batch_read_pool(&self) -> &SqlitePool {
        &self.writer
    }

    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        // IMMEDIATE takes the write lock up front, so a transaction that reads before it
        // writes cannot fail with SQLITE_BUSY half way.
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn commit_batch_impl(&self, batch: &mut Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        // One statement per kind for the whole batch (the IMSIs and numbers travel as one
        // JSON array): a few statements per commit instead of one per subscriber.
        if !batch.resync.is_empty() {
            let arg = json_pairs(
                batch
                    .resync
                    .iter()
                    .map(|i| (&i.imsi, i.target.min(SEQ_LIMIT))),
            );
            let rows = sqlx::query(
                "UPDATE subscriber SET seq_hwm = CASE WHEN seq_hwm < v.n THEN v.n ELSE seq_hwm END \
                 FROM (SELECT json_extract(value, '$[0]') AS imsi, json_extract(value, '$[1]') AS n \
                       FROM json_each($1)) AS v \
                 WHERE subscriber.imsi = v.imsi RETURNING subscriber.imsi, subscriber.seq_hwm",
            )
            .bind(arg)
            .fetch_all(&mut *tx)
            .await?;
            let done = sqlite_hwm_map(&rows)?;
            for item in &mut batch.resync {
                item.outcome = match done.get(item.imsi.as_str()) {
                    Some(h) => Outcome::Done(*h),
                    None => Outcome::NotFound,
                };
            }
        }
        if !batch.reserve.is_empty() {
            let arg = json_pairs(batch.reserve.iter().map(|i| (&i.imsi, i.count)));
            let rows = sqlx::query(
                "UPDATE subscriber SET seq_hwm = seq_hwm + v.n \
                 FROM (SELECT json_extract(value, '$[0]') AS imsi, json_extract(value, '$[1]') AS n \
                       FROM json_each($1)) AS v \
                 WHERE subscriber.imsi = v.imsi AND subscriber.seq_hwm <= $2 - v.n \
                 RETURNING subscriber.imsi, subscriber.seq_hwm",
            )
            .bind(arg)
            .bind(SEQ_LIMIT as i64)
            .fetch_all(&mut *tx)
            .await?;
            let done = sqlite_hwm_map(&rows)?;
            for item in &mut batch.reserve {
                item.outcome = match done.get(item.imsi.as_str()) {
                    Some(h) => Outcome::Done(*h),
                    None => {
                        let exists = sqlx::query("SELECT 1 AS one FROM subscriber WHERE imsi = $1")
                            .bind(&item.imsi)
                            .fetch_optional(&mut *tx)
                            .await?;
                        if exists.is_some() {
                            Outcome::Exhausted
                        } else {
                            Outcome::NotFound
                        }
                    }
                };
            }
        }
        // One statement per kind and up to SQLITE_ROWS rows (multi-row VALUES): a batch
        // of N writes is a handful of round trips to SQLite's worker thread, not N.
        let mut rest = &mut batch.pseudonyms[..];
        while !rest.is_empty() {
            let n = sqlite_piece(rest.len());
            let (chunk, tail) = std::mem::take(&mut rest).split_at_mut(n);
            rest = tail;
            let sql = sqlite_multi_upsert_cached(INSERT_PSEUDONYM, 4, chunk.len());
            let mut q = sqlx::query(sql);
            for (p, _) in chunk.iter() {
                q = q
                    .bind(&p.username)
                    .bind(p.imsi.as_str())
                    .bind(p.method.as_str())
                    .bind(p.expires_at);
            }
            let affected = q.execute(&mut *tx).await?.rows_affected();
            sqlite_identity_outcomes(&mut tx, "pseudonym", chunk, PseudonymRecord::key, affected)
                .await?;
        }
        let mut rest = &mut batch.sessions[..];
        while !rest.is_empty() {
            let n = sqlite_piece(rest.len());
            let (chunk, tail) = std::mem::take(&mut rest).split_at_mut(n);
            rest = tail;
            let sql = sqlite_multi_upsert_cached(INSERT_SESSION, 14, chunk.len());
            let mut q = sqlx::query(sql);
            for (a, _) in chunk.iter() {
                let key = (!a.mag_lma_key.is_empty()).then_some(a.mag_lma_key.as_slice());
                q = q
                    .bind(&a.session_id)
                    .bind(a.imsi.as_str())
                    .bind(a.kind.as_str())
                    .bind(&a.peer)
                    .bind(&a.aaa_host)
                    .bind(&a.nai)
                    .bind(a.apn.as_deref())
                    .bind(a.gateway_host.as_deref())
                    .bind(a.gateway_address.as_deref())
                    .bind(a.visited_network.as_deref())
                    .bind(key)
                    .bind(a.lma_identity.as_deref())
                    .bind(a.created_ms)
                    .bind(a.expires_at);
            }
            let affected = q.execute(&mut *tx).await?.rows_affected();
            sqlite_outcomes(&mut tx, chunk, |a| a.imsi.as_str(), affected).await?;
        }
        let mut rest = &mut batch.reauths[..];
        while !rest.is_empty() {
            let n = sqlite_piece(rest.len());
            let (chunk, tail) = std::mem::take(&mut rest).split_at_mut(n);
            rest = tail;
            let sql = sqlite_multi_upsert_cached(INSERT_REAUTH, 9, chunk.len());
            let mut q = sqlx::query(sql);
            for (p, _) in chunk.iter() {
                q = q
                    .bind(&p.username)
                    .bind(p.imsi.as_str())
                    .bind(p.method.as_str())
                    .bind(i32::from(p.counter))
                    .bind(p.mk.as_slice())
                    .bind(p.k_re.as_slice())
                    .bind(p.k_aut.as_slice())
                    .bind(p.k_encr.as_slice())
                    .bind(p.expires_at);
            }
            let affected = q.execute(&mut *tx).await?.rows_affected();
            sqlite_identity_outcomes(
                &mut tx,
                "reauth_identity",
                chunk,
                ReauthRecord::key,
                affected,
            )
            .await?;
        }
        delete_sessions(&mut tx, &mut batch.session_deletes).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The batch's session deletes, in statements of up to 256 Session-Ids (same SQL in both
/// back ends).
async fn delete_sessions<DB>(
    tx: &mut sqlx::Transaction<'static, DB>,
    items: &mut [(String, Outcome)],
) -> Result<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB> + sqlx::Decode<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let mut rest = items;
    while !rest.is_empty() {
        let n = sqlite_piece(rest.len());
        let (chunk, tail) = std::mem::take(&mut rest).split_at_mut(n);
        rest = tail;
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "DELETE FROM aaa_session WHERE session_id IN ({}) RETURNING session_id",
            marks.join(", ")
        );
        let mut q = sqlx::query_scalar::<DB, String>(&sql);
        for (id, _) in chunk.iter() {
            q = q.bind(id.as_str());
        }
        let gone: std::collections::HashSet<String> =
            q.fetch_all(&mut **tx).await?.into_iter().collect();
        for (id, outcome) in chunk.iter_mut() {
            *outcome = Outcome::Done(u64::from(gone.contains(id.as_str())));
        }
    }
    Ok(())
}

shared_impl!(SqliteBackend, sqlx::Sqlite, sqlx::sqlite::SqliteRow);

// ---------------------------------------------------------------------------------------
// PostgreSQL

/// PostgreSQL back end: several AAA / gateway nodes share one database. Commits are durable
/// with the server's default `synchronous_commit = on`.
#[derive(Debug, Clone)]
pub struct PgBackend {
    pool: PgPool,
}

impl PgBackend {
    const KIND: BackendKind = BackendKind::Postgres;

    /// Connects and migrates (migrations take an advisory lock, so nodes starting together
    /// do not race).
    pub async fn open(url: &str, opts: &ConnectOptions) -> Result<Self> {
        let co = PgConnectOptions::from_str(url).map_err(|e| Error::Url {
            url: redact_url(url),
            reason: e.to_string(),
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(opts.timeout)
            .idle_timeout(Some(Duration::from_secs(600)))
            .connect_with(co)
            .await?;
        PG_MIGRATIONS.run(&pool).await?;
        Ok(Self { pool })
    }

    /// The pool (tests and tools).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Where batched subscriber loads run: any pooled connection.
    fn batch_read_pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        Ok(self.pool.begin().await?)
    }

    async fn commit_batch_impl(&self, batch: &mut Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        // Lock every subscriber row the batch touches in one order: another node's batch
        // waits instead of deadlocking.
        let mut lock: Vec<&str> = batch
            .resync
            .iter()
            .map(|i| i.imsi.as_str())
            .chain(batch.reserve.iter().map(|i| i.imsi.as_str()))
            .collect();
        if !lock.is_empty() {
            lock.sort_unstable();
            lock.dedup();
            sqlx::query(
                "SELECT imsi FROM subscriber WHERE imsi = ANY($1) ORDER BY imsi FOR UPDATE",
            )
            .bind(&lock)
            .fetch_all(&mut *tx)
            .await?;
        }
        if !batch.resync.is_empty() {
            let imsis: Vec<&str> = batch.resync.iter().map(|i| i.imsi.as_str()).collect();
            let targets: Vec<i64> = batch
                .resync
                .iter()
                .map(|i| i.target.min(SEQ_LIMIT) as i64)
                .collect();
            let rows = sqlx::query(
                "UPDATE subscriber s SET seq_hwm = GREATEST(s.seq_hwm, v.t) \
                 FROM UNNEST($1::text[], $2::bigint[]) AS v(imsi, t) \
                 WHERE s.imsi = v.imsi RETURNING s.imsi, s.seq_hwm",
            )
            .bind(&imsis)
            .bind(&targets)
            .fetch_all(&mut *tx)
            .await?;
            let done = Self::hwm_map(&rows)?;
            for item in &mut batch.resync {
                item.outcome = match done.get(item.imsi.as_str()) {
                    Some(h) => Outcome::Done(*h),
                    None => Outcome::NotFound,
                };
            }
        }
        if !batch.reserve.is_empty() {
            let imsis: Vec<&str> = batch.reserve.iter().map(|i| i.imsi.as_str()).collect();
            let counts: Vec<i64> = batch.reserve.iter().map(|i| i.count as i64).collect();
            let rows = sqlx::query(
                "UPDATE subscriber s SET seq_hwm = s.seq_hwm + v.n \
                 FROM UNNEST($1::text[], $2::bigint[]) AS v(imsi, n) \
                 WHERE s.imsi = v.imsi AND s.seq_hwm <= $3 - v.n RETURNING s.imsi, s.seq_hwm",
            )
            .bind(&imsis)
            .bind(&counts)
            .bind(SEQ_LIMIT as i64)
            .fetch_all(&mut *tx)
            .await?;
            let done = Self::hwm_map(&rows)?;
            let missing: Vec<&str> = imsis
                .iter()
                .copied()
                .filter(|i| !done.contains_key(*i))
                .collect();
            let mut existing = std::collections::HashSet::new();
            if !missing.is_empty() {
                for r in sqlx::query("SELECT imsi FROM subscriber WHERE imsi = ANY($1)")
                    .bind(&missing)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    existing.insert(r.try_get::<String, _>("imsi")?);
                }
            }
            for item in &mut batch.reserve {
                item.outcome = match done.get(item.imsi.as_str()) {
                    Some(h) => Outcome::Done(*h),
                    None if existing.contains(&item.imsi) => Outcome::Exhausted,
                    None => Outcome::NotFound,
                };
            }
        }
        if !batch.pseudonyms.is_empty() {
            let u: Vec<&str> = batch
                .pseudonyms
                .iter()
                .map(|(p, _)| p.username.as_str())
                .collect();
            let i: Vec<&str> = batch
                .pseudonyms
                .iter()
                .map(|(p, _)| p.imsi.as_str())
                .collect();
            let m: Vec<&str> = batch
                .pseudonyms
                .iter()
                .map(|(p, _)| p.method.as_str())
                .collect();
            let e: Vec<i64> = batch.pseudonyms.iter().map(|(p, _)| p.expires_at).collect();
            let rows = sqlx::query(
                "INSERT INTO pseudonym (username, imsi, method, expires_at) \
                 SELECT v.u, v.i, v.m, v.e \
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[]) AS v(u, i, m, e) \
                 WHERE EXISTS (SELECT 1 FROM subscriber s WHERE s.imsi = v.i) \
                 AND NOT EXISTS (SELECT 1 FROM pseudonym o WHERE o.username = v.u \
                                 AND (o.imsi <> v.i OR o.method <> v.m)) \
                 ON CONFLICT (imsi, method) DO UPDATE SET username = excluded.username, \
                 expires_at = excluded.expires_at RETURNING username",
            )
            .bind(&u)
            .bind(&i)
            .bind(&m)
            .bind(&e)
            .fetch_all(&mut *tx)
            .await?;
            let done = Self::names(&rows)?;
            Self::identity_outcomes(&mut tx, &mut batch.pseudonyms, PseudonymRecord::key, &done)
                .await?;
        }
        if !batch.reauths.is_empty() {
            let r = &batch.reauths;
            let u: Vec<&str> = r.iter().map(|(p, _)| p.username.as_str()).collect();
            let i: Vec<&str> = r.iter().map(|(p, _)| p.imsi.as_str()).collect();
            let m: Vec<&str> = r.iter().map(|(p, _)| p.method.as_str()).collect();
            let c: Vec<i32> = r.iter().map(|(p, _)| i32::from(p.counter)).collect();
            let mk: Vec<&[u8]> = r.iter().map(|(p, _)| p.mk.as_slice()).collect();
            let kre: Vec<&[u8]> = r.iter().map(|(p, _)| p.k_re.as_slice()).collect();
            let kaut: Vec<&[u8]> = r.iter().map(|(p, _)| p.k_aut.as_slice()).collect();
            let kenc: Vec<&[u8]> = r.iter().map(|(p, _)| p.k_encr.as_slice()).collect();
            let e: Vec<i64> = r.iter().map(|(p, _)| p.expires_at).collect();
            let rows = sqlx::query(
                "INSERT INTO reauth_identity (username, imsi, method, counter, mk, k_re, k_aut, \
                 k_encr, expires_at) \
                 SELECT v.u, v.i, v.m, v.c, v.mk, v.kre, v.kaut, v.kenc, v.e \
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int[], $5::bytea[], \
                             $6::bytea[], $7::bytea[], $8::bytea[], $9::bigint[]) \
                      AS v(u, i, m, c, mk, kre, kaut, kenc, e) \
                 WHERE EXISTS (SELECT 1 FROM subscriber s WHERE s.imsi = v.i) \
                 AND NOT EXISTS (SELECT 1 FROM reauth_identity o WHERE o.username = v.u \
                                 AND (o.imsi <> v.i OR o.method <> v.m)) \
                 ON CONFLICT (imsi, method) DO UPDATE SET username = excluded.username, \
                 counter = excluded.counter, mk = excluded.mk, \
                 k_re = excluded.k_re, k_aut = excluded.k_aut, k_encr = excluded.k_encr, \
                 expires_at = excluded.expires_at RETURNING username",
            )
            .bind(&u)
            .bind(&i)
            .bind(&m)
            .bind(&c)
            .bind(&mk)
            .bind(&kre)
            .bind(&kaut)
            .bind(&kenc)
            .bind(&e)
            .fetch_all(&mut *tx)
            .await?;
            let done = Self::names(&rows)?;
            Self::identity_outcomes(&mut tx, &mut batch.reauths, ReauthRecord::key, &done).await?;
        }
        if !batch.sessions.is_empty() {
            let r = &batch.sessions;
            let opt = |f: fn(&AaaSessionRecord) -> &Option<String>| -> Vec<Option<&str>> {
                r.iter().map(|(a, _)| f(a).as_deref()).collect()
            };
            let sid: Vec<&str> = r.iter().map(|(a, _)| a.session_id.as_str()).collect();
            let imsi: Vec<&str> = r.iter().map(|(a, _)| a.imsi.as_str()).collect();
            let kind: Vec<&str> = r.iter().map(|(a, _)| a.kind.as_str()).collect();
            let peer: Vec<&str> = r.iter().map(|(a, _)| a.peer.as_str()).collect();
            let host: Vec<&str> = r.iter().map(|(a, _)| a.aaa_host.as_str()).collect();
            let nai: Vec<&str> = r.iter().map(|(a, _)| a.nai.as_str()).collect();
            let apn = opt(|a| &a.apn);
            let gwh = opt(|a| &a.gateway_host);
            let gwa = opt(|a| &a.gateway_address);
            let vis = opt(|a| &a.visited_network);
            let lma = opt(|a| &a.lma_identity);
            let key: Vec<Option<&[u8]>> = r
                .iter()
                .map(|(a, _)| (!a.mag_lma_key.is_empty()).then_some(a.mag_lma_key.as_slice()))
                .collect();
            let created: Vec<i64> = r.iter().map(|(a, _)| a.created_ms).collect();
            let expires: Vec<i64> = r.iter().map(|(a, _)| a.expires_at).collect();
            let rows = sqlx::query(
                "INSERT INTO aaa_session (session_id, imsi, kind, peer, aaa_host, nai, apn, \
                 gateway_host, gateway_address, visited_network, mag_lma_key, lma_identity, \
                 created_ms, expires_at) \
                 SELECT v.sid, v.imsi, v.kind, v.peer, v.host, v.nai, v.apn, v.gwh, v.gwa, \
                        v.vis, v.key, v.lma, v.c, v.e \
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
                             $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], \
                             $11::bytea[], $12::text[], $13::bigint[], $14::bigint[]) \
                      AS v(sid, imsi, kind, peer, host, nai, apn, gwh, gwa, vis, key, lma, c, e) \
                 WHERE EXISTS (SELECT 1 FROM subscriber s WHERE s.imsi = v.imsi) \
                 ON CONFLICT (session_id) DO UPDATE SET imsi = excluded.imsi, \
                 kind = excluded.kind, peer = excluded.peer, aaa_host = excluded.aaa_host, \
                 nai = excluded.nai, apn = excluded.apn, gateway_host = excluded.gateway_host, \
                 gateway_address = excluded.gateway_address, \
                 visited_network = excluded.visited_network, mag_lma_key = excluded.mag_lma_key, \
                 lma_identity = excluded.lma_identity, expires_at = excluded.expires_at \
                 RETURNING session_id",
            )
            .bind(&sid)
            .bind(&imsi)
            .bind(&kind)
            .bind(&peer)
            .bind(&host)
            .bind(&nai)
            .bind(&apn)
            .bind(&gwh)
            .bind(&gwa)
            .bind(&vis)
            .bind(&key)
            .bind(&lma)
            .bind(&created)
            .bind(&expires)
            .fetch_all(&mut *tx)
            .await?;
            let mut done = std::collections::HashSet::with_capacity(rows.len());
            for row in &rows {
                done.insert(row.try_get::<String, _>("session_id")?);
            }
            for (a, outcome) in &mut batch.sessions {
                *outcome = if done.contains(&a.session_id) {
                    Outcome::Done(0)
                } else {
                    Outcome::NotFound
                };
            }
        }
        delete_sessions(&mut tx, &mut batch.session_deletes).await?;
        tx.commit().await?;
        Ok(())
    }

    fn hwm_map(rows: &[sqlx::postgres::PgRow]) -> Result<std::collections::HashMap<String, u64>> {
        let mut m = std::collections::HashMap::with_capacity(rows.len());
        for r in rows {
            let h: i64 = r.try_get("seq_hwm")?;
            m.insert(r.try_get::<String, _>("imsi")?, h as u64);
        }
        Ok(m)
    }

    /// The outcomes of an identity upsert that returned the usernames `done`: the rows not
    /// written are `NotFound` (the subscriber is gone) or `Taken` (the username is another
    /// subscriber's), told apart by one more query only when there are such rows.
    async fn identity_outcomes<T>(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        items: &mut [(T, Outcome)],
        key: fn(&T) -> (&str, &str, &str),
        done: &HashSet<String>,
    ) -> Result<()> {
        let missing: Vec<&str> = items
            .iter()
            .map(|(t, _)| key(t))
            .filter(|k| !done.contains(k.0))
            .map(|k| k.1)
            .collect();
        let known: HashSet<String> = if missing.is_empty() {
            HashSet::new()
        } else {
            sqlx::query_scalar::<_, String>("SELECT imsi FROM subscriber WHERE imsi = ANY($1)")
                .bind(&missing)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .collect()
        };
        for (t, o) in items.iter_mut() {
            *o = identity_outcome(key(t), |k| done.contains(&k.0), &known);
        }
        Ok(())
    }

    fn names(rows: &[sqlx::postgres::PgRow]) -> Result<std::collections::HashSet<String>> {
        let mut s = std::collections::HashSet::with_capacity(rows.len());
        for r in rows {
            s.insert(r.try_get::<String, _>("username")?);
        }
        Ok(s)
    }
}

shared_impl!(PgBackend, sqlx::Postgres, sqlx::postgres::PgRow);

// ---------------------------------------------------------------------------------------
// Choice by URL

/// SQLite or PostgreSQL, chosen by URL: `postgres://` / `postgresql://` is PostgreSQL;
/// `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:` or a bare file path is SQLite.
#[derive(Debug, Clone)]
pub enum AnyBackend {
    /// SQLite.
    Sqlite(SqliteBackend),
    /// PostgreSQL.
    Postgres(PgBackend),
}

impl AnyBackend {
    /// Opens and migrates the database named by `url`.
    pub async fn open(url: &str, opts: &ConnectOptions) -> Result<Self> {
        let url = url.trim();
        if url.is_empty() {
            return Err(Error::Url {
                url: String::new(),
                reason: "empty".into(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(AnyBackend::Postgres(PgBackend::open(url, opts).await?));
        }
        if url.starts_with("sqlite:") || !url.contains("://") {
            return Ok(AnyBackend::Sqlite(SqliteBackend::open(url, opts).await?));
        }
        Err(Error::Url {
            url: redact_url(url),
            reason: "expected postgres://..., sqlite://PATH or a file path".into(),
        })
    }
}

macro_rules! dispatch {
    ($self:ident, $b:ident => $e:expr) => {
        match $self {
            AnyBackend::Sqlite($b) => $e,
            AnyBackend::Postgres($b) => $e,
        }
    };
}

impl Backend for AnyBackend {
    fn kind(&self) -> BackendKind {
        dispatch!(self, b => b.kind())
    }
    async fn load_subscriber(&self, imsi: &Imsi) -> Result<Option<StoredSubscriber>> {
        dispatch!(self, b => b.load_subscriber(imsi).await)
    }
    async fn load_subscribers(&self, imsis: &[&str]) -> Result<Vec<StoredSubscriber>> {
        dispatch!(self, b => b.load_subscribers(imsis).await)
    }
    async fn list_subscribers(
        &self,
        after: Option<&Imsi>,
        limit: u32,
    ) -> Result<Vec<StoredSubscriber>> {
        dispatch!(self, b => b.list_subscribers(after, limit).await)
    }
    async fn count_subscribers(&self) -> Result<u64> {
        dispatch!(self, b => b.count_subscribers().await)
    }
    async fn write_subscribers(
        &self,
        subs: &[Provision],
        mode: WriteMode,
        now: i64,
    ) -> Result<usize> {
        dispatch!(self, b => b.write_subscribers(subs, mode, now).await)
    }
    async fn delete_subscriber(&self, imsi: &Imsi) -> Result<bool> {
        dispatch!(self, b => b.delete_subscriber(imsi).await)
    }
    async fn set_seq_hwm(&self, imsi: &Imsi, seq_hwm: u64) -> Result<bool> {
        dispatch!(self, b => b.set_seq_hwm(imsi, seq_hwm).await)
    }
    async fn commit_batch(&self, batch: &mut Batch) -> Result<()> {
        dispatch!(self, b => b.commit_batch(batch).await)
    }
    async fn pseudonym(&self, username: &str, now: i64) -> Result<Option<PseudonymRecord>> {
        dispatch!(self, b => b.pseudonym(username, now).await)
    }
    async fn delete_pseudonym(&self, username: &str) -> Result<bool> {
        dispatch!(self, b => b.delete_pseudonym(username).await)
    }
    async fn reauth(&self, username: &str, now: i64) -> Result<Option<ReauthRecord>> {
        dispatch!(self, b => b.reauth(username, now).await)
    }
    async fn take_reauth(&self, username: &str, now: i64) -> Result<Option<ReauthRecord>> {
        dispatch!(self, b => b.take_reauth(username, now).await)
    }
    async fn purge_expired(&self, now: i64) -> Result<Purged> {
        dispatch!(self, b => b.purge_expired(now).await)
    }
    async fn shared_secret(&self, name: &str, fresh: &[u8], now: i64) -> Result<Vec<u8>> {
        dispatch!(self, b => b.shared_secret(name, fresh, now).await)
    }
    async fn session(&self, session_id: &str, now: i64) -> Result<Option<AaaSessionRecord>> {
        dispatch!(self, b => b.session(session_id, now).await)
    }
    async fn sessions_for(&self, imsi: &Imsi, now: i64) -> Result<Vec<AaaSessionRecord>> {
        dispatch!(self, b => b.sessions_for(imsi, now).await)
    }
    async fn delete_session(&self, session_id: &str) -> Result<bool> {
        dispatch!(self, b => b.delete_session(session_id).await)
    }
}
