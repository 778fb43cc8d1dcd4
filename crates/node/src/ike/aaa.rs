//! EAP relays for an IKEv2 responder: the EAP packets the engine hands out
//! ([`super::NodeEvent::EapRelay`]) go to a AAA server and its answers come back as
//! [`EapReply`]s.
//!
//! * RADIUS (RFC 3579): Access-Request with EAP-Message, Message-Authenticator and the
//!   State of the previous Access-Challenge; Access-Accept carries the MSK in the MS-MPPE
//!   keys (RFC 2548). The client engine is `mobstrap_proto::radius::RadiusClient`
//!   (retransmissions, answer verification).
//! * Diameter (RFC 4072 DER/DEA, as the ePDG's SWm, TS 29.273 §7.1.2.1): one Session-Id per
//!   IKE SA; DEA 1001 (multi-round) carries the next EAP Request, 2001 the EAP-Success and
//!   EAP-Master-Session-Key, anything else fails the SA with the EAP-Failure the AAA sent
//!   (or one we build). Transport, routing and failover are the Diameter node's.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mobstrap_crypto::SecretVec;
use mobstrap_proto::ikev2::EapReply;
use mobstrap_proto::radius::{ClientConfig, RadiusClient};
use mobstrap_wire::diameter::{app, commands, dict, AvpRepr};
use mobstrap_wire::radius::{AttrType, Attribute, Code};
use rand::RngCore;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tracing::debug;

use crate::diameter::DiameterNode;

/// Relay errors (the SA then fails: the engine answers AUTHENTICATION_FAILED after its
/// application timeout, or at once when the caller replies with a Failure).
#[derive(Debug, thiserror::Error)]
pub enum AaaError {
    #[error("aaa: no answer from the AAA server")]
    Timeout,
    #[error("aaa: {0}")]
    Io(#[from] std::io::Error),
    #[error("aaa: radius: {0}")]
    Radius(String),
    #[error("aaa: diameter: {0}")]
    Diameter(String),
    #[error("aaa: the relay has stopped")]
    Stopped,
}

/// Per-IKE-SA relay state (RADIUS State, Diameter Session-Id).
#[derive(Debug, Default, Clone)]
pub struct AaaSession {
    state: Option<Vec<u8>>,
    session_id: Option<String>,
    /// The User-Name (the EAP identity from IDi).
    pub user_name: Vec<u8>,
    /// The peer's outer address (Calling-Station-Id / UE-Local-IP-Address).
    pub peer: Option<SocketAddr>,
}

impl AaaSession {
    /// The Diameter Session-Id of this SA's DER/DEA, once the first DER went out (the
    /// ePDG's AAR and STR use the same one).
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    pub fn new(user_name: &[u8], peer: Option<SocketAddr>) -> Self {
        AaaSession {
            user_name: user_name.to_vec(),
            peer,
            ..Default::default()
        }
    }
}

/// A AAA client for EAP relaying.
#[derive(Clone)]
pub enum AaaClient {
    Radius(RadiusRelay),
    Diameter(DiameterRelay),
}

impl AaaClient {
    /// Forwards one EAP packet and waits for the AAA's answer.
    pub async fn relay(&self, s: &mut AaaSession, eap: &[u8]) -> Result<EapReply, AaaError> {
        match self {
            AaaClient::Radius(r) => r.relay(s, eap).await,
            AaaClient::Diameter(d) => d.relay(s, eap).await,
        }
    }
}

/// An EAP-Failure with the identifier of the packet it answers (when the AAA sent none).
fn eap_failure(identifier: u8) -> Vec<u8> {
    vec![4, identifier, 0, 4]
}

// ---------------------------------------------------------------- RADIUS

struct RadiusReq {
    session: AaaSession,
    eap: Vec<u8>,
    reply: oneshot::Sender<Result<(EapReply, AaaSession), AaaError>>,
}

/// RADIUS relay: one UDP socket towards one server, one task owning the client engine.
#[derive(Clone)]
pub struct RadiusRelay {
    tx: mpsc::UnboundedSender<RadiusReq>,
}

/// RADIUS relay settings.
#[derive(Debug, Clone)]
pub struct RadiusSettings {
    pub server: SocketAddr,
    pub secret: Vec<u8>,
    pub nas_identifier: String,
    pub retransmit: Duration,
    pub max_sends: u32,
}

impl RadiusRelay {
    pub async fn start(s: RadiusSettings) -> Result<RadiusRelay, AaaError> {
        let bind: SocketAddr = if s.server.is_ipv4() {
            "0.0.0.0:0".parse().map_err(|_| AaaError::Stopped)?
        } else {
            "[::]:0".parse().map_err(|_| AaaError::Stopped)?
        };
        let sock = UdpSocket::bind(bind).await?;
        sock.connect(s.server).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(radius_task(sock, s, rx));
        Ok(RadiusRelay { tx })
    }

    pub async fn relay(&self, s: &mut AaaSession, eap: &[u8]) -> Result<EapReply, AaaError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(RadiusReq {
                session: s.clone(),
                eap: eap.to_vec(),
                reply,
            })
            .map_err(|_| AaaError::Stopped)?;
        let (r, next) = rx.await.map_err(|_| AaaError::Stopped)??;
        *s = next;
        Ok(r)
    }
}

async fn radius_task(
    sock: UdpSocket,
    s: RadiusSettings,
    mut rx: mpsc::UnboundedReceiver<RadiusReq>,
) {
    let mut client = RadiusClient::new(
        &s.secret,
        ClientConfig {
            retransmit: s.retransmit,
            max_sends: s.max_sends,
        },
    );
    let mut waiting: std::collections::HashMap<u8, RadiusReq> = Default::default();
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut buf = vec![0u8; 4096];
    loop {
        let sleep_to = client
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            r = rx.recv() => {
                let Some(req) = r else { return };
                let mut auth = [0u8; 16];
                rng.fill_bytes(&mut auth);
                let calling = req.session.peer.map(|p| p.ip().to_string()).unwrap_or_default();
                let mut extra = vec![
                    Attribute::octets(AttrType::NasIdentifier, s.nas_identifier.as_bytes()),
                    Attribute::integer(AttrType::ServiceType, 2),   // Framed
                    Attribute::integer(AttrType::NasPortType, 5),   // Virtual
                ];
                if !calling.is_empty() {
                    extra.push(Attribute::octets(AttrType::CallingStationId, calling.as_bytes()));
                }
                let user = (!req.session.user_name.is_empty()).then_some(&req.session.user_name[..]);
                match client.access_request(&req.eap, user, req.session.state.as_deref(), &extra, auth, Instant::now()) {
                    Ok((id, bytes)) => {
                        if let Err(e) = sock.send(&bytes).await {
                            let _ = req.reply.send(Err(e.into()));
                            continue;
                        }
                        waiting.insert(id, req);
                    }
                    Err(e) => { let _ = req.reply.send(Err(AaaError::Radius(e.to_string()))); }
                }
            }
            r = sock.recv(&mut buf) => {
                let Ok(n) = r else { continue };
                match client.handle_answer(&buf[..n]) {
                    Ok(a) => {
                        let Some(req) = waiting.remove(&a.identifier) else { continue };
                        let mut session = req.session;
                        session.state = a.state.clone();
                        let id = req.eap.get(1).copied().unwrap_or(0);
                        let reply = match a.code {
                            Code::AccessChallenge => EapReply::Request(a.eap),
                            Code::AccessAccept => match a.msk {
                                Some(msk) => EapReply::Success {
                                    packet: if a.eap.is_empty() { vec![3, id, 0, 4] } else { a.eap },
                                    msk: SecretVec::from_slice(&msk),
                                    emsk: None,
                                },
                                None => {
                                    tracing::warn!("Access-Accept without MS-MPPE keys: no MSK, authentication fails");
                                    EapReply::Failure { packet: eap_failure(id) }
                                }
                            },
                            _ => EapReply::Failure {
                                packet: if a.eap.is_empty() { eap_failure(id) } else { a.eap },
                            },
                        };
                        let _ = req.reply.send(Ok((reply, session)));
                    }
                    Err(e) => debug!(error = %e, "RADIUS answer dropped"),
                }
            }
            _ = tokio::time::sleep_until(sleep_to.into()) => {
                for t in client.handle_timeout(Instant::now()) {
                    match t {
                        mobstrap_proto::radius::client::Timer::Retransmit(b) => { let _ = sock.send(&b).await; }
                        mobstrap_proto::radius::client::Timer::GaveUp(id) => {
                            if let Some(req) = waiting.remove(&id) {
                                let _ = req.reply.send(Err(AaaError::Timeout));
                            }
                        }
                    }
                }
            }
        }
    }
}

use rand::SeedableRng;

// ---------------------------------------------------------------- Diameter

/// Diameter relay settings.
#[derive(Debug, Clone)]
pub struct DiameterSettings {
    /// Destination-Realm of the DERs.
    pub destination_realm: String,
    /// Destination-Host, when one server is meant.
    pub destination_host: Option<String>,
    /// SWm (16777264, TS 29.273) or the base EAP application (5, RFC 4072).
    pub application: u32,
}

/// Diameter relay over a running [`DiameterNode`].
#[derive(Clone)]
pub struct DiameterRelay {
    node: DiameterNode,
    settings: Arc<DiameterSettings>,
    counter: Arc<AtomicU64>,
    epoch: u64,
}

impl DiameterRelay {
    pub fn new(node: DiameterNode, settings: DiameterSettings) -> Self {
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        DiameterRelay {
            node,
            settings: Arc::new(settings),
            counter: Arc::new(AtomicU64::new(1)),
            epoch,
        }
    }

    pub fn node(&self) -> &DiameterNode {
        &self.node
    }

    pub async fn relay(&self, s: &mut AaaSession, eap: &[u8]) -> Result<EapReply, AaaError> {
        let sid = match &s.session_id {
            Some(x) => x.clone(),
            None => {
                let n = self.counter.fetch_add(1, Ordering::Relaxed);
                let x = format!(
                    "{};{};{};ike",
                    self.node.identity().origin_host,
                    self.epoch,
                    n
                );
                s.session_id = Some(x.clone());
                x
            }
        };
        let appid = self.settings.application;
        let mut der = self.node.new_request(commands::DIAMETER_EAP, appid);
        der.avps.insert(0, AvpRepr::utf8(&dict::SESSION_ID, &sid));
        der.push(AvpRepr::u32(&dict::AUTH_APPLICATION_ID, appid));
        der.push(AvpRepr::utf8(
            &dict::DESTINATION_REALM,
            &self.settings.destination_realm,
        ));
        if let Some(h) = &self.settings.destination_host {
            der.push(AvpRepr::utf8(&dict::DESTINATION_HOST, h));
        }
        // AUTHORIZE_AUTHENTICATE (3) on SWm, AUTHENTICATE_ONLY (1) on the base application
        der.push(AvpRepr::enumerated(
            &dict::AUTH_REQUEST_TYPE_AVP,
            if appid == app::SWM { 3 } else { 1 },
        ));
        der.push(AvpRepr::octets(&dict::EAP_PAYLOAD, eap));
        let user = String::from_utf8_lossy(&s.user_name).into_owned();
        if !user.is_empty() {
            der.push(AvpRepr::utf8(&dict::USER_NAME, &user));
        }
        if appid == app::SWM {
            der.push(AvpRepr::enumerated(&dict::RAT_TYPE_AVP, 0)); // WLAN
        }
        let bytes = der
            .to_vec()
            .map_err(|e| AaaError::Diameter(e.to_string()))?;
        let ans = self
            .node
            .request(bytes)
            .await
            .map_err(|e| AaaError::Diameter(format!("{e:?}")))?;
        let m = ans
            .message()
            .map_err(|e| AaaError::Diameter(e.to_string()))?;
        let rc = m.result_code().or_else(|| {
            m.get(&dict::EXPERIMENTAL_RESULT)
                .and_then(|g| g.grouped().ok())
                .and_then(|g| g.get(&dict::EXPERIMENTAL_RESULT_CODE))
                .and_then(|a| a.u32().ok())
        });
        let payload = m.get(&dict::EAP_PAYLOAD).map(|a| a.octets().to_vec());
        let id = eap.get(1).copied().unwrap_or(0);
        Ok(match rc {
            Some(1001) => match payload {
                Some(p) => EapReply::Request(p),
                None => return Err(AaaError::Diameter("DEA 1001 without EAP-Payload".into())),
            },
            Some(2001) => {
                let msk = m.get(&dict::EAP_MASTER_SESSION_KEY).map(|a| a.octets());
                match msk {
                    Some(k) => EapReply::Success {
                        packet: payload.unwrap_or_else(|| vec![3, id, 0, 4]),
                        msk: SecretVec::from_slice(k),
                        emsk: None,
                    },
                    None => EapReply::Failure {
                        packet: eap_failure(id),
                    },
                }
            }
            other => {
                debug!(result = ?other, session = %sid, "DEA refused");
                EapReply::Failure {
                    packet: payload.unwrap_or_else(|| eap_failure(id)),
                }
            }
        })
    }
}
