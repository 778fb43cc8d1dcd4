//! After IKE_AUTH: Child SA and IKE SA rekeying (with PFS and INVALID_KE_PAYLOAD),
//! lifetimes, liveness checks, DELETE, new Child SAs; and the configuration payload with a
//! deferred reply, INTERNAL_ADDRESS_FAILURE and traffic selector narrowing.

mod ike_common;

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;
use std::time::Duration;

use ike_common::*;
use mobstrap_crypto::dh::Group;
use mobstrap_proto::ikev2::{
    Addresses, CfgPolicy, ChildSaInfo, CloseReason, Config, DispatcherConfig, EspProposal, Event,
    Identity, Lifetime, Lifetimes, SaId, SpiAllocator, TsRange,
};
use mobstrap_wire::ikev2::{CfgAttrType, NotifyType};

fn configs() -> (Config, Config) {
    let mut i = Config::new(Identity::fqdn("mag.example")).with_psk(None, b"secret-secret");
    i.remote_id = Some(Identity::fqdn("lma.example"));
    let r = Config::new(Identity::fqdn("lma.example")).with_psk(None, b"secret-secret");
    (i, r)
}

fn established(i: Config, r: Config, seed: u64) -> Sim {
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), seed);
    assert!(sim.run_until(Duration::from_secs(5), |s| s.both_established()));
    sim
}

fn i_count(sim: &Sim, f: impl Fn(&Event) -> bool) -> usize {
    sim.i_events.iter().filter(|e| f(e)).count()
}
fn r_count(sim: &Sim, f: impl Fn(&Event) -> bool) -> usize {
    sim.r_events.iter().filter(|(_, e)| f(e)).count()
}

fn rekeyed(e: &Event) -> Option<(u32, ChildSaInfo)> {
    match e {
        Event::ChildRekeyed {
            old_inbound_spi,
            new,
        } => Some((*old_inbound_spi, (**new).clone())),
        _ => None,
    }
}

fn assert_pair(a: &ChildSaInfo, b: &ChildSaInfo) {
    assert_eq!(a.inbound_spi, b.outbound_spi);
    assert_eq!(a.outbound_spi, b.inbound_spi);
    assert_eq!(a.inbound, b.outbound);
    assert_eq!(a.outbound, b.inbound);
    assert_eq!(a.algs, b.algs);
}

#[test]
fn child_rekey_then_old_deleted() {
    for pfs in [false, true] {
        let (mut i, mut r) = configs();
        let spis = std::sync::Arc::new(mobstrap_proto::ikev2::SpiSet::new());
        r.spi_allocator = Some(spis.clone());
        // The initiator keeps its Child SAs' keys (the default) in one run, not in the other.
        i.keep_child_keys = !pfs;
        if pfs {
            let p = EspProposal {
                dh: vec![Group::Curve25519, Group::Ecp256],
                ..EspProposal::gcm128()
            };
            i.esp_proposals = vec![p.clone()];
            r.esp_proposals = vec![p];
        }
        let mut sim = established(i, r, 20);
        let old = sim.i_est().child.clone().unwrap();
        let now = sim.now;
        sim.init.rekey_child(old.inbound_spi, now);
        assert!(sim.run_until(Duration::from_secs(10), |s| {
            i_count(s, |e| matches!(e, Event::ChildDeleted { .. })) == 1
                && r_count(s, |e| matches!(e, Event::ChildDeleted { .. })) == 1
        }));
        let (iold, inew) = sim.i_events.iter().find_map(rekeyed).unwrap();
        let (rold, rnew) = sim.r_events.iter().find_map(|(_, e)| rekeyed(e)).unwrap();
        assert_eq!(iold, old.inbound_spi);
        assert_eq!(rold, old.outbound_spi);
        assert_pair(&inew, &rnew);
        assert_ne!(inew.inbound, old.inbound, "fresh keys");
        assert_eq!(
            inew.algs.dh,
            if pfs { Some(Group::Curve25519) } else { None }
        );
        assert_eq!(sim.init.children().count(), 1);
        let kept = sim.init.children().next().unwrap();
        assert_eq!(kept.inbound_spi, inew.inbound_spi);
        if pfs {
            // Without `keep_child_keys` the record has none: the event carried them.
            assert!(kept.inbound.encr.is_empty() && kept.outbound.encr.is_empty());
            assert!(!inew.inbound.encr.is_empty());
            assert!(sim.init.wireshark_keys().esp_sa.is_empty());
        } else {
            assert_eq!(
                (&kept.inbound, &kept.outbound),
                (&inew.inbound, &inew.outbound)
            );
            assert_eq!(sim.init.wireshark_keys().esp_sa.len(), 2);
        }
        let rid = sim.r_id();
        assert_eq!(sim.resp.sa(rid).unwrap().children().count(), 1);
        // The allocator holds exactly the live inbound SPI (the old one was released).
        assert_eq!(spis.len(), 1);
        assert_eq!(
            spis.allocate(rnew.inbound_spi),
            rnew.inbound_spi + 1,
            "in use"
        );
    }
}

#[test]
fn child_rekey_invalid_ke_retry() {
    let (mut i, mut r) = configs();
    i.esp_proposals = vec![EspProposal {
        dh: vec![Group::Modp2048, Group::Ecp256],
        ..EspProposal::gcm128()
    }];
    r.esp_proposals = vec![EspProposal {
        dh: vec![Group::Ecp256],
        ..EspProposal::gcm128()
    }];
    let mut sim = established(i, r, 21);
    let old = sim.i_est().child.clone().unwrap();
    let now = sim.now;
    sim.init.rekey_child(old.inbound_spi, now);
    assert!(
        sim.run_until(Duration::from_secs(10), |s| i_count(s, |e| matches!(
            e,
            Event::ChildDeleted { .. }
        )) == 1)
    );
    let (_, inew) = sim.i_events.iter().find_map(rekeyed).unwrap();
    assert_eq!(inew.algs.dh, Some(Group::Ecp256));
}

#[test]
fn ike_rekey_both_directions_keeps_children() {
    for responder_starts in [false, true] {
        let (i, r) = configs();
        let mut sim = established(i, r, 22);
        let rid = sim.r_id();
        let old_i = sim.init.local_spi();
        let now = sim.now;
        if responder_starts {
            sim.resp.with_sa(rid, now, |s, now| s.rekey_ike(now));
        } else {
            sim.init.rekey_ike(now);
        }
        assert!(sim.run_until(Duration::from_secs(10), |s| {
            i_count(s, |e| matches!(e, Event::IkeSpiRetired { .. })) == 1
                && r_count(s, |e| matches!(e, Event::IkeSpiRetired { .. })) == 1
        }));
        assert_ne!(sim.init.local_spi(), old_i);
        let rsa = sim.resp.sa(rid).unwrap();
        assert_eq!(
            (rsa.spi_i(), rsa.spi_r()),
            (sim.init.spi_i(), sim.init.spi_r())
        );
        assert_eq!(
            sim.init.role() == mobstrap_proto::ikev2::Role::Initiator,
            !responder_starts
        );
        assert_eq!(sim.init.children().count(), 1);
        // The new IKE SA works: a Child SA rekey and a liveness check on it.
        let spi = sim.init.children().next().unwrap().inbound_spi;
        let now = sim.now;
        sim.init.rekey_child(spi, now);
        assert!(
            sim.run_until(Duration::from_secs(10), |s| i_count(s, |e| matches!(
                e,
                Event::ChildDeleted { .. }
            )) == 1)
        );
        let now = sim.now;
        sim.init.liveness_check(now);
        sim.run_for(Duration::from_secs(5));
        assert!(sim.i_closed().is_none() && sim.r_closed().is_none());
        assert!(sim.init.is_established());
        // Wireshark keys: the current IKE SA and the Child SA (inbound and outbound).
        let k = sim.init.wireshark_keys();
        assert_eq!(k.ikev2_decryption_table.len(), 1);
        assert_eq!(k.esp_sa.len(), 2);
    }
}

#[test]
fn lifetimes_drive_rekeys_and_hard_expiry_deletes() {
    let (mut i, mut r) = configs();
    let lt = Lifetimes {
        ike: Lifetime {
            rekey: Some(Duration::from_secs(300)),
            jitter: Duration::from_secs(30),
            hard: Some(Duration::from_secs(400)),
        },
        child: Lifetime {
            rekey: Some(Duration::from_secs(60)),
            jitter: Duration::from_secs(10),
            hard: Some(Duration::from_secs(90)),
        },
    };
    i.lifetimes = lt;
    r.lifetimes = Lifetimes {
        ike: Lifetime::NEVER,
        child: Lifetime::NEVER,
    };
    let mut sim = established(i, r, 23);
    sim.run_for(Duration::from_secs(1000));
    let child_rekeys = i_count(&sim, |e| matches!(e, Event::ChildRekeyed { .. }));
    let ike_rekeys = i_count(&sim, |e| matches!(e, Event::IkeRekeyed { .. }));
    assert!(
        (14..=20).contains(&child_rekeys),
        "{child_rekeys} child rekeys in 1000 s"
    );
    assert!((3..=4).contains(&ike_rekeys), "{ike_rekeys} IKE rekeys");
    assert!(sim.i_closed().is_none() && sim.r_closed().is_none());
    assert_eq!(sim.init.children().count(), 1);

    // No auto rekey: the hard lifetime deletes the Child SA, then the IKE SA.
    let (mut i, r) = configs();
    i.lifetimes = lt;
    i.auto_rekey = false;
    let mut sim = established(i, r, 24);
    sim.run_for(Duration::from_secs(500));
    assert_eq!(
        i_count(&sim, |e| matches!(e, Event::ChildExpiring { .. })),
        1
    );
    assert_eq!(
        i_count(&sim, |e| matches!(e, Event::ChildDeleted { .. })),
        1
    );
    assert_eq!(
        r_count(&sim, |e| matches!(e, Event::ChildDeleted { .. })),
        1
    );
    assert_eq!(sim.i_closed(), Some(CloseReason::DeletedLocally));
    assert_eq!(sim.r_closed(), Some(CloseReason::DeletedByPeer));
    assert!(sim.resp.is_empty());
}

#[test]
fn liveness_and_dead_peer() {
    let (mut i, r) = configs();
    i.timers.dpd_interval = Some(Duration::from_secs(10));
    let mut sim = established(i, r, 25);
    let before = sim.sent_to_responder.len();
    sim.run_for(Duration::from_secs(35));
    assert!(
        sim.sent_to_responder.len() >= before + 3,
        "liveness checks sent"
    );
    assert!(sim.i_closed().is_none());
    // The responder goes silent.
    sim.filter = Some(Box::new(|_, to_responder| !to_responder));
    sim.run_until(Duration::from_secs(400), |s| s.i_closed().is_some());
    assert_eq!(sim.i_closed(), Some(CloseReason::Timeout));
}

/// The responder's dispatcher keeps one timer-heap entry per SA however many messages the
/// SA exchanged, and that entry still drives its liveness checks and its dead-peer timeout.
#[test]
fn responder_timer_heap_holds_one_entry_per_sa_and_fires() {
    let (i, mut r) = configs();
    r.timers.dpd_interval = Some(Duration::from_secs(10));
    let mut sim = established(i, r, 26);
    sim.run_for(Duration::from_secs(65));
    assert!(sim.r_closed().is_none());
    assert!(sim.resp.poll_timeout().is_some());
    assert!(
        sim.resp.timer_entries() <= 2,
        "{} timer entries for one SA after liveness rounds",
        sim.resp.timer_entries()
    );
    // The initiator goes silent: the responder's retransmissions run out.
    sim.filter = Some(Box::new(|_, to_responder| to_responder));
    assert!(sim.run_until(Duration::from_secs(400), |s| s.r_closed().is_some()));
    assert_eq!(sim.r_closed(), Some(CloseReason::Timeout));
    assert_eq!(sim.resp.timer_entries(), 0);
}

#[test]
fn delete_ike_and_child_and_create_child() {
    let (i, r) = configs();
    let mut sim = established(i, r, 26);
    let now = sim.now;
    sim.init.create_child(
        vec![TsRange::prefix("10.9.0.0".parse().unwrap(), 16)],
        vec![TsRange::any_v4()],
        now,
    );
    assert!(
        sim.run_until(Duration::from_secs(5), |s| i_count(s, |e| matches!(
            e,
            Event::ChildCreated(_)
        )) == 1
            && r_count(s, |e| matches!(e, Event::ChildCreated(_))) == 1)
    );
    let ic = sim
        .i_events
        .iter()
        .find_map(|e| match e {
            Event::ChildCreated(c) => Some((**c).clone()),
            _ => None,
        })
        .unwrap();
    let rc = sim
        .r_events
        .iter()
        .find_map(|(_, e)| match e {
            Event::ChildCreated(c) => Some((**c).clone()),
            _ => None,
        })
        .unwrap();
    assert_pair(&ic, &rc);
    assert_eq!(
        ic.local_ts,
        vec![TsRange::prefix("10.9.0.0".parse().unwrap(), 16)]
    );
    assert_eq!(sim.init.children().count(), 2);
    let now = sim.now;
    sim.init.delete_child(ic.inbound_spi, now);
    assert!(
        sim.run_until(Duration::from_secs(5), |s| r_count(s, |e| matches!(
            e,
            Event::ChildDeleted { .. }
        )) == 1
            && i_count(s, |e| matches!(e, Event::ChildDeleted { .. })) == 1)
    );
    assert_eq!(sim.init.children().count(), 1);
    let now = sim.now;
    let rid = sim.r_id();
    sim.resp.delete(rid, now);
    assert!(
        sim.run_until(Duration::from_secs(5), |s| s.i_closed().is_some()
            && s.r_closed().is_some())
    );
    assert_eq!(sim.i_closed(), Some(CloseReason::DeletedByPeer));
    assert_eq!(sim.r_closed(), Some(CloseReason::DeletedLocally));
    assert!(sim.resp.is_empty());
}

fn cfg_configs() -> (Config, Config) {
    let (mut i, mut r) = configs();
    i.cfg_request = vec![
        CfgAttrType::InternalIp4Address,
        CfgAttrType::InternalIp6Address,
        CfgAttrType::InternalIp4Dns,
        CfgAttrType::InternalIp6Dns,
        CfgAttrType::HomeAgentAddress,
        CfgAttrType::PCscfIp6Address,
    ];
    r.cfg_policy = CfgPolicy::Defer;
    // The responder protects 10.0.0.0/8 and 2001:db8:ff::/48.
    r.local_ts = vec![
        TsRange::prefix("10.0.0.0".parse().unwrap(), 8),
        TsRange::prefix("2001:db8:ff::".parse().unwrap(), 48),
    ];
    (i, r)
}

fn addresses() -> Addresses {
    Addresses {
        ip4: Some(Ipv4Addr::new(10, 45, 0, 7)),
        ip6: Some(("2001:db8:1:2::7".parse().unwrap(), 64)),
        dns4: vec![Ipv4Addr::new(10, 0, 0, 53)],
        dns6: vec!["2001:db8::53".parse().unwrap()],
        home_agent: Some((
            "2001:db8::1".parse().unwrap(),
            Some(Ipv4Addr::new(10, 0, 0, 1)),
        )),
        pcscf6: vec!["2001:db8::5060".parse().unwrap()],
        ..Addresses::default()
    }
}

#[test]
fn deferred_cfg_reply_with_narrowing_and_no_reexecution() {
    let (i, r) = cfg_configs();
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 27);
    let pending: Rc<RefCell<Option<SaId>>> = Rc::default();
    let p2 = pending.clone();
    sim.resp_hook = Some(Box::new(move |_, id, e, _| {
        if let Event::NeedAddresses(req) = e {
            assert_eq!(req.peer_id, Identity::fqdn("mag.example"));
            assert!(req.attributes.contains(&CfgAttrType::InternalIp4Address));
            assert!(req.attributes.contains(&CfgAttrType::HomeAgentAddress));
            *p2.borrow_mut() = Some(id);
        }
    }));
    // The gateway takes 9 s: the initiator retransmits IKE_AUTH meanwhile.
    sim.run_for(Duration::from_secs(9));
    assert!(!sim.i_established());
    assert!(sim.sent_to_responder.len() >= 3, "IKE_AUTH retransmitted");
    assert_eq!(
        r_count(&sim, |e| matches!(e, Event::NeedAddresses(_))),
        1,
        "not re-executed"
    );
    let id = pending.borrow().unwrap();
    let now = sim.now;
    assert!(sim.resp.provide_addresses(id, addresses(), now));
    assert!(sim.run_until(Duration::from_secs(5), |s| s.both_established()));
    let e = sim.i_est();
    assert_eq!(e.addresses, addresses());
    let c = e.child.as_ref().unwrap();
    assert_eq!(
        c.local_ts,
        vec![
            TsRange::host(IpAddr::V4(Ipv4Addr::new(10, 45, 0, 7))),
            TsRange::prefix("2001:db8:1:2::".parse::<Ipv6Addr>().unwrap().into(), 64),
        ]
    );
    assert_eq!(c.remote_ts.len(), 2, "narrowed to the responder's networks");
    assert_eq!(
        c.remote_ts[0],
        TsRange::prefix("10.0.0.0".parse().unwrap(), 8)
    );
    assert_eq!(sim.r_est().addresses, addresses());
    assert_pair(c, sim.r_est().child.as_ref().unwrap());
}

#[test]
fn internal_address_failure_keeps_the_ike_sa() {
    let (i, r) = cfg_configs();
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 28);
    sim.resp_hook = Some(Box::new(|d, id, e, now| {
        if let Event::NeedAddresses(_) = e {
            d.fail_addresses(id, now);
        }
    }));
    assert!(sim.run_until(Duration::from_secs(5), |s| s.both_established()));
    let e = sim.i_est();
    assert!(e.child.is_none());
    assert_eq!(e.child_error, Some(NotifyType::InternalAddressFailure));
    assert!(e.addresses.is_empty());
    assert!(sim.init.is_established());
    assert_eq!(
        sim.r_est().child_error,
        Some(NotifyType::InternalAddressFailure)
    );
}

#[test]
fn address_provider_timeout_fails_addresses() {
    let (i, r) = cfg_configs();
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 29);
    assert!(sim.run_until(Duration::from_secs(60), |s| s.both_established()));
    assert_eq!(
        sim.i_est().child_error,
        Some(NotifyType::InternalAddressFailure)
    );
}

#[test]
fn ts_unacceptable() {
    let (mut i, mut r) = configs();
    r.local_ts = vec![TsRange::prefix("10.0.0.0".parse().unwrap(), 8)];
    i.remote_ts = vec![TsRange::prefix("192.168.0.0".parse().unwrap(), 16)];
    let sim = established(i, r, 30);
    assert_eq!(sim.i_est().child_error, Some(NotifyType::TsUnacceptable));
    assert!(sim.i_est().child.is_none());
    assert!(sim.init.is_established());
}

#[test]
fn transport_mode_child() {
    let (mut i, mut r) = configs();
    i.mode = mobstrap_proto::ikev2::Mode::Transport;
    r.mode = mobstrap_proto::ikev2::Mode::Transport;
    i.local_ts = vec![TsRange {
        ip_protocol: 135,
        ..TsRange::host("10.0.0.1".parse().unwrap())
    }];
    i.remote_ts = vec![TsRange {
        ip_protocol: 135,
        ..TsRange::host("10.0.0.2".parse().unwrap())
    }];
    let sim = established(i, r, 31);
    let c = sim.i_est().child.as_ref().unwrap();
    assert_eq!(c.mode, mobstrap_proto::ikev2::Mode::Transport);
    assert_eq!(c.local_ts[0].ip_protocol, 135);
    assert_eq!(
        sim.r_est().child.as_ref().unwrap().mode,
        mobstrap_proto::ikev2::Mode::Transport
    );
}

#[test]
fn simultaneous_rekeys_resolve() {
    // Both sides rekey the same Child SA, then the IKE SA, at the same instant: one side
    // answers TEMPORARY_FAILURE, both retry after a random 1–10 s, and exactly one new SA
    // results each time.
    for seed in 0..4 {
        let (i, r) = configs();
        let mut sim = established(i, r, 40 + seed);
        let rid = sim.r_id();
        let ic = sim.i_est().child.clone().unwrap();
        let now = sim.now;
        sim.init.rekey_child(ic.inbound_spi, now);
        sim.resp
            .with_sa(rid, now, |s, now| s.rekey_child(ic.outbound_spi, now));
        sim.run_for(Duration::from_secs(60));
        assert_eq!(sim.init.children().count(), 1, "seed {seed}");
        assert_eq!(sim.resp.sa(rid).unwrap().children().count(), 1);
        let a = sim.init.children().next().unwrap().clone();
        let b = sim.resp.sa(rid).unwrap().children().next().unwrap().clone();
        assert_pair(&a, &b);
        assert_ne!(a.inbound_spi, ic.inbound_spi);
        let now = sim.now;
        sim.init.rekey_ike(now);
        sim.resp.with_sa(rid, now, |s, now| s.rekey_ike(now));
        sim.run_for(Duration::from_secs(120));
        let rsa = sim.resp.sa(rid).unwrap();
        assert_eq!(
            (rsa.spi_i(), rsa.spi_r()),
            (sim.init.spi_i(), sim.init.spi_r())
        );
        assert!(sim.init.is_established() && rsa.is_established());
        assert!(i_count(&sim, |e| matches!(e, Event::IkeRekeyed { .. })) >= 1);
        assert!(sim.i_closed().is_none() && sim.r_closed().is_none());
    }
}
