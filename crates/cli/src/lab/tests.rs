//! The lab's machinery end to end over real sockets with the nodes that exist in this
//! build: a UE (IKE initiator with a Milenage USIM) → `mobstrap ike` as responder with the
//! Diameter SWm relay → `mobstrap aaa`. That is seed 002 steps 1–8 and 13–15 without the
//! PMIPv6 part (no ePDG/gw here: it is not a lab scenario, it tests the tap, the pairing,
//! the decoder with SK decryption, the step labels, the verdict, the pcap and the report).

use std::time::Duration;

use super::world::{self, addr};
use super::*;
use mobstrap_node::ue::AttachOutcome;

/// The tap is process-wide: one recording test at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

const PSK: &str = "lab-psk";

async fn ike_aaa_attach(env: &Env, usim: world::UsimCard<'_>) -> anyhow::Result<Outcome> {
    let aaa = world::start_aaa(
        &env.dir,
        "aaa",
        "aaa.home.lab.example",
        world::HOME_REALM,
        addr(40),
        "",
        "",
    )
    .await?;
    world::provision(&aaa, &format!("internet=gw:{}", addr(50))).await?;
    let aaa_addr = aaa.diameter().context("AAA Diameter")?.local_addrs()[0];
    let (port, natt) = world::ike_ports();
    let keys = env.dir.join("keys-epdg");
    std::fs::create_dir_all(&keys)?;
    let text = format!(
        r#"[ike]
role = "responder"
name = "epdg"
bind = ["{epdg_ip}"]
port = {port}
natt_port = {natt}
local_id = "fqdn:internet"
auth = "psk"
psk = "{PSK}"
remote_auth = ["eap"]
keys_dir = "{keys}"
raw_esp = false
[aaa]
protocol = "diameter"
destination_realm = "{realm}"
application = "swm"
[diameter]
origin_host = "epdg.home.lab.example"
origin_realm = "{realm}"
[[diameter.peer]]
host = "aaa.home.lab.example"
connect = "{aaa_addr}"
[diameter.default_route]
action = "relay"
peers = ["aaa.home.lab.example"]
[pool]
ipv4 = "10.45.0.0/24"
ipv6 = "2001:db8:45::/120"
"#,
        keys = keys.display(),
        realm = world::HOME_REALM,
        epdg_ip = addr(20)
    );
    let spec = IkeNodeSpec::from_toml(&text, &env.dir).context("responder config")?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let responder = tokio::spawn(mobstrap_node::ike::app::run(spec, async move {
        let _ = stop_rx.await;
    }));
    // the relay's Diameter peer comes up before the UE starts
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ue_keys = env.dir.join("keys-ue");
    let epdg = std::net::SocketAddr::new(addr(20), port);
    let mut ue = world::start_ue(addr(10), epdg, usim, "internet", PSK, &ue_keys).await?;
    let mut out = Outcome {
        aliases: vec![
            ("ue".into(), "UE".into()),
            ("epdg".into(), "ePDG".into()),
            ("epdg.home.lab.example".into(), "ePDG".into()),
            ("aaa.home.lab.example".into(), "AAA".into()),
        ],
        key_dirs: vec![ue_keys, keys],
        ..Default::default()
    };
    match tokio::time::timeout(Duration::from_secs(10), ue.attached()).await {
        Ok(AttachOutcome::Attached { ip4, ip6, .. }) => {
            out.note(
                "UE",
                Some(16),
                format!(
                    "IPsec tunnel up, {} {}",
                    ip4.map(|x| x.to_string()).unwrap_or_default(),
                    ip6.map(|x| x.0.to_string()).unwrap_or_default()
                ),
            );
            out.checks.push(Check {
                what: format!("UE got IPv4 {ip4:?} and IPv6 {ip6:?} in CFG_REPLY"),
                ok: ip4.is_some() && ip6.is_some(),
            });
        }
        Ok(AttachOutcome::Refused { reason, notify }) => {
            let n = notify.map(|n| n.to_string()).unwrap_or_default();
            out.note("UE", None, format!("refused: {n} ({reason})"));
        }
        Err(_) => out.note("UE", None, "no answer"),
    }
    ue.handle.shutdown().await;
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), responder).await;
    aaa.shutdown(Duration::from_secs(2)).await;
    Ok(out)
}

fn ike_aaa_run(env: &Env) -> Pin<Box<dyn Future<Output = anyhow::Result<Outcome>> + '_>> {
    Box::pin(ike_aaa_attach(env, world::UsimCard::GOOD))
}

fn wrong_k_run(env: &Env) -> Pin<Box<dyn Future<Output = anyhow::Result<Outcome>> + '_>> {
    Box::pin(ike_aaa_attach(
        env,
        world::UsimCard {
            k: "00000000000000000000000000000000",
            ..world::UsimCard::GOOD
        },
    ))
}

fn wrong_res_run(env: &Env) -> Pin<Box<dyn Future<Output = anyhow::Result<Outcome>> + '_>> {
    Box::pin(ike_aaa_attach(
        env,
        world::UsimCard {
            fault: Some("wrong-res"),
            ..world::UsimCard::GOOD
        },
    ))
}

fn scenario(run: RunFn) -> Scenario {
    Scenario {
        name: "ike-aaa",
        title: "UE → mobstrap ike (SWm relay) → mobstrap aaa",
        columns: &["UE", "ePDG", "AAA"],
        rules: steps::S2B,
        expected: &[1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 16],
        run: Some(run),
        missing: "",
    }
}

/// The same topology with a failing USIM, labelled with a failure scenario's table.
fn failing(run: RunFn, rules: &'static [Rule]) -> Scenario {
    Scenario {
        rules,
        expected: &[1, 2, 3, 4, 5, 6, 7, 8, 13],
        ..scenario(run)
    }
}

use mobstrap_node::ike::config::IkeNodeSpec;

#[test]
fn attach_over_real_sockets_is_tapped_decoded_labelled_and_written() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Ok(f) = std::env::var("LAB_LOG") {
        crate::logging::init(&f, false);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = Env {
        dir: dir.path().to_path_buf(),
    };
    let s = scenario(ike_aaa_run);
    let done = rt.block_on(run_scenario(&s, &env)).unwrap();
    let text = done.ladder.text();
    println!("{text}");
    assert!(done.ladder.passed(), "{text}");
    // every IKE_AUTH was opened with the key tables: the EAP conversation is named, and
    // each step's line says what the seed says happens there
    let step = |n: u32| -> Vec<&str> {
        let p = format!("{n:>4}  ");
        text.lines().filter(|l| l.starts_with(&p)).collect()
    };
    let expect = [
        (1, "IKE_SA_INIT req #0"),
        (1, "IKE_SA_INIT resp #0"),
        (2, "IKE_AUTH req #1 (IDi 0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org, IDr internet, CP(CFG_REQUEST))"),
        (3, "DER (EAP-Response/Identity)"),
        (4, "DEA (1001 DIAMETER_MULTI_ROUND_AUTH, EAP-Request/AKA-Challenge)"),
        (5, "IKE_AUTH resp #1 (IDr internet, AUTH, EAP-Request/AKA-Challenge)"),
        (6, "IKE_AUTH req #2 (EAP-Response/AKA-Challenge)"),
        (7, "DER (EAP-Response/AKA-Challenge)"),
        (8, "DEA (2001 DIAMETER_SUCCESS, EAP-Success)"),
        (13, "IKE_AUTH resp #2 (EAP-Success)"),
        (14, "IKE_AUTH req #3 (AUTH)"),
        (15, "IKE_AUTH resp #3 (AUTH, CP(CFG_REPLY))"),
        (16, "IPsec tunnel up"),
    ];
    for (n, want) in expect {
        assert!(
            step(n).iter().any(|l| l.contains(want)),
            "step {n}: {want:?} missing:\n{text}"
        );
    }
    // the UE's DER/DEA are on the ePDG–AAA column pair, arrows the right way
    assert!(step(3)[0].contains("|-------------->|  DER"), "{text}");
    assert!(step(4)[0].contains("|<--------------|  DEA"), "{text}");

    // report and pcap
    let html = ladder::html(std::slice::from_ref(&done.ladder));
    assert!(html.contains("<svg") && html.contains("PASS"));
    let pcap_path = dir.path().join("lab.pcap");
    let n = write_pcap(&pcap_path, &done.wire, &done.keys).unwrap();
    assert!(n > 10);
    tshark_reads(&pcap_path);

    // a wrong K judged by the success table: the steps after the challenge are missing and
    // the verdict fails
    let dir2 = tempfile::tempdir().unwrap();
    let env2 = Env {
        dir: dir2.path().to_path_buf(),
    };
    let bad = rt
        .block_on(run_scenario(&scenario(wrong_k_run), &env2))
        .unwrap();
    let t2 = bad.ladder.text();
    println!("{t2}");
    assert!(!bad.ladder.passed(), "{t2}");
    assert!(t2.contains("steps missing"), "{t2}");
}

/// A failing run, its rule table, and lines its ladder must hold (step, text).
type FailureCase = (RunFn, &'static [Rule], &'static [(u32, &'static str)]);

/// The two authentication failures over the generic IKE node: a wrong K (the UE's USIM
/// rejects AUTN: AKA-Authentication-Reject relayed to the AAA, DEA 4001 + EAP-Failure) and
/// a wrong RES (`[usim] fault = "wrong-res"`: the AAA's RES check refuses it, General Failure
/// notification round, DEA 4001 + EAP-Failure). Each ladder passes its failure table.
#[test]
fn wrong_k_and_wrong_res_end_in_eap_failure_from_the_aaa() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cases: [FailureCase; 2] = [
        (
            wrong_k_run,
            steps::WRONG_K,
            &[
                (
                    6,
                    "IKE_AUTH req #2 (EAP-Response/AKA-Authentication-Reject)",
                ),
                (7, "DER (EAP-Response/AKA-Authentication-Reject)"),
                (
                    8,
                    "DEA (4001 DIAMETER_AUTHENTICATION_REJECTED, EAP-Failure)",
                ),
                (13, "IKE_AUTH resp #2 (EAP-Failure)"),
            ],
        ),
        (
            wrong_res_run,
            steps::WRONG_RES,
            &[
                (6, "IKE_AUTH req #2 (EAP-Response/AKA-Challenge)"),
                (7, "DER (EAP-Response/AKA-Challenge)"),
                (8, "IKE_AUTH resp #2 (EAP-Request/AKA-Notification)"),
                (8, "IKE_AUTH req #3 (EAP-Response/AKA-Notification)"),
                (
                    8,
                    "DEA (4001 DIAMETER_AUTHENTICATION_REJECTED, EAP-Failure)",
                ),
                (13, "IKE_AUTH resp #3 (EAP-Failure)"),
            ],
        ),
    ];
    for (run, rules, lines) in cases {
        let dir = tempfile::tempdir().unwrap();
        let env = Env {
            dir: dir.path().to_path_buf(),
        };
        let done = rt
            .block_on(run_scenario(&failing(run, rules), &env))
            .unwrap();
        let text = done.ladder.text();
        println!("{text}");
        assert!(done.ladder.passed(), "{text}");
        for (n, want) in lines {
            let p = format!("{n:>4}  ");
            assert!(
                text.lines().any(|l| l.starts_with(&p) && l.contains(want)),
                "step {n}: {want:?} missing:\n{text}"
            );
        }
        assert!(text.contains("refused: AUTHENTICATION_FAILED"), "{text}");
    }
}

/// tshark (when installed; required under CI) reads the capture: no malformed packets,
/// Diameter reassembled over TCP, IKEv2 decrypted with the key table beside the pcap.
fn tshark_reads(pcap: &std::path::Path) {
    let have = std::process::Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("CI").is_none(),
            "tshark is required under CI"
        );
        eprintln!("tshark not installed: pcap not checked by tshark");
        return;
    }
    let keys = std::fs::read_to_string(keys_dir_of(pcap).join("ikev2_decryption_table")).unwrap();
    let mut args: Vec<String> = vec![
        "-r".into(),
        pcap.display().to_string(),
        "-d".into(),
        "udp.port==5436,ipv6".into(),
        "-o".into(),
        "tcp.desegment_tcp_streams:TRUE".into(),
        "-V".into(),
    ];
    for l in keys.lines().filter(|l| !l.is_empty()) {
        args.push("-o".into());
        args.push(format!("uat:ikev2_decryption_table:{l}"));
    }
    let out = std::process::Command::new("tshark")
        .args(&args)
        .output()
        .unwrap();
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!v.contains("Malformed"), "malformed packets:\n{v}");
    assert!(v.contains("Diameter Protocol"), "no Diameter");
    assert!(
        v.contains("Command Code: Diameter-EAP (268)"),
        "no DER/DEA:\n{v}"
    );
    assert!(
        v.contains("Internet Security Association and Key Management Protocol")
            && v.contains("Exchange type: IKE_AUTH (35)"),
        "no IKEv2:\n{v}"
    );
    assert!(v.contains("Decrypted Data"), "IKE_AUTH not decrypted");
    assert!(v.contains("EAP-AKA"), "EAP inside IKE_AUTH not shown");
}
