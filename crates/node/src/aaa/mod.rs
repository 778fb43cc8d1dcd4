//! # The 3GPP AAA server with an embedded HSS (`mobstrap aaa`)
//!
//! EAP-AKA and EAP-AKA' (the `mobstrap_proto::eap` engines) over RADIUS (RFC 2865 / 3579)
//! and Diameter (the EAP application, SWm, STa; S6b for gateways), with subscribers, SQN and
//! temporary identities in the store (SQLite, or PostgreSQL for several AAA nodes). Seed 002:
//! AAR/AAA resolves APN → gateway, a visited AAA proxies to the home AAA and adds the
//! visited gateway. Seed 003: the MAG–LMA key derived from the EMSK, for the MAG in the DEA
//! and for the LMA over S6b.
//!
//! | room | what |
//! |---|---|
//! | [`config`] | `aaa.toml` |
//! | `core` | HSS glue (vectors, resync, identities), the EAP conversation driver, tables |
//! | `sessions` | sharded tables of conversations and authorized sessions |
//! | `radius` | the RADIUS front end |
//! | `diameter` | the Diameter applications |
//! | `profile` | the subscriber profile as AVPs |
//! | `roaming` | the visited AAA's proxy hook |
//! | [`client`] | RADIUS and Diameter client drivers with a USIM peer (tests, the load generator) |
//!
//! This room owns sockets, tasks and the store; protocol decisions are the engines'.
//! Secrets (K, OPc, MSK, EMSK, the MAG–LMA key) never reach a log line.

pub mod client;
pub mod config;
mod core;
mod diameter;
mod profile;
mod radius;
mod roaming;
mod sessions;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mobstrap_proto::eap::{AkaServerConfig, ServerConfig};
use mobstrap_store::{ConnectOptions, Store, StoreOptions};
use mobstrap_wire::diameter::app;
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{AaaConfig, ConfigError};

use crate::diameter::config::{RouteEntry, RouteKind, RouteTarget};
use crate::diameter::{DiameterNode, NodeError};

/// Starting the AAA failed.
#[derive(Debug, thiserror::Error)]
pub enum AaaError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("store {url}: {source}")]
    Store {
        url: String,
        source: mobstrap_store::Error,
    },
    #[error("radius: cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Diameter(#[from] NodeError),
}

/// A running AAA server.
pub struct AaaNode {
    core: Arc<core::Core>,
    diameter: Option<DiameterNode>,
    radius_addr: Option<SocketAddr>,
    accounting_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl AaaNode {
    /// Opens the store, binds the sockets, starts serving.
    pub async fn start(config: AaaConfig) -> Result<AaaNode, AaaError> {
        config.validate()?;
        let config = Arc::new(config);
        let cfg = &config;
        let store = Store::open_with(
            &cfg.store.url,
            StoreOptions {
                connect: ConnectOptions {
                    max_connections: cfg.store.max_connections,
                    ..ConnectOptions::default()
                },
                sqn: cfg.store.sqn.clone(),
                cache_ttl: (!cfg.store.cache_ttl.is_zero()).then_some(cfg.store.cache_ttl),
                ..StoreOptions::default()
            },
        )
        .await
        .map_err(|source| AaaError::Store {
            url: redact(&cfg.store.url),
            source,
        })?;
        let aka = AkaServerConfig {
            aka: cfg.eap.methods.iter().any(|m| m == "aka"),
            aka_prime: cfg.eap.methods.iter().any(|m| m == "aka-prime"),
            network_name: cfg.eap.network_name.clone(),
            result_ind: cfg.eap.result_ind,
            identity_policy: cfg.identity_policy()?,
            pseudonyms: cfg.eap.pseudonyms,
            pseudonym_cipher: if cfg.eap.pseudonyms && cfg.encrypted_pseudonyms()? {
                Some(
                    pseudonym_cipher(&store, cfg)
                        .await
                        .map_err(|source| AaaError::Store {
                            url: redact(&cfg.store.url),
                            source,
                        })?,
                )
            } else {
                None
            },
            fast_reauth: cfg.eap.fast_reauth,
            max_fast_reauths: cfg.eap.max_fast_reauths,
            bidding: cfg.eap.bidding,
            notify_failures: cfg.eap.notify_failures,
            max_resyncs: 1,
            reauth_realm: cfg.eap.reauth_realm.clone(),
        };
        let host = cfg
            .diameter
            .as_ref()
            .map(|d| d.origin_host.clone())
            .unwrap_or_else(|| cfg.node.name.clone());
        let core = Arc::new(core::Core {
            store,
            config: config.clone(),
            aka: Arc::new(aka),
            server: ServerConfig {
                max_rounds: cfg.eap.max_rounds,
                ..ServerConfig::default()
            },
            radius_conversations: sessions::Table::new(cfg.eap.max_sessions),
            diameter_conversations: sessions::Table::new(cfg.eap.max_sessions),
            authorized: sessions::Table::new(cfg.eap.max_sessions),
            host,
        });
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();

        let mut radius_addr = None;
        let mut accounting_addr = None;
        if cfg.radius.enabled {
            let sock = bind_udp(cfg.radius.listen)?;
            radius_addr = sock.local_addr().ok();
            tasks.push(tokio::spawn(radius::serve(
                core.clone(),
                sock,
                false,
                stop_rx.clone(),
            )));
            if let Some(a) = cfg.radius.accounting_listen {
                let sock = bind_udp(a)?;
                accounting_addr = sock.local_addr().ok();
                tasks.push(tokio::spawn(radius::serve(
                    core.clone(),
                    sock,
                    true,
                    stop_rx.clone(),
                )));
            }
        }

        let diameter = match &cfg.diameter {
            Some(d) => {
                let mut d = d.clone();
                // Home realms are served here.
                for realm in cfg.home_realms() {
                    if !d
                        .routes
                        .iter()
                        .any(|r| r.realm.eq_ignore_ascii_case(&realm))
                    {
                        d.routes.push(RouteEntry {
                            realm,
                            application: None,
                            target: RouteTarget {
                                action: RouteKind::Local,
                                peers: Vec::new(),
                            },
                        });
                    }
                }
                let mut b = DiameterNode::builder(d.clone());
                for (a, vendor) in [
                    (app::EAP, None),
                    (app::SWM, Some(10415)),
                    (app::STA, Some(10415)),
                    (app::S6B, Some(10415)),
                ] {
                    b = b.application(
                        a,
                        vendor,
                        Arc::new(diameter::AaaApp {
                            core: core.clone(),
                            app: a,
                        }),
                    );
                }
                if cfg.roaming.role == config::Role::Visited {
                    let network_id = cfg
                        .roaming
                        .visited_network_id
                        .clone()
                        .unwrap_or_else(|| d.origin_realm.clone());
                    b = b.proxy_hook(
                        app::SWM,
                        Arc::new(roaming::VisitedAaa {
                            config: config.clone(),
                            network_id,
                        }),
                    );
                }
                Some(b.start().await?)
            }
            None => None,
        };

        tasks.push(tokio::spawn(housekeeping(core.clone(), stop_rx.clone())));
        tracing::info!(
            node = %cfg.node.name,
            radius = ?radius_addr,
            diameter = ?diameter.as_ref().map(|d| d.local_addrs().to_vec()),
            store = %redact(&cfg.store.url),
            "aaa started"
        );
        Ok(AaaNode {
            core,
            diameter,
            radius_addr,
            accounting_addr,
            stop,
            tasks,
        })
    }

    /// The bound RADIUS authentication address.
    pub fn radius_addr(&self) -> Option<SocketAddr> {
        self.radius_addr
    }
    /// The bound RADIUS accounting address.
    pub fn accounting_addr(&self) -> Option<SocketAddr> {
        self.accounting_addr
    }
    /// The Diameter node, when configured.
    pub fn diameter(&self) -> Option<&DiameterNode> {
        self.diameter.as_ref()
    }
    /// The store.
    pub fn store(&self) -> &Store {
        &self.core.store
    }
    /// Unfinished EAP conversations (RADIUS + Diameter).
    pub fn conversations(&self) -> usize {
        self.core.radius_conversations.len() + self.core.diameter_conversations.len()
    }

    /// Authorized sessions held in memory (ended by STR or expiry).
    pub fn authorized_sessions(&self) -> usize {
        self.core.authorized.len()
    }

    /// Stops serving: RADIUS sockets close, Diameter peers get DPR, queued store writes
    /// are committed. Waits at most `timeout`.
    pub async fn shutdown(self, timeout: Duration) {
        let _ = self.stop.send(true);
        if let Some(d) = &self.diameter {
            d.shutdown(timeout).await;
        }
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(1), t).await;
        }
        if tokio::time::timeout(timeout, self.core.store.flush())
            .await
            .is_err()
        {
            tracing::warn!("store writes not flushed in time");
        }
        tracing::info!("aaa stopped");
    }
}

fn bind_udp(addr: SocketAddr) -> Result<UdpSocket, AaaError> {
    let map = |source| AaaError::Listen { addr, source };
    let s = std::net::UdpSocket::bind(addr).map_err(map)?;
    s.set_nonblocking(true).map_err(map)?;
    UdpSocket::from_std(s).map_err(map)
}

/// Expires idle conversations and authorized sessions; purges the store's expired rows.
async fn housekeeping(core: Arc<core::Core>, mut stop: watch::Receiver<bool>) {
    let idle = core.config.eap.session_idle_timeout;
    let purge = core.config.store.purge_interval;
    let mut last_purge = Instant::now();
    let tick = (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = stop.changed() => return,
        }
        let now = Instant::now();
        let n = core.radius_conversations.expire(now, idle, idle * 4)
            + core.diameter_conversations.expire(now, idle, idle * 4);
        if n > 0 {
            tracing::debug!(expired = n, "idle EAP conversations expired");
            metrics::counter!("aaa_conversations_expired_total").increment(n as u64);
        }
        metrics::gauge!("aaa_eap_conversations", "frontend" => "radius")
            .set(core.radius_conversations.len() as f64);
        metrics::gauge!("aaa_eap_conversations", "frontend" => "diameter")
            .set(core.diameter_conversations.len() as f64);
        if !purge.is_zero() && now.duration_since(last_purge) >= purge {
            last_purge = now;
            core.authorized.expire(
                now,
                core.config.apn.session_timeout,
                core.config.apn.session_timeout,
            );
            let swept = core.store.sweep_cache();
            if swept > 0 {
                tracing::debug!(subscribers = swept, "stale cached subscribers dropped");
            }
            match core.store.purge_expired(mobstrap_store::unix_now()).await {
                Ok(p) => tracing::debug!(
                    pseudonyms = p.pseudonyms,
                    reauth_ids = p.reauth_ids,
                    sessions = p.sessions,
                    "store: expired rows purged"
                ),
                Err(e) => tracing::warn!(error = %e, "store: purge failed"),
            }
        }
    }
}

/// The store row holding the key of encrypted pseudonyms (key identifier 0).
pub const PSEUDONYM_KEY_NAME: &str = "eap-pseudonym-key-0";

/// The encrypted-pseudonym cipher with the key every node on `store` shares (created by
/// the first node to start; docs/aaa.md).
async fn pseudonym_cipher(
    store: &Store,
    cfg: &AaaConfig,
) -> Result<Arc<dyn mobstrap_proto::eap::PseudonymCipher>, mobstrap_store::Error> {
    use mobstrap_crypto::pseudonym::{PseudonymKey, KEY_LEN};
    use rand::RngCore;
    let mut fresh = zeroize::Zeroizing::new([0u8; KEY_LEN]);
    rand::rng().fill_bytes(&mut fresh[..]);
    let stored =
        zeroize::Zeroizing::new(store.shared_secret(PSEUDONYM_KEY_NAME, &fresh[..]).await?);
    let key: [u8; KEY_LEN] =
        stored
            .as_slice()
            .try_into()
            .map_err(|_| mobstrap_store::Error::Corrupt {
                what: "aaa_secret.value",
                key: PSEUDONYM_KEY_NAME.into(),
                reason: format!("{} octets, expected {KEY_LEN}", stored.len()),
            })?;
    let lifetime = u32::try_from(cfg.eap.pseudonym_lifetime.as_secs()).unwrap_or(u32::MAX);
    Ok(Arc::new(mobstrap_proto::eap::EncryptedPseudonyms::new(
        PseudonymKey::new(&key),
        0,
        lifetime,
        Arc::new(|| u64::try_from(mobstrap_store::unix_now()).unwrap_or(0)),
    )))
}

/// A URL with its password masked.
fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((auth, host)) = rest.split_once('@') {
            if let Some((user, _)) = auth.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_string()
}
