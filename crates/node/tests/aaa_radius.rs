//! The AAA over RADIUS on loopback, SQLite store: EAP-AKA and EAP-AKA' with our RADIUS
//! client and USIM peer; SQN resynchronisation; wrong key; unknown IMSI; pseudonym and fast
//! re-authentication; a retransmitted Access-Request answered from the cache (the SQN
//! counter moved once); malformed datagrams dropped while the next good request is served.

mod aaa_support;

use std::net::SocketAddr;
use std::time::Duration;

use aaa_support::*;
use mobstrap_node::aaa::client::{challenge_sqn, identity_request, RadiusNas};
use mobstrap_proto::eap::{IdentityChoice, Method, PeerEvent};
use mobstrap_store::sqn::split;
use mobstrap_wire::radius::Code;
use tokio::net::UdpSocket;

async fn nas(server: SocketAddr) -> RadiusNas {
    RadiusNas::new("127.0.0.1:0".parse().unwrap(), server, SECRET.as_bytes())
        .await
        .unwrap()
}

/// A RADIUS AAA in a fresh directory with subscriber `n` provisioned, and a NAS to it
/// (the directory lives as long as the returned guard).
async fn radius_aaa(n: u64) -> (tempfile::TempDir, mobstrap_node::aaa::AaaNode, RadiusNas) {
    let dir = tempfile::tempdir().unwrap();
    let aaa = start(radius_config(dir.path())).await;
    provision(aaa.store(), Sub::new(n)).await;
    let nas = nas(aaa.radius_addr().unwrap()).await;
    (dir, aaa, nas)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eap_aka_and_aka_prime() {
    let (_dir, _aaa, nas) = radius_aaa(1).await;

    for (methods, want) in [
        (vec![Method::Aka], Method::Aka),
        (vec![Method::AkaPrime, Method::Aka], Method::AkaPrime),
    ] {
        let mut ue = ue(1, 0, &methods);
        let r = nas.authenticate(&mut ue).await.unwrap();
        assert_eq!(r.code, Code::AccessAccept, "{want}: {:?}", r.events);
        let ok = r.peer_success().expect("peer success");
        assert_eq!(ok.method, want);
        assert_eq!(
            r.msk.as_deref(),
            Some(&ok.msk.as_bytes()[..]),
            "MS-MPPE keys carry the peer's MSK"
        );
        assert_eq!(r.rounds, 2, "identity → challenge, response → Accept");
        let sqns = r.sqns(&k_of(1), &OPC);
        assert_eq!(sqns.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_wrong_key_unknown_imsi() {
    let (_dir, _aaa, nas) = radius_aaa(2).await;

    // The USIM is far ahead of the HSS (SEQ 5000): Synchronization-Failure, then a
    // challenge above it.
    let usim_sqn = mobstrap_store::sqn::compose(5000, 0);
    let mut ue_ahead = ue(2, usim_sqn, &[Method::Aka]);
    let r = nas.authenticate(&mut ue_ahead).await.unwrap();
    assert_eq!(r.code, Code::AccessAccept, "{:?}", r.events);
    assert!(r
        .events
        .iter()
        .any(|e| matches!(e, PeerEvent::SyncFailureSent)));
    let sqns = r.sqns(&k_of(2), &OPC);
    assert_eq!(sqns.len(), 2, "two challenges");
    assert!(split(sqns[0]).0 < 5000);
    assert!(
        split(sqns[1]).0 > 5000,
        "after resync the SEQ is above the USIM's"
    );

    // Wrong K in the USIM: AUTN rejected, Access-Reject.
    let mut bad_k = k_of(2);
    bad_k[0] ^= 0xff;
    let mut ue_bad = ue_with_key(2, bad_k, 0, &[Method::Aka]);
    let r = nas.authenticate(&mut ue_bad).await.unwrap();
    assert_eq!(r.code, Code::AccessReject);
    assert!(r.peer_success().is_none());
    assert!(r.msk.is_none());

    // Unknown IMSI.
    let mut ue_unknown = ue(99, 0, &[Method::Aka]);
    let r = nas.authenticate(&mut ue_unknown).await.unwrap();
    assert_eq!(r.code, Code::AccessReject);
}

/// The re-authentication identity is queued without waiting, and a batch of such writes is
/// held open for more (the store's linger): a peer that comes back at once, before that
/// commit, still gets its fast re-authentication (the AAA commits and looks again on a miss).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_reauth_right_after_the_full_authentication() {
    let (_dir, _aaa, nas) = radius_aaa(5).await;
    for method in [Method::Aka, Method::AkaPrime] {
        let mut ue = ue(5, 0, &[method]);
        full_authentication(&nas, &mut ue).await;
        assert!(ue.method().reauth_id().is_some(), "re-auth id learned");
        // no flush: straight back with the new identity
        let r = nas.authenticate(&mut ue).await.unwrap();
        assert_eq!(r.code, Code::AccessAccept, "{method}: {:?}", r.events);
        assert!(
            r.peer_success().unwrap().fast_reauth,
            "{method}: fast re-authentication"
        );
        assert!(r.sqns(&k_of(5), &OPC).is_empty(), "no AKA challenge");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudonym_and_fast_reauth() {
    let (_dir, aaa, nas) = radius_aaa(3).await;
    for method in [Method::Aka, Method::AkaPrime] {
        let mut ue = ue(3, 0, &[method]);
        // Full authentication: learns a pseudonym and a re-authentication identity.
        full_authentication(&nas, &mut ue).await;
        let reauth_id = ue
            .method()
            .reauth_id()
            .expect("re-auth id learned")
            .to_string();
        let pseudonym = ue
            .method()
            .pseudonym()
            .expect("pseudonym learned")
            .to_string();
        aaa.store().flush().await.unwrap();

        // Fast re-authentication with the re-auth id, twice (counter grows).
        for round in 0..2 {
            let r = nas.authenticate(&mut ue).await.unwrap();
            assert_eq!(
                r.code,
                Code::AccessAccept,
                "{method} round {round}: {:?}",
                r.events
            );
            let ok = r.peer_success().unwrap();
            assert!(ok.fast_reauth, "{method}: fast re-authentication");
            assert_eq!(r.msk.as_deref(), Some(&ok.msk.as_bytes()[..]));
            assert!(r.sqns(&k_of(3), &OPC).is_empty(), "no AKA challenge");
            aaa.store().flush().await.unwrap();
        }
        assert_ne!(
            ue.method().reauth_id(),
            Some(reauth_id.as_str()),
            "one-time ids"
        );

        // Full authentication with the pseudonym.
        ue.method_mut().forget_identities();
        let mut ue2 = ue_with_pseudonym(3, method, &pseudonym);
        let r = nas.authenticate(&mut ue2).await.unwrap();
        assert_eq!(r.code, Code::AccessAccept, "{:?}", r.events);
        assert!(!r.peer_success().unwrap().fast_reauth);
        assert!(
            r.peer_success()
                .unwrap()
                .identity
                .starts_with(pseudonym.split('@').next().unwrap().as_bytes()),
            "the pseudonym was the identity used"
        );
        assert_eq!(r.sqns(&k_of(3), &OPC).len(), 1);
    }
}

/// Encrypted pseudonyms (the default): nothing in the store's pseudonym table, and a
/// pseudonym issued before a restart is still resolved after it, because the key is the
/// store's (`aaa_secret`), not the process's. With `pseudonym_format = "random"` the
/// pseudonym is a stored row instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_pseudonym_survives_a_restart_and_random_ones_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let aaa = start(radius_config(dir.path())).await;
    provision(aaa.store(), Sub::new(4)).await;
    let mut first = ue(4, 0, &[Method::Aka]);
    accepted(&aaa, &mut first).await;
    let pseudonym = first
        .method()
        .pseudonym()
        .expect("pseudonym learned")
        .to_string();
    let user = username(&pseudonym);
    assert_eq!(user.len(), 34, "{user}");
    assert!(user.starts_with("20"), "{user}");
    aaa.store().flush().await.unwrap();
    let now = mobstrap_store::unix_now();
    assert!(aaa.store().pseudonym(&user, now).await.unwrap().is_none());
    aaa.shutdown(Duration::from_secs(5)).await;

    let aaa = start(radius_config(dir.path())).await;
    let mut ue2 = ue_with_pseudonym(4, Method::Aka, &pseudonym);
    let r = accepted(&aaa, &mut ue2).await;
    assert!(r
        .peer_success()
        .unwrap()
        .identity
        .starts_with(user.as_bytes()));
    assert_eq!(
        r.sqns(&k_of(4), &OPC).len(),
        1,
        "one challenge, for subscriber 4"
    );
    aaa.shutdown(Duration::from_secs(5)).await;

    let mut c = radius_config(dir.path());
    c.eap.pseudonym_format = "random".into();
    let aaa = start(c).await;
    let mut ue3 = ue(4, 0, &[Method::Aka]);
    accepted(&aaa, &mut ue3).await;
    let user = username(ue3.method().pseudonym().expect("pseudonym learned"));
    assert_eq!(user.len(), 25, "{user}");
    aaa.store().flush().await.unwrap();
    let rec = aaa
        .store()
        .pseudonym(&user, now)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(rec.imsi.as_str(), imsi(4));
    aaa.shutdown(Duration::from_secs(5)).await;
}

/// An authentication through `nas` that must be a full one (no fast re-authentication)
/// ending in Access-Accept.
async fn full_authentication(nas: &RadiusNas, ue: &mut mobstrap_proto::eap::AkaEapPeer) {
    let r = nas.authenticate(ue).await.unwrap();
    assert_eq!(r.code, Code::AccessAccept, "{:?}", r.events);
    assert!(!r.peer_success().unwrap().fast_reauth);
}

/// One authentication from a fresh NAS; it must end in Access-Accept.
async fn accepted(
    aaa: &mobstrap_node::aaa::AaaNode,
    ue: &mut mobstrap_proto::eap::AkaEapPeer,
) -> mobstrap_node::aaa::client::RadiusAuth {
    let r = nas(aaa.radius_addr().unwrap())
        .await
        .authenticate(ue)
        .await
        .unwrap();
    assert_eq!(r.code, Code::AccessAccept, "{:?}", r.events);
    r
}

/// The username part of an identity.
fn username(identity: &str) -> String {
    identity.split('@').next().unwrap_or(identity).to_string()
}

/// A UE that knows only a pseudonym (as after a restart with stored identities).
fn ue_with_pseudonym(n: u64, method: Method, pseudonym: &str) -> mobstrap_proto::eap::AkaEapPeer {
    // The peer has no setter for a pseudonym: present it through the identity override.
    let mut cfg = mobstrap_proto::eap::AkaPeerConfig::new(&imsi(n), Some(REALM));
    cfg.methods = vec![method];
    cfg.identity_choice = IdentityChoice::Permanent;
    cfg.permanent_identity = Some(pseudonym_nai(pseudonym).into_bytes());
    let usim = mobstrap_proto::eap::Usim::new(
        &k_of(n),
        &OPC,
        0,
        mobstrap_proto::eap::SqnPolicy::IndArray {
            ind_bits: 5,
            delta: Some(1 << 28),
            max_age: None,
        },
    );
    mobstrap_proto::eap::AkaEapPeer::aka(cfg, usim)
}

fn pseudonym_nai(p: &str) -> String {
    if p.contains('@') {
        p.to_string()
    } else {
        format!("{p}@{REALM}")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retransmission_answered_from_cache_sqn_moves_once() {
    let dir = tempfile::tempdir().unwrap();
    let aaa = start(radius_config(dir.path())).await;
    provision(aaa.store(), Sub::new(4)).await;
    let server = aaa.radius_addr().unwrap();
    let nas = nas(server).await;

    let mut ue = ue(4, 0, &[Method::Aka]);
    ue.handle_request(&identity_request(1), &mut rand::rng())
        .unwrap();
    let resp = ue.poll_transmit().unwrap().to_vec();
    let (id, bytes) = nas.build(&resp, Some(&resp[5..]), None).unwrap();
    // The same datagram three times from one socket: one challenge, three equal answers.
    let raw = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut answers = Vec::new();
    for _ in 0..3 {
        raw.send_to(&bytes, server).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), raw.recv(&mut buf))
            .await
            .expect("answer")
            .unwrap();
        answers.push(buf[..n].to_vec());
    }
    assert_eq!(answers[0], answers[1], "retransmission answered from cache");
    assert_eq!(answers[0], answers[2]);
    assert_eq!(answers[0][1], id);
    // Its challenge's SQN, then a full authentication: the next SEQ, nothing skipped.
    let pkt = mobstrap_wire::radius::Repr::parse(&answers[0]).unwrap();
    let eap = pkt.eap_message().unwrap().into_owned();
    let first = challenge_sqn(&eap, &k_of(4), &OPC).unwrap();
    let r = nas.authenticate(&mut ue).await.unwrap();
    assert_eq!(r.code, Code::AccessAccept);
    let second = r.sqns(&k_of(4), &OPC)[0];
    assert_eq!(
        split(second).0,
        split(first).0 + 1,
        "one SQN for three copies of the request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_datagrams_are_dropped_and_the_next_request_served() {
    let dir = tempfile::tempdir().unwrap();
    let aaa = start(radius_config(dir.path())).await;
    provision(aaa.store(), Sub::new(5)).await;
    let server = aaa.radius_addr().unwrap();
    let raw = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut ue = ue(5, 0, &[Method::Aka]);
    ue.handle_request(&identity_request(1), &mut rand::rng())
        .unwrap();
    let resp = ue.poll_transmit().unwrap().to_vec();
    let nas0 = nas(server).await;
    let (_, good) = nas0.build(&resp, None, None).unwrap();

    // Garbage, a truncated packet, a bad Message-Authenticator, no Message-Authenticator,
    // another secret.
    let mut bad_ma = good.clone();
    let n = bad_ma.len();
    bad_ma[n - 1] ^= 1;
    let mut no_ma = mobstrap_wire::radius::Repr::new(Code::AccessRequest, 9, [3; 16]);
    no_ma.push_eap_message(&resp);
    let mut no_ma_bytes = Vec::new();
    no_ma.emit(&mut no_ma_bytes).unwrap();
    let other = RadiusNas::new("127.0.0.1:0".parse().unwrap(), server, b"wrong")
        .await
        .unwrap();
    let (_, wrong_secret) = other.build(&resp, None, None).unwrap();
    for junk in [
        vec![0xffu8; 3],
        vec![1, 2, 0, 200, 9, 9, 9, 9],
        good[..good.len() - 7].to_vec(),
        bad_ma,
        no_ma_bytes,
        wrong_secret,
        vec![0u8; 5000],
    ] {
        raw.send_to(&junk, server).await.unwrap();
    }
    let mut buf = [0u8; 4096];
    assert!(
        tokio::time::timeout(Duration::from_millis(300), raw.recv(&mut buf))
            .await
            .is_err(),
        "no answer to any of them"
    );
    // The next good conversation is served.
    let nas1 = nas(server).await;
    let mut ue = aaa_support::ue(5, 0, &[Method::Aka]);
    let r = nas1.authenticate(&mut ue).await.unwrap();
    assert_eq!(r.code, Code::AccessAccept);
    // An unknown State is rejected, not dropped.
    let r = nas1
        .request(&[2, 9, 0, 5, 1], None, Some(&[7; 16]))
        .await
        .unwrap();
    assert_eq!(r.code, Code::AccessReject);
    // Accounting is acknowledged.
    let _ = aaa.accounting_addr().unwrap();
}
