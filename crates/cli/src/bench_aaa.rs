//! `mobstrap bench aaa --radius|--diameter`: full EAP-AKA (or EAP-AKA') authentications per
//! second against `mobstrap aaa` (issue #3).
//!
//! By default the AAA runs in this process on loopback, on its own tokio runtime (threads
//! named `aaa-server`), with a SQLite store in a fresh temporary directory (or `--db`), and
//! `--subscribers` subscribers provisioned in it. The load runs on another runtime
//! (`bench-client` threads): RADIUS NASes (`aaa::client::RadiusNas`) or Diameter ePDGs (SWm
//! DER/DEA, `aaa::client::diameter_authenticate`), each authentication a whole conversation
//! with a Milenage USIM peer — EAP-Response/Identity, AKA-Challenge, AKA-Challenge response,
//! EAP-Success with the MSK — `--window` of them in flight.
//!
//! Server CPU is the CPU time (Linux schedstat, nanoseconds) of the server's threads — the
//! `aaa-server` runtime workers and blocking pool plus the store's `sqlx-sqlite-worker`
//! threads — during the run, divided by the authentications: the figure comparable with
//! hostapd's CPU per authentication (`scripts/interop/hostapd-bench.sh`). The client runs
//! on the same cores. The run (wall time and CPU) ends when the server's store has also
//! committed the writes the authentications queued after their answers.
//!
//! `--server ADDR` targets a running AAA instead (then `--db` provisions the subscribers
//! into its store, or they are expected there already: IMSI 00101 + 10 digits, K and OPc as
//! below; server CPU is not measured).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use mobstrap_node::aaa::client::{diameter_authenticate, DerOptions, RadiusNas};
use mobstrap_node::aaa::{AaaConfig, AaaNode};
use mobstrap_node::diameter::config::{PeerEntry, RouteKind, RouteTarget};
use mobstrap_node::diameter::{DiameterConfig, DiameterNode};
use mobstrap_proto::eap::{AkaEapPeer, AkaPeerConfig, Method, SqnPolicy, Usim};
use mobstrap_store::{
    AccessType, ApnProfile, Imsi, Key128, Provision, Store, Subscriber, WriteMode,
};
use mobstrap_wire::radius::Code;

/// K of subscriber n: this with the last 8 octets = n (TS 35.208 test set 1's K).
const K: [u8; 16] = [
    0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc,
];
/// OPc of every bench subscriber (test set 1).
pub(crate) const OPC: [u8; 16] = [
    0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf,
];
pub(crate) const REALM: &str = "nai.epc.mnc001.mcc001.3gppnetwork.org";
const SERVER_HOST: &str = "aaa.bench.example";
const BENCH_REALM: &str = "bench.example";

#[derive(clap::Args)]
pub struct AaaArgs {
    /// Over RADIUS (Access-Request / Access-Challenge / Access-Accept).
    #[arg(
        long,
        required_unless_present = "diameter",
        conflicts_with = "diameter"
    )]
    radius: bool,
    /// Over Diameter (SWm DER/DEA, as an ePDG).
    #[arg(long)]
    diameter: bool,
    /// EAP-AKA' instead of EAP-AKA.
    #[arg(long)]
    aka_prime: bool,
    /// Full authentications to run.
    #[arg(long, default_value_t = 100_000)]
    count: u64,
    /// Subscribers (authentication i uses subscriber i mod N).
    #[arg(long, default_value_t = 1000)]
    subscribers: u64,
    /// Authentications in flight.
    #[arg(long, default_value_t = 256)]
    window: u64,
    /// Diameter connections (client nodes) or RADIUS NAS sockets.
    #[arg(long, default_value_t = 2)]
    connections: u64,
    /// Worker threads of the in-process AAA.
    #[arg(long, default_value_t = 1)]
    server_threads: usize,
    /// Worker threads of the load generator.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// A running AAA (RADIUS or Diameter address) instead of the in-process one.
    #[arg(long, value_name = "ADDR")]
    server: Option<SocketAddr>,
    /// With --server: its Diameter Origin-Host (it must accept peers of realm bench.example).
    #[arg(long, default_value = SERVER_HOST)]
    server_host: String,
    /// Store URL to provision the subscribers in (default: SQLite in a temporary directory,
    /// removed afterwards). With --server: the server's store, if it should be provisioned.
    #[arg(long, value_name = "URL")]
    db: Option<String>,
    /// RADIUS shared secret.
    #[arg(long, default_value = "bench-secret")]
    secret: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub(crate) fn imsi(n: u64) -> String {
    format!("00101{n:010}")
}

pub(crate) fn k_of(n: u64) -> [u8; 16] {
    let mut k = K;
    k[8..].copy_from_slice(&n.to_be_bytes());
    k
}

fn ue(n: u64, prime: bool) -> AkaEapPeer {
    let mut cfg = AkaPeerConfig::new(&imsi(n), Some(REALM));
    cfg.methods = vec![if prime { Method::AkaPrime } else { Method::Aka }];
    // A fresh USIM per authentication (SQN_MS 0): it accepts the server's next SQN.
    AkaEapPeer::aka(
        cfg,
        Usim::new(
            &k_of(n),
            &OPC,
            0,
            SqnPolicy::IndArray {
                ind_bits: 5,
                delta: Some(1 << 28),
                max_age: None,
            },
        ),
    )
}

/// Subscribers 0..n (IMSI 00101 + 10 digits, K of [`k_of`], OPc of test set 1) with these
/// APN profiles (`internet=gw:192.0.2.10`).
pub(crate) async fn provision(url: &str, n: u64, apns: &str) -> anyhow::Result<()> {
    let store = Store::open(url)
        .await
        .with_context(|| format!("store {url}"))?;
    let apns = ApnProfile::parse_list("apns", apns).map_err(|e| anyhow!("{e}"))?;
    let access = AccessType::parse_list("access_types", "all").map_err(|e| anyhow!("{e}"))?;
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..n {
        let imsi = Imsi::new(&imsi(i)).map_err(|e| anyhow!("{e}"))?;
        let mut s = Subscriber::new(imsi, Key128::new(k_of(i)), Key128::new(OPC));
        s.profile.apns = apns.clone();
        s.profile.access_types = access.clone();
        batch.push(Provision {
            subscriber: s,
            sqn: None,
        });
        if batch.len() == 10_000 || i + 1 == n {
            store
                .write_subscribers(&batch, WriteMode::Replace)
                .await
                .context("provisioning the subscribers")?;
            batch.clear();
        }
    }
    store.flush().await.context("store flush")?;
    Ok(())
}

fn server_config(url: &str, a: &AaaArgs) -> anyhow::Result<AaaConfig> {
    let front = if a.radius {
        format!(
            "[radius]\nlisten = \"127.0.0.1:0\"\naccounting_listen = \"127.0.0.1:0\"\n\
             [[radius.client]]\naddress = \"127.0.0.0/8\"\nsecret = {:?}\n",
            a.secret
        )
    } else {
        format!(
            "[diameter]\norigin_host = \"{SERVER_HOST}\"\norigin_realm = \"{BENCH_REALM}\"\n\
             listen = [\"127.0.0.1:0\"]\n[[diameter.allow]]\nrealm = \"{BENCH_REALM}\"\n\
             [roaming]\nhome_realms = [\"{BENCH_REALM}\", \"{REALM}\"]\n"
        )
    };
    let text = format!(
        "[store]\nurl = {url:?}\nmax_connections = 4\n{front}[eap]\nmethods = [\"aka\", \"aka-prime\"]\n"
    );
    AaaConfig::from_toml(&text).map_err(|e| anyhow!("bench AAA configuration: {e}"))
}

/// CPU time (ns) of this process's threads whose name starts with one of `prefixes`.
fn threads_cpu(prefixes: &[&str]) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let mut total = 0;
    for t in dir.flatten() {
        let p = t.path();
        let Ok(comm) = std::fs::read_to_string(p.join("comm")) else {
            continue;
        };
        if !prefixes.iter().any(|x| comm.starts_with(x)) {
            continue;
        }
        if let Some(ns) = std::fs::read_to_string(p.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        {
            total += ns;
        }
    }
    total
}

const SERVER_THREADS: &[&str] = &["aaa-server", "sqlx-sqlite-wor"];

/// The in-process AAA on its own runtime; dropping the handle stops it.
struct Server {
    addr: SocketAddr,
    /// Asks the server to commit its store's queued writes; answered when done.
    flush: tokio::sync::mpsc::UnboundedSender<tokio::sync::oneshot::Sender<()>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start_server(config: AaaConfig, threads: usize, radius: bool) -> anyhow::Result<Server> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("aaa-server")
        .enable_all()
        .build()
        .context("server runtime")?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (flush_tx, mut flush_rx) =
        tokio::sync::mpsc::unbounded_channel::<tokio::sync::oneshot::Sender<()>>();
    let thread = std::thread::Builder::new()
        .name("aaa-server-main".into())
        .spawn(move || {
            rt.block_on(async move {
                let node = match AaaNode::start(config).await {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = ready_tx.send(Err(anyhow!("starting the AAA: {e}")));
                        return;
                    }
                };
                let addr = if radius {
                    node.radius_addr()
                } else {
                    node.diameter()
                        .and_then(|d| d.local_addrs().first().copied())
                };
                let _ = ready_tx.send(addr.ok_or_else(|| anyhow!("the AAA has no address")));
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        Some(done) = flush_rx.recv() => {
                            if let Err(e) = node.store().flush().await {
                                tracing::warn!(error = %e, "bench: store flush failed");
                            }
                            let _ = done.send(());
                        }
                    }
                }
                node.shutdown(Duration::from_secs(5)).await;
            })
        })
        .context("server thread")?;
    let addr = ready_rx
        .recv_timeout(Duration::from_secs(30))
        .context("the AAA did not start in 30 s")??;
    Ok(Server {
        addr,
        flush: flush_tx,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

/// What the load generator saw.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
    first_failure: Mutex<Option<String>>,
    /// Latencies of successful authentications, µs.
    latencies: Mutex<Vec<u32>>,
}

impl Tally {
    fn fail(&self, why: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut f = self.first_failure.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() {
            *f = Some(why);
        }
    }
}

/// Hands out authentication numbers 0..count.
struct Ticket {
    next: AtomicU64,
    count: u64,
    deadline: Instant,
}

impl Ticket {
    fn take(&self) -> Option<u64> {
        if Instant::now() >= self.deadline {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        (n < self.count).then_some(n)
    }
}

pub fn aaa(a: AaaArgs) -> anyhow::Result<ExitCode> {
    if a.window == 0 || a.subscribers == 0 || a.connections == 0 || a.count == 0 {
        return Err(anyhow!(
            "--window, --subscribers, --connections and --count must be at least 1"
        ));
    }
    let tmp = std::env::temp_dir().join(format!("mobstrap-bench-aaa-{}", std::process::id()));
    let url = match (&a.db, a.server) {
        (Some(u), _) => Some(u.clone()),
        (None, None) => {
            std::fs::create_dir_all(&tmp).with_context(|| format!("{}", tmp.display()))?;
            Some(format!("sqlite://{}", tmp.join("hss.sqlite").display()))
        }
        (None, Some(_)) => None,
    };
    let result = run(&a, url.as_deref());
    if a.db.is_none() && a.server.is_none() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn run(a: &AaaArgs, url: Option<&str>) -> anyhow::Result<ExitCode> {
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.client_threads.max(1))
        .thread_name("bench-client")
        .enable_all()
        .build()
        .context("client runtime")?;
    if let Some(url) = url {
        let t = Instant::now();
        client_rt.block_on(provision(url, a.subscribers, "internet=gw:192.0.2.10"))?;
        crate::outln!(
            "bench aaa: {} subscribers provisioned in {} ({:.1} s)",
            a.subscribers,
            url,
            t.elapsed().as_secs_f64()
        );
    }
    let server = match a.server {
        Some(_) => None,
        None => {
            let url = url.ok_or_else(|| anyhow!("no store"))?;
            Some(start_server(
                server_config(url, a)?,
                a.server_threads,
                a.radius,
            )?)
        }
    };
    let target = match (&server, a.server) {
        (Some(s), _) => s.addr,
        (None, Some(addr)) => addr,
        (None, None) => return Err(anyhow!("no server")),
    };

    let pb = if a.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let pb = indicatif::ProgressBar::new(a.count);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} authentications {per_sec} [{elapsed}]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    };
    let tally = Arc::new(Tally::default());
    let flush = server.as_ref().map(|s| s.flush.clone());
    let (wall, cpu) = client_rt.block_on(load(a, target, flush, tally.clone(), pb.clone()))?;
    pb.finish_and_clear();
    drop(server);

    let ok = tally.ok.load(Ordering::Relaxed);
    let failed = tally.failed.load(Ordering::Relaxed);
    let mut lat = std::mem::take(&mut *tally.latencies.lock().unwrap_or_else(|e| e.into_inner()));
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i] as f64 / 1000.0
    };
    let method = if a.aka_prime { "EAP-AKA'" } else { "EAP-AKA" };
    let over = if a.radius { "RADIUS" } else { "Diameter SWm" };
    let cpu_text = match cpu {
        Some(ns) => format!(
            "server CPU {:.1} µs per authentication ({:.2} s on its threads)",
            ns as f64 / 1000.0 / ok.max(1) as f64,
            ns as f64 / 1e9
        ),
        None => "server CPU not measured (--server)".into(),
    };
    crate::outln!(
        "bench aaa: {ok} full {method} authentications over {over} in {:.2} s = {:.0} auth/s; latency p50 {:.2} ms, p99 {:.2} ms; {cpu_text}; {failed} failed; window {}, {} connections, {} subscribers, server threads {}, client threads {}",
        wall.as_secs_f64(),
        ok as f64 / wall.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        a.window,
        a.connections,
        a.subscribers,
        a.server_threads,
        a.client_threads,
    );
    if let Some(why) = tally
        .first_failure
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        crate::outln!("bench aaa: first failure: {why}");
    }
    Ok(if ok == a.count && failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs the load; (wall time, server CPU ns). With the in-process server (`flush`), the
/// window ends when its store has committed every write the authentications queued
/// (pseudonyms, re-authentication identities, sessions are written after the answer): a
/// store that lags behind is counted, not left for the shutdown.
async fn load(
    a: &AaaArgs,
    target: SocketAddr,
    flush: Option<tokio::sync::mpsc::UnboundedSender<tokio::sync::oneshot::Sender<()>>>,
    tally: Arc<Tally>,
    pb: indicatif::ProgressBar,
) -> anyhow::Result<(Duration, Option<u64>)> {
    enum Front {
        Radius(Vec<Arc<RadiusNas>>),
        Diameter(Vec<Arc<DiameterNode>>),
    }
    let front = if a.radius {
        let mut v = Vec::new();
        for _ in 0..a.connections {
            let mut nas = RadiusNas::new("127.0.0.1:0".parse()?, target, a.secret.as_bytes())
                .await
                .context("NAS socket")?;
            nas.retransmit = Duration::from_secs(2);
            nas.max_sends = 3;
            v.push(Arc::new(nas));
        }
        if a.window > 250 * a.connections {
            return Err(anyhow!(
                "--window above 250 per RADIUS socket (the Identifier space): use more --connections"
            ));
        }
        Front::Radius(v)
    } else {
        let mut v = Vec::new();
        for i in 0..a.connections {
            let mut c = DiameterConfig::new(&format!("epdg{i}.{BENCH_REALM}"), BENCH_REALM);
            c.request_timeout = Duration::from_secs(10);
            c.peers.push(PeerEntry {
                host: a.server_host.clone(),
                realm: Some(BENCH_REALM.into()),
                connect: Some(target),
                tw: None,
                tc: None,
            });
            c.default_route = Some(RouteTarget {
                action: RouteKind::Relay,
                peers: vec![a.server_host.clone()],
            });
            let node = DiameterNode::builder(c)
                .client_application(mobstrap_wire::diameter::app::SWM, Some(10415))
                .start()
                .await
                .context("Diameter client node")?;
            if !node
                .wait_peer(&a.server_host, Duration::from_secs(10))
                .await
            {
                return Err(anyhow!(
                    "no Diameter connection to {} at {target}",
                    a.server_host
                ));
            }
            v.push(Arc::new(node));
        }
        Front::Diameter(v)
    };
    let front = Arc::new(front);
    let ticket = Arc::new(Ticket {
        next: AtomicU64::new(0),
        count: a.count,
        deadline: Instant::now() + Duration::from_secs(a.timeout),
    });
    let cpu0 = threads_cpu(SERVER_THREADS);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..a.window {
        let (front, ticket, tally, pb) = (front.clone(), ticket.clone(), tally.clone(), pb.clone());
        let (subs, prime, conns) = (a.subscribers, a.aka_prime, a.connections);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while let Some(i) = ticket.take() {
                let n = i % subs;
                let mut peer = ue(n, prime);
                let t = Instant::now();
                let outcome = match &*front {
                    Front::Radius(nases) => {
                        let nas = &nases[(w % conns) as usize];
                        match nas.authenticate(&mut peer).await {
                            Ok(r) if r.code == Code::AccessAccept && r.msk.is_some() => {
                                match (r.peer_success(), r.msk.as_deref()) {
                                    (Some(s), Some(m)) if s.msk.as_bytes()[..] == *m => Ok(()),
                                    _ => Err("Access-Accept without the peer's MSK".to_string()),
                                }
                            }
                            Ok(r) => Err(format!("{:?} after {} rounds", r.code, r.rounds)),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Front::Diameter(nodes) => {
                        let node = &nodes[(w % conns) as usize];
                        let opts = DerOptions::swm(REALM);
                        let sid = format!("{};{i};{w}", node.identity().origin_host);
                        match diameter_authenticate(node, &opts, &sid, &mut peer).await {
                            Ok(r) if r.result() == 2001 && r.peer_success().is_some() => Ok(()),
                            Ok(r) => Err(format!("DEA results {:?}", r.results)),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                };
                match outcome {
                    Ok(()) => {
                        lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                        tally.ok.fetch_add(1, Ordering::Relaxed);
                        pb.inc(1);
                    }
                    Err(e) => tally.fail(format!("{} ({}): {e}", imsi(n), i)),
                }
            }
            tally
                .latencies
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(lat);
        }));
    }
    for t in tasks {
        t.await.context("load task")?;
    }
    if let Some(flush) = flush {
        let (done, wait) = tokio::sync::oneshot::channel();
        if flush.send(done).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(a.timeout), wait).await;
        }
    }
    let wall = t0.elapsed();
    let cpu = threads_cpu(SERVER_THREADS).saturating_sub(cpu0);
    if let Front::Diameter(nodes) = &*front {
        for n in nodes {
            n.shutdown(Duration::from_secs(2)).await;
        }
    }
    Ok((wall, a.server.is_none().then_some(cpu)))
}
