//! The engines against real traffic of implementations we did not write: RADIUS captures of
//! hostapd 2.10 (EAP-AKA/AKA' server with hlr_auc_gw) and eapol_test 2.10 (peer with the
//! Milenage USIM simulator), `crates/crypto/tests/data/radius_hostapd_eap_aka.json`.
//!
//! * Our peer, fed hostapd's Requests, answers byte for byte what eapol_test answered
//!   (AT_IDENTITY, AT_RES, AT_CHECKCODE, AT_MAC; Authentication-Reject with a wrong key), and
//!   its MSK is what eapol_test recovered from the MS-MPPE keys of the Access-Accept.
//! * Our server, given the vector hostapd's HLR used (rebuilt from RAND and AUTN), accepts
//!   eapol_test's Responses: its AKA-Identity request is hostapd's byte for byte, eapol_test's
//!   AT_CHECKCODE, AT_RES and AT_MAC verify, and the MSK matches too.

use std::sync::Arc;

use mobstrap_crypto::milenage::{Milenage, SQN_MAX};
use mobstrap_proto::eap::{
    AkaEapPeer, AkaEapServer, AkaPeerConfig, AkaServerConfig, Event, IdRequest, IdentityPolicy,
    Method, Need, PeerEvent, ServerConfig, SqnPolicy, Usim,
};
use rand::rngs::StdRng;
use rand::SeedableRng;

struct Run {
    method: Method,
    identity: &'static str,
    k: [u8; 16],
    opc: [u8; 16],
    /// EAP packets in order (Request, Response, …, Success/Failure).
    eap: Vec<Vec<u8>>,
    msk: Option<Vec<u8>>,
}

fn h16(s: &str) -> [u8; 16] {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn eap_of(radius: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 20;
    while i + 2 <= radius.len() {
        let (t, l) = (radius[i], radius[i + 1] as usize);
        if t == 79 {
            out.extend_from_slice(&radius[i + 2..i + l]);
        }
        i += l.max(2);
    }
    out
}

fn runs() -> Vec<Run> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crypto/tests/data/radius_hostapd_eap_aka.json"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let set20 = (
        h16("90dca4eda45b53cf0f12d7c9c3bc6a89"),
        h16("cb9cccc4b9258e6dca4760379fb82581"),
    );
    let set19 = (
        h16("5122250214c33e723a5dd523fc145fc0"),
        h16("981d464c7c52eb6e5036234984ad0bcf"),
    );
    v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let name = r["name"].as_str().unwrap();
            let prime = name.starts_with("EAP-AKA'");
            let (k, opc) = if prime { set19 } else { set20 };
            let eap = r["packets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| eap_of(&hex::decode(p.as_str().unwrap()).unwrap()))
                .collect();
            let msk = r.get("mppe_recv_key").map(|recv| {
                // MS-MPPE-Recv-Key is MSK[0..32], MS-MPPE-Send-Key MSK[32..64].
                let mut m = hex::decode(recv.as_str().unwrap()).unwrap();
                m.extend(hex::decode(r["mppe_send_key"].as_str().unwrap()).unwrap());
                m
            });
            Run {
                method: if prime { Method::AkaPrime } else { Method::Aka },
                identity: if prime {
                    "6555444333222111@example.com"
                } else {
                    "0232010000000000@example.com"
                },
                k,
                opc,
                eap,
                msk,
            }
        })
        .collect()
}

#[test]
fn our_peer_answers_hostapd_like_eapol_test() {
    let runs = runs();
    assert_eq!(runs.len(), 3);
    let mut r = StdRng::seed_from_u64(1);
    for (n, run) in runs.iter().enumerate() {
        let wrong_key = run.msk.is_none();
        let mut k = run.k;
        if wrong_key {
            k[0] ^= 0xff;
        }
        let mut cfg = AkaPeerConfig::new("", None);
        cfg.permanent_identity = Some(run.identity.as_bytes().to_vec());
        cfg.methods = vec![run.method];
        let mut peer = AkaEapPeer::aka(
            cfg,
            Usim::new(&k, &run.opc, 0, SqnPolicy::Simple { delta: None }),
        );
        // eapol_test ran the Identity round as the NAS: the identity travelled outside.
        assert_eq!(peer.begin_with_external_identity(), run.identity.as_bytes());
        let mut success = None;
        for pair in run.eap[1..].chunks(2) {
            peer.handle_request(&pair[0], &mut r).unwrap();
            while let Some(e) = peer.poll_event() {
                if let PeerEvent::Success(s) = e {
                    success = Some(s);
                }
            }
            if let Some(theirs) = pair.get(1) {
                let ours = peer.poll_transmit().unwrap();
                assert_eq!(
                    hex::encode(ours),
                    hex::encode(theirs),
                    "run {n}: response to {:02x?}",
                    &pair[0][..8]
                );
            }
        }
        match &run.msk {
            Some(msk) => assert_eq!(success.unwrap().msk.as_bytes().to_vec(), *msk, "run {n}"),
            None => assert!(success.is_none()),
        }
    }
}

/// The vector the HLR used: SQN from AUTN ⊕ AK, then regenerate and compare.
fn hlr_vector(m: &Milenage, challenge: &[u8]) -> mobstrap_crypto::milenage::AuthVector {
    let find = |t: u8| {
        let mut i = 8;
        while i < challenge.len() {
            if challenge[i] == t {
                return <[u8; 16]>::try_from(&challenge[i + 4..i + 20]).unwrap();
            }
            i += challenge[i + 1] as usize * 4;
        }
        panic!("attribute {t} missing")
    };
    let (rand, autn) = (find(1), find(2));
    let ak = m.f2345(&rand).ak;
    let mut sqn = [0u8; 6];
    for i in 0..6 {
        sqn[i] = autn[i] ^ ak[i];
    }
    let sqn = mobstrap_crypto::milenage::sqn_from_bytes(&sqn);
    assert!(sqn <= SQN_MAX);
    let v = m.generate_vector(&rand, sqn, [autn[6], autn[7]]).unwrap();
    assert_eq!(v.autn, autn, "regenerated AUTN");
    v
}

#[test]
fn our_server_accepts_eapol_test_responses() {
    let mut r = StdRng::seed_from_u64(2);
    for (n, run) in runs().iter().enumerate() {
        let cfg = AkaServerConfig {
            // hostapd's settings in that capture: AT_ANY_ID_REQ first, no pseudonyms,
            // no fast re-authentication.
            identity_policy: IdentityPolicy::AlwaysRequest(IdRequest::Any),
            pseudonyms: false,
            fast_reauth: false,
            aka: run.method == Method::Aka,
            aka_prime: run.method == Method::AkaPrime,
            ..AkaServerConfig::default()
        };
        let mut server = AkaEapServer::aka(ServerConfig::default(), Arc::new(cfg));
        let hlr = Milenage::new(&run.k, &run.opc);
        // The NAS's EAP-Response/Identity, then our AKA-Identity must be hostapd's.
        server.handle_response(&run.eap[0], &mut r).unwrap();
        assert_eq!(
            hex::encode(server.poll_transmit().unwrap()),
            hex::encode(&run.eap[1]),
            "run {n}: AKA-Identity"
        );
        server.handle_response(&run.eap[2], &mut r).unwrap();
        let Some(Event::Need(Need::Vector { imsi, method, .. })) = server.poll_event() else {
            panic!("run {n}: no vector need")
        };
        assert_eq!(method, run.method);
        assert_eq!(imsi, &run.identity[1..16]);
        server.provide_vector(Ok(hlr_vector(&hlr, &run.eap[3])), &mut r);
        let challenge = server.poll_transmit().unwrap().to_vec();
        assert_eq!(challenge[1], run.eap[3][1]);
        server.handle_response(&run.eap[4], &mut r).unwrap();
        let events: Vec<Event> = std::iter::from_fn(|| server.poll_event()).collect();
        match &run.msk {
            Some(msk) => {
                let Some(Event::Success(s)) = events.last() else {
                    panic!("run {n}: {events:?}")
                };
                assert_eq!(s.msk.as_bytes().to_vec(), *msk, "run {n}");
                assert_eq!(server.poll_transmit().unwrap(), &run.eap[5][..]);
            }
            None => {
                // Authentication-Reject → EAP-Failure, as hostapd answered.
                assert!(
                    matches!(events.last(), Some(Event::Failure(_))),
                    "{events:?}"
                );
                assert_eq!(server.poll_transmit().unwrap(), &run.eap[5][..]);
            }
        }
    }
}
