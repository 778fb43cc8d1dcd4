//! Agent Advertisement (RFC 5944 §2.1): an ICMP Router Advertisement (RFC 1256, type 9) followed
//! by the Mobility Agent Advertisement extension (16), optionally the Prefix-Lengths extension
//! (19) and One-byte Padding (0). The ICMP checksum covers the whole ICMP message.

use crate::codec::{Checksum, Reader, Writer};
use crate::dissect::{ip_text, Node};
use crate::{Error, ErrorKind, Result};

use super::P;

/// ICMP type of a Router Advertisement.
pub const ICMP_ROUTER_ADVERTISEMENT: u8 = 9;
/// ICMP code 16: the agent does not route common traffic (RFC 5944 §2.1).
pub const CODE_MOBILITY_ONLY: u8 = 16;

/// Mobility Agent Advertisement flags (RFC 5944 §2.1.1), in the 16 bits after the lifetime.
pub mod adv_flags {
    pub const R: u16 = 0x8000;
    pub const B: u16 = 0x4000;
    pub const H: u16 = 0x2000;
    pub const F: u16 = 0x1000;
    pub const M: u16 = 0x0800;
    pub const G: u16 = 0x0400;
    /// Sent as zero.
    pub const R_LOWER: u16 = 0x0200;
    pub const T: u16 = 0x0100;
    /// UDP tunnelling (RFC 3519).
    pub const U: u16 = 0x0080;
    /// Revocation support (RFC 3543).
    pub const X: u16 = 0x0040;
    /// Foreign agent supports regional registration (RFC 4857).
    pub const I: u16 = 0x0020;
}

/// An ICMP Router Discovery extension after the addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvExtension<'a> {
    /// One-byte padding (type 0).
    Padding,
    /// Mobility Agent Advertisement (type 16).
    MobilityAgent {
        sequence: u16,
        lifetime: u16,
        flags: u16,
        care_of_addresses: &'a [u8],
    },
    /// Prefix-Lengths (type 19): one octet per router address.
    PrefixLengths(&'a [u8]),
    Unknown {
        kind: u8,
        data: &'a [u8],
    },
}

impl<'a> AdvExtension<'a> {
    fn read(r: &mut Reader<'a>) -> Result<Self> {
        let kind = r.u8("advertisement.extension.type")?;
        if kind == 0 {
            return Ok(AdvExtension::Padding);
        }
        let len = r.u8("advertisement.extension.length")? as usize;
        let mut d = r.sub(len, "advertisement.extension.length")?;
        Ok(match kind {
            16 => {
                let sequence = d.u16("mobility_agent.sequence")?;
                let lifetime = d.u16("mobility_agent.registration_lifetime")?;
                let flags = d.u16("mobility_agent.flags")?;
                let care_of_addresses = d.rest();
                if !care_of_addresses.len().is_multiple_of(4) {
                    return Err(Error::bad_length(P, "mobility_agent.length"));
                }
                AdvExtension::MobilityAgent {
                    sequence,
                    lifetime,
                    flags,
                    care_of_addresses,
                }
            }
            19 => AdvExtension::PrefixLengths(d.rest()),
            _ => AdvExtension::Unknown {
                kind,
                data: d.rest(),
            },
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let (kind, len) = match *self {
            AdvExtension::Padding => {
                out.put_u8(0);
                return Ok(());
            }
            AdvExtension::MobilityAgent {
                care_of_addresses, ..
            } => {
                if !care_of_addresses.len().is_multiple_of(4) {
                    return Err(Error::bad_length(P, "mobility_agent.length"));
                }
                (16, 6 + care_of_addresses.len())
            }
            AdvExtension::PrefixLengths(d) => (19, d.len()),
            AdvExtension::Unknown { kind, data } => {
                if matches!(kind, 0 | 16 | 19) {
                    return Err(Error::bad_value(P, "advertisement.extension.type"));
                }
                (kind, data.len())
            }
        };
        if len > 255 {
            return Err(Error::too_long(P, "advertisement.extension.length"));
        }
        out.put_u8(kind);
        out.put_u8(len as u8);
        match *self {
            AdvExtension::MobilityAgent {
                sequence,
                lifetime,
                flags,
                care_of_addresses,
            } => {
                out.put_u16(sequence);
                out.put_u16(lifetime);
                out.put_u16(flags);
                out.put(care_of_addresses);
            }
            AdvExtension::PrefixLengths(d) | AdvExtension::Unknown { data: d, .. } => out.put(d),
            AdvExtension::Padding => {}
        }
        Ok(())
    }

    fn dissect(&self) -> Node {
        match *self {
            AdvExtension::Padding => Node::new("One-byte Padding", ""),
            AdvExtension::MobilityAgent {
                sequence,
                lifetime,
                flags,
                care_of_addresses,
            } => {
                use adv_flags as F;
                let f = |label: &str, m: u16, field: &str| {
                    Node::uint(label, (flags & m != 0) as u64, field)
                };
                let mut n = Node::branch("Mobility Agent Advertisement Extension")
                    .with(Node::uint("Extension Type", 16, "icmp.mip.type"))
                    .with(Node::uint(
                        "Length",
                        6 + care_of_addresses.len() as u64,
                        "icmp.mip.length",
                    ))
                    .with(Node::uint(
                        "Sequence Number",
                        sequence as u64,
                        "icmp.mip.seq",
                    ))
                    .with(Node::uint(
                        "Registration Lifetime",
                        lifetime as u64,
                        "icmp.mip.life",
                    ))
                    .with(
                        Node::new("Flags", format!("0x{flags:04x}"))
                            .field("icmp.mip.flags", format!("0x{flags:04x}")),
                    )
                    .with(f("Registration Required (R)", F::R, "icmp.mip.r"))
                    .with(f("Busy (B)", F::B, "icmp.mip.b"))
                    .with(f("Home Agent (H)", F::H, "icmp.mip.h"))
                    .with(f("Foreign Agent (F)", F::F, "icmp.mip.f"))
                    .with(f("Minimal Encapsulation (M)", F::M, "icmp.mip.m"))
                    .with(f("GRE (G)", F::G, "icmp.mip.g"))
                    .with(f("Reverse tunneling (T)", F::T, "icmp.mip.rt"))
                    .with(f("UDP tunneling (U)", F::U, "icmp.mip.u"))
                    .with(f("Revocation support (X)", F::X, "icmp.mip.x"));
                for a in care_of_addresses.chunks_exact(4) {
                    let t = ip_text(a);
                    n.push(Node::new("Care-Of-Address", t.clone()).field("icmp.mip.coa", t));
                }
                n
            }
            AdvExtension::PrefixLengths(d) => {
                let mut n = Node::branch("Prefix-Lengths Extension")
                    .with(Node::uint("Extension Type", 19, "icmp.mip.type"))
                    .with(Node::uint("Length", d.len() as u64, "icmp.mip.length"));
                for p in d {
                    n.push(Node::uint(
                        "Prefix Length",
                        *p as u64,
                        "icmp.mip.prefixlength",
                    ));
                }
                n
            }
            AdvExtension::Unknown { kind, data } => Node::new("Extension", format!("type {kind}"))
                .with(Node::uint("Extension Type", kind as u64, "icmp.mip.type"))
                .with(Node::bytes("Data", data, "")),
        }
    }
}

/// An Agent Advertisement (ICMP Router Advertisement with mobility extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentAdvertisement<'a> {
    pub code: u8,
    pub checksum: u16,
    pub lifetime: u16,
    /// Address Entry Size in 32-bit words (2 for RFC 1256 entries).
    pub entry_size: u8,
    /// `num_addrs * entry_size * 4` octets of (router address, preference level) entries.
    pub entries: &'a [u8],
    /// Validated extension bytes.
    pub extensions: &'a [u8],
}

impl<'a> AgentAdvertisement<'a> {
    pub fn parse(b: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, b);
        if r.u8("icmp.type")? != ICMP_ROUTER_ADVERTISEMENT {
            return Err(Error::bad_value(P, "icmp.type"));
        }
        let code = r.u8("icmp.code")?;
        let checksum = r.u16("icmp.checksum")?;
        let num = r.u8("icmp.num_addrs")? as usize;
        let entry_size = r.u8("icmp.addr_entry_size")?;
        if entry_size < 2 {
            return Err(Error::bad_value(P, "icmp.addr_entry_size"));
        }
        let lifetime = r.u16("icmp.lifetime")?;
        let entries = r.bytes(num * entry_size as usize * 4, "icmp.num_addrs")?;
        let extensions = r.rest();
        let mut e = Reader::new(P, extensions);
        while !e.is_empty() {
            AdvExtension::read(&mut e)?;
        }
        Ok(AgentAdvertisement {
            code,
            checksum,
            lifetime,
            entry_size,
            entries,
            extensions,
        })
    }

    pub fn num_addrs(&self) -> usize {
        self.entries.len() / (self.entry_size.max(1) as usize * 4)
    }

    pub fn extensions(&self) -> impl Iterator<Item = AdvExtension<'a>> + 'a {
        let mut r = Reader::new(P, self.extensions);
        core::iter::from_fn(move || {
            if r.is_empty() {
                None
            } else {
                AdvExtension::read(&mut r).ok()
            }
        })
    }

    /// Appends the message with [`AgentAdvertisement::checksum`] as is.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let unit = self.entry_size as usize * 4;
        if unit == 0 || !self.entries.len().is_multiple_of(unit) {
            return Err(Error::bad_length(P, "icmp.num_addrs"));
        }
        let n = u8::try_from(self.entries.len() / unit)
            .map_err(|_| Error::too_long(P, "icmp.num_addrs"))?;
        out.put_u8(ICMP_ROUTER_ADVERTISEMENT);
        out.put_u8(self.code);
        out.put_u16(self.checksum);
        out.put_u8(n);
        out.put_u8(self.entry_size);
        out.put_u16(self.lifetime);
        out.put(self.entries);
        out.put(self.extensions);
        Ok(())
    }

    /// Appends the message with the ICMP checksum computed.
    pub fn emit_with_checksum(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        AgentAdvertisement {
            checksum: 0,
            ..self.clone()
        }
        .emit(out)?;
        let mut c = Checksum::new();
        c.add(&out[start..]);
        let v = c.finish();
        out.patch_u16(start + 2, v);
        Ok(())
    }

    /// Checks the ICMP checksum of a received message.
    pub fn verify_checksum(wire: &[u8]) -> Result<()> {
        let mut c = Checksum::new();
        c.add(wire);
        if c.finish() == 0 {
            Ok(())
        } else {
            Err(Error::new(P, "icmp.checksum", ErrorKind::BadChecksum))
        }
    }

    pub fn dissect(&self) -> Node {
        let mut n = Node::new(
            "Internet Control Message Protocol",
            "Mobile IP Agent Advertisement",
        );
        n.push(Node::uint(
            "Type",
            ICMP_ROUTER_ADVERTISEMENT as u64,
            "icmp.type",
        ));
        n.push(Node::uint("Code", self.code as u64, "icmp.code"));
        let c = format!("0x{:04x}", self.checksum);
        n.push(Node::new("Checksum", c.clone()).field("icmp.checksum", c));
        n.push(Node::uint(
            "Number of addresses",
            self.num_addrs() as u64,
            "icmp.num_addrs",
        ));
        n.push(Node::uint(
            "Address entry size",
            self.entry_size as u64,
            "icmp.addr_entry_size",
        ));
        n.push(Node::uint(
            "Lifetime",
            self.lifetime as u64,
            "icmp.lifetime",
        ));
        for e in self
            .entries
            .chunks_exact(self.entry_size.max(2) as usize * 4)
        {
            let a = ip_text(&e[..4]);
            let pref = i32::from_be_bytes([e[4], e[5], e[6], e[7]]);
            n.push(Node::new("Router address", a.clone()).field("icmp.router_address", a));
            n.push(
                Node::new("Preference level", pref.to_string())
                    .field("icmp.pref_level", pref.to_string()),
            );
        }
        for e in self.extensions() {
            n.push(e.dissect());
        }
        n
    }
}

/// Builds the extension bytes of an advertisement.
pub fn build_extensions(exts: &[AdvExtension<'_>], out: &mut Vec<u8>) -> Result<()> {
    exts.iter().try_for_each(|e| e.emit(out))
}

/// Parses and renders an Agent Advertisement (the ICMP message).
pub fn dissect(data: &[u8]) -> Result<Node> {
    Ok(AgentAdvertisement::parse(data)?.dissect())
}
