//! One task per transport connection: reads and frames messages (3-byte Message Length,
//! bounded), drives the `Connection` engine, dispatches requests (local application,
//! forwarding, error answers) and answers (client waiters, proxied requests), and writes
//! what the engine queues without ever blocking on a slow peer's socket.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use mobstrap_proto::diameter::conn::set_retransmitted;
use mobstrap_proto::diameter::peers::ConnId;
use mobstrap_proto::diameter::router::{append_route_record, set_hop_by_hop};
use mobstrap_proto::diameter::{
    rc, rules, CerVerdict, CloseReason, Connection, DisconnectCause, DupStatus, Event, Received,
    Rejection, Role, State,
};
use mobstrap_wire::diameter::{commands, dict, message::frame_len, Message};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use super::app::{Answer, Reply, Request, RequestError};
use super::{ConnHandle, Inner, RouteTo};

/// Work for a connection task from elsewhere in the node.
pub(crate) enum Cmd {
    /// Send this request (Hop-by-Hop Identifier assigned here) and route its answer.
    Request { bytes: Bytes, waiter: Waiter },
    /// Send this answer (to a request received on this connection).
    Answer {
        bytes: Vec<u8>,
        dup_key: Option<(Arc<str>, u32)>,
    },
    /// DPR with this cause.
    Disconnect(DisconnectCause),
    /// Close without DPR (an election gave the peer to another connection).
    Close,
}

/// Who waits for the answer to a request this connection sent.
pub(crate) enum Waiter {
    /// The client API.
    Local {
        tx: oneshot::Sender<Result<Answer, RequestError>>,
        retries: u8,
    },
    /// A request proxied from another connection: answer there with its Hop-by-Hop
    /// Identifier.
    Proxy {
        back: mpsc::UnboundedSender<Cmd>,
        hop_by_hop: u32,
        app: u32,
        hook: bool,
        retries: u8,
    },
}

impl Waiter {
    fn retries(&self) -> u8 {
        match self {
            Waiter::Local { retries, .. } | Waiter::Proxy { retries, .. } => *retries,
        }
    }
    fn bump(&mut self) {
        match self {
            Waiter::Local { retries, .. } | Waiter::Proxy { retries, .. } => *retries += 1,
        }
    }
}

/// The engine's token: the waiter and the request as sent (for failover and hooks).
pub(crate) struct Pending {
    waiter: Waiter,
    request: Bytes,
}

/// How many times a request is failed over to another peer before it is given up.
const MAX_FAILOVERS: u8 = 2;
/// A peer that does not read: close when this much is queued for it.
const MAX_QUEUED_OUTPUT: usize = 64 << 20;

pub(crate) fn command_label(code: u32, request: bool) -> &'static str {
    match commands::lookup(code) {
        Some(c) if request => c.request,
        Some(c) => c.answer,
        None => "other",
    }
}

pub(crate) fn result_label(code: Option<u32>) -> &'static str {
    match code {
        None => "none",
        Some(c) => dict::RESULT_CODES
            .iter()
            .find(|(n, _)| *n == c)
            .map(|(_, s)| *s)
            .unwrap_or("other"),
    }
}

struct Task {
    inner: Arc<Inner>,
    id: ConnId,
    engine: Connection<Pending>,
    tx: mpsc::UnboundedSender<Cmd>,
    /// The configured identity we connected to (initiator).
    expected: Option<String>,
    /// The peer's identity once open (key of `open`, lower case) and as presented.
    peer_key: Option<String>,
    peer_host: Arc<str>,
    usable: Arc<AtomicBool>,
    close_reason: Option<CloseReason>,
}

pub(crate) async fn run(
    inner: Arc<Inner>,
    stream: TcpStream,
    id: ConnId,
    expected: Option<String>,
    reopen: bool,
    tx: mpsc::UnboundedSender<Cmd>,
    mut rx: mpsc::UnboundedReceiver<Cmd>,
) {
    let local_ip = stream.local_addr().ok().map(|a| a.ip());
    let peer_addr = stream.peer_addr().ok();
    let now = Instant::now();
    let mut cfg = inner.conn_cfg.clone();
    let engine = match &expected {
        Some(h) => {
            if let Some(tw) = inner.peer_tw.get(&h.to_ascii_lowercase()) {
                cfg.tw = *tw;
            }
            Connection::initiator(
                inner.identity.clone(),
                cfg,
                local_ip,
                reopen,
                Inner::seed(),
                now,
            )
        }
        None => Connection::responder(inner.identity.clone(), cfg, local_ip, Inner::seed(), now),
    };
    let mut t = Task {
        peer_host: Arc::from(expected.as_deref().unwrap_or("")),
        inner,
        id,
        engine,
        tx,
        expected,
        peer_key: None,
        usable: Arc::new(AtomicBool::new(false)),
        close_reason: None,
    };
    let mut rbuf = BytesMut::with_capacity(64 * 1024);
    loop {
        t.process_events();
        if let Err(e) = t.flush(&stream) {
            tracing::debug!(conn = id, error = %e, "diameter write failed");
            t.engine.transport_closed();
            t.process_events();
        }
        if t.engine.state() == State::Closed {
            break;
        }
        if t.engine.poll_transmit().len() > MAX_QUEUED_OUTPUT {
            tracing::warn!(conn = id, peer = %t.peer_host, "diameter peer does not read; closing");
            t.engine.abort(CloseReason::Protocol("peer does not read"));
            continue;
        }
        let deadline = t.engine.poll_timeout().map(tokio::time::Instant::from_std);
        let want_write = !t.engine.poll_transmit().is_empty();
        tokio::select! {
            biased;
            r = stream.readable() => match r {
                Ok(()) => t.read(&stream, &mut rbuf),
                Err(_) => t.engine.transport_closed(),
            },
            c = rx.recv() => {
                if let Some(c) = c {
                    t.on_cmd(c);
                    // Batch what else is queued: one write for many messages.
                    for _ in 0..256 {
                        match rx.try_recv() {
                            Ok(c) => t.on_cmd(c),
                            Err(_) => break,
                        }
                    }
                }
            },
            _ = stream.writable(), if want_write => {},
            _ = async { if let Some(d) = deadline { tokio::time::sleep_until(d).await } }, if deadline.is_some() => {
                t.engine.handle_timeout(Instant::now());
            }
        }
    }
    // What the engine queued last (CEA with an error, DPA) goes out before the close.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
        while !t.engine.poll_transmit().is_empty() {
            if stream.writable().await.is_err() || t.flush(&stream).is_err() {
                break;
            }
        }
    })
    .await;
    drop(stream);
    rx.close();
    t.finish(peer_addr);
    while let Ok(c) = rx.try_recv() {
        if let Cmd::Request { bytes, waiter } = c {
            t.failover(Pending {
                waiter,
                request: bytes,
            });
        }
    }
}

/// The message tap (`crate::trace`), named by our Diameter identity.
fn tap(inner: &Inner, stream: &TcpStream, dir: crate::trace::Direction, bytes: &[u8]) {
    if let (Ok(l), Ok(r)) = (stream.local_addr(), stream.peer_addr()) {
        crate::trace::tcp(&inner.identity.origin_host, dir, l, r, bytes);
    }
}

impl Task {
    fn flush(&mut self, stream: &TcpStream) -> io::Result<()> {
        loop {
            let b = self.engine.poll_transmit();
            if b.is_empty() {
                return Ok(());
            }
            match stream.try_write(b) {
                Ok(n) => {
                    if crate::trace::enabled() {
                        tap(&self.inner, stream, crate::trace::Direction::Sent, &b[..n]);
                    }
                    self.engine.advance_transmit(n)
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    fn read(&mut self, stream: &TcpStream, rbuf: &mut BytesMut) {
        for _ in 0..16 {
            if rbuf.capacity() - rbuf.len() < 16 * 1024 {
                rbuf.reserve(64 * 1024);
            }
            let before = rbuf.len();
            match stream.try_read_buf(rbuf) {
                Ok(0) => {
                    self.engine.transport_closed();
                    return;
                }
                Ok(_) => {
                    if crate::trace::enabled() {
                        let got = &rbuf[before..];
                        tap(&self.inner, stream, crate::trace::Direction::Received, got);
                    }
                    if !self.frames(rbuf) {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.engine.transport_closed();
                    return;
                }
            }
        }
    }

    /// Hands every whole message in `rbuf` to the engine; false when the connection closed.
    fn frames(&mut self, rbuf: &mut BytesMut) -> bool {
        let now = Instant::now();
        while let Some(len) = frame_len(rbuf) {
            if len < 20 || len & 3 != 0 || len > self.inner.max_message_size {
                tracing::warn!(
                    conn = self.id,
                    peer = %self.peer_host,
                    "diameter: header.length: bad length {len} (minimum 20, multiple of 4, maximum {}); closing the connection",
                    self.inner.max_message_size
                );
                metrics::counter!("diameter_rejected_total", "result" => "DIAMETER_INVALID_MESSAGE_LENGTH").increment(1);
                self.engine.abort(CloseReason::Protocol("header.length"));
                return false;
            }
            if rbuf.len() < len {
                rbuf.reserve(len - rbuf.len());
                break;
            }
            let frame = rbuf.split_to(len).freeze();
            self.on_frame(&frame, now);
            if self.engine.state() == State::Closed {
                return false;
            }
        }
        true
    }

    fn on_frame(&mut self, frame: &Bytes, now: Instant) {
        match self.engine.handle_frame(frame, now) {
            Received::Nothing => {}
            Received::Request(msg) => self.on_request(msg, frame, now),
            Received::Answer(p, msg) => self.on_answer(p, &msg, frame),
            Received::MalformedAnswer(p, r) => {
                if let Waiter::Local { tx, .. } = p.waiter {
                    let _ = tx.send(Err(RequestError::MalformedAnswer(r)));
                } else {
                    let r = Rejection::new(
                        rc::UNABLE_TO_DELIVER,
                        format!("malformed answer from {}: {}", self.peer_host, r.reason),
                    );
                    self.fail(p, r, false);
                }
            }
        }
        // Events (peer open, failovers...) before the next message.
        self.process_events();
    }

    fn on_request(&mut self, msg: Message<'_>, frame: &Bytes, now: Instant) {
        let cmd = msg.header.command_code;
        metrics::counter!("diameter_requests_total", "direction" => "in", "command" => command_label(cmd, true)).increment(1);
        let peer = self.peer_host.clone();
        match self.inner.route(&msg, Some(&peer)) {
            Ok(RouteTo::Local) => self.local(msg, frame, now),
            Ok(RouteTo::Peer { tx, proxy }) => self.forward(&msg, frame, tx, proxy),
            Err(r) => self.reject(&msg, &r),
        }
    }

    fn reject(&mut self, msg: &Message<'_>, r: &Rejection) {
        tracing::debug!(peer = %self.peer_host, command = msg.header.command_code, "diameter request refused: {r}");
        metrics::counter!("diameter_rejected_total", "result" => result_label(Some(r.result_code)))
            .increment(1);
        self.engine.answer_error(msg, r);
    }

    fn local(&mut self, msg: Message<'_>, frame: &Bytes, now: Instant) {
        let h = msg.header;
        let Some(app) = self.inner.apps.get(&h.application_id).cloned() else {
            let r = Rejection::new(
                rc::APPLICATION_UNSUPPORTED,
                format!("application {} is not served here", h.application_id),
            );
            return self.reject(&msg, &r);
        };
        if !app.commands().contains(&h.command_code) {
            let r = Rejection::new(
                rc::COMMAND_UNSUPPORTED,
                format!("command {} is not served here", h.command_code),
            );
            return self.reject(&msg, &r);
        }
        let origin = msg.get(&dict::ORIGIN_HOST).and_then(|a| a.utf8().ok());
        let dup_key = if self.inner.dup_enabled() {
            origin.map(|o| (o, h.end_to_end))
        } else {
            None
        };
        if let Some((o, e)) = dup_key {
            let status = self.inner.dup().begin(o, e, now);
            match status {
                DupStatus::New => {}
                DupStatus::InProgress => {
                    tracing::debug!(
                        origin = o,
                        e2e = e,
                        "diameter duplicate of a request in progress dropped"
                    );
                    metrics::counter!("diameter_duplicates_total", "action" => "dropped")
                        .increment(1);
                    return;
                }
                DupStatus::Answered(b) => {
                    tracing::debug!(
                        origin = o,
                        e2e = e,
                        "diameter duplicate answered from cache"
                    );
                    metrics::counter!("diameter_duplicates_total", "action" => "answered")
                        .increment(1);
                    let mut v = b.to_vec();
                    set_hop_by_hop(&mut v, h.hop_by_hop);
                    self.engine.send_answer(&v);
                    return;
                }
            }
        }
        let peer = self.peer_host.clone();
        let req = Request {
            msg,
            bytes: frame,
            peer: &peer,
            identity: &self.inner.identity,
            tx: &self.tx,
            dup_key,
        };
        let reply = app.handle(&req);
        if let Reply::Answer(v) = reply {
            let key = dup_key.map(|(o, e)| (Arc::from(o), e));
            self.send_local_answer(v, key);
        }
    }

    fn send_local_answer(&mut self, v: Vec<u8>, dup_key: Option<(Arc<str>, u32)>) {
        // Answers come from MessageRepr::emit; check the framing the peer relies on only.
        if v.len() < 20 || frame_len(&v) != Some(v.len()) || v[4] & 0x80 != 0 {
            tracing::warn!(
                conn = self.id,
                "diameter application produced an invalid answer; dropped"
            );
            if let Some((o, e)) = dup_key {
                self.inner.dup().abandon(&o, e);
            }
            return;
        }
        let command = u32::from_be_bytes([0, v[5], v[6], v[7]]);
        metrics::counter!(
            "diameter_answers_total",
            "direction" => "out",
            "command" => command_label(command, false),
            "result" => result_label(rules::scan_result_code(&v))
        )
        .increment(1);
        self.engine.send_answer(&v);
        if let Some((o, e)) = dup_key {
            self.inner.dup().complete(&o, e, Bytes::from(v));
        }
    }

    fn forward(
        &mut self,
        msg: &Message<'_>,
        frame: &Bytes,
        tx: mpsc::UnboundedSender<Cmd>,
        proxy: bool,
    ) {
        let app = msg.header.application_id;
        let hook = if proxy {
            self.inner.hooks.get(&app).cloned()
        } else {
            None
        };
        let mut out = Vec::with_capacity(frame.len() + 64);
        let mut rewritten = false;
        if let Some(h) = &hook {
            match h.request(msg, frame, &mut out) {
                Ok(true) if out.len() >= 20 => rewritten = true,
                Ok(_) => {}
                Err(r) => return self.reject(msg, &r),
            }
        }
        if !rewritten {
            out.clear();
            out.extend_from_slice(frame);
        }
        append_route_record(&mut out, 0, &self.peer_host);
        let waiter = Waiter::Proxy {
            back: self.tx.clone(),
            hop_by_hop: msg.header.hop_by_hop,
            app,
            hook: hook.is_some(),
            retries: 0,
        };
        if tx
            .send(Cmd::Request {
                bytes: Bytes::from(out),
                waiter,
            })
            .is_err()
        {
            let r = Rejection::new(rc::UNABLE_TO_DELIVER, "next hop went away");
            self.reject(msg, &r);
        }
    }

    fn on_answer(&mut self, p: Pending, msg: &Message<'_>, frame: &Bytes) {
        match p.waiter {
            Waiter::Local { tx, .. } => {
                let _ = tx.send(Ok(Answer::new(frame.clone())));
            }
            Waiter::Proxy {
                back,
                hop_by_hop,
                app,
                hook,
                ..
            } => {
                let mut out = Vec::new();
                let rewritten = hook
                    && self.inner.hooks.get(&app).is_some_and(|h| {
                        match Message::parse(&p.request) {
                            Ok(req) => h.answer(&req, msg, frame, &mut out) && out.len() >= 20,
                            Err(_) => false,
                        }
                    });
                if !rewritten {
                    out.clear();
                    out.extend_from_slice(frame);
                }
                set_hop_by_hop(&mut out, hop_by_hop);
                let _ = back.send(Cmd::Answer {
                    bytes: out,
                    dup_key: None,
                });
            }
        }
    }

    fn on_cmd(&mut self, c: Cmd) {
        let now = Instant::now();
        match c {
            Cmd::Request { bytes, waiter } => {
                let p = Pending {
                    waiter,
                    request: bytes,
                };
                let request = p.request.clone();
                if let Err(p) = self.engine.send_request(&request, p, now) {
                    self.failover(p);
                }
            }
            Cmd::Answer { bytes, dup_key } => {
                if bytes.len() >= 20 {
                    self.send_local_answer(bytes, dup_key);
                }
            }
            Cmd::Disconnect(cause) => {
                tracing::info!(peer = %self.peer_host, cause = cause.name(), "diameter DPR sent");
                self.engine.disconnect(cause, now);
            }
            Cmd::Close => self.engine.abort(CloseReason::Protocol(
                "election: the peer is served by another connection",
            )),
        }
    }

    /// Re-routes a request this connection could not complete (watchdog, DPR, close),
    /// with the T flag.
    pub(crate) fn failover(&mut self, mut p: Pending) {
        if p.waiter.retries() >= MAX_FAILOVERS || self.inner.shutting_down.load(Ordering::Relaxed) {
            let r = Rejection::new(rc::UNABLE_TO_DELIVER, "no peer left to fail over to");
            return self.fail(p, r, false);
        }
        let mut bytes = p.request.to_vec();
        set_retransmitted(&mut bytes, true);
        let route = match Message::parse(&bytes) {
            Ok(m) => self.inner.route(&m, None),
            Err(_) => Err(Rejection::new(rc::UNABLE_TO_DELIVER, "request unreadable")),
        };
        match route {
            Ok(RouteTo::Peer { tx, .. }) => {
                p.waiter.bump();
                metrics::counter!("diameter_failovers_total").increment(1);
                if let Err(mpsc::error::SendError(Cmd::Request { bytes, waiter })) =
                    tx.send(Cmd::Request {
                        bytes: Bytes::from(bytes),
                        waiter: p.waiter,
                    })
                {
                    let r = Rejection::new(rc::UNABLE_TO_DELIVER, "next hop went away");
                    self.fail(
                        Pending {
                            waiter,
                            request: bytes,
                        },
                        r,
                        false,
                    );
                }
            }
            Ok(RouteTo::Local) => {
                let r = Rejection::new(rc::UNABLE_TO_DELIVER, "no peer to fail over to");
                self.fail(p, r, false)
            }
            Err(r) => self.fail(p, r, false),
        }
    }

    /// Gives up on a request: the client gets an error, a proxied request an error answer.
    fn fail(&mut self, p: Pending, r: Rejection, timeout: bool) {
        match p.waiter {
            Waiter::Local { tx, .. } => {
                let e = if timeout {
                    RequestError::Timeout
                } else {
                    RequestError::NoRoute(r)
                };
                let _ = tx.send(Err(e));
            }
            Waiter::Proxy {
                back, hop_by_hop, ..
            } => {
                let mut v = Vec::new();
                if let Ok(m) = Message::parse(&p.request) {
                    rules::answer_error(&m, &self.inner.identity, &r, &mut v);
                    set_hop_by_hop(&mut v, hop_by_hop);
                    let _ = back.send(Cmd::Answer {
                        bytes: v,
                        dup_key: None,
                    });
                }
            }
        }
    }

    fn process_events(&mut self) {
        while let Some(ev) = self.engine.poll_event() {
            match ev {
                Event::CerReceived => self.on_cer_received(),
                Event::Open => self.on_open(),
                Event::Usable(u) => {
                    self.usable.store(u, Ordering::Relaxed);
                    if self.peer_key.is_some() {
                        metrics::gauge!("diameter_peer_up", "peer" => self.peer_host.to_string())
                            .set(if u { 1.0 } else { 0.0 });
                        if !u {
                            tracing::info!(peer = %self.peer_host, watchdog = ?self.engine.watchdog_state(), "diameter peer not usable");
                        } else {
                            tracing::info!(peer = %self.peer_host, "diameter peer usable");
                        }
                    }
                }
                Event::Failover(p) => self.failover(p),
                Event::RequestTimeout(p) => {
                    let r = Rejection::new(
                        rc::UNABLE_TO_DELIVER,
                        format!("no answer from {} in time", self.peer_host),
                    );
                    self.fail(p, r, true);
                }
                Event::DprReceived(cause) => {
                    tracing::info!(peer = %self.peer_host, cause = cause.name(), "diameter DPR received; DPA sent");
                    metrics::counter!("diameter_peer_events_total", "peer" => self.peer_host.to_string(), "event" => "dpr_received").increment(1);
                }
                Event::Rejected {
                    command_code,
                    request,
                    rejection,
                } => {
                    tracing::warn!(
                        conn = self.id,
                        peer = %self.peer_host,
                        command = command_label(command_code, request),
                        code = command_code,
                        "diameter: {rejection}"
                    );
                    metrics::counter!("diameter_rejected_total", "result" => result_label(Some(rejection.result_code))).increment(1);
                }
                Event::UnknownAnswer {
                    hop_by_hop,
                    command_code,
                } => {
                    tracing::debug!(peer = %self.peer_host, hop_by_hop, command = command_code, "diameter answer matches no pending request; dropped");
                }
                Event::Closed(reason) => self.close_reason = Some(reason),
            }
        }
    }

    fn on_cer_received(&mut self) {
        let Some(caps) = self.engine.peer() else {
            return;
        };
        let (host, realm, osi) = (
            caps.origin_host.clone(),
            caps.origin_realm.clone(),
            caps.origin_state_id,
        );
        self.peer_host = Arc::from(host.as_str());
        let verdict = {
            let mut p = self.inner.peers();
            let v = p.table.on_cer(self.id, &host, &realm, osi);
            if let CerVerdict::AcceptAndClose { close, .. } = &v {
                if let Some(tx) = p.live.get(close) {
                    let _ = tx.send(Cmd::Close);
                }
            }
            v
        };
        if let Some(tw) = self.inner.peer_tw.get(&host.to_ascii_lowercase()) {
            self.engine.set_tw(*tw);
        }
        let now = Instant::now();
        match verdict {
            CerVerdict::Accept { reopen } | CerVerdict::AcceptAndClose { reopen, .. } => {
                self.engine.accept(reopen, now)
            }
            CerVerdict::Reject(r) => {
                tracing::info!(peer = %host, realm = %realm, "diameter CER refused: {r}");
                self.engine.reject(r);
            }
        }
    }

    fn on_open(&mut self) {
        let Some(caps) = self.engine.peer() else {
            return;
        };
        let presented = caps.origin_host.clone();
        let common = caps.common.clone();
        let osi = caps.origin_state_id;
        let host = match (&self.expected, self.engine.role()) {
            (Some(e), Role::Initiator) => {
                if !e.eq_ignore_ascii_case(&presented) {
                    tracing::warn!(expected = %e, presented = %presented, "diameter peer presented another Origin-Host in its CEA");
                }
                e.clone()
            }
            _ => presented.clone(),
        };
        let key = host.to_ascii_lowercase();
        {
            let mut p = self.inner.peers();
            if self.engine.role() == Role::Initiator && !p.table.on_open(self.id, osi) {
                drop(p);
                self.engine.abort(CloseReason::Protocol(
                    "election: the peer is served by another connection",
                ));
                return;
            }
            p.open.insert(
                key.clone(),
                ConnHandle {
                    id: self.id,
                    tx: self.tx.clone(),
                    common: Arc::new(common.clone()),
                    usable: self.usable.clone(),
                },
            );
        }
        self.peer_key = Some(key);
        self.peer_host = Arc::from(host.as_str());
        self.usable
            .store(self.engine.is_usable(), Ordering::Relaxed);
        metrics::gauge!("diameter_peer_up", "peer" => host.clone())
            .set(if self.engine.is_usable() { 1.0 } else { 0.0 });
        metrics::counter!("diameter_peer_events_total", "peer" => host.clone(), "event" => "open")
            .increment(1);
        tracing::info!(
            peer = %host,
            role = ?self.engine.role(),
            apps = ?common.ids,
            relay = common.relay,
            watchdog = ?self.engine.watchdog_state(),
            "diameter peer open"
        );
    }

    fn finish(&mut self, addr: Option<std::net::SocketAddr>) {
        let reason = self
            .close_reason
            .take()
            .unwrap_or(CloseReason::TransportClosed);
        {
            let mut p = self.inner.peers();
            p.live.remove(&self.id);
            if let Some(k) = &self.peer_key {
                if p.open.get(k).is_some_and(|h| h.id == self.id) {
                    p.open.remove(k);
                }
            }
            p.table.on_closed(self.id, &reason, Instant::now());
        }
        self.inner.wake.notify_one();
        self.inner.closed.notify_waiters();
        if self.peer_key.is_some() {
            metrics::gauge!("diameter_peer_up", "peer" => self.peer_host.to_string()).set(0.0);
            metrics::counter!("diameter_peer_events_total", "peer" => self.peer_host.to_string(), "event" => "closed").increment(1);
        }
        tracing::info!(conn = self.id, peer = %self.peer_host, addr = ?addr, reason = ?reason, "diameter connection closed");
    }
}
