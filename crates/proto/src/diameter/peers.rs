//! The peer table (RFC 6733 §2.6, §5.6): which peers may connect to us, which we connect to
//! and when (Tc, hold-offs after a DPR), and which connection carries each peer. One open
//! connection per peer; two simultaneous connections are resolved by the election of
//! RFC 6733 §5.6.4.
//!
//! Connections are named by a [`ConnId`] the table allocates for the ones we open and the
//! node allocates (with [`PeerTable::alloc_conn_id`]) for the ones the peer opens.

use std::time::{Duration, Instant};

use super::conn::CloseReason;
use super::rules::Rejection;
use super::{rc, same_identity, DisconnectCause};

pub type ConnId = u64;

/// A configured peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerConfig {
    /// Its Diameter identity (the Origin-Host it must present).
    pub host: String,
    /// The Origin-Realm it must present, if set.
    pub realm: Option<String>,
    /// Whether we open the connection (the node knows the address).
    pub connect: bool,
    /// Reconnect timer Tc (RFC 6733 §2.1: 30 s recommended).
    pub tc: Duration,
}

/// Peers that may connect without being listed: a host pattern (exact, or `*.suffix`) and/or
/// a realm; both must match when both are given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRule {
    pub host: Option<String>,
    pub realm: Option<String>,
}

impl AllowRule {
    pub fn matches(&self, host: &str, realm: &str) -> bool {
        let host_ok = match &self.host {
            None => true,
            Some(p) => match p.strip_prefix("*.") {
                Some(suffix) => {
                    host.len() > suffix.len() + 1
                        && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
                        && same_identity(&host[host.len() - suffix.len()..], suffix)
                }
                None => same_identity(host, p),
            },
        };
        let realm_ok = self
            .realm
            .as_deref()
            .is_none_or(|r| same_identity(r, realm));
        host_ok && realm_ok && (self.host.is_some() || self.realm.is_some())
    }
}

/// The table's answer to a CER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CerVerdict {
    /// Accept; `reopen` when the last connection with this peer died by watchdog.
    Accept { reopen: bool },
    /// Accept, and close our other connection with this peer (we won the election, or the
    /// peer restarted: a new Origin-State-Id).
    AcceptAndClose { reopen: bool, close: ConnId },
    /// Answer the CEA with this error and close.
    Reject(Rejection),
}

/// Where a peer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerSlot {
    Idle,
    /// We are connecting (TCP connect, then CER/CEA) on this connection.
    Connecting(ConnId),
    Open(ConnId),
}

#[derive(Debug)]
struct Entry {
    cfg: PeerConfig,
    /// Accepted by an allow rule: forgotten when its connection closes.
    dynamic: bool,
    slot: PeerSlot,
    next_connect: Option<Instant>,
    reopen: bool,
    origin_state_id: Option<u32>,
}

/// One row of [`PeerTable::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    pub host: String,
    pub slot: PeerSlot,
    pub next_connect: Option<Instant>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct PeerTable {
    local_host: String,
    entries: Vec<Entry>,
    allow: Vec<AllowRule>,
    next_conn: ConnId,
    /// How long to wait before reconnecting to a peer that sent DPR with REBOOTING.
    pub reboot_hold: Duration,
    /// How long to wait before reconnecting to a peer that sent DPR with BUSY or
    /// DO_NOT_WANT_TO_TALK_TO_YOU (RFC 6733 §5.4.3: SHOULD NOT reconnect).
    pub dpr_hold: Duration,
}

impl PeerTable {
    /// Peers we connect to are due at once.
    pub fn new(
        local_host: &str,
        peers: Vec<PeerConfig>,
        allow: Vec<AllowRule>,
        now: Instant,
    ) -> Self {
        let entries = peers
            .into_iter()
            .map(|cfg| Entry {
                next_connect: cfg.connect.then_some(now),
                cfg,
                dynamic: false,
                slot: PeerSlot::Idle,
                reopen: false,
                origin_state_id: None,
            })
            .collect();
        PeerTable {
            local_host: local_host.to_string(),
            entries,
            allow,
            next_conn: 1,
            reboot_hold: Duration::from_secs(60),
            dpr_hold: Duration::from_secs(600),
        }
    }

    /// A fresh connection id (for connections the peer opens).
    pub fn alloc_conn_id(&mut self) -> ConnId {
        let id = self.next_conn;
        self.next_conn += 1;
        id
    }

    fn find(&self, host: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| same_identity(&e.cfg.host, host))
    }

    fn find_conn(&self, id: ConnId) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| matches!(e.slot, PeerSlot::Connecting(c) | PeerSlot::Open(c) if c == id))
    }

    /// The next peer to connect to now: (connection id, peer host, reopen). Call until `None`.
    pub fn poll_connect(&mut self, now: Instant) -> Option<(ConnId, String, bool)> {
        let i = self.entries.iter().position(|e| {
            e.cfg.connect && e.slot == PeerSlot::Idle && e.next_connect.is_some_and(|t| t <= now)
        })?;
        let id = self.alloc_conn_id();
        let e = &mut self.entries[i];
        e.slot = PeerSlot::Connecting(id);
        e.next_connect = None;
        Some((id, e.cfg.host.clone(), e.reopen))
    }

    /// When [`PeerTable::poll_connect`] has something next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.entries
            .iter()
            .filter(|e| e.cfg.connect && e.slot == PeerSlot::Idle)
            .filter_map(|e| e.next_connect)
            .min()
    }

    /// A CER arrived on connection `id` from `host` in `realm`, with `origin_state_id`.
    pub fn on_cer(
        &mut self,
        id: ConnId,
        host: &str,
        realm: &str,
        origin_state_id: Option<u32>,
    ) -> CerVerdict {
        let Some(i) = self.find(host) else {
            if self.allow.iter().any(|r| r.matches(host, realm)) {
                self.entries.push(Entry {
                    cfg: PeerConfig {
                        host: host.to_string(),
                        realm: Some(realm.to_string()),
                        connect: false,
                        tc: Duration::ZERO,
                    },
                    dynamic: true,
                    slot: PeerSlot::Open(id),
                    next_connect: None,
                    reopen: false,
                    origin_state_id,
                });
                return CerVerdict::Accept { reopen: false };
            }
            return CerVerdict::Reject(Rejection::new(
                rc::UNKNOWN_PEER,
                format!("peer {host} is not in the peer table"),
            ));
        };
        let local_wins = self.local_host.to_ascii_lowercase() > host.to_ascii_lowercase();
        let e = &mut self.entries[i];
        if let Some(r) = &e.cfg.realm {
            if !same_identity(r, realm) {
                return CerVerdict::Reject(Rejection::new(
                    rc::UNKNOWN_PEER,
                    format!("peer {host} presented realm {realm}, expected {r}"),
                ));
            }
        }
        let reopen = e.reopen;
        match e.slot {
            PeerSlot::Idle => {
                e.slot = PeerSlot::Open(id);
                e.origin_state_id = origin_state_id;
                CerVerdict::Accept { reopen }
            }
            PeerSlot::Connecting(other) => {
                if local_wins {
                    e.slot = PeerSlot::Open(id);
                    e.origin_state_id = origin_state_id;
                    CerVerdict::AcceptAndClose {
                        reopen,
                        close: other,
                    }
                } else {
                    CerVerdict::Reject(Rejection::new(
                        rc::ELECTION_LOST,
                        format!("election lost to our connection with {host}"),
                    ))
                }
            }
            PeerSlot::Open(other) => {
                if origin_state_id.is_some() && origin_state_id != e.origin_state_id {
                    e.slot = PeerSlot::Open(id);
                    e.origin_state_id = origin_state_id;
                    CerVerdict::AcceptAndClose {
                        reopen,
                        close: other,
                    }
                } else {
                    CerVerdict::Reject(Rejection::new(
                        rc::UNABLE_TO_COMPLY,
                        format!("peer {host} is already connected"),
                    ))
                }
            }
        }
    }

    /// Connection `id` that we opened finished its capabilities exchange. False when the
    /// table no longer wants it (an election gave the peer to another connection): close it.
    pub fn on_open(&mut self, id: ConnId, origin_state_id: Option<u32>) -> bool {
        match self.find_conn(id) {
            Some(i) => {
                let e = &mut self.entries[i];
                e.slot = PeerSlot::Open(id);
                e.origin_state_id = origin_state_id;
                true
            }
            None => false,
        }
    }

    /// The TCP connect of `id` failed: retry after Tc.
    pub fn connect_failed(&mut self, id: ConnId, now: Instant) {
        if let Some(i) = self.find_conn(id) {
            let e = &mut self.entries[i];
            e.slot = PeerSlot::Idle;
            e.next_connect = Some(now + e.cfg.tc);
        }
    }

    /// Connection `id` closed for `reason`: schedules the reconnection of peers we connect
    /// to (Tc; REOPEN after a watchdog failure; the hold-offs after a DPR; none after our
    /// own DPR), forgets dynamic peers.
    pub fn on_closed(&mut self, id: ConnId, reason: &CloseReason, now: Instant) {
        let Some(i) = self.find_conn(id) else { return };
        let (reboot_hold, dpr_hold) = (self.reboot_hold, self.dpr_hold);
        let e = &mut self.entries[i];
        if e.dynamic {
            self.entries.remove(i);
            return;
        }
        e.slot = PeerSlot::Idle;
        e.reopen = *reason == CloseReason::Watchdog;
        let wait = match reason {
            CloseReason::Disconnected { by_peer: false, .. } => None,
            CloseReason::Disconnected {
                cause: DisconnectCause::Rebooting,
                ..
            } => Some(reboot_hold.max(e.cfg.tc)),
            CloseReason::Disconnected { .. } => Some(dpr_hold.max(e.cfg.tc)),
            _ => Some(e.cfg.tc),
        };
        e.next_connect = if e.cfg.connect {
            wait.map(|w| now + w)
        } else {
            None
        };
    }

    /// The connection currently carrying `host`, if open.
    pub fn open_conn(&self, host: &str) -> Option<ConnId> {
        self.find(host).and_then(|i| match self.entries[i].slot {
            PeerSlot::Open(c) => Some(c),
            _ => None,
        })
    }

    /// Stops reconnecting to every peer (shutdown).
    pub fn stop_reconnecting(&mut self) {
        for e in &mut self.entries {
            e.next_connect = None;
        }
    }

    pub fn status(&self) -> Vec<PeerStatus> {
        self.entries
            .iter()
            .map(|e| PeerStatus {
                host: e.cfg.host.clone(),
                slot: e.slot,
                next_connect: e.next_connect,
            })
            .collect()
    }
}
