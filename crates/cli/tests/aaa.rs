//! `mobstrap aaa` as a process: `--check` on good and bad files (the key is named), the
//! shipped example configuration validates, a subscriber imported with `mobstrap subscriber
//! import` authenticates over RADIUS (EAP-AKA) and Diameter (SWm), Prometheus metrics are
//! served, JSON logs are JSON, and SIGTERM shuts it down cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mobstrap_node::aaa::client::{diameter_authenticate, DerOptions, RadiusNas};
use mobstrap_node::diameter::{DiameterConfig, DiameterNode};
use mobstrap_proto::eap::{AkaEapPeer, AkaPeerConfig, Method, SqnPolicy, Usim};
use mobstrap_wire::diameter::app;
use mobstrap_wire::radius::Code;

const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";
const IMSI: &str = "001010000000001";
const REALM: &str = "nai.epc.mnc001.mcc001.3gppnetwork.org";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mobstrap"))
}

fn free_udp() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
fn free_tcp() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn check_names_the_key_and_accepts_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[radius]\nlisten = \"127.0.0.1:1812\"\n[[radius.client]]\naddress = \"10.0.0.0/8\"\nsecret = \"x\"\n[eap]\nnetwork_nam = \"WLAN\"\n",
    )
    .unwrap();
    let out = bin()
        .args(["aaa", "--check", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("eap.network_nam"), "{err}");

    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/aaa.toml");
    let out = bin()
        .args(["aaa", "--check", "--config", example])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn usim_peer(methods: &[Method]) -> AkaEapPeer {
    let k: [u8; 16] = hex::decode(K).unwrap().try_into().unwrap();
    let opc: [u8; 16] = hex::decode(OPC).unwrap().try_into().unwrap();
    let mut cfg = AkaPeerConfig::new(IMSI, Some(REALM));
    cfg.methods = methods.to_vec();
    AkaEapPeer::aka(
        cfg,
        Usim::new(
            &k,
            &opc,
            0,
            SqnPolicy::IndArray {
                ind_bits: 5,
                delta: Some(1 << 28),
                max_age: None,
            },
        ),
    )
}

#[test]
fn daemon_serves_radius_and_diameter_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hss.sqlite").display());
    let csv = dir.path().join("subs.csv");
    std::fs::write(
        &csv,
        format!(
            "imsi,k,opc,amf,sqn,apns\n{IMSI},{K},{OPC},8000,000000000000,internet=gw:192.0.2.10\n"
        ),
    )
    .unwrap();
    let out = bin()
        .args(["subscriber", "import", "--db", &db])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (radius, dia, metrics) = (free_udp(), free_tcp(), free_tcp());
    let cfg = dir.path().join("aaa.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[node]
name = "aaa-test"
[store]
url = "{db}"
[radius]
listen = "127.0.0.1:{radius}"
accounting_listen = "127.0.0.1:0"
[[radius.client]]
address = "127.0.0.1"
secret = "s3cret"
[diameter]
origin_host = "aaa.home.example"
origin_realm = "home.example"
listen = ["127.0.0.1:{dia}"]
[[diameter.allow]]
host = "*.home.example"
[roaming]
home_realms = ["home.example", "{REALM}"]
[metrics]
listen = "127.0.0.1:{metrics}"
[log]
format = "json"
level = "debug"
"#
        ),
    )
    .unwrap();
    let mut child = bin()
        .args(["aaa", "--threads", "2", "--config"])
        .arg(&cfg)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut daemon = Daemon(child);
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let l2 = lines.clone();
    let reader = std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            l2.lock().unwrap().push(l);
        }
    });
    let t0 = Instant::now();
    while !lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("aaa started"))
    {
        assert!(t0.elapsed() < Duration::from_secs(20), "aaa did not start");
        assert!(daemon.0.try_wait().unwrap().is_none(), "aaa exited");
        std::thread::sleep(Duration::from_millis(20));
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let server: SocketAddr = format!("127.0.0.1:{radius}").parse().unwrap();
        let nas = RadiusNas::new("127.0.0.1:0".parse().unwrap(), server, b"s3cret")
            .await
            .unwrap();
        let mut ue = usim_peer(&[Method::Aka]);
        let r = nas.authenticate(&mut ue).await.unwrap();
        assert_eq!(r.code, Code::AccessAccept);
        assert_eq!(
            r.msk.as_deref(),
            Some(&r.peer_success().unwrap().msk.as_bytes()[..])
        );

        let mut c = DiameterConfig::new("epdg.home.example", "home.example");
        c.peers.push(mobstrap_node::diameter::config::PeerEntry {
            host: "aaa.home.example".into(),
            realm: None,
            connect: Some(format!("127.0.0.1:{dia}").parse().unwrap()),
            tw: None,
            tc: None,
        });
        c.default_route = Some(mobstrap_node::diameter::config::RouteTarget {
            action: mobstrap_node::diameter::config::RouteKind::Relay,
            peers: vec!["aaa.home.example".into()],
        });
        let epdg = DiameterNode::builder(c)
            .client_application(app::SWM, Some(10415))
            .start()
            .await
            .unwrap();
        assert!(
            epdg.wait_peer("aaa.home.example", Duration::from_secs(10))
                .await
        );
        let mut ue = usim_peer(&[Method::AkaPrime]);
        let r = diameter_authenticate(&epdg, &DerOptions::swm(REALM), "epdg;1", &mut ue)
            .await
            .unwrap();
        assert_eq!(r.results, vec![1001, 2001]);
        epdg.shutdown(Duration::from_secs(2)).await;
    });

    // Prometheus.
    let mut s = TcpStream::connect(("127.0.0.1", metrics)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    for want in [
        "aaa_authentications_total",
        "frontend=\"radius\"",
        "frontend=\"swm\"",
        "aaa_request_duration_seconds_bucket",
        "mobstrap_store_sqn_allocations_total",
    ] {
        assert!(body.contains(want), "{want} missing from\n{body}");
    }

    // SIGTERM: a clean stop.
    let pid = daemon.0.id() as i32;
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = daemon.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    reader.join().unwrap();
    let lines = lines.lock().unwrap();
    assert!(lines.iter().any(|l| l.contains("aaa stopped")));
    for l in lines.iter() {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(v.get("level").is_some());
    }
    assert!(!lines.iter().any(|l| l.to_ascii_lowercase().contains(K)));
}
