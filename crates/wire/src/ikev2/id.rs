//! Identification payloads IDi and IDr (RFC 7296 §3.5).

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::codec::Writer;
use crate::{Reader, Result};

use super::P;

enum_with_unknown! {
    /// ID Types (IANA "IKEv2 Identification Payload ID Types").
    pub enum IdType(u8) {
        Ipv4Addr = 1 => "ID_IPV4_ADDR",
        Fqdn = 2 => "ID_FQDN",
        Rfc822Addr = 3 => "ID_RFC822_ADDR",
        Ipv6Addr = 5 => "ID_IPV6_ADDR",
        DerAsn1Dn = 9 => "ID_DER_ASN1_DN",
        DerAsn1Gn = 10 => "ID_DER_ASN1_GN",
        KeyId = 11 => "ID_KEY_ID",
        FcName = 12 => "ID_FC_NAME",
        Null = 13 => "ID_NULL",
    }
}

/// The body of an IDi or IDr payload. The identification data is kept as bytes whatever
/// the type; [`Id::ipv4`]/[`Id::ipv6`] read address types when the length fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Id<'a> {
    pub id_type: IdType,
    /// The three reserved bytes, as received.
    pub reserved: [u8; 3],
    pub data: &'a [u8],
}

impl<'a> Id<'a> {
    pub const fn new(id_type: IdType, data: &'a [u8]) -> Self {
        Id {
            id_type,
            reserved: [0; 3],
            data,
        }
    }

    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let id_type = IdType::from(r.u8("ID.id_type")?);
        let reserved = r.array::<3>("ID.reserved")?;
        Ok(Id {
            id_type,
            reserved,
            data: r.rest(),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put_u8(self.id_type.into());
        out.put(&self.reserved);
        out.put(self.data);
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        4 + self.data.len()
    }

    /// The address of an ID_IPV4_ADDR of the right length.
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        match (self.id_type, <[u8; 4]>::try_from(self.data)) {
            (IdType::Ipv4Addr, Ok(a)) => Some(Ipv4Addr::from(a)),
            _ => None,
        }
    }

    /// The address of an ID_IPV6_ADDR of the right length.
    pub fn ipv6(&self) -> Option<Ipv6Addr> {
        match (self.id_type, <[u8; 16]>::try_from(self.data)) {
            (IdType::Ipv6Addr, Ok(a)) => Some(Ipv6Addr::from(a)),
            _ => None,
        }
    }
}
