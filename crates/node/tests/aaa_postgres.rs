//! Two AAA nodes (IND 1 and IND 2) on one real PostgreSQL (mobstrap-testsupport starts the
//! cluster): the same subscribers authenticate concurrently through both nodes, every
//! authentication succeeds (resynchronising if a USIM ever needs it) and no SQN is ever
//! issued twice (SQNs recovered from AUTN with the subscribers' K/OPc). A MAG authenticated
//! at node 1 gets the MAG–LMA key; the LMA asking node 2 over S6b gets the same key.

mod aaa_support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aaa_support::*;
use mobstrap_node::aaa::client::{diameter_authenticate, DerOptions, RadiusNas};
use mobstrap_node::aaa::AaaNode;
use mobstrap_node::diameter::{DiameterConfig, DiameterNode};
use mobstrap_proto::eap::Method;
use mobstrap_store::sqn::split;
use mobstrap_wire::diameter::commands::{self, app};
use mobstrap_wire::diameter::{dict, AvpRepr as A, Message};
use mobstrap_wire::radius::Code;

const SUBSCRIBERS: u64 = 6;

/// Per subscriber: (node index, SQN) of every challenge.
type Seen = HashMap<u64, Vec<(usize, u64)>>;
const PER_UE: usize = 12;

async fn node(url: &str, n: u8) -> AaaNode {
    let text = format!(
        r#"
[store]
url = "{url}"
[store.sqn]
ind = [{n}]
block = 4
[radius]
listen = "127.0.0.1:0"
accounting_listen = "127.0.0.1:0"
[[radius.client]]
address = "127.0.0.1"
secret = "{SECRET}"
[diameter]
origin_host = "aaa{n}.home.example"
origin_realm = "{HOME}"
listen = ["127.0.0.1:0"]
[[diameter.allow]]
host = "*.example"
[roaming]
home_realms = ["{HOME}", "{REALM}"]
"#
    );
    start(mobstrap_node::aaa::AaaConfig::from_toml(&text).unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_one_postgres_no_sqn_twice() {
    let pg = mobstrap_testsupport::TempPostgres::shared().expect("PostgreSQL for the test");
    let url = pg.fresh_database().unwrap();
    let a = node(&url, 1).await;
    let b = node(&url, 2).await;
    for n in 1..=SUBSCRIBERS {
        let mut s = Sub::new(n);
        s.home_agent = Some("lma.home.example");
        provision(a.store(), s).await;
    }
    let nases = Arc::new([
        RadiusNas::new(
            "127.0.0.1:0".parse().unwrap(),
            a.radius_addr().unwrap(),
            SECRET.as_bytes(),
        )
        .await
        .unwrap(),
        RadiusNas::new(
            "127.0.0.1:0".parse().unwrap(),
            b.radius_addr().unwrap(),
            SECRET.as_bytes(),
        )
        .await
        .unwrap(),
    ]);
    // Every SQN seen, per subscriber, with the node that issued it.
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let mut tasks = Vec::new();
    for n in 1..=SUBSCRIBERS {
        // Two devices per subscriber, each alternating between the nodes.
        for dev in 0..2usize {
            let (nases, seen) = (nases.clone(), seen.clone());
            tasks.push(tokio::spawn(async move {
                let method = if dev == 0 {
                    Method::Aka
                } else {
                    Method::AkaPrime
                };
                let mut ue = ue(n, 0, &[method]);
                for i in 0..PER_UE {
                    // Forget temporary identities: every run is a full authentication.
                    ue.method_mut().forget_identities();
                    let which = (i + dev + n as usize) % 2;
                    let r = tokio::time::timeout(
                        Duration::from_secs(20),
                        nases[which].authenticate(&mut ue),
                    )
                    .await
                    .expect("in time")
                    .expect("an answer");
                    assert_eq!(
                        r.code,
                        Code::AccessAccept,
                        "subscriber {n} device {dev} run {i} at node {which}: {:?}",
                        r.events
                    );
                    let mut s = seen.lock().unwrap();
                    for q in r.sqns(&k_of(n), &OPC) {
                        s.entry(n).or_default().push((which, q));
                    }
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let mut total = 0;
    for (n, list) in seen.iter() {
        let mut uniq = HashSet::new();
        for (which, q) in list {
            assert!(uniq.insert(*q), "subscriber {n}: SQN {q:#x} issued twice");
            let (_, ind) = split(*q);
            assert_eq!(
                ind as usize,
                which + 1,
                "node {} uses IND {}",
                which,
                which + 1
            );
        }
        assert!(
            list.len() >= 2 * PER_UE,
            "subscriber {n}: {} challenges",
            list.len()
        );
        total += list.len();
    }
    assert_eq!(seen.len() as u64, SUBSCRIBERS);
    eprintln!("{total} challenges, all SQNs distinct");

    // MAG at node 1, LMA at node 2: the key is in the shared store.
    let mag = client("mag.home.example", &a).await;
    let lma = client("lma.home.example", &b).await;
    let mut opts = DerOptions::swm(REALM);
    opts.app = app::EAP;
    opts.rat_type = None;
    opts.mip6_feature_vector = Some(0x0000_0100_0000_0000);
    let mut ue1 = ue(1, 0, &[Method::AkaPrime]);
    let r = diameter_authenticate(&mag, &opts, "mag.home.example;9;1", &mut ue1)
        .await
        .unwrap();
    assert_eq!(r.result(), 2001);
    let want = mobstrap_crypto::erp::pmip6_mag_lma_key(
        r.peer_success().unwrap().emsk.as_bytes(),
        b"lma.home.example",
    )
    .unwrap();
    let mut req = lma.new_request(commands::AA, app::S6B);
    req.avps
        .insert(0, A::utf8(&dict::SESSION_ID, "lma.home.example;9;1"));
    req.push(A::u32(&dict::AUTH_APPLICATION_ID, app::S6B));
    req.push(A::utf8(&dict::DESTINATION_REALM, HOME));
    req.push(A::enumerated(&dict::AUTH_REQUEST_TYPE_AVP, 2));
    let nai = format!("6{}@{}", imsi(1), REALM);
    req.push(A::utf8(&dict::USER_NAME, &nai));
    let ans = lma.request(req.to_vec().unwrap()).await.unwrap();
    let m = Message::parse(ans.bytes()).unwrap();
    assert_eq!(m.result_code(), Some(2001));
    assert_eq!(
        m.get(&dict::ORIGIN_HOST).unwrap().utf8().unwrap(),
        "aaa2.home.example"
    );
    let key = m.get(&dict::KEY).expect("Key AVP from node 2");
    let material = key
        .grouped()
        .unwrap()
        .get(&dict::KEYING_MATERIAL)
        .unwrap()
        .octets()
        .to_vec();
    assert_eq!(material, want.as_bytes().to_vec());
}

async fn client(host: &str, server: &AaaNode) -> DiameterNode {
    let srv = server.diameter().unwrap();
    let mut c = DiameterConfig::new(host, HOME);
    c.peers.push(mobstrap_node::diameter::config::PeerEntry {
        host: srv.identity().origin_host.clone(),
        realm: Some(HOME.into()),
        connect: Some(srv.local_addrs()[0]),
        tw: None,
        tc: None,
    });
    c.default_route = Some(mobstrap_node::diameter::config::RouteTarget {
        action: mobstrap_node::diameter::config::RouteKind::Relay,
        peers: vec![srv.identity().origin_host.clone()],
    });
    let n = DiameterNode::builder(c)
        .client_application(app::EAP, None)
        .client_application(app::S6B, Some(10415))
        .start()
        .await
        .unwrap();
    assert!(
        n.wait_peer(&srv.identity().origin_host, Duration::from_secs(10))
            .await
    );
    n
}
