//! The MAG driver the ePDG embeds: one UDP socket for PMIPv6 signalling (RFC 5844 §4) and one
//! for the user plane (UDP, one port above), one task driving the [`Mag`](EngineMag) engine
//! for every mobility session (thousands of UEs, no task per UE). `attach` resolves when the
//! PBA arrives (or fails: PBA status, or no answer after the retransmissions); refreshes run
//! in the background; a binding the LMA drops is reported on the notice channel.
//!
//! User plane: [`Mag::uplink`] sends a UE's packet (from its ESP SA) to the LMA it is bound to
//! (looked up by the packet's source address); packets from the LMAs arrive on the notice
//! channel as [`MagNotice::Downlink`] (checked: the destination belongs to a binding with that
//! LMA).
//!
//! With [`Mag::bind_with`]'s IPv6 address the driver also speaks PMIPv6 over IPv6 (RFC 5213:
//! the raw Mobility Header, an IP-in-IPv6 tunnel; [`crate::pmip_raw`]) to LMAs addressed as
//! `[address]:0`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime};

use mobstrap_proto::pmip::mag::{
    AttachRequest, Binding, Failure, Mag as EngineMag, MagConfig, MagError, MagEvent,
};
use mobstrap_proto::pmip::{status, MnKey};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use crate::or_pending;
use crate::pmip_raw::{raw_peer, RawTransport};
use crate::pmip_tunnel::{self, data_peer, Routes};

/// Why an attach did not give a binding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    /// The LMA refused: the PBA status (RFC 5213 §8.9, RFC 5844).
    #[error("PBA status {0} ({name})", name = status::name(*.0))]
    Status(u8),
    /// No PBA after every retransmission.
    #[error("no answer from the LMA")]
    Timeout,
    /// Detached before the PBA.
    #[error("cancelled")]
    Cancelled,
    /// The request itself was refused (already attached, nothing requested).
    #[error("{0}")]
    Refused(String),
    /// The driver has stopped.
    #[error("MAG driver stopped")]
    Closed,
}

impl From<Failure> for AttachError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Status(s) => AttachError::Status(s),
            Failure::Timeout => AttachError::Timeout,
            Failure::Cancelled => AttachError::Cancelled,
        }
    }
}

/// What the driver reports besides attach/detach results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MagNotice {
    /// A registered binding is gone (refresh refused or unanswered): tear the UE down.
    Lost { key: MnKey, failure: Failure },
    /// A user packet from an LMA toward a UE.
    Downlink(Vec<u8>),
}

enum Cmd {
    Attach(AttachRequest, oneshot::Sender<Result<Binding, AttachError>>),
    Detach(MnKey, oneshot::Sender<Result<(), AttachError>>),
    Count(oneshot::Sender<usize>),
}

/// A running MAG driver (cheap to clone).
#[derive(Clone)]
pub struct Mag {
    tx: mpsc::Sender<Cmd>,
    local: SocketAddr,
    data: Option<Arc<UdpSocket>>,
    /// PMIPv6 over IPv6 (raw Mobility Header, IP-in-IPv6 tunnel) for LMAs addressed with
    /// port 0 ([`crate::pmip_raw`]).
    raw: Option<Arc<RawTransport>>,
    routes: Arc<RwLock<Routes>>,
}

impl Mag {
    /// Binds `listen` for signalling and, with `user_plane`, the next port for user packets,
    /// and starts the driver. `inner_address` is the Proxy-CoA of the inner IPv6 header
    /// (default: the listen address).
    pub async fn bind(
        config: MagConfig,
        listen: SocketAddr,
        user_plane: bool,
    ) -> std::io::Result<(Mag, mpsc::Receiver<MagNotice>)> {
        Mag::bind_with(config, listen, user_plane, None).await
    }

    /// [`Mag::bind`], and with `raw6` also PMIPv6 over IPv6 from that address: an LMA given
    /// as `[address]:0` in an [`AttachRequest`] is reached with the raw Mobility Header and
    /// the IPv6 tunnel ([`crate::pmip_raw`]; needs `CAP_NET_RAW`).
    pub async fn bind_with(
        config: MagConfig,
        listen: SocketAddr,
        user_plane: bool,
        raw6: Option<Ipv6Addr>,
    ) -> std::io::Result<(Mag, mpsc::Receiver<MagNotice>)> {
        let sock = crate::pmip_tunnel::bind_signalling(listen)?;
        let data = if user_plane {
            let a = sock.local_addr()?;
            Some(UdpSocket::bind(SocketAddr::new(a.ip(), a.port().wrapping_add(1))).await?)
        } else {
            None
        };
        let raw = match raw6 {
            Some(a) => Some(RawTransport::open(a).map_err(|e| {
                std::io::Error::new(e.kind(), format!("raw IPv6 PMIPv6 sockets on {a}: {e}"))
            })?),
            None => None,
        };
        Mag::start(config, sock, data, raw, user_plane)
    }

    /// Starts the driver on sockets the caller bound.
    pub fn new(
        config: MagConfig,
        socket: UdpSocket,
        data: Option<UdpSocket>,
    ) -> std::io::Result<(Mag, mpsc::Receiver<MagNotice>)> {
        let user_plane = data.is_some();
        Mag::start(config, socket, data, None, user_plane)
    }

    fn start(
        config: MagConfig,
        socket: UdpSocket,
        data: Option<UdpSocket>,
        raw: Option<RawTransport>,
        user_plane: bool,
    ) -> std::io::Result<(Mag, mpsc::Receiver<MagNotice>)> {
        let local = socket.local_addr()?;
        let (tx, rx) = mpsc::channel(1024);
        let (ntx, nrx) = mpsc::channel(4096);
        let routes = Arc::new(RwLock::new(Routes::new()));
        let data = data.map(Arc::new);
        if let Some(d) = &data {
            tokio::spawn(downlink(d.clone(), routes.clone(), ntx.clone()));
        }
        let raw = raw.map(Arc::new);
        if let (Some(r), true) = (&raw, user_plane) {
            tokio::spawn(downlink_raw(r.clone(), routes.clone(), ntx.clone()));
        }
        let driver = Driver {
            engine: EngineMag::new(config, Instant::now(), SystemTime::now(), rand::random()),
            sock: Arc::new(socket),
            raw: raw.clone(),
            local: local.ip(),
            attach: HashMap::new(),
            detach: HashMap::new(),
            notices: ntx,
            routes: routes.clone(),
        };
        tokio::spawn(driver.run(rx));
        Ok((
            Mag {
                tx,
                local,
                data,
                raw: raw.filter(|_| user_plane),
                routes,
            },
            nrx,
        ))
    }

    /// The signalling socket's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Registers a mobility session; resolves on the PBA.
    pub async fn attach(&self, req: AttachRequest) -> Result<Binding, AttachError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Attach(req, tx))
            .await
            .map_err(|_| AttachError::Closed)?;
        rx.await.map_err(|_| AttachError::Closed)?
    }

    /// De-registers (lifetime 0); resolves when the LMA answered or the retransmissions ran out.
    pub async fn detach(&self, key: MnKey) -> Result<(), AttachError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Detach(key, tx))
            .await
            .map_err(|_| AttachError::Closed)?;
        rx.await.map_err(|_| AttachError::Closed)?
    }

    /// Bindings and registrations in the list.
    pub async fn sessions(&self) -> usize {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Count(tx)).await.is_err() {
            return 0;
        }
        rx.await.unwrap_or(0)
    }

    /// Sends a UE's packet into the PMIPv6 tunnel of its binding; `false` when its source is
    /// no home address of a binding or there is no user plane.
    pub async fn uplink(&self, packet: &[u8]) -> bool {
        let Some((src, _)) = pmip_tunnel::ip_endpoints(packet) else {
            return false;
        };
        let to = match self.routes.read() {
            Ok(r) => r.lookup(src),
            Err(_) => None,
        };
        let Some(to) = to else { return false };
        match (raw_peer(to), &self.raw, &self.data) {
            (Some(a), Some(r), _) => r.send_data(packet, a).await.is_ok(),
            (None, _, Some(d)) => d.send_to(packet, to).await.is_ok(),
            _ => false,
        }
    }
}

async fn downlink(sock: Arc<UdpSocket>, routes: Arc<RwLock<Routes>>, out: mpsc::Sender<MagNotice>) {
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
            return;
        };
        if !deliver(&buf[..n], peer, &routes, &out).await {
            return;
        }
    }
}

/// Hands on a packet from tunnel peer `peer` when its destination belongs to a binding with
/// that peer (anything else is dropped); false when nobody listens any more.
async fn deliver(
    pkt: &[u8],
    peer: SocketAddr,
    routes: &RwLock<Routes>,
    out: &mpsc::Sender<MagNotice>,
) -> bool {
    let Ok((_, dst)) = pmip_tunnel::check_data(pkt) else {
        return true;
    };
    let ok = routes
        .read()
        .map(|r| r.lookup(dst) == Some(peer))
        .unwrap_or(false);
    !ok || out.send(MagNotice::Downlink(pkt.to_vec())).await.is_ok()
}

/// The user plane of the IPv6 transport: like [`downlink`], from the IP-in-IPv6 sockets.
async fn downlink_raw(
    raw: Arc<RawTransport>,
    routes: Arc<RwLock<Routes>>,
    out: mpsc::Sender<MagNotice>,
) {
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, from) = match raw.recv_data(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "MAG raw IPv6 tunnel socket");
                return;
            }
        };
        // (the route check also drops the uplink packets of a gateway on this same address)
        if !deliver(&buf[..n], crate::pmip_raw::peer(from), &routes, &out).await {
            return;
        }
    }
}

struct Driver {
    engine: EngineMag,
    sock: Arc<UdpSocket>,
    raw: Option<Arc<RawTransport>>,
    local: IpAddr,
    attach: HashMap<MnKey, oneshot::Sender<Result<Binding, AttachError>>>,
    detach: HashMap<MnKey, Vec<oneshot::Sender<Result<(), AttachError>>>>,
    notices: mpsc::Sender<MagNotice>,
    /// The home addresses' routes (taken down with the binding the engine's `Lost` /
    /// `Deregistered` event carries).
    routes: Arc<RwLock<Routes>>,
}

impl Driver {
    async fn run(mut self, mut rx: mpsc::Receiver<Cmd>) {
        let mut buf = vec![0u8; 65536];
        let mut rbuf = vec![0u8; 65536];
        loop {
            let raw = self.raw.clone();
            let raw_recv = or_pending(raw.as_ref().map(|r| r.recv_mh(&mut rbuf)));
            let sleep = or_pending(
                self.engine
                    .poll_timeout()
                    .map(|d| tokio::time::sleep_until(d.into())),
            );
            tokio::select! {
                c = rx.recv() => match c {
                    None => return,
                    Some(c) => self.command(c),
                },
                r = self.sock.recv_from(&mut buf) => match r {
                    Ok((n, peer)) => {
                        self.tap(crate::trace::Direction::Received, peer, &buf[..n]);
                        match pmip_tunnel::unwrap_signalling(&buf[..n]) {
                            Ok(mh) => self.pba(peer, mh),
                            Err(e) => tracing::info!(%peer, error = %e, "PMIPv6 signalling dropped"),
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "MAG socket"),
                },
                r = raw_recv => match r {
                    Ok((n, from)) => self.on_raw(&rbuf[..n], from),
                    Err(e) => tracing::warn!(error = %e, "MAG raw Mobility Header socket"),
                },
                _ = sleep => self.engine.handle_timeout(Instant::now()),
            }
            self.flush().await;
        }
    }

    /// A Mobility Header over IPv6 (its checksum checked by the kernel). Only PBAs: a PBU
    /// here is a gateway's on this same address.
    fn on_raw(&mut self, mh: &[u8], from: Ipv6Addr) {
        if crate::pmip_raw::mh_type(mh) != Some(crate::pmip_raw::MH_PBA) {
            tracing::debug!(%from, "raw Mobility Header other than a PBA: not for the MAG");
            return;
        }
        self.pba(crate::pmip_raw::peer(from), mh);
    }

    /// A Mobility Header from an LMA, over either transport.
    fn pba(&mut self, peer: SocketAddr, mh: &[u8]) {
        if let Err(e) = self.engine.handle(peer, mh, Instant::now()) {
            let reason = match e {
                mobstrap_proto::pmip::InputError::Malformed(_) => "malformed",
                mobstrap_proto::pmip::InputError::Unexpected(_) => "unexpected",
                mobstrap_proto::pmip::InputError::NoMatch(_) => "no_match",
            };
            metrics::counter!("mag_pba_ignored_total", "reason" => reason).increment(1);
            tracing::info!(%peer, error = %e, "PBA ignored");
        }
    }

    fn command(&mut self, c: Cmd) {
        let now = Instant::now();
        match c {
            Cmd::Attach(req, tx) => {
                let key = req.key.clone();
                match self.engine.attach(req, now) {
                    Ok(()) => {
                        self.attach.insert(key, tx);
                    }
                    Err(e) => {
                        let _ = tx.send(Err(AttachError::Refused(e.to_string())));
                    }
                }
            }
            Cmd::Detach(key, tx) => match self.engine.detach(&key, now) {
                Ok(()) => self.detach.entry(key).or_default().push(tx),
                Err(MagError::NotFound(_)) => {
                    let _ = tx.send(Ok(()));
                }
                Err(e) => {
                    let _ = tx.send(Err(AttachError::Refused(e.to_string())));
                }
            },
            Cmd::Count(tx) => {
                let _ = tx.send(self.engine.len());
            }
        }
    }

    fn set_route(&self, b: &Binding, add: bool) {
        if let Ok(mut r) = self.routes.write() {
            let v4 = b.v4.map(|v| v.0);
            let v6 = b.hnp.map(|p| p.0);
            if add {
                r.add(v4, v6, data_peer(b.lma));
            } else {
                r.remove(v4, v6);
            }
        }
    }

    /// The message tap (`crate::trace`) on the signalling socket, as node "mag".
    fn tap(&self, dir: crate::trace::Direction, peer: SocketAddr, b: &[u8]) {
        if crate::trace::enabled() {
            if let Ok(l) = self.sock.local_addr() {
                crate::trace::udp("mag", dir, l, peer, b);
            }
        }
    }

    async fn flush(&mut self) {
        while let Some(t) = self.engine.poll_transmit() {
            if let (Some(to), Some(raw)) = (raw_peer(t.peer), &self.raw) {
                if let Err(e) = raw.send_mh(&t.mh, to).await {
                    tracing::warn!(peer = %t.peer, error = %e, "PBU send (raw IPv6)");
                }
                continue;
            }
            match pmip_tunnel::wrap_signalling(self.local, t.peer.ip(), &t.mh) {
                Ok(b) => {
                    self.tap(crate::trace::Direction::Sent, t.peer, &b);
                    if let Err(e) = self.sock.send_to(&b, t.peer).await {
                        tracing::warn!(peer = %t.peer, error = %e, "PBU send");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "PBU not encodable"),
            }
        }
        while let Some(e) = self.engine.poll_event() {
            match e {
                MagEvent::Registered { key, binding } => {
                    metrics::counter!("mag_pbu_total", "result" => "registered").increment(1);
                    self.set_route(&binding, true);
                    if let Some(tx) = self.attach.remove(&key) {
                        if tx.send(Ok(binding)).is_err() {
                            // The caller went away: do not keep a binding nobody owns.
                            let _ = self.engine.detach(&key, Instant::now());
                        }
                    }
                }
                MagEvent::Refreshed { .. } => {
                    metrics::counter!("mag_pbu_total", "result" => "refreshed").increment(1);
                }
                MagEvent::Failed { key, failure } => {
                    metrics::counter!("mag_pbu_total", "result" => "failed").increment(1);
                    tracing::info!(mn = %key, %failure, "PMIPv6 registration failed");
                    if let Some(tx) = self.attach.remove(&key) {
                        let _ = tx.send(Err(failure.into()));
                    }
                }
                MagEvent::Lost {
                    key,
                    failure,
                    binding,
                } => {
                    tracing::warn!(mn = %key, %failure, "PMIPv6 binding lost");
                    if let Some(b) = binding {
                        self.set_route(&b, false);
                    }
                    let _ = self.notices.try_send(MagNotice::Lost { key, failure });
                }
                MagEvent::Deregistered { key, binding } => {
                    if let Some(b) = binding {
                        self.set_route(&b, false);
                    }
                    for tx in self.detach.remove(&key).unwrap_or_default() {
                        let _ = tx.send(Ok(()));
                    }
                }
            }
        }
    }
}
