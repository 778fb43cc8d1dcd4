//! What applications and clients see: the [`Application`] trait (a local Diameter
//! application), [`Request`] / [`Reply`] / [`Responder`] (answering now or later),
//! [`ProxyHook`] (rewriting proxied requests and answers), [`Answer`] and [`RequestError`]
//! (the client API).

use std::sync::Arc;

use bytes::Bytes;
use mobstrap_proto::diameter::{rules, LocalIdentity, Rejection};
use mobstrap_wire::diameter::{dict, AvpRepr, Message, MessageRepr};
use tokio::sync::mpsc::UnboundedSender;

use super::conn::Cmd;

/// A Diameter application served by this node (the AAA's SWm/STa/S6b, a test server...).
///
/// `handle` runs on the connection's task and must not block: answer at once with
/// [`Reply::Answer`], or take a [`Responder`] ([`Request::responder`]), return
/// [`Reply::Later`] and answer from another task (e.g. after a store write).
pub trait Application: Send + Sync + 'static {
    /// The command codes served; other commands of the application get 3001
    /// DIAMETER_COMMAND_UNSUPPORTED.
    fn commands(&self) -> &[u32];
    /// One request (already validated by the codec and routed here).
    fn handle(&self, req: &Request<'_>) -> Reply;
}

/// What [`Application::handle`] did with a request.
#[derive(Debug)]
pub enum Reply {
    /// The whole answer, encoded (see [`Request::answer`] and [`Reply::from_repr`]).
    Answer(Vec<u8>),
    /// A [`Responder`] was taken and will answer.
    Later,
}

impl Reply {
    /// Encodes an answer built with [`Request::answer`].
    pub fn from_repr(ans: &MessageRepr<'_>) -> Reply {
        let mut v = Vec::with_capacity(ans.buffer_len());
        match ans.emit(&mut v) {
            Ok(()) => Reply::Answer(v),
            // Only a command code over 24 bits fails; answer_to copies a valid one.
            Err(_) => Reply::Answer(Vec::new()),
        }
    }
}

/// A request delivered to an [`Application`].
pub struct Request<'a> {
    pub(crate) msg: Message<'a>,
    pub(crate) bytes: &'a Bytes,
    pub(crate) peer: &'a str,
    pub(crate) identity: &'a Arc<LocalIdentity>,
    pub(crate) tx: &'a UnboundedSender<Cmd>,
    pub(crate) dup_key: Option<(&'a str, u32)>,
}

impl<'a> Request<'a> {
    /// The validated message (AVPs are iterated from the bytes without allocating).
    pub fn message(&self) -> &Message<'a> {
        &self.msg
    }
    /// The bytes as received (cheap to clone and keep).
    pub fn bytes(&self) -> &Bytes {
        self.bytes
    }
    /// The Origin-Host of the peer that sent it on this connection (not necessarily the
    /// request's Origin-Host, when an agent relayed it).
    pub fn peer_host(&self) -> &str {
        self.peer
    }
    pub fn identity(&self) -> &LocalIdentity {
        self.identity
    }
    /// Our identity, shared (for an answer built on another task).
    pub fn identity_arc(&self) -> Arc<LocalIdentity> {
        self.identity.clone()
    }

    /// The answer skeleton: Session-Id first, Result-Code, Origin-Host, Origin-Realm and
    /// the request's Proxy-Info (RFC 6733 §6.2); push the application's AVPs.
    pub fn answer(&self, result_code: u32) -> MessageRepr<'a> {
        let id: &'a LocalIdentity = self.identity;
        let mut a = MessageRepr::answer_to(&self.msg);
        a.push(AvpRepr::u32(&dict::RESULT_CODE, result_code))
            .push(AvpRepr::utf8(&dict::ORIGIN_HOST, &id.origin_host))
            .push(AvpRepr::utf8(&dict::ORIGIN_REALM, &id.origin_realm));
        a.push_proxy_info(&self.msg);
        if mobstrap_proto::diameter::rc::is_protocol_error(result_code) {
            a.header.flags |= mobstrap_wire::diameter::message::flags::ERROR;
        }
        a
    }

    /// An error answer: Result-Code, Error-Message, Failed-AVP (5005 from
    /// `rules::check_avps`, 5004 for a value the application rejects, ...).
    pub fn reject(&self, rejection: &Rejection) -> Reply {
        let mut v = Vec::new();
        rules::answer_error(&self.msg, self.identity, rejection, &mut v);
        Reply::Answer(v)
    }

    /// A handle to answer later, from any task. Dropping it unanswered answers 5012
    /// DIAMETER_UNABLE_TO_COMPLY.
    pub fn responder(&self) -> Responder {
        Responder {
            tx: self.tx.clone(),
            request: self.bytes.clone(),
            identity: self.identity.clone(),
            dup_key: self.dup_key.map(|(h, e)| (Arc::from(h), e)),
            done: false,
        }
    }
}

/// Answers a request later (see [`Request::responder`]).
pub struct Responder {
    tx: UnboundedSender<Cmd>,
    request: Bytes,
    identity: Arc<LocalIdentity>,
    dup_key: Option<(Arc<str>, u32)>,
    done: bool,
}

impl Responder {
    /// The request, as received.
    pub fn request_bytes(&self) -> &Bytes {
        &self.request
    }
    pub fn identity(&self) -> &Arc<LocalIdentity> {
        &self.identity
    }
    /// Sends the encoded answer (its identifiers those of the request, e.g. built with
    /// `MessageRepr::answer_to`). False when the connection is gone.
    pub fn send(mut self, answer: Vec<u8>) -> bool {
        self.done = true;
        self.tx
            .send(Cmd::Answer {
                bytes: answer,
                dup_key: self.dup_key.take(),
            })
            .is_ok()
    }
    /// Sends an answer built with `MessageRepr`.
    pub fn send_repr(self, answer: &MessageRepr<'_>) -> bool {
        match Reply::from_repr(answer) {
            Reply::Answer(v) => self.send(v),
            Reply::Later => false,
        }
    }
    /// Answers with an error.
    pub fn reject(self, rejection: &Rejection) -> bool {
        let mut v = Vec::new();
        if let Ok(m) = Message::parse(&self.request) {
            rules::answer_error(&m, &self.identity, rejection, &mut v);
        }
        self.send(v)
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut v = Vec::new();
        if let Ok(m) = Message::parse(&self.request) {
            let r = Rejection::new(
                mobstrap_proto::diameter::rc::UNABLE_TO_COMPLY,
                "request dropped by the application",
            );
            rules::answer_error(&m, &self.identity, &r, &mut v);
        }
        let _ = self.tx.send(Cmd::Answer {
            bytes: v,
            dup_key: self.dup_key.take(),
        });
    }
}

/// Rewrites proxied messages of one application (RFC 6733 §2.8.3 proxy agents), e.g. the
/// visited AAA that maps the APN to a visited gateway in the answer coming back from the
/// home AAA. Write the new message into `out` (identifiers and flags as in the input; the
/// node sets the Hop-by-Hop Identifier) and return true, or return false to leave it as is.
/// `raw` is the validated message's bytes (for `MessageRepr::parse`).
pub trait ProxyHook: Send + Sync + 'static {
    /// A request about to be forwarded (before Route-Record is added). `Err` answers the
    /// request with the rejection instead.
    fn request(&self, req: &Message<'_>, raw: &[u8], out: &mut Vec<u8>) -> Result<bool, Rejection> {
        let _ = (req, raw, out);
        Ok(false)
    }
    /// An answer coming back; `req` is the request as it was forwarded.
    fn answer(&self, req: &Message<'_>, ans: &Message<'_>, raw: &[u8], out: &mut Vec<u8>) -> bool {
        let _ = (req, ans, raw, out);
        false
    }
}

/// An answer to a request sent with the client API.
#[derive(Debug, Clone)]
pub struct Answer {
    bytes: Bytes,
}

impl Answer {
    pub(crate) fn new(bytes: Bytes) -> Self {
        Answer { bytes }
    }
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
    /// The answer (validated when it arrived).
    pub fn message(&self) -> Result<Message<'_>, mobstrap_wire::Error> {
        Message::parse(&self.bytes)
    }
    pub fn result_code(&self) -> Option<u32> {
        self.message().ok().and_then(|m| m.result_code())
    }
}

/// Why the client API has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The request itself does not parse.
    #[error("invalid request: {0}")]
    Invalid(mobstrap_wire::Error),
    /// No route (3002 / 3003 / 3007 / 3005 as this node would have answered).
    #[error("not routed: {0}")]
    NoRoute(Rejection),
    /// No answer within the request timeout.
    #[error("no answer in time")]
    Timeout,
    /// The answer did not pass the codec's checks.
    #[error("malformed answer: {0}")]
    MalformedAnswer(Rejection),
    /// The node is shutting down.
    #[error("node is shut down")]
    Shutdown,
}

impl RequestError {
    /// The Result-Code a proxy answers its client with.
    pub fn result_code(&self) -> u32 {
        use mobstrap_proto::diameter::rc;
        match self {
            RequestError::Invalid(_) => rc::UNABLE_TO_COMPLY,
            RequestError::NoRoute(r) => r.result_code,
            _ => rc::UNABLE_TO_DELIVER,
        }
    }
}
