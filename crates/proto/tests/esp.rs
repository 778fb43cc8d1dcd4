//! ESP SA processing: round trips, replay window edges, ESN across 2^32, tampering,
//! padding, and SAs built from a Child SA the IKE engine negotiated.

mod ike_common;

use std::time::Duration;

use mobstrap_crypto::ikev2::Integ;
use mobstrap_crypto::transform::Encr;
use mobstrap_crypto::SecretVec;
use mobstrap_proto::esp::{self, EspError, Inbound, Keepalive, Outbound, ReplayWindow};
use mobstrap_proto::ikev2::{Config, DispatcherConfig, EspAlgs, EspKeys, Identity};

fn keys(encr: Encr, integ: Option<Integ>, x: u8) -> EspKeys {
    EspKeys {
        encr: SecretVec::from_slice(&vec![x; encr.keymat_len()]),
        integ: SecretVec::from_slice(&vec![x ^ 0x5a; integ.map_or(0, |i| i.key_len())]),
    }
}

fn pair(encr: Encr, integ: Option<Integ>, esn: bool, window: usize) -> (Outbound, Inbound) {
    let algs = EspAlgs {
        encr,
        integ,
        esn,
        dh: None,
    };
    let k = keys(encr, integ, 7);
    (
        Outbound::new(0x1234_5678, &algs, &k, [9; 32]).unwrap(),
        Inbound::new(0x1234_5678, &algs, &k, window).unwrap(),
    )
}

const SUITES: [(Encr, Option<Integ>); 4] = [
    (Encr::AesGcm16_128, None),
    (Encr::AesGcm16_256, None),
    (Encr::AesCbc128, Some(Integ::HmacSha256_128)),
    (Encr::AesCbc256, Some(Integ::HmacSha256_128)),
];

#[test]
fn round_trip_every_suite_and_length() {
    for (encr, integ) in SUITES {
        for esn in [false, true] {
            let (mut o, mut i) = pair(encr, integ, esn, 64);
            let mut buf = Vec::new();
            for len in [0usize, 1, 2, 3, 15, 16, 17, 40, 1400] {
                let payload: Vec<u8> = (0..len).map(|x| x as u8).collect();
                o.seal(&payload, esp::NEXT_HEADER_IPV4, &mut buf).unwrap();
                assert_eq!(&buf[..4], &0x1234_5678u32.to_be_bytes());
                let block = if encr.is_aead() { 4 } else { 16 };
                let body = buf.len() - 8 - encr.iv_len() - 16; // GCM ICV and HMAC-SHA-256-128 are both 16
                assert_eq!(body % block, 0, "padded to the block");
                let opened = i.open(&mut buf).unwrap();
                assert_eq!(&buf[opened.payload.clone()], &payload[..]);
                assert_eq!(opened.next_header, 4);
            }
            assert_eq!(o.usage().packets, 9);
            assert_eq!(i.usage().packets, 9);
        }
    }
}

#[test]
fn transport_mode_next_header_and_ipv6() {
    let (mut o, mut i) = pair(Encr::AesGcm16_128, None, false, 64);
    let mut buf = Vec::new();
    o.seal(b"mobility header", esp::NEXT_HEADER_MH, &mut buf)
        .unwrap();
    assert_eq!(i.open(&mut buf).unwrap().next_header, 135);
    let inner6 = [0x60u8, 0, 0, 0, 0, 0, 59, 64];
    assert_eq!(esp::tunnel_next_header(&inner6), Some(41));
    assert_eq!(esp::tunnel_next_header(&[0x45]), Some(4));
    assert_eq!(esp::tunnel_next_header(&[]), None);
}

#[test]
fn replay_and_window_edges() {
    let (mut o, mut i) = pair(Encr::AesGcm16_128, None, false, 64);
    let mut pkts = Vec::new();
    for _ in 0..200 {
        let mut b = Vec::new();
        o.seal(b"x", 4, &mut b).unwrap();
        pkts.push(b);
    }
    // Deliver 100 (seq 100) first: top = 100.
    let mut p = pkts[99].clone();
    i.open(&mut p).unwrap();
    // The same again: replay.
    let mut p = pkts[99].clone();
    assert_eq!(i.open(&mut p), Err(EspError::Replay(100)));
    // Seq 37 = top - 63: the left edge of a 64-bit window, accepted once.
    let mut p = pkts[36].clone();
    i.open(&mut p).unwrap();
    let mut p = pkts[36].clone();
    assert_eq!(i.open(&mut p), Err(EspError::Replay(37)));
    // Seq 36 = top - 64: left of the window.
    let mut p = pkts[35].clone();
    assert_eq!(i.open(&mut p), Err(EspError::Replay(36)));
    // A tampered packet does not move the window.
    let mut p = pkts[199].clone();
    let n = p.len();
    p[n - 1] ^= 1;
    assert_eq!(i.open(&mut p), Err(EspError::Integrity));
    assert_eq!(i.window().top(), 100);
    // Forward jump beyond the window, then an old one.
    let mut p = pkts[199].clone();
    i.open(&mut p).unwrap();
    let mut p = pkts[100].clone();
    assert_eq!(i.open(&mut p), Err(EspError::Replay(101)));
}

#[test]
fn large_window_shifts() {
    let mut w = ReplayWindow::new(1024);
    assert_eq!(w.size(), 1024);
    for s in [1u64, 5, 64, 65, 130, 1000, 1023] {
        assert!(w.check(s));
        w.update(s);
        assert!(!w.check(s));
    }
    w.update(2000);
    assert!(!w.check(1000), "1000 is seen (offset 1000 < 1024)");
    assert!(w.check(999), "999 not seen");
    assert!(!w.check(976), "976 = 2000 - 1024: outside");
    assert!(w.check(977));
    w.update(1500);
    w.update(2000 + 70);
    assert!(!w.check(2000));
    assert!(!w.check(1500), "shifted bits kept");
    assert!(w.check(1501));
    assert!(w.check(1070), "never seen, offset 1000");
    assert!(!w.check(0));
}

#[test]
fn esn_across_the_32_bit_boundary() {
    for (encr, integ) in SUITES {
        let (mut o, mut i) = pair(encr, integ, true, 128);
        o.set_sequence(u32::MAX as u64 - 2);
        i.set_window_top(u32::MAX as u64 - 10);
        let mut pkts = Vec::new();
        for _ in 0..6 {
            let mut b = Vec::new();
            o.seal(b"esn", 4, &mut b).unwrap();
            pkts.push(b);
        }
        // Deliver out of order across the boundary.
        for k in [0usize, 3, 1, 5, 2, 4] {
            let mut p = pkts[k].clone();
            let got = i.open(&mut p).unwrap();
            assert_eq!(got.sequence, u32::MAX as u64 - 1 + k as u64);
        }
        assert_eq!(i.window().top(), u32::MAX as u64 + 4);
        // Without ESN the wire carries only the low half: the low bits of packet 4 are 2.
        assert_eq!(&pkts[4][4..8], &2u32.to_be_bytes());
    }
}

#[test]
fn sequence_exhaustion_without_esn() {
    let (mut o, _) = pair(Encr::AesGcm16_128, None, false, 64);
    o.set_sequence(u32::MAX as u64 - 1);
    let mut b = Vec::new();
    o.seal(b"last", 4, &mut b).unwrap();
    assert_eq!(
        o.seal(b"one more", 4, &mut b),
        Err(EspError::SequenceExhausted)
    );
}

#[test]
fn wrong_spi_short_and_bad_padding() {
    let (mut o, mut i) = pair(Encr::AesCbc128, Some(Integ::HmacSha256_128), false, 64);
    let mut b = Vec::new();
    o.seal(b"abc", 4, &mut b).unwrap();
    let mut c = b.clone();
    c[0] ^= 0x80;
    assert!(matches!(i.open(&mut c), Err(EspError::WrongSpi(_))));
    assert_eq!(i.open(&mut b[..20].to_vec()), Err(EspError::Truncated));
    // Every bit flip is caught.
    for bit in 0..b.len() * 8 {
        let mut c = b.clone();
        c[bit / 8] ^= 1 << (bit % 8);
        assert!(i.open(&mut c).is_err(), "bit {bit}");
    }
    i.open(&mut b).unwrap();
}

#[test]
fn keepalive_timer() {
    let t0 = std::time::Instant::now();
    let mut k = Keepalive::new(Duration::from_secs(20), t0);
    assert!(!k.handle_timeout(t0 + Duration::from_secs(19)));
    k.on_send(t0 + Duration::from_secs(10));
    assert!(!k.handle_timeout(t0 + Duration::from_secs(25)));
    assert!(k.handle_timeout(t0 + Duration::from_secs(30)));
    assert_eq!(k.poll_timeout(), t0 + Duration::from_secs(50));
    assert_eq!(Keepalive::PACKET, [0xff]);
}

#[test]
fn esp_sas_from_a_negotiated_child() {
    for esp_prop in [
        mobstrap_proto::ikev2::EspProposal::gcm128(),
        mobstrap_proto::ikev2::EspProposal::cbc128_sha256(),
    ] {
        let mut i = Config::new(Identity::fqdn("a")).with_psk(None, b"k");
        let mut r = Config::new(Identity::fqdn("b")).with_psk(None, b"k");
        i.esp_proposals = vec![esp_prop.clone()];
        r.esp_proposals = vec![esp_prop];
        let mut sim = ike_common::Sim::new(i, r, None, DispatcherConfig::default(), 77);
        assert!(sim.run_until(Duration::from_secs(5), |s| s.both_established()));
        let ic = sim.i_est().child.clone().unwrap();
        let rc = sim.r_est().child.clone().unwrap();
        let (mut i_in, mut i_out) = esp::from_child(&ic, 64, [1; 32]).unwrap();
        let (mut r_in, mut r_out) = esp::from_child(&rc, 64, [2; 32]).unwrap();
        let mut b = Vec::new();
        i_out.seal(&[0x45, 1, 2, 3], 4, &mut b).unwrap();
        let o = r_in.open(&mut b).unwrap();
        assert_eq!(&b[o.payload], &[0x45, 1, 2, 3]);
        r_out.seal(&[0x60, 9], 41, &mut b).unwrap();
        let o = i_in.open(&mut b).unwrap();
        assert_eq!(&b[o.payload], &[0x60, 9]);
    }
}

/// The transforms are keyed at the first packet (an idle SA keeps only its key material),
/// but bad keys still fail when the SA is made; and a CBC SA's IVs, from a generator seeded
/// at its first packet, differ from packet to packet.
#[test]
fn keys_checked_when_made_and_cbc_ivs_fresh() {
    for (encr, integ) in SUITES {
        let algs = EspAlgs {
            encr,
            integ,
            esn: false,
            dh: None,
        };
        let mut short = keys(encr, integ, 1);
        short.encr = SecretVec::from_slice(&vec![1; encr.keymat_len() - 1]);
        assert_eq!(
            Inbound::new(1, &algs, &short, 64).unwrap_err(),
            EspError::Key,
            "{encr:?}"
        );
        assert_eq!(
            Outbound::new(1, &algs, &short, [0; 32]).unwrap_err(),
            EspError::Key,
            "{encr:?}"
        );
    }
    let (mut tx, mut rx) = pair(Encr::AesCbc128, Some(Integ::HmacSha256_128), false, 64);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    tx.seal(b"same payload", 4, &mut a).unwrap();
    tx.seal(b"same payload", 4, &mut b).unwrap();
    assert_ne!(a[8..24], b[8..24], "a fresh IV per packet");
    assert_ne!(a[8..24], [0u8; 16]);
    for p in [&mut a, &mut b] {
        let o = rx.open(p).unwrap();
        assert_eq!(&p[o.payload], b"same payload");
    }
}
