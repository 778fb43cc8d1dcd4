//! # The Diameter node: transport, peers, routing, proxying and the client API
//!
//! A [`DiameterNode`] listens on TCP (and connects to the peers it is told to), runs one
//! `mobstrap_proto::diameter::Connection` engine per transport connection on its own tokio
//! task, keeps the peer table (who may connect, Tc reconnects, elections), routes every
//! request (local [`Application`], another peer as relay or proxy with [`ProxyHook`]s, or an
//! error answer), and offers [`DiameterNode::request`] to the ePDG, the gateways and proxies.
//!
//! Protocol behaviour lives in the engines; this room moves bytes, arms timers, logs
//! (`tracing`) and counts (`metrics`). SCTP is not supported (the target kernels have none).
//!
//! Metrics: `diameter_requests_total{direction,command}`,
//! `diameter_answers_total{direction,command,result}`, `diameter_rejected_total{result}`,
//! `diameter_peer_up{peer}` (1 open and usable, 0 otherwise),
//! `diameter_peer_events_total{peer,event}`.

mod app;
pub mod config;
mod conn;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use mobstrap_proto::diameter::peers::{ConnId, PeerSlot};
use mobstrap_proto::diameter::{
    AllowRule, AppSet, ConnectionConfig, Decision, DisconnectCause, DuplicateCache, LocalIdentity,
    PeerConfig, PeerTable, PeerView, Route, RouteAction, RouteTable, VendorApp,
};
use mobstrap_wire::diameter::{dict, AvpRepr, Message, MessageRepr};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Notify};

pub use app::{Answer, Application, ProxyHook, Reply, Request, RequestError, Responder};
pub use config::{ConfigError, DiameterConfig};
use conn::{Cmd, Waiter};

/// Starting a node failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("diameter: cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// An open (or opening) connection as the rest of the node sees it.
#[derive(Clone)]
pub(crate) struct ConnHandle {
    pub id: ConnId,
    pub tx: mpsc::UnboundedSender<Cmd>,
    pub common: Arc<AppSet>,
    pub usable: Arc<AtomicBool>,
}

pub(crate) struct PeerState {
    pub table: PeerTable,
    /// Open connections by lower-case peer identity.
    pub open: HashMap<String, ConnHandle>,
    /// Every live connection task.
    pub live: HashMap<ConnId, mpsc::UnboundedSender<Cmd>>,
}

impl PeerView for PeerState {
    fn usable(&self, host: &str, app: u32) -> bool {
        self.open
            .get(&host.to_ascii_lowercase())
            .is_some_and(|h| h.usable.load(Ordering::Relaxed) && h.common.contains(app))
    }
}

pub(crate) struct Inner {
    pub identity: Arc<LocalIdentity>,
    pub conn_cfg: ConnectionConfig,
    pub peer_tw: HashMap<String, Duration>,
    pub addresses: HashMap<String, SocketAddr>,
    pub max_message_size: usize,
    pub local_apps: AppSet,
    pub apps: HashMap<u32, Arc<dyn Application>>,
    pub hooks: HashMap<u32, Arc<dyn ProxyHook>>,
    pub routes: RouteTable,
    pub peers: Mutex<PeerState>,
    pub dup: Mutex<DuplicateCache<Bytes>>,
    pub dup_enabled: bool,
    pub e2e: AtomicU32,
    pub wake: Notify,
    pub closed: Notify,
    pub shutting_down: AtomicBool,
}

impl Inner {
    pub fn peers(&self) -> MutexGuard<'_, PeerState> {
        // A panic elsewhere never leaves the table half-updated in a way that matters more
        // than stopping the node would.
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn dup(&self) -> MutexGuard<'_, DuplicateCache<Bytes>> {
        self.dup.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn seed() -> u64 {
        rand::random()
    }
    pub fn dup_enabled(&self) -> bool {
        self.dup_enabled
    }

    /// Routes `req` (received from `from`, or originated here) and gives the next hop.
    pub fn route(
        &self,
        req: &Message<'_>,
        from: Option<&str>,
    ) -> Result<RouteTo, mobstrap_proto::diameter::Rejection> {
        // The peer table is locked only when the decision involves a peer.
        struct Lazy<'a>(&'a Inner);
        impl PeerView for Lazy<'_> {
            fn usable(&self, host: &str, app: u32) -> bool {
                self.0.peers().usable(host, app)
            }
        }
        match self.routes.route(req, &self.local_apps, from, &Lazy(self)) {
            Decision::Local => Ok(RouteTo::Local),
            Decision::Forward { peer, proxy } => {
                match self.peers().open.get(&peer.to_ascii_lowercase()) {
                    Some(h) => Ok(RouteTo::Peer {
                        tx: h.tx.clone(),
                        proxy,
                    }),
                    None => Err(mobstrap_proto::diameter::Rejection::new(
                        mobstrap_proto::diameter::rc::UNABLE_TO_DELIVER,
                        "next hop went away",
                    )),
                }
            }
            Decision::Reject(r) => Err(r),
        }
    }
}

pub(crate) enum RouteTo {
    Local,
    Peer {
        tx: mpsc::UnboundedSender<Cmd>,
        proxy: bool,
    },
}

/// One peer as [`DiameterNode::peers`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub host: String,
    pub open: bool,
    pub usable: bool,
    pub connecting: bool,
}

/// Builds a [`DiameterNode`]: register applications and proxy hooks, then start.
pub struct Builder {
    config: DiameterConfig,
    apps: Vec<(u32, Option<u32>, Arc<dyn Application>)>,
    client_apps: Vec<(u32, Option<u32>)>,
    hooks: Vec<(u32, Arc<dyn ProxyHook>)>,
}

impl Builder {
    /// Serves application `app_id` locally (advertised as Auth-Application-Id, or inside
    /// Vendor-Specific-Application-Id when `vendor` is given).
    pub fn application(
        mut self,
        app_id: u32,
        vendor: Option<u32>,
        app: Arc<dyn Application>,
    ) -> Self {
        self.apps.push((app_id, vendor, app));
        self
    }
    /// Advertises application `app_id` that this node only sends requests of (a client such
    /// as the ePDG on SWm), so that peers accept it in the capabilities exchange.
    pub fn client_application(mut self, app_id: u32, vendor: Option<u32>) -> Self {
        self.client_apps.push((app_id, vendor));
        self
    }
    /// Rewrites requests and answers of `app_id` that `proxy` routes forward.
    pub fn proxy_hook(mut self, app_id: u32, hook: Arc<dyn ProxyHook>) -> Self {
        self.hooks.push((app_id, hook));
        self
    }

    /// Binds the listeners and starts connecting to peers.
    pub async fn start(self) -> Result<DiameterNode, NodeError> {
        let c = self.config;
        c.validate()?;
        let now = Instant::now();
        let mut id = LocalIdentity::new(&c.origin_host, &c.origin_realm);
        id.host_ip_addresses = c.host_ip_addresses.clone();
        id.vendor_id = c.vendor_id;
        id.product_name = c.product_name.clone();
        id.firmware_revision = c.firmware_revision;
        id.origin_state_id = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(1);
        id.supported_vendor_ids = c.supported_vendor_ids.clone();
        let mut auth: Vec<u32> = c.auth_applications.clone();
        let mut vendor_apps: Vec<VendorApp> = Vec::new();
        for v in &c.vendor_specific_applications {
            if let Some(a) = v.auth {
                vendor_apps.push(VendorApp {
                    vendor_id: v.vendor,
                    app_id: a,
                    acct: false,
                });
            }
            if let Some(a) = v.acct {
                vendor_apps.push(VendorApp {
                    vendor_id: v.vendor,
                    app_id: a,
                    acct: true,
                });
            }
        }
        let mut local_apps = AppSet::default();
        let mut apps = HashMap::new();
        for (a, vendor, h) in self.apps {
            local_apps.insert(a);
            apps.insert(a, h);
            match vendor {
                Some(v) => {
                    if !vendor_apps.iter().any(|x| x.app_id == a) {
                        vendor_apps.push(VendorApp {
                            vendor_id: v,
                            app_id: a,
                            acct: false,
                        });
                    }
                    if !id.supported_vendor_ids.contains(&v) {
                        id.supported_vendor_ids.push(v);
                    }
                }
                None => auth.push(a),
            }
        }
        for (a, vendor) in self.client_apps {
            match vendor {
                Some(v) => {
                    if !vendor_apps.iter().any(|x| x.app_id == a) {
                        vendor_apps.push(VendorApp {
                            vendor_id: v,
                            app_id: a,
                            acct: false,
                        });
                    }
                    if !id.supported_vendor_ids.contains(&v) {
                        id.supported_vendor_ids.push(v);
                    }
                }
                None => auth.push(a),
            }
        }
        let hooks: HashMap<u32, Arc<dyn ProxyHook>> = self.hooks.into_iter().collect();
        let mut routes = RouteTable::new(&c.origin_host, &c.origin_realm);
        let to_action = |t: &config::RouteTarget| match t.action {
            config::RouteKind::Local => RouteAction::Local,
            config::RouteKind::Relay => RouteAction::Relay(t.peers.clone()),
            config::RouteKind::Proxy => RouteAction::Proxy(t.peers.clone()),
        };
        for r in &c.routes {
            routes.routes.push(Route {
                realm: r.realm.clone(),
                app: r.application,
                action: to_action(&r.target),
            });
            // A node forwarding an application advertises it, or peers would not send it.
            if let Some(a) = r.application {
                if !local_apps.contains(a) && !vendor_apps.iter().any(|x| x.app_id == a) {
                    auth.push(a);
                }
            }
        }
        routes.default = c.default_route.as_ref().map(to_action);
        for &a in hooks.keys() {
            if !vendor_apps.iter().any(|x| x.app_id == a) {
                auth.push(a);
            }
        }
        if c.relay {
            auth.push(mobstrap_wire::diameter::app::RELAY);
        }
        auth.sort_unstable();
        auth.dedup();
        auth.retain(|a| !vendor_apps.iter().any(|x| x.app_id == *a));
        id.auth_apps = auth;
        id.acct_apps = c.acct_applications.clone();
        id.vendor_apps = vendor_apps;

        let peers: Vec<PeerConfig> = c
            .peers
            .iter()
            .map(|p| PeerConfig {
                host: p.host.clone(),
                realm: p.realm.clone(),
                connect: p.connect.is_some(),
                tc: p.tc.unwrap_or(c.tc),
            })
            .collect();
        let allow = c
            .allow
            .iter()
            .map(|a| AllowRule {
                host: a.host.clone(),
                realm: a.realm.clone(),
            })
            .collect();
        let mut table = PeerTable::new(&c.origin_host, peers, allow, now);
        table.reboot_hold = c.reboot_hold;
        table.dpr_hold = c.dpr_hold;

        let mut listeners = Vec::new();
        for &addr in &c.listen {
            let l = TcpListener::bind(addr)
                .await
                .map_err(|source| NodeError::Listen { addr, source })?;
            listeners.push(l);
        }
        let local_addrs = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect();
        let inner = Arc::new(Inner {
            identity: Arc::new(id),
            conn_cfg: ConnectionConfig {
                tw: c.tw,
                jitter: c.tw_jitter,
                ce_timeout: c.ce_timeout,
                dpa_timeout: c.dpa_timeout,
                request_timeout: c.request_timeout,
                reopen_dwa: c.reopen_dwa,
            },
            peer_tw: c
                .peers
                .iter()
                .filter_map(|p| p.tw.map(|t| (p.host.to_ascii_lowercase(), t)))
                .collect(),
            addresses: c
                .peers
                .iter()
                .filter_map(|p| p.connect.map(|a| (p.host.to_ascii_lowercase(), a)))
                .collect(),
            max_message_size: c.max_message_size,
            local_apps,
            apps,
            hooks,
            routes,
            peers: Mutex::new(PeerState {
                table,
                open: HashMap::new(),
                live: HashMap::new(),
            }),
            dup: Mutex::new(DuplicateCache::new(
                c.duplicate_window,
                c.duplicate_capacity,
            )),
            dup_enabled: c.duplicate_capacity > 0,
            e2e: AtomicU32::new(initial_e2e()),
            wake: Notify::new(),
            closed: Notify::new(),
            shutting_down: AtomicBool::new(false),
        });
        for l in listeners {
            tokio::spawn(accept_loop(inner.clone(), l));
        }
        tokio::spawn(connect_manager(inner.clone()));
        if inner.dup_enabled {
            tokio::spawn(sweep_duplicates(Arc::downgrade(&inner), c.duplicate_window));
        }
        tracing::info!(
            host = %inner.identity.origin_host,
            realm = %inner.identity.origin_realm,
            "diameter node started"
        );
        Ok(DiameterNode { inner, local_addrs })
    }
}

/// RFC 6733 §3: the high 12 bits from the clock, the low 20 random.
fn initial_e2e() -> u32 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0);
    (t << 20) | (rand::random::<u32>() & 0x000f_ffff)
}

/// A running Diameter node. Cheap to clone.
#[derive(Clone)]
pub struct DiameterNode {
    inner: Arc<Inner>,
    local_addrs: Vec<SocketAddr>,
}

impl DiameterNode {
    pub fn builder(config: DiameterConfig) -> Builder {
        Builder {
            config,
            apps: Vec::new(),
            client_apps: Vec::new(),
            hooks: Vec::new(),
        }
    }

    pub fn identity(&self) -> &LocalIdentity {
        &self.inner.identity
    }

    /// The bound listening addresses (useful with port 0).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// A fresh End-to-End Identifier.
    pub fn next_end_to_end(&self) -> u32 {
        self.inner.e2e.fetch_add(1, Ordering::Relaxed)
    }

    /// A request skeleton: header with a fresh End-to-End Identifier, Origin-Host and
    /// Origin-Realm (add Session-Id first when the application has sessions: insert at 0).
    pub fn new_request(&self, command_code: u32, application_id: u32) -> MessageRepr<'_> {
        MessageRepr::request(command_code, application_id)
            .end_to_end(self.next_end_to_end())
            .with(AvpRepr::utf8(
                &dict::ORIGIN_HOST,
                &self.inner.identity.origin_host,
            ))
            .with(AvpRepr::utf8(
                &dict::ORIGIN_REALM,
                &self.inner.identity.origin_realm,
            ))
    }

    /// Sends a request (routed by Destination-Host / Destination-Realm and the routing
    /// table) and waits for its answer. Failover to another peer (T flag) is automatic.
    pub async fn request(&self, request: impl Into<Bytes>) -> Result<Answer, RequestError> {
        let bytes: Bytes = request.into();
        let m = Message::parse(&bytes).map_err(RequestError::Invalid)?;
        if !m.is_request() {
            return Err(RequestError::Invalid(mobstrap_wire::Error::bad_value(
                "diameter",
                "header.flags.R",
            )));
        }
        let tx = match self.inner.route(&m, None) {
            Ok(RouteTo::Peer { tx, .. }) => tx,
            Ok(RouteTo::Local) => {
                return Err(RequestError::NoRoute(
                    mobstrap_proto::diameter::Rejection::new(
                        mobstrap_proto::diameter::rc::UNABLE_TO_DELIVER,
                        "request routes to this node itself",
                    ),
                ))
            }
            Err(r) => return Err(RequestError::NoRoute(r)),
        };
        let command = m.header.command_code;
        let (otx, orx) = oneshot::channel();
        let waiter = Waiter::Local {
            tx: otx,
            retries: 0,
        };
        if tx.send(Cmd::Request { bytes, waiter }).is_err() {
            return Err(RequestError::NoRoute(
                mobstrap_proto::diameter::Rejection::new(
                    mobstrap_proto::diameter::rc::UNABLE_TO_DELIVER,
                    "next hop went away",
                ),
            ));
        }
        metrics::counter!("diameter_requests_total", "direction" => "out", "command" => conn::command_label(command, true)).increment(1);
        let r = orx.await.unwrap_or(Err(RequestError::Shutdown));
        if let Ok(a) = &r {
            metrics::counter!(
                "diameter_answers_total",
                "direction" => "in",
                "command" => conn::command_label(command, false),
                "result" => conn::result_label(a.result_code())
            )
            .increment(1);
        }
        r
    }

    /// The peer table: configured peers and the ones accepted by an allow rule.
    pub fn peers(&self) -> Vec<PeerInfo> {
        let p = self.inner.peers();
        p.table
            .status()
            .into_iter()
            .map(|s| {
                let h = p.open.get(&s.host.to_ascii_lowercase());
                PeerInfo {
                    open: h.is_some(),
                    usable: h.is_some_and(|h| h.usable.load(Ordering::Relaxed)),
                    connecting: matches!(s.slot, PeerSlot::Connecting(_)),
                    host: s.host,
                }
            })
            .collect()
    }

    /// Whether `host` is open and usable.
    pub fn peer_usable(&self, host: &str) -> bool {
        let p = self.inner.peers();
        p.open
            .get(&host.to_ascii_lowercase())
            .is_some_and(|h| h.usable.load(Ordering::Relaxed))
    }

    /// Waits until `host` is open and usable, at most `timeout`.
    pub async fn wait_peer(&self, host: &str, timeout: Duration) -> bool {
        let end = tokio::time::Instant::now() + timeout;
        loop {
            if self.peer_usable(host) {
                return true;
            }
            if tokio::time::Instant::now() >= end {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Sends DPR with `cause` on one peer's connection (it will not be reconnected: that
    /// was our choice).
    pub fn disconnect_peer(&self, host: &str, cause: DisconnectCause) -> bool {
        let p = self.inner.peers();
        match p.open.get(&host.to_ascii_lowercase()) {
            Some(h) => h.tx.send(Cmd::Disconnect(cause)).is_ok(),
            None => false,
        }
    }

    /// Stops reconnecting, sends DPR (REBOOTING) on every open connection and waits for
    /// them to close, at most `timeout`.
    pub async fn shutdown(&self, timeout: Duration) {
        self.inner.shutting_down.store(true, Ordering::Relaxed);
        {
            let mut p = self.inner.peers();
            p.table.stop_reconnecting();
            for tx in p.live.values() {
                let _ = tx.send(Cmd::Disconnect(DisconnectCause::Rebooting));
            }
        }
        self.inner.wake.notify_one();
        let end = tokio::time::Instant::now() + timeout;
        loop {
            if self.inner.peers().live.is_empty() {
                return;
            }
            if tokio::time::timeout_at(end, self.inner.closed.notified())
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

async fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                if inner.shutting_down.load(Ordering::Relaxed) {
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let (tx, rx) = mpsc::unbounded_channel();
                let id = {
                    let mut p = inner.peers();
                    let id = p.table.alloc_conn_id();
                    p.live.insert(id, tx.clone());
                    id
                };
                tracing::debug!(%addr, conn = id, "diameter connection accepted");
                tokio::spawn(conn::run(inner.clone(), stream, id, None, false, tx, rx));
            }
            Err(e) => {
                tracing::warn!(error = %e, "diameter accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Every half window (at least a second), drops the duplicate cache's expired answers and
/// the room they took: without requests nothing else would. Ends with the node.
async fn sweep_duplicates(inner: std::sync::Weak<Inner>, window: Duration) {
    let every = (window / 2).max(Duration::from_secs(1));
    loop {
        tokio::time::sleep(every).await;
        let Some(inner) = inner.upgrade() else { return };
        if inner.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        inner.dup().sweep(Instant::now());
    }
}

/// Opens the connections the peer table asks for, when it asks.
async fn connect_manager(inner: Arc<Inner>) {
    loop {
        let next = {
            let mut p = inner.peers();
            let now = Instant::now();
            while let Some((id, host, reopen)) = p.table.poll_connect(now) {
                let (tx, rx) = mpsc::unbounded_channel();
                p.live.insert(id, tx.clone());
                tokio::spawn(connect(inner.clone(), id, host, reopen, tx, rx));
            }
            p.table.poll_timeout()
        };
        if inner.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        match next {
            Some(t) => {
                let t = tokio::time::Instant::from_std(t);
                tokio::select! {
                    _ = tokio::time::sleep_until(t) => {}
                    _ = inner.wake.notified() => {}
                }
            }
            None => inner.wake.notified().await,
        }
    }
}

async fn connect(
    inner: Arc<Inner>,
    id: ConnId,
    host: String,
    reopen: bool,
    tx: mpsc::UnboundedSender<Cmd>,
    rx: mpsc::UnboundedReceiver<Cmd>,
) {
    let Some(&addr) = inner.addresses.get(&host.to_ascii_lowercase()) else {
        return;
    };
    match tokio::time::timeout(inner.conn_cfg.ce_timeout, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            tracing::debug!(peer = %host, %addr, conn = id, "diameter connected");
            conn::run(inner, stream, id, Some(host), reopen, tx, rx).await;
        }
        Ok(Err(e)) => connect_failed(&inner, id, &host, addr, &e.to_string()),
        Err(_) => connect_failed(&inner, id, &host, addr, "timed out"),
    }
}

fn connect_failed(inner: &Inner, id: ConnId, host: &str, addr: SocketAddr, why: &str) {
    tracing::info!(peer = %host, %addr, error = why, "diameter connect failed; retry after Tc");
    metrics::counter!("diameter_peer_events_total", "peer" => host.to_string(), "event" => "connect_failed").increment(1);
    {
        let mut p = inner.peers();
        p.live.remove(&id);
        p.table.connect_failed(id, Instant::now());
    }
    inner.wake.notify_one();
    inner.closed.notify_waiters();
}
