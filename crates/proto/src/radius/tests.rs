use super::*;
use mobstrap_wire::radius::{Code, Repr};
use proptest::prelude::*;

const SECRET: &[u8] = b"testing123";

fn nas() -> SocketAddr {
    "192.0.2.10:40000".parse().unwrap()
}

fn server() -> RadiusServer {
    RadiusServer::new(
        Config::default(),
        [(
            nas().ip(),
            Client {
                name: "nas1".into(),
                secret: SECRET.to_vec(),
            },
        )],
    )
}

/// A signed Access-Request carrying `eap` (and State when given).
fn access_request(
    id: u8,
    auth: [u8; 16],
    eap: &[u8],
    state: Option<&[u8]>,
    with_ma: bool,
) -> Vec<u8> {
    let mut r = Repr::new(Code::AccessRequest, id, auth);
    r.attributes.push(Attribute::octets(
        AttrType::UserName,
        b"0001010000000001@example",
    ));
    r.push_eap_message(eap);
    if let Some(s) = state {
        r.attributes.push(Attribute::octets(AttrType::State, s));
    }
    if with_ma {
        r.push_message_authenticator();
    }
    let mut out = Vec::new();
    r.emit(&mut out).unwrap();
    rcrypto::sign_request(&mut out, SECRET).unwrap();
    out
}

const EAP_IDENTITY: &[u8] = &[2, 7, 0, 9, 1, b'u', b's', b'e', b'r'];

#[test]
fn eap_request_is_handed_on_and_answer_is_signed_and_cached() {
    let mut s = server();
    let now = Instant::now();
    let req = access_request(5, [7; 16], EAP_IDENTITY, None, true);
    let token = match s.handle_datagram(nas(), &req, now) {
        Incoming::Eap(e) => {
            assert_eq!(&*e.eap, EAP_IDENTITY);
            assert_eq!(e.client, "nas1");
            assert_eq!(e.user_name, Some(&b"0001010000000001@example"[..]));
            assert_eq!(e.state, None);
            e.token
        }
        other => panic!("{other:?}"),
    };
    // A retransmission while the EAP server works: ignored, not handed on twice.
    assert!(matches!(
        s.handle_datagram(nas(), &req, now),
        Incoming::InProgress
    ));
    let eap_req = [1u8, 8, 0, 5, 23];
    let ans = s
        .respond(
            token,
            Outcome::Challenge {
                eap: &eap_req,
                state: b"sess-1",
            },
            1,
        )
        .unwrap();
    assert!(
        rcrypto::verify_response(&ans, &[7; 16], SECRET).unwrap(),
        "Message-Authenticator present"
    );
    let r = Repr::parse(&ans).unwrap();
    assert_eq!(r.code, Code::AccessChallenge);
    assert_eq!(r.identifier, 5);
    assert_eq!(r.eap_message().as_deref(), Some(&eap_req[..]));
    assert_eq!(
        r.attribute(AttrType::State).and_then(|a| a.as_bytes()),
        Some(&b"sess-1"[..])
    );
    // A retransmission after the answer: the same bytes from the cache.
    match s.handle_datagram(nas(), &req, now) {
        Incoming::Reply(b) => assert_eq!(b, ans),
        other => panic!("{other:?}"),
    }
    let c = s.counters();
    assert_eq!((c.requests, c.duplicates, c.challenges), (1, 2, 1));
    // After the duplicate window the same bytes are a new request.
    let later = now + Config::default().duplicate_window + Duration::from_secs(1);
    assert!(matches!(
        s.handle_datagram(nas(), &req, later),
        Incoming::Eap(_)
    ));
    assert_eq!(s.cached(), 1);
}

#[test]
fn accept_carries_the_msk_as_mppe_keys() {
    let mut s = server();
    let now = Instant::now();
    let req = access_request(9, [3; 16], EAP_IDENTITY, Some(b"sess"), true);
    let Incoming::Eap(e) = s.handle_datagram(nas(), &req, now) else {
        panic!()
    };
    let token = e.token;
    let mut msk = [0u8; 64];
    for (i, b) in msk.iter_mut().enumerate() {
        *b = i as u8;
    }
    let success = [3u8, 9, 0, 4];
    let ans = s
        .respond(
            token,
            Outcome::Accept {
                eap: &success,
                msk: &msk,
                user_name: Some(b"alice"),
                session_timeout: Some(3600),
            },
            0x1234,
        )
        .unwrap();
    assert!(rcrypto::verify_response(&ans, &[3; 16], SECRET).unwrap());
    let r = Repr::parse(&ans).unwrap();
    assert_eq!(r.code, Code::AccessAccept);
    // One Microsoft VSA per key, each holding exactly that key (strongSwan needs this).
    let vsas: Vec<_> = r
        .attributes
        .iter()
        .filter_map(|a| match &a.value {
            mobstrap_wire::radius::Value::Vendor(v) if v.vendor_id == VENDOR_MICROSOFT => {
                Some(v.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(vsas.len(), 2, "one Microsoft VSA per MS-MPPE key");
    assert!(vsas
        .iter()
        .all(|v| matches!(&v.data, mobstrap_wire::radius::VsaData::Subs(s) if s.len() == 1)));
    let recv = vsas[0].sub(MS_MPPE_RECV_KEY).unwrap().value;
    let send = vsas[1].sub(MS_MPPE_SEND_KEY).unwrap().value;
    assert_ne!(recv[..2], send[..2], "salts differ");
    assert_eq!(
        rcrypto::decrypt_mppe_key(recv, SECRET, &[3; 16])
            .unwrap()
            .as_slice(),
        &msk[..32]
    );
    assert_eq!(
        rcrypto::decrypt_mppe_key(send, SECRET, &[3; 16])
            .unwrap()
            .as_slice(),
        &msk[32..]
    );
}

#[test]
fn bad_packets_are_dropped_and_named() {
    let mut s = server();
    let now = Instant::now();
    let good = access_request(1, [1; 16], EAP_IDENTITY, None, true);
    // Unknown client.
    assert!(matches!(
        s.handle_datagram("198.51.100.1:1812".parse().unwrap(), &good, now),
        Incoming::Drop(Drop::UnknownClient)
    ));
    // EAP without Message-Authenticator (RFC 3579 §3.3).
    let no_ma = access_request(2, [1; 16], EAP_IDENTITY, None, false);
    assert!(matches!(
        s.handle_datagram(nas(), &no_ma, now),
        Incoming::Drop(Drop::MissingMessageAuthenticator)
    ));
    // Wrong secret.
    let mut r = Repr::new(Code::AccessRequest, 3, [1; 16]);
    r.push_eap_message(EAP_IDENTITY);
    r.push_message_authenticator();
    let mut wrong = Vec::new();
    r.emit(&mut wrong).unwrap();
    rcrypto::sign_request(&mut wrong, b"not the secret").unwrap();
    assert!(matches!(
        s.handle_datagram(nas(), &wrong, now),
        Incoming::Drop(Drop::BadAuthenticator)
    ));
    // Truncated: the error names the field.
    match s.handle_datagram(nas(), &good[..good.len() - 3], now) {
        Incoming::Drop(Drop::Malformed(e)) => assert_eq!(e.proto, "radius"),
        other => panic!("{other:?}"),
    }
    // A response sent to a server.
    let mut acc = good.clone();
    acc[0] = 2;
    assert!(matches!(
        s.handle_datagram(nas(), &acc, now),
        Incoming::Drop(Drop::UnexpectedCode(2))
    ));
    assert_eq!(s.counters().dropped, 4 + 1);
    // ... and the next good request is served.
    assert!(matches!(
        s.handle_datagram(nas(), &good, now),
        Incoming::Eap(_)
    ));
}

#[test]
fn non_eap_access_request_is_rejected_signed() {
    let mut s = server();
    let mut r = Repr::new(Code::AccessRequest, 4, [9; 16]);
    r.attributes
        .push(Attribute::octets(AttrType::UserName, b"bob"));
    let mut req = Vec::new();
    r.emit(&mut req).unwrap();
    let Incoming::NotEap(t) = s.handle_datagram(nas(), &req, Instant::now()) else {
        panic!()
    };
    let ans = s.respond(t, Outcome::Reject { eap: None }, 0).unwrap();
    assert!(rcrypto::verify_response(&ans, &[9; 16], SECRET).unwrap());
    assert_eq!(Repr::parse(&ans).unwrap().code, Code::AccessReject);
}

#[test]
fn status_server_and_accounting_are_answered() {
    let mut s = server();
    let now = Instant::now();
    let mut r = Repr::new(Code::StatusServer, 11, [5; 16]);
    r.push_message_authenticator();
    let mut req = Vec::new();
    r.emit(&mut req).unwrap();
    rcrypto::sign_request(&mut req, SECRET).unwrap();
    let Incoming::Reply(ans) = s.handle_datagram(nas(), &req, now) else {
        panic!()
    };
    assert_eq!(ans[0], Code::AccessAccept.value());
    assert!(rcrypto::verify_response(&ans, &[5; 16], SECRET).unwrap());

    let mut a = Repr::new(Code::AccountingRequest, 12, [0; 16]);
    a.attributes
        .push(Attribute::integer(AttrType::AcctStatusType, 1));
    a.attributes
        .push(Attribute::octets(AttrType::AcctSessionId, b"s1"));
    let mut acct = Vec::new();
    a.emit(&mut acct).unwrap();
    rcrypto::sign_request(&mut acct, SECRET).unwrap();
    let Incoming::Reply(ans) = s.handle_datagram(nas(), &acct, now) else {
        panic!()
    };
    assert_eq!(ans[0], Code::AccountingResponse.value());
    let req_auth: [u8; 16] = acct[4..20].try_into().unwrap();
    rcrypto::verify_response(&ans, &req_auth, SECRET).unwrap();
    // A forged accounting request (bad Request Authenticator) is dropped.
    let mut forged = acct.clone();
    forged[25] ^= 1;
    assert!(matches!(
        s.handle_datagram(nas(), &forged, now),
        Incoming::Drop(_)
    ));
}

#[test]
fn cache_is_bounded() {
    let mut s = RadiusServer::new(
        Config {
            max_cached: 2,
            ..Config::default()
        },
        [(
            nas().ip(),
            Client {
                name: "n".into(),
                secret: SECRET.to_vec(),
            },
        )],
    );
    let now = Instant::now();
    for id in 0..2u8 {
        let req = access_request(id, [id; 16], EAP_IDENTITY, None, true);
        assert!(matches!(
            s.handle_datagram(nas(), &req, now),
            Incoming::Eap(_)
        ));
    }
    let req = access_request(2, [2; 16], EAP_IDENTITY, None, true);
    assert!(matches!(
        s.handle_datagram(nas(), &req, now),
        Incoming::Drop(Drop::Overloaded)
    ));
}

proptest! {
    #[test]
    fn arbitrary_datagrams_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), id in any::<u8>()) {
        let mut s = server();
        let now = Instant::now();
        let _ = s.handle_datagram(nas(), &data, now);
        // The same bytes with a valid signature where the header allows it.
        let mut d = data.clone();
        if d.len() >= 20 {
            d[0] = 1;
            d[1] = id;
            let l = d.len() as u16;
            d[2..4].copy_from_slice(&l.to_be_bytes());
            let _ = rcrypto::sign_request(&mut d, SECRET);
            if let Incoming::Eap(e) = s.handle_datagram(nas(), &d, now) {
                let t = e.token;
                let _ = s.respond(t, Outcome::Reject { eap: None }, 0);
            }
        }
    }
}

#[test]
fn clients_by_network_longest_prefix_first() {
    let net = |a: &str, len: u8, name: &str, secret: &[u8]| ClientNetwork {
        network: a.parse().unwrap(),
        prefix_len: len,
        client: Client {
            name: name.into(),
            secret: secret.to_vec(),
        },
    };
    let mut s = RadiusServer::new(Config::default(), []).with_networks([
        net("192.0.2.0", 24, "lan", b"other"),
        net("192.0.2.8", 29, "nas-block", SECRET),
        net("2001:db8::", 32, "v6", SECRET),
    ]);
    assert_eq!(
        s.client("192.0.2.10".parse().unwrap()).unwrap().name,
        "nas-block"
    );
    assert_eq!(s.client("192.0.2.99".parse().unwrap()).unwrap().name, "lan");
    assert_eq!(
        s.client("::ffff:192.0.2.9".parse().unwrap()).unwrap().name,
        "nas-block"
    );
    assert_eq!(
        s.client("2001:db8:1::5".parse().unwrap()).unwrap().name,
        "v6"
    );
    assert!(s.client("198.51.100.1".parse().unwrap()).is_none());
    let now = Instant::now();
    let req = access_request(5, [7; 16], EAP_IDENTITY, None, true);
    match s.handle_datagram(nas(), &req, now) {
        Incoming::Eap(e) => assert_eq!(e.client, "nas-block"),
        other => panic!("{other:?}"),
    }
    // The /24 client's secret does not verify this packet.
    let from_lan: SocketAddr = "192.0.2.99:1".parse().unwrap();
    assert!(matches!(
        s.handle_datagram(from_lan, &req, now),
        Incoming::Drop(Drop::BadAuthenticator)
    ));
}
