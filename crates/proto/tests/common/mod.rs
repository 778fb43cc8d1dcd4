//! An in-memory HSS/store and a driver that runs whole EAP conversations between the server
//! engine and the peer engine, answering every `Need` like the AAA node would.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use mobstrap_crypto::milenage::{AuthVector, Milenage};
use mobstrap_proto::eap::{
    AkaEapPeer, AkaEapServer, AkaPeerConfig, AkaServerConfig, Event, Method, Need, PeerEvent,
    ReauthContext, ServerConfig, SqnPolicy, Usim, VectorError,
};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

pub const IMSI: &str = "001010000000001";
pub const REALM: &str = "nai.epc.mnc001.mcc001.3gppnetwork.org";
pub const K: [u8; 16] = [
    0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc,
];
pub const OPC: [u8; 16] = [
    0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf,
];

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub struct Subscriber {
    pub milenage: Milenage,
    pub sqn: u64,
    /// The HSS ignores AUTS (to test the resync limit).
    pub ignore_resync: bool,
}

/// The HSS and the store as the node would run them.
#[derive(Default)]
pub struct Hss {
    pub subs: HashMap<String, Subscriber>,
    pub pseudonyms: HashMap<String, String>,
    pub reauth: HashMap<String, ReauthContext>,
    /// Vectors handed out, last last.
    pub vectors: Vec<AuthVector>,
    /// Fixed RAND for the next vector (RFC test vectors).
    pub fixed_rand: Option<[u8; 16]>,
    /// AMF override.
    pub amf: Option<[u8; 2]>,
    /// Corrupt XRES of every vector.
    pub corrupt_xres: bool,
    /// Corrupt CK of every vector (the peer will reject AT_MAC).
    pub corrupt_ck: bool,
    pub resyncs_seen: usize,
}

impl Hss {
    pub fn with_subscriber(imsi: &str, k: &[u8; 16], opc: &[u8; 16], sqn: u64) -> Self {
        let mut h = Hss::default();
        h.subs.insert(
            imsi.to_string(),
            Subscriber {
                milenage: Milenage::new(k, opc),
                sqn,
                ignore_resync: false,
            },
        );
        h
    }

    pub fn vector(
        &mut self,
        imsi: &str,
        method: Method,
        resync: Option<mobstrap_proto::eap::Resync>,
        rng: &mut dyn RngCore,
    ) -> Result<AuthVector, VectorError> {
        let sub = self
            .subs
            .get_mut(imsi)
            .ok_or(VectorError::UnknownSubscriber)?;
        if let Some(r) = resync {
            self.resyncs_seen += 1;
            let sqn_ms = sub
                .milenage
                .resync(&r.rand, &r.auts)
                .map_err(|_| VectorError::ResyncFailed)?;
            if !sub.ignore_resync {
                sub.sqn = sqn_ms;
            }
        }
        sub.sqn += 1;
        let mut rand = [0u8; 16];
        rng.fill_bytes(&mut rand);
        let rand = self.fixed_rand.unwrap_or(rand);
        let amf = self.amf.unwrap_or(match method {
            Method::AkaPrime => [0x80, 0x00],
            Method::Aka => [0x00, 0x00],
        });
        let mut v = sub
            .milenage
            .generate_vector(&rand, sub.sqn, amf)
            .map_err(|_| VectorError::Unavailable)?;
        if self.corrupt_xres {
            v.xres[0] ^= 1;
        }
        if self.corrupt_ck {
            let mut ck = *v.ck.as_bytes();
            ck[0] ^= 1;
            v.ck = ck.into();
        }
        self.vectors.push(v.clone());
        Ok(v)
    }
}

/// Everything that happened in one conversation.
#[derive(Default, Debug)]
pub struct Transcript {
    pub server_events: Vec<Event>,
    pub peer_events: Vec<PeerEvent>,
    pub server_outcome: Option<bool>,
    /// Every packet, server's first, alternating.
    pub packets: Vec<Vec<u8>>,
    pub needs: Vec<Need>,
}

impl Transcript {
    pub fn server_success(&self) -> Option<&mobstrap_proto::eap::AuthSuccess> {
        self.server_events.iter().find_map(|e| match e {
            Event::Success(s) => Some(&**s),
            _ => None,
        })
    }
    pub fn server_failure(&self) -> Option<&mobstrap_proto::eap::AuthFailure> {
        self.server_events.iter().find_map(|e| match e {
            Event::Failure(f) => Some(f),
            _ => None,
        })
    }
    pub fn peer_success(&self) -> Option<&mobstrap_proto::eap::PeerSuccess> {
        self.peer_events.iter().find_map(|e| match e {
            PeerEvent::Success(s) => Some(&**s),
            _ => None,
        })
    }
    pub fn peer_failures(&self) -> Vec<mobstrap_proto::eap::PeerFailure> {
        self.peer_events
            .iter()
            .filter_map(|e| match e {
                PeerEvent::Failure(f) => Some(*f),
                _ => None,
            })
            .collect()
    }
    /// Subtypes (byte 5) of EAP-AKA packets in order, with the code.
    pub fn aka_subtypes(&self) -> Vec<(u8, u8)> {
        self.packets
            .iter()
            .filter(|p| p.len() > 5 && (p[4] == 23 || p[4] == 50) && (p[0] == 1 || p[0] == 2))
            .map(|p| (p[0], p[5]))
            .collect()
    }
}

pub fn server_cfg(f: impl FnOnce(&mut AkaServerConfig)) -> Arc<AkaServerConfig> {
    let mut c = AkaServerConfig::default();
    f(&mut c);
    Arc::new(c)
}

pub fn new_server(cfg: &Arc<AkaServerConfig>) -> AkaEapServer {
    AkaEapServer::aka(ServerConfig::default(), cfg.clone())
}

pub fn new_peer(f: impl FnOnce(&mut AkaPeerConfig)) -> AkaEapPeer {
    new_peer_with(K, OPC, 0, f)
}

pub fn new_peer_with(
    k: [u8; 16],
    opc: [u8; 16],
    sqn_ms: u64,
    f: impl FnOnce(&mut AkaPeerConfig),
) -> AkaEapPeer {
    let mut c = AkaPeerConfig::new(IMSI, Some(REALM));
    f(&mut c);
    AkaEapPeer::aka(
        c,
        Usim::new(&k, &opc, sqn_ms, SqnPolicy::Simple { delta: None }),
    )
}

/// How the conversation starts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The server sends EAP-Request/Identity.
    IdentityRequest,
    /// The NAS collected EAP-Response/Identity (identifier 7) and passes it first.
    NasIdentity,
}

fn answer_needs(server: &mut AkaEapServer, hss: &mut Hss, rng: &mut StdRng, t: &mut Transcript) {
    loop {
        let Some(ev) = server.poll_event() else { break };
        match &ev {
            Event::Need(Need::Vector {
                imsi,
                method,
                resync,
            }) => {
                let v = hss.vector(imsi, *method, resync.clone(), rng);
                t.needs.push(Need::Vector {
                    imsi: imsi.clone(),
                    method: *method,
                    resync: resync.clone(),
                });
                server.provide_vector(v, rng);
            }
            Event::Need(Need::Pseudonym { username }) => {
                t.needs.push(Need::Pseudonym {
                    username: username.clone(),
                });
                let imsi = hss.pseudonyms.get(username).cloned();
                server.provide_pseudonym(imsi, rng);
            }
            Event::Need(Need::ReauthContext { reauth_id }) => {
                t.needs.push(Need::ReauthContext {
                    reauth_id: reauth_id.clone(),
                });
                let c = hss.reauth.get(reauth_id).cloned();
                server.provide_reauth_context(c, rng);
            }
            Event::StorePseudonym { username, imsi, .. } => {
                hss.pseudonyms.insert(username.clone(), imsi.clone());
            }
            Event::StoreReauth { reauth_id, context } => {
                hss.reauth.insert(reauth_id.clone(), context.clone());
            }
            Event::ForgetReauth { reauth_id } => {
                hss.reauth.remove(reauth_id);
            }
            Event::Success(_) | Event::Failure(_) => {}
        }
        t.server_events.push(ev);
    }
}

/// Runs one conversation to its end (bounded to 40 packets).
pub fn converse(
    server: &mut AkaEapServer,
    peer: &mut AkaEapPeer,
    hss: &mut Hss,
    rng: &mut StdRng,
    start: Start,
) -> Transcript {
    let mut t = Transcript::default();
    peer.restart();
    match start {
        Start::IdentityRequest => server.start(rng),
        Start::NasIdentity => {
            let id = peer.begin_with_external_identity();
            let mut resp = vec![2u8, 7, 0, 0, 1];
            resp.extend_from_slice(&id);
            let n = resp.len() as u16;
            resp[2..4].copy_from_slice(&n.to_be_bytes());
            t.packets.push(resp.clone());
            server
                .handle_response(&resp, rng)
                .expect("identity accepted");
        }
    }
    answer_needs(server, hss, rng, &mut t);
    for _ in 0..40 {
        let Some(req) = server.poll_transmit().map(<[u8]>::to_vec) else {
            break;
        };
        t.packets.push(req.clone());
        peer.handle_request(&req, rng)
            .expect("peer takes the request");
        while let Some(e) = peer.poll_event() {
            t.peer_events.push(e);
        }
        if server.outcome().is_some() {
            break;
        }
        let Some(resp) = peer.poll_transmit().map(<[u8]>::to_vec) else {
            break;
        };
        t.packets.push(resp.clone());
        server
            .handle_response(&resp, rng)
            .expect("server takes the response");
        answer_needs(server, hss, rng, &mut t);
    }
    t.server_outcome = server.outcome();
    t
}

/// A fresh server and one conversation.
pub fn run(
    cfg: &Arc<AkaServerConfig>,
    peer: &mut AkaEapPeer,
    hss: &mut Hss,
    rng: &mut StdRng,
    start: Start,
) -> Transcript {
    let mut server = new_server(cfg);
    converse(&mut server, peer, hss, rng, start)
}

pub fn hexd(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

pub fn arr<const N: usize>(s: &str) -> [u8; N] {
    hexd(s).try_into().expect("length")
}
