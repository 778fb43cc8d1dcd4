//! Interop with freeDiameter (Debian's `freeDiameterd` 1.2.1, an implementation we did not
//! write), inside a network namespace this test creates (root needed):
//!
//! * freeDiameter connects to our node A (CER/CEA), and with A's Tw at 30 s freeDiameter's
//!   own watchdog (Tw 6 s) sends DWR that A answers;
//! * our node B connects to freeDiameter (CER/CEA) and, with Tw 1 s, sends DWRs that
//!   freeDiameter answers;
//! * B sends a Diameter EAP request (application 5) with Destination-Host A: freeDiameter
//!   relays it to A and the answer comes back;
//! * B disconnects with DPR, freeDiameter answers DPA.
//!
//! Both sides are observed: TCP taps in front of A and of freeDiameter record every message,
//! and freeDiameter's log (dbg_msg_dumps) names what it sent and received. freeDiameter
//! binds 0.0.0.0 whatever ListenOn says and refuses to start without a non-loopback address,
//! hence the namespace with a veth carrying 198.51.100.1/32 (TEST-NET-2).
//!
//! Not root: the test says so and returns. Root without freeDiameterd: it fails
//! (`scripts/setup-debian.sh` installs it).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use mobstrap_node::diameter::{DiameterConfig, DiameterNode};
use mobstrap_proto::diameter::DisconnectCause;
use mobstrap_wire::diameter::{app, commands, dict, AvpRepr};

const FD_PORT: u16 = 13868;

struct Netns(String);
impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

struct Daemon(Child);
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sh(args: &[&str]) {
    let st = Command::new(args[0])
        .args(&args[1..])
        .status()
        .expect("run");
    assert!(st.success(), "{args:?} failed");
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn enter_netns(name: &str) {
    let f = std::fs::File::open(format!("/var/run/netns/{name}")).expect("netns file");
    use std::os::fd::AsRawFd;
    // SAFETY: setns on a valid namespace descriptor affects only the calling thread.
    let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
}

fn wait_log(path: &Path, needle: &str, min: usize, timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if let Ok(s) = std::fs::read_to_string(path) {
            if s.matches(needle).count() >= min {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn freediameter_peers_with_our_nodes() {
    if !is_root() {
        eprintln!("freediameter_peers_with_our_nodes: needs root for a network namespace; not run");
        return;
    }
    let fd_bin = Command::new("sh")
        .args(["-c", "command -v freeDiameterd"])
        .output()
        .expect("sh");
    assert!(fd_bin.status.success(), "freeDiameterd missing: run scripts/setup-debian.sh (apt-get install freediameterd freediameter-extensions)");

    let ns = Netns(format!("mobstrap_fd{}", std::process::id()));
    sh(&["ip", "netns", "add", &ns.0]);
    sh(&[
        "ip", "netns", "exec", &ns.0, "ip", "link", "set", "lo", "up",
    ]);
    sh(&[
        "ip", "netns", "exec", &ns.0, "ip", "link", "add", "fd0", "type", "veth", "peer", "name",
        "fd1",
    ]);
    sh(&[
        "ip",
        "netns",
        "exec",
        &ns.0,
        "ip",
        "addr",
        "add",
        "198.51.100.1/32",
        "dev",
        "fd0",
    ]);
    sh(&[
        "ip", "netns", "exec", &ns.0, "ip", "link", "set", "fd0", "up",
    ]);
    sh(&[
        "ip", "netns", "exec", &ns.0, "ip", "link", "set", "fd1", "up",
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_path = dir.path().to_path_buf();
    let ns_name = ns.0.clone();

    // Everything of ours runs on one thread inside the namespace.
    let result = std::thread::spawn(move || {
        enter_netns(&ns_name);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run(&ns_name, &dir_path))
    })
    .join();
    drop(dir);
    drop(ns);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

async fn run(ns: &str, dir: &Path) {
    // Node A: accepts freeDiameter, serves the EAP application (echo). Tw 30 s, so that
    // freeDiameter's watchdog (Tw 6 s) is the one that fires.
    let mut ca = DiameterConfig::new("mobstrap-a.localdomain", "localdomain");
    ca.listen = vec!["127.0.0.1:0".parse().unwrap()];
    ca.tw = Duration::from_secs(30);
    ca.peers.push(peer("fd.localdomain", "localdomain", None));
    let echo = Arc::new(EchoApp::default());
    let node_a = DiameterNode::builder(ca)
        .application(app::EAP, None, echo.clone())
        .start()
        .await
        .unwrap();
    let tap_a = Tap::start(node_a.local_addrs()[0]).await;
    let tap_fd = Tap::start(format!("127.0.0.1:{FD_PORT}").parse().unwrap()).await;

    let conf = format!(
        r#"Identity = "fd.localdomain";
Realm = "localdomain";
Port = {FD_PORT};
SecPort = 0;
No_SCTP;
No_IPv6;
TcTimer = 5;
TwTimer = 6;
LoadExtension = "dict_nasreq.fdx";
LoadExtension = "dict_eap.fdx";
LoadExtension = "acl_wl.fdx" : "{dir}/acl_wl.conf";
LoadExtension = "dbg_msg_dumps.fdx" : "0x0040";
ConnectPeer = "mobstrap-a.localdomain" {{ ConnectTo = "127.0.0.1"; Port = {tap_a_port}; No_TLS; No_SCTP; }};
"#,
        dir = dir.display(),
        tap_a_port = tap_a.addr.port()
    );
    std::fs::write(dir.join("fd.conf"), conf).unwrap();
    std::fs::write(dir.join("acl_wl.conf"), "ALLOW_IPSEC *.localdomain\n").unwrap();
    let log_path = dir.join("fd.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let _fd = Daemon(
        Command::new("ip")
            .args(["netns", "exec", ns, "freeDiameterd", "-c"])
            .arg(dir.join("fd.conf"))
            .current_dir(dir)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("freeDiameterd"),
    );
    let fail = |what: &str| -> ! {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "{what}\nfreeDiameter log (last lines, newest first):\n{}",
            tail.join("\n")
        );
    };

    // freeDiameter → A: CER/CEA.
    if !node_a
        .wait_peer("fd.localdomain", Duration::from_secs(20))
        .await
    {
        fail("freeDiameter did not open a connection to node A");
    }
    assert_eq!(
        tap_a.count(commands::CAPABILITIES_EXCHANGE, true, true),
        1,
        "CER from freeDiameter"
    );
    // our CEA: node A counts the peer open once it has sent it; the tap may not have
    // forwarded it yet
    assert_eq!(
        tap_a
            .count_at_least(commands::CAPABILITIES_EXCHANGE, false, false, 1)
            .await,
        1,
        "our CEA"
    );

    // B → freeDiameter: CER/CEA, Tw 1 s.
    let mut cb = DiameterConfig::new("mobstrap-b.localdomain", "localdomain");
    cb.tw = Duration::from_secs(1);
    cb.tw_jitter = Duration::ZERO;
    cb.peers
        .push(peer("fd.localdomain", "localdomain", Some(tap_fd.addr)));
    cb.default_route =
        Some(toml::from_str("action = \"relay\"\npeers = [\"fd.localdomain\"]").unwrap());
    let node_b = DiameterNode::builder(cb)
        .client_application(app::EAP, None)
        .start()
        .await
        .unwrap();
    if !node_b
        .wait_peer("fd.localdomain", Duration::from_secs(10))
        .await
    {
        fail("node B did not open a connection to freeDiameter");
    }
    assert_eq!(tap_fd.count(commands::CAPABILITIES_EXCHANGE, true, true), 1);
    assert_eq!(
        tap_fd.count(commands::CAPABILITIES_EXCHANGE, false, false),
        1
    );
    let log_wait = |needle: &'static str, min: usize, secs: u64| {
        let p = log_path.clone();
        tokio::task::spawn_blocking(move || wait_log(&p, needle, min, Duration::from_secs(secs)))
    };
    if !log_wait("STATE_OPEN", 2, 5).await.unwrap() {
        fail("freeDiameter does not report both peers open");
    }

    // A request relayed by freeDiameter to A, and the answer back.
    let mut m = node_b.new_request(commands::DIAMETER_EAP, app::EAP);
    m.avps.insert(
        0,
        AvpRepr::utf8(&dict::SESSION_ID, "mobstrap-b.localdomain;1;1"),
    );
    m.push(AvpRepr::u32(&dict::AUTH_APPLICATION_ID, app::EAP));
    m.push(AvpRepr::utf8(&dict::DESTINATION_REALM, "localdomain"));
    m.push(AvpRepr::utf8(
        &dict::DESTINATION_HOST,
        "mobstrap-a.localdomain",
    ));
    m.push(AvpRepr::enumerated(&dict::AUTH_REQUEST_TYPE_AVP, 3));
    m.push(AvpRepr::utf8(
        &dict::USER_NAME,
        "0001010123456789@localdomain",
    ));
    m.push(AvpRepr::octets(&dict::EAP_PAYLOAD, &[2, 0, 0, 5, 1]));
    let a = match node_b.request(m.to_vec().unwrap()).await {
        Ok(a) => a,
        Err(e) => fail(&format!("relayed request failed: {e}")),
    };
    let am = a.message().unwrap();
    assert_eq!(am.result_code(), Some(2001));
    assert_eq!(
        am.get(&dict::ORIGIN_HOST).unwrap().utf8().unwrap(),
        "mobstrap-a.localdomain"
    );
    assert_eq!(echo.count.load(Ordering::Relaxed), 1);
    let seen = echo.seen.lock().unwrap()[0].clone();
    let s = mobstrap_wire::diameter::Message::parse(&seen).unwrap();
    assert!(
        s.avps()
            .any(|a| a.is(&dict::ROUTE_RECORD) && a.utf8().ok() == Some("mobstrap-b.localdomain")),
        "freeDiameter added Route-Record naming B"
    );

    // Watchdogs both ways: B's DWRs (Tw 1 s) answered by freeDiameter; freeDiameter's DWRs
    // to A (its Tw 6 s, A's 30 s) answered by A.
    let dwr_to_a = log_wait(
        "SND to 'mobstrap-a.localdomain': Device-Watchdog-Request",
        1,
        15,
    );
    if !dwr_to_a.await.unwrap() {
        fail("freeDiameter sent no DWR to node A");
    }
    if !log_wait(
        "RCV from 'mobstrap-a.localdomain': Device-Watchdog-Answer",
        1,
        5,
    )
    .await
    .unwrap()
    {
        fail("freeDiameter got no DWA from node A");
    }
    assert!(tap_a.count(commands::DEVICE_WATCHDOG, true, true) >= 1);
    assert!(tap_a.count(commands::DEVICE_WATCHDOG, false, false) >= 1);
    assert!(
        tap_fd.count(commands::DEVICE_WATCHDOG, true, true) >= 3,
        "B sends DWR every second"
    );
    assert!(
        tap_fd.count(commands::DEVICE_WATCHDOG, false, false) >= 3,
        "freeDiameter answers them"
    );
    if !log_wait(
        "RCV from 'mobstrap-b.localdomain': Device-Watchdog-Request",
        3,
        5,
    )
    .await
    .unwrap()
    {
        fail("freeDiameter does not log B's DWRs");
    }
    assert!(node_a.peer_usable("fd.localdomain") && node_b.peer_usable("fd.localdomain"));

    // DPR from B, DPA from freeDiameter.
    assert!(node_b.disconnect_peer("fd.localdomain", DisconnectCause::Rebooting));
    let t = Instant::now();
    while tap_fd.count(commands::DISCONNECT_PEER, false, false) == 0
        && t.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        tap_fd.count(commands::DISCONNECT_PEER, true, true),
        1,
        "our DPR"
    );
    assert_eq!(
        tap_fd.count(commands::DISCONNECT_PEER, false, false),
        1,
        "freeDiameter's DPA"
    );
    if !log_wait(
        "RCV from 'mobstrap-b.localdomain': Disconnect-Peer-Request",
        1,
        5,
    )
    .await
    .unwrap()
    {
        fail("freeDiameter does not log our DPR");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!node_b.peer_usable("fd.localdomain"));
    node_a.shutdown(Duration::from_secs(2)).await;
}
