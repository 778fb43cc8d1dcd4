//! Whole EAP-AKA / EAP-AKA' conversations between the server engine and the peer engine, in
//! memory, for every path the engines have: full authentication (keys checked against
//! published vectors), identity negotiation, pseudonyms, fast re-authentication, counter too
//! small, SQN re-synchronisation, wrong key / RES / MAC, client errors, result indications,
//! bidding down, Nak, and the RFC 3748 discard rules.

mod common;
use common::*;

use mobstrap_crypto::eap_aka::AkaKeys;
use mobstrap_crypto::eap_aka_prime::AkaPrimeKeys;
use mobstrap_proto::eap::{
    AkaEapServer, Discard, Event, FailureReason, IdRequest, IdentityChoice, IdentityPolicy, Method,
    Need, NetworkNamePolicy, PeerFailure, PeerFault, ServerConfig, VectorError,
};

const SUB_CHALLENGE: u8 = 1;
const SUB_REJECT: u8 = 2;
const SUB_SYNC: u8 = 4;
const SUB_IDENTITY: u8 = 5;
const SUB_NOTIFICATION: u8 = 12;
const SUB_REAUTH: u8 = 13;
const SUB_CLIENT_ERROR: u8 = 14;

fn hss() -> Hss {
    Hss::with_subscriber(IMSI, &K, &OPC, 32)
}

fn assert_success(t: &Transcript, method: Method) {
    let s = t
        .server_success()
        .unwrap_or_else(|| panic!("server did not succeed: {:?}", t.server_events));
    let p = t
        .peer_success()
        .unwrap_or_else(|| panic!("peer did not succeed: {:?}", t.peer_events));
    assert_eq!(s.method, method);
    assert_eq!(p.method, method);
    assert_eq!(s.msk, p.msk, "MSK differs");
    assert_eq!(s.emsk, p.emsk, "EMSK differs");
    assert_ne!(s.msk.as_bytes(), s.emsk.as_bytes());
    assert_eq!(s.session_id, p.session_id);
    assert_eq!(s.session_id[0], method.eap_type());
    assert_eq!(s.imsi, IMSI);
    assert_eq!(t.server_outcome, Some(true));
}

#[test]
fn aka_full_authentication_keys_agree_and_match_an_independent_derivation() {
    for start in [Start::IdentityRequest, Start::NasIdentity] {
        let cfg = server_cfg(|_| {});
        let mut peer = new_peer(|c| c.methods = vec![Method::Aka]);
        let mut h = hss();
        let mut r = rng(1);
        let t = run(&cfg, &mut peer, &mut h, &mut r, start);
        assert_success(&t, Method::Aka);
        let s = t.server_success().unwrap();
        let identity = format!("0{IMSI}@{REALM}");
        assert_eq!(s.identity, identity.as_bytes());
        // Independent: MK from the vector the HSS gave.
        let v = h.vectors.last().unwrap();
        let k = AkaKeys::derive(identity.as_bytes(), v.ik.as_bytes(), v.ck.as_bytes());
        assert_eq!(s.msk, k.msk);
        assert_eq!(s.emsk, k.emsk);
        assert_eq!(&s.session_id[1..17], &v.rand);
        assert_eq!(&s.session_id[17..], &v.autn);
        // No AKA-Identity round: the identity came with EAP-Response/Identity.
        assert_eq!(
            t.aka_subtypes(),
            vec![(1, SUB_CHALLENGE), (2, SUB_CHALLENGE)]
        );
        // Pseudonym and re-authentication id were issued and stored.
        assert_eq!(h.pseudonyms.len(), 1);
        assert_eq!(h.reauth.len(), 1);
        let p = peer.method().pseudonym().unwrap();
        assert!(p.starts_with('2') && p.ends_with(REALM), "{p}");
        let rid = peer.method().reauth_id().unwrap();
        assert!(rid.starts_with('4') && rid.ends_with(REALM), "{rid}");
        assert_eq!(h.reauth[rid].counter, 1);
    }
}

#[test]
fn aka_prime_full_authentication() {
    let cfg = server_cfg(|c| c.network_name = "WLAN".into());
    let mut peer = new_peer(|c| c.network_name = Some("WLAN".into()));
    let mut h = hss();
    let mut r = rng(2);
    let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_success(&t, Method::AkaPrime);
    let s = t.server_success().unwrap();
    let identity = format!("6{IMSI}@{REALM}");
    let v = h.vectors.last().unwrap();
    let k = AkaPrimeKeys::derive_from_ck_ik(
        identity.as_bytes(),
        v.ck.as_bytes(),
        v.ik.as_bytes(),
        b"WLAN",
        &v.sqn_xor_ak(),
    )
    .unwrap();
    assert_eq!(s.msk, k.msk);
    assert_eq!(s.emsk, k.emsk);
    let p = peer.method().pseudonym().unwrap();
    assert!(p.starts_with('7'), "{p}");
    assert!(peer.method().reauth_id().unwrap().starts_with('8'));
    // The challenge carries AT_KDF 1 and AT_KDF_INPUT "WLAN" and no AT_BIDDING.
    let ch = &t.packets[2];
    assert_eq!((ch[0], ch[4], ch[5]), (1, 50, SUB_CHALLENGE));
    assert!(ch.windows(4).any(|w| w == [24, 1, 0, 1]));
    assert!(ch
        .windows(8)
        .any(|w| w == [23, 2, 0, 4, b'W', b'L', b'A', b'N']));
    assert!(!ch.windows(2).any(|w| w == [136, 1]));
}

/// TS 35.208 test set 19, the inputs of RFC 5448 / RFC 9048 Appendix C case 1 and of the
/// FreeRADIUS EAP-AKA KAT.
fn set19(vectors_before: u64) -> (Hss, [u8; 16], [u8; 16]) {
    let k = arr::<16>("5122250214c33e723a5dd523fc145fc0");
    let opc = arr::<16>("981d464c7c52eb6e5036234984ad0bcf");
    // The HSS adds 1 before each vector: vector number `vectors_before` has set 19's SQN.
    let sqn = 0x16f3b3f70fc2 - 1 - vectors_before;
    let mut h = Hss::with_subscriber("555444333222111", &k, &opc, sqn);
    h.fixed_rand = Some(arr("81e92b6c0ee0e12ebceba8d92a99dfa5"));
    h.amf = Some([0xc3, 0xab]);
    (h, k, opc)
}

#[test]
fn aka_prime_keys_match_rfc5448_case_1() {
    // The RFC's identity "0555444333222111" has the EAP-AKA prefix, so the server proposes
    // EAP-AKA (spending one vector); the peer runs EAP-AKA' only, Naks, and the server
    // switches to EAP-AKA' with the second vector.
    let (mut h, k, opc) = set19(1);
    let cfg = server_cfg(|c| c.network_name = "WLAN".into());
    let mut peer = new_peer_with(k, opc, 0, |c| {
        c.imsi = "555444333222111".into();
        c.permanent_identity = Some(b"0555444333222111".to_vec());
        c.methods = vec![Method::AkaPrime];
    });
    let mut r = rng(3);
    let t = run(&cfg, &mut peer, &mut h, &mut r, Start::NasIdentity);
    let s = t
        .server_success()
        .unwrap_or_else(|| panic!("{:?} {:?}", t.server_events, t.peer_events));
    assert_eq!(
        h.vectors[1].autn,
        arr::<16>("bb52e91c747ac3ab2a5c23d15ee351d5")
    );
    assert_eq!(s.method, Method::AkaPrime);
    assert_eq!(s.identity, b"0555444333222111");
    assert_eq!(
        s.msk.as_bytes().to_vec(),
        hexd("67c42d9aa56c1b79e295e3459fc3d187d42be0bf818d3070e362c5e967a4d544e8ecfe19358ab3039aff03b7c930588c055babee58a02650b067ec4e9347c75a")
    );
    assert_eq!(
        s.emsk.as_bytes().to_vec(),
        hexd("f861703cd775590e16c7679ea3874ada866311de290764d760cf76df647ea01c313f69924bdd7650ca9bac141ea075c4ef9e8029c0e290cdbad5638b63bc23fb")
    );
    assert_eq!(t.peer_success().unwrap().msk, s.msk);
    // EAP-AKA proposed, Nak(50), then EAP-AKA'.
    let types: Vec<u8> = t
        .packets
        .iter()
        .map(|p| p.get(4).copied().unwrap_or(0))
        .collect();
    assert_eq!(&types[..4], &[1, 23, 3, 50]);
    assert_eq!(&t.packets[2][5..], &[50]);
}

#[test]
fn aka_keys_match_the_freeradius_kat() {
    let (mut h, k, opc) = set19(0);
    let cfg = server_cfg(|_| {});
    let mut peer = new_peer_with(k, opc, 0, |c| {
        c.imsi = "555444333222111".into();
        c.permanent_identity = Some(b"0555444333222111".to_vec());
        c.methods = vec![Method::Aka];
    });
    let mut r = rng(4);
    let t = run(&cfg, &mut peer, &mut h, &mut r, Start::NasIdentity);
    assert_eq!(t.server_success().unwrap().method, Method::Aka);
    let p = t.peer_success().unwrap();
    assert_eq!(
        p.msk.as_bytes().to_vec(),
        hexd("352ffaef2df120cb22410b9c0b70623cb5a35bc9fcd6bca0fc337b48b17630890a03375cfd1e64cbd6bf8304374dd2e139d64ed1a6d618ffefb08c26a6bb3585")
    );
}

#[test]
fn identity_negotiation_with_each_request_type() {
    for (req, attr) in [
        (IdRequest::Permanent, 10u8),
        (IdRequest::FullAuth, 17),
        (IdRequest::Any, 13),
    ] {
        let cfg = server_cfg(|c| c.identity_policy = IdentityPolicy::AlwaysRequest(req));
        let mut peer = new_peer(|c| c.methods = vec![Method::Aka]);
        let mut h = hss();
        let mut r = rng(5);
        let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        assert_success(&t, Method::Aka);
        assert_eq!(
            t.aka_subtypes(),
            vec![
                (1, SUB_IDENTITY),
                (2, SUB_IDENTITY),
                (1, SUB_CHALLENGE),
                (2, SUB_CHALLENGE)
            ]
        );
        let idreq = &t.packets[2];
        assert_eq!(&idreq[8..10], &[attr, 1]);
        // The challenge carries a 20-byte AT_CHECKCODE (SHA-1 over the identity round).
        let ch = &t.packets[4];
        assert!(ch.windows(2).any(|w| w == [134, 6]), "{ch:02x?}");
    }
}

#[test]
fn any_id_request_brings_the_reauth_id_and_fullauth_the_pseudonym() {
    for (req, fast) in [(IdRequest::Any, true), (IdRequest::FullAuth, false)] {
        let cfg = server_cfg(|c| c.identity_policy = IdentityPolicy::AlwaysRequest(req));
        let mut peer = new_peer(|c| c.methods = vec![Method::AkaPrime]);
        let mut h = hss();
        let mut r = rng(22);
        assert_success(
            &run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest),
            Method::AkaPrime,
        );
        let pseudonym = peer.method().pseudonym().unwrap().to_string();
        let rid = peer.method().reauth_id().unwrap().to_string();
        let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        assert_success(&t, Method::AkaPrime);
        let s = t.server_success().unwrap();
        assert_eq!(s.fast_reauth, fast);
        let want = if fast { &rid } else { &pseudonym };
        assert_eq!(s.identity, want.as_bytes());
        // AT_CHECKCODE over the identity round was checked on both sides.
        let second = if fast { SUB_REAUTH } else { SUB_CHALLENGE };
        assert_eq!(
            t.aka_subtypes(),
            vec![
                (1, SUB_IDENTITY),
                (2, SUB_IDENTITY),
                (1, second),
                (2, second)
            ]
        );
    }
}

#[test]
fn pseudonym_is_issued_then_used_and_unknown_pseudonym_falls_back() {
    let cfg = server_cfg(|_| {});
    let mut peer = new_peer(|c| {
        c.methods = vec![Method::Aka];
        c.identity_choice = IdentityChoice::PseudonymOrPermanent;
    });
    let mut h = hss();
    let mut r = rng(6);
    let t1 = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_success(&t1, Method::Aka);
    let pseudonym = peer.method().pseudonym().unwrap().to_string();
    let user = pseudonym.split('@').next().unwrap().to_string();
    assert_eq!(h.pseudonyms.get(&user).map(String::as_str), Some(IMSI));

    let t2 = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_success(&t2, Method::Aka);
    assert_eq!(t2.needs[0], Need::Pseudonym { username: user });
    assert_eq!(t2.server_success().unwrap().identity, pseudonym.as_bytes());
    assert_eq!(t2.aka_subtypes().len(), 2, "no identity round");
    // A new pseudonym replaced the old one.
    assert_ne!(peer.method().pseudonym().unwrap(), pseudonym);

    // The store lost it: AT_PERMANENT_ID_REQ, then the permanent identity.
    h.pseudonyms.clear();
    let t3 = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_success(&t3, Method::Aka);
    assert_eq!(&t3.packets[2][8..10], &[10, 1]);
    assert_eq!(
        t3.server_success().unwrap().identity,
        format!("0{IMSI}@{REALM}").as_bytes()
    );
}

/// An encrypted-pseudonym cipher with a fixed key, valid 3600 s, on `clock`.
fn test_cipher(
    clock: impl Fn() -> u64 + Send + Sync + 'static,
) -> std::sync::Arc<mobstrap_proto::eap::EncryptedPseudonyms> {
    std::sync::Arc::new(mobstrap_proto::eap::EncryptedPseudonyms::new(
        mobstrap_crypto::pseudonym::PseudonymKey::new(&[0x5a; 16]),
        0,
        3600,
        std::sync::Arc::new(clock),
    ))
}

/// The username part of the pseudonym the peer holds.
fn pseudonym_user(peer: &mobstrap_proto::eap::AkaEapPeer) -> String {
    let p = peer.method().pseudonym().expect("a pseudonym");
    p.split('@').next().unwrap_or(p).to_string()
}

#[test]
fn encrypted_pseudonyms_are_resolved_without_the_store() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let clock = Arc::new(AtomicU64::new(1_800_000_000));
    let c2 = clock.clone();
    let cipher = test_cipher(move || c2.load(Ordering::Relaxed));
    for method in [Method::Aka, Method::AkaPrime] {
        let cfg = server_cfg(|c| c.pseudonym_cipher = Some(cipher.clone()));
        let mut peer = new_peer(|c| {
            c.methods = vec![method];
            c.identity_choice = IdentityChoice::PseudonymOrPermanent;
        });
        let mut h = hss();
        let mut r = rng(16);
        let t1 = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        assert_success(&t1, method);
        let pseudonym = peer.method().pseudonym().unwrap().to_string();
        let user = pseudonym_user(&peer);
        assert_eq!(user.len(), 34, "{user}");
        assert_eq!(user.as_bytes()[0], method.pseudonym_prefix());
        // Nothing for the store to keep.
        assert!(h.pseudonyms.is_empty());
        assert!(!t1
            .server_events
            .iter()
            .any(|e| matches!(e, Event::StorePseudonym { .. })));

        // Used: no lookup, no identity round, the vector asked for the right IMSI.
        let t2 = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        assert_success(&t2, method);
        assert_eq!(t2.server_success().unwrap().identity, pseudonym.as_bytes());
        assert!(
            matches!(&t2.needs[..], [Need::Vector { imsi, .. }] if imsi == IMSI),
            "{:?}",
            t2.needs
        );
        assert_eq!(t2.aka_subtypes().len(), 2, "no identity round");
        assert_ne!(peer.method().pseudonym().unwrap(), pseudonym);

        // Expired: the store is asked (it knows nothing), then the permanent identity.
        clock.fetch_add(3600, Ordering::Relaxed);
        let user = pseudonym_user(&peer);
        let t3 = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        assert_success(&t3, method);
        assert_eq!(t3.needs[0], Need::Pseudonym { username: user });
        assert_eq!(&t3.packets[2][8..10], &[10, 1], "AT_PERMANENT_ID_REQ");
    }
}

#[test]
fn a_stored_pseudonym_still_resolves_once_the_cipher_is_configured() {
    let mut peer = new_peer(|c| {
        c.methods = vec![Method::Aka];
        c.identity_choice = IdentityChoice::PseudonymOrPermanent;
    });
    let mut h = hss();
    let mut r = rng(17);
    // Issued by a server without the cipher: random, stored.
    let t1 = run(
        &server_cfg(|_| {}),
        &mut peer,
        &mut h,
        &mut r,
        Start::IdentityRequest,
    );
    assert_success(&t1, Method::Aka);
    let user = pseudonym_user(&peer);
    assert_eq!(h.pseudonyms.len(), 1);
    let cfg = server_cfg(|c| c.pseudonym_cipher = Some(test_cipher(|| 1_800_000_000)));
    let t2 = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_success(&t2, Method::Aka);
    assert_eq!(t2.needs[0], Need::Pseudonym { username: user });
    assert_eq!(t2.aka_subtypes().len(), 2, "no identity round");
    // The next one is an encrypted one.
    assert_eq!(pseudonym_user(&peer).len(), 34);
}

#[test]
fn fast_reauthentication_counts_up_and_falls_back() {
    for method in [Method::Aka, Method::AkaPrime] {
        let cfg = server_cfg(|_| {});
        let mut peer = new_peer(|c| c.methods = vec![method]);
        let mut h = hss();
        let mut r = rng(7);
        let full = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        assert_success(&full, method);
        let full_msk = full.server_success().unwrap().msk.clone();
        // EAP-AKA's stored context carries the K_encr and K_aut of its MK (RFC 4187 §7).
        if let mobstrap_proto::eap::ReauthSecrets::Aka { mk, k_encr, k_aut } =
            &h.reauth[peer.method().reauth_id().unwrap()].secrets
        {
            let k = AkaKeys::from_mk(mk.clone());
            assert_eq!(k_encr.as_bytes(), k.k_encr.as_bytes());
            assert_eq!(k_aut.as_bytes(), k.k_aut.as_bytes());
        }
        for counter in 1..=3u16 {
            let rid = peer.method().reauth_id().unwrap().to_string();
            assert_eq!(h.reauth[&rid].counter, counter);
            let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
            assert_success(&t, method);
            let s = t.server_success().unwrap();
            assert!(s.fast_reauth);
            assert_eq!(s.identity, rid.as_bytes());
            assert_ne!(s.msk, full_msk);
            assert_eq!(
                t.aka_subtypes(),
                vec![(1, SUB_REAUTH), (2, SUB_REAUTH)],
                "counter {counter}"
            );
            // One-time: the used id is gone, a new one is stored with the next counter.
            assert!(!h.reauth.contains_key(&rid));
            assert_eq!(h.reauth.len(), 1);
            assert!(t.peer_success().unwrap().fast_reauth);
        }
        // An unknown re-authentication id: AT_FULLAUTH_ID_REQ, then the pseudonym.
        h.reauth.clear();
        let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        assert_success(&t, method);
        assert_eq!(&t.packets[2][8..10], &[17, 1]);
        assert!(!t.server_success().unwrap().fast_reauth);
    }
}

#[test]
fn counter_too_small_leads_to_full_authentication() {
    let cfg = server_cfg(|_| {});
    let mut peer = new_peer(|c| c.methods = vec![Method::AkaPrime]);
    let mut h = hss();
    let mut r = rng(8);
    assert_success(
        &run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest),
        Method::AkaPrime,
    );
    assert_success(
        &run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest),
        Method::AkaPrime,
    );
    // The peer accepted counter 1; make the server offer 1 again.
    let rid = peer.method().reauth_id().unwrap().to_string();
    h.reauth.get_mut(&rid).unwrap().counter = 1;
    let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_success(&t, Method::AkaPrime);
    let s = t.server_success().unwrap();
    assert!(!s.fast_reauth);
    // The re-authentication id stays the key-derivation identity of the full run.
    assert_eq!(s.identity, rid.as_bytes());
    assert_eq!(
        t.aka_subtypes(),
        vec![
            (1, SUB_REAUTH),
            (2, SUB_REAUTH),
            (1, SUB_CHALLENGE),
            (2, SUB_CHALLENGE)
        ]
    );
    // The too-small response is MAC'd over NONCE_S; its encrypted part hid the flag.
    assert!(matches!(
        t.needs.last(),
        Some(Need::Vector { resync: None, .. })
    ));
}

#[test]
fn sqn_resynchronisation_then_success_and_the_limit() {
    for method in [Method::Aka, Method::AkaPrime] {
        let cfg = server_cfg(|_| {});
        // The USIM has seen SQN 5000, the HSS is at 32.
        let mut peer = new_peer_with(K, OPC, 5000, |c| c.methods = vec![method]);
        let mut h = hss();
        let mut r = rng(9);
        let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        assert_success(&t, method);
        assert_eq!(h.resyncs_seen, 1);
        assert!(matches!(
            t.needs.get(1),
            Some(Need::Vector {
                resync: Some(_),
                ..
            })
        ));
        assert_eq!(
            t.aka_subtypes(),
            vec![
                (1, SUB_CHALLENGE),
                (2, SUB_SYNC),
                (1, SUB_CHALLENGE),
                (2, SUB_CHALLENGE)
            ]
        );
        assert_eq!(peer.method().usim().sqn_ms(), 5001);

        // An HSS that ignores AUTS: a second Synchronization-Failure ends it.
        let mut peer = new_peer_with(K, OPC, 5000, |c| c.methods = vec![method]);
        let mut h = hss();
        h.subs.get_mut(IMSI).unwrap().ignore_resync = true;
        let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        assert_eq!(
            t.server_failure().unwrap().reason,
            FailureReason::ResyncLimit
        );
        assert_eq!(t.server_outcome, Some(false));
        assert!(t.peer_failures().contains(&PeerFailure::EapFailure));
    }
}

#[test]
fn wrong_key_at_the_peer_is_an_authentication_reject() {
    let cfg = server_cfg(|_| {});
    let mut bad_k = K;
    bad_k[15] ^= 0x55;
    let mut peer = new_peer_with(bad_k, OPC, 0, |c| c.methods = vec![Method::Aka]);
    let mut h = hss();
    let mut r = rng(10);
    let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_eq!(
        t.server_failure().unwrap().reason,
        FailureReason::AuthenticationReject
    );
    assert_eq!(
        t.peer_failures(),
        vec![PeerFailure::AutnRejected, PeerFailure::EapFailure]
    );
    assert_eq!(t.aka_subtypes().last(), Some(&(2, SUB_REJECT)));
    assert_eq!(t.packets.last().unwrap()[0], 4);
}

#[test]
fn wrong_res_fails_with_and_without_a_notification() {
    for notify in [true, false] {
        let cfg = server_cfg(|c| c.notify_failures = notify);
        let mut peer = new_peer(|c| c.methods = vec![Method::Aka]);
        let mut h = hss();
        h.corrupt_xres = true;
        let mut r = rng(11);
        let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        assert_eq!(t.server_failure().unwrap().reason, FailureReason::WrongRes);
        assert!(t.peer_success().is_none());
        let subs = t.aka_subtypes();
        if notify {
            assert_eq!(&subs[2..], &[(1, SUB_NOTIFICATION), (2, SUB_NOTIFICATION)]);
            // General Failure (16384): P bit set, no AT_MAC.
            let n = &t.packets[t.packets.len() - 3];
            assert_eq!(&n[8..12], &[12, 1, 0x40, 0x00]);
            assert_eq!(n.len(), 12);
            assert!(t
                .peer_failures()
                .contains(&PeerFailure::Notification(16384)));
        } else {
            assert_eq!(subs.len(), 2);
        }
        assert_eq!(t.packets.last().unwrap()[0], 4);
        // Nothing was stored for a failed exchange.
        assert!(h.pseudonyms.is_empty() && h.reauth.is_empty());
    }
}

#[test]
fn peer_fault_wrong_res_is_caught_by_the_servers_res_check_alone() {
    // The USIM verifies AUTN; the peer flips RES but signs the message with the right K_aut:
    // AT_MAC and AT_CHECKCODE verify, only RES ≠ XRES fails.
    for (method, server_ri, peer_ri, notify) in [
        (Method::Aka, false, false, true),
        (Method::Aka, false, false, false),
        (Method::Aka, true, true, true),
        // result indications agreed: the notification round even when not configured
        (Method::Aka, true, true, false),
        (Method::AkaPrime, false, false, true),
    ] {
        let cfg = server_cfg(|c| {
            c.notify_failures = notify;
            c.result_ind = server_ri;
        });
        let mut peer = new_peer(|c| {
            c.methods = vec![method];
            c.result_ind = peer_ri;
            c.fault = Some(PeerFault::WrongRes);
        });
        let mut h = hss();
        let mut r = rng(21);
        let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        let why = format!("{method:?} ri {server_ri}/{peer_ri} notify {notify}");
        assert_eq!(
            t.server_failure().unwrap().reason,
            FailureReason::WrongRes,
            "{why}"
        );
        assert!(t.peer_success().is_none(), "{why}");
        // the peer answered the challenge (AT_RES, AT_MAC), it did not reject it
        assert!(t.aka_subtypes().contains(&(2, SUB_CHALLENGE)), "{why}");
        assert!(!t.aka_subtypes().contains(&(2, SUB_REJECT)), "{why}");
        let subs = t.aka_subtypes();
        let notified = notify || (server_ri && peer_ri);
        if notified {
            assert_eq!(
                &subs[subs.len() - 2..],
                &[(1, SUB_NOTIFICATION), (2, SUB_NOTIFICATION)],
                "{why}"
            );
            // General Failure (16384): P bit set, no AT_MAC
            let n = &t.packets[t.packets.len() - 3];
            assert_eq!(&n[8..12], &[12, 1, 0x40, 0x00], "{why}");
            assert_eq!(n.len(), 12, "{why}");
            assert_eq!(
                t.peer_failures(),
                vec![PeerFailure::Notification(16384), PeerFailure::EapFailure],
                "{why}"
            );
        } else {
            assert_eq!(subs.last(), Some(&(2, SUB_CHALLENGE)), "{why}");
            assert_eq!(t.peer_failures(), vec![PeerFailure::EapFailure], "{why}");
        }
        assert_eq!(t.packets.last().unwrap()[0], 4, "{why}: EAP-Failure last");
        assert!(h.pseudonyms.is_empty() && h.reauth.is_empty(), "{why}");
        // the same peer without the fault authenticates against the same HSS
        let mut good = new_peer(|c| {
            c.methods = vec![method];
            c.result_ind = peer_ri;
        });
        let t = run(&cfg, &mut good, &mut h, &mut r, Start::IdentityRequest);
        assert_success(&t, method);
    }
}

#[test]
fn bad_server_mac_is_a_client_error() {
    // CK differs between server and peer: the peer's AT_MAC check fails.
    let cfg = server_cfg(|_| {});
    let mut peer = new_peer(|c| c.methods = vec![Method::Aka]);
    let mut h = hss();
    h.corrupt_ck = true;
    let mut r = rng(12);
    let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_eq!(
        t.server_failure().unwrap().reason,
        FailureReason::ClientError(0)
    );
    assert_eq!(t.aka_subtypes().last(), Some(&(2, SUB_CLIENT_ERROR)));
    assert_eq!(t.peer_failures()[0], PeerFailure::BadMac);
}

#[test]
fn result_indication_variants() {
    for (server_ri, peer_ri, method) in [
        (true, true, Method::Aka),
        (true, false, Method::Aka),
        (false, true, Method::Aka),
        (true, true, Method::AkaPrime),
    ] {
        let cfg = server_cfg(|c| c.result_ind = server_ri);
        let mut peer = new_peer(|c| {
            c.methods = vec![method];
            c.result_ind = peer_ri;
        });
        let mut h = hss();
        let mut r = rng(13);
        let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        assert_success(&t, method);
        let notified = t.aka_subtypes().contains(&(1, SUB_NOTIFICATION));
        assert_eq!(notified, server_ri && peer_ri, "{server_ri} {peer_ri}");
        if notified {
            // Success (32768) with AT_MAC.
            let n = t
                .packets
                .iter()
                .find(|p| p[0] == 1 && p.len() > 5 && p[5] == SUB_NOTIFICATION)
                .unwrap();
            assert_eq!(&n[8..12], &[12, 1, 0x80, 0x00]);
            assert!(n.windows(2).any(|w| w == [11, 5]));
        }
        // And through a fast re-authentication (encrypted AT_COUNTER in the notification).
        let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
        assert_success(&t, method);
        assert!(t.server_success().unwrap().fast_reauth);
        assert_eq!(
            t.aka_subtypes().contains(&(1, SUB_NOTIFICATION)),
            server_ri && peer_ri
        );
    }
}

#[test]
fn result_indication_then_missing_success_notification_is_refused_by_the_peer() {
    // A peer that asked for result indications must not accept a bare EAP-Success.
    let cfg = server_cfg(|c| c.result_ind = true);
    let mut peer = new_peer(|c| {
        c.methods = vec![Method::Aka];
        c.result_ind = true;
    });
    let mut h = hss();
    let mut r = rng(14);
    let mut server = new_server(&cfg);
    server.start(&mut r);
    let mut last_resp = Vec::new();
    // Identity, Challenge; then inject EAP-Success instead of the notification.
    for _ in 0..2 {
        let req = server.poll_transmit().unwrap().to_vec();
        peer.handle_request(&req, &mut r).unwrap();
        last_resp = peer.poll_transmit().unwrap().to_vec();
        server.handle_response(&last_resp, &mut r).unwrap();
        while let Some(e) = server.poll_event() {
            if let Event::Need(Need::Vector { imsi, method, .. }) = e {
                let v = h.vector(&imsi, method, None, &mut r);
                server.provide_vector(v, &mut r);
            }
        }
    }
    let success = [3u8, last_resp[1], 0, 4];
    peer.handle_request(&success, &mut r).unwrap();
    let evs: Vec<_> = std::iter::from_fn(|| peer.poll_event()).collect();
    assert!(evs.contains(&mobstrap_proto::eap::PeerEvent::Failure(
        PeerFailure::UnexpectedSuccess
    )));
}

#[test]
fn bidding_down_is_detected_by_a_peer_that_supports_aka_prime() {
    let mut r = rng(15);
    // Server allows both, identity says EAP-AKA: the challenge has AT_BIDDING with D.
    let cfg = server_cfg(|_| {});
    let mut dual = new_peer(|c| {
        c.methods = vec![Method::AkaPrime, Method::Aka];
        c.permanent_identity = Some(format!("0{IMSI}@{REALM}").into_bytes());
    });
    let mut h = hss();
    let t = run(&cfg, &mut dual, &mut h, &mut r, Start::IdentityRequest);
    assert!(t.packets[2].windows(4).any(|w| w == [136, 1, 0x80, 0]));
    assert_eq!(t.peer_failures()[0], PeerFailure::BiddingDown);
    assert_eq!(
        t.server_failure().unwrap().reason,
        FailureReason::AuthenticationReject
    );
    // An EAP-AKA-only peer ignores it.
    let mut aka_only = new_peer(|c| c.methods = vec![Method::Aka]);
    let t = run(&cfg, &mut aka_only, &mut h, &mut r, Start::IdentityRequest);
    assert_success(&t, Method::Aka);
    // A server without EAP-AKA' does not bid: the dual peer goes on.
    let cfg = server_cfg(|c| c.aka_prime = false);
    let t = run(&cfg, &mut dual, &mut h, &mut r, Start::IdentityRequest);
    assert_success(&t, Method::Aka);
    assert!(!t.packets[2].windows(2).any(|w| w == [136, 1]));
}

#[test]
fn nak_to_an_unsupported_method() {
    let mut r = rng(16);
    let cfg = server_cfg(|c| c.aka_prime = false);
    let mut peer = new_peer(|c| c.methods = vec![Method::AkaPrime]);
    let mut h = hss();
    let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_eq!(
        t.server_failure().unwrap().reason,
        FailureReason::NoCommonMethod
    );
    assert_eq!(&t.packets[3][4..], &[3, 50]);
    assert_eq!(t.packets[4][0], 4);

    // The peer Naks a method it does not run (MD5-Challenge) with its own list.
    let mut peer = new_peer(|_| {});
    peer.handle_request(&[1, 9, 0, 6, 4, 0], &mut r).unwrap();
    assert_eq!(peer.poll_transmit().unwrap(), &[2, 9, 0, 7, 3, 50, 23]);

    // An expanded Nak (RFC 3748 §5.3.2) proposing EAP-AKA' is honoured.
    let mut server = AkaEapServer::aka(ServerConfig::default(), server_cfg(|_| {}));
    let id = format!("0{IMSI}@{REALM}");
    let mut resp = vec![2u8, 1, 0, 0, 1];
    resp.extend_from_slice(id.as_bytes());
    let n = resp.len() as u16;
    resp[2..4].copy_from_slice(&n.to_be_bytes());
    server.handle_response(&resp, &mut r).unwrap();
    let Some(Event::Need(Need::Vector { method, .. })) = server.poll_event() else {
        panic!()
    };
    assert_eq!(method, Method::Aka);
    let v = h.vector(IMSI, method, None, &mut r);
    server.provide_vector(v, &mut r);
    let req = server.poll_transmit().unwrap().to_vec();
    let nak = [
        2, req[1], 0, 20, 254, 0, 0, 0, 0, 0, 0, 3, 254, 0, 0, 0, 0, 0, 0, 50,
    ];
    server.handle_response(&nak, &mut r).unwrap();
    let Some(Event::Need(Need::Vector { method, .. })) = server.poll_event() else {
        panic!()
    };
    assert_eq!(method, Method::AkaPrime);
}

#[test]
fn aka_prime_needs_the_amf_separation_bit() {
    let mut r = rng(17);
    let cfg = server_cfg(|_| {});
    let mut peer = new_peer(|c| c.methods = vec![Method::AkaPrime]);
    let mut h = hss();
    h.amf = Some([0x00, 0x00]);
    let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_eq!(t.server_failure().unwrap().reason, FailureReason::BadVector);
}

#[test]
fn strict_network_name_mismatch_is_rejected() {
    let mut r = rng(18);
    let cfg = server_cfg(|c| c.network_name = "HRPD".into());
    let mut peer = new_peer(|c| {
        c.methods = vec![Method::AkaPrime];
        c.network_name = Some("WLAN".into());
        c.network_name_policy = NetworkNamePolicy::Strict;
    });
    let mut h = hss();
    let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_eq!(t.peer_failures()[0], PeerFailure::NetworkName);
    // Accept policy: goes on with the server's name.
    let mut peer = new_peer(|c| {
        c.methods = vec![Method::AkaPrime];
        c.network_name = Some("WLAN".into());
    });
    let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_success(&t, Method::AkaPrime);
}

#[test]
fn unknown_subscriber_and_round_limit() {
    let mut r = rng(19);
    let cfg = server_cfg(|_| {});
    let mut peer = new_peer(|c| {
        c.imsi = "001019999999999".into();
        c.methods = vec![Method::Aka];
    });
    let mut h = hss();
    let t = run(&cfg, &mut peer, &mut h, &mut r, Start::IdentityRequest);
    assert_eq!(
        t.server_failure().unwrap().reason,
        FailureReason::NoVector(VectorError::UnknownSubscriber)
    );
    assert!(t.peer_failures().contains(&PeerFailure::EapFailure));

    let cfg = server_cfg(|c| c.identity_policy = IdentityPolicy::AlwaysRequest(IdRequest::Any));
    let mut server = AkaEapServer::aka(
        ServerConfig {
            max_rounds: 2,
            ..ServerConfig::default()
        },
        cfg,
    );
    let mut peer = new_peer(|c| c.methods = vec![Method::Aka]);
    let t = converse(
        &mut server,
        &mut peer,
        &mut h,
        &mut r,
        Start::IdentityRequest,
    );
    assert_eq!(
        t.server_failure().unwrap().reason,
        FailureReason::TooManyRounds
    );
}

#[test]
fn duplicates_unexpected_and_garbage_are_discarded() {
    let mut r = rng(20);
    let cfg = server_cfg(|_| {});
    let mut server = new_server(&cfg);
    let mut peer = new_peer(|c| c.methods = vec![Method::Aka]);
    let mut h = hss();
    // Before start: only Response/Identity is acceptable.
    assert_eq!(
        server.handle_response(&[2, 1, 0, 6, 23, 1], &mut r),
        Err(Discard::UnexpectedType(23))
    );
    server.start(&mut r);
    let req = server.poll_transmit().unwrap().to_vec();
    peer.handle_request(&req, &mut r).unwrap();
    let resp = peer.poll_transmit().unwrap().to_vec();
    // A duplicate Request gets the same Response again from the peer.
    peer.handle_request(&req, &mut r).unwrap();
    assert_eq!(peer.poll_transmit().unwrap(), &resp[..]);
    // Garbage to the server: nothing changes.
    for junk in [
        &[][..],
        &[2],
        &[2, req[1], 0, 3],
        &[2, req[1], 0, 9, 1],
        &[1, req[1], 0, 5, 1],
        &[3, req[1], 0, 4],
        &[2, req[1].wrapping_add(1), 0, 5, 1],
    ] {
        assert!(server.handle_response(junk, &mut r).is_err(), "{junk:?}");
        assert!(server.poll_transmit().is_none());
    }
    server.handle_response(&resp, &mut r).unwrap();
    // The same Response again: the Identifier is no longer outstanding.
    while let Some(Event::Need(Need::Vector { imsi, method, .. })) = server.poll_event() {
        // Busy while the vector is pending.
        assert_eq!(server.handle_response(&resp, &mut r), Err(Discard::Busy));
        let v = h.vector(&imsi, method, None, &mut r);
        server.provide_vector(v, &mut r);
    }
    assert!(matches!(
        server.handle_response(&resp, &mut r),
        Err(Discard::IdentifierMismatch { .. })
    ));
    let ch = server.poll_transmit().unwrap().to_vec();
    // A Response of another type to the challenge, and a Nak after the method started
    // answering, are discarded; a malformed AKA message is not silently accepted.
    assert_eq!(
        server.handle_response(&[2, ch[1], 0, 5, 4], &mut r),
        Err(Discard::UnexpectedType(4))
    );
    assert_eq!(
        server.handle_response(&[2, ch[1], 0, 6, 23, 1], &mut r),
        Err(Discard::Method("EAP-AKA header truncated"))
    );
    // The retransmission hook gives the outstanding request.
    assert_eq!(server.last_request().unwrap(), &ch[..]);
    peer.handle_request(&ch, &mut r).unwrap();
    let resp = peer.poll_transmit().unwrap().to_vec();
    server.handle_response(&resp, &mut r).unwrap();
    assert_eq!(server.outcome(), Some(true));
    assert_eq!(
        server.handle_response(&resp, &mut r),
        Err(Discard::Finished)
    );
}

#[test]
fn attribute_violations_in_responses_fail_the_exchange() {
    // A Response/AKA-Challenge with a non-skippable unknown attribute, and one with no
    // AT_MAC: General Failure notification, then EAP-Failure.
    for body in [
        &[99u8, 1, 0, 0][..],
        &[3, 3, 0, 64, 1, 2, 3, 4, 5, 6, 7, 8][..],
    ] {
        let mut r = rng(21);
        let cfg = server_cfg(|_| {});
        let mut server = new_server(&cfg);
        let id = format!("0{IMSI}@{REALM}");
        let mut resp = vec![2u8, 1, 0, 0, 1];
        resp.extend_from_slice(id.as_bytes());
        let n = resp.len() as u16;
        resp[2..4].copy_from_slice(&n.to_be_bytes());
        server.handle_response(&resp, &mut r).unwrap();
        let mut h = hss();
        if let Some(Event::Need(Need::Vector { imsi, method, .. })) = server.poll_event() {
            let v = h.vector(&imsi, method, None, &mut r);
            server.provide_vector(v, &mut r);
        }
        let ch = server.poll_transmit().unwrap().to_vec();
        let mut bad = vec![2u8, ch[1], 0, 0, 23, 1, 0, 0];
        bad.extend_from_slice(body);
        let n = bad.len() as u16;
        bad[2..4].copy_from_slice(&n.to_be_bytes());
        server.handle_response(&bad, &mut r).unwrap();
        let notif = server.poll_transmit().unwrap().to_vec();
        assert_eq!(&notif[4..6], &[23, 12]);
        let ack = [2u8, notif[1], 0, 8, 23, 12, 0, 0];
        server.handle_response(&ack, &mut r).unwrap();
        assert_eq!(server.outcome(), Some(false));
        let f = std::iter::from_fn(|| server.poll_event())
            .find_map(|e| match e {
                Event::Failure(f) => Some(f),
                _ => None,
            })
            .unwrap();
        assert!(
            matches!(
                f.reason,
                FailureReason::ProtocolError | FailureReason::BadMac
            ),
            "{f:?}"
        );
    }
}

/// An EAP-Request/AKA'-Challenge built by hand (wire codec + crypto), with a chosen AT_KDF
/// list.
fn prime_challenge(ident: u8, kdfs: &[u16], identity: &[u8], rand: [u8; 16], sqn: u64) -> Vec<u8> {
    use mobstrap_crypto::eap_aka::{set_at_mac, MacAlg};
    use mobstrap_crypto::milenage::Milenage;
    use mobstrap_wire::eap::aka::{mac_offset, Attribute, Message, Padded, Subtype};
    use mobstrap_wire::eap::{Body, Data, Repr};
    let v = Milenage::new(&K, &OPC)
        .generate_vector(&rand, sqn, [0x80, 0])
        .unwrap();
    let keys = AkaPrimeKeys::derive_from_ck_ik(
        identity,
        v.ck.as_bytes(),
        v.ik.as_bytes(),
        b"WLAN",
        &v.sqn_xor_ak(),
    )
    .unwrap();
    let mut attrs = vec![
        Attribute::Rand {
            reserved: 0,
            rand: &v.rand,
        },
        Attribute::Autn {
            reserved: 0,
            autn: &v.autn,
        },
    ];
    attrs.extend(kdfs.iter().map(|&k| Attribute::Kdf(k)));
    attrs.push(Attribute::KdfInput(Padded::new(b"WLAN")));
    attrs.push(Attribute::Mac {
        reserved: 0,
        mac: &[0; 16],
    });
    let repr = Repr {
        identifier: ident,
        body: Body::Request(Data::AkaPrime(Message::new(Subtype::Challenge, attrs))),
    };
    let mut out = Vec::new();
    repr.emit(&mut out).unwrap();
    let off = mac_offset(&out).unwrap().unwrap();
    set_at_mac(
        MacAlg::HmacSha256_128,
        keys.k_aut.as_bytes(),
        &mut out,
        off,
        &[],
    )
    .unwrap();
    out
}

#[test]
fn aka_prime_kdf_negotiation() {
    let mut r = rng(30);
    let mut peer = new_peer(|c| c.methods = vec![Method::AkaPrime]);
    let identity = peer.begin_with_external_identity();
    // KDF 2 first: the peer asks for KDF 1 with a Challenge carrying only AT_KDF.
    let c1 = prime_challenge(1, &[2, 1], &identity, [5; 16], 100);
    peer.handle_request(&c1, &mut r).unwrap();
    assert_eq!(
        peer.poll_transmit().unwrap(),
        &[2, 1, 0, 12, 50, 1, 0, 0, 24, 1, 0, 1]
    );
    // The server puts KDF 1 in front of the original list: the peer authenticates.
    let c2 = prime_challenge(2, &[1, 2, 1], &identity, [6; 16], 101);
    peer.handle_request(&c2, &mut r).unwrap();
    let resp = peer.poll_transmit().unwrap().to_vec();
    assert_eq!(&resp[4..6], &[50, SUB_CHALLENGE]);
    assert!(
        resp.windows(4).any(|w| w == [3, 3, 0, 64]),
        "AT_RES 64 bits"
    );
    // Any other change of the list after negotiation: Client-Error.
    let mut peer = new_peer(|c| c.methods = vec![Method::AkaPrime]);
    let identity = peer.begin_with_external_identity();
    peer.handle_request(
        &prime_challenge(1, &[2, 1], &identity, [5; 16], 100),
        &mut r,
    )
    .unwrap();
    let _ = peer.poll_transmit();
    peer.handle_request(
        &prime_challenge(2, &[1, 2], &identity, [6; 16], 101),
        &mut r,
    )
    .unwrap();
    assert_eq!(
        &peer.poll_transmit().unwrap()[4..6],
        &[50, SUB_CLIENT_ERROR]
    );
    // No KDF the peer knows, or duplicates: Authentication-Reject.
    for kdfs in [&[2u16, 3][..], &[1, 1][..], &[][..]] {
        let mut peer = new_peer(|c| c.methods = vec![Method::AkaPrime]);
        let identity = peer.begin_with_external_identity();
        peer.handle_request(&prime_challenge(1, kdfs, &identity, [5; 16], 100), &mut r)
            .unwrap();
        assert_eq!(
            &peer.poll_transmit().unwrap()[4..6],
            &[50, SUB_REJECT],
            "{kdfs:?}"
        );
    }

    // Server side: it offered KDF 1 only, so a peer asking for another one fails.
    let cfg = server_cfg(|c| c.notify_failures = false);
    let mut server = new_server(&cfg);
    let mut h = hss();
    let id = format!("6{IMSI}@{REALM}");
    let mut resp = vec![2u8, 1, 0, 0, 1];
    resp.extend_from_slice(id.as_bytes());
    let n = resp.len() as u16;
    resp[2..4].copy_from_slice(&n.to_be_bytes());
    server.handle_response(&resp, &mut r).unwrap();
    if let Some(Event::Need(Need::Vector { imsi, method, .. })) = server.poll_event() {
        let v = h.vector(&imsi, method, None, &mut r);
        server.provide_vector(v, &mut r);
    }
    let ch = server.poll_transmit().unwrap().to_vec();
    server
        .handle_response(&[2, ch[1], 0, 12, 50, 1, 0, 0, 24, 1, 0, 2], &mut r)
        .unwrap();
    assert_eq!(server.outcome(), Some(false));
    let f = std::iter::from_fn(|| server.poll_event())
        .find_map(|e| match e {
            Event::Failure(f) => Some(f.reason),
            _ => None,
        })
        .unwrap();
    assert_eq!(f, FailureReason::Unsupported);
}

#[test]
fn engines_can_move_between_threads() {
    fn send<T: Send + 'static>() {}
    send::<AkaEapServer>();
    send::<mobstrap_proto::eap::AkaEapPeer>();
    send::<Event>();
}
