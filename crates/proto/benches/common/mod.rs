//! Shared by the IKE benchmark and the `ike_bench` example: one IKE SA establishment
//! between an in-process initiator and a responder dispatcher, and the cryptography alone
//! for the same exchanges.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mobstrap_crypto::dh::{Dh, DhKey, Group};
use mobstrap_crypto::ikev2::{
    auth_shared_key, maced_id, skeyseed, ChildSaKeys, IkeSaKeys, KeyLengths, Prf,
};
use mobstrap_crypto::transform::{Cipher, Encr};
use mobstrap_proto::ikev2::{
    Config, Dispatcher, DispatcherConfig, EspProposal, Event, Identity, IkeProposal, IkeSa,
};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

pub fn configs() -> (Arc<Config>, Arc<Config>) {
    let mk = |id: &str| {
        let mut c = Config::new(Identity::fqdn(id)).with_psk(None, b"benchmark pre-shared key");
        c.ike_proposals = vec![IkeProposal::gcm_sha256_x25519()];
        c.esp_proposals = vec![EspProposal::gcm128()];
        c.timers.dpd_interval = None;
        c
    };
    (
        Arc::new(mk("initiator.example")),
        Arc::new(mk("responder.example")),
    )
}

pub fn dispatcher(r: Arc<Config>, seed: u64) -> Dispatcher {
    let d = DispatcherConfig {
        cookie_threshold: usize::MAX,
        max_half_open: usize::MAX,
        ..DispatcherConfig::default()
    };
    Dispatcher::new(r, d, Box::new(StdRng::seed_from_u64(seed)))
}

/// Establishes one IKE SA (IKE_SA_INIT + IKE_AUTH with a Child SA); returns the time spent
/// inside the responder.
pub fn establish(i: &Arc<Config>, resp: &mut Dispatcher, n: u64, now: Instant) -> Duration {
    let a = (n as u32).to_be_bytes();
    let local = SocketAddr::from(([10, a[1], a[2], a[3]], 500));
    let remote: SocketAddr = "192.0.2.1:500".parse().unwrap();
    let mut init = IkeSa::initiate(
        i.clone(),
        Box::new(StdRng::seed_from_u64(n)),
        None,
        local,
        remote,
        now,
    )
    .expect("initiate");
    let mut in_resp = Duration::ZERO;
    let mut done_i = false;
    for _ in 0..8 {
        while let Some(t) = init.poll_transmit() {
            let t0 = Instant::now();
            resp.handle_datagram(now, t.remote, t.local, &t.data);
            in_resp += t0.elapsed();
        }
        while let Some(t) = resp.poll_transmit() {
            init.handle_datagram(now, t.remote, t.local, &t.data);
        }
        while let Some(e) = init.poll_event() {
            if matches!(e, Event::Established(_)) {
                done_i = true;
            }
        }
        let t0 = Instant::now();
        while resp.poll_event().is_some() {}
        in_resp += t0.elapsed();
        if done_i {
            break;
        }
    }
    assert!(done_i, "SA {n} not established");
    in_resp
}

/// The cryptography of one establishment with the same algorithms, without the engine:
/// both sides' X25519 key generation and agreement, SKEYSEED and the IKE SA keys, the
/// four PSK AUTH computations (each side computes its own and checks the peer's), the
/// Child SA keys twice, and AES-GCM seal + open of the two IKE_AUTH messages.
pub fn crypto_only(seed: u64, auth_len: (usize, usize)) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut r32 = [0u8; 32];
    let mut ni = [0u8; 32];
    let mut nr = [0u8; 32];
    rng.fill_bytes(&mut ni);
    rng.fill_bytes(&mut nr);
    rng.fill_bytes(&mut r32);
    let ki = DhKey::from_randomness(Group::Curve25519, &r32).unwrap();
    rng.fill_bytes(&mut r32);
    let kr = DhKey::from_randomness(Group::Curve25519, &r32).unwrap();
    let prf = Prf::HmacSha256;
    let lens = KeyLengths {
        encr: Encr::AesGcm16_128.keymat_len(),
        integ: 0,
    };
    let (spi_i, spi_r) = ([1u8; 8], [2u8; 8]);
    let mut keys = Vec::new();
    for (mine, peer) in [(&ki, &kr), (&kr, &ki)] {
        let g = mine.agree(peer.public_key()).unwrap();
        let seed = skeyseed(prf, &ni, &nr, g.as_bytes());
        keys.push(IkeSaKeys::derive(prf, seed.as_bytes(), &ni, &nr, &spi_i, &spi_r, lens).unwrap());
    }
    let msg = [0u8; 300];
    for k in &keys {
        for sk_p in [&k.sk_pi, &k.sk_pr] {
            let mid = maced_id(prf, sk_p.as_bytes(), b"\x02\0\0\0initiator.example");
            std::hint::black_box(auth_shared_key(
                prf,
                b"benchmark pre-shared key",
                &msg,
                &nr,
                mid.as_bytes(),
            ));
        }
        let c = ChildSaKeys::derive(prf, k.sk_d.as_bytes(), None, &ni, &nr, lens).unwrap();
        std::hint::black_box(c);
    }
    let ci = Cipher::new(Encr::AesGcm16_128, keys[0].sk_ei.as_bytes(), None).unwrap();
    let cr = Cipher::new(Encr::AesGcm16_128, keys[1].sk_ei.as_bytes(), None).unwrap();
    for len in [auth_len.0, auth_len.1] {
        let mut buf = vec![0u8; len];
        ci.seal_ike(&mut buf, 32).unwrap();
        cr.open_ike(&mut buf, 32).unwrap();
    }
}
