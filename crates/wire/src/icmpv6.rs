//! ICMPv6 messages of Mobile IPv6 (RFC 6275 §6.5–6.8): Home Agent Address Discovery Request
//! (144) and Reply (145), Mobile Prefix Solicitation (146) and Advertisement (147) with their
//! Prefix Information options (RFC 4861 §4.6.2, with the R flag of RFC 6275 §7.2). Every other
//! ICMPv6 type is kept as raw bytes. The checksum covers the IPv6 pseudo-header (next header 58)
//! and is kept as received by `parse`; [`Repr::emit_with_checksum`] computes it.

use core::net::{IpAddr, Ipv6Addr};

use crate::codec::{Checksum, Reader, Writer};
use crate::dissect::{ip_text, Node};
use crate::frame::{ip_proto, Frame};
use crate::sample::Sample;
use crate::{Error, ErrorKind, Result};

const P: &str = "icmpv6";

enum_with_unknown! {
    /// ICMPv6 types handled here.
    pub enum Icmpv6Type(u8) {
        HomeAgentAddressDiscoveryRequest = 144 => "Home Agent Address Discovery Request",
        HomeAgentAddressDiscoveryReply = 145 => "Home Agent Address Discovery Reply",
        MobilePrefixSolicitation = 146 => "Mobile Prefix Solicitation",
        MobilePrefixAdvertisement = 147 => "Mobile Prefix Advertisement",
    }
}

/// Mobile Prefix Advertisement flags (RFC 6275 §6.8).
pub mod mpa_flags {
    /// Managed address configuration.
    pub const M: u16 = 0x8000;
    /// Other stateful configuration.
    pub const O: u16 = 0x4000;
}

/// Prefix Information option flags (RFC 4861 §4.6.2, RFC 6275 §7.2).
pub mod prefix_flags {
    pub const L: u8 = 0x80;
    pub const A: u8 = 0x40;
    /// Router address (RFC 6275 §7.2).
    pub const R: u8 = 0x20;
}

/// Neighbor Discovery option type of Prefix Information.
pub const OPT_PREFIX_INFORMATION: u8 = 3;

/// A Neighbor Discovery option (RFC 4861 §4.6): `Type | Length (8-octet units) | data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdOption<'a> {
    /// RFC 4861 §4.6.2 (Length 4).
    PrefixInformation {
        prefix_len: u8,
        /// L A R and the reserved bits, raw.
        flags: u8,
        valid_lifetime: u32,
        preferred_lifetime: u32,
        reserved2: u32,
        prefix: [u8; 16],
    },
    /// Any other option: type and data (the `8 * Length - 2` octets after the Length).
    Unknown { kind: u8, data: &'a [u8] },
}

impl<'a> NdOption<'a> {
    fn read(r: &mut Reader<'a>) -> Result<Self> {
        let kind = r.u8("option.type")?;
        let units = r.u8("option.length")? as usize;
        if units == 0 {
            return Err(Error::bad_length(P, "option.length"));
        }
        let mut d = r.sub(units * 8 - 2, "option.length")?;
        if kind == OPT_PREFIX_INFORMATION {
            if units != 4 {
                return Err(Error::bad_length(P, "option.prefix_information.length"));
            }
            return Ok(NdOption::PrefixInformation {
                prefix_len: d.u8("option.prefix_information.prefix_length")?,
                flags: d.u8("option.prefix_information.flags")?,
                valid_lifetime: d.u32("option.prefix_information.valid_lifetime")?,
                preferred_lifetime: d.u32("option.prefix_information.preferred_lifetime")?,
                reserved2: d.u32("option.prefix_information.reserved2")?,
                prefix: d.array("option.prefix_information.prefix")?,
            });
        }
        Ok(NdOption::Unknown {
            kind,
            data: d.rest(),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        match *self {
            NdOption::PrefixInformation {
                prefix_len,
                flags,
                valid_lifetime,
                preferred_lifetime,
                reserved2,
                prefix,
            } => {
                out.put_u8(OPT_PREFIX_INFORMATION);
                out.put_u8(4);
                out.put_u8(prefix_len);
                out.put_u8(flags);
                out.put_u32(valid_lifetime);
                out.put_u32(preferred_lifetime);
                out.put_u32(reserved2);
                out.put(&prefix);
            }
            NdOption::Unknown { kind, data } => {
                let total = data.len() + 2;
                if !total.is_multiple_of(8) {
                    return Err(Error::bad_length(P, "option.length"));
                }
                if total / 8 > 255 {
                    return Err(Error::too_long(P, "option.length"));
                }
                out.put_u8(kind);
                out.put_u8((total / 8) as u8);
                out.put(data);
            }
        }
        Ok(())
    }

    fn dissect(&self) -> Node {
        match *self {
            NdOption::PrefixInformation {
                prefix_len,
                flags,
                valid_lifetime,
                preferred_lifetime,
                prefix,
                ..
            } => Node::new(
                "Prefix information",
                format!("{}/{prefix_len}", ip_text(&prefix)),
            )
            .with(Node::uint(
                "Type",
                OPT_PREFIX_INFORMATION as u64,
                "icmpv6.opt.type",
            ))
            .with(Node::uint("Length", 4, "icmpv6.opt.length"))
            .with(Node::uint(
                "Prefix Length",
                prefix_len as u64,
                "icmpv6.opt.prefix.length",
            ))
            .with(
                Node::new("Flag", format!("0x{flags:02x}"))
                    .field("icmpv6.opt.prefix.flag", format!("0x{flags:02x}")),
            )
            .with(Node::uint(
                "On-link (L)",
                (flags >> 7) as u64,
                "icmpv6.opt.prefix.flag.l",
            ))
            .with(Node::uint(
                "Autonomous (A)",
                ((flags >> 6) & 1) as u64,
                "icmpv6.opt.prefix.flag.a",
            ))
            .with(Node::uint(
                "Router address (R)",
                ((flags >> 5) & 1) as u64,
                "icmpv6.opt.prefix.flag.r",
            ))
            .with(Node::uint(
                "Valid Lifetime",
                valid_lifetime as u64,
                "icmpv6.opt.prefix.valid_lifetime",
            ))
            .with(Node::uint(
                "Preferred Lifetime",
                preferred_lifetime as u64,
                "icmpv6.opt.prefix.preferred_lifetime",
            ))
            .with(
                Node::new("Prefix", ip_text(&prefix)).field("icmpv6.opt.prefix", ip_text(&prefix)),
            ),
            NdOption::Unknown { kind, data } => Node::new("Option", format!("type {kind}"))
                .with(Node::uint("Type", kind as u64, "icmpv6.opt.type"))
                .with(Node::bytes("Data", data, "")),
        }
    }
}

/// The options of a Mobile Prefix Advertisement: validated bytes, iterated lazily.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NdOptions<'a>(&'a [u8]);

impl<'a> NdOptions<'a> {
    pub fn parse(b: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, b);
        while !r.is_empty() {
            NdOption::read(&mut r)?;
        }
        Ok(NdOptions(b))
    }
    /// Emits `opts` into `buf` and returns the validated view; for building messages.
    pub fn build(opts: &[NdOption<'_>], buf: &'a mut Vec<u8>) -> Result<Self> {
        buf.clear();
        for o in opts {
            o.emit(buf)?;
        }
        Ok(NdOptions(buf.as_slice()))
    }
    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }
    pub fn iter(&self) -> impl Iterator<Item = NdOption<'a>> + 'a {
        let mut r = Reader::new(P, self.0);
        core::iter::from_fn(move || {
            if r.is_empty() {
                None
            } else {
                NdOption::read(&mut r).ok()
            }
        })
    }
}

/// The message body after Type, Code and Checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    HaadRequest {
        identifier: u16,
        reserved: u16,
    },
    /// `addresses`: a whole number of 16-octet home agent addresses, in preference order.
    HaadReply {
        identifier: u16,
        reserved: u16,
        addresses: &'a [u8],
    },
    MobilePrefixSolicitation {
        identifier: u16,
        reserved: u16,
    },
    /// `flags`: M O and the 14 reserved bits, raw.
    MobilePrefixAdvertisement {
        identifier: u16,
        flags: u16,
        options: NdOptions<'a>,
    },
    /// Any other type: the body verbatim.
    Other {
        icmp_type: u8,
        body: &'a [u8],
    },
}

impl Message<'_> {
    pub fn icmp_type(&self) -> u8 {
        match self {
            Message::HaadRequest { .. } => 144,
            Message::HaadReply { .. } => 145,
            Message::MobilePrefixSolicitation { .. } => 146,
            Message::MobilePrefixAdvertisement { .. } => 147,
            Message::Other { icmp_type, .. } => *icmp_type,
        }
    }
}

/// An ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    pub code: u8,
    pub checksum: u16,
    pub message: Message<'a>,
}

impl<'a> Repr<'a> {
    /// A message with code 0 and checksum 0 (fill it with [`Repr::emit_with_checksum`]).
    pub fn new(message: Message<'a>) -> Self {
        Repr {
            code: 0,
            checksum: 0,
            message,
        }
    }

    pub fn parse(b: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, b);
        let t = r.u8("type")?;
        let code = r.u8("code")?;
        let checksum = r.u16("checksum")?;
        let message = match Icmpv6Type::from(t) {
            Icmpv6Type::HomeAgentAddressDiscoveryRequest => Message::HaadRequest {
                identifier: r.u16("haad_request.identifier")?,
                reserved: r.u16("haad_request.reserved")?,
            },
            Icmpv6Type::HomeAgentAddressDiscoveryReply => {
                let identifier = r.u16("haad_reply.identifier")?;
                let reserved = r.u16("haad_reply.reserved")?;
                let addresses = r.rest();
                if !addresses.len().is_multiple_of(16) {
                    return Err(Error::bad_length(P, "haad_reply.home_agent_addresses"));
                }
                Message::HaadReply {
                    identifier,
                    reserved,
                    addresses,
                }
            }
            Icmpv6Type::MobilePrefixSolicitation => Message::MobilePrefixSolicitation {
                identifier: r.u16("mps.identifier")?,
                reserved: r.u16("mps.reserved")?,
            },
            Icmpv6Type::MobilePrefixAdvertisement => Message::MobilePrefixAdvertisement {
                identifier: r.u16("mpa.identifier")?,
                flags: r.u16("mpa.flags")?,
                options: NdOptions::parse(r.rest())?,
            },
            Icmpv6Type::Unknown(t) => Message::Other {
                icmp_type: t,
                body: r.rest(),
            },
        };
        r.finish("length")?;
        Ok(Repr {
            code,
            checksum,
            message,
        })
    }

    pub fn buffer_len(&self) -> usize {
        4 + match self.message {
            Message::HaadRequest { .. } | Message::MobilePrefixSolicitation { .. } => 4,
            Message::HaadReply { addresses, .. } => 4 + addresses.len(),
            Message::MobilePrefixAdvertisement { options, .. } => 4 + options.bytes().len(),
            Message::Other { body, .. } => body.len(),
        }
    }

    /// Appends the message with [`Repr::checksum`] as is.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put_u8(self.message.icmp_type());
        out.put_u8(self.code);
        out.put_u16(self.checksum);
        match self.message {
            Message::HaadRequest {
                identifier,
                reserved,
            }
            | Message::MobilePrefixSolicitation {
                identifier,
                reserved,
            } => {
                out.put_u16(identifier);
                out.put_u16(reserved);
            }
            Message::HaadReply {
                identifier,
                reserved,
                addresses,
            } => {
                if !addresses.len().is_multiple_of(16) {
                    return Err(Error::bad_length(P, "haad_reply.home_agent_addresses"));
                }
                out.put_u16(identifier);
                out.put_u16(reserved);
                out.put(addresses);
            }
            Message::MobilePrefixAdvertisement {
                identifier,
                flags,
                options,
            } => {
                out.put_u16(identifier);
                out.put_u16(flags);
                out.put(options.bytes());
            }
            Message::Other { body, .. } => out.put(body),
        }
        Ok(())
    }

    /// Appends the message with its checksum computed for these IPv6 addresses.
    pub fn emit_with_checksum(
        &self,
        src: &[u8; 16],
        dst: &[u8; 16],
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let start = out.len();
        Repr {
            checksum: 0,
            ..*self
        }
        .emit(out)?;
        let c = compute_checksum(&out[start..], src, dst);
        out.patch_u16(start + 2, c);
        Ok(())
    }

    pub fn dissect(&self) -> Node {
        let t = Icmpv6Type::from(self.message.icmp_type());
        let mut n = Node::new("Internet Control Message Protocol v6", t.to_string());
        n.push(Node::code("Type", t, t.value() as u64, "icmpv6.type"));
        n.push(Node::uint("Code", self.code as u64, "icmpv6.code"));
        let c = format!("0x{:04x}", self.checksum);
        n.push(Node::new("Checksum", c.clone()).field("icmpv6.checksum", c));
        match self.message {
            Message::HaadRequest { identifier, .. }
            | Message::MobilePrefixSolicitation { identifier, .. } => {
                n.push(Node::uint(
                    "Identifier",
                    identifier as u64,
                    "icmpv6.mip6.identifier",
                ));
            }
            Message::HaadReply {
                identifier,
                addresses,
                ..
            } => {
                n.push(Node::uint(
                    "Identifier",
                    identifier as u64,
                    "icmpv6.mip6.identifier",
                ));
                for a in addresses.chunks_exact(16) {
                    let t = ip_text(a);
                    n.push(
                        Node::new("Home Agent Address", t.clone())
                            .field("icmpv6.mip6.home_agent_address", t),
                    );
                }
            }
            Message::MobilePrefixAdvertisement {
                identifier,
                flags,
                options,
            } => {
                n.push(Node::uint(
                    "Identifier",
                    identifier as u64,
                    "icmpv6.mip6.identifier",
                ));
                let f = format!("0x{flags:04x}");
                n.push(Node::new("Flags", f.clone()).field("icmpv6.mip6.flag", f));
                n.push(Node::uint(
                    "Managed (M)",
                    (flags >> 15) as u64,
                    "icmpv6.mip6.flag.m",
                ));
                n.push(Node::uint(
                    "Other (O)",
                    ((flags >> 14) & 1) as u64,
                    "icmpv6.mip6.flag.o",
                ));
                n.push(Node::uint(
                    "Reserved",
                    (flags & 0x3fff) as u64,
                    "icmpv6.mip6.flag.rsv",
                ));
                for o in options.iter() {
                    n.push(o.dissect());
                }
            }
            Message::Other { body, .. } => n.push(Node::bytes("Body", body, "")),
        }
        n
    }
}

/// The ICMPv6 checksum of `msg` (its own checksum field counted as zero).
pub fn compute_checksum(msg: &[u8], src: &[u8; 16], dst: &[u8; 16]) -> u16 {
    let mut c = Checksum::ipv6_pseudo(src, dst, msg.len() as u32, ip_proto::ICMPV6);
    c.add(msg.get(..2).unwrap_or(msg));
    if let Some(rest) = msg.get(4..) {
        c.add(rest);
    }
    c.finish()
}

/// Checks the checksum of an ICMPv6 message against the IPv6 pseudo-header.
pub fn verify_checksum(msg: &[u8], src: &[u8; 16], dst: &[u8; 16]) -> Result<()> {
    let mut c = Checksum::ipv6_pseudo(src, dst, msg.len() as u32, ip_proto::ICMPV6);
    c.add(msg);
    if c.finish() == 0 {
        Ok(())
    } else {
        Err(Error::new(P, "checksum", ErrorKind::BadChecksum))
    }
}

/// Parses and renders an ICMPv6 message.
pub fn dissect(data: &[u8]) -> Result<Node> {
    Ok(Repr::parse(data)?.dissect())
}

fn a6(s: &str) -> [u8; 16] {
    s.parse::<Ipv6Addr>().map(|a| a.octets()).unwrap_or([0; 16])
}

fn sample(name: &str, r: &Repr<'_>, src: &str, dst: &str) -> Sample {
    let mut b = Vec::new();
    if let Err(e) = r.emit_with_checksum(&a6(src), &a6(dst), &mut b) {
        panic!("icmpv6 sample {name}: {e}");
    }
    let ip = |s: &str| IpAddr::V6(s.parse().unwrap_or(Ipv6Addr::UNSPECIFIED));
    Sample::new(
        name,
        Frame::ip(ip(src), ip(dst), ip_proto::ICMPV6),
        &b,
        dissect,
    )
}

const MN_COA: &str = "2001:db8:bbbb::100";
const MN_HOA: &str = "2001:db8:aaaa:1::100";
const HA1: &str = "2001:db8:aaaa:1::1";
const HA2: &str = "2001:db8:aaaa:1::2";
/// Home Agents anycast address of 2001:db8:aaaa:1::/64 (RFC 2526: interface id fdff:ffff:ffff:fffe).
const HA_ANYCAST: &str = "2001:db8:aaaa:1:fdff:ffff:ffff:fffe";

/// DHAAD request and reply, Mobile Prefix Solicitation and Advertisement.
pub fn samples() -> Vec<Sample> {
    let mut addrs = Vec::new();
    addrs.extend_from_slice(&a6(HA1));
    addrs.extend_from_slice(&a6(HA2));
    let mut opts = Vec::new();
    let options = match NdOptions::build(
        &[NdOption::PrefixInformation {
            prefix_len: 64,
            flags: prefix_flags::L | prefix_flags::A | prefix_flags::R,
            valid_lifetime: 86_400,
            preferred_lifetime: 14_400,
            reserved2: 0,
            prefix: a6(HA1),
        }],
        &mut opts,
    ) {
        Ok(o) => o,
        Err(e) => panic!("icmpv6 sample options: {e}"),
    };
    vec![
        sample(
            "icmpv6/HAAD-Request",
            &Repr::new(Message::HaadRequest {
                identifier: 0x1234,
                reserved: 0,
            }),
            MN_COA,
            HA_ANYCAST,
        ),
        sample(
            "icmpv6/HAAD-Reply",
            &Repr::new(Message::HaadReply {
                identifier: 0x1234,
                reserved: 0,
                addresses: &addrs,
            }),
            HA1,
            MN_COA,
        ),
        sample(
            "icmpv6/MPS",
            &Repr::new(Message::MobilePrefixSolicitation {
                identifier: 0x4321,
                reserved: 0,
            }),
            MN_HOA,
            HA1,
        ),
        sample(
            "icmpv6/MPA",
            &Repr::new(Message::MobilePrefixAdvertisement {
                identifier: 0x4321,
                flags: mpa_flags::O,
                options,
            }),
            HA1,
            MN_HOA,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn samples_parse_reemit_and_verify() {
        for s in samples() {
            let p = crate::frame::peel_ip(&s.packet).unwrap();
            let r = Repr::parse(p.payload).unwrap();
            let mut out = Vec::new();
            r.emit(&mut out).unwrap();
            assert_eq!(out, p.payload, "{}", s.name);
            let (src, dst) = match (p.frame.src, p.frame.dst) {
                (IpAddr::V6(a), IpAddr::V6(b)) => (a.octets(), b.octets()),
                _ => unreachable!(),
            };
            verify_checksum(p.payload, &src, &dst).unwrap();
            let mut bad = p.payload.to_vec();
            bad[5] ^= 1;
            assert_eq!(
                verify_checksum(&bad, &src, &dst).unwrap_err().field,
                "checksum"
            );
        }
    }

    #[test]
    fn hand_checked_haad_request() {
        // RFC 6275 §6.5: type 144, code 0, checksum, identifier, reserved.
        let b = [144, 0, 0xab, 0xcd, 0x12, 0x34, 0, 0];
        let r = Repr::parse(&b).unwrap();
        assert_eq!(r.checksum, 0xabcd);
        assert_eq!(
            r.message,
            Message::HaadRequest {
                identifier: 0x1234,
                reserved: 0
            }
        );
    }

    #[test]
    fn errors_name_fields() {
        assert_eq!(
            Repr::parse(&[144, 0, 0, 0, 1]).unwrap_err().field,
            "haad_request.identifier"
        );
        assert_eq!(
            Repr::parse(&[144, 0, 0, 0, 1, 2, 3, 4, 5])
                .unwrap_err()
                .field,
            "length"
        );
        let mut reply = vec![145, 0, 0, 0, 0, 1, 0, 0];
        reply.extend_from_slice(&[0; 15]);
        assert_eq!(
            Repr::parse(&reply).unwrap_err().field,
            "haad_reply.home_agent_addresses"
        );
        let mut mpa = vec![147, 0, 0, 0, 0, 1, 0, 0, 3, 3];
        mpa.extend_from_slice(&[0; 22]);
        assert_eq!(
            Repr::parse(&mpa).unwrap_err().field,
            "option.prefix_information.length"
        );
        let zero_len = [147, 0, 0, 0, 0, 1, 0, 0, 9, 0];
        assert_eq!(Repr::parse(&zero_len).unwrap_err().field, "option.length");
    }

    #[test]
    fn unknown_types_are_kept() {
        let b = [128, 0, 1, 2, 0, 1, 0, 2, 9, 9];
        let r = Repr::parse(&b).unwrap();
        assert!(matches!(r.message, Message::Other { icmp_type: 128, .. }));
        let mut out = Vec::new();
        r.emit(&mut out).unwrap();
        assert_eq!(out, b);
    }

    proptest! {
        #[test]
        fn round_trip(kind in 144u8..=148, id: u16, res: u16, code: u8, n in 0usize..4,
                      plen: u8, flags: u8, vl: u32, pl: u32, body in proptest::collection::vec(any::<u8>(), 0..24)) {
            let addrs: Vec<u8> = (0..n * 16).map(|i| i as u8).collect();
            let mut ob = Vec::new();
            let opts = NdOptions::build(&[
                NdOption::PrefixInformation { prefix_len: plen, flags, valid_lifetime: vl, preferred_lifetime: pl, reserved2: 0, prefix: [7; 16] },
                NdOption::Unknown { kind: 200, data: &[1, 2, 3, 4, 5, 6] },
            ], &mut ob).unwrap();
            let message = match kind {
                144 => Message::HaadRequest { identifier: id, reserved: res },
                145 => Message::HaadReply { identifier: id, reserved: res, addresses: &addrs },
                146 => Message::MobilePrefixSolicitation { identifier: id, reserved: res },
                147 => Message::MobilePrefixAdvertisement { identifier: id, flags: res, options: opts },
                _ => Message::Other { icmp_type: 1, body: &body },
            };
            let r = Repr { code, checksum: 0, message };
            let mut out = Vec::new();
            r.emit_with_checksum(&[1; 16], &[2; 16], &mut out).unwrap();
            prop_assert_eq!(out.len(), r.buffer_len());
            let p = Repr::parse(&out).unwrap();
            prop_assert!(verify_checksum(&out, &[1; 16], &[2; 16]).is_ok());
            prop_assert_eq!(Repr { checksum: 0, ..p }, r);
            let mut again = Vec::new();
            p.emit(&mut again).unwrap();
            prop_assert_eq!(again, out);
        }
    }
}
