//! The AVP codec (RFC 6733 §4.1): a zero-copy [`Avp`] view, the [`Avps`] iterator, typed
//! getters, the [`Address`] and [`Time`] data types, and the whole-message validation that
//! produces a [`Fault`] an engine can answer with (Result-Code + Failed-AVP).

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::dict::{self, AvpDef, DataType};
use super::{MAX_DEPTH, PROTO};
use crate::codec::Writer;
use crate::{Error, ErrorKind};

/// AVP flag bits (RFC 6733 §4.1). The five low bits are reserved and kept as received.
pub mod flags {
    pub const VENDOR: u8 = 0x80;
    pub const MANDATORY: u8 = 0x40;
    pub const PROTECTED: u8 = 0x20;
    pub const RESERVED: u8 = 0x1f;
}

/// AVP header length without / with the Vendor-ID field.
pub const AVP_HEADER_LEN: usize = 8;
pub const AVP_VENDOR_HEADER_LEN: usize = 12;

/// A typed-getter failure: which AVP (code, vendor, dictionary name) and what is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("diameter: AVP {} (code {code}, vendor {vendor}): {reason}: {kind}", name.unwrap_or("unknown"))]
pub struct AvpError {
    pub code: u32,
    pub vendor: u32,
    pub name: Option<&'static str>,
    pub kind: ErrorKind,
    /// What the check expected, e.g. `"data length is not 4"`.
    pub reason: &'static str,
}

impl From<AvpError> for Error {
    fn from(e: AvpError) -> Error {
        Error::new(PROTO, e.name.unwrap_or("AVP.data"), e.kind)
    }
}

/// NTP seconds (RFC 6733 §4.3.1 Time): seconds since 1900-01-01 00:00 UTC, with the RFC 4330
/// rule that values with the top bit clear are in the era starting 2036-02-07.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub u32);

/// Seconds from 1900-01-01 to 1970-01-01.
const NTP_UNIX_OFFSET: i64 = 2_208_988_800;

impl Time {
    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        let s = self.0 as i64;
        if self.0 & 0x8000_0000 != 0 {
            s - NTP_UNIX_OFFSET
        } else {
            s + (1i64 << 32) - NTP_UNIX_OFFSET
        }
    }

    /// The Time for Unix seconds `secs`; `None` outside 1968-01-20 .. 2104-02-26.
    pub fn from_unix(secs: i64) -> Option<Time> {
        let ntp = secs.checked_add(NTP_UNIX_OFFSET)?;
        if (1i64 << 31..(1i64 << 32) + (1i64 << 31)).contains(&ntp) {
            Some(Time((ntp & 0xffff_ffff) as u32))
        } else {
            None
        }
    }
}

/// An Address AVP value (RFC 6733 §4.3.1): the 2-byte IANA address family, then the address.
/// IPv4 (1) and IPv6 (2) are typed and length-checked; any other family is kept raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Address<'a> {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Other { family: u16, addr: &'a [u8] },
}

impl<'a> Address<'a> {
    pub const FAMILY_IPV4: u16 = 1;
    pub const FAMILY_IPV6: u16 = 2;
    pub const FAMILY_E164: u16 = 8;

    /// Parses AVP data; the error says what is wrong.
    pub fn parse(data: &'a [u8]) -> Result<Self, (ErrorKind, &'static str)> {
        let (fam, addr) = match data {
            [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
            _ => {
                return Err((
                    ErrorKind::BadLength,
                    "Address shorter than its 2-byte family",
                ))
            }
        };
        match fam {
            Self::FAMILY_IPV4 => <[u8; 4]>::try_from(addr)
                .map(|a| Address::V4(a.into()))
                .map_err(|_| (ErrorKind::BadLength, "IPv4 Address is not 4 bytes")),
            Self::FAMILY_IPV6 => <[u8; 16]>::try_from(addr)
                .map(|a| Address::V6(a.into()))
                .map_err(|_| (ErrorKind::BadLength, "IPv6 Address is not 16 bytes")),
            family => Ok(Address::Other { family, addr }),
        }
    }

    pub fn family(&self) -> u16 {
        match self {
            Address::V4(_) => Self::FAMILY_IPV4,
            Address::V6(_) => Self::FAMILY_IPV6,
            Address::Other { family, .. } => *family,
        }
    }

    /// Encoded length (family + address).
    pub fn len(&self) -> usize {
        2 + match self {
            Address::V4(_) => 4,
            Address::V6(_) => 16,
            Address::Other { addr, .. } => addr.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.family());
        match self {
            Address::V4(a) => out.put(&a.octets()),
            Address::V6(a) => out.put(&a.octets()),
            Address::Other { addr, .. } => out.put(addr),
        }
    }

    /// The IP address, for the two IP families.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Address::V4(a) => Some(IpAddr::V4(*a)),
            Address::V6(a) => Some(IpAddr::V6(*a)),
            Address::Other { .. } => None,
        }
    }
}

impl From<IpAddr> for Address<'_> {
    fn from(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(a) => Address::V4(a),
            IpAddr::V6(a) => Address::V6(a),
        }
    }
}

impl fmt::Display for Address<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::V4(a) => a.fmt(f),
            Address::V6(a) => a.fmt(f),
            Address::Other { family, addr } => {
                write!(f, "family {family}: {}", crate::dissect::hex(addr))
            }
        }
    }
}

/// One AVP as received, borrowing its data. `Copy`; creating one never allocates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Avp<'a> {
    code: u32,
    flags: u8,
    vendor_id: u32,
    data: &'a [u8],
    raw: &'a [u8],
}

impl fmt::Debug for Avp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Avp")
            .field("name", &self.name())
            .field("code", &self.code)
            .field("vendor_id", &self.vendor_id())
            .field("flags", &format_args!("{:#04x}", self.flags))
            .field("data", &crate::dissect::hex(self.data))
            .finish()
    }
}

/// A framing error in one AVP, with as much of the AVP as could be read.
pub(crate) struct SplitError<'a> {
    pub error: Error,
    /// (code, vendor, bytes) when the AVP header was readable.
    pub avp: Option<(u32, u32, &'a [u8])>,
}

#[inline]
fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

impl<'a> Avp<'a> {
    /// Splits one AVP (header, data and padding) off the front of `buf`, checking only its
    /// framing: lengths, and that the padding is present and zero.
    #[inline]
    pub fn split(buf: &'a [u8]) -> crate::Result<(Avp<'a>, &'a [u8])> {
        Self::split_detailed(buf).map_err(|e| e.error)
    }

    #[inline]
    pub(crate) fn split_detailed(buf: &'a [u8]) -> Result<(Avp<'a>, &'a [u8]), SplitError<'a>> {
        let fail = |field, kind, avp| SplitError {
            error: Error::new(PROTO, field, kind),
            avp,
        };
        if buf.len() < AVP_HEADER_LEN {
            return Err(fail("AVP.header", ErrorKind::Truncated, None));
        }
        let code = be32(buf, 0);
        let flags = buf[4];
        let len = u32::from_be_bytes([0, buf[5], buf[6], buf[7]]) as usize;
        let vendor = flags & flags::VENDOR != 0;
        let hdr = if vendor {
            AVP_VENDOR_HEADER_LEN
        } else {
            AVP_HEADER_LEN
        };
        if buf.len() < hdr {
            return Err(fail(
                "AVP.vendor-id",
                ErrorKind::Truncated,
                Some((code, 0, buf)),
            ));
        }
        let vendor_id = if vendor { be32(buf, 8) } else { 0 };
        let whole = |n: usize| &buf[..n.min(buf.len())];
        if len < hdr {
            return Err(fail(
                "AVP.length",
                ErrorKind::BadLength,
                Some((code, vendor_id, whole(hdr))),
            ));
        }
        if len > buf.len() {
            return Err(fail(
                "AVP.length",
                ErrorKind::Truncated,
                Some((code, vendor_id, whole(len))),
            ));
        }
        let padded = len + crate::codec::pad_to(len, 4);
        if padded > buf.len() {
            return Err(fail(
                "AVP.padding",
                ErrorKind::Truncated,
                Some((code, vendor_id, whole(len))),
            ));
        }
        if buf[len..padded].iter().any(|&b| b != 0) {
            return Err(fail(
                "AVP.padding",
                ErrorKind::BadChecksum,
                Some((code, vendor_id, whole(padded))),
            ));
        }
        let avp = Avp {
            code,
            flags,
            vendor_id,
            data: &buf[hdr..len],
            raw: &buf[..padded],
        };
        Ok((avp, &buf[padded..]))
    }

    /// Parses exactly one AVP (trailing bytes are an error).
    pub fn parse(buf: &'a [u8]) -> crate::Result<Avp<'a>> {
        let (a, rest) = Self::split(buf)?;
        if !rest.is_empty() {
            return Err(Error::new(PROTO, "AVP", ErrorKind::TrailingBytes));
        }
        Ok(a)
    }

    pub fn code(&self) -> u32 {
        self.code
    }
    /// The flags byte as received (V, M, P and the reserved bits).
    pub fn flags(&self) -> u8 {
        self.flags
    }
    pub fn is_vendor_specific(&self) -> bool {
        self.flags & flags::VENDOR != 0
    }
    pub fn is_mandatory(&self) -> bool {
        self.flags & flags::MANDATORY != 0
    }
    pub fn is_protected(&self) -> bool {
        self.flags & flags::PROTECTED != 0
    }
    pub fn reserved_flags(&self) -> u8 {
        self.flags & flags::RESERVED
    }
    /// The Vendor-ID field, present when the V bit is set.
    pub fn vendor_id(&self) -> Option<u32> {
        self.is_vendor_specific().then_some(self.vendor_id)
    }
    /// The vendor for dictionary purposes: 0 when there is no Vendor-ID field.
    pub fn vendor(&self) -> u32 {
        self.vendor_id
    }
    /// The AVP Length field: header plus data, without padding.
    pub fn length(&self) -> usize {
        let hdr = if self.is_vendor_specific() {
            AVP_VENDOR_HEADER_LEN
        } else {
            AVP_HEADER_LEN
        };
        hdr + self.data.len()
    }
    /// The data, without header and padding.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
    /// The whole AVP as received, padding included (what Failed-AVP carries).
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }
    /// The dictionary entry, if known.
    #[inline]
    pub fn def(&self) -> Option<&'static AvpDef> {
        dict::lookup(self.vendor_id, self.code)
    }
    pub fn name(&self) -> Option<&'static str> {
        self.def().map(|d| d.name)
    }
    /// True if this AVP is `def` (same code and vendor).
    #[inline]
    pub fn is(&self, def: &AvpDef) -> bool {
        self.code == def.code && self.vendor_id == def.vendor
    }

    fn err(&self, kind: ErrorKind, reason: &'static str) -> AvpError {
        AvpError {
            code: self.code,
            vendor: self.vendor_id,
            name: self.name(),
            kind,
            reason,
        }
    }

    fn fixed<const N: usize>(&self, reason: &'static str) -> Result<[u8; N], AvpError> {
        <[u8; N]>::try_from(self.data).map_err(|_| self.err(ErrorKind::BadLength, reason))
    }

    pub fn octets(&self) -> &'a [u8] {
        self.data
    }
    pub fn u32(&self) -> Result<u32, AvpError> {
        self.fixed("data length is not 4").map(u32::from_be_bytes)
    }
    pub fn i32(&self) -> Result<i32, AvpError> {
        self.fixed("data length is not 4").map(i32::from_be_bytes)
    }
    pub fn u64(&self) -> Result<u64, AvpError> {
        self.fixed("data length is not 8").map(u64::from_be_bytes)
    }
    pub fn i64(&self) -> Result<i64, AvpError> {
        self.fixed("data length is not 8").map(i64::from_be_bytes)
    }
    pub fn f32(&self) -> Result<f32, AvpError> {
        self.fixed("data length is not 4").map(f32::from_be_bytes)
    }
    pub fn f64(&self) -> Result<f64, AvpError> {
        self.fixed("data length is not 8").map(f64::from_be_bytes)
    }
    /// Enumerated is an Integer32 (RFC 6733 §4.3.1).
    pub fn enumerated(&self) -> Result<i32, AvpError> {
        self.i32()
    }
    pub fn time(&self) -> Result<Time, AvpError> {
        self.u32().map(Time)
    }
    /// UTF8String, DiameterIdentity, DiameterURI, IPFilterRule: the text.
    pub fn utf8(&self) -> Result<&'a str, AvpError> {
        core::str::from_utf8(self.data)
            .map_err(|_| self.err(ErrorKind::BadValue, "data is not UTF-8"))
    }
    pub fn identity(&self) -> Result<&'a str, AvpError> {
        self.utf8()
    }
    pub fn address(&self) -> Result<Address<'a>, AvpError> {
        Address::parse(self.data).map_err(|(k, r)| self.err(k, r))
    }
    pub fn ip(&self) -> Result<IpAddr, AvpError> {
        self.address()?
            .ip()
            .ok_or_else(|| self.err(ErrorKind::BadValue, "Address family is not IPv4 or IPv6"))
    }
    /// The AVPs inside a Grouped AVP. Checks the framing of this level first, so the iterator
    /// never stops early; nested levels are checked when they are opened.
    pub fn grouped(&self) -> Result<Avps<'a>, AvpError> {
        let mut rest = self.data;
        while !rest.is_empty() {
            match Avp::split_detailed(rest) {
                Ok((_, r)) => rest = r,
                Err(e) => {
                    return Err(self.err(e.error.kind, "Grouped data is not a sequence of AVPs"))
                }
            }
        }
        Ok(Avps::trusted(self.data))
    }
}

/// An iterator over AVPs whose framing was already checked (see [`Avps::parse`]). Yields
/// borrowed [`Avp`]s; never allocates.
#[derive(Debug, Clone, Copy, Default)]
pub struct Avps<'a> {
    rest: &'a [u8],
}

impl<'a> Avps<'a> {
    /// Checks the framing of a sequence of AVPs (one level) and iterates over it.
    pub fn parse(buf: &'a [u8]) -> crate::Result<Avps<'a>> {
        let mut rest = buf;
        while !rest.is_empty() {
            rest = Avp::split(rest)?.1;
        }
        Ok(Avps { rest: buf })
    }

    pub(crate) fn trusted(buf: &'a [u8]) -> Avps<'a> {
        Avps { rest: buf }
    }

    /// The bytes not yet iterated.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.rest
    }

    /// The first AVP that is `def`.
    pub fn get(self, def: &AvpDef) -> Option<Avp<'a>> {
        self.into_iter().find(|a| a.is(def))
    }

    /// Every AVP that is `def`, in order.
    pub fn all<'d>(self, def: &'d AvpDef) -> impl Iterator<Item = Avp<'a>> + 'd
    where
        'a: 'd,
    {
        self.filter(move |a| a.is(def))
    }
}

impl<'a> Iterator for Avps<'a> {
    type Item = Avp<'a>;
    #[inline]
    fn next(&mut self) -> Option<Avp<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        // The bytes were validated when this iterator was made (or, inside Failed-AVP, may
        // not be): read the header with bounds checks only and stop at anything odd.
        let buf = self.rest;
        let hdr_ok = buf.len() >= AVP_HEADER_LEN;
        let (flags, len) = if hdr_ok {
            (
                buf[4],
                u32::from_be_bytes([0, buf[5], buf[6], buf[7]]) as usize,
            )
        } else {
            (0, 0)
        };
        let hdr = if flags & flags::VENDOR != 0 {
            AVP_VENDOR_HEADER_LEN
        } else {
            AVP_HEADER_LEN
        };
        let padded = len + crate::codec::pad_to(len, 4);
        if !hdr_ok || len < hdr || padded > buf.len() {
            self.rest = &[];
            return None;
        }
        self.rest = &buf[padded..];
        Some(Avp {
            code: be32(buf, 0),
            flags,
            vendor_id: if hdr == AVP_VENDOR_HEADER_LEN {
                be32(buf, 8)
            } else {
                0
            },
            data: &buf[hdr..len],
            raw: &buf[..padded],
        })
    }
}

/// Why a message was rejected, in the terms an engine answers with: the error naming the
/// field, the Result-Code RFC 6733 §7.1 prescribes, and the offending AVP as received (for
/// the Failed-AVP AVP, RFC 6733 §7.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault<'a> {
    pub error: Error,
    pub result_code: u32,
    pub avp: Option<FaultyAvp<'a>>,
}

/// The AVP a [`Fault`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultyAvp<'a> {
    pub code: u32,
    pub vendor: u32,
    pub name: Option<&'static str>,
    /// As many bytes of the AVP as the message holds (header, data, padding when present).
    pub bytes: &'a [u8],
}

impl<'a> Fault<'a> {
    /// A fault with no AVP to report (engines use it for their own checks too, e.g.
    /// 5005 DIAMETER_MISSING_AVP).
    pub fn new(error: Error, result_code: u32) -> Self {
        Fault {
            error,
            result_code,
            avp: None,
        }
    }

    /// The same fault, about `avp` as received (e.g. 5004 for a value the engine rejects).
    pub fn with_avp(mut self, avp: &Avp<'a>) -> Self {
        self.avp = Some(FaultyAvp {
            code: avp.code,
            vendor: avp.vendor_id,
            name: avp.name(),
            bytes: avp.raw,
        });
        self
    }
}

impl fmt::Display for Fault<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (Result-Code {})", self.error, self.result_code)?;
        if let Some(a) = &self.avp {
            write!(
                f,
                " in AVP {} (code {}, vendor {})",
                a.name.unwrap_or("unknown"),
                a.code,
                a.vendor
            )?;
        }
        Ok(())
    }
}

/// RFC 6733 §7.1.5 result codes used for faults.
pub(crate) mod rc {
    pub const INVALID_AVP_VALUE: u32 = 5004;
    pub const UNSUPPORTED_VERSION: u32 = 5011;
    pub const INVALID_AVP_LENGTH: u32 = 5014;
    pub const INVALID_MESSAGE_LENGTH: u32 = 5015;
}

/// UTF-8 validity with a word-at-a-time ASCII fast path (identities and NAIs are ASCII).
#[inline]
pub(crate) fn is_utf8(b: &[u8]) -> bool {
    let mut chunks = b.chunks_exact(8);
    let mut acc = 0u64;
    for c in &mut chunks {
        acc |= u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
    }
    for &x in chunks.remainder() {
        acc |= x as u64;
    }
    acc & 0x8080_8080_8080_8080 == 0 || core::str::from_utf8(b).is_ok()
}

/// Checks the value of a known AVP against its data type (not Grouped; that is recursive).
#[inline]
pub(crate) fn check_value(def: &AvpDef, data: &[u8]) -> Result<(), (ErrorKind, &'static str)> {
    if let Some(n) = def.ty.fixed_len() {
        if data.len() != n {
            return Err((ErrorKind::BadLength, "data length does not fit the type"));
        }
        return Ok(());
    }
    match def.ty {
        t if t.is_text() => {
            if is_utf8(data) {
                Ok(())
            } else {
                Err((ErrorKind::BadValue, "data is not UTF-8"))
            }
        }
        DataType::Address => Address::parse(data).map(|_| ()),
        _ => Ok(()),
    }
}

/// Validates a sequence of AVPs: framing, padding, the value of every AVP the dictionary
/// knows, and Grouped AVPs recursively (at most [`MAX_DEPTH`] levels).
pub(crate) fn validate(buf: &[u8], depth: usize) -> Result<(), Fault<'_>> {
    let mut rest = buf;
    while !rest.is_empty() {
        let (avp, r) = match Avp::split_detailed(rest) {
            Ok(x) => x,
            Err(e) => {
                let mut f = Fault::new(e.error, rc::INVALID_AVP_LENGTH);
                f.avp = e.avp.map(|(code, vendor, bytes)| FaultyAvp {
                    code,
                    vendor,
                    name: dict::lookup(vendor, code).map(|d| d.name),
                    bytes,
                });
                if e.avp.is_none() && depth == 0 {
                    f.result_code = rc::INVALID_MESSAGE_LENGTH;
                }
                if e.error.field == "AVP.padding" && e.error.kind == ErrorKind::BadChecksum {
                    f.result_code = rc::INVALID_AVP_VALUE;
                }
                return Err(f);
            }
        };
        rest = r;
        let Some(def) = avp.def() else { continue };
        // Failed-AVP carries the offending AVP as received: it may be malformed by design.
        if def.code == dict::FAILED_AVP.code && def.vendor == 0 {
            continue;
        }
        let faulty = || FaultyAvp {
            code: avp.code,
            vendor: avp.vendor_id,
            name: Some(def.name),
            bytes: avp.raw,
        };
        if def.ty == DataType::Grouped {
            if depth + 1 >= MAX_DEPTH {
                let mut f = Fault::new(
                    Error::bad_value(PROTO, "Grouped.depth"),
                    rc::INVALID_AVP_VALUE,
                );
                f.avp = Some(faulty());
                return Err(f);
            }
            validate(avp.data, depth + 1)?;
        } else if let Err((kind, _)) = check_value(def, avp.data) {
            let code = if kind == ErrorKind::BadLength {
                rc::INVALID_AVP_LENGTH
            } else {
                rc::INVALID_AVP_VALUE
            };
            let mut f = Fault::new(Error::new(PROTO, def.name, kind), code);
            f.avp = Some(faulty());
            return Err(f);
        }
    }
    Ok(())
}
