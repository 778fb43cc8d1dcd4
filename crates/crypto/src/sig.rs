//! Public-key signatures for IKEv2 AUTH payloads (RFC 7296 §3.8, RFC 4754, RFC 7427), on
//! aws-lc-rs.
//!
//! * [`Scheme`]: the signature algorithms an AUTH payload can carry, with the fixed-width
//!   `r | s` ECDSA encoding of RFC 4754 (AUTH methods 9, 10, 11) and the DER encoding of
//!   RFC 7427 (AUTH method 14), plus RSASSA-PKCS1-v1_5 with SHA-1 (AUTH method 1, verify
//!   only: aws-lc-rs does not sign with SHA-1) and SHA-2.
//! * [`SigningKey`]: an RSA or ECDSA private key from PKCS#8 DER.
//! * [`verify`]: checks a signature against a SubjectPublicKeyInfo (DER, as found in a
//!   certificate).
//! * [`algorithm_identifier`]: the DER AlgorithmIdentifier RFC 7427 puts in front of the
//!   signature, and [`Scheme::from_algorithm_identifier`] for the other direction.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use core::fmt;

use crate::{Error, Result};

/// A signature algorithm as IKEv2 uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// RSASSA-PKCS1-v1_5 with SHA-1: AUTH method 1 (RFC 7296). Verification only.
    RsaPkcs1Sha1,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (sha256WithRSAEncryption).
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// ECDSA P-256 with SHA-256, `r | s` (AUTH method 9, RFC 4754).
    EcdsaP256Sha256Fixed,
    /// ECDSA P-384 with SHA-384, `r | s` (AUTH method 10).
    EcdsaP384Sha384Fixed,
    /// ECDSA P-521 with SHA-512, `r | s` (AUTH method 11).
    EcdsaP521Sha512Fixed,
    /// ECDSA P-256 with SHA-256, DER (RFC 7427 ecdsa-with-SHA256).
    EcdsaP256Sha256Der,
    /// ECDSA P-384 with SHA-384, DER (ecdsa-with-SHA384).
    EcdsaP384Sha384Der,
    /// ECDSA P-521 with SHA-512, DER (ecdsa-with-SHA512).
    EcdsaP521Sha512Der,
}

// RFC 7427 Appendix A: the AlgorithmIdentifier encodings, parameters as listed there
// (NULL for the RSA ones, absent for ECDSA).
const SHA256_RSA: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
];
const SHA384_RSA: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00,
];
const SHA512_RSA: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00,
];
const SHA1_RSA: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
];
const ECDSA_SHA256: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];
const ECDSA_SHA384: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
];
const ECDSA_SHA512: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04,
];

/// The DER AlgorithmIdentifier of a scheme as RFC 7427 §3 carries it (the fixed-width ECDSA
/// schemes have none: they belong to AUTH methods 9–11).
pub fn algorithm_identifier(scheme: Scheme) -> Option<&'static [u8]> {
    Some(match scheme {
        Scheme::RsaPkcs1Sha1 => SHA1_RSA,
        Scheme::RsaPkcs1Sha256 => SHA256_RSA,
        Scheme::RsaPkcs1Sha384 => SHA384_RSA,
        Scheme::RsaPkcs1Sha512 => SHA512_RSA,
        Scheme::EcdsaP256Sha256Der => ECDSA_SHA256,
        Scheme::EcdsaP384Sha384Der => ECDSA_SHA384,
        Scheme::EcdsaP521Sha512Der => ECDSA_SHA512,
        _ => return None,
    })
}

impl Scheme {
    /// The scheme named by an RFC 7427 AlgorithmIdentifier (exact DER match). ECDSA
    /// identifiers do not name the curve; `key` (the signer's key kind) picks it.
    pub fn from_algorithm_identifier(der: &[u8], key: KeyKind) -> Option<Self> {
        let ecdsa = |k: KeyKind| match k {
            KeyKind::EcP256 => Some(Scheme::EcdsaP256Sha256Der),
            KeyKind::EcP384 => Some(Scheme::EcdsaP384Sha384Der),
            KeyKind::EcP521 => Some(Scheme::EcdsaP521Sha512Der),
            KeyKind::Rsa => None,
        };
        let s = match der {
            d if d == SHA1_RSA => Scheme::RsaPkcs1Sha1,
            d if d == SHA256_RSA => Scheme::RsaPkcs1Sha256,
            d if d == SHA384_RSA => Scheme::RsaPkcs1Sha384,
            d if d == SHA512_RSA => Scheme::RsaPkcs1Sha512,
            // The hash in the identifier must be the one RFC 5480 pairs with the curve:
            // aws-lc-rs has no P-256/SHA-512 combinations for signing.
            d if d == ECDSA_SHA256 && key == KeyKind::EcP256 => return ecdsa(key),
            d if d == ECDSA_SHA384 && key == KeyKind::EcP384 => return ecdsa(key),
            d if d == ECDSA_SHA512 && key == KeyKind::EcP521 => return ecdsa(key),
            _ => return None,
        };
        (key == KeyKind::Rsa).then_some(s)
    }

    /// The key kind this scheme needs.
    pub fn key_kind(self) -> KeyKind {
        match self {
            Scheme::RsaPkcs1Sha1
            | Scheme::RsaPkcs1Sha256
            | Scheme::RsaPkcs1Sha384
            | Scheme::RsaPkcs1Sha512 => KeyKind::Rsa,
            Scheme::EcdsaP256Sha256Fixed | Scheme::EcdsaP256Sha256Der => KeyKind::EcP256,
            Scheme::EcdsaP384Sha384Fixed | Scheme::EcdsaP384Sha384Der => KeyKind::EcP384,
            Scheme::EcdsaP521Sha512Fixed | Scheme::EcdsaP521Sha512Der => KeyKind::EcP521,
        }
    }

    /// The RFC 7427 hash algorithm number (SIGNATURE_HASH_ALGORITHMS): 1 SHA-1, 2 SHA2-256,
    /// 3 SHA2-384, 4 SHA2-512.
    pub fn hash_id(self) -> u16 {
        match self {
            Scheme::RsaPkcs1Sha1 => 1,
            Scheme::RsaPkcs1Sha256 | Scheme::EcdsaP256Sha256Fixed | Scheme::EcdsaP256Sha256Der => 2,
            Scheme::RsaPkcs1Sha384 | Scheme::EcdsaP384Sha384Fixed | Scheme::EcdsaP384Sha384Der => 3,
            Scheme::RsaPkcs1Sha512 | Scheme::EcdsaP521Sha512Fixed | Scheme::EcdsaP521Sha512Der => 4,
        }
    }
}

/// The kind of a key pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// RSA (any modulus aws-lc accepts, 2048 bits and more for verification).
    Rsa,
    /// ECDSA on P-256.
    EcP256,
    /// ECDSA on P-384.
    EcP384,
    /// ECDSA on P-521.
    EcP521,
}

enum Inner {
    Rsa(RsaKeyPair),
    // One key pair per output encoding: aws-lc binds the encoding to the key object.
    Ec {
        fixed: EcdsaKeyPair,
        der: EcdsaKeyPair,
    },
}

/// A private key for signing AUTH payloads. aws-lc frees (and cleanses) it on drop.
pub struct SigningKey {
    kind: KeyKind,
    inner: Inner,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({:?}, redacted)", self.kind)
    }
}

impl SigningKey {
    /// From a PKCS#8 DER private key (RSA, or ECDSA on P-256, P-384 or P-521).
    pub fn from_pkcs8(der: &[u8]) -> Result<Self> {
        if let Ok(k) = RsaKeyPair::from_pkcs8(der) {
            return Ok(SigningKey {
                kind: KeyKind::Rsa,
                inner: Inner::Rsa(k),
            });
        }
        let curves = [
            (
                KeyKind::EcP256,
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            ),
            (
                KeyKind::EcP384,
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            ),
            (
                KeyKind::EcP521,
                &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
                &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
            ),
        ];
        for (kind, fixed, der_alg) in curves {
            if let (Ok(f), Ok(d)) = (
                EcdsaKeyPair::from_pkcs8(fixed, der),
                EcdsaKeyPair::from_pkcs8(der_alg, der),
            ) {
                return Ok(SigningKey {
                    kind,
                    inner: Inner::Ec { fixed: f, der: d },
                });
            }
        }
        Err(Error::Unsupported {
            what: "private key (PKCS#8 RSA or ECDSA P-256/384/521)",
            id: 0,
        })
    }

    /// The key kind.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The public key as aws-lc encodes it (RSA: PKCS#1 RSAPublicKey; EC: uncompressed point).
    pub fn public_key(&self) -> &[u8] {
        match &self.inner {
            Inner::Rsa(k) => k.public_key().as_ref(),
            Inner::Ec { fixed, .. } => fixed.public_key().as_ref(),
        }
    }

    /// Signs `msg` with `scheme` (which must fit the key; SHA-1 RSA is refused).
    pub fn sign(&self, scheme: Scheme, msg: &[u8]) -> Result<Vec<u8>> {
        let rng = SystemRandom::new();
        match (&self.inner, scheme) {
            (Inner::Rsa(k), s) => {
                let enc: &'static dyn signature::RsaEncoding = match s {
                    Scheme::RsaPkcs1Sha256 => &signature::RSA_PKCS1_SHA256,
                    Scheme::RsaPkcs1Sha384 => &signature::RSA_PKCS1_SHA384,
                    Scheme::RsaPkcs1Sha512 => &signature::RSA_PKCS1_SHA512,
                    _ => return Err(unsupported(scheme)),
                };
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(enc, &rng, msg, &mut sig)
                    .map_err(|_| Error::Backend("RSA sign"))?;
                Ok(sig)
            }
            (Inner::Ec { fixed, der }, s) => {
                if s.key_kind() != self.kind {
                    return Err(unsupported(scheme));
                }
                let k = match s {
                    Scheme::EcdsaP256Sha256Fixed
                    | Scheme::EcdsaP384Sha384Fixed
                    | Scheme::EcdsaP521Sha512Fixed => fixed,
                    _ => der,
                };
                let sig = k
                    .sign(&rng, msg)
                    .map_err(|_| Error::Backend("ECDSA sign"))?;
                Ok(sig.as_ref().to_vec())
            }
        }
    }
}

fn unsupported(scheme: Scheme) -> Error {
    Error::Unsupported {
        what: "signature scheme for this key",
        id: scheme.hash_id(),
    }
}

/// Verifies `sig` over `msg` with the public key `spki` (a DER SubjectPublicKeyInfo, as in
/// a certificate; aws-lc also takes a bare PKCS#1 RSA key or an uncompressed EC point).
pub fn verify(spki: &[u8], scheme: Scheme, msg: &[u8], sig: &[u8]) -> Result<()> {
    let alg: &'static dyn signature::VerificationAlgorithm = match scheme {
        Scheme::RsaPkcs1Sha1 => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        Scheme::RsaPkcs1Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Scheme::RsaPkcs1Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Scheme::RsaPkcs1Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Scheme::EcdsaP256Sha256Fixed => &signature::ECDSA_P256_SHA256_FIXED,
        Scheme::EcdsaP384Sha384Fixed => &signature::ECDSA_P384_SHA384_FIXED,
        Scheme::EcdsaP521Sha512Fixed => &signature::ECDSA_P521_SHA512_FIXED,
        Scheme::EcdsaP256Sha256Der => &signature::ECDSA_P256_SHA256_ASN1,
        Scheme::EcdsaP384Sha384Der => &signature::ECDSA_P384_SHA384_ASN1,
        Scheme::EcdsaP521Sha512Der => &signature::ECDSA_P521_SHA512_ASN1,
    };
    UnparsedPublicKey::new(alg, spki)
        .verify(msg, sig)
        .map_err(|_| Error::AuthenticationFailed { what: "signature" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;

    fn ec_pkcs8(alg: &'static signature::EcdsaSigningAlgorithm) -> Vec<u8> {
        let k = EcdsaKeyPair::generate(alg).unwrap();
        k.to_pkcs8v1().unwrap().as_ref().to_vec()
    }

    #[test]
    fn ecdsa_both_encodings_round_trip() {
        for (alg, f, d) in [
            (
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                Scheme::EcdsaP256Sha256Fixed,
                Scheme::EcdsaP256Sha256Der,
            ),
            (
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                Scheme::EcdsaP384Sha384Fixed,
                Scheme::EcdsaP384Sha384Der,
            ),
        ] {
            let key = SigningKey::from_pkcs8(&ec_pkcs8(alg)).unwrap();
            let pk = key.public_key().to_vec();
            let s1 = key.sign(f, b"octets").unwrap();
            assert_eq!(
                s1.len(),
                if f == Scheme::EcdsaP256Sha256Fixed {
                    64
                } else {
                    96
                }
            );
            verify(&pk, f, b"octets", &s1).unwrap();
            assert!(verify(&pk, f, b"octetz", &s1).is_err());
            let s2 = key.sign(d, b"octets").unwrap();
            assert_eq!(s2[0], 0x30, "DER SEQUENCE");
            verify(&pk, d, b"octets", &s2).unwrap();
            assert!(verify(&pk, f, b"octets", &s2).is_err());
            assert!(key.sign(Scheme::RsaPkcs1Sha256, b"x").is_err());
        }
    }

    #[test]
    fn rsa_sign_verify_and_sha1_refused() {
        let k = aws_lc_rs::rsa::PrivateDecryptingKey::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .unwrap();
        let pkcs8 = k.as_der().unwrap().as_ref().to_vec();
        let key = SigningKey::from_pkcs8(&pkcs8).unwrap();
        assert_eq!(key.kind(), KeyKind::Rsa);
        let pk = key.public_key().to_vec();
        for s in [
            Scheme::RsaPkcs1Sha256,
            Scheme::RsaPkcs1Sha384,
            Scheme::RsaPkcs1Sha512,
        ] {
            let sig = key.sign(s, b"m").unwrap();
            assert_eq!(sig.len(), 256);
            verify(&pk, s, b"m", &sig).unwrap();
        }
        assert!(key.sign(Scheme::RsaPkcs1Sha1, b"m").is_err());
        assert!(key.sign(Scheme::EcdsaP256Sha256Der, b"m").is_err());
    }

    #[test]
    fn algorithm_identifiers_round_trip() {
        for s in [
            Scheme::RsaPkcs1Sha1,
            Scheme::RsaPkcs1Sha256,
            Scheme::RsaPkcs1Sha384,
            Scheme::RsaPkcs1Sha512,
        ] {
            let der = algorithm_identifier(s).unwrap();
            assert_eq!(
                Scheme::from_algorithm_identifier(der, KeyKind::Rsa),
                Some(s)
            );
            assert_eq!(
                Scheme::from_algorithm_identifier(der, KeyKind::EcP256),
                None
            );
        }
        let der = algorithm_identifier(Scheme::EcdsaP256Sha256Der).unwrap();
        assert_eq!(
            Scheme::from_algorithm_identifier(der, KeyKind::EcP256),
            Some(Scheme::EcdsaP256Sha256Der)
        );
        assert_eq!(
            Scheme::from_algorithm_identifier(der, KeyKind::EcP384),
            None
        );
        assert_eq!(algorithm_identifier(Scheme::EcdsaP256Sha256Fixed), None);
        assert_eq!(
            Scheme::from_algorithm_identifier(&[0x30, 0], KeyKind::Rsa),
            None
        );
    }
}
