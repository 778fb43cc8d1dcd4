//! `mobstrap gw` and the MAG driver over loopback UDP (RFC 5844 transport): registration with
//! S6b against a real in-process `mobstrap aaa`, refusals, pool exhaustion, an unreachable
//! gateway, a restart keeping allocations, and the roaming chain MAG → vGW → hGW.

mod aaa_support;
#[path = "common/mod.rs"]
mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use aaa_support::*;
use mobstrap_node::diameter::DiameterConfig;
use mobstrap_node::gw::config::S6bSection;
use mobstrap_node::gw::{GwConfig, GwNode};
use mobstrap_node::mag::{AttachError, Mag};
use mobstrap_proto::pmip::mag::{AttachRequest, MagConfig};
use mobstrap_proto::pmip::MnKey;

fn nai(n: u64) -> String {
    format!("0{}@{}", imsi(n), REALM)
}

fn gw_config(dir: &std::path::Path, name: &str, pools: &str, extra: &str) -> GwConfig {
    let text = format!(
        "[node]\nname = \"{name}\"\n[pmip]\nlisten = \"127.0.0.1:0\"\n[store]\nurl = \"sqlite://{}\"\n[pools]\n{pools}\n{extra}",
        dir.join(format!("{name}.sqlite")).display()
    );
    GwConfig::from_toml(&text).unwrap()
}

async fn mag(config: MagConfig) -> Mag {
    Mag::bind(config, "127.0.0.1:0".parse().unwrap(), false)
        .await
        .unwrap()
        .0
}

fn req(n: u64, apn: &str, lma: SocketAddr) -> AttachRequest {
    AttachRequest::new(MnKey::new(nai(n), apn), lma)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_with_s6b_refresh_refusals_and_detach() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hss.sqlite").display());
    let aaa = start(diameter_config(&url, "aaa.home.example", HOME, "", "")).await;
    provision(aaa.store(), Sub::new(1)).await;
    let mut narrow = Sub::new(2);
    narrow.apns = "internet=dynamic";
    provision(aaa.store(), narrow).await;

    let srv = aaa.diameter().unwrap();
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
        "ipv4 = \"10.45.0.0/24\"\nipv6 = \"2001:db8:1::/48\"",
        "",
    );
    c.pmip.max_lifetime = 8;
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
    let m = mag(MagConfig::default()).await;
    let b = m.attach(req(1, "internet", gw.local_addr())).await.unwrap();
    assert_eq!(b.hnp, Some(("2001:db8:1::".parse().unwrap(), 64)));
    assert_eq!(b.v4, Some((Ipv4Addr::new(10, 45, 0, 1), 24)));
    assert_eq!(b.v4_router, Some(Ipv4Addr::new(10, 45, 0, 254)));
    assert_eq!(b.lifetime, Duration::from_secs(8));
    assert_eq!(gw.bindings(), 1);
    // The S6b registration is in the AAA's store, with our address.
    let imsi1 = mobstrap_store::Imsi::new(&imsi(1)).unwrap();
    let regs = aaa
        .store()
        .sessions_for(&imsi1, mobstrap_store::unix_now())
        .await
        .unwrap();
    let reg = regs
        .iter()
        .find(|r| r.kind == mobstrap_store::SessionKind::S6b)
        .expect("S6b registration");
    assert_eq!(reg.gateway_host.as_deref(), Some("gw.home.example"));
    assert_eq!(reg.apn.as_deref(), Some("internet"));

    // APN not allowed over S6b → 151; unknown user → 129; nothing allocated for them.
    assert_eq!(
        m.attach(req(2, "ims", gw.local_addr())).await,
        Err(AttachError::Status(151))
    );
    assert_eq!(
        m.attach(req(77, "internet", gw.local_addr())).await,
        Err(AttachError::Status(129))
    );
    assert_eq!(gw.store().pool_count("gw.ipv4").await.unwrap(), 1);

    // Refreshes keep the binding past its 8 s lifetime.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(gw.bindings(), 1);

    // De-registration: pools released, S6b session ended (STR).
    m.detach(MnKey::new(nai(1), "internet")).await.unwrap();
    let t0 = Instant::now();
    loop {
        let regs = aaa
            .store()
            .sessions_for(&imsi1, mobstrap_store::unix_now())
            .await
            .unwrap();
        let pools = gw.store().pool_count("gw.ipv4").await.unwrap()
            + gw.store().pool_count("gw.ipv6").await.unwrap();
        if pools == 0
            && !regs
                .iter()
                .any(|r| r.kind == mobstrap_store::SessionKind::S6b)
        {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "released and STR sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(gw.bindings(), 0);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_exhaustion_and_restart_keeps_allocations() {
    let dir = tempfile::tempdir().unwrap();
    let pools = "ipv4 = \"10.45.0.10-10.45.0.11/24\"";
    let gw = GwNode::start(gw_config(dir.path(), "gw", pools, ""))
        .await
        .unwrap();
    let m = mag(MagConfig::default()).await;
    let mut r = req(1, "internet", gw.local_addr());
    r.want_v6 = false;
    let a = m.attach(r.clone()).await.unwrap();
    let mut r2 = req(2, "internet", gw.local_addr());
    r2.want_v6 = false;
    let b = m.attach(r2.clone()).await.unwrap();
    assert_eq!(a.v4.unwrap().0, Ipv4Addr::new(10, 45, 0, 10));
    assert_eq!(b.v4.unwrap().0, Ipv4Addr::new(10, 45, 0, 11));
    let mut r3 = req(3, "internet", gw.local_addr());
    r3.want_v6 = false;
    assert_eq!(m.attach(r3).await, Err(AttachError::Status(130)));
    // IPv6 asked of a gateway without an IPv6 pool
    let r4 = req(4, "internet", gw.local_addr());
    let mut r4 = r4;
    r4.want_v4 = false;
    assert_eq!(m.attach(r4).await, Err(AttachError::Status(172)));

    // Restart on the same store: the same sessions get the same addresses.
    gw.shutdown().await;
    let gw = GwNode::start(gw_config(dir.path(), "gw", pools, ""))
        .await
        .unwrap();
    let m2 = mag(MagConfig::default()).await;
    r2.lma = gw.local_addr();
    r.lma = gw.local_addr();
    assert_eq!(m2.attach(r2).await.unwrap().v4, b.v4);
    assert_eq!(m2.attach(r).await.unwrap().v4, a.v4);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_gateway_retransmits_then_fails() {
    // A socket that never answers.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let to = silent.local_addr().unwrap();
    let m = mag(MagConfig {
        initial_timeout: Duration::from_millis(100),
        max_transmissions: 4,
        ..MagConfig::default()
    })
    .await;
    let t0 = Instant::now();
    let counter = tokio::spawn(async move {
        let mut n = 0;
        let mut buf = [0u8; 2048];
        while let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_secs(2), silent.recv_from(&mut buf)).await
        {
            n += 1;
        }
        n
    });
    assert_eq!(
        m.attach(req(1, "internet", to)).await,
        Err(AttachError::Timeout)
    );
    // 0.1 + 0.2 + 0.4 + 0.8 s
    assert!(t0.elapsed() >= Duration::from_millis(1500));
    assert_eq!(counter.await.unwrap(), 4, "four PBUs");
    assert_eq!(m.sessions().await, 0, "nothing left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roaming_chain_through_the_visited_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let hgw = GwNode::start(gw_config(
        dir.path(),
        "hgw",
        "ipv4 = \"10.46.0.0/24\"\nipv6 = \"2001:db8:46::/48\"",
        "",
    ))
    .await
    .unwrap();
    let home = hgw.local_addr();
    let vgw = GwNode::start(gw_config(
        dir.path(),
        "vgw",
        "",
        &format!("[roaming]\nhome_port = {}\n", home.port()),
    ))
    .await
    .unwrap();
    let m = mag(MagConfig::default()).await;
    let mut r = req(1, "internet", vgw.local_addr());
    r.home_gw = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let b = m.attach(r).await.unwrap();
    assert_eq!(b.lma, vgw.local_addr());
    assert_eq!(
        b.v4,
        Some((Ipv4Addr::new(10, 46, 0, 1), 24)),
        "the home gw's address"
    );
    assert_eq!(b.hnp, Some(("2001:db8:46::".parse().unwrap(), 64)));
    assert_eq!(hgw.bindings(), 1);
    assert_eq!(vgw.bindings(), 1);
    assert_eq!(vgw.store().pool_count("gw.ipv4").await.unwrap(), 0);
    m.detach(MnKey::new(nai(1), "internet")).await.unwrap();
    let t0 = Instant::now();
    while hgw.bindings() != 0
        || vgw.bindings() != 0
        || hgw.store().pool_count("gw.ipv4").await.unwrap() != 0
    {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "de-registration reaches the hGW"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Two free loopback ports `p`, `p + 1` (signalling and user plane by convention).
async fn port_pair() -> u16 {
    for _ in 0..50 {
        let a = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let p = a.local_addr().unwrap().port();
        if p < 65535
            && tokio::net::UdpSocket::bind(("127.0.0.1", p + 1))
                .await
                .is_ok()
        {
            return p;
        }
    }
    panic!("no free port pair");
}

fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0];
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&[0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0]);
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_plane_through_the_roaming_chain() {
    let dir = tempfile::tempdir().unwrap();
    let hp = port_pair().await;
    // The home gateway's user plane is played by a socket on its port + 1 (the gw under test
    // is the visited one; the home side's TUN needs privileges).
    let mut hc = gw_config(dir.path(), "hgw", "ipv4 = \"10.46.0.0/24\"", "");
    hc.pmip.listen = SocketAddr::from(([127, 0, 0, 1], hp));
    let hgw = GwNode::start(hc).await.unwrap();
    let home_data = tokio::net::UdpSocket::bind(("127.0.0.1", hp + 1))
        .await
        .unwrap();
    let vp = port_pair().await;
    let mut vc = gw_config(
        dir.path(),
        "vgw",
        "",
        &format!("[roaming]\nhome_port = {hp}\n"),
    );
    vc.pmip.listen = SocketAddr::from(([127, 0, 0, 1], vp));
    vc.pmip.data_listen = Some(SocketAddr::from(([127, 0, 0, 1], vp + 1)));
    let vgw = GwNode::start(vc).await.unwrap();
    let (m, mut notices) = Mag::bind(MagConfig::default(), "127.0.0.1:0".parse().unwrap(), true)
        .await
        .unwrap();
    let mut r = req(1, "internet", vgw.local_addr());
    r.want_v6 = false;
    r.home_gw = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let b = m.attach(r).await.unwrap();
    let ue = b.v4.unwrap().0;
    let server = Ipv4Addr::new(198, 51, 100, 1);

    // Uplink: MAG → vGW → home gateway, the packet unchanged.
    let up = ipv4_packet(ue, server);
    assert!(m.uplink(&up).await);
    let mut buf = [0u8; 2048];
    let (n, from) = tokio::time::timeout(Duration::from_secs(3), home_data.recv_from(&mut buf))
        .await
        .expect("uplink reaches the home gateway")
        .unwrap();
    assert_eq!(&buf[..n], &up[..]);
    assert_eq!(from, vgw.data_addr().unwrap());
    // A packet whose source is not the UE's address is not sent.
    assert!(
        !m.uplink(&ipv4_packet(Ipv4Addr::new(10, 9, 9, 9), server))
            .await
    );

    // Downlink: home gateway → vGW → MAG.
    let down = ipv4_packet(server, ue);
    home_data
        .send_to(&down, vgw.data_addr().unwrap())
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(3), notices.recv())
        .await
        .expect("downlink reaches the MAG")
        .unwrap();
    assert_eq!(got, mobstrap_node::mag::MagNotice::Downlink(down));
    // From anyone else: dropped.
    let stranger = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    stranger
        .send_to(&ipv4_packet(server, ue), vgw.data_addr().unwrap())
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), notices.recv())
            .await
            .is_err()
    );
    drop(hgw);
}

fn ipv6_packet(src: std::net::Ipv6Addr, dst: std::net::Ipv6Addr) -> Vec<u8> {
    // IPv6, UDP 12345 → 53, 8 octets of UDP header, no payload
    let mut p = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&[0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0]);
    p
}

/// PMIPv6 over IPv6 (RFC 5213): the MAG and the gateway on `::1` with the raw Mobility Header
/// (IP protocol 135) and the IP-in-IPv6 tunnel. The test plays the gateway's far side of the
/// tunnel with its own raw sockets on the same address (every raw socket of a protocol sees
/// every such packet to `::1`; each node keeps what is its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_and_user_plane_over_ipv6_raw_mobility_header() {
    use mobstrap_node::pmip_raw::RawTransport;
    use std::net::Ipv6Addr;
    let lo = Ipv6Addr::LOCALHOST;
    let far = match RawTransport::open(lo) {
        Ok(r) => r,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("no raw IPv6 sockets here ({e}; CAP_NET_RAW needed): skipped");
            return;
        }
        Err(e) => panic!("CI runs as root: raw IPv6 sockets must open: {e}"),
    };
    // The raw-MH tests share ::1, where each raw socket sees every such packet: one at a
    // time, also across test binaries run side by side.
    let _one_at_a_time = common::raw_mh_lock();
    let dir = tempfile::tempdir().unwrap();
    let mut c = gw_config(
        dir.path(),
        "gw6",
        "ipv4 = \"10.47.0.0/24\"\nipv6 = \"2001:db8:47::/48\"",
        "",
    );
    c.pmip.ipv6_mh = Some(lo);
    let gw = GwNode::start(c).await.unwrap();
    let (m, mut notices) = Mag::bind_with(
        MagConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
        true,
        Some(lo),
    )
    .await
    .unwrap();
    let lma = SocketAddr::new(IpAddr::V6(lo), 0);
    let b = m.attach(req(1, "internet", lma)).await.unwrap();
    assert_eq!(b.lma, lma);
    assert_eq!(b.v4.map(|v| v.0), Some(Ipv4Addr::new(10, 47, 0, 1)));
    assert_eq!(b.hnp, Some(("2001:db8:47::".parse().unwrap(), 64)));
    assert_eq!(gw.bindings(), 1);
    // On the wire: a PBU and a PBA straight over IPv6, each with a valid RFC 6275 checksum
    // (filled in by the kernel on the sender's raw socket; checked again here).
    let mut seen = Vec::new();
    let mut buf = [0u8; 2048];
    while seen.len() < 2 {
        let (n, from) = tokio::time::timeout(Duration::from_secs(3), far.recv_mh(&mut buf))
            .await
            .expect("the PBU and PBA were on the wire")
            .unwrap();
        assert_eq!(from, lo);
        let mh = &buf[..n];
        assert!(
            mobstrap_wire::mh::verify_checksum(mh, &lo.octets(), &lo.octets()).is_ok(),
            "checksum of MH type {}",
            mh[2]
        );
        assert_ne!(u16::from_be_bytes([mh[4], mh[5]]), 0, "checksum filled in");
        seen.push(mh[2]);
    }
    assert_eq!(seen, [5, 6], "PBU then PBA");
    // A second session gets the next addresses over the same transport.
    let b2 = m.attach(req(2, "internet", lma)).await.unwrap();
    assert_eq!(b2.v4.map(|v| v.0), Some(Ipv4Addr::new(10, 47, 0, 2)));
    assert_eq!(gw.bindings(), 2);

    // Uplink, IPv4 and IPv6: the packet arrives unchanged in an outer IPv6 header from the
    // MAG's address (IPv4-in-IPv6, IPv6-in-IPv6).
    let ue4 = b.v4.unwrap().0;
    let ue6: Ipv6Addr = "2001:db8:47::1".parse().unwrap();
    let server4 = Ipv4Addr::new(198, 51, 100, 7);
    let server6: Ipv6Addr = "2001:db8:ffff::7".parse().unwrap();
    for up in [ipv4_packet(ue4, server4), ipv6_packet(ue6, server6)] {
        assert!(m.uplink(&up).await, "uplink sent");
        let mut buf = [0u8; 2048];
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (n, from) = tokio::time::timeout(left, far.recv_data(&mut buf))
                .await
                .expect("the uplink packet arrives in the tunnel")
                .unwrap();
            if buf[..n] == up[..] {
                assert_eq!(from, lo);
                break;
            }
        }
    }
    // Not from a home address of a binding: not sent.
    assert!(
        !m.uplink(&ipv4_packet(Ipv4Addr::new(10, 9, 9, 9), server4))
            .await
    );

    // Downlink: from the gateway's address to the UE, through the MAG to the notice channel.
    for down in [ipv4_packet(server4, ue4), ipv6_packet(server6, ue6)] {
        far.send_data(&down, lo).await.unwrap();
        let got = loop {
            let n = tokio::time::timeout(Duration::from_secs(3), notices.recv())
                .await
                .expect("downlink reaches the MAG")
                .unwrap();
            if let mobstrap_node::mag::MagNotice::Downlink(p) = n {
                break p;
            }
        };
        assert_eq!(got, down);
    }

    // De-registration over the raw Mobility Header too.
    m.detach(MnKey::new(nai(1), "internet")).await.unwrap();
    m.detach(MnKey::new(nai(2), "internet")).await.unwrap();
    let t0 = Instant::now();
    while gw.bindings() > 0 && t0.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(gw.bindings(), 0);
    gw.shutdown().await;
}
