//! The IKE header (RFC 7296 §3.1): SPIs, next payload, version, exchange type, flags,
//! message ID and length.

use crate::codec::Writer;
use crate::{Error, Reader, Result};

use super::{ExchangeType, PayloadType, P};

/// Length of the fixed IKE header.
pub const HEADER_LEN: usize = 28;

/// Flag bits of the IKE header (RFC 7296 §3.1). The whole byte is kept raw.
pub mod flags {
    /// I(nitiator): set by the original initiator of the IKE SA.
    pub const INITIATOR: u8 = 0x08;
    /// V(ersion): the sender can speak a higher major version.
    pub const VERSION: u8 = 0x10;
    /// R(esponse): this message is a response.
    pub const RESPONSE: u8 = 0x20;
}

/// A checked view of the fixed IKE header at the start of a buffer.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checks; accessors of a short buffer return zeros.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps a buffer holding at least the 28-byte header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::truncated(P, "header"));
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn get<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut a = [0u8; N];
        if let Some(s) = self.buffer.as_ref().get(at..at + N) {
            a.copy_from_slice(s);
        }
        a
    }

    /// IKE SA Initiator's SPI.
    pub fn spi_i(&self) -> [u8; 8] {
        self.get(0)
    }
    /// IKE SA Responder's SPI (zero in the first IKE_SA_INIT request).
    pub fn spi_r(&self) -> [u8; 8] {
        self.get(8)
    }
    pub fn next_payload(&self) -> PayloadType {
        PayloadType::from(self.get::<1>(16)[0])
    }
    /// The version byte: major version in the high nibble, minor in the low.
    pub fn version(&self) -> u8 {
        self.get::<1>(17)[0]
    }
    pub fn major_version(&self) -> u8 {
        self.version() >> 4
    }
    pub fn minor_version(&self) -> u8 {
        self.version() & 0x0f
    }
    pub fn exchange_type(&self) -> ExchangeType {
        ExchangeType::from(self.get::<1>(18)[0])
    }
    /// The flags byte, raw.
    pub fn flags(&self) -> u8 {
        self.get::<1>(19)[0]
    }
    pub fn message_id(&self) -> u32 {
        u32::from_be_bytes(self.get(20))
    }
    /// Total length of the message (header and payloads).
    pub fn length(&self) -> u32 {
        u32::from_be_bytes(self.get(24))
    }
}

/// The IKE header without the two fields that are derived from the payloads when emitting
/// (Next Payload and Length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    pub spi_i: [u8; 8],
    pub spi_r: [u8; 8],
    /// Major version (high nibble) and minor version (low nibble), raw; 0x20 for IKEv2.
    pub version: u8,
    pub exchange_type: ExchangeType,
    /// Raw flags byte: see [`flags`]; undefined bits are kept as received.
    pub flags: u8,
    pub message_id: u32,
}

impl Header {
    /// The IKEv2 version byte (major 2, minor 0).
    pub const VERSION_2_0: u8 = 0x20;

    /// A header with version 2.0 and the given fields.
    pub fn new(
        spi_i: [u8; 8],
        spi_r: [u8; 8],
        exchange_type: ExchangeType,
        flags: u8,
        message_id: u32,
    ) -> Self {
        Header {
            spi_i,
            spi_r,
            version: Self::VERSION_2_0,
            exchange_type,
            flags,
            message_id,
        }
    }

    pub fn is_initiator(&self) -> bool {
        self.flags & flags::INITIATOR != 0
    }
    pub fn is_response(&self) -> bool {
        self.flags & flags::RESPONSE != 0
    }
    pub fn higher_version(&self) -> bool {
        self.flags & flags::VERSION != 0
    }

    /// Reads the header; returns it with the Next Payload and Length fields.
    /// Rejects a major version other than 2 (the payload formats are IKEv2's).
    pub fn parse(r: &mut Reader<'_>) -> Result<(Header, u8, u32)> {
        let spi_i = r.array::<8>("header.spi_i")?;
        let spi_r = r.array::<8>("header.spi_r")?;
        let next = r.u8("header.next_payload")?;
        let version = r.u8("header.version")?;
        if version >> 4 != 2 {
            return Err(r.err("header.version", crate::ErrorKind::BadValue));
        }
        let exchange_type = ExchangeType::from(r.u8("header.exchange_type")?);
        let flags = r.u8("header.flags")?;
        let message_id = r.u32("header.message_id")?;
        let length = r.u32("header.length")?;
        Ok((
            Header {
                spi_i,
                spi_r,
                version,
                exchange_type,
                flags,
                message_id,
            },
            next,
            length,
        ))
    }

    /// Appends the header with the given Next Payload and a zero Length; returns the offset
    /// of the Length field for patching.
    pub fn emit(&self, next_payload: u8, out: &mut Vec<u8>) -> usize {
        out.put(&self.spi_i);
        out.put(&self.spi_r);
        out.put_u8(next_payload);
        out.put_u8(self.version);
        out.put_u8(self.exchange_type.into());
        out.put_u8(self.flags);
        out.put_u32(self.message_id);
        let at = out.len();
        out.put_u32(0);
        at
    }
}
