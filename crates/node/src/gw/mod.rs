//! `mobstrap gw`: the PDN gateway as PMIPv6 LMA (RFC 5213 / RFC 5844), and as the visited
//! gateway of the s2b roaming chain when `[roaming]` is configured (seed 002 steps 11–14).
//!
//! One task owns the [`Lma`] engine and the sockets: PBUs arrive on UDP (RFC 5844 §4 layout,
//! [`crate::pmip_tunnel`]), PBAs leave from the same socket. A new binding
//! ([`LmaEvent::Authorize`]) is worked on in its own task: S6b AAR to the AAA (docs/aaa.md
//! "S6b AAR/AAA — gateways") then the address pools in the store; the result goes back to the
//! engine. Removed bindings release their pool slots and end the S6b session with STR. The
//! user plane (UDP 5437 ↔ TUN) follows the binding cache.

pub mod config;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mobstrap_proto::pmip::lma::{Allocation, Authorize, Lma, LmaConfig, LmaEvent, RemoveReason};
use mobstrap_proto::pmip::mag::MagConfig;
use mobstrap_proto::pmip::{status, MnKey};
use mobstrap_store::{PoolSpec, Store};
use mobstrap_wire::diameter::commands::{self, app};
use mobstrap_wire::diameter::{dict, AvpRepr as A, Message};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

pub use config::{ConfigError, GwConfig};

use crate::diameter::DiameterNode;
use crate::or_pending;
use crate::pmip_raw::{raw_peer, RawTransport};
use crate::pmip_tunnel::{self, data_peer, Routes};

/// Starting the gateway failed.
#[derive(Debug, thiserror::Error)]
pub enum GwError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("store: {0}")]
    Store(#[from] mobstrap_store::Error),
    #[error("socket {addr}: {err}")]
    Socket {
        addr: SocketAddr,
        err: std::io::Error,
    },
    #[error("diameter: {0}")]
    Diameter(String),
    #[error("tun: {0}")]
    Tun(std::io::Error),
    #[error("pmip.ipv6_mh {addr}: raw IPv6 sockets: {err}")]
    Raw {
        addr: std::net::Ipv6Addr,
        err: std::io::Error,
    },
}

const V4_POOL: &str = "gw.ipv4";
const V6_POOL: &str = "gw.ipv6";

/// The owner string of a mobility session in the pools.
pub fn owner(key: &MnKey) -> String {
    format!("{}/{}", key.nai, key.apn)
}

struct S6b {
    node: DiameterNode,
    realm: String,
    host: Option<String>,
    required: bool,
    address: Option<IpAddr>,
    next: std::sync::atomic::AtomicU64,
}

struct Ctx {
    store: Store,
    pools: config::Pools,
    s6b: Option<S6b>,
    name: String,
}

struct Done {
    id: u64,
    key: MnKey,
    result: Result<Allocation, u8>,
    session: Option<String>,
}

/// A running gateway.
pub struct GwNode {
    signalling: SocketAddr,
    data: Option<SocketAddr>,
    store: Store,
    bindings: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    diameter: Option<DiameterNode>,
}

impl GwNode {
    /// Opens the store, binds the sockets, connects the Diameter node, starts the task.
    pub async fn start(config: GwConfig) -> Result<GwNode, GwError> {
        config.validate()?;
        let pools = config.pools()?;
        let store = Store::open(&config.store.url).await?;
        let purged = store.pool_purge_expired(mobstrap_store::unix_now()).await?;
        if purged > 0 {
            tracing::info!(purged, "expired pool allocations released");
        }
        let sock = crate::pmip_tunnel::bind_signalling(config.pmip.listen).map_err(|err| {
            GwError::Socket {
                addr: config.pmip.listen,
                err,
            }
        })?;
        let signalling = sock.local_addr().map_err(|err| GwError::Socket {
            addr: config.pmip.listen,
            err,
        })?;
        let data_sock = match config.pmip.data_listen {
            Some(a) => Some(
                UdpSocket::bind(a)
                    .await
                    .map_err(|err| GwError::Socket { addr: a, err })?,
            ),
            None => None,
        };
        let data = data_sock.as_ref().and_then(|s| s.local_addr().ok());
        let raw = match config.pmip.ipv6_mh {
            Some(a) => Some(Arc::new(
                RawTransport::open(a).map_err(|err| GwError::Raw { addr: a, err })?,
            )),
            None => None,
        };
        let address = config
            .pmip
            .address
            .or_else(|| (!signalling.ip().is_unspecified()).then_some(signalling.ip()));
        let s6b = match (&config.s6b, &config.diameter) {
            (Some(s), Some(d)) => {
                let node = DiameterNode::builder(d.clone())
                    .client_application(app::S6B, Some(10415))
                    .start()
                    .await
                    .map_err(|e| GwError::Diameter(e.to_string()))?;
                Some(S6b {
                    node,
                    realm: s.destination_realm.clone(),
                    host: s.destination_host.clone(),
                    required: s.required,
                    address,
                    next: std::sync::atomic::AtomicU64::new(1),
                })
            }
            _ => None,
        };
        let diameter = s6b.as_ref().map(|s| s.node.clone());
        let tun = match &config.tun {
            Some(t) => Some(open_tun(t).map_err(GwError::Tun)?),
            None => None,
        };
        let lma = Lma::new(
            LmaConfig {
                max_lifetime: config.pmip.max_lifetime,
                timestamp_window: config.timestamp_window(),
                require_timestamp: config.pmip.require_timestamp,
                allowed_mags: (!config.pmip.allowed_mags.is_empty())
                    .then(|| config.pmip.allowed_mags.clone()),
                relay: config.roaming.as_ref().map(|r| MagConfig {
                    initial_timeout: Duration::from_millis(r.initial_timeout_ms),
                    max_transmissions: r.max_transmissions,
                    lifetime: r.lifetime,
                    ..MagConfig::default()
                }),
                relay_port: config.roaming.as_ref().map_or(5436, |r| r.home_port),
                max_bindings: config.pmip.max_bindings,
            },
            Instant::now(),
            SystemTime::now(),
            rand::random(),
        );
        let ctx = Arc::new(Ctx {
            store: store.clone(),
            pools,
            s6b,
            name: config.node.name.clone(),
        });
        let bindings = Arc::new(AtomicUsize::new(0));
        let (stop_tx, stop_rx) = oneshot::channel();
        let driver = Driver {
            lma,
            sock: Arc::new(sock),
            data: data_sock.map(Arc::new),
            raw,
            tun,
            local: address.unwrap_or(signalling.ip()),
            ctx,
            routes: Routes::new(),
            upstream: Routes::new(),
            sessions: HashMap::new(),
            bindings: bindings.clone(),
        };
        let task = tokio::spawn(driver.run(stop_rx));
        tracing::info!(%signalling, data = ?data, ipv6_mh = ?config.pmip.ipv6_mh,
            name = %config.node.name, "gw started");
        Ok(GwNode {
            signalling,
            data,
            store,
            bindings,
            stop: Some(stop_tx),
            task: Some(task),
            diameter,
        })
    }

    /// The signalling socket's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.signalling
    }

    /// The user-plane socket's address.
    pub fn data_addr(&self) -> Option<SocketAddr> {
        self.data
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The Diameter node of S6b.
    pub fn diameter(&self) -> Option<&DiameterNode> {
        self.diameter.as_ref()
    }

    /// Bindings in the cache.
    pub fn bindings(&self) -> usize {
        self.bindings.load(Ordering::Relaxed)
    }

    /// Stops the task (bindings stay in the pools until they expire or are refreshed).
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        if let Some(d) = self.diameter.take() {
            d.shutdown(Duration::from_secs(2)).await;
        }
    }
}

impl Drop for GwNode {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

fn open_tun(t: &config::TunSection) -> std::io::Result<tun_rs::AsyncDevice> {
    let mut b = tun_rs::DeviceBuilder::new()
        .mtu(t.mtu)
        .packet_information(false);
    if let Some(n) = &t.name {
        b = b.name(n.clone());
    }
    let dev = b.build_async()?;
    for a in &t.addresses {
        match config::parse_cidr(a) {
            Ok((IpAddr::V4(v4), l)) => dev.add_address_v4(v4, l)?,
            Ok((IpAddr::V6(v6), l)) => dev.add_address_v6(v6, l)?,
            Err(e) => return Err(std::io::Error::other(e)),
        }
    }
    dev.enabled(true)?;
    Ok(dev)
}

struct Driver {
    lma: Lma,
    sock: Arc<UdpSocket>,
    data: Option<Arc<UdpSocket>>,
    /// PMIPv6 over IPv6: MAGs addressed as `[address]:0` ([`crate::pmip_raw`]).
    raw: Option<Arc<RawTransport>>,
    tun: Option<tun_rs::AsyncDevice>,
    local: IpAddr,
    ctx: Arc<Ctx>,
    /// home address/prefix → the MAG's user-plane address
    routes: Routes,
    /// relay bindings: home address/prefix → the home gateway's user-plane address
    upstream: Routes,
    sessions: HashMap<MnKey, String>,
    bindings: Arc<AtomicUsize>,
}

impl Driver {
    /// The message tap (`crate::trace`) on the signalling socket.
    fn tap(&self, dir: crate::trace::Direction, peer: SocketAddr, b: &[u8]) {
        if crate::trace::enabled() {
            if let Ok(l) = self.sock.local_addr() {
                crate::trace::udp(&self.ctx.name, dir, l, peer, b);
            }
        }
    }

    async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        let (done_tx, mut done_rx) = mpsc::channel::<Done>(4096);
        let mut buf = vec![0u8; 65536];
        let mut dbuf = vec![0u8; 65536];
        let mut tbuf = vec![0u8; 65536];
        let mut rbuf = vec![0u8; 65536];
        let mut rdbuf = vec![0u8; 65536];
        loop {
            let raw = self.raw.clone();
            let raw_mh = or_pending(raw.as_ref().map(|r| r.recv_mh(&mut rbuf)));
            let raw_data = or_pending(raw.as_ref().map(|r| r.recv_data(&mut rdbuf)));
            let sleep = or_pending(
                self.lma
                    .poll_timeout()
                    .map(|d| tokio::time::sleep_until(d.into())),
            );
            let data = self.data.clone();
            let data_recv = or_pending(data.as_ref().map(|s| s.recv_from(&mut dbuf)));
            let tun_recv = or_pending(self.tun.as_ref().map(|t| t.recv(&mut tbuf)));
            tokio::select! {
                _ = &mut stop => break,
                r = self.sock.recv_from(&mut buf) => match r {
                    Ok((n, peer)) => {
                        self.tap(crate::trace::Direction::Received, peer, &buf[..n]);
                        self.signalling(&buf[..n], peer)
                    }
                    Err(e) => tracing::warn!(error = %e, "signalling socket"),
                },
                r = raw_mh => match r {
                    Ok((n, from)) => self.signalling_mh(&rbuf[..n], from),
                    Err(e) => tracing::warn!(error = %e, "raw Mobility Header socket"),
                },
                r = raw_data => {
                    if let Ok((n, from)) = r {
                        let pkt = rdbuf[..n].to_vec();
                        self.on_tunnel_packet(&pkt, crate::pmip_raw::peer(from)).await;
                    }
                }
                Some(d) = done_rx.recv() => {
                    if let Some(sid) = d.session {
                        self.sessions.insert(d.key, sid);
                    }
                    self.lma.complete(d.id, d.result, Instant::now());
                }
                _ = sleep => self.lma.handle_timeout(Instant::now()),
                r = data_recv => {
                    if let Ok((n, peer)) = r {
                        let pkt = dbuf[..n].to_vec();
                        self.on_tunnel_packet(&pkt, peer).await;
                    }
                }
                r = tun_recv => {
                    if let Ok(n) = r {
                        let pkt = tbuf[..n].to_vec();
                        self.on_tun_packet(&pkt).await;
                    }
                }
            }
            self.flush(&done_tx).await;
        }
    }

    fn signalling(&mut self, payload: &[u8], peer: SocketAddr) {
        let mh = match pmip_tunnel::unwrap_signalling(payload) {
            Ok(m) => m,
            Err(e) => {
                metrics::counter!("gw_pmip_malformed_total").increment(1);
                tracing::info!(%peer, error = %e, "PMIPv6 signalling dropped");
                return;
            }
        };
        self.mobility_header(peer, mh);
    }

    /// A Mobility Header from a MAG (or a home gateway's PBA), over either transport.
    fn mobility_header(&mut self, peer: SocketAddr, mh: &[u8]) {
        if let Err(e) = self.lma.handle(peer, mh, Instant::now()) {
            metrics::counter!("gw_pmip_malformed_total").increment(1);
            tracing::info!(%peer, error = %e, "PMIPv6 message ignored");
        }
    }

    /// A Mobility Header over IPv6 (its checksum checked by the kernel). Only PBUs: a PBA
    /// here is a MAG's on this same address.
    fn signalling_mh(&mut self, mh: &[u8], from: std::net::Ipv6Addr) {
        if crate::pmip_raw::mh_type(mh) != Some(crate::pmip_raw::MH_PBU) {
            tracing::debug!(%from, "raw Mobility Header other than a PBU: not for the LMA");
            return;
        }
        self.mobility_header(crate::pmip_raw::peer(from), mh);
    }

    /// Sends a mobile node's packet to a tunnel peer: UDP, or IP-in-IPv6 to a port-0 peer;
    /// whether it went out.
    async fn tunnel_send(&self, pkt: &[u8], to: SocketAddr) -> bool {
        match (raw_peer(to), &self.raw, &self.data) {
            (Some(a), Some(r), _) => r.send_data(pkt, a).await.is_ok(),
            (None, _, Some(d)) => d.send_to(pkt, to).await.is_ok(),
            _ => false,
        }
    }

    /// Counts a user packet: forwarded in direction `dir`, or dropped.
    fn count(sent: bool, dir: &'static str) {
        if sent {
            metrics::counter!("gw_tunnel_packets_total", "dir" => dir).increment(1);
        } else {
            metrics::counter!("gw_tunnel_dropped_total").increment(1);
        }
    }

    async fn flush(&mut self, done: &mpsc::Sender<Done>) {
        // The count first: a peer that has our PBA must see the binding counted.
        self.bindings.store(self.lma.len(), Ordering::Relaxed);
        while let Some(t) = self.lma.poll_transmit() {
            if let (Some(to), Some(raw)) = (raw_peer(t.peer), &self.raw) {
                if let Err(e) = raw.send_mh(&t.mh, to).await {
                    tracing::warn!(peer = %t.peer, error = %e, "send (raw IPv6)");
                }
                continue;
            }
            match pmip_tunnel::wrap_signalling(self.local, t.peer.ip(), &t.mh) {
                Ok(b) => {
                    self.tap(crate::trace::Direction::Sent, t.peer, &b);
                    if let Err(e) = self.sock.send_to(&b, t.peer).await {
                        tracing::warn!(peer = %t.peer, error = %e, "send");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "PBA/PBU not encodable"),
            }
        }
        while let Some(e) = self.lma.poll_event() {
            self.event(e, done);
        }
        self.bindings.store(self.lma.len(), Ordering::Relaxed);
        metrics::gauge!("gw_bindings").set(self.lma.len() as f64);
    }

    fn event(&mut self, e: LmaEvent, done: &mpsc::Sender<Done>) {
        match e {
            LmaEvent::Authorize(a) => {
                let ctx = self.ctx.clone();
                let done = done.clone();
                tokio::spawn(async move {
                    let key = a.key.clone();
                    let id = a.id;
                    let (result, session) = authorize(&ctx, a).await;
                    let _ = done
                        .send(Done {
                            id,
                            key,
                            result,
                            session,
                        })
                        .await;
                });
            }
            LmaEvent::Registered {
                key,
                mag,
                allocation,
                lifetime,
                relayed_to,
            } => {
                metrics::counter!("gw_pbu_total", "result" => "registered").increment(1);
                let v4 = allocation.v4.map(|v| v.0);
                let v6 = allocation.hnp.map(|p| p.0);
                self.routes.add(v4, v6, data_peer(mag));
                if let Some(h) = relayed_to {
                    self.upstream.add(v4, v6, data_peer(h));
                }
                tracing::info!(mn = %key, %mag, ?v4, ?v6, lifetime, relayed_to = ?relayed_to, "binding registered");
            }
            LmaEvent::Refreshed { key, lifetime, .. } => {
                metrics::counter!("gw_pbu_total", "result" => "refreshed").increment(1);
                let ctx = self.ctx.clone();
                tokio::spawn(async move {
                    let exp = mobstrap_store::unix_now() + lifetime as i64 + 60;
                    let o = owner(&key);
                    for pool in [V4_POOL, V6_POOL] {
                        let _ = ctx.store.pool_touch(pool, &o, exp).await;
                    }
                });
            }
            LmaEvent::Removed {
                key,
                allocation,
                reason,
                relayed_to,
                ..
            } => {
                let v4 = allocation.v4.map(|v| v.0);
                let v6 = allocation.hnp.map(|p| p.0);
                if reason != RemoveReason::Cancelled {
                    self.routes.remove(v4, v6);
                    self.upstream.remove(v4, v6);
                }
                metrics::counter!("gw_bindings_removed_total", "reason" => reason_name(reason))
                    .increment(1);
                tracing::info!(mn = %key, reason = reason_name(reason), "binding removed");
                let session = self.sessions.remove(&key);
                if relayed_to.is_none() {
                    let ctx = self.ctx.clone();
                    tokio::spawn(async move {
                        release(&ctx, &key, session).await;
                    });
                }
            }
            LmaEvent::Refused { key, status: st } => {
                metrics::counter!("gw_pbu_total", "result" => "refused").increment(1);
                tracing::info!(mn = ?key.map(|k| k.to_string()), status = st, name = status::name(st), "PBU refused");
            }
        }
    }

    /// A packet from a MAG (or, for relay bindings, from the home gateway).
    async fn on_tunnel_packet(&mut self, pkt: &[u8], peer: SocketAddr) {
        let Ok((src, dst)) = pmip_tunnel::check_data(pkt) else {
            metrics::counter!("gw_tunnel_dropped_total").increment(1);
            return;
        };
        if self.routes.lookup(src) == Some(peer) {
            let sent = if let Some(h) = self.upstream.lookup(src) {
                self.tunnel_send(pkt, h).await
            } else if let Some(t) = &self.tun {
                t.send(pkt).await.is_ok()
            } else {
                false
            };
            Self::count(sent, "up");
        } else if self.upstream.lookup(dst) == Some(peer) {
            if let Some(m) = self.routes.lookup(dst) {
                let sent = self.tunnel_send(pkt, m).await;
                Self::count(sent, "down");
            }
        } else {
            metrics::counter!("gw_tunnel_dropped_total").increment(1);
        }
    }

    /// A packet from the TUN device toward a mobile node.
    async fn on_tun_packet(&mut self, pkt: &[u8]) {
        let Some((_, dst)) = pmip_tunnel::ip_endpoints(pkt) else {
            return;
        };
        if let Some(m) = self.routes.lookup(dst) {
            let sent = self.tunnel_send(pkt, m).await;
            Self::count(sent, "down");
        }
    }
}

fn reason_name(r: RemoveReason) -> &'static str {
    match r {
        RemoveReason::Deregistered => "deregistered",
        RemoveReason::Expired => "expired",
        RemoveReason::UpstreamLost => "upstream_lost",
        RemoveReason::Cancelled => "cancelled",
    }
}

/// S6b then the pools. Returns the allocation or the PBA status, and the S6b session.
async fn authorize(ctx: &Ctx, a: Authorize) -> (Result<Allocation, u8>, Option<String>) {
    let mut session = None;
    if let Some(s6b) = &ctx.s6b {
        match s6b_aar(s6b, &ctx.name, &a.key).await {
            Ok(sid) => session = Some(sid),
            Err(st) => return (Err(st), None),
        }
    }
    let r = allocate(ctx, &a).await;
    if r.is_err() {
        if let (Some(s6b), Some(sid)) = (&ctx.s6b, session.take()) {
            s6b_str(s6b, &sid).await;
        }
    }
    (r, session)
}

async fn allocate(ctx: &Ctx, a: &Authorize) -> Result<Allocation, u8> {
    let o = owner(&a.key);
    let exp = mobstrap_store::unix_now() + a.lifetime as i64 + 60;
    let v6_ok = a.want_v6 && ctx.pools.v6.is_some();
    let v4_ok = a.want_v4 && ctx.pools.v4.is_some();
    if !v6_ok && !v4_ok {
        return Err(if a.want_v4 && !a.want_v6 {
            status::NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE
        } else {
            status::NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE
        });
    }
    let mut out = Allocation {
        v4_router: ctx.pools.v4_router,
        ..Allocation::default()
    };
    if let (true, Some(spec)) = (v6_ok, &ctx.pools.v6) {
        let slot = take(ctx, V6_POOL, spec, &o, exp).await?;
        if let Some((IpAddr::V6(p), l)) = spec.slot(slot) {
            out.hnp = Some((p, l));
        }
        if let Some(h) = a.hnp_hint {
            if Some(h) != out.hnp {
                let _ = ctx.store.pool_release(V6_POOL, &o).await;
                return Err(status::NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX);
            }
        }
    }
    if let (true, Some(spec)) = (v4_ok, &ctx.pools.v4) {
        let r = take(ctx, V4_POOL, spec, &o, exp).await;
        let slot = match r {
            Ok(s) => s,
            Err(st) => {
                if out.hnp.is_some() {
                    let _ = ctx.store.pool_release(V6_POOL, &o).await;
                }
                return Err(st);
            }
        };
        if let Some((IpAddr::V4(v), l)) = spec.slot(slot) {
            out.v4 = Some((v, l));
        }
        if let Some(h) = a.v4_hint {
            if Some(h) != out.v4.map(|v| v.0) {
                for p in [V4_POOL, V6_POOL] {
                    let _ = ctx.store.pool_release(p, &o).await;
                }
                return Err(status::NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS);
            }
        }
    }
    metrics::counter!("gw_pool_allocations_total").increment(1);
    Ok(out)
}

async fn take(ctx: &Ctx, pool: &str, spec: &PoolSpec, owner: &str, exp: i64) -> Result<u64, u8> {
    match ctx.store.pool_allocate(pool, spec.size(), owner, exp).await {
        Ok(s) => Ok(s),
        Err(mobstrap_store::Error::PoolExhausted { .. }) => {
            metrics::counter!("gw_pool_exhausted_total", "pool" => pool.to_string()).increment(1);
            tracing::warn!(pool, "address pool exhausted");
            Err(status::INSUFFICIENT_RESOURCES)
        }
        Err(e) => {
            tracing::error!(pool, error = %e, "pool allocation failed");
            Err(status::INSUFFICIENT_RESOURCES)
        }
    }
}

async fn release(ctx: &Ctx, key: &MnKey, session: Option<String>) {
    let o = owner(key);
    for pool in [V4_POOL, V6_POOL] {
        if let Err(e) = ctx.store.pool_release(pool, &o).await {
            tracing::error!(pool, error = %e, "pool release failed");
        }
    }
    if let (Some(s6b), Some(sid)) = (&ctx.s6b, session) {
        s6b_str(s6b, &sid).await;
    }
}

/// S6b AAR (AUTHORIZE_ONLY); the Session-Id on success, the PBA status on refusal.
async fn s6b_aar(s: &S6b, name: &str, key: &MnKey) -> Result<String, u8> {
    let n = s.next.fetch_add(1, Ordering::Relaxed);
    let ident = s.node.identity().origin_host.clone();
    let sid = format!("{ident};{name};{n}");
    let mut r = s.node.new_request(commands::AA, app::S6B);
    r.avps.insert(0, A::utf8(&dict::SESSION_ID, &sid));
    r.push(A::u32(&dict::AUTH_APPLICATION_ID, app::S6B));
    r.push(A::utf8(&dict::DESTINATION_REALM, &s.realm));
    if let Some(h) = &s.host {
        r.push(A::utf8(&dict::DESTINATION_HOST, h));
    }
    r.push(A::enumerated(&dict::AUTH_REQUEST_TYPE_AVP, 2));
    r.push(A::utf8(&dict::USER_NAME, &key.nai));
    if !key.apn.is_empty() {
        r.push(A::utf8(&dict::SERVICE_SELECTION, &key.apn));
    }
    if let Some(addr) = s.address {
        r.push(A::grouped(
            &dict::MIP6_AGENT_INFO,
            vec![A::ip(&dict::MIP_HOME_AGENT_ADDRESS, addr)],
        ));
    }
    let Ok(bytes) = r.to_vec() else {
        return Err(status::REASON_UNSPECIFIED);
    };
    let t0 = Instant::now();
    let ans = s.node.request(bytes).await;
    metrics::histogram!("gw_s6b_seconds").record(t0.elapsed().as_secs_f64());
    match ans {
        Ok(a) => {
            let m = match Message::parse(a.bytes()) {
                Ok(m) => m,
                Err(_) => return Err(status::REASON_UNSPECIFIED),
            };
            match (m.result_code(), m.experimental_result()) {
                (Some(2001), _) => Ok(sid),
                (_, Some((_, 5451))) => {
                    tracing::info!(mn = %key, "S6b: APN not allowed (5451)");
                    Err(status::SERVICE_AUTHORIZATION_FAILED)
                }
                (rc, er) => {
                    tracing::info!(mn = %key, ?rc, ?er, "S6b refused");
                    Err(status::ADMINISTRATIVELY_PROHIBITED)
                }
            }
        }
        Err(e) if s.required => {
            tracing::warn!(mn = %key, error = %e, "S6b AAR failed");
            Err(status::ADMINISTRATIVELY_PROHIBITED)
        }
        Err(e) => {
            tracing::warn!(mn = %key, error = %e, "S6b AAR failed; registering anyway");
            Ok(String::new())
        }
    }
}

async fn s6b_str(s: &S6b, sid: &str) {
    if sid.is_empty() {
        return;
    }
    let mut r = s.node.new_request(commands::SESSION_TERMINATION, app::S6B);
    r.avps.insert(0, A::utf8(&dict::SESSION_ID, sid));
    r.push(A::utf8(&dict::DESTINATION_REALM, &s.realm));
    if let Some(h) = &s.host {
        r.push(A::utf8(&dict::DESTINATION_HOST, h));
    }
    r.push(A::u32(&dict::AUTH_APPLICATION_ID, app::S6B));
    r.push(A::enumerated(&dict::TERMINATION_CAUSE_AVP, 1));
    if let Ok(b) = r.to_vec() {
        if let Err(e) = s.node.request(b).await {
            tracing::warn!(session = sid, error = %e, "S6b STR failed");
        }
    }
}
