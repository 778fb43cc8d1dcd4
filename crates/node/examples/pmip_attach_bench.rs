//! Attach rate of the MAG driver against `mobstrap gw` on loopback (no S6b): N sessions
//! registered with up to C in flight, then de-registered. Prints attaches/s and p50/p99.
//! `cargo run --release -p mobstrap-node --example pmip_attach_bench -- [N] [C] [sqlite|memory]`

use std::time::{Duration, Instant};

use mobstrap_node::gw::{GwConfig, GwNode};
use mobstrap_node::mag::Mag;
use mobstrap_proto::pmip::mag::{AttachRequest, MagConfig};
use mobstrap_proto::pmip::MnKey;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let c: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(64);
    let dir = tempfile::tempdir().unwrap();
    let url = match args.get(3).map(String::as_str) {
        Some("memory") => "sqlite::memory:".to_string(),
        _ => format!("sqlite://{}", dir.path().join("gw.sqlite").display()),
    };
    let cfg = GwConfig::from_toml(&format!(
        "[pmip]\nlisten = \"127.0.0.1:0\"\n[pools]\nipv4 = \"10.0.0.0/8\"\nipv6 = \"2001:db8::/32\"\n[store]\nurl = \"{url}\"\n"
    ))
    .unwrap();
    let gw = GwNode::start(cfg).await.unwrap();
    let (mag, _n) = Mag::bind(MagConfig::default(), "127.0.0.1:0".parse().unwrap(), false)
        .await
        .unwrap();
    let lma = gw.local_addr();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(c));
    let t0 = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let mag = mag.clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let t = Instant::now();
            let key = MnKey::new(
                format!("0001010{i:08}@nai.epc.mnc001.mcc001.3gppnetwork.org"),
                "internet",
            );
            mag.attach(AttachRequest::new(key, lma))
                .await
                .map(|_| t.elapsed())
        }));
    }
    let mut lat: Vec<Duration> = Vec::with_capacity(n);
    let mut failed = 0;
    let mut why = std::collections::BTreeMap::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(d) => lat.push(d),
            Err(e) => {
                failed += 1;
                *why.entry(e.to_string()).or_insert(0) += 1;
            }
        }
    }
    for (w, k) in &why {
        println!("failed: {k} × {w}");
    }
    let el = t0.elapsed();
    lat.sort();
    let p = |q: f64| {
        lat.get(((lat.len() as f64 * q) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{} attaches ({} failed) in {:.2} s: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms, bindings {}",
        lat.len(),
        failed,
        el.as_secs_f64(),
        lat.len() as f64 / el.as_secs_f64(),
        p(0.5).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3,
        gw.bindings()
    );
}
