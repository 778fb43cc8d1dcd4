//! Key Exchange payload (RFC 7296 §3.4).

use crate::codec::Writer;
use crate::{Reader, Result};

use super::P;

/// The body of a KE payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ke<'a> {
    /// Diffie-Hellman Group Num (a Transform Type 4 ID, see [`super::DhGroup`]).
    pub dh_group: u16,
    /// The two reserved bytes, as received.
    pub reserved: u16,
    /// Key Exchange Data (the public value).
    pub data: &'a [u8],
}

impl<'a> Ke<'a> {
    pub const fn new(dh_group: u16, data: &'a [u8]) -> Self {
        Ke {
            dh_group,
            reserved: 0,
            data,
        }
    }

    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let dh_group = r.u16("KE.dh_group")?;
        let reserved = r.u16("KE.reserved")?;
        Ok(Ke {
            dh_group,
            reserved,
            data: r.rest(),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put_u16(self.dh_group);
        out.put_u16(self.reserved);
        out.put(self.data);
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        4 + self.data.len()
    }
}
