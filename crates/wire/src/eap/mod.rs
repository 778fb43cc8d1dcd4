//! EAP (RFC 3748): the packet header, Request/Response type data (Identity, Notification,
//! legacy and expanded Nak, Expanded types kept raw), Success/Failure, and the two method
//! families mobstrap speaks: EAP-AKA / EAP-AKA' ([`aka`], RFC 4187 / RFC 9048) and the ERP
//! codes 5 and 6 ([`erp`], RFC 6696).
//!
//! What this room may not touch: keys and MACs. AT_MAC, AT_ENCR_DATA and the ERP
//! authentication tag are opaque bytes here; [`aka::mac_offset`] and [`erp::tag_range`]
//! tell the engine which bytes to feed to `mobstrap-crypto`.
//!
//! Exactness: [`Repr::parse`] takes exactly one EAP packet (the Length field must equal the
//! buffer length; a lower layer that pads, such as EAPOL over Ethernet, trims with
//! [`Packet::message`] first). Every value kept in a `Repr` is re-emitted as received.

pub mod aka;
pub mod erp;

use crate::codec::{Reader, Writer};
use crate::dissect::{self, Node};
use crate::{Error, Result};

pub(crate) const P: &str = "eap";

/// Length of the EAP header (Code, Identifier, Length).
pub const HEADER_LEN: usize = 4;

enum_with_unknown! {
    /// EAP packet codes (RFC 3748 §4, RFC 6696 §5.3).
    pub enum Code(u8) {
        Request = 1,
        Response = 2,
        Success = 3,
        Failure = 4,
        Initiate = 5,
        Finish = 6,
    }
}

enum_with_unknown! {
    /// EAP method types (IANA "Method Types"), the ones worth a name here.
    pub enum Type(u8) {
        Identity = 1,
        Notification = 2,
        Nak = 3 => "Legacy Nak",
        Md5Challenge = 4 => "MD5-Challenge",
        Otp = 5 => "One-Time Password",
        Gtc = 6 => "Generic Token Card",
        Tls = 13 => "EAP-TLS",
        Sim = 18 => "EAP-SIM",
        Ttls = 21 => "EAP-TTLS",
        Aka = 23 => "EAP-AKA",
        Peap = 25 => "PEAP",
        MsChapV2 = 26 => "EAP-MSCHAPv2",
        Fast = 43 => "EAP-FAST",
        Psk = 47 => "EAP-PSK",
        AkaPrime = 50 => "EAP-AKA'",
        Eke = 53 => "EAP-EKE",
        Teap = 55 => "TEAP",
        Expanded = 254 => "Expanded Type",
        Experimental = 255,
    }
}

/// Read-only view of an EAP packet header. The buffer may be longer than the Length field
/// says (lower-layer padding); accessors only look inside `Length`.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks that the header is there, that Length is at least 4 and that the buffer holds
    /// `Length` bytes.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::truncated(P, "header"));
        }
        let len = u16::from_be_bytes([b[2], b[3]]) as usize;
        if len < HEADER_LEN {
            return Err(Error::bad_length(P, "Length"));
        }
        if b.len() < len {
            return Err(Error::truncated(P, "Length"));
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn byte(&self, i: usize) -> u8 {
        self.buffer.as_ref().get(i).copied().unwrap_or(0)
    }

    pub fn code(&self) -> Code {
        Code::from(self.byte(0))
    }

    pub fn identifier(&self) -> u8 {
        self.byte(1)
    }

    pub fn length(&self) -> u16 {
        u16::from_be_bytes([self.byte(2), self.byte(3)])
    }

    /// The packet itself, `Length` bytes (padding after it cut off).
    pub fn message(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let n = (self.length() as usize).min(b.len());
        &b[..n]
    }

    /// Everything after the 4-byte header, within `Length`.
    pub fn data(&self) -> &[u8] {
        self.message().get(HEADER_LEN..).unwrap_or(&[])
    }

    /// The Type byte of a Request, Response, Initiate or Finish; `None` if absent.
    pub fn typ(&self) -> Option<u8> {
        match self.code() {
            Code::Request | Code::Response | Code::Initiate | Code::Finish => {
                self.data().first().copied()
            }
            _ => None,
        }
    }
}

/// An Expanded Type (RFC 3748 §5.7): 24-bit Vendor-Id, 32-bit Vendor-Type, data kept raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded<'a> {
    /// 24 bits on the wire.
    pub vendor_id: u32,
    pub vendor_type: u32,
    pub data: &'a [u8],
}

/// Vendor-Id of the IETF (Expanded Nak, RFC 3748 §5.3.2).
pub const VENDOR_IETF: u32 = 0;

impl<'a> Expanded<'a> {
    fn parse(r: &mut Reader<'a>) -> Result<Self> {
        let vendor_id = r.u24("Expanded.Vendor-Id")?;
        let vendor_type = r.u32("Expanded.Vendor-Type")?;
        Ok(Expanded {
            vendor_id,
            vendor_type,
            data: r.rest(),
        })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        if self.vendor_id > 0xff_ffff {
            return Err(Error::too_long(P, "Expanded.Vendor-Id"));
        }
        out.put_u24(self.vendor_id);
        out.put_u32(self.vendor_type);
        out.put(self.data);
        Ok(())
    }

    /// For an Expanded Nak (Vendor-Id 0, Vendor-Type 3), the proposed methods as
    /// (Vendor-Id, Vendor-Type) pairs; `None` if this is not one or its data is not a whole
    /// number of 8-byte entries each starting with Type 254.
    pub fn nak_entries(&self) -> Option<impl Iterator<Item = (u32, u32)> + 'a> {
        if self.vendor_id != VENDOR_IETF || self.vendor_type != u32::from(Type::Nak.value()) {
            return None;
        }
        if !self.data.len().is_multiple_of(8) || self.data.chunks_exact(8).any(|c| c[0] != 254) {
            return None;
        }
        Some(self.data.chunks_exact(8).map(|c| {
            (
                u32::from_be_bytes([0, c[1], c[2], c[3]]),
                u32::from_be_bytes([c[4], c[5], c[6], c[7]]),
            )
        }))
    }
}

/// The Type-Data of a Request or Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data<'a> {
    /// Type 1: the identity (or, in a Request, an optional displayable message), raw bytes.
    Identity(&'a [u8]),
    /// Type 2: the displayable message (Request), empty in the Response.
    Notification(&'a [u8]),
    /// Type 3 (Response only): the desired authentication types, one byte each.
    Nak(&'a [u8]),
    /// Type 23.
    Aka(aka::Message<'a>),
    /// Type 50.
    AkaPrime(aka::Message<'a>),
    /// Type 254, kept raw (see [`Expanded::nak_entries`]).
    Expanded(Expanded<'a>),
    /// Any other type: its data kept raw.
    Other { typ: u8, data: &'a [u8] },
}

impl<'a> Data<'a> {
    pub fn typ(&self) -> Type {
        Type::from(match self {
            Data::Identity(_) => 1,
            Data::Notification(_) => 2,
            Data::Nak(_) => 3,
            Data::Aka(_) => 23,
            Data::AkaPrime(_) => 50,
            Data::Expanded(_) => 254,
            Data::Other { typ, .. } => *typ,
        })
    }

    /// Parses Type and Type-Data (the bytes after the EAP header).
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let typ = r.u8("Type")?;
        Ok(match typ {
            1 => Data::Identity(r.rest()),
            2 => Data::Notification(r.rest()),
            3 => Data::Nak(r.rest()),
            23 => Data::Aka(aka::Message::parse(r.rest())?),
            50 => Data::AkaPrime(aka::Message::parse(r.rest())?),
            254 => Data::Expanded(Expanded::parse(&mut r)?),
            typ => Data::Other {
                typ,
                data: r.rest(),
            },
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put_u8(self.typ().value());
        match self {
            Data::Identity(b) | Data::Notification(b) | Data::Nak(b) => out.put(b),
            Data::Aka(m) | Data::AkaPrime(m) => m.emit(out)?,
            Data::Expanded(e) => e.emit(out)?,
            Data::Other { typ, data } => {
                // Types with their own variant must use it, or parse would not give this back.
                if matches!(typ, 1 | 2 | 3 | 23 | 50 | 254) {
                    return Err(Error::bad_value(P, "Type"));
                }
                out.put(data)
            }
        }
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        1 + match self {
            Data::Identity(b) | Data::Notification(b) | Data::Nak(b) => b.len(),
            Data::Aka(m) | Data::AkaPrime(m) => m.buffer_len(),
            Data::Expanded(e) => 7 + e.data.len(),
            Data::Other { data, .. } => data.len(),
        }
    }
}

/// What follows the EAP header, by Code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<'a> {
    Request(Data<'a>),
    Response(Data<'a>),
    /// Code 3: no data (Length 4).
    Success,
    /// Code 4: no data (Length 4).
    Failure,
    /// Code 5 (RFC 6696).
    Initiate(erp::Message<'a>),
    /// Code 6 (RFC 6696).
    Finish(erp::Message<'a>),
    /// Any other code: data kept raw.
    Unknown {
        code: u8,
        data: &'a [u8],
    },
}

/// An EAP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr<'a> {
    pub identifier: u8,
    pub body: Body<'a>,
}

impl<'a> Repr<'a> {
    pub fn code(&self) -> Code {
        Code::from(match &self.body {
            Body::Request(_) => 1,
            Body::Response(_) => 2,
            Body::Success => 3,
            Body::Failure => 4,
            Body::Initiate(_) => 5,
            Body::Finish(_) => 6,
            Body::Unknown { code, .. } => *code,
        })
    }

    /// Parses exactly one EAP packet: `Length` must equal `data.len()`.
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let p = Packet::new_checked(data)?;
        if p.length() as usize != data.len() {
            return Err(Error::new(P, "Length", crate::ErrorKind::TrailingBytes));
        }
        let identifier = p.identifier();
        let rest = &data[HEADER_LEN..];
        let body = match data[0] {
            1 | 2 => {
                if rest.is_empty() {
                    return Err(Error::truncated(P, "Type"));
                }
                let d = Data::parse(rest)?;
                if data[0] == 1 {
                    Body::Request(d)
                } else {
                    Body::Response(d)
                }
            }
            3 | 4 => {
                if !rest.is_empty() {
                    return Err(Error::bad_length(P, "Length"));
                }
                if data[0] == 3 {
                    Body::Success
                } else {
                    Body::Failure
                }
            }
            5 => Body::Initiate(erp::Message::parse(Code::Initiate, rest)?),
            6 => Body::Finish(erp::Message::parse(Code::Finish, rest)?),
            code => Body::Unknown { code, data: rest },
        };
        Ok(Repr { identifier, body })
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + match &self.body {
                Body::Request(d) | Body::Response(d) => d.buffer_len(),
                Body::Success | Body::Failure => 0,
                Body::Initiate(m) | Body::Finish(m) => m.buffer_len(),
                Body::Unknown { data, .. } => data.len(),
            }
    }

    /// Appends the packet to `out`; the Length field is computed.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.reserve(self.buffer_len());
        out.put_u8(self.code().value());
        out.put_u8(self.identifier);
        out.put_u16(0);
        match &self.body {
            Body::Request(d) | Body::Response(d) => d.emit(out)?,
            Body::Success | Body::Failure => {}
            Body::Initiate(m) => m.emit(Code::Initiate, out)?,
            Body::Finish(m) => m.emit(Code::Finish, out)?,
            Body::Unknown { code, data } => {
                if (1..=6).contains(code) {
                    return Err(Error::bad_value(P, "Code"));
                }
                out.put(data);
            }
        }
        out.patch_len_u16(start + 2, start, 0, P, "Length")
    }
}

/// Renders an EAP packet as a tree; fields tied to Wireshark's `eap.*` (and
/// `eap.aka.*`) as tshark shows them.
pub fn dissect(data: &[u8]) -> Result<Node> {
    let repr = Repr::parse(data)?;
    Ok(dissect_repr(&repr, data.len()))
}

pub(crate) fn dissect_repr(repr: &Repr<'_>, len: usize) -> Node {
    let code = repr.code();
    let mut n = Node::branch("Extensible Authentication Protocol")
        .with(Node::code("Code", code, code.value().into(), "eap.code"))
        .with(Node::uint("Id", repr.identifier.into(), "eap.id"))
        .with(Node::uint("Length", len as u64, "eap.len"));
    match &repr.body {
        Body::Request(d) | Body::Response(d) => dissect_data(&mut n, d),
        Body::Success | Body::Failure => {}
        // tshark decodes only the header of codes 5 and 6: the rest is ours alone.
        Body::Initiate(m) | Body::Finish(m) => n.push(erp::dissect_message(m)),
        Body::Unknown { data, .. } => n.push(Node::bytes("Data", data, "")),
    }
    n
}

fn printable(b: &[u8]) -> bool {
    b.iter().all(|&c| (0x20..0x7f).contains(&c))
}

fn dissect_data(n: &mut Node, d: &Data<'_>) {
    let t = d.typ();
    n.push(Node::code("Type", t, t.value().into(), "eap.type"));
    match d {
        Data::Identity(id) => n.push(text_node("Identity", id, "eap.identity")),
        Data::Notification(msg) => {
            if !msg.is_empty() {
                n.push(text_node("Notification", msg, "eap.notification"))
            }
        }
        Data::Nak(types) => {
            // tshark decodes only the first desired type.
            for (i, &t) in types.iter().enumerate() {
                let ty = Type::from(t);
                let f = if i == 0 { "eap.desired_type" } else { "" };
                n.push(Node::code("Desired Auth Type", ty, t.into(), f));
            }
        }
        Data::Aka(m) | Data::AkaPrime(m) => aka::dissect_into(n, m),
        Data::Expanded(e) => {
            let mut x = Node::branch("Expanded Type")
                .with(Node::uint("Vendor-Id", e.vendor_id.into(), ""))
                .with(Node::uint("Vendor-Type", e.vendor_type.into(), ""));
            if let Some(entries) = e.nak_entries() {
                for (v, t) in entries {
                    x.push(Node::new("Desired method", format!("vendor {v} type {t}")));
                }
            } else {
                x.push(Node::bytes("Data", e.data, ""));
            }
            n.push(x);
        }
        Data::Other { data, .. } => n.push(Node::bytes("Type-Data", data, "")),
    }
}

/// A text node tied to a Wireshark string field when tshark would print the same text.
pub(crate) fn text_node(label: &str, b: &[u8], field: &str) -> Node {
    let n = Node::new(label, dissect::text(b));
    // tshark prints non-ASCII with its own escapes, and no value at all for an empty string.
    if !b.is_empty() && printable(b) && !field.is_empty() {
        n.field(field, dissect::text(b))
    } else {
        n
    }
}

/// One sample of every EAP, EAP-AKA/AKA' and ERP message, carried in RADIUS EAP-Message
/// attributes (how tshark decodes them).
pub fn samples() -> Vec<crate::sample::Sample> {
    crate::radius::eap_samples()
}

#[cfg(test)]
mod tests;
