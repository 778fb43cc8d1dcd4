//! Certificate (CERT, RFC 7296 §3.6) and Certificate Request (CERTREQ, §3.7) payloads.

use crate::codec::Writer;
use crate::{Reader, Result};

use super::P;

enum_with_unknown! {
    /// Certificate Encodings (IANA "IKEv2 Certificate Encodings").
    pub enum CertEncoding(u8) {
        Pkcs7 = 1 => "PKCS #7 wrapped X.509 certificate",
        Pgp = 2 => "PGP Certificate",
        DnsSignedKey = 3 => "DNS Signed Key",
        X509Signature = 4 => "X.509 Certificate - Signature",
        Kerberos = 6 => "Kerberos Token",
        Crl = 7 => "Certificate Revocation List (CRL)",
        Arl = 8 => "Authority Revocation List (ARL)",
        Spki = 9 => "SPKI Certificate",
        X509Attribute = 10 => "X.509 Certificate - Attribute",
        RawRsaKey = 11 => "Raw RSA Key",
        HashUrlX509Cert = 12 => "Hash and URL of X.509 certificate",
        HashUrlX509Bundle = 13 => "Hash and URL of X.509 bundle",
        OcspContent = 14 => "OCSP Content",
        RawPublicKey = 15 => "Raw Public Key",
    }
}

/// The body of a CERT payload (encoding and opaque certificate data), or of a CERTREQ
/// payload (encoding and Certification Authority data: for X.509, a concatenation of
/// 20-byte SHA-1 hashes of trusted CAs' public keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cert<'a> {
    pub encoding: CertEncoding,
    pub data: &'a [u8],
}

/// CERTREQ has the same layout as CERT.
pub type CertReq<'a> = Cert<'a>;

impl<'a> Cert<'a> {
    pub const fn new(encoding: CertEncoding, data: &'a [u8]) -> Self {
        Cert { encoding, data }
    }

    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let encoding = CertEncoding::from(r.u8("CERT.encoding")?);
        Ok(Cert {
            encoding,
            data: r.rest(),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put_u8(self.encoding.into());
        out.put(self.data);
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        1 + self.data.len()
    }

    /// For a CERTREQ with X.509 encoding: the 20-byte CA key hashes (a trailing partial
    /// hash is not returned).
    pub fn ca_hashes(&self) -> impl Iterator<Item = &'a [u8]> {
        self.data.chunks_exact(20)
    }
}
