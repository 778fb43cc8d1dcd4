//! Extensions of Mobile IPv4 registration messages (RFC 5944 §1.9–1.11 and §3.5).
//!
//! Most extensions are `Type (1) | Length (1) | data`. A few use 16-bit lengths:
//! the Generalized Authentication extension (36, RFC 3012: `Type | Subtype | Length (2)`), the
//! AAA key generation extensions (40–43, RFC 3957, long format `Type | Subtype | Length (2)`),
//! the Critical Vendor/Organization Specific Extension (38, RFC 3115:
//! `Type | Reserved | Length (2)`) and the PMIPv4 non-skippable extension (47, RFC 5563, long
//! format). Unknown types are read as `Type | Length (1)` and kept raw.

use crate::codec::{Reader, Writer};
use crate::dissect::{text, Node};
use crate::{Error, Result};

use super::P;

enum_with_unknown! {
    /// Extension types of registration messages (IANA "Extensions to Mobile IP Registration Messages").
    pub enum ExtType(u8) {
        MnHaAuth = 32 => "Mobile-Home Authentication",
        MnFaAuth = 33 => "Mobile-Foreign Authentication",
        FaHaAuth = 34 => "Foreign-Home Authentication",
        GeneralizedAuth = 36 => "Generalized Mobile IP Authentication",
        Cvse = 38 => "Critical Vendor/Organization Specific",
        MnFaKeyGenRequest = 40 => "Generalized MN-FA Key Generation Nonce Request",
        MnFaKeyGenReply = 41 => "Generalized MN-FA Key Generation Nonce Reply",
        MnHaKeyGenRequest = 42 => "Generalized MN-HA Key Generation Nonce Request",
        MnHaKeyGenReply = 43 => "Generalized MN-HA Key Generation Nonce Reply",
        PmipNonSkippable = 47 => "PMIPv4 Non-skippable",
        MnNai = 131 => "Mobile Node NAI",
        MnFaChallenge = 132 => "MN-FA Challenge",
        Nvse = 134 => "Normal Vendor/Organization Specific",
    }
}

/// Generalized Authentication subtype of the MN-AAA Authentication extension (RFC 3012 §5).
pub const GEN_AUTH_MN_AAA: u8 = 1;
/// Key generation subtype "AAA" (RFC 3957 §9).
pub const KEYGEN_SUBTYPE_AAA: u8 = 1;

/// Whether an extension type uses a 16-bit length (see the module comment).
pub fn is_long_form(kind: u8) -> bool {
    matches!(kind, 36 | 38 | 40..=43 | 47)
}

/// One registration extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension<'a> {
    /// MN-HA (32), MN-FA (33) or FA-HA (34) authentication: SPI and authenticator.
    Auth {
        kind: u8,
        spi: u32,
        authenticator: &'a [u8],
    },
    /// Generalized authentication (36); subtype 1 is MN-AAA.
    GeneralizedAuth {
        subtype: u8,
        spi: u32,
        authenticator: &'a [u8],
    },
    /// CVSE (38, RFC 3115 §3.1).
    Cvse {
        reserved: u8,
        vendor_id: u32,
        vendor_type: u16,
        value: &'a [u8],
    },
    /// Long-format extension with a subtype: the AAA key generation extensions (40–43, RFC 3957)
    /// and PMIPv4 non-skippable (47). `data` is everything after the length, kept raw.
    LongForm {
        kind: u8,
        subtype: u8,
        data: &'a [u8],
    },
    /// Mobile Node NAI (131, RFC 2794).
    Nai(&'a [u8]),
    /// MN-FA Challenge (132, RFC 3012).
    Challenge(&'a [u8]),
    /// NVSE (134, RFC 3115 §3.2).
    Nvse {
        reserved: u16,
        vendor_id: u32,
        vendor_type: u16,
        value: &'a [u8],
    },
    /// Any other type, as `Type | Length (1) | data`.
    Unknown { kind: u8, data: &'a [u8] },
}

impl<'a> Extension<'a> {
    pub fn kind(&self) -> u8 {
        match self {
            Extension::Auth { kind, .. }
            | Extension::LongForm { kind, .. }
            | Extension::Unknown { kind, .. } => *kind,
            Extension::GeneralizedAuth { .. } => 36,
            Extension::Cvse { .. } => 38,
            Extension::Nai(_) => 131,
            Extension::Challenge(_) => 132,
            Extension::Nvse { .. } => 134,
        }
    }

    /// Reads one extension.
    pub fn read(r: &mut Reader<'a>) -> Result<Self> {
        let kind = r.u8("extension.type")?;
        Ok(match kind {
            36 => {
                let subtype = r.u8("extension.generalized_auth.subtype")?;
                let len = r.u16("extension.generalized_auth.length")? as usize;
                let mut d = r.sub(len, "extension.generalized_auth.length")?;
                let spi = d.u32("extension.generalized_auth.spi")?;
                Extension::GeneralizedAuth {
                    subtype,
                    spi,
                    authenticator: d.rest(),
                }
            }
            38 => {
                let reserved = r.u8("extension.cvse.reserved")?;
                let len = r.u16("extension.cvse.length")? as usize;
                let mut d = r.sub(len, "extension.cvse.length")?;
                let vendor_id = d.u32("extension.cvse.vendor_id")?;
                let vendor_type = d.u16("extension.cvse.vendor_type")?;
                Extension::Cvse {
                    reserved,
                    vendor_id,
                    vendor_type,
                    value: d.rest(),
                }
            }
            40..=43 | 47 => {
                let subtype = r.u8("extension.long.subtype")?;
                let len = r.u16("extension.long.length")? as usize;
                let data = r.bytes(len, "extension.long.length")?;
                Extension::LongForm {
                    kind,
                    subtype,
                    data,
                }
            }
            _ => {
                let len = r.u8("extension.length")? as usize;
                let data = r.bytes(len, "extension.length")?;
                match kind {
                    32..=34 => {
                        let mut d = Reader::new(P, data);
                        let spi = d.u32("extension.auth.spi")?;
                        Extension::Auth {
                            kind,
                            spi,
                            authenticator: d.rest(),
                        }
                    }
                    131 => Extension::Nai(data),
                    132 => Extension::Challenge(data),
                    134 => {
                        let mut d = Reader::new(P, data);
                        Extension::Nvse {
                            reserved: d.u16("extension.nvse.reserved")?,
                            vendor_id: d.u32("extension.nvse.vendor_id")?,
                            vendor_type: d.u16("extension.nvse.vendor_type")?,
                            value: d.rest(),
                        }
                    }
                    _ => Extension::Unknown { kind, data },
                }
            }
        })
    }

    /// Parses exactly one extension occupying all of `b`.
    pub fn parse(b: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, b);
        let e = Self::read(&mut r)?;
        r.finish("extension.length")?;
        Ok(e)
    }

    /// Octets on the wire.
    pub fn buffer_len(&self) -> usize {
        match self {
            Extension::Auth { authenticator, .. } => 6 + authenticator.len(),
            Extension::GeneralizedAuth { authenticator, .. } => 8 + authenticator.len(),
            Extension::Cvse { value, .. } => 10 + value.len(),
            Extension::LongForm { data, .. } => 4 + data.len(),
            Extension::Nai(d) | Extension::Challenge(d) => 2 + d.len(),
            Extension::Nvse { value, .. } => 10 + value.len(),
            Extension::Unknown { data, .. } => 2 + data.len(),
        }
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let short = |out: &mut Vec<u8>, kind: u8, len: usize, field: &'static str| -> Result<()> {
            if len > 255 {
                return Err(Error::too_long(P, field));
            }
            out.put_u8(kind);
            out.put_u8(len as u8);
            Ok(())
        };
        let long_len = |len: usize, field: &'static str| -> Result<u16> {
            u16::try_from(len).map_err(|_| Error::too_long(P, field))
        };
        match *self {
            Extension::Auth {
                kind,
                spi,
                authenticator,
            } => {
                if !(32..=34).contains(&kind) {
                    return Err(Error::bad_value(P, "extension.type"));
                }
                short(out, kind, 4 + authenticator.len(), "extension.length")?;
                out.put_u32(spi);
                out.put(authenticator);
            }
            Extension::GeneralizedAuth {
                subtype,
                spi,
                authenticator,
            } => {
                let l = long_len(4 + authenticator.len(), "extension.generalized_auth.length")?;
                out.put_u8(36);
                out.put_u8(subtype);
                out.put_u16(l);
                out.put_u32(spi);
                out.put(authenticator);
            }
            Extension::Cvse {
                reserved,
                vendor_id,
                vendor_type,
                value,
            } => {
                let l = long_len(6 + value.len(), "extension.cvse.length")?;
                out.put_u8(38);
                out.put_u8(reserved);
                out.put_u16(l);
                out.put_u32(vendor_id);
                out.put_u16(vendor_type);
                out.put(value);
            }
            Extension::LongForm {
                kind,
                subtype,
                data,
            } => {
                if !is_long_form(kind) || matches!(kind, 36 | 38) {
                    return Err(Error::bad_value(P, "extension.type"));
                }
                let l = long_len(data.len(), "extension.long.length")?;
                out.put_u8(kind);
                out.put_u8(subtype);
                out.put_u16(l);
                out.put(data);
            }
            Extension::Nai(d) => {
                short(out, 131, d.len(), "extension.length")?;
                out.put(d);
            }
            Extension::Challenge(d) => {
                short(out, 132, d.len(), "extension.length")?;
                out.put(d);
            }
            Extension::Nvse {
                reserved,
                vendor_id,
                vendor_type,
                value,
            } => {
                short(out, 134, 8 + value.len(), "extension.length")?;
                out.put_u16(reserved);
                out.put_u32(vendor_id);
                out.put_u16(vendor_type);
                out.put(value);
            }
            Extension::Unknown { kind, data } => {
                if is_long_form(kind) || matches!(kind, 32..=34 | 131 | 132 | 134) {
                    return Err(Error::bad_value(P, "extension.type"));
                }
                short(out, kind, data.len(), "extension.length")?;
                out.put(data);
            }
        }
        Ok(())
    }

    /// Renders the extension, tied to Wireshark's `mip.*` fields.
    pub fn dissect(&self) -> Node {
        let t = ExtType::from(self.kind());
        let mut n = Node::new("Extension", format!("{t} ({})", t.value()));
        n.push(Node::uint("Type", t.value() as u64, "mip.ext.type"));
        let len = self
            .buffer_len()
            .saturating_sub(if is_long_form(self.kind()) { 4 } else { 2 }) as u64;
        match *self {
            Extension::Auth {
                spi, authenticator, ..
            } => {
                n.push(Node::uint("Length", len, "mip.ext.len"));
                n.push(Node::uint("SPI", spi as u64, "mip.auth.spi"));
                n.push(Node::bytes("Authenticator", authenticator, "mip.auth.auth"));
            }
            Extension::GeneralizedAuth {
                subtype,
                spi,
                authenticator,
            } => {
                let st = if subtype == GEN_AUTH_MN_AAA {
                    "MN-AAA Authentication"
                } else {
                    "Unknown"
                };
                n.push(Node::code(
                    "Subtype",
                    st,
                    subtype as u64,
                    "mip.ext.auth.subtype",
                ));
                n.push(Node::uint("Length", len, "mip.ext.len"));
                n.push(Node::uint("SPI", spi as u64, "mip.auth.spi"));
                n.push(Node::bytes("Authenticator", authenticator, "mip.auth.auth"));
            }
            Extension::Cvse {
                reserved,
                vendor_id,
                vendor_type,
                value,
            } => {
                n.push(Node::uint(
                    "Reserved",
                    reserved as u64,
                    "mip.ext.cvse.reserved",
                ));
                n.push(Node::uint("Length", len, "mip.ext.len"));
                n.push(Node::uint(
                    "Vendor/Org ID",
                    vendor_id as u64,
                    "mip.ext.cvse.vendor_id",
                ));
                n.push(Node::uint(
                    "Vendor CVSE Type",
                    vendor_type as u64,
                    "mip.ext.cvse.vendor_type",
                ));
                n.push(Node::bytes(
                    "Vendor CVSE Value",
                    value,
                    "mip.ext.cvse.vendor_value",
                ));
                if let Some(d) =
                    super::dualstack::DualStack::from_vendor(vendor_id, vendor_type, value)
                {
                    n.push(d.dissect());
                }
            }
            Extension::LongForm { subtype, data, .. } => {
                n.push(Node::uint("Subtype", subtype as u64, ""));
                n.push(Node::uint("Length", len, ""));
                n.push(Node::bytes("Data", data, ""));
            }
            Extension::Nai(d) => {
                n.push(Node::uint("Length", len, "mip.ext.len"));
                let t = text(d);
                let node = Node::new("NAI", t.clone());
                n.push(if core::str::from_utf8(d).is_ok() {
                    node.field("mip.nai", t)
                } else {
                    node
                });
            }
            Extension::Challenge(d) => {
                n.push(Node::uint("Length", len, "mip.ext.len"));
                n.push(Node::bytes("Challenge", d, ""));
            }
            Extension::Nvse {
                reserved,
                vendor_id,
                vendor_type,
                value,
            } => {
                n.push(Node::uint("Length", len, "mip.ext.len"));
                n.push(Node::uint(
                    "Reserved",
                    reserved as u64,
                    "mip.ext.nvse.reserved",
                ));
                n.push(Node::uint(
                    "Vendor ID",
                    vendor_id as u64,
                    "mip.ext.nvse.vendor_id",
                ));
                n.push(Node::uint(
                    "Vendor Type",
                    vendor_type as u64,
                    "mip.ext.nvse.vendor_type",
                ));
                n.push(Node::bytes(
                    "Vendor Value",
                    value,
                    "mip.ext.nvse.vendor_value",
                ));
                if let Some(d) =
                    super::dualstack::DualStack::from_vendor(vendor_id, vendor_type, value)
                {
                    n.push(d.dissect());
                }
            }
            Extension::Unknown { data, .. } => {
                n.push(Node::uint("Length", len, "mip.ext.len"));
                n.push(Node::bytes("Data", data, ""));
            }
        }
        n
    }
}

/// The extensions of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extensions<'a> {
    /// As received: validated once, bytes kept.
    Wire(&'a [u8]),
    /// To send, in order.
    List(Vec<Extension<'a>>),
}

impl Default for Extensions<'_> {
    fn default() -> Self {
        Extensions::Wire(&[])
    }
}

impl<'a> Extensions<'a> {
    pub fn parse(b: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, b);
        while !r.is_empty() {
            Extension::read(&mut r)?;
        }
        Ok(Extensions::Wire(b))
    }

    pub fn iter(&self) -> ExtIter<'_, 'a> {
        match self {
            Extensions::Wire(b) => ExtIter::Wire(Reader::new(P, b)),
            Extensions::List(v) => ExtIter::List(v.iter()),
        }
    }

    pub fn buffer_len(&self) -> usize {
        match self {
            Extensions::Wire(b) => b.len(),
            Extensions::List(v) => v.iter().map(|e| e.buffer_len()).sum(),
        }
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        match self {
            Extensions::Wire(b) => {
                out.put(b);
                Ok(())
            }
            Extensions::List(v) => v.iter().try_for_each(|e| e.emit(out)),
        }
    }
}

/// Iterator over [`Extensions`].
#[derive(Debug, Clone)]
pub enum ExtIter<'s, 'a> {
    Wire(Reader<'a>),
    List(core::slice::Iter<'s, Extension<'a>>),
}

impl<'a> Iterator for ExtIter<'_, 'a> {
    type Item = Extension<'a>;
    fn next(&mut self) -> Option<Extension<'a>> {
        match self {
            ExtIter::Wire(r) => {
                if r.is_empty() {
                    None
                } else {
                    Extension::read(r).ok()
                }
            }
            ExtIter::List(i) => i.next().copied(),
        }
    }
}
