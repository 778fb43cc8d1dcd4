//! # mobstrap-wire: the codecs
//!
//! Every protocol mobstrap speaks, as bytes. Each protocol module follows the smoltcp
//! `wire` model:
//!
//! * a `Packet<T: AsRef<[u8]>>` view with checked accessors over the fixed header
//!   (`Packet::new_checked` validates lengths once, accessors never panic afterwards);
//! * a `Repr` (often borrowing from the input, `Repr<'a>`) with `parse(&[u8])` and
//!   `emit(&self, &mut Vec<u8>)`; emitting appends, so a caller that reuses one `Vec`
//!   allocates nothing per packet once warm;
//! * enums that keep unknown code points (`Unknown(n)`), and reserved bits, flags and
//!   padding kept as seen, so that `emit(parse(b)) == b` for every message `parse` accepts;
//! * a `dissect` function that renders a message as a [`dissect::Node`] tree for
//!   `mobstrap decode`; nodes carry the Wireshark field name where one exists, so that tests
//!   can compare our values with tshark's.
//!
//! What this room may not touch: sockets, clocks, randomness, cryptography (MACs and
//! encryption live in `mobstrap-crypto`; here they are opaque bytes), and panics: every
//! path from untrusted bytes returns an [`Error`] that names the field.

#[macro_use]
mod macros;

pub mod codec;
pub mod diameter;
pub mod dissect;
pub mod eap;
pub mod esp;
pub mod frame;
pub mod icmpv6;
pub mod ikev2;
pub mod mh;
pub mod mip4;
pub mod radius;
pub mod sample;
pub mod sniff;

pub use codec::{Reader, Writer};

/// What went wrong while parsing or emitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input ends before the field does.
    Truncated,
    /// A length field disagrees with the data around it (too small, too big, misaligned).
    BadLength,
    /// A field holds a value the protocol forbids here.
    BadValue,
    /// A checksum, or a padding rule, does not verify.
    BadChecksum,
    /// Bytes are left over after the message.
    TrailingBytes,
    /// On emit: the value does not fit the wire field (e.g. longer than a length byte allows).
    TooLong,
}

impl core::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ErrorKind::Truncated => "truncated",
            ErrorKind::BadLength => "bad length",
            ErrorKind::BadValue => "bad value",
            ErrorKind::BadChecksum => "bad checksum",
            ErrorKind::TrailingBytes => "trailing bytes",
            ErrorKind::TooLong => "too long for its field",
        })
    }
}

/// A parse or emit error: which protocol, which field, what kind.
///
/// `field` is a dotted path a user can find in the RFC, e.g. `"SA.proposal.transform.length"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{proto}: {field}: {kind}")]
pub struct Error {
    pub proto: &'static str,
    pub field: &'static str,
    pub kind: ErrorKind,
}

impl Error {
    pub const fn new(proto: &'static str, field: &'static str, kind: ErrorKind) -> Self {
        Error { proto, field, kind }
    }
    pub const fn truncated(proto: &'static str, field: &'static str) -> Self {
        Error::new(proto, field, ErrorKind::Truncated)
    }
    pub const fn bad_length(proto: &'static str, field: &'static str) -> Self {
        Error::new(proto, field, ErrorKind::BadLength)
    }
    pub const fn bad_value(proto: &'static str, field: &'static str) -> Self {
        Error::new(proto, field, ErrorKind::BadValue)
    }
    pub const fn too_long(proto: &'static str, field: &'static str) -> Self {
        Error::new(proto, field, ErrorKind::TooLong)
    }
}

pub type Result<T> = core::result::Result<T, Error>;
