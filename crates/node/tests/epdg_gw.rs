//! Seed 002 end to end in process over loopback: our UE → `mobstrap epdg` (IKEv2 responder,
//! SWm DER/DEA + AAR/STR, PMIPv6 MAG over RFC 5844 UDP) → the real `mobstrap aaa` (SQLite
//! HSS) and `mobstrap gw` (LMA with S6b and address pools). Non-roaming attach with the
//! addresses from the gateway's pools, detach (binding and AAA session gone), pool exhausted
//! (INTERNAL_ADDRESS_FAILURE), gateway unreachable (NETWORK_FAILURE after the PBU
//! retransmissions), and no state left in any node after each.

mod aaa_support;
#[path = "common/mod.rs"]
mod common;

use std::net::{Ipv4Addr, Ipv6Addr, UdpSocket};
use std::time::Duration;

use aaa_support::*;
use mobstrap_node::aaa::AaaNode;
use mobstrap_node::diameter::DiameterConfig;
use mobstrap_node::epdg::mobility::Mobility;
use mobstrap_node::epdg::pmip::start_epdg;
use mobstrap_node::epdg::{EpdgEvent, EpdgSpec, EpdgStatus};
use mobstrap_node::gw::config::S6bSection;
use mobstrap_node::gw::{GwConfig, GwNode};
use mobstrap_node::ue::{AttachOutcome, Ue, UeFlags, UeSpec};
use mobstrap_wire::ikev2::NotifyType;

fn ports() -> (u16, u16) {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

fn gw_config(dir: &std::path::Path, name: &str, listen: &str, pools: &str) -> GwConfig {
    let text = format!(
        "[node]\nname = \"{name}\"\n[pmip]\nlisten = \"{listen}\"\n[store]\nurl = \"sqlite://{}\"\n[pools]\n{pools}\n",
        dir.join(format!("{name}.sqlite")).display()
    );
    GwConfig::from_toml(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn epdg_toml(aaa: &AaaNode, port: u16, natt: u16, lma_port: u16) -> String {
    let srv = aaa.diameter().unwrap();
    format!(
        r#"
[ike]
bind = ["127.0.0.1"]
port = {port}
natt_port = {natt}
local_id = "epdg.home.example"
auth = "psk"
psk = "ue-epdg-test-psk"
dpd = 0
[aaa]
protocol = "diameter"
application = "swm"
destination_realm = "{REALM}"
[diameter]
origin_host = "epdg.home.example"
origin_realm = "{HOME}"
tw = 5
[[diameter.peer]]
host = "{host}"
realm = "{HOME}"
connect = "{addr}"
[diameter.default_route]
action = "relay"
peers = ["{host}"]
[epdg]
dns4 = ["192.0.2.53"]
[mag]
listen = "127.0.0.1:0"
user_plane = false
lma_port = {lma_port}
initial_timeout = 0.2
max_transmissions = 3
"#,
        host = srv.identity().origin_host,
        addr = srv.local_addrs()[0],
    )
}

fn ue_spec(n: u64, apn: &str, port: u16, natt: u16, ip4_only: bool) -> UeSpec {
    UeSpec::from_flags(&UeFlags {
        imsi: imsi(n),
        k: hex::encode(k_of(n)),
        opc: hex::encode(OPC),
        apn: apn.into(),
        epdg: format!("127.0.0.1:{port}"),
        bind: Some("127.0.0.2".into()),
        port: Some(port),
        natt_port: Some(natt),
        psk: Some("ue-epdg-test-psk".into()),
        ip4: ip4_only,
        dns: true,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

async fn attach(spec: UeSpec) -> (Ue, AttachOutcome) {
    let mut ue = Ue::start(spec).await.expect("UE starts");
    let r = tokio::time::timeout(Duration::from_secs(20), ue.attached())
        .await
        .expect("attach ends in time");
    (ue, r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_detach_and_gateway_failures() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hss.sqlite").display());
    let aaa = start(diameter_config(&url, "aaa.home.example", HOME, "", "")).await;
    let srv = aaa.diameter().unwrap();

    // the home gateway (S6b to the AAA) and a small one, both on the same port number
    let mut dc = DiameterConfig::new("gw.home.example", HOME);
    dc.tw = Duration::from_secs(5);
    dc.peers.push(common::peer(
        &srv.identity().origin_host,
        &srv.identity().origin_realm,
        Some(srv.local_addrs()[0]),
    ));
    dc.default_route = Some(mobstrap_node::diameter::config::RouteTarget {
        action: mobstrap_node::diameter::config::RouteKind::Relay,
        peers: vec![srv.identity().origin_host.clone()],
    });
    let mut c = gw_config(
        dir.path(),
        "gw",
        "127.0.0.1:0",
        "ipv4 = \"10.45.0.0/24\"\nipv6 = \"2001:db8:1::/48\"",
    );
    c.diameter = Some(dc);
    c.s6b = Some(S6bSection {
        destination_realm: REALM.into(),
        destination_host: None,
        required: true,
    });
    let gw = GwNode::start(c).await.unwrap();
    assert!(
        gw.diameter()
            .unwrap()
            .wait_peer(&srv.identity().origin_host, Duration::from_secs(10))
            .await
    );
    let lma_port = gw.local_addr().port();
    let small = GwNode::start(gw_config(
        dir.path(),
        "small",
        &format!("127.0.0.3:{lma_port}"),
        "ipv4 = \"10.46.0.10-10.46.0.10/24\"",
    ))
    .await
    .unwrap();

    for n in [30, 31, 32] {
        let mut s = Sub::new(n);
        s.apns = "internet=gw:127.0.0.1;small=gw:127.0.0.3;dead=gw:127.0.0.4";
        provision(aaa.store(), s).await;
    }

    let (port, natt) = ports();
    let spec = EpdgSpec::from_toml(
        &epdg_toml(&aaa, port, natt, lma_port),
        std::path::Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (epdg, mut events, mag) = start_epdg(spec).await.unwrap();
    assert!(
        epdg.diameter()
            .wait_peer(&srv.identity().origin_host, Duration::from_secs(10))
            .await
    );

    // --- non-roaming attach: addresses from the gateway's pools (steps 1–16)
    let (ue, r) = attach(ue_spec(30, "internet", port, natt, false)).await;
    match &r {
        AttachOutcome::Attached { ip4, ip6, dns4, .. } => {
            assert_eq!(*ip4, Some(Ipv4Addr::new(10, 45, 0, 1)));
            assert_eq!(
                *ip6,
                Some(("2001:db8:1::1".parse::<Ipv6Addr>().unwrap(), 64))
            );
            assert_eq!(dns4, &vec![Ipv4Addr::new(192, 0, 2, 53)]);
        }
        other => panic!("{other:?}"),
    }
    let ev = events.recv().await.unwrap();
    match &ev {
        EpdgEvent::Attached {
            apn, gateway, ip4, ..
        } => {
            assert_eq!(apn, "internet");
            assert_eq!(*gateway, "127.0.0.1".parse::<std::net::IpAddr>().unwrap());
            assert_eq!(*ip4, Some(Ipv4Addr::new(10, 45, 0, 1)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(gw.bindings(), 1);
    assert_eq!(mag.bindings().await, 1);
    assert_eq!(epdg.status().await.unwrap().attached, 1);
    assert_eq!(aaa.authorized_sessions(), 1);

    // --- detach: UE DELETE → PBU lifetime 0 → binding gone; STR → AAA session gone
    let reason = ue.detach().await;
    assert_eq!(reason, mobstrap_proto::ikev2::CloseReason::DeletedLocally);
    let ev = events.recv().await.unwrap();
    assert!(matches!(ev, EpdgEvent::Detached { .. }), "{ev:?}");
    let idle = |st: EpdgStatus| st == EpdgStatus::default();
    let mut ok = false;
    for _ in 0..100 {
        if idle(epdg.status().await.unwrap())
            && gw.bindings() == 0
            && mag.bindings().await == 0
            && aaa.authorized_sessions() == 0
        {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        ok,
        "state left after detach: epdg {:?}, gw {}, mag {}, aaa {}",
        epdg.status().await.unwrap(),
        gw.bindings(),
        mag.bindings().await,
        aaa.authorized_sessions()
    );
    assert_eq!(gw.store().pool_count("gw.ipv4").await.unwrap(), 0);

    // --- pool exhausted: the small gateway's only address goes to UE 31, UE 32 is refused
    let (ue31, r) = attach(ue_spec(31, "small", port, natt, true)).await;
    assert!(
        matches!(r, AttachOutcome::Attached { ip4: Some(a), .. } if a == Ipv4Addr::new(10, 46, 0, 10)),
        "{r:?}"
    );
    let _ = events.recv().await.unwrap();
    let (ue32, r) = attach(ue_spec(32, "small", port, natt, true)).await;
    assert_eq!(
        r.refusal().as_deref(),
        Some("INTERNAL_ADDRESS_FAILURE"),
        "{r:?}"
    );
    let ev = events.recv().await.unwrap();
    assert!(
        matches!(
            &ev,
            EpdgEvent::Refused {
                notify: NotifyType::InternalAddressFailure,
                ..
            }
        ),
        "{ev:?}"
    );
    ue32.handle.shutdown().await;
    assert_eq!(small.bindings(), 1, "only UE 31's binding");
    ue31.detach().await;
    let _ = events.recv().await.unwrap();

    // --- gateway unreachable: PBU retransmissions, then NETWORK_FAILURE
    let (ue30, r) = attach(ue_spec(30, "dead", port, natt, false)).await;
    assert_eq!(r.refusal().as_deref(), Some("NETWORK_FAILURE"), "{r:?}");
    let ev = events.recv().await.unwrap();
    assert!(
        matches!(
            &ev,
            EpdgEvent::Refused {
                notify: NotifyType::NetworkFailure,
                ..
            }
        ),
        "{ev:?}"
    );
    ue30.handle.shutdown().await;

    // nothing anywhere
    let mut ok = false;
    for _ in 0..100 {
        if idle(epdg.status().await.unwrap())
            && gw.bindings() == 0
            && small.bindings() == 0
            && mag.bindings().await == 0
            && aaa.authorized_sessions() == 0
            && aaa.conversations() == 0
        {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        ok,
        "state left: epdg {:?}, gw {}, small {}, mag {}, aaa {} / {}",
        epdg.status().await.unwrap(),
        gw.bindings(),
        small.bindings(),
        mag.bindings().await,
        aaa.authorized_sessions(),
        aaa.conversations()
    );
    let sas = epdg.ike().status().await.unwrap().sas;
    assert!(sas.iter().all(|s| !s.established), "{sas:?}");

    epdg.shutdown().await;
    gw.shutdown().await;
    small.shutdown().await;
    aaa.shutdown(Duration::from_secs(2)).await;
}
