//! Request/answer throughput between two mobstrap Diameter nodes over loopback TCP, to
//! compare with freeDiameter's test_app benchmark (39,907 req/ans per second on this kind of
//! machine, 100 outstanding, both peers on 2 cores).
//!
//! The server node answers a SWm DER (EAP-Payload of 60 octets, 9 AVPs) with a DEA (2001,
//! EAP-Payload); the client keeps `--outstanding` requests in flight for `--seconds`, each
//! request built afresh (new End-to-End Identifier and Session-Id). Each node runs on its own
//! single-threaded tokio runtime on its own OS thread (like two processes).
//!
//! cargo run --release -p mobstrap-node --example diameter_bench -- [--seconds 10] [--outstanding 100]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mobstrap_node::diameter::{Application, DiameterConfig, DiameterNode, Reply, Request};
use mobstrap_wire::diameter::{app, commands, dict, AvpRepr};

struct Der;
impl Application for Der {
    fn commands(&self) -> &[u32] {
        &[commands::DIAMETER_EAP]
    }
    fn handle(&self, req: &Request<'_>) -> Reply {
        let mut a = req.answer(2001);
        a.push(AvpRepr::u32(&dict::AUTH_APPLICATION_ID, app::SWM));
        a.push(AvpRepr::octets(&dict::EAP_PAYLOAD, &[3u8, 1, 0, 4]));
        Reply::from_repr(&a)
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let seconds = arg("--seconds", 10);
    let outstanding = arg("--outstanding", 100);
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_s = stop.clone();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let mut c = DiameterConfig::new("aaa.bench", "bench");
            c.listen = vec!["127.0.0.1:0".parse().expect("addr")];
            c.allow
                .push(toml::from_str("realm = \"bench\"").expect("allow"));
            let n = DiameterNode::builder(c)
                .application(app::SWM, Some(10415), Arc::new(Der))
                .start()
                .await
                .expect("server");
            addr_tx.send(n.local_addrs()[0]).expect("send");
            while !stop_s.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    });
    let addr = addr_rx.recv().expect("server address");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (done, errors, elapsed) = rt.block_on(async move {
        let mut c = DiameterConfig::new("epdg.bench", "bench");
        c.peers.push(
            toml::from_str(&format!("host = \"aaa.bench\"\nconnect = \"{addr}\"")).expect("peer"),
        );
        c.routes.push(
            toml::from_str("realm = \"bench\"\naction = \"relay\"\npeers = [\"aaa.bench\"]")
                .expect("route"),
        );
        let n = DiameterNode::builder(c)
            .client_application(app::SWM, Some(10415))
            .start()
            .await
            .expect("client");
        assert!(
            n.wait_peer("aaa.bench", Duration::from_secs(5)).await,
            "no CER/CEA"
        );
        let done = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let end = start + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for w in 0..outstanding {
            let (n, done, errors) = (n.clone(), done.clone(), errors.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = 0u64;
                let eap = [2u8; 60];
                while Instant::now() < end {
                    i += 1;
                    let sid = format!("epdg.bench;{w};{i}");
                    let mut m = n.new_request(commands::DIAMETER_EAP, app::SWM);
                    m.avps.insert(0, AvpRepr::utf8(&dict::SESSION_ID, &sid));
                    m.push(AvpRepr::utf8(&dict::DESTINATION_REALM, "bench"));
                    m.push(AvpRepr::u32(&dict::AUTH_APPLICATION_ID, app::SWM));
                    m.push(AvpRepr::enumerated(&dict::AUTH_REQUEST_TYPE_AVP, 3));
                    m.push(AvpRepr::utf8(
                        &dict::USER_NAME,
                        "0001010123456789@nai.epc.mnc001.mcc001.3gppnetwork.org",
                    ));
                    m.push(AvpRepr::octets(&dict::EAP_PAYLOAD, &eap));
                    let bytes = m.to_vec().expect("emit");
                    match n.request(bytes).await {
                        Ok(a) if a.result_code() == Some(2001) => {
                            done.fetch_add(1, Ordering::Relaxed)
                        }
                        _ => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        let elapsed = start.elapsed();
        n.shutdown(Duration::from_secs(1)).await;
        (
            done.load(Ordering::Relaxed),
            errors.load(Ordering::Relaxed),
            elapsed,
        )
    });
    stop.store(true, Ordering::Relaxed);
    let _ = server.join();
    let rate = done as f64 / elapsed.as_secs_f64();
    println!(
        "{done} request/answer pairs in {:.2} s, {outstanding} outstanding: {rate:.0} per second ({errors} errors)",
        elapsed.as_secs_f64()
    );
}
