#![no_main]
//! The EAP server session (EAP framing + EAP-AKA/AKA') fed arbitrary Responses, with every
//! need answered like the AAA node would: it must never panic, never authenticate what it
//! was fed, and never send anything after it discarded a packet.
//!
//! Input: one flags byte (configuration, encrypted pseudonyms with bit 5, and start mode),
//! then chunks `ctl len bytes…`; `ctl` bit 0 puts the outstanding Identifier in, bit 1 makes
//! it a Response, bit 2 fixes Length, so that the fuzzer reaches the method instead of the
//! framing only.
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use mobstrap_crypto::milenage::Milenage;
use mobstrap_crypto::pseudonym::PseudonymKey;
use mobstrap_proto::eap::{
    AkaEapServer, AkaServerConfig, EncryptedPseudonyms, Event, IdRequest, IdentityPolicy, Method,
    Need, ReauthContext, ReauthSecrets, ServerConfig, VectorError,
};
use rand::rngs::StdRng;
use rand::SeedableRng;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let cfg = AkaServerConfig {
        result_ind: flags & 1 != 0,
        identity_policy: if flags & 2 != 0 {
            IdentityPolicy::AlwaysRequest(IdRequest::Any)
        } else {
            IdentityPolicy::UseEapIdentity
        },
        notify_failures: flags & 4 != 0,
        aka: flags & 16 == 0,
        // Encrypted pseudonyms: every identity with a pseudonym prefix is opened first.
        pseudonym_cipher: (flags & 32 != 0).then(|| {
            Arc::new(EncryptedPseudonyms::new(
                PseudonymKey::new(&[0x33; 16]),
                0,
                3600,
                Arc::new(|| 1_800_000_000),
            )) as Arc<dyn mobstrap_proto::eap::PseudonymCipher>
        }),
        ..AkaServerConfig::default()
    };
    let mut rng = StdRng::seed_from_u64(u64::from(flags));
    let mut server = AkaEapServer::aka(ServerConfig::default(), Arc::new(cfg));
    let hss = Milenage::new(&[0x11; 16], &[0x22; 16]);
    let mut sqn = 1u64;
    if flags & 8 != 0 {
        server.start(&mut rng);
        let _ = server.poll_transmit();
    }
    while let Some((&ctl, tail)) = rest.split_first() {
        let Some((&len, tail)) = tail.split_first() else {
            break;
        };
        let n = usize::from(len).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        rest = next;
        let mut p = chunk.to_vec();
        if p.len() >= 4 {
            if ctl & 1 != 0 {
                p[1] = server.current_identifier();
            }
            if ctl & 2 != 0 {
                p[0] = 2;
            }
            if ctl & 4 != 0 {
                let l = p.len() as u16;
                p[2..4].copy_from_slice(&l.to_be_bytes());
            }
        }
        let outcome = server.outcome();
        if server.handle_response(&p, &mut rng).is_err() {
            assert!(server.poll_transmit().is_none(), "sent after a discard");
            assert_eq!(server.outcome(), outcome);
        }
        let _ = server.poll_transmit();
        while let Some(ev) = server.poll_event() {
            match ev {
                Event::Need(Need::Vector { method, resync, .. }) => {
                    if let Some(r) = resync {
                        let _ = hss.resync(&r.rand, &r.auts);
                    }
                    sqn += 1;
                    let amf = if method == Method::AkaPrime { [0x80, 0] } else { [0, 0] };
                    let v = hss
                        .generate_vector(&[sqn as u8; 16], sqn, amf)
                        .map_err(|_| VectorError::Unavailable);
                    server.provide_vector(v, &mut rng);
                }
                Event::Need(Need::Pseudonym { .. }) => {
                    server.provide_pseudonym(Some("001010000000001".into()), &mut rng)
                }
                Event::Need(Need::ReauthContext { .. }) => {
                    let c = ReauthContext {
                        imsi: "001010000000001".into(),
                        method: Method::Aka,
                        counter: 1,
                        secrets: ReauthSecrets::Aka {
                            mk: [7u8; 20].into(),
                            k_encr: [8u8; 16].into(),
                            k_aut: [9u8; 16].into(),
                        },
                        network_name: None,
                    };
                    server.provide_reauth_context(Some(c), &mut rng)
                }
                Event::Success(_) => panic!("arbitrary bytes authenticated"),
                _ => {}
            }
            let _ = server.poll_transmit();
        }
    }
});
