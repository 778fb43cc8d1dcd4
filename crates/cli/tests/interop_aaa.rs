//! `mobstrap aaa` against implementations we did not write, through the harnesses of
//! `scripts/interop/` (AAA_CMD = this binary with a generated configuration and a SQLite
//! store holding the harness's subscribers):
//!
//! * hostap's `eapol_test` (Milenage USIM) over RADIUS: EAP-AKA, EAP-AKA', three in a row,
//!   SQN resynchronisation, wrong key, unknown IMSI;
//! * freeDiameter (`freeDiameterd`): CER/CEA, DWR/DWA both ways, DPR/DPA;
//! * `eapol_test` → freeDiameter `app_radgw` → `mobstrap aaa`: EAP-AKA and EAP-AKA' as
//!   multi-round Diameter EAP DER/DEA (app 5), wrong key;
//! * strongSwan (Debian's charon with eap-radius) as the ePDG, the rebuilt charon as an
//!   EAP-AKA UE: IKE SA, virtual IPs, ESP, the RADIUS leg through `mobstrap aaa`.
//!
//! They need root (network namespaces) and the built peers (`scripts/interop/setup.sh
//! --build`, which `scripts/test.sh` runs). Without them a test prints why and passes —
//! except when `CI` is set: then it fails. `INTEROP=0` skips them explicitly.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether the interop tests can run here; panics under CI when they cannot.
fn can_run(needs: &[&str]) -> bool {
    if std::env::var("INTEROP").as_deref() == Ok("0") {
        eprintln!("INTEROP=0: interop test skipped");
        return false;
    }
    let ci = std::env::var_os("CI").is_some();
    let mut missing = Vec::new();
    if unsafe { libc::geteuid() } != 0 {
        missing.push("root".to_string());
    }
    for n in needs {
        let p = repo().join("target/interop").join(n);
        if !p.exists() {
            missing.push(p.display().to_string());
        }
    }
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "interop prerequisites missing: {} (run as root after scripts/interop/setup.sh --build)",
        missing.join(", ")
    );
    if ci {
        panic!("{why}");
    }
    eprintln!("{why}: test not run");
    false
}

/// The AAA_SETUP script: imports the harness's subscribers and writes aaa.toml for `mode`.
fn setup_script(dir: &Path, mode: &str) -> PathBuf {
    let bin = env!("CARGO_BIN_EXE_mobstrap");
    let radius = r#"
[radius]
listen = "${AAA_ADDR:-127.0.0.1}:${AAA_PORT}"
accounting_listen = "127.0.0.1:0"
[[radius.client]]
address = "127.0.0.0/8"
secret = "${AAA_SECRET:-radius}"
"#;
    let diameter = r#"
[diameter]
origin_host = "${AAA_HOST:-aaa.localdomain}"
origin_realm = "${AAA_REALM:-localdomain}"
listen = ["0.0.0.0:${AAA_PORT}"]
tw = 6
[[diameter.allow]]
realm = "localdomain"
[roaming]
home_realms = ["${AAA_REALM:-localdomain}", "${REALM:-localdomain}"]
"#;
    let front = match mode {
        "radius" => radius,
        _ => diameter,
    };
    let script = format!(
        r#"set -eu
cat > aaa.toml <<EOF
[store]
url = "sqlite://$PWD/hss.sqlite"
{front}
[log]
level = "debug"
EOF
rm -f hss.sqlite*
if [ -f subscribers.csv ]; then
  "{bin}" subscriber import --db "sqlite://$PWD/hss.sqlite" subscribers.csv
fi
"{bin}" aaa --check --config aaa.toml
"#
    );
    let p = dir.join(format!("setup-{mode}.sh"));
    std::fs::write(&p, script).unwrap();
    p
}

struct Run {
    ok: bool,
    stdout: String,
    out_dir: PathBuf,
    dir: PathBuf,
}

impl Run {
    /// Asserts that every case passed and the harness exited 0; on success the artefacts
    /// are removed (on failure they stay, and their place is printed).
    fn assert_passed(&self, cases: &[&str]) {
        for case in cases {
            assert!(
                passed(self, case),
                "{case} did not pass (artefacts in {})\n{}",
                self.out_dir.display(),
                show_aaa_log(self)
            );
        }
        assert!(
            self.ok,
            "harness failed (artefacts in {})\n{}",
            self.out_dir.display(),
            show_aaa_log(self)
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `script args` with AAA_CMD = mobstrap aaa; OUT in a fresh directory.
fn harness(script: &str, args: &[&str], mode: &str, env: &[(&str, &str)]) -> Run {
    let dir = tempfile::Builder::new()
        .prefix("mobstrap-interop-")
        .tempdir()
        .unwrap()
        .keep();
    let setup = setup_script(&dir, mode);
    let out_dir = dir.join("out");
    let bin = env!("CARGO_BIN_EXE_mobstrap");
    let mut c = Command::new(repo().join("scripts/interop").join(script));
    c.args(args)
        .env("OUT", &out_dir)
        .env("AAA_SETUP", format!("bash {}", setup.display()))
        .env(
            "AAA_CMD",
            format!("\"{bin}\" aaa --threads 2 --config aaa.toml"),
        );
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run the harness");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!(
        "{script} {args:?}: exit {:?}\n{stdout}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        ok: out.status.success(),
        stdout,
        out_dir,
        dir,
    }
}

fn show_aaa_log(r: &Run) -> String {
    std::fs::read_to_string(r.out_dir.join("aaa.log"))
        .map(|s| s.lines().rev().take(60).collect::<Vec<_>>().join("\n"))
        .unwrap_or_default()
}

fn passed(r: &Run, case: &str) -> bool {
    r.stdout
        .lines()
        .any(|l| l.starts_with(&format!("PASS {case}")))
}

#[test]
fn eapol_test_over_radius() {
    if !can_run(&["hostap/bin/eapol_test"]) {
        return;
    }
    let r = harness("eapol-test.sh", &[], "radius", &[("PCAP", "1")]);
    r.assert_passed(&[
        "aka:",
        "aka_prime:",
        "aka_repeat:",
        "resync:",
        "wrong_key:",
        "unknown_imsi:",
        "pcap:",
    ]);
}

#[test]
fn freediameter_peers_with_mobstrap_aaa() {
    if !can_run(&["fd/fdx/app_radgw.fdx"]) {
        return;
    }
    let r = harness("fd-peer.sh", &[], "diameter", &[]);
    r.assert_passed(&["capabilities:", "watchdog:", "disconnect:", "pcap:"]);
}

#[test]
fn eapol_test_through_freediameter_app_radgw() {
    if !can_run(&["hostap/bin/eapol_test", "fd/fdx/app_radgw.fdx"]) {
        return;
    }
    let r = harness(
        "fd-radgw-chain.sh",
        &["aka", "aka_prime", "wrong_key"],
        "diameter",
        &[],
    );
    r.assert_passed(&[
        "aka:",
        "aka_prime:",
        "wrong_key:",
        "multi-round:",
        "pcap DER/DEA:",
        "pcap:",
    ]);
}

#[test]
fn strongswan_epdg_with_eap_radius() {
    if !can_run(&["strongswan/libexec/ipsec/charon"]) {
        return;
    }
    let r = harness("strongswan-epdg.sh", &["eap-radius"], "radius", &[]);
    r.assert_passed(&[
        "ike:",
        "vip:",
        "esp:",
        "decrypt:",
        "radius:",
        "pcap radius:",
    ]);
}
