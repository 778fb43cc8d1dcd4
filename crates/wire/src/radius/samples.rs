//! Sample RADIUS conversations: every RADIUS code, and every EAP, EAP-AKA, EAP-AKA' and
//! ERP message carried in EAP-Message attributes the way tshark decodes them.
//!
//! The packets carry correct Authenticators and Message-Authenticators for the shared
//! secret [`SAMPLE_SECRET`]. This crate has no cryptography, so the values are written in
//! [`SIGNATURES`]; `mobstrap-crypto`'s test `radius_samples` recomputes every one of them
//! and prints a corrected table when a sample changes. tshark checks the Response
//! Authenticators too (`crates/wire/tests/radius_authenticators.rs`).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{
    AttrType, Attribute, Code, Repr, VendorAttr, Vsa, PORT_ACCT, PORT_AUTH, PORT_DYNAUTH,
    VENDOR_MICROSOFT,
};
use crate::eap::{self, aka, erp, Body, Data};
use crate::frame::Frame;
use crate::sample::Sample;

/// The shared secret of every sample (`tshark -o radius.shared_secret:mobstrap`).
pub const SAMPLE_SECRET: &[u8] = b"mobstrap";

const NAS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const AAA: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const NAS_SPORT: u16 = 40000;
const AAA_DYNAUTH_SPORT: u16 = 40001;

/// (sample name, Authenticator, Message-Authenticator) in hex; "" where the sample has none
/// or the Authenticator is a request nonce (see [`nonce`]).
const SIGNATURES: &[(&str, &str, &str)] = &[
    ("eap/Start", "", "dfb3e0353b9cac8f466388b80cf6a4dd"),
    (
        "eap/Request-Identity",
        "8f16669234d2736b459adeea418c7f5e",
        "2336b250f61b243b5cf3dbd34a97d2b4",
    ),
    (
        "eap/Response-Identity",
        "",
        "2528286b243a1727a5fb08af6a727def",
    ),
    (
        "eap/aka/Identity-Request",
        "adc314e3604c8b25e21951c283fddb12",
        "9748a79413878a54fffefaced91da611",
    ),
    (
        "eap/aka/Identity-Response",
        "",
        "2c44b2c7b71770e25c8da5da3f6b6e9d",
    ),
    (
        "eap/aka/Challenge-Request",
        "3fe15a0d7e1bbe6075927ed9d9e6ec3d",
        "2ad852bd9d44ee3dc9882cbe7cd02a2b",
    ),
    (
        "eap/aka/Challenge-Response",
        "",
        "a365c143145c1fef318adfab43b77c2f",
    ),
    (
        "eap/aka/Notification-Request",
        "18096ec80fcff8dbfa277fa7b134f333",
        "17ae044cb38dc4f80723043a5055b821",
    ),
    (
        "eap/aka/Notification-Response",
        "",
        "27d585c76abd49d50f937e66314410e7",
    ),
    (
        "eap/Success",
        "a2d8de82f65e83c69c697766ec265745",
        "7a424efd7afc5a67a248930e0e92b70e",
    ),
    (
        "eap/Response-Identity-pseudonym",
        "",
        "1f9080153fec341e1a2f06da8b851c48",
    ),
    (
        "eap/aka-prime/Identity-Request",
        "e2febafb41cdeef59887a6d45660ec58",
        "a4892ba112ace17d6197301511b73b46",
    ),
    (
        "eap/aka-prime/Identity-Response",
        "",
        "2f4d013f8afb21810c22754e40776fe3",
    ),
    (
        "eap/aka-prime/Challenge-Request",
        "baf0abbf8aa02ade0ccb2b7d6b0c7950",
        "5d9334926045fa9153c3c1685e6e90e8",
    ),
    (
        "eap/aka-prime/Synchronization-Failure",
        "",
        "d9eb2d8b04f18b1881c0317e785e6802",
    ),
    (
        "eap/aka-prime/Challenge-Response",
        "",
        "f11864f550d5aa1eac52342c50aa5089",
    ),
    (
        "eap/Response-Identity-reauth",
        "",
        "198936064be4e63ef4dc22d96b05fc00",
    ),
    (
        "eap/aka/Reauthentication-Request",
        "eb25bd34c66c2677afeb9f47348133cf",
        "cdcfe7b61557153aa8ec5696e883c68d",
    ),
    (
        "eap/aka/Reauthentication-Response",
        "",
        "18c07d1190d2d78431101be316b102ab",
    ),
    (
        "eap/aka/Notification-Request-after-reauth",
        "c78e18224b00c08e1b9c46fc6c801f19",
        "aeac3ad438c48efec3542061515b2d6d",
    ),
    (
        "eap/aka/Client-Error",
        "",
        "6ccc27d571312449132b65bd71179d69",
    ),
    (
        "eap/Failure",
        "9de4a0424de2a3bedcb7b412ee83cac4",
        "37ad3cbfccfdbb500121fbddf138953d",
    ),
    (
        "eap/aka/Authentication-Reject",
        "",
        "4ccc0b36fc85274745cc6d01d42e1f18",
    ),
    ("eap/Response-Nak", "", "770077ec8ff70ece33a28268bd892160"),
    (
        "eap/Request-Notification",
        "63db4836231063f994e0171a4b47ba4d",
        "ff62eb8767a39ef540fa3c8263a8a5d7",
    ),
    (
        "eap/Response-Notification",
        "",
        "a548a184b8deae42d32eaa7a68818cdc",
    ),
    (
        "eap/aka/Identity-Request-any",
        "2bb142fb2a3b4924cabd8102e71eaf97",
        "48d42baf801e260bb189892e629d3f94",
    ),
    (
        "eap/Response-Expanded-Nak",
        "",
        "ad8d024a0e097c5794290470fdaeaade",
    ),
    (
        "eap/erp/Initiate-Reauth-Start",
        "a29c68b8a514c682a5476e1f5b612baa",
        "497e8e17fa2c8e81758e1d436826bd57",
    ),
    (
        "eap/erp/Initiate-Reauth",
        "",
        "b6222c9aebab54852f2397f7e3da21b5",
    ),
    (
        "eap/erp/Finish-Reauth",
        "cd9faf97074d89861513c7311513c4ca",
        "f71b9c01d6158763f7e74d85c9b5d57c",
    ),
    (
        "eap/erp/Initiate-Reauth-bootstrap",
        "",
        "35bf1ff2d27388664659175eb50f2127",
    ),
    (
        "eap/erp/Finish-Reauth-failure",
        "b0156605f9e281375515951b4ea248fe",
        "2cabb1291f6a4dbc49d5b3b78aa91629",
    ),
    (
        "radius/Access-Request",
        "",
        "6a055b58f1cdbfbbb4db1d92b9591ff7",
    ),
    (
        "radius/Access-Accept",
        "f6eed2bc560c4f96ac38296ed8b9215a",
        "439d3791a79750a60141b2dd86f3c4bb",
    ),
    (
        "radius/Access-Request-CHAP",
        "",
        "d108713358974eda6e3eb94044f908df",
    ),
    (
        "radius/Access-Reject",
        "ba09d4f4ae132f6085cebc4c3b0c73ed",
        "d1f86541ea12eb0c743efdb32b36f1c4",
    ),
    (
        "radius/Status-Server",
        "",
        "b0a97baba0095966e37d6bf635c7bc8e",
    ),
    (
        "radius/Access-Accept-Status",
        "95dadabaa1b9a40f6a3ddcd3d2a56595",
        "a765e3520ae7b7e2f2914ab0acf7a267",
    ),
    (
        "radius/Accounting-Request",
        "17fcf562c08d336922306e3b01da59db",
        "",
    ),
    (
        "radius/Accounting-Response",
        "7cc5bde45d0af7e946341b4f733e091c",
        "",
    ),
    (
        "radius/Accounting-Request-Stop",
        "fd2828cea07cd9ee2c13e7eed3ea5eac",
        "",
    ),
    (
        "radius/Disconnect-Request",
        "cc1ad454f48b106f9a1d45beb7bf8b67",
        "60aa6b60a9b415dab1da8a9fe2fc60a5",
    ),
    (
        "radius/Disconnect-ACK",
        "378a32ca20cb25869683796b0606f1b0",
        "",
    ),
    (
        "radius/Disconnect-Request-unknown",
        "cdaa035278f1d3af789a3605d519f898",
        "",
    ),
    (
        "radius/Disconnect-NAK",
        "c7ce6a3ceee7328b38104275e3107e80",
        "",
    ),
    ("radius/CoA-Request", "17a57c66b3a72f5b882626f6256d25be", ""),
    ("radius/CoA-ACK", "8ee10028e8d7b2dd6347be3eb8ef3e61", ""),
    (
        "radius/CoA-Request-unsupported",
        "ce4e1891ade6b4948e89c90685aa59b2",
        "",
    ),
    ("radius/CoA-NAK", "22543c66390cb92b521c61dd8482c805", ""),
];

/// The hidden User-Password of `radius/Access-Request` ("mobstrap-password" hidden with
/// the sample secret and that packet's nonce).
const PAP_HIDDEN: &str = "19af58ccad5c49bbc7dd628ad3a3c6a14aae007073d33d488059d9132142ea6b";

fn h16(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        let d = |c: u8| (c as char).to_digit(16).map(|v| v as u8);
        *o = d(b[2 * i])? << 4 | d(b[2 * i + 1])?;
    }
    Some(out)
}

fn hex_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    b.chunks_exact(2)
        .filter_map(|c| {
            let d = |c: u8| (c as char).to_digit(16).map(|v| v as u8);
            Some(d(c[0])? << 4 | d(c[1])?)
        })
        .collect()
}

/// Deterministic bytes that look random (xorshift), for nonces, tags and ciphertexts.
pub(crate) fn filler(seed: u32, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// The Request Authenticator nonce of Access-Request / Status-Server / Status-Client `id`.
fn nonce(id: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a.copy_from_slice(&filler(0x5eed_0000 + id as u32, 16));
    a
}

fn frame(code: Code) -> Frame {
    let (nas, aaa) = (IpAddr::V4(NAS), IpAddr::V4(AAA));
    match code {
        Code::AccountingRequest | Code::StatusClient => Frame::udp(nas, aaa, NAS_SPORT, PORT_ACCT),
        Code::AccountingResponse => Frame::udp(aaa, nas, PORT_ACCT, NAS_SPORT),
        Code::DisconnectRequest | Code::CoaRequest => {
            Frame::udp(aaa, nas, AAA_DYNAUTH_SPORT, PORT_DYNAUTH)
        }
        Code::DisconnectAck | Code::DisconnectNak | Code::CoaAck | Code::CoaNak => {
            Frame::udp(nas, aaa, PORT_DYNAUTH, AAA_DYNAUTH_SPORT)
        }
        c if c.is_response() => Frame::udp(aaa, nas, PORT_AUTH, NAS_SPORT),
        _ => Frame::udp(nas, aaa, NAS_SPORT, PORT_AUTH),
    }
}

/// Builds the conversation in order, remembering each request's Authenticator.
struct Conv {
    out: Vec<(Sample, Option<[u8; 16]>)>,
    requests: Vec<(u8, [u8; 16])>,
}

impl Conv {
    fn packet(&mut self, name: &str, code: Code, id: u8, attributes: Vec<Attribute<'_>>) {
        let sig = SIGNATURES.iter().find(|(n, _, _)| *n == name);
        let nonce_based = matches!(
            code,
            Code::AccessRequest | Code::StatusServer | Code::StatusClient
        );
        let authenticator = if nonce_based {
            nonce(id)
        } else {
            sig.and_then(|s| h16(s.1)).unwrap_or([0; 16])
        };
        let repr = Repr {
            code,
            identifier: id,
            authenticator,
            attributes,
        };
        let mut buf = Vec::new();
        if let Err(e) = repr.emit(&mut buf) {
            panic!("sample {name}: {e}");
        }
        if let Ok(Some(at)) = super::message_authenticator_offset(&buf) {
            let ma = sig.and_then(|s| h16(s.2)).unwrap_or([0; 16]);
            buf[at..at + 16].copy_from_slice(&ma);
        }
        let request_authenticator = if code.is_response() {
            self.requests
                .iter()
                .rev()
                .find(|(i, _)| *i == id)
                .map(|(_, a)| *a)
        } else {
            self.requests.push((id, authenticator));
            None
        };
        let s = Sample::new(name, frame(code), &buf, super::dissect);
        self.out.push((s, request_authenticator));
    }
}

fn eap_bytes(identifier: u8, body: Body<'_>) -> Vec<u8> {
    let mut v = Vec::new();
    if let Err(e) = (eap::Repr { identifier, body }).emit(&mut v) {
        panic!("EAP sample: {e}");
    }
    v
}

fn aka(subtype: aka::Subtype, attributes: Vec<aka::Attribute<'_>>) -> aka::Message<'_> {
    aka::Message::new(subtype, attributes)
}

const IMSI_NAI: &[u8] = b"0001010123456789@nai.epc.mnc001.mcc001.3gppnetwork.org";
const IMSI_NAI_PRIME: &[u8] = b"6001010123456789@nai.epc.mnc001.mcc001.3gppnetwork.org";
const PSEUDONYM_PRIME: &[u8] = b"7Zq3kV9xLw2Rb8Tn@nai.epc.mnc001.mcc001.3gppnetwork.org";
const REAUTH_ID: &[u8] = b"4h7GfQ2sXk9Pa1Wm@aaa.epc.mnc001.mcc001.3gppnetwork.org";
const CALLED: &[u8] = b"02-00-5E-00-53-01:mobstrap";
const CALLING: &[u8] = b"02-00-5E-00-53-99";
const NAS_ID: &[u8] = b"epdg1.example.net";

/// What a NAS (an ePDG or WLAN access point) puts in every EAP Access-Request.
fn nas_request<'a>(user: &'a [u8], eap: &'a [u8], state: Option<&'a [u8]>) -> Vec<Attribute<'a>> {
    let mut v = vec![
        Attribute::octets(AttrType::UserName, user),
        Attribute::ipv4(AttrType::NasIpAddress, NAS),
        Attribute::octets(AttrType::NasIdentifier, NAS_ID),
        Attribute::octets(AttrType::CalledStationId, CALLED),
        Attribute::octets(AttrType::CallingStationId, CALLING),
        Attribute::integer(AttrType::NasPortType, 19),
        Attribute::integer(AttrType::ServiceType, 2),
        Attribute::integer(AttrType::FramedMtu, 1400),
    ];
    if let Some(s) = state {
        v.push(Attribute::octets(AttrType::State, s));
    }
    push_eap(&mut v, eap);
    v.push(Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]));
    v
}

fn push_eap<'a>(v: &mut Vec<Attribute<'a>>, eap: &'a [u8]) {
    let mut r = Repr::new(Code::AccessRequest, 0, [0; 16]);
    r.push_eap_message(eap);
    v.extend(r.attributes);
}

/// An Access-Challenge with State, EAP-Message and Message-Authenticator.
fn challenge<'a>(eap: &'a [u8], state: &'a [u8]) -> Vec<Attribute<'a>> {
    let mut v = vec![Attribute::integer(AttrType::SessionTimeout, 30)];
    push_eap(&mut v, eap);
    v.push(Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]));
    v.push(Attribute::octets(AttrType::State, state));
    v
}

fn mppe<'a>(send: &'a [u8], recv: &'a [u8]) -> Attribute<'a> {
    Attribute::vendor(Vsa::new(
        VENDOR_MICROSOFT,
        vec![
            VendorAttr {
                vendor_type: 16,
                value: send,
            },
            VendorAttr {
                vendor_type: 17,
                value: recv,
            },
        ],
    ))
}

fn arr16(v: &[u8]) -> &[u8; 16] {
    match v.try_into() {
        Ok(a) => a,
        Err(_) => panic!("sample: 16 bytes expected"),
    }
}

/// Every sample in conversation order, with, for each response, the Authenticator of the
/// request it answers (what the crypto side needs to verify it).
pub fn samples_with_request_authenticators() -> Vec<(Sample, Option<[u8; 16]>)> {
    let mut c = Conv {
        out: Vec::new(),
        requests: Vec::new(),
    };
    eap_conversations(&mut c);
    radius_conversations(&mut c);
    c.out
}

/// The RADIUS samples (every code).
pub fn samples() -> Vec<Sample> {
    samples_with_request_authenticators()
        .into_iter()
        .map(|(s, _)| s)
        .filter(|s| s.name.starts_with("radius/"))
        .collect()
}

/// The EAP, EAP-AKA/AKA' and ERP samples, carried in RADIUS.
pub(crate) fn eap_samples() -> Vec<Sample> {
    samples_with_request_authenticators()
        .into_iter()
        .map(|(s, _)| s)
        .filter(|s| s.name.starts_with("eap/"))
        .collect()
}

fn eap_conversations(c: &mut Conv) {
    use aka::Attribute as A;
    use aka::Subtype as S;
    let state1 = filler(101, 16);
    let state2 = filler(102, 16);
    let state3 = filler(103, 16);
    let state4 = filler(104, 16);

    // --- EAP-AKA full authentication (RFC 4187 §3, §6.3.1 result indications) ---
    let start: &[u8] = &[];
    c.packet(
        "eap/Start",
        Code::AccessRequest,
        1,
        nas_request(b"", start, None),
    );
    let e = eap_bytes(1, Body::Request(Data::Identity(b"")));
    c.packet(
        "eap/Request-Identity",
        Code::AccessChallenge,
        1,
        challenge(&e, &state1),
    );
    let e = eap_bytes(1, Body::Response(Data::Identity(IMSI_NAI)));
    c.packet(
        "eap/Response-Identity",
        Code::AccessRequest,
        2,
        nas_request(IMSI_NAI, &e, Some(&state1)),
    );
    let e = eap_bytes(
        2,
        Body::Request(Data::Aka(aka(
            S::Identity,
            vec![A::PermanentIdReq { reserved: 0 }],
        ))),
    );
    c.packet(
        "eap/aka/Identity-Request",
        Code::AccessChallenge,
        2,
        challenge(&e, &state2),
    );
    let e = eap_bytes(
        2,
        Body::Response(Data::Aka(aka(
            S::Identity,
            vec![A::Identity(aka::Padded::new(IMSI_NAI))],
        ))),
    );
    c.packet(
        "eap/aka/Identity-Response",
        Code::AccessRequest,
        3,
        nas_request(IMSI_NAI, &e, Some(&state2)),
    );

    let rand = hex_bytes("81e92b6c0ee0e12ebceba8d92a99dfa5");
    let autn = hex_bytes("bb52e91c747ac3ab2a5c23d15ee351d5");
    let mac = filler(201, 16);
    let iv = filler(202, 16);
    let encr = filler(203, 64);
    let checkcode = filler(204, 20);
    let e = eap_bytes(
        3,
        Body::Request(Data::Aka(aka(
            S::Challenge,
            vec![
                A::Rand {
                    reserved: 0,
                    rand: arr16(&rand),
                },
                A::Autn {
                    reserved: 0,
                    autn: arr16(&autn),
                },
                A::ResultInd { reserved: 0 },
                A::Bidding(aka::BIDDING_D),
                A::Checkcode {
                    reserved: 0,
                    checkcode: &checkcode,
                },
                A::Iv {
                    reserved: 0,
                    iv: arr16(&iv),
                },
                A::EncrData {
                    reserved: 0,
                    data: &encr,
                },
                A::Mac {
                    reserved: 0,
                    mac: arr16(&mac),
                },
            ],
        ))),
    );
    c.packet(
        "eap/aka/Challenge-Request",
        Code::AccessChallenge,
        3,
        challenge(&e, &state3),
    );
    let res = hex_bytes("28d7b0f2a2ec3de5");
    let mac = filler(205, 16);
    let e = eap_bytes(
        3,
        Body::Response(Data::Aka(aka(
            S::Challenge,
            vec![
                A::Res {
                    res_bits: 64,
                    res: &res,
                    padding: &[],
                },
                A::Checkcode {
                    reserved: 0,
                    checkcode: &checkcode,
                },
                A::ResultInd { reserved: 0 },
                A::Mac {
                    reserved: 0,
                    mac: arr16(&mac),
                },
            ],
        ))),
    );
    c.packet(
        "eap/aka/Challenge-Response",
        Code::AccessRequest,
        4,
        nas_request(IMSI_NAI, &e, Some(&state3)),
    );
    let mac = filler(206, 16);
    let e = eap_bytes(
        4,
        Body::Request(Data::Aka(aka(
            S::Notification,
            vec![
                A::Notification(aka::NOTIFICATION_S),
                A::Mac {
                    reserved: 0,
                    mac: arr16(&mac),
                },
            ],
        ))),
    );
    c.packet(
        "eap/aka/Notification-Request",
        Code::AccessChallenge,
        4,
        challenge(&e, &state4),
    );
    let mac = filler(207, 16);
    let e = eap_bytes(
        4,
        Body::Response(Data::Aka(aka(
            S::Notification,
            vec![A::Mac {
                reserved: 0,
                mac: arr16(&mac),
            }],
        ))),
    );
    c.packet(
        "eap/aka/Notification-Response",
        Code::AccessRequest,
        5,
        nas_request(IMSI_NAI, &e, Some(&state4)),
    );
    let e = eap_bytes(4, Body::Success);
    let send = filler(208, 50);
    let recv = filler(209, 50);
    let mut send_v = vec![0x80, 0x01];
    send_v.extend_from_slice(&send[..48]);
    let mut recv_v = vec![0x80, 0x02];
    recv_v.extend_from_slice(&recv[..48]);
    let class = b"mobstrap-session-0001";
    let key_name = filler(210, 64);
    let mut v = vec![
        Attribute::octets(AttrType::UserName, IMSI_NAI),
        Attribute::integer(AttrType::SessionTimeout, 86400),
        Attribute::octets(AttrType::Class, class),
        mppe(&send_v, &recv_v),
    ];
    push_eap(&mut v, &e);
    v.push(Attribute::octets(AttrType::EapKeyName, &key_name));
    v.push(Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]));
    c.packet("eap/Success", Code::AccessAccept, 5, v);

    // --- EAP-AKA' (RFC 9048): pseudonym not recognised, full identity, long challenge ---
    let e = eap_bytes(5, Body::Response(Data::Identity(PSEUDONYM_PRIME)));
    c.packet(
        "eap/Response-Identity-pseudonym",
        Code::AccessRequest,
        6,
        nas_request(PSEUDONYM_PRIME, &e, None),
    );
    let e = eap_bytes(
        6,
        Body::Request(Data::AkaPrime(aka(
            S::Identity,
            vec![A::FullauthIdReq { reserved: 0 }],
        ))),
    );
    c.packet(
        "eap/aka-prime/Identity-Request",
        Code::AccessChallenge,
        6,
        challenge(&e, &state1),
    );
    let e = eap_bytes(
        6,
        Body::Response(Data::AkaPrime(aka(
            S::Identity,
            vec![A::Identity(aka::Padded::new(IMSI_NAI_PRIME))],
        ))),
    );
    c.packet(
        "eap/aka-prime/Identity-Response",
        Code::AccessRequest,
        7,
        nas_request(IMSI_NAI_PRIME, &e, Some(&state1)),
    );
    let mac = filler(211, 16);
    let iv = filler(212, 16);
    // Encrypted AT_NEXT_PSEUDONYM + AT_NEXT_REAUTH_ID + AT_PADDING: 176 bytes.
    let encr = filler(213, 176);
    let checkcode = filler(214, 32);
    let e = eap_bytes(
        7,
        Body::Request(Data::AkaPrime(aka(
            S::Challenge,
            vec![
                A::Rand {
                    reserved: 0,
                    rand: arr16(&rand),
                },
                A::Autn {
                    reserved: 0,
                    autn: arr16(&autn),
                },
                A::Kdf(1),
                A::KdfInput(aka::Padded::new(b"WLAN")),
                A::ResultInd { reserved: 0 },
                A::Checkcode {
                    reserved: 0,
                    checkcode: &checkcode,
                },
                A::Iv {
                    reserved: 0,
                    iv: arr16(&iv),
                },
                A::EncrData {
                    reserved: 0,
                    data: &encr,
                },
                A::Mac {
                    reserved: 0,
                    mac: arr16(&mac),
                },
            ],
        ))),
    );
    c.packet(
        "eap/aka-prime/Challenge-Request",
        Code::AccessChallenge,
        7,
        challenge(&e, &state2),
    );
    let auts = filler(215, 14);
    let auts: &[u8; 14] = match auts.as_slice().try_into() {
        Ok(a) => a,
        Err(_) => panic!("sample: AUTS"),
    };
    let e = eap_bytes(
        7,
        Body::Response(Data::AkaPrime(aka(
            S::SynchronizationFailure,
            vec![A::Auts(auts), A::Kdf(1)],
        ))),
    );
    c.packet(
        "eap/aka-prime/Synchronization-Failure",
        Code::AccessRequest,
        8,
        nas_request(IMSI_NAI_PRIME, &e, Some(&state2)),
    );
    let res = filler(216, 16);
    let mac = filler(217, 16);
    let e = eap_bytes(
        8,
        Body::Response(Data::AkaPrime(aka(
            S::Challenge,
            vec![
                A::Res {
                    res_bits: 128,
                    res: &res,
                    padding: &[],
                },
                A::Checkcode {
                    reserved: 0,
                    checkcode: &checkcode,
                },
                A::ResultInd { reserved: 0 },
                A::Mac {
                    reserved: 0,
                    mac: arr16(&mac),
                },
            ],
        ))),
    );
    c.packet(
        "eap/aka-prime/Challenge-Response",
        Code::AccessRequest,
        9,
        nas_request(IMSI_NAI_PRIME, &e, Some(&state3)),
    );

    // --- Fast re-authentication (RFC 4187 §5) ---
    let e = eap_bytes(9, Body::Response(Data::Identity(REAUTH_ID)));
    c.packet(
        "eap/Response-Identity-reauth",
        Code::AccessRequest,
        10,
        nas_request(REAUTH_ID, &e, None),
    );
    let mac = filler(218, 16);
    let iv = filler(219, 16);
    // Encrypted AT_COUNTER + AT_NONCE_S + AT_NEXT_REAUTH_ID + AT_PADDING.
    let encr = filler(220, 112);
    let e = eap_bytes(
        10,
        Body::Request(Data::Aka(aka(
            S::Reauthentication,
            vec![
                A::Iv {
                    reserved: 0,
                    iv: arr16(&iv),
                },
                A::EncrData {
                    reserved: 0,
                    data: &encr,
                },
                A::Checkcode {
                    reserved: 0,
                    checkcode: &[],
                },
                A::ResultInd { reserved: 0 },
                A::Mac {
                    reserved: 0,
                    mac: arr16(&mac),
                },
            ],
        ))),
    );
    c.packet(
        "eap/aka/Reauthentication-Request",
        Code::AccessChallenge,
        10,
        challenge(&e, &state1),
    );
    let mac = filler(221, 16);
    let iv = filler(222, 16);
    // Encrypted AT_COUNTER (+ AT_COUNTER_TOO_SMALL) + AT_PADDING.
    let encr = filler(223, 16);
    let e = eap_bytes(
        10,
        Body::Response(Data::Aka(aka(
            S::Reauthentication,
            vec![
                A::Iv {
                    reserved: 0,
                    iv: arr16(&iv),
                },
                A::EncrData {
                    reserved: 0,
                    data: &encr,
                },
                A::Checkcode {
                    reserved: 0,
                    checkcode: &[],
                },
                A::ResultInd { reserved: 0 },
                A::Mac {
                    reserved: 0,
                    mac: arr16(&mac),
                },
            ],
        ))),
    );
    c.packet(
        "eap/aka/Reauthentication-Response",
        Code::AccessRequest,
        11,
        nas_request(REAUTH_ID, &e, Some(&state1)),
    );
    // A failure notification after re-authentication carries an encrypted AT_COUNTER.
    let mac = filler(224, 16);
    let iv = filler(225, 16);
    let encr = filler(226, 16);
    let e = eap_bytes(
        11,
        Body::Request(Data::Aka(aka(
            S::Notification,
            vec![
                A::Notification(0),
                A::Iv {
                    reserved: 0,
                    iv: arr16(&iv),
                },
                A::EncrData {
                    reserved: 0,
                    data: &encr,
                },
                A::Mac {
                    reserved: 0,
                    mac: arr16(&mac),
                },
            ],
        ))),
    );
    c.packet(
        "eap/aka/Notification-Request-after-reauth",
        Code::AccessChallenge,
        11,
        challenge(&e, &state2),
    );

    // --- Errors: Client-Error → Failure, Authentication-Reject, Nak, Notification ---
    let e = eap_bytes(
        12,
        Body::Response(Data::Aka(aka(S::ClientError, vec![A::ClientErrorCode(0)]))),
    );
    c.packet(
        "eap/aka/Client-Error",
        Code::AccessRequest,
        12,
        nas_request(IMSI_NAI, &e, Some(&state3)),
    );
    let e = eap_bytes(12, Body::Failure);
    let mut v = vec![Attribute::octets(AttrType::ReplyMessage, b"EAP-AKA failed")];
    push_eap(&mut v, &e);
    v.push(Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]));
    c.packet("eap/Failure", Code::AccessReject, 12, v);
    let e = eap_bytes(
        13,
        Body::Response(Data::Aka(aka(S::AuthenticationReject, vec![]))),
    );
    c.packet(
        "eap/aka/Authentication-Reject",
        Code::AccessRequest,
        13,
        nas_request(IMSI_NAI, &e, Some(&state4)),
    );
    let e = eap_bytes(14, Body::Response(Data::Nak(&[23, 50])));
    c.packet(
        "eap/Response-Nak",
        Code::AccessRequest,
        14,
        nas_request(IMSI_NAI, &e, Some(&state1)),
    );
    let e = eap_bytes(
        15,
        Body::Request(Data::Notification(b"Service unavailable: try again later")),
    );
    c.packet(
        "eap/Request-Notification",
        Code::AccessChallenge,
        14,
        challenge(&e, &state2),
    );
    let e = eap_bytes(15, Body::Response(Data::Notification(b"")));
    c.packet(
        "eap/Response-Notification",
        Code::AccessRequest,
        15,
        nas_request(IMSI_NAI, &e, Some(&state2)),
    );
    let e = eap_bytes(
        16,
        Body::Request(Data::Aka(aka(
            S::Identity,
            vec![A::AnyIdReq { reserved: 0 }],
        ))),
    );
    c.packet(
        "eap/aka/Identity-Request-any",
        Code::AccessChallenge,
        15,
        challenge(&e, &state3),
    );
    let nak = [254u8, 0, 0, 0, 0, 0, 0, 23, 254, 0, 0, 0, 0, 0, 0, 50];
    let e = eap_bytes(
        17,
        Body::Response(Data::Expanded(eap::Expanded {
            vendor_id: 0,
            vendor_type: 3,
            data: &nak,
        })),
    );
    c.packet(
        "eap/Response-Expanded-Nak",
        Code::AccessRequest,
        16,
        nas_request(IMSI_NAI, &e, Some(&state4)),
    );

    // --- ERP (RFC 6696) ---
    let e = eap_bytes(
        18,
        Body::Initiate(erp::Message::ReauthStart(erp::ReauthStart {
            reserved: 0,
            attributes: vec![erp::Attr::new(erp::AttrType::DomainName, b"example.net")],
        })),
    );
    c.packet(
        "eap/erp/Initiate-Reauth-Start",
        Code::AccessChallenge,
        16,
        challenge(&e, &state1),
    );
    let nai = b"3a0f5c8e91d2b746@example.net";
    let tag = filler(230, 16);
    let e = eap_bytes(
        19,
        Body::Initiate(erp::Message::Reauth(erp::Reauth {
            flags: erp::FLAG_L,
            seq: 1,
            attributes: vec![erp::Attr::new(erp::AttrType::KeyNameNai, nai)],
            cryptosuite: erp::Cryptosuite::HmacSha256_128,
            tag: &tag,
        })),
    );
    c.packet(
        "eap/erp/Initiate-Reauth",
        Code::AccessRequest,
        17,
        nas_request(nai, &e, None),
    );
    let tag = filler(231, 16);
    let rrk = 86400u32.to_be_bytes();
    let rmsk = 3600u32.to_be_bytes();
    let e = eap_bytes(
        19,
        Body::Finish(erp::Message::Reauth(erp::Reauth {
            flags: erp::FLAG_L,
            seq: 1,
            attributes: vec![
                erp::Attr::new(erp::AttrType::KeyNameNai, nai),
                erp::Attr::new(erp::AttrType::RrkLifetime, &rrk),
                erp::Attr::new(erp::AttrType::RmskLifetime, &rmsk),
            ],
            cryptosuite: erp::Cryptosuite::HmacSha256_128,
            tag: &tag,
        })),
    );
    let send = filler(232, 48);
    let recv = filler(233, 48);
    let mut send_v = vec![0x80, 0x03];
    send_v.extend_from_slice(&send);
    let mut recv_v = vec![0x80, 0x04];
    recv_v.extend_from_slice(&recv);
    let mut v = vec![
        Attribute::octets(AttrType::UserName, nai),
        mppe(&send_v, &recv_v),
    ];
    push_eap(&mut v, &e);
    v.push(Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]));
    c.packet("eap/erp/Finish-Reauth", Code::AccessAccept, 17, v);
    let tag = filler(234, 8);
    let e = eap_bytes(
        20,
        Body::Initiate(erp::Message::Reauth(erp::Reauth {
            flags: erp::FLAG_B,
            seq: 0,
            attributes: vec![erp::Attr::new(erp::AttrType::KeyNameNai, nai)],
            cryptosuite: erp::Cryptosuite::HmacSha256_64,
            tag: &tag,
        })),
    );
    c.packet(
        "eap/erp/Initiate-Reauth-bootstrap",
        Code::AccessRequest,
        18,
        nas_request(nai, &e, None),
    );
    let tag = filler(235, 16);
    let e = eap_bytes(
        20,
        Body::Finish(erp::Message::Reauth(erp::Reauth {
            flags: erp::FLAG_R | erp::FLAG_B,
            seq: 0,
            attributes: vec![
                erp::Attr::new(erp::AttrType::KeyNameNai, nai),
                erp::Attr::new(erp::AttrType::Cryptosuites, &[2, 3]),
            ],
            cryptosuite: erp::Cryptosuite::HmacSha256_128,
            tag: &tag,
        })),
    );
    let mut v = vec![Attribute::octets(
        AttrType::ReplyMessage,
        b"ERP: cryptosuite not supported",
    )];
    push_eap(&mut v, &e);
    v.push(Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]));
    c.packet("eap/erp/Finish-Reauth-failure", Code::AccessReject, 18, v);
}

fn radius_conversations(c: &mut Conv) {
    // PAP (RFC 2865 §7.1 style), answered with a framed profile.
    let user = b"alice@example.net";
    let hidden = hex_bytes(PAP_HIDDEN);
    c.packet(
        "radius/Access-Request",
        Code::AccessRequest,
        30,
        vec![
            Attribute::octets(AttrType::UserName, user),
            Attribute::octets(AttrType::UserPassword, &hidden),
            Attribute::ipv4(AttrType::NasIpAddress, NAS),
            Attribute::integer(AttrType::NasPort, 3),
            Attribute::integer(AttrType::NasPortType, 5),
            Attribute::integer(AttrType::ServiceType, 2),
            Attribute::integer(AttrType::FramedProtocol, 1),
            Attribute::octets(AttrType::CallingStationId, CALLING),
            Attribute::octets(AttrType::NasIdentifier, NAS_ID),
            Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]),
        ],
    );
    let prefix = [0u8, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2];
    c.packet(
        "radius/Access-Accept",
        Code::AccessAccept,
        30,
        vec![
            Attribute::integer(AttrType::ServiceType, 2),
            Attribute::integer(AttrType::FramedProtocol, 1),
            Attribute::ipv4(AttrType::FramedIpAddress, Ipv4Addr::new(198, 51, 100, 20)),
            Attribute::ipv4(AttrType::FramedIpNetmask, Ipv4Addr::new(255, 255, 255, 255)),
            Attribute::integer(AttrType::FramedRouting, 0),
            Attribute::integer(AttrType::FramedMtu, 1500),
            Attribute::integer(AttrType::FramedCompression, 0),
            Attribute::octets(AttrType::FramedIpv6Prefix, &prefix),
            Attribute::octets(AttrType::FramedPool, b"pool-v4"),
            Attribute::octets(AttrType::FilterId, b"std.in"),
            Attribute::integer(AttrType::SessionTimeout, 3600),
            Attribute::integer(AttrType::IdleTimeout, 600),
            Attribute::integer(AttrType::TerminationAction, 1),
            Attribute::integer(AttrType::AcctInterimInterval, 300),
            Attribute::octets(AttrType::Class, b"mobstrap-class-30"),
            Attribute::octets(AttrType::ReplyMessage, b"Welcome"),
            Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]),
        ],
    );
    // CHAP (RFC 2865 §7.2 style), rejected.
    let mut chap = vec![0x16];
    chap.extend_from_slice(&filler(301, 16));
    let challenge_bytes = filler(302, 16);
    c.packet(
        "radius/Access-Request-CHAP",
        Code::AccessRequest,
        31,
        vec![
            Attribute::octets(AttrType::UserName, b"bob@example.net"),
            Attribute::octets(AttrType::ChapPassword, &chap),
            Attribute::octets(AttrType::ChapChallenge, &challenge_bytes),
            Attribute::ipv6(
                AttrType::NasIpv6Address,
                Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10),
            ),
            Attribute::integer(AttrType::NasPort, 7),
            Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]),
        ],
    );
    c.packet(
        "radius/Access-Reject",
        Code::AccessReject,
        31,
        vec![
            Attribute::octets(AttrType::ReplyMessage, b"Authentication failed"),
            Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]),
        ],
    );
    // Status-Server (RFC 5997 §6.1) and its Access-Accept.
    c.packet(
        "radius/Status-Server",
        Code::StatusServer,
        32,
        vec![
            Attribute::octets(AttrType::NasIdentifier, NAS_ID),
            Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]),
        ],
    );
    c.packet(
        "radius/Access-Accept-Status",
        Code::AccessAccept,
        32,
        vec![
            Attribute::octets(AttrType::ReplyMessage, b"mobstrap AAA up"),
            Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]),
        ],
    );
    // Accounting (RFC 2866).
    let session = b"00000042-mobstrap";
    c.packet(
        "radius/Accounting-Request",
        Code::AccountingRequest,
        33,
        vec![
            Attribute::integer(AttrType::AcctStatusType, 1),
            Attribute::octets(AttrType::AcctSessionId, session),
            Attribute::octets(AttrType::UserName, IMSI_NAI),
            Attribute::ipv4(AttrType::NasIpAddress, NAS),
            Attribute::octets(AttrType::NasIdentifier, NAS_ID),
            Attribute::ipv4(AttrType::FramedIpAddress, Ipv4Addr::new(198, 51, 100, 20)),
            Attribute::octets(AttrType::CalledStationId, CALLED),
            Attribute::octets(AttrType::CallingStationId, CALLING),
            Attribute::integer(AttrType::AcctAuthentic, 1),
            Attribute::integer(AttrType::AcctDelayTime, 0),
            Attribute::integer(AttrType::EventTimestamp, 1_700_000_000),
            Attribute::octets(AttrType::Class, b"mobstrap-class-30"),
        ],
    );
    c.packet(
        "radius/Accounting-Response",
        Code::AccountingResponse,
        33,
        vec![],
    );
    c.packet(
        "radius/Accounting-Request-Stop",
        Code::AccountingRequest,
        34,
        vec![
            Attribute::integer(AttrType::AcctStatusType, 2),
            Attribute::octets(AttrType::AcctSessionId, session),
            Attribute::octets(AttrType::UserName, IMSI_NAI),
            Attribute::ipv4(AttrType::NasIpAddress, NAS),
            Attribute::integer(AttrType::AcctSessionTime, 3542),
            Attribute::integer(AttrType::AcctInputOctets, 1_234_567),
            Attribute::integer(AttrType::AcctOutputOctets, 7_654_321),
            Attribute::integer(AttrType::AcctInputPackets, 2345),
            Attribute::integer(AttrType::AcctOutputPackets, 6789),
            Attribute::integer(AttrType::AcctInputGigawords, 0),
            Attribute::integer(AttrType::AcctOutputGigawords, 1),
            Attribute::integer(AttrType::AcctTerminateCause, 1),
            Attribute::octets(AttrType::AcctMultiSessionId, b"mobstrap-multi-1"),
            Attribute::integer(AttrType::AcctLinkCount, 1),
        ],
    );
    c.packet(
        "radius/Status-Client",
        Code::StatusClient,
        35,
        vec![Attribute::octets(AttrType::NasIdentifier, NAS_ID)],
    );
    // Dynamic authorization (RFC 5176), from the AAA server to the NAS.
    c.packet(
        "radius/Disconnect-Request",
        Code::DisconnectRequest,
        40,
        vec![
            Attribute::octets(AttrType::UserName, IMSI_NAI),
            Attribute::octets(AttrType::AcctSessionId, session),
            Attribute::ipv4(AttrType::NasIpAddress, NAS),
            Attribute::octets(AttrType::MessageAuthenticator, &[0; 16]),
        ],
    );
    c.packet(
        "radius/Disconnect-ACK",
        Code::DisconnectAck,
        40,
        vec![Attribute::integer(AttrType::AcctTerminateCause, 6)],
    );
    c.packet(
        "radius/Disconnect-Request-unknown",
        Code::DisconnectRequest,
        41,
        vec![
            Attribute::octets(AttrType::AcctSessionId, b"deadbeef"),
            Attribute::ipv4(AttrType::NasIpAddress, NAS),
        ],
    );
    c.packet(
        "radius/Disconnect-NAK",
        Code::DisconnectNak,
        41,
        vec![Attribute::integer(AttrType::ErrorCause, 503)],
    );
    c.packet(
        "radius/CoA-Request",
        Code::CoaRequest,
        42,
        vec![
            Attribute::octets(AttrType::AcctSessionId, session),
            Attribute::ipv4(AttrType::NasIpAddress, NAS),
            Attribute::integer(AttrType::SessionTimeout, 7200),
            Attribute::octets(AttrType::FilterId, b"std.out"),
            Attribute::octets(AttrType::State, b"coa-42"),
        ],
    );
    c.packet("radius/CoA-ACK", Code::CoaAck, 42, vec![]);
    c.packet(
        "radius/CoA-Request-unsupported",
        Code::CoaRequest,
        43,
        vec![
            Attribute::octets(AttrType::AcctSessionId, session),
            Attribute::integer(AttrType::ServiceType, 17),
            Attribute::integer(AttrType::IdleTimeout, 60),
        ],
    );
    c.packet(
        "radius/CoA-NAK",
        Code::CoaNak,
        43,
        vec![
            Attribute::integer(AttrType::ErrorCause, 405),
            Attribute::integer(AttrType::ServiceType, 17),
        ],
    );
}
