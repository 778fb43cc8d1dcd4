//! Proxy Mobile IPv6 over an IPv4 transport network (RFC 5844 §4).
//!
//! Signalling goes to UDP port 5436, and the UDP payload is **an IPv6 packet**: the fixed IPv6
//! header (source Proxy-CoA, destination LMAA) followed by the Mobility Header. RFC 5844 §4
//! draws the Proxy Binding Update over an IPv4 transport network as nested headers:
//!
//! ```text
//!    IPv4 header (src= IPv4-Proxy-CoA, dst= IPv4-LMAA)
//!      UDP header (sport=zzzz, dport=5436)
//!        IPv6 header (src= Proxy-CoA, dst= LMAA)
//!          Mobility header
//!             - BU [P & A flags]
//!          Mobility Options
//!             - Mobile Node Identifier option
//!             - Home Network Prefix option(s)
//!             - IPv4 Home Address Request option
//!             ...
//! ```
//!
//! (see docs/protocols/mobility.md §2 for the provenance of this figure and the decision).
//! The Mobility Header checksum uses the inner IPv6 addresses. tshark 4.0 decodes UDP 5436 as a
//! Mobility Header directly after UDP: give it `-d udp.port==5436,ipv6` to read this layout.
//!
//! User-plane traffic (IPv4 or IPv6 packets of the mobile node) is tunnelled in UDP port 5437
//! ([`DataPacket`]): the UDP payload is the inner IP packet itself.

use crate::codec::{Reader, Writer};
use crate::dissect::{ip_text, Node};
use crate::{Error, ErrorKind, Result};

use super::{Repr, NEXT_HEADER, P};

/// UDP port of PMIPv6 signalling over IPv4 (IANA "pmip6-cntl").
pub const PORT_CONTROL: u16 = 5436;
/// UDP port of the PMIPv6 IPv4 user-plane tunnel (IANA "pmip6-data").
pub const PORT_DATA: u16 = 5437;

/// The UDP 5436 payload: an IPv6 header and the Mobility Header it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Transport<'a> {
    /// The first 32 bits of the IPv6 header (version 6, traffic class, flow label), kept raw.
    pub version_class_flow: u32,
    pub hop_limit: u8,
    /// Proxy-CoA (MAG) or LMAA, depending on direction.
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub mh: Repr<'a>,
}

impl<'a> Ipv4Transport<'a> {
    /// Wraps `mh` in an IPv6 header with traffic class and flow label 0, hop limit 64.
    pub fn new(src: [u8; 16], dst: [u8; 16], mh: Repr<'a>) -> Self {
        Ipv4Transport {
            version_class_flow: 0x6000_0000,
            hop_limit: 64,
            src,
            dst,
            mh,
        }
    }

    /// Parses a UDP 5436 payload. The IPv6 payload length must cover exactly the Mobility
    /// Header, and the IPv6 next header must be 135.
    pub fn parse(b: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, b);
        let version_class_flow = r.u32("ipv6.version")?;
        if version_class_flow >> 28 != 6 {
            return Err(Error::bad_value(P, "ipv6.version"));
        }
        let plen = r.u16("ipv6.payload_length")? as usize;
        let next = r.u8("ipv6.next_header")?;
        let hop_limit = r.u8("ipv6.hop_limit")?;
        let src = r.array("ipv6.src")?;
        let dst = r.array("ipv6.dst")?;
        if next != NEXT_HEADER {
            return Err(Error::bad_value(P, "ipv6.next_header"));
        }
        if plen != r.remaining() {
            let kind = if plen > r.remaining() {
                ErrorKind::Truncated
            } else {
                ErrorKind::TrailingBytes
            };
            return Err(Error::new(P, "ipv6.payload_length", kind));
        }
        let mh = Repr::parse(r.rest())?;
        Ok(Ipv4Transport {
            version_class_flow,
            hop_limit,
            src,
            dst,
            mh,
        })
    }

    /// Appends the IPv6 header and the Mobility Header (its checksum as in `mh`).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        self.emit_with(out, false)
    }

    /// As [`Ipv4Transport::emit`], with the Mobility Header checksum computed over the inner
    /// IPv6 addresses.
    pub fn emit_with_checksum(&self, out: &mut Vec<u8>) -> Result<()> {
        self.emit_with(out, true)
    }

    fn emit_with(&self, out: &mut Vec<u8>, checksum: bool) -> Result<()> {
        if self.version_class_flow >> 28 != 6 {
            return Err(Error::bad_value(P, "ipv6.version"));
        }
        let start = out.len();
        out.put_u32(self.version_class_flow);
        out.put_u16(0);
        out.put_u8(NEXT_HEADER);
        out.put_u8(self.hop_limit);
        out.put(&self.src);
        out.put(&self.dst);
        let r = if checksum {
            self.mh.emit_with_checksum(&self.src, &self.dst, out)
        } else {
            self.mh.emit(out)
        };
        if let Err(e) = r {
            out.truncate(start);
            return Err(e);
        }
        let res = out.patch_len_u16(start + 4, start + 40, 0, P, "ipv6.payload_length");
        if res.is_err() {
            out.truncate(start);
        }
        res
    }

    /// Checks the Mobility Header checksum with the inner IPv6 addresses.
    pub fn verify_checksum(&self, wire: &[u8]) -> Result<()> {
        super::verify_checksum(wire.get(40..).unwrap_or(&[]), &self.src, &self.dst)
    }

    /// Renders the inner IPv6 header and the Mobility Header.
    pub fn dissect(&self) -> Node {
        let mut ip = Node::new("Inner IPv6 (RFC 5844 §4)", "");
        ip.push(Node::uint(
            "Version",
            (self.version_class_flow >> 28) as u64,
            "",
        ));
        ip.push(Node::uint("Hop limit", self.hop_limit as u64, "ipv6.hlim"));
        ip.push(Node::uint("Next header", NEXT_HEADER as u64, "ipv6.nxt"));
        let s = ip_text(&self.src);
        let d = ip_text(&self.dst);
        ip.push(Node::new("Source (Proxy-CoA/LMAA)", s.clone()).field("ipv6.src", s));
        ip.push(Node::new("Destination (LMAA/Proxy-CoA)", d.clone()).field("ipv6.dst", d));
        let mut root = Node::branch("PMIPv6 over IPv4 (UDP 5436)");
        root.push(ip);
        root.push(self.mh.dissect());
        root
    }
}

/// Parses and renders a UDP 5436 payload.
pub fn dissect(data: &[u8]) -> Result<Node> {
    Ok(Ipv4Transport::parse(data)?.dissect())
}

/// A UDP 5437 payload: one IPv4 or IPv6 packet of the mobile node, tunnelled as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataPacket<'a> {
    /// 4 or 6.
    pub version: u8,
    /// The inner packet.
    pub packet: &'a [u8],
}

impl<'a> DataPacket<'a> {
    /// Checks the version nibble and that the inner packet's own length covers the payload.
    pub fn parse(b: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, b);
        let v = r.peek_u8("tunnel.ip.version")? >> 4;
        let len = match v {
            4 => {
                r.skip(2, "tunnel.ipv4.header")?;
                r.u16("tunnel.ipv4.total_length")? as usize
            }
            6 => {
                r.skip(4, "tunnel.ipv6.header")?;
                r.u16("tunnel.ipv6.payload_length")? as usize + 40
            }
            _ => return Err(Error::bad_value(P, "tunnel.ip.version")),
        };
        match len.cmp(&b.len()) {
            core::cmp::Ordering::Equal => Ok(DataPacket {
                version: v,
                packet: b,
            }),
            core::cmp::Ordering::Greater => Err(Error::truncated(P, "tunnel.ip.length")),
            core::cmp::Ordering::Less => {
                Err(Error::new(P, "tunnel.ip.length", ErrorKind::TrailingBytes))
            }
        }
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put(self.packet);
        Ok(())
    }
}
