//! Deterministic engine tests: whole conversations between two engines in memory with a
//! virtual clock.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mobstrap_wire::diameter::{
    app, commands, dict, message::frame_len, AvpRepr, Message, MessageRepr,
};

use super::caps::{AppSet, LocalIdentity};
use super::conn::{
    CloseReason, Connection, ConnectionConfig, Event, Received, State, WatchdogState,
};
use super::dup::{DupStatus, DuplicateCache};
use super::peers::{AllowRule, CerVerdict, PeerConfig, PeerSlot, PeerTable};
use super::router::{forward_request, Decision, PeerView, Route, RouteAction, RouteTable};
use super::rules::{check_avps, AvpRule};
use super::{rc, DisconnectCause};

type Conn = Connection<u32>;

fn ident(host: &str, realm: &str, apps: &[u32]) -> Arc<LocalIdentity> {
    let mut l = LocalIdentity::new(host, realm);
    l.auth_apps = apps.to_vec();
    l.origin_state_id = 7;
    l.host_ip_addresses = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    Arc::new(l)
}

fn cfg() -> ConnectionConfig {
    ConnectionConfig {
        tw: Duration::from_secs(30),
        jitter: Duration::from_secs(2),
        ce_timeout: Duration::from_secs(10),
        dpa_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(4),
        reopen_dwa: 3,
    }
}

/// Splits the transmit buffer of `c` into whole messages.
fn take_frames(c: &mut Conn) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    let mut b = c.poll_transmit();
    while let Some(n) = frame_len(b) {
        if n > b.len() || n < 20 {
            break;
        }
        v.push(b[..n].to_vec());
        b = &b[n..];
    }
    let n = c.poll_transmit().len();
    c.advance_transmit(n);
    v
}

/// What a delivered frame produced, owned.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Nothing,
    Request { cmd: u32, hbh: u32 },
    Answer { token: u32, result: Option<u32> },
    Malformed { token: u32, code: u32 },
}

fn deliver(to: &mut Conn, frame: &[u8], now: Instant) -> Got {
    match to.handle_frame(frame, now) {
        Received::Nothing => Got::Nothing,
        Received::Request(m) => Got::Request {
            cmd: m.header.command_code,
            hbh: m.header.hop_by_hop,
        },
        Received::Answer(t, m) => Got::Answer {
            token: t,
            result: m.result_code(),
        },
        Received::MalformedAnswer(t, r) => Got::Malformed {
            token: t,
            code: r.result_code,
        },
    }
}

/// Moves messages both ways until both are quiet; returns what each side got.
fn pump(a: &mut Conn, b: &mut Conn, now: Instant) -> (Vec<Got>, Vec<Got>) {
    let (mut ga, mut gb) = (Vec::new(), Vec::new());
    loop {
        let fa = take_frames(a);
        let fb = take_frames(b);
        if fa.is_empty() && fb.is_empty() {
            return (ga, gb);
        }
        for f in fa {
            gb.push(deliver(b, &f, now));
        }
        for f in fb {
            ga.push(deliver(a, &f, now));
        }
    }
}

fn events(c: &mut Conn) -> Vec<Event<u32>> {
    let mut v = Vec::new();
    while let Some(e) = c.poll_event() {
        v.push(e);
    }
    v
}

fn has_closed(ev: &[Event<u32>]) -> Option<CloseReason> {
    ev.iter().find_map(|e| match e {
        Event::Closed(r) => Some(r.clone()),
        _ => None,
    })
}

/// An initiator (client, SWm) and a responder (server, SWm + S6b), exchanged and open.
fn open_pair(now: Instant) -> (Conn, Conn) {
    let mut a = Conn::initiator(
        ident("epdg.example", "example", &[app::SWM]),
        cfg(),
        None,
        false,
        1,
        now,
    );
    let mut b = Conn::responder(
        ident("aaa.example", "example", &[app::SWM, app::S6B]),
        cfg(),
        None,
        2,
        now,
    );
    pump(&mut a, &mut b, now);
    assert!(matches!(events(&mut b).as_slice(), [Event::CerReceived]));
    assert_eq!(b.state(), State::WaitVerdict);
    b.accept(false, now);
    pump(&mut a, &mut b, now);
    assert_eq!(a.state(), State::Open);
    assert_eq!(b.state(), State::Open);
    assert!(a.is_usable() && b.is_usable());
    events(&mut a);
    events(&mut b);
    (a, b)
}

#[test]
fn capabilities_exchange_success() {
    let now = Instant::now();
    let mut a = Conn::initiator(
        ident("epdg.example", "example", &[app::SWM]),
        cfg(),
        None,
        false,
        1,
        now,
    );
    let mut b = Conn::responder(
        ident("aaa.example", "example", &[app::SWM, app::S6B]),
        cfg(),
        None,
        2,
        now,
    );
    let cer = take_frames(&mut a);
    assert_eq!(cer.len(), 1);
    let m = Message::parse(&cer[0]).unwrap();
    assert_eq!(m.header.command_code, commands::CAPABILITIES_EXCHANGE);
    assert!(m.is_request() && !m.header.is_proxiable());
    for def in [
        &dict::ORIGIN_HOST,
        &dict::ORIGIN_REALM,
        &dict::HOST_IP_ADDRESS,
        &dict::VENDOR_ID,
        &dict::PRODUCT_NAME,
        &dict::ORIGIN_STATE_ID,
        &dict::AUTH_APPLICATION_ID,
        &dict::INBAND_SECURITY_ID_AVP,
    ] {
        assert!(m.get(def).is_some(), "CER lacks {}", def.name);
    }
    assert_eq!(deliver(&mut b, &cer[0], now), Got::Nothing);
    assert!(matches!(events(&mut b).as_slice(), [Event::CerReceived]));
    let p = b.peer().unwrap();
    assert_eq!(p.origin_host, "epdg.example");
    assert_eq!(p.host_ip_addresses, vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    b.accept(false, now);
    let cea = take_frames(&mut b);
    let m = Message::parse(&cea[0]).unwrap();
    assert_eq!(m.result_code(), Some(rc::SUCCESS));
    assert!(!m.header.is_error());
    assert_eq!(deliver(&mut a, &cea[0], now), Got::Nothing);
    let ev = events(&mut a);
    assert!(
        matches!(ev.as_slice(), [Event::Open, Event::Usable(true)]),
        "{ev:?}"
    );
    assert_eq!(a.peer().unwrap().common.ids, vec![app::SWM]);
    assert_eq!(b.peer().unwrap().common.ids, vec![app::SWM]);
    assert!(a.peer().unwrap().supports(app::SWM) && !a.peer().unwrap().supports(app::S6B));
}

#[test]
fn unknown_peer_gets_3010_with_e_bit() {
    let now = Instant::now();
    let mut a = Conn::initiator(
        ident("stranger.example", "example", &[app::SWM]),
        cfg(),
        None,
        false,
        1,
        now,
    );
    let mut b = Conn::responder(
        ident("aaa.example", "example", &[app::SWM]),
        cfg(),
        None,
        2,
        now,
    );
    pump(&mut a, &mut b, now);
    events(&mut b);
    let mut table = PeerTable::new("aaa.example", vec![], vec![], now);
    let id = table.alloc_conn_id();
    let p = b.peer().unwrap().clone();
    let CerVerdict::Reject(r) =
        table.on_cer(id, &p.origin_host, &p.origin_realm, p.origin_state_id)
    else {
        panic!("stranger accepted")
    };
    assert_eq!(r.result_code, rc::UNKNOWN_PEER);
    b.reject(r);
    let cea = take_frames(&mut b);
    let m = Message::parse(&cea[0]).unwrap();
    assert_eq!(m.result_code(), Some(3010));
    assert!(m.header.is_error(), "3010 is a protocol error: E bit");
    assert_eq!(
        has_closed(&events(&mut b)),
        Some(CloseReason::CerRejected(3010))
    );
    deliver(&mut a, &cea[0], now);
    assert_eq!(
        has_closed(&events(&mut a)),
        Some(CloseReason::CeaFailed(3010))
    );
}

#[test]
fn no_common_application_gets_5010() {
    let now = Instant::now();
    let mut a = Conn::initiator(
        ident("gw.example", "example", &[app::S6B]),
        cfg(),
        None,
        false,
        1,
        now,
    );
    let mut b = Conn::responder(
        ident("aaa.example", "example", &[app::SWM]),
        cfg(),
        None,
        2,
        now,
    );
    pump(&mut a, &mut b, now);
    events(&mut b);
    b.accept(false, now);
    let cea = take_frames(&mut b);
    let m = Message::parse(&cea[0]).unwrap();
    assert_eq!(m.result_code(), Some(rc::NO_COMMON_APPLICATION));
    assert!(!m.header.is_error());
    assert_eq!(
        has_closed(&events(&mut b)),
        Some(CloseReason::NoCommonApplication)
    );
    deliver(&mut a, &cea[0], now);
    assert_eq!(
        has_closed(&events(&mut a)),
        Some(CloseReason::CeaFailed(5010))
    );
}

#[test]
fn relay_matches_every_application() {
    let now = Instant::now();
    // freeDiameter without applications advertises Relay.
    let mut a = Conn::initiator(
        ident("fd.example", "example", &[app::RELAY]),
        cfg(),
        None,
        false,
        1,
        now,
    );
    let mut b = Conn::responder(
        ident("aaa.example", "example", &[app::SWM, app::S6B]),
        cfg(),
        None,
        2,
        now,
    );
    pump(&mut a, &mut b, now);
    b.accept(false, now);
    pump(&mut a, &mut b, now);
    assert_eq!(b.state(), State::Open);
    assert!(b.peer().unwrap().supports(app::SWM) && b.peer().unwrap().supports(app::S6B));
    assert!(a.peer().unwrap().supports(app::SWM));
    let s = AppSet {
        relay: true,
        ids: vec![],
    };
    assert!(s.intersect(&s).relay);
}

fn raw_cer(avps: Vec<AvpRepr<'_>>, proxiable: bool) -> Vec<u8> {
    let mut m = MessageRepr::request(commands::CAPABILITIES_EXCHANGE, 0)
        .hop_by_hop(9)
        .end_to_end(9);
    if proxiable {
        m.header.flags |= 0x40;
    }
    m.avps = avps;
    m.to_vec().unwrap()
}

fn cer_answer(
    avps: Vec<AvpRepr<'_>>,
    proxiable: bool,
) -> (u32, bool, Option<Vec<u8>>, Option<CloseReason>) {
    let now = Instant::now();
    let mut b = Conn::responder(
        ident("aaa.example", "example", &[app::SWM]),
        cfg(),
        None,
        2,
        now,
    );
    let f = raw_cer(avps, proxiable);
    deliver(&mut b, &f, now);
    let out = take_frames(&mut b);
    let m = Message::parse(&out[0]).unwrap();
    let failed = m.get(&dict::FAILED_AVP).map(|a| a.data().to_vec());
    (
        m.result_code().unwrap(),
        m.header.is_error(),
        failed,
        has_closed(&events(&mut b)),
    )
}

fn good_cer_avps<'a>() -> Vec<AvpRepr<'a>> {
    vec![
        AvpRepr::utf8(&dict::ORIGIN_HOST, "x.example"),
        AvpRepr::utf8(&dict::ORIGIN_REALM, "example"),
        AvpRepr::ip(&dict::HOST_IP_ADDRESS, IpAddr::V4(Ipv4Addr::LOCALHOST)),
        AvpRepr::u32(&dict::VENDOR_ID, 0),
        AvpRepr::utf8(&dict::PRODUCT_NAME, "x"),
        AvpRepr::u32(&dict::AUTH_APPLICATION_ID, app::SWM),
    ]
}

#[test]
fn bad_cers_get_their_result_codes() {
    // Missing Origin-Host: 5005, Failed-AVP an Origin-Host with an empty value.
    let mut v = good_cer_avps();
    v.remove(0);
    let (code, e, failed, closed) = cer_answer(v, false);
    assert_eq!((code, e), (rc::MISSING_AVP, false));
    let f = failed.unwrap();
    assert_eq!(&f[..4], &264u32.to_be_bytes());
    assert_eq!(closed, Some(CloseReason::CerRejected(5005)));
    // Two Origin-Hosts: 5009 naming the second.
    let mut v = good_cer_avps();
    v.insert(1, AvpRepr::utf8(&dict::ORIGIN_HOST, "y.example"));
    let (code, _, failed, _) = cer_answer(v, false);
    assert_eq!(code, rc::AVP_OCCURS_TOO_MANY_TIMES);
    assert!(failed.unwrap().windows(9).any(|w| w == b"y.example"));
    // P bit: 3008 with the E bit.
    let (code, e, _, _) = cer_answer(good_cer_avps(), true);
    assert_eq!((code, e), (rc::INVALID_HDR_BITS, true));
    // Only in-band TLS: 5017.
    let mut v = good_cer_avps();
    v.push(AvpRepr::u32(&dict::INBAND_SECURITY_ID_AVP, 1));
    assert_eq!(cer_answer(v, false).0, rc::NO_COMMON_SECURITY);
    // An unknown AVP with the M bit: 5001.
    let mut v = good_cer_avps();
    v.push(AvpRepr::raw(99999, None, 0x40, b"\0\0\0\x01"));
    let (code, _, failed, _) = cer_answer(v, false);
    assert_eq!(code, rc::AVP_UNSUPPORTED);
    assert_eq!(&failed.unwrap()[..4], &99999u32.to_be_bytes());
}

#[test]
fn request_answer_matching_and_timeout() {
    let t0 = Instant::now();
    let (mut a, mut b) = open_pair(t0);
    let req = MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
        .end_to_end(0x1234)
        .with(AvpRepr::utf8(&dict::SESSION_ID, "s;1"))
        .with(AvpRepr::utf8(&dict::ORIGIN_HOST, "epdg.example"))
        .with(AvpRepr::utf8(&dict::ORIGIN_REALM, "example"))
        .with(AvpRepr::utf8(&dict::DESTINATION_REALM, "example"))
        .to_vec()
        .unwrap();
    let h1 = a.send_request(&req, 100, t0).unwrap();
    let h2 = a.send_request(&req, 200, t0).unwrap();
    assert_ne!(h1, h2);
    assert_eq!(a.pending_len(), 2);
    let frames = take_frames(&mut a);
    let Got::Request { cmd, hbh } = deliver(&mut b, &frames[1], t0) else {
        panic!()
    };
    assert_eq!((cmd, hbh), (commands::DIAMETER_EAP, h2));
    let m = Message::parse(&frames[1]).unwrap();
    assert_eq!(m.header.end_to_end, 0x1234, "end-to-end kept");
    let mut ans = MessageRepr::answer_to(&m);
    ans.push(AvpRepr::u32(&dict::RESULT_CODE, 2001));
    b.send_answer(&ans.to_vec().unwrap());
    let (ga, _) = pump(&mut a, &mut b, t0);
    assert_eq!(
        ga,
        vec![Got::Answer {
            token: 200,
            result: Some(2001)
        }]
    );
    // The same answer again: no pending request any more.
    deliver(&mut a, &ans.to_vec().unwrap(), t0);
    assert!(events(&mut a)
        .iter()
        .any(|e| matches!(e, Event::UnknownAnswer { hop_by_hop, .. } if *hop_by_hop == h2)));
    // Request 100 times out after request_timeout.
    let t = a.poll_timeout().unwrap();
    assert_eq!(t, t0 + Duration::from_secs(4));
    a.handle_timeout(t);
    assert!(matches!(
        events(&mut a).as_slice(),
        [Event::RequestTimeout(100)]
    ));
    assert_eq!(a.pending_len(), 0);
}

#[test]
fn malformed_requests_are_answered_and_the_connection_keeps_working() {
    let t0 = Instant::now();
    let (mut a, mut b) = open_pair(t0);
    let good = MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
        .hop_by_hop(77)
        .with(AvpRepr::utf8(&dict::SESSION_ID, "s;2"))
        .with(AvpRepr::utf8(&dict::ORIGIN_HOST, "epdg.example"))
        .with(AvpRepr::u32(&dict::AUTH_APPLICATION_ID, app::SWM))
        .to_vec()
        .unwrap();
    let answer_of = |b: &mut Conn, f: &[u8]| {
        assert_eq!(deliver(b, f, t0), Got::Nothing);
        let out = take_frames(b);
        assert_eq!(out.len(), 1);
        let m = Message::parse(&out[0]).unwrap();
        assert_eq!(m.header.hop_by_hop, 77);
        assert_eq!(m.session_id(), Some("s;2"));
        (
            m.result_code().unwrap(),
            m.header.is_error(),
            m.get(&dict::FAILED_AVP).map(|a| a.data().to_vec()),
        )
    };
    // Auth-Application-Id (Unsigned32) with 3 bytes of data: 5014, Failed-AVP holds it.
    let mut bad = good.clone();
    let at = bad.len() - 12;
    assert_eq!(&bad[at..at + 4], &258u32.to_be_bytes());
    bad[at + 7] = 13;
    let (code, e, failed) = answer_of(&mut b, &bad);
    assert_eq!((code, e), (rc::INVALID_AVP_LENGTH, false));
    assert_eq!(&failed.unwrap()[..4], &258u32.to_be_bytes());
    // E bit in a request: 3008, answered with E.
    let mut bad = good.clone();
    bad[4] |= 0x20;
    assert_eq!(answer_of(&mut b, &bad), (rc::INVALID_HDR_BITS, true, None));
    // A reserved AVP flag bit: 3009 with the AVP.
    let mut bad = good.clone();
    bad[at + 4] |= 0x01;
    let (code, e, failed) = answer_of(&mut b, &bad);
    assert_eq!((code, e), (rc::INVALID_AVP_BITS, true));
    assert_eq!(&failed.unwrap()[..4], &258u32.to_be_bytes());
    // Version 2: 5011.
    let mut bad = good.clone();
    bad[0] = 2;
    assert_eq!(answer_of(&mut b, &bad).0, rc::UNSUPPORTED_VERSION);
    // An unknown command of the common application: 3001.
    let mut bad = good.clone();
    bad[5..8].copy_from_slice(&[0, 0x03, 0xe7]);
    bad[8..12].copy_from_slice(&[0; 4]);
    assert_eq!(
        answer_of(&mut b, &bad),
        (rc::COMMAND_UNSUPPORTED, true, None)
    );
    // Rejections are reported for the log, and the good request still gets through.
    let ev = events(&mut b);
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, Event::Rejected { .. }))
            .count(),
        5
    );
    assert!(matches!(
        deliver(&mut b, &good, t0),
        Got::Request { hbh: 77, .. }
    ));
    assert_eq!(b.state(), State::Open);
    let _ = &mut a;
}

#[test]
fn malformed_answer_goes_to_its_waiter() {
    let t0 = Instant::now();
    let (mut a, mut b) = open_pair(t0);
    let req = MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
        .to_vec()
        .unwrap();
    let h = a.send_request(&req, 5, t0).unwrap();
    take_frames(&mut a);
    let mut ans = MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
        .hop_by_hop(h)
        .with(AvpRepr::u32(&dict::RESULT_CODE, 2001))
        .to_vec()
        .unwrap();
    ans[4] = 0x40;
    ans[27] = 5; // Result-Code length 5
    assert_eq!(
        deliver(&mut a, &ans, t0),
        Got::Malformed {
            token: 5,
            code: rc::INVALID_AVP_LENGTH
        }
    );
    let _ = &mut b;
}

#[test]
fn watchdog_dwr_dwa_then_suspect_failover_and_down() {
    let t0 = Instant::now();
    let (mut a, mut b) = open_pair(t0);
    // First DWR after Tw ± 2 s of silence.
    let t = a.poll_timeout().unwrap();
    assert!(
        t >= t0 + Duration::from_secs(28) && t <= t0 + Duration::from_secs(32),
        "{:?}",
        t - t0
    );
    // b's watchdog timer fires too; run a first so that b sees traffic.
    a.handle_timeout(t);
    let dwr = take_frames(&mut a);
    assert_eq!(
        Message::parse(&dwr[0]).unwrap().header.command_code,
        commands::DEVICE_WATCHDOG
    );
    deliver(&mut b, &dwr[0], t);
    let dwa = take_frames(&mut b);
    assert_eq!(Message::parse(&dwa[0]).unwrap().result_code(), Some(2001));
    deliver(&mut a, &dwa[0], t);
    assert_eq!(a.watchdog_state(), WatchdogState::Okay);
    // A pending request, then the peer goes silent: DWR, no DWA within Tw: SUSPECT.
    let req = MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
        .to_vec()
        .unwrap();
    let mut c = cfg();
    c.request_timeout = Duration::from_secs(3600);
    let _ = c;
    a.send_request(&req, 42, t).unwrap();
    take_frames(&mut a);
    let t1 = a.poll_timeout().unwrap();
    let t1 = t1.max(t + Duration::from_secs(5));
    a.handle_timeout(t1);
    // The request timeout (4 s) came first: handle it, then the watchdog.
    let mut now = t1;
    let mut saw_dwr = false;
    let mut saw_suspect = false;
    let mut closed = None;
    for _ in 0..10 {
        for f in take_frames(&mut a) {
            saw_dwr |= Message::parse(&f).unwrap().header.command_code == commands::DEVICE_WATCHDOG;
        }
        for e in events(&mut a) {
            match e {
                Event::Usable(false) => saw_suspect = true,
                Event::Closed(r) => closed = Some(r),
                _ => {}
            }
        }
        if closed.is_some() {
            break;
        }
        now = a.poll_timeout().unwrap();
        a.handle_timeout(now);
    }
    assert!(saw_dwr && saw_suspect);
    assert_eq!(closed, Some(CloseReason::Watchdog));
    // DWR at ~Tw, SUSPECT at ~2 Tw, DOWN at ~3 Tw after the last traffic.
    let since = now - t;
    assert!(
        since >= Duration::from_secs(84) && since <= Duration::from_secs(96),
        "{since:?}"
    );
}

#[test]
fn watchdog_failover_of_pending_requests_and_failback() {
    let t0 = Instant::now();
    let mut c = cfg();
    c.request_timeout = Duration::from_secs(1000);
    let mut a = Conn::initiator(
        ident("epdg.example", "example", &[app::SWM]),
        c,
        None,
        false,
        1,
        t0,
    );
    let mut b = Conn::responder(
        ident("aaa.example", "example", &[app::SWM]),
        cfg(),
        None,
        2,
        t0,
    );
    pump(&mut a, &mut b, t0);
    b.accept(false, t0);
    pump(&mut a, &mut b, t0);
    events(&mut a);
    let req = MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
        .to_vec()
        .unwrap();
    a.send_request(&req, 1, t0).unwrap();
    a.send_request(&req, 2, t0).unwrap();
    take_frames(&mut a);
    let t1 = a.poll_timeout().unwrap();
    a.handle_timeout(t1); // DWR
    take_frames(&mut a);
    let t2 = a.poll_timeout().unwrap();
    a.handle_timeout(t2); // SUSPECT
    let ev = events(&mut a);
    let mut failed: Vec<u32> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Failover(t) => Some(*t),
            _ => None,
        })
        .collect();
    failed.sort();
    assert_eq!(failed, vec![1, 2]);
    assert!(ev.iter().any(|e| matches!(e, Event::Usable(false))));
    assert_eq!(a.watchdog_state(), WatchdogState::Suspect);
    assert!(
        a.send_request(&req, 3, t2).is_err(),
        "no requests while SUSPECT"
    );
    // Any message from the peer: failback.
    b.handle_timeout(b.poll_timeout().unwrap().max(t2));
    let dwr = take_frames(&mut b);
    deliver(&mut a, &dwr[0], t2 + Duration::from_secs(1));
    assert_eq!(a.watchdog_state(), WatchdogState::Okay);
    assert!(events(&mut a)
        .iter()
        .any(|e| matches!(e, Event::Usable(true))));
    assert!(a.send_request(&req, 3, t2).is_ok());
}

#[test]
fn reopen_needs_three_dwas() {
    let t0 = Instant::now();
    let mut a = Conn::initiator(
        ident("epdg.example", "example", &[app::SWM]),
        cfg(),
        None,
        true,
        1,
        t0,
    );
    let mut b = Conn::responder(
        ident("aaa.example", "example", &[app::SWM]),
        cfg(),
        None,
        2,
        t0,
    );
    pump(&mut a, &mut b, t0);
    b.accept(false, t0);
    pump(&mut a, &mut b, t0); // CEA, then a's first DWR and b's DWA
    assert_eq!(a.state(), State::Open);
    assert_eq!(a.watchdog_state(), WatchdogState::Reopen);
    assert!(!a.is_usable());
    // A request from b is thrown away in REOPEN.
    let req = MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
        .to_vec()
        .unwrap();
    b.send_request(&req, 9, t0).unwrap();
    let (ga, _) = pump(&mut a, &mut b, t0);
    assert_eq!(ga, vec![Got::Nothing]);
    for _ in 0..2 {
        let now = a.poll_timeout().unwrap();
        a.handle_timeout(now);
        pump(&mut a, &mut b, now);
    }
    assert_eq!(a.watchdog_state(), WatchdogState::Okay);
    assert!(a.is_usable());
    assert!(events(&mut a)
        .iter()
        .any(|e| matches!(e, Event::Usable(true))));
}

#[test]
fn dpr_dpa() {
    let t0 = Instant::now();
    let (mut a, mut b) = open_pair(t0);
    let req = MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
        .to_vec()
        .unwrap();
    b.send_request(&req, 11, t0).unwrap();
    take_frames(&mut b);
    a.disconnect(DisconnectCause::DoNotWantToTalkToYou, t0);
    assert_eq!(a.state(), State::Closing);
    let dpr = take_frames(&mut a);
    let m = Message::parse(&dpr[0]).unwrap();
    assert_eq!(m.header.command_code, commands::DISCONNECT_PEER);
    assert_eq!(
        m.get(&dict::DISCONNECT_CAUSE_AVP)
            .unwrap()
            .enumerated()
            .unwrap(),
        2
    );
    deliver(&mut b, &dpr[0], t0);
    let ev = events(&mut b);
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::DprReceived(DisconnectCause::DoNotWantToTalkToYou))));
    assert!(
        ev.iter().any(|e| matches!(e, Event::Failover(11))),
        "pending requests fail over on DPR"
    );
    assert_eq!(b.state(), State::Closing);
    let dpa = take_frames(&mut b);
    assert_eq!(Message::parse(&dpa[0]).unwrap().result_code(), Some(2001));
    deliver(&mut a, &dpa[0], t0);
    assert_eq!(
        has_closed(&events(&mut a)),
        Some(CloseReason::Disconnected {
            cause: DisconnectCause::DoNotWantToTalkToYou,
            by_peer: false
        })
    );
    b.transport_closed();
    assert_eq!(
        has_closed(&events(&mut b)),
        Some(CloseReason::Disconnected {
            cause: DisconnectCause::DoNotWantToTalkToYou,
            by_peer: true
        })
    );
}

#[test]
fn dpr_without_dpa_times_out() {
    let t0 = Instant::now();
    let (mut a, _b) = open_pair(t0);
    a.disconnect(DisconnectCause::Rebooting, t0);
    let t = a.poll_timeout().unwrap();
    assert_eq!(t, t0 + Duration::from_secs(5));
    a.handle_timeout(t);
    assert!(matches!(
        has_closed(&events(&mut a)),
        Some(CloseReason::Disconnected { by_peer: false, .. })
    ));
}

#[test]
fn capabilities_timeout_and_premature_requests() {
    let t0 = Instant::now();
    let mut b = Conn::responder(
        ident("aaa.example", "example", &[app::SWM]),
        cfg(),
        None,
        2,
        t0,
    );
    assert_eq!(b.poll_timeout(), Some(t0 + Duration::from_secs(10)));
    b.handle_timeout(t0 + Duration::from_secs(10));
    assert_eq!(
        has_closed(&events(&mut b)),
        Some(CloseReason::CapabilitiesTimeout)
    );
    let mut b = Conn::responder(
        ident("aaa.example", "example", &[app::SWM]),
        cfg(),
        None,
        2,
        t0,
    );
    let req = MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
        .to_vec()
        .unwrap();
    deliver(&mut b, &req, t0);
    assert!(matches!(
        has_closed(&events(&mut b)),
        Some(CloseReason::Protocol(_))
    ));
}

#[test]
fn peer_table_reconnect_hold_and_reopen() {
    let t0 = Instant::now();
    let tc = Duration::from_secs(30);
    let mut t = PeerTable::new(
        "aaa.example",
        vec![PeerConfig {
            host: "hss.example".into(),
            realm: Some("example".into()),
            connect: true,
            tc,
        }],
        vec![],
        t0,
    );
    let (id, host, reopen) = t.poll_connect(t0).unwrap();
    assert_eq!((host.as_str(), reopen), ("hss.example", false));
    assert!(t.poll_connect(t0).is_none());
    t.connect_failed(id, t0);
    assert_eq!(t.poll_timeout(), Some(t0 + tc));
    assert!(t.poll_connect(t0 + tc - Duration::from_millis(1)).is_none());
    let (id, _, _) = t.poll_connect(t0 + tc).unwrap();
    assert!(t.on_open(id, Some(1)));
    assert_eq!(t.open_conn("HSS.example"), Some(id));
    // Watchdog failure: reconnect after Tc, in REOPEN.
    t.on_closed(id, &CloseReason::Watchdog, t0 + tc);
    let (id, _, reopen) = t.poll_connect(t0 + tc * 2).unwrap();
    assert!(reopen);
    t.on_open(id, Some(1));
    // The peer says DO_NOT_WANT_TO_TALK_TO_YOU: held off for dpr_hold.
    let dnw = CloseReason::Disconnected {
        cause: DisconnectCause::DoNotWantToTalkToYou,
        by_peer: true,
    };
    t.on_closed(id, &dnw, t0);
    assert_eq!(t.poll_timeout(), Some(t0 + t.dpr_hold));
    let (id, _, reopen) = t.poll_connect(t0 + t.dpr_hold).unwrap();
    assert!(!reopen);
    t.on_open(id, None);
    let reboot = CloseReason::Disconnected {
        cause: DisconnectCause::Rebooting,
        by_peer: true,
    };
    t.on_closed(id, &reboot, t0);
    assert_eq!(t.poll_timeout(), Some(t0 + t.reboot_hold));
    // Our own DPR: no reconnection.
    let (id, _, _) = t.poll_connect(t0 + t.reboot_hold).unwrap();
    t.on_open(id, None);
    t.on_closed(
        id,
        &CloseReason::Disconnected {
            cause: DisconnectCause::Rebooting,
            by_peer: false,
        },
        t0,
    );
    assert_eq!(t.poll_timeout(), None);
}

#[test]
fn peer_table_acceptance_and_election() {
    let t0 = Instant::now();
    let tc = Duration::from_secs(30);
    let mut t = PeerTable::new(
        "m.example",
        vec![
            PeerConfig {
                host: "a.example".into(),
                realm: Some("example".into()),
                connect: true,
                tc,
            },
            PeerConfig {
                host: "z.example".into(),
                realm: None,
                connect: true,
                tc,
            },
        ],
        vec![AllowRule {
            host: Some("*.visited.example".into()),
            realm: None,
        }],
        t0,
    );
    // Unknown: 3010. Wrong realm: 3010. Allowed by pattern: accepted, forgotten on close.
    let id = t.alloc_conn_id();
    assert!(
        matches!(t.on_cer(id, "x.other", "other", None), CerVerdict::Reject(r) if r.result_code == rc::UNKNOWN_PEER)
    );
    assert!(
        matches!(t.on_cer(id, "a.example", "wrong", None), CerVerdict::Reject(r) if r.result_code == rc::UNKNOWN_PEER)
    );
    assert_eq!(
        t.on_cer(id, "aaa.visited.example", "visited.example", None),
        CerVerdict::Accept { reopen: false }
    );
    assert!(!AllowRule {
        host: Some("*.visited.example".into()),
        realm: None
    }
    .matches("visited.example", "x"));
    t.on_closed(id, &CloseReason::TransportClosed, t0);
    assert_eq!(t.open_conn("aaa.visited.example"), None);
    assert_eq!(t.status().len(), 2);
    // Simultaneous connections: we connect to both while both connect to us.
    let (ca, _, _) = t.poll_connect(t0).unwrap();
    let (cz, _, _) = t.poll_connect(t0).unwrap();
    let ra = t.alloc_conn_id();
    let rz = t.alloc_conn_id();
    // "m.example" > "a.example": we win, keep the responder side, close ours.
    assert_eq!(
        t.on_cer(ra, "a.example", "example", None),
        CerVerdict::AcceptAndClose {
            reopen: false,
            close: ca
        }
    );
    assert!(!t.on_open(ca, None), "the losing connection is not wanted");
    // "m.example" < "z.example": we lose; our connection stays.
    assert!(
        matches!(t.on_cer(rz, "z.example", "example", None), CerVerdict::Reject(r) if r.result_code == rc::ELECTION_LOST)
    );
    assert!(t.on_open(cz, None));
    // Already open: refused, unless the peer restarted (new Origin-State-Id).
    let r2 = t.alloc_conn_id();
    assert!(matches!(
        t.on_cer(r2, "z.example", "example", None),
        CerVerdict::Reject(_)
    ));
    assert_eq!(
        t.on_cer(r2, "z.example", "example", Some(99)),
        CerVerdict::AcceptAndClose {
            reopen: false,
            close: cz
        }
    );
    assert!(
        matches!(t.status().iter().find(|s| s.host == "z.example").unwrap().slot, PeerSlot::Open(x) if x == r2)
    );
}

#[test]
fn duplicate_detection() {
    let t0 = Instant::now();
    let mut d: DuplicateCache<&'static str> = DuplicateCache::new(Duration::from_secs(10), 3);
    assert_eq!(d.begin("c.example", 1, t0), DupStatus::New);
    assert_eq!(d.begin("c.example", 1, t0), DupStatus::InProgress);
    d.complete("c.example", 1, "answer-1");
    assert_eq!(d.begin("c.example", 1, t0), DupStatus::Answered("answer-1"));
    // Same end-to-end id from another host is another request.
    assert_eq!(d.begin("d.example", 1, t0), DupStatus::New);
    d.abandon("d.example", 1);
    assert_eq!(d.begin("d.example", 1, t0), DupStatus::New);
    // Window.
    assert_eq!(
        d.begin("c.example", 1, t0 + Duration::from_secs(11)),
        DupStatus::New
    );
    // Capacity: the oldest leaves first.
    let t1 = t0 + Duration::from_secs(30);
    for e in 10..14 {
        assert_eq!(d.begin("c.example", e, t1), DupStatus::New);
    }
    assert_eq!(d.begin("c.example", 10, t1), DupStatus::New);
    assert!(d.len() <= 4);
    // An idle cache: a sweep empties it after the window and gives the room back.
    let mut idle: DuplicateCache<u32> = DuplicateCache::new(Duration::from_secs(10), 100_000);
    for e in 0..10_000 {
        assert_eq!(idle.begin("c.example", e, t0), DupStatus::New);
        idle.complete("c.example", e, e);
    }
    let full = idle.allocated();
    assert!(full >= 20_000, "{full}");
    idle.sweep(t0 + Duration::from_secs(5));
    assert_eq!(idle.len(), 10_000, "inside the window nothing leaves");
    assert_eq!(
        idle.begin("c.example", 7, t0 + Duration::from_secs(5)),
        DupStatus::Answered(7)
    );
    idle.sweep(t0 + Duration::from_secs(11));
    assert_eq!(idle.len(), 0);
    assert!(
        idle.allocated() < full / 10,
        "{} of {full}",
        idle.allocated()
    );
    assert_eq!(
        idle.begin("c.example", 7, t0 + Duration::from_secs(11)),
        DupStatus::New
    );
    let mut off: DuplicateCache<u8> = DuplicateCache::new(Duration::from_secs(10), 0);
    assert_eq!(off.begin("c", 1, t0), DupStatus::New);
    assert_eq!(off.begin("c", 1, t0), DupStatus::New);
}

struct Peers(Vec<(&'static str, u32)>);
impl PeerView for Peers {
    fn usable(&self, host: &str, app: u32) -> bool {
        self.0
            .iter()
            .any(|(h, a)| h.eq_ignore_ascii_case(host) && *a == app)
    }
}

fn request(avps: Vec<AvpRepr<'_>>, app_id: u32) -> Vec<u8> {
    let mut m = MessageRepr::request(commands::DIAMETER_EAP, app_id)
        .hop_by_hop(5)
        .end_to_end(6);
    m.avps = avps;
    m.to_vec().unwrap()
}

#[test]
fn routing_decisions() {
    let mut table = RouteTable::new("vaaa.visited", "visited");
    table.routes.push(Route {
        realm: "home".into(),
        app: Some(app::SWM),
        action: RouteAction::Proxy(vec!["haaa1.home".into(), "haaa2.home".into()]),
    });
    table.routes.push(Route {
        realm: "home".into(),
        app: None,
        action: RouteAction::Relay(vec!["haaa2.home".into()]),
    });
    table.routes.push(Route {
        realm: "visited".into(),
        app: Some(app::S6B),
        action: RouteAction::Relay(vec!["dra.visited".into()]),
    });
    let local = AppSet {
        relay: false,
        ids: vec![app::SWM],
    };
    let peers = Peers(vec![
        ("haaa1.home", app::SWM),
        ("haaa2.home", app::SWM),
        ("haaa2.home", app::S6B),
        ("dra.visited", app::S6B),
    ]);
    let oh = |h: &'static str| AvpRepr::utf8(&dict::ORIGIN_HOST, h);
    let dr = |r: &'static str| AvpRepr::utf8(&dict::DESTINATION_REALM, r);
    let dh = |h: &'static str| AvpRepr::utf8(&dict::DESTINATION_HOST, h);
    let rr = |h: &'static str| AvpRepr::utf8(&dict::ROUTE_RECORD, h);
    let decide_in =
        |table: &RouteTable, avps: Vec<AvpRepr<'_>>, app_id: u32, from: Option<&str>| -> String {
            let b = request(avps, app_id);
            let m = Message::parse(&b).unwrap();
            match table.route(&m, &local, from, &peers) {
                Decision::Local => "local".into(),
                Decision::Forward { peer, proxy } => {
                    format!("{} {peer}", if proxy { "proxy" } else { "relay" })
                }
                Decision::Reject(r) => format!(
                    "{} {}",
                    r.result_code,
                    if rc::is_protocol_error(r.result_code) {
                        "E"
                    } else {
                        ""
                    }
                ),
            }
        };
    let decide = |avps: Vec<AvpRepr<'_>>, app_id: u32, from: Option<&str>| {
        decide_in(&table, avps, app_id, from)
    };
    assert_eq!(
        decide(
            vec![oh("epdg.visited"), dr("visited")],
            app::SWM,
            Some("epdg.visited")
        ),
        "local"
    );
    assert_eq!(
        decide(
            vec![oh("epdg.visited"), dr("visited")],
            app::NASREQ,
            Some("epdg.visited")
        ),
        "3007 E"
    );
    assert_eq!(
        decide(
            vec![oh("gw.visited"), dr("visited")],
            app::S6B,
            Some("gw.visited")
        ),
        "relay dra.visited"
    );
    assert_eq!(
        decide(
            vec![oh("epdg.visited"), dr("home")],
            app::SWM,
            Some("epdg.visited")
        ),
        "proxy haaa1.home"
    );
    assert_eq!(
        decide(
            vec![oh("epdg.visited"), dr("home")],
            app::S6B,
            Some("epdg.visited")
        ),
        "relay haaa2.home"
    );
    // Destination-Host that is a usable peer: direct, still a proxy for SWm to home.
    assert_eq!(
        decide(
            vec![oh("epdg.visited"), dr("home"), dh("haaa2.home")],
            app::SWM,
            Some("epdg.visited")
        ),
        "proxy haaa2.home"
    );
    assert_eq!(
        decide(
            vec![oh("epdg.visited"), dr("home"), dh("vaaa.visited")],
            app::SWM,
            Some("epdg.visited")
        ),
        "local"
    );
    // A peer already in Route-Record is skipped; our own identity there is a loop.
    assert_eq!(
        decide(
            vec![oh("epdg.visited"), dr("home"), rr("haaa1.home")],
            app::SWM,
            Some("epdg.visited")
        ),
        "proxy haaa2.home"
    );
    assert_eq!(
        decide(
            vec![oh("x.home"), dr("home"), rr("vaaa.visited")],
            app::SWM,
            Some("haaa1.home")
        ),
        "3005 E"
    );
    // Unknown realm: 3003; no usable peer: 3002; both protocol errors.
    assert_eq!(
        decide(
            vec![oh("epdg.visited"), dr("elsewhere")],
            app::SWM,
            Some("epdg.visited")
        ),
        "3003 E"
    );
    assert_eq!(
        decide(
            vec![oh("epdg.visited"), dr("home")],
            app::NASREQ,
            Some("epdg.visited")
        ),
        "3002 E"
    );
    // Default route.
    let mut table = table.clone();
    table.default = Some(RouteAction::Relay(vec!["haaa2.home".into()]));
    let decide = |avps: Vec<AvpRepr<'_>>, app_id: u32, from: Option<&str>| {
        decide_in(&table, avps, app_id, from)
    };
    assert_eq!(
        decide(
            vec![oh("epdg.visited"), dr("elsewhere")],
            app::S6B,
            Some("epdg.visited")
        ),
        "relay haaa2.home"
    );
    // Our own realm, an application we do not serve: the default route's peers.
    assert_eq!(
        decide(
            vec![oh("epdg.visited"), dr("visited")],
            app::S6B,
            Some("epdg.visited")
        ),
        "relay dra.visited"
    );
    assert_eq!(
        decide(vec![oh("epdg.visited"), dr("visited")], app::NASREQ, None),
        "3002 E"
    );
    // A request is never sent back to where it came from.
    assert_eq!(
        decide(vec![oh("x.home"), dr("home")], app::S6B, Some("haaa2.home")),
        "3002 E"
    );
    // Locally originated: no loop check against Route-Record, same routes.
    assert_eq!(
        decide(vec![oh("vaaa.visited"), dr("home")], app::SWM, None),
        "proxy haaa1.home"
    );
}

#[test]
fn forwarding_adds_route_record() {
    let b = request(
        vec![
            AvpRepr::utf8(&dict::SESSION_ID, "s"),
            AvpRepr::utf8(&dict::ORIGIN_HOST, "epdg.visited"),
        ],
        app::SWM,
    );
    let mut out = vec![0xaa];
    forward_request(&b, "epdg.visited", &mut out);
    let m = Message::parse(&out[1..]).unwrap();
    let last = m.avps().last().unwrap();
    assert!(last.is(&dict::ROUTE_RECORD));
    assert_eq!(last.utf8().unwrap(), "epdg.visited");
    assert!(last.is_mandatory());
    assert_eq!(m.header, Message::parse(&b).unwrap().header);
}

#[test]
fn avp_rules() {
    let b = request(
        vec![
            AvpRepr::utf8(&dict::SESSION_ID, "s"),
            AvpRepr::utf8(&dict::USER_NAME, "u"),
            AvpRepr::utf8(&dict::USER_NAME, "v"),
        ],
        app::SWM,
    );
    let m = Message::parse(&b).unwrap();
    let r = check_avps(
        &m,
        &[
            AvpRule::required(&dict::SESSION_ID),
            AvpRule::not_allowed(&dict::USER_NAME),
        ],
    )
    .unwrap_err();
    assert_eq!(r.result_code, rc::AVP_NOT_ALLOWED);
    let r = check_avps(&m, &[AvpRule::optional(&dict::USER_NAME)]).unwrap_err();
    assert_eq!(r.result_code, rc::AVP_OCCURS_TOO_MANY_TIMES);
    assert!(r.failed_avp.unwrap().ends_with(b"v\0\0\0"));
    let r = check_avps(&m, &[AvpRule::required(&dict::ORIGIN_HOST)]).unwrap_err();
    assert_eq!(r.result_code, rc::MISSING_AVP);
    assert!(check_avps(
        &m,
        &[
            AvpRule::any(&dict::USER_NAME),
            AvpRule::required(&dict::SESSION_ID)
        ]
    )
    .is_ok());
}

#[test]
fn result_code_scan() {
    let b = request(
        vec![
            AvpRepr::utf8(&dict::SESSION_ID, "abc"),
            AvpRepr::u32(&dict::RESULT_CODE, 5005),
        ],
        app::SWM,
    );
    assert_eq!(super::rules::scan_result_code(&b), Some(5005));
    let b = request(vec![AvpRepr::utf8(&dict::SESSION_ID, "abc")], app::SWM);
    assert_eq!(super::rules::scan_result_code(&b), None);
    assert_eq!(super::rules::scan_result_code(&b[..22]), None);
}

#[test]
fn proxy_hop_by_hop_mapping() {
    // client ── (c, pa) ── proxy ── (pb, s) ── server, all engines in memory.
    let t0 = Instant::now();
    let (mut c, mut pa) = open_pair(t0);
    let (mut pb, mut s) = open_pair(t0);
    let req = MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
        .end_to_end(0xe2e)
        .with(AvpRepr::utf8(&dict::SESSION_ID, "s;9"))
        .with(AvpRepr::utf8(&dict::ORIGIN_HOST, "epdg.example"))
        .to_vec()
        .unwrap();
    let hc = c.send_request(&req, 1, t0).unwrap();
    let f = take_frames(&mut c);
    // The proxy receives it on pa and forwards it on pb under its own Hop-by-Hop Identifier,
    // remembering the client's (the token).
    let Received::Request(m) = pa.handle_frame(&f[0], t0) else {
        panic!()
    };
    assert_eq!(m.header.hop_by_hop, hc);
    let mut fwd = Vec::new();
    forward_request(&f[0], "epdg.example", &mut fwd);
    pb.send_request(&req, 999, t0).unwrap(); // another request first: a different id
    take_frames(&mut pb);
    let hp = pb.send_request(&fwd, hc, t0).unwrap();
    assert_ne!(hp, hc);
    let f = take_frames(&mut pb);
    let Received::Request(m) = s.handle_frame(&f[0], t0) else {
        panic!()
    };
    assert_eq!(m.header.hop_by_hop, hp);
    assert_eq!(m.header.end_to_end, 0xe2e);
    let mut ans = MessageRepr::answer_to(&m);
    ans.push(AvpRepr::u32(&dict::RESULT_CODE, 2001));
    s.send_answer(&ans.to_vec().unwrap());
    let f = take_frames(&mut s);
    let Received::Answer(orig, m) = pb.handle_frame(&f[0], t0) else {
        panic!()
    };
    assert_eq!((orig, m.header.hop_by_hop), (hc, hp));
    let mut back = f[0].clone();
    super::router::set_hop_by_hop(&mut back, orig);
    pa.send_answer(&back);
    let f = take_frames(&mut pa);
    assert_eq!(
        deliver(&mut c, &f[0], t0),
        Got::Answer {
            token: 1,
            result: Some(2001)
        }
    );
}

#[test]
fn rejection_text_names_the_field_once() {
    let t0 = Instant::now();
    let (_a, mut b) = open_pair(t0);
    let mut bad = MessageRepr::request(commands::DIAMETER_EAP, app::SWM)
        .with(AvpRepr::u32(&dict::AUTH_APPLICATION_ID, app::SWM))
        .to_vec()
        .unwrap();
    bad[27] = 0xfc;
    deliver(&mut b, &bad, t0);
    let ev = events(&mut b);
    let Some(Event::Rejected { rejection, .. }) = ev.first() else {
        panic!("{ev:?}")
    };
    let line = rejection.to_string();
    assert_eq!(line, "diameter: AVP.length: truncated in AVP Auth-Application-Id (code 258, vendor 0) (Result-Code 5014)");
    let out = take_frames(&mut b);
    let m = Message::parse(&out[0]).unwrap();
    assert_eq!(
        m.get(&dict::ERROR_MESSAGE).unwrap().utf8().unwrap(),
        rejection.reason
    );
}
