//! One full EAP-AKA / EAP-AKA' authentication between the engines, timing one side; shared by
//! the criterion bench (`benches/eap.rs`) and the minimum-timing example.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use mobstrap_crypto::milenage::Milenage;
use mobstrap_proto::eap::{
    AkaEapPeer, AkaEapServer, AkaPeerConfig, AkaServerConfig, Event, Method, Need, ServerConfig,
    SqnPolicy, Usim,
};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

const IMSI: &str = "001010000000001";
const REALM: &str = "nai.epc.mnc001.mcc001.3gppnetwork.org";
const K: [u8; 16] = [0x46; 16];
const OPC: [u8; 16] = [0x3c; 16];

#[derive(Clone, Copy, PartialEq)]
pub enum Side {
    Server,
    Peer,
    /// Both engines (everything but the HSS's Milenage).
    Both,
}

pub struct Bench {
    cfg: Arc<AkaServerConfig>,
    hss: Milenage,
    sqn: u64,
    peer: AkaEapPeer,
    rng: StdRng,
    method: Method,
}

impl Bench {
    pub fn new(method: Method) -> Self {
        let mut pc = AkaPeerConfig::new(IMSI, Some(REALM));
        pc.methods = vec![method];
        pc.identity_choice = mobstrap_proto::eap::IdentityChoice::Permanent;
        Bench {
            cfg: Arc::new(AkaServerConfig::default()),
            hss: Milenage::new(&K, &OPC),
            sqn: 32,
            peer: AkaEapPeer::aka(
                pc,
                Usim::new(&K, &OPC, 0, SqnPolicy::Simple { delta: None }),
            ),
            rng: StdRng::seed_from_u64(1),
            method,
        }
    }

    /// One full authentication; returns the time spent in the side under test.
    pub fn one(&mut self, side: Side) -> Duration {
        let mut t = Duration::ZERO;
        let rng = &mut self.rng;
        macro_rules! timed {
            ($s:expr, $e:expr) => {{
                if side == $s || side == Side::Both {
                    let t0 = Instant::now();
                    let r = $e;
                    t += t0.elapsed();
                    r
                } else {
                    $e
                }
            }};
        }
        // The NAS / ePDG collected EAP-Response/Identity.
        let identity = timed!(Side::Peer, self.peer.begin_with_external_identity());
        let mut resp = Vec::with_capacity(64);
        resp.extend_from_slice(&[2, 1, 0, 0, 1]);
        resp.extend_from_slice(&identity);
        let n = resp.len() as u16;
        resp[2..4].copy_from_slice(&n.to_be_bytes());
        let mut server = timed!(
            Side::Server,
            AkaEapServer::aka(ServerConfig::default(), self.cfg.clone())
        );
        timed!(Side::Server, server.handle_response(&resp, rng).unwrap());
        let need = timed!(Side::Server, server.poll_event());
        let Some(Event::Need(Need::Vector { method, .. })) = need else {
            panic!("no vector need")
        };
        self.sqn += 1;
        let mut rand = [0u8; 16];
        rng.fill_bytes(&mut rand);
        let amf = if method == Method::AkaPrime {
            [0x80, 0]
        } else {
            [0, 0]
        };
        let v = self.hss.generate_vector(&rand, self.sqn, amf).unwrap();
        timed!(Side::Server, server.provide_vector(Ok(v), rng));
        let ch = timed!(Side::Server, server.poll_transmit().unwrap().to_vec());
        timed!(Side::Peer, self.peer.handle_request(&ch, rng).unwrap());
        let resp = timed!(Side::Peer, self.peer.poll_transmit().unwrap().to_vec());
        timed!(Side::Server, server.handle_response(&resp, rng).unwrap());
        let mut ok = false;
        timed!(Side::Server, {
            while let Some(e) = server.poll_event() {
                ok |= matches!(e, Event::Success(_));
            }
        });
        let fin = timed!(Side::Server, server.poll_transmit().unwrap().to_vec());
        timed!(Side::Peer, {
            self.peer.handle_request(&fin, rng).unwrap();
            while self.peer.poll_event().is_some() {}
        });
        assert!(ok, "{:?} authentication failed", self.method);
        t
    }
}
