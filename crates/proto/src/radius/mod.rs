//! The RADIUS server side of an AAA (RFC 2865, RFC 3579 for EAP, RFC 2866 accounting,
//! RFC 5997 Status-Server, RFC 5080 duplicate detection), as a sans-I/O engine.
//!
//! The engine checks each datagram (known client, well-formed, Message-Authenticator present
//! and valid for EAP, Request Authenticator for accounting), answers retransmissions from its
//! cache instead of handing them on twice, and builds and signs the answers the EAP server
//! decides on (Access-Challenge with State, Access-Accept with MS-MPPE keys, Access-Reject).
//! What an EAP conversation means is not its business: it hands the EAP message and the
//! State attribute to the node, which owns the EAP sessions.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use mobstrap_crypto::radius as rcrypto;
use mobstrap_wire::radius::{AttrType, Attribute, Code, Repr, VendorAttr, Vsa};

pub mod client;
pub use client::{Answer, ClientConfig, ClientError, RadiusClient};

/// Microsoft's vendor id and the MS-MPPE key attribute types (RFC 2548).
const VENDOR_MICROSOFT: u32 = 311;
const MS_MPPE_SEND_KEY: u8 = 16;
const MS_MPPE_RECV_KEY: u8 = 17;

/// A RADIUS client (NAS, ePDG, gateway) and its shared secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Client {
    pub name: String,
    pub secret: Vec<u8>,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long an answer stays in the duplicate cache (RFC 5080 §2.2.2 suggests a few
    /// seconds; NASes retransmit for up to about 30 s).
    pub duplicate_window: Duration,
    /// Upper bound on cached requests, so that a flood cannot grow memory without bound.
    pub max_cached: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            duplicate_window: Duration::from_secs(30),
            max_cached: 1 << 20,
        }
    }
}

/// Why a datagram was dropped (RFC 2865: silently; the node counts and logs one line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// The source address is not a configured client.
    UnknownClient,
    /// The packet does not parse; the field is named.
    Malformed(mobstrap_wire::Error),
    /// An Access-Request carrying EAP without a Message-Authenticator (RFC 3579 §3.3).
    MissingMessageAuthenticator,
    /// Message-Authenticator or Request Authenticator does not verify (wrong secret?).
    BadAuthenticator,
    /// A code a server does not accept (responses, CoA/Disconnect to the auth port, ...).
    UnexpectedCode(u8),
    /// The duplicate cache is full.
    Overloaded,
}

impl core::fmt::Display for Drop {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Drop::UnknownClient => f.write_str("unknown client"),
            Drop::Malformed(e) => write!(f, "malformed: {e}"),
            Drop::MissingMessageAuthenticator => {
                f.write_str("EAP-Message without Message-Authenticator")
            }
            Drop::BadAuthenticator => f.write_str("authenticator does not verify"),
            Drop::UnexpectedCode(c) => write!(f, "unexpected code {c}"),
            Drop::Overloaded => f.write_str("duplicate cache full"),
        }
    }
}

/// Identifies a request until it is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token {
    src: SocketAddr,
    identifier: u8,
    authenticator: [u8; 16],
}

impl Token {
    pub fn source(&self) -> SocketAddr {
        self.src
    }
}

/// An Access-Request carrying EAP, for the node's EAP server.
#[derive(Debug)]
pub struct EapRequest<'a> {
    pub token: Token,
    /// The client's configured name.
    pub client: &'a str,
    /// The EAP message, joined from its EAP-Message attributes.
    pub eap: Cow<'a, [u8]>,
    /// The State attribute of a continuing conversation.
    pub state: Option<&'a [u8]>,
    pub user_name: Option<&'a [u8]>,
    pub calling_station_id: Option<&'a [u8]>,
    pub called_station_id: Option<&'a [u8]>,
    pub nas_identifier: Option<&'a [u8]>,
}

/// What the engine makes of a datagram.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// A new EAP request for the EAP server; answer it with [`RadiusServer::respond`].
    Eap(EapRequest<'a>),
    /// An Access-Request without EAP (PAP, CHAP): this server only authenticates with EAP;
    /// answer with [`Outcome::Reject`].
    NotEap(Token),
    /// Send these bytes back to the source: a cached answer to a retransmission, a
    /// Status-Server reply, or an Accounting-Response.
    Reply(Vec<u8>),
    /// A retransmission of a request still being worked on: ignore it.
    InProgress,
    /// Drop silently (count it and log one line).
    Drop(Drop),
}

/// The EAP server's decision for one request.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// Access-Challenge with the next EAP request and the State that names the session.
    Challenge { eap: &'a [u8], state: &'a [u8] },
    /// Access-Accept with EAP-Success and the MSK as MS-MPPE keys (RFC 3579 §3.1,
    /// RFC 2548: Recv-Key = MSK[0..32], Send-Key = MSK[32..64]).
    Accept {
        eap: &'a [u8],
        msk: &'a [u8; 64],
        user_name: Option<&'a [u8]>,
        session_timeout: Option<u32>,
    },
    /// Access-Reject, with EAP-Failure when the conversation got that far.
    Reject { eap: Option<&'a [u8]> },
}

/// Counters for the node's metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub requests: u64,
    pub duplicates: u64,
    pub dropped: u64,
    pub accepts: u64,
    pub rejects: u64,
    pub challenges: u64,
    pub accounting: u64,
    pub status_server: u64,
}

#[derive(Debug)]
struct Cached {
    answer: Option<Vec<u8>>,
}

/// Clients configured as a network (`10.0.0.0/8`): every source address in it shares the
/// secret. Exact addresses are looked up first, then the longest matching prefix.
#[derive(Debug, Clone)]
pub struct ClientNetwork {
    pub network: IpAddr,
    pub prefix_len: u8,
    pub client: Client,
}

impl ClientNetwork {
    /// Whether `ip` is inside the network (an IPv4-mapped IPv6 source matches IPv4 networks).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let len = u32::from(self.prefix_len.min(32));
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let len = u32::from(self.prefix_len.min(128));
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The engine. One per listening socket (or shared by several, keyed by source address).
#[derive(Debug)]
pub struct RadiusServer {
    clients: HashMap<IpAddr, Client>,
    /// Longest prefix first.
    networks: Vec<ClientNetwork>,
    config: Config,
    cache: HashMap<Token, Cached>,
    expiry: VecDeque<(Instant, Token)>,
    counters: Counters,
}

impl RadiusServer {
    pub fn new(config: Config, clients: impl IntoIterator<Item = (IpAddr, Client)>) -> Self {
        RadiusServer {
            clients: clients.into_iter().collect(),
            networks: Vec::new(),
            config,
            cache: HashMap::new(),
            expiry: VecDeque::new(),
            counters: Counters::default(),
        }
    }

    /// Adds clients given as networks (`address/prefix`).
    pub fn with_networks(mut self, networks: impl IntoIterator<Item = ClientNetwork>) -> Self {
        self.networks.extend(networks);
        self.networks
            .sort_by_key(|n| std::cmp::Reverse(n.prefix_len));
        self
    }

    /// The client a source address belongs to: an exact address, else the longest prefix.
    pub fn client(&self, ip: IpAddr) -> Option<&Client> {
        if let Some(c) = self.clients.get(&ip) {
            return Some(c);
        }
        self.networks
            .iter()
            .find(|n| n.contains(ip))
            .map(|n| &n.client)
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Requests in the duplicate cache (answered or in progress).
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    fn expire(&mut self, now: Instant) {
        while let Some((t, _)) = self.expiry.front() {
            if now.saturating_duration_since(*t) < self.config.duplicate_window {
                break;
            }
            if let Some((_, tok)) = self.expiry.pop_front() {
                self.cache.remove(&tok);
            }
        }
    }

    fn drop(&mut self, why: Drop) -> Incoming<'static> {
        self.counters.dropped += 1;
        Incoming::Drop(why)
    }

    /// Takes one datagram from `src`.
    pub fn handle_datagram<'a>(
        &'a mut self,
        src: SocketAddr,
        data: &'a [u8],
        now: Instant,
    ) -> Incoming<'a> {
        self.expire(now);
        let Some(client) = self.client(src.ip()) else {
            return self.drop(Drop::UnknownClient);
        };
        let secret = client.secret.clone();
        let repr = match Repr::parse(data) {
            Ok(r) => r,
            Err(e) => return self.drop(Drop::Malformed(e)),
        };
        let token = Token {
            src,
            identifier: repr.identifier,
            authenticator: repr.authenticator,
        };
        match repr.code {
            Code::AccessRequest | Code::AccountingRequest | Code::StatusServer => {}
            other => return self.drop(Drop::UnexpectedCode(other.value())),
        }
        // Authenticate before anything else is believed (RFC 3579 §3.2, RFC 2866 §3).
        let has_eap = repr.attribute(AttrType::EapMessage).is_some();
        match rcrypto::verify_request(data, &secret) {
            Ok(true) => {}
            Ok(false) if has_eap || repr.code == Code::StatusServer => {
                return self.drop(Drop::MissingMessageAuthenticator)
            }
            Ok(false) => {}
            Err(rcrypto::RadiusCryptoError::Malformed(_)) => {
                return self.drop(Drop::Malformed(mobstrap_wire::Error::bad_length(
                    "radius", "Length",
                )))
            }
            Err(_) => return self.drop(Drop::BadAuthenticator),
        }
        // Duplicate detection (RFC 5080 §2.2.2): same source, identifier and authenticator.
        if let Some(c) = self.cache.get(&token) {
            self.counters.duplicates += 1;
            return match &c.answer {
                Some(a) => Incoming::Reply(a.clone()),
                None => Incoming::InProgress,
            };
        }
        if self.cache.len() >= self.config.max_cached {
            return self.drop(Drop::Overloaded);
        }
        self.counters.requests += 1;
        match repr.code {
            Code::StatusServer => {
                self.counters.status_server += 1;
                let reply = build_and_sign(Code::AccessAccept, token, &secret, &[]);
                self.remember(token, Some(reply.clone()), now);
                Incoming::Reply(reply)
            }
            Code::AccountingRequest => {
                self.counters.accounting += 1;
                let reply = build_and_sign(Code::AccountingResponse, token, &secret, &[]);
                self.remember(token, Some(reply.clone()), now);
                Incoming::Reply(reply)
            }
            _ => {
                self.remember(token, None, now);
                let client = self.client(src.ip()).map(|c| c.name.as_str()).unwrap_or("");
                let get = |t: AttrType| repr.attribute(t).and_then(|a| a.as_bytes());
                match repr.eap_message() {
                    Some(eap) => Incoming::Eap(EapRequest {
                        token,
                        client,
                        eap,
                        state: get(AttrType::State),
                        user_name: get(AttrType::UserName),
                        calling_station_id: get(AttrType::CallingStationId),
                        called_station_id: get(AttrType::CalledStationId),
                        nas_identifier: get(AttrType::NasIdentifier),
                    }),
                    None => Incoming::NotEap(token),
                }
            }
        }
    }

    fn remember(&mut self, token: Token, answer: Option<Vec<u8>>, now: Instant) {
        self.cache.insert(token, Cached { answer });
        self.expiry.push_back((now, token));
    }

    /// Builds and signs the answer to `token`, caches it for retransmissions, and returns
    /// the bytes to send. `salt` seeds the MS-MPPE salts (random per answer).
    pub fn respond(
        &mut self,
        token: Token,
        outcome: Outcome<'_>,
        salt: u16,
    ) -> Result<Vec<u8>, ResponseError> {
        let secret = self
            .client(token.src.ip())
            .map(|c| c.secret.clone())
            .ok_or(ResponseError::ClientGone)?;
        let mut attrs: Vec<Attribute<'_>> = Vec::new();
        let (code, mppe);
        match outcome {
            Outcome::Challenge { eap, state } => {
                code = Code::AccessChallenge;
                push_eap(&mut attrs, eap);
                attrs.push(Attribute::octets(AttrType::State, state));
                mppe = None;
                self.counters.challenges += 1;
            }
            Outcome::Accept {
                eap,
                msk,
                user_name,
                session_timeout,
            } => {
                code = Code::AccessAccept;
                push_eap(&mut attrs, eap);
                if let Some(u) = user_name {
                    attrs.push(Attribute::octets(AttrType::UserName, u));
                }
                if let Some(t) = session_timeout {
                    attrs.push(Attribute::integer(AttrType::SessionTimeout, t));
                }
                let s = (salt | 0x8000).to_be_bytes();
                let s2 = ((salt.wrapping_add(1)) | 0x8000).to_be_bytes();
                let recv = rcrypto::encrypt_mppe_key(&msk[..32], &secret, &token.authenticator, s)
                    .map_err(ResponseError::Crypto)?;
                let send = rcrypto::encrypt_mppe_key(&msk[32..], &secret, &token.authenticator, s2)
                    .map_err(ResponseError::Crypto)?;
                mppe = Some((recv, send));
                self.counters.accepts += 1;
            }
            Outcome::Reject { eap } => {
                code = Code::AccessReject;
                if let Some(e) = eap {
                    push_eap(&mut attrs, e);
                }
                mppe = None;
                self.counters.rejects += 1;
            }
        }
        if let Some((recv, send)) = &mppe {
            // One Vendor-Specific attribute per key, as hostapd and FreeRADIUS send them:
            // strongSwan's eap-radius (libradius decrypt_msk) reads only a VSA holding exactly
            // one MS-MPPE key and otherwise establishes no MSK.
            for (vendor_type, value) in [(MS_MPPE_RECV_KEY, recv), (MS_MPPE_SEND_KEY, send)] {
                attrs.push(Attribute::vendor(Vsa::new(
                    VENDOR_MICROSOFT,
                    vec![VendorAttr { vendor_type, value }],
                )));
            }
        }
        let bytes = build_and_sign(code, token, &secret, &attrs);
        if let Some(c) = self.cache.get_mut(&token) {
            c.answer = Some(bytes.clone());
        }
        Ok(bytes)
    }

    /// Forgets a request that will not be answered (the EAP server dropped it), so that a
    /// retransmission is processed afresh.
    pub fn abandon(&mut self, token: Token) {
        if matches!(self.cache.get(&token), Some(Cached { answer: None })) {
            self.cache.remove(&token);
        }
    }
}

/// Why an answer could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error("radius: the client was removed before the answer")]
    ClientGone,
    #[error("radius: {0}")]
    Crypto(rcrypto::RadiusCryptoError),
}

fn push_eap<'a>(attrs: &mut Vec<Attribute<'a>>, eap: &'a [u8]) {
    for chunk in eap.chunks(253) {
        attrs.push(Attribute::octets(AttrType::EapMessage, chunk));
    }
}

/// Emits a response with a Message-Authenticator and signs it. Only attributes this module
/// built go in, so emission cannot fail on length grounds except for a pathological EAP
/// message longer than a RADIUS packet, which the EAP server never produces.
fn build_and_sign(code: Code, token: Token, secret: &[u8], attrs: &[Attribute<'_>]) -> Vec<u8> {
    let mut r = Repr::new(code, token.identifier, token.authenticator);
    r.attributes.extend_from_slice(attrs);
    r.push_message_authenticator();
    let mut out = Vec::with_capacity(r.buffer_len());
    if r.emit(&mut out).is_err() {
        // Too long for RADIUS: answer with a bare reject rather than nothing.
        let mut rej = Repr::new(Code::AccessReject, token.identifier, token.authenticator);
        rej.push_message_authenticator();
        out.clear();
        let _ = rej.emit(&mut out);
    }
    let _ = rcrypto::sign_response(&mut out, &token.authenticator, secret);
    out
}

#[cfg(test)]
mod tests;
