//! Delete payload (RFC 7296 §3.11).

use crate::codec::Writer;
use crate::{Error, ErrorKind, Reader, Result};

use super::{ProtocolId, P};

/// The body of a Delete payload: the SPIs of one protocol.
///
/// For the IKE SA (Protocol ID 1) the SPI Size and Number of SPIs are 0. The Number of SPIs
/// is kept as received, since with an SPI Size of 0 it cannot be derived from the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delete<'a> {
    pub protocol_id: ProtocolId,
    pub spi_size: u8,
    pub num_spis: u16,
    /// The SPIs, concatenated (`num_spis * spi_size` bytes).
    pub spis: &'a [u8],
}

impl<'a> Delete<'a> {
    /// Deleting the IKE SA the message is protected by.
    pub const fn ike() -> Self {
        Delete {
            protocol_id: ProtocolId::Ike,
            spi_size: 0,
            num_spis: 0,
            spis: &[],
        }
    }

    /// Deleting ESP/AH SAs: `spis` is a concatenation of 4-byte SPIs.
    pub fn child(protocol_id: ProtocolId, spis: &'a [u8]) -> Result<Self> {
        if spis.len() & 3 != 0 {
            return Err(Error::bad_length(P, "D.spi"));
        }
        let num_spis =
            u16::try_from(spis.len() / 4).map_err(|_| Error::too_long(P, "D.num_spis"))?;
        Ok(Delete {
            protocol_id,
            spi_size: 4,
            num_spis,
            spis,
        })
    }

    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let protocol_id = ProtocolId::from(r.u8("D.protocol_id")?);
        let spi_size = r.u8("D.spi_size")?;
        let num_spis = r.u16("D.num_spis")?;
        let spis = r.rest();
        if spis.len() != spi_size as usize * num_spis as usize {
            return Err(Error::new(P, "D.num_spis", ErrorKind::BadLength));
        }
        Ok(Delete {
            protocol_id,
            spi_size,
            num_spis,
            spis,
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        if self.spis.len() != self.spi_size as usize * self.num_spis as usize {
            return Err(Error::bad_length(P, "D.num_spis"));
        }
        out.put_u8(self.protocol_id.into());
        out.put_u8(self.spi_size);
        out.put_u16(self.num_spis);
        out.put(self.spis);
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        4 + self.spis.len()
    }

    /// Each SPI (empty when the SPI size is 0).
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> {
        let n = if self.spi_size == 0 {
            0
        } else {
            self.spi_size as usize
        };
        let spis: &'a [u8] = if n == 0 { &[] } else { self.spis };
        spis.chunks_exact(n.max(1))
    }
}
