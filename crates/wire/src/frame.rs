//! IP framing for captures: wrap a message in IPv4/IPv6 + UDP/TCP (or a bare IP protocol) to
//! write a pcap, and peel a captured frame back to its transport payload to decode one.
//! Header work is etherparse's; this module only chooses and names things.

use core::net::IpAddr;

use etherparse::{IpNumber, IpSlice, PacketBuilder, TcpSlice, UdpSlice};

use crate::{Error, ErrorKind, Result};

/// IP protocol numbers mobstrap carries directly over IP.
pub mod ip_proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ESP: u8 = 50;
    pub const ICMPV6: u8 = 58;
    pub const NONE: u8 = 59;
    pub const MOBILITY: u8 = 135;
}

/// How a message travels above IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp {
        src: u16,
        dst: u16,
    },
    Tcp {
        src: u16,
        dst: u16,
        seq: u32,
        ack: u32,
    },
    /// Directly over IP with this protocol number (Mobility Header, ICMPv6, ESP).
    Ip(u8),
}

/// The addressing of one captured message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub transport: Transport,
}

impl Frame {
    pub fn udp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> Self {
        Frame {
            src,
            dst,
            transport: Transport::Udp {
                src: sport,
                dst: dport,
            },
        }
    }
    pub fn tcp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, seq: u32, ack: u32) -> Self {
        Frame {
            src,
            dst,
            transport: Transport::Tcp {
                src: sport,
                dst: dport,
                seq,
                ack,
            },
        }
    }
    pub fn ip(src: IpAddr, dst: IpAddr, proto: u8) -> Self {
        Frame {
            src,
            dst,
            transport: Transport::Ip(proto),
        }
    }

    /// A raw IP packet (pcap LINKTYPE_RAW) carrying `payload`, checksums filled in.
    pub fn build(&self, payload: &[u8]) -> Result<Vec<u8>> {
        const P: &str = "frame";
        let bad = |f| Error::new(P, f, ErrorKind::BadValue);
        let step = match (self.src, self.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ipv4(s.octets(), d.octets(), 64),
            (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ipv6(s.octets(), d.octets(), 64),
            _ => return Err(bad("address family")),
        };
        let mut out = Vec::with_capacity(payload.len() + 60);
        match self.transport {
            Transport::Udp { src, dst } => step
                .udp(src, dst)
                .write_to_vec(&mut out, payload)
                .map_err(|_| Error::too_long(P, "udp.length"))?,
            Transport::Tcp { src, dst, seq, ack } => step
                .tcp(src, dst, seq, 65535)
                .ack(ack)
                .psh()
                .write_to_vec(&mut out, payload)
                .map_err(|_| Error::too_long(P, "ip.length"))?,
            Transport::Ip(proto) => step
                .write_to_vec(&mut out, IpNumber(proto), payload)
                .map_err(|_| Error::too_long(P, "ip.length"))?,
        }
        Ok(out)
    }
}

/// A captured IP packet split into addressing and the message it carries.
#[derive(Debug, Clone, Copy)]
pub struct Peeled<'a> {
    pub frame: Frame,
    pub payload: &'a [u8],
}

/// Splits a raw IP packet (no link layer) into its [`Frame`] and transport payload.
pub fn peel_ip(packet: &[u8]) -> Result<Peeled<'_>> {
    const P: &str = "frame";
    let ip =
        IpSlice::from_slice(packet).map_err(|_| Error::new(P, "ip header", ErrorKind::BadValue))?;
    let src = ip.source_addr();
    let dst = ip.destination_addr();
    let pl = ip.payload();
    let proto = pl.ip_number.0;
    let data = pl.payload;
    let (transport, payload) = match proto {
        ip_proto::UDP => {
            let u = UdpSlice::from_slice(data).map_err(|_| Error::truncated(P, "udp header"))?;
            (
                Transport::Udp {
                    src: u.source_port(),
                    dst: u.destination_port(),
                },
                u.payload(),
            )
        }
        ip_proto::TCP => {
            let t = TcpSlice::from_slice(data).map_err(|_| Error::truncated(P, "tcp header"))?;
            (
                Transport::Tcp {
                    src: t.source_port(),
                    dst: t.destination_port(),
                    seq: t.sequence_number(),
                    ack: t.acknowledgment_number(),
                },
                t.payload(),
            )
        }
        other => (Transport::Ip(other), data),
    };
    Ok(Peeled {
        frame: Frame {
            src,
            dst,
            transport,
        },
        payload,
    })
}

/// pcap link types mobstrap reads.
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW: u32 = 101;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
}

/// Strips the link-layer header of a captured frame, returning the IP packet.
pub fn strip_link(linktype: u32, data: &[u8]) -> Result<&[u8]> {
    const P: &str = "frame";
    let (skip, ethertype_at) = match linktype {
        linktype::RAW | linktype::IPV4 | linktype::IPV6 => (0, None),
        linktype::NULL => (4, None),
        linktype::ETHERNET => (14, Some(12)),
        linktype::LINUX_SLL => (16, Some(14)),
        linktype::LINUX_SLL2 => (20, Some(0)),
        _ => return Err(Error::bad_value(P, "link type")),
    };
    if data.len() < skip {
        return Err(Error::truncated(P, "link header"));
    }
    if let Some(at) = ethertype_at {
        let et = u16::from_be_bytes([data[at], data[at + 1]]);
        if et != 0x0800 && et != 0x86dd {
            return Err(Error::bad_value(P, "ethertype"));
        }
    }
    Ok(&data[skip..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_peel_udp_v4() {
        let f = Frame::udp(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            1812,
            40000,
        );
        let pkt = f.build(b"hello").unwrap();
        assert_eq!(pkt[0] >> 4, 4);
        let p = peel_ip(&pkt).unwrap();
        assert_eq!(p.frame, f);
        assert_eq!(p.payload, b"hello");
    }

    #[test]
    fn build_and_peel_raw_v6_and_tcp() {
        let f = Frame::ip(
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
            135,
        );
        let pkt = f.build(&[59, 0, 5, 0, 0, 0, 0, 0]).unwrap();
        let p = peel_ip(&pkt).unwrap();
        assert_eq!(p.frame.transport, Transport::Ip(135));
        assert_eq!(p.payload.len(), 8);

        let t = Frame::tcp(
            "127.0.0.1".parse().unwrap(),
            "127.0.0.2".parse().unwrap(),
            3868,
            5000,
            7,
            9,
        );
        let pkt = t.build(&[1, 2, 3]).unwrap();
        assert_eq!(peel_ip(&pkt).unwrap().frame, t);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(peel_ip(&[0x45, 0, 0]).is_err());
        assert!(strip_link(linktype::ETHERNET, &[0; 10]).is_err());
    }
}
