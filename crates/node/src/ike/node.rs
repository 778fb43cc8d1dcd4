//! The driver: one tokio task owns the sockets, the TUN device, the engine's
//! [`Dispatcher`] (every SA, initiated or accepted) and the ESP data path. It sleeps until a
//! socket or the TUN is readable, a command arrives, or the engine's `poll_timeout` is due;
//! then it feeds the engine, sends what the engine queued, installs Child SAs and forwards
//! events. Several datagrams are handled per wake-up (each socket is drained until it would
//! block), so a burst costs one pass through the loop.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use mobstrap_proto::esp::Keepalive;
use mobstrap_proto::ikev2::{
    Addresses, CfgRequest, CloseReason, Config, Dispatcher, DispatcherConfig, DispatcherStats,
    EapPeer, EapReply, Established, Event, Identity, Mode, Role, SaId, Transmit,
};
use mobstrap_wire::ikev2::{classify_udp4500, NotifyType, Udp4500, NAT_KEEPALIVE};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::datapath::{ChildStatus, DataPath, Drop as DpDrop, EspTx};
use super::sys::{self, RawEsp};
use super::udp::{route_source, PktSocket};

/// ESP data-path settings.
#[derive(Debug, Clone)]
pub struct EspSettings {
    /// Anti-replay window in packets (0: off).
    pub replay_window: usize,
    /// NAT keepalive interval (RFC 3948 §2.3) on UDP-encapsulated SAs we initiated or that
    /// sit behind a NAT; `None`: none.
    pub keepalive: Option<Duration>,
    /// Open raw IP protocol 50 sockets for Child SAs without UDP encapsulation (needs
    /// CAP_NET_RAW; without it such SAs carry no traffic and a warning is logged).
    pub raw: bool,
}

impl Default for EspSettings {
    fn default() -> Self {
        EspSettings {
            replay_window: 1024,
            keepalive: Some(Duration::from_secs(20)),
            raw: true,
        }
    }
}

/// The TUN device of the tunnel-mode data path.
#[derive(Debug, Clone)]
pub struct TunSettings {
    /// Interface name (`None`: the kernel picks `tunN`).
    pub name: Option<String>,
    pub mtu: u16,
    /// Addresses given to the device at start (a responder: an address in its pool's
    /// subnet, so the pool is routed into the device).
    pub addresses: Vec<(IpAddr, u8)>,
    /// Initiator: put the virtual IPs from CFG_REPLY on the device.
    pub install_vips: bool,
    /// Initiator: policy routes (`ip rule from VIP lookup TABLE`) so traffic from a virtual
    /// IP to the peer's selectors enters the device.
    pub routes: bool,
    pub route_table: u32,
}

impl Default for TunSettings {
    fn default() -> Self {
        TunSettings {
            name: None,
            mtu: 1400,
            addresses: Vec::new(),
            install_vips: true,
            routes: true,
            route_table: 220,
        }
    }
}

/// Everything the node needs to start.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The engine's configuration (proposals, identities, credentials, ports, timers).
    pub engine: Arc<Config>,
    pub dispatcher: DispatcherConfig,
    /// Addresses the IKE ports are bound on (wildcards: the real local address of each
    /// datagram is taken from IP_PKTINFO).
    pub bind: Vec<IpAddr>,
    pub esp: EspSettings,
    /// `None`: no TUN (IKE only; ESP packets are still opened and counted).
    pub tun: Option<TunSettings>,
    /// Write Wireshark key tables (`ikev2_decryption_table`, `esp_sa`) into this directory
    /// as SAs come up and are rekeyed.
    pub keys_dir: Option<PathBuf>,
    /// A name for logs and metrics (`node` label).
    pub name: String,
    /// Without a TUN: decrypted tunnel-mode packets go here instead (an ePDG hands them to
    /// its PMIPv6 tunnel); a full channel drops the packet (`sink_full`). Packets the other
    /// way enter with [`IkeHandle::send_packet`].
    pub packet_sink: Option<mpsc::Sender<Vec<u8>>>,
}

impl NodeConfig {
    pub fn new(engine: Config) -> Self {
        NodeConfig {
            engine: Arc::new(engine),
            dispatcher: DispatcherConfig::default(),
            bind: vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)],
            esp: EspSettings::default(),
            tun: None,
            keys_dir: None,
            name: "ike".into(),
            packet_sink: None,
        }
    }
}

/// Node errors.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("ike node: bind {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("ike node: TUN device: {0}")]
    Tun(io::Error),
    #[error("ike node: {0}")]
    Io(#[from] io::Error),
    #[error("ike node: engine: {0}")]
    Engine(#[from] mobstrap_proto::ikev2::Error),
    #[error("ike node: the node has stopped")]
    Stopped,
}

/// What the node tells the network function embedding it.
#[derive(Debug)]
pub enum NodeEvent {
    /// IKE_AUTH completed: identities, EAP identity and MSK/EMSK, CP addresses, the Child
    /// SA (installed in the data path already), NAT flags.
    Up {
        id: SaId,
        info: Box<Established>,
    },
    /// The SA is gone, with its Child SAs.
    Down {
        id: SaId,
        reason: CloseReason,
    },
    /// Responder: relay this EAP packet to the AAA and answer with [`IkeHandle::eap_reply`].
    EapRelay {
        id: SaId,
        identity: Identity,
        /// The IDr the initiator asked for (a 3GPP UE's APN, TS 24.302 §7.2.2).
        requested: Option<Identity>,
        /// The attribute types of the initiator's CFG_REQUEST (empty: none).
        cfg: Vec<mobstrap_wire::ikev2::CfgAttrType>,
        packet: Vec<u8>,
    },
    /// Responder: the IKE_AUTH response waits for addresses
    /// ([`IkeHandle::provide_addresses`] / [`IkeHandle::fail_addresses`]).
    NeedAddresses {
        id: SaId,
        request: Box<CfgRequest>,
    },
    /// A Child SA was added (CREATE_CHILD_SA or a rekey) or removed.
    ChildUp {
        id: SaId,
        inbound_spi: u32,
    },
    ChildDown {
        id: SaId,
        inbound_spi: u32,
    },
    /// A transport-mode ESP payload arrived (e.g. a Binding Update), already verified.
    Transport {
        id: SaId,
        inbound_spi: u32,
        next_header: u8,
        payload: Vec<u8>,
    },
}

/// One IKE SA as the operator sees it.
#[derive(Debug, Clone)]
pub struct SaStatus {
    pub id: SaId,
    pub role: Role,
    pub established: bool,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub peer_id: Option<Identity>,
}

/// A snapshot of the node.
#[derive(Debug, Clone)]
pub struct NodeStatus {
    pub sas: Vec<SaStatus>,
    pub children: Vec<ChildStatus>,
    pub dispatcher: DispatcherStats,
    pub half_open: usize,
    /// The sockets' bound addresses.
    pub sockets: Vec<SocketAddr>,
    pub tun: Option<String>,
    /// ESP packets with no SA (either direction), keepalives received.
    pub esp_unmatched: u64,
    pub keepalives_rx: u64,
}

enum Command {
    Connect {
        remote: SocketAddr,
        eap: Option<Box<dyn EapPeer>>,
        local_id: Option<Identity>,
        reply: oneshot::Sender<Result<SaId, NodeError>>,
    },
    EapReply(SaId, EapReply),
    Addresses(SaId, Option<Addresses>),
    RefuseAuth(SaId, NotifyType),
    Packet(Vec<u8>),
    Delete(SaId),
    Rekey(SaId),
    SendTransport {
        inbound_spi: u32,
        next_header: u8,
        payload: Vec<u8>,
    },
    WriteKeys {
        dir: PathBuf,
        reply: oneshot::Sender<io::Result<usize>>,
    },
    Status(oneshot::Sender<NodeStatus>),
    Shutdown(oneshot::Sender<()>),
    Abandon(oneshot::Sender<()>),
}

/// The embedding network function's side: cheap to clone, usable from any task.
#[derive(Clone)]
pub struct IkeHandle {
    tx: mpsc::UnboundedSender<Command>,
    sockets: Arc<Vec<SocketAddr>>,
}

impl core::fmt::Debug for IkeHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IkeHandle")
            .field("sockets", &self.sockets)
            .finish()
    }
}

impl IkeHandle {
    /// Starts an IKE SA as initiator towards `remote` (its IKE port). `eap` is the local
    /// EAP peer (the USIM) when the configuration authenticates with EAP.
    pub async fn connect(
        &self,
        remote: SocketAddr,
        eap: Option<Box<dyn EapPeer>>,
    ) -> Result<SaId, NodeError> {
        self.connect_as(remote, eap, None).await
    }

    /// [`IkeHandle::connect`] with this SA's own identity (IDi) instead of the configured
    /// one: one node initiating for many UEs (`mobstrap bench attach`), each with its NAI.
    pub async fn connect_as(
        &self,
        remote: SocketAddr,
        eap: Option<Box<dyn EapPeer>>,
        local_id: Option<Identity>,
    ) -> Result<SaId, NodeError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Connect {
                remote,
                eap,
                local_id,
                reply,
            })
            .map_err(|_| NodeError::Stopped)?;
        rx.await.map_err(|_| NodeError::Stopped)?
    }
    /// The AAA's answer to [`NodeEvent::EapRelay`].
    pub fn eap_reply(&self, id: SaId, reply: EapReply) {
        let _ = self.tx.send(Command::EapReply(id, reply));
    }
    /// Addresses for [`NodeEvent::NeedAddresses`].
    pub fn provide_addresses(&self, id: SaId, addresses: Addresses) {
        let _ = self.tx.send(Command::Addresses(id, Some(addresses)));
    }
    /// No addresses: INTERNAL_ADDRESS_FAILURE.
    pub fn fail_addresses(&self, id: SaId) {
        let _ = self.tx.send(Command::Addresses(id, None));
    }
    /// Instead of answering [`NodeEvent::EapRelay`]: refuse the IKE_AUTH exchange with this
    /// error notify (e.g. TS 24.302 NO_APN_SUBSCRIPTION); the SA closes.
    pub fn refuse_auth(&self, id: SaId, notify: NotifyType) {
        let _ = self.tx.send(Command::RefuseAuth(id, notify));
    }
    /// Sends an IP packet into the Child SA whose peer selectors hold its destination (the
    /// TUN's job when there is one).
    pub fn send_packet(&self, packet: Vec<u8>) {
        let _ = self.tx.send(Command::Packet(packet));
    }
    /// Deletes an IKE SA (INFORMATIONAL DELETE to the peer).
    pub fn delete(&self, id: SaId) {
        let _ = self.tx.send(Command::Delete(id));
    }
    /// Rekeys an IKE SA now.
    pub fn rekey(&self, id: SaId) {
        let _ = self.tx.send(Command::Rekey(id));
    }
    /// Sends an upper-layer payload over a transport-mode Child SA.
    pub fn send_transport(&self, inbound_spi: u32, next_header: u8, payload: Vec<u8>) {
        let _ = self.tx.send(Command::SendTransport {
            inbound_spi,
            next_header,
            payload,
        });
    }
    /// Writes the Wireshark key tables of every SA into `dir` (appending); returns the
    /// number of lines written. The `esp_sa` lines only when the node was configured with
    /// `keys_dir` (otherwise the SAs keep no copy of their Child SAs' keys).
    pub async fn write_keys(&self, dir: &Path) -> Result<usize, NodeError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::WriteKeys {
                dir: dir.to_path_buf(),
                reply,
            })
            .map_err(|_| NodeError::Stopped)?;
        Ok(rx.await.map_err(|_| NodeError::Stopped)??)
    }
    pub async fn status(&self) -> Result<NodeStatus, NodeError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Status(reply))
            .map_err(|_| NodeError::Stopped)?;
        rx.await.map_err(|_| NodeError::Stopped)
    }
    /// Deletes every SA (waiting up to two seconds for the peers' answers) and stops.
    pub async fn shutdown(&self) {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Command::Shutdown(reply)).is_ok() {
            let _ = rx.await;
        }
    }
    /// Stops at once without telling any peer, as a device that lost its radio: its SAs
    /// end at the peers by their liveness checks (DPD). For tests and the lab.
    pub async fn abandon(&self) {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Command::Abandon(reply)).is_ok() {
            let _ = rx.await;
        }
    }
    /// The addresses the IKE sockets are bound to.
    pub fn sockets(&self) -> &[SocketAddr] {
        &self.sockets
    }
}

/// Starting a node.
pub struct IkeNode;

impl IkeNode {
    /// Binds the sockets, creates the TUN device, and spawns the driver task on the current
    /// tokio runtime.
    pub async fn start(
        config: NodeConfig,
    ) -> Result<(IkeHandle, mpsc::UnboundedReceiver<NodeEvent>), NodeError> {
        let ports = config.engine.ports;
        let mut sockets = Vec::new();
        for ip in &config.bind {
            let mut list = vec![ports.ike];
            if ports.natt != ports.ike {
                list.push(ports.natt);
            }
            for port in list {
                let addr = SocketAddr::new(*ip, port);
                let s = PktSocket::bind(addr).map_err(|source| NodeError::Bind { addr, source })?;
                sockets.push(s);
            }
        }
        let tun = match &config.tun {
            Some(t) => Some(open_tun(t).map_err(NodeError::Tun)?),
            None => None,
        };
        let tun_name = tun.as_ref().and_then(|t| t.name().ok());
        let (raw4, raw6) = if config.esp.raw {
            let r4 = RawEsp::open(false)
                .map_err(|e| debug!(error = %e, "no raw ESP socket (IPv4): UDP encapsulation only"))
                .ok();
            let r6 = RawEsp::open(true)
                .map_err(|e| debug!(error = %e, "no raw ESP socket (IPv6): UDP encapsulation only"))
                .ok();
            (r4, r6)
        } else {
            (None, None)
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let (etx, erx) = mpsc::unbounded_channel();
        let bound: Vec<SocketAddr> = sockets.iter().map(|s| s.local_addr()).collect();
        info!(node = %config.name, sockets = ?bound, tun = ?tun_name, raw_esp = raw4.is_some(), "IKE node up");
        let dispatcher = Dispatcher::new(
            config.engine.clone(),
            config.dispatcher.clone(),
            Box::new(StdRng::from_os_rng()),
        );
        let driver = Driver {
            datapath: DataPath::new(config.esp.replay_window),
            config,
            dispatcher,
            sockets,
            raw4,
            raw6,
            tun,
            tun_name,
            events: etx,
            rng: StdRng::from_os_rng(),
            keepalives: HashMap::new(),
            vips: HashMap::new(),
            written: HashSet::new(),
            keepalives_rx: 0,
            up: HashSet::new(),
            buf: vec![0u8; 65_536],
            out: Vec::with_capacity(2048),
            shutdown: None,
        };
        tokio::spawn(driver.run(rx));
        Ok((
            IkeHandle {
                tx,
                sockets: Arc::new(bound),
            },
            erx,
        ))
    }
}

fn open_tun(t: &TunSettings) -> io::Result<tun_rs::AsyncDevice> {
    let mut b = tun_rs::DeviceBuilder::new()
        .mtu(t.mtu)
        .packet_information(false);
    if let Some(n) = &t.name {
        b = b.name(n.clone());
    }
    let dev = b.build_async()?;
    for (a, len) in &t.addresses {
        match a {
            IpAddr::V4(v4) => dev.add_address_v4(*v4, *len)?,
            IpAddr::V6(v6) => dev.add_address_v6(*v6, *len)?,
        }
    }
    dev.enabled(true)?;
    Ok(dev)
}

struct KeepaliveState {
    local: SocketAddr,
    remote: SocketAddr,
    timer: Keepalive,
}

struct Driver {
    config: NodeConfig,
    dispatcher: Dispatcher,
    sockets: Vec<PktSocket>,
    raw4: Option<RawEsp>,
    raw6: Option<RawEsp>,
    tun: Option<tun_rs::AsyncDevice>,
    tun_name: Option<String>,
    datapath: DataPath,
    events: mpsc::UnboundedSender<NodeEvent>,
    rng: StdRng,
    keepalives: HashMap<SaId, KeepaliveState>,
    /// Virtual IPs installed on the TUN per SA (initiator).
    vips: HashMap<SaId, Vec<IpAddr>>,
    /// Key-table lines already written (so rekeys append only what is new).
    written: HashSet<String>,
    keepalives_rx: u64,
    /// Established SAs (for the gauge).
    up: HashSet<SaId>,
    buf: Vec<u8>,
    out: Vec<u8>,
    shutdown: Option<(Instant, oneshot::Sender<()>)>,
}

enum Wake {
    Socket(usize),
    Tun,
    Raw(bool),
    Command(Option<Command>),
    Timer,
}

async fn maybe_readable_tun(t: &Option<tun_rs::AsyncDevice>) -> io::Result<()> {
    crate::or_pending(t.as_ref().map(|t| t.readable())).await
}

async fn maybe_readable_raw(r: &Option<RawEsp>) -> io::Result<()> {
    crate::or_pending(r.as_ref().map(|r| r.readable())).await
}

impl Driver {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        loop {
            let now = Instant::now();
            let mut deadline = self.dispatcher.poll_timeout();
            for k in self.keepalives.values() {
                let t = k.timer.poll_timeout();
                deadline = Some(deadline.map_or(t, |d| d.min(t)));
            }
            if let Some((t, _)) = &self.shutdown {
                deadline = Some(deadline.map_or(*t, |d| d.min(*t)));
            }
            let sleep_to = deadline.unwrap_or(now + Duration::from_secs(3600));
            let wake = {
                let sockets = &self.sockets;
                let sock_ready = std::future::poll_fn(|cx| {
                    for (i, s) in sockets.iter().enumerate() {
                        if s.poll_recv_ready(cx).is_ready() {
                            return Poll::Ready(i);
                        }
                    }
                    Poll::Pending
                });
                tokio::select! {
                    biased;
                    c = commands.recv() => Wake::Command(c),
                    i = sock_ready => Wake::Socket(i),
                    _ = maybe_readable_raw(&self.raw4) => Wake::Raw(false),
                    _ = maybe_readable_raw(&self.raw6) => Wake::Raw(true),
                    _ = maybe_readable_tun(&self.tun) => Wake::Tun,
                    _ = tokio::time::sleep_until(sleep_to.into()) => Wake::Timer,
                }
            };
            match wake {
                Wake::Command(None) => {
                    // every handle is gone: nobody can use this node any more
                    self.delete_all();
                    self.flush().await;
                    return;
                }
                Wake::Command(Some(c)) => {
                    if self.command(c).await {
                        return;
                    }
                    // take other queued commands in the same pass, bounded like the
                    // sockets: the engine's output (events, datagrams) is handed on after
                    // each pass, so its queues stay small (unbounded, a burst of address
                    // replies in bench attach queued thousands of events, 3 MB of heap at
                    // the ePDG's peak) and the sockets get their turn
                    for _ in 0..255 {
                        let Ok(c) = commands.try_recv() else { break };
                        if self.command(c).await {
                            return;
                        }
                    }
                }
                Wake::Socket(i) => self.drain_socket(i).await,
                Wake::Raw(v6) => self.drain_raw(v6).await,
                Wake::Tun => self.drain_tun().await,
                Wake::Timer => {}
            }
            let now = Instant::now();
            if self.dispatcher.poll_timeout().is_some_and(|t| t <= now) {
                self.dispatcher.handle_timeout(now);
            }
            self.keepalive(now).await;
            self.flush().await;
            if let Some((t, _)) = &self.shutdown {
                if self.dispatcher.is_empty() || *t <= now {
                    if let Some((_, reply)) = self.shutdown.take() {
                        let _ = reply.send(());
                    }
                    info!(node = %self.config.name, "IKE node stopped");
                    return;
                }
            }
        }
    }

    fn delete_all(&mut self) {
        let now = Instant::now();
        let ids: Vec<SaId> = self.dispatcher.ids().collect();
        for id in ids {
            self.dispatcher.delete(id, now);
        }
    }

    /// Returns true when the node must stop at once.
    async fn command(&mut self, c: Command) -> bool {
        let now = Instant::now();
        match c {
            Command::Connect {
                remote,
                eap,
                local_id,
                reply,
            } => {
                let r = self.connect(remote, eap, local_id, now);
                let _ = reply.send(r);
            }
            Command::EapReply(id, r) => {
                self.dispatcher.eap_reply(id, r, now);
            }
            Command::Addresses(id, Some(a)) => {
                self.dispatcher.provide_addresses(id, a, now);
            }
            Command::Addresses(id, None) => {
                self.dispatcher.fail_addresses(id, now);
            }
            Command::Packet(p) => {
                self.seal_and_send(&p).await;
            }
            Command::RefuseAuth(id, t) => {
                self.dispatcher.refuse_auth(id, t, now);
            }
            Command::Delete(id) => {
                self.dispatcher.delete(id, now);
            }
            Command::Rekey(id) => {
                self.dispatcher.with_sa(id, now, |s, now| s.rekey_ike(now));
            }
            Command::SendTransport {
                inbound_spi,
                next_header,
                payload,
            } => {
                let mut out = std::mem::take(&mut self.out);
                match self
                    .datapath
                    .seal_transport(inbound_spi, &payload, next_header, &mut out)
                {
                    Ok(tx) => self.send_esp(tx, &out).await,
                    Err(e) => debug!(spi = inbound_spi, ?e, "transport payload not sent"),
                }
                self.out = out;
            }
            Command::WriteKeys { dir, reply } => {
                let ids: Vec<SaId> = self.dispatcher.ids().collect();
                let mut n = 0;
                let mut res = Ok(());
                for id in ids {
                    match self.write_keys_of(id, &dir, false) {
                        Ok(k) => n += k,
                        Err(e) => res = Err(e),
                    }
                }
                let _ = reply.send(res.map(|_| n));
            }
            Command::Status(reply) => {
                let _ = reply.send(self.status());
            }
            Command::Shutdown(reply) => {
                self.delete_all();
                self.shutdown = Some((now + Duration::from_secs(2), reply));
            }
            Command::Abandon(reply) => {
                info!(node = %self.config.name, sas = self.dispatcher.len(), "IKE node abandoned (no DELETE sent)");
                let _ = reply.send(());
                return true;
            }
        }
        false
    }

    fn connect(
        &mut self,
        remote: SocketAddr,
        eap: Option<Box<dyn EapPeer>>,
        local_id: Option<Identity>,
        now: Instant,
    ) -> Result<SaId, NodeError> {
        let port = self.config.engine.ports.ike;
        let ip = self
            .config
            .bind
            .iter()
            .find(|a| a.is_ipv4() == remote.is_ipv4() && !a.is_unspecified())
            .copied();
        let ip = match ip {
            Some(ip) => ip,
            None => route_source(remote)?,
        };
        let local = SocketAddr::new(ip, port);
        let id = self
            .dispatcher
            .connect_as(now, local, remote, eap, local_id)?;
        info!(node = %self.config.name, sa = id, %local, %remote, "initiating IKE SA");
        metrics::counter!("mobstrap_ike_initiated_total", "node" => self.config.name.clone())
            .increment(1);
        Ok(id)
    }

    fn status(&self) -> NodeStatus {
        let mut sas: Vec<SaStatus> = self
            .dispatcher
            .ids()
            .filter_map(|id| {
                self.dispatcher.sa(id).map(|s| SaStatus {
                    id,
                    role: s.role(),
                    established: s.is_established(),
                    local: s.local(),
                    remote: s.remote(),
                    peer_id: s.peer_id().cloned(),
                })
            })
            .collect();
        sas.sort_by_key(|s| s.id);
        NodeStatus {
            sas,
            children: self.datapath.status(),
            dispatcher: self.dispatcher.stats(),
            half_open: self.dispatcher.half_open(),
            sockets: self.sockets.iter().map(|s| s.local_addr()).collect(),
            tun: self.tun_name.clone(),
            esp_unmatched: self.datapath.unmatched,
            keepalives_rx: self.keepalives_rx,
        }
    }

    async fn drain_socket(&mut self, i: usize) {
        let natt = self.config.engine.ports.natt;
        let ike = self.config.engine.ports.ike;
        // bounded: other sources get their turn after 256 datagrams
        for _ in 0..256 {
            let meta = match self.sockets[i].try_recv(&mut self.buf) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    debug!(error = %e, "recv");
                    return;
                }
            };
            crate::trace::udp(
                &self.config.name,
                crate::trace::Direction::Received,
                meta.local,
                meta.remote,
                &self.buf[..meta.len],
            );
            let now = Instant::now();
            let port = meta.local.port();
            if port == natt && natt != ike {
                match classify_udp4500(&self.buf[..meta.len]) {
                    Ok(Udp4500::Ike(_)) => {
                        self.dispatcher.handle_datagram(
                            now,
                            meta.local,
                            meta.remote,
                            &self.buf[..meta.len],
                        );
                    }
                    Ok(Udp4500::Esp(_)) => {
                        self.esp_in(0, meta.len).await;
                    }
                    Ok(Udp4500::Keepalive) => self.keepalives_rx += 1,
                    Err(_) => {}
                }
            } else {
                self.dispatcher.handle_datagram(
                    now,
                    meta.local,
                    meta.remote,
                    &self.buf[..meta.len],
                );
            }
            // answer as we go, so a burst does not queue thousands of transmits
            self.flush().await;
        }
    }

    async fn drain_raw(&mut self, v6: bool) {
        for _ in 0..256 {
            let r = if v6 { &self.raw6 } else { &self.raw4 };
            let Some(r) = r else { return };
            match r.try_recv(&mut self.buf) {
                Ok((off, len, _src)) => self.esp_in(off, len).await,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    debug!(error = %e, "raw ESP recv");
                    return;
                }
            }
        }
    }

    /// An ESP packet at `buf[off..off+len]`.
    async fn esp_in(&mut self, off: usize, len: usize) {
        let pkt = &mut self.buf[off..off + len];
        match self.datapath.open(pkt) {
            Ok((range, nh, mode, id)) => {
                metrics::counter!("mobstrap_esp_packets_total", "dir" => "in").increment(1);
                let payload = &self.buf[off + range.start..off + range.end];
                match mode {
                    Mode::Tunnel => {
                        if let Some(t) = &self.tun {
                            match t.try_send(payload) {
                                Ok(_) => {}
                                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                    metrics::counter!("mobstrap_esp_dropped_total", "why" => "tun_full").increment(1);
                                }
                                Err(e) => debug!(error = %e, "TUN write"),
                            }
                        } else if let Some(sink) = &self.config.packet_sink {
                            if sink.try_send(payload.to_vec()).is_err() {
                                metrics::counter!("mobstrap_esp_dropped_total", "why" => "sink_full").increment(1);
                            }
                        }
                    }
                    Mode::Transport => {
                        let spi = u32::from_be_bytes([
                            self.buf[off],
                            self.buf[off + 1],
                            self.buf[off + 2],
                            self.buf[off + 3],
                        ]);
                        let _ = self.events.send(NodeEvent::Transport {
                            id,
                            inbound_spi: spi,
                            next_header: nh,
                            payload: payload.to_vec(),
                        });
                    }
                }
            }
            Err(e) => {
                let why = match e {
                    DpDrop::NoSa => "no_sa",
                    DpDrop::NotIp => "not_ip",
                    DpDrop::Policy => "policy",
                    DpDrop::Esp(_) => "esp",
                };
                metrics::counter!("mobstrap_esp_dropped_total", "why" => why).increment(1);
                debug!(?e, "inbound ESP dropped");
            }
        }
    }

    async fn drain_tun(&mut self) {
        for _ in 0..256 {
            let Some(t) = &self.tun else { return };
            let n = match t.try_recv(&mut self.buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    debug!(error = %e, "TUN read");
                    return;
                }
            };
            let mut out = std::mem::take(&mut self.out);
            match self.datapath.seal(&self.buf[..n], &mut out) {
                Ok((tx, _)) => {
                    metrics::counter!("mobstrap_esp_packets_total", "dir" => "out").increment(1);
                    self.send_esp(tx, &out).await;
                }
                Err(DpDrop::NoSa) | Err(DpDrop::NotIp) => {}
                Err(e) => debug!(?e, "outbound packet dropped"),
            }
            self.out = out;
        }
    }

    /// An IP packet from the embedding function (no TUN): seal it into its Child SA.
    async fn seal_and_send(&mut self, packet: &[u8]) {
        let mut out = std::mem::take(&mut self.out);
        match self.datapath.seal(packet, &mut out) {
            Ok((tx, _)) => {
                metrics::counter!("mobstrap_esp_packets_total", "dir" => "out").increment(1);
                self.send_esp(tx, &out).await;
            }
            Err(e) => {
                metrics::counter!("mobstrap_esp_dropped_total", "why" => "no_sa").increment(1);
                debug!(?e, "outbound packet dropped");
            }
        }
        self.out = out;
    }

    async fn send_esp(&mut self, tx: EspTx, data: &[u8]) {
        if tx.udp_encap {
            if let Some(i) = self.socket_for(tx.local) {
                crate::trace::udp(
                    &self.config.name,
                    crate::trace::Direction::Sent,
                    tx.local,
                    tx.remote,
                    data,
                );
                if let Err(e) = self.sockets[i].send(data, tx.remote, tx.local.ip()).await {
                    debug!(error = %e, "ESP send");
                }
            }
        } else {
            let raw = if tx.remote.is_ipv4() {
                &self.raw4
            } else {
                &self.raw6
            };
            match raw {
                Some(r) => {
                    if let Err(e) = r.send(data, tx.remote.ip()) {
                        debug!(error = %e, "raw ESP send");
                    }
                }
                None => {
                    metrics::counter!("mobstrap_esp_dropped_total", "why" => "no_raw_socket")
                        .increment(1);
                }
            }
        }
    }

    fn socket_for(&self, local: SocketAddr) -> Option<usize> {
        let same = |s: &PktSocket| {
            let a = s.local_addr();
            a.port() == local.port() && a.is_ipv4() == local.is_ipv4()
        };
        self.sockets
            .iter()
            .position(|s| same(s) && s.local_addr().ip() == local.ip())
            .or_else(|| self.sockets.iter().position(|s| same(s) && s.is_wildcard()))
    }

    async fn send_transmit(&mut self, t: Transmit) {
        match self.socket_for(t.local) {
            Some(i) => {
                crate::trace::udp(
                    &self.config.name,
                    crate::trace::Direction::Sent,
                    t.local,
                    t.remote,
                    &t.data,
                );
                if let Err(e) = self.sockets[i].send(&t.data, t.remote, t.local.ip()).await {
                    debug!(error = %e, local = %t.local, remote = %t.remote, "IKE send");
                }
            }
            None => debug!(local = %t.local, "no socket for this local address"),
        }
    }

    async fn keepalive(&mut self, now: Instant) {
        let mut due = Vec::new();
        for k in self.keepalives.values_mut() {
            if k.timer.handle_timeout(now) {
                due.push((k.local, k.remote));
            }
        }
        for (local, remote) in due {
            if let Some(i) = self.socket_for(local) {
                crate::trace::udp(
                    &self.config.name,
                    crate::trace::Direction::Sent,
                    local,
                    remote,
                    &NAT_KEEPALIVE,
                );
                let _ = self.sockets[i]
                    .send(&NAT_KEEPALIVE, remote, local.ip())
                    .await;
            }
        }
    }

    /// Sends what the engine queued and handles its events.
    async fn flush(&mut self) {
        loop {
            let mut any = false;
            while let Some(t) = self.dispatcher.poll_transmit() {
                any = true;
                self.send_transmit(t).await;
            }
            while let Some((id, e)) = self.dispatcher.poll_event() {
                any = true;
                self.event(id, e);
            }
            if !any {
                return;
            }
        }
    }

    fn event(&mut self, id: SaId, e: Event) {
        let name = self.config.name.clone();
        match e {
            Event::Established(info) => {
                let role = match info.role {
                    Role::Initiator => "initiator",
                    Role::Responder => "responder",
                };
                metrics::counter!("mobstrap_ike_sas_established_total", "node" => name.clone(), "role" => role)
                    .increment(1);
                if self.up.insert(id) {
                    metrics::gauge!("mobstrap_ike_sas", "node" => name.clone()).increment(1.0);
                }
                info!(node = %name, sa = id, role, local = %info.local, remote = %info.remote,
                    local_id = %info.local_id, peer_id = %info.peer_id,
                    eap_identity = ?info.eap_identity.as_ref().map(|i| String::from_utf8_lossy(i).into_owned()),
                    addresses = ?info.addresses, child = ?info.child.as_ref().map(|c| (format!("{:08x}", c.inbound_spi), format!("{:08x}", c.outbound_spi))),
                    child_error = ?info.child_error, nat_local = info.nat_local, nat_remote = info.nat_remote,
                    "IKE SA established");
                if let Some(c) = &info.child {
                    if let Err(e) = self.datapath.install(id, c, &mut self.rng) {
                        warn!(sa = id, error = %e, "Child SA not installed");
                    }
                }
                let encap = info.local.port() == self.config.engine.ports.natt;
                if let Some(iv) = self.config.esp.keepalive {
                    if encap && (info.role == Role::Initiator || info.nat_local) {
                        self.keepalives.insert(
                            id,
                            KeepaliveState {
                                local: info.local,
                                remote: info.remote,
                                timer: Keepalive::new(iv, Instant::now()),
                            },
                        );
                    }
                }
                if info.role == Role::Initiator {
                    self.install_vips(id, &info);
                }
                self.auto_keys(id);
                let _ = self.events.send(NodeEvent::Up { id, info });
            }
            Event::ChildCreated(c) => {
                if let Err(e) = self.datapath.install(id, &c, &mut self.rng) {
                    warn!(sa = id, error = %e, "Child SA not installed");
                }
                info!(node = %name, sa = id, spi_in = format!("{:08x}", c.inbound_spi), "Child SA created");
                self.auto_keys(id);
                let _ = self.events.send(NodeEvent::ChildUp {
                    id,
                    inbound_spi: c.inbound_spi,
                });
            }
            Event::ChildRekeyed {
                old_inbound_spi,
                new,
            } => {
                if let Err(e) = self.datapath.install(id, &new, &mut self.rng) {
                    warn!(sa = id, error = %e, "Child SA not installed");
                }
                info!(node = %name, sa = id, old = format!("{old_inbound_spi:08x}"), new = format!("{:08x}", new.inbound_spi), "Child SA rekeyed");
                self.auto_keys(id);
                let _ = self.events.send(NodeEvent::ChildUp {
                    id,
                    inbound_spi: new.inbound_spi,
                });
            }
            Event::ChildDeleted { inbound_spi, .. } => {
                if let Some(st) = self.datapath.remove(inbound_spi) {
                    info!(node = %name, sa = id, spi_in = format!("{inbound_spi:08x}"),
                        in_packets = st.counters.in_packets, out_packets = st.counters.out_packets,
                        in_dropped = st.counters.in_dropped, "Child SA deleted");
                }
                let _ = self.events.send(NodeEvent::ChildDown { id, inbound_spi });
            }
            Event::ChildExpiring { inbound_spi } => {
                debug!(
                    sa = id,
                    spi_in = format!("{inbound_spi:08x}"),
                    "Child SA soft lifetime"
                );
            }
            Event::IkeRekeyed { .. } => {
                info!(node = %name, sa = id, "IKE SA rekeyed");
                self.auto_keys(id);
            }
            Event::IkeSpiRetired { .. } => {}
            Event::NeedAddresses(request) => {
                let _ = self.events.send(NodeEvent::NeedAddresses { id, request });
            }
            Event::EapRelay {
                identity,
                requested,
                cfg,
                packet,
            } => {
                // keys exist from IKE_SA_INIT on: a capture of a failed EAP decrypts too
                self.auto_keys(id);
                let _ = self.events.send(NodeEvent::EapRelay {
                    id,
                    identity,
                    requested,
                    cfg,
                    packet,
                });
            }
            Event::PeerAddressChanged { local, remote } => {
                debug!(sa = id, %local, %remote, "peer address changed");
                if let Some(k) = self.keepalives.get_mut(&id) {
                    k.local = local;
                    k.remote = remote;
                }
            }
            Event::Closed(reason) => {
                self.datapath.remove_ike(id);
                self.keepalives.remove(&id);
                self.remove_vips(id);
                let r = format!("{reason:?}");
                metrics::counter!("mobstrap_ike_sas_closed_total", "node" => name.clone(), "reason" => close_label(&reason)).increment(1);
                if self.up.remove(&id) {
                    metrics::gauge!("mobstrap_ike_sas", "node" => name.clone()).decrement(1.0);
                }
                info!(node = %name, sa = id, reason = %r, "IKE SA closed");
                let _ = self.events.send(NodeEvent::Down { id, reason });
            }
        }
    }

    fn install_vips(&mut self, id: SaId, info: &Established) {
        let (Some(t), Some(ts)) = (&self.tun, &self.config.tun) else {
            return;
        };
        if !ts.install_vips {
            return;
        }
        let mut vips = Vec::new();
        if let Some(a) = info.addresses.ip4 {
            match t.add_address_v4(a, 32u8) {
                Ok(()) => vips.push(IpAddr::V4(a)),
                Err(e) => warn!(sa = id, error = %e, vip = %a, "cannot add the virtual IP"),
            }
        }
        if let Some((a, _)) = info.addresses.ip6 {
            match t.add_address_v6(a, 128u8) {
                Ok(()) => vips.push(IpAddr::V6(a)),
                Err(e) => warn!(sa = id, error = %e, vip = %a, "cannot add the virtual IP"),
            }
        }
        if ts.routes {
            if let (Some(dev), Some(c)) = (&self.tun_name, &info.child) {
                for v in &vips {
                    if let Err(e) = sys::add_vip_routes(dev, *v, &c.remote_ts, ts.route_table) {
                        warn!(sa = id, error = %e, "policy routes for the virtual IP");
                    }
                }
            }
        }
        if !vips.is_empty() {
            info!(sa = id, vips = ?vips, tun = ?self.tun_name, "virtual IPs installed");
            self.vips.insert(id, vips);
        }
    }

    fn remove_vips(&mut self, id: SaId) {
        let Some(vips) = self.vips.remove(&id) else {
            return;
        };
        let table = self.config.tun.as_ref().map_or(220, |t| t.route_table);
        for v in vips {
            if let Some(t) = &self.tun {
                let _ = match v {
                    IpAddr::V4(a) => t.remove_address(IpAddr::V4(a)),
                    IpAddr::V6(a) => t.remove_address_v6(a, 128),
                };
            }
            sys::del_vip_routes(v, table);
        }
    }

    fn auto_keys(&mut self, id: SaId) {
        if let Some(dir) = self.config.keys_dir.clone() {
            if let Err(e) = self.write_keys_of(id, &dir, true) {
                warn!(error = %e, dir = %dir.display(), "writing Wireshark keys");
            }
        }
    }

    /// Appends the SA's key-table lines not written before; `remember`: skip them next time.
    fn write_keys_of(&mut self, id: SaId, dir: &Path, remember: bool) -> io::Result<usize> {
        use std::io::Write;
        let Some(sa) = self.dispatcher.sa(id) else {
            return Ok(0);
        };
        let k = sa.wireshark_keys();
        let mut n = 0;
        for (file, lines) in [
            ("ikev2_decryption_table", &k.ikev2_decryption_table),
            ("esp_sa", &k.esp_sa),
        ] {
            let fresh: Vec<&String> = lines
                .iter()
                .filter(|l| !remember || !self.written.contains(*l))
                .collect();
            if fresh.is_empty() {
                continue;
            }
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(file))?;
            for l in fresh {
                writeln!(f, "{l}")?;
                n += 1;
                if remember {
                    self.written.insert(l.clone());
                }
            }
        }
        Ok(n)
    }
}

fn close_label(r: &CloseReason) -> &'static str {
    match r {
        CloseReason::DeletedByPeer => "deleted_by_peer",
        CloseReason::DeletedLocally => "deleted_locally",
        CloseReason::Timeout => "timeout",
        CloseReason::HalfOpenTimeout => "half_open_timeout",
        CloseReason::AuthenticationFailed { .. } => "authentication_failed",
        CloseReason::EapFailure => "eap_failure",
        CloseReason::NoProposalChosen => "no_proposal_chosen",
        CloseReason::PeerError(_) => "peer_error",
        CloseReason::ApplicationTimeout => "application_timeout",
        CloseReason::Internal(_) => "internal",
        CloseReason::Refused(_) => "refused",
    }
}
