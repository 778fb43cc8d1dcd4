//! The AAA over Diameter on loopback: our own Diameter node as the ePDG (SWm DER/DEA with
//! EAP-AKA and EAP-AKA', AAR/AAA resolving APN → gateway), as a PDN GW (S6b), as a MAG
//! (STa and the EAP application, with the MAG–LMA key) and as the LMA asking for that key;
//! a visited AAA proxying to a home AAA; malformed input.

mod aaa_support;
#[path = "common/mod.rs"]
mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use aaa_support::*;
use mobstrap_node::aaa::client::{answer_result, diameter_authenticate, DerOptions};
use mobstrap_node::aaa::AaaNode;
use mobstrap_node::diameter::{DiameterConfig, DiameterNode};
use mobstrap_proto::eap::Method;
use mobstrap_wire::diameter::commands::{self, app};
use mobstrap_wire::diameter::{dict, Avp, AvpRepr as A, Message, MessageRepr};

const DYN_GW: &str = "198.51.100.77";

/// A client node (ePDG, MAG, PGW) that sends everything to `server`.
async fn client(host: &str, realm: &str, server: &AaaNode, apps: &[u32]) -> DiameterNode {
    let srv = server.diameter().unwrap();
    let mut c = DiameterConfig::new(host, realm);
    c.tw = Duration::from_secs(5);
    c.request_timeout = Duration::from_secs(5);
    c.peers.push(common::peer(
        &srv.identity().origin_host,
        &srv.identity().origin_realm,
        Some(srv.local_addrs()[0]),
    ));
    c.default_route = Some(mobstrap_node::diameter::config::RouteTarget {
        action: mobstrap_node::diameter::config::RouteKind::Relay,
        peers: vec![srv.identity().origin_host.clone()],
    });
    let mut b = DiameterNode::builder(c);
    for &a in apps {
        b = b.client_application(a, (a != app::EAP).then_some(10415));
    }
    let n = b.start().await.unwrap();
    assert!(
        n.wait_peer(&srv.identity().origin_host, Duration::from_secs(10))
            .await,
        "{host} peers with the AAA"
    );
    n
}

fn home_extra() -> String {
    format!("[apn]\ndynamic_gateways = [\"gw:{DYN_GW}\"]\n")
}

async fn home_aaa(dir: &std::path::Path) -> AaaNode {
    let url = format!("sqlite://{}", dir.join("hss.sqlite").display());
    start(diameter_config(
        &url,
        "aaa.home.example",
        HOME,
        "",
        &home_extra(),
    ))
    .await
}

fn apn_config<'a>(m: &Message<'a>, apn: &str) -> Option<Avp<'a>> {
    m.avps()
        .filter(|a| a.is(&dict::APN_CONFIGURATION))
        .find(|c| {
            c.grouped()
                .ok()
                .and_then(|g| g.get(&dict::SERVICE_SELECTION))
                .and_then(|s| s.utf8().ok())
                == Some(apn)
        })
}

/// (address, host) of a MIP6-Agent-Info.
fn agent(avp: &Avp<'_>) -> (Option<IpAddr>, Option<String>) {
    let mut addr = None;
    let mut host = None;
    for a in avp.grouped().unwrap() {
        if a.is(&dict::MIP_HOME_AGENT_ADDRESS) {
            addr = Some(a.ip().unwrap());
        }
        if a.is(&dict::MIP_HOME_AGENT_HOST) {
            host = a
                .grouped()
                .unwrap()
                .get(&dict::DESTINATION_HOST)
                .map(|h| h.utf8().unwrap().to_string());
        }
    }
    (addr, host)
}

fn apn_gateway(m: &Message<'_>, apn: &str) -> (Option<IpAddr>, Option<String>) {
    let c = apn_config(m, apn).unwrap_or_else(|| panic!("APN-Configuration for {apn}"));
    let g = c.grouped().unwrap();
    match g.get(&dict::MIP6_AGENT_INFO) {
        Some(a) => agent(&a),
        None => (None, None),
    }
}

async fn aar(
    node: &DiameterNode,
    app_id: u32,
    sid: &str,
    user: &str,
    apn: Option<&str>,
    extra: Vec<A<'_>>,
) -> Vec<u8> {
    let mut r = node.new_request(commands::AA, app_id);
    r.avps.insert(0, A::utf8(&dict::SESSION_ID, sid));
    r.push(A::u32(&dict::AUTH_APPLICATION_ID, app_id));
    r.push(A::utf8(&dict::DESTINATION_REALM, REALM));
    r.push(A::enumerated(&dict::AUTH_REQUEST_TYPE_AVP, 2));
    r.push(A::utf8(&dict::USER_NAME, user));
    if let Some(a) = apn {
        r.push(A::utf8(&dict::SERVICE_SELECTION, a));
    }
    for a in extra {
        r.push(a);
    }
    node.request(r.to_vec().unwrap())
        .await
        .unwrap()
        .bytes()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swm_der_dea_then_aar_resolves_apns() {
    let dir = tempfile::tempdir().unwrap();
    let aaa = home_aaa(dir.path()).await;
    provision(aaa.store(), Sub::new(10)).await;
    let mut narrow = Sub::new(11);
    narrow.apns = "internet=gw:192.0.2.10";
    provision(aaa.store(), narrow).await;
    let mut trusted_only = Sub::new(12);
    trusted_only.access = "trusted-wlan";
    provision(aaa.store(), trusted_only).await;
    let epdg = client("epdg.home.example", HOME, &aaa, &[app::SWM]).await;

    for (i, (methods, want)) in [
        (vec![Method::Aka], Method::Aka),
        (vec![Method::AkaPrime], Method::AkaPrime),
    ]
    .into_iter()
    .enumerate()
    {
        let sid = format!("epdg.home.example;1;{i}");
        let mut ue = ue(10, 0, &methods);
        let r = diameter_authenticate(&epdg, &DerOptions::swm(REALM), &sid, &mut ue)
            .await
            .unwrap();
        assert_eq!(r.results, vec![1001, 2001], "{want}");
        let ok = r.peer_success().unwrap();
        assert_eq!(ok.method, want);
        let m = r.message().unwrap();
        assert_eq!(
            m.get(&dict::EAP_MASTER_SESSION_KEY).unwrap().octets(),
            &ok.msk.as_bytes()[..]
        );
        let nai = format!("{}{}@{}", want.permanent_prefix() as char, imsi(10), REALM);
        assert_eq!(
            m.get(&dict::MOBILE_NODE_IDENTIFIER)
                .unwrap()
                .utf8()
                .unwrap(),
            nai
        );
        assert_eq!(
            apn_gateway(&m, "internet").0,
            Some("192.0.2.10".parse().unwrap())
        );
        assert_eq!(r.sqns(&k_of(10), &OPC).len(), 1);

        // AAR: APN → gateway by address, by FQDN, and a dynamic one.
        let a = aar(&epdg, app::SWM, &sid, &nai, Some("internet"), vec![]).await;
        let m = Message::parse(&a).unwrap();
        assert_eq!(m.result_code(), Some(2001));
        assert_eq!(
            apn_gateway(&m, "internet").0,
            Some("192.0.2.10".parse().unwrap())
        );
        let a = aar(&epdg, app::SWM, &sid, &nai, Some("ims"), vec![]).await;
        let m = Message::parse(&a).unwrap();
        assert_eq!(
            apn_gateway(&m, "ims").1.as_deref(),
            Some("pgw.ims.home.example")
        );
        let a = aar(&epdg, app::SWM, &sid, &nai, Some("corporate"), vec![]).await;
        let m = Message::parse(&a).unwrap();
        assert_eq!(m.result_code(), Some(2001));
        assert_eq!(
            apn_gateway(&m, "corporate").0,
            Some(DYN_GW.parse().unwrap()),
            "wildcard APN, dynamic selection from [apn] dynamic_gateways"
        );
        let c = apn_config(&m, "corporate").unwrap();
        assert_eq!(
            c.grouped()
                .unwrap()
                .get(&dict::PDN_GW_ALLOCATION_TYPE_AVP)
                .unwrap()
                .enumerated()
                .unwrap(),
            1,
            "DYNAMIC"
        );
        // No Service-Selection: the default APN.
        let a = aar(&epdg, app::SWM, &sid, &nai, None, vec![]).await;
        let m = Message::parse(&a).unwrap();
        assert!(apn_config(&m, "internet").is_some());
    }

    // APN not in the subscription: 5451 with Failed-AVP naming Service-Selection.
    let sid = "epdg.home.example;2;1";
    let mut ue11 = ue(11, 0, &[Method::Aka]);
    let r = diameter_authenticate(&epdg, &DerOptions::swm(REALM), sid, &mut ue11)
        .await
        .unwrap();
    assert_eq!(r.result(), 2001);
    let nai11 = format!("0{}@{}", imsi(11), REALM);
    let a = aar(&epdg, app::SWM, sid, &nai11, Some("ims"), vec![]).await;
    let m = Message::parse(&a).unwrap();
    assert_eq!(m.experimental_result(), Some((10415, 5451)));
    let failed = m.get(&dict::FAILED_AVP).unwrap();
    assert!(failed
        .grouped()
        .unwrap()
        .get(&dict::SERVICE_SELECTION)
        .is_some());

    // An AAR for a session never authenticated: 5002.
    let a = aar(&epdg, app::SWM, "never;1", &nai11, Some("internet"), vec![]).await;
    assert_eq!(Message::parse(&a).unwrap().result_code(), Some(5002));

    // Unknown user: the EAP failure (notification round, then EAP-Failure) with 5001.
    let mut unknown = ue(77, 0, &[Method::Aka]);
    let r = diameter_authenticate(&epdg, &DerOptions::swm(REALM), "x;3", &mut unknown)
        .await
        .unwrap();
    assert_eq!(r.result(), 5001, "{:?}", r.results);
    let m = r.message().unwrap();
    assert_eq!(m.experimental_result(), Some((10415, 5001)));
    assert_eq!(m.get(&dict::EAP_PAYLOAD).unwrap().octets()[0], 4);

    // Untrusted WLAN not in the subscriber's access types: 5450.
    let mut ue12 = ue(12, 0, &[Method::Aka]);
    let r = diameter_authenticate(&epdg, &DerOptions::swm(REALM), "x;4", &mut ue12)
        .await
        .unwrap();
    assert_eq!(r.result(), 5450, "{:?}", r.results);
    // Wrong key: 4001.
    let mut bad = ue_with_key(10, [9; 16], 0, &[Method::Aka]);
    let r = diameter_authenticate(&epdg, &DerOptions::swm(REALM), "x;5", &mut bad)
        .await
        .unwrap();
    assert_eq!(r.result(), 4001, "{:?}", r.results);

    // STR ends the session; an AAR afterwards is refused.
    let mut str_ = epdg.new_request(commands::SESSION_TERMINATION, app::SWM);
    str_.avps.insert(0, A::utf8(&dict::SESSION_ID, sid));
    str_.push(A::utf8(&dict::DESTINATION_REALM, REALM));
    str_.push(A::u32(&dict::AUTH_APPLICATION_ID, app::SWM));
    str_.push(A::enumerated(&dict::TERMINATION_CAUSE_AVP, 1));
    let a = epdg.request(str_.to_vec().unwrap()).await.unwrap();
    assert_eq!(a.result_code(), Some(2001));
    let a = aar(&epdg, app::SWM, sid, &nai11, Some("internet"), vec![]).await;
    assert_eq!(Message::parse(&a).unwrap().result_code(), Some(5002));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s6b_registration_and_the_mag_lma_key() {
    let dir = tempfile::tempdir().unwrap();
    let aaa = home_aaa(dir.path()).await;
    let mut s = Sub::new(20);
    s.home_agent = Some("lma.home.example");
    provision(aaa.store(), s).await;
    provision(aaa.store(), Sub::new(21)).await;
    let nai20 = format!("0{}@{}", imsi(20), REALM);

    // The MAG authenticates the MN over STa (trusted WLAN): profile and key in the DEA.
    let mag = client("mag.home.example", HOME, &aaa, &[app::STA, app::EAP]).await;
    let mut opts = DerOptions::swm(REALM);
    opts.app = app::STA;
    opts.anid = Some("WLAN".into());
    opts.mip6_feature_vector = Some(0x0000_0100_0000_0000);
    let mut ue20 = ue(20, 0, &[Method::AkaPrime]);
    let r = diameter_authenticate(&mag, &opts, "mag.home.example;1;1", &mut ue20)
        .await
        .unwrap();
    assert_eq!(r.results, vec![1001, 2001]);
    let ok = r.peer_success().unwrap();
    let m = r.message().unwrap();
    let want =
        mobstrap_crypto::erp::pmip6_mag_lma_key(ok.emsk.as_bytes(), b"lma.home.example").unwrap();
    let key = key_of(&m).expect("Key AVP in the DEA");
    assert_eq!(key.0, 100, "Key-Type: mobstrap's MAG-LMA key");
    assert_eq!(&key.1[..], &want.as_bytes()[..], "derived from the EMSK");
    assert_eq!(key.2, b"lma.home.example");
    assert_eq!(
        agent(&m.get(&dict::MIP6_AGENT_INFO).unwrap()).1.as_deref(),
        Some("lma.home.example"),
        "the LMA to the MAG"
    );
    let hnp = m.get(&dict::MIP6_HOME_LINK_PREFIX).unwrap().octets();
    assert_eq!(hnp[0], 64);
    assert!(m.get(&dict::NON_3GPP_USER_DATA).is_some());
    assert_eq!(
        m.get(&dict::AN_TRUSTED_AVP).unwrap().enumerated().unwrap(),
        0
    );

    // The LMA asks over S6b: the same key; the registration is kept.
    let lma = client("lma.home.example", HOME, &aaa, &[app::S6B]).await;
    let a = aar(
        &lma,
        app::S6B,
        "lma.home.example;1;1",
        &nai20,
        Some("internet"),
        vec![],
    )
    .await;
    let m = Message::parse(&a).unwrap();
    assert_eq!(m.result_code(), Some(2001));
    let key = key_of(&m).expect("Key AVP in the S6b AAA");
    assert_eq!(
        &key.1[..],
        &want.as_bytes()[..],
        "the LMA gets the MAG's key"
    );
    assert_eq!(
        m.get(&dict::MOBILE_NODE_IDENTIFIER)
            .unwrap()
            .utf8()
            .unwrap(),
        nai20
    );
    let regs = aaa
        .store()
        .sessions_for(
            &mobstrap_store::Imsi::new(&imsi(20)).unwrap(),
            mobstrap_store::unix_now(),
        )
        .await
        .unwrap();
    assert!(regs
        .iter()
        .any(|r| r.kind == mobstrap_store::SessionKind::S6b
            && r.gateway_host.as_deref() == Some("lma.home.example")));

    // Another gateway gets no key for it.
    let pgw = client("pgw.home.example", HOME, &aaa, &[app::S6B]).await;
    let a = aar(
        &pgw,
        app::S6B,
        "pgw.home.example;1;1",
        &nai20,
        Some("internet"),
        vec![A::grouped(
            &dict::MIP6_AGENT_INFO,
            vec![A::ip(
                &dict::MIP_HOME_AGENT_ADDRESS,
                "192.0.2.99".parse().unwrap(),
            )],
        )],
    )
    .await;
    let m = Message::parse(&a).unwrap();
    assert_eq!(m.result_code(), Some(2001));
    assert!(key_of(&m).is_none());

    // S6b errors: unknown user 5001, APN not allowed 5451.
    let a = aar(
        &pgw,
        app::S6B,
        "pgw.home.example;1;2",
        &format!("0{}@{}", imsi(55), REALM),
        None,
        vec![],
    )
    .await;
    assert_eq!(
        Message::parse(&a).unwrap().experimental_result(),
        Some((10415, 5001))
    );
    let mut narrow = Sub::new(22);
    narrow.apns = "internet=dynamic";
    provision(aaa.store(), narrow).await;
    let a = aar(
        &pgw,
        app::S6B,
        "pgw.home.example;1;3",
        &format!("0{}@{}", imsi(22), REALM),
        Some("ims"),
        vec![],
    )
    .await;
    assert_eq!(
        Message::parse(&a).unwrap().experimental_result(),
        Some((10415, 5451))
    );

    // A PDN GW registered over S6b for a dynamic APN is what a later SWm AAR resolves to
    // (handover keeps the anchor).
    let a = aar(
        &pgw,
        app::S6B,
        "pgw.home.example;1;4",
        &format!("0{}@{}", imsi(22), REALM),
        Some("internet"),
        vec![A::grouped(
            &dict::MIP6_AGENT_INFO,
            vec![A::ip(
                &dict::MIP_HOME_AGENT_ADDRESS,
                "192.0.2.44".parse().unwrap(),
            )],
        )],
    )
    .await;
    assert_eq!(Message::parse(&a).unwrap().result_code(), Some(2001));
    let epdg = client("epdg.home.example", HOME, &aaa, &[app::SWM]).await;
    let mut ue22 = ue(22, 0, &[Method::Aka]);
    let r = diameter_authenticate(&epdg, &DerOptions::swm(REALM), "e;22", &mut ue22)
        .await
        .unwrap();
    assert_eq!(r.result(), 2001);
    let a = aar(
        &epdg,
        app::SWM,
        "e;22",
        &format!("0{}@{}", imsi(22), REALM),
        Some("internet"),
        vec![],
    )
    .await;
    let m = Message::parse(&a).unwrap();
    assert_eq!(
        apn_gateway(&m, "internet").0,
        Some("192.0.2.44".parse().unwrap())
    );

    // The EAP application (RFC 4072 / RFC 5779 MAG): the key and the profile too.
    let mut opts = DerOptions::swm(REALM);
    opts.app = app::EAP;
    opts.rat_type = None;
    opts.mip6_feature_vector = Some(0x0000_0100_0000_0000);
    let mut ue20 = ue(20, 0, &[Method::Aka]);
    let r = diameter_authenticate(&mag, &opts, "mag.home.example;1;2", &mut ue20)
        .await
        .unwrap();
    assert_eq!(r.results, vec![1001, 2001]);
    let ok = r.peer_success().unwrap();
    let m = r.message().unwrap();
    let want =
        mobstrap_crypto::erp::pmip6_mag_lma_key(ok.emsk.as_bytes(), b"lma.home.example").unwrap();
    assert_eq!(&key_of(&m).unwrap().1[..], &want.as_bytes()[..]);
    // ... and the LMA now gets the newest key.
    let a = aar(&lma, app::S6B, "lma.home.example;1;2", &nai20, None, vec![]).await;
    assert_eq!(
        &key_of(&Message::parse(&a).unwrap()).unwrap().1[..],
        &want.as_bytes()[..]
    );
}

/// (Key-Type, Keying-Material, Key-Name) of a Key AVP.
fn key_of(m: &Message<'_>) -> Option<(i32, Vec<u8>, Vec<u8>)> {
    let k = m.get(&dict::KEY)?;
    let g = k.grouped().ok()?;
    Some((
        g.get(&dict::KEY_TYPE_AVP)?.enumerated().ok()?,
        g.get(&dict::KEYING_MATERIAL)?.octets().to_vec(),
        g.get(&dict::KEY_NAME)?.octets().to_vec(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visited_aaa_proxies_to_the_home_aaa_and_maps_the_visited_gateway() {
    let dir = tempfile::tempdir().unwrap();
    // Home AAA: allows the visited network "visited.example" only.
    let url = format!("sqlite://{}", dir.path().join("home.sqlite").display());
    let home = start(diameter_config(
        &url,
        "aaa.home.example",
        HOME,
        "allowed_visited_networks = [\"visited.example\"]",
        &home_extra(),
    ))
    .await;
    provision(home.store(), Sub::new(30)).await;
    let home_addr: SocketAddr = home.diameter().unwrap().local_addrs()[0];
    // Visited AAA: proxies the NAI realm to the home AAA, maps internet → vGW.
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
gateway = "gw:203.0.113.20"
[[roaming.visited_gateway]]
apn = "*"
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
    let epdg = client(
        "epdg.visited.example",
        "visited.example",
        &visited,
        &[app::SWM],
    )
    .await;

    let sid = "epdg.visited.example;1;1";
    let mut ue30 = ue(30, 0, &[Method::AkaPrime]);
    let r = diameter_authenticate(&epdg, &DerOptions::swm(REALM), sid, &mut ue30)
        .await
        .unwrap();
    assert_eq!(r.results, vec![1001, 2001], "authentication passes through");
    let m = r.message().unwrap();
    assert_eq!(
        m.get(&dict::ORIGIN_HOST).unwrap().utf8().unwrap(),
        "aaa.home.example"
    );
    assert_eq!(
        m.get(&dict::EAP_MASTER_SESSION_KEY).unwrap().octets(),
        &r.peer_success().unwrap().msk.as_bytes()[..]
    );
    let nai = format!("6{}@{}", imsi(30), REALM);
    let a = aar(&epdg, app::SWM, sid, &nai, Some("internet"), vec![]).await;
    let m = Message::parse(&a).unwrap();
    assert_eq!(m.result_code(), Some(2001));
    assert_eq!(
        apn_gateway(&m, "internet").0,
        Some("192.0.2.10".parse().unwrap()),
        "home gateway in APN-Configuration"
    );
    let top: Vec<_> = m.avps().filter(|a| a.is(&dict::MIP6_AGENT_INFO)).collect();
    assert_eq!(top.len(), 1);
    assert_eq!(
        agent(&top[0]).0,
        Some("203.0.113.20".parse().unwrap()),
        "visited gateway at the top level"
    );
    let a = aar(&epdg, app::SWM, sid, &nai, Some("ims"), vec![]).await;
    let m = Message::parse(&a).unwrap();
    assert_eq!(
        apn_gateway(&m, "ims").1.as_deref(),
        Some("pgw.ims.home.example")
    );
    let top = m.get(&dict::MIP6_AGENT_INFO).unwrap();
    assert_eq!(agent(&top).1.as_deref(), Some("vgw.visited.example"));
    // The home AAA recorded the visited network.
    home.store().flush().await.unwrap();
    let s = home
        .store()
        .session(sid, mobstrap_store::unix_now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.visited_network.as_deref(), Some("visited.example"));

    // A visited network the home AAA does not allow: 5004.
    let mut opts = DerOptions::swm(REALM);
    opts.visited_network = Some("elsewhere.example".into());
    let mut ue30 = ue(30, 0, &[Method::Aka]);
    let r = diameter_authenticate(&epdg, &opts, "epdg.visited.example;1;2", &mut ue30)
        .await
        .unwrap();
    assert_eq!(r.result(), 5004);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_diameter_gets_5xxx_and_the_next_request_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let aaa = home_aaa(dir.path()).await;
    provision(aaa.store(), Sub::new(40)).await;
    let addr = aaa.diameter().unwrap().local_addrs()[0];
    let mut r = common::Raw::connect(addr).await;
    assert_eq!(r.cer("raw.home.example", HOME).await, (2001, false));
    let der = |hbh: u32, payload: &[u8]| {
        MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
            .hop_by_hop(hbh)
            .end_to_end(hbh)
            .with(A::utf8(&dict::SESSION_ID, "raw;1"))
            .with(A::u32(&dict::AUTH_APPLICATION_ID, app::SWM))
            .with(A::utf8(&dict::ORIGIN_HOST, "raw.home.example"))
            .with(A::utf8(&dict::ORIGIN_REALM, HOME))
            .with(A::utf8(&dict::DESTINATION_REALM, REALM))
            .with(A::enumerated(&dict::AUTH_REQUEST_TYPE_AVP, 3))
            .with(A::utf8(&dict::USER_NAME, "0001010000000040@x"))
            .with(A::octets(&dict::EAP_PAYLOAD, payload))
            .to_vec()
            .unwrap()
    };
    async fn exchange(r: &mut common::Raw, b: &[u8]) -> (u32, Option<Vec<u8>>, Vec<u8>) {
        r.send(b).await;
        let a = r.recv().await.expect("an answer");
        let m = Message::parse(&a).unwrap();
        (
            answer_result(&m),
            m.get(&dict::FAILED_AVP).map(|f| f.data().to_vec()),
            a.clone(),
        )
    }
    let mut ident = vec![2, 1, 0, 0, 1];
    ident.extend_from_slice(format!("0{}@{}", imsi(40), REALM).as_bytes());
    let n = ident.len() as u16;
    ident[2..4].copy_from_slice(&n.to_be_bytes());

    // Bad AVP length (Auth-Request-Type overruns the message): 5014 with Failed-AVP.
    let mut bad = der(1, &ident);
    let at = bad
        .windows(4)
        .position(|w| w == dict::AUTH_REQUEST_TYPE_AVP.code.to_be_bytes())
        .unwrap();
    bad[at + 7] = 0xfc;
    let (code, failed, _) = exchange(&mut r, &bad).await;
    assert_eq!(code, 5014);
    assert_eq!(
        &failed.unwrap()[..4],
        &dict::AUTH_REQUEST_TYPE_AVP.code.to_be_bytes()
    );
    // Missing EAP-Payload: 5005 naming it.
    let b2 = der(2, &ident);
    let mut m = MessageRepr::parse(&b2).unwrap();
    m.avps.retain(|a| a.code != dict::EAP_PAYLOAD.code);
    let (code, failed, _) = exchange(&mut r, &m.to_vec().unwrap()).await;
    assert_eq!(code, 5005);
    assert_eq!(&failed.unwrap()[..4], &dict::EAP_PAYLOAD.code.to_be_bytes());
    // Unknown command of SWm: 3001.
    let mut bad = der(3, &ident);
    bad[5..8].copy_from_slice(&[0, 0x03, 0xe7]);
    assert_eq!(exchange(&mut r, &bad).await.0, 3001);
    // Garbage EAP-Payload in a new session: 5012 with the reason, nothing kept.
    let (code, _, _) = exchange(&mut r, &der(4, &[9, 9, 9])).await;
    assert_eq!(code, 5012);
    // The next good request is served (a challenge).
    let (code, _, a) = exchange(&mut r, &der(5, &ident)).await;
    assert_eq!(code, 1001);
    let m = Message::parse(&a).unwrap();
    assert_eq!(m.get(&dict::EAP_PAYLOAD).unwrap().octets()[4], 23);
    // A malformed EAP Response within the conversation: the challenge is re-issued.
    let (code, _, a) = exchange(&mut r, &der(6, &[2, 0x55, 0, 6, 23, 1])).await;
    assert_eq!(code, 5012);
    let m = Message::parse(&a).unwrap();
    assert!(m.get(&dict::EAP_REISSUED_PAYLOAD).is_some());
    // And other clients are served meanwhile.
    let epdg = client("epdg.home.example", HOME, &aaa, &[app::SWM]).await;
    let mut ue40 = ue(40, 0, &[Method::Aka]);
    let res = diameter_authenticate(&epdg, &DerOptions::swm(REALM), "ok;1", &mut ue40)
        .await
        .unwrap();
    assert_eq!(res.result(), 2001);
}

/// An STR right after the DEA that stored the session without waiting: the session row
/// must be gone once the STA is back (it used to be inserted after the delete now and then,
/// outliving the session until its expiry).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn str_right_after_the_dea_leaves_no_stored_session() {
    let dir = tempfile::tempdir().unwrap();
    let aaa = home_aaa(dir.path()).await;
    provision(aaa.store(), Sub::new(10)).await;
    let epdg = client("epdg.home.example", HOME, &aaa, &[app::SWM]).await;
    let imsi10 = mobstrap_store::Imsi::new(&imsi(10)).unwrap();
    for i in 0..10 {
        let sid = format!("epdg.home.example;9;{i}");
        let mut ue = ue(10, 0, &[Method::Aka]);
        let r = diameter_authenticate(&epdg, &DerOptions::swm(REALM), &sid, &mut ue)
            .await
            .unwrap();
        assert_eq!(r.result(), 2001, "{:?}", r.results);
        let mut str_ = epdg.new_request(commands::SESSION_TERMINATION, app::SWM);
        str_.avps.insert(0, A::utf8(&dict::SESSION_ID, &sid));
        str_.push(A::utf8(&dict::DESTINATION_REALM, REALM));
        str_.push(A::u32(&dict::AUTH_APPLICATION_ID, app::SWM));
        str_.push(A::enumerated(&dict::TERMINATION_CAUSE_AVP, 1));
        let a = epdg.request(str_.to_vec().unwrap()).await.unwrap();
        assert_eq!(a.result_code(), Some(2001));
        // whatever is still queued lands now; the session must not be among it
        aaa.store().flush().await.unwrap();
        let left = aaa.store().sessions_for(&imsi10, 0).await.unwrap();
        assert!(
            left.is_empty(),
            "iteration {i}: {} stored session(s) after the STA",
            left.len()
        );
    }
}
