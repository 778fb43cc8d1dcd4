//! The pieces every lab topology is made of: loopback addresses and ports per node, the
//! AAA with its SQLite store in the scenario's directory, the subscriber the lab
//! provisions, and the UE (an IKE initiator with a Milenage USIM).
// The s2b runners use all of this once `mobstrap epdg` / `mobstrap gw` are in the build;
// until then only the infrastructure test does.
#![cfg_attr(not(test), allow(dead_code))]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use mobstrap_node::aaa::config::AaaConfig;
use mobstrap_node::aaa::AaaNode;
use mobstrap_node::ue::{Ue, UeSpec};
use mobstrap_store::{ApnProfile, Imsi, Key128, Provision, Subscriber};

/// TS 35.208 test set 1 (the lab's USIM).
pub const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
pub const OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";
pub const IMSI: &str = "001010000000001";
pub const REALM: &str = "nai.epc.mnc001.mcc001.3gppnetwork.org";
pub const HOME_REALM: &str = "home.lab.example";
pub const VISITED_REALM: &str = "visited.lab.example";

static NET: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Moves the lab to a fresh /24 (each scenario runs in its own: sockets of the previous
/// one may linger).
pub fn new_net() {
    NET.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Each node has its own loopback address in a /24 of 127.0.0.0/8 chosen per process and
/// scenario, so that two labs on one machine do not collide and the nodes can use the
/// standard ports.
pub fn addr(last: u8) -> IpAddr {
    let n = std::process::id() * 7 + NET.load(std::sync::atomic::Ordering::Relaxed);
    IpAddr::V4(Ipv4Addr::new(
        127,
        1 + (n % 250) as u8,
        ((n / 250) % 250) as u8,
        last,
    ))
}

/// The Diameter port (standard).
pub const DIAMETER_PORT: u16 = 3868;

/// The IKE ports: 500/4500 when this process may bind them, else 10500/14500.
pub fn ike_ports() -> (u16, u16) {
    match std::net::UdpSocket::bind(SocketAddr::new(addr(1), 500)) {
        Ok(_) => (500, 4500),
        Err(_) => (10500, 14500),
    }
}

/// A home AAA (or a visited AAA proxy with `extra`) on `ip`, its store in `dir`.
pub async fn start_aaa(
    dir: &Path,
    name: &str,
    host: &str,
    realm: &str,
    ip: IpAddr,
    roaming: &str,
    extra: &str,
) -> anyhow::Result<AaaNode> {
    let text = format!(
        r#"
[node]
name = "{name}"
[store]
url = "sqlite://{db}"
[diameter]
origin_host = "{host}"
origin_realm = "{realm}"
listen = ["{ip}:{DIAMETER_PORT}"]
[[diameter.allow]]
realm = "{VISITED_REALM}"
[[diameter.allow]]
realm = "{HOME_REALM}"
[eap]
methods = ["aka"]
[roaming]
home_realms = ["{HOME_REALM}", "{REALM}"]
{roaming}
{extra}
"#,
        db = dir.join(format!("{name}.sqlite")).display()
    );
    let cfg = AaaConfig::from_toml(&text).with_context(|| format!("{name} config"))?;
    tokio::time::timeout(Duration::from_secs(20), AaaNode::start(cfg))
        .await
        .context("AAA start timed out")?
        .with_context(|| format!("starting {name}"))
}

/// The lab's subscriber (IMSI [`IMSI`], K/OPc of test set 1) with `apns`
/// (`internet=gw:127.0.0.50`, …).
pub async fn provision(aaa: &AaaNode, apns: &str) -> anyhow::Result<()> {
    let mut sub = Subscriber::new(
        Imsi::new(IMSI).context("IMSI")?,
        Key128::new(hex_key(K)?),
        Key128::new(hex_key(OPC)?),
    );
    sub.profile.apns = ApnProfile::parse_list("apns", apns).context("APN list")?;
    aaa.store()
        .add_subscriber(&Provision {
            subscriber: sub,
            sqn: None,
        })
        .await
        .context("provisioning the subscriber")?;
    Ok(())
}

fn hex_key(s: &str) -> anyhow::Result<[u8; 16]> {
    let v = hex::decode(s)?;
    v.try_into().map_err(|_| anyhow::anyhow!("key length"))
}

/// What is in the lab UE's USIM: the IMSI, K (OPc is always test set 1's) and a fault to
/// inject (`[usim] fault`, e.g. `wrong-res`).
#[derive(Debug, Clone, Copy)]
pub struct UsimCard<'a> {
    pub imsi: &'a str,
    pub k: &'a str,
    pub fault: Option<&'a str>,
}

impl UsimCard<'static> {
    /// The provisioned subscriber's USIM.
    pub const GOOD: UsimCard<'static> = UsimCard {
        imsi: IMSI,
        k: K,
        fault: None,
    };
}

/// Starts `mobstrap ue` on `ip` with `usim` and sends IKE_SA_INIT to `epdg`; IDr = `apn`
/// (seed 002 step 2: the APN in IDr). Key tables go to `keys`.
pub async fn start_ue(
    ip: IpAddr,
    epdg: SocketAddr,
    usim: UsimCard<'_>,
    apn: &str,
    psk: &str,
    keys: &Path,
) -> anyhow::Result<Ue> {
    let (port, natt) = (epdg.port(), ike_ports().1);
    let UsimCard { imsi, k, fault } = usim;
    let fault = fault
        .map(|f| format!("fault = \"{f}\"\n"))
        .unwrap_or_default();
    let text = format!(
        r#"[ue]
apn = "{apn}"
[ike]
name = "ue"
bind = ["{ip}"]
port = {port}
natt_port = {natt}
remote = "{epdg}"
remote_auth = ["psk"]
psk = "{psk}"
proposals = ["aes128gcm16-prfsha256-x25519"]
request = ["ip4", "ip6"]
keys_dir = "{keys}"
raw_esp = false
[usim]
imsi = "{imsi}"
k = "{k}"
opc = "{OPC}"
realm = "{REALM}"
{fault}"#,
        keys = keys.display()
    );
    std::fs::create_dir_all(keys)?;
    let spec = UeSpec::from_toml(&text, keys).context("UE config")?;
    Ue::start(spec).await.context("UE start")
}
