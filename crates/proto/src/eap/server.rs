//! The EAP server session (RFC 3748 authenticator logic as a backend AAA server runs it):
//! the optional Identity round, method selection, legacy and expanded Nak, Identifier
//! management, the round limit, Success/Failure. Everything method-specific is behind
//! [`ServerMethod`].
//!
//! Input: EAP Response packets (bytes, as carried in RADIUS EAP-Message or Diameter
//! EAP-Payload). Output: the next packet (Request, Success or Failure) from
//! [`EapServer::poll_transmit`], and [`Event`]s from [`EapServer::poll_event`].
//!
//! RFC 3748 §4.1 / RFC 4137: a Response whose Identifier is not the outstanding one, whose
//! Type does not match the Request, or that arrives when none is expected is silently
//! discarded: [`EapServer::handle_response`] returns [`Discard`] and nothing changes. The
//! engine has no timers: the pass-through authenticator retransmits, and the node expires
//! idle sessions. [`EapServer::last_request`] gives the outstanding Request again if the
//! node wants to answer a retransmitted Response with it.

use std::collections::VecDeque;

use mobstrap_wire::eap::{Code, Packet, Type, VENDOR_IETF};
use rand::RngCore;

use super::{AuthFailure, Discard, Event, FailureReason};

/// Generic server settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Responses processed before the server gives up with EAP-Failure (hostapd uses 50).
    pub max_rounds: u16,
    /// How many times a Nak may switch the method.
    pub max_method_switches: u8,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_rounds: 50,
            max_method_switches: 1,
        }
    }
}

/// The context a method writes into.
pub struct ServerCtx<'a> {
    /// Identifier of the Request the method writes now (if it writes one).
    pub identifier: u8,
    /// The whole EAP packet of the Request goes here (the method clears it first).
    pub tx: &'a mut Vec<u8>,
    pub events: &'a mut VecDeque<Event>,
    pub rng: &'a mut dyn RngCore,
}

/// What a method did with its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A Request is in `tx`.
    Request,
    /// The method waits for the node (an [`Event::Need`] was queued).
    Pending,
    /// Send EAP-Success (the method queued [`Event::Success`]).
    Success,
    /// Send EAP-Failure (the method queued [`Event::Failure`]).
    Failure,
    /// Silently discard the Response (RFC 3748 §4.1 integrity check failed).
    Discard(&'static str),
}

/// One EAP method on the server side (hostapd's `eap_method` for `eap_server`).
pub trait ServerMethod {
    /// Whether this method implements and is allowed to run EAP type `typ`.
    fn allows(&self, typ: u8) -> bool;
    /// The type to propose for this identity (from the EAP-Response/Identity, maybe empty).
    fn select(&self, identity: &[u8]) -> Option<u8>;
    /// Starts (or restarts, after a Nak) type `typ`.
    fn start(&mut self, typ: u8, identity: &[u8], ctx: &mut ServerCtx<'_>) -> Step;
    /// Processes a Response of the running type (the whole EAP packet).
    fn process(&mut self, packet: &[u8], ctx: &mut ServerCtx<'_>) -> Step;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    New,
    Identity,
    Method { typ: u8 },
    Pending { typ: u8 },
    Done { success: bool },
}

/// One EAP conversation on the server.
pub struct EapServer<M> {
    config: ServerConfig,
    method: M,
    phase: Phase,
    /// Identifier of the outstanding Request (or of the NAS's Response/Identity we started
    /// from).
    cur_id: u8,
    rounds: u16,
    /// Responses of the running method processed (a Nak is only valid before the first).
    method_answers: u16,
    switches: u8,
    identity: Vec<u8>,
    tx: Vec<u8>,
    tx_pending: bool,
    events: VecDeque<Event>,
}

impl<M: ServerMethod> EapServer<M> {
    pub fn new(config: ServerConfig, method: M) -> Self {
        EapServer {
            config,
            method,
            phase: Phase::New,
            cur_id: 0,
            rounds: 0,
            method_answers: 0,
            switches: 0,
            identity: Vec::new(),
            tx: Vec::with_capacity(256),
            tx_pending: false,
            events: VecDeque::with_capacity(4),
        }
    }

    /// Starts with an EAP-Request/Identity (the lower layer sent EAP-Start or nothing).
    pub fn start(&mut self, rng: &mut dyn RngCore) {
        if self.phase != Phase::New {
            return;
        }
        let id = (rng.next_u32() & 0xff) as u8;
        self.tx.clear();
        self.tx
            .extend_from_slice(&[Code::Request.value(), id, 0, 5, Type::Identity.value()]);
        self.cur_id = id;
        self.tx_pending = true;
        self.phase = Phase::Identity;
    }

    /// Feeds one EAP Response. The first one may be the EAP-Response/Identity the NAS or
    /// ePDG already collected (then no Identity round is run and its Identifier is followed).
    pub fn handle_response(&mut self, packet: &[u8], rng: &mut dyn RngCore) -> Result<(), Discard> {
        let p = Packet::new_checked(packet).map_err(Discard::Malformed)?;
        // Octets beyond Length are lower-layer padding (RFC 3748 §4).
        let packet = p.message();
        if p.code() != Code::Response {
            return Err(Discard::UnexpectedCode(p.code().value()));
        }
        let typ = p
            .typ()
            .ok_or(Discard::Malformed(mobstrap_wire::Error::truncated(
                "eap", "Type",
            )))?;
        let id = p.identifier();
        match self.phase {
            Phase::Done { .. } => return Err(Discard::Finished),
            Phase::Pending { .. } => return Err(Discard::Busy),
            Phase::New => {
                if typ != Type::Identity.value() {
                    return Err(Discard::UnexpectedType(typ));
                }
                self.cur_id = id;
            }
            Phase::Identity | Phase::Method { .. } => {
                if id != self.cur_id {
                    return Err(Discard::IdentifierMismatch {
                        expected: self.cur_id,
                        got: id,
                    });
                }
            }
        }
        match self.phase {
            Phase::New | Phase::Identity => {
                if typ != Type::Identity.value() {
                    return Err(Discard::UnexpectedType(typ));
                }
                self.rounds += 1;
                self.identity.clear();
                self.identity.extend_from_slice(&packet[5..]);
                match self.method.select(&self.identity) {
                    Some(t) => self.start_method(t, rng),
                    None => self.fail(FailureReason::NoCommonMethod),
                }
                Ok(())
            }
            Phase::Method { typ: cur } => {
                let answered = self.method_answers > 0;
                if typ == cur {
                    self.rounds += 1;
                    self.method_answers += 1;
                    self.run(rng, |m, ctx| m.process(packet, ctx), cur)
                } else if !answered && typ == Type::Nak.value() {
                    self.rounds += 1;
                    self.nak(legacy_nak(&packet[5..]), rng);
                    Ok(())
                } else if !answered && typ == Type::Expanded.value() {
                    let list = expanded_nak(&packet[5..]).ok_or(Discard::UnexpectedType(typ))?;
                    self.rounds += 1;
                    self.nak(list, rng);
                    Ok(())
                } else {
                    Err(Discard::UnexpectedType(typ))
                }
            }
            Phase::Pending { .. } | Phase::Done { .. } => Err(Discard::Busy),
        }
    }

    fn nak(&mut self, desired: NakList, rng: &mut dyn RngCore) {
        if self.switches < self.config.max_method_switches {
            let current = match self.phase {
                Phase::Method { typ } => typ,
                _ => 0,
            };
            if let Some(t) = desired
                .iter()
                .find(|&t| t != current && self.method.allows(t))
            {
                self.switches += 1;
                self.start_method(t, rng);
                return;
            }
        }
        self.fail(FailureReason::NoCommonMethod);
    }

    fn start_method(&mut self, typ: u8, rng: &mut dyn RngCore) {
        let identity = std::mem::take(&mut self.identity);
        self.phase = Phase::Method { typ };
        self.method_answers = 0;
        let _ = self.run(rng, |m, ctx| m.start(typ, &identity, ctx), typ);
        self.identity = identity;
    }

    /// Runs the method with a fresh context and applies its step.
    pub(crate) fn run(
        &mut self,
        rng: &mut dyn RngCore,
        f: impl FnOnce(&mut M, &mut ServerCtx<'_>) -> Step,
        typ: u8,
    ) -> Result<(), Discard> {
        let next = self.cur_id.wrapping_add(1);
        let mut ctx = ServerCtx {
            identifier: next,
            tx: &mut self.tx,
            events: &mut self.events,
            rng,
        };
        let step = f(&mut self.method, &mut ctx);
        self.apply(step, next, typ)
    }

    fn apply(&mut self, step: Step, next: u8, typ: u8) -> Result<(), Discard> {
        match step {
            Step::Request => {
                if self.rounds >= self.config.max_rounds {
                    self.fail(FailureReason::TooManyRounds);
                } else {
                    self.cur_id = next;
                    self.tx_pending = true;
                    self.phase = Phase::Method { typ };
                }
            }
            Step::Pending => self.phase = Phase::Pending { typ },
            Step::Success => self.finish(true),
            Step::Failure => self.finish(false),
            Step::Discard(why) => {
                self.rounds = self.rounds.saturating_sub(1);
                self.method_answers = self.method_answers.saturating_sub(1);
                return Err(Discard::Method(why));
            }
        }
        Ok(())
    }

    /// Resumes a method that waited on the node (used by the method's `provide_*`).
    pub(crate) fn resume(
        &mut self,
        rng: &mut dyn RngCore,
        f: impl FnOnce(&mut M, &mut ServerCtx<'_>) -> Step,
    ) {
        if let Phase::Pending { typ } = self.phase {
            let _ = self.run(rng, f, typ);
        }
    }

    /// Whether the engine waits for the node.
    pub fn is_pending(&self) -> bool {
        matches!(self.phase, Phase::Pending { .. })
    }

    fn fail(&mut self, reason: FailureReason) {
        self.events.push_back(Event::Failure(AuthFailure {
            reason,
            method: match self.phase {
                Phase::Method { typ } | Phase::Pending { typ } => super::Method::from_eap_type(typ),
                _ => None,
            },
            imsi: None,
        }));
        self.finish(false);
    }

    fn finish(&mut self, success: bool) {
        // RFC 3748 §4.2: the Identifier of Success/Failure is that of the Response answered.
        let code = if success {
            Code::Success
        } else {
            Code::Failure
        };
        self.tx.clear();
        self.tx
            .extend_from_slice(&[code.value(), self.cur_id, 0, 4]);
        self.tx_pending = true;
        self.phase = Phase::Done { success };
    }

    /// The next packet to send, once.
    pub fn poll_transmit(&mut self) -> Option<&[u8]> {
        if self.tx_pending {
            self.tx_pending = false;
            Some(&self.tx)
        } else {
            None
        }
    }

    /// The last packet sent (the outstanding Request, or Success/Failure at the end).
    pub fn last_request(&self) -> Option<&[u8]> {
        (!self.tx.is_empty()).then_some(&self.tx[..])
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// `Some(true)` after EAP-Success, `Some(false)` after EAP-Failure.
    pub fn outcome(&self) -> Option<bool> {
        match self.phase {
            Phase::Done { success } => Some(success),
            _ => None,
        }
    }

    /// The EAP-Response/Identity (empty before it arrived).
    pub fn eap_identity(&self) -> &[u8] {
        &self.identity
    }

    /// Identifier of the outstanding Request.
    pub fn current_identifier(&self) -> u8 {
        self.cur_id
    }

    pub fn method(&self) -> &M {
        &self.method
    }
}

/// Desired methods of a Nak: up to 8, IETF types only.
#[derive(Debug, Default, Clone, Copy)]
struct NakList {
    types: [u8; 8],
    n: usize,
}

impl NakList {
    fn push(&mut self, t: u8) {
        if self.n < self.types.len() && t != 0 {
            self.types[self.n] = t;
            self.n += 1;
        }
    }
    fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        self.types[..self.n].iter().copied()
    }
}

fn legacy_nak(data: &[u8]) -> NakList {
    let mut l = NakList::default();
    for &t in data {
        l.push(t);
    }
    l
}

fn expanded_nak(data: &[u8]) -> Option<NakList> {
    // Vendor-Id (3), Vendor-Type (4), then 8-byte entries.
    let mut r = mobstrap_wire::Reader::new("eap", data);
    let vendor = r.u24("Expanded.Vendor-Id").ok()?;
    let vtype = r.u32("Expanded.Vendor-Type").ok()?;
    if vendor != VENDOR_IETF || vtype != u32::from(Type::Nak.value()) {
        return None;
    }
    let rest = r.rest();
    if !rest.len().is_multiple_of(8) {
        return None;
    }
    let mut l = NakList::default();
    for e in rest.chunks_exact(8) {
        let v = u32::from_be_bytes([0, e[1], e[2], e[3]]);
        let t = u32::from_be_bytes([e[4], e[5], e[6], e[7]]);
        if e[0] == 254 && v == VENDOR_IETF && t < 256 {
            l.push(t as u8);
        }
    }
    Some(l)
}
