//! Authentication payload (RFC 7296 §3.8).

use crate::codec::Writer;
use crate::{Reader, Result};

use super::P;

enum_with_unknown! {
    /// IKEv2 Authentication Methods (IANA).
    pub enum AuthMethod(u8) {
        RsaSignature = 1 => "RSA Digital Signature",
        SharedKeyMic = 2 => "Shared Key Message Integrity Code",
        DssSignature = 3 => "DSS Digital Signature",
        EcdsaP256 = 9 => "ECDSA with SHA-256 on the P-256 curve",
        EcdsaP384 = 10 => "ECDSA with SHA-384 on the P-384 curve",
        EcdsaP521 = 11 => "ECDSA with SHA-512 on the P-521 curve",
        GenericSecurePassword = 12 => "Generic Secure Password Authentication Method",
        Null = 13 => "NULL Authentication",
        DigitalSignature = 14 => "Digital Signature",
    }
}

/// The body of an AUTH payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Auth<'a> {
    pub method: AuthMethod,
    /// The three reserved bytes, as received.
    pub reserved: [u8; 3],
    pub data: &'a [u8],
}

impl<'a> Auth<'a> {
    pub const fn new(method: AuthMethod, data: &'a [u8]) -> Self {
        Auth {
            method,
            reserved: [0; 3],
            data,
        }
    }

    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let method = AuthMethod::from(r.u8("AUTH.method")?);
        let reserved = r.array::<3>("AUTH.reserved")?;
        Ok(Auth {
            method,
            reserved,
            data: r.rest(),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put_u8(self.method.into());
        out.put(&self.reserved);
        out.put(self.data);
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        4 + self.data.len()
    }
}
