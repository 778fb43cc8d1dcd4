//! # Diameter (RFC 6733) and the applications mobstrap uses
//!
//! * [`message`]: the 20-byte header ([`Packet`], [`Header`]) and the validated zero-copy
//!   [`Message`] view;
//! * [`avp`]: AVPs ([`Avp`], the [`Avps`] iterator, typed getters that fail with an
//!   [`AvpError`] naming the AVP), the [`Address`] and [`Time`] types, and [`Fault`] (what an
//!   engine answers a bad message with: Result-Code and Failed-AVP);
//! * [`repr`]: building messages ([`AvpRepr`], [`MessageRepr`], answers from requests);
//! * [`dict`] and [`commands`]: the static dictionary (RFC 6733, NASREQ, EAP, ERP, MIPv6,
//!   PMIPv6, 3GPP SWm/STa/S6b/SWx).
//!
//! Exactness: AVP flags (reserved bits included) and header flags are kept as received,
//! padding must be zero, and every known AVP's value must fit its type, so that
//! `emit(parse(b)) == b` for both [`Message`] and [`MessageRepr`].
//! What the room may not touch: sockets, clocks, cryptography.

pub mod avp;
pub mod commands;
pub mod dict;
mod dissect;
pub mod message;
pub mod repr;
mod samples;

pub use avp::{Address, Avp, AvpError, Avps, Fault, FaultyAvp, Time};
pub use commands::app;
pub use dict::{AvpDef, DataType};
pub use dissect::dissect;
pub use message::{Header, Message, Packet};
pub use repr::{walk, AvpRepr, MessageRepr, Value};
pub use samples::{erp_samples, samples};

/// Protocol name in errors.
pub const PROTO: &str = "diameter";
/// IANA port (TCP, SCTP).
pub const PORT: u16 = 3868;
/// Grouped AVPs nest at most this deep (the top level is depth 0).
pub const MAX_DEPTH: usize = 16;

#[cfg(test)]
mod tests;
