//! The logs never contain K, OPc, MSK, EMSK or the MAG–LMA key: full authentications over
//! RADIUS and Diameter (with the key to the MAG and over S6b to the LMA) with every target
//! logging at TRACE level into a buffer, which is then searched for each secret as hex
//! (either case) and as a Rust byte-array `Debug` rendering.

mod aaa_support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aaa_support::*;
use mobstrap_node::aaa::client::{diameter_authenticate, DerOptions, RadiusNas};
use mobstrap_node::diameter::{DiameterConfig, DiameterNode};
use mobstrap_proto::eap::Method;
use mobstrap_wire::diameter::commands::{self, app};
use mobstrap_wire::diameter::{dict, AvpRepr as A, Message};
use mobstrap_wire::radius::Code;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn forms(secret: &[u8]) -> Vec<String> {
    let hex = hex::encode(secret);
    vec![
        hex.clone(),
        hex.to_uppercase(),
        format!("{secret:?}"),
        // A long enough slice of it (half) also counts.
        hex[..hex.len() / 2].to_string(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_a_trace_level_log() {
    let buf = Buf::default();
    let b2 = buf.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_writer(move || b2.clone())
        .init();

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hss.sqlite").display());
    let mut cfg = diameter_config(&url, "aaa.home.example", HOME, "", "");
    let radius = radius_config(dir.path()).radius;
    cfg.radius = radius;
    let aaa = start(cfg).await;
    let mut s = Sub::new(7);
    s.home_agent = Some("lma.home.example");
    provision(aaa.store(), s).await;

    let mut secrets: Vec<(&str, Vec<u8>)> = vec![("K", k_of(7).to_vec()), ("OPc", OPC.to_vec())];

    // RADIUS, EAP-AKA.
    let nas = RadiusNas::new(
        "127.0.0.1:0".parse().unwrap(),
        aaa.radius_addr().unwrap(),
        SECRET.as_bytes(),
    )
    .await
    .unwrap();
    let mut ue7 = ue(7, 0, &[Method::Aka]);
    let r = nas.authenticate(&mut ue7).await.unwrap();
    assert_eq!(r.code, Code::AccessAccept);
    let ok = r.peer_success().unwrap();
    secrets.push(("MSK (RADIUS)", ok.msk.as_bytes().to_vec()));
    secrets.push(("EMSK (RADIUS)", ok.emsk.as_bytes().to_vec()));

    // Diameter STa with the MAG–LMA key, then S6b from the LMA.
    let srv = aaa.diameter().unwrap();
    let mut c = DiameterConfig::new("mag.home.example", HOME);
    c.peers.push(mobstrap_node::diameter::config::PeerEntry {
        host: "aaa.home.example".into(),
        realm: Some(HOME.into()),
        connect: Some(srv.local_addrs()[0]),
        tw: None,
        tc: None,
    });
    c.default_route = Some(mobstrap_node::diameter::config::RouteTarget {
        action: mobstrap_node::diameter::config::RouteKind::Relay,
        peers: vec!["aaa.home.example".into()],
    });
    let mag = DiameterNode::builder(c)
        .client_application(app::STA, Some(10415))
        .client_application(app::S6B, Some(10415))
        .start()
        .await
        .unwrap();
    assert!(
        mag.wait_peer("aaa.home.example", Duration::from_secs(10))
            .await
    );
    let mut opts = DerOptions::swm(REALM);
    opts.app = app::STA;
    let mut ue7 = ue(7, 0, &[Method::AkaPrime]);
    let r = diameter_authenticate(&mag, &opts, "mag;1", &mut ue7)
        .await
        .unwrap();
    assert_eq!(r.result(), 2001);
    let ok = r.peer_success().unwrap();
    secrets.push(("MSK (Diameter)", ok.msk.as_bytes().to_vec()));
    secrets.push(("EMSK (Diameter)", ok.emsk.as_bytes().to_vec()));
    let key =
        mobstrap_crypto::erp::pmip6_mag_lma_key(ok.emsk.as_bytes(), b"lma.home.example").unwrap();
    secrets.push(("MAG-LMA key", key.as_bytes().to_vec()));
    let nai = format!("6{}@{}", imsi(7), REALM);
    let mut req = mag.new_request(commands::AA, app::S6B);
    req.avps.insert(0, A::utf8(&dict::SESSION_ID, "lma;1"));
    req.push(A::u32(&dict::AUTH_APPLICATION_ID, app::S6B));
    req.push(A::utf8(&dict::DESTINATION_REALM, HOME));
    req.push(A::enumerated(&dict::AUTH_REQUEST_TYPE_AVP, 2));
    req.push(A::utf8(&dict::USER_NAME, &nai));
    req.push(A::grouped(
        &dict::MIP6_AGENT_INFO,
        vec![A::grouped(
            &dict::MIP_HOME_AGENT_HOST,
            vec![
                A::utf8(&dict::DESTINATION_REALM, HOME),
                A::utf8(&dict::DESTINATION_HOST, "lma.home.example"),
            ],
        )],
    ));
    let ans = mag.request(req.to_vec().unwrap()).await.unwrap();
    let m = Message::parse(ans.bytes()).unwrap();
    assert!(m.get(&dict::KEY).is_some(), "the key travelled");
    aaa.shutdown(Duration::from_secs(2)).await;

    let log = String::from_utf8_lossy(&buf.0.lock().unwrap()).into_owned();
    assert!(
        log.contains("authentication succeeded") && log.len() > 2000,
        "the log is really at debug level: {} bytes",
        log.len()
    );
    for (what, s) in &secrets {
        for f in forms(s) {
            assert!(
                !log.contains(&f),
                "{what} found in the log as {f}\n(log is {} bytes)",
                log.len()
            );
        }
    }
}
