//! Gateway names → addresses: the AAA may name a gateway by host (MIP-Home-Agent-Host); the
//! ePDG then asks DNS for AAAA and A records (hickory-resolver, the servers of `[dns]`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::TokioResolver;

use super::swm::GatewayRef;

/// Which address family to prefer when a name has both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// A resolver over explicit name servers.
#[derive(Clone)]
pub struct GatewayResolver {
    resolver: Option<TokioResolver>,
    prefer: Family,
}

impl GatewayResolver {
    /// `servers` empty: names can't be resolved (addresses still work).
    pub fn new(servers: &[SocketAddr], timeout: Duration, prefer: Family) -> Self {
        if servers.is_empty() {
            return GatewayResolver {
                resolver: None,
                prefer,
            };
        }
        let mut cfg = ResolverConfig::new();
        for s in servers {
            cfg.add_name_server(NameServerConfig::new(*s, Protocol::Udp));
        }
        let mut opts = ResolverOpts::default();
        opts.timeout = timeout;
        opts.attempts = 2;
        opts.cache_size = 64;
        let resolver = TokioResolver::builder_with_config(cfg, TokioConnectionProvider::default())
            .with_options(opts)
            .build();
        GatewayResolver {
            resolver: Some(resolver),
            prefer,
        }
    }

    /// An address for the gateway: itself, or the preferred family's first record.
    pub async fn resolve(&self, g: &GatewayRef) -> Result<IpAddr, String> {
        let host = match g {
            GatewayRef::Address(a) => return Ok(*a),
            GatewayRef::Host(h) => h,
        };
        let Some(r) = &self.resolver else {
            return Err(format!("{host}: no [dns] servers configured"));
        };
        let fqdn = if host.ends_with('.') {
            host.clone()
        } else {
            format!("{host}.")
        };
        let ips = r
            .lookup_ip(fqdn.as_str())
            .await
            .map_err(|e| format!("{host}: {e}"))?;
        let all: Vec<IpAddr> = ips.iter().collect();
        let preferred = all.iter().find(|a| match self.prefer {
            Family::V4 => a.is_ipv4(),
            Family::V6 => a.is_ipv6(),
        });
        preferred
            .or(all.first())
            .copied()
            .ok_or_else(|| format!("{host}: no A/AAAA record"))
    }
}
