//! `aaa.toml`: the configuration of `mobstrap aaa`. Every key has a default where one is
//! sensible; unknown keys are refused; every error names the key (`radius.client[0].secret:
//! must not be empty`). Documented key by key in `docs/aaa.md`; a commented example is
//! `docs/examples/aaa.toml`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mobstrap_store::{AccessType, GatewaySelection, SqnPolicy};
use serde::Deserialize;

use crate::diameter::DiameterConfig;

/// A configuration error: the key (dotted path) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("aaa config: {key}: {why}")]
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

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AaaConfig {
    #[serde(default)]
    pub node: NodeSection,
    #[serde(default)]
    pub store: StoreSection,
    /// RADIUS front end; absent or `enabled = false`: no RADIUS.
    #[serde(default)]
    pub radius: RadiusSection,
    /// Diameter front end (the stack's table, `docs/diameter-stack.md`); absent: no Diameter.
    #[serde(default)]
    pub diameter: Option<DiameterConfig>,
    #[serde(default)]
    pub eap: EapSection,
    #[serde(default)]
    pub apn: ApnSection,
    #[serde(default)]
    pub roaming: RoamingSection,
    #[serde(default)]
    pub keys: KeysSection,
    #[serde(default)]
    pub metrics: MetricsSection,
    #[serde(default)]
    pub log: LogSection,
}

/// `[node]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// A name for logs (default `aaa`).
    #[serde(default = "default_name")]
    pub name: String,
}

impl Default for NodeSection {
    fn default() -> Self {
        NodeSection {
            name: default_name(),
        }
    }
}

fn default_name() -> String {
    "aaa".into()
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// `sqlite:///path`, a bare path, `sqlite::memory:` or `postgres://…` (docs/store.md).
    #[serde(default = "default_store_url")]
    pub url: String,
    /// SQN allocation of this node (`ind`, `block`).
    #[serde(default)]
    pub sqn: SqnPolicy,
    /// Seconds a cached subscriber is trusted (0: no cache).
    #[serde(default = "d60", deserialize_with = "secs")]
    pub cache_ttl: Duration,
    /// Database connections in the pool.
    #[serde(default = "eight")]
    pub max_connections: u32,
    /// Seconds between purges of expired pseudonyms, re-authentication identities and
    /// sessions (0: never).
    #[serde(default = "d60", deserialize_with = "secs")]
    pub purge_interval: Duration,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            url: default_store_url(),
            sqn: SqnPolicy::default(),
            cache_ttl: d60(),
            max_connections: 8,
            purge_interval: d60(),
        }
    }
}

fn default_store_url() -> String {
    "sqlite://mobstrap-hss.sqlite".into()
}

/// Which access type a front end's authentications count as (the subscriber's
/// `access_types` must allow it), or `any` for no check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessPolicy {
    Any,
    Only(AccessType),
}

impl<'de> Deserialize<'de> for AccessPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "any" {
            return Ok(AccessPolicy::Any);
        }
        AccessType::parse("access_type", &s)
            .map(AccessPolicy::Only)
            .map_err(|e| serde::de::Error::custom(format!("{} (or any)", e.reason)))
    }
}

/// `[radius]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadiusSection {
    /// Serve RADIUS (default true when the section is present with clients).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Authentication port (RFC 2865).
    #[serde(default = "default_radius_listen")]
    pub listen: SocketAddr,
    /// Accounting port (RFC 2866); Accounting-Requests are acknowledged.
    #[serde(default = "default_acct_listen")]
    pub accounting_listen: Option<SocketAddr>,
    /// The access type RADIUS authentications count as.
    #[serde(default = "any_access")]
    pub access_type: AccessPolicy,
    /// Seconds an answer is kept for retransmissions (RFC 5080).
    #[serde(default = "d30", deserialize_with = "secs")]
    pub duplicate_window: Duration,
    /// Seconds the Access-Accept's Session-Timeout carries (0: none).
    #[serde(default, deserialize_with = "secs")]
    pub session_timeout: Duration,
    #[serde(default, rename = "client")]
    pub clients: Vec<RadiusClientEntry>,
}

impl Default for RadiusSection {
    fn default() -> Self {
        RadiusSection {
            enabled: false,
            listen: default_radius_listen(),
            accounting_listen: default_acct_listen(),
            access_type: AccessPolicy::Any,
            duplicate_window: d30(),
            session_timeout: Duration::ZERO,
            clients: Vec::new(),
        }
    }
}

fn default_radius_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 1812))
}
fn default_acct_listen() -> Option<SocketAddr> {
    Some(SocketAddr::from(([0, 0, 0, 0], 1813)))
}
fn any_access() -> AccessPolicy {
    AccessPolicy::Any
}

/// `[[radius.client]]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadiusClientEntry {
    /// An address (`192.0.2.10`) or a network (`10.0.0.0/8`).
    pub address: String,
    /// The shared secret.
    pub secret: String,
    /// A name for logs (default: the address).
    #[serde(default)]
    pub name: Option<String>,
}

impl std::fmt::Debug for RadiusClientEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RadiusClientEntry")
            .field("address", &self.address)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl RadiusClientEntry {
    /// (address, prefix length); a bare address is a /32 or /128.
    pub fn network(&self) -> Result<(IpAddr, u8), String> {
        let (a, l) = match self.address.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (self.address.as_str(), None),
        };
        let ip: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("{:?} is not an IP address or network", self.address))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) => l
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| format!("prefix length must be 0 to {max}"))?,
        };
        Ok((ip, len))
    }
}

/// `[eap]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EapSection {
    /// `aka`, `aka-prime` (both by default).
    #[serde(default = "default_methods")]
    pub methods: Vec<String>,
    /// AT_KDF_INPUT of EAP-AKA' (TS 24.302 access network identity).
    #[serde(default = "default_network_name")]
    pub network_name: String,
    /// `use-eap-identity`, `any`, `fullauth`, `permanent` (docs/eap-engine.md).
    #[serde(default = "default_identity_policy")]
    pub identity_policy: String,
    #[serde(default)]
    pub result_ind: bool,
    #[serde(default = "yes")]
    pub pseudonyms: bool,
    /// `encrypted` (default): pseudonyms carry the IMSI encrypted under a key all AAA nodes
    /// on the store share, and are resolved without a store row; `random`: random
    /// pseudonyms, each a row in the store (docs/aaa.md).
    #[serde(default = "default_pseudonym_format")]
    pub pseudonym_format: String,
    #[serde(default = "yes")]
    pub fast_reauth: bool,
    #[serde(default = "default_max_reauths")]
    pub max_fast_reauths: u16,
    #[serde(default = "yes")]
    pub bidding: bool,
    #[serde(default = "yes")]
    pub notify_failures: bool,
    /// Realm of issued re-authentication identities (default: that of the identity in use).
    #[serde(default)]
    pub reauth_realm: Option<String>,
    /// Seconds a pseudonym stays valid.
    #[serde(default = "d86400", deserialize_with = "secs")]
    pub pseudonym_lifetime: Duration,
    /// Seconds a fast re-authentication identity stays valid.
    #[serde(default = "d3600", deserialize_with = "secs")]
    pub reauth_lifetime: Duration,
    /// Seconds an unfinished EAP conversation is kept without a new message.
    #[serde(default = "d30", deserialize_with = "secs")]
    pub session_idle_timeout: Duration,
    /// Unfinished EAP conversations kept at most (new ones are refused beyond).
    #[serde(default = "default_max_sessions")]
    pub max_sessions: usize,
    /// EAP Responses per conversation before EAP-Failure.
    #[serde(default = "default_max_rounds")]
    pub max_rounds: u16,
    /// The access type authentications over the Diameter EAP application (RFC 4072) count as.
    #[serde(default = "any_access")]
    pub eap_application_access_type: AccessPolicy,
}

impl Default for EapSection {
    fn default() -> Self {
        // Serde's defaults are the one source of truth.
        toml::from_str("").unwrap_or_else(|_| unreachable!("an empty [eap] table parses"))
    }
}

fn default_methods() -> Vec<String> {
    vec!["aka".into(), "aka-prime".into()]
}
fn default_network_name() -> String {
    "WLAN".into()
}
fn default_identity_policy() -> String {
    "use-eap-identity".into()
}
fn default_max_reauths() -> u16 {
    1000
}
fn default_max_sessions() -> usize {
    1_000_000
}
fn default_max_rounds() -> u16 {
    50
}

/// `[apn]`: how APNs resolve to gateways (seed 002 steps 9–10).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApnSection {
    /// Gateways for APN profiles with `dynamic` selection (`gw:ADDRESS` or `fqdn:NAME`); one
    /// is picked per subscriber and APN (docs/aaa.md).
    #[serde(default)]
    pub dynamic_gateways: Vec<GatewaySelection>,
    /// Seconds of Session-Timeout / the lifetime of authorized sessions.
    #[serde(default = "d86400", deserialize_with = "secs")]
    pub session_timeout: Duration,
}

impl Default for ApnSection {
    fn default() -> Self {
        ApnSection {
            dynamic_gateways: Vec::new(),
            session_timeout: d86400(),
        }
    }
}

/// This AAA's role in roaming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Serves its own subscribers only.
    #[default]
    Home,
    /// Also proxies SWm for foreign realms (routes with `action = "proxy"`) and maps APNs
    /// to visited gateways in the answers.
    Visited,
}

/// `[roaming]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoamingSection {
    #[serde(default)]
    pub role: Role,
    /// Realms whose subscribers are served here (Destination-Realm of DER/AAR); default
    /// the Diameter origin realm. Each gets a local route.
    #[serde(default)]
    pub home_realms: Vec<String>,
    /// Visited-Network-Identifier this (visited) AAA adds to proxied requests; default the
    /// Diameter origin realm.
    #[serde(default)]
    pub visited_network_id: Option<String>,
    /// Home role: visited networks allowed to serve our subscribers (`*` = all). Others
    /// get Experimental-Result 5004 DIAMETER_ERROR_ROAMING_NOT_ALLOWED.
    #[serde(default = "star")]
    pub allowed_visited_networks: Vec<String>,
    /// Visited role: APN → visited gateway (`apn = "*"` matches any).
    #[serde(default, rename = "visited_gateway")]
    pub visited_gateways: Vec<VisitedGateway>,
}

impl Default for RoamingSection {
    fn default() -> Self {
        RoamingSection {
            role: Role::Home,
            home_realms: Vec::new(),
            visited_network_id: None,
            allowed_visited_networks: star(),
            visited_gateways: Vec::new(),
        }
    }
}

fn star() -> Vec<String> {
    vec!["*".into()]
}

/// `[[roaming.visited_gateway]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitedGateway {
    pub apn: String,
    pub gateway: GatewaySelection,
}

/// `[keys]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysSection {
    /// Derive the PMIPv6 MAG–LMA key (seed 003) when the subscriber's profile (or the
    /// MAG's request) names the LMA.
    #[serde(default = "yes")]
    pub mag_lma: bool,
    /// Seconds of Key-Lifetime of the MAG–LMA key.
    #[serde(default = "d86400", deserialize_with = "secs")]
    pub mag_lma_lifetime: Duration,
}

impl Default for KeysSection {
    fn default() -> Self {
        KeysSection {
            mag_lma: true,
            mag_lma_lifetime: d86400(),
        }
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Prometheus endpoint (`127.0.0.1:9464`); none: no exporter.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// `human` or `json`.
    #[serde(default = "default_format")]
    pub format: LogFormat,
    /// A tracing filter: `info`, `debug`, `mobstrap_node=debug,info`...
    #[serde(default = "default_level")]
    pub level: String,
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            format: LogFormat::Human,
            level: default_level(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

fn default_format() -> LogFormat {
    LogFormat::Human
}
fn default_level() -> String {
    "info".into()
}

impl AaaConfig {
    /// Parses and validates a file's text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let c: AaaConfig = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        c.validate()?;
        Ok(c)
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.node.name.is_empty() {
            return Err(err("node.name", "must not be empty"));
        }
        if self.store.url.trim().is_empty() {
            return Err(err("store.url", "must not be empty"));
        }
        self.store
            .sqn
            .validate()
            .map_err(|e| err(format!("store.{}", e.field), e.reason))?;
        if self.store.max_connections == 0 {
            return Err(err("store.max_connections", "must be at least 1"));
        }
        if self.radius.enabled {
            if self.radius.clients.is_empty() {
                return Err(err(
                    "radius.client",
                    "RADIUS is enabled but no [[radius.client]] is configured",
                ));
            }
            for (i, c) in self.radius.clients.iter().enumerate() {
                c.network()
                    .map_err(|w| err(format!("radius.client[{i}].address"), w))?;
                if c.secret.is_empty() {
                    return Err(err(
                        format!("radius.client[{i}].secret"),
                        "must not be empty",
                    ));
                }
            }
        }
        if let Some(d) = &self.diameter {
            d.validate()
                .map_err(|e| err(format!("diameter.{}", e.key), e.why))?;
        }
        if !self.radius.enabled && self.diameter.is_none() {
            return Err(err(
                "radius",
                "neither RADIUS ([radius] with clients) nor Diameter ([diameter]) is configured",
            ));
        }
        if self.eap.methods.is_empty() {
            return Err(err("eap.methods", "at least one of aka, aka-prime"));
        }
        for m in &self.eap.methods {
            if m != "aka" && m != "aka-prime" {
                return Err(err(
                    "eap.methods",
                    format!("unknown method {m:?} (aka, aka-prime)"),
                ));
            }
        }
        if self.eap.network_name.is_empty() || self.eap.network_name.len() > 255 {
            return Err(err("eap.network_name", "1 to 255 characters"));
        }
        self.identity_policy()?;
        self.encrypted_pseudonyms()?;
        if self.eap.pseudonym_lifetime.is_zero()
            || self.eap.pseudonym_lifetime > Duration::from_secs(u64::from(u32::MAX) / 4)
        {
            return Err(err("eap.pseudonym_lifetime", "1 s to about 34 years"));
        }
        if self.eap.max_sessions == 0 {
            return Err(err("eap.max_sessions", "must be at least 1"));
        }
        if self.eap.session_idle_timeout < Duration::from_millis(100) {
            return Err(err("eap.session_idle_timeout", "at least 0.1 s"));
        }
        if self.eap.max_rounds == 0 {
            return Err(err("eap.max_rounds", "must be at least 1"));
        }
        for (i, r) in self.roaming.home_realms.iter().enumerate() {
            if r.is_empty() || r.contains(char::is_whitespace) {
                return Err(err(format!("roaming.home_realms[{i}]"), "not a realm"));
            }
        }
        if self.roaming.role == Role::Visited {
            if self.diameter.is_none() {
                return Err(err(
                    "roaming.role",
                    "the visited role proxies Diameter: configure [diameter]",
                ));
            }
            for (i, g) in self.roaming.visited_gateways.iter().enumerate() {
                if g.gateway == GatewaySelection::Dynamic {
                    return Err(err(
                        format!("roaming.visited_gateway[{i}].gateway"),
                        "must be gw:ADDRESS or fqdn:NAME",
                    ));
                }
                if g.apn.is_empty() {
                    return Err(err(format!("roaming.visited_gateway[{i}].apn"), "empty"));
                }
            }
        }
        for (i, g) in self.apn.dynamic_gateways.iter().enumerate() {
            if *g == GatewaySelection::Dynamic {
                return Err(err(
                    format!("apn.dynamic_gateways[{i}]"),
                    "must be gw:ADDRESS or fqdn:NAME",
                ));
            }
        }
        if self.log.level.trim().is_empty() {
            return Err(err("log.level", "must not be empty"));
        }
        Ok(())
    }

    /// `[eap] identity_policy` as the engine's type.
    pub fn identity_policy(&self) -> Result<mobstrap_proto::eap::IdentityPolicy, ConfigError> {
        use mobstrap_proto::eap::{IdRequest, IdentityPolicy};
        Ok(match self.eap.identity_policy.as_str() {
            "use-eap-identity" => IdentityPolicy::UseEapIdentity,
            "any" => IdentityPolicy::AlwaysRequest(IdRequest::Any),
            "fullauth" => IdentityPolicy::AlwaysRequest(IdRequest::FullAuth),
            "permanent" => IdentityPolicy::AlwaysRequest(IdRequest::Permanent),
            other => {
                return Err(err(
                    "eap.identity_policy",
                    format!("{other:?}: use-eap-identity, any, fullauth or permanent"),
                ))
            }
        })
    }

    /// `[eap] pseudonym_format`: whether pseudonyms are encrypted (true) or random, stored.
    pub fn encrypted_pseudonyms(&self) -> Result<bool, ConfigError> {
        match self.eap.pseudonym_format.as_str() {
            "encrypted" => Ok(true),
            "random" => Ok(false),
            other => Err(err(
                "eap.pseudonym_format",
                format!("{other:?}: encrypted or random"),
            )),
        }
    }

    /// The realms served here.
    pub fn home_realms(&self) -> Vec<String> {
        let mut v = self.roaming.home_realms.clone();
        if v.is_empty() {
            if let Some(d) = &self.diameter {
                v.push(d.origin_realm.clone());
            }
        }
        v
    }
}

/// Names the key of a serde/toml error: the table and key on the line the span points at.
fn toml_error(text: &str, e: &toml::de::Error) -> ConfigError {
    let msg = e.message().to_string();
    let Some(span) = e.span() else {
        return err("(file)", msg);
    };
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let mut table = String::new();
    for l in text[..start].lines() {
        let t = l.trim();
        if t.starts_with('[') {
            table = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        }
    }
    let line = text[start..]
        .lines()
        .next()
        .map(|rest| {
            let begin = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
            format!("{}{}", &text[begin..start], rest)
        })
        .unwrap_or_default();
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    let name = match (table.is_empty(), key) {
        (true, Some(k)) => k,
        (false, Some(k)) => format!("{table}.{k}"),
        (false, None) => table,
        (true, None) => "(file)".into(),
    };
    err(name, format!("{msg} (line {line_no})"))
}

fn yes() -> bool {
    true
}
fn eight() -> u32 {
    8
}
fn d30() -> Duration {
    Duration::from_secs(30)
}
fn d60() -> Duration {
    Duration::from_secs(60)
}
fn d3600() -> Duration {
    Duration::from_secs(3600)
}
fn default_pseudonym_format() -> String {
    "encrypted".into()
}
fn d86400() -> Duration {
    Duration::from_secs(86400)
}

struct SecsVisitor;

impl serde::de::Visitor<'_> for SecsVisitor {
    type Value = Duration;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a number of seconds")
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
        self.visit_f64(v as f64)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
        self.visit_f64(v as f64)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Duration, E> {
        if v.is_finite() && (0.0..=1e9).contains(&v) {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(E::custom("seconds must be a number between 0 and 1e9"))
        }
    }
}

fn secs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(SecsVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"
[store]
url = "sqlite::memory:"
[radius]
listen = "127.0.0.1:0"
[[radius.client]]
address = "127.0.0.1"
secret = "s"
"#;

    #[test]
    fn minimal_file_and_defaults() {
        let c = AaaConfig::from_toml(MIN).unwrap();
        assert!(c.radius.enabled);
        assert_eq!(c.eap.network_name, "WLAN");
        assert_eq!(c.eap.session_idle_timeout, Duration::from_secs(30));
        assert_eq!(c.store.sqn.block, 32);
        assert!(c.diameter.is_none());
        assert_eq!(c.roaming.role, Role::Home);
        assert_eq!(c.log.format, LogFormat::Human);
    }

    #[test]
    fn errors_name_the_key() {
        let e = AaaConfig::from_toml(&format!("{MIN}\n[eap]\nnetwork_nam = \"x\"\n")).unwrap_err();
        assert_eq!(e.key, "eap.network_nam", "{e}");
        assert!(e.why.contains("unknown field"), "{e}");
        let e = AaaConfig::from_toml(&MIN.replace("\"127.0.0.1:0\"", "\"nowhere\"")).unwrap_err();
        assert_eq!(e.key, "radius.listen", "{e}");
        let e = AaaConfig::from_toml(&MIN.replace("secret = \"s\"", "secret = \"\"")).unwrap_err();
        assert_eq!(e.key, "radius.client[0].secret");
        let e = AaaConfig::from_toml(&MIN.replace("\"127.0.0.1\"", "\"10.0.0.0/33\"")).unwrap_err();
        assert_eq!(e.key, "radius.client[0].address");
        let e = AaaConfig::from_toml(&format!("{MIN}\n[store.sqn]\nind = [40]\n")).unwrap_err();
        assert_eq!(e.key, "store.sqn.ind", "{e}");
        let e = AaaConfig::from_toml(&format!("{MIN}\n[eap]\nmethods = [\"md5\"]\n")).unwrap_err();
        assert_eq!(e.key, "eap.methods");
        let e =
            AaaConfig::from_toml(&format!("{MIN}\n[eap]\nidentity_policy = \"x\"\n")).unwrap_err();
        assert_eq!(e.key, "eap.identity_policy");
        let e = AaaConfig::from_toml(&format!("{MIN}\n[eap]\npseudonym_format = \"aes\"\n"))
            .unwrap_err();
        assert_eq!(e.key, "eap.pseudonym_format");
        assert!(e.why.contains("encrypted or random"), "{e}");
        let e =
            AaaConfig::from_toml(&format!("{MIN}\n[eap]\npseudonym_lifetime = 0\n")).unwrap_err();
        assert_eq!(e.key, "eap.pseudonym_lifetime");
        let e = AaaConfig::from_toml(&format!("{MIN}\n[radius.x]\n")).unwrap_err();
        assert!(e.key.starts_with("radius"), "{e}");
        let e = AaaConfig::from_toml("[store]\nurl = \"x\"\n").unwrap_err();
        assert_eq!(e.key, "radius");
        let e = AaaConfig::from_toml(&format!(
            "{MIN}\n[diameter]\norigin_host = \"a b\"\norigin_realm = \"r\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.key, "diameter.origin_host");
        let e =
            AaaConfig::from_toml(&format!("{MIN}\n[roaming]\nrole = \"visited\"\n")).unwrap_err();
        assert_eq!(e.key, "roaming.role");
        let e = AaaConfig::from_toml(&format!("{MIN}\n[apn]\ndynamic_gateways = [\"dynamic\"]\n"))
            .unwrap_err();
        assert_eq!(e.key, "apn.dynamic_gateways[0]");
        let e = AaaConfig::from_toml(&format!("{MIN}\n[radius]\n")).unwrap_err();
        assert!(
            e.why.contains("duplicate") || e.why.contains("redefin"),
            "{e}"
        );
    }

    #[test]
    fn access_policy_and_networks() {
        let c = AaaConfig::from_toml(&MIN.replace(
            "[[radius.client]]",
            "access_type = \"trusted-wlan\"\n[[radius.client]]",
        ))
        .unwrap();
        assert_eq!(
            c.radius.access_type,
            AccessPolicy::Only(AccessType::TrustedWlan)
        );
        let e = AaaConfig::from_toml(&MIN.replace(
            "[[radius.client]]",
            "access_type = \"wifi\"\n[[radius.client]]",
        ))
        .unwrap_err();
        assert_eq!(e.key, "radius.access_type", "{e}");
        let e = RadiusClientEntry {
            address: "10.0.0.0/8".into(),
            secret: "x".into(),
            name: None,
        };
        assert_eq!(e.network().unwrap(), ("10.0.0.0".parse().unwrap(), 8));
        let d: AccessPolicy = toml::from_str::<toml::Value>("a = \"untrusted-wlan\"")
            .unwrap()
            .get("a")
            .unwrap()
            .clone()
            .try_into()
            .unwrap();
        assert_eq!(d, AccessPolicy::Only(AccessType::UntrustedWlan));
    }
}
