//! Clients of the AAA for tests and the load generator (`mobstrap bench aaa`): a RADIUS NAS
//! endpoint (one UDP socket, many requests in flight, retransmissions) and a Diameter
//! ePDG/MAG driver (a `DiameterNode` client), each running whole EAP conversations with an
//! `AkaEapPeer` (a Milenage USIM).
//!
//! Nothing here is a stand-in for the server: these are the NAS's and the ePDG's halves,
//! built on the same engines (`RadiusClient`, the Diameter stack, the EAP peer).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mobstrap_proto::eap::{AkaEapPeer, PeerEvent, PeerSuccess};
use mobstrap_proto::radius::{Answer, ClientConfig, ClientError, RadiusClient};
use mobstrap_wire::diameter::commands;
use mobstrap_wire::diameter::{dict, AvpRepr as A, Message};
use mobstrap_wire::radius::Code;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

use crate::diameter::{DiameterNode, RequestError};

/// Why a client-side conversation did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ClientFailure {
    #[error("no answer after every retransmission")]
    Timeout,
    #[error("radius: {0}")]
    Radius(#[from] ClientError),
    #[error("diameter: {0}")]
    Diameter(#[from] RequestError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("the peer had nothing to send (the server's EAP message was discarded)")]
    PeerSilent,
    #[error("more than {0} rounds")]
    TooManyRounds(usize),
    #[error("malformed answer: {0}")]
    Malformed(String),
}

/// The EAP-Request/Identity a NAS sends first (what the peer answers with its identity).
pub fn identity_request(id: u8) -> [u8; 5] {
    [1, id, 0, 5, 1]
}

/// Feeds a Request to the peer; the peer's Response, if any.
fn peer_answer(ue: &mut AkaEapPeer, req: &[u8]) -> Option<Vec<u8>> {
    ue.handle_request(req, &mut rand::rng()).ok()?;
    ue.poll_transmit().map(<[u8]>::to_vec)
}

fn peer_events(ue: &mut AkaEapPeer, out: &mut Vec<PeerEvent>) {
    while let Some(e) = ue.poll_event() {
        out.push(e);
    }
}

/// A RADIUS NAS: one UDP socket, up to 256 requests in flight (the Identifier space).
pub struct RadiusNas {
    sock: Arc<UdpSocket>,
    server: SocketAddr,
    engine: Arc<Mutex<RadiusClient>>,
    waiters: Arc<Mutex<HashMap<u8, oneshot::Sender<Answer>>>>,
    reader: tokio::task::JoinHandle<()>,
    /// First retransmission after this long (doubling), and how many sends in all.
    pub retransmit: Duration,
    pub max_sends: u32,
}

impl Drop for RadiusNas {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl RadiusNas {
    /// Binds a socket on `local` (port 0 for any) towards `server`.
    pub async fn new(
        local: SocketAddr,
        server: SocketAddr,
        secret: &[u8],
    ) -> std::io::Result<Self> {
        let sock = Arc::new(UdpSocket::bind(local).await?);
        let engine = Arc::new(Mutex::new(RadiusClient::new(
            secret,
            ClientConfig::default(),
        )));
        let waiters: Arc<Mutex<HashMap<u8, oneshot::Sender<Answer>>>> = Arc::default();
        let reader = {
            let (sock, engine, waiters) = (sock.clone(), engine.clone(), waiters.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                loop {
                    let Ok((n, _)) = sock.recv_from(&mut buf).await else {
                        continue;
                    };
                    let ans = engine
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .handle_answer(&buf[..n]);
                    if let Ok(a) = ans {
                        let w = waiters
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&a.identifier);
                        if let Some(w) = w {
                            let _ = w.send(a);
                        }
                    }
                }
            })
        };
        Ok(RadiusNas {
            sock,
            server,
            engine,
            waiters,
            reader,
            retransmit: Duration::from_secs(1),
            max_sends: 3,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// Requests in flight.
    pub fn outstanding(&self) -> usize {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Builds and signs an Access-Request (nothing is sent).
    pub fn build(
        &self,
        eap: &[u8],
        user_name: Option<&[u8]>,
        state: Option<&[u8]>,
    ) -> Result<(u8, Vec<u8>), ClientFailure> {
        let auth: [u8; 16] = rand::random();
        Ok(self
            .engine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .access_request(eap, user_name, state, &[], auth, Instant::now())?)
    }

    /// Sends a built request (again: a retransmission keeps identifier and authenticator)
    /// and waits for its answer, retransmitting.
    pub async fn exchange(&self, id: u8, bytes: &[u8]) -> Result<Answer, ClientFailure> {
        let (tx, mut rx) = oneshot::channel();
        self.waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, tx);
        let mut wait = self.retransmit;
        for _ in 0..self.max_sends.max(1) {
            self.sock.send_to(bytes, self.server).await?;
            match tokio::time::timeout(wait, &mut rx).await {
                Ok(Ok(a)) => return Ok(a),
                Ok(Err(_)) => break,
                Err(_) => wait *= 2,
            }
        }
        self.waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        // Free the identifier in the engine.
        let _ = self
            .engine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .handle_timeout(Instant::now() + Duration::from_secs(3600));
        Err(ClientFailure::Timeout)
    }

    /// One Access-Request / answer.
    pub async fn request(
        &self,
        eap: &[u8],
        user_name: Option<&[u8]>,
        state: Option<&[u8]>,
    ) -> Result<Answer, ClientFailure> {
        let (id, bytes) = self.build(eap, user_name, state)?;
        self.exchange(id, &bytes).await
    }

    /// A whole EAP conversation for `ue`: EAP-Response/Identity in the first
    /// Access-Request, then Access-Challenge rounds until Accept or Reject.
    pub async fn authenticate(&self, ue: &mut AkaEapPeer) -> Result<RadiusAuth, ClientFailure> {
        let mut events = Vec::new();
        let mut resp = peer_answer(ue, &identity_request(0)).ok_or(ClientFailure::PeerSilent)?;
        let identity = resp.get(5..).unwrap_or_default().to_vec();
        let mut state: Option<Vec<u8>> = None;
        let mut requests = Vec::new();
        for round in 1..=20 {
            let ans = self
                .request(&resp, Some(&identity), state.as_deref())
                .await?;
            match ans.code {
                Code::AccessChallenge => {
                    state = ans.state.clone();
                    requests.push(ans.eap.clone());
                    let r = peer_answer(ue, &ans.eap);
                    peer_events(ue, &mut events);
                    resp = r.ok_or(ClientFailure::PeerSilent)?;
                }
                code => {
                    if !ans.eap.is_empty() {
                        let _ = ue.handle_request(&ans.eap, &mut rand::rng());
                    }
                    peer_events(ue, &mut events);
                    return Ok(RadiusAuth {
                        code,
                        msk: ans.msk,
                        rounds: round,
                        events,
                        requests,
                    });
                }
            }
        }
        Err(ClientFailure::TooManyRounds(20))
    }
}

/// The end of a RADIUS conversation.
#[derive(Debug)]
pub struct RadiusAuth {
    /// Access-Accept or Access-Reject.
    pub code: Code,
    /// From MS-MPPE-Recv-Key | MS-MPPE-Send-Key.
    pub msk: Option<Vec<u8>>,
    /// Access-Requests sent.
    pub rounds: usize,
    pub events: Vec<PeerEvent>,
    /// The EAP Requests of the Access-Challenges, in order.
    pub requests: Vec<Vec<u8>>,
}

impl RadiusAuth {
    /// SQNs of the AKA-Challenges seen (recovered with the subscriber's K/OPc).
    pub fn sqns(&self, k: &[u8; 16], opc: &[u8; 16]) -> Vec<u64> {
        self.requests
            .iter()
            .filter_map(|r| challenge_sqn(r, k, opc))
            .collect()
    }
    pub fn peer_success(&self) -> Option<&PeerSuccess> {
        self.events.iter().find_map(|e| match e {
            PeerEvent::Success(s) => Some(&**s),
            _ => None,
        })
    }
}

/// What a DER carries besides the EAP-Payload.
#[derive(Debug, Clone)]
pub struct DerOptions {
    /// EAP (5), SWm or STa.
    pub app: u32,
    pub destination_realm: String,
    pub destination_host: Option<String>,
    /// RAT-Type (SWm/STa; 0 = WLAN).
    pub rat_type: Option<i32>,
    pub service_selection: Option<String>,
    pub visited_network: Option<String>,
    pub mip6_feature_vector: Option<u64>,
    /// ANID (STa).
    pub anid: Option<String>,
}

impl DerOptions {
    /// An SWm DER as an ePDG sends it.
    pub fn swm(realm: &str) -> Self {
        DerOptions {
            app: mobstrap_wire::diameter::app::SWM,
            destination_realm: realm.to_string(),
            destination_host: None,
            rat_type: Some(0),
            service_selection: None,
            visited_network: None,
            mip6_feature_vector: None,
            anid: None,
        }
    }
}

/// The end of a Diameter EAP conversation.
#[derive(Debug)]
pub struct DiameterAuth {
    /// Result-Code or Experimental-Result-Code of every DEA, in order.
    pub results: Vec<u32>,
    /// The last DEA.
    pub last: Vec<u8>,
    pub events: Vec<PeerEvent>,
    /// The EAP Requests of the DEAs with 1001, in order.
    pub requests: Vec<Vec<u8>>,
}

impl DiameterAuth {
    /// SQNs of the AKA-Challenges seen (recovered with the subscriber's K/OPc).
    pub fn sqns(&self, k: &[u8; 16], opc: &[u8; 16]) -> Vec<u64> {
        self.requests
            .iter()
            .filter_map(|r| challenge_sqn(r, k, opc))
            .collect()
    }
    pub fn peer_success(&self) -> Option<&PeerSuccess> {
        self.events.iter().find_map(|e| match e {
            PeerEvent::Success(s) => Some(&**s),
            _ => None,
        })
    }
    /// The final result (Result-Code, or Experimental-Result-Code).
    pub fn result(&self) -> u32 {
        self.results.last().copied().unwrap_or(0)
    }
    pub fn message(&self) -> Option<Message<'_>> {
        Message::parse(&self.last).ok()
    }
}

/// The result of an answer: Result-Code, else the Experimental-Result-Code.
pub fn answer_result(m: &Message<'_>) -> u32 {
    m.result_code()
        .or_else(|| m.experimental_result().map(|(_, c)| c))
        .unwrap_or(0)
}

/// A whole EAP conversation over Diameter DER/DEA with `session_id`.
pub async fn diameter_authenticate(
    node: &DiameterNode,
    opts: &DerOptions,
    session_id: &str,
    ue: &mut AkaEapPeer,
) -> Result<DiameterAuth, ClientFailure> {
    let mut events = Vec::new();
    let mut results = Vec::new();
    let mut requests = Vec::new();
    let mut resp = peer_answer(ue, &identity_request(0)).ok_or(ClientFailure::PeerSilent)?;
    let identity = String::from_utf8_lossy(resp.get(5..).unwrap_or_default()).into_owned();
    for _ in 0..20 {
        let mut der = node.new_request(commands::DIAMETER_EAP, opts.app);
        der.avps.insert(0, A::utf8(&dict::SESSION_ID, session_id));
        der.push(A::u32(&dict::AUTH_APPLICATION_ID, opts.app));
        der.push(A::utf8(&dict::DESTINATION_REALM, &opts.destination_realm));
        if let Some(h) = &opts.destination_host {
            der.push(A::utf8(&dict::DESTINATION_HOST, h));
        }
        der.push(A::enumerated(&dict::AUTH_REQUEST_TYPE_AVP, 3));
        der.push(A::octets(&dict::EAP_PAYLOAD, &resp));
        der.push(A::utf8(&dict::USER_NAME, &identity));
        if let Some(r) = opts.rat_type {
            der.push(A::enumerated(&dict::RAT_TYPE_AVP, r));
        }
        if let Some(a) = &opts.anid {
            der.push(A::utf8(&dict::ANID, a));
        }
        if let Some(s) = &opts.service_selection {
            der.push(A::utf8(&dict::SERVICE_SELECTION, s));
        }
        if let Some(v) = &opts.visited_network {
            der.push(A::octets(&dict::VISITED_NETWORK_IDENTIFIER, v.as_bytes()));
        }
        if let Some(f) = opts.mip6_feature_vector {
            der.push(A::u64(&dict::MIP6_FEATURE_VECTOR, f));
        }
        let bytes = der
            .to_vec()
            .map_err(|e| ClientFailure::Malformed(e.to_string()))?;
        let ans = node.request(bytes).await?;
        let m = ans
            .message()
            .map_err(|e| ClientFailure::Malformed(e.to_string()))?;
        let result = answer_result(&m);
        results.push(result);
        let eap = m.get(&dict::EAP_PAYLOAD).map(|a| a.octets().to_vec());
        if result == 1001 {
            let eap =
                eap.ok_or_else(|| ClientFailure::Malformed("1001 without EAP-Payload".into()))?;
            requests.push(eap.clone());
            let r = peer_answer(ue, &eap);
            peer_events(ue, &mut events);
            resp = r.ok_or(ClientFailure::PeerSilent)?;
            continue;
        }
        if let Some(e) = eap {
            let _ = ue.handle_request(&e, &mut rand::rng());
        }
        peer_events(ue, &mut events);
        return Ok(DiameterAuth {
            results,
            last: ans.bytes().to_vec(),
            events,
            requests,
        });
    }
    Err(ClientFailure::TooManyRounds(20))
}

/// The SQN of an EAP-AKA / AKA' Challenge: SQN = (SQN ⊕ AK) ⊕ AK, AK = f5(K, OPc, RAND).
pub fn challenge_sqn(eap: &[u8], k: &[u8; 16], opc: &[u8; 16]) -> Option<u64> {
    use mobstrap_wire::eap::aka::Attribute;
    use mobstrap_wire::eap::{Body, Data, Repr};
    let r = Repr::parse(eap).ok()?;
    let m = match r.body {
        Body::Request(Data::Aka(m)) | Body::Request(Data::AkaPrime(m)) => m,
        _ => return None,
    };
    let mut rand = None;
    let mut autn = None;
    for a in &m.attributes {
        match a {
            Attribute::Rand { rand: r, .. } => rand = Some(**r),
            Attribute::Autn { autn: x, .. } => autn = Some(**x),
            _ => {}
        }
    }
    let (rand, autn) = (rand?, autn?);
    let ak = mobstrap_crypto::milenage::Milenage::new(k, opc)
        .f2345(&rand)
        .ak;
    let mut sqn = [0u8; 6];
    for i in 0..6 {
        sqn[i] = autn[i] ^ ak[i];
    }
    Some(mobstrap_crypto::milenage::sqn_from_bytes(&sqn))
}
