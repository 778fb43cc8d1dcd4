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
        // both families, the preference is ours
        opts.ip_strategy = hickory_resolver::config::LookupIpStrategy::Ipv4AndIpv6;
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

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
    use hickory_resolver::proto::rr::rdata::{A, AAAA};
    use hickory_resolver::proto::rr::{RData, Record, RecordType};
    use std::net::{Ipv4Addr, Ipv6Addr};
    use tokio::net::UdpSocket;

    /// A one-zone DNS server on loopback: `pgw.home.example` has A 192.0.2.10 and
    /// AAAA 2001:db8::10; anything else is NXDOMAIN. Serves until dropped.
    async fn dns_server() -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 1500];
            loop {
                let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                    return;
                };
                let Ok(q) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let mut r = Message::new();
                r.set_id(q.id())
                    .set_message_type(MessageType::Response)
                    .set_recursion_desired(q.recursion_desired())
                    .set_recursion_available(true)
                    .set_authoritative(true);
                for query in q.queries() {
                    r.add_query(query.clone());
                    let name = query.name().to_ascii().to_ascii_lowercase();
                    if name != "pgw.home.example." {
                        r.set_response_code(ResponseCode::NXDomain);
                        continue;
                    }
                    match query.query_type() {
                        RecordType::A => {
                            r.add_answer(Record::from_rdata(
                                query.name().clone(),
                                60,
                                RData::A(A(Ipv4Addr::new(192, 0, 2, 10))),
                            ));
                        }
                        RecordType::AAAA => {
                            r.add_answer(Record::from_rdata(
                                query.name().clone(),
                                60,
                                RData::AAAA(AAAA("2001:db8::10".parse::<Ipv6Addr>().unwrap())),
                            ));
                        }
                        _ => {}
                    }
                }
                if let Ok(b) = r.to_vec() {
                    let _ = sock.send_to(&b, from).await;
                }
            }
        });
        (addr, task)
    }

    #[tokio::test]
    async fn names_resolve_over_the_configured_server() {
        let (addr, task) = dns_server().await;
        let t = Duration::from_millis(500);
        let g = GatewayRef::Host("PGW.home.example".into());
        let v4 = GatewayResolver::new(&[addr], t, Family::V4);
        assert_eq!(
            v4.resolve(&g).await.unwrap(),
            "192.0.2.10".parse::<IpAddr>().unwrap()
        );
        let v6 = GatewayResolver::new(&[addr], t, Family::V6);
        assert_eq!(
            v6.resolve(&g).await.unwrap(),
            "2001:db8::10".parse::<IpAddr>().unwrap()
        );
        // an address needs no DNS; an unknown name and no servers are errors naming the host
        let a = GatewayRef::Address("198.51.100.1".parse().unwrap());
        assert_eq!(
            GatewayResolver::new(&[], t, Family::V4)
                .resolve(&a)
                .await
                .unwrap(),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
        let e = v4
            .resolve(&GatewayRef::Host("nope.home.example".into()))
            .await
            .unwrap_err();
        assert!(e.contains("nope.home.example"), "{e}");
        let e = GatewayResolver::new(&[], t, Family::V4)
            .resolve(&g)
            .await
            .unwrap_err();
        assert!(e.contains("no [dns] servers"), "{e}");
        task.abort();
    }
}
