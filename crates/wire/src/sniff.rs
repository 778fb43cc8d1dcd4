//! Which protocol is this? By transport port or IP protocol first, by the first bytes
//! otherwise; then hand the bytes to that protocol's dissector. Used by `mobstrap decode`.

use core::str::FromStr;

use crate::dissect::{ip_text, Node};
use crate::frame::{self, ip_proto, Frame, Transport};
use crate::{Error, ErrorKind, Result};

/// Every protocol `mobstrap decode` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// IKEv2 as on UDP 500.
    Ikev2,
    /// A UDP 4500 payload: non-ESP marker + IKEv2, UDP-encapsulated ESP, or a NAT keepalive.
    Udp4500,
    /// ESP directly over IP (protocol 50).
    Esp,
    /// A bare EAP packet (as in an IKEv2 EAP payload or a Diameter EAP-Payload).
    Eap,
    Radius,
    Diameter,
    /// Mobility Header directly over IPv6 (next header 135).
    Mh,
    /// PMIPv6 signalling over IPv4 UDP 5436 (RFC 5844).
    MhUdp,
    Icmpv6,
    Mip4,
    /// ICMP router advertisement carrying a Mobility Agent Advertisement extension.
    AgentAdv,
}

impl Proto {
    pub const ALL: [Proto; 11] = [
        Proto::Ikev2,
        Proto::Udp4500,
        Proto::Esp,
        Proto::Eap,
        Proto::Radius,
        Proto::Diameter,
        Proto::Mh,
        Proto::MhUdp,
        Proto::Icmpv6,
        Proto::Mip4,
        Proto::AgentAdv,
    ];

    /// The name `--proto` accepts.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Ikev2 => "ikev2",
            Proto::Udp4500 => "udp4500",
            Proto::Esp => "esp",
            Proto::Eap => "eap",
            Proto::Radius => "radius",
            Proto::Diameter => "diameter",
            Proto::Mh => "mh",
            Proto::MhUdp => "mh-udp",
            Proto::Icmpv6 => "icmpv6",
            Proto::Mip4 => "mip4",
            Proto::AgentAdv => "agent-adv",
        }
    }

    /// The protocol's dissector.
    pub fn dissect(self, data: &[u8]) -> Result<Node> {
        match self {
            Proto::Ikev2 => crate::ikev2::dissect(data),
            Proto::Udp4500 => crate::ikev2::dissect_udp4500(data),
            Proto::Esp => crate::esp::dissect(data),
            Proto::Eap => crate::eap::dissect(data),
            Proto::Radius => crate::radius::dissect(data),
            Proto::Diameter => dissect_diameter_stream(data),
            Proto::Mh => crate::mh::dissect(data),
            Proto::MhUdp => crate::mh::udp::dissect(data),
            Proto::Icmpv6 => crate::icmpv6::dissect(data),
            Proto::Mip4 => crate::mip4::dissect(data),
            Proto::AgentAdv => crate::mip4::agent::dissect(data),
        }
    }
}

impl FromStr for Proto {
    type Err = String;
    fn from_str(s: &str) -> core::result::Result<Self, String> {
        let p = match s.to_ascii_lowercase().as_str() {
            "ikev2" | "ike" | "isakmp" => Proto::Ikev2,
            "udp4500" | "ike-nat" | "nat-t" => Proto::Udp4500,
            "esp" => Proto::Esp,
            "eap" => Proto::Eap,
            "radius" => Proto::Radius,
            "diameter" => Proto::Diameter,
            "mh" | "mipv6" | "mip6" | "pmipv6" => Proto::Mh,
            "mh-udp" | "pmipv6-udp" => Proto::MhUdp,
            "icmpv6" => Proto::Icmpv6,
            "mip4" | "mipv4" | "mip" => Proto::Mip4,
            "agent-adv" | "icmp" => Proto::AgentAdv,
            _ => {
                let names: Vec<&str> = Proto::ALL.iter().map(|p| p.name()).collect();
                return Err(format!(
                    "unknown protocol {s:?}; known: {}",
                    names.join(", ")
                ));
            }
        };
        Ok(p)
    }
}

/// Standard ports and the loopback test ports mobstrap's own recipes use.
pub fn by_frame(f: &Frame) -> Option<Proto> {
    match f.transport {
        Transport::Udp { src, dst } => {
            let either = |p: &[u16]| p.contains(&src) || p.contains(&dst);
            if either(&[500]) {
                Some(Proto::Ikev2)
            } else if either(&[4500]) {
                Some(Proto::Udp4500)
            } else if either(&[1812, 1813, 1645, 1646, 3799, 18120, 18121]) {
                Some(Proto::Radius)
            } else if either(&[5436]) {
                Some(Proto::MhUdp)
            } else if either(&[434]) {
                Some(Proto::Mip4)
            } else {
                None
            }
        }
        Transport::Tcp { src, dst, .. } => {
            if src == 3868 || dst == 3868 || src == 13868 || dst == 13868 {
                Some(Proto::Diameter)
            } else {
                None
            }
        }
        Transport::Ip(ip_proto::MOBILITY) => Some(Proto::Mh),
        Transport::Ip(ip_proto::ICMPV6) => Some(Proto::Icmpv6),
        Transport::Ip(ip_proto::ESP) => Some(Proto::Esp),
        Transport::Ip(ip_proto::ICMP) => Some(Proto::AgentAdv),
        Transport::Ip(_) => None,
    }
}

/// Guesses the protocol of a bare message from its first bytes. Candidates whose length
/// field agrees with the data are tried in a fixed order (the stricter headers first) and the
/// first that parses wins: a Diameter message also looks like an EAP Request with identifier 0,
/// and Diameter's checks are the stricter.
pub fn guess(b: &[u8]) -> Option<Proto> {
    let len = b.len();
    let be16 = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]) as usize;
    let mut candidates = Vec::new();
    if len >= 20 && b[0] == 1 && u32::from_be_bytes([0, b[1], b[2], b[3]]) as usize == len {
        candidates.push(Proto::Diameter);
    }
    if len >= 28
        && b[17] == 0x20
        && u32::from_be_bytes([b[24], b[25], b[26], b[27]]) as usize == len
    {
        candidates.push(Proto::Ikev2);
    }
    if len >= 32 && b[..4] == [0, 0, 0, 0] && b[21] == 0x20 {
        candidates.push(Proto::Udp4500);
    }
    if len >= 20 && matches!(b[0], 1..=5 | 11..=13 | 40..=45) && be16(2) == len {
        candidates.push(Proto::Radius);
    }
    if len >= 8 && b[0] == 59 && (b[1] as usize + 1) * 8 == len {
        candidates.push(Proto::Mh);
    }
    if len >= 4 && matches!(b[0], 1..=6) && be16(2) == len {
        candidates.push(Proto::Eap);
    }
    if (b.first() == Some(&1) && len >= 24) || (b.first() == Some(&3) && len >= 20) {
        candidates.push(Proto::Mip4);
    }
    candidates.into_iter().find(|p| p.dissect(b).is_ok())
}

/// Diameter over TCP: a segment may carry several PDUs back to back.
fn dissect_diameter_stream(data: &[u8]) -> Result<Node> {
    let mut rest = data;
    let mut nodes = Vec::new();
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(Error::new("diameter", "header", ErrorKind::Truncated));
        }
        let l = u32::from_be_bytes([0, rest[1], rest[2], rest[3]]) as usize;
        if l < 20 || l > rest.len() {
            return Err(Error::new(
                "diameter",
                "header.length",
                ErrorKind::BadLength,
            ));
        }
        nodes.push(crate::diameter::dissect(&rest[..l])?);
        rest = &rest[l..];
    }
    match nodes.len() {
        1 => Ok(nodes.remove(0)),
        _ => {
            let mut n = Node::branch(format!("{} Diameter messages", nodes.len()));
            n.children = nodes;
            Ok(n)
        }
    }
}

/// A one-line summary of the IP/transport layers.
pub fn frame_node(f: &Frame) -> Node {
    let (s, d) = (ip_text(&ip_bytes(f.src)), ip_text(&ip_bytes(f.dst)));
    let t = match f.transport {
        Transport::Udp { src, dst } => format!("UDP {src} → {dst}"),
        Transport::Tcp { src, dst, seq, .. } => format!("TCP {src} → {dst} seq {seq}"),
        Transport::Ip(p) => format!("IP protocol {p}"),
    };
    Node::new("Frame", format!("{s} → {d}, {t}"))
}

fn ip_bytes(a: core::net::IpAddr) -> Vec<u8> {
    match a {
        core::net::IpAddr::V4(v) => v.octets().to_vec(),
        core::net::IpAddr::V6(v) => v.octets().to_vec(),
    }
}

/// Decodes a raw IP packet: the frame summary and the protocol tree. `force` overrides the
/// port-based choice.
pub fn dissect_ip(packet: &[u8], force: Option<Proto>) -> Result<Vec<Node>> {
    let p = frame::peel_ip(packet)?;
    let proto = force
        .or_else(|| by_frame(&p.frame))
        .or_else(|| guess(p.payload))
        .ok_or(Error::new(
            "decode",
            "protocol (unknown port; use --proto)",
            ErrorKind::BadValue,
        ))?;
    Ok(vec![frame_node(&p.frame), proto.dissect(p.payload)?])
}
