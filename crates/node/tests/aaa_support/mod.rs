//! Shared pieces of the AAA tests: configurations on loopback, subscribers, USIM peers.
#![allow(dead_code)]

use std::time::Duration;

use mobstrap_node::aaa::config::AaaConfig;
use mobstrap_node::aaa::AaaNode;
use mobstrap_proto::eap::{AkaEapPeer, AkaPeerConfig, Method, SqnPolicy as UsimPolicy, Usim};
use mobstrap_store::{ApnProfile, HostRef, Imsi, Key128, Provision, Store, Subscriber};

/// TS 35.208 test set 1.
pub const K: [u8; 16] = [
    0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc,
];
pub const OPC: [u8; 16] = [
    0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf,
];
pub const SECRET: &str = "radius-test-secret";
pub const REALM: &str = "nai.epc.mnc001.mcc001.3gppnetwork.org";
pub const HOME: &str = "home.example";

pub fn imsi(n: u64) -> String {
    format!("00101{n:010}")
}

/// The K of subscriber `n` (distinct per subscriber, so that a log grep is meaningful).
pub fn k_of(n: u64) -> [u8; 16] {
    let mut k = K;
    k[8..].copy_from_slice(&n.to_be_bytes());
    k
}

/// A RADIUS-only configuration on loopback with a SQLite file in `dir`.
pub fn radius_config(dir: &std::path::Path) -> AaaConfig {
    let text = format!(
        r#"
[store]
url = "sqlite://{}"
[radius]
listen = "127.0.0.1:0"
accounting_listen = "127.0.0.1:0"
[[radius.client]]
address = "127.0.0.0/8"
secret = "{SECRET}"
name = "loopback"
[eap]
session_idle_timeout = 5
"#,
        dir.join("hss.sqlite").display()
    );
    AaaConfig::from_toml(&text).unwrap()
}

/// A Diameter-only (plus RADIUS) AAA on loopback: realm `realm`, host `host`; peers are
/// accepted from `*.example` / any host of `realm` and `visited.example`.
pub fn diameter_config(
    store_url: &str,
    host: &str,
    realm: &str,
    roaming: &str,
    extra: &str,
) -> AaaConfig {
    let text = format!(
        r#"
[store]
url = "{store_url}"
[diameter]
origin_host = "{host}"
origin_realm = "{realm}"
listen = ["127.0.0.1:0"]
tw = 5
[[diameter.allow]]
host = "*.example"
[[diameter.allow]]
realm = "{realm}"
[roaming]
home_realms = ["{realm}", "{REALM}"]
{roaming}
[eap]
session_idle_timeout = 5
{extra}
"#
    );
    match AaaConfig::from_toml(&text) {
        Ok(c) => c,
        Err(e) => panic!("{e}\n{text}"),
    }
}

pub struct Sub {
    pub n: u64,
    pub sqn: Option<u64>,
    pub apns: &'static str,
    pub home_agent: Option<&'static str>,
    pub access: &'static str,
}

impl Sub {
    pub fn new(n: u64) -> Self {
        Sub {
            n,
            sqn: None,
            apns: "internet=gw:192.0.2.10;ims=fqdn:pgw.ims.home.example+visited;*=dynamic",
            home_agent: None,
            access: "all",
        }
    }
}

pub async fn provision(store: &Store, s: Sub) {
    let mut sub = Subscriber::new(
        Imsi::new(&imsi(s.n)).unwrap(),
        Key128::new(k_of(s.n)),
        Key128::new(OPC),
    );
    sub.profile.apns = ApnProfile::parse_list("apns", s.apns).unwrap();
    sub.profile.home_agent = s.home_agent.map(|h| HostRef::parse("ha", h).unwrap());
    sub.profile.access_types = mobstrap_store::AccessType::parse_list("a", s.access).unwrap();
    sub.profile.static_ipv6_prefix =
        Some(mobstrap_store::Ipv6Prefix::parse("p", "2001:db8:1::/64").unwrap());
    store
        .add_subscriber(&Provision {
            subscriber: sub,
            sqn: s.sqn,
        })
        .await
        .unwrap();
}

/// A UE with subscriber `n`'s USIM (IND-array SQN check, as a real USIM).
pub fn ue(n: u64, sqn_ms: u64, methods: &[Method]) -> AkaEapPeer {
    ue_with_key(n, k_of(n), sqn_ms, methods)
}

pub fn ue_with_key(n: u64, k: [u8; 16], sqn_ms: u64, methods: &[Method]) -> AkaEapPeer {
    let mut cfg = AkaPeerConfig::new(&imsi(n), Some(REALM));
    cfg.methods = methods.to_vec();
    let usim = Usim::new(
        &k,
        &OPC,
        sqn_ms,
        UsimPolicy::IndArray {
            ind_bits: 5,
            delta: Some(1 << 28),
            max_age: None,
        },
    );
    AkaEapPeer::aka(cfg, usim)
}

pub async fn start(c: AaaConfig) -> AaaNode {
    tokio::time::timeout(Duration::from_secs(20), AaaNode::start(c))
        .await
        .expect("AAA start in time")
        .expect("AAA start")
}
