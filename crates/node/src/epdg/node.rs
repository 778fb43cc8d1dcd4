//! The ePDG's driver: one task owns the per-SA sessions; EAP relays, authorizations and MAG
//! registrations run in spawned tasks that report back, so every state change happens here.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Instant;

use mobstrap_proto::ikev2::{Addresses, CloseReason, EapReply, Identity, SaId};
use mobstrap_wire::ikev2::IdType;
use mobstrap_wire::ikev2::{CfgAttrType, NotifyType};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::config::EpdgSpec;
use super::mobility::{AttachError, AttachRequest, Binding, Mobility, INSUFFICIENT_RESOURCES};
use super::resolve::GatewayResolver;
use super::swm::{Authorization, SwmClient, NO_APN_SUBSCRIPTION};
use crate::ike::aaa::{AaaError, AaaSession, DiameterRelay};
use crate::ike::config::AaaSpec;
use crate::ike::{IkeHandle, IkeNode, NodeError, NodeEvent};

/// Start-up errors.
#[derive(Debug, thiserror::Error)]
pub enum EpdgError {
    #[error(transparent)]
    Ike(#[from] NodeError),
    #[error("epdg: diameter: {0}")]
    Diameter(String),
    #[error("epdg: {0}")]
    Config(String),
    #[error("epdg: stopped")]
    Stopped,
}

/// What the ePDG reports to whoever embeds it (the lab, the daemon's stdout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EpdgEvent {
    /// IKE_AUTH done, the PMIPv6 binding registered (seed 002 step 15/17).
    Attached {
        sa: SaId,
        nai: String,
        apn: String,
        gateway: IpAddr,
        home_gateway: Option<IpAddr>,
        ip4: Option<Ipv4Addr>,
        ip6: Option<(Ipv6Addr, u8)>,
    },
    /// The UE was refused with this notify (no state kept).
    Refused {
        sa: SaId,
        nai: String,
        notify: NotifyType,
        why: String,
    },
    /// An attached UE went away (DELETE, DPD, expiry); the binding and the AAA session are
    /// gone.
    Detached {
        sa: SaId,
        nai: String,
        reason: CloseReason,
    },
}

/// A snapshot for tests and operators.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EpdgStatus {
    /// Sessions in any phase (authenticating, registering, attached, tearing down).
    pub sessions: usize,
    pub attached: usize,
    /// Detaches / STRs still running.
    pub cleanups: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Authenticating,
    /// DEA success: AAR, gateway, PBU running.
    Authorizing,
    /// PBA received, EAP-Success sent, waiting for the UE's AUTH.
    Registered,
    Attached,
}

struct Session {
    aaa: AaaSession,
    /// A relay is running (its AaaSession comes back with the answer).
    relaying: bool,
    nai: String,
    apn: Option<String>,
    want_v4: bool,
    want_v6: bool,
    phase: Phase,
    /// DEA success seen: the AAA holds a session to terminate (STR).
    aaa_authorized: bool,
    binding: Option<(Binding, Option<IpAddr>)>,
    started: Instant,
    /// The IKE SA went away while the authorization ran: undo its outcome when it reports.
    dead: bool,
}

/// An authorization's outcome: the binding (with the home gateway) and the held
/// EAP-Success, or the notify for the UE and why.
type AuthResult = Result<((Binding, Option<IpAddr>), EapReply), (NotifyType, String)>;

enum Internal {
    Relayed {
        id: SaId,
        aaa: AaaSession,
        result: Result<EapReply, AaaError>,
    },
    Authorized {
        id: SaId,
        /// the binding (with the home gateway) and the held EAP-Success
        result: AuthResult,
        /// the registration exists at the gateway (needs a detach if the SA is gone)
        registered: bool,
    },
    CleanupDone,
}

enum Command {
    Lost { nai: String, apn: String },
    Status(oneshot::Sender<EpdgStatus>),
    Shutdown(oneshot::Sender<()>),
}

/// The embedding side of a running ePDG.
#[derive(Clone)]
pub struct EpdgHandle {
    tx: mpsc::UnboundedSender<Command>,
    ike: IkeHandle,
    diameter: crate::diameter::DiameterNode,
}

impl EpdgHandle {
    /// The IKE node (sockets, SA status, keys).
    pub fn ike(&self) -> &IkeHandle {
        &self.ike
    }
    /// The SWm Diameter node (e.g. `wait_peer` before the first UE).
    pub fn diameter(&self) -> &crate::diameter::DiameterNode {
        &self.diameter
    }
    pub async fn status(&self) -> Result<EpdgStatus, EpdgError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Status(tx))
            .map_err(|_| EpdgError::Stopped)?;
        rx.await.map_err(|_| EpdgError::Stopped)
    }
    /// The MAG lost a binding (refresh refused or unanswered): the UE's IKE SA is deleted
    /// and its AAA session ended.
    pub fn binding_lost(&self, nai: &str, apn: &str) {
        let _ = self.tx.send(Command::Lost {
            nai: nai.to_string(),
            apn: apn.to_string(),
        });
    }
    /// User plane: a packet from a gateway toward a UE (into its ESP SA).
    pub fn downlink(&self, packet: Vec<u8>) {
        self.ike.send_packet(packet);
    }
    /// Deletes every IKE SA, de-registers every binding, terminates every AAA session, and
    /// stops.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Shutdown(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// Starting an ePDG.
pub struct EpdgNode;

impl EpdgNode {
    /// Starts the Diameter node (SWm client), the IKE node and the driver task on the current
    /// runtime. `mobility` is the MAG (PMIPv6) the ePDG registers its UEs with.
    pub async fn start(
        spec: EpdgSpec,
        mobility: Arc<dyn Mobility>,
    ) -> Result<(EpdgHandle, mpsc::UnboundedReceiver<EpdgEvent>), EpdgError> {
        let Some(AaaSpec::Diameter { node, relay }) = &spec.ike.aaa else {
            return Err(EpdgError::Config(
                "the ePDG needs [aaa] over Diameter SWm".into(),
            ));
        };
        let dn = crate::diameter::DiameterNode::builder((**node).clone())
            .client_application(relay.application, Some(10415))
            .start()
            .await
            .map_err(|e| EpdgError::Diameter(e.to_string()))?;
        let relay_client = DiameterRelay::new(dn.clone(), relay.clone());
        let swm = SwmClient::new(
            dn.clone(),
            relay.destination_realm.clone(),
            relay.destination_host.clone(),
        );
        let resolver = GatewayResolver::new(&spec.dns_servers, spec.dns_timeout, spec.dns_prefer);
        let mut node_config = spec.ike.node.clone();
        if node_config.tun.is_none() {
            // user plane: decrypted packets from the UEs go to the MAG's tunnels
            let (ptx, mut prx) = mpsc::channel::<Vec<u8>>(4096);
            node_config.packet_sink = Some(ptx);
            let m = mobility.clone();
            tokio::spawn(async move {
                while let Some(p) = prx.recv().await {
                    if !m.uplink(p).await {
                        metrics::counter!("mobstrap_epdg_uplink_dropped_total").increment(1);
                    }
                }
            });
        }
        let (ike, ike_events) = IkeNode::start(node_config).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let (int_tx, int_rx) = mpsc::unbounded_channel();
        let name = spec.ike.node.name.clone();
        info!(node = %name, sockets = ?ike.sockets(), "ePDG up");
        let driver = Driver {
            name,
            ike: ike.clone(),
            relay: relay_client,
            swm,
            resolver,
            mobility,
            default_apn: spec.default_apn,
            dns4: spec.dns4,
            dns6: spec.dns6,
            iid: spec.ipv6_interface_id,
            sessions: HashMap::new(),
            cleanups: 0,
            events: ev_tx,
            internal: int_tx,
        };
        tokio::spawn(driver.run(ike_events, rx, int_rx));
        Ok((
            EpdgHandle {
                tx,
                ike,
                diameter: dn,
            },
            ev_rx,
        ))
    }
}

struct Driver {
    name: String,
    ike: IkeHandle,
    relay: DiameterRelay,
    swm: SwmClient,
    resolver: GatewayResolver,
    mobility: Arc<dyn Mobility>,
    default_apn: Option<String>,
    dns4: Vec<Ipv4Addr>,
    dns6: Vec<Ipv6Addr>,
    iid: u64,
    /// Boxed: a `Session` is ~230 bytes, and a table of them inline is up to half empty
    /// slots of full size.
    sessions: HashMap<SaId, Box<Session>>,
    cleanups: usize,
    events: mpsc::UnboundedSender<EpdgEvent>,
    internal: mpsc::UnboundedSender<Internal>,
}

/// The APN from IDr (TS 24.302 §7.2.2: ID_FQDN carrying the APN), else the default.
fn apn_of(requested: Option<&Identity>, default: Option<&str>) -> Option<String> {
    match requested {
        Some(id) if id.id_type == IdType::Fqdn && !id.data.is_empty() => {
            Some(String::from_utf8_lossy(&id.data).to_ascii_lowercase())
        }
        _ => default.map(str::to_string),
    }
}

/// SWm refusals → TS 24.302 §8.1.2.2 private notifies (docs/epdg.md).
fn aar_notify(code: u32) -> NotifyType {
    match code {
        NO_APN_SUBSCRIPTION => NotifyType::NoApnSubscription,
        5450 => NotifyType::Non3gppAccessToEpcNotAllowed,
        5001 => NotifyType::UserUnknown,
        5003 => NotifyType::AuthorizationRejected,
        5004 => NotifyType::PlmnNotAllowed,
        5452 => NotifyType::RatTypeNotAllowed,
        _ => NotifyType::NetworkFailure,
    }
}

/// PMIPv6 outcomes → notifies (docs/epdg.md).
fn attach_notify(e: &AttachError) -> NotifyType {
    match e {
        AttachError::Status(INSUFFICIENT_RESOURCES) => NotifyType::InternalAddressFailure,
        AttachError::Status(_) => NotifyType::PdnConnectionRejection,
        AttachError::Timeout | AttachError::Local(_) => NotifyType::NetworkFailure,
    }
}

impl Driver {
    async fn run(
        mut self,
        mut ike_events: mpsc::UnboundedReceiver<NodeEvent>,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut internal: mpsc::UnboundedReceiver<Internal>,
    ) {
        loop {
            tokio::select! {
                ev = ike_events.recv() => {
                    let Some(ev) = ev else { return };
                    self.ike_event(ev);
                }
                c = commands.recv() => {
                    match c {
                        Some(Command::Status(tx)) => { let _ = tx.send(self.status()); }
                        Some(Command::Lost { nai, apn }) => self.lost(&nai, &apn),
                        Some(Command::Shutdown(tx)) => {
                            self.shutdown(&mut ike_events, &mut internal).await;
                            let _ = tx.send(());
                            return;
                        }
                        None => {
                            self.shutdown(&mut ike_events, &mut internal).await;
                            return;
                        }
                    }
                }
                i = internal.recv() => {
                    if let Some(i) = i { self.internal(i); }
                }
            }
        }
    }

    fn lost(&mut self, nai: &str, apn: &str) {
        let ids: Vec<SaId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.binding.is_some() && s.nai == nai && s.apn.as_deref() == Some(apn))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            warn!(node = %self.name, sa = id, %nai, %apn, "PMIPv6 binding lost: deleting the IKE SA");
            self.ike.delete(id);
        }
    }

    fn status(&self) -> EpdgStatus {
        EpdgStatus {
            sessions: self.sessions.len(),
            attached: self
                .sessions
                .values()
                .filter(|s| s.phase == Phase::Attached)
                .count(),
            cleanups: self.cleanups,
        }
    }

    async fn shutdown(
        &mut self,
        ike_events: &mut mpsc::UnboundedReceiver<NodeEvent>,
        internal: &mut mpsc::UnboundedReceiver<Internal>,
    ) {
        info!(node = %self.name, sessions = self.sessions.len(), "ePDG stopping");
        self.ike.shutdown().await;
        // the IKE node reported its SAs down: tear their sessions down
        while let Ok(ev) = ike_events.try_recv() {
            self.ike_event(ev);
        }
        let ids: Vec<SaId> = self.sessions.keys().copied().collect();
        for id in ids {
            self.down(id, CloseReason::DeletedLocally);
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while self.cleanups > 0 {
            match tokio::time::timeout_at(deadline, internal.recv()).await {
                Ok(Some(i)) => self.internal(i),
                _ => break,
            }
        }
    }

    fn ike_event(&mut self, ev: NodeEvent) {
        match ev {
            NodeEvent::EapRelay {
                id,
                identity,
                requested,
                cfg,
                packet,
            } => self.relay(id, identity, requested, cfg, packet),
            NodeEvent::NeedAddresses { id, .. } => self.addresses(id),
            NodeEvent::Up { id, info } => {
                let Some(s) = self.sessions.get_mut(&id) else {
                    // not an EAP SA of ours (e.g. PSK-authenticated): nothing to give
                    warn!(node = %self.name, sa = id, "IKE SA up without an ePDG session: deleted");
                    self.ike.delete(id);
                    return;
                };
                let Some((b, home)) = s.binding.clone() else {
                    self.ike.delete(id);
                    return;
                };
                s.phase = Phase::Attached;
                let apn = s.apn.clone().unwrap_or_default();
                metrics::counter!("mobstrap_epdg_attaches_total", "node" => self.name.clone(), "result" => "success").increment(1);
                metrics::histogram!("mobstrap_epdg_attach_duration_seconds", "node" => self.name.clone())
                    .record(s.started.elapsed().as_secs_f64());
                metrics::gauge!("mobstrap_epdg_sessions", "node" => self.name.clone())
                    .increment(1.0);
                info!(node = %self.name, sa = id, nai = %s.nai, apn = %apn, gateway = %b.lma,
                      ip4 = ?info.addresses.ip4, ip6 = ?info.addresses.ip6, "UE attached");
                let _ = self.events.send(EpdgEvent::Attached {
                    sa: id,
                    nai: s.nai.clone(),
                    apn,
                    gateway: b.lma,
                    home_gateway: home,
                    ip4: info.addresses.ip4,
                    ip6: info.addresses.ip6,
                });
            }
            NodeEvent::Down { id, reason } => self.down(id, reason),
            NodeEvent::ChildUp { .. }
            | NodeEvent::ChildDown { .. }
            | NodeEvent::Transport { .. } => {}
        }
    }

    fn relay(
        &mut self,
        id: SaId,
        identity: Identity,
        requested: Option<Identity>,
        cfg: Vec<CfgAttrType>,
        packet: Vec<u8>,
    ) {
        let default_apn = self.default_apn.clone();
        let s = self.sessions.entry(id).or_insert_with(|| {
            let nai = String::from_utf8_lossy(&identity.data).into_owned();
            Box::new(Session {
                aaa: AaaSession::new(&identity.data, None),
                relaying: false,
                apn: apn_of(requested.as_ref(), default_apn.as_deref()),
                want_v4: cfg.contains(&CfgAttrType::InternalIp4Address),
                want_v6: cfg.contains(&CfgAttrType::InternalIp6Address),
                nai,
                phase: Phase::Authenticating,
                aaa_authorized: false,
                binding: None,
                started: Instant::now(),
                dead: false,
            })
        });
        if s.relaying || s.phase != Phase::Authenticating {
            debug!(sa = id, "EAP relay while one is running: ignored");
            return;
        }
        s.relaying = true;
        let mut aaa = s.aaa.clone();
        let relay = self.relay.clone();
        let tx = self.internal.clone();
        tokio::spawn(async move {
            let result = relay.relay(&mut aaa, &packet).await;
            let _ = tx.send(Internal::Relayed { id, aaa, result });
        });
    }

    fn internal(&mut self, i: Internal) {
        match i {
            Internal::Relayed { id, aaa, result } => self.relayed(id, aaa, result),
            Internal::Authorized {
                id,
                result,
                registered,
            } => self.authorized(id, result, registered),
            Internal::CleanupDone => self.cleanups = self.cleanups.saturating_sub(1),
        }
    }

    fn relayed(&mut self, id: SaId, aaa: AaaSession, result: Result<EapReply, AaaError>) {
        let success = matches!(result, Ok(EapReply::Success { .. }));
        let Some(s) = self.sessions.get_mut(&id) else {
            // the SA went away meanwhile: a successful DEA left a session at the AAA
            if success {
                let user = String::from_utf8_lossy(&aaa.user_name).into_owned();
                self.cleanup(aaa.session_id().map(str::to_string), user, None);
            }
            return;
        };
        s.relaying = false;
        s.aaa = aaa;
        match result {
            Ok(EapReply::Request(p)) => self.ike.eap_reply(id, EapReply::Request(p)),
            Ok(EapReply::Failure { packet }) => {
                info!(node = %self.name, sa = id, nai = %s.nai, "EAP failure from the AAA: AUTHENTICATION_FAILED");
                metrics::counter!("mobstrap_epdg_attaches_total", "node" => self.name.clone(), "result" => "authentication_failed").increment(1);
                let nai = s.nai.clone();
                self.sessions.remove(&id);
                self.ike.eap_reply(id, EapReply::Failure { packet });
                let _ = self.events.send(EpdgEvent::Refused {
                    sa: id,
                    nai,
                    notify: NotifyType::AuthenticationFailed,
                    why: "EAP failure".into(),
                });
            }
            Ok(success @ EapReply::Success { .. }) => {
                // steps 9–12 before the EAP-Success reaches the UE (step 13)
                s.aaa_authorized = true;
                s.phase = Phase::Authorizing;
                self.authorize(id, success);
            }
            Err(e) => {
                warn!(node = %self.name, sa = id, error = %e, "SWm DER failed");
                let nai = s.nai.clone();
                self.sessions.remove(&id);
                self.ike.refuse_auth(id, NotifyType::NetworkFailure);
                metrics::counter!("mobstrap_epdg_attaches_total", "node" => self.name.clone(), "result" => "network_failure").increment(1);
                let _ = self.events.send(EpdgEvent::Refused {
                    sa: id,
                    nai,
                    notify: NotifyType::NetworkFailure,
                    why: e.to_string(),
                });
            }
        }
    }

    /// AAR → gateway(s) → PBU/PBA, then the held EAP-Success goes to the UE.
    fn authorize(&mut self, id: SaId, success: EapReply) {
        let Some(s) = self.sessions.get(&id) else {
            return;
        };
        let sid = s.aaa.session_id().map(str::to_string);
        let nai = s.nai.clone();
        let apn = s.apn.clone();
        let (want_v4, want_v6) = if !s.want_v4 && !s.want_v6 {
            (true, true)
        } else {
            (s.want_v4, s.want_v6)
        };
        let swm = self.swm.clone();
        let resolver = self.resolver.clone();
        let mobility = self.mobility.clone();
        let tx = self.internal.clone();
        let name = self.name.clone();
        tokio::spawn(async move {
            let r = async {
                let Some(apn) = apn else {
                    return Err((
                        NotifyType::NoApnSubscription,
                        "no APN in IDr and no [epdg] default_apn".to_string(),
                        false,
                    ));
                };
                let Some(sid) = sid else {
                    return Err((NotifyType::NetworkFailure, "no SWm session".into(), false));
                };
                // step 9–10
                let auth = swm
                    .aar(&sid, &nai, &apn)
                    .await
                    .map_err(|e| (NotifyType::NetworkFailure, format!("AAR: {e}"), false))?;
                let (home, visited) = match auth {
                    Authorization::Granted { home, visited, .. } => (home, visited),
                    Authorization::Refused(code) => {
                        return Err((aar_notify(code), format!("AA-Answer {code}"), false))
                    }
                };
                let Some(home) = home.or(visited.clone()) else {
                    return Err((
                        NotifyType::NetworkFailure,
                        "the AA-Answer names no gateway for the APN".into(),
                        false,
                    ));
                };
                let home_ip = resolver
                    .resolve(&home)
                    .await
                    .map_err(|e| (NotifyType::NetworkFailure, format!("gateway: {e}"), false))?;
                let (lma, home_gw) = match &visited {
                    Some(v) => {
                        let v_ip = resolver.resolve(v).await.map_err(|e| {
                            (NotifyType::NetworkFailure, format!("visited gateway: {e}"), false)
                        })?;
                        if v_ip == home_ip {
                            (home_ip, None)
                        } else {
                            (v_ip, Some(home_ip))
                        }
                    }
                    None => (home_ip, None),
                };
                info!(node = %name, sa = id, %nai, %apn, gateway = %lma, home_gateway = ?home_gw, "PBU");
                // steps 11–14
                let b = mobility
                    .attach(AttachRequest {
                        nai: nai.clone(),
                        apn,
                        want_v4,
                        want_v6,
                        lma,
                        home_gw,
                    })
                    .await
                    .map_err(|e| (attach_notify(&e), e.to_string(), false))?;
                Ok((b, home_gw))
            }
            .await;
            let (result, registered) = match r {
                Ok(b) => (Ok((b, success)), true),
                Err((n, why, reg)) => (Err((n, why)), reg),
            };
            let _ = tx.send(Internal::Authorized {
                id,
                result,
                registered,
            });
        });
    }

    fn authorized(&mut self, id: SaId, result: AuthResult, registered: bool) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        if s.dead {
            // the SA went away while registering: undo the registration, end the AAA session
            let s = match self.sessions.remove(&id) {
                Some(s) => s,
                None => return,
            };
            let key = (registered || result.is_ok())
                .then(|| (s.nai.clone(), s.apn.clone().unwrap_or_default()));
            self.cleanup(s.aaa.session_id().map(str::to_string), s.nai, key);
            return;
        }
        match result {
            Ok((b, success)) => {
                debug!(sa = id, binding = ?b.0, "PBA: EAP-Success to the UE");
                s.binding = Some(b);
                s.phase = Phase::Registered;
                // step 13/15: the EAP-Success the AAA sent, now that the binding is known
                self.ike.eap_reply(id, success);
            }
            Err((notify, why)) => {
                info!(node = %self.name, sa = id, nai = %s.nai, %notify, %why, "PDN connection refused");
                metrics::counter!("mobstrap_epdg_attaches_total", "node" => self.name.clone(), "result" => notify.to_string()).increment(1);
                let s = match self.sessions.remove(&id) {
                    Some(s) => s,
                    None => return,
                };
                self.ike.refuse_auth(id, notify);
                let key = registered.then(|| (s.nai.clone(), s.apn.clone().unwrap_or_default()));
                self.cleanup(s.aaa.session_id().map(str::to_string), s.nai.clone(), key);
                let _ = self.events.send(EpdgEvent::Refused {
                    sa: id,
                    nai: s.nai,
                    notify,
                    why,
                });
            }
        }
    }

    fn addresses(&mut self, id: SaId) {
        let Some(s) = self.sessions.get(&id) else {
            self.ike.fail_addresses(id);
            return;
        };
        let Some((b, _)) = &s.binding else {
            self.ike.fail_addresses(id);
            return;
        };
        let mut a = Addresses {
            ip4: b.v4.map(|(a, _)| a),
            ip6: b.hnp.map(|(p, len)| {
                let base = u128::from(p) & (u128::MAX << (128 - u32::from(len.min(64))));
                (Ipv6Addr::from(base | u128::from(self.iid)), len)
            }),
            ..Default::default()
        };
        if a.ip4.is_some() {
            a.ip4_netmask = b.v4.map(|(_, l)| {
                Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(l.min(32))).unwrap_or(0))
            });
            a.dns4 = self.dns4.clone();
        }
        if a.ip6.is_some() {
            a.dns6 = self.dns6.clone();
        }
        self.ike.provide_addresses(id, a);
    }

    fn down(&mut self, id: SaId, reason: CloseReason) {
        let Some(s) = self.sessions.remove(&id) else {
            return;
        };
        let attached = s.phase == Phase::Attached;
        if attached {
            metrics::gauge!("mobstrap_epdg_sessions", "node" => self.name.clone()).decrement(1.0);
            info!(node = %self.name, sa = id, nai = %s.nai, ?reason, "UE detached: PBU lifetime 0, STR");
            let _ = self.events.send(EpdgEvent::Detached {
                sa: id,
                nai: s.nai.clone(),
                reason,
            });
        } else {
            debug!(sa = id, ?reason, phase = ?s.phase, "SA down before attach");
        }
        let key = s
            .binding
            .as_ref()
            .map(|_| (s.nai.clone(), s.apn.clone().unwrap_or_default()));
        if s.phase == Phase::Authorizing {
            // the authorization task still runs: its report undoes what it did
            self.sessions
                .insert(id, Box::new(Session { dead: true, ..*s }));
            return;
        }
        let sid = if s.aaa_authorized {
            s.aaa.session_id().map(str::to_string)
        } else {
            None
        };
        self.cleanup(sid, s.nai, key);
    }

    /// De-registration and STR in the background; counted until done.
    fn cleanup(&mut self, sid: Option<String>, user: String, key: Option<(String, String)>) {
        if sid.is_none() && key.is_none() {
            return;
        }
        self.cleanups += 1;
        let swm = self.swm.clone();
        let mobility = self.mobility.clone();
        let tx = self.internal.clone();
        tokio::spawn(async move {
            if let Some((nai, apn)) = key {
                mobility.detach(&nai, &apn).await;
            }
            if let Some(sid) = sid {
                match swm.str(&sid, &user).await {
                    Ok(2001) => {}
                    Ok(rc) => debug!(session = %sid, rc, "STA"),
                    Err(e) => warn!(session = %sid, error = %e, "STR failed"),
                }
            }
            let _ = tx.send(Internal::CleanupDone);
        });
    }
}
