//! Mobile IPv4 (RFC 5944) registration messages on UDP 434: Registration Request (1) and
//! Registration Reply (3) with their extensions ([`ext`]), the seed-004 dual-stack fields in a
//! vendor extension ([`dualstack`]), and the Agent Advertisement ([`agent`]).
//!
//! ```text
//!  Registration Request                     Registration Reply
//!  Type=1 |S|B|D|M|G|r|T|x| Lifetime        Type=3 | Code | Lifetime
//!  Home Address                              Home Address
//!  Home Agent                                Home Agent
//!  Care-of Address                           Identification (64)
//!  Identification (64)                       Extensions...
//!  Extensions...
//! ```
//!
//! Flags, codes and extensions are kept exactly; authenticators are opaque bytes (computing
//! them is `mobstrap-crypto`'s job; [`authenticated_prefix`] gives the bytes they cover).

pub mod agent;
pub mod dualstack;
pub mod ext;
mod samples;

#[cfg(test)]
mod tests;

use crate::codec::{Reader, Writer};
use crate::dissect::{ip_text, Node};
use crate::{Error, Result};

pub use dualstack::DualStack;
pub use ext::{ExtType, Extension, Extensions};
pub use samples::samples;

pub(crate) const P: &str = "mip4";

/// UDP port of Mobile IPv4 registration.
pub const PORT: u16 = 434;

enum_with_unknown! {
    /// Mobile IP message types (IANA "Mobile IP Message Types").
    pub enum MessageType(u8) {
        RegistrationRequest = 1 => "Registration Request",
        RegistrationReply = 3 => "Registration Reply",
    }
}

/// Registration Request flags (RFC 5944 §3.3).
pub mod flags {
    /// Simultaneous bindings.
    pub const S: u8 = 0x80;
    /// Broadcast datagrams.
    pub const B: u8 = 0x40;
    /// Decapsulation by the mobile node (co-located care-of address).
    pub const D: u8 = 0x20;
    /// Minimal encapsulation.
    pub const M: u8 = 0x10;
    /// GRE encapsulation.
    pub const G: u8 = 0x08;
    /// Sent as zero.
    pub const R: u8 = 0x04;
    /// Reverse tunnelling requested.
    pub const T: u8 = 0x02;
    /// Sent as zero.
    pub const X: u8 = 0x01;
}

/// Registration Reply code names (RFC 5944 §3.4, RFC 3012, RFC 3024, RFC 3957).
pub fn reply_code_name(c: u8) -> &'static str {
    match c {
        0 => "registration accepted",
        1 => "registration accepted, but simultaneous mobility bindings unsupported",
        64 => "FA: reason unspecified",
        65 => "FA: administratively prohibited",
        66 => "FA: insufficient resources",
        67 => "FA: mobile node failed authentication",
        68 => "FA: home agent failed authentication",
        69 => "FA: requested Lifetime too long",
        70 => "FA: poorly formed Request",
        71 => "FA: poorly formed Reply",
        72 => "FA: requested encapsulation unavailable",
        77 => "FA: invalid care-of address",
        78 => "FA: registration timeout",
        80 => "FA: home network unreachable",
        81 => "FA: home agent host unreachable",
        82 => "FA: home agent port unreachable",
        88 => "FA: home agent unreachable",
        104 => "FA: unknown challenge",
        105 => "FA: missing challenge",
        106 => "FA: stale challenge",
        128 => "HA: reason unspecified",
        129 => "HA: administratively prohibited",
        130 => "HA: insufficient resources",
        131 => "HA: mobile node failed authentication",
        132 => "HA: foreign agent failed authentication",
        133 => "HA: registration Identification mismatch",
        134 => "HA: poorly formed Request",
        135 => "HA: too many simultaneous mobility bindings",
        136 => "HA: unknown home agent address",
        _ => "unassigned",
    }
}

/// The fixed part of a registration message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    Request {
        /// S B D M G r T x, raw.
        flags: u8,
        lifetime: u16,
        home_address: [u8; 4],
        home_agent: [u8; 4],
        care_of_address: [u8; 4],
        identification: u64,
    },
    Reply {
        code: u8,
        lifetime: u16,
        home_address: [u8; 4],
        home_agent: [u8; 4],
        identification: u64,
    },
    /// Any other message type: everything after the type octet, verbatim.
    Other { msg_type: u8, body: &'a [u8] },
}

impl Message<'_> {
    pub fn msg_type(&self) -> MessageType {
        match self {
            Message::Request { .. } => MessageType::RegistrationRequest,
            Message::Reply { .. } => MessageType::RegistrationReply,
            Message::Other { msg_type, .. } => MessageType::from(*msg_type),
        }
    }
    fn fixed_len(&self) -> usize {
        match self {
            Message::Request { .. } => 24,
            Message::Reply { .. } => 20,
            Message::Other { body, .. } => 1 + body.len(),
        }
    }
}

/// A Mobile IPv4 message on UDP 434.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr<'a> {
    pub message: Message<'a>,
    /// Empty for [`Message::Other`].
    pub extensions: Extensions<'a>,
}

impl<'a> Repr<'a> {
    pub fn new(message: Message<'a>, extensions: Vec<Extension<'a>>) -> Self {
        Repr {
            message,
            extensions: Extensions::List(extensions),
        }
    }

    pub fn parse(b: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, b);
        let t = r.u8("type")?;
        let message = match MessageType::from(t) {
            MessageType::RegistrationRequest => Message::Request {
                flags: r.u8("rrq.flags")?,
                lifetime: r.u16("rrq.lifetime")?,
                home_address: r.array("rrq.home_address")?,
                home_agent: r.array("rrq.home_agent")?,
                care_of_address: r.array("rrq.care_of_address")?,
                identification: r.u64("rrq.identification")?,
            },
            MessageType::RegistrationReply => Message::Reply {
                code: r.u8("rrp.code")?,
                lifetime: r.u16("rrp.lifetime")?,
                home_address: r.array("rrp.home_address")?,
                home_agent: r.array("rrp.home_agent")?,
                identification: r.u64("rrp.identification")?,
            },
            MessageType::Unknown(t) => Message::Other {
                msg_type: t,
                body: r.rest(),
            },
        };
        let extensions = Extensions::parse(r.rest())?;
        Ok(Repr {
            message,
            extensions,
        })
    }

    pub fn buffer_len(&self) -> usize {
        self.message.fixed_len() + self.extensions.buffer_len()
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.put_u8(self.message.msg_type().value());
        match self.message {
            Message::Request {
                flags,
                lifetime,
                home_address,
                home_agent,
                care_of_address,
                identification,
            } => {
                out.put_u8(flags);
                out.put_u16(lifetime);
                out.put(&home_address);
                out.put(&home_agent);
                out.put(&care_of_address);
                out.put_u64(identification);
            }
            Message::Reply {
                code,
                lifetime,
                home_address,
                home_agent,
                identification,
            } => {
                out.put_u8(code);
                out.put_u16(lifetime);
                out.put(&home_address);
                out.put(&home_agent);
                out.put_u64(identification);
            }
            Message::Other { body, .. } => {
                if self.extensions.iter().next().is_some() {
                    out.truncate(start);
                    return Err(Error::bad_value(P, "extensions"));
                }
                out.put(body);
            }
        }
        let r = self.extensions.emit(out);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// The seed-004 fields carried in the message's vendor extensions.
    pub fn dual_stack(&self) -> impl Iterator<Item = DualStack> + '_ {
        self.extensions
            .iter()
            .filter_map(|e| DualStack::from_extension(&e))
    }

    pub fn dissect(&self) -> Node {
        let t = self.message.msg_type();
        let mut n = Node::new("Mobile IP", t.to_string());
        n.push(Node::code("Message Type", t, t.value() as u64, "mip.type"));
        let addr = |label: &str, a: &[u8; 4], field: &str| {
            let s = ip_text(a);
            Node::new(label, s.clone()).field(field, s)
        };
        match self.message {
            Message::Request {
                flags: f,
                lifetime,
                home_address,
                home_agent,
                care_of_address,
                identification,
            } => {
                n.push(
                    Node::new("Flags", format!("0x{f:02x}"))
                        .field("mip.flags", format!("0x{f:02x}")),
                );
                for (label, m, field) in [
                    ("Simultaneous Bindings (S)", flags::S, "mip.s"),
                    ("Broadcast Datagrams (B)", flags::B, "mip.b"),
                    ("Co-located Care-of Address (D)", flags::D, "mip.d"),
                    ("Minimal Encapsulation (M)", flags::M, "mip.m"),
                    ("GRE (G)", flags::G, "mip.g"),
                    ("Reserved (r)", flags::R, "mip.v"),
                    ("Reverse Tunneling (T)", flags::T, "mip.t"),
                    ("Reserved (x)", flags::X, "mip.x"),
                ] {
                    n.push(Node::uint(label, (f & m != 0) as u64, field));
                }
                n.push(Node::uint("Lifetime", lifetime as u64, "mip.life"));
                n.push(addr("Home Address", &home_address, "mip.homeaddr"));
                n.push(addr("Home Agent", &home_agent, "mip.haaddr"));
                n.push(addr("Care of Address", &care_of_address, "mip.coa"));
                n.push(ident(identification));
            }
            Message::Reply {
                code,
                lifetime,
                home_address,
                home_agent,
                identification,
            } => {
                n.push(Node::code(
                    "Reply Code",
                    reply_code_name(code),
                    code as u64,
                    "mip.code",
                ));
                n.push(Node::uint("Lifetime", lifetime as u64, "mip.life"));
                n.push(addr("Home Address", &home_address, "mip.homeaddr"));
                n.push(addr("Home Agent", &home_agent, "mip.haaddr"));
                n.push(ident(identification));
            }
            Message::Other { body, .. } => n.push(Node::bytes("Body", body, "")),
        }
        if self.extensions.iter().next().is_some() {
            let mut e = Node::branch("Extensions");
            for x in self.extensions.iter() {
                e.push(x.dissect());
            }
            n.push(e);
        }
        n
    }
}

/// The Identification field: an NTP timestamp under timestamp replay protection (RFC 5944
/// §5.7), which is how tshark shows it.
fn ident(v: u64) -> Node {
    const NTP_UNIX: i64 = 2_208_988_800;
    let secs = (v >> 32) as i64 - NTP_UNIX;
    let nanos = (((v & 0xffff_ffff) * 1_000_000_000) >> 32) as u32;
    let t = crate::mh::options::utc_text(secs, nanos);
    Node::new("Identification", format!("0x{v:016x} ({t})")).field("mip.ident", t)
}

/// The bytes an authentication extension's authenticator covers (RFC 5944 §3.5.1): the message
/// from its first octet through the SPI of the first extension of type `kind` (32, 33, 34 or
/// 36). `None` if there is no such extension or the message does not parse.
pub fn authenticated_prefix(msg: &[u8], kind: u8) -> Option<&[u8]> {
    let fixed = match MessageType::from(*msg.first()?) {
        MessageType::RegistrationRequest => 24,
        MessageType::RegistrationReply => 20,
        MessageType::Unknown(_) => return None,
    };
    let mut r = Reader::new(P, msg.get(fixed..)?);
    while !r.is_empty() {
        let at = fixed + r.position();
        let e = Extension::read(&mut r).ok()?;
        if e.kind() == kind {
            let header = if ext::is_long_form(kind) { 4 } else { 2 };
            return msg.get(..at + header + 4);
        }
    }
    None
}

/// Parses and renders a UDP 434 payload.
pub fn dissect(data: &[u8]) -> Result<Node> {
    Ok(Repr::parse(data)?.dissect())
}
