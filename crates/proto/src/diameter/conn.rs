//! One Diameter transport connection, sans-I/O: the peer state machine of RFC 6733 §5.6
//! (capabilities exchange as initiator or responder, disconnection), the RFC 3539 watchdog,
//! and the table of requests sent on this connection and not yet answered.
//!
//! The node feeds whole messages (framed by the 3-byte Message Length) to
//! [`Connection::handle_frame`], writes what [`Connection::poll_transmit`] holds, arms a timer
//! for [`Connection::poll_timeout`] and calls [`Connection::handle_timeout`], and acts on
//! [`Connection::poll_event`]. Requests and answers for the node come back from
//! `handle_frame` as [`Received`], borrowing the caller's bytes. `T` is the node's token for a
//! pending request (who waits for the answer); the engine hands it back with the answer, on a
//! timeout, or for failover.
//!
//! What the engine answers by itself: CER (after the node's verdict on the peer), DWR, DPR;
//! requests that fail the codec's checks (5xxx with Failed-AVP: 5004, 5011, 5014, 5015),
//! 3008 (E bit in a request; P bit on CER/DWR/DPR), 3009 (reserved AVP flag bits), 3001 for an
//! unknown command of the common application (id 0), and 5005/5009/5001 in base messages.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mobstrap_wire::diameter::{
    app, commands, dict, message::flags, AvpRepr, Header, Message, MessageRepr, Packet,
};

use super::caps::{LocalIdentity, PeerCaps};
use super::rc;
use super::rules::{answer_error, answer_malformed, check_avps, check_bits, AvpRule, Rejection};
use super::DisconnectCause;

/// Which side opened the transport connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Initiator,
    Responder,
}

/// The peer state of this connection (RFC 6733 §5.6, one connection per engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Initiator: CER sent, waiting for the CEA (Wait-I-CEA).
    WaitCea,
    /// Responder: waiting for the CER.
    WaitCer,
    /// Responder: CER received and valid; the node decides with its peer table
    /// ([`Connection::accept`] / [`Connection::reject`]).
    WaitVerdict,
    /// Capabilities agreed (I-Open / R-Open).
    Open,
    /// DPR sent and waiting for the DPA, or DPA sent and waiting for the peer to close.
    Closing,
    /// The node must close the transport (after writing what is left to transmit).
    Closed,
}

/// The RFC 3539 §3.4 watchdog state of an open connection (DOWN is a closed connection,
/// INITIAL the capabilities exchange).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchdogState {
    Okay,
    /// A DWR went unanswered for Tw: no new requests, pending ones failed over.
    Suspect,
    /// After a watchdog failure of the previous connection with this peer: usable once
    /// [`ConnectionConfig::reopen_dwa`] DWAs came back (RFC 3539 §3.4.1).
    Reopen,
}

/// Timers and limits of one connection.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// Twinit (RFC 3539: default 30 s, at least 6 s on real networks; tests use less).
    pub tw: Duration,
    /// Watchdog jitter: Tw is drawn uniformly in Twinit ± jitter, the jitter capped at Tw/4.
    pub jitter: Duration,
    /// How long the capabilities exchange may take.
    pub ce_timeout: Duration,
    /// How long to wait for the DPA, or for the peer to close after our DPA.
    pub dpa_timeout: Duration,
    /// How long a request sent on this connection waits for its answer.
    pub request_timeout: Duration,
    /// DWAs needed in REOPEN before the connection carries requests (RFC 3539: 3).
    pub reopen_dwa: u8,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            tw: Duration::from_secs(30),
            jitter: Duration::from_secs(2),
            ce_timeout: Duration::from_secs(10),
            dpa_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            reopen_dwa: 3,
        }
    }
}

/// Why the connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// We refused the peer's CER with this Result-Code.
    CerRejected(u32),
    /// The peer's CEA carried this Result-Code (0: the CEA itself was invalid).
    CeaFailed(u32),
    /// No application in common (5010 sent, or none in a successful CEA).
    NoCommonApplication,
    /// The capabilities exchange did not finish in time.
    CapabilitiesTimeout,
    /// The watchdog found the peer dead (RFC 3539 DOWN).
    Watchdog,
    /// DPR/DPA: the cause in the DPR, and whether the peer sent it.
    Disconnected {
        cause: DisconnectCause,
        by_peer: bool,
    },
    /// A message that is not allowed in this state.
    Protocol(&'static str),
    /// The transport closed or failed.
    TransportClosed,
}

/// What the engine tells the node.
#[derive(Debug)]
pub enum Event<T> {
    /// Responder: a valid CER arrived ([`Connection::peer`]); call accept or reject.
    CerReceived,
    /// Capabilities exchanged ([`Connection::peer`] holds the peer's, with the common
    /// applications). A REOPEN connection becomes usable later.
    Open,
    /// Whether new requests may be sent on this connection (watchdog failover / failback).
    Usable(bool),
    /// A pending request that must be sent elsewhere (watchdog SUSPECT, DPR, close).
    Failover(T),
    /// A pending request got no answer in time.
    RequestTimeout(T),
    /// The peer sent a DPR (answered with DPA); the connection is closing.
    DprReceived(DisconnectCause),
    /// A request the engine answered with an error, or a message it dropped (one line for
    /// the log).
    Rejected {
        command_code: u32,
        request: bool,
        rejection: Rejection,
    },
    /// An answer whose Hop-by-Hop Identifier matches no pending request (dropped).
    UnknownAnswer { hop_by_hop: u32, command_code: u32 },
    /// The node must close the transport.
    Closed(CloseReason),
}

/// An application message for the node, borrowing the bytes given to `handle_frame`.
#[derive(Debug)]
pub enum Received<'a, T> {
    Nothing,
    /// A request for routing: to a local application or to another peer.
    Request(Message<'a>),
    /// The answer to a pending request.
    Answer(T, Message<'a>),
    /// A pending request's answer failed validation.
    MalformedAnswer(T, Rejection),
}

const DWR_RULES: &[AvpRule] = &[
    AvpRule::required(&dict::ORIGIN_HOST),
    AvpRule::required(&dict::ORIGIN_REALM),
    AvpRule::optional(&dict::ORIGIN_STATE_ID),
];
const DPR_RULES: &[AvpRule] = &[
    AvpRule::required(&dict::ORIGIN_HOST),
    AvpRule::required(&dict::ORIGIN_REALM),
    AvpRule::required(&dict::DISCONNECT_CAUSE_AVP),
];

/// One Diameter transport connection. See the module documentation.
pub struct Connection<T> {
    role: Role,
    state: State,
    local: Arc<LocalIdentity>,
    cfg: ConnectionConfig,
    local_ip: Option<IpAddr>,
    peer: Option<PeerCaps>,
    /// Header of the CER waiting for the node's verdict.
    cer_header: Option<Header>,
    reopen: bool,
    out: Vec<u8>,
    out_pos: usize,
    events: VecDeque<Event<T>>,
    pending: HashMap<u32, (T, Instant)>,
    order: VecDeque<(u32, Instant)>,
    next_hbh: u32,
    next_e2e: u32,
    rng: u64,
    state_deadline: Option<Instant>,
    close_reason: Option<CloseReason>,
    usable: bool,
    wd: WatchdogState,
    wd_pending: bool,
    wd_num_dwa: i32,
    wd_armed: Instant,
    wd_last_rx: Instant,
    wd_tw: Duration,
}

impl<T> Connection<T> {
    fn new(
        role: Role,
        local: Arc<LocalIdentity>,
        cfg: ConnectionConfig,
        local_ip: Option<IpAddr>,
        seed: u64,
        now: Instant,
    ) -> Self {
        let mut rng = seed | 1;
        let hbh = xorshift(&mut rng) as u32;
        let e2e = xorshift(&mut rng) as u32;
        let mut c = Connection {
            role,
            state: if role == Role::Initiator {
                State::WaitCea
            } else {
                State::WaitCer
            },
            local,
            state_deadline: Some(now + cfg.ce_timeout),
            cfg,
            local_ip,
            peer: None,
            cer_header: None,
            reopen: false,
            out: Vec::with_capacity(4096),
            out_pos: 0,
            events: VecDeque::new(),
            pending: HashMap::new(),
            order: VecDeque::new(),
            next_hbh: hbh,
            next_e2e: e2e,
            rng,
            close_reason: None,
            usable: false,
            wd: WatchdogState::Okay,
            wd_pending: false,
            wd_num_dwa: 0,
            wd_armed: now,
            wd_last_rx: now,
            wd_tw: Duration::ZERO,
        };
        c.wd_tw = c.draw_tw();
        c
    }

    /// A connection we opened: queues the CER. `reopen` when the previous connection with
    /// this peer died by watchdog (RFC 3539 REOPEN). `seed` randomizes identifiers and jitter.
    pub fn initiator(
        local: Arc<LocalIdentity>,
        cfg: ConnectionConfig,
        local_ip: Option<IpAddr>,
        reopen: bool,
        seed: u64,
        now: Instant,
    ) -> Self {
        let mut c = Self::new(Role::Initiator, local, cfg, local_ip, seed, now);
        c.reopen = reopen;
        let (h, e) = (c.alloc_hbh(), c.alloc_e2e());
        let local = c.local.clone();
        local.emit_cer(h, e, c.local_ip, &mut c.out);
        c
    }

    /// A connection the peer opened: waits for its CER.
    pub fn responder(
        local: Arc<LocalIdentity>,
        cfg: ConnectionConfig,
        local_ip: Option<IpAddr>,
        seed: u64,
        now: Instant,
    ) -> Self {
        Self::new(Role::Responder, local, cfg, local_ip, seed, now)
    }

    pub fn role(&self) -> Role {
        self.role
    }
    pub fn state(&self) -> State {
        self.state
    }
    pub fn watchdog_state(&self) -> WatchdogState {
        self.wd
    }
    /// What the peer advertised (after a valid CER or CEA).
    pub fn peer(&self) -> Option<&PeerCaps> {
        self.peer.as_ref()
    }
    /// Whether new requests may be sent now.
    pub fn is_usable(&self) -> bool {
        self.usable
    }
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
    pub fn local(&self) -> &LocalIdentity {
        &self.local
    }

    fn alloc_hbh(&mut self) -> u32 {
        let h = self.next_hbh;
        self.next_hbh = self.next_hbh.wrapping_add(1);
        h
    }
    fn alloc_e2e(&mut self) -> u32 {
        let e = self.next_e2e;
        self.next_e2e = self.next_e2e.wrapping_add(1);
        e
    }

    fn draw_tw(&mut self) -> Duration {
        let j = self.cfg.jitter.min(self.cfg.tw / 4);
        let span = j.as_nanos() as u64 * 2;
        if span == 0 {
            return self.cfg.tw;
        }
        let r = xorshift(&mut self.rng) % (span + 1);
        self.cfg.tw - j + Duration::from_nanos(r)
    }

    // ---- output ----------------------------------------------------------------------

    /// The bytes waiting to be written (empty when none).
    pub fn poll_transmit(&self) -> &[u8] {
        &self.out[self.out_pos..]
    }
    /// `n` bytes of [`Connection::poll_transmit`] were written.
    pub fn advance_transmit(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        } else if self.out_pos > 1 << 16 && self.out_pos > self.out.len() / 2 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }
    pub fn poll_event(&mut self) -> Option<Event<T>> {
        self.events.pop_front()
    }

    /// When [`Connection::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = self.state_deadline;
        let mut consider = |x: Instant| {
            t = Some(match t {
                Some(y) if y <= x => y,
                _ => x,
            })
        };
        if self.state == State::Open {
            consider(self.wd_deadline());
        }
        if let Some(&(_, d)) = self.order.front() {
            consider(d);
        }
        t
    }

    fn wd_deadline(&self) -> Instant {
        match self.wd {
            WatchdogState::Okay | WatchdogState::Suspect => {
                self.wd_armed.max(self.wd_last_rx) + self.wd_tw
            }
            WatchdogState::Reopen => self.wd_armed + self.wd_tw,
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        if let Some(d) = self.state_deadline {
            if now >= d {
                let reason = match self.state {
                    State::Closing => self
                        .close_reason
                        .take()
                        .unwrap_or(CloseReason::Protocol("no DPA")),
                    _ => CloseReason::CapabilitiesTimeout,
                };
                self.close(reason);
                return;
            }
        }
        while let Some(&(h, d)) = self.order.front() {
            if d > now {
                break;
            }
            self.order.pop_front();
            if self.pending.get(&h).is_some_and(|(_, pd)| *pd == d) {
                if let Some((t, _)) = self.pending.remove(&h) {
                    self.events.push_back(Event::RequestTimeout(t));
                }
            }
        }
        if self.state == State::Open && now >= self.wd_deadline() {
            self.watchdog_fire(now);
        }
    }

    fn watchdog_fire(&mut self, now: Instant) {
        match self.wd {
            WatchdogState::Okay => {
                if self.wd_pending {
                    self.wd = WatchdogState::Suspect;
                    self.set_usable(false);
                    self.failover_all();
                } else {
                    self.send_dwr();
                }
            }
            WatchdogState::Suspect => {
                self.close(CloseReason::Watchdog);
                return;
            }
            WatchdogState::Reopen => {
                if self.wd_pending {
                    if self.wd_num_dwa < 0 {
                        self.close(CloseReason::Watchdog);
                        return;
                    }
                    self.wd_num_dwa = -1;
                } else {
                    self.send_dwr();
                }
            }
        }
        self.wd_armed = now;
        self.wd_tw = self.draw_tw();
    }

    fn send_dwr(&mut self) {
        let (h, e) = (self.alloc_hbh(), self.alloc_e2e());
        let m = MessageRepr::request(commands::DEVICE_WATCHDOG, app::COMMON)
            .hop_by_hop(h)
            .end_to_end(e)
            .with(AvpRepr::utf8(&dict::ORIGIN_HOST, &self.local.origin_host))
            .with(AvpRepr::utf8(&dict::ORIGIN_REALM, &self.local.origin_realm))
            .with(AvpRepr::u32(
                &dict::ORIGIN_STATE_ID,
                self.local.origin_state_id,
            ));
        let _ = m.emit(&mut self.out);
        self.wd_pending = true;
    }

    fn set_usable(&mut self, u: bool) {
        if self.usable != u {
            self.usable = u;
            self.events.push_back(Event::Usable(u));
        }
    }

    fn failover_all(&mut self) {
        self.order.clear();
        for (_, (t, _)) in self.pending.drain() {
            self.events.push_back(Event::Failover(t));
        }
    }

    fn close(&mut self, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        self.state_deadline = None;
        self.set_usable(false);
        self.failover_all();
        self.events.push_back(Event::Closed(reason));
    }

    // ---- node commands ----------------------------------------------------------------

    /// Responder: the peer table accepts the peer. Answers the CEA (5010 and close when no
    /// application is in common). `reopen`: see [`Connection::initiator`].
    pub fn accept(&mut self, reopen: bool, now: Instant) {
        if self.state != State::WaitVerdict {
            return;
        }
        let Some(h) = self.cer_header.take() else {
            return;
        };
        let local = self.local.clone();
        let common = match &self.peer {
            Some(p) => local.app_set().intersect(&p.apps),
            None => return,
        };
        if common.is_empty() {
            let r = Rejection::new(rc::NO_COMMON_APPLICATION, "no common application");
            local.emit_cea(&h, Err(&r), self.local_ip, &mut self.out);
            self.events.push_back(Event::Rejected {
                command_code: commands::CAPABILITIES_EXCHANGE,
                request: true,
                rejection: r,
            });
            self.close(CloseReason::NoCommonApplication);
            return;
        }
        if let Some(p) = &mut self.peer {
            p.common = common;
        }
        local.emit_cea(&h, Ok(()), self.local_ip, &mut self.out);
        self.reopen = reopen;
        self.open(now);
    }

    /// Responder: the peer table refuses the peer (3010 DIAMETER_UNKNOWN_PEER, 4003
    /// DIAMETER_ELECTION_LOST, ...): answers the CEA and closes.
    pub fn reject(&mut self, rejection: Rejection) {
        if self.state != State::WaitVerdict {
            return;
        }
        let Some(h) = self.cer_header.take() else {
            return;
        };
        let local = self.local.clone();
        local.emit_cea(&h, Err(&rejection), self.local_ip, &mut self.out);
        let code = rejection.result_code;
        self.events.push_back(Event::Rejected {
            command_code: commands::CAPABILITIES_EXCHANGE,
            request: true,
            rejection,
        });
        self.close(CloseReason::CerRejected(code));
    }

    fn open(&mut self, now: Instant) {
        self.state = State::Open;
        self.state_deadline = None;
        self.wd_armed = now;
        self.wd_last_rx = now;
        self.wd_pending = false;
        self.wd_tw = self.draw_tw();
        self.events.push_back(Event::Open);
        if self.reopen && self.cfg.reopen_dwa > 0 {
            self.wd = WatchdogState::Reopen;
            self.wd_num_dwa = 0;
            self.send_dwr();
        } else {
            self.wd = WatchdogState::Okay;
            self.set_usable(true);
        }
    }

    /// Sends a DPR with `cause` and waits for the DPA (or closes at once before the
    /// capabilities exchange finished).
    pub fn disconnect(&mut self, cause: DisconnectCause, now: Instant) {
        match self.state {
            State::Open => {
                let (h, e) = (self.alloc_hbh(), self.alloc_e2e());
                let m = MessageRepr::request(commands::DISCONNECT_PEER, app::COMMON)
                    .hop_by_hop(h)
                    .end_to_end(e)
                    .with(AvpRepr::utf8(&dict::ORIGIN_HOST, &self.local.origin_host))
                    .with(AvpRepr::utf8(&dict::ORIGIN_REALM, &self.local.origin_realm))
                    .with(AvpRepr::enumerated(
                        &dict::DISCONNECT_CAUSE_AVP,
                        cause.value(),
                    ));
                let _ = m.emit(&mut self.out);
                self.state = State::Closing;
                self.state_deadline = Some(now + self.cfg.dpa_timeout);
                self.close_reason = Some(CloseReason::Disconnected {
                    cause,
                    by_peer: false,
                });
                self.set_usable(false);
            }
            State::Closing | State::Closed => {}
            _ => self.close(CloseReason::Disconnected {
                cause,
                by_peer: false,
            }),
        }
    }

    /// Closes at once for `reason` (e.g. the node's framing found a bad Message Length).
    pub fn abort(&mut self, reason: CloseReason) {
        self.close(reason);
    }

    /// Changes Tw (e.g. a per-peer value once the responder knows the peer); takes effect
    /// from the next watchdog period.
    pub fn set_tw(&mut self, tw: Duration) {
        self.cfg.tw = tw;
        self.wd_tw = self.draw_tw();
    }

    /// The transport closed (EOF or error).
    pub fn transport_closed(&mut self) {
        let reason = self
            .close_reason
            .take()
            .unwrap_or(CloseReason::TransportClosed);
        self.close(reason);
    }

    /// Sends a request: copies it with a fresh Hop-by-Hop Identifier (returned) and
    /// remembers `token` until the answer, the timeout or a failover. Gives the token back
    /// when the connection cannot take requests.
    pub fn send_request(&mut self, request: &[u8], token: T, now: Instant) -> Result<u32, T> {
        if !self.usable || self.state != State::Open || request.len() < 20 {
            return Err(token);
        }
        let mut h = self.alloc_hbh();
        while self.pending.contains_key(&h) {
            h = self.alloc_hbh();
        }
        let at = self.out.len();
        self.out.extend_from_slice(request);
        self.out[at + 12..at + 16].copy_from_slice(&h.to_be_bytes());
        let d = now + self.cfg.request_timeout;
        self.pending.insert(h, (token, d));
        self.order.push_back((h, d));
        Ok(h)
    }

    /// Sends an answer (its Hop-by-Hop Identifier already that of the request). False when
    /// the connection no longer carries messages.
    pub fn send_answer(&mut self, answer: &[u8]) -> bool {
        if matches!(self.state, State::Open | State::Closing) {
            self.out.extend_from_slice(answer);
            true
        } else {
            false
        }
    }

    /// Answers `req` (received on this connection) with an error.
    pub fn answer_error(&mut self, req: &Message<'_>, rejection: &Rejection) {
        if matches!(self.state, State::Open | State::Closing) {
            answer_error(req, &self.local, rejection, &mut self.out);
        }
    }

    /// Forgets pending requests whose token matches (e.g. the waiting client went away).
    pub fn cancel(&mut self, mut f: impl FnMut(&T) -> bool) {
        self.pending.retain(|_, (t, _)| !f(t));
    }

    // ---- input ------------------------------------------------------------------------

    /// One whole message from the transport.
    pub fn handle_frame<'a>(&mut self, frame: &'a [u8], now: Instant) -> Received<'a, T> {
        if self.state == State::Closed {
            return Received::Nothing;
        }
        self.on_rx(now);
        let msg = match Message::check(frame) {
            Ok(m) => m,
            Err(fault) => return self.on_malformed(frame, Rejection::from_fault(&fault)),
        };
        let h = msg.header;
        if h.is_request() {
            if let Err(r) = check_bits(&msg) {
                return self.refuse(&msg, r);
            }
            match h.command_code {
                commands::CAPABILITIES_EXCHANGE => self.on_cer(&msg),
                commands::DEVICE_WATCHDOG => self.on_dwr(&msg),
                commands::DISCONNECT_PEER => self.on_dpr(&msg, now),
                _ => match self.state {
                    State::Open if self.wd == WatchdogState::Reopen => Received::Nothing,
                    State::Open | State::Closing => {
                        if h.application_id == app::COMMON {
                            let r = Rejection::new(
                                rc::COMMAND_UNSUPPORTED,
                                format!(
                                    "command {} unsupported in the common application",
                                    h.command_code
                                ),
                            );
                            return self.refuse(&msg, r);
                        }
                        Received::Request(msg)
                    }
                    _ => {
                        self.close(CloseReason::Protocol(
                            "request before the capabilities exchange",
                        ));
                        Received::Nothing
                    }
                },
            }
        } else {
            match h.command_code {
                commands::CAPABILITIES_EXCHANGE => {
                    self.on_cea(&msg, now);
                    Received::Nothing
                }
                commands::DEVICE_WATCHDOG => {
                    self.on_dwa(now);
                    Received::Nothing
                }
                commands::DISCONNECT_PEER => {
                    if self.state == State::Closing {
                        let r = self
                            .close_reason
                            .take()
                            .unwrap_or(CloseReason::TransportClosed);
                        self.close(r);
                    }
                    Received::Nothing
                }
                _ => {
                    if !matches!(self.state, State::Open | State::Closing) {
                        self.close(CloseReason::Protocol(
                            "answer before the capabilities exchange",
                        ));
                        return Received::Nothing;
                    }
                    match self.pending.remove(&h.hop_by_hop) {
                        Some((t, _)) => {
                            self.trim_order();
                            Received::Answer(t, msg)
                        }
                        None => {
                            self.events.push_back(Event::UnknownAnswer {
                                hop_by_hop: h.hop_by_hop,
                                command_code: h.command_code,
                            });
                            Received::Nothing
                        }
                    }
                }
            }
        }
    }

    fn trim_order(&mut self) {
        while let Some(&(h, _)) = self.order.front() {
            if self.pending.contains_key(&h) {
                break;
            }
            self.order.pop_front();
        }
    }

    fn on_rx(&mut self, now: Instant) {
        self.wd_last_rx = now;
        if self.wd == WatchdogState::Suspect && self.state == State::Open {
            self.wd = WatchdogState::Okay;
            self.wd_armed = now;
            self.set_usable(true);
        }
    }

    fn refuse<'a>(&mut self, msg: &Message<'_>, r: Rejection) -> Received<'a, T> {
        answer_error(msg, &self.local, &r, &mut self.out);
        self.events.push_back(Event::Rejected {
            command_code: msg.header.command_code,
            request: true,
            rejection: r,
        });
        Received::Nothing
    }

    fn on_malformed<'a>(&mut self, frame: &[u8], r: Rejection) -> Received<'a, T> {
        let h = Packet::new_unchecked(frame).header();
        let pre_open = matches!(
            self.state,
            State::WaitCea | State::WaitCer | State::WaitVerdict
        );
        if h.is_request() {
            if !pre_open || h.command_code == commands::CAPABILITIES_EXCHANGE {
                answer_malformed(frame, &self.local, &r, &mut self.out);
            }
            let code = r.result_code;
            self.events.push_back(Event::Rejected {
                command_code: h.command_code,
                request: true,
                rejection: r,
            });
            if pre_open {
                self.close(CloseReason::CerRejected(code));
            }
            return Received::Nothing;
        }
        if pre_open {
            self.events.push_back(Event::Rejected {
                command_code: h.command_code,
                request: false,
                rejection: r,
            });
            self.close(CloseReason::CeaFailed(0));
            return Received::Nothing;
        }
        if let Some((t, _)) = self.pending.remove(&h.hop_by_hop) {
            self.trim_order();
            return Received::MalformedAnswer(t, r);
        }
        self.events.push_back(Event::Rejected {
            command_code: h.command_code,
            request: false,
            rejection: r,
        });
        Received::Nothing
    }

    fn on_cer<'a>(&mut self, msg: &Message<'_>) -> Received<'a, T> {
        if self.state != State::WaitCer {
            if matches!(self.state, State::Open | State::Closing) {
                let r = Rejection::new(rc::UNABLE_TO_COMPLY, "CER on an open connection");
                return self.refuse(msg, r);
            }
            self.close(CloseReason::Protocol("CER on a connection we initiated"));
            return Received::Nothing;
        }
        let local = self.local.clone();
        let verdict = if msg.header.is_proxiable() {
            Err(Rejection::new(
                rc::INVALID_HDR_BITS,
                "header.flags: P bit in a CER",
            ))
        } else {
            PeerCaps::parse(msg).and_then(|p| {
                if p.accepts_no_inband_security() {
                    Ok(p)
                } else {
                    Err(Rejection::new(
                        rc::NO_COMMON_SECURITY,
                        "peer requires in-band TLS",
                    ))
                }
            })
        };
        match verdict {
            Ok(p) => {
                self.peer = Some(p);
                self.cer_header = Some(msg.header);
                self.state = State::WaitVerdict;
                self.events.push_back(Event::CerReceived);
            }
            Err(r) => {
                local.emit_cea(&msg.header, Err(&r), self.local_ip, &mut self.out);
                let code = r.result_code;
                self.events.push_back(Event::Rejected {
                    command_code: commands::CAPABILITIES_EXCHANGE,
                    request: true,
                    rejection: r,
                });
                self.close(CloseReason::CerRejected(code));
            }
        }
        Received::Nothing
    }

    fn on_cea(&mut self, msg: &Message<'_>, now: Instant) {
        if self.state != State::WaitCea {
            // A stray CEA on an open connection changes nothing.
            return;
        }
        let code = msg.result_code().unwrap_or(0);
        if code != rc::SUCCESS {
            self.close(CloseReason::CeaFailed(code));
            return;
        }
        let mut p = match PeerCaps::parse(msg) {
            Ok(p) => p,
            Err(r) => {
                self.events.push_back(Event::Rejected {
                    command_code: commands::CAPABILITIES_EXCHANGE,
                    request: false,
                    rejection: r,
                });
                self.close(CloseReason::CeaFailed(0));
                return;
            }
        };
        p.common = self.local.app_set().intersect(&p.apps);
        let empty = p.common.is_empty();
        self.peer = Some(p);
        if empty {
            self.close(CloseReason::NoCommonApplication);
            return;
        }
        self.open(now);
    }

    fn on_dwr<'a>(&mut self, msg: &Message<'_>) -> Received<'a, T> {
        if !matches!(self.state, State::Open | State::Closing) {
            self.close(CloseReason::Protocol(
                "DWR before the capabilities exchange",
            ));
            return Received::Nothing;
        }
        if msg.header.is_proxiable() {
            return self.refuse(
                msg,
                Rejection::new(rc::INVALID_HDR_BITS, "header.flags: P bit in a DWR"),
            );
        }
        if let Err(r) = check_avps(msg, DWR_RULES) {
            return self.refuse(msg, r);
        }
        let mut a = MessageRepr::answer_to(msg);
        a.push(AvpRepr::u32(&dict::RESULT_CODE, rc::SUCCESS))
            .push(AvpRepr::utf8(&dict::ORIGIN_HOST, &self.local.origin_host))
            .push(AvpRepr::utf8(&dict::ORIGIN_REALM, &self.local.origin_realm))
            .push(AvpRepr::u32(
                &dict::ORIGIN_STATE_ID,
                self.local.origin_state_id,
            ));
        let _ = a.emit(&mut self.out);
        Received::Nothing
    }

    fn on_dwa(&mut self, now: Instant) {
        if self.state != State::Open {
            return;
        }
        self.wd_pending = false;
        match self.wd {
            WatchdogState::Okay => self.wd_armed = now,
            // on_rx already failed back.
            WatchdogState::Suspect => {}
            WatchdogState::Reopen => {
                self.wd_num_dwa += 1;
                if self.wd_num_dwa >= self.cfg.reopen_dwa as i32 {
                    self.wd = WatchdogState::Okay;
                    self.wd_armed = now;
                    self.set_usable(true);
                }
            }
        }
    }

    fn on_dpr<'a>(&mut self, msg: &Message<'_>, now: Instant) -> Received<'a, T> {
        if !matches!(self.state, State::Open | State::Closing) {
            self.close(CloseReason::Protocol(
                "DPR before the capabilities exchange",
            ));
            return Received::Nothing;
        }
        if msg.header.is_proxiable() {
            return self.refuse(
                msg,
                Rejection::new(rc::INVALID_HDR_BITS, "header.flags: P bit in a DPR"),
            );
        }
        if let Err(r) = check_avps(msg, DPR_RULES) {
            return self.refuse(msg, r);
        }
        let cause = msg
            .get(&dict::DISCONNECT_CAUSE_AVP)
            .and_then(|a| a.enumerated().ok())
            .map(DisconnectCause::from_value)
            .unwrap_or(DisconnectCause::Other(-1));
        let mut a = MessageRepr::answer_to(msg);
        a.push(AvpRepr::u32(&dict::RESULT_CODE, rc::SUCCESS))
            .push(AvpRepr::utf8(&dict::ORIGIN_HOST, &self.local.origin_host))
            .push(AvpRepr::utf8(&dict::ORIGIN_REALM, &self.local.origin_realm));
        let _ = a.emit(&mut self.out);
        self.events.push_back(Event::DprReceived(cause));
        self.set_usable(false);
        self.failover_all();
        self.state = State::Closing;
        self.state_deadline = Some(now + self.cfg.dpa_timeout);
        self.close_reason = Some(CloseReason::Disconnected {
            cause,
            by_peer: true,
        });
        Received::Nothing
    }
}

fn xorshift(s: &mut u64) -> u64 {
    let mut x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    x
}

/// Sets or clears the T flag of an encoded message (RFC 6733 §3: a request retransmitted
/// after a failover).
pub fn set_retransmitted(msg: &mut [u8], on: bool) {
    if let Some(f) = msg.get_mut(4) {
        if on {
            *f |= flags::RETRANSMITTED;
        } else {
            *f &= !flags::RETRANSMITTED;
        }
    }
}
