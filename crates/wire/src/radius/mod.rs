//! RADIUS (RFC 2865, 2866, 2869, 3579, 5176, 5997): packets, attributes, Vendor-Specific
//! attributes (with Microsoft's MS-MPPE keys), EAP-Message fragmentation, and the
//! positions the cryptography needs.
//!
//! What this room may not touch: the shared secret. Authenticators, User-Password,
//! MS-MPPE-Send/Recv-Key and Message-Authenticator are opaque bytes here;
//! `mobstrap_crypto::radius` computes and checks them, and this module says where they are
//! ([`message_authenticator_offset`], [`AUTHENTICATOR_RANGE`]).
//!
//! Exactness: [`Repr::parse`] takes exactly one packet (Length equal to the buffer length;
//! bytes after Length are RFC 2865 padding: trim them with [`Packet::message`]). Values whose
//! length does not fit their dictionary type (e.g. a 3-byte NAS-Port) are kept as
//! [`Value::Octets`], so that every packet a peer can send is kept byte for byte.

pub mod dict;

use core::net::{Ipv4Addr, Ipv6Addr};
use core::ops::Range;
use std::borrow::Cow;

use crate::codec::{Reader, Writer};
use crate::dissect::Node;
use crate::{Error, ErrorKind, Result};

pub use dict::{AttrType, DataType, VENDOR_MICROSOFT};

const P: &str = "radius";

/// Code, Identifier, Length, Authenticator.
pub const HEADER_LEN: usize = 20;
/// Where the 16-byte Authenticator sits in every packet.
pub const AUTHENTICATOR_RANGE: Range<usize> = 4..20;
/// The longest attribute value (Length is one byte and counts Type and Length).
pub const MAX_VALUE_LEN: usize = 253;
/// The largest packet of RFC 2865 §3 (RFC 7930 allows more over TCP; parse accepts up to
/// 65535, emit too).
pub const MAX_PACKET_LEN: usize = 4096;

/// UDP ports (RFC 2865, 2866, 5176).
pub const PORT_AUTH: u16 = 1812;
pub const PORT_ACCT: u16 = 1813;
pub const PORT_DYNAUTH: u16 = 3799;

enum_with_unknown! {
    /// RADIUS packet codes (IANA "Packet Type Codes").
    pub enum Code(u8) {
        AccessRequest = 1 => "Access-Request",
        AccessAccept = 2 => "Access-Accept",
        AccessReject = 3 => "Access-Reject",
        AccountingRequest = 4 => "Accounting-Request",
        AccountingResponse = 5 => "Accounting-Response",
        AccessChallenge = 11 => "Access-Challenge",
        StatusServer = 12 => "Status-Server",
        StatusClient = 13 => "Status-Client",
        DisconnectRequest = 40 => "Disconnect-Request",
        DisconnectAck = 41 => "Disconnect-ACK",
        DisconnectNak = 42 => "Disconnect-NAK",
        CoaRequest = 43 => "CoA-Request",
        CoaAck = 44 => "CoA-ACK",
        CoaNak = 45 => "CoA-NAK",
    }
}

impl Code {
    /// Requests whose Authenticator is an MD5 over the packet rather than a random nonce
    /// (RFC 2866 §3, RFC 5176 §2.3).
    pub fn has_computed_request_authenticator(&self) -> bool {
        matches!(
            self,
            Code::AccountingRequest | Code::DisconnectRequest | Code::CoaRequest
        )
    }

    /// Replies (their Authenticator is the Response Authenticator).
    pub fn is_response(&self) -> bool {
        matches!(
            self,
            Code::AccessAccept
                | Code::AccessReject
                | Code::AccessChallenge
                | Code::AccountingResponse
                | Code::DisconnectAck
                | Code::DisconnectNak
                | Code::CoaAck
                | Code::CoaNak
        )
    }
}

/// Read-only (or, for `&mut [u8]`, patchable) view of a RADIUS packet.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks the header and that the buffer holds `Length` (≥ 20) bytes.
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

    pub fn authenticator(&self) -> [u8; 16] {
        let mut a = [0u8; 16];
        if let Some(s) = self.buffer.as_ref().get(AUTHENTICATOR_RANGE) {
            a.copy_from_slice(s);
        }
        a
    }

    /// The packet, `Length` bytes.
    pub fn message(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[..(self.length() as usize).min(b.len())]
    }

    /// The attribute area.
    pub fn attribute_bytes(&self) -> &[u8] {
        self.message().get(HEADER_LEN..).unwrap_or(&[])
    }

    /// Iterates over (type, value) without allocating; yields one error and stops on a
    /// malformed attribute.
    pub fn attributes(&self) -> RawAttributes<'_> {
        RawAttributes {
            buf: self.attribute_bytes(),
            pos: 0,
            done: false,
        }
    }

    /// Offset of the 16-byte Message-Authenticator value, `None` if absent.
    pub fn message_authenticator_offset(&self) -> Result<Option<usize>> {
        let mut r = self.attributes();
        while let Some(a) = r.next() {
            let (t, v) = a?;
            if t == AttrType::MessageAuthenticator.value() {
                if v.len() != 16 {
                    return Err(Error::bad_length(P, "Message-Authenticator.Length"));
                }
                return Ok(Some(HEADER_LEN + r.pos - 16));
            }
        }
        Ok(None)
    }

    /// The EAP packet carried in the EAP-Message attributes, joined (RFC 3579 §3.1);
    /// borrowed when there is a single one.
    pub fn eap_message(&self) -> Result<Option<Cow<'_, [u8]>>> {
        join_eap(self.attributes())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_authenticator(&mut self, a: &[u8; 16]) {
        if let Some(s) = self.buffer.as_mut().get_mut(AUTHENTICATOR_RANGE) {
            s.copy_from_slice(a);
        }
    }
}

/// Offset of the Message-Authenticator value in `packet`, `None` if absent.
pub fn message_authenticator_offset(packet: &[u8]) -> Result<Option<usize>> {
    Packet::new_checked(packet)?.message_authenticator_offset()
}

fn join_eap<'a>(it: impl Iterator<Item = Result<(u8, &'a [u8])>>) -> Result<Option<Cow<'a, [u8]>>> {
    let mut out: Option<Cow<'a, [u8]>> = None;
    for a in it {
        let (t, v) = a?;
        if t != AttrType::EapMessage.value() {
            continue;
        }
        out = Some(match out {
            None => Cow::Borrowed(v),
            Some(prev) => {
                let mut o = prev.into_owned();
                o.extend_from_slice(v);
                Cow::Owned(o)
            }
        });
    }
    Ok(out)
}

/// Iterator over raw attributes (see [`Packet::attributes`]).
#[derive(Debug, Clone)]
pub struct RawAttributes<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for RawAttributes<'a> {
    type Item = Result<(u8, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        if rest.len() < 2 {
            self.done = true;
            return Some(Err(Error::truncated(P, "Attribute.Length")));
        }
        let len = rest[1] as usize;
        if len < 2 {
            self.done = true;
            return Some(Err(Error::bad_length(P, "Attribute.Length")));
        }
        if len > rest.len() {
            self.done = true;
            return Some(Err(Error::truncated(P, "Attribute.Length")));
        }
        self.pos += len;
        Some(Ok((rest[0], &rest[2..len])))
    }
}

/// One sub-attribute of a Vendor-Specific attribute in the RFC 2865 §5.26 recommended
/// format (Vendor type, Vendor length, value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorAttr<'a> {
    pub vendor_type: u8,
    pub value: &'a [u8],
}

/// The data after a Vendor-Id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VsaData<'a> {
    /// Well-formed sub-attributes (at least one).
    Subs(Vec<VendorAttr<'a>>),
    /// Anything else, kept as received.
    Raw(&'a [u8]),
}

/// A Vendor-Specific attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vsa<'a> {
    pub vendor_id: u32,
    pub data: VsaData<'a>,
}

impl<'a> Vsa<'a> {
    /// A VSA holding these sub-attributes.
    pub fn new(vendor_id: u32, subs: Vec<VendorAttr<'a>>) -> Self {
        Vsa {
            vendor_id,
            data: VsaData::Subs(subs),
        }
    }

    fn parse(v: &'a [u8]) -> Option<Self> {
        if v.len() < 4 {
            return None;
        }
        let vendor_id = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
        let data = &v[4..];
        let mut subs = Vec::new();
        let mut r = Reader::new(P, data);
        let ok = loop {
            if r.is_empty() {
                break !subs.is_empty();
            }
            let (Ok(t), Ok(l)) = (r.u8(""), r.u8("")) else {
                break false;
            };
            if l < 2 {
                break false;
            }
            match r.bytes(l as usize - 2, "") {
                Ok(value) => subs.push(VendorAttr {
                    vendor_type: t,
                    value,
                }),
                Err(_) => break false,
            }
        };
        let data = if ok {
            VsaData::Subs(subs)
        } else {
            VsaData::Raw(data)
        };
        Some(Vsa { vendor_id, data })
    }

    fn value_len(&self) -> usize {
        4 + match &self.data {
            VsaData::Subs(s) => s.iter().map(|a| 2 + a.value.len()).sum(),
            VsaData::Raw(r) => r.len(),
        }
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put_u32(self.vendor_id);
        match &self.data {
            VsaData::Subs(subs) => {
                if subs.is_empty() {
                    return Err(Error::bad_value(P, "Vendor-Specific.sub-attributes"));
                }
                for s in subs {
                    let l = u8::try_from(s.value.len() + 2)
                        .map_err(|_| Error::too_long(P, "Vendor-Specific.Vendor length"))?;
                    out.put_u8(s.vendor_type);
                    out.put_u8(l);
                    out.put(s.value);
                }
            }
            VsaData::Raw(r) => out.put(r),
        }
        Ok(())
    }

    /// The first sub-attribute of this vendor type.
    pub fn sub(&self, vendor_type: u8) -> Option<&VendorAttr<'a>> {
        match &self.data {
            VsaData::Subs(s) => s.iter().find(|a| a.vendor_type == vendor_type),
            VsaData::Raw(_) => None,
        }
    }
}

/// MS-MPPE-Send-Key / MS-MPPE-Recv-Key value (RFC 2548 §2.4.2): Salt and the encrypted
/// key string, opaque here (`mobstrap_crypto::radius` decrypts it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MppeKey<'a> {
    /// The high bit must be set (RFC 2548); checked by the crypto side.
    pub salt: [u8; 2],
    pub encrypted: &'a [u8],
}

impl<'a> MppeKey<'a> {
    pub fn parse(value: &'a [u8]) -> Result<Self> {
        match value {
            [a, b, rest @ ..] => Ok(MppeKey {
                salt: [*a, *b],
                encrypted: rest,
            }),
            _ => Err(Error::truncated(P, "MS-MPPE-Key.Salt")),
        }
    }
}

/// An attribute value, typed where the dictionary says how and the length agrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// Text, octets, hidden and tagged values, unknown attributes, and any value whose
    /// length does not fit its type.
    Octets(&'a [u8]),
    /// Integer, enumeration or time (4 bytes).
    Integer(u32),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    Vendor(Vsa<'a>),
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute<'a> {
    pub typ: AttrType,
    pub value: Value<'a>,
}

impl<'a> Attribute<'a> {
    pub fn octets(typ: AttrType, v: &'a [u8]) -> Self {
        Attribute {
            typ,
            value: Value::Octets(v),
        }
    }
    pub fn integer(typ: AttrType, v: u32) -> Self {
        Attribute {
            typ,
            value: Value::Integer(v),
        }
    }
    pub fn ipv4(typ: AttrType, a: Ipv4Addr) -> Self {
        Attribute {
            typ,
            value: Value::Ipv4(a),
        }
    }
    pub fn ipv6(typ: AttrType, a: Ipv6Addr) -> Self {
        Attribute {
            typ,
            value: Value::Ipv6(a),
        }
    }
    pub fn vendor(vsa: Vsa<'a>) -> Self {
        Attribute {
            typ: AttrType::VendorSpecific,
            value: Value::Vendor(vsa),
        }
    }

    /// Types a raw value by the dictionary.
    pub fn from_raw(t: u8, v: &'a [u8]) -> Self {
        let typ = AttrType::from(t);
        let value = match (dict::data_type(t), v.len()) {
            (DataType::Integer | DataType::Time, 4) => {
                Value::Integer(u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
            }
            (DataType::Ipv4, 4) => Value::Ipv4(Ipv4Addr::new(v[0], v[1], v[2], v[3])),
            (DataType::Ipv6, 16) => {
                let mut a = [0u8; 16];
                a.copy_from_slice(v);
                Value::Ipv6(Ipv6Addr::from(a))
            }
            (DataType::Vendor, _) => match Vsa::parse(v) {
                Some(vsa) => Value::Vendor(vsa),
                None => Value::Octets(v),
            },
            _ => Value::Octets(v),
        };
        Attribute { typ, value }
    }

    /// The raw bytes of an `Octets` value.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.value {
            Value::Octets(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_u32(&self) -> Option<u32> {
        match self.value {
            Value::Integer(v) => Some(v),
            _ => None,
        }
    }

    pub fn value_len(&self) -> usize {
        match &self.value {
            Value::Octets(b) => b.len(),
            Value::Integer(_) | Value::Ipv4(_) => 4,
            Value::Ipv6(_) => 16,
            Value::Vendor(v) => v.value_len(),
        }
    }

    pub fn buffer_len(&self) -> usize {
        2 + self.value_len()
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.put_u8(self.typ.value());
        out.put_u8(0);
        match &self.value {
            Value::Octets(b) => out.put(b),
            Value::Integer(v) => out.put_u32(*v),
            Value::Ipv4(a) => out.put(&a.octets()),
            Value::Ipv6(a) => out.put(&a.octets()),
            Value::Vendor(v) => {
                if self.typ != AttrType::VendorSpecific {
                    return Err(Error::bad_value(P, "Attribute.Type"));
                }
                v.emit(out)?
            }
        }
        out.patch_len_u8(start + 1, start, 0, P, "Attribute.Length")
    }
}

/// A RADIUS packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr<'a> {
    pub code: Code,
    pub identifier: u8,
    /// Request or Response Authenticator, as the code says (computed by the crypto side).
    pub authenticator: [u8; 16],
    pub attributes: Vec<Attribute<'a>>,
}

impl<'a> Repr<'a> {
    pub fn new(code: Code, identifier: u8, authenticator: [u8; 16]) -> Self {
        Repr {
            code,
            identifier,
            authenticator,
            attributes: Vec::new(),
        }
    }

    /// Parses exactly one packet: `Length` must equal `data.len()`.
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let p = Packet::new_checked(data)?;
        if p.length() as usize != data.len() {
            return Err(Error::new(P, "Length", ErrorKind::TrailingBytes));
        }
        let mut attributes = Vec::with_capacity(data.len() / 12);
        let raw = RawAttributes {
            buf: &data[HEADER_LEN..],
            pos: 0,
            done: false,
        };
        for a in raw {
            let (t, v) = a?;
            attributes.push(Attribute::from_raw(t, v));
        }
        Ok(Repr {
            code: p.code(),
            identifier: p.identifier(),
            authenticator: p.authenticator(),
            attributes,
        })
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + self
                .attributes
                .iter()
                .map(Attribute::buffer_len)
                .sum::<usize>()
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.reserve(self.buffer_len());
        out.put_u8(self.code.value());
        out.put_u8(self.identifier);
        out.put_u16(0);
        out.put(&self.authenticator);
        for a in &self.attributes {
            a.emit(out)?;
        }
        out.patch_len_u16(start + 2, start, 0, P, "Length")
    }

    /// The first attribute of this type.
    pub fn attribute(&self, typ: AttrType) -> Option<&Attribute<'a>> {
        self.attributes.iter().find(|a| a.typ == typ)
    }

    /// The EAP packet of the EAP-Message attributes, joined in order (RFC 3579 §3.1);
    /// borrowed when there is one attribute. `None` without EAP-Message.
    pub fn eap_message(&self) -> Option<Cow<'a, [u8]>> {
        let it = self
            .attributes
            .iter()
            .filter_map(|a| match (a.typ, &a.value) {
                (AttrType::EapMessage, Value::Octets(v)) => Some(Ok((79u8, *v))),
                _ => None,
            });
        join_eap(it).ok().flatten()
    }

    /// Appends `eap` as consecutive EAP-Message attributes of at most 253 bytes each
    /// (one empty attribute for an empty `eap`: RFC 3579 §2.1 EAP-Start).
    pub fn push_eap_message(&mut self, eap: &'a [u8]) {
        if eap.is_empty() {
            self.attributes
                .push(Attribute::octets(AttrType::EapMessage, eap));
        }
        for chunk in eap.chunks(MAX_VALUE_LEN) {
            self.attributes
                .push(Attribute::octets(AttrType::EapMessage, chunk));
        }
    }

    /// Appends a Message-Authenticator with a zero value, to be filled by the crypto side
    /// at [`message_authenticator_offset`] after emitting.
    pub fn push_message_authenticator(&mut self) {
        self.attributes.push(Attribute::octets(
            AttrType::MessageAuthenticator,
            &[0u8; 16],
        ));
    }
}

/// The Wireshark display-filter field of attribute `t`: `radius.` and its dictionary name
/// with dashes as underscores.
///
/// Wireshark registers Framed-IP-Address and Login-IP-Host with dashes (they have their own
/// display code), so those two keep them.
fn field_name(t: AttrType) -> Option<String> {
    match t {
        AttrType::FramedIpAddress | AttrType::LoginIpHost => {
            t.name().map(|n| format!("radius.{n}"))
        }
        _ => t.name().map(|n| format!("radius.{}", n.replace('-', "_"))),
    }
}

/// Renders a RADIUS packet (and the EAP packet its EAP-Message attributes carry) as a tree
/// tied to Wireshark's `radius.*` and `eap.*` fields.
pub fn dissect(data: &[u8]) -> Result<Node> {
    let repr = Repr::parse(data)?;
    let mut n = Node::branch("RADIUS Protocol")
        .with(Node::code(
            "Code",
            repr.code,
            repr.code.value().into(),
            "radius.code",
        ))
        .with(Node::uint(
            "Packet identifier",
            repr.identifier.into(),
            "radius.id",
        ))
        .with(Node::uint("Length", data.len() as u64, "radius.length"))
        .with(Node::bytes(
            "Authenticator",
            &repr.authenticator,
            "radius.authenticator",
        ));
    let mut avps = Node::branch("Attribute Value Pairs");
    for a in &repr.attributes {
        avps.push(dissect_attribute(a));
    }
    n.push(avps);
    if let Some(eap) = repr.eap_message() {
        match crate::eap::dissect(&eap) {
            Ok(e) => n.push(e),
            Err(e) => n.push(Node::new("EAP", format!("not decoded: {e}"))),
        }
    }
    Ok(n)
}

fn dissect_attribute(a: &Attribute<'_>) -> Node {
    let t = a.typ;
    let len = a.buffer_len();
    let head = match t.name() {
        Some(name) => format!("t={name}({}) l={len}", t.value()),
        None => format!("t=Unknown-Attribute({}) l={len}", t.value()),
    };
    let mut n = Node::new("AVP", head)
        .with(Node::uint("Type", t.value().into(), "radius.avp.type"))
        .with(Node::uint("Length", len as u64, "radius.avp.length"));
    let field = field_name(t);
    let f = field.as_deref().unwrap_or("");
    let label = t.name().unwrap_or("Value");
    match (&a.value, dict::data_type(t.value())) {
        (Value::Vendor(v), _) => dissect_vsa(&mut n, v),
        (Value::Integer(v), DataType::Integer) => {
            let shown = match t {
                AttrType::ServiceType => dict::ServiceType::from(*v).to_string(),
                AttrType::AcctStatusType => dict::AcctStatusType::from(*v).to_string(),
                AttrType::ErrorCause => dict::ErrorCause::from(*v).to_string(),
                _ => String::new(),
            };
            let node = if shown.is_empty() || shown.starts_with("Unknown") {
                Node::uint(label, (*v).into(), f)
            } else {
                Node::code(label, shown, (*v).into(), f)
            };
            n.push(node);
        }
        // tshark prints times as dates: shown, not compared.
        (Value::Integer(v), _) => n.push(Node::uint(label, (*v).into(), "")),
        (Value::Ipv4(ip), _) => n.push(Node::new(label, ip.to_string()).field(f, ip.to_string())),
        (Value::Ipv6(ip), _) => n.push(Node::new(label, ip.to_string()).field(f, ip.to_string())),
        (Value::Octets(v), dt) => match t {
            // tshark has no value for an empty fragment (EAP-Start, RFC 3579 §2.1).
            AttrType::EapMessage if v.is_empty() => {
                n.push(Node::new("EAP fragment", "(EAP-Start)"))
            }
            AttrType::EapMessage => n.push(Node::bytes("EAP fragment", v, "radius.eap_fragment")),
            AttrType::ChapPassword if v.len() == 17 => n.push(
                Node::bytes(label, v, f)
                    .with(
                        Node::new("CHAP Ident", format!("0x{:02x}", v[0]))
                            .field("radius.CHAP_Ident", format!("0x{:02x}", v[0])),
                    )
                    .with(Node::bytes("CHAP String", &v[1..], "radius.CHAP_String")),
            ),
            _ => match dt {
                DataType::Text if !f.is_empty() => n.push(crate::eap::text_node(label, v, f)),
                // tshark shows prefixes and opaque strings as their raw bytes.
                DataType::Ipv6Prefix | DataType::Octets if !v.is_empty() => {
                    n.push(Node::bytes(label, v, f))
                }
                DataType::Hidden if !v.is_empty() => n.push(Node::bytes(
                    "User-Password (encrypted)",
                    v,
                    "radius.User_Password_encrypted",
                )),
                // Hidden, tagged, prefixes, mis-sized values: shown, not compared.
                _ => n.push(Node::bytes(label, v, "")),
            },
        },
    }
    n
}

fn dissect_vsa(n: &mut Node, v: &Vsa<'_>) {
    n.push(Node::uint(
        "Vendor ID",
        v.vendor_id.into(),
        "radius.avp.vendor_id",
    ));
    match &v.data {
        VsaData::Subs(subs) => {
            for s in subs {
                let name = if v.vendor_id == VENDOR_MICROSOFT {
                    dict::MsAttrType::from(s.vendor_type).name()
                } else {
                    None
                };
                let mut x = Node::new(
                    "VSA",
                    format!(
                        "t={}({}) l={}",
                        name.unwrap_or("Unknown"),
                        s.vendor_type,
                        s.value.len() + 2
                    ),
                )
                .with(Node::uint(
                    "Type",
                    s.vendor_type.into(),
                    "radius.avp.vendor_type",
                ))
                .with(Node::uint(
                    "Length",
                    (s.value.len() + 2) as u64,
                    "radius.avp.vendor_len",
                ));
                match (name, s.vendor_type) {
                    (Some(nm), 16 | 17) => {
                        let f = format!("radius.{}", nm.replace('-', "_"));
                        x.push(Node::bytes(nm, s.value, &f));
                        if let Ok(k) = MppeKey::parse(s.value) {
                            x.push(Node::bytes("Salt", &k.salt, ""));
                            x.push(Node::bytes("Encrypted key string", k.encrypted, ""));
                        }
                    }
                    (Some(nm), _) => x.push(Node::bytes(nm, s.value, "")),
                    (None, _) => x.push(Node::bytes("Value", s.value, "")),
                }
                n.push(x);
            }
        }
        VsaData::Raw(r) => n.push(Node::bytes("Vendor data", r, "")),
    }
}

mod samples;
pub(crate) use samples::eap_samples;
pub use samples::{samples, samples_with_request_authenticators, SAMPLE_SECRET};

#[cfg(test)]
mod tests;
