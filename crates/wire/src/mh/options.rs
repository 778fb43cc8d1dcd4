//! Mobility options (RFC 6275 §6.2 and the IANA "Mobility Options" registry).
//!
//! An option is `Type (1) | Length (1) | data (Length)`, except Pad1, which is a single zero
//! byte. Options as received are kept as one validated borrowed slice ([`Options::Wire`]) and
//! decoded lazily by [`Options::iter`], so parsing a message allocates nothing and re-emits the
//! padding exactly as it came. Options built to be sent are a list ([`Options::List`]); emitting
//! it inserts the Pad1/PadN each option's alignment rule asks for (RFC 6275 §6.2: "xn+y"
//! relative to the start of the Mobility Header) and pads the message to a multiple of 8.

use crate::codec::{Reader, Writer};
use crate::dissect::{ip_text, text, Node};
use crate::{Error, Result};

use super::P;

enum_with_unknown! {
    /// Mobility option types (IANA "Mobility Options"; checked against tshark's `mip6.option` table).
    pub enum OptionType(u8) {
        Pad1 = 0,
        PadN = 1,
        BindingRefreshAdvice = 2 => "Binding Refresh Advice",
        AlternateCareOfAddress = 3 => "Alternate Care-of Address",
        NonceIndices = 4 => "Nonce Indices",
        BindingAuthorizationData = 5 => "Binding Authorization Data",
        MobileNetworkPrefix = 6 => "Mobile Network Prefix",
        LinkLayerAddress = 7 => "Mobility Header Link-Layer Address",
        MobileNodeIdentifier = 8 => "Mobile Node Identifier",
        Authentication = 9 => "Authentication",
        ReplayProtection = 10 => "Replay Protection (MESG-ID)",
        VendorSpecific = 19 => "Vendor Specific",
        ServiceSelection = 20 => "Service Selection",
        HomeNetworkPrefix = 22 => "Home Network Prefix",
        HandoffIndicator = 23 => "Handoff Indicator",
        AccessTechnologyType = 24 => "Access Technology Type",
        MnLinkLayerIdentifier = 25 => "Mobile Node Link-layer Identifier",
        LinkLocalAddress = 26 => "Link-local Address",
        Timestamp = 27 => "Timestamp",
        RestartCounter = 28 => "Restart Counter",
        Ipv4HomeAddress = 29 => "IPv4 Home Address",
        Ipv4AddressAcknowledgement = 30 => "IPv4 Address Acknowledgement",
        NatDetection = 31 => "NAT Detection",
        Ipv4CareOfAddress = 32 => "IPv4 Care-of Address",
        GreKey = 33 => "GRE Key",
        Ipv4HomeAddressRequest = 36 => "IPv4 Home Address Request",
        Ipv4HomeAddressReply = 37 => "IPv4 Home Address Reply",
        Ipv4DefaultRouterAddress = 38 => "IPv4 Default-Router Address",
        Ipv4DhcpSupportMode = 39 => "IPv4 DHCP Support Mode",
    }
}

impl OptionType {
    /// The alignment rule `(x, y)` of "xn+y" the sender must meet (x a power of two), `None`
    /// where none is applied. See docs/protocols/mobility.md for the source of each value.
    #[inline]
    pub fn alignment(&self) -> Option<(usize, usize)> {
        use OptionType::*;
        Some(match self {
            BindingRefreshAdvice | NonceIndices => (2, 0),
            AlternateCareOfAddress | LinkLocalAddress => (8, 6),
            BindingAuthorizationData | Timestamp => (8, 2),
            MobileNetworkPrefix | HomeNetworkPrefix => (8, 4),
            VendorSpecific => (4, 2),
            MnLinkLayerIdentifier => (8, 2),
            Ipv4HomeAddress
            | Ipv4AddressAcknowledgement
            | NatDetection
            | Ipv4CareOfAddress
            | GreKey
            | Ipv4HomeAddressRequest
            | Ipv4HomeAddressReply
            | Ipv4DefaultRouterAddress => (4, 0),
            _ => return None,
        })
    }
}

/// mobstrap's vendor id in Vendor-Specific options: IANA PEN 32473, the enterprise number for
/// documentation (RFC 5612).
pub const VENDOR_MOBSTRAP: u32 = 32473;
/// mobstrap Vendor-Specific sub-type: the home PDN GW address of an s2b roaming chain
/// (seed 002); data = the 16-octet IPv6 address (docs/protocols/mobility.md).
pub const VSO_SUBTYPE_HOME_GW_ADDRESS: u8 = 1;

/// RFC 4283 Mobile Node Identifier subtype for a Network Access Identifier.
pub const MNID_SUBTYPE_NAI: u8 = 1;

/// One mobility option. Fixed-length options are checked for their exact length; reserved
/// fields and bit fields are kept raw so that re-emitting is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MobOption<'a> {
    /// One zero byte.
    Pad1,
    /// PadN: the data bytes as received (normally zeros).
    PadN(&'a [u8]),
    /// Refresh interval in units of 4 seconds (RFC 6275 §6.2.4).
    BindingRefreshAdvice(u16),
    AlternateCareOfAddress([u8; 16]),
    NonceIndices {
        home: u16,
        care_of: u16,
    },
    /// The authenticator (RFC 6275 §6.2.7), opaque here.
    BindingAuthorizationData(&'a [u8]),
    /// RFC 3963 §4.3.
    MobileNetworkPrefix {
        reserved: u8,
        prefix_len: u8,
        prefix: [u8; 16],
    },
    /// RFC 5568 §6.4.3: Option-Code then the link-layer address (padding included).
    LinkLayerAddress {
        code: u8,
        address: &'a [u8],
    },
    /// RFC 4283: subtype (1 = NAI) and identifier.
    MobileNodeIdentifier {
        subtype: u8,
        identifier: &'a [u8],
    },
    /// RFC 4285 §5: subtype, mobility SPI, authentication data.
    Authentication {
        subtype: u8,
        spi: u32,
        data: &'a [u8],
    },
    /// RFC 4285 §6: 64-bit timestamp.
    ReplayProtection(u64),
    /// RFC 5094: vendor id (SMI PEN), sub-type, data.
    VendorSpecific {
        vendor_id: u32,
        sub_type: u8,
        data: &'a [u8],
    },
    /// RFC 5149: identifier (e.g. an APN), UTF-8 by convention, kept as bytes.
    ServiceSelection(&'a [u8]),
    /// RFC 5213 §8.3.
    HomeNetworkPrefix {
        reserved: u8,
        prefix_len: u8,
        prefix: [u8; 16],
    },
    /// RFC 5213 §8.4.
    HandoffIndicator {
        reserved: u8,
        indicator: u8,
    },
    /// RFC 5213 §8.5.
    AccessTechnologyType {
        reserved: u8,
        att: u8,
    },
    /// RFC 5213 §8.6.
    MnLinkLayerIdentifier {
        reserved: u16,
        identifier: &'a [u8],
    },
    /// RFC 5213 §8.7.
    LinkLocalAddress([u8; 16]),
    /// RFC 5213 §8.8: 48-bit seconds since 1970-01-01 UTC, then 16-bit 1/65536 fractions.
    Timestamp(u64),
    /// RFC 5555 §3.1.1: `Prefix-len (6) | P (1) | Reserved (9)` raw, then the address.
    Ipv4HomeAddress {
        bits: u16,
        address: [u8; 4],
    },
    /// RFC 5555 §3.2.1: status, `Pref-len (6) | Reserved (2)` raw, address.
    Ipv4AddressAcknowledgement {
        status: u8,
        bits: u8,
        address: [u8; 4],
    },
    /// RFC 5555 §3.2.2: `F (1) | Reserved (15)` raw, refresh time.
    NatDetection {
        bits: u16,
        refresh_time: u32,
    },
    /// RFC 5555 §3.1.1.
    Ipv4CareOfAddress {
        reserved: u16,
        address: [u8; 4],
    },
    /// RFC 5845 §3.1.
    GreKey {
        reserved: u16,
        key: u32,
    },
    /// RFC 5844 §3.1.1: `Prefix-len (6) | Reserved (10)` raw, then the address (0.0.0.0 to ask).
    Ipv4HomeAddressRequest {
        bits: u16,
        address: [u8; 4],
    },
    /// RFC 5844 §3.1.2: status, `Prefix-len (6) | Reserved (2)` raw, address.
    Ipv4HomeAddressReply {
        status: u8,
        bits: u8,
        address: [u8; 4],
    },
    /// RFC 5844 §3.2.
    Ipv4DefaultRouterAddress {
        reserved: u16,
        address: [u8; 4],
    },
    /// RFC 5844 §3.3: `Reserved (15) | S (1)` raw.
    Ipv4DhcpSupportMode {
        bits: u16,
    },
    /// Any other type, data kept verbatim.
    Unknown {
        kind: u8,
        data: &'a [u8],
    },
}

/// The length rule of a typed option: `(octets, exact, field)`; `None` for types with no rule
/// (PadN, data of any length, unknown types).
fn length_rule(kind: u8) -> Option<(usize, bool, &'static str)> {
    Some(match kind {
        2 => (2, true, "option.binding_refresh_advice.length"),
        3 => (16, true, "option.alternate_care_of_address.length"),
        4 => (4, true, "option.nonce_indices.length"),
        6 => (18, true, "option.mobile_network_prefix.length"),
        7 => (1, false, "option.link_layer_address.length"),
        8 => (1, false, "option.mobile_node_identifier.length"),
        9 => (5, false, "option.authentication.length"),
        10 => (8, true, "option.replay_protection.length"),
        19 => (5, false, "option.vendor_specific.length"),
        22 => (18, true, "option.home_network_prefix.length"),
        23 => (2, true, "option.handoff_indicator.length"),
        24 => (2, true, "option.access_technology_type.length"),
        25 => (2, false, "option.mn_link_layer_identifier.length"),
        26 => (16, true, "option.link_local_address.length"),
        27 => (8, true, "option.timestamp.length"),
        29 => (6, true, "option.ipv4_home_address.length"),
        30 => (6, true, "option.ipv4_address_acknowledgement.length"),
        31 => (6, true, "option.nat_detection.length"),
        32 => (6, true, "option.ipv4_care_of_address.length"),
        33 => (6, true, "option.gre_key.length"),
        36 => (6, true, "option.ipv4_home_address_request.length"),
        37 => (6, true, "option.ipv4_home_address_reply.length"),
        38 => (6, true, "option.ipv4_default_router_address.length"),
        39 => (2, true, "option.ipv4_dhcp_support_mode.length"),
        _ => return None,
    })
}

/// Checks an option's data length against its type's rule.
#[inline]
fn check_length(kind: u8, len: usize) -> Result<()> {
    match length_rule(kind) {
        Some((n, true, field)) if len != n => Err(Error::bad_length(P, field)),
        Some((n, false, field)) if len < n => Err(Error::bad_length(P, field)),
        _ => Ok(()),
    }
}

/// One validating pass over an options area: framing and the length rule of every option,
/// without decoding any (what `parse` needs; decoding happens lazily in [`Options::iter`]).
fn validate(b: &[u8]) -> Result<()> {
    let mut i = 0;
    while let Some(&kind) = b.get(i) {
        if kind == 0 {
            i += 1;
            continue;
        }
        let len = match b.get(i + 1) {
            Some(&l) => l as usize,
            None => return Err(Error::truncated(P, "option.length")),
        };
        i += 2 + len;
        if i > b.len() {
            return Err(Error::truncated(P, "option.length"));
        }
        check_length(kind, len)?;
    }
    Ok(())
}

fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    let n = N.min(b.len());
    a[..n].copy_from_slice(&b[..n]);
    a
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes(arr::<2>(b))
}
fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes(arr::<4>(b))
}
fn be64(b: &[u8]) -> u64 {
    u64::from_be_bytes(arr::<8>(b))
}

impl<'a> MobOption<'a> {
    /// The option type.
    #[inline]
    pub fn kind(&self) -> OptionType {
        use MobOption::*;
        match self {
            Pad1 => OptionType::Pad1,
            PadN(_) => OptionType::PadN,
            BindingRefreshAdvice(_) => OptionType::BindingRefreshAdvice,
            AlternateCareOfAddress(_) => OptionType::AlternateCareOfAddress,
            NonceIndices { .. } => OptionType::NonceIndices,
            BindingAuthorizationData(_) => OptionType::BindingAuthorizationData,
            MobileNetworkPrefix { .. } => OptionType::MobileNetworkPrefix,
            LinkLayerAddress { .. } => OptionType::LinkLayerAddress,
            MobileNodeIdentifier { .. } => OptionType::MobileNodeIdentifier,
            Authentication { .. } => OptionType::Authentication,
            ReplayProtection(_) => OptionType::ReplayProtection,
            VendorSpecific { .. } => OptionType::VendorSpecific,
            ServiceSelection(_) => OptionType::ServiceSelection,
            HomeNetworkPrefix { .. } => OptionType::HomeNetworkPrefix,
            HandoffIndicator { .. } => OptionType::HandoffIndicator,
            AccessTechnologyType { .. } => OptionType::AccessTechnologyType,
            MnLinkLayerIdentifier { .. } => OptionType::MnLinkLayerIdentifier,
            LinkLocalAddress(_) => OptionType::LinkLocalAddress,
            Timestamp(_) => OptionType::Timestamp,
            Ipv4HomeAddress { .. } => OptionType::Ipv4HomeAddress,
            Ipv4AddressAcknowledgement { .. } => OptionType::Ipv4AddressAcknowledgement,
            NatDetection { .. } => OptionType::NatDetection,
            Ipv4CareOfAddress { .. } => OptionType::Ipv4CareOfAddress,
            GreKey { .. } => OptionType::GreKey,
            Ipv4HomeAddressRequest { .. } => OptionType::Ipv4HomeAddressRequest,
            Ipv4HomeAddressReply { .. } => OptionType::Ipv4HomeAddressReply,
            Ipv4DefaultRouterAddress { .. } => OptionType::Ipv4DefaultRouterAddress,
            Ipv4DhcpSupportMode { .. } => OptionType::Ipv4DhcpSupportMode,
            Unknown { kind, .. } => OptionType::from(*kind),
        }
    }

    /// A typed option from its type and data (the bytes after the Length byte).
    pub fn from_type_data(kind: u8, d: &'a [u8]) -> Result<Self> {
        use MobOption as O;
        check_length(kind, d.len())?;
        Ok(match OptionType::from(kind) {
            OptionType::Pad1 => return Err(Error::bad_value(P, "option.type")),
            OptionType::PadN => O::PadN(d),
            OptionType::BindingRefreshAdvice => O::BindingRefreshAdvice(be16(d)),
            OptionType::AlternateCareOfAddress => O::AlternateCareOfAddress(arr(d)),
            OptionType::NonceIndices => O::NonceIndices {
                home: be16(d),
                care_of: be16(&d[2..]),
            },
            OptionType::BindingAuthorizationData => O::BindingAuthorizationData(d),
            OptionType::MobileNetworkPrefix => O::MobileNetworkPrefix {
                reserved: d[0],
                prefix_len: d[1],
                prefix: arr(&d[2..]),
            },
            OptionType::LinkLayerAddress => O::LinkLayerAddress {
                code: d[0],
                address: &d[1..],
            },
            OptionType::MobileNodeIdentifier => O::MobileNodeIdentifier {
                subtype: d[0],
                identifier: &d[1..],
            },
            OptionType::Authentication => O::Authentication {
                subtype: d[0],
                spi: be32(&d[1..]),
                data: &d[5..],
            },
            OptionType::ReplayProtection => O::ReplayProtection(be64(d)),
            OptionType::VendorSpecific => O::VendorSpecific {
                vendor_id: be32(d),
                sub_type: d[4],
                data: &d[5..],
            },
            OptionType::ServiceSelection => O::ServiceSelection(d),
            OptionType::HomeNetworkPrefix => O::HomeNetworkPrefix {
                reserved: d[0],
                prefix_len: d[1],
                prefix: arr(&d[2..]),
            },
            OptionType::HandoffIndicator => O::HandoffIndicator {
                reserved: d[0],
                indicator: d[1],
            },
            OptionType::AccessTechnologyType => O::AccessTechnologyType {
                reserved: d[0],
                att: d[1],
            },
            OptionType::MnLinkLayerIdentifier => O::MnLinkLayerIdentifier {
                reserved: be16(d),
                identifier: &d[2..],
            },
            OptionType::LinkLocalAddress => O::LinkLocalAddress(arr(d)),
            OptionType::Timestamp => O::Timestamp(be64(d)),
            OptionType::Ipv4HomeAddress => O::Ipv4HomeAddress {
                bits: be16(d),
                address: arr(&d[2..]),
            },
            OptionType::Ipv4AddressAcknowledgement => O::Ipv4AddressAcknowledgement {
                status: d[0],
                bits: d[1],
                address: arr(&d[2..]),
            },
            OptionType::NatDetection => O::NatDetection {
                bits: be16(d),
                refresh_time: be32(&d[2..]),
            },
            OptionType::Ipv4CareOfAddress => O::Ipv4CareOfAddress {
                reserved: be16(d),
                address: arr(&d[2..]),
            },
            OptionType::GreKey => O::GreKey {
                reserved: be16(d),
                key: be32(&d[2..]),
            },
            OptionType::Ipv4HomeAddressRequest => O::Ipv4HomeAddressRequest {
                bits: be16(d),
                address: arr(&d[2..]),
            },
            OptionType::Ipv4HomeAddressReply => O::Ipv4HomeAddressReply {
                status: d[0],
                bits: d[1],
                address: arr(&d[2..]),
            },
            OptionType::Ipv4DefaultRouterAddress => O::Ipv4DefaultRouterAddress {
                reserved: be16(d),
                address: arr(&d[2..]),
            },
            OptionType::Ipv4DhcpSupportMode => O::Ipv4DhcpSupportMode { bits: be16(d) },
            OptionType::RestartCounter | OptionType::Unknown(_) => O::Unknown { kind, data: d },
        })
    }

    /// Parses exactly one option occupying all of `b` (Pad1 is the single byte `00`).
    pub fn parse(b: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, b);
        let o = read_one(&mut r)?;
        r.finish("option.length")?;
        Ok(o)
    }

    /// Length of the data part (after Type and Length); 0 for Pad1.
    #[inline]
    pub fn data_len(&self) -> usize {
        use MobOption::*;
        match self {
            Pad1 => 0,
            PadN(d) | BindingAuthorizationData(d) | ServiceSelection(d) => d.len(),
            Unknown { data, .. } => data.len(),
            BindingRefreshAdvice(_) | HandoffIndicator { .. } | AccessTechnologyType { .. } => 2,
            Ipv4DhcpSupportMode { .. } => 2,
            AlternateCareOfAddress(_) | LinkLocalAddress(_) => 16,
            NonceIndices { .. } => 4,
            MobileNetworkPrefix { .. } | HomeNetworkPrefix { .. } => 18,
            LinkLayerAddress { address, .. } => 1 + address.len(),
            MobileNodeIdentifier { identifier, .. } => 1 + identifier.len(),
            Authentication { data, .. } => 5 + data.len(),
            ReplayProtection(_) | Timestamp(_) => 8,
            VendorSpecific { data, .. } => 5 + data.len(),
            MnLinkLayerIdentifier { identifier, .. } => 2 + identifier.len(),
            Ipv4HomeAddress { .. }
            | Ipv4AddressAcknowledgement { .. }
            | NatDetection { .. }
            | Ipv4CareOfAddress { .. }
            | GreKey { .. }
            | Ipv4HomeAddressRequest { .. }
            | Ipv4HomeAddressReply { .. }
            | Ipv4DefaultRouterAddress { .. } => 6,
        }
    }

    /// Bytes on the wire.
    #[inline]
    pub fn buffer_len(&self) -> usize {
        match self {
            MobOption::Pad1 => 1,
            _ => 2 + self.data_len(),
        }
    }

    /// Appends the option.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        use MobOption::*;
        if let Pad1 = self {
            out.put_u8(0);
            return Ok(());
        }
        let len = self.data_len();
        if len > 255 {
            return Err(Error::too_long(P, "option.length"));
        }
        out.put_u8(self.kind().value());
        out.put_u8(len as u8);
        match *self {
            Pad1 => {}
            PadN(d) | BindingAuthorizationData(d) | ServiceSelection(d) => out.put(d),
            Unknown { data, .. } => out.put(data),
            BindingRefreshAdvice(v) => out.put_u16(v),
            AlternateCareOfAddress(a) | LinkLocalAddress(a) => out.put(&a),
            NonceIndices { home, care_of } => {
                out.put_u16(home);
                out.put_u16(care_of);
            }
            MobileNetworkPrefix {
                reserved,
                prefix_len,
                prefix,
            }
            | HomeNetworkPrefix {
                reserved,
                prefix_len,
                prefix,
            } => {
                out.put_u8(reserved);
                out.put_u8(prefix_len);
                out.put(&prefix);
            }
            LinkLayerAddress { code, address } => {
                out.put_u8(code);
                out.put(address);
            }
            MobileNodeIdentifier {
                subtype,
                identifier,
            } => {
                out.put_u8(subtype);
                out.put(identifier);
            }
            Authentication { subtype, spi, data } => {
                out.put_u8(subtype);
                out.put_u32(spi);
                out.put(data);
            }
            ReplayProtection(v) | Timestamp(v) => out.put_u64(v),
            VendorSpecific {
                vendor_id,
                sub_type,
                data,
            } => {
                out.put_u32(vendor_id);
                out.put_u8(sub_type);
                out.put(data);
            }
            HandoffIndicator {
                reserved,
                indicator,
            } => {
                out.put_u8(reserved);
                out.put_u8(indicator);
            }
            AccessTechnologyType { reserved, att } => {
                out.put_u8(reserved);
                out.put_u8(att);
            }
            MnLinkLayerIdentifier {
                reserved,
                identifier,
            } => {
                out.put_u16(reserved);
                out.put(identifier);
            }
            Ipv4HomeAddress { bits, address } | Ipv4HomeAddressRequest { bits, address } => {
                out.put_u16(bits);
                out.put(&address);
            }
            Ipv4AddressAcknowledgement {
                status,
                bits,
                address,
            }
            | Ipv4HomeAddressReply {
                status,
                bits,
                address,
            } => {
                out.put_u8(status);
                out.put_u8(bits);
                out.put(&address);
            }
            NatDetection { bits, refresh_time } => {
                out.put_u16(bits);
                out.put_u32(refresh_time);
            }
            Ipv4CareOfAddress { reserved, address }
            | Ipv4DefaultRouterAddress { reserved, address } => {
                out.put_u16(reserved);
                out.put(&address);
            }
            GreKey { reserved, key } => {
                out.put_u16(reserved);
                out.put_u32(key);
            }
            Ipv4DhcpSupportMode { bits } => out.put_u16(bits),
        }
        Ok(())
    }

    /// Whether this is Pad1 or PadN.
    pub fn is_padding(&self) -> bool {
        matches!(self, MobOption::Pad1 | MobOption::PadN(_))
    }

    /// Renders the option for `dissect`, tying fields to Wireshark's `mip6.*`.
    pub fn dissect(&self) -> Node {
        use MobOption::*;
        let k = self.kind();
        let mut n = Node::new("Mobility Option", format!("{k} ({})", k.value()));
        if let Pad1 = self {
            return n;
        }
        n.push(Node::uint("Type", k.value() as u64, ""));
        n.push(Node::uint(
            "Length",
            self.data_len() as u64,
            "mip6.mobility_opt.len",
        ));
        match *self {
            Pad1 => {}
            PadN(d) => {
                if !d.is_empty() {
                    n.push(Node::bytes("PadN", d, "mip6.padn"));
                }
            }
            BindingRefreshAdvice(v) => n.push(Node::uint(
                "Refresh interval",
                v as u64,
                "mip6.bra.interval",
            )),
            AlternateCareOfAddress(a) => {
                n.push(addr6("Alternate care-of address", &a, "mip6.acoa.acoa"))
            }
            NonceIndices { home, care_of } => {
                n.push(Node::uint("Home nonce index", home as u64, "mip6.ni.hni"));
                n.push(Node::uint(
                    "Care-of nonce index",
                    care_of as u64,
                    "mip6.ni.cni",
                ));
            }
            BindingAuthorizationData(d) => n.push(Node::bytes("Authenticator", d, "mip6.bad.auth")),
            MobileNetworkPrefix {
                reserved,
                prefix_len,
                prefix,
            } => {
                n.push(Node::uint("Reserved", reserved as u64, ""));
                n.push(Node::uint(
                    "Prefix length",
                    prefix_len as u64,
                    "mip6.nemo.mnp.pfl",
                ));
                n.push(addr6("Mobile Network Prefix", &prefix, "mip6.nemo.mnp.mnp"));
            }
            LinkLayerAddress { code, address } => {
                n.push(Node::uint("Option-Code", code as u64, "mip6.lla.optcode"));
                let t = colon_hex(address);
                n.push(Node::new("Link-layer address", t.clone()).field("mip6.lla", t));
            }
            MobileNodeIdentifier {
                subtype,
                identifier,
            } => {
                n.push(Node::uint("Subtype", subtype as u64, "mip6.mnid.subtype"));
                let t = text(identifier);
                let id = Node::new("Identifier", t.clone());
                n.push(
                    if subtype == MNID_SUBTYPE_NAI && core::str::from_utf8(identifier).is_ok() {
                        id.field("mip6.mnid.identifier", t)
                    } else {
                        id
                    },
                );
            }
            Authentication { subtype, spi, data } => {
                n.push(Node::uint("Subtype", subtype as u64, "mip6.auth.subtype"));
                n.push(Node::uint(
                    "Mobility SPI",
                    spi as u64,
                    "mip6.auth.mobility_spi",
                ));
                n.push(Node::bytes(
                    "Authentication Data",
                    data,
                    "mip6.auth.auth_data",
                ));
            }
            ReplayProtection(v) => n.push(Node::new("Timestamp", format!("0x{v:016x}"))),
            VendorSpecific {
                vendor_id,
                sub_type,
                data,
            } => {
                n.push(Node::uint(
                    "Vendor Id",
                    vendor_id as u64,
                    "mip6.vsm.vendorId",
                ));
                n.push(Node::uint("Subtype", sub_type as u64, "mip6.vsm.subtype"));
                // Not tied to mip6.vsm.data: tshark 4.0 shows 2 octets too few of it (it takes
                // Length as counting the Type and Length octets), as for mip6.auth.auth_data.
                n.push(Node::bytes("Data", data, ""));
            }
            ServiceSelection(d) => {
                let t = text(d);
                let id = Node::new("Identifier", t.clone());
                n.push(if core::str::from_utf8(d).is_ok() {
                    id.field("mip6.ss.identifier", t)
                } else {
                    id
                });
            }
            HomeNetworkPrefix {
                reserved,
                prefix_len,
                prefix,
            } => {
                n.push(Node::uint("Reserved", reserved as u64, ""));
                n.push(Node::uint(
                    "Prefix length",
                    prefix_len as u64,
                    "mip6.nemo.mnp.pfl",
                ));
                n.push(addr6("Home Network Prefix", &prefix, "mip6.nemo.mnp.mnp"));
            }
            HandoffIndicator {
                reserved,
                indicator,
            } => {
                n.push(Node::uint("Reserved", reserved as u64, "mip6.hi.reserved"));
                n.push(Node::code(
                    "Handoff Indicator",
                    hi_name(indicator),
                    indicator as u64,
                    "mip6.hi",
                ));
            }
            AccessTechnologyType { reserved, att } => {
                n.push(Node::uint("Reserved", reserved as u64, "mip6.att.reserved"));
                n.push(Node::code(
                    "Access Technology Type",
                    att_name(att),
                    att as u64,
                    "mip6.att",
                ));
            }
            MnLinkLayerIdentifier {
                reserved,
                identifier,
            } => {
                n.push(Node::uint(
                    "Reserved",
                    reserved as u64,
                    "mip6.mnlli.reserved",
                ));
                n.push(Node::bytes(
                    "Link-layer Identifier",
                    identifier,
                    "mip6.mnlli.lli",
                ));
            }
            LinkLocalAddress(a) => n.push(addr6("Link-local Address", &a, "mip6.lila_lla")),
            Timestamp(v) => n.push(
                Node::new("Timestamp", timestamp_text(v))
                    .field("mip6.timestamp_tmp", timestamp_text(v)),
            ),
            Ipv4HomeAddress { bits, address } => {
                n.push(Node::uint(
                    "Prefix-len",
                    (bits >> 10) as u64,
                    "mip6.ipv4ha.preflen",
                ));
                n.push(Node::uint(
                    "P flag",
                    ((bits >> 9) & 1) as u64,
                    "mip6.ipv4ha.p_flag",
                ));
                n.push(addr4("IPv4 Home Address", &address, "mip6.ipv4ha.ha"));
            }
            Ipv4AddressAcknowledgement {
                status,
                bits,
                address,
            } => {
                n.push(Node::uint("Status", status as u64, "mip6.ipv4aa.sts"));
                n.push(Node::uint("Prefix-len", (bits >> 2) as u64, ""));
                n.push(addr4("IPv4 Home Address", &address, "mip6.ipv4ha.ha"));
            }
            NatDetection { bits, refresh_time } => {
                n.push(Node::uint(
                    "F flag",
                    (bits >> 15) as u64,
                    "mip6.natd.f_flag",
                ));
                n.push(Node::uint(
                    "Refresh time",
                    refresh_time as u64,
                    "mip6.natd.refresh_t",
                ));
            }
            Ipv4CareOfAddress { reserved, address } => {
                n.push(Node::uint(
                    "Reserved",
                    reserved as u64,
                    "mip6.ipv4coa.reserved",
                ));
                n.push(addr4("IPv4 Care-of address", &address, "mip6.ipv4coa.addr"));
            }
            GreKey { reserved, key } => {
                n.push(Node::uint("Reserved", reserved as u64, ""));
                n.push(Node::uint("GRE Key", key as u64, "mip6.gre_key"));
            }
            Ipv4HomeAddressRequest { bits, address } => {
                n.push(Node::uint(
                    "Prefix-len",
                    (bits >> 10) as u64,
                    "mip6.ipv4ha.preflen",
                ));
                n.push(addr4("IPv4 Home Address", &address, "mip6.ipv4ha.ha"));
            }
            Ipv4HomeAddressReply {
                status,
                bits,
                address,
            } => {
                n.push(Node::uint("Status", status as u64, "mip6.ipv4aa.sts"));
                n.push(Node::uint(
                    "Prefix-len",
                    (bits >> 2) as u64,
                    "mip6.ipv4ha.preflen",
                ));
                n.push(addr4("IPv4 Home Address", &address, "mip6.ipv4ha.ha"));
            }
            Ipv4DefaultRouterAddress { reserved, address } => {
                n.push(Node::uint(
                    "Reserved",
                    reserved as u64,
                    "mip6.ipv4dra.reserved",
                ));
                n.push(addr4(
                    "IPv4 Default-Router Address",
                    &address,
                    "mip6.ipv4dra.dra",
                ));
            }
            Ipv4DhcpSupportMode { bits } => {
                n.push(Node::uint("Reserved", (bits >> 1) as u64, ""));
                n.push(Node::uint(
                    "S flag",
                    (bits & 1) as u64,
                    "mip6.ipv4dsm.s_flag",
                ));
            }
            Unknown { data, .. } => n.push(Node::bytes("Data", data, "")),
        }
        n
    }
}

/// Bytes as `aa:bb:cc`, the way tshark prints byte fields declared with a separator.
fn colon_hex(b: &[u8]) -> String {
    let h = crate::dissect::hex(b);
    let mut s = String::with_capacity(h.len() * 3 / 2);
    for (i, c) in h.as_bytes().chunks(2).enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(core::str::from_utf8(c).unwrap_or(""));
    }
    s
}

fn addr6(label: &str, a: &[u8; 16], field: &str) -> Node {
    let t = ip_text(a);
    Node::new(label, t.clone()).field(field, t)
}

fn addr4(label: &str, a: &[u8; 4], field: &str) -> Node {
    let t = ip_text(a);
    Node::new(label, t.clone()).field(field, t)
}

/// RFC 5213 §8.4 Handoff Indicator values.
pub fn hi_name(v: u8) -> &'static str {
    match v {
        0 => "Reserved",
        1 => "Attachment over a new interface",
        2 => "Handoff between two different interfaces of the mobile node",
        3 => "Handoff between mobile access gateways for the same interface",
        4 => "Handoff state unknown",
        5 => "Handoff state not changed (re-registration)",
        _ => "Unassigned",
    }
}

/// RFC 5213 §8.5 / IANA Access Technology Type values.
pub fn att_name(v: u8) -> &'static str {
    match v {
        0 => "Reserved",
        1 => "Virtual",
        2 => "PPP",
        3 => "IEEE 802.3",
        4 => "IEEE 802.11a/b/g",
        5 => "IEEE 802.16e",
        6 => "3GPP GERAN",
        7 => "3GPP UTRAN",
        8 => "3GPP E-UTRAN",
        9 => "3GPP2 eHRPD",
        10 => "3GPP2 HRPD",
        11 => "3GPP2 1xRTT",
        12 => "3GPP2 UMB",
        _ => "Unassigned",
    }
}

/// The RFC 5213 §8.8 timestamp as text: UTC date and time with the 1/65536 fraction, as tshark
/// prints it.
pub fn timestamp_text(v: u64) -> String {
    let nanos = (((v & 0xffff) * 1_000_000_000) >> 16) as u32;
    utc_text((v >> 16) as i64, nanos)
}

/// `Mon DD, YYYY HH:MM:SS.nnnnnnnnn UTC`, tshark's rendering of absolute times.
pub(crate) fn utc_text(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mon = MON
        .get((m as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("???");
    format!(
        "{mon} {d:2}, {y} {:02}:{:02}:{:02}.{nanos:09} UTC",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Reads one option from `r`.
pub(crate) fn read_one<'a>(r: &mut Reader<'a>) -> Result<MobOption<'a>> {
    let kind = r.u8("option.type")?;
    if kind == 0 {
        return Ok(MobOption::Pad1);
    }
    let len = r.u8("option.length")? as usize;
    let data = r.bytes(len, "option.length")?;
    MobOption::from_type_data(kind, data)
}

/// The mobility options of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Options<'a> {
    /// As received: every option validated once, bytes kept (padding included).
    Wire(&'a [u8]),
    /// To send, in order; [`Options::emit_at`] adds alignment padding and the final padding.
    List(Vec<MobOption<'a>>),
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options::Wire(&[])
    }
}

impl<'a> Options<'a> {
    /// Validates every option in `b` (the rest of the Mobility Header after the fixed part).
    pub fn parse(b: &'a [u8]) -> Result<Self> {
        validate(b)?;
        Ok(Options::Wire(b))
    }

    /// Options in order, padding included for received options.
    pub fn iter(&self) -> OptionsIter<'_, 'a> {
        match self {
            Options::Wire(b) => OptionsIter::Wire(Reader::new(P, b)),
            Options::List(v) => OptionsIter::List(v.iter()),
        }
    }

    /// The first option of type `kind`.
    pub fn find(&self, kind: OptionType) -> Option<MobOption<'a>> {
        match self {
            Options::Wire(b) => {
                // Walk the type/length octets; decode only the match.
                let want = kind.value();
                let mut i = 0;
                while let Some(&t) = b.get(i) {
                    if t == 0 {
                        i += 1;
                        continue;
                    }
                    let len = *b.get(i + 1)? as usize;
                    let data = b.get(i + 2..i + 2 + len)?;
                    if t == want {
                        return MobOption::from_type_data(t, data).ok();
                    }
                    i += 2 + len;
                }
                None
            }
            Options::List(v) => v.iter().find(|o| o.kind() == kind).copied(),
        }
    }

    /// Appends the options. `mh_start` is the position in `out` where the Mobility Header
    /// begins: alignment is relative to it. `Wire` options are written verbatim; `List`
    /// options get Pad1/PadN before each option with an alignment rule, and the header is
    /// padded to a multiple of 8 octets at the end.
    pub fn emit_at(&self, out: &mut Vec<u8>, mh_start: usize) -> Result<()> {
        match self {
            Options::Wire(b) => {
                out.put(b);
                Ok(())
            }
            Options::List(v) => {
                for o in v {
                    if let Some((x, y)) = o.kind().alignment() {
                        // x is a power of two: mask instead of dividing.
                        let off = out.len().saturating_sub(mh_start);
                        put_padding(out, y.wrapping_sub(off) & (x - 1));
                    }
                    o.emit(out)?;
                }
                let off = out.len().saturating_sub(mh_start);
                put_padding(out, off.wrapping_neg() & 7);
                Ok(())
            }
        }
    }

    /// Renders every option (padding included).
    pub fn dissect(&self, parent: &mut Node) {
        for o in self.iter() {
            parent.push(o.dissect());
        }
    }
}

/// Pad1 for one byte, PadN for more (RFC 6275 §6.2.2: zeros).
#[inline]
pub fn put_padding(out: &mut Vec<u8>, n: usize) {
    match n {
        0 => {}
        1 => out.put_u8(0),
        _ => {
            out.put_u8(1);
            out.put_u8((n - 2) as u8);
            out.put_zeros(n - 2);
        }
    }
}

/// Iterator over [`Options`].
#[derive(Debug, Clone)]
pub enum OptionsIter<'s, 'a> {
    Wire(Reader<'a>),
    List(core::slice::Iter<'s, MobOption<'a>>),
}

impl<'a> Iterator for OptionsIter<'_, 'a> {
    type Item = MobOption<'a>;
    fn next(&mut self) -> Option<MobOption<'a>> {
        match self {
            // Validated at parse time; an error here can only come from a hand-made `Wire`.
            OptionsIter::Wire(r) => {
                if r.is_empty() {
                    None
                } else {
                    read_one(r).ok()
                }
            }
            OptionsIter::List(i) => i.next().copied(),
        }
    }
}
