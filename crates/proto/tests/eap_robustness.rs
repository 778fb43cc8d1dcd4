//! Arbitrary and mutated input to the EAP server and peer engines: no panic, no success
//! without authentication, and keys that agree whenever both sides claim success.

mod common;
use common::*;

use mobstrap_proto::eap::{Event, Method, Need, PeerEvent};
use proptest::prelude::*;

/// A server that got the NAS identity and a vector: the challenge is outstanding.
fn server_at_challenge(seed: u64) -> (mobstrap_proto::eap::AkaEapServer, Hss, rand::rngs::StdRng) {
    let mut r = rng(seed);
    let cfg = server_cfg(|c| c.result_ind = seed.is_multiple_of(2));
    let mut server = new_server(&cfg);
    let mut h = Hss::with_subscriber(IMSI, &K, &OPC, 1);
    let id = format!(
        "{}{IMSI}@{REALM}",
        if seed.is_multiple_of(3) { '6' } else { '0' }
    );
    let mut resp = vec![2u8, 1, 0, 0, 1];
    resp.extend_from_slice(id.as_bytes());
    let n = resp.len() as u16;
    resp[2..4].copy_from_slice(&n.to_be_bytes());
    server.handle_response(&resp, &mut r).unwrap();
    feed_needs(&mut server, &mut h, &mut r);
    assert!(server.poll_transmit().is_some(), "challenge");
    (server, h, r)
}

fn feed_needs(
    server: &mut mobstrap_proto::eap::AkaEapServer,
    h: &mut Hss,
    r: &mut rand::rngs::StdRng,
) -> bool {
    let mut success = false;
    while let Some(e) = server.poll_event() {
        match e {
            Event::Need(Need::Vector {
                imsi,
                method,
                resync,
            }) => {
                let v = h.vector(&imsi, method, resync, r);
                server.provide_vector(v, r);
            }
            Event::Need(Need::Pseudonym { username }) => {
                let i = h.pseudonyms.get(&username).cloned();
                server.provide_pseudonym(i, r);
            }
            Event::Need(Need::ReauthContext { reauth_id }) => {
                let c = h.reauth.get(&reauth_id).cloned();
                server.provide_reauth_context(c, r);
            }
            Event::Success(_) => success = true,
            _ => {}
        }
    }
    success
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn server_survives_arbitrary_responses(
        seed in 0u64..1000,
        packets in prop::collection::vec(
            (any::<bool>(), prop::collection::vec(any::<u8>(), 0..200)), 1..8),
    ) {
        let (mut server, mut h, mut r) = server_at_challenge(seed);
        for (aim, mut p) in packets {
            // Half of the packets are aimed: a Response with the outstanding Identifier, an
            // EAP-AKA type and a right Length, so they reach the method.
            if aim && p.len() >= 8 {
                p[0] = 2;
                p[1] = server.current_identifier();
                let n = p.len() as u16;
                p[2..4].copy_from_slice(&n.to_be_bytes());
                p[4] = if p[4] % 2 == 0 { 23 } else { 50 };
            }
            let before = server.outcome();
            let res = server.handle_response(&p, &mut r);
            if res.is_err() {
                // Discarded: nothing goes out, nothing changes.
                prop_assert!(server.poll_transmit().is_none());
                prop_assert_eq!(server.outcome(), before);
            }
            let ok = feed_needs(&mut server, &mut h, &mut r);
            prop_assert!(!ok, "arbitrary bytes authenticated");
            prop_assert_ne!(server.outcome(), Some(true));
            let _ = server.poll_transmit();
        }
    }

    #[test]
    fn peer_survives_arbitrary_requests(
        packets in prop::collection::vec(
            (any::<bool>(), prop::collection::vec(any::<u8>(), 0..200)), 1..8),
    ) {
        let mut r = rng(7);
        let mut peer = new_peer(|_| {});
        for (aim, mut p) in packets {
            if aim && p.len() >= 8 {
                p[0] = 1;
                let n = p.len() as u16;
                p[2..4].copy_from_slice(&n.to_be_bytes());
                p[4] = if p[4] % 2 == 0 { 23 } else { 50 };
            }
            let _ = peer.handle_request(&p, &mut r);
            let _ = peer.poll_transmit();
            while let Some(e) = peer.poll_event() {
                prop_assert!(!matches!(e, PeerEvent::Success(_)), "peer accepted garbage");
            }
        }
        // After garbage the peer still authenticates.
        let cfg = server_cfg(|_| {});
        let mut h = Hss::with_subscriber(IMSI, &K, &OPC, 1);
        let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        prop_assert!(t.server_success().is_some());
    }

    #[test]
    fn one_flipped_byte_never_gives_disagreeing_keys(
        which in 0usize..12,
        at in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        method_prime in any::<bool>(),
    ) {
        let mut r = rng(9);
        let cfg = server_cfg(|c| c.result_ind = true);
        let m = if method_prime { Method::AkaPrime } else { Method::Aka };
        let mut peer = new_peer(|c| { c.methods = vec![m]; c.result_ind = true; });
        let mut h = Hss::with_subscriber(IMSI, &K, &OPC, 1);
        let mut server = new_server(&cfg);
        server.start(&mut r);
        let mut n = 0usize;
        let mut server_ok = false;
        let mut peer_ok = None;
        let mut server_ok_msk = None;
        for _ in 0..20 {
            let Some(mut req) = server.poll_transmit().map(<[u8]>::to_vec) else { break };
            if n == which { let i = at.index(req.len()); req[i] ^= xor; }
            n += 1;
            let _ = peer.handle_request(&req, &mut r);
            while let Some(e) = peer.poll_event() {
                if let PeerEvent::Success(s) = e { peer_ok = Some(s.msk.clone()); }
            }
            let Some(mut resp) = peer.poll_transmit().map(<[u8]>::to_vec) else { break };
            if n == which { let i = at.index(resp.len()); resp[i] ^= xor; }
            n += 1;
            let _ = server.handle_response(&resp, &mut r);
            while let Some(e) = server.poll_event() {
                match e {
                    Event::Need(Need::Vector { imsi, method, resync }) => {
                        let v = h.vector(&imsi, method, resync, &mut r);
                        server.provide_vector(v, &mut r);
                    }
                    Event::Success(s) => { server_ok = true; server_ok_msk = Some(s.msk.clone()); }
                    _ => {}
                }
            }
        }
        if let (true, Some(p)) = (server_ok, peer_ok) {
            prop_assert_eq!(server_ok_msk.unwrap(), p);
        }
    }
}

#[test]
fn lower_layer_padding_after_length_is_ignored() {
    let mut r = rng(3);
    let cfg = server_cfg(|_| {});
    let mut server = new_server(&cfg);
    let mut peer = new_peer(|c| c.methods = vec![Method::Aka]);
    let mut h = Hss::with_subscriber(IMSI, &K, &OPC, 1);
    server.start(&mut r);
    let mut done = false;
    for _ in 0..10 {
        let Some(mut req) = server.poll_transmit().map(<[u8]>::to_vec) else {
            break;
        };
        req.extend_from_slice(&[0xee; 7]);
        peer.handle_request(&req, &mut r).unwrap();
        if server.outcome().is_some() {
            done = true;
            break;
        }
        let mut resp = peer.poll_transmit().unwrap().to_vec();
        resp.extend_from_slice(&[0; 3]);
        server.handle_response(&resp, &mut r).unwrap();
        feed_needs(&mut server, &mut h, &mut r);
    }
    assert!(done);
    assert_eq!(server.outcome(), Some(true));
}
