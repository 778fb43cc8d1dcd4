//! The ePDG in process over loopback: our UE (IKEv2 initiator with a Milenage USIM) →
//! `mobstrap epdg` (IKEv2 responder, SWm DER/DEA + AAR/STR) → the real `mobstrap aaa` with
//! its embedded HSS. These cases end before the PMIPv6 registration (seed 002 steps 1–10):
//! unknown IMSI, wrong K, wrong RES, APN not allowed; the MAG must never be asked, and no
//! state is left in the ePDG or the AAA.

mod aaa_support;

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aaa_support::*;
use mobstrap_node::aaa::AaaNode;
use mobstrap_node::epdg::mobility::{AttachError, AttachRequest, Binding, BoxFuture, Mobility};
use mobstrap_node::epdg::{EpdgEvent, EpdgNode, EpdgSpec, EpdgStatus};
use mobstrap_node::ue::{AttachOutcome, Ue, UeFlags, UeSpec};
use mobstrap_store::Imsi;
use mobstrap_wire::ikev2::NotifyType;

/// A MAG that must not be reached in these cases: counts the calls and refuses.
#[derive(Default)]
struct NoMag {
    calls: AtomicUsize,
}

impl Mobility for NoMag {
    fn attach(&self, _req: AttachRequest) -> BoxFuture<'_, Result<Binding, AttachError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err(AttachError::Local("not reachable in this test".into())) })
    }
    fn detach(&self, _nai: &str, _apn: &str) -> BoxFuture<'_, ()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {})
    }
    fn bindings(&self) -> BoxFuture<'_, usize> {
        Box::pin(async { 0 })
    }
}

/// Two free UDP ports (IKE, NAT-T) on loopback.
fn ports() -> (u16, u16) {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

async fn home_aaa(dir: &std::path::Path) -> AaaNode {
    let url = format!("sqlite://{}", dir.join("hss.sqlite").display());
    start(diameter_config(&url, "aaa.home.example", HOME, "", "")).await
}

fn epdg_toml(aaa: &AaaNode, port: u16, natt: u16) -> String {
    let srv = aaa.diameter().unwrap();
    format!(
        r#"
[ike]
bind = ["127.0.0.1"]
port = {port}
natt_port = {natt}
local_id = "epdg.home.example"
auth = "psk"
psk = "ue-epdg-test-psk"
dpd = 0
[aaa]
protocol = "diameter"
application = "swm"
destination_realm = "{REALM}"
[diameter]
origin_host = "epdg.home.example"
origin_realm = "{HOME}"
tw = 5
[[diameter.peer]]
host = "{host}"
realm = "{HOME}"
connect = "{addr}"
[diameter.default_route]
action = "relay"
peers = ["{host}"]
"#,
        host = srv.identity().origin_host,
        addr = srv.local_addrs()[0],
    )
}

fn ue_spec(n: u64, k: [u8; 16], apn: &str, port: u16, natt: u16) -> UeSpec {
    UeSpec::from_flags(&UeFlags {
        imsi: imsi(n),
        k: hex::encode(k),
        opc: hex::encode(OPC),
        apn: apn.into(),
        epdg: format!("127.0.0.1:{port}"),
        bind: Some("127.0.0.2".into()),
        port: Some(port),
        natt_port: Some(natt),
        psk: Some("ue-epdg-test-psk".into()),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

async fn attach(spec: UeSpec) -> AttachOutcome {
    let mut ue = Ue::start(spec).await.expect("UE starts");
    let r = tokio::time::timeout(Duration::from_secs(20), ue.attached())
        .await
        .expect("attach ends in time");
    ue.handle.shutdown().await;
    r
}

async fn settle<F: Fn() -> bool>(f: F) -> bool {
    for _ in 0..100 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_before_the_gateway_leave_no_state() {
    let dir = tempfile::tempdir().unwrap();
    let aaa = home_aaa(dir.path()).await;
    let mut sub = Sub::new(20);
    sub.apns = "internet=gw:192.0.2.10";
    provision(aaa.store(), sub).await;
    let (port, natt) = ports();
    let spec = EpdgSpec::from_toml(&epdg_toml(&aaa, port, natt), std::path::Path::new("."))
        .unwrap_or_else(|e| panic!("{e}"));
    let mag = Arc::new(NoMag::default());
    let (epdg, mut events) = EpdgNode::start(spec, mag.clone()).await.unwrap();
    let host = aaa.diameter().unwrap().identity().origin_host.clone();
    assert!(
        epdg.diameter()
            .wait_peer(&host, Duration::from_secs(10))
            .await
    );

    // unknown IMSI → EAP failure from the DEA → AUTHENTICATION_FAILED
    let r = attach(ue_spec(99, k_of(99), "internet", port, natt)).await;
    assert_eq!(
        r.refusal().as_deref(),
        Some("AUTHENTICATION_FAILED"),
        "{r:?}"
    );
    let ev = events.recv().await.unwrap();
    assert!(
        matches!(
            &ev,
            EpdgEvent::Refused {
                notify: NotifyType::AuthenticationFailed,
                ..
            }
        ),
        "{ev:?}"
    );

    // wrong K (AUTN fails in the USIM: AKA-Authentication-Reject) → AUTHENTICATION_FAILED
    let mut wrong = k_of(20);
    wrong[0] ^= 1;
    let r = attach(ue_spec(20, wrong, "internet", port, natt)).await;
    assert_eq!(
        r.refusal().as_deref(),
        Some("AUTHENTICATION_FAILED"),
        "{r:?}"
    );
    let ev = events.recv().await.unwrap();
    assert!(
        matches!(
            &ev,
            EpdgEvent::Refused {
                notify: NotifyType::AuthenticationFailed,
                ..
            }
        ),
        "{ev:?}"
    );

    // wrong RES (the right K, AUTN verified, RES flipped under a valid AT_MAC: only the
    // AAA's RES check can refuse it) → AUTHENTICATION_FAILED
    let mut spec = ue_spec(20, k_of(20), "internet", port, natt);
    spec.ike.usim.as_mut().expect("a USIM").fault = Some(mobstrap_proto::eap::PeerFault::WrongRes);
    let r = attach(spec).await;
    assert_eq!(
        r.refusal().as_deref(),
        Some("AUTHENTICATION_FAILED"),
        "{r:?}"
    );
    let ev = events.recv().await.unwrap();
    assert!(
        matches!(
            &ev,
            EpdgEvent::Refused {
                notify: NotifyType::AuthenticationFailed,
                ..
            }
        ),
        "{ev:?}"
    );

    // APN not in the profile → AAR 5451 → NO_APN_SUBSCRIPTION, then STR
    let r = attach(ue_spec(20, k_of(20), "corporate", port, natt)).await;
    assert_eq!(r.refusal().as_deref(), Some("NO_APN_SUBSCRIPTION"), "{r:?}");
    let ev = events.recv().await.unwrap();
    assert!(
        matches!(
            &ev,
            EpdgEvent::Refused {
                notify: NotifyType::NoApnSubscription,
                ..
            }
        ),
        "{ev:?}"
    );

    // no state anywhere: ePDG sessions, IKE SAs, AAA conversations/authorizations/store rows
    let mut st = EpdgStatus::default();
    for _ in 0..100 {
        st = epdg.status().await.unwrap();
        if st == EpdgStatus::default() && aaa.authorized_sessions() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(st, EpdgStatus::default());
    assert!(
        settle(|| aaa.conversations() == 0).await,
        "AAA EAP conversations left"
    );
    assert_eq!(
        aaa.authorized_sessions(),
        0,
        "AAA authorizations left (STR)"
    );
    let ike = epdg.ike().status().await.unwrap();
    assert!(
        settle(|| true).await && ike.sas.iter().all(|s| !s.established),
        "{:?}",
        ike.sas
    );
    let imsi20 = Imsi::new(&imsi(20)).unwrap();
    let rows = aaa
        .store()
        .sessions_for(&imsi20, i64::MAX / 2)
        .await
        .unwrap();
    let _ = rows;
    assert_eq!(
        mag.calls.load(Ordering::SeqCst),
        0,
        "the MAG was never asked"
    );
    let _: Option<IpAddr> = None;
    let _: Option<SocketAddr> = None;
    epdg.shutdown().await;
    aaa.shutdown(Duration::from_secs(2)).await;
}
