//! AUTH payloads (RFC 7296 §2.15, §2.16; RFC 4754; RFC 7427; RFC 5998) and the
//! certificate checks behind signature authentication: chain validation against the
//! configured CAs with rustls-webpki, the identity bound to the certificate read with
//! x509-parser.
//!
//! The signed octets are `RealMessage | peer nonce | prf(SK_p, RestOfIDPayload)`, where
//! RealMessage is the sender's own IKE_SA_INIT message (the initiator's request, the
//! responder's response).

use std::time::UNIX_EPOCH;

use mobstrap_crypto::ikev2::{auth_shared_key, maced_id, signed_octets, Prf};
use mobstrap_crypto::sig::{self, KeyKind, Scheme};
use mobstrap_wire::ikev2::{AuthMethod, HashAlgorithm, IdType};
use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeId, KeyPurposeIdIter};
use x509_parser::extensions::GeneralName;

use super::config::{Config, Identity, Signer};
use super::Error;

/// What the signer covers: its IKE_SA_INIT message, the peer's nonce and its own ID.
pub(crate) struct AuthInput<'a> {
    pub prf: Prf,
    pub sk_p: &'a [u8],
    pub real_message: &'a [u8],
    pub peer_nonce: &'a [u8],
    pub id: &'a Identity,
}

impl AuthInput<'_> {
    fn maced_id(&self) -> mobstrap_crypto::Output {
        maced_id(self.prf, self.sk_p, &self.id.rest_of_payload())
    }

    fn octets(&self) -> Vec<u8> {
        let mut v = Vec::new();
        signed_octets(
            self.real_message,
            self.peer_nonce,
            self.maced_id().as_bytes(),
            &mut v,
        );
        v
    }

    /// Shared Key Message Integrity Code with `secret` (a PSK, or the MSK / SK_p for EAP).
    pub fn shared_key(&self, secret: &[u8]) -> Vec<u8> {
        auth_shared_key(
            self.prf,
            secret,
            self.real_message,
            self.peer_nonce,
            self.maced_id().as_bytes(),
        )
        .as_bytes()
        .to_vec()
    }

    pub fn verify_shared_key(&self, secret: &[u8], got: &[u8]) -> bool {
        let want = self.shared_key(secret);
        mobstrap_crypto_ct_eq(&want, got)
    }
}

fn mobstrap_crypto_ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The hash algorithms we announce in SIGNATURE_HASH_ALGORITHMS.
pub(crate) const OUR_HASHES: [u16; 3] = [2, 3, 4];

/// Signs: AUTH method and data. With `peer_hashes` (the peer's SIGNATURE_HASH_ALGORITHMS)
/// non-empty we use method 14 with a hash both sides support; without, the method of the
/// key: 9/10/11 for ECDSA, and for RSA method 14 with SHA-256 (aws-lc-rs cannot sign the
/// SHA-1 of method 1; strongSwan and every RFC 7427 peer accept method 14).
pub(crate) fn sign(
    signer: &Signer,
    input: &AuthInput<'_>,
    peer_hashes: &[u16],
) -> Result<(AuthMethod, Vec<u8>), Error> {
    let octets = input.octets();
    let kind = signer.key.kind();
    let use_14 = !peer_hashes.is_empty() || kind == KeyKind::Rsa;
    if !use_14 {
        let (m, s) = match kind {
            KeyKind::EcP256 => (AuthMethod::EcdsaP256, Scheme::EcdsaP256Sha256Fixed),
            KeyKind::EcP384 => (AuthMethod::EcdsaP384, Scheme::EcdsaP384Sha384Fixed),
            _ => (AuthMethod::EcdsaP521, Scheme::EcdsaP521Sha512Fixed),
        };
        return Ok((m, signer.key.sign(s, &octets)?));
    }
    let scheme = match kind {
        KeyKind::Rsa => {
            let pick = [
                (2u16, Scheme::RsaPkcs1Sha256),
                (3, Scheme::RsaPkcs1Sha384),
                (4, Scheme::RsaPkcs1Sha512),
            ];
            pick.iter()
                .find(|(h, _)| peer_hashes.is_empty() || peer_hashes.contains(h))
                .map(|&(_, s)| s)
                .unwrap_or(Scheme::RsaPkcs1Sha256)
        }
        KeyKind::EcP256 => Scheme::EcdsaP256Sha256Der,
        KeyKind::EcP384 => Scheme::EcdsaP384Sha384Der,
        KeyKind::EcP521 => Scheme::EcdsaP521Sha512Der,
    };
    let alg_id = sig::algorithm_identifier(scheme).unwrap_or(&[]);
    let signature = signer.key.sign(scheme, &octets)?;
    let mut data = Vec::with_capacity(1 + alg_id.len() + signature.len());
    data.push(alg_id.len() as u8);
    data.extend_from_slice(alg_id);
    data.extend_from_slice(&signature);
    Ok((AuthMethod::DigitalSignature, data))
}

/// The parts of a peer certificate the engine uses after validation.
#[derive(Debug, Clone)]
pub(crate) struct PeerCert {
    pub spki: Vec<u8>,
    pub kind: KeyKind,
}

struct IkeEku;

// serverAuth, clientAuth, ipsecIKE (RFC 4945 §5.1.3.12), anyExtendedKeyUsage.
const EKU_OK: [&[u8]; 4] = [
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01],
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02],
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x11],
    &[0x55, 0x1d, 0x25, 0x00],
];

impl ExtendedKeyUsageValidator for IkeEku {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        let mut empty = true;
        for id in iter {
            empty = false;
            let id = id?;
            if EKU_OK.iter().any(|o| KeyPurposeId::new(o) == id) {
                return Ok(());
            }
        }
        if empty {
            Ok(())
        } else {
            Err(webpki::Error::ExtensionValueInvalid)
        }
    }
}

/// Validates the peer's chain (`certs[0]` the end entity) against the configured CAs at
/// the wall-clock time, checks that the identity is bound to it, and returns its key.
pub(crate) fn validate_peer_cert(
    config: &Config,
    certs: &[&[u8]],
    peer_id: &Identity,
) -> Result<PeerCert, Error> {
    let (ee_der, inter) = certs.split_first().ok_or(Error::Auth("no certificate"))?;
    let anchors_der: Vec<CertificateDer<'_>> = config
        .ca_certs
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let anchors: Vec<_> = anchors_der
        .iter()
        .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
        .collect();
    if anchors.is_empty() {
        return Err(Error::Auth("no trusted CA configured"));
    }
    let ee_cert = CertificateDer::from(*ee_der);
    let ee = EndEntityCert::try_from(&ee_cert).map_err(|_| Error::Auth("certificate"))?;
    let inter: Vec<CertificateDer<'_>> = inter.iter().map(|c| CertificateDer::from(*c)).collect();
    let secs = (config.wall_clock)()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &inter,
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs)),
        IkeEku,
        None,
        None,
    )
    .map_err(|_| Error::Auth("certificate chain"))?;

    let (_, x) =
        x509_parser::parse_x509_certificate(ee_der).map_err(|_| Error::Auth("certificate"))?;
    if !id_matches_cert(&x, peer_id) {
        return Err(Error::Auth("identity not in certificate"));
    }
    let pk = x.public_key();
    let kind = if pk.algorithm.algorithm == x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION {
        KeyKind::Rsa
    } else {
        match pk.subject_public_key.data.len() {
            65 => KeyKind::EcP256,
            97 => KeyKind::EcP384,
            133 => KeyKind::EcP521,
            _ => return Err(Error::Auth("certificate key type")),
        }
    };
    Ok(PeerCert {
        spki: pk.raw.to_vec(),
        kind,
    })
}

fn id_matches_cert(x: &x509_parser::certificate::X509Certificate<'_>, id: &Identity) -> bool {
    if id.id_type == IdType::DerAsn1Dn {
        return x.subject().as_raw() == id.data.as_slice();
    }
    let Ok(Some(san)) = x.subject_alternative_name() else {
        return false;
    };
    san.value
        .general_names
        .iter()
        .any(|g| match (g, id.id_type) {
            (GeneralName::DNSName(n), IdType::Fqdn) => n.as_bytes().eq_ignore_ascii_case(&id.data),
            (GeneralName::RFC822Name(n), IdType::Rfc822Addr) => {
                n.as_bytes().eq_ignore_ascii_case(&id.data)
            }
            (GeneralName::IPAddress(a), IdType::Ipv4Addr | IdType::Ipv6Addr) => {
                *a == id.data.as_slice()
            }
            _ => false,
        })
}

/// Verifies a signature AUTH payload with the peer's certificate key.
pub(crate) fn verify_signature(
    cert: &PeerCert,
    method: AuthMethod,
    data: &[u8],
    input: &AuthInput<'_>,
) -> Result<(), Error> {
    let (scheme, signature) = match method {
        AuthMethod::RsaSignature if cert.kind == KeyKind::Rsa => (Scheme::RsaPkcs1Sha1, data),
        AuthMethod::EcdsaP256 if cert.kind == KeyKind::EcP256 => {
            (Scheme::EcdsaP256Sha256Fixed, data)
        }
        AuthMethod::EcdsaP384 if cert.kind == KeyKind::EcP384 => {
            (Scheme::EcdsaP384Sha384Fixed, data)
        }
        AuthMethod::EcdsaP521 if cert.kind == KeyKind::EcP521 => {
            (Scheme::EcdsaP521Sha512Fixed, data)
        }
        AuthMethod::DigitalSignature => {
            let (&len, rest) = data.split_first().ok_or(Error::Auth("AUTH data"))?;
            let len = len as usize;
            if rest.len() < len {
                return Err(Error::Auth("AUTH data"));
            }
            let (alg, signature) = rest.split_at(len);
            let scheme = Scheme::from_algorithm_identifier(alg, cert.kind)
                .ok_or(Error::Auth("signature algorithm"))?;
            (scheme, signature)
        }
        _ => return Err(Error::Auth("AUTH method")),
    };
    sig::verify(&cert.spki, scheme, &input.octets(), signature)
        .map_err(|_| Error::Auth("signature"))
}

/// SIGNATURE_HASH_ALGORITHMS notify data for our hashes.
pub(crate) fn hash_notify_data() -> Vec<u8> {
    OUR_HASHES.iter().flat_map(|h| h.to_be_bytes()).collect()
}

/// The peer's announced hashes we can use.
pub(crate) fn usable_hashes(it: impl Iterator<Item = HashAlgorithm>) -> Vec<u16> {
    it.map(|h| h.value())
        .filter(|h| OUR_HASHES.contains(h))
        .collect()
}

/// SHA-1 hashes of the configured CAs' public keys (CERTREQ data).
pub(crate) fn certreq_data(config: &Config) -> Vec<u8> {
    let mut out = Vec::new();
    for c in &config.ca_certs {
        if let Ok((_, x)) = x509_parser::parse_x509_certificate(c) {
            out.extend_from_slice(&mobstrap_crypto::ikev2::ca_key_hash(x.public_key().raw));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobstrap_crypto::ikev2::Prf;

    fn signer_and_cert(alg: &'static rcgen::SignatureAlgorithm) -> (Signer, PeerCert) {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["x.example".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let (_, x) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
        let kind = match x.public_key().subject_public_key.data.len() {
            65 => KeyKind::EcP256,
            97 => KeyKind::EcP384,
            _ => KeyKind::Rsa,
        };
        let pc = PeerCert {
            spki: x.public_key().raw.to_vec(),
            kind,
        };
        let s = Signer {
            key: mobstrap_crypto::sig::SigningKey::from_pkcs8(&key.serialize_der()).unwrap(),
            chain: vec![cert.der().to_vec()],
        };
        (s, pc)
    }

    #[test]
    fn fixed_ecdsa_methods_without_hash_negotiation() {
        let id = Identity::fqdn("x.example");
        let input = AuthInput {
            prf: Prf::HmacSha256,
            sk_p: &[1; 32],
            real_message: b"IKE_SA_INIT bytes",
            peer_nonce: &[2; 32],
            id: &id,
        };
        for (alg, method) in [
            (&rcgen::PKCS_ECDSA_P256_SHA256, AuthMethod::EcdsaP256),
            (&rcgen::PKCS_ECDSA_P384_SHA384, AuthMethod::EcdsaP384),
        ] {
            let (s, pc) = signer_and_cert(alg);
            // No SIGNATURE_HASH_ALGORITHMS from the peer: RFC 4754 methods.
            let (m, data) = sign(&s, &input, &[]).unwrap();
            assert_eq!(m, method);
            verify_signature(&pc, m, &data, &input).unwrap();
            // With it: RFC 7427 method 14.
            let (m14, d14) = sign(&s, &input, &[2, 3, 4]).unwrap();
            assert_eq!(m14, AuthMethod::DigitalSignature);
            verify_signature(&pc, m14, &d14, &input).unwrap();
            // Tampering, wrong method, truncated RFC 7427 data.
            let mut bad = data.clone();
            bad[5] ^= 1;
            assert!(verify_signature(&pc, m, &bad, &input).is_err());
            assert!(verify_signature(&pc, AuthMethod::RsaSignature, &data, &input).is_err());
            assert!(verify_signature(&pc, m14, &d14[..3], &input).is_err());
            assert!(verify_signature(&pc, m14, &[], &input).is_err());
            assert!(verify_signature(&pc, m14, &[200, 1, 2], &input).is_err());
            let other = Identity::fqdn("y.example");
            let input2 = AuthInput {
                id: &other,
                ..input_copy(&input)
            };
            assert!(
                verify_signature(&pc, m, &data, &input2).is_err(),
                "ID is signed"
            );
        }
    }

    fn input_copy<'a>(i: &AuthInput<'a>) -> AuthInput<'a> {
        AuthInput {
            prf: i.prf,
            sk_p: i.sk_p,
            real_message: i.real_message,
            peer_nonce: i.peer_nonce,
            id: i.id,
        }
    }

    #[test]
    fn psk_auth_is_bound_to_every_input() {
        let id = Identity::fqdn("a");
        let base = AuthInput {
            prf: Prf::HmacSha256,
            sk_p: &[1; 32],
            real_message: b"m",
            peer_nonce: &[2; 32],
            id: &id,
        };
        let a = base.shared_key(b"psk");
        assert!(base.verify_shared_key(b"psk", &a));
        assert!(!base.verify_shared_key(b"psk2", &a));
        assert!(!AuthInput {
            real_message: b"n",
            ..input_copy(&base)
        }
        .verify_shared_key(b"psk", &a));
        assert!(!AuthInput {
            peer_nonce: &[3; 32],
            ..input_copy(&base)
        }
        .verify_shared_key(b"psk", &a));
        assert!(!AuthInput {
            sk_p: &[4; 32],
            ..input_copy(&base)
        }
        .verify_shared_key(b"psk", &a));
        assert!(!base.verify_shared_key(b"psk", &a[..31]));
    }
}
