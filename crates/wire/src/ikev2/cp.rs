//! Configuration payload (RFC 7296 §3.15) and its attributes, with the extensions the
//! mobility flows use: RFC 5026 (MIP6_HOME_PREFIX), RFC 5739 (INTERNAL_IP6_LINK,
//! INTERNAL_IP6_PREFIX), RFC 7651 (P-CSCF), 3GPP TS 24.302 (HOME_AGENT_ADDRESS).

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::codec::Writer;
use crate::{Error, ErrorKind, Reader, Result};

use super::P;

enum_with_unknown! {
    /// CFG Types (RFC 7296 §3.15).
    pub enum CfgType(u8) {
        Request = 1 => "CFG_REQUEST",
        Reply = 2 => "CFG_REPLY",
        Set = 3 => "CFG_SET",
        Ack = 4 => "CFG_ACK",
    }
}

enum_with_unknown! {
    /// Configuration Payload Attribute Types (IANA).
    pub enum CfgAttrType(u16) {
        InternalIp4Address = 1 => "INTERNAL_IP4_ADDRESS",
        InternalIp4Netmask = 2 => "INTERNAL_IP4_NETMASK",
        InternalIp4Dns = 3 => "INTERNAL_IP4_DNS",
        InternalIp4Nbns = 4 => "INTERNAL_IP4_NBNS",
        InternalIp4Dhcp = 6 => "INTERNAL_IP4_DHCP",
        ApplicationVersion = 7 => "APPLICATION_VERSION",
        InternalIp6Address = 8 => "INTERNAL_IP6_ADDRESS",
        InternalIp6Dns = 10 => "INTERNAL_IP6_DNS",
        InternalIp6Dhcp = 12 => "INTERNAL_IP6_DHCP",
        InternalIp4Subnet = 13 => "INTERNAL_IP4_SUBNET",
        SupportedAttributes = 14 => "SUPPORTED_ATTRIBUTES",
        InternalIp6Subnet = 15 => "INTERNAL_IP6_SUBNET",
        /// RFC 5026.
        Mip6HomePrefix = 16 => "MIP6_HOME_PREFIX",
        /// RFC 5739.
        InternalIp6Link = 17 => "INTERNAL_IP6_LINK",
        /// RFC 5739.
        InternalIp6Prefix = 18 => "INTERNAL_IP6_PREFIX",
        /// 3GPP TS 24.302 (not RFC 5026, which defines only MIP6_HOME_PREFIX).
        HomeAgentAddress = 19 => "HOME_AGENT_ADDRESS",
        /// RFC 7651.
        PCscfIp4Address = 20 => "P_CSCF_IP4_ADDRESS",
        /// RFC 7651.
        PCscfIp6Address = 21 => "P_CSCF_IP6_ADDRESS",
        FttKat = 22 => "FTT_KAT",
        ExternalSourceIp4NatInfo = 23 => "EXTERNAL_SOURCE_IP4_NAT_INFO",
        TimeoutPeriodForLivenessCheck = 24 => "TIMEOUT_PERIOD_FOR_LIVENESS_CHECK",
        /// RFC 8598.
        InternalDnsDomain = 25 => "INTERNAL_DNS_DOMAIN",
        /// RFC 8598.
        InternalDnssecTa = 26 => "INTERNAL_DNSSEC_TA",
    }
}

/// A typed reading of an attribute value. `Empty` is the zero-length request form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CfgValue<'a> {
    Empty,
    Ip4(Ipv4Addr),
    Ip6(Ipv6Addr),
    /// Address and prefix length (INTERNAL_IP6_ADDRESS, _SUBNET, _PREFIX).
    Ip6Prefix(Ipv6Addr, u8),
    /// Address and netmask (INTERNAL_IP4_SUBNET).
    Ip4Subnet(Ipv4Addr, Ipv4Addr),
    /// INTERNAL_IP6_LINK: Link-Local Interface ID and IKEv2 Link ID.
    Ip6Link {
        interface_id: u64,
        link_id: &'a [u8],
    },
    /// MIP6_HOME_PREFIX (RFC 5026 §4.2.4): prefix lifetime, prefix, prefix length.
    Mip6HomePrefix {
        lifetime: u32,
        prefix: Ipv6Addr,
        prefix_len: u8,
    },
    /// HOME_AGENT_ADDRESS (TS 24.302): IPv6 address and optional IPv4 address.
    HomeAgent {
        ipv6: Ipv6Addr,
        ipv4: Option<Ipv4Addr>,
    },
    /// SUPPORTED_ATTRIBUTES: a list of 16-bit types, kept as bytes (even length).
    AttrList(&'a [u8]),
    /// Text (APPLICATION_VERSION, INTERNAL_DNS_DOMAIN) or anything else: the bytes.
    Bytes(&'a [u8]),
}

/// One configuration attribute (RFC 7296 §3.15.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CfgAttribute<'a> {
    /// The first 16 bits: R (reserved, 0x8000) and the 15-bit Attribute Type, raw.
    pub raw_type: u16,
    pub value: &'a [u8],
}

fn ip4(b: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(b).ok().map(Ipv4Addr::from)
}
fn ip6(b: &[u8]) -> Option<Ipv6Addr> {
    <[u8; 16]>::try_from(b).ok().map(Ipv6Addr::from)
}

impl<'a> CfgAttribute<'a> {
    pub const fn new(attr_type: CfgAttrType, value: &'a [u8]) -> Self {
        // Only known types are const-constructible here; masks the R bit off.
        CfgAttribute {
            raw_type: cfg_attr_value(attr_type) & 0x7fff,
            value,
        }
    }

    /// A zero-length attribute (the request form).
    pub const fn request(attr_type: CfgAttrType) -> Self {
        Self::new(attr_type, &[])
    }

    pub fn attr_type(&self) -> CfgAttrType {
        CfgAttrType::from(self.raw_type & 0x7fff)
    }

    /// The R bit (reserved, must be ignored on receipt).
    pub fn reserved_bit(&self) -> bool {
        self.raw_type & 0x8000 != 0
    }

    /// Checks the value length of attributes whose length RFC 7296 (and the extensions)
    /// fix; names the attribute in the error.
    pub fn check_length(&self) -> Result<()> {
        use CfgAttrType::*;
        let n = self.value.len();
        let ok = match self.attr_type() {
            InternalIp4Address | InternalIp4Netmask | InternalIp4Dns | InternalIp4Nbns
            | InternalIp4Dhcp | PCscfIp4Address => n == 0 || n == 4,
            InternalIp6Address | InternalIp6Subnet | InternalIp6Prefix => n == 0 || n == 17,
            InternalIp6Dns | InternalIp6Dhcp => n == 0 || n == 16,
            InternalIp4Subnet => n == 0 || n == 8,
            SupportedAttributes => n & 1 == 0,
            InternalIp6Link => n == 0 || n >= 8,
            // RFC 7651 says 16; strongSwan also accepts 17 (an address with a prefix length).
            PCscfIp6Address => n == 0 || n == 16 || n == 17,
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::new(P, self.length_field(), ErrorKind::BadLength))
        }
    }

    fn length_field(&self) -> &'static str {
        use CfgAttrType::*;
        match self.attr_type() {
            InternalIp4Address => "CP.attribute.INTERNAL_IP4_ADDRESS.length",
            InternalIp4Netmask => "CP.attribute.INTERNAL_IP4_NETMASK.length",
            InternalIp4Dns => "CP.attribute.INTERNAL_IP4_DNS.length",
            InternalIp4Nbns => "CP.attribute.INTERNAL_IP4_NBNS.length",
            InternalIp4Dhcp => "CP.attribute.INTERNAL_IP4_DHCP.length",
            InternalIp6Address => "CP.attribute.INTERNAL_IP6_ADDRESS.length",
            InternalIp6Dns => "CP.attribute.INTERNAL_IP6_DNS.length",
            InternalIp6Dhcp => "CP.attribute.INTERNAL_IP6_DHCP.length",
            InternalIp4Subnet => "CP.attribute.INTERNAL_IP4_SUBNET.length",
            SupportedAttributes => "CP.attribute.SUPPORTED_ATTRIBUTES.length",
            InternalIp6Subnet => "CP.attribute.INTERNAL_IP6_SUBNET.length",
            InternalIp6Link => "CP.attribute.INTERNAL_IP6_LINK.length",
            InternalIp6Prefix => "CP.attribute.INTERNAL_IP6_PREFIX.length",
            PCscfIp4Address => "CP.attribute.P_CSCF_IP4_ADDRESS.length",
            PCscfIp6Address => "CP.attribute.P_CSCF_IP6_ADDRESS.length",
            _ => "CP.attribute.length",
        }
    }

    /// The value read by type; `Bytes` when the type is unknown or the length does not
    /// fit the typed form.
    pub fn typed(&self) -> CfgValue<'a> {
        use CfgAttrType::*;
        let v = self.value;
        if v.is_empty() {
            return CfgValue::Empty;
        }
        let t = match self.attr_type() {
            InternalIp4Address | InternalIp4Netmask | InternalIp4Dns | InternalIp4Nbns
            | InternalIp4Dhcp | PCscfIp4Address => ip4(v).map(CfgValue::Ip4),
            InternalIp6Dns | InternalIp6Dhcp | PCscfIp6Address => ip6(v).map(CfgValue::Ip6),
            InternalIp6Address | InternalIp6Subnet | InternalIp6Prefix if v.len() == 17 => {
                ip6(&v[..16]).map(|a| CfgValue::Ip6Prefix(a, v[16]))
            }
            InternalIp4Subnet if v.len() == 8 => ip4(&v[..4])
                .zip(ip4(&v[4..]))
                .map(|(a, m)| CfgValue::Ip4Subnet(a, m)),
            SupportedAttributes if v.len() & 1 == 0 => Some(CfgValue::AttrList(v)),
            InternalIp6Link if v.len() >= 8 => {
                let mut id = [0u8; 8];
                id.copy_from_slice(&v[..8]);
                Some(CfgValue::Ip6Link {
                    interface_id: u64::from_be_bytes(id),
                    link_id: &v[8..],
                })
            }
            Mip6HomePrefix if v.len() == 21 => {
                let lifetime = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                ip6(&v[4..20]).map(|prefix| CfgValue::Mip6HomePrefix {
                    lifetime,
                    prefix,
                    prefix_len: v[20],
                })
            }
            HomeAgentAddress if v.len() == 16 => {
                ip6(v).map(|ipv6| CfgValue::HomeAgent { ipv6, ipv4: None })
            }
            HomeAgentAddress if v.len() == 20 => ip6(&v[..16]).map(|ipv6| CfgValue::HomeAgent {
                ipv6,
                ipv4: ip4(&v[16..]),
            }),
            _ => None,
        };
        t.unwrap_or(CfgValue::Bytes(v))
    }

    /// SUPPORTED_ATTRIBUTES: the listed types.
    pub fn supported_attributes(&self) -> impl Iterator<Item = CfgAttrType> + 'a {
        let v = if self.attr_type() == CfgAttrType::SupportedAttributes {
            self.value
        } else {
            &[]
        };
        v.chunks_exact(2)
            .map(|c| CfgAttrType::from(u16::from_be_bytes([c[0], c[1]]) & 0x7fff))
    }

    pub fn parse(r: &mut Reader<'a>) -> Result<Self> {
        let raw_type = r.u16("CP.attribute.type")?;
        let len = r.u16("CP.attribute.length")? as usize;
        let value = r.bytes(len, "CP.attribute.value")?;
        let a = CfgAttribute { raw_type, value };
        a.check_length()?;
        Ok(a)
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        self.check_length()?;
        out.put_u16(self.raw_type);
        out.put_u16(
            u16::try_from(self.value.len())
                .map_err(|_| Error::too_long(P, "CP.attribute.length"))?,
        );
        out.put(self.value);
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        4 + self.value.len()
    }
}

const fn cfg_attr_value(t: CfgAttrType) -> u16 {
    use CfgAttrType::*;
    match t {
        InternalIp4Address => 1,
        InternalIp4Netmask => 2,
        InternalIp4Dns => 3,
        InternalIp4Nbns => 4,
        InternalIp4Dhcp => 6,
        ApplicationVersion => 7,
        InternalIp6Address => 8,
        InternalIp6Dns => 10,
        InternalIp6Dhcp => 12,
        InternalIp4Subnet => 13,
        SupportedAttributes => 14,
        InternalIp6Subnet => 15,
        Mip6HomePrefix => 16,
        InternalIp6Link => 17,
        InternalIp6Prefix => 18,
        HomeAgentAddress => 19,
        PCscfIp4Address => 20,
        PCscfIp6Address => 21,
        FttKat => 22,
        ExternalSourceIp4NatInfo => 23,
        TimeoutPeriodForLivenessCheck => 24,
        InternalDnsDomain => 25,
        InternalDnssecTa => 26,
        Unknown(v) => v,
    }
}

/// The body of a CP payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cp<'a> {
    pub cfg_type: CfgType,
    /// The three reserved bytes, as received.
    pub reserved: [u8; 3],
    pub attributes: Vec<CfgAttribute<'a>>,
}

impl<'a> Cp<'a> {
    pub fn new(cfg_type: CfgType, attributes: Vec<CfgAttribute<'a>>) -> Self {
        Cp {
            cfg_type,
            reserved: [0; 3],
            attributes,
        }
    }

    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let cfg_type = CfgType::from(r.u8("CP.cfg_type")?);
        let reserved = r.array::<3>("CP.reserved")?;
        let mut attributes = Vec::with_capacity((r.remaining() / 4).min(32));
        while !r.is_empty() {
            attributes.push(CfgAttribute::parse(&mut r)?);
        }
        Ok(Cp {
            cfg_type,
            reserved,
            attributes,
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put_u8(self.cfg_type.into());
        out.put(&self.reserved);
        for a in &self.attributes {
            a.emit(out)?;
        }
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        4 + self
            .attributes
            .iter()
            .map(|a| a.buffer_len())
            .sum::<usize>()
    }

    /// The attributes of one type.
    pub fn get(&self, t: CfgAttrType) -> impl Iterator<Item = &CfgAttribute<'a>> {
        self.attributes.iter().filter(move |a| a.attr_type() == t)
    }
}
