//! Shared pieces of the Diameter node tests: a test application, configurations, a TCP tap
//! that records (and can black-hole) the messages between two nodes, and a raw client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mobstrap_node::diameter::{Application, DiameterConfig, Reply, Request};
use mobstrap_proto::diameter::rules::{check_avps, AvpRule};
use mobstrap_wire::diameter::{
    app, commands, dict, message::frame_len, AvpRepr, Message, MessageRepr,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const VENDOR_3GPP: u32 = 10415;

/// Answers DER (SWm) with 2001, echoing User-Name (5005 without it); remembers requests.
#[derive(Default)]
pub struct EchoApp {
    pub count: AtomicUsize,
    pub seen: Mutex<Vec<Vec<u8>>>,
}

impl Application for EchoApp {
    fn commands(&self) -> &[u32] {
        &[commands::DIAMETER_EAP]
    }
    fn handle(&self, req: &Request<'_>) -> Reply {
        self.count.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut s) = self.seen.lock() {
            s.push(req.bytes().to_vec());
        }
        let m = req.message();
        if let Err(r) = check_avps(
            m,
            &[
                AvpRule::required(&dict::SESSION_ID),
                AvpRule::required(&dict::USER_NAME),
            ],
        ) {
            return req.reject(&r);
        }
        let user = m
            .get(&dict::USER_NAME)
            .and_then(|a| a.utf8().ok())
            .unwrap_or("");
        let mut a = req.answer(2001);
        a.push(AvpRepr::utf8(&dict::USER_NAME, user));
        Reply::from_repr(&a)
    }
}

pub fn config(host: &str, realm: &str) -> DiameterConfig {
    let mut c = DiameterConfig::new(host, realm);
    c.listen = vec!["127.0.0.1:0".parse().unwrap()];
    c.tw = Duration::from_millis(300);
    c.tw_jitter = Duration::ZERO;
    c.tc = Duration::from_millis(200);
    c.request_timeout = Duration::from_secs(5);
    c.reboot_hold = Duration::from_millis(300);
    c
}

pub fn peer(
    host: &str,
    realm: &str,
    connect: Option<SocketAddr>,
) -> mobstrap_node::diameter::config::PeerEntry {
    mobstrap_node::diameter::config::PeerEntry {
        host: host.into(),
        realm: Some(realm.into()),
        connect,
        tw: None,
        tc: None,
    }
}

pub fn route(
    realm: &str,
    app: Option<u32>,
    kind: &str,
    peers: &[&str],
) -> mobstrap_node::diameter::config::RouteEntry {
    let text = format!(
        "realm = {realm:?}\n{}action = {kind:?}\npeers = {peers:?}\n",
        app.map(|a| format!("application = {a}\n"))
            .unwrap_or_default()
    );
    toml::from_str(&text).unwrap()
}

/// A DER for `realm` with `user`.
pub fn der(
    node: &mobstrap_node::diameter::DiameterNode,
    realm: &str,
    user: &str,
    session: &str,
) -> Vec<u8> {
    let mut m = node.new_request(commands::DIAMETER_EAP, app::SWM);
    m.avps.insert(0, AvpRepr::utf8(&dict::SESSION_ID, session));
    m.push(AvpRepr::utf8(&dict::DESTINATION_REALM, realm));
    m.push(AvpRepr::u32(&dict::AUTH_APPLICATION_ID, app::SWM));
    m.push(AvpRepr::utf8(&dict::USER_NAME, user));
    m.to_vec().unwrap()
}

/// One message seen by a [`Tap`]: direction (true: towards the target), command, R flag,
/// header flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub to_target: bool,
    pub command: u32,
    pub request: bool,
    pub flags: u8,
}

/// A TCP relay in front of `target` that records every Diameter message passing and can
/// stop forwarding (a silent network failure).
#[derive(Clone)]
pub struct Tap {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub blackhole: Arc<AtomicBool>,
}

impl Tap {
    pub async fn start(target: SocketAddr) -> Tap {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tap = Tap {
            addr: l.local_addr().unwrap(),
            seen: Arc::default(),
            blackhole: Arc::default(),
        };
        let t = tap.clone();
        tokio::spawn(async move {
            while let Ok((a, _)) = l.accept().await {
                let Ok(b) = TcpStream::connect(target).await else {
                    continue;
                };
                let (ar, aw) = a.into_split();
                let (br, bw) = b.into_split();
                tokio::spawn(pump(ar, bw, true, t.clone()));
                tokio::spawn(pump(br, aw, false, t.clone()));
            }
        });
        tap
    }

    pub fn count(&self, command: u32, request: bool, to_target: bool) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.command == command && s.request == request && s.to_target == to_target)
            .count()
    }

    /// `count`, once it has reached `n` or 5 s have passed: a message our node sent towards
    /// the client side is recorded when the tap's pump forwards it, which may be after our
    /// node already acted on having sent it.
    pub async fn count_at_least(
        &self,
        command: u32,
        request: bool,
        to_target: bool,
        n: usize,
    ) -> usize {
        for _ in 0..500 {
            let c = self.count(command, request, to_target);
            if c >= n {
                return c;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        self.count(command, request, to_target)
    }
}

async fn pump(
    mut r: tokio::net::tcp::OwnedReadHalf,
    mut w: tokio::net::tcp::OwnedWriteHalf,
    to_target: bool,
    tap: Tap,
) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 65536];
    loop {
        let n = match r.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if tap.blackhole.load(Ordering::Relaxed) {
            continue;
        }
        buf.extend_from_slice(&chunk[..n]);
        while let Some(len) = frame_len(&buf) {
            if len < 20 || buf.len() < len {
                break;
            }
            let f: Vec<u8> = buf.drain(..len).collect();
            tap.seen.lock().unwrap().push(Seen {
                to_target,
                command: u32::from_be_bytes([0, f[5], f[6], f[7]]),
                request: f[4] & 0x80 != 0,
                flags: f[4],
            });
            if w.write_all(&f).await.is_err() {
                return;
            }
        }
    }
}

/// A raw TCP Diameter client: sends bytes, reads whole messages.
pub struct Raw {
    pub s: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub async fn connect(addr: SocketAddr) -> Raw {
        Raw {
            s: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }
    pub async fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).await.unwrap();
    }
    /// The next message, or None at EOF / after 3 s.
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        let fut = async {
            loop {
                if let Some(len) = frame_len(&self.buf) {
                    if self.buf.len() >= len && len >= 20 {
                        return Some(self.buf.drain(..len).collect());
                    }
                }
                let mut chunk = [0u8; 4096];
                match self.s.read(&mut chunk).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(3), fut)
            .await
            .ok()
            .flatten()
    }
    /// CER as `host`, returns the CEA's Result-Code and E bit.
    pub async fn cer(&mut self, host: &str, realm: &str) -> (u32, bool) {
        let m = MessageRepr::request(commands::CAPABILITIES_EXCHANGE, 0)
            .hop_by_hop(1)
            .end_to_end(1)
            .with(AvpRepr::utf8(&dict::ORIGIN_HOST, host))
            .with(AvpRepr::utf8(&dict::ORIGIN_REALM, realm))
            .with(AvpRepr::ip(
                &dict::HOST_IP_ADDRESS,
                "127.0.0.1".parse().unwrap(),
            ))
            .with(AvpRepr::u32(&dict::VENDOR_ID, 0))
            .with(AvpRepr::utf8(&dict::PRODUCT_NAME, "raw"))
            .with(AvpRepr::grouped(
                &dict::VENDOR_SPECIFIC_APPLICATION_ID,
                vec![
                    AvpRepr::u32(&dict::VENDOR_ID, VENDOR_3GPP),
                    AvpRepr::u32(&dict::AUTH_APPLICATION_ID, app::SWM),
                ],
            ));
        self.send(&m.to_vec().unwrap()).await;
        let a = self.recv().await.expect("CEA");
        let m = Message::parse(&a).unwrap();
        (m.result_code().unwrap(), m.header.is_error())
    }
}

/// An exclusive lock (flock) held by each test that speaks the raw Mobility Header on `::1`:
/// every raw socket of a protocol sees every such packet to that address, so two of these
/// tests at once (in different test binaries run side by side) would see each other's.
pub fn raw_mh_lock() -> std::fs::File {
    use std::os::fd::AsRawFd;
    let f = std::fs::File::create(std::env::temp_dir().join("mobstrap-raw-mh-tests.lock"))
        .expect("lock file");
    // SAFETY: flock on a descriptor this File owns and keeps open; the lock goes with it.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(r, 0, "flock: {}", std::io::Error::last_os_error());
    f
}
