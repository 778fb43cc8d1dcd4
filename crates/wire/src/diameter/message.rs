//! The message header (RFC 6733 §3) and the validated zero-copy [`Message`] view.

use super::avp::{self, rc, Avp, Avps, Fault};
use super::commands::{self, CommandDef};
use super::dict::{self, AvpDef};
use super::PROTO;
use crate::codec::Writer;
use crate::{Error, ErrorKind, Result};

/// Fixed header length.
pub const HEADER_LEN: usize = 20;
/// The only version RFC 6733 defines.
pub const VERSION: u8 = 1;

/// Command flag bits (RFC 6733 §3). The four low bits are reserved and kept as received.
pub mod flags {
    pub const REQUEST: u8 = 0x80;
    pub const PROXIABLE: u8 = 0x40;
    pub const ERROR: u8 = 0x20;
    pub const RETRANSMITTED: u8 = 0x10;
    pub const RESERVED: u8 = 0x0f;
}

/// The total length of the message starting at `prefix`, from its first 4 bytes (for
/// splitting a TCP stream); `None` until 4 bytes are there.
pub fn frame_len(prefix: &[u8]) -> Option<usize> {
    match prefix {
        [_, a, b, c, ..] => Some(u32::from_be_bytes([0, *a, *b, *c]) as usize),
        _ => None,
    }
}

/// A checked view of the fixed header over any buffer.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks the version, and that the Message Length is at least the header, a multiple of
    /// 4 and no longer than the buffer.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Packet { buffer };
        p.check().map_err(|f| f.error)?;
        Ok(p)
    }

    fn check(&self) -> core::result::Result<usize, Fault<'static>> {
        let b = self.buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Fault::new(
                Error::truncated(PROTO, "header"),
                rc::INVALID_MESSAGE_LENGTH,
            ));
        }
        if b[0] != VERSION {
            return Err(Fault::new(
                Error::bad_value(PROTO, "header.version"),
                rc::UNSUPPORTED_VERSION,
            ));
        }
        let len = self.length() as usize;
        if len < HEADER_LEN || len & 3 != 0 {
            return Err(Fault::new(
                Error::bad_length(PROTO, "header.length"),
                rc::INVALID_MESSAGE_LENGTH,
            ));
        }
        if len > b.len() {
            return Err(Fault::new(
                Error::truncated(PROTO, "header.length"),
                rc::INVALID_MESSAGE_LENGTH,
            ));
        }
        Ok(len)
    }

    fn be32(&self, at: usize) -> u32 {
        match self.buffer.as_ref().get(at..at + 4) {
            Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
            None => 0,
        }
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref().first().copied().unwrap_or(0)
    }
    /// Message Length (24 bits).
    pub fn length(&self) -> u32 {
        self.be32(0) & 0x00ff_ffff
    }
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref().get(4).copied().unwrap_or(0)
    }
    /// Command Code (24 bits).
    pub fn command_code(&self) -> u32 {
        self.be32(4) & 0x00ff_ffff
    }
    pub fn application_id(&self) -> u32 {
        self.be32(8)
    }
    pub fn hop_by_hop(&self) -> u32 {
        self.be32(12)
    }
    pub fn end_to_end(&self) -> u32 {
        self.be32(16)
    }
    /// The AVP bytes (after the header, up to Message Length).
    pub fn avp_bytes(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = (self.length() as usize).min(b.len());
        b.get(HEADER_LEN..end).unwrap_or(&[])
    }
    pub fn header(&self) -> Header {
        Header {
            flags: self.flags(),
            command_code: self.command_code(),
            application_id: self.application_id(),
            hop_by_hop: self.hop_by_hop(),
            end_to_end: self.end_to_end(),
        }
    }
}

/// The header fields other than version and length (which emit computes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Header {
    /// R, P, E, T and the reserved bits, as received.
    pub flags: u8,
    /// 24 bits.
    pub command_code: u32,
    pub application_id: u32,
    pub hop_by_hop: u32,
    pub end_to_end: u32,
}

impl Header {
    pub fn is_request(&self) -> bool {
        self.flags & flags::REQUEST != 0
    }
    pub fn is_proxiable(&self) -> bool {
        self.flags & flags::PROXIABLE != 0
    }
    pub fn is_error(&self) -> bool {
        self.flags & flags::ERROR != 0
    }
    pub fn is_retransmitted(&self) -> bool {
        self.flags & flags::RETRANSMITTED != 0
    }
    pub fn command(&self) -> Option<&'static CommandDef> {
        commands::lookup(self.command_code)
    }
    /// "DER", "CEA", ...; `None` for unknown commands.
    pub fn abbreviation(&self) -> Option<&'static str> {
        self.command().map(|c| {
            if self.is_request() {
                c.request
            } else {
                c.answer
            }
        })
    }

    /// Writes the header with a zero length; returns the offset of the length field.
    pub(crate) fn emit_start(&self, out: &mut Vec<u8>) -> Result<usize> {
        if self.command_code > 0x00ff_ffff {
            return Err(Error::too_long(PROTO, "header.command-code"));
        }
        let at = out.len();
        out.put_u8(VERSION);
        out.put_u24(0);
        out.put_u8(self.flags);
        out.put_u24(self.command_code);
        out.put_u32(self.application_id);
        out.put_u32(self.hop_by_hop);
        out.put_u32(self.end_to_end);
        Ok(at)
    }

    pub(crate) fn emit_finish(out: &mut Vec<u8>, start: usize) -> Result<()> {
        out.patch_len_u24(start + 1, start, 0, PROTO, "header.length")
    }
}

/// A whole validated message, borrowing its AVPs from the input.
///
/// [`Message::parse`] checks: the header (version 1, Message Length ≥ 20, a multiple of 4 and
/// equal to the input length); the framing of every AVP (length, Vendor-ID, zero padding);
/// the value of every AVP the dictionary knows (fixed sizes, UTF-8 text, Address family and
/// length); and Grouped AVPs recursively, at most [`super::MAX_DEPTH`] levels. It allocates
/// nothing; AVPs are then iterated from the borrowed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub header: Header,
    avps: &'a [u8],
}

impl<'a> Message<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Message<'a>> {
        Self::check(data).map_err(|f| f.error)
    }

    /// As [`Message::parse`], but a failure says which Result-Code to answer with and which
    /// AVP to put in Failed-AVP. The header of a rejected message is in [`Packet`].
    pub fn check(data: &'a [u8]) -> core::result::Result<Message<'a>, Fault<'a>> {
        let p = Packet::new_unchecked(data);
        let len = p.check()?;
        if len != data.len() {
            return Err(Fault::new(
                Error::new(PROTO, "header.length", ErrorKind::TrailingBytes),
                rc::INVALID_MESSAGE_LENGTH,
            ));
        }
        let avps = &data[HEADER_LEN..];
        avp::validate(avps, 0)?;
        Ok(Message {
            header: p.header(),
            avps,
        })
    }

    /// The top-level AVPs, in order.
    #[inline]
    pub fn avps(&self) -> Avps<'a> {
        Avps::trusted(self.avps)
    }
    pub fn avp_bytes(&self) -> &'a [u8] {
        self.avps
    }
    /// The first top-level AVP that is `def`.
    pub fn get(&self, def: &AvpDef) -> Option<Avp<'a>> {
        self.avps().get(def)
    }
    /// The first top-level AVP with this code and vendor (0 for IETF).
    pub fn find(&self, code: u32, vendor: u32) -> Option<Avp<'a>> {
        self.avps()
            .find(|a| a.code() == code && a.vendor() == vendor)
    }
    pub fn session_id(&self) -> Option<&'a str> {
        self.get(&dict::SESSION_ID).and_then(|a| a.utf8().ok())
    }
    pub fn result_code(&self) -> Option<u32> {
        self.get(&dict::RESULT_CODE).and_then(|a| a.u32().ok())
    }
    /// (Vendor-Id, Experimental-Result-Code) of the Experimental-Result AVP.
    pub fn experimental_result(&self) -> Option<(u32, u32)> {
        let g = self.get(&dict::EXPERIMENTAL_RESULT)?.grouped().ok()?;
        let v = g.get(&dict::VENDOR_ID).and_then(|a| a.u32().ok())?;
        let c = g
            .get(&dict::EXPERIMENTAL_RESULT_CODE)
            .and_then(|a| a.u32().ok())?;
        Some((v, c))
    }
    pub fn is_request(&self) -> bool {
        self.header.is_request()
    }
    /// Length on the wire.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.avps.len()
    }
    /// Re-emits the message exactly as received.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = self.header.emit_start(out)?;
        out.put(self.avps);
        Header::emit_finish(out, start)
    }
}
