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
