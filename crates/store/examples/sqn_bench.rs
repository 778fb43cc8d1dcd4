//! SQN allocations and subscriber reads per second, on SQLite and on PostgreSQL.
//!
//! ```sh
//! cargo run --release -p mobstrap-store --example sqn_bench            # both back ends
//! cargo run --release -p mobstrap-store --example sqn_bench -- sqlite  # one of them
//! cargo run --release -p mobstrap-store --example sqn_bench -- postgres://user@host/db
//! ```
//!
//! PostgreSQL runs in a throw-away cluster (Debian's `postgresql` package) unless a URL is
//! given; SQLite in a file under /tmp (same disk as the cluster). Each case runs for a
//! bounded time; figures go to `docs/performance.md`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mobstrap_store::sqn::SqnPolicy;
use mobstrap_store::*;

const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const SECS: f64 = 3.0;

fn imsi(n: u64) -> Imsi {
    Imsi::new(&format!("00101{n:010}")).unwrap()
}

async fn provision(store: &Store, from: u64, n: u64) {
    let subs: Vec<Provision> = (from..from + n)
        .map(|i| Provision {
            subscriber: Subscriber::new(
                imsi(i),
                Key128::from_hex("k", K).unwrap(),
                Key128::from_hex("opc", K).unwrap(),
            ),
            sqn: None,
        })
        .collect();
    for chunk in subs.chunks(5000) {
        store
            .write_subscribers(chunk, WriteMode::Add)
            .await
            .unwrap();
    }
}

async fn open(url: &str, block: u32) -> Store {
    let opts = StoreOptions {
        sqn: SqnPolicy {
            ind: vec![0],
            block,
        },
        ..StoreOptions::default()
    };
    Store::open_with(url, opts).await.unwrap()
}

/// Runs `tasks` tasks, each calling `op(task, i)` until the time is up (or `limit` calls in
/// all); returns calls per second.
async fn rate<F, Fut>(tasks: u64, limit: u64, op: F) -> (f64, u64)
where
    F: Fn(u64, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(SECS);
    let mut hs = Vec::new();
    for t in 0..tasks {
        let op = op.clone();
        let done = done.clone();
        hs.push(tokio::spawn(async move {
            let mut i = 0;
            while Instant::now() < end && done.fetch_add(1, Ordering::Relaxed) < limit {
                op(t, i).await;
                i += 1;
            }
        }));
    }
    for h in hs {
        h.await.unwrap();
    }
    let n = done.load(Ordering::Relaxed).min(limit);
    (n as f64 / start.elapsed().as_secs_f64(), n)
}

/// A cheap deterministic hash of (task, iteration) (splitmix64).
fn mix(t: u64, i: u64) -> u64 {
    let mut z = (t << 40 ^ i).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn row(what: &str, (r, n): (f64, u64)) {
    println!("  {what:<62} {r:>11.0} /s  ({n} in {SECS:.0} s or less)");
}

async fn bench(label: &str, url: &str) {
    println!("{label}");
    let base = 1_000_000;
    {
        let s = open(url, 32).await;
        provision(&s, base, 10_000).await;
    }

    // 1. One subscriber, one task: blocks of 32 from memory, one commit per 32.
    let s = open(url, 32).await;
    let st = s.clone();
    row(
        "next_sqn, 1 task, 1 subscriber, block 32",
        rate(1, u64::MAX, move |_, _| {
            let st = st.clone();
            async move {
                st.next_sqn(&imsi(1_000_000)).await.unwrap();
            }
        })
        .await,
    );

    // 2. Many subscribers, concurrent: the AAA's steady state. A warm-up pass gives every
    //    subscriber a block; then one allocation in 32 per subscriber needs a commit.
    let st = s.clone();
    row(
        "  (warm-up: first allocation of 10,000 subscribers, 64 tasks)",
        rate(64, 10_000, {
            let next = Arc::new(AtomicU64::new(0));
            move |_, _| {
                let st = st.clone();
                let n = next.fetch_add(1, Ordering::Relaxed);
                async move {
                    st.next_sqn(&imsi(base + n % 10_000)).await.unwrap();
                }
            }
        })
        .await,
    );
    for tasks in [1, 64] {
        let st = s.clone();
        row(
            &format!("next_sqn, {tasks} tasks, 10,000 subscribers, block 32"),
            rate(tasks, u64::MAX, move |t, i| {
                let st = st.clone();
                async move {
                    // Random subscribers: their blocks run out at different times, as in
                    // an AAA's steady state.
                    let who = imsi(base + mix(t, i) % 10_000);
                    st.next_sqn(&who).await.unwrap();
                }
            })
            .await,
        );
    }

    // 2b. The HSS part of one full authentication: subscriber (cached), SQN, Milenage vector.
    for i in 0..10_000 {
        s.subscriber(&imsi(base + i)).await.unwrap().unwrap();
    }
    let st = s.clone();
    row(
        "subscriber() + next_sqn() + Milenage vector, 64 tasks, 10,000 subs",
        rate(64, u64::MAX, move |t, i| {
            let st = st.clone();
            async move {
                let who = imsi(base + mix(t, i) % 10_000);
                let sub = st.subscriber(&who).await.unwrap().unwrap();
                let q = st.next_sqn(&who).await.unwrap();
                let m = mobstrap_crypto::milenage::Milenage::new(
                    sub.subscriber.k.as_bytes(),
                    sub.subscriber.opc.as_bytes(),
                );
                let rand = mix(i, t).to_be_bytes();
                let mut r = [0u8; 16];
                r[..8].copy_from_slice(&rand);
                std::hint::black_box(m.generate_vector(&r, q, sub.subscriber.amf.0).unwrap());
            }
        })
        .await,
    );
    drop(s);

    // 3. Every allocation a durable write (block 1): the cost of a commit, and what the
    //    group commit makes of it under concurrency.
    let s = open(url, 1).await;
    for tasks in [1, 16, 256] {
        let st = s.clone();
        row(
            &format!("next_sqn, {tasks} tasks, block 1 (a commit each; group commit)"),
            rate(tasks, u64::MAX, move |t, i| {
                let st = st.clone();
                async move {
                    let who = imsi(base + (t * 131 + i) % 10_000);
                    st.next_sqn(&who).await.unwrap();
                }
            })
            .await,
        );
    }
    drop(s);

    // 4. Cold start: 256 tasks, fresh subscribers, each needing a reservation.
    let s = open(url, 32).await;
    let cold = 2_000_000;
    provision(&s, cold, 50_000).await;
    let next = Arc::new(AtomicU64::new(0));
    let st = s.clone();
    row(
        "next_sqn, 256 tasks, first allocation of 50,000 subscribers",
        rate(256, 50_000, move |_, _| {
            let st = st.clone();
            let n = next.fetch_add(1, Ordering::Relaxed);
            async move {
                st.next_sqn(&imsi(cold + n)).await.unwrap();
            }
        })
        .await,
    );

    // 5. Subscriber reads: cached (after one pass to fill the cache) vs from the database.
    for i in 0..10_000 {
        s.subscriber(&imsi(base + i)).await.unwrap().unwrap();
    }
    let st = s.clone();
    row(
        "subscriber(), 2 tasks, 10,000 subscribers, cached",
        rate(2, u64::MAX, move |t, i| {
            let st = st.clone();
            async move {
                st.subscriber(&imsi(base + (t * 5003 + i) % 10_000))
                    .await
                    .unwrap()
                    .unwrap();
            }
        })
        .await,
    );
    let st = s.clone();
    row(
        "subscriber_uncached(), 16 tasks, 10,000 subscribers",
        rate(16, u64::MAX, move |t, i| {
            let st = st.clone();
            async move {
                st.subscriber_uncached(&imsi(base + (t * 5003 + i) % 10_000))
                    .await
                    .unwrap()
                    .unwrap();
            }
        })
        .await,
    );
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "both".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::Builder::new()
        .prefix("mobstrap-sqn-bench")
        .tempdir_in("/tmp")
        .unwrap();
    if arg == "both" || arg == "sqlite" {
        let url = format!("sqlite://{}", dir.path().join("bench.sqlite").display());
        rt.block_on(bench("SQLite (WAL, synchronous=FULL)", &url));
    }
    if arg == "both" || arg == "postgres" {
        let pg = mobstrap_testsupport::TempPostgres::start().unwrap();
        let url = pg.create_database("bench").unwrap();
        rt.block_on(bench(
            "PostgreSQL 15 (loopback, synchronous_commit=on)",
            &url,
        ));
    } else if arg.starts_with("postgres") {
        rt.block_on(bench("PostgreSQL", &arg));
    }
}
