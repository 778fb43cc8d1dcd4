//! `mobstrap aaa` killed with SIGKILL under load and restarted on the same SQLite store
//! never issues an SQN twice (issue #3: "SQN is committed to the store before the challenge
//! leaves the server; an SQN never repeats, also after a crash and restart").
//!
//! The daemon runs as a child process. Sixteen RADIUS NASes (one UDP socket each), each
//! authenticating its own subscriber over and over with a Milenage USIM (EAP-AKA and
//! EAP-AKA'), load it. Every AKA-Challenge that reaches a NAS is recorded: the test knows
//! K and OPc, so it recovers the challenge's SQN (SEQ || IND) as SQN = (SQN ⊕ AK) ⊕ AK with
//! AK = f5(K, OPc, RAND). The daemon is SIGKILLed twice in the middle of the load (while
//! conversations are in flight) and restarted each time on the same database while the NASes
//! keep going. The test asserts that no (IMSI, SQN) was ever issued twice, that every
//! server generation issued challenges, and that each subscriber's SQNs after a restart are
//! above all those issued before it (the counter never goes back).
//!
//! crates/store/tests/crash.rs tests the allocator alone; this tests the whole server.
//! Bounded: at most ~10 s of load per generation, at most 3 generations.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mobstrap_node::aaa::client::{challenge_sqn, identity_request, RadiusNas};
use mobstrap_proto::eap::{AkaEapPeer, AkaPeerConfig, Method, SqnPolicy, Usim};
use mobstrap_wire::radius::Code;

const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";
const REALM: &str = "nai.epc.mnc001.mcc001.3gppnetwork.org";
const SECRET: &str = "sigkill-secret";
const SUBSCRIBERS: u64 = 16;
/// Server generations: the first two are SIGKILLed.
const GENERATIONS: usize = 3;
/// Challenges each generation must issue before it is killed (or the next phase starts).
const PER_GENERATION: usize = 300;

fn imsi(n: u64) -> String {
    format!("00101{n:010}")
}

/// Subscriber `n`'s K: distinct per subscriber, so a challenge can only be decoded with the
/// right one.
fn k_of(n: u64) -> [u8; 16] {
    let mut k: [u8; 16] = hex::decode(K).unwrap().try_into().unwrap();
    k[8..].copy_from_slice(&n.to_be_bytes());
    k
}

fn opc() -> [u8; 16] {
    hex::decode(OPC).unwrap().try_into().unwrap()
}

fn free_udp() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh USIM (SQN_MS 0 accepts any SQN within Δ) for subscriber `n`.
fn ue(n: u64) -> AkaEapPeer {
    let mut cfg = AkaPeerConfig::new(&imsi(n), Some(REALM));
    cfg.methods = if n.is_multiple_of(2) {
        vec![Method::Aka]
    } else {
        vec![Method::AkaPrime]
    };
    AkaEapPeer::aka(
        cfg,
        Usim::new(
            &k_of(n),
            &opc(),
            0,
            SqnPolicy::IndArray {
                ind_bits: 5,
                delta: Some(1 << 28),
                max_age: None,
            },
        ),
    )
}

struct Daemon(Child);

impl Daemon {
    fn start(cfg: &std::path::Path) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mobstrap"))
            .args(["aaa", "--threads", "2", "--config"])
            .arg(cfg)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                if l.contains("aaa started") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(());
                    }
                }
            }
        });
        let mut d = Daemon(child);
        if rx.recv_timeout(Duration::from_secs(20)).is_err() {
            let status = d.0.try_wait();
            panic!("aaa did not start in 20 s ({status:?})");
        }
        d
    }

    fn sigkill(&mut self) {
        // Child::kill sends SIGKILL.
        self.0.kill().unwrap();
        let status = self.0.wait().unwrap();
        assert!(!status.success(), "killed, not exited: {status:?}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One challenge seen by a NAS: subscriber, SQN, server generation.
type Seen = (u64, u64, usize);

/// Authenticates subscriber `n` again and again until `stop`, recording every challenge.
async fn worker(
    n: u64,
    server: SocketAddr,
    stop: Arc<AtomicBool>,
    generation: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    accepts: Arc<AtomicUsize>,
) -> Result<(), String> {
    let mut nas = RadiusNas::new("127.0.0.1:0".parse().unwrap(), server, SECRET.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    nas.retransmit = Duration::from_millis(250);
    nas.max_sends = 2;
    let (k, opc) = (k_of(n), opc());
    while !stop.load(Ordering::Relaxed) {
        let mut peer = ue(n);
        peer.handle_request(&identity_request(0), &mut rand::rng())
            .map_err(|e| e.to_string())?;
        let Some(mut resp) = peer.poll_transmit().map(<[u8]>::to_vec) else {
            return Err("the peer did not answer the identity request".into());
        };
        let identity = resp[5..].to_vec();
        let mut state: Option<Vec<u8>> = None;
        for _round in 0..10 {
            // Timeouts (the server is dead or restarting) end the conversation: start anew.
            let Ok(ans) = nas.request(&resp, Some(&identity), state.as_deref()).await else {
                break;
            };
            if ans.code != Code::AccessChallenge {
                if ans.code == Code::AccessAccept {
                    accepts.fetch_add(1, Ordering::Relaxed);
                }
                break;
            }
            if let Some(sqn) = challenge_sqn(&ans.eap, &k, &opc) {
                let g = generation.load(Ordering::Relaxed);
                seen.lock().unwrap().push((n, sqn, g));
            }
            state = ans.state.clone();
            if peer.handle_request(&ans.eap, &mut rand::rng()).is_err() {
                break;
            }
            match peer.poll_transmit() {
                Some(r) => resp = r.to_vec(),
                None => break,
            }
        }
        while peer.poll_event().is_some() {}
    }
    Ok(())
}

#[test]
fn sigkill_under_load_never_repeats_an_sqn() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hss.sqlite").display());
    let csv = dir.path().join("subs.csv");
    let mut rows = String::from("imsi,k,opc,amf,sqn\n");
    for n in 0..SUBSCRIBERS {
        rows += &format!(
            "{},{},{OPC},8000,000000000000\n",
            imsi(n),
            hex::encode(k_of(n))
        );
    }
    std::fs::write(&csv, rows).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mobstrap"))
        .args(["subscriber", "import", "--db", &db])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let port = free_udp();
    let cfg = dir.path().join("aaa.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[store]
url = "{db}"
[radius]
listen = "127.0.0.1:{port}"
accounting_listen = "127.0.0.1:0"
[[radius.client]]
address = "127.0.0.1"
secret = "{SECRET}"
[eap]
pseudonyms = false
fast_reauth = false
[log]
level = "info"
"#
        ),
    )
    .unwrap();
    let server: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();

    let mut daemon = Daemon::start(&cfg);
    let stop = Arc::new(AtomicBool::new(false));
    let generation = Arc::new(AtomicUsize::new(0));
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let accepts = Arc::new(AtomicUsize::new(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let workers: Vec<_> = (0..SUBSCRIBERS)
        .map(|n| {
            rt.spawn(worker(
                n,
                server,
                stop.clone(),
                generation.clone(),
                seen.clone(),
                accepts.clone(),
            ))
        })
        .collect();

    let count = |g: usize| seen.lock().unwrap().iter().filter(|s| s.2 == g).count();
    for g in 0..GENERATIONS {
        let t0 = Instant::now();
        while count(g) < PER_GENERATION && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        if g + 1 < GENERATIONS {
            // In the middle of the load: conversations are in flight, SQN blocks reserved.
            daemon.sigkill();
            daemon = Daemon::start(&cfg);
            generation.store(g + 1, Ordering::Relaxed);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        rt.block_on(w).unwrap().unwrap();
    }
    drop(daemon);

    let seen = seen.lock().unwrap().clone();
    let per_gen: Vec<usize> = (0..GENERATIONS).map(count_in(&seen)).collect();
    eprintln!(
        "challenges per server generation: {per_gen:?}; Access-Accepts: {}",
        accepts.load(Ordering::Relaxed)
    );
    for (g, n) in per_gen.iter().enumerate() {
        assert!(*n > 0, "generation {g} issued no challenge: {per_gen:?}");
    }
    assert!(
        accepts.load(Ordering::Relaxed) > 0,
        "no authentication completed"
    );

    // No SQN (SEQ || IND) twice for one subscriber.
    let mut issued: HashMap<u64, HashSet<u64>> = HashMap::new();
    for &(n, sqn, g) in &seen {
        assert!(
            issued.entry(n).or_default().insert(sqn),
            "SQN {sqn:012x} issued twice to {} (second time by generation {g})",
            imsi(n)
        );
    }
    // And the counter never went back across a restart: every SQN of generation g+1 is
    // above every SQN of generation g, per subscriber (this node has IND 0 only).
    for n in 0..SUBSCRIBERS {
        for g in 1..GENERATIONS {
            let before = seen
                .iter()
                .filter(|s| s.0 == n && s.2 < g)
                .map(|s| s.1)
                .max();
            let after = seen
                .iter()
                .filter(|s| s.0 == n && s.2 >= g)
                .map(|s| s.1)
                .min();
            if let (Some(b), Some(a)) = (before, after) {
                assert!(
                    a > b,
                    "{}: SQN {a:012x} after restart {g} is not above {b:012x} before it",
                    imsi(n)
                );
            }
        }
    }
}

fn count_in(seen: &[Seen]) -> impl Fn(usize) -> usize + '_ {
    move |g| seen.iter().filter(|s| s.2 == g).count()
}
