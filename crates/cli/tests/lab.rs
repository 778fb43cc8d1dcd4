//! `mobstrap lab` as a user runs it: the scenario list, refusals, and (when the scenarios
//! can run in this build) the ladders, step labels, verdicts, report and pcap.

use std::process::Command;

fn lab(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mobstrap"))
        .arg("lab")
        .args(args)
        .output()
        .expect("run mobstrap");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn lists_the_seed_002_scenarios_and_refuses_unknown_ones() {
    let (code, out, err) = lab(&["--list"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("s2b "), "{out}");
    assert!(out.contains("s2b-roaming"), "{out}");
    let (code, _, err) = lab(&["no-such-scenario"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("unknown scenario 'no-such-scenario'") && err.contains("s2b-roaming"),
        "{err}"
    );
}

#[test]
fn both_seed_002_scenarios_pass_step_by_step_with_report_and_pcap() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("lab.html");
    let pcap = dir.path().join("lab.pcap");
    let (code, out, err) = lab(&[
        "--report",
        report.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("verdict s2b: PASS"), "{out}");
    assert!(out.contains("verdict s2b-roaming: PASS"), "{out}");
    for failure in [
        "unknown-imsi",
        "wrong-res",
        "wrong-k",
        "apn-not-allowed",
        "pool-exhausted",
        "gw-unreachable",
    ] {
        assert!(out.contains(&format!("verdict {failure}: PASS")), "{out}");
    }
    assert!(out.contains("lab: 8 scenario(s) passed"), "{out}");
    // each failure ends with its notify to the UE, and no state anywhere
    for (name, last) in [
        ("unknown-imsi", "IKE_AUTH resp #2 (EAP-Failure)"),
        ("wrong-res", "IKE_AUTH resp #3 (EAP-Failure)"),
        ("wrong-k", "IKE_AUTH resp #2 (EAP-Failure)"),
        (
            "apn-not-allowed",
            "IKE_AUTH resp #2 (N(NO_APN_SUBSCRIPTION))",
        ),
        (
            "pool-exhausted",
            "IKE_AUTH resp #2 (N(INTERNAL_ADDRESS_FAILURE))",
        ),
        ("gw-unreachable", "IKE_AUTH resp #2 (N(NETWORK_FAILURE))"),
    ] {
        let start = out.find(&format!("== {name}:")).unwrap();
        let sec = &out[start..start + out[start..].find("verdict ").unwrap()];
        assert!(
            sec.lines()
                .any(|l| l.starts_with("  13  ") && l.contains(last)),
            "{name}: {last:?}\n{sec}"
        );
        assert!(sec.contains("[ok] no state is left in any node"), "{sec}");
    }
    // wrong RES: the UE answered the challenge, the AAA refused the RES itself (a General
    // Failure notification round, then 4001 with EAP-Failure); the UE was refused with
    // AUTHENTICATION_FAILED
    let wrong_res = section_of(&out, "wrong-res");
    for (n, want) in [
        (6, "IKE_AUTH req #2 (EAP-Response/AKA-Challenge)"),
        (7, "DER (EAP-Response/AKA-Challenge)"),
        (
            8,
            "DEA (1001 DIAMETER_MULTI_ROUND_AUTH, EAP-Request/AKA-Notification)",
        ),
        (8, "IKE_AUTH resp #2 (EAP-Request/AKA-Notification)"),
        (8, "IKE_AUTH req #3 (EAP-Response/AKA-Notification)"),
        (8, "DER (EAP-Response/AKA-Notification)"),
        (
            8,
            "DEA (4001 DIAMETER_AUTHENTICATION_REJECTED, EAP-Failure)",
        ),
    ] {
        step_in(&wrong_res, n, want);
    }
    assert!(
        wrong_res.contains("[ok] the UE was refused with AUTHENTICATION_FAILED"),
        "{wrong_res}"
    );
    // wrong K: the UE's USIM rejects AUTN; the reject reaches the AAA, which ends at once
    let wrong_k = section_of(&out, "wrong-k");
    for (n, want) in [
        (
            6,
            "IKE_AUTH req #2 (EAP-Response/AKA-Authentication-Reject)",
        ),
        (7, "DER (EAP-Response/AKA-Authentication-Reject)"),
        (
            8,
            "DEA (4001 DIAMETER_AUTHENTICATION_REJECTED, EAP-Failure)",
        ),
    ] {
        step_in(&wrong_k, n, want);
    }
    assert!(
        !wrong_k.contains("AKA-Notification"),
        "no notification after an Authentication-Reject:\n{wrong_k}"
    );
    assert!(
        wrong_k.contains("[ok] the UE was refused with AUTHENTICATION_FAILED"),
        "{wrong_k}"
    );
    let pool = &out[out.find("== pool-exhausted:").unwrap()..];
    assert!(pool.contains("PBA seq") && pool.contains("(status 130 Insufficient resources)"));
    let unreachable = &out[out.find("== gw-unreachable:").unwrap()..];
    assert!(
        unreachable
            .lines()
            .filter(|l| l.starts_with("  11  ") && l.contains("x|  PBU"))
            .count()
            >= 2,
        "PBU retransmissions to nobody:\n{unreachable}"
    );
    // the ladders carry seed 002's step numbers on the messages the seed names
    let section = |name: &str| -> String {
        let start = out.find(&format!("== {name}:")).unwrap();
        let rest = &out[start..];
        let end = rest.find("verdict ").unwrap();
        rest[..end].to_string()
    };
    let step = |text: &str, n: u32, want: &str| {
        let p = format!("{n:>4}  ");
        assert!(
            text.lines().any(|l| l.starts_with(&p) && l.contains(want)),
            "step {n} {want:?} missing:\n{text}"
        );
    };
    let s2b = section("s2b");
    for (n, want) in [
        (1, "IKE_SA_INIT req #0"),
        (2, "IKE_AUTH req #1 (IDi 0001010000000001@"),
        (2, "IDr internet"),
        (3, "DER (EAP-Response/Identity)"),
        (
            4,
            "DEA (1001 DIAMETER_MULTI_ROUND_AUTH, EAP-Request/AKA-Challenge)",
        ),
        (5, "EAP-Request/AKA-Challenge"),
        (6, "IKE_AUTH req #2 (EAP-Response/AKA-Challenge)"),
        (7, "DER (EAP-Response/AKA-Challenge)"),
        (8, "DEA (2001 DIAMETER_SUCCESS, EAP-Success)"),
        (9, "AAR"),
        (10, "AAA (2001 DIAMETER_SUCCESS)"),
        (11, "PBU seq"),
        (12, "PBA seq"),
        (13, "IKE_AUTH resp #2 (EAP-Success)"),
        (14, "IKE_AUTH req #3 (AUTH)"),
        (15, "IKE_AUTH resp #3 (AUTH, CP(CFG_REPLY))"),
        (16, "IPsec tunnel up"),
    ] {
        step(&s2b, n, want);
    }
    assert!(s2b.contains("no state is left in any node"), "{s2b}");
    let roaming = section("s2b-roaming");
    for (n, want) in [
        (3, "DER (EAP-Response/Identity)"),
        (10, "AAA (2001"),
        (11, "PBU seq"),
        (12, "PBU seq"),
        (13, "PBA seq"),
        (14, "PBA seq"),
        (15, "IKE_AUTH resp #2 (EAP-Success)"),
        (17, "CP(CFG_REPLY)"),
        (18, "IPsec tunnel up"),
    ] {
        step(&roaming, n, want);
    }
    // two Diameter hops per step through the visited AAA proxy
    let threes = roaming.lines().filter(|l| l.starts_with("   3  ")).count();
    assert_eq!(threes, 2, "{roaming}");
    let html = std::fs::read_to_string(&report).unwrap();
    assert_eq!(html.matches("<svg").count(), 8);
    assert!(html.contains("verdict: <span class=\"ok\">PASS</span>"));
    assert!(pcap.exists());
    assert!(
        std::path::Path::new(&format!("{}.keys/ikev2_decryption_table", pcap.display())).exists()
    );
    tshark_reads(&pcap);
}

/// The ladder and checks of scenario `name` in the lab's output.
fn section_of(out: &str, name: &str) -> String {
    let start = out
        .find(&format!("== {name}:"))
        .unwrap_or_else(|| panic!("no {name} section:\n{out}"));
    let rest = &out[start..];
    let end = rest.find("verdict ").unwrap();
    rest[..end].to_string()
}

/// Step `n` is on a line that contains `want`.
fn step_in(text: &str, n: u32, want: &str) {
    let p = format!("{n:>4}  ");
    assert!(
        text.lines().any(|l| l.starts_with(&p) && l.contains(want)),
        "step {n} {want:?} missing:\n{text}"
    );
}

/// tshark (required under CI) reads the lab's capture: no malformed packets or expert
/// warnings, Diameter reassembled, PMIPv6 over UDP 5436 (RFC 5844 layout), IKE_AUTH decrypted
/// with the key table written beside the pcap.
fn tshark_reads(pcap: &std::path::Path) {
    let have = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("CI").is_none(),
            "tshark is required under CI"
        );
        eprintln!("tshark not installed: the pcap is not checked");
        return;
    }
    let keys =
        std::fs::read_to_string(format!("{}.keys/ikev2_decryption_table", pcap.display())).unwrap();
    let mut args: Vec<String> = vec![
        "-r".into(),
        pcap.display().to_string(),
        "-d".into(),
        "udp.port==5436,ipv6".into(),
        "-V".into(),
    ];
    for l in keys.lines().filter(|l| !l.is_empty()) {
        args.push("-o".into());
        args.push(format!("uat:ikev2_decryption_table:{l}"));
    }
    let out = Command::new("tshark").args(&args).output().unwrap();
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!v.contains("Malformed"), "malformed packets:\n{v}");
    assert!(!v.contains("Expert Info (Warning"), "expert warnings:\n{v}");
    assert!(v.contains("Command Code: Diameter-EAP (268)"), "no DER/DEA");
    assert!(v.contains("Command Code: AA (265)"), "no AAR/AAA");
    assert!(
        v.contains("Mobility Header Type: Binding Update (5)"),
        "no PBU:\n{v}"
    );
    assert!(v.contains("Binding Acknowledgement (6)"), "no PBA");
    assert!(v.contains("Decrypted Data"), "IKE_AUTH not decrypted");
    assert!(v.contains("EAP-AKA"), "EAP inside IKE_AUTH not shown");
}
