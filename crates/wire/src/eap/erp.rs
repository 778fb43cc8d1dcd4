//! ERP (RFC 6696): EAP-Initiate (code 5) and EAP-Finish (code 6).
//!
//! * EAP-Initiate/Re-auth-Start (code 5, type 1): Reserved (1), TVs/TLVs.
//! * EAP-Initiate/Re-auth (code 5, type 2) and EAP-Finish/Re-auth (code 6, type 2): Flags
//!   (R, B, L; the five other bits kept as received), SEQ (2), TVs/TLVs, Cryptosuite (1),
//!   Authentication Tag (8, 16 or 32 bytes for cryptosuites 1, 2, 3).
//!
//! Attributes (IANA "EAP Initiate and Finish Attributes"): types 2 and 3 (rRK and rMSK
//! Lifetime) are TVs with a 4-byte value; every other type is a TLV (Type, Length, Value),
//! which is how the channel-binding range 128–191 and anything unknown is kept.
//!
//! Where the attributes end is not written anywhere: the Cryptosuite follows them and fixes
//! the tag length. The parser walks the attributes from the front and stops at the first
//! attribute boundary where the byte there is a known cryptosuite whose tag exactly fills
//! the rest. A keyName-NAI or channel-binding TLV can never be mistaken for that; only a TV
//! in a rare position could, and [`Reauth::emit`] refuses such an ambiguous layout, so that
//! what mobstrap emits always parses back as emitted. Unknown cryptosuites are rejected
//! (their tag length is unknown).
//!
//! The tag covers the packet from the EAP Code through the Cryptosuite: [`tag_range`].

use core::ops::Range;

use super::{text_node, Code, P};
use crate::codec::{Reader, Writer};
use crate::dissect::{self, Node};
use crate::{Error, Result};

enum_with_unknown! {
    /// The Type of an EAP-Initiate / EAP-Finish (IANA "Message Types").
    pub enum Type(u8) {
        ReauthStart = 1 => "Re-auth-Start",
        Reauth = 2 => "Re-auth",
    }
}

enum_with_unknown! {
    /// Re-authentication cryptosuites (RFC 6696 §5.3.2, IANA).
    pub enum Cryptosuite(u8) {
        HmacSha256_64 = 1 => "HMAC-SHA256-64",
        HmacSha256_128 = 2 => "HMAC-SHA256-128",
        HmacSha256_256 = 3 => "HMAC-SHA256-256",
    }
}

impl Cryptosuite {
    /// Length of the Authentication Tag, `None` for an unknown suite.
    pub fn tag_len(&self) -> Option<usize> {
        match self {
            Cryptosuite::HmacSha256_64 => Some(8),
            Cryptosuite::HmacSha256_128 => Some(16),
            Cryptosuite::HmacSha256_256 => Some(32),
            Cryptosuite::Unknown(_) => None,
        }
    }
}

enum_with_unknown! {
    /// TV/TLV types (IANA "EAP Initiate and Finish Attributes").
    pub enum AttrType(u8) {
        KeyNameNai = 1 => "keyName-NAI",
        RrkLifetime = 2 => "rRK Lifetime",
        RmskLifetime = 3 => "rMSK Lifetime",
        DomainName = 4 => "Domain-Name",
        Cryptosuites = 5 => "Cryptosuite List",
        AuthorizationIndication = 6 => "Authorization Indication",
        CalledStationId = 128 => "Called-Station-Id",
        CallingStationId = 129 => "Calling-Station-Id",
        NasIdentifier = 130 => "NAS-Identifier",
        NasIpAddress = 131 => "NAS-IP-Address",
        NasIpv6Address = 132 => "NAS-IPv6-Address",
    }
}

/// R flag: in EAP-Finish, 1 = failure; reserved in EAP-Initiate.
pub const FLAG_R: u8 = 0x80;
/// B flag: bootstrapping (explicit in EAP-Initiate, answered in EAP-Finish).
pub const FLAG_B: u8 = 0x40;
/// L flag: the lifetimes are requested (Initiate) / present (Finish).
pub const FLAG_L: u8 = 0x20;

/// Types carried as TV (4-byte value, no Length byte).
pub const fn is_tv(typ: u8) -> bool {
    matches!(typ, 2 | 3)
}

/// One TV or TLV attribute. For a TV type (2, 3) `value` is exactly 4 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    pub typ: AttrType,
    pub value: &'a [u8],
}

impl<'a> Attr<'a> {
    pub fn new(typ: AttrType, value: &'a [u8]) -> Self {
        Attr { typ, value }
    }

    /// The value as a 32-bit integer (the lifetimes), if it is 4 bytes.
    pub fn u32_value(&self) -> Option<u32> {
        <[u8; 4]>::try_from(self.value).ok().map(u32::from_be_bytes)
    }

    pub fn parse(r: &mut Reader<'a>) -> Result<Self> {
        let t = r.u8("attribute.Type")?;
        let value = if is_tv(t) {
            r.bytes(4, "TV.Value")?
        } else {
            let n = r.u8("TLV.Length")? as usize;
            r.bytes(n, "TLV.Value")?
        };
        Ok(Attr {
            typ: AttrType::from(t),
            value,
        })
    }

    pub fn buffer_len(&self) -> usize {
        if is_tv(self.typ.value()) {
            5
        } else {
            2 + self.value.len()
        }
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let t = self.typ.value();
        out.put_u8(t);
        if is_tv(t) {
            if self.value.len() != 4 {
                return Err(Error::bad_length(P, "TV.Value"));
            }
        } else {
            let n = u8::try_from(self.value.len()).map_err(|_| Error::too_long(P, "TLV.Length"))?;
            out.put_u8(n);
        }
        out.put(self.value);
        Ok(())
    }
}

fn parse_attrs(buf: &[u8]) -> Result<Vec<Attr<'_>>> {
    let mut r = Reader::new(P, buf);
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(Attr::parse(&mut r)?);
    }
    Ok(v)
}

/// EAP-Initiate/Re-auth-Start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReauthStart<'a> {
    /// The byte after the Type (Reserved in RFC 6696; IANA's Re-auth-Start Flags).
    pub reserved: u8,
    pub attributes: Vec<Attr<'a>>,
}

/// EAP-Initiate/Re-auth or EAP-Finish/Re-auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reauth<'a> {
    /// R, B, L and the five reserved bits, as received.
    pub flags: u8,
    pub seq: u16,
    pub attributes: Vec<Attr<'a>>,
    pub cryptosuite: Cryptosuite,
    /// Exactly `cryptosuite.tag_len()` bytes.
    pub tag: &'a [u8],
}

/// Where the Cryptosuite byte sits in `rest` (the bytes after Flags and SEQ).
fn find_cryptosuite(rest: &[u8]) -> Result<usize> {
    let mut r = Reader::new(P, rest);
    loop {
        let pos = r.position();
        let b = r
            .peek_u8("Re-auth.Cryptosuite")
            .map_err(|_| Error::bad_value(P, "Re-auth.Cryptosuite"))?;
        if let Some(tl) = Cryptosuite::from(b).tag_len() {
            if rest.len() - pos == 1 + tl {
                return Ok(pos);
            }
        }
        // Not the end yet: it must be an attribute. If it is not one, the end was never
        // found, most likely because the cryptosuite is unknown.
        Attr::parse(&mut r).map_err(|_| Error::bad_value(P, "Re-auth.Cryptosuite"))?;
    }
}

impl<'a> Reauth<'a> {
    /// R flag (Finish: failure).
    pub fn r(&self) -> bool {
        self.flags & FLAG_R != 0
    }
    pub fn b(&self) -> bool {
        self.flags & FLAG_B != 0
    }
    pub fn l(&self) -> bool {
        self.flags & FLAG_L != 0
    }

    /// Parses the bytes after the Type byte.
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let flags = r.u8("Re-auth.Flags")?;
        let seq = r.u16("Re-auth.SEQ")?;
        let rest = r.rest();
        let at = find_cryptosuite(rest)?;
        let attributes = parse_attrs(&rest[..at])?;
        Ok(Reauth {
            flags,
            seq,
            attributes,
            cryptosuite: Cryptosuite::from(rest[at]),
            tag: &rest[at + 1..],
        })
    }

    pub fn buffer_len(&self) -> usize {
        3 + self.attributes.iter().map(Attr::buffer_len).sum::<usize>() + 1 + self.tag.len()
    }

    /// Appends Flags … Authentication Tag. Refuses a tag of the wrong length, an unknown
    /// cryptosuite, and a layout whose attributes a receiver would take for the end.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let tl = self
            .cryptosuite
            .tag_len()
            .ok_or_else(|| Error::bad_value(P, "Re-auth.Cryptosuite"))?;
        if self.tag.len() != tl {
            return Err(Error::bad_length(P, "Re-auth.Authentication Tag"));
        }
        out.put_u8(self.flags);
        out.put_u16(self.seq);
        let start = out.len();
        for a in &self.attributes {
            a.emit(out)?;
        }
        let attrs_len = out.len() - start;
        out.put_u8(self.cryptosuite.value());
        out.put(self.tag);
        if find_cryptosuite(&out[start..]) != Ok(attrs_len) {
            return Err(Error::bad_value(P, "Re-auth.attributes"));
        }
        Ok(())
    }

    /// The first attribute of this type.
    pub fn attribute(&self, typ: AttrType) -> Option<&Attr<'a>> {
        self.attributes.iter().find(|a| a.typ == typ)
    }

    /// The keyName-NAI, if present.
    pub fn key_name_nai(&self) -> Option<&'a [u8]> {
        self.attribute(AttrType::KeyNameNai).map(|a| a.value)
    }
}

/// The Type-Data of a code 5 or 6 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// Code 5, type 1.
    ReauthStart(ReauthStart<'a>),
    /// Code 5 or 6, type 2.
    Reauth(Reauth<'a>),
    /// Any other type (or type 1 in an EAP-Finish): kept raw.
    Unknown { typ: u8, data: &'a [u8] },
}

impl<'a> Message<'a> {
    pub fn typ(&self) -> Type {
        Type::from(match self {
            Message::ReauthStart(_) => 1,
            Message::Reauth(_) => 2,
            Message::Unknown { typ, .. } => *typ,
        })
    }

    /// Parses Type and what follows (the bytes after the EAP header) of a packet of `code`.
    pub fn parse(code: Code, data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let typ = r.u8("Type")?;
        Ok(match (code, typ) {
            (Code::Initiate, 1) => {
                let reserved = r.u8("Re-auth-Start.Reserved")?;
                Message::ReauthStart(ReauthStart {
                    reserved,
                    attributes: parse_attrs(r.rest())?,
                })
            }
            (_, 2) => Message::Reauth(Reauth::parse(r.rest())?),
            (_, typ) => Message::Unknown {
                typ,
                data: r.rest(),
            },
        })
    }

    pub fn buffer_len(&self) -> usize {
        1 + match self {
            Message::ReauthStart(s) => 1 + s.attributes.iter().map(Attr::buffer_len).sum::<usize>(),
            Message::Reauth(m) => m.buffer_len(),
            Message::Unknown { data, .. } => data.len(),
        }
    }

    /// Appends Type and what follows, for a packet of `code`.
    pub fn emit(&self, code: Code, out: &mut Vec<u8>) -> Result<()> {
        out.put_u8(self.typ().value());
        match self {
            Message::ReauthStart(s) => {
                if code != Code::Initiate {
                    return Err(Error::bad_value(P, "Type"));
                }
                out.put_u8(s.reserved);
                for a in &s.attributes {
                    a.emit(out)?;
                }
            }
            Message::Reauth(m) => m.emit(out)?,
            Message::Unknown { typ, data } => {
                if *typ == 2 || (*typ == 1 && code == Code::Initiate) {
                    return Err(Error::bad_value(P, "Type"));
                }
                out.put(data)
            }
        }
        Ok(())
    }
}

/// For an EAP-Initiate/Re-auth or EAP-Finish/Re-auth packet, where its Authentication Tag
/// lies. The tag is computed over `packet[..range.start]` (EAP header through Cryptosuite).
pub fn tag_range(eap_packet: &[u8]) -> Result<Range<usize>> {
    let p = super::Packet::new_checked(eap_packet)?;
    if !matches!(p.code(), Code::Initiate | Code::Finish) || p.typ() != Some(2) {
        return Err(Error::bad_value(P, "Type"));
    }
    let msg = p.message();
    let rest = msg
        .get(super::HEADER_LEN + 4..)
        .ok_or_else(|| Error::truncated(P, "Re-auth.SEQ"))?;
    let at = find_cryptosuite(rest)?;
    let start = super::HEADER_LEN + 4 + at + 1;
    Ok(start..msg.len())
}

/// The bytes the Authentication Tag covers: `packet[signed_range(packet)?]`, from the
/// EAP Code through the Cryptosuite (RFC 6696 §5.3.2, §5.3.3).
pub fn signed_range(eap_packet: &[u8]) -> Result<Range<usize>> {
    tag_range(eap_packet).map(|t| 0..t.start)
}

pub(crate) fn dissect_message(m: &Message<'_>) -> Node {
    let t = m.typ();
    let mut n = Node::branch(format!("ERP {t}")).with(Node::code("Type", t, t.value().into(), ""));
    match m {
        Message::ReauthStart(s) => {
            n.push(Node::uint("Reserved", s.reserved.into(), ""));
            for a in &s.attributes {
                n.push(dissect_attr(a));
            }
        }
        Message::Reauth(r) => {
            n.push(
                Node::new("Flags", format!("0x{:02x}", r.flags))
                    .with(Node::new("R", u8::from(r.r()).to_string()))
                    .with(Node::new("B", u8::from(r.b()).to_string()))
                    .with(Node::new("L", u8::from(r.l()).to_string()))
                    .with(Node::uint("Reserved", (r.flags & 0x1f).into(), "")),
            );
            n.push(Node::uint("SEQ", r.seq.into(), ""));
            for a in &r.attributes {
                n.push(dissect_attr(a));
            }
            n.push(Node::code(
                "Cryptosuite",
                r.cryptosuite,
                r.cryptosuite.value().into(),
                "",
            ));
            n.push(Node::bytes("Authentication Tag", r.tag, ""));
        }
        Message::Unknown { data, .. } => n.push(Node::bytes("Data", data, "")),
    }
    n
}

fn dissect_attr(a: &Attr<'_>) -> Node {
    let label = format!("{} ({})", a.typ, a.typ.value());
    match a.typ {
        AttrType::RrkLifetime | AttrType::RmskLifetime => {
            Node::uint(label, a.u32_value().unwrap_or(0).into(), "")
        }
        AttrType::KeyNameNai
        | AttrType::DomainName
        | AttrType::CalledStationId
        | AttrType::CallingStationId
        | AttrType::NasIdentifier => text_node(&label, a.value, ""),
        AttrType::NasIpAddress | AttrType::NasIpv6Address => {
            Node::new(label, dissect::ip_text(a.value))
        }
        AttrType::Cryptosuites => {
            let mut n = Node::branch(label);
            for &c in a.value {
                let cs = Cryptosuite::from(c);
                n.push(Node::code("Cryptosuite", cs, c.into(), ""));
            }
            n
        }
        _ => Node::bytes(label, a.value, ""),
    }
}
