//! IKE_AUTH with certificates: RSA and ECDSA (P-256, P-384) end-entity certificates issued
//! by a test CA made with rcgen; chain validation, identity binding, CERTREQ, failures.

mod ike_common;

use std::sync::Arc;
use std::time::Duration;

use ike_common::*;
use mobstrap_crypto::sig::SigningKey;
use mobstrap_proto::ikev2::{
    CloseReason, Config, DispatcherConfig, Identity, LocalAuth, PeerAuth, Signer,
};
use mobstrap_wire::ikev2::{Message, PayloadBody};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    SignatureAlgorithm,
};

struct Pki {
    ca_der: Vec<u8>,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

fn key_for(alg: &'static SignatureAlgorithm) -> KeyPair {
    if alg == &rcgen::PKCS_RSA_SHA256 {
        KeyPair::generate_rsa_for(alg, rcgen::RsaKeySize::_2048).unwrap()
    } else {
        KeyPair::generate_for(alg).unwrap()
    }
}

fn pki(alg: &'static SignatureAlgorithm) -> Pki {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "mobstrap test CA");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let issuer = CertifiedIssuer::self_signed(params, key_for(alg)).unwrap();
    Pki {
        ca_der: issuer.der().to_vec(),
        issuer,
    }
}

fn signer(pki: &Pki, name: &str, alg: &'static SignatureAlgorithm, expired: bool) -> Arc<Signer> {
    let key = key_for(alg);
    let mut params = CertificateParams::new(vec![name.to_string()]).unwrap();
    if expired {
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    }
    let cert = params.signed_by(&key, &pki.issuer).unwrap();
    Arc::new(Signer {
        key: SigningKey::from_pkcs8(&key.serialize_der()).unwrap(),
        chain: vec![cert.der().to_vec()],
    })
}

fn cert_configs(alg: &'static SignatureAlgorithm) -> (Config, Config) {
    let p = pki(alg);
    let mut i = Config::new(Identity::fqdn("ue.example"));
    i.remote_id = Some(Identity::fqdn("epdg.example"));
    i.local_auth = LocalAuth::Signature;
    i.peer_auth = PeerAuth::SIGNATURE;
    i.signer = Some(signer(&p, "ue.example", alg, false));
    i.ca_certs = vec![p.ca_der.clone()];
    let mut r = Config::new(Identity::fqdn("epdg.example"));
    r.local_auth = LocalAuth::Signature;
    r.peer_auth = PeerAuth::SIGNATURE;
    r.signer = Some(signer(&p, "epdg.example", alg, false));
    r.ca_certs = vec![p.ca_der];
    (i, r)
}

fn assert_certreq_sent(sim: &Sim) {
    // CERTREQ with one CA key hash in the clear IKE_SA_INIT response.
    let resp = Message::parse(&sim.sent_to_initiator[0]).unwrap();
    assert!(resp
        .payloads
        .iter()
        .any(|p| matches!(&p.body, PayloadBody::CertReq(c) if c.data.len() == 20)));
}

#[test]
fn ecdsa_p256_p384_and_rsa_certificates() {
    for alg in [
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
        &rcgen::PKCS_RSA_SHA256,
    ] {
        let (i, r) = cert_configs(alg);
        let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 40);
        assert!(
            sim.run_until(Duration::from_secs(5), |s| s.both_established()),
            "{alg:?}: {:?} {:?}",
            sim.i_closed(),
            sim.r_closed()
        );
        assert_eq!(sim.i_est().peer_id, Identity::fqdn("epdg.example"));
        assert_eq!(sim.r_est().peer_id, Identity::fqdn("ue.example"));
        assert_certreq_sent(&sim);
    }
}

#[test]
fn untrusted_ca_is_rejected() {
    let alg = &rcgen::PKCS_ECDSA_P256_SHA256;
    let (i, mut r) = cert_configs(alg);
    r.ca_certs = vec![pki(alg).ca_der];
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 41);
    sim.run_until(Duration::from_secs(30), |s| s.i_closed().is_some());
    assert_eq!(
        sim.i_closed(),
        Some(CloseReason::AuthenticationFailed { by_peer: true })
    );
    assert!(!sim.r_established());
}

#[test]
fn identity_must_be_in_the_certificate() {
    let alg = &rcgen::PKCS_ECDSA_P256_SHA256;
    let (mut i, r) = cert_configs(alg);
    i.local_id = Identity::fqdn("someone-else.example");
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 42);
    sim.run_until(Duration::from_secs(30), |s| s.i_closed().is_some());
    assert_eq!(
        sim.i_closed(),
        Some(CloseReason::AuthenticationFailed { by_peer: true })
    );
}

#[test]
fn expired_certificate_is_rejected_by_the_initiator() {
    let alg = &rcgen::PKCS_ECDSA_P256_SHA256;
    let p = pki(alg);
    let (mut i, mut r) = cert_configs(alg);
    i.ca_certs = vec![p.ca_der.clone()];
    r.ca_certs = vec![p.ca_der.clone()];
    i.signer = Some(signer(&p, "ue.example", alg, false));
    r.signer = Some(signer(&p, "epdg.example", alg, true));
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 43);
    sim.run_until(Duration::from_secs(30), |s| {
        s.i_closed().is_some() && s.r_closed().is_some()
    });
    assert_eq!(
        sim.i_closed(),
        Some(CloseReason::AuthenticationFailed { by_peer: false })
    );
    // The initiator told the responder (INFORMATIONAL with AUTHENTICATION_FAILED).
    assert_eq!(
        sim.r_closed(),
        Some(CloseReason::AuthenticationFailed { by_peer: true })
    );
}

#[test]
fn responder_certificate_initiator_psk() {
    let alg = &rcgen::PKCS_ECDSA_P256_SHA256;
    let (mut i, mut r) = cert_configs(alg);
    i.local_auth = LocalAuth::Psk;
    i.signer = None;
    i.psks.clear();
    let i = i.with_psk(None, b"initiator psk");
    r.peer_auth = PeerAuth::PSK;
    let r = r.with_psk(None, b"initiator psk");
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 44);
    assert!(sim.run_until(Duration::from_secs(5), |s| s.both_established()));
}

#[test]
fn psk_refused_when_only_signatures_are_allowed() {
    let alg = &rcgen::PKCS_ECDSA_P256_SHA256;
    let (mut i, r) = cert_configs(alg);
    i.local_auth = LocalAuth::Psk;
    let i = i.with_psk(None, b"x");
    let r = r.with_psk(None, b"x");
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 45);
    sim.run_until(Duration::from_secs(30), |s| s.i_closed().is_some());
    assert_eq!(
        sim.i_closed(),
        Some(CloseReason::AuthenticationFailed { by_peer: true })
    );
}
