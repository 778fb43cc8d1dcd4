//! The EAP peer (RFC 3748 peer side, RFC 4137 peer state machine in spirit): answers
//! Identity and Notification, Naks methods it does not run, hands method Requests to a
//! [`PeerMethod`], and decides on Success/Failure.
//!
//! Duplicate Requests (same Identifier and bytes as the last one answered) get the last
//! Response again without reprocessing (RFC 3748 §4.1). Responses, unknown codes and
//! malformed packets are silently discarded. No timers: the authenticator retransmits.

use std::collections::VecDeque;

use mobstrap_crypto::SecretBytes;
use mobstrap_wire::eap::{Code, Packet, Type};
use rand::RngCore;

use super::{Discard, Method};

/// Why the peer's side of an authentication failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerFailure {
    /// EAP-Failure arrived.
    EapFailure,
    /// EAP-Success arrived when the method had not authenticated the server (or result
    /// indications were agreed and no Success notification came): treated as failure.
    UnexpectedSuccess,
    /// AUTN did not verify: we sent Authentication-Reject.
    AutnRejected,
    /// EAP-AKA' without the AMF separation bit: Authentication-Reject.
    AmfSeparationBit,
    /// EAP-AKA challenge with AT_BIDDING D while we support EAP-AKA' (RFC 9048 §4).
    BiddingDown,
    /// EAP-AKA' KDF or AT_KDF_INPUT unacceptable: Authentication-Reject.
    Kdf,
    /// The network name differs from ours under the strict policy.
    NetworkName,
    /// AT_MAC of a Request did not verify: Client-Error.
    BadMac,
    /// AT_CHECKCODE differs: Client-Error.
    BadCheckcode,
    /// Any other malformed or unexpected method Request: Client-Error.
    ProtocolError,
    /// The server sent a failure notification with this code.
    Notification(u16),
}

/// A completed authentication on the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSuccess {
    pub method: Method,
    pub identity: Vec<u8>,
    pub msk: SecretBytes<64>,
    pub emsk: SecretBytes<64>,
    pub session_id: [u8; 33],
    pub fast_reauth: bool,
}

/// What the peer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// EAP-Success accepted; keys exported.
    Success(Box<PeerSuccess>),
    /// The conversation failed (the final EAP-Failure may follow for local rejections).
    Failure(PeerFailure),
    /// An EAP or AKA notification was shown (AKA code, or 0 with the EAP text).
    Notification { code: u16 },
    /// A pseudonym learned (full NAI, committed on success).
    Pseudonym(String),
    /// A fast re-authentication identity learned (committed on success).
    ReauthId(String),
    /// The server asked for re-synchronisation data: we sent AUTS.
    SyncFailureSent,
}

/// The context a peer method writes into.
pub struct PeerCtx<'a> {
    /// Identifier of the Request being answered.
    pub identifier: u8,
    /// The whole Response goes here.
    pub tx: &'a mut Vec<u8>,
    pub events: &'a mut VecDeque<PeerEvent>,
    pub rng: &'a mut dyn RngCore,
}

/// What a peer method did with a Request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerStep {
    /// A Response is in `tx`.
    Respond,
    /// Silently discard the Request.
    Discard(&'static str),
}

/// One EAP method on the peer side (hostapd's `eap_method` for `eap_peer`).
pub trait PeerMethod {
    /// Whether this method runs EAP type `typ` (and is allowed to).
    fn allows(&self, typ: u8) -> bool;
    /// Types for a Nak, in preference order.
    fn acceptable(&self) -> Vec<u8>;
    /// The identity for EAP-Response/Identity; the method keeps it as the EAP identity of
    /// the conversation that begins.
    fn eap_identity(&mut self) -> Vec<u8>;
    /// A new conversation begins without an Identity round (e.g. a method Request first).
    fn begin(&mut self);
    /// Processes a Request of type `typ` (whole EAP packet).
    fn process(&mut self, typ: u8, packet: &[u8], ctx: &mut PeerCtx<'_>) -> PeerStep;
    /// EAP-Success arrived: `true` (and a Success event queued) if the method accepts it.
    fn success(&mut self, events: &mut VecDeque<PeerEvent>) -> bool;
    /// EAP-Failure arrived.
    fn failure(&mut self);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Running,
    Done,
}

/// One EAP peer; it may run many conversations one after another (a UE re-attaching, a load
/// generator), keeping what the method learned (pseudonyms, re-authentication state, SQN).
pub struct EapPeer<M> {
    method: M,
    phase: Phase,
    last_id: Option<u8>,
    last_hash: u64,
    tx: Vec<u8>,
    tx_pending: bool,
    events: VecDeque<PeerEvent>,
}

fn fnv1a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in b {
        h ^= u64::from(c);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl<M: PeerMethod> EapPeer<M> {
    pub fn new(method: M) -> Self {
        EapPeer {
            method,
            phase: Phase::Idle,
            last_id: None,
            last_hash: 0,
            tx: Vec::with_capacity(256),
            tx_pending: false,
            events: VecDeque::with_capacity(4),
        }
    }

    /// Feeds one EAP Request, Success or Failure.
    pub fn handle_request(&mut self, packet: &[u8], rng: &mut dyn RngCore) -> Result<(), Discard> {
        let p = Packet::new_checked(packet).map_err(Discard::Malformed)?;
        let packet = p.message();
        let id = p.identifier();
        match p.code() {
            Code::Request => {}
            Code::Success | Code::Failure => return self.handle_result(p.code(), id),
            c => return Err(Discard::UnexpectedCode(c.value())),
        }
        let typ = p
            .typ()
            .ok_or(Discard::Malformed(mobstrap_wire::Error::truncated(
                "eap", "Type",
            )))?;
        let hash = fnv1a(packet);
        if self.phase == Phase::Running && self.last_id == Some(id) && self.last_hash == hash {
            // A retransmission: the same answer again.
            self.tx_pending = !self.tx.is_empty();
            return Ok(());
        }
        match typ {
            t if t == Type::Identity.value() => {
                // A new conversation.
                let identity = self.method.eap_identity();
                self.tx.clear();
                self.tx
                    .extend_from_slice(&[Code::Response.value(), id, 0, 0, t]);
                self.tx.extend_from_slice(&identity);
                self.patch_len();
                self.phase = Phase::Running;
            }
            t if t == Type::Notification.value() => {
                self.events.push_back(PeerEvent::Notification { code: 0 });
                self.tx.clear();
                self.tx
                    .extend_from_slice(&[Code::Response.value(), id, 0, 5, t]);
            }
            t if t == Type::Nak.value() || t == Type::Expanded.value() => {
                return Err(Discard::UnexpectedType(t));
            }
            t if self.method.allows(t) => {
                if self.phase != Phase::Running {
                    self.method.begin();
                    self.phase = Phase::Running;
                }
                let mut ctx = PeerCtx {
                    identifier: id,
                    tx: &mut self.tx,
                    events: &mut self.events,
                    rng,
                };
                match self.method.process(t, packet, &mut ctx) {
                    PeerStep::Respond => {}
                    PeerStep::Discard(why) => return Err(Discard::Method(why)),
                }
            }
            t => {
                // Legacy Nak with what we would run (RFC 3748 §5.3.1; 0 = nothing).
                let mut list = self.method.acceptable();
                if list.is_empty() {
                    list.push(0);
                }
                self.tx.clear();
                self.tx
                    .extend_from_slice(&[Code::Response.value(), id, 0, 0, 3]);
                self.tx.extend_from_slice(&list);
                self.patch_len();
                if self.phase != Phase::Running {
                    self.method.begin();
                    self.phase = Phase::Running;
                }
                let _ = t;
            }
        }
        self.last_id = Some(id);
        self.last_hash = hash;
        self.tx_pending = true;
        Ok(())
    }

    fn handle_result(&mut self, code: Code, id: u8) -> Result<(), Discard> {
        if self.phase != Phase::Running {
            return Err(Discard::NotStarted);
        }
        // RFC 3748 §4.2: the Identifier matches the last Response (some authenticators
        // increment it; RFC 4137 accepts both).
        if let Some(last) = self.last_id {
            if id != last && id != last.wrapping_add(1) {
                return Err(Discard::IdentifierMismatch {
                    expected: last,
                    got: id,
                });
            }
        }
        self.phase = Phase::Done;
        self.tx.clear();
        self.tx_pending = false;
        if code == Code::Success {
            if !self.method.success(&mut self.events) {
                self.events
                    .push_back(PeerEvent::Failure(PeerFailure::UnexpectedSuccess));
            }
        } else {
            self.method.failure();
            self.events
                .push_back(PeerEvent::Failure(PeerFailure::EapFailure));
        }
        Ok(())
    }

    fn patch_len(&mut self) {
        let n = self.tx.len().min(u16::MAX as usize) as u16;
        self.tx[2..4].copy_from_slice(&n.to_be_bytes());
    }

    /// The Response to send, once.
    pub fn poll_transmit(&mut self) -> Option<&[u8]> {
        if self.tx_pending {
            self.tx_pending = false;
            Some(&self.tx)
        } else {
            None
        }
    }

    pub fn poll_event(&mut self) -> Option<PeerEvent> {
        self.events.pop_front()
    }

    /// True once Success or Failure arrived.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Begins a conversation whose identity travels outside EAP (IKEv2 IDi, a link layer):
    /// returns the identity to send there; the method uses it as the EAP identity.
    pub fn begin_with_external_identity(&mut self) -> Vec<u8> {
        self.restart();
        let id = self.method.eap_identity();
        self.phase = Phase::Running;
        id
    }

    /// Prepares a new conversation (keeps what the method learned).
    pub fn restart(&mut self) {
        self.phase = Phase::Idle;
        self.last_id = None;
        self.tx.clear();
        self.tx_pending = false;
    }

    pub fn method(&self) -> &M {
        &self.method
    }

    pub fn method_mut(&mut self) -> &mut M {
        &mut self.method
    }
}
