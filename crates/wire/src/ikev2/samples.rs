//! One sample of every IKEv2 message type the flows use, and collectively every payload
//! and attribute type in scope. Encrypted messages use ENCR_NULL with no integrity, so that
//! tshark (given a NULL entry in its `ikev2_decryption_table` UAT) decodes the inner
//! payloads and the cross-check covers them too.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::frame::Frame;
use crate::sample::Sample;

use super::cp::{CfgAttrType as A, CfgAttribute, CfgType, Cp};
use super::sa::{
    DhGroup, EncrId, EsnId, IntegId, PrfId, Proposal, Sa, Transform, TransformType as T,
};
use super::sk::{emit_encrypted, emit_inner, EncryptedKind, SkParams};
use super::ts::{TrafficSelector, Ts};
use super::{
    flags, natt, Auth, AuthMethod, Cert, CertEncoding, Delete, ExchangeType, Header, Id, IdType,
    Ke, Message, Notify, NotifyType, Payload, PayloadBody as B, ProtocolId,
};

const SPI_I: [u8; 8] = [0x5d, 0x3c, 0x1a, 0x7e, 0x20, 0x41, 0x9b, 0x02];
const SPI_R: [u8; 8] = [0xa7, 0x11, 0x6c, 0x08, 0xe2, 0x95, 0x3f, 0x4d];
/// strongSwan's vendor ID (MD5 of "strongSwan").
const VID_STRONGSWAN: [u8; 16] = [
    0x88, 0x2f, 0xe5, 0x6d, 0x6f, 0xd2, 0x0d, 0xbc, 0x22, 0x51, 0x61, 0x3b, 0x2e, 0xbe, 0x5b, 0xeb,
];

const EPDG_CERT: &[u8] = include_bytes!("data/epdg-cert.der");

/// NULL encryption, no integrity: the SK body is the plaintext itself.
const NULL: SkParams = SkParams {
    iv_len: 0,
    block_len: 1,
    icv_len: 0,
};

fn bytes(seed: u32, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761).wrapping_add(12345);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

fn ue() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))
}
fn epdg() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1))
}
fn mag6() -> IpAddr {
    IpAddr::V6("2001:db8:1::10".parse().unwrap_or(Ipv6Addr::LOCALHOST))
}
fn lma6() -> IpAddr {
    IpAddr::V6("2001:db8:2::1".parse().unwrap_or(Ipv6Addr::LOCALHOST))
}

fn p(body: B<'_>) -> Payload<'_> {
    Payload::new(body)
}

fn n(t: NotifyType, data: &[u8]) -> Payload<'_> {
    p(B::Notify(Notify::new(t, data)))
}

fn emit(msg: &Message<'_>) -> Vec<u8> {
    let mut v = Vec::new();
    if let Err(e) = msg.emit(&mut v) {
        panic!("sample does not emit: {e}");
    }
    v
}

/// An IKE message whose SK payload is NULL-encrypted around `inner`, padded to `block`.
fn protected(header: Header, inner: &[Payload<'_>], block: usize) -> Vec<u8> {
    let mut plain = Vec::new();
    let mut out = Vec::new();
    let r = emit_inner(inner, &mut plain).and_then(|first| {
        emit_encrypted(
            &header,
            &[],
            EncryptedKind::Sk,
            first,
            &plain,
            &SkParams {
                block_len: block,
                ..NULL
            },
            &mut out,
        )
    });
    if let Err(e) = r {
        panic!("sample does not emit: {e}");
    }
    out
}

/// tshark's UAT line for the NULL-protected samples of this IKE SA.
fn null_uat() -> String {
    format!(
        "uat:ikev2_decryption_table:{},{},,,\"NULL [RFC2410]\",,,\"NONE [RFC4306]\"",
        crate::dissect::hex(&SPI_I),
        crate::dissect::hex(&SPI_R)
    )
}

fn dissect_udp4500_null(data: &[u8]) -> crate::Result<crate::dissect::Node> {
    match natt::classify_udp4500(data)? {
        natt::Udp4500::Ike(ike) => super::dissect_null_encrypted(ike),
        _ => super::dissect_udp4500(data),
    }
}

fn ike_proposals() -> Sa<'static> {
    Sa {
        proposals: vec![
            Proposal::new(
                1,
                ProtocolId::Ike,
                &[],
                vec![
                    Transform::new(T::Encr, EncrId::AesGcm16.into()).with_key_length(256),
                    Transform::new(T::Encr, EncrId::AesGcm16.into()).with_key_length(128),
                    Transform::new(T::Prf, PrfId::HmacSha2_256.into()),
                    Transform::new(T::Prf, PrfId::HmacSha2_384.into()),
                    Transform::new(T::Ke, DhGroup::Ecp256.into()),
                    Transform::new(T::Ke, DhGroup::Curve25519.into()),
                ],
            ),
            Proposal::new(
                2,
                ProtocolId::Ike,
                &[],
                vec![
                    Transform::new(T::Encr, EncrId::AesCbc.into()).with_key_length(128),
                    Transform::new(T::Encr, EncrId::TripleDes.into()),
                    Transform::new(T::Prf, PrfId::HmacSha1.into()),
                    Transform::new(T::Integ, IntegId::HmacSha2_256_128.into()),
                    Transform::new(T::Integ, IntegId::HmacSha1_96.into()),
                    Transform::new(T::Ke, DhGroup::Modp2048.into()),
                ],
            ),
        ],
    }
}

fn esp_proposal(spi: &[u8]) -> Sa<'_> {
    Sa {
        proposals: vec![Proposal::new(
            1,
            ProtocolId::Esp,
            spi,
            vec![
                Transform::new(T::Encr, EncrId::AesCbc.into()).with_key_length(128),
                Transform::new(T::Integ, IntegId::HmacSha2_256_128.into()),
                Transform::new(T::Esn, EsnId::No.into()),
            ],
        )],
    }
}

/// Every sample, named `ikev2/...`.
pub fn samples() -> Vec<Sample> {
    let mut v = Vec::new();
    let nat_src = bytes(1, 20);
    let nat_dst = bytes(2, 20);
    let sig_hash = [0, 2, 0, 3, 0, 4];
    let ke19 = bytes(3, 64);
    let ke31 = bytes(4, 32);
    let ni = bytes(5, 32);
    let nr = bytes(6, 32);
    let cookie = bytes(7, 32);
    let ca_hash = bytes(8, 20);

    // IKE_SA_INIT request: two proposals, KE 19, Ni, NAT detection, fragmentation, RFC 7427.
    let init_hdr = Header::new(SPI_I, [0; 8], ExchangeType::IkeSaInit, flags::INITIATOR, 0);
    let req = Message::new(
        init_hdr,
        vec![
            p(B::Sa(ike_proposals())),
            p(B::Ke(Ke::new(19, &ke19))),
            p(B::Nonce(&ni)),
            n(NotifyType::NatDetectionSourceIp, &nat_src),
            n(NotifyType::NatDetectionDestinationIp, &nat_dst),
            n(NotifyType::Ikev2FragmentationSupported, &[]),
            n(NotifyType::SignatureHashAlgorithms, &sig_hash),
            p(B::VendorId(&VID_STRONGSWAN)),
        ],
    );
    v.push(Sample::new(
        "ikev2/IKE_SA_INIT-request",
        Frame::udp(ue(), epdg(), 500, 500),
        &emit(&req),
        super::dissect,
    ));

    // Response asking for a cookie.
    let resp_hdr = |spi_r| Header::new(SPI_I, spi_r, ExchangeType::IkeSaInit, flags::RESPONSE, 0);
    let cookie_resp = Message::new(resp_hdr([0; 8]), vec![n(NotifyType::Cookie, &cookie)]);
    v.push(Sample::new(
        "ikev2/IKE_SA_INIT-response-COOKIE",
        Frame::udp(epdg(), ue(), 500, 500),
        &emit(&cookie_resp),
        super::dissect,
    ));

    // Response asking for another group (31).
    let group31 = 31u16.to_be_bytes();
    let invalid_ke = Message::new(
        resp_hdr([0; 8]),
        vec![n(NotifyType::InvalidKePayload, &group31)],
    );
    v.push(Sample::new(
        "ikev2/IKE_SA_INIT-response-INVALID_KE_PAYLOAD",
        Frame::udp(epdg(), ue(), 500, 500),
        &emit(&invalid_ke),
        super::dissect,
    ));

    // The retried request: COOKIE first, KE with group 31.
    let retry = Message::new(
        init_hdr,
        vec![
            n(NotifyType::Cookie, &cookie),
            p(B::Sa(ike_proposals())),
            p(B::Ke(Ke::new(31, &ke31))),
            p(B::Nonce(&ni)),
            n(NotifyType::NatDetectionSourceIp, &nat_src),
            n(NotifyType::NatDetectionDestinationIp, &nat_dst),
            n(NotifyType::Ikev2FragmentationSupported, &[]),
            n(NotifyType::SignatureHashAlgorithms, &sig_hash),
        ],
    );
    v.push(Sample::new(
        "ikev2/IKE_SA_INIT-request-retry",
        Frame::udp(ue(), epdg(), 500, 500),
        &emit(&retry),
        super::dissect,
    ));

    // The response: chosen proposal, KE 31, Nr, CERTREQ, notifies.
    let chosen = Sa {
        proposals: vec![Proposal::new(
            1,
            ProtocolId::Ike,
            &[],
            vec![
                Transform::new(T::Encr, EncrId::AesGcm16.into()).with_key_length(256),
                Transform::new(T::Prf, PrfId::HmacSha2_256.into()),
                Transform::new(T::Ke, DhGroup::Curve25519.into()),
            ],
        )],
    };
    let init_resp = Message::new(
        resp_hdr(SPI_R),
        vec![
            p(B::Sa(chosen)),
            p(B::Ke(Ke::new(31, &ke31))),
            p(B::Nonce(&nr)),
            n(NotifyType::NatDetectionSourceIp, &nat_dst),
            n(NotifyType::NatDetectionDestinationIp, &nat_src),
            p(B::CertReq(Cert::new(CertEncoding::X509Signature, &ca_hash))),
            n(NotifyType::Ikev2FragmentationSupported, &[]),
            n(NotifyType::SignatureHashAlgorithms, &sig_hash),
            n(NotifyType::MultipleAuthSupported, &[]),
        ],
    );
    v.push(Sample::new(
        "ikev2/IKE_SA_INIT-response",
        Frame::udp(epdg(), ue(), 500, 500),
        &emit(&init_resp),
        super::dissect,
    ));

    let uat = null_uat();
    let t = ["-o", uat.as_str()];

    // IKE_AUTH request (UE to ePDG, EAP-only): IDi, IDr (APN), CERTREQ, CP request with the
    // zero-length request forms, SA, TSi, TSr, notifies.
    let esp_spi_i = [0xc1, 0x0a, 0x55, 0x01];
    let esp_spi_r = [0xc2, 0x0b, 0x66, 0x02];
    let auth_hdr = Header::new(SPI_I, SPI_R, ExchangeType::IkeAuth, flags::INITIATOR, 1);
    let all_v4 = TrafficSelector::ipv4_any(Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST);
    let all_v6 = TrafficSelector::ipv6_any(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from([0xff; 16]));
    let cp_req = Cp::new(
        CfgType::Request,
        vec![
            CfgAttribute::request(A::InternalIp4Address),
            CfgAttribute::request(A::InternalIp4Netmask),
            CfgAttribute::request(A::InternalIp4Dns),
            CfgAttribute::request(A::InternalIp4Nbns),
            CfgAttribute::request(A::InternalIp4Dhcp),
            CfgAttribute::new(A::ApplicationVersion, b"mobstrap 0.1"),
            CfgAttribute::request(A::InternalIp6Address),
            CfgAttribute::request(A::InternalIp6Dns),
            CfgAttribute::request(A::InternalIp6Dhcp),
            CfgAttribute::request(A::InternalIp4Subnet),
            CfgAttribute::request(A::SupportedAttributes),
            CfgAttribute::request(A::InternalIp6Subnet),
            CfgAttribute::request(A::PCscfIp4Address),
            CfgAttribute::request(A::PCscfIp6Address),
            CfgAttribute::request(A::HomeAgentAddress),
            CfgAttribute::request(A::InternalIp6Link),
            CfgAttribute::request(A::InternalIp6Prefix),
        ],
    );
    let auth_req_inner = vec![
        p(B::IdI(Id::new(
            IdType::Rfc822Addr,
            b"0234150999999999@nai.epc.mnc015.mcc234.3gppnetwork.org",
        ))),
        p(B::IdR(Id::new(IdType::Fqdn, b"ims"))),
        p(B::CertReq(Cert::new(CertEncoding::X509Signature, &ca_hash))),
        p(B::Cp(cp_req)),
        p(B::Sa(esp_proposal(&esp_spi_i))),
        p(B::TsI(Ts::new(vec![all_v4, all_v6]))),
        p(B::TsR(Ts::new(vec![all_v4, all_v6]))),
        n(NotifyType::EapOnlyAuthentication, &[]),
        n(NotifyType::MobikeSupported, &[]),
        n(NotifyType::InitialContact, &[]),
    ];
    v.push(
        Sample::new(
            "ikev2/IKE_AUTH-request",
            Frame::udp(ue(), epdg(), 4500, 4500),
            &with_marker(&protected(auth_hdr, &auth_req_inner, 1)),
            dissect_udp4500_null,
        )
        .tshark(&t),
    );

    // IKE_AUTH response carrying an EAP-Request (opaque here), CERT and AUTH.
    // A self-signed P-256 certificate for CN=epdg.example.net made for these samples with
    // `openssl req -x509 -newkey ec` (the private key was not kept).
    let cert = EPDG_CERT;
    let sig = bytes(10, 64);
    // EAP-Request/AKA-Challenge header and a few attributes, opaque to IKE.
    let eap_req = [
        0x01, 0x02, 0x00, 0x0c, 0x17, 0x01, 0x00, 0x00, 0x0b, 0x01, 0x00, 0x00,
    ];
    let auth_resp_hdr = Header::new(SPI_I, SPI_R, ExchangeType::IkeAuth, flags::RESPONSE, 1);
    let auth_resp_inner = vec![
        p(B::IdR(Id::new(
            IdType::Fqdn,
            b"epdg.epc.mnc015.mcc234.pub.3gppnetwork.org",
        ))),
        p(B::Cert(Cert::new(CertEncoding::X509Signature, cert))),
        p(B::Auth(Auth::new(AuthMethod::EcdsaP256, &sig))),
        p(B::Eap(&eap_req)),
    ];
    v.push(
        Sample::new(
            "ikev2/IKE_AUTH-response-EAP",
            Frame::udp(epdg(), ue(), 4500, 4500),
            &with_marker(&protected(auth_resp_hdr, &auth_resp_inner, 4)),
            dissect_udp4500_null,
        )
        .tshark(&t),
    );

    // The final IKE_AUTH response: AUTH, CP reply with every attribute, SA, TS, notifies.
    let msk_auth = bytes(11, 32);
    let ip4 = [10, 45, 0, 7];
    let mask = [255, 255, 255, 255];
    let dns4 = [198, 51, 100, 53];
    let nbns = [198, 51, 100, 54];
    let dhcp4 = [198, 51, 100, 67];
    let mut ip6 = [0u8; 17];
    ip6[..16].copy_from_slice(
        &"2001:db8:45::7"
            .parse::<Ipv6Addr>()
            .map(|a| a.octets())
            .unwrap_or([0; 16]),
    );
    ip6[16] = 64;
    let dns6 = "2001:db8:53::1"
        .parse::<Ipv6Addr>()
        .map(|a| a.octets())
        .unwrap_or([0; 16]);
    let dhcp6 = "2001:db8:67::1"
        .parse::<Ipv6Addr>()
        .map(|a| a.octets())
        .unwrap_or([0; 16]);
    let subnet4 = [10, 45, 0, 0, 255, 255, 0, 0];
    let supported = [0, 1, 0, 3, 0, 8, 0, 10, 0, 20, 0, 21];
    let mut subnet6 = [0u8; 17];
    subnet6[..16].copy_from_slice(
        &"2001:db8:45::"
            .parse::<Ipv6Addr>()
            .map(|a| a.octets())
            .unwrap_or([0; 16]),
    );
    subnet6[16] = 48;
    let pcscf4 = [198, 51, 100, 60];
    let pcscf6 = "2001:db8:60::1"
        .parse::<Ipv6Addr>()
        .map(|a| a.octets())
        .unwrap_or([0; 16]);
    let mut home_agent = [0u8; 20];
    home_agent[..16].copy_from_slice(
        &"2001:db8:2::1"
            .parse::<Ipv6Addr>()
            .map(|a| a.octets())
            .unwrap_or([0; 16]),
    );
    home_agent[16..].copy_from_slice(&[198, 51, 100, 2]);
    let link = [0, 0, 0, 0, 0, 0, 0, 1, 0x4c, 0x01];
    let mut prefix6 = [0u8; 17];
    prefix6[..16].copy_from_slice(
        &"2001:db8:46::"
            .parse::<Ipv6Addr>()
            .map(|a| a.octets())
            .unwrap_or([0; 16]),
    );
    prefix6[16] = 64;
    let cp_reply = Cp::new(
        CfgType::Reply,
        vec![
            CfgAttribute::new(A::InternalIp4Address, &ip4),
            CfgAttribute::new(A::InternalIp4Netmask, &mask),
            CfgAttribute::new(A::InternalIp4Dns, &dns4),
            CfgAttribute::new(A::InternalIp4Nbns, &nbns),
            CfgAttribute::new(A::InternalIp4Dhcp, &dhcp4),
            CfgAttribute::new(A::ApplicationVersion, b"mobstrap ePDG"),
            CfgAttribute::new(A::InternalIp6Address, &ip6),
            CfgAttribute::new(A::InternalIp6Dns, &dns6),
            CfgAttribute::new(A::InternalIp6Dhcp, &dhcp6),
            CfgAttribute::new(A::InternalIp4Subnet, &subnet4),
            CfgAttribute::new(A::SupportedAttributes, &supported),
            CfgAttribute::new(A::InternalIp6Subnet, &subnet6),
            CfgAttribute::new(A::PCscfIp4Address, &pcscf4),
            CfgAttribute::new(A::PCscfIp6Address, &pcscf6),
            CfgAttribute::new(A::HomeAgentAddress, &home_agent),
            CfgAttribute::new(A::InternalIp6Link, &link),
            CfgAttribute::new(A::InternalIp6Prefix, &prefix6),
        ],
    );
    let ts_i = Ts::new(vec![
        TrafficSelector::ipv4_any(Ipv4Addr::from(ip4), Ipv4Addr::from(ip4)),
        TrafficSelector::Ipv6 {
            ip_protocol: 0,
            start_port: 0,
            end_port: 65535,
            start: "2001:db8:45::".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
            end: "2001:db8:45::ffff:ffff:ffff:ffff"
                .parse()
                .unwrap_or(Ipv6Addr::UNSPECIFIED),
        },
    ]);
    let final_hdr = Header::new(SPI_I, SPI_R, ExchangeType::IkeAuth, flags::RESPONSE, 3);
    let final_inner = vec![
        p(B::Auth(Auth::new(AuthMethod::SharedKeyMic, &msk_auth))),
        p(B::Cp(cp_reply)),
        p(B::Sa(esp_proposal(&esp_spi_r))),
        p(B::TsI(ts_i)),
        p(B::TsR(Ts::new(vec![all_v4, all_v6]))),
        n(NotifyType::MobikeSupported, &[]),
        p(B::VendorId(&VID_STRONGSWAN)),
    ];
    v.push(
        Sample::new(
            "ikev2/IKE_AUTH-response",
            Frame::udp(epdg(), ue(), 4500, 4500),
            &with_marker(&protected(final_hdr, &final_inner, 16)),
            dissect_udp4500_null,
        )
        .tshark(&t),
    );

    // MAG to LMA IKE_AUTH with a pre-shared key (pmip-boot-psk): IDi ID_IPV6_ADDR,
    // IDr ID_KEY_ID, transport mode; and the LMA's answer with ID_IPV4_ADDR.
    let mag_addr = "2001:db8:1::10"
        .parse::<Ipv6Addr>()
        .map(|a| a.octets())
        .unwrap_or([0; 16]);
    let psk_auth = bytes(12, 32);
    let psk_req_inner = vec![
        p(B::IdI(Id::new(IdType::Ipv6Addr, &mag_addr))),
        p(B::IdR(Id::new(IdType::KeyId, b"lma-1"))),
        p(B::Auth(Auth::new(AuthMethod::SharedKeyMic, &psk_auth))),
        n(NotifyType::UseTransportMode, &[]),
        p(B::Sa(esp_proposal(&esp_spi_i))),
        p(B::TsI(Ts::new(vec![TrafficSelector::Ipv6 {
            ip_protocol: 135,
            start_port: 0,
            end_port: 65535,
            start: "2001:db8:1::10".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
            end: "2001:db8:1::10".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
        }]))),
        p(B::TsR(Ts::new(vec![TrafficSelector::Ipv6 {
            ip_protocol: 135,
            start_port: 0,
            end_port: 65535,
            start: "2001:db8:2::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
            end: "2001:db8:2::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
        }]))),
    ];
    v.push(
        Sample::new(
            "ikev2/IKE_AUTH-request-PSK",
            Frame::udp(mag6(), lma6(), 500, 500),
            &protected(auth_hdr, &psk_req_inner, 8),
            super::dissect_null_encrypted,
        )
        .tshark(&t),
    );
    let lma_v4 = [198, 51, 100, 2];
    let psk_resp_inner = vec![
        p(B::IdR(Id::new(IdType::Ipv4Addr, &lma_v4))),
        p(B::Auth(Auth::new(AuthMethod::SharedKeyMic, &psk_auth))),
        n(NotifyType::UseTransportMode, &[]),
        p(B::Sa(esp_proposal(&esp_spi_r))),
    ];
    v.push(
        Sample::new(
            "ikev2/IKE_AUTH-response-PSK",
            Frame::udp(lma6(), mag6(), 500, 500),
            &protected(auth_resp_hdr, &psk_resp_inner, 8),
            super::dissect_null_encrypted,
        )
        .tshark(&t),
    );

    // CREATE_CHILD_SA rekeying a Child SA with PFS.
    let rekey_hdr = Header::new(
        SPI_I,
        SPI_R,
        ExchangeType::CreateChildSa,
        flags::INITIATOR,
        4,
    );
    let ni2 = bytes(13, 32);
    let rekey_inner = vec![
        n(NotifyType::RekeySa, &[]),
        p(B::Sa(esp_proposal(&[0xc1, 0x0a, 0x55, 0x03]))),
        p(B::Nonce(&ni2)),
        p(B::Ke(Ke::new(19, &ke19))),
        p(B::TsI(Ts::new(vec![all_v4]))),
        p(B::TsR(Ts::new(vec![all_v4]))),
    ];
    // REKEY_SA carries the ESP SPI being rekeyed.
    let mut rekey_inner = rekey_inner;
    rekey_inner[0] = p(B::Notify(Notify {
        protocol_id: ProtocolId::Esp,
        notify_type: NotifyType::RekeySa,
        spi: &esp_spi_i,
        data: &[],
    }));
    v.push(
        Sample::new(
            "ikev2/CREATE_CHILD_SA-request",
            Frame::udp(ue(), epdg(), 4500, 4500),
            &with_marker(&protected(rekey_hdr, &rekey_inner, 1)),
            dissect_udp4500_null,
        )
        .tshark(&t),
    );

    // INFORMATIONAL deleting two ESP SAs, and one deleting the IKE SA.
    let info_hdr = Header::new(
        SPI_I,
        SPI_R,
        ExchangeType::Informational,
        flags::INITIATOR,
        5,
    );
    let two_spis = [0xc1, 0x0a, 0x55, 0x01, 0xc1, 0x0a, 0x55, 0x03];
    let del_child = Delete {
        protocol_id: ProtocolId::Esp,
        spi_size: 4,
        num_spis: 2,
        spis: &two_spis,
    };
    v.push(
        Sample::new(
            "ikev2/INFORMATIONAL-delete-child",
            Frame::udp(ue(), epdg(), 4500, 4500),
            &with_marker(&protected(info_hdr, &[p(B::Delete(del_child))], 1)),
            dissect_udp4500_null,
        )
        .tshark(&t),
    );
    let info_hdr2 = Header::new(
        SPI_I,
        SPI_R,
        ExchangeType::Informational,
        flags::INITIATOR,
        6,
    );
    v.push(
        Sample::new(
            "ikev2/INFORMATIONAL-delete-ike",
            Frame::udp(ue(), epdg(), 4500, 4500),
            &with_marker(&protected(info_hdr2, &[p(B::Delete(Delete::ike()))], 1)),
            dissect_udp4500_null,
        )
        .tshark(&t),
    );

    // MOBIKE address update on 4500 (RFC 4555): UPDATE_SA_ADDRESSES, NAT detection,
    // ADDITIONAL_IP4/IP6_ADDRESS, COOKIE2.
    let mobike_hdr = Header::new(
        SPI_I,
        SPI_R,
        ExchangeType::Informational,
        flags::INITIATOR,
        7,
    );
    let extra4 = [192, 0, 2, 11];
    let extra6 = "2001:db8:1::11"
        .parse::<Ipv6Addr>()
        .map(|a| a.octets())
        .unwrap_or([0; 16]);
    let cookie2 = bytes(14, 16);
    let mobike_inner = vec![
        n(NotifyType::UpdateSaAddresses, &[]),
        n(NotifyType::NatDetectionSourceIp, &nat_src),
        n(NotifyType::NatDetectionDestinationIp, &nat_dst),
        n(NotifyType::AdditionalIp4Address, &extra4),
        n(NotifyType::AdditionalIp6Address, &extra6),
        n(NotifyType::Cookie2, &cookie2),
    ];
    v.push(
        Sample::new(
            "ikev2/INFORMATIONAL-mobike-udp4500",
            Frame::udp(ue(), epdg(), 4500, 4500),
            &with_marker(&protected(mobike_hdr, &mobike_inner, 1)),
            dissect_udp4500_null,
        )
        .tshark(&t),
    );

    // IKE_AUTH request fragment 1 of 2 (RFC 7383), ciphertext opaque.
    let frag_ct = bytes(15, 16 + 96 + 16);
    let mut frag = Vec::new();
    let mut frag_msg = Message::new(auth_hdr, Vec::new());
    frag_msg.payloads.push(p(B::Skf(super::EncryptedFragment {
        first_payload: super::PayloadType::IdI,
        fragment_number: 1,
        total_fragments: 2,
        data: &frag_ct,
    })));
    if let Err(e) = natt::emit_udp4500(&frag_msg, &mut frag) {
        panic!("sample does not emit: {e}");
    }
    v.push(Sample::new(
        "ikev2/IKE_AUTH-request-SKF",
        Frame::udp(ue(), epdg(), 4500, 4500),
        &frag,
        super::dissect_udp4500,
    ));

    // An AES-CBC protected message as it travels: SK opaque.
    let sk_ct = bytes(16, 16 + 64 + 16);
    let opaque = Message::new(
        Header::new(
            SPI_I,
            SPI_R,
            ExchangeType::Informational,
            flags::RESPONSE,
            5,
        ),
        vec![p(B::Sk(super::Encrypted {
            first_payload: super::PayloadType::Delete,
            data: &sk_ct,
        }))],
    );
    let mut opaque_b = Vec::new();
    if let Err(e) = natt::emit_udp4500(&opaque, &mut opaque_b) {
        panic!("sample does not emit: {e}");
    }
    v.push(Sample::new(
        "ikev2/INFORMATIONAL-response-encrypted",
        Frame::udp(epdg(), ue(), 4500, 4500),
        &opaque_b,
        super::dissect_udp4500,
    ));

    // NAT-keepalive on 4500.
    v.push(Sample::new(
        "ikev2/udp4500-NAT-keepalive",
        Frame::udp(ue(), epdg(), 4500, 4500),
        &natt::NAT_KEEPALIVE,
        super::dissect_udp4500,
    ));
    v
}

fn with_marker(msg: &[u8]) -> Vec<u8> {
    let mut v = natt::NON_ESP_MARKER.to_vec();
    v.extend_from_slice(msg);
    v
}
