//! Configuration of a Diameter node (the `[diameter]` table of a node's TOML file). Every
//! key has a default except `origin_host` and `origin_realm`; durations are seconds
//! (integers or decimals). See `docs/diameter-stack.md`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;

/// `[diameter]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DiameterConfig {
    pub origin_host: String,
    pub origin_realm: String,
    /// TCP addresses to listen on (none: this node only connects out).
    #[serde(default)]
    pub listen: Vec<SocketAddr>,
    /// Host-IP-Address values in CER/CEA (default: the connection's local address).
    #[serde(default)]
    pub host_ip_addresses: Vec<IpAddr>,
    #[serde(default)]
    pub vendor_id: u32,
    #[serde(default = "default_product")]
    pub product_name: String,
    #[serde(default)]
    pub firmware_revision: Option<u32>,
    /// Extra Auth-Application-Ids to advertise (local applications, proxy hooks and the
    /// applications named by routes are advertised anyway).
    #[serde(default)]
    pub auth_applications: Vec<u32>,
    #[serde(default)]
    pub acct_applications: Vec<u32>,
    /// Advertised as Vendor-Specific-Application-Id.
    #[serde(default)]
    pub vendor_specific_applications: Vec<VendorAppConfig>,
    #[serde(default)]
    pub supported_vendor_ids: Vec<u32>,
    /// Advertise the Relay application (0xffffffff): a relay agent that forwards anything.
    #[serde(default)]
    pub relay: bool,
    /// Watchdog Tw (RFC 3539 Twinit), seconds.
    #[serde(default = "d30", deserialize_with = "secs")]
    pub tw: Duration,
    /// Jitter around Tw, seconds (capped at Tw/4).
    #[serde(default = "d2", deserialize_with = "secs")]
    pub tw_jitter: Duration,
    /// Reconnect timer Tc, seconds.
    #[serde(default = "d30", deserialize_with = "secs")]
    pub tc: Duration,
    #[serde(default = "d10", deserialize_with = "secs")]
    pub request_timeout: Duration,
    /// Time allowed for the TCP connect plus CER/CEA.
    #[serde(default = "d10", deserialize_with = "secs")]
    pub ce_timeout: Duration,
    #[serde(default = "d5", deserialize_with = "secs")]
    pub dpa_timeout: Duration,
    /// DWAs needed after a watchdog failure before the peer is used again (RFC 3539).
    #[serde(default = "three")]
    pub reopen_dwa: u8,
    /// Wait before reconnecting to a peer that sent DPR with REBOOTING.
    #[serde(default = "d60", deserialize_with = "secs")]
    pub reboot_hold: Duration,
    /// Wait before reconnecting to a peer that sent DPR with BUSY or
    /// DO_NOT_WANT_TO_TALK_TO_YOU.
    #[serde(default = "d600", deserialize_with = "secs")]
    pub dpr_hold: Duration,
    /// Largest message accepted; a longer Message Length closes the connection.
    #[serde(default = "max_msg")]
    pub max_message_size: usize,
    /// Duplicate detection window, seconds.
    #[serde(default = "d10", deserialize_with = "secs")]
    pub duplicate_window: Duration,
    /// Most requests remembered for duplicate detection (0 disables it).
    #[serde(default = "dup_cap")]
    pub duplicate_capacity: usize,
    #[serde(default, rename = "peer")]
    pub peers: Vec<PeerEntry>,
    #[serde(default)]
    pub allow: Vec<AllowEntry>,
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteEntry>,
    #[serde(default)]
    pub default_route: Option<RouteTarget>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VendorAppConfig {
    pub vendor: u32,
    #[serde(default)]
    pub auth: Option<u32>,
    #[serde(default)]
    pub acct: Option<u32>,
}

/// `[[diameter.peer]]`: a known peer.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PeerEntry {
    /// Its Diameter identity.
    pub host: String,
    /// The realm it must present.
    #[serde(default)]
    pub realm: Option<String>,
    /// Connect to it at this address (otherwise only accept it).
    #[serde(default)]
    pub connect: Option<SocketAddr>,
    /// Per-peer Tw, seconds.
    #[serde(default, deserialize_with = "opt_secs")]
    pub tw: Option<Duration>,
    /// Per-peer Tc, seconds.
    #[serde(default, deserialize_with = "opt_secs")]
    pub tc: Option<Duration>,
}

/// `[[diameter.allow]]`: peers accepted without a `[[diameter.peer]]` entry.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AllowEntry {
    /// Exact identity or `*.suffix`.
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub realm: Option<String>,
}

/// `[[diameter.route]]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RouteEntry {
    pub realm: String,
    /// Application id (all applications when absent).
    #[serde(default)]
    pub application: Option<u32>,
    #[serde(flatten)]
    pub target: RouteTarget,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RouteTarget {
    /// `local`, `relay` or `proxy`.
    pub action: RouteKind,
    /// Peers to try in order (`relay`, `proxy`).
    #[serde(default)]
    pub peers: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RouteKind {
    Local,
    Relay,
    Proxy,
}

/// A configuration error naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("diameter config: {key}: {why}")]
pub struct ConfigError {
    pub key: String,
    pub why: String,
}

fn err(key: impl Into<String>, why: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        why: why.into(),
    }
}

impl DiameterConfig {
    /// A minimal configuration (no listener, no peers).
    pub fn new(origin_host: &str, origin_realm: &str) -> Self {
        let mut c: DiameterConfig = toml::from_str(&format!(
            "origin_host = {:?}\norigin_realm = {:?}\n",
            origin_host, origin_realm
        ))
        .unwrap_or_else(|_| unreachable!("a two-key configuration always parses"));
        c.origin_host = origin_host.to_string();
        c.origin_realm = origin_realm.to_string();
        c
    }

    /// Parses the `[diameter]` table's content.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let c: DiameterConfig = toml::from_str(text).map_err(|e| {
            err(
                e.span()
                    .map(|s| format!("at bytes {}..{}", s.start, s.end))
                    .unwrap_or_default(),
                e.message().to_string(),
            )
        })?;
        c.validate()?;
        Ok(c)
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let ident = |key: &str, v: &str| {
            if v.is_empty() || v.contains(char::is_whitespace) || !v.is_ascii() {
                Err(err(
                    key,
                    "must be a non-empty ASCII Diameter identity without spaces",
                ))
            } else {
                Ok(())
            }
        };
        ident("origin_host", &self.origin_host)?;
        ident("origin_realm", &self.origin_realm)?;
        if self.tw < Duration::from_millis(100) {
            return Err(err(
                "tw",
                "must be at least 0.1 s (RFC 3539 recommends ≥ 6 s)",
            ));
        }
        if self.max_message_size < 20 || self.max_message_size > 0x00ff_ffff {
            return Err(err("max_message_size", "must be between 20 and 16777215"));
        }
        for (i, p) in self.peers.iter().enumerate() {
            ident(&format!("peer[{i}].host"), &p.host)?;
            if self.peers[..i]
                .iter()
                .any(|q| q.host.eq_ignore_ascii_case(&p.host))
            {
                return Err(err(format!("peer[{i}].host"), "listed twice"));
            }
        }
        for (i, a) in self.allow.iter().enumerate() {
            if a.host.is_none() && a.realm.is_none() {
                return Err(err(format!("allow[{i}]"), "needs host and/or realm"));
            }
        }
        let check_target = |key: String, t: &RouteTarget| {
            if t.action != RouteKind::Local && t.peers.is_empty() {
                return Err(err(key, "relay and proxy routes need peers"));
            }
            for p in &t.peers {
                if !self.peers.iter().any(|q| q.host.eq_ignore_ascii_case(p)) {
                    return Err(err(key, format!("peer {p} is not in [[diameter.peer]]")));
                }
            }
            Ok(())
        };
        for (i, r) in self.routes.iter().enumerate() {
            ident(&format!("route[{i}].realm"), &r.realm)?;
            check_target(format!("route[{i}]"), &r.target)?;
        }
        if let Some(d) = &self.default_route {
            check_target("default_route".into(), d)?;
        }
        Ok(())
    }
}

fn default_product() -> String {
    "mobstrap".into()
}
fn d2() -> Duration {
    Duration::from_secs(2)
}
fn d5() -> Duration {
    Duration::from_secs(5)
}
fn d10() -> Duration {
    Duration::from_secs(10)
}
fn d30() -> Duration {
    Duration::from_secs(30)
}
fn d60() -> Duration {
    Duration::from_secs(60)
}
fn d600() -> Duration {
    Duration::from_secs(600)
}
fn three() -> u8 {
    3
}
fn max_msg() -> usize {
    1 << 16
}
fn dup_cap() -> usize {
    100_000
}

fn to_duration<E: serde::de::Error>(s: f64) -> Result<Duration, E> {
    if s.is_finite() && (0.0..=1e9).contains(&s) {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(E::custom("seconds must be a number between 0 and 1e9"))
    }
}

struct SecsVisitor;

impl serde::de::Visitor<'_> for SecsVisitor {
    type Value = Duration;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a number of seconds")
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
        to_duration(v as f64)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
        to_duration(v as f64)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Duration, E> {
        to_duration(v)
    }
}

fn secs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(SecsVisitor)
}

fn opt_secs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    secs(d).map(Some)
}
