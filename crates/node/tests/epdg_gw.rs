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

/// Polls a condition (an expression that may `.await`) every 50 ms for up to 5 s; whether
/// it came true.
macro_rules! eventually {
    ($cond:expr) => {{
        let mut ok = false;
        for _ in 0..100 {
            if $cond {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ok
    }};
}

/// Waits (as [`eventually!`]) until the ePDG, the gateway, the MAG and the AAA hold nothing
/// of any UE; panics naming what each still holds.
async fn assert_nothing_left(
    epdg: &mobstrap_node::epdg::EpdgHandle,
    gw: &GwNode,
    mag: &mobstrap_node::epdg::pmip::PmipMobility,
    aaa: &AaaNode,
    when: &str,
) {
    let ok = eventually!(
        epdg.status().await.unwrap() == EpdgStatus::default()
            && gw.bindings() == 0
            && mag.bindings().await == 0
            && aaa.authorized_sessions() == 0
    );
    assert!(
        ok,
        "state left {when}: epdg {:?}, gw {}, mag {}, aaa {}",
        epdg.status().await.unwrap(),
        gw.bindings(),
        mag.bindings().await,
        aaa.authorized_sessions()
    );
}

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
    assert_nothing_left(&epdg, &gw, &mag, &aaa, "after detach").await;
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
    let ok = eventually!(
        epdg.status().await.unwrap() == EpdgStatus::default()
            && gw.bindings() == 0
            && small.bindings() == 0
            && mag.bindings().await == 0
            && aaa.authorized_sessions() == 0
            && aaa.conversations() == 0
    );
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

/// A DNS server on loopback answering A for `name` with `addr` (NXDOMAIN otherwise).
async fn dns_server(name: &'static str, addr: Ipv4Addr) -> std::net::SocketAddr {
    use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
    use hickory_resolver::proto::rr::rdata::A;
    use hickory_resolver::proto::rr::{RData, Record, RecordType};
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 1500];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let Ok(q) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut r = Message::new();
            r.set_id(q.id())
                .set_message_type(MessageType::Response)
                .set_recursion_desired(q.recursion_desired())
                .set_recursion_available(true);
            for query in q.queries() {
                r.add_query(query.clone());
                if query.name().to_ascii().to_ascii_lowercase() != format!("{name}.") {
                    r.set_response_code(ResponseCode::NXDomain);
                } else if query.query_type() == RecordType::A {
                    r.add_answer(Record::from_rdata(
                        query.name().clone(),
                        60,
                        RData::A(A(addr)),
                    ));
                }
            }
            if let Ok(b) = r.to_vec() {
                let _ = sock.send_to(&b, from).await;
            }
        }
    });
    local
}

/// Seed 002 §2.2: the ePDG in the visited network; DER/AAR through the visited AAA, which
/// adds the visited gateway (by name: DNS) to the home AAA's answer naming the home gateway;
/// PBU to the vGW naming the hGW; the hGW's addresses reach the UE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roaming_attach_through_the_visited_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("home.sqlite").display());
    let home = start(diameter_config(
        &url,
        "aaa.home.example",
        HOME,
        "allowed_visited_networks = [\"visited.example\"]",
        "",
    ))
    .await;
    let mut s = Sub::new(40);
    s.apns = "internet=gw:127.0.0.1";
    provision(home.store(), s).await;
    let home_addr = home.diameter().unwrap().local_addrs()[0];

    let hgw = GwNode::start(gw_config(
        dir.path(),
        "hgw",
        "127.0.0.1:0",
        "ipv4 = \"10.47.0.0/24\"\nipv6 = \"2001:db8:47::/48\"",
    ))
    .await
    .unwrap();
    let lma_port = hgw.local_addr().port();
    let vtext = format!(
        "[node]\nname = \"vgw\"\n[pmip]\nlisten = \"127.0.0.5:{lma_port}\"\n[store]\nurl = \"sqlite://{}\"\n[pools]\n[roaming]\nhome_port = {lma_port}\n",
        dir.path().join("vgw.sqlite").display()
    );
    let vgw = GwNode::start(GwConfig::from_toml(&vtext).unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap();

    let vurl = format!("sqlite://{}", dir.path().join("visited.sqlite").display());
    let visited_text = format!(
        r#"
[store]
url = "{vurl}"
[diameter]
origin_host = "aaa.visited.example"
origin_realm = "visited.example"
listen = ["127.0.0.1:0"]
tw = 5
[[diameter.allow]]
host = "*.visited.example"
[[diameter.peer]]
host = "aaa.home.example"
realm = "{HOME}"
connect = "{home_addr}"
[[diameter.route]]
realm = "{REALM}"
action = "proxy"
peers = ["aaa.home.example"]
[roaming]
role = "visited"
visited_network_id = "visited.example"
[[roaming.visited_gateway]]
apn = "internet"
gateway = "fqdn:vgw.visited.example"
"#
    );
    let visited = start(mobstrap_node::aaa::AaaConfig::from_toml(&visited_text).unwrap()).await;
    assert!(
        visited
            .diameter()
            .unwrap()
            .wait_peer("aaa.home.example", Duration::from_secs(10))
            .await
    );
    let dns = dns_server("vgw.visited.example", Ipv4Addr::new(127, 0, 0, 5)).await;

    let (port, natt) = ports();
    let text = epdg_toml(&visited, port, natt, lma_port)
        .replace("epdg.home.example", "epdg.visited.example")
        .replace(
            &format!("origin_realm = \"{HOME}\""),
            "origin_realm = \"visited.example\"",
        )
        .replace(
            &format!("realm = \"{HOME}\""),
            "realm = \"visited.example\"",
        )
        + &format!("[dns]\nservers = [\"{dns}\"]\nprefer = \"ipv4\"\n");
    let spec =
        EpdgSpec::from_toml(&text, std::path::Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    let (epdg, mut events, mag) = start_epdg(spec).await.unwrap();
    assert!(
        epdg.diameter()
            .wait_peer("aaa.visited.example", Duration::from_secs(10))
            .await
    );

    let (ue, r) = attach(ue_spec(40, "internet", port, natt, false)).await;
    match &r {
        AttachOutcome::Attached { ip4, ip6, .. } => {
            assert_eq!(
                *ip4,
                Some(Ipv4Addr::new(10, 47, 0, 1)),
                "the home gateway's pool"
            );
            assert_eq!(
                *ip6,
                Some(("2001:db8:47::1".parse::<Ipv6Addr>().unwrap(), 64))
            );
        }
        other => panic!("{other:?}"),
    }
    match events.recv().await.unwrap() {
        EpdgEvent::Attached {
            gateway,
            home_gateway,
            ..
        } => {
            assert_eq!(gateway, "127.0.0.5".parse::<std::net::IpAddr>().unwrap());
            assert_eq!(
                home_gateway,
                Some("127.0.0.1".parse::<std::net::IpAddr>().unwrap())
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((vgw.bindings(), hgw.bindings()), (1, 1));

    ue.detach().await;
    let _ = events.recv().await.unwrap();
    let ok = eventually!(
        epdg.status().await.unwrap() == EpdgStatus::default()
            && vgw.bindings() == 0
            && hgw.bindings() == 0
            && mag.bindings().await == 0
            && home.authorized_sessions() == 0
    );
    assert!(
        ok,
        "state left: epdg {:?}, vgw {}, hgw {}, home AAA {}",
        epdg.status().await.unwrap(),
        vgw.bindings(),
        hgw.bindings(),
        home.authorized_sessions()
    );
    epdg.shutdown().await;
    vgw.shutdown().await;
    hgw.shutdown().await;
    visited.shutdown(Duration::from_secs(2)).await;
    home.shutdown(Duration::from_secs(2)).await;
}

/// A UE that vanishes without IKE DELETE (lost coverage): the ePDG's liveness check (DPD)
/// fails, and the ePDG tears everything down — the gateway's binding and addresses
/// (PBU lifetime 0), the AAA session (STR) — and reports `Detached` with `Timeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_ue_is_torn_down_by_dpd() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hss.sqlite").display());
    let aaa = start(diameter_config(&url, "aaa.home.example", HOME, "", "")).await;
    let srv = aaa.diameter().unwrap();
    let gw = GwNode::start(gw_config(
        dir.path(),
        "gw",
        "127.0.0.1:0",
        "ipv4 = \"10.47.0.0/24\"\nipv6 = \"2001:db8:7::/48\"",
    ))
    .await
    .unwrap();
    let lma_port = gw.local_addr().port();
    let mut s = Sub::new(40);
    s.apns = "internet=gw:127.0.0.1";
    provision(aaa.store(), s).await;

    let (port, natt) = ports();
    // DPD after 1 s without traffic, two retransmissions 0.2 s apart (then 0.4 s)
    let text = epdg_toml(&aaa, port, natt, lma_port).replace(
        "dpd = 0",
        "dpd = 1\nretransmit_timeout = 0.2\nretransmit_tries = 2",
    );
    let spec =
        EpdgSpec::from_toml(&text, std::path::Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    let (epdg, mut events, mag) = start_epdg(spec).await.unwrap();
    assert!(
        epdg.diameter()
            .wait_peer(&srv.identity().origin_host, Duration::from_secs(10))
            .await
    );

    let (ue, r) = attach(ue_spec(40, "internet", port, natt, false)).await;
    assert!(matches!(r, AttachOutcome::Attached { .. }), "{r:?}");
    let ev = events.recv().await.unwrap();
    let sa = match ev {
        EpdgEvent::Attached { sa, .. } => sa,
        other => panic!("{other:?}"),
    };
    assert_eq!(gw.bindings(), 1);
    assert_eq!(aaa.authorized_sessions(), 1);

    // The UE goes silent: no DELETE, its socket closed.
    ue.handle.abandon().await;
    let ev = tokio::time::timeout(Duration::from_secs(15), events.recv())
        .await
        .expect("the ePDG notices the silent UE")
        .unwrap();
    match ev {
        EpdgEvent::Detached {
            sa: gone, reason, ..
        } => {
            assert_eq!(gone, sa);
            assert_eq!(reason, mobstrap_proto::ikev2::CloseReason::Timeout);
        }
        other => panic!("{other:?}"),
    }
    assert_nothing_left(&epdg, &gw, &mag, &aaa, "after DPD").await;
    let sas = epdg.ike().status().await.unwrap().sas;
    assert!(sas.is_empty(), "{sas:?}");

    epdg.shutdown().await;
    gw.shutdown().await;
    aaa.shutdown(Duration::from_secs(2)).await;
}

/// Seed 002 with PMIPv6 over IPv6 (RFC 5213, raw Mobility Header): the AAA names an IPv6
/// gateway, the ePDG's MAG (`mag.ipv6_mh`) registers with it straight over IPv6, the UE gets
/// the gateway's addresses, and its DELETE de-registers the binding the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_over_pmipv6_with_the_raw_mobility_header() {
    let lo = Ipv6Addr::LOCALHOST;
    if let Err(e) = mobstrap_node::pmip_raw::RawTransport::open(lo) {
        if std::env::var_os("CI").is_some() {
            panic!("CI runs as root: raw IPv6 sockets must open: {e}");
        }
        eprintln!("no raw IPv6 sockets here ({e}; CAP_NET_RAW needed): skipped");
        return;
    }
    // The raw-MH tests share ::1, where each raw socket sees every such packet: one at a
    // time, also across test binaries run side by side.
    let _one_at_a_time = common::raw_mh_lock();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hss.sqlite").display());
    let aaa = start(diameter_config(&url, "aaa.home.example", HOME, "", "")).await;
    let srv = aaa.diameter().unwrap();
    let mut c = gw_config(
        dir.path(),
        "gw",
        "127.0.0.1:0",
        "ipv4 = \"10.48.0.0/24\"\nipv6 = \"2001:db8:48::/48\"",
    );
    c.pmip.ipv6_mh = Some(lo);
    let gw = GwNode::start(c).await.unwrap();
    let mut s = Sub::new(50);
    s.apns = "internet=gw:::1";
    provision(aaa.store(), s).await;

    let (port, natt) = ports();
    // lma_port is that of the UDP transport; an IPv6 gateway is reached over raw IPv6
    let text = epdg_toml(&aaa, port, natt, 5436).replace("[mag]\n", "[mag]\nipv6_mh = \"::1\"\n");
    let spec =
        EpdgSpec::from_toml(&text, std::path::Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    let (epdg, mut events, mag) = start_epdg(spec).await.unwrap();
    assert!(
        epdg.diameter()
            .wait_peer(&srv.identity().origin_host, Duration::from_secs(10))
            .await
    );

    let (ue, r) = attach(ue_spec(50, "internet", port, natt, false)).await;
    match &r {
        AttachOutcome::Attached { ip4, ip6, .. } => {
            assert_eq!(*ip4, Some(Ipv4Addr::new(10, 48, 0, 1)));
            assert_eq!(
                *ip6,
                Some(("2001:db8:48::1".parse::<Ipv6Addr>().unwrap(), 64))
            );
        }
        other => panic!("{other:?}"),
    }
    match events.recv().await.unwrap() {
        EpdgEvent::Attached { gateway, .. } => assert_eq!(gateway, std::net::IpAddr::V6(lo)),
        other => panic!("{other:?}"),
    }
    assert_eq!(gw.bindings(), 1);
    assert_eq!(mag.bindings().await, 1);

    ue.detach().await;
    assert_nothing_left(&epdg, &gw, &mag, &aaa, "after detach").await;
    epdg.shutdown().await;
    gw.shutdown().await;
    aaa.shutdown(Duration::from_secs(2)).await;
}
