//! Bad input never panics and gets the protocol's answer or silence: random datagrams to a
//! responder, bit flips of every message of a real conversation (each flip dropped or
//! answered, the conversation still completes), malformed IKE_SA_INIT requests answered with
//! INVALID_SYNTAX, an unknown major version with INVALID_MAJOR_VERSION, a critical unknown
//! payload with UNSUPPORTED_CRITICAL_PAYLOAD, and duplicates of decrypted requests answered
//! from the cache.

mod ike_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ike_common::*;
use mobstrap_proto::ikev2::{Config, Dispatcher, DispatcherConfig, Identity};
use mobstrap_wire::ikev2::{
    flags, ExchangeType, Header, Message, Notify, NotifyType, Payload, PayloadBody,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn configs() -> (Config, Config) {
    let i = Config::new(Identity::fqdn("i.example")).with_psk(None, b"psk psk psk");
    let r = Config::new(Identity::fqdn("r.example")).with_psk(None, b"psk psk psk");
    (i, r)
}

fn responder() -> Dispatcher {
    Dispatcher::new(Arc::new(configs().1), DispatcherConfig::default(), rng(9))
}

fn answers(d: &mut Dispatcher) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    while let Some(t) = d.poll_transmit() {
        v.push(t.data);
    }
    v
}

fn only_notify(reply: &[u8]) -> NotifyType {
    let m = Message::parse(reply).unwrap();
    assert!(m.header.is_response());
    match &m.payloads[..] {
        [Payload {
            body: PayloadBody::Notify(n),
            ..
        }] => n.notify_type,
        other => panic!("not a single notify: {other:?}"),
    }
}

#[test]
fn random_datagrams_never_panic_and_create_no_state() {
    let mut d = responder();
    let mut r = StdRng::seed_from_u64(1);
    let now = Instant::now();
    for n in 0..8_000 {
        let len = r.random_range(0..600);
        let mut b: Vec<u8> = (0..len).map(|_| r.random()).collect();
        if n % 3 == 0 && b.len() >= 28 {
            // Make it look like an IKE_SA_INIT request header.
            b[8..16].fill(0);
            b[17] = 0x20;
            b[18] = 34;
            b[19] = flags::INITIATOR;
            let l = (b.len() as u32).to_be_bytes();
            b[24..28].copy_from_slice(&l);
        }
        let port = if n % 2 == 0 { 500 } else { 4500 };
        d.handle_datagram(
            now,
            format!("10.0.0.2:{port}").parse().unwrap(),
            addr(I_ADDR),
            &b,
        );
        for a in answers(&mut d) {
            // Whatever goes out is a well-formed unprotected error answer.
            let m = if port == 4500 { &a[4..] } else { &a[..] };
            let t = only_notify(m);
            assert!(
                matches!(
                    t,
                    NotifyType::InvalidSyntax
                        | NotifyType::NoProposalChosen
                        | NotifyType::InvalidMajorVersion
                ),
                "{t:?}"
            );
        }
    }
    assert!(d.is_empty(), "no SA from garbage");
    d.handle_timeout(now + Duration::from_secs(100));
}

#[test]
fn malformed_init_requests_get_their_answers() {
    let mut d = responder();
    let now = Instant::now();
    let local = addr(R_ADDR);
    let spi = [7u8; 8];
    // No KE/nonce: INVALID_SYNTAX.
    let h = Header::new(spi, [0; 8], ExchangeType::IkeSaInit, flags::INITIATOR, 0);
    let mut b = Vec::new();
    Message::new(h, vec![Payload::new(PayloadBody::Nonce(&[1; 32]))])
        .emit(&mut b)
        .unwrap();
    d.handle_datagram(now, local, addr(I_ADDR), &b);
    assert_eq!(only_notify(&answers(&mut d)[0]), NotifyType::InvalidSyntax);
    // A critical unknown payload.
    let mut b = Vec::new();
    let p = Payload {
        flags: 0x80,
        body: PayloadBody::Unknown {
            payload_type: 200,
            data: b"x",
        },
    };
    Message::new(h, vec![p]).emit(&mut b).unwrap();
    d.handle_datagram(now, local, addr(I_ADDR), &b);
    let a = answers(&mut d);
    let m = Message::parse(&a[0]).unwrap();
    let n: Vec<&Notify> = m.notifies(NotifyType::UnsupportedCriticalPayload).collect();
    assert_eq!(n[0].data, &[200]);
    // Version 3.0: INVALID_MAJOR_VERSION with our version in the header.
    let mut b3 = b.clone();
    b3[17] = 0x30;
    d.handle_datagram(now, local, addr(I_ADDR), &b3);
    let a = answers(&mut d);
    assert_eq!(a[0][17], 0x20);
    assert_eq!(only_notify(&a[0]), NotifyType::InvalidMajorVersion);
    // A response or a non-zero SPIr for an unknown SA: silence.
    let hr = Header::new(spi, [1; 8], ExchangeType::IkeAuth, flags::INITIATOR, 1);
    let mut b = Vec::new();
    Message::new(hr, vec![]).emit(&mut b).unwrap();
    d.handle_datagram(now, local, addr(I_ADDR), &b);
    assert!(answers(&mut d).is_empty());
    assert!(d.is_empty());
}

#[test]
fn bit_flips_of_a_real_conversation() {
    // Each round corrupts one message of the conversation (one bit, anywhere) and delivers
    // the corrupted copy just before the original: the corruption is dropped or answered,
    // and the conversation still completes with agreeing keys.
    let mut rnd = StdRng::seed_from_u64(5);
    for round in 0..80 {
        let (i, r) = configs();
        let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 50 + round);
        let to_resp: bool = rnd.random();
        let index: usize = rnd.random_range(0..2);
        let pos = rnd.random::<u32>() as usize;
        let bit: u8 = rnd.random_range(0..8);
        sim.mutate = Some(Box::new(move |t, dir, idx| {
            if dir != to_resp || idx != index {
                return None;
            }
            let mut d = t.data.clone();
            let p = pos % d.len();
            d[p] ^= 1 << bit;
            Some(d)
        }));
        let ok = sim.run_until(Duration::from_secs(200), |s| s.both_established());
        if !ok {
            // A flipped IKE_SA_INIT response can make the initiator give up only with a
            // clean reason (e.g. NO_PROPOSAL_CHOSEN read from a corrupted notify type).
            assert!(
                sim.i_closed().is_some() || sim.r_closed().is_some(),
                "round {round}: stuck"
            );
            continue;
        }
        let ie = sim.i_est();
        let re = sim.r_est();
        assert_eq!(
            ie.child.as_ref().unwrap().outbound,
            re.child.as_ref().unwrap().inbound,
            "round {round}"
        );
    }
}

#[test]
fn flipped_protected_messages_are_dropped_silently() {
    let (i, r) = configs();
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), 51);
    assert!(sim.run_until(Duration::from_secs(5), |s| s.both_established()));
    // Record a liveness request and answer, then flip every byte of the request.
    let now = sim.now;
    sim.init.liveness_check(now);
    let t = sim.init.poll_transmit().unwrap();
    let rid = sim.r_id();
    for k in 0..t.data.len() {
        let mut d = t.data.clone();
        d[k] ^= 0x40;
        sim.resp.handle_datagram(now, t.remote, t.local, &d);
        let out: Vec<_> = std::iter::from_fn(|| sim.resp.poll_transmit()).collect();
        // A flipped header byte may make it a different message, never an answer: ICV.
        assert!(out.is_empty(), "byte {k} got an answer");
    }
    assert!(sim.resp.sa(rid).unwrap().is_established());
    // The real one is answered, and its duplicate from the cache (same bytes).
    sim.resp.handle_datagram(now, t.remote, t.local, &t.data);
    let a1 = sim.resp.poll_transmit().unwrap();
    sim.resp.handle_datagram(now, t.remote, t.local, &t.data);
    let a2 = sim.resp.poll_transmit().unwrap();
    assert_eq!(a1.data, a2.data, "retransmission answered from the cache");
    // A request with a message ID outside the window: dropped.
    let mut d = t.data.clone();
    d[20..24].copy_from_slice(&99u32.to_be_bytes());
    sim.resp.handle_datagram(now, t.remote, t.local, &d);
    assert!(sim.resp.poll_transmit().is_none());
}
