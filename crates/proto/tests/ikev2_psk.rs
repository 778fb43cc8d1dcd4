//! IKEv2 initiator ↔ responder with pre-shared keys over the in-memory network: the basic
//! exchange, keys that agree, faults (loss, duplication, reordering), retransmission
//! give-up, INVALID_KE_PAYLOAD, COOKIE, NAT-T, fragmentation.

mod ike_common;

use std::time::Duration;

use ike_common::*;
use mobstrap_crypto::dh::Group;
use mobstrap_crypto::ikev2::{Integ, Prf};
use mobstrap_crypto::transform::Encr;
use mobstrap_proto::ikev2::{
    CloseReason, Config, DispatcherConfig, Event, Identity, IkeProposal, TsRange,
};
use mobstrap_wire::ikev2::{Message, NotifyType, PayloadBody};

pub fn psk_configs() -> (Config, Config) {
    let i = Config::new(Identity::fqdn("mag.example"))
        .with_psk(None, b"a shared secret of some length");
    let mut i = i;
    i.remote_id = Some(Identity::fqdn("lma.example"));
    let r = Config::new(Identity::fqdn("lma.example"))
        .with_psk(None, b"a shared secret of some length");
    (i, r)
}

fn check_keys_agree(sim: &Sim) {
    let ie = sim.i_est();
    let re = sim.r_est();
    assert_eq!(ie.spi_i, re.spi_i);
    assert_eq!(ie.spi_r, re.spi_r);
    assert_eq!(ie.peer_id, Identity::fqdn("lma.example"));
    assert_eq!(re.peer_id, Identity::fqdn("mag.example"));
    let ic = ie.child.as_ref().expect("initiator child");
    let rc = re.child.as_ref().expect("responder child");
    assert_eq!(ic.inbound_spi, rc.outbound_spi);
    assert_eq!(ic.outbound_spi, rc.inbound_spi);
    assert_eq!(ic.outbound, rc.inbound);
    assert_eq!(ic.inbound, rc.outbound);
    assert_ne!(ic.inbound, ic.outbound);
    assert_eq!(ic.algs, rc.algs);
}

#[test]
fn psk_establishes_with_default_proposals() {
    let (i, r) = psk_configs();
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 1);
    assert!(sim.run_until(Duration::from_secs(5), |s| s.both_established()));
    check_keys_agree(&sim);
    let e = sim.i_est();
    assert_eq!(e.algs.encr, Encr::AesGcm16_128);
    assert_eq!(e.algs.dh, Group::Curve25519);
    assert!(!e.nat_local && !e.nat_remote);
    // Exactly two exchanges: 4 messages.
    assert_eq!(sim.sent_to_responder.len(), 2);
    assert_eq!(sim.sent_to_initiator.len(), 2);
    assert!(sim.init.is_established());
}

#[test]
fn every_ike_algorithm_combination_we_offer() {
    let combos = [
        (Encr::AesGcm16_128, None, Prf::HmacSha256, Group::Curve25519),
        (Encr::AesGcm16_256, None, Prf::HmacSha384, Group::Ecp256),
        (
            Encr::AesCbc128,
            Some(Integ::HmacSha256_128),
            Prf::HmacSha256,
            Group::Ecp384,
        ),
        (
            Encr::AesCbc256,
            Some(Integ::HmacSha512_256),
            Prf::HmacSha512,
            Group::Modp2048,
        ),
    ];
    for (n, (encr, integ, prf, dh)) in combos.into_iter().enumerate() {
        let (mut i, mut r) = psk_configs();
        let p = IkeProposal {
            encr: vec![encr],
            integ: integ.into_iter().collect(),
            prf: vec![prf],
            dh: vec![dh],
        };
        i.ike_proposals = vec![p.clone()];
        r.ike_proposals = vec![p];
        i.esp_proposals = vec![mobstrap_proto::ikev2::EspProposal::cbc128_sha256()];
        let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 10 + n as u64);
        assert!(
            sim.run_until(Duration::from_secs(5), |s| s.both_established()),
            "{encr:?} {dh:?}"
        );
        check_keys_agree(&sim);
        let a = sim.i_est().algs;
        assert_eq!((a.encr, a.integ, a.prf, a.dh), (encr, integ, prf, dh));
        assert_eq!(
            sim.i_est().child.as_ref().unwrap().algs.integ,
            Some(Integ::HmacSha256_128)
        );
    }
}

#[test]
fn wrong_psk_fails_both_sides() {
    let (i, r) = psk_configs();
    let r = {
        let mut r = r;
        r.psks.clear();
        r.with_psk(None, b"another secret")
    };
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 2);
    sim.run_until(Duration::from_secs(60), |s| {
        s.i_closed().is_some() && s.r_closed().is_some()
    });
    assert_eq!(
        sim.i_closed(),
        Some(CloseReason::AuthenticationFailed { by_peer: true })
    );
    assert_eq!(
        sim.r_closed(),
        Some(CloseReason::AuthenticationFailed { by_peer: false })
    );
    assert!(!sim.i_established());
    assert!(sim.resp.is_empty());
}

#[test]
fn loss_duplication_and_reordering() {
    for seed in 0..12 {
        let (i, r) = psk_configs();
        let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 100 + seed);
        sim.faults = Faults {
            loss: 0.3,
            duplicate: 0.3,
            reorder: 0.5,
        };
        let ok = sim.run_until(Duration::from_secs(120), |s| s.both_established());
        if !ok {
            // With 30 % loss a give-up is possible but must be a clean timeout.
            assert!(
                matches!(sim.i_closed(), Some(CloseReason::Timeout)),
                "seed {seed}"
            );
            continue;
        }
        check_keys_agree(&sim);
        // Exactly one Established per side whatever was duplicated.
        assert_eq!(
            sim.i_events
                .iter()
                .filter(|e| matches!(e, Event::Established(_)))
                .count(),
            1
        );
        assert_eq!(
            sim.r_events
                .iter()
                .filter(|(_, e)| matches!(e, Event::Established(_)))
                .count(),
            1
        );
        assert_eq!(
            sim.resp.len(),
            1,
            "seed {seed}: one SA despite retransmitted IKE_SA_INIT"
        );
    }
}

#[test]
fn retransmission_gives_up_with_backoff() {
    let (i, r) = psk_configs();
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 3);
    sim.filter = Some(Box::new(|_, to_responder| !to_responder));
    sim.run_until(Duration::from_secs(600), |s| s.i_closed().is_some());
    assert_eq!(sim.i_closed(), Some(CloseReason::Timeout));
    // 1 + 5 retransmissions, at 4, 7.2, 12.96, 23.3, 42 s, give up after 75.6 s more.
    assert_eq!(sim.sent_to_responder.len(), 6);
    let t = sim.elapsed().as_secs_f64();
    assert!(
        (4.0 + 7.2 + 12.96 + 23.33 + 41.99 + 60.0 - 1.0..170.0).contains(&t),
        "{t}"
    );
}

#[test]
fn invalid_ke_payload_retry() {
    let (mut i, mut r) = psk_configs();
    // The initiator guesses MODP-2048 first, the responder only takes P-256.
    i.ike_proposals = vec![IkeProposal {
        encr: vec![Encr::AesCbc128],
        integ: vec![Integ::HmacSha256_128],
        prf: vec![Prf::HmacSha256],
        dh: vec![Group::Modp2048, Group::Ecp256],
    }];
    r.ike_proposals = vec![IkeProposal {
        dh: vec![Group::Ecp256],
        ..i.ike_proposals[0].clone()
    }];
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 4);
    assert!(sim.run_until(Duration::from_secs(5), |s| s.both_established()));
    assert_eq!(sim.i_est().algs.dh, Group::Ecp256);
    let first = Message::parse(&sim.sent_to_initiator[0]).unwrap();
    let n: Vec<_> = first.notifies(NotifyType::InvalidKePayload).collect();
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].accepted_dh_group(), Some(19));
    assert_eq!(
        sim.sent_to_responder.len(),
        3,
        "SA_INIT, SA_INIT again, AUTH"
    );
    check_keys_agree(&sim);
}

#[test]
fn no_proposal_chosen() {
    let (mut i, r) = psk_configs();
    i.ike_proposals = vec![IkeProposal {
        encr: vec![Encr::AesCbc256],
        integ: vec![Integ::HmacSha1_96],
        prf: vec![Prf::HmacSha1],
        dh: vec![Group::Modp3072],
    }];
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 5);
    sim.run_until(Duration::from_secs(5), |s| s.i_closed().is_some());
    assert_eq!(sim.i_closed(), Some(CloseReason::NoProposalChosen));
    assert!(sim.resp.is_empty(), "no responder state");
}

#[test]
fn cookie_under_load() {
    let (i, r) = psk_configs();
    let d = DispatcherConfig {
        cookie_threshold: 0,
        ..DispatcherConfig::default()
    };
    let mut sim = Sim::new(i, r, None, d, 6);
    assert!(sim.run_until(Duration::from_secs(5), |s| s.both_established()));
    check_keys_agree(&sim);
    let first = Message::parse(&sim.sent_to_initiator[0]).unwrap();
    assert_eq!(first.payloads.len(), 1);
    assert!(first.notifies(NotifyType::Cookie).next().is_some());
    // The second IKE_SA_INIT starts with the COOKIE.
    let second = Message::parse(&sim.sent_to_responder[1]).unwrap();
    assert!(
        matches!(&second.payloads[0].body, PayloadBody::Notify(n) if n.notify_type == NotifyType::Cookie)
    );
    assert_eq!(sim.resp.stats().cookies_sent, 1);
    assert_eq!(sim.resp.stats().sas_created, 1);
}

#[test]
fn forced_nat_moves_to_natt_port_with_marker() {
    let (mut i, r) = psk_configs();
    i.force_encap = true;
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 7);
    assert!(sim.run_until(Duration::from_secs(5), |s| s.both_established()));
    let e = sim.i_est();
    assert!(e.nat_local);
    assert_eq!(e.local.port(), 4500);
    assert_eq!(e.remote.port(), 4500);
    assert!(e.child.as_ref().unwrap().udp_encap);
    let re = sim.r_est();
    assert!(re.nat_remote, "the responder sees the initiator as NATed");
    assert!(re.child.as_ref().unwrap().udp_encap);
    // IKE_AUTH travels on 4500 behind the Non-ESP Marker.
    assert_eq!(&sim.sent_to_responder[1][..4], &[0, 0, 0, 0]);
    check_keys_agree(&sim);
}

#[test]
fn fragmentation_with_small_mtu() {
    let (mut i, mut r) = psk_configs();
    i.fragment_mtu = 576;
    r.fragment_mtu = 576;
    // Many traffic selectors make IKE_AUTH large.
    i.local_ts = (0..40)
        .map(|n| TsRange::host(format!("10.1.0.{n}").parse().unwrap()))
        .collect();
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 8);
    sim.faults = Faults {
        loss: 0.0,
        duplicate: 0.2,
        reorder: 0.5,
    };
    assert!(sim.run_until(Duration::from_secs(30), |s| s.both_established()));
    check_keys_agree(&sim);
    assert!(sim.sent_to_responder.len() >= 3, "IKE_AUTH was fragmented");
    for d in &sim.sent_to_responder {
        assert!(d.len() <= 576 - 28, "datagram of {} bytes", d.len());
    }
    let skf = sim
        .sent_to_responder
        .iter()
        .filter_map(|d| Message::parse(d).ok())
        .filter(|m| {
            matches!(
                m.payloads.last().map(|p| &p.body),
                Some(PayloadBody::Skf(_))
            )
        })
        .count();
    assert!(skf >= 2);
    assert_eq!(sim.i_est().child.as_ref().unwrap().local_ts.len(), 40);
}
