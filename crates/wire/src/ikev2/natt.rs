//! UDP port 4500 demultiplexing (RFC 3948 §2): IKE after a 4-byte zero Non-ESP Marker,
//! a single 0xFF byte NAT-keepalive, or UDP-encapsulated ESP (non-zero SPI).

use crate::{Error, Result};

use super::{Message, P};

/// The Non-ESP Marker (RFC 3948 §2.2): four zero bytes before an IKE message on port 4500.
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];
/// A NAT-keepalive packet (RFC 3948 §2.3): one byte 0xFF.
pub const NAT_KEEPALIVE: [u8; 1] = [0xff];

/// What a UDP 4500 datagram carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Udp4500<'a> {
    /// An IKE message (the bytes after the Non-ESP Marker).
    Ike(&'a [u8]),
    /// An ESP packet (starting with its non-zero SPI).
    Esp(&'a [u8]),
    Keepalive,
}

/// Classifies a UDP 4500 payload. Fails on a datagram too short to be any of the three.
pub fn classify_udp4500(data: &[u8]) -> Result<Udp4500<'_>> {
    if data == NAT_KEEPALIVE {
        return Ok(Udp4500::Keepalive);
    }
    match data.get(..4) {
        None => Err(Error::truncated(P, "udp4500.non_esp_marker")),
        Some(m) if m == NON_ESP_MARKER => Ok(Udp4500::Ike(&data[4..])),
        Some(_) => Ok(Udp4500::Esp(data)),
    }
}

/// Appends the Non-ESP Marker and the message: an IKE datagram for port 4500.
pub fn emit_udp4500(msg: &Message<'_>, out: &mut Vec<u8>) -> Result<()> {
    out.extend_from_slice(&NON_ESP_MARKER);
    msg.emit(out)
}
