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

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime};

use mobstrap_proto::pmip::mag::{
    AttachRequest, Binding, Failure, Mag as EngineMag, MagConfig, MagError, MagEvent,
};
use mobstrap_proto::pmip::{status, MnKey};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use crate::pmip_tunnel::{self, Routes};

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
        let sock = crate::pmip_tunnel::bind_signalling(listen)?;
        let data = if user_plane {
            let a = sock.local_addr()?;
            Some(UdpSocket::bind(SocketAddr::new(a.ip(), a.port().wrapping_add(1))).await?)
        } else {
            None
        };
        Mag::new(config, sock, data)
    }

    /// Starts the driver on sockets the caller bound.
    pub fn new(
        config: MagConfig,
        socket: UdpSocket,
        data: Option<UdpSocket>,
    ) -> std::io::Result<(Mag, mpsc::Receiver<MagNotice>)> {
        let local = socket.local_addr()?;
        let (tx, rx) = mpsc::channel(1024);
        let (ntx, nrx) = mpsc::channel(4096);
        let routes = Arc::new(RwLock::new(Routes::new()));
        let data = data.map(Arc::new);
        if let Some(d) = &data {
            tokio::spawn(downlink(d.clone(), routes.clone(), ntx.clone()));
        }
        let driver = Driver {
            engine: EngineMag::new(config, Instant::now(), SystemTime::now(), rand::random()),
            sock: Arc::new(socket),
            local: local.ip(),
            attach: HashMap::new(),
            detach: HashMap::new(),
            notices: ntx,
            routes: routes.clone(),
            bound: HashMap::new(),
        };
        tokio::spawn(driver.run(rx));
        Ok((
            Mag {
                tx,
                local,
                data,
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
        let Some(d) = &self.data else { return false };
        let Some((src, _)) = pmip_tunnel::ip_endpoints(packet) else {
            return false;
        };
        let to = match self.routes.read() {
            Ok(r) => r.lookup(src),
            Err(_) => None,
        };
        match to {
            Some(to) => d.send_to(packet, to).await.is_ok(),
            None => false,
        }
    }
}

async fn downlink(sock: Arc<UdpSocket>, routes: Arc<RwLock<Routes>>, out: mpsc::Sender<MagNotice>) {
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
            return;
        };
        let pkt = &buf[..n];
        let Ok((_, dst)) = pmip_tunnel::check_data(pkt) else {
            continue;
        };
        let ok = routes
            .read()
            .map(|r| r.lookup(dst) == Some(peer))
            .unwrap_or(false);
        if ok && out.send(MagNotice::Downlink(pkt.to_vec())).await.is_err() {
            return;
        }
    }
}

struct Driver {
    engine: EngineMag,
    sock: Arc<UdpSocket>,
    local: IpAddr,
    attach: HashMap<MnKey, oneshot::Sender<Result<Binding, AttachError>>>,
    detach: HashMap<MnKey, Vec<oneshot::Sender<Result<(), AttachError>>>>,
    notices: mpsc::Sender<MagNotice>,
    routes: Arc<RwLock<Routes>>,
    /// home addresses per session, for removing routes
    bound: HashMap<MnKey, Binding>,
}

fn data_peer(sig: SocketAddr) -> SocketAddr {
    SocketAddr::new(sig.ip(), sig.port().wrapping_add(1))
}

impl Driver {
    async fn run(mut self, mut rx: mpsc::Receiver<Cmd>) {
        let mut buf = vec![0u8; 65536];
        loop {
            let deadline = self.engine.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                c = rx.recv() => match c {
                    None => return,
                    Some(c) => self.command(c),
                },
                r = self.sock.recv_from(&mut buf) => match r {
                    Ok((n, peer)) => {
                        self.tap(crate::trace::Direction::Received, peer, &buf[..n]);
                        match pmip_tunnel::unwrap_signalling(&buf[..n]) {
                            Ok(mh) => {
                                if let Err(e) = self.engine.handle(peer, mh, Instant::now()) {
                                    let reason = match e {
                                        mobstrap_proto::pmip::InputError::Malformed(_) => "malformed",
                                        mobstrap_proto::pmip::InputError::Unexpected(_) => "unexpected",
                                        mobstrap_proto::pmip::InputError::NoMatch(_) => "no_match",
                                    };
                                    metrics::counter!("mag_pba_ignored_total", "reason" => reason)
                                        .increment(1);
                                    tracing::info!(%peer, error = %e, "PBA ignored");
                                }
                            }
                            Err(e) => tracing::info!(%peer, error = %e, "PMIPv6 signalling dropped"),
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "MAG socket"),
                },
                _ = sleep => self.engine.handle_timeout(Instant::now()),
            }
            self.flush().await;
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
                    self.bound.insert(key.clone(), binding.clone());
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
                MagEvent::Lost { key, failure } => {
                    tracing::warn!(mn = %key, %failure, "PMIPv6 binding lost");
                    if let Some(b) = self.bound.remove(&key) {
                        self.set_route(&b, false);
                    }
                    let _ = self.notices.try_send(MagNotice::Lost { key, failure });
                }
                MagEvent::Deregistered { key } => {
                    if let Some(b) = self.bound.remove(&key) {
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
