//! `mobstrap subscriber` end to end: the binary against a SQLite file and a real PostgreSQL.

use std::io::Write;
use std::process::{Command, Stdio};

const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const OP: &str = "cdc202d5123e20f62b6d676ac72cb318";
const OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";

struct Out {
    ok: bool,
    code: i32,
    stdout: String,
    stderr: String,
}

fn mobstrap(args: &[&str], stdin: Option<&str>) -> Out {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mobstrap"))
        .args(args)
        .env_remove("MOBSTRAP_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mobstrap");
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    Out {
        ok: out.status.success(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn sub(db: &str, args: &[&str]) -> Out {
    let mut v = vec!["subscriber", args[0], "--db", db];
    v.extend_from_slice(&args[1..]);
    mobstrap(&v, None)
}

fn field<'a>(show: &'a str, name: &str) -> &'a str {
    show.lines()
        .find_map(|l| l.strip_prefix(name).filter(|r| r.starts_with(' ')))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {name} in\n{show}"))
}

fn provisioning(db: &str) {
    let r = sub(
        db,
        &[
            "add",
            "--imsi",
            "001010000000001",
            "--k",
            K,
            "--op",
            OP,
            "--apn",
            "internet=gw:192.0.2.10",
            "--apn",
            "ims=fqdn:pgw.ims.example+visited",
            "--default-apn",
            "ims",
            "--static-ipv6-prefix",
            "2001:db8:1::/64",
            "--access-types",
            "untrusted-wlan",
            "--sqn",
            "000000000400",
        ],
    );
    assert!(r.ok, "{}", r.stderr);

    // show: identities, profile, no secrets unless asked.
    let r = sub(db, &["show", "001010000000001"]);
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(
        field(&r.stdout, "identity (AKA)"),
        "0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org"
    );
    assert_eq!(
        field(&r.stdout, "identity (AKA')"),
        "6001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org"
    );
    assert!(
        !r.stdout.contains(K) && !r.stdout.contains(OPC),
        "secrets shown"
    );
    assert!(
        field(&r.stdout, "SQN").starts_with("next SEQ 33 "),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .contains("ims=fqdn:pgw.ims.example+visited  (default)"));
    let r = sub(db, &["show", "001010000000001", "--secrets"]);
    assert_eq!(field(&r.stdout, "K"), K);
    assert!(
        field(&r.stdout, "OPc").starts_with(OPC),
        "OPc computed from OP"
    );
    let r = sub(db, &["show", "001010000000001", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v.get("k").is_none() && v.get("opc").is_none());
    assert_eq!(v["apns"][1]["visited_allowed"], true);

    // add twice: refused, with the way out named.
    let r = sub(
        db,
        &["add", "--imsi", "001010000000001", "--k", K, "--opc", OPC],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("already exists (use --replace"),
        "{}",
        r.stderr
    );
    // bad input names the option.
    let r = sub(
        db,
        &[
            "add",
            "--imsi",
            "001010000000002",
            "--k",
            K,
            "--opc",
            OPC,
            "--apn",
            "x=gw:300.1.1.1",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--apn: APN x:"), "{}", r.stderr);
    let r = sub(db, &["add", "--imsi", "00101", "--k", K, "--opc", OPC]);
    assert!(r.stderr.contains("--imsi:"), "{}", r.stderr);

    // import: a bad file imports nothing and names line and column.
    let bad = format!(
        "imsi,k,opc,apns,access_types\n\
         001010000000002,{K},{OPC},internet=dynamic,all\n\
         001010000000003,{K},{OPC},internet=dynamic+roaming,all\n\
         001010000000004,{K},{OPC},,wifi\n"
    );
    let r = mobstrap(&["subscriber", "import", "--db", db, "-"], Some(&bad));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nothing imported"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("line 3, column apns: APN internet: unknown flag \"roaming\""),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("line 4, column access_types: unknown access type \"wifi\""),
        "{}",
        r.stderr
    );
    assert!(
        !sub(db, &["show", "001010000000002"]).ok,
        "nothing imported"
    );

    let good = format!(
        "# two more\nimsi,k,op,mnc_len,apns\n\
         001010000000002,{K},{OP},3,\"internet=dynamic,visited\"\n\
         001010000000003,{K},{OP},,ims=gw:2001:db8::5+ipv6\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("subs.csv");
    std::fs::write(&file, good).unwrap();
    let r = sub(db, &["import", file.to_str().unwrap()]);
    assert!(r.ok, "{}", r.stderr);
    assert!(r.stdout.contains("imported 2 subscribers"));
    let r = sub(db, &["import", file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "already there");
    let r = sub(db, &["import", file.to_str().unwrap(), "--replace"]);
    assert!(r.ok, "{}", r.stderr);
    let r = sub(db, &["show", "001010000000002"]);
    assert_eq!(
        field(&r.stdout, "identity (AKA)"),
        "0001010000000002@nai.epc.mnc010.mcc001.3gppnetwork.org"
    );

    // list, and the export that imports back.
    let r = sub(db, &["list"]);
    assert!(r.stdout.contains("3 subscribers"), "{}", r.stdout);
    let r = sub(db, &["list", "--csv"]);
    assert!(!r.stdout.contains(K));
    let r = sub(db, &["list", "--csv", "--secrets"]);
    assert!(r.stdout.contains(K));
    let copy = dir.path().join("copy.sqlite");
    let copy = copy.to_str().unwrap();
    let r2 = mobstrap(
        &["subscriber", "import", "--db", copy, "-"],
        Some(&r.stdout),
    );
    assert!(r2.ok, "{}", r2.stderr);
    for imsi in ["001010000000001", "001010000000002", "001010000000003"] {
        let a = sub(db, &["show", imsi, "--secrets", "--json"]).stdout;
        let b = sub(copy, &["show", imsi, "--secrets", "--json"]).stdout;
        let strip = |s: &str| {
            let mut v: serde_json::Value = serde_json::from_str(s).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("created_at");
            o.remove("updated_at");
            o.remove("opc_from_op");
            v
        };
        assert_eq!(strip(&a), strip(&b), "{imsi} survives export and import");
    }

    // delete: exit 1 when one was missing.
    let r = sub(db, &["delete", "001010000000001", "001010000000009"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("deleted 001010000000001"));
    assert!(r.stderr.contains("001010000000009 not found"));
    assert_eq!(sub(db, &["show", "001010000000001"]).code, 1);
}

#[test]
fn subscriber_commands_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hss.sqlite").display());
    provisioning(&db);
}

#[test]
fn subscriber_commands_on_postgres() {
    let pg = mobstrap_testsupport::TempPostgres::shared().expect("PostgreSQL");
    let db = pg.fresh_database().unwrap();
    provisioning(&db);
}

#[test]
fn db_is_required() {
    let r = mobstrap(&["subscriber", "list"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--db"), "{}", r.stderr);
    let r = mobstrap(&["subscriber", "list", "--db", "mysql://x"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("postgres://"), "{}", r.stderr);
}
