//! `gw.toml`: the configuration of `mobstrap gw` (docs/gw.md; example docs/examples/gw.toml).
//! Unknown keys are refused; every error names the key.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use mobstrap_store::PoolSpec;
use serde::Deserialize;

use crate::diameter::DiameterConfig;

/// A configuration error: the key and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("gw config: {key}: {why}")]
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GwConfig {
    #[serde(default)]
    pub node: NodeSection,
    #[serde(default)]
    pub pmip: PmipSection,
    #[serde(default)]
    pub pools: PoolsSection,
    #[serde(default)]
    pub store: StoreSection,
    /// S6b toward the AAA; absent: no AAA authorisation.
    #[serde(default)]
    pub s6b: Option<S6bSection>,
    /// The Diameter node used for S6b (required with `[s6b]`).
    #[serde(default)]
    pub diameter: Option<DiameterConfig>,
    /// Visited-gateway role: relay PBUs carrying the home gateway option.
    #[serde(default)]
    pub roaming: Option<RoamingSection>,
    /// User plane on a TUN device (needs CAP_NET_ADMIN); absent: signalling only.
    #[serde(default)]
    pub tun: Option<TunSection>,
    #[serde(default)]
    pub metrics: MetricsSection,
    #[serde(default)]
    pub log: crate::aaa::config::LogSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
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
    "gw".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PmipSection {
    /// Signalling socket (RFC 5844 UDP).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// User-plane socket (UDP 5437); absent: no user plane.
    #[serde(default)]
    pub data_listen: Option<SocketAddr>,
    /// PMIPv6 over IPv6 (RFC 5213) on this address besides the UDP transport: the raw
    /// Mobility Header (IP protocol 135) for signalling and IPv6-in-IPv6 / IPv4-in-IPv6 for
    /// the tunnel (docs/gw.md). Needs `CAP_NET_RAW`; absent: UDP only.
    #[serde(default)]
    pub ipv6_mh: Option<Ipv6Addr>,
    /// This gateway's address as told to the AAA (MIP6-Agent-Info) and in the inner IPv6
    /// header; default: the listen address when it is not a wildcard.
    #[serde(default)]
    pub address: Option<IpAddr>,
    #[serde(default = "default_max_lifetime")]
    pub max_lifetime: u32,
    #[serde(default = "default_window")]
    pub timestamp_window_ms: u64,
    #[serde(default = "yes")]
    pub require_timestamp: bool,
    /// MAG addresses allowed to register; empty: any.
    #[serde(default)]
    pub allowed_mags: Vec<IpAddr>,
    #[serde(default = "default_max_bindings")]
    pub max_bindings: usize,
}

impl Default for PmipSection {
    fn default() -> Self {
        PmipSection {
            listen: default_listen(),
            data_listen: None,
            ipv6_mh: None,
            address: None,
            max_lifetime: default_max_lifetime(),
            timestamp_window_ms: default_window(),
            require_timestamp: true,
            allowed_mags: vec![],
            max_bindings: default_max_bindings(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 5436))
}
fn default_max_lifetime() -> u32 {
    86400
}
fn default_window() -> u64 {
    300
}
fn default_max_bindings() -> usize {
    1_000_000
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolsSection {
    /// IPv4 home addresses: `NETWORK/LEN` (hosts .1 to broadcast-2; the last host is the
    /// default router) or `FIRST-LAST/LEN`.
    #[serde(default)]
    pub ipv4: Option<String>,
    /// IPv4 default router told to the MN; default: the last host of `NETWORK/LEN`.
    #[serde(default)]
    pub ipv4_router: Option<Ipv4Addr>,
    /// IPv6 home network prefixes: `PREFIX/LEN` carved into /64s, or `PREFIX/LEN,/N`.
    #[serde(default)]
    pub ipv6: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    #[serde(default = "default_url")]
    pub url: String,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection { url: default_url() }
    }
}

fn default_url() -> String {
    "sqlite://gw.sqlite".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S6bSection {
    pub destination_realm: String,
    #[serde(default)]
    pub destination_host: Option<String>,
    /// Refuse the PBU when the AAA cannot be asked (no answer): `true`; or register anyway.
    #[serde(default = "yes")]
    pub required: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoamingSection {
    /// UDP port of home gateways.
    #[serde(default = "default_port")]
    pub home_port: u16,
    #[serde(default = "default_initial")]
    pub initial_timeout_ms: u64,
    #[serde(default = "default_max_tx")]
    pub max_transmissions: u32,
    #[serde(default = "default_lifetime")]
    pub lifetime: u32,
}

fn default_port() -> u16 {
    5436
}
fn default_initial() -> u64 {
    1500
}
fn default_max_tx() -> u32 {
    5
}
fn default_lifetime() -> u32 {
    3600
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunSection {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "default_mtu")]
    pub mtu: u16,
    /// Addresses of the device itself (e.g. the IPv4 default router `10.45.255.254/16`).
    #[serde(default)]
    pub addresses: Vec<String>,
}

fn default_mtu() -> u16 {
    1400
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    #[serde(default)]
    pub listen: Option<SocketAddr>,
}

/// The pools, validated.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    pub v4: Option<PoolSpec>,
    pub v4_router: Option<Ipv4Addr>,
    pub v6: Option<PoolSpec>,
}

impl GwConfig {
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let c: GwConfig = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}")
                })
                .unwrap_or_default();
            err(at, e.message().to_string())
        })?;
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.pools()?;
        if self.s6b.is_some() && self.diameter.is_none() {
            return Err(err("s6b", "needs a [diameter] section"));
        }
        if self.pmip.max_lifetime == 0 {
            return Err(err("pmip.max_lifetime", "must be positive"));
        }
        if let Some(a) = self.pmip.ipv6_mh {
            if a.is_unspecified() || a.is_multicast() {
                return Err(err(
                    "pmip.ipv6_mh",
                    format!("{a}: needs one unicast address of this node"),
                ));
            }
        }
        if let Some(r) = &self.roaming {
            if r.max_transmissions == 0 {
                return Err(err("roaming.max_transmissions", "must be at least 1"));
            }
        }
        if let Some(t) = &self.tun {
            for (i, a) in t.addresses.iter().enumerate() {
                parse_cidr(a).map_err(|w| err(format!("tun.addresses[{i}]"), w))?;
            }
        }
        Ok(())
    }

    pub fn pools(&self) -> Result<Pools, ConfigError> {
        let v4 = match &self.pools.ipv4 {
            Some(s) => {
                let p = PoolSpec::parse(s).map_err(|w| err("pools.ipv4", w))?;
                if !matches!(p, PoolSpec::V4 { .. }) {
                    return Err(err("pools.ipv4", "not an IPv4 pool"));
                }
                Some(p)
            }
            None => None,
        };
        let v6 = match &self.pools.ipv6 {
            Some(s) => {
                let p = PoolSpec::parse(s).map_err(|w| err("pools.ipv6", w))?;
                if !matches!(p, PoolSpec::V6 { .. }) {
                    return Err(err("pools.ipv6", "not an IPv6 pool"));
                }
                Some(p)
            }
            None => None,
        };
        let v4_router = self.pools.ipv4_router.or_else(|| match &v4 {
            Some(PoolSpec::V4 { last, .. }) => {
                Some(Ipv4Addr::from(u32::from(*last).saturating_add(1)))
            }
            _ => None,
        });
        Ok(Pools { v4, v4_router, v6 })
    }

    pub fn timestamp_window(&self) -> Duration {
        Duration::from_millis(self.pmip.timestamp_window_ms)
    }
}

/// `ADDRESS/LEN`.
pub fn parse_cidr(s: &str) -> Result<(IpAddr, u8), String> {
    let (a, l) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?}: expected ADDRESS/LEN"))?;
    let a: IpAddr = a.parse().map_err(|_| format!("{s:?}: bad address"))?;
    let l: u8 = l.parse().map_err(|_| format!("{s:?}: bad length"))?;
    if l > if a.is_ipv4() { 32 } else { 128 } {
        return Err(format!("{s:?}: bad length"));
    }
    Ok((a, l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let c = GwConfig::from_toml("").unwrap();
        assert_eq!(c.pmip.listen.port(), 5436);
        assert_eq!(c.pmip.timestamp_window_ms, 300);
        let c =
            GwConfig::from_toml("[pools]\nipv4 = \"10.45.0.0/16\"\nipv6 = \"2001:db8:1::/48\"\n")
                .unwrap();
        let p = c.pools().unwrap();
        assert_eq!(p.v4_router, Some("10.45.255.254".parse().unwrap()));
        assert_eq!(p.v6.unwrap().size(), 65536);
        let e = GwConfig::from_toml("[pools]\nipv4 = \"2001:db8::/48\"\n").unwrap_err();
        assert_eq!(e.key, "pools.ipv4");
        let e = GwConfig::from_toml("[pools]\nipv6 = \"banana\"\n").unwrap_err();
        assert_eq!(e.key, "pools.ipv6");
        let e = GwConfig::from_toml("[s6b]\ndestination_realm = \"x\"\n").unwrap_err();
        assert_eq!(e.key, "s6b");
        let e = GwConfig::from_toml("[pmip]\nlisten = 5\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(GwConfig::from_toml("[pmip]\nlisn = 1\n").is_err());
        let c = GwConfig::from_toml("[pmip]\nipv6_mh = \"2001:db8::5\"\n").unwrap();
        assert_eq!(c.pmip.ipv6_mh, Some("2001:db8::5".parse().unwrap()));
        let e = GwConfig::from_toml("[pmip]\nipv6_mh = \"::\"\n").unwrap_err();
        assert_eq!(e.key, "pmip.ipv6_mh");
    }
}
