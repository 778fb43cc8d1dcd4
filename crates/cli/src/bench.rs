//! `mobstrap bench ike` (and `bench aaa`, in bench_aaa.rs): IKE SA establishments per second over real UDP sockets on loopback,
//! our initiators against our responder in one process (issue #4). The responder runs on
//! its own thread (a single-threaded tokio runtime), the initiators on another, so the
//! responder's CPU time per SA is measured on its thread alone — the figure comparable with
//! strongSwan's load tester (`scripts/interop/strongswan-loadtest.sh`).
//!
//! Each SA is a full IKE_SA_INIT + IKE_AUTH with PSK and a Child SA (installed in the ESP
//! data path), no NAT (port 500 style, on the ports given), no TUN. SAs stay up until the
//! end (as with the load tester), then the nodes stop.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use mobstrap_node::ike::config::{parse_esp_proposal, parse_ike_proposal};
use mobstrap_node::ike::{EspSettings, IkeNode, NodeConfig, NodeEvent};
use mobstrap_proto::ikev2::{Config, DispatcherConfig, Identity, Lifetime, Ports};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// IKE SAs per second, initiators and responder over loopback UDP (PSK).
    Ike(IkeArgs),
    /// Full EAP-AKA / AKA' authentications per second against `mobstrap aaa` (RADIUS or
    /// Diameter SWm), the AAA in-process with a SQLite store unless --server.
    Aaa(crate::bench_aaa::AaaArgs),
    /// Full S2b attaches per second (IKEv2 + EAP-AKA + Diameter SWm + PBU/PBA) through
    /// `mobstrap epdg`, `aaa` and `gw` run as processes, with memory and CPU per UE.
    Attach(crate::bench_attach::AttachArgs),
}

#[derive(clap::Args)]
struct IkeArgs {
    /// IKE SAs to establish.
    #[arg(long, default_value_t = 20_000)]
    sas: u64,
    /// Initiator nodes (each on its own loopback address 127.0.0.2, .3, ...).
    #[arg(long, default_value_t = 4)]
    initiators: u32,
    /// SAs in progress per initiator node.
    #[arg(long, default_value_t = 32)]
    window: u64,
    /// IKE proposal (strongSwan notation).
    #[arg(long, default_value = "aes128gcm16-prfsha256-x25519")]
    proposal: String,
    /// ESP proposal.
    #[arg(long, default_value = "aes128gcm16")]
    esp: String,
    /// IKE port (the NAT-T port is the next one).
    #[arg(long, default_value_t = 20500)]
    port: u16,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    match a.what {
        What::Ike(a) => ike(a),
        What::Aaa(a) => crate::bench_aaa::aaa(a),
        What::Attach(a) => crate::bench_attach::attach_bench(a),
    }
}

fn thread_cpu() -> Duration {
    // SAFETY: clock_gettime writes into the timespec we own.
    let mut ts = libc_timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    unsafe {
        clock_gettime(3 /* CLOCK_THREAD_CPUTIME_ID */, &mut ts)
    };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[repr(C)]
struct libc_timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

extern "C" {
    fn clock_gettime(clk: i32, ts: *mut libc_timespec) -> i32;
}

/// Resident set size of this process in bytes.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|x| x.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn engine(local: &str, a: &IkeArgs) -> anyhow::Result<Config> {
    let mut c = Config::new(Identity::fqdn(local)).with_psk(None, b"bench-psk-0123456789");
    c.ike_proposals =
        vec![parse_ike_proposal(&a.proposal).map_err(|e| anyhow!("--proposal: {e}"))?];
    c.esp_proposals = vec![parse_esp_proposal(&a.esp).map_err(|e| anyhow!("--esp: {e}"))?];
    c.ports = Ports {
        ike: a.port,
        natt: a.port + 1,
    };
    c.force_encap = false;
    c.timers.dpd_interval = None;
    c.lifetimes.ike = Lifetime::NEVER;
    c.lifetimes.child = Lifetime::NEVER;
    c.send_certreq = false;
    // as the nodes without `keys_dir`: the data path has the ESP keys
    c.keep_child_keys = false;
    Ok(c)
}

fn node(c: Config, ip: Ipv4Addr, name: &str) -> NodeConfig {
    let mut n = NodeConfig::new(c);
    n.bind = vec![IpAddr::V4(ip)];
    n.esp = EspSettings {
        replay_window: 64,
        keepalive: None,
        raw: false,
    };
    n.dispatcher = DispatcherConfig {
        cookie_threshold: usize::MAX,
        ..DispatcherConfig::default()
    };
    n.name = name.into();
    n
}

fn ike(a: IkeArgs) -> anyhow::Result<ExitCode> {
    if a.initiators == 0 || a.initiators > 200 || a.window == 0 {
        return Err(anyhow!("--initiators 1..200 and --window ≥ 1"));
    }
    let resp_ip = Ipv4Addr::new(127, 0, 0, 1);
    let resp_cfg = node(engine("responder.bench", &a)?, resp_ip, "bench-responder");
    let target = a.sas;
    let resp_up = Arc::new(AtomicU64::new(0));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let up = resp_up.clone();
    // responder thread
    let responder = std::thread::spawn(move || -> anyhow::Result<(Duration, usize)> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let (h, mut ev) = IkeNode::start(resp_cfg).await?;
            let _ = ready_tx.send(());
            let cpu0 = thread_cpu();
            let mut cpu_at_last = None;
            tokio::pin!(done_rx);
            loop {
                tokio::select! {
                    _ = &mut done_rx => break,
                    e = ev.recv() => match e {
                        Some(NodeEvent::Up { .. }) => {
                            if up.fetch_add(1, Ordering::Relaxed) + 1 == target {
                                cpu_at_last = Some(thread_cpu());
                            }
                        }
                        Some(_) => {}
                        None => break,
                    }
                }
            }
            let st = h.status().await?;
            let n = st.sas.len();
            h.shutdown().await;
            let cpu = cpu_at_last.unwrap_or_else(thread_cpu);
            Ok::<_, anyhow::Error>((cpu - cpu0, n))
        })
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .context("responder did not start")?;

    let pb = if a.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let pb = indicatif::ProgressBar::new(target);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} IKE SAs {per_sec} [{elapsed}]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let remote = SocketAddr::new(IpAddr::V4(resp_ip), a.port);
    let started = AtomicU64::new(0);
    let established = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let rss0 = rss();
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(a.timeout);
    let result: anyhow::Result<()> = rt.block_on(async {
        let mut tasks = Vec::new();
        let started = Arc::new(started);
        for i in 0..a.initiators {
            let ip = Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, 2 + (i % 250) as u8);
            let cfg = node(
                engine(&format!("initiator{i}.bench"), &a)?,
                ip,
                &format!("bench-initiator{i}"),
            );
            let (h, mut ev) = IkeNode::start(cfg).await?;
            let (started, established, failed, pb) = (
                started.clone(),
                established.clone(),
                failed.clone(),
                pb.clone(),
            );
            let window = a.window;
            tasks.push(tokio::spawn(async move {
                let take = || {
                    let n = started.fetch_add(1, Ordering::Relaxed);
                    if n < target {
                        true
                    } else {
                        started.fetch_sub(1, Ordering::Relaxed);
                        false
                    }
                };
                let mut inflight = 0u64;
                for _ in 0..window {
                    if take() {
                        h.connect(remote, None).await?;
                        inflight += 1;
                    }
                }
                while inflight > 0 {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let e = match tokio::time::timeout(left, ev.recv()).await {
                        Ok(Some(e)) => e,
                        _ => break,
                    };
                    match e {
                        NodeEvent::Up { .. } => {
                            inflight -= 1;
                            established.fetch_add(1, Ordering::Relaxed);
                            pb.inc(1);
                        }
                        NodeEvent::Down { .. } => {
                            inflight -= 1;
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => continue,
                    }
                    if take() {
                        h.connect(remote, None).await?;
                        inflight += 1;
                    }
                }
                h.shutdown().await;
                Ok::<_, anyhow::Error>(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        Ok(())
    });
    let wall = t0.elapsed();
    let rss1 = rss();
    pb.finish_and_clear();
    // give the responder a moment to see the last IKE_AUTH complete
    let wait_until = Instant::now() + Duration::from_secs(5);
    while resp_up.load(Ordering::Relaxed) < established.load(Ordering::Relaxed)
        && Instant::now() < wait_until
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = done_tx.send(());
    let (resp_cpu, resp_sas) = responder
        .join()
        .map_err(|_| anyhow!("responder thread panicked"))??;
    result?;
    let ok = established.load(Ordering::Relaxed);
    let fail = failed.load(Ordering::Relaxed);
    let rate = ok as f64 / wall.as_secs_f64();
    crate::outln!(
        "bench ike: memory {:.1} KB per SA, both sides with the Child SA's ESP contexts (resident set growth)",
        rss1.saturating_sub(rss0) as f64 / 1000.0 / ok.max(1) as f64
    );
    crate::outln!(
        "bench ike: {ok} IKE SAs (+ Child SA) in {:.2} s = {:.0} SA/s; responder CPU {:.3} ms per SA ({:.2} s for {} SAs); {} failed; {} initiators x window {}; {} / ESP {}",
        wall.as_secs_f64(),
        rate,
        resp_cpu.as_secs_f64() * 1000.0 / ok.max(1) as f64,
        resp_cpu.as_secs_f64(),
        resp_up.load(Ordering::Relaxed),
        fail,
        a.initiators,
        a.window,
        a.proposal,
        a.esp
    );
    let _ = resp_sas;
    Ok(if ok == target && fail == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
