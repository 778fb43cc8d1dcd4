#![no_main]
//! The Diameter peer engine on arbitrary input: the bytes are cut into messages by their
//! Message Length (as the node frames a TCP stream) and fed to a fresh responder (before the
//! capabilities exchange) and to an open connection, and the requests it hands on are routed.
//! Properties: no panic, and everything the engine transmits is a valid message (its own
//! answers to garbage included).
use std::sync::Arc;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mobstrap_proto::diameter::{
    AppSet, Connection, ConnectionConfig, LocalIdentity, PeerView, Received, RouteAction,
    RouteTable,
};
use mobstrap_wire::diameter::{app, message::frame_len, Message};

struct AllUp;
impl PeerView for AllUp {
    fn usable(&self, _: &str, _: u32) -> bool {
        true
    }
}

fn check_output(c: &mut Connection<u32>) {
    let out = c.poll_transmit().to_vec();
    let mut b = &out[..];
    while !b.is_empty() {
        let n = frame_len(b).expect("whole messages");
        Message::parse(&b[..n]).expect("the engine emits valid messages");
        b = &b[n..];
    }
    c.advance_transmit(out.len());
    while c.poll_event().is_some() {}
}

fn open_pair(now: Instant) -> Connection<u32> {
    let mut l = LocalIdentity::new("aaa.example", "example");
    l.auth_apps = vec![app::SWM, app::EAP];
    let mut p = l.clone();
    p.origin_host = "peer.example".into();
    let a = Connection::<u32>::initiator(
        Arc::new(p),
        ConnectionConfig::default(),
        None,
        false,
        1,
        now,
    );
    let mut b =
        Connection::<u32>::responder(Arc::new(l), ConnectionConfig::default(), None, 2, now);
    let cer = a.poll_transmit().to_vec();
    let _ = b.handle_frame(&cer, now);
    b.accept(false, now);
    let n = b.poll_transmit().len();
    b.advance_transmit(n);
    while b.poll_event().is_some() {}
    b
}

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let mut l = LocalIdentity::new("aaa.example", "example");
    l.auth_apps = vec![app::SWM];
    let mut fresh =
        Connection::<u32>::responder(Arc::new(l), ConnectionConfig::default(), None, 3, now);
    let mut open = open_pair(now);
    let mut routes = RouteTable::new("aaa.example", "example");
    routes.default = Some(RouteAction::Proxy(vec!["peer.example".into()]));
    let local = AppSet {
        relay: false,
        ids: vec![app::SWM],
    };
    let mut rest = data;
    let mut t = now;
    while let Some(n) = frame_len(rest) {
        if n < 20 || n > rest.len() {
            break;
        }
        let (frame, r) = rest.split_at(n);
        rest = r;
        t += Duration::from_millis(700);
        for c in [&mut fresh, &mut open] {
            if let Received::Request(m) = c.handle_frame(frame, t) {
                let _ = routes.route(&m, &local, Some("peer.example"), &AllUp);
                let mut v = Vec::new();
                mobstrap_proto::diameter::router::forward_request(frame, "peer.example", &mut v);
                Message::parse(&v).expect("forwarding keeps a message valid");
            }
            c.handle_timeout(t);
            check_output(c);
        }
    }
});
