//! RADIUS cryptography against every published vector in `tests/data/radius_*.json`
//! (RFC 2865 §7, RFC 5997 §6.1, scapy's real captures), and against the sample packets of
//! `mobstrap_wire::radius`, whose Authenticators and Message-Authenticators are hard-coded
//! there (this test prints the corrected table when a sample changes).

use mobstrap_crypto::radius::*;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn packets(v: &Value) -> Vec<(String, Vec<u8>, &Value)> {
    v["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap().to_string(),
                hex::decode(x["hex"].as_str().unwrap()).unwrap(),
                x,
            )
        })
        .collect()
}

fn auth(p: &[u8]) -> [u8; 16] {
    p[4..20].try_into().unwrap()
}

fn flip(p: &[u8], at: usize) -> Vec<u8> {
    let mut q = p.to_vec();
    q[at] ^= 0x01;
    q
}

/// The User-Password value of a packet, if any.
fn user_password(p: &[u8]) -> Option<&[u8]> {
    let mut pos = 20;
    while pos + 2 <= p.len() {
        let (t, l) = (p[pos], p[pos + 1] as usize);
        if t == 2 {
            return Some(&p[pos + 2..pos + l]);
        }
        pos += l;
    }
    None
}

#[test]
fn rfc2865_examples() {
    let v = load("radius_rfc2865_examples.json");
    let secret = v["secret"].as_str().unwrap().as_bytes();
    let pkts = packets(&v);
    assert_eq!(pkts.len(), 8);
    let mut checked_responses = 0;
    let mut checked_passwords = 0;
    for (i, (name, p, meta)) in pkts.iter().enumerate() {
        if p[0] == 1 {
            // Access-Request: Request Authenticator is a nonce; check the hidden password.
            assert_eq!(verify_request(p, secret), Ok(false), "{name}");
            if let Some(want) = meta["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find_map(|a| a["decrypted_password"].as_str())
            {
                let hidden = user_password(p).unwrap();
                let pw = recover_user_password(hidden, secret, &auth(p)).unwrap();
                assert_eq!(&pw[..], want.as_bytes(), "{name}");
                assert_eq!(
                    hide_user_password(want.as_bytes(), secret, &auth(p)).unwrap(),
                    hidden,
                    "{name}"
                );
                checked_passwords += 1;
            }
        } else {
            // The request is the latest one before it with the same Identifier.
            let req = pkts[..i]
                .iter()
                .rev()
                .find(|(_, q, _)| q[0] == 1 && q[1] == p[1])
                .unwrap();
            let ra = auth(&req.1);
            assert_eq!(
                response_authenticator(p, &ra, secret).unwrap(),
                auth(p),
                "{name}"
            );
            assert_eq!(verify_response(p, &ra, secret), Ok(false), "{name}");
            assert_eq!(
                verify_response(&flip(p, p.len() - 1), &ra, secret),
                Err(RadiusCryptoError::BadAuthenticator)
            );
            let mut q = p.clone();
            q[4..20].fill(0);
            sign_response(&mut q, &ra, secret).unwrap();
            assert_eq!(&q, p, "{name}");
            checked_responses += 1;
        }
    }
    assert_eq!((checked_responses, checked_passwords), (4, 3));
}

#[test]
fn rfc5997_status_server() {
    let v = load("radius_rfc5997_status_server.json");
    let secret = v["secret"].as_str().unwrap().as_bytes();
    let pkts = packets(&v);
    assert_eq!(pkts.len(), 1);
    let p = &pkts[0].1;
    assert_eq!(verify_request(p, secret), Ok(true));
    let at = message_authenticator_offset(p).unwrap().unwrap();
    assert_eq!(at, 22);
    assert_eq!(
        message_authenticator(p, &auth(p), secret).unwrap()[..],
        p[at..at + 16]
    );
    assert_eq!(
        verify_request(&flip(p, at), secret),
        Err(RadiusCryptoError::BadMessageAuthenticator)
    );
    assert_eq!(
        verify_request(&flip(p, 10), secret),
        Err(RadiusCryptoError::BadMessageAuthenticator)
    );
    let mut q = p.clone();
    q[at..at + 16].fill(0);
    sign_request(&mut q, secret).unwrap();
    assert_eq!(&q, p);
}

#[test]
fn scapy_captures() {
    let v = load("radius_scapy_captures.json");
    let pkts = packets(&v);
    assert_eq!(pkts.len(), 6);
    let mut mas = 0;
    for (i, (name, p, _)) in pkts.iter().enumerate() {
        let secret: &[u8] = if name.starts_with("LEAP") {
            b"radiuskey"
        } else {
            b"SECRET"
        };
        if p[0] == 1 {
            assert_eq!(verify_request(p, secret), Ok(true), "{name}");
            assert_eq!(
                verify_request(p, b"wrong"),
                Err(RadiusCryptoError::BadMessageAuthenticator),
                "{name}"
            );
            if let Some(hidden) = user_password(p) {
                assert_eq!(
                    &recover_user_password(hidden, secret, &auth(p)).unwrap()[..],
                    b"password"
                );
            }
        } else {
            let req = pkts[..i]
                .iter()
                .rev()
                .find(|(_, q, _)| q[0] == 1 && q[1] == p[1])
                .unwrap();
            assert_eq!(
                verify_response(p, &auth(&req.1), secret),
                Ok(true),
                "{name}"
            );
            let mut q = p.clone();
            let at = message_authenticator_offset(&q).unwrap().unwrap();
            q[at..at + 16].fill(0);
            q[4..20].fill(0);
            sign_response(&mut q, &auth(&req.1), secret).unwrap();
            assert_eq!(&q, p, "{name}");
        }
        mas += 1;
    }
    assert_eq!(mas, 6);
}

/// RFC 2548 §2.4.2 by hand: a known answer computed with Python's hashlib, independently of
/// this crate (secret "mobstrap", Request Authenticator 00..0f, salt 8001, key 00..1f).
#[test]
fn mppe_known_answer() {
    let ra: [u8; 16] = core::array::from_fn(|i| i as u8);
    let key: Vec<u8> = (0u8..32).collect();
    let v = encrypt_mppe_key(&key, b"mobstrap", &ra, [0x80, 0x01]).unwrap();
    assert_eq!(hex::encode(&v), MPPE_KAT);
    assert_eq!(
        &decrypt_mppe_key(&v, b"mobstrap", &ra).unwrap()[..],
        &key[..]
    );
}

const MPPE_KAT: &str = "8001e88199876dbeff2b6c4b66735cf0d5335cf9136838febb48d189e047c1e71be050b16663424e071b902de320568419b2";

fn hexs(b: &[u8]) -> String {
    hex::encode(b)
}

/// The sample packets of the wire crate carry valid signatures for `SAMPLE_SECRET`.
#[test]
fn radius_samples() {
    use mobstrap_wire::radius::{samples_with_request_authenticators, SAMPLE_SECRET};
    let secret = SAMPLE_SECRET;
    let mut table = String::new();
    let mut bad = Vec::new();
    let all = samples_with_request_authenticators();
    assert!(all.len() > 40);
    for (s, ra) in &all {
        let payload = mobstrap_wire::frame::peel_ip(&s.packet)
            .unwrap()
            .payload
            .to_vec();
        let result = match ra {
            Some(ra) => verify_response(&payload, ra, secret),
            None => verify_request(&payload, secret),
        };
        // What the signature should be.
        let mut q = payload.clone();
        match ra {
            Some(ra) => sign_response(&mut q, ra, secret).unwrap(),
            None => sign_request(&mut q, secret).unwrap(),
        }
        let nonce_based = matches!(payload[0], 1 | 12 | 13);
        let a = if nonce_based {
            String::new()
        } else {
            hexs(&q[4..20])
        };
        let m = match message_authenticator_offset(&q).unwrap() {
            Some(at) => hexs(&q[at..at + 16]),
            None => String::new(),
        };
        if !a.is_empty() || !m.is_empty() {
            table.push_str(&format!("    (\"{}\", \"{a}\", \"{m}\"),\n", s.name));
        }
        match result {
            Ok(_) => assert_eq!(q, payload, "{}", s.name),
            Err(e) => bad.push(format!("{}: {e}", s.name)),
        }
        if s.name == "radius/Access-Request" {
            let hidden = {
                let mut pos = 20;
                loop {
                    if payload[pos] == 2 {
                        break &payload[pos + 2..pos + payload[pos + 1] as usize];
                    }
                    pos += payload[pos + 1] as usize;
                }
            };
            let want = hide_user_password(b"mobstrap-password", secret, &auth(&payload)).unwrap();
            if hidden != want.as_slice() {
                bad.push(format!("PAP_HIDDEN should be \"{}\"", hexs(&want)));
            }
        }
    }
    if !bad.is_empty() {
        panic!(
            "{} samples do not verify:\n{}\nSIGNATURES should be:\n{table}",
            bad.len(),
            bad.join("\n")
        );
    }
}

/// Real hostapd ↔ eapol_test traffic (`tests/data/radius_hostapd_eap_aka.json`): every
/// Message-Authenticator and Response Authenticator verifies, and the MS-MPPE keys of each
/// Access-Accept decrypt to what eapol_test recovered.
#[test]
fn hostapd_eap_aka_capture() {
    let v = load("radius_hostapd_eap_aka.json");
    let secret = v["secret"].as_str().unwrap().as_bytes();
    let mut accepts = 0;
    let mut checked = 0;
    for run in v["runs"].as_array().unwrap() {
        let pkts: Vec<Vec<u8>> = run["packets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
            .collect();
        for (i, p) in pkts.iter().enumerate() {
            if p[0] == 1 {
                assert_eq!(verify_request(p, secret), Ok(true));
                assert_eq!(
                    verify_request(p, b"radiuS"),
                    Err(RadiusCryptoError::BadMessageAuthenticator)
                );
            } else {
                let req = pkts[..i]
                    .iter()
                    .rev()
                    .find(|q| q[0] == 1 && q[1] == p[1])
                    .unwrap();
                let ra = auth(req);
                assert_eq!(verify_response(p, &ra, secret), Ok(true));
                if p[0] == 2 {
                    // Each key in its own Microsoft VSA: 1a 3a 00000137 (16|17) 34 <salt+string>.
                    let mut pos = 20;
                    let mut keys = std::collections::BTreeMap::new();
                    while pos < p.len() {
                        let (t, l) = (p[pos], p[pos + 1] as usize);
                        if t == 26 && p[pos + 2..pos + 6] == [0, 0, 1, 0x37] {
                            let vt = p[pos + 6];
                            let value = &p[pos + 8..pos + l];
                            keys.insert(vt, decrypt_mppe_key(value, secret, &ra).unwrap());
                        }
                        pos += l;
                    }
                    assert_eq!(
                        hex::encode(&keys[&16][..]),
                        run["mppe_send_key"].as_str().unwrap()
                    );
                    assert_eq!(
                        hex::encode(&keys[&17][..]),
                        run["mppe_recv_key"].as_str().unwrap()
                    );
                    assert!(decrypt_mppe_key(&p[0..2], secret, &ra).is_err());
                    accepts += 1;
                }
            }
            checked += 1;
        }
    }
    assert_eq!((checked, accepts), (18, 2));
}

/// The RADIUS side of real ERP re-authentications (hostapd NAS ↔ hostapd server): every
/// Message-Authenticator and Response Authenticator verifies.
#[test]
fn hostapd_erp_capture() {
    let v = load("eap_hostapd_erp.json");
    let secret = v["secret"].as_str().unwrap().as_bytes();
    let pkts: Vec<Vec<u8>> = v["radius"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
        .collect();
    for (i, p) in pkts.iter().enumerate() {
        if p[0] == 1 {
            assert_eq!(verify_request(p, secret), Ok(true));
        } else {
            let req = pkts[..i]
                .iter()
                .rev()
                .find(|q| q[0] == 1 && q[1] == p[1])
                .unwrap();
            assert_eq!(verify_response(p, &auth(req), secret), Ok(true));
        }
    }
    assert_eq!(pkts.len(), 10);
}
