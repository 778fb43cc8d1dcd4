//! Crash safety of SQN allocation, with real processes and real databases.
//!
//! A child process (this test binary, re-executed with `MOBSTRAP_SQN_CHILD_URL` set) runs
//! the allocator under concurrent load and prints each SQN only after `next_sqn` returned,
//! i.e. after it was committed. The parent SIGKILLs it mid-load, restarts it, and checks
//! every SQN ever printed: none repeats for a subscriber, and per IND the SEQ of the second
//! run is above everything of the first. The same with two allocators ("two AAA nodes",
//! with their own IND) on one database at once, one of them killed and restarted.
//!
//! The file is its own harness (`harness = false`): `main` is either the child or the list
//! of cases, so no test entry has to be ignored in normal runs.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mobstrap_store::sqn::{self, SqnPolicy};
use mobstrap_store::*;
use mobstrap_testsupport::TempPostgres;

const IMSIS: u64 = 6;
const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";

fn imsi(n: u64) -> Imsi {
    Imsi::new(&format!("00101{n:010}")).unwrap()
}

/// The child: allocates until `MOBSTRAP_SQN_CHILD_MAX` SQNs or 30 s, printing
/// `SQN <imsi> <sqn>` after each `next_sqn` returned.
fn sqn_child(url: String) {
    let env = |k: &str| -> u64 { std::env::var(k).unwrap().parse().unwrap() };
    let ind = env("MOBSTRAP_SQN_CHILD_IND") as u8;
    let max = env("MOBSTRAP_SQN_CHILD_MAX");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let opts = StoreOptions {
            sqn: SqnPolicy {
                ind: vec![ind],
                block: 3,
            },
            ..StoreOptions::default()
        };
        let store = Store::open_with(&url, opts).await.unwrap();
        let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut tasks = Vec::new();
        for t in 0..8u64 {
            let store = store.clone();
            let count = count.clone();
            tasks.push(tokio::spawn(async move {
                let mut i = t;
                while count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < max
                    && Instant::now() < deadline
                {
                    let who = imsi(1 + i % IMSIS);
                    i += 1;
                    let q = store.next_sqn(&who).await.unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "SQN {who} {q}").unwrap();
                    out.flush().unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}

struct Run {
    child: Child,
    lines: mpsc::Receiver<String>,
    ind: u8,
    got: Vec<(String, u64)>,
}

impl Run {
    fn start(url: &str, ind: u8, max: u64) -> Run {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("MOBSTRAP_SQN_CHILD_URL", url)
            .env("MOBSTRAP_SQN_CHILD_IND", ind.to_string())
            .env("MOBSTRAP_SQN_CHILD_MAX", max.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Run {
            child,
            lines: rx,
            ind,
            got: Vec::new(),
        }
    }

    fn take(&mut self, line: String) {
        let Some(at) = line.find("SQN ") else { return };
        let mut p = line[at + 4..].split_whitespace();
        if let (Some(i), Some(q)) = (p.next(), p.next().and_then(|q| q.parse().ok())) {
            self.got.push((i.to_owned(), q));
        }
    }

    /// Reads until `n` SQNs were printed (bounded: 60 s).
    fn wait_for(&mut self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.got.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.take(l),
                Err(_) => panic!("child printed only {} SQNs", self.got.len()),
            }
        }
    }

    /// SIGKILL, then collect what it printed before dying.
    fn kill(mut self) -> Vec<(String, u64)> {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "killed mid-load, not finished");
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.take(l);
        }
        self.check_ind();
        self.got
    }

    /// Waits for a normal end.
    fn finish(mut self) -> Vec<(String, u64)> {
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(60)) {
            self.take(l);
        }
        let status = self.child.wait().unwrap();
        assert!(status.success(), "child failed: {status}");
        self.check_ind();
        self.got
    }

    fn check_ind(&self) {
        for (_, q) in &self.got {
            assert_eq!(sqn::split(*q).1, self.ind);
        }
    }
}

async fn provision(url: &str) {
    let s = Store::open(url).await.unwrap();
    let subs: Vec<Provision> = (1..=IMSIS)
        .map(|n| Provision {
            subscriber: Subscriber::new(
                imsi(n),
                Key128::from_hex("k", K).unwrap(),
                Key128::from_hex("opc", K).unwrap(),
            ),
            sqn: None,
        })
        .collect();
    s.write_subscribers(&subs, WriteMode::Add).await.unwrap();
}

/// No SQN twice for one IMSI across all runs.
fn assert_unique(runs: &[&[(String, u64)]]) {
    let mut seen: HashMap<&str, HashSet<u64>> = HashMap::new();
    let mut n = 0;
    for run in runs {
        for (i, q) in run.iter() {
            n += 1;
            assert!(
                seen.entry(i.as_str()).or_default().insert(*q),
                "SQN {q} ({:?}) issued twice to {i}",
                sqn::split(*q)
            );
        }
    }
    assert!(n > 0);
}

/// Per IMSI, every SEQ of `later` is above every SEQ of `earlier` (same IND: same node).
fn assert_after(earlier: &[(String, u64)], later: &[(String, u64)]) {
    let mut max: HashMap<&str, u64> = HashMap::new();
    for (i, q) in earlier {
        let e = max.entry(i.as_str()).or_default();
        *e = (*e).max(sqn::split(*q).0);
    }
    for (i, q) in later {
        if let Some(m) = max.get(i.as_str()) {
            assert!(
                sqn::split(*q).0 > *m,
                "{i}: SEQ {} after restart not above {m}",
                sqn::split(*q).0
            );
        }
    }
}

fn crash_and_restart(url: &str) {
    let mut first = Run::start(url, 5, 1_000_000);
    first.wait_for(400);
    let a = first.kill();
    let mut second = Run::start(url, 5, 1_000_000);
    second.wait_for(200);
    let b = second.kill();
    let c = Run::start(url, 5, 300).finish();
    assert!(c.len() >= 300);
    assert_unique(&[&a, &b, &c]);
    assert_after(&a, &b);
    assert_after(&b, &c);
}

fn two_nodes(url: &str) {
    let mut a = Run::start(url, 1, 1_000_000);
    let b = Run::start(url, 2, 1500);
    a.wait_for(300);
    let a1 = a.kill();
    let a2 = Run::start(url, 1, 600).finish();
    let b = b.finish();
    assert_unique(&[&a1, &a2, &b]);
    assert_after(&a1, &a2);
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("store.sqlite").display())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn sqlite_sigkill_and_restart_never_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    runtime().block_on(provision(&url));
    crash_and_restart(&url);
}

fn postgres_sigkill_and_restart_never_repeats() {
    let url = TempPostgres::shared().unwrap().fresh_database().unwrap();
    runtime().block_on(provision(&url));
    crash_and_restart(&url);
}

fn postgres_two_nodes_never_repeat() {
    let url = TempPostgres::shared().unwrap().fresh_database().unwrap();
    runtime().block_on(provision(&url));
    two_nodes(&url);
}

fn sqlite_two_processes_never_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    runtime().block_on(provision(&url));
    two_nodes(&url);
}

fn main() {
    if let Ok(url) = std::env::var("MOBSTRAP_SQN_CHILD_URL") {
        sqn_child(url);
        return;
    }
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let cases: [(&str, fn()); 4] = [
        (
            "sqlite_sigkill_and_restart_never_repeats",
            sqlite_sigkill_and_restart_never_repeats,
        ),
        (
            "sqlite_two_processes_never_repeat",
            sqlite_two_processes_never_repeat,
        ),
        (
            "postgres_sigkill_and_restart_never_repeats",
            postgres_sigkill_and_restart_never_repeats,
        ),
        (
            "postgres_two_nodes_never_repeat",
            postgres_two_nodes_never_repeat,
        ),
    ];
    let mut ran = 0;
    for (name, case) in cases {
        if name.contains(&filter) {
            let t = Instant::now();
            case();
            ran += 1;
            println!("test {name} ... ok ({:.1} s)", t.elapsed().as_secs_f64());
        }
    }
    println!("test result: ok. {ran} passed");
}
