//! `epdg.toml`: the IKE node's sections (`[ike]`, `[aaa]`, `[diameter]`, `[tun]`,
//! `[metrics]`, as in docs/ike-node.md, with the ePDG's constraints), plus `[epdg]`, `[dns]`
//! and `[mag]` (docs/epdg.md).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::resolve::Family;
use crate::ike::config::{AaaSpec, ConfigError, IkeNodeSpec, RoleName};

fn err(key: impl Into<String>, why: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        why: why.into(),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct EpdgSection {
    default_apn: Option<String>,
    dns4: Vec<String>,
    dns6: Vec<String>,
    /// Interface identifier of the IPv6 address given in INTERNAL_IP6_ADDRESS (`::1`).
    ipv6_interface_id: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct DnsSection {
    servers: Vec<String>,
    timeout: Option<f64>,
    prefer: Option<String>,
}

/// Everything the ePDG needs, validated.
#[derive(Debug)]
pub struct EpdgSpec {
    pub ike: IkeNodeSpec,
    /// APN when the UE's IDr is not an FQDN (absent: such UEs are refused with
    /// NO_APN_SUBSCRIPTION).
    pub default_apn: Option<String>,
    /// DNS servers for the CFG_REPLY.
    pub dns4: Vec<Ipv4Addr>,
    pub dns6: Vec<Ipv6Addr>,
    /// Low 64 bits of the UE's IPv6 address within its home network prefix.
    pub ipv6_interface_id: u64,
    /// Gateway name resolution.
    pub dns_servers: Vec<SocketAddr>,
    pub dns_timeout: Duration,
    pub dns_prefer: Family,
    /// The `[mag]` table, for the MAG driver (its keys: docs/epdg.md).
    pub mag: toml::Table,
}

impl EpdgSpec {
    pub fn from_file(path: &Path) -> Result<EpdgSpec, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(path.display().to_string(), e.to_string()))?;
        Self::from_toml(&text, path.parent().unwrap_or(Path::new(".")))
    }

    pub fn from_toml(text: &str, base: &Path) -> Result<EpdgSpec, ConfigError> {
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let at = e
                .span()
                .map(|s| {
                    format!(
                        "line {}",
                        text[..s.start.min(text.len())].lines().count().max(1)
                    )
                })
                .unwrap_or_else(|| "file".into());
            err(at, e.message().to_string())
        })?;
        let epdg: EpdgSection = take(&mut table, "epdg")?;
        let dns: DnsSection = take(&mut table, "dns")?;
        let mag = match table.remove("mag") {
            None => toml::Table::new(),
            Some(toml::Value::Table(t)) => t,
            Some(_) => return Err(err("mag", "must be a table")),
        };
        // checked now, so that `--check` and start-up name a bad key
        super::pmip::MagSpec::from_table(&mag)?;
        if table.contains_key("pool") {
            return Err(err(
                "pool",
                "the ePDG's UE addresses come from the gateway (PBA): remove [pool]",
            ));
        }
        if table.contains_key("usim") {
            return Err(err("usim", "an ePDG has no USIM"));
        }
        // the ePDG is a responder relaying EAP over SWm
        let ike = table
            .entry("ike")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(ike) = ike else {
            return Err(err("ike", "must be a table"));
        };
        match ike.get("role").and_then(|v| v.as_str()) {
            None => {
                ike.insert("role".into(), "responder".into());
            }
            Some("responder") => {}
            Some(other) => {
                return Err(err(
                    "ike.role",
                    format!("'{other}': an ePDG is a responder"),
                ))
            }
        }
        ike.entry("remote_auth")
            .or_insert_with(|| toml::Value::Array(vec!["eap".into()]));
        ike.entry("name").or_insert_with(|| "epdg".into());
        let rest = toml::to_string(&table).map_err(|e| err("file", e.to_string()))?;
        let spec = IkeNodeSpec::from_toml(&rest, base)?;
        if spec.role != RoleName::Responder {
            return Err(err("ike.role", "an ePDG is a responder"));
        }
        match &spec.aaa {
            Some(AaaSpec::Diameter { relay, .. })
                if relay.application == mobstrap_wire::diameter::app::SWM => {}
            Some(_) => {
                return Err(err(
                    "aaa",
                    "an ePDG relays EAP over Diameter SWm: protocol = \"diameter\", application = \"swm\"",
                ))
            }
            None => return Err(err("aaa", "missing: the ePDG needs its SWm AAA")),
        }
        let mut dns4 = Vec::new();
        for (i, s) in epdg.dns4.iter().enumerate() {
            dns4.push(s.parse().map_err(|_| {
                err(
                    format!("epdg.dns4[{i}]"),
                    format!("'{s}': not an IPv4 address"),
                )
            })?);
        }
        let mut dns6 = Vec::new();
        for (i, s) in epdg.dns6.iter().enumerate() {
            dns6.push(s.parse().map_err(|_| {
                err(
                    format!("epdg.dns6[{i}]"),
                    format!("'{s}': not an IPv6 address"),
                )
            })?);
        }
        let ipv6_interface_id = match &epdg.ipv6_interface_id {
            None => 1,
            Some(s) => {
                let a: Ipv6Addr = s.parse().map_err(|_| {
                    err(
                        "epdg.ipv6_interface_id",
                        format!("'{s}': write it as an IPv6 address, e.g. ::1"),
                    )
                })?;
                let v = u128::from(a);
                if v >> 64 != 0 || v == 0 {
                    return Err(err(
                        "epdg.ipv6_interface_id",
                        format!("'{s}': must be non-zero and fit the low 64 bits"),
                    ));
                }
                v as u64
            }
        };
        let mut dns_servers = Vec::new();
        for (i, s) in dns.servers.iter().enumerate() {
            let a = s
                .parse::<SocketAddr>()
                .or_else(|_| {
                    s.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, 53))
                })
                .map_err(|_| {
                    err(
                        format!("dns.servers[{i}]"),
                        format!("'{s}': not an address"),
                    )
                })?;
            dns_servers.push(a);
        }
        let dns_timeout = match dns.timeout {
            None => Duration::from_secs(2),
            Some(t) if t > 0.0 && t < 60.0 => Duration::from_secs_f64(t),
            Some(t) => return Err(err("dns.timeout", format!("{t}: 0 < timeout < 60 s"))),
        };
        let dns_prefer = match dns.prefer.as_deref() {
            None | Some("ipv6") => Family::V6,
            Some("ipv4") => Family::V4,
            Some(o) => return Err(err("dns.prefer", format!("'{o}': ipv4 or ipv6"))),
        };
        if let Some(a) = &epdg.default_apn {
            if a.is_empty() {
                return Err(err("epdg.default_apn", "empty"));
            }
        }
        Ok(EpdgSpec {
            ike: spec,
            default_apn: epdg.default_apn,
            dns4,
            dns6,
            ipv6_interface_id,
            dns_servers,
            dns_timeout,
            dns_prefer,
            mag,
        })
    }
}

fn take<T: for<'de> Deserialize<'de> + Default>(
    table: &mut toml::Table,
    key: &str,
) -> Result<T, ConfigError> {
    match table.remove(key) {
        None => Ok(T::default()),
        Some(v) => v
            .try_into()
            .map_err(|e: toml::de::Error| err(key, e.message().to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[ike]
bind = ["127.0.0.1"]
port = 5500
natt_port = 5501
local_id = "epdg.example"
psk = "test"
auth = "psk"
[aaa]
protocol = "diameter"
destination_realm = "home.example"
application = "swm"
[diameter]
origin_host = "epdg.visited.example"
origin_realm = "visited.example"
[[diameter.peer]]
host = "aaa.home.example"
connect = "127.0.0.1:3868"
"#;

    #[test]
    fn a_valid_file() {
        let text = format!(
            "{BASE}\n[epdg]\ndefault_apn = \"internet\"\ndns4 = [\"192.0.2.53\"]\n[dns]\nservers = [\"127.0.0.1:5353\"]\n[mag]\nlifetime = 600\n"
        );
        let s = EpdgSpec::from_toml(&text, Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.default_apn.as_deref(), Some("internet"));
        assert_eq!(s.dns_servers, vec!["127.0.0.1:5353".parse().unwrap()]);
        assert_eq!(
            s.mag.get("lifetime").and_then(|v| v.as_integer()),
            Some(600)
        );
        assert_eq!(s.ike.role, RoleName::Responder);
        assert_eq!(s.ipv6_interface_id, 1);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (format!("{BASE}\n[pool]\nipv4 = \"10.0.0.0/24\"\n"), "pool"),
            (
                BASE.replace("application = \"swm\"", "application = \"eap\""),
                "aaa",
            ),
            (
                format!("{BASE}\n[dns]\nservers = [\"nope\"]\n"),
                "dns.servers[0]",
            ),
            (
                format!("{BASE}\n[epdg]\ndns6 = [\"1.2.3.4\"]\n"),
                "epdg.dns6[0]",
            ),
            (format!("{BASE}\n[epdg]\nbogus = 1\n"), "epdg"),
            (
                BASE.replace("[ike]", "[ike]\nrole = \"initiator\""),
                "ike.role",
            ),
            (
                format!("{BASE}\n[epdg]\nipv6_interface_id = \"2001:db8::1\"\n"),
                "epdg.ipv6_interface_id",
            ),
            (format!("{BASE}\n[mag]\nlisten = \"x\"\n"), "mag.listen"),
            (
                format!("{BASE}\n[mag]\nmax_transmissions = 0\n"),
                "mag.max_transmissions",
            ),
            (format!("{BASE}\n[mag]\nbogus = 0\n"), "mag"),
            (
                format!("{BASE}\n[mag]\nipv6_mh = \"10.0.0.1\"\n"),
                "mag.ipv6_mh",
            ),
            (
                format!("{BASE}\n[mag]\nipv6_mh = \"ff02::1\"\n"),
                "mag.ipv6_mh",
            ),
        ];
        for (text, key) in cases {
            let e = EpdgSpec::from_toml(&text, Path::new(".")).unwrap_err();
            assert_eq!(e.key, key, "{e}");
        }
    }
}
