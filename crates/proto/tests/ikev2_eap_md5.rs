//! IKE_AUTH with EAP through the two EAP interfaces, with EAP-MD5 (RFC 3748 §5.4), the
//! non-key-generating method strongSwan's load tester also uses: a local peer on the
//! initiator, the authenticator behind `Event::EapRelay` / `eap_reply` on the responder,
//! answered late (as a AAA server over Diameter would) while the initiator retransmits.
//! Without an MSK both final AUTH payloads are computed from SK_pi / SK_pr (RFC 7296 §2.16).
//! EAP-AKA with the real peer and server is in `ikev2_eap_aka.rs`.

mod ike_common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use ike_common::*;
use md5::{Digest, Md5};
use mobstrap_crypto::sig::SigningKey;
use mobstrap_crypto::SecretVec;
use mobstrap_proto::ikev2::{
    CloseReason, Config, DispatcherConfig, EapPeer, EapPeerAction, EapReply, EapStart, Event,
    Identity, LocalAuth, PeerAuth, SaId, Signer,
};
use rand::RngCore;

const PASSWORD: &[u8] = b"eap md5 password";

/// The EAP-MD5 peer (RFC 3748 §5.4, RFC 1994 CHAP): Identity → its identity; MD5-Challenge
/// → MD5(identifier | password | challenge).
struct Md5Peer {
    identity: Vec<u8>,
    password: Vec<u8>,
    succeeded: bool,
}

impl EapPeer for Md5Peer {
    fn handle(&mut self, p: &[u8], _rng: &mut dyn RngCore) -> EapPeerAction {
        match (p.first(), p.get(4)) {
            (Some(1), Some(1)) => {
                let mut r = vec![2, p[1], 0, 0, 1];
                r.extend_from_slice(&self.identity);
                let l = (r.len() as u16).to_be_bytes();
                r[2..4].copy_from_slice(&l);
                EapPeerAction::Respond(r)
            }
            (Some(1), Some(4)) => {
                let Some(&n) = p.get(5) else {
                    return EapPeerAction::Ignore;
                };
                let Some(ch) = p.get(6..6 + n as usize) else {
                    return EapPeerAction::Ignore;
                };
                let mut h = Md5::new();
                h.update([p[1]]);
                h.update(&self.password);
                h.update(ch);
                let mut r = vec![2, p[1], 0, 22, 4, 16];
                r.extend_from_slice(&h.finalize());
                EapPeerAction::Respond(r)
            }
            (Some(3), _) => {
                self.succeeded = true;
                EapPeerAction::Success
            }
            (Some(4), _) => EapPeerAction::Failure,
            _ => EapPeerAction::Ignore,
        }
    }
    fn msk(&self) -> Option<SecretVec> {
        None
    }
    fn emsk(&self) -> Option<SecretVec> {
        None
    }
    fn identity(&self) -> Option<Vec<u8>> {
        Some(self.identity.clone())
    }
}

/// The authenticator: an EAP-MD5 server answering relayed packets.
#[derive(Default)]
struct Md5Server {
    challenge: [u8; 16],
    id: u8,
    rounds: u32,
}

impl Md5Server {
    fn answer(&mut self, packet: &[u8]) -> EapReply {
        self.rounds += 1;
        // Start (empty): ask for the identity.
        if packet.is_empty() {
            self.id = self.id.wrapping_add(1);
            return EapReply::Request(vec![1, self.id, 0, 5, 1]);
        }
        // EAP-Response/Identity: send the challenge.
        if packet.get(4) == Some(&1) {
            self.id = self.id.wrapping_add(1);
            self.challenge = [self.rounds as u8; 16];
            let mut r = vec![1, self.id, 0, 22, 4, 16];
            r.extend_from_slice(&self.challenge);
            return EapReply::Request(r);
        }
        let mut h = Md5::new();
        h.update([self.id]);
        h.update(PASSWORD);
        h.update(self.challenge);
        let ok = packet.len() == 22 && packet[1] == self.id && packet[6..] == h.finalize()[..];
        if ok {
            EapReply::Success {
                packet: vec![3, self.id, 0, 4],
                msk: SecretVec::new(Vec::new()),
                emsk: None,
            }
        } else {
            EapReply::Failure {
                packet: vec![4, self.id, 0, 4],
            }
        }
    }
}

fn responder_signer() -> (Arc<Signer>, Vec<u8>) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["epdg.example".to_string()])
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

fn eap_configs(eap_only: bool) -> (Config, Config) {
    let (signer, ca) = responder_signer();
    let mut i = Config::new(Identity::rfc822("user@realm.example"));
    i.local_auth = LocalAuth::Eap;
    i.peer_auth = PeerAuth::SIGNATURE;
    i.ca_certs = vec![ca];
    i.remote_id = Some(Identity::fqdn("epdg.example"));
    i.eap_only = eap_only;
    let mut r = Config::new(Identity::fqdn("epdg.example"));
    r.local_auth = LocalAuth::Signature;
    r.signer = Some(signer);
    r.peer_auth = PeerAuth::EAP;
    r.eap_only = eap_only;
    (i, r)
}

fn peer(password: &[u8]) -> Box<dyn EapPeer> {
    Box::new(Md5Peer {
        identity: b"user@realm.example".to_vec(),
        password: password.to_vec(),
        succeeded: false,
    })
}

/// EAP packets relayed by the responder, waiting for the AAA.
type Relay = Rc<RefCell<Vec<(SaId, Vec<u8>)>>>;

/// A hook serving the relay with `server`, answering each relayed packet `delay` later.
fn serve(sim: &mut Sim) -> Relay {
    let queue: Relay = Rc::default();
    let q = queue.clone();
    sim.resp_hook = Some(Box::new(move |_, id, e, _| {
        if let Event::EapRelay {
            identity, packet, ..
        } = e
        {
            assert_eq!(identity, &Identity::rfc822("user@realm.example"));
            q.borrow_mut().push((id, packet.clone()));
        }
    }));
    queue
}

fn run_eap(sim: &mut Sim, server: &mut Md5Server, queue: &Relay, delay: Duration) {
    for _ in 0..20 {
        sim.run_until(Duration::from_secs(60), |s| {
            !queue.borrow().is_empty() || s.both_established() || s.i_closed().is_some()
        });
        let items: Vec<_> = queue.borrow_mut().drain(..).collect();
        if items.is_empty() {
            break;
        }
        // The AAA takes `delay` to answer.
        sim.run_for(delay);
        for (id, p) in items {
            let reply = server.answer(&p);
            let now = sim.now;
            assert!(sim.resp.eap_reply(id, reply, now));
        }
    }
    sim.run_until(Duration::from_secs(30), |s| {
        (s.both_established()) || (s.i_closed().is_some() && s.r_closed().is_some())
    });
}

#[test]
fn eap_md5_with_responder_certificate_and_slow_aaa() {
    for eap_start in [EapStart::IdentityFromIdi, EapStart::Empty] {
        let (i, mut r) = eap_configs(false);
        r.eap_start = eap_start;
        let mut sim = Sim::new(i, r, Some(peer(PASSWORD)), DispatcherConfig::default(), 60);
        let q = serve(&mut sim);
        let mut server = Md5Server::default();
        run_eap(&mut sim, &mut server, &q, Duration::from_secs(5));
        assert!(
            sim.both_established(),
            "{eap_start:?}: {:?} {:?}",
            sim.i_closed(),
            sim.r_closed()
        );
        let e = sim.i_est();
        assert!(e.msk.is_none());
        assert_eq!(e.peer_id, Identity::fqdn("epdg.example"));
        let re = sim.r_est();
        assert_eq!(re.eap_identity.as_deref(), Some(&b"user@realm.example"[..]));
        assert_eq!(
            e.child.as_ref().unwrap().outbound,
            re.child.as_ref().unwrap().inbound
        );
        // Every relayed packet was answered exactly once although the initiator
        // retransmitted while the AAA took 5 s.
        let relays = sim
            .r_events
            .iter()
            .filter(|(_, e)| matches!(e, Event::EapRelay { .. }))
            .count();
        let expected = if eap_start == EapStart::Empty { 3 } else { 2 };
        assert_eq!(relays, expected, "{eap_start:?}");
        assert_eq!(server.rounds as usize, expected);
    }
}

#[test]
fn eap_only_authentication() {
    let (i, r) = eap_configs(true);
    let mut sim = Sim::new(i, r, Some(peer(PASSWORD)), DispatcherConfig::default(), 61);
    let q = serve(&mut sim);
    let mut server = Md5Server::default();
    run_eap(&mut sim, &mut server, &q, Duration::ZERO);
    assert!(
        sim.both_established(),
        "{:?} {:?}",
        sim.i_closed(),
        sim.r_closed()
    );
}

#[test]
fn eap_only_not_accepted_falls_back_to_certificate() {
    let (i, mut r) = eap_configs(true);
    r.eap_only = false;
    let mut sim = Sim::new(i, r, Some(peer(PASSWORD)), DispatcherConfig::default(), 62);
    let q = serve(&mut sim);
    let mut server = Md5Server::default();
    run_eap(&mut sim, &mut server, &q, Duration::ZERO);
    assert!(sim.both_established());
}

#[test]
fn eap_failure_closes_both_sides() {
    let (i, r) = eap_configs(false);
    let mut sim = Sim::new(
        i,
        r,
        Some(peer(b"wrong password")),
        DispatcherConfig::default(),
        63,
    );
    let q = serve(&mut sim);
    let mut server = Md5Server::default();
    run_eap(&mut sim, &mut server, &q, Duration::ZERO);
    assert_eq!(sim.i_closed(), Some(CloseReason::EapFailure));
    assert_eq!(sim.r_closed(), Some(CloseReason::EapFailure));
    assert!(!sim.i_established() && !sim.r_established());
}

#[test]
fn silent_aaa_times_out_with_authentication_failed() {
    let (i, r) = eap_configs(false);
    let mut sim = Sim::new(i, r, Some(peer(PASSWORD)), DispatcherConfig::default(), 64);
    let _q = serve(&mut sim);
    sim.run_until(Duration::from_secs(120), |s| {
        s.i_closed().is_some() && s.r_closed().is_some()
    });
    assert_eq!(sim.r_closed(), Some(CloseReason::ApplicationTimeout));
    assert_eq!(
        sim.i_closed(),
        Some(CloseReason::AuthenticationFailed { by_peer: true })
    );
}

#[test]
fn responder_with_psk_and_eap_initiator() {
    let (mut i, mut r) = eap_configs(false);
    i.peer_auth = PeerAuth::PSK;
    let i = i.with_psk(Some(Identity::fqdn("epdg.example")), b"responder psk");
    r.local_auth = LocalAuth::Psk;
    let r = r.with_psk(Some(Identity::fqdn("epdg.example")), b"responder psk");
    let mut sim = Sim::new(i, r, Some(peer(PASSWORD)), DispatcherConfig::default(), 65);
    let q = serve(&mut sim);
    let mut server = Md5Server::default();
    run_eap(&mut sim, &mut server, &q, Duration::ZERO);
    assert!(sim.both_established());
}
