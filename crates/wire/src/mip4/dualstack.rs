//! Seed 004 dual-stack bootstrapping fields, carried in RFC 3115 Normal Vendor/Organization
//! Specific Extensions (NVSE, type 134) with mobstrap's vendor id.
//!
//! The seed (draft-qin-mip6-dsbootstrapping-00) has the FHA return the IPv6 home address, the
//! IPv6 home agent address, a temporary IPv4 home address and an IPv6 care-of address in the
//! Registration Reply, and names a Foreign Home Agent; no standard numbers them. They ride in
//! an NVSE rather than a CVSE: an agent that does not know them must still process the
//! registration (the mobile node then falls back to other bootstrapping), which is exactly the
//! skippable semantics of NVSE (RFC 3115 §3.2); a CVSE would make such an agent reject it.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Type = 134   |    Length     |          Reserved = 0         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Vendor/Org-ID = 32473 (0x00007ed9)            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      Vendor-NVSE-Type         |  Address (4 or 16 octets) ...
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Length is 12 for an IPv4 address and 24 for an IPv6 address. In a Registration Request an
//! all-zero address asks the agent to assign one; the Reply carries the assignment.

use crate::dissect::{ip_text, Node};
use crate::{Error, Result};

use super::ext::Extension;
use super::P;

/// IANA Private Enterprise Number 32473, reserved for documentation (RFC 5612).
pub const VENDOR_MOBSTRAP: u32 = 32473;

/// Vendor-NVSE-Type values defined by mobstrap.
pub mod nvse_type {
    pub const IPV6_HOME_ADDRESS: u16 = 1;
    pub const IPV6_HOME_AGENT_ADDRESS: u16 = 2;
    pub const TEMPORARY_IPV4_HOME_ADDRESS: u16 = 3;
    pub const IPV6_CARE_OF_ADDRESS: u16 = 4;
    pub const FOREIGN_HOME_AGENT_ADDRESS: u16 = 5;
}

/// One seed-004 field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DualStack {
    Ipv6HomeAddress([u8; 16]),
    Ipv6HomeAgentAddress([u8; 16]),
    /// THoAv4.
    TemporaryIpv4HomeAddress([u8; 4]),
    Ipv6CareOfAddress([u8; 16]),
    /// IPv4 address of the Foreign Home Agent.
    ForeignHomeAgentAddress([u8; 4]),
}

impl DualStack {
    pub fn vendor_type(&self) -> u16 {
        use nvse_type::*;
        match self {
            DualStack::Ipv6HomeAddress(_) => IPV6_HOME_ADDRESS,
            DualStack::Ipv6HomeAgentAddress(_) => IPV6_HOME_AGENT_ADDRESS,
            DualStack::TemporaryIpv4HomeAddress(_) => TEMPORARY_IPV4_HOME_ADDRESS,
            DualStack::Ipv6CareOfAddress(_) => IPV6_CARE_OF_ADDRESS,
            DualStack::ForeignHomeAgentAddress(_) => FOREIGN_HOME_AGENT_ADDRESS,
        }
    }

    /// The address octets.
    pub fn value(&self) -> &[u8] {
        match self {
            DualStack::Ipv6HomeAddress(a)
            | DualStack::Ipv6HomeAgentAddress(a)
            | DualStack::Ipv6CareOfAddress(a) => a,
            DualStack::TemporaryIpv4HomeAddress(a) | DualStack::ForeignHomeAgentAddress(a) => a,
        }
    }

    /// The NVSE that carries this field (borrowing the address from `self`).
    pub fn to_extension(&self) -> Extension<'_> {
        Extension::Nvse {
            reserved: 0,
            vendor_id: VENDOR_MOBSTRAP,
            vendor_type: self.vendor_type(),
            value: self.value(),
        }
    }

    /// Decodes a mobstrap vendor extension value; `None` when the vendor or type is not ours.
    pub fn from_vendor(vendor_id: u32, vendor_type: u16, value: &[u8]) -> Option<DualStack> {
        Self::decode(vendor_id, vendor_type, value).ok().flatten()
    }

    /// As [`DualStack::from_vendor`], with an error naming the field when the vendor and type
    /// are ours but the value has the wrong length.
    pub fn decode(vendor_id: u32, vendor_type: u16, value: &[u8]) -> Result<Option<DualStack>> {
        use nvse_type::*;
        if vendor_id != VENDOR_MOBSTRAP {
            return Ok(None);
        }
        let v6 = || -> Result<[u8; 16]> {
            value
                .try_into()
                .map_err(|_| Error::bad_length(P, "nvse.mobstrap.ipv6_address"))
        };
        let v4 = || -> Result<[u8; 4]> {
            value
                .try_into()
                .map_err(|_| Error::bad_length(P, "nvse.mobstrap.ipv4_address"))
        };
        Ok(Some(match vendor_type {
            IPV6_HOME_ADDRESS => DualStack::Ipv6HomeAddress(v6()?),
            IPV6_HOME_AGENT_ADDRESS => DualStack::Ipv6HomeAgentAddress(v6()?),
            TEMPORARY_IPV4_HOME_ADDRESS => DualStack::TemporaryIpv4HomeAddress(v4()?),
            IPV6_CARE_OF_ADDRESS => DualStack::Ipv6CareOfAddress(v6()?),
            FOREIGN_HOME_AGENT_ADDRESS => DualStack::ForeignHomeAgentAddress(v4()?),
            _ => return Ok(None),
        }))
    }

    /// Decodes an extension; `None` when it is not a mobstrap NVSE/CVSE.
    pub fn from_extension(e: &Extension<'_>) -> Option<DualStack> {
        match *e {
            Extension::Nvse {
                vendor_id,
                vendor_type,
                value,
                ..
            }
            | Extension::Cvse {
                vendor_id,
                vendor_type,
                value,
                ..
            } => Self::from_vendor(vendor_id, vendor_type, value),
            _ => None,
        }
    }

    pub fn dissect(&self) -> Node {
        let label = match self {
            DualStack::Ipv6HomeAddress(_) => "IPv6 Home Address (seed 004)",
            DualStack::Ipv6HomeAgentAddress(_) => "IPv6 Home Agent Address (seed 004)",
            DualStack::TemporaryIpv4HomeAddress(_) => "Temporary IPv4 Home Address (seed 004)",
            DualStack::Ipv6CareOfAddress(_) => "IPv6 Care-of Address (seed 004)",
            DualStack::ForeignHomeAgentAddress(_) => "Foreign Home Agent Address (seed 004)",
        };
        Node::new(label, ip_text(self.value()))
    }
}
