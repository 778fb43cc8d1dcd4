//! IKE_AUTH with EAP-AKA as 3GPP TS 33.402 §8.2.2 runs it: the UE (initiator) has the real
//! EAP-AKA peer of `mobstrap_proto::eap` on a Milenage USIM; the ePDG (responder) relays EAP
//! through `Event::EapRelay` to the real EAP-AKA server of `mobstrap_proto::eap`, whose
//! vectors come from an in-memory HSS; the ePDG proves itself with a certificate (or, with
//! EAP-only, RFC 5998, with the MSK alone), defers the CFG_REPLY until the "gateway" answers,
//! and both sides end with the same MSK/EMSK. Also: a wrong USIM key (EAP failure on both
//! sides) and lossy, duplicating, reordering networks.

mod common;
mod ike_common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use mobstrap_crypto::sig::SigningKey;
use mobstrap_crypto::SecretVec;
use mobstrap_proto::eap::{AkaEapServer, AkaServerConfig, Event as EapEvent, Need};
use mobstrap_proto::ikev2::{
    Addresses, CfgPolicy, CloseReason, Config, DispatcherConfig, EapReply, Event, Identity,
    LocalAuth, PeerAuth, SaId, Signer, UsimPeer,
};
use mobstrap_wire::ikev2::{CfgAttrType, IdType};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// The AAA server side: one EAP-AKA server per IKE SA, vectors from the HSS.
struct Aaa {
    cfg: Arc<AkaServerConfig>,
    hss: common::Hss,
    servers: HashMap<SaId, AkaEapServer>,
    rng: StdRng,
    msks: HashMap<SaId, SecretVec>,
    rounds: usize,
}

impl Aaa {
    fn new() -> Self {
        Aaa {
            cfg: common::server_cfg(|_| {}),
            hss: common::Hss::with_subscriber(common::IMSI, &common::K, &common::OPC, 32),
            servers: HashMap::new(),
            rng: StdRng::seed_from_u64(7),
            msks: HashMap::new(),
            rounds: 0,
        }
    }

    /// Answers one relayed packet as a Diameter DEA would carry it back.
    fn answer(&mut self, id: SaId, packet: &[u8]) -> EapReply {
        self.rounds += 1;
        let cfg = self.cfg.clone();
        let server = self
            .servers
            .entry(id)
            .or_insert_with(|| common::new_server(&cfg));
        if packet.is_empty() {
            server.start(&mut self.rng);
        } else if server.handle_response(packet, &mut self.rng).is_err() {
            // Discarded: the ePDG would time out; answer with a failure here.
            return EapReply::Failure {
                packet: vec![4, 0, 0, 4],
            };
        }
        let mut success = None;
        while let Some(ev) = server.poll_event() {
            match ev {
                EapEvent::Need(Need::Vector {
                    imsi,
                    method,
                    resync,
                }) => {
                    let v = self.hss.vector(&imsi, method, resync, &mut self.rng);
                    server.provide_vector(v, &mut self.rng);
                }
                EapEvent::Success(s) => success = Some(s),
                _ => {}
            }
        }
        // Needs answered above may have produced more events.
        while let Some(ev) = server.poll_event() {
            if let EapEvent::Success(s) = ev {
                success = Some(s);
            }
        }
        let out = server
            .poll_transmit()
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        match (server.outcome(), success) {
            (Some(true), Some(s)) => {
                let msk = SecretVec::from_slice(s.msk.as_bytes());
                self.msks.insert(id, msk.clone());
                EapReply::Success {
                    packet: out,
                    msk,
                    emsk: Some(SecretVec::from_slice(s.emsk.as_bytes())),
                }
            }
            (Some(false), _) => EapReply::Failure { packet: out },
            _ => EapReply::Request(out),
        }
    }
}

fn epdg_signer() -> (Arc<Signer>, Vec<u8>) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["epdg.epc.example".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (
        Arc::new(Signer {
            key: SigningKey::from_pkcs8(&key.serialize_der()).unwrap(),
            chain: vec![cert.der().to_vec()],
        }),
        cert.der().to_vec(),
    )
}

fn ue_and_epdg(
    k: [u8; 16],
    eap_only: bool,
) -> (Config, Config, UsimPeer<mobstrap_proto::eap::AkaPeer>) {
    let mut peer = UsimPeer::new(common::new_peer_with(k, common::OPC, 0, |_| {}));
    let nai = peer.begin();
    let (signer, ca) = epdg_signer();
    let mut ue = Config::new(Identity::new(IdType::Rfc822Addr, nai));
    ue.local_auth = LocalAuth::Eap;
    ue.peer_auth = PeerAuth::SIGNATURE;
    ue.ca_certs = vec![ca];
    ue.remote_id = Some(Identity::fqdn("epdg.epc.example"));
    ue.eap_only = eap_only;
    ue.cfg_request = vec![
        CfgAttrType::InternalIp4Address,
        CfgAttrType::InternalIp6Address,
        CfgAttrType::InternalIp4Dns,
    ];
    let mut epdg = Config::new(Identity::fqdn("epdg.epc.example"));
    epdg.local_auth = LocalAuth::Signature;
    epdg.signer = if eap_only { None } else { Some(signer) };
    epdg.peer_auth = PeerAuth::EAP;
    epdg.eap_only = eap_only;
    epdg.cfg_policy = CfgPolicy::Defer;
    (ue, epdg, peer)
}

fn pool_address() -> Addresses {
    Addresses {
        ip4: Some(Ipv4Addr::new(10, 45, 0, 2)),
        ip6: Some(("2001:db8:45::2".parse().unwrap(), 64)),
        dns4: vec![Ipv4Addr::new(10, 45, 0, 1)],
        ..Addresses::default()
    }
}

type Pending = Rc<RefCell<Vec<(SaId, Option<Vec<u8>>)>>>;

/// Runs the attach: relays EAP to the AAA, gives addresses when asked. Returns the most
/// entries the responder's timer heap held right after an application reply.
fn attach(sim: &mut ike_common::Sim, aaa: &mut Aaa) -> usize {
    let mut timer_entries = 0;
    let pending: Pending = Rc::default();
    let p = pending.clone();
    sim.resp_hook = Some(Box::new(move |_, id, e, _| match e {
        Event::EapRelay { packet, .. } => p.borrow_mut().push((id, Some(packet.clone()))),
        Event::NeedAddresses(_) => p.borrow_mut().push((id, None)),
        _ => {}
    }));
    for _ in 0..40 {
        sim.run_until(Duration::from_secs(120), |s| {
            !pending.borrow().is_empty()
                || s.both_established()
                || (s.i_closed().is_some() && s.r_closed().is_some())
        });
        let items: Vec<_> = pending.borrow_mut().drain(..).collect();
        if items.is_empty() {
            break;
        }
        // The AAA and the gateway answer after 300 ms (a Diameter round trip, a PBU/PBA).
        sim.run_for(Duration::from_millis(300));
        for (id, item) in items {
            let now = sim.now;
            match item {
                Some(packet) => {
                    let reply = aaa.answer(id, &packet);
                    sim.resp.eap_reply(id, reply, now);
                    timer_entries = timer_entries.max(sim.resp.timer_entries());
                }
                None => {
                    sim.resp.provide_addresses(id, pool_address(), now);
                    timer_entries = timer_entries.max(sim.resp.timer_entries());
                }
            }
        }
    }
    sim.run_until(Duration::from_secs(60), |s| {
        s.both_established() || (s.i_closed().is_some() && s.r_closed().is_some())
    });
    timer_entries
}

#[test]
fn eap_aka_attach_with_epdg_certificate_and_deferred_addresses() {
    let (ue, epdg, peer) = ue_and_epdg(common::K, false);
    // The identity the USIM peer chose goes in IDi (a permanent NAI built from the IMSI).
    let nai = String::from_utf8(ue.local_id.data.clone()).unwrap();
    assert!(
        nai.ends_with(&format!("{}@{}", common::IMSI, common::REALM)),
        "{nai}"
    );
    let mut sim = ike_common::Sim::new(
        ue,
        epdg,
        Some(Box::new(peer)),
        DispatcherConfig::default(),
        70,
    );
    let mut aaa = Aaa::new();
    let _ = attach(&mut sim, &mut aaa);
    assert!(
        sim.both_established(),
        "{:?} {:?}",
        sim.i_closed(),
        sim.r_closed()
    );
    let ie = sim.i_est();
    let re = sim.r_est();
    let id = sim.r_id();
    let msk = ie.msk.as_ref().expect("UE MSK");
    assert_eq!(msk.len(), 64);
    assert_eq!(re.msk.as_ref(), Some(msk), "ePDG holds the AAA's MSK");
    assert_eq!(aaa.msks.get(&id), Some(msk));
    assert!(ie.emsk.is_some() && re.emsk.is_some());
    assert_eq!(ie.emsk, re.emsk);
    assert_eq!(ie.eap_identity.as_deref(), Some(nai.as_bytes()));
    assert_eq!(re.eap_identity.as_deref(), Some(nai.as_bytes()));
    assert_eq!(re.peer_id, Identity::rfc822(&nai));
    assert_eq!(ie.addresses, pool_address());
    let c = ie.child.as_ref().unwrap();
    assert_eq!(c.outbound, re.child.as_ref().unwrap().inbound);
    assert_eq!(
        c.local_ts[0],
        mobstrap_proto::ikev2::TsRange::host("10.45.0.2".parse().unwrap())
    );
    // Identity from IDi (no Identity round), Challenge, Success: two relays.
    let relays = sim
        .r_events
        .iter()
        .filter(|(_, e)| matches!(e, Event::EapRelay { .. }))
        .count();
    assert_eq!(relays, 2);
    assert_eq!(aaa.rounds, 2);
}

#[test]
fn eap_aka_eap_only_without_any_epdg_certificate() {
    let (ue, epdg, peer) = ue_and_epdg(common::K, true);
    let mut sim = ike_common::Sim::new(
        ue,
        epdg,
        Some(Box::new(peer)),
        DispatcherConfig::default(),
        71,
    );
    let mut aaa = Aaa::new();
    let timer_entries = attach(&mut sim, &mut aaa);
    assert!(
        sim.both_established(),
        "{:?} {:?}",
        sim.i_closed(),
        sim.r_closed()
    );
    assert_eq!(sim.i_est().msk, sim.r_est().msk);
    // One timer-heap entry for the SA all along: each message moved its deadline, and
    // none of them left an entry behind.
    assert_eq!(timer_entries, 1);
    assert_eq!(sim.resp.timer_entries(), 1);
}

#[test]
fn wrong_usim_key_fails_on_both_sides() {
    let mut k = common::K;
    k[0] ^= 1;
    let (ue, epdg, peer) = ue_and_epdg(k, false);
    let mut sim = ike_common::Sim::new(
        ue,
        epdg,
        Some(Box::new(peer)),
        DispatcherConfig::default(),
        72,
    );
    let mut aaa = Aaa::new();
    let _ = attach(&mut sim, &mut aaa);
    assert_eq!(sim.i_closed(), Some(CloseReason::EapFailure));
    assert_eq!(sim.r_closed(), Some(CloseReason::EapFailure));
    assert!(sim.resp.is_empty());
}

#[test]
fn eap_aka_attach_over_a_bad_network() {
    let mut done = 0;
    for seed in 0..8 {
        let (ue, epdg, peer) = ue_and_epdg(common::K, false);
        let mut sim = ike_common::Sim::new(
            ue,
            epdg,
            Some(Box::new(peer)),
            DispatcherConfig::default(),
            80 + seed,
        );
        sim.faults = ike_common::Faults {
            loss: 0.2,
            duplicate: 0.2,
            reorder: 0.4,
        };
        let mut aaa = Aaa::new();
        let _ = attach(&mut sim, &mut aaa);
        if sim.both_established() {
            done += 1;
            assert_eq!(sim.i_est().msk, sim.r_est().msk);
            // Every relayed EAP packet reached the AAA once: retransmissions were not relayed.
            assert_eq!(aaa.rounds, 2, "seed {seed}");
        } else {
            assert!(sim.i_closed().is_some(), "seed {seed}: stuck");
        }
    }
    assert!(done >= 6, "{done} of 8 attaches over 20 % loss");
}
