//! Building messages: [`AvpRepr`] (an AVP with a typed value, Grouped AVPs nested) and
//! [`MessageRepr`] (header + AVPs), emitted into a caller's `Vec` with every length
//! back-patched. Also the helpers an engine answers with: [`MessageRepr::answer_to`] and
//! [`MessageRepr::push_fault`].

use core::net::IpAddr;

use super::avp::{self, flags, Address, Avp, Avps, Fault, Time};
use super::commands;
use super::dict::{self, AvpDef, DataType};
use super::message::{self, Header, Message, HEADER_LEN};
use super::{MAX_DEPTH, PROTO};
use crate::codec::{pad_to, Writer};
use crate::{Error, Result};

/// A typed AVP value. Any AVP may carry `Octets` (raw data), whatever its dictionary type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Octets(&'a [u8]),
    Integer32(i32),
    Integer64(i64),
    Unsigned32(u32),
    Unsigned64(u64),
    Float32(f32),
    Float64(f64),
    Grouped(Vec<AvpRepr<'a>>),
    Address(Address<'a>),
    Time(Time),
    /// UTF8String, DiameterIdentity, DiameterURI, IPFilterRule, QoSFilterRule.
    Text(&'a str),
    Enumerated(i32),
}

impl Value<'_> {
    fn data_len(&self) -> usize {
        match self {
            Value::Octets(b) => b.len(),
            Value::Text(s) => s.len(),
            Value::Integer32(_)
            | Value::Unsigned32(_)
            | Value::Float32(_)
            | Value::Time(_)
            | Value::Enumerated(_) => 4,
            Value::Integer64(_) | Value::Unsigned64(_) | Value::Float64(_) => 8,
            Value::Address(a) => a.len(),
            Value::Grouped(v) => v.iter().map(AvpRepr::buffer_len).sum(),
        }
    }
}

/// One AVP to emit (or as parsed by [`AvpRepr::parse`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AvpRepr<'a> {
    pub code: u32,
    /// Present iff the V bit is set.
    pub vendor_id: Option<u32>,
    /// M, P and the reserved bits; the V bit is derived from `vendor_id` on emit.
    pub flags: u8,
    pub value: Value<'a>,
}

impl<'a> AvpRepr<'a> {
    /// An AVP of dictionary entry `def` with flags by its rules (V for vendor AVPs, M when
    /// the M-bit rule is "must").
    pub fn new(def: &AvpDef, value: Value<'a>) -> Self {
        AvpRepr {
            code: def.code,
            vendor_id: (def.vendor != 0).then_some(def.vendor),
            flags: def.flags() & !flags::VENDOR,
            value,
        }
    }
    /// An AVP the dictionary need not know.
    pub fn raw(code: u32, vendor_id: Option<u32>, flags: u8, data: &'a [u8]) -> Self {
        AvpRepr {
            code,
            vendor_id,
            flags: flags & !self::flags::VENDOR,
            value: Value::Octets(data),
        }
    }
    pub fn u32(def: &AvpDef, v: u32) -> Self {
        Self::new(def, Value::Unsigned32(v))
    }
    pub fn u64(def: &AvpDef, v: u64) -> Self {
        Self::new(def, Value::Unsigned64(v))
    }
    pub fn i32(def: &AvpDef, v: i32) -> Self {
        Self::new(def, Value::Integer32(v))
    }
    pub fn enumerated(def: &AvpDef, v: i32) -> Self {
        Self::new(def, Value::Enumerated(v))
    }
    pub fn utf8(def: &AvpDef, s: &'a str) -> Self {
        Self::new(def, Value::Text(s))
    }
    pub fn octets(def: &AvpDef, b: &'a [u8]) -> Self {
        Self::new(def, Value::Octets(b))
    }
    pub fn address(def: &AvpDef, a: Address<'a>) -> Self {
        Self::new(def, Value::Address(a))
    }
    pub fn ip(def: &AvpDef, a: IpAddr) -> Self {
        Self::new(def, Value::Address(a.into()))
    }
    pub fn time(def: &AvpDef, t: Time) -> Self {
        Self::new(def, Value::Time(t))
    }
    pub fn grouped(def: &AvpDef, avps: Vec<AvpRepr<'a>>) -> Self {
        Self::new(def, Value::Grouped(avps))
    }

    pub fn def(&self) -> Option<&'static AvpDef> {
        dict::lookup(self.vendor_id.unwrap_or(0), self.code)
    }

    /// Converts a received AVP, typing its value by the dictionary (unknown AVPs stay
    /// `Octets`); Grouped AVPs are converted recursively, at most [`MAX_DEPTH`] levels.
    pub fn parse(avp: Avp<'a>) -> Result<Self> {
        Self::parse_at(avp, 0)
    }

    fn parse_at(avp: Avp<'a>, depth: usize) -> Result<Self> {
        let def = avp.def();
        let value = match def.map(|d| d.ty) {
            None | Some(DataType::OctetString) => Value::Octets(avp.data()),
            Some(DataType::Integer32) => Value::Integer32(avp.i32()?),
            Some(DataType::Integer64) => Value::Integer64(avp.i64()?),
            Some(DataType::Unsigned32) => Value::Unsigned32(avp.u32()?),
            Some(DataType::Unsigned64) => Value::Unsigned64(avp.u64()?),
            Some(DataType::Float32) => Value::Float32(avp.f32()?),
            Some(DataType::Float64) => Value::Float64(avp.f64()?),
            Some(DataType::Enumerated) => Value::Enumerated(avp.enumerated()?),
            Some(DataType::Time) => Value::Time(avp.time()?),
            Some(DataType::Address) => Value::Address(avp.address()?),
            Some(
                DataType::UTF8String
                | DataType::DiameterIdentity
                | DataType::DiameterURI
                | DataType::IPFilterRule
                | DataType::QoSFilterRule,
            ) => Value::Text(avp.utf8()?),
            Some(DataType::Grouped) => match Self::parse_grouped(avp, depth) {
                Ok(v) => Value::Grouped(v),
                // Failed-AVP carries the offending AVP as received, well-formed or not.
                Err(_) if avp.is(&dict::FAILED_AVP) => Value::Octets(avp.data()),
                Err(e) => return Err(e),
            },
        };
        Ok(AvpRepr {
            code: avp.code(),
            vendor_id: avp.vendor_id(),
            flags: avp.flags() & !flags::VENDOR,
            value,
        })
    }

    fn parse_grouped(avp: Avp<'a>, depth: usize) -> Result<Vec<Self>> {
        if depth + 1 >= MAX_DEPTH {
            return Err(Error::bad_value(PROTO, "Grouped.depth"));
        }
        let mut v = Vec::new();
        for a in avp.grouped()? {
            v.push(Self::parse_at(a, depth + 1)?);
        }
        Ok(v)
    }

    fn header_len(&self) -> usize {
        if self.vendor_id.is_some() {
            avp::AVP_VENDOR_HEADER_LEN
        } else {
            avp::AVP_HEADER_LEN
        }
    }

    /// Bytes on the wire, padding included.
    pub fn buffer_len(&self) -> usize {
        let n = self.header_len() + self.value.data_len();
        n + pad_to(n, 4)
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        self.emit_at(out, 0)
    }

    fn emit_at(&self, out: &mut Vec<u8>, depth: usize) -> Result<()> {
        let start = out.len();
        out.put_u32(self.code);
        let v = if self.vendor_id.is_some() {
            flags::VENDOR
        } else {
            0
        };
        out.put_u8((self.flags & !flags::VENDOR) | v);
        out.put_u24(0);
        if let Some(id) = self.vendor_id {
            out.put_u32(id);
        }
        match &self.value {
            Value::Octets(b) => out.put(b),
            Value::Text(s) => out.put(s.as_bytes()),
            Value::Integer32(x) | Value::Enumerated(x) => out.put(&x.to_be_bytes()),
            Value::Unsigned32(x) => out.put_u32(*x),
            Value::Time(t) => out.put_u32(t.0),
            Value::Float32(x) => out.put(&x.to_be_bytes()),
            Value::Integer64(x) => out.put(&x.to_be_bytes()),
            Value::Unsigned64(x) => out.put_u64(*x),
            Value::Float64(x) => out.put(&x.to_be_bytes()),
            Value::Address(a) => a.emit(out),
            Value::Grouped(avps) => {
                if depth + 1 >= MAX_DEPTH {
                    return Err(Error::bad_value(PROTO, "Grouped.depth"));
                }
                for a in avps {
                    a.emit_at(out, depth + 1)?;
                }
            }
        }
        out.patch_len_u24(start + 5, start, 0, PROTO, "AVP.length")?;
        let n = out.len() - start;
        out.put_zeros(pad_to(n, 4));
        Ok(())
    }
}

/// A message to emit: header fields and AVPs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MessageRepr<'a> {
    pub header: Header,
    pub avps: Vec<AvpRepr<'a>>,
}

impl<'a> MessageRepr<'a> {
    /// A request of `command_code` on `application_id`: R set, P set when the command is
    /// proxiable (RFC 6733 §3), identifiers zero until set.
    pub fn request(command_code: u32, application_id: u32) -> Self {
        let proxiable = commands::lookup(command_code).is_none_or(|c| c.proxiable);
        let mut f = message::flags::REQUEST;
        if proxiable {
            f |= message::flags::PROXIABLE;
        }
        MessageRepr {
            header: Header {
                flags: f,
                command_code,
                application_id,
                hop_by_hop: 0,
                end_to_end: 0,
            },
            avps: Vec::new(),
        }
    }

    /// The answer skeleton for `req` (RFC 6733 §6.2): same command, application and
    /// identifiers, R cleared, P copied, and the request's Session-Id AVP first.
    pub fn answer_to(req: &Message<'a>) -> Self {
        let mut a = MessageRepr {
            header: Header {
                flags: req.header.flags & message::flags::PROXIABLE,
                ..req.header
            },
            avps: Vec::new(),
        };
        if let Some(s) = req.get(&dict::SESSION_ID) {
            a.avps
                .push(AvpRepr::raw(s.code(), s.vendor_id(), s.flags(), s.data()));
        }
        a
    }

    /// Copies the request's Proxy-Info AVPs, in order (RFC 6733 §6.2 item 4); call it after
    /// the answer's own AVPs.
    pub fn push_proxy_info(&mut self, req: &Message<'a>) -> &mut Self {
        for p in req.avps().all(&dict::PROXY_INFO) {
            self.avps
                .push(AvpRepr::raw(p.code(), p.vendor_id(), p.flags(), p.data()));
        }
        self
    }

    /// Adds Result-Code and, when the fault names an AVP, Failed-AVP carrying that AVP as
    /// received. Protocol errors (3xxx) also set the E bit (RFC 6733 §7.1.3).
    pub fn push_fault(&mut self, fault: &Fault<'a>) -> &mut Self {
        if (3000..4000).contains(&fault.result_code) {
            self.header.flags |= message::flags::ERROR;
        }
        self.avps
            .push(AvpRepr::u32(&dict::RESULT_CODE, fault.result_code));
        if let Some(a) = &fault.avp {
            self.avps
                .push(AvpRepr::new(&dict::FAILED_AVP, Value::Octets(a.bytes)));
        }
        self
    }

    pub fn hop_by_hop(mut self, id: u32) -> Self {
        self.header.hop_by_hop = id;
        self
    }
    pub fn end_to_end(mut self, id: u32) -> Self {
        self.header.end_to_end = id;
        self
    }
    pub fn with(mut self, avp: AvpRepr<'a>) -> Self {
        self.avps.push(avp);
        self
    }
    pub fn push(&mut self, avp: AvpRepr<'a>) -> &mut Self {
        self.avps.push(avp);
        self
    }

    /// Parses and converts a whole message (see [`Message::parse`] for what is checked).
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let m = Message::parse(data)?;
        let mut avps = Vec::new();
        for a in m.avps() {
            avps.push(AvpRepr::parse(a)?);
        }
        Ok(MessageRepr {
            header: m.header,
            avps,
        })
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.avps.iter().map(AvpRepr::buffer_len).sum::<usize>()
    }

    /// Appends the message to `out`, Message Length and every AVP Length back-patched.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = self.header.emit_start(out)?;
        for a in &self.avps {
            a.emit(out)?;
        }
        Header::emit_finish(out, start)
    }

    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut v = Vec::with_capacity(self.buffer_len());
        self.emit(&mut v)?;
        Ok(v)
    }
}

/// Iterates every AVP of a sequence depth-first (Grouped AVPs the dictionary knows are
/// entered), calling `f(depth, avp)`. Stops at [`MAX_DEPTH`], and inside a Grouped AVP at
/// the first framing error (none in a [`Message`], which is validated). Allocates nothing.
pub fn walk<'a>(avps: Avps<'a>, f: &mut impl FnMut(usize, Avp<'a>)) {
    fn go<'a>(avps: Avps<'a>, depth: usize, f: &mut impl FnMut(usize, Avp<'a>)) {
        for a in avps {
            f(depth, a);
            if depth + 1 < MAX_DEPTH && a.def().is_some_and(|d| d.ty == DataType::Grouped) {
                // The iterator stops quietly at a framing error, so no pre-check is needed.
                go(Avps::trusted(a.data()), depth + 1, f);
            }
        }
    }
    go(avps, 0, f)
}
