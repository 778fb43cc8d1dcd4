//! Diameter nodes over loopback TCP: peering (CER/CEA, DWR/DWA, DPR/DPA), reconnection,
//! elections, a client → proxy → server chain with rewriting hooks, failover, duplicate
//! detection, and malformed input from a raw socket.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use mobstrap_node::diameter::{DiameterNode, ProxyHook, RequestError};
use mobstrap_proto::diameter::{rc, DisconnectCause, Rejection};
use mobstrap_wire::diameter::{app, commands, dict, AvpRepr, Message, MessageRepr};

const WAIT: Duration = Duration::from_secs(5);

/// Polls `f` every 10 ms for at most 5 s.
async fn until(f: impl Fn() -> bool) -> bool {
    for _ in 0..500 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

async fn server(host: &str, realm: &str, clients: &[(&str, &str)]) -> (DiameterNode, Arc<EchoApp>) {
    let mut c = config(host, realm);
    for (h, r) in clients {
        c.peers.push(peer(h, r, None));
    }
    let echo = Arc::new(EchoApp::default());
    let n = DiameterNode::builder(c)
        .application(app::SWM, Some(VENDOR_3GPP), echo.clone())
        .start()
        .await
        .unwrap();
    (n, echo)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_peer_watchdog_and_disconnect() {
    let (srv, echo) = server("aaa.home", "home", &[("epdg.home", "home")]).await;
    let tap = Tap::start(srv.local_addrs()[0]).await;
    let mut c = config("epdg.home", "home");
    c.listen.clear();
    c.peers.push(peer("aaa.home", "home", Some(tap.addr)));
    c.routes.push(route("home", None, "relay", &["aaa.home"]));
    let cli = DiameterNode::builder(c)
        .client_application(app::SWM, Some(VENDOR_3GPP))
        .start()
        .await
        .unwrap();
    assert!(cli.wait_peer("aaa.home", WAIT).await, "CER/CEA");
    assert!(srv.wait_peer("epdg.home", WAIT).await);
    assert_eq!(tap.count(commands::CAPABILITIES_EXCHANGE, true, true), 1);
    assert_eq!(tap.count(commands::CAPABILITIES_EXCHANGE, false, false), 1);

    let a = cli
        .request(der(&cli, "home", "alice", "epdg.home;1"))
        .await
        .unwrap();
    let m = a.message().unwrap();
    assert_eq!(m.result_code(), Some(2001));
    assert_eq!(m.get(&dict::USER_NAME).unwrap().utf8().unwrap(), "alice");
    assert_eq!(
        m.get(&dict::ORIGIN_HOST).unwrap().utf8().unwrap(),
        "aaa.home"
    );
    assert_eq!(echo.count.load(Ordering::Relaxed), 1);

    // Tw = 0.3 s: idle for 1.5 s, DWR/DWA flow and the peers stay usable.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let dwr = tap.count(commands::DEVICE_WATCHDOG, true, true)
        + tap.count(commands::DEVICE_WATCHDOG, true, false);
    let dwa = tap.count(commands::DEVICE_WATCHDOG, false, true)
        + tap.count(commands::DEVICE_WATCHDOG, false, false);
    assert!(dwr >= 2 && dwa >= 2, "DWR {dwr} DWA {dwa}");
    assert!(cli.peer_usable("aaa.home") && srv.peer_usable("epdg.home"));

    // DPR from the client: DPA, both sides closed, no reconnection (our own choice).
    assert!(cli.disconnect_peer("aaa.home", DisconnectCause::DoNotWantToTalkToYou));
    assert!(
        until(|| tap.count(commands::DISCONNECT_PEER, false, false) == 1).await,
        "DPA"
    );
    assert!(until(|| !cli.peer_usable("aaa.home") && !srv.peer_usable("epdg.home")).await);
    assert_eq!(tap.count(commands::DISCONNECT_PEER, true, true), 1);
    assert_eq!(tap.count(commands::DISCONNECT_PEER, false, false), 1);
    assert!(!cli.peer_usable("aaa.home") && !srv.peer_usable("epdg.home"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        tap.count(commands::CAPABILITIES_EXCHANGE, true, true),
        1,
        "not reconnected"
    );
    match cli.request(der(&cli, "home", "bob", "epdg.home;2")).await {
        Err(RequestError::NoRoute(r)) => assert_eq!(r.result_code, rc::UNABLE_TO_DELIVER),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_dpr_rebooting_then_reconnect_after_hold() {
    let (srv, _) = server("aaa.home", "home", &[("epdg.home", "home")]).await;
    let tap = Tap::start(srv.local_addrs()[0]).await;
    let mut c = config("epdg.home", "home");
    c.listen.clear();
    c.peers.push(peer("aaa.home", "home", Some(tap.addr)));
    c.routes.push(route("home", None, "relay", &["aaa.home"]));
    let cli = DiameterNode::builder(c)
        .client_application(app::SWM, Some(VENDOR_3GPP))
        .start()
        .await
        .unwrap();
    assert!(cli.wait_peer("aaa.home", WAIT).await);
    assert!(srv.wait_peer("epdg.home", WAIT).await);
    assert!(srv.disconnect_peer("epdg.home", DisconnectCause::Rebooting));
    assert!(
        until(|| tap.count(commands::DISCONNECT_PEER, false, true) == 1).await,
        "DPA"
    );
    assert_eq!(tap.count(commands::DISCONNECT_PEER, true, false), 1);
    assert!(until(|| !srv.peer_usable("epdg.home")).await);
    assert_eq!(
        tap.count(commands::CAPABILITIES_EXCHANGE, true, true),
        1,
        "held off for reboot_hold"
    );
    // REBOOTING: reconnect after reboot_hold (0.3 s here).
    assert!(cli.wait_peer("aaa.home", WAIT).await, "reconnected");
    assert_eq!(tap.count(commands::CAPABILITIES_EXCHANGE, true, true), 2);
    let a = cli
        .request(der(&cli, "home", "carol", "epdg.home;3"))
        .await
        .unwrap();
    assert_eq!(a.result_code(), Some(2001));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tc_reconnects_until_the_server_is_up() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let mut c = config("epdg.home", "home");
    c.listen.clear();
    c.peers.push(peer("aaa.home", "home", Some(addr)));
    let cli = DiameterNode::builder(c)
        .client_application(app::SWM, Some(VENDOR_3GPP))
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!cli.peer_usable("aaa.home"));
    let mut sc = config("aaa.home", "home");
    sc.listen = vec![addr];
    sc.peers.push(peer("epdg.home", "home", None));
    let _srv = DiameterNode::builder(sc)
        .application(app::SWM, Some(VENDOR_3GPP), Arc::new(EchoApp::default()))
        .start()
        .await
        .unwrap();
    assert!(
        cli.wait_peer("aaa.home", WAIT).await,
        "connected on a later Tc"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_connect_keeps_one_connection() {
    // Both connect to each other; the election leaves one connection.
    let la = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let lb = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (aa, ab) = (la.local_addr().unwrap(), lb.local_addr().unwrap());
    drop((la, lb));
    let mut ca = config("a.home", "home");
    ca.listen = vec![aa];
    ca.peers.push(peer("b.home", "home", Some(ab)));
    let mut cb = config("b.home", "home");
    cb.listen = vec![ab];
    cb.peers.push(peer("a.home", "home", Some(aa)));
    cb.routes.push(route("home", None, "relay", &["a.home"]));
    let (na, nb) = tokio::join!(
        DiameterNode::builder(ca)
            .application(app::SWM, Some(VENDOR_3GPP), Arc::new(EchoApp::default()))
            .start(),
        DiameterNode::builder(cb)
            .application(app::NASREQ, None, Arc::new(EchoApp::default()))
            .client_application(app::SWM, Some(VENDOR_3GPP))
            .start()
    );
    let (na, nb) = (na.unwrap(), nb.unwrap());
    assert!(na.wait_peer("b.home", WAIT).await && nb.wait_peer("a.home", WAIT).await);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        na.peer_usable("b.home") && nb.peer_usable("a.home"),
        "still one usable connection"
    );
    let mut m = nb.new_request(commands::DIAMETER_EAP, app::SWM);
    m.avps.insert(0, AvpRepr::utf8(&dict::SESSION_ID, "b;1"));
    m.push(AvpRepr::utf8(&dict::DESTINATION_HOST, "a.home"));
    m.push(AvpRepr::utf8(&dict::USER_NAME, "dave"));
    let a = nb.request(m.to_vec().unwrap()).await.unwrap();
    assert_eq!(a.result_code(), Some(2001));
}

/// The visited AAA's hooks: the request's User-Name is tagged; the answer gets a Class AVP
/// naming the visited gateway (as seed 002 step 10 maps APN → visited gateway).
struct VisitedHook;
impl ProxyHook for VisitedHook {
    fn request(&self, req: &Message<'_>, raw: &[u8], out: &mut Vec<u8>) -> Result<bool, Rejection> {
        let mut r =
            MessageRepr::parse(raw).map_err(|_| Rejection::new(rc::UNABLE_TO_COMPLY, "parse"))?;
        let user = req
            .get(&dict::USER_NAME)
            .and_then(|a| a.utf8().ok())
            .unwrap_or("");
        if user == "forbidden" {
            return Err(Rejection::new(5003, "roaming not allowed"));
        }
        let tagged = format!("{user}+visited");
        for a in &mut r.avps {
            if a.code == dict::USER_NAME.code {
                *a = AvpRepr::utf8(&dict::USER_NAME, &tagged);
            }
        }
        r.emit(out).unwrap();
        Ok(true)
    }
    fn answer(
        &self,
        _req: &Message<'_>,
        _ans: &Message<'_>,
        raw: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        let mut a = MessageRepr::parse(raw).unwrap();
        a.push(AvpRepr::octets(&dict::CLASS, b"visited-gw.visited"));
        a.emit(out).unwrap();
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_proxy_server_chain_with_rewriting_and_errors() {
    let (srv, echo) = server("haaa.home", "home", &[("vaaa.visited", "visited")]).await;
    let tap = Tap::start(srv.local_addrs()[0]).await;
    let mut pc = config("vaaa.visited", "visited");
    pc.peers.push(peer("epdg.visited", "visited", None));
    pc.peers.push(peer("haaa.home", "home", Some(tap.addr)));
    pc.routes
        .push(route("home", Some(app::SWM), "proxy", &["haaa.home"]));
    pc.allow
        .push(toml::from_str("host = \"raw.visited\"").unwrap());
    let proxy = DiameterNode::builder(pc)
        .proxy_hook(app::SWM, Arc::new(VisitedHook))
        .start()
        .await
        .unwrap();
    let mut cc = config("epdg.visited", "visited");
    cc.listen.clear();
    cc.peers.push(peer(
        "vaaa.visited",
        "visited",
        Some(proxy.local_addrs()[0]),
    ));
    cc.default_route =
        Some(toml::from_str("action = \"relay\"\npeers = [\"vaaa.visited\"]").unwrap());
    let cli = DiameterNode::builder(cc)
        .client_application(app::SWM, Some(VENDOR_3GPP))
        .start()
        .await
        .unwrap();
    assert!(cli.wait_peer("vaaa.visited", WAIT).await);
    assert!(proxy.wait_peer("haaa.home", WAIT).await);

    let a = cli
        .request(der(&cli, "home", "erin", "epdg.visited;1"))
        .await
        .unwrap();
    let m = a.message().unwrap();
    assert_eq!(m.result_code(), Some(2001));
    assert_eq!(
        m.get(&dict::ORIGIN_HOST).unwrap().utf8().unwrap(),
        "haaa.home"
    );
    assert_eq!(
        m.get(&dict::USER_NAME).unwrap().utf8().unwrap(),
        "erin+visited",
        "request hook"
    );
    assert_eq!(
        m.get(&dict::CLASS).unwrap().data(),
        b"visited-gw.visited",
        "answer hook"
    );
    // The server saw Route-Record naming the client, the original End-to-End Identifier,
    // and a Hop-by-Hop Identifier of the proxy's own.
    let seen = echo.seen.lock().unwrap()[0].clone();
    let s = Message::parse(&seen).unwrap();
    let rr: Vec<_> = s
        .avps()
        .filter(|a| a.is(&dict::ROUTE_RECORD))
        .map(|a| a.utf8().unwrap().to_string())
        .collect();
    assert_eq!(rr, vec!["epdg.visited".to_string()]);
    let next = der(&cli, "home", "x", "y");
    let sent = Message::parse(&next).unwrap();
    assert_eq!(
        s.header.end_to_end.wrapping_add(1),
        sent.header.end_to_end,
        "end-to-end kept"
    );
    assert_eq!(
        s.get(&dict::ORIGIN_HOST).unwrap().utf8().unwrap(),
        "epdg.visited"
    );

    // The request hook refuses: the proxy answers the client itself.
    let a = cli
        .request(der(&cli, "home", "forbidden", "epdg.visited;2"))
        .await
        .unwrap();
    assert_eq!(a.result_code(), Some(5003));
    // Unknown realm: 3003 with the E bit, from the proxy.
    let a = cli
        .request(der(&cli, "nowhere", "frank", "epdg.visited;3"))
        .await
        .unwrap();
    let m = a.message().unwrap();
    assert_eq!(m.result_code(), Some(rc::REALM_NOT_SERVED));
    assert!(m.header.is_error());
    assert_eq!(
        m.get(&dict::ORIGIN_HOST).unwrap().utf8().unwrap(),
        "vaaa.visited"
    );
    // A loop: Route-Record already names the proxy (sent from a raw peer, since our own
    // client would not send a request to a peer named in its Route-Record).
    let mut raw = Raw::connect(proxy.local_addrs()[0]).await;
    assert_eq!(raw.cer("raw.visited", "visited").await, (2001, false));
    let b = der(&cli, "home", "gina", "epdg.visited;4");
    let mut r = MessageRepr::parse(&b).unwrap();
    r.push(AvpRepr::utf8(&dict::ROUTE_RECORD, "vaaa.visited"));
    raw.send(&r.to_vec().unwrap()).await;
    let a = raw.recv().await.unwrap();
    let m = Message::parse(&a).unwrap();
    assert_eq!(m.result_code(), Some(rc::LOOP_DETECTED));
    assert!(m.header.is_error());
    // The application reports a missing AVP (5005) through the proxy, with Failed-AVP.
    let b = der(&cli, "home", "h", "epdg.visited;5");
    let mut r = MessageRepr::parse(&b).unwrap();
    r.avps.retain(|a| a.code != dict::USER_NAME.code);
    let a = cli.request(r.to_vec().unwrap()).await.unwrap();
    let m = a.message().unwrap();
    assert_eq!(m.result_code(), Some(rc::MISSING_AVP));
    assert!(m.get(&dict::FAILED_AVP).is_some());
    assert_eq!(echo.count.load(Ordering::Relaxed), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchdog_failover_to_the_second_server_with_t_flag() {
    let (s1, e1) = server("aaa1.home", "home", &[("epdg.home", "home")]).await;
    let (s2, e2) = server("aaa2.home", "home", &[("epdg.home", "home")]).await;
    let tap1 = Tap::start(s1.local_addrs()[0]).await;
    let mut c = config("epdg.home", "home");
    c.listen.clear();
    c.peers.push(peer("aaa1.home", "home", Some(tap1.addr)));
    c.peers
        .push(peer("aaa2.home", "home", Some(s2.local_addrs()[0])));
    c.routes
        .push(route("home", None, "relay", &["aaa1.home", "aaa2.home"]));
    let cli = DiameterNode::builder(c)
        .client_application(app::SWM, Some(VENDOR_3GPP))
        .start()
        .await
        .unwrap();
    assert!(cli.wait_peer("aaa1.home", WAIT).await && cli.wait_peer("aaa2.home", WAIT).await);
    let a = cli.request(der(&cli, "home", "ivan", "s;1")).await.unwrap();
    assert_eq!(
        a.message()
            .unwrap()
            .get(&dict::ORIGIN_HOST)
            .unwrap()
            .utf8()
            .unwrap(),
        "aaa1.home"
    );
    // aaa1 goes silent: the pending request fails over to aaa2 when the watchdog suspects.
    tap1.blackhole.store(true, Ordering::Relaxed);
    let a = cli.request(der(&cli, "home", "judy", "s;2")).await.unwrap();
    let m = a.message().unwrap();
    assert_eq!(
        m.get(&dict::ORIGIN_HOST).unwrap().utf8().unwrap(),
        "aaa2.home"
    );
    assert_eq!(m.get(&dict::USER_NAME).unwrap().utf8().unwrap(), "judy");
    let seen = e2.seen.lock().unwrap().last().unwrap().clone();
    assert!(
        Message::parse(&seen).unwrap().header.is_retransmitted(),
        "T flag on failover"
    );
    assert_eq!(e1.count.load(Ordering::Relaxed), 1);
    assert!(!cli.peer_usable("aaa1.home"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_gets_answers_and_the_server_keeps_serving() {
    let (srv, echo) = server("aaa.home", "home", &[("raw.home", "home")]).await;
    let addr = srv.local_addrs()[0];
    // Unknown peer: 3010 with the E bit, then the connection is closed.
    let mut r = Raw::connect(addr).await;
    assert_eq!(
        r.cer("stranger.home", "home").await,
        (rc::UNKNOWN_PEER, true)
    );
    assert!(r.recv().await.is_none(), "closed after 3010");

    let mut r = Raw::connect(addr).await;
    assert_eq!(r.cer("raw.home", "home").await, (2001, false));
    let req = |user: &str, hbh: u32| {
        MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
            .hop_by_hop(hbh)
            .end_to_end(hbh)
            .with(AvpRepr::utf8(&dict::SESSION_ID, "raw;1"))
            .with(AvpRepr::utf8(&dict::ORIGIN_HOST, "raw.home"))
            .with(AvpRepr::utf8(&dict::ORIGIN_REALM, "home"))
            .with(AvpRepr::utf8(&dict::DESTINATION_REALM, "home"))
            .with(AvpRepr::u32(&dict::AUTH_APPLICATION_ID, app::SWM))
            .with(AvpRepr::utf8(&dict::USER_NAME, user))
            .to_vec()
            .unwrap()
    };
    async fn exchange(r: &mut Raw, b: &[u8]) -> (u32, bool, u32, Option<Vec<u8>>) {
        r.send(b).await;
        let a = r.recv().await.expect("an answer");
        let m = Message::parse(&a).unwrap();
        (
            m.result_code().unwrap(),
            m.header.is_error(),
            m.header.hop_by_hop,
            m.get(&dict::FAILED_AVP).map(|f| f.data().to_vec()),
        )
    }
    // Auth-Application-Id with a bad AVP Length: 5014 with Failed-AVP.
    let mut bad = req("kim", 10);
    let at = bad
        .windows(4)
        .position(|w| w == 258u32.to_be_bytes())
        .unwrap();
    bad[at + 7] = 0xfc;
    let (code, e, hbh, failed) = exchange(&mut r, &bad).await;
    assert_eq!((code, e, hbh), (rc::INVALID_AVP_LENGTH, false, 10));
    assert_eq!(&failed.unwrap()[..4], &258u32.to_be_bytes());
    // Unknown command of a served application: 3001 (E).
    let mut bad = req("kim", 11);
    bad[5..8].copy_from_slice(&[0, 0x03, 0xe7]);
    assert_eq!(exchange(&mut r, &bad).await.0, rc::COMMAND_UNSUPPORTED);
    // An application not served: 3007 (E).
    let mut bad = req("kim", 12);
    bad[8..12].copy_from_slice(&app::S6B.to_be_bytes());
    let (code, e, _, _) = exchange(&mut r, &bad).await;
    assert_eq!((code, e), (rc::APPLICATION_UNSUPPORTED, true));
    // E bit in a request: 3008; reserved AVP flag: 3009.
    let mut bad = req("kim", 13);
    bad[4] |= 0x20;
    assert_eq!(exchange(&mut r, &bad).await.0, rc::INVALID_HDR_BITS);
    let mut bad = req("kim", 14);
    bad[at + 4] |= 0x02;
    assert_eq!(exchange(&mut r, &bad).await.0, rc::INVALID_AVP_BITS);
    // Non-UTF-8 User-Name: 5004.
    let mut bad = req("kim", 15);
    let n = bad.len();
    bad[n - 4] = 0xff;
    assert_eq!(exchange(&mut r, &bad).await.0, rc::INVALID_AVP_VALUE);
    // The application's own check: a missing User-Name is 5005 with Failed-AVP.
    let b = req("kim", 16);
    let mut m = MessageRepr::parse(&b).unwrap();
    m.avps.retain(|a| a.code != dict::USER_NAME.code);
    let (code, _, _, failed) = exchange(&mut r, &m.to_vec().unwrap()).await;
    assert_eq!(code, rc::MISSING_AVP);
    assert_eq!(&failed.unwrap()[..4], &1u32.to_be_bytes());
    // A good request is answered on the same connection.
    let (code, _, hbh, _) = exchange(&mut r, &req("kim", 17)).await;
    assert_eq!((code, hbh), (2001, 17));
    // Duplicate (same Origin-Host and End-to-End, T flag): answered from cache, not executed.
    let before = echo.count.load(Ordering::Relaxed);
    let mut dup = req("kim", 18);
    dup[16..20].copy_from_slice(&17u32.to_be_bytes());
    dup[4] |= 0x10;
    let (code, _, hbh, _) = exchange(&mut r, &dup).await;
    assert_eq!((code, hbh), (2001, 18));
    assert_eq!(
        echo.count.load(Ordering::Relaxed),
        before,
        "duplicate not executed"
    );
    // A Message Length that is not a multiple of 4: no answer possible, connection closed.
    let mut bad = req("kim", 19);
    bad[3] = bad[3].wrapping_add(1);
    r.send(&bad).await;
    assert!(r.recv().await.is_none(), "closed");
    // The server keeps serving the next connection.
    let mut r = Raw::connect(addr).await;
    assert_eq!(r.cer("raw.home", "home").await, (2001, false));
    let (code, _, _, _) = exchange(&mut r, &req("lee", 20)).await;
    assert_eq!(code, 2001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_from_toml() {
    let c = mobstrap_node::diameter::DiameterConfig::from_toml(
        r#"
origin_host = "vaaa.visited.example"
origin_realm = "visited.example"
listen = ["127.0.0.1:0"]
tw = 6
tc = 2.5
[[peer]]
host = "haaa.home.example"
realm = "home.example"
connect = "127.0.0.1:3868"
tw = 10
[[allow]]
host = "*.visited.example"
[[route]]
realm = "home.example"
application = 16777264
action = "proxy"
peers = ["haaa.home.example"]
[default_route]
action = "relay"
peers = ["haaa.home.example"]
"#,
    )
    .unwrap();
    assert_eq!(c.tw, Duration::from_secs(6));
    assert_eq!(c.tc, Duration::from_millis(2500));
    assert_eq!(c.peers[0].tw, Some(Duration::from_secs(10)));
    let e = mobstrap_node::diameter::DiameterConfig::from_toml(
        "origin_host = \"a\"\norigin_realm = \"b\"\n[[route]]\nrealm = \"c\"\naction = \"relay\"\npeers = [\"nobody\"]\n",
    )
    .unwrap_err();
    assert_eq!(e.key, "route[0]");
    let e = mobstrap_node::diameter::DiameterConfig::from_toml(
        "origin_host = \"a\"\norigin_realm = \"b\"\ntw = \"x\"\n",
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("tw") || e.why.contains("seconds"),
        "{e}"
    );
}
