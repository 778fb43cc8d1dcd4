//! `mobstrap bench attach --ues N`: full S2b attaches per second (seed 002: IKE_SA_INIT,
//! IKE_AUTH with EAP-AKA relayed over Diameter SWm DER/DEA, AAR/AAA for the gateway,
//! PBU/PBA, CFG_REPLY with the addresses), p50/p99 attach latency, and memory and CPU per
//! attached UE in every network node (issue #5).
//!
//! The network side is the real thing, as an operator runs it: `mobstrap aaa`, `mobstrap gw`
//! and `mobstrap epdg` as three child processes of this binary, on their own loopback
//! addresses, with configuration files and SQLite stores in a temporary directory (`--dir`
//! keeps them). The N subscribers are provisioned in the AAA's store before it starts. This
//! process is the UE side: `--initiators` IKE initiator nodes, each running many UEs (one
//! IKE SA per UE, each with its own Milenage USIM and its NAI as IDi), `--window` attaches
//! in flight per node. Every UE stays attached until the end (as strongSwan's load tester
//! keeps its SAs), so the nodes' resident-set growth divided by N is the memory an attached
//! UE costs; the node processes' CPU time (schedstat of all their threads) divided by N is
//! the CPU an attach costs each node, read once the nodes have gone idle after the last
//! attach (work queued behind the answers counts). An attach counts when the UE holds its Child SA and an
//! IPv4 address and IPv6 prefix from the gateway's pools; the bench checks that no address
//! was handed out twice.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use mobstrap_node::ike::app::usim_peer;
use mobstrap_node::ike::config::UsimSpec;
use mobstrap_node::ike::{IkeHandle, IkeNode, NodeEvent};
use mobstrap_node::ue::UeSpec;
use mobstrap_proto::eap::Method;
use mobstrap_proto::ikev2::{Identity, Lifetime, SaId};

use crate::bench_aaa::{imsi, k_of, provision, OPC, REALM};

#[derive(clap::Args)]
pub struct AttachArgs {
    /// UEs to attach (each with its own subscriber).
    #[arg(long, default_value_t = 10_000)]
    ues: u64,
    /// UE-side IKE initiator nodes (each on its own loopback address).
    #[arg(long, default_value_t = 4)]
    initiators: u32,
    /// Attaches in flight per initiator node.
    #[arg(long, default_value_t = 32)]
    window: u64,
    /// IKE proposal (strongSwan notation) of the UEs.
    #[arg(long, default_value = "aes128gcm16-prfsha256-x25519")]
    proposal: String,
    /// The ePDG's IKE port (NAT-T: the next one).
    #[arg(long, default_value_t = 20500)]
    port: u16,
    /// Keep the nodes' configuration, stores and logs in this directory (default: a
    /// temporary directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Log level of the nodes (their logs go to DIR/*.log).
    #[arg(long, default_value = "warn")]
    log: String,
    /// Worker threads of each node process (`--threads` of `mobstrap aaa`, `gw`, `epdg`).
    /// One by default: the three nodes and the UE side share the machine, and with one per
    /// CPU each the work-stealing between them cost CPU (docs/performance.md); 0: each
    /// node's own default (one per CPU).
    #[arg(long, value_name = "N", default_value_t = 1)]
    node_threads: usize,
    /// Also read the nodes' memory after this many seconds at rest, every UE still attached:
    /// what an attached UE costs once the time-window caches (the AAA's Diameter duplicate
    /// cache keeps answers 10 s and sweeps them every 5 s) have emptied and the allocator has
    /// returned their pages (jemalloc's decay, ~10 s more): 30 is enough. 0: not measured.
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    rest: u64,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

const PSK: &str = "bench-attach-psk";
const HOME_REALM: &str = "bench.example";

/// The loopback addresses of this run: nodes in 127.66.X.0/24, UEs in 127.67.X.0/24.
fn net(pid: u32) -> (u8, Ipv4Addr, Ipv4Addr, Ipv4Addr) {
    let x = (pid % 250) as u8;
    (
        x,
        Ipv4Addr::new(127, 66, x, 20), // ePDG (IKE, MAG)
        Ipv4Addr::new(127, 66, x, 40), // AAA
        Ipv4Addr::new(127, 66, x, 50), // gw
    )
}

/// A node process, killed when dropped.
struct NodeProc {
    name: &'static str,
    child: Child,
}

impl NodeProc {
    fn spawn(name: &'static str, dir: &Path, args: &[String]) -> anyhow::Result<NodeProc> {
        let exe = std::env::current_exe().context("this binary's path")?;
        let out = std::fs::File::create(dir.join(format!("{name}.log")))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // The node dies with the bench (with the main thread, which spawns every node) even
        // when the bench ends without running its
        // destructors (killed, or `bench attach | head` exiting on a closed pipe): orphaned
        // nodes went on holding their ports and CPU.
        let parent = std::process::id();
        // SAFETY: between fork and exec the closure only makes async-signal-safe calls
        // (prctl, getppid, kill).
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The bench may have ended before the prctl.
                if libc::getppid() as u32 != parent {
                    libc::kill(libc::getpid(), libc::SIGKILL);
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting mobstrap {name}"))?;
        Ok(NodeProc { name, child })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails with the end of its log when the process has exited.
    fn alive(&mut self, dir: &Path) -> anyhow::Result<()> {
        if let Ok(Some(st)) = self.child.try_wait() {
            let log =
                std::fs::read_to_string(dir.join(format!("{}.log", self.name))).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(8).collect();
            bail!(
                "mobstrap {} exited ({st}):\n{}",
                self.name,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        Ok(())
    }

    /// Resident set (bytes) and CPU time (ns, all threads) of the process.
    fn usage(&self) -> (u64, u64) {
        let pid = self.pid();
        (process_rss(pid), process_cpu(pid))
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (ns) of every thread of `pid` (schedstat: nanoseconds, unlike the tick counts of
/// /proc/PID/stat).
fn process_cpu(pid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    dir.flatten()
        .filter_map(|t| {
            std::fs::read_to_string(t.path().join("schedstat"))
                .ok()?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

fn this_process_cpu() -> u64 {
    process_cpu(std::process::id())
}

/// UEs attached, and the nodes' resident sets (bytes) then.
type Halfway = (u64, Vec<u64>);

/// Resident set (bytes) of `pid`.
fn process_rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |p| p * 4096)
}

fn this_process_rss() -> u64 {
    process_rss(std::process::id())
}

/// Waits until `file` contains `needle` (a node's readiness line) or the node died.
fn wait_log(p: &mut NodeProc, dir: &Path, needle: &str, limit: Duration) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let file = dir.join(format!("{}.log", p.name));
    loop {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&file) {
            let _ = f.read_to_string(&mut s);
        }
        if s.contains(needle) {
            return Ok(());
        }
        p.alive(dir)?;
        if t0.elapsed() > limit {
            bail!("mobstrap {} not ready after {limit:?}", p.name);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_tcp(p: &mut NodeProc, dir: &Path, addr: SocketAddr, limit: Duration) -> anyhow::Result<()> {
    let t0 = Instant::now();
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        p.alive(dir)?;
        if t0.elapsed() > limit {
            bail!("mobstrap {} does not listen on {addr}", p.name);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<String> {
    let p = dir.join(name);
    std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
    Ok(p.display().to_string())
}

fn usim(n: u64) -> UsimSpec {
    UsimSpec {
        imsi: imsi(n),
        k: k_of(n),
        opc: OPC,
        sqn: 0,
        realm: REALM.into(),
        identity: None,
        methods: vec![Method::Aka],
        network_name: None,
        fault: None,
    }
}

/// Starts UE `n`'s attach on `h`.
async fn attach(h: &IkeHandle, epdg: SocketAddr, n: u64) -> anyhow::Result<SaId> {
    let (peer, nai) = usim_peer(&usim(n));
    let id = Identity::rfc822(&String::from_utf8_lossy(&nai));
    Ok(h.connect_as(epdg, Some(peer), Some(id)).await?)
}

/// The UE nodes' configuration (`mobstrap ue`'s, without the USIM: each SA brings its own).
fn ue_node(ip: Ipv4Addr, a: &AttachArgs, epdg: SocketAddr) -> anyhow::Result<UeSpec> {
    let text = format!(
        r#"[ue]
apn = "internet"
[ike]
name = "bench-ue-{ip}"
bind = ["{ip}"]
port = {port}
natt_port = {natt}
remote = "{epdg}"
remote_auth = ["psk"]
psk = "{PSK}"
proposals = ["{proposal}"]
request = ["ip4", "ip6"]
raw_esp = false
dpd = 0
[usim]
imsi = "{imsi0}"
k = "{k0}"
opc = "{opc}"
realm = "{REALM}"
"#,
        port = a.port,
        natt = a.port + 1,
        proposal = a.proposal,
        imsi0 = imsi(0),
        k0 = hex::encode(k_of(0)),
        opc = hex::encode(OPC),
    );
    let mut spec = UeSpec::from_toml(&text, Path::new(".")).map_err(|e| anyhow!("UE: {e}"))?;
    if let Some(c) = Arc::get_mut(&mut spec.ike.node.engine) {
        c.lifetimes.ike = Lifetime::NEVER;
        c.lifetimes.child = Lifetime::NEVER;
    }
    Ok(spec)
}

struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
    latencies: Mutex<Vec<Duration>>,
    addresses: Mutex<HashSet<IpAddr>>,
    duplicates: AtomicU64,
    failures: Mutex<HashMap<String, u64>>,
}

pub fn attach_bench(a: AttachArgs) -> anyhow::Result<ExitCode> {
    if a.ues == 0 || a.initiators == 0 || a.initiators > 200 || a.window == 0 {
        bail!("--ues ≥ 1, --initiators 1..200 and --window ≥ 1");
    }
    let tmp;
    let dir = match &a.dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.canonicalize()?
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let (x, epdg_ip, aaa_ip, gw_ip) = net(std::process::id());
    let epdg = SocketAddr::new(IpAddr::V4(epdg_ip), a.port);

    // the AAA's store, with one subscriber per UE and one for the warm-up attach
    let hss = dir.join("hss.sqlite");
    let _ = std::fs::remove_file(&hss);
    let _ = std::fs::remove_file(dir.join("gw.sqlite"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let t_prov = Instant::now();
    rt.block_on(provision(
        &format!("sqlite://{}", hss.display()),
        a.ues + 1,
        &format!("internet=gw:{gw_ip}"),
    ))?;
    let prov = t_prov.elapsed();

    let aaa_cfg = write(
        &dir,
        "aaa.toml",
        &format!(
            r#"[node]
name = "aaa"
[store]
url = "sqlite://{hss}"
[diameter]
origin_host = "aaa.{HOME_REALM}"
origin_realm = "{HOME_REALM}"
listen = ["{aaa_ip}:3868"]
[[diameter.allow]]
realm = "{HOME_REALM}"
[eap]
methods = ["aka"]
[roaming]
home_realms = ["{HOME_REALM}", "{REALM}"]
[log]
level = "{log}"
"#,
            hss = hss.display(),
            log = a.log
        ),
    )?;
    let gw_cfg = write(
        &dir,
        "gw.toml",
        &format!(
            r#"[node]
name = "gw"
[pmip]
listen = "{gw_ip}:5436"
[pools]
ipv4 = "10.64.0.0/10"
ipv6 = "2001:db8::/32"
[store]
url = "sqlite://{db}"
[log]
level = "{log}"
"#,
            db = dir.join("gw.sqlite").display(),
            log = a.log
        ),
    )?;
    let epdg_cfg = write(
        &dir,
        "epdg.toml",
        &format!(
            r#"[ike]
name = "epdg"
bind = ["{epdg_ip}"]
port = {port}
natt_port = {natt}
local_id = "fqdn:epdg.{HOME_REALM}"
auth = "psk"
psk = "{PSK}"
raw_esp = false
cookie_threshold = 1000000
[aaa]
protocol = "diameter"
destination_realm = "{HOME_REALM}"
application = "swm"
[diameter]
origin_host = "epdg.{HOME_REALM}"
origin_realm = "{HOME_REALM}"
[[diameter.peer]]
host = "aaa.{HOME_REALM}"
connect = "{aaa_ip}:3868"
[diameter.default_route]
action = "relay"
peers = ["aaa.{HOME_REALM}"]
[mag]
listen = "{epdg_ip}:5436"
"#,
            port = a.port,
            natt = a.port + 1,
        ),
    )?;
    let threads = (a.node_threads > 0).then(|| a.node_threads.to_string());
    let with_threads = |mut v: Vec<&'static str>, cfg: &str| -> Vec<String> {
        let mut out: Vec<String> = v.drain(..).map(String::from).collect();
        out.push(cfg.to_string());
        if let Some(t) = &threads {
            out.push("--threads".into());
            out.push(t.clone());
        }
        out
    };
    let args = with_threads(vec!["aaa", "--config"], &aaa_cfg);
    let mut aaa = NodeProc::spawn("aaa", &dir, &args)?;
    let args = with_threads(vec!["gw", "--config"], &gw_cfg);
    let mut gw = NodeProc::spawn("gw", &dir, &args)?;
    wait_tcp(
        &mut aaa,
        &dir,
        SocketAddr::new(IpAddr::V4(aaa_ip), 3868),
        Duration::from_secs(30),
    )?;
    wait_log(
        &mut gw,
        &dir,
        "PMIPv6 signalling on",
        Duration::from_secs(30),
    )?;
    let mut args = with_threads(vec!["epdg", "--config"], &epdg_cfg);
    args.extend(["--log".to_string(), a.log.clone()]);
    let mut epdg_p = NodeProc::spawn("epdg", &dir, &args)?;
    wait_log(&mut epdg_p, &dir, "epdg: ready", Duration::from_secs(30))?;

    let pb = if a.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let pb = indicatif::ProgressBar::new(a.ues);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} UEs attached {per_sec} [{elapsed}]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    };
    let tally = Arc::new(Tally {
        ok: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        latencies: Mutex::new(Vec::with_capacity(a.ues as usize)),
        addresses: Mutex::new(HashSet::with_capacity(2 * a.ues as usize)),
        duplicates: AtomicU64::new(0),
        failures: Mutex::new(HashMap::new()),
    });
    let nodes = [&aaa, &gw, &epdg_p];
    // The nodes' resident sets when half the UEs were attached (UEs attached then, bytes
    // per node): the second half's growth is the memory one more UE costs, without what
    // fixed-size caches (SQLite's page caches, tables that grew by doubling early) took
    // while they filled.
    let halfway: Arc<Mutex<Option<Halfway>>> = Arc::default();
    type Measured = (
        Duration,
        Duration,
        Vec<(u64, u64)>,
        Vec<(u64, u64)>,
        // the nodes' resident sets after `--rest`
        Option<Vec<u64>>,
        u64,
        u64,
        u64,
        u64,
        (Duration, u64, u64),
    );
    let result: anyhow::Result<Measured> = rt.block_on(async {
        // the UE nodes
        let mut ues = Vec::new();
        for i in 0..a.initiators {
            let ip = Ipv4Addr::new(127, 67, x, 2 + i as u8);
            let spec = ue_node(ip, &a, epdg)?;
            let (h, ev) = IkeNode::start(spec.ike.node.clone())
                .await
                .with_context(|| format!("UE node on {ip}"))?;
            ues.push((h, ev));
        }
        // warm-up: one attach (subscriber N) until the ePDG's Diameter link is up
        let (h0, ev0) = &mut ues[0];
        let mut warm = None;
        for _ in 0..20 {
            let id = attach(h0, epdg, a.ues).await?;
            let got = tokio::time::timeout(Duration::from_secs(5), async {
                while let Some(e) = ev0.recv().await {
                    match e {
                        NodeEvent::Up { id: i, info } if i == id => {
                            return info.child_error.is_none();
                        }
                        NodeEvent::Down { id: i, .. } if i == id => return false,
                        _ => {}
                    }
                }
                false
            })
            .await;
            if got == Ok(true) {
                warm = Some(id);
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let Some(warm_id) = warm else {
            bail!(
                "the warm-up attach did not succeed (logs in {})",
                dir.display()
            );
        };
        let before: Vec<(u64, u64)> = nodes.iter().map(|p| p.usage()).collect();
        let (ue_rss0, ue_cpu0) = (this_process_rss(), this_process_cpu());
        let started = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(a.timeout);
        let t0 = Instant::now();
        let sampler = {
            let (tally, halfway) = (tally.clone(), halfway.clone());
            let pids: Vec<u32> = nodes.iter().map(|p| p.pid()).collect();
            let half = a.ues / 2;
            tokio::spawn(async move {
                loop {
                    let n = tally.ok.load(Ordering::Relaxed);
                    if n >= half {
                        let rss = pids.iter().map(|&p| process_rss(p)).collect();
                        *halfway.lock().unwrap_or_else(|e| e.into_inner()) = Some((n, rss));
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
        };
        let mut tasks = Vec::new();
        for (h, mut ev) in ues {
            let (started, tally, pb) = (started.clone(), tally.clone(), pb.clone());
            let (target, window) = (a.ues, a.window);
            tasks.push(tokio::spawn(async move {
                let take = || {
                    let n = started.fetch_add(1, Ordering::Relaxed);
                    (n < target).then_some(n)
                };
                let mut inflight: HashMap<SaId, Instant> = HashMap::new();
                let mut up: Vec<SaId> = Vec::new();
                for _ in 0..window {
                    if let Some(n) = take() {
                        inflight.insert(attach(&h, epdg, n).await?, Instant::now());
                    }
                }
                while !inflight.is_empty() {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let e = match tokio::time::timeout(left, ev.recv()).await {
                        Ok(Some(e)) => e,
                        _ => break,
                    };
                    let (id, ok, why) = match e {
                        NodeEvent::Up { id, info } => {
                            let addrs = &info.addresses;
                            match (info.child_error, addrs.ip4, addrs.ip6) {
                                (None, Some(v4), Some((v6, _))) => {
                                    let mut set =
                                        tally.addresses.lock().unwrap_or_else(|e| e.into_inner());
                                    if !set.insert(IpAddr::V4(v4)) || !set.insert(IpAddr::V6(v6)) {
                                        tally.duplicates.fetch_add(1, Ordering::Relaxed);
                                    }
                                    (id, true, String::new())
                                }
                                (Some(n), _, _) => (id, false, n.to_string()),
                                _ => (id, false, "no IPv4 address or IPv6 prefix".into()),
                            }
                        }
                        NodeEvent::Down { id, reason } => (id, false, format!("{reason:?}")),
                        _ => continue,
                    };
                    let Some(t) = inflight.remove(&id) else {
                        continue;
                    };
                    if ok {
                        up.push(id);
                        tally.ok.fetch_add(1, Ordering::Relaxed);
                        tally
                            .latencies
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(t.elapsed());
                        pb.inc(1);
                    } else {
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                        *tally
                            .failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .entry(why)
                            .or_insert(0) += 1;
                    }
                    if let Some(n) = take() {
                        inflight.insert(attach(&h, epdg, n).await?, Instant::now());
                    }
                }
                Ok::<_, anyhow::Error>((h, ev, up))
            }));
        }
        let mut handles = Vec::new();
        for t in tasks {
            handles.push(t.await??);
        }
        let wall = t0.elapsed();
        sampler.abort();
        // Work the nodes queued behind their answers (the AAA's identity and session rows)
        // is part of what an attach costs: CPU and memory are read once the nodes are idle
        // (below 5 % of a CPU over 100 ms), at most 10 s after the last attach.
        let settle0 = Instant::now();
        let mut cpu_prev: u64 = nodes.iter().map(|p| p.usage().1).sum();
        while settle0.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let cpu_now: u64 = nodes.iter().map(|p| p.usage().1).sum();
            if cpu_now.saturating_sub(cpu_prev) < 5_000_000 {
                break;
            }
            cpu_prev = cpu_now;
        }
        let settle = settle0.elapsed();
        let after: Vec<(u64, u64)> = nodes.iter().map(|p| p.usage()).collect();
        let (ue_rss1, ue_cpu1) = (this_process_rss(), this_process_cpu());
        let rested = if a.rest > 0 {
            tokio::time::sleep(Duration::from_secs(a.rest)).await;
            Some(nodes.iter().map(|p| p.usage().0).collect::<Vec<u64>>())
        } else {
            None
        };
        // detach: every UE sends its IKE DELETE (a window at a time per node, as they
        // attached); the ePDG de-registers each binding and the gateway releases its
        // addresses
        let t_detach = Instant::now();
        let detached = Arc::new(AtomicU64::new(0));
        let mut stops = Vec::new();
        for (i, (h, mut ev, mut ids)) in handles.into_iter().enumerate() {
            if i == 0 {
                ids.push(warm_id);
            }
            let (window, detached) = (a.window as usize, detached.clone());
            let until = Instant::now() + Duration::from_secs(60);
            stops.push(tokio::spawn(async move {
                let mut pending: HashSet<SaId> = HashSet::new();
                let mut next = ids.into_iter();
                loop {
                    while pending.len() < window {
                        let Some(id) = next.next() else { break };
                        h.delete(id);
                        pending.insert(id);
                    }
                    if pending.is_empty() {
                        break;
                    }
                    let left = until.saturating_duration_since(Instant::now());
                    match tokio::time::timeout(left, ev.recv()).await {
                        Ok(Some(NodeEvent::Down { id, .. })) => {
                            if pending.remove(&id) {
                                detached.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Ok(Some(_)) => {}
                        _ => break,
                    }
                }
                h.shutdown().await;
            }));
        }
        for s in stops {
            let _ = s.await;
        }
        let gw_store =
            mobstrap_store::Store::open(&format!("sqlite://{}", dir.join("gw.sqlite").display()))
                .await
                .context("the gateway's store")?;
        let gw_wait = Instant::now();
        let left = loop {
            let left =
                gw_store.pool_count("gw.ipv4").await? + gw_store.pool_count("gw.ipv6").await?;
            if left == 0 || gw_wait.elapsed() > Duration::from_secs(30) {
                break left;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let detach = (t_detach.elapsed(), left, detached.load(Ordering::Relaxed));
        Ok((
            wall, settle, before, after, rested, ue_rss0, ue_rss1, ue_cpu0, ue_cpu1, detach,
        ))
    });
    pb.finish_and_clear();
    let (
        wall,
        settle,
        before,
        after,
        rested,
        ue_rss0,
        ue_rss1,
        ue_cpu0,
        ue_cpu1,
        (detach, left, detached),
    ) = result?;
    for p in [&mut aaa, &mut gw, &mut epdg_p] {
        p.alive(&dir)?;
    }
    let ok = tally.ok.load(Ordering::Relaxed);
    let failed = tally.failed.load(Ordering::Relaxed);
    let dups = tally.duplicates.load(Ordering::Relaxed);
    let mut lat = std::mem::take(&mut *tally.latencies.lock().unwrap_or_else(|e| e.into_inner()));
    lat.sort();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i].as_secs_f64() * 1000.0
    };
    let per = |b: u64, a: u64| a.saturating_sub(b) as f64 / ok.max(1) as f64;
    crate::outln!(
        "bench attach: {ok} UEs attached in {:.2} s = {:.0} attaches/s; latency p50 {:.1} ms, p99 {:.1} ms; {failed} failed; {} initiators x window {}; node threads {}; {} subscribers provisioned in {:.1} s",
        wall.as_secs_f64(),
        ok as f64 / wall.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        a.initiators,
        a.window,
        threads.as_deref().unwrap_or("per CPU"),
        a.ues + 1,
        prov.as_secs_f64()
    );
    // "AAA 4.24 KiB, gw 1.44 KiB, ePDG 4.53 KiB": each node's figure / `unit`
    let by_node = |v: &[f64], unit: f64, name: &str, decimals: usize| {
        ["AAA", "gw", "ePDG"]
            .iter()
            .zip(v)
            .map(|(n, x)| format!("{n} {:.*} {name}", decimals, x / unit))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mem: Vec<f64> = (0..3).map(|i| per(before[i].0, after[i].0)).collect();
    let cpu: Vec<f64> = (0..3).map(|i| per(before[i].1, after[i].1)).collect();
    crate::outln!(
        "bench attach: memory per attached UE {:.2} KiB across the network nodes ({}); UE side {:.2} KiB (resident set growth / UEs)",
        mem.iter().sum::<f64>() / 1024.0,
        by_node(&mem, 1024.0, "KiB", 2),
        per(ue_rss0, ue_rss1) / 1024.0
    );
    let halfway = halfway.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some((n, rss)) = halfway.filter(|(n, _)| ok > *n) {
        let marg: Vec<f64> = (0..3)
            .map(|i| after[i].0.saturating_sub(rss[i]) as f64 / (ok - n) as f64)
            .collect();
        crate::outln!(
            "bench attach: marginal memory per attached UE {:.2} KiB across the network nodes ({}) (growth from attach {n} to attach {ok} / UEs)",
            marg.iter().sum::<f64>() / 1024.0,
            by_node(&marg, 1024.0, "KiB", 2)
        );
    }
    if let Some(rss) = rested {
        let rest: Vec<f64> = (0..3).map(|i| per(before[i].0, rss[i])).collect();
        crate::outln!(
            "bench attach: memory per attached UE after {} s at rest {:.2} KiB across the network nodes ({}) (resident set growth / UEs, time-window caches emptied)",
            a.rest,
            rest.iter().sum::<f64>() / 1024.0,
            by_node(&rest, 1024.0, "KiB", 2)
        );
    }
    crate::outln!(
        "bench attach: CPU per attach {:.0} µs across the network nodes ({}); UE side {:.0} µs; nodes idle {:.2} s after the last attach",
        cpu.iter().sum::<f64>() / 1000.0,
        by_node(&cpu, 1000.0, "µs", 0),
        per(ue_cpu0, ue_cpu1) / 1000.0,
        settle.as_secs_f64()
    );
    if left == 0 {
        crate::outln!(
            "bench attach: detach: {detached} UEs sent IKE DELETE; all {} bindings' addresses released by the gateway after {:.2} s",
            ok + 1,
            detach.as_secs_f64()
        );
    } else {
        crate::outln!(
            "bench attach: detach: {left} addresses still allocated {:.0} s after the UEs' IKE DELETEs",
            detach.as_secs_f64()
        );
    }
    let failures = tally.failures.lock().unwrap_or_else(|e| e.into_inner());
    for (why, n) in failures.iter() {
        crate::outln!("bench attach: {n} failed: {why}");
    }
    if dups > 0 {
        crate::outln!("bench attach: {dups} UEs got an address another UE holds");
    }
    if a.dir.is_some() {
        crate::outln!(
            "bench attach: configuration, stores and logs in {}",
            dir.display()
        );
    }
    Ok(if ok == a.ues && failed == 0 && dups == 0 && left == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
