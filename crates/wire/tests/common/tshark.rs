//! Shared by the tshark cross-checks (wire's sample check and the CLI's decode check): write
//! a pcap, run tshark, compare field values. Needs `tshark` on PATH; `.ci/run` installs it.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A classic pcap file (LINKTYPE_RAW) holding `packets`, one second apart.
pub fn pcap_bytes(packets: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes()); // LINKTYPE_RAW
    for (i, p) in packets.iter().enumerate() {
        out.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// A scratch file path unique to this test process.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mobstrap-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d.join(name)
}

/// Runs tshark over `file` and returns its standard output; panics with its error output if
/// it fails (a field name tshark does not know fails here, naming the field).
pub fn run(file: &Path, args: &[String], extra: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(["-n", "-2", "-r"])
        .arg(file)
        .args(args)
        .args(extra)
        .output()
        .expect("tshark must be installed (apt-get install tshark); .ci/run installs it");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "tshark failed on {}: {stderr}",
        file.display()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Frame number → expert messages, for every frame tshark finds malformed or flags with an
/// expert item of severity warning or error.
pub fn problems(file: &Path, args: &[String]) -> BTreeMap<usize, String> {
    let out = run(
        file,
        args,
        &[
            "-Y",
            "_ws.malformed || _ws.expert.severity >= 0x600000",
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "separator=\u{1e}",
            "-e",
            "frame.number",
            "-e",
            "_ws.expert.message",
            "-e",
            "_ws.malformed",
        ],
    );
    out.lines()
        .filter_map(|l| {
            let mut it = l.split('\u{1e}');
            let n = it.next()?.parse().ok()?;
            let msg = it.collect::<Vec<_>>().join(" ");
            Some((
                n,
                if msg.trim().is_empty() {
                    "malformed".into()
                } else {
                    msg
                },
            ))
        })
        .collect()
}

/// Frame number (1-based) → field → tshark's values, for the given field names.
pub fn fields(
    file: &Path,
    args: &[String],
    names: &BTreeSet<String>,
) -> Vec<BTreeMap<String, Vec<String>>> {
    let mut a: Vec<&str> = vec![
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=\u{1f}",
        "-E",
        "separator=\u{1e}",
    ];
    for n in names {
        a.push("-e");
        a.push(n);
    }
    let out = run(file, args, &a);
    out.lines()
        .map(|line| {
            let cols: Vec<&str> = line.split('\u{1e}').collect();
            names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let c = cols.get(i).copied().unwrap_or("");
                    let v = if c.is_empty() {
                        Vec::new()
                    } else {
                        c.split('\u{1f}').map(str::to_string).collect()
                    };
                    (n.clone(), v)
                })
                .collect()
        })
        .collect()
}

/// Equal as text, or as numbers (decimal or 0x-hex).
pub fn values_match(ours: &str, theirs: &str) -> bool {
    if ours == theirs || ours.eq_ignore_ascii_case(theirs) {
        return true;
    }
    let num = |s: &str| -> Option<u128> {
        if let Some(h) = s.strip_prefix("0x") {
            u128::from_str_radix(h, 16).ok()
        } else {
            s.parse().ok()
        }
    };
    matches!((num(ours), num(theirs)), (Some(a), Some(b)) if a == b)
}

/// Each of our (field, value) pairs must be matched by a distinct tshark value of that field.
/// Returns the number of values compared, or the first disagreement.
pub fn compare(
    ours: &[(String, String)],
    theirs: &BTreeMap<String, Vec<String>>,
) -> Result<usize, String> {
    let mut left = theirs.clone();
    let mut n = 0;
    for (name, v) in ours {
        let pool = left
            .get_mut(name)
            .ok_or_else(|| format!("field {name} not asked of tshark"))?;
        match pool.iter().position(|t| values_match(v, t)) {
            Some(p) => {
                pool.remove(p);
                n += 1;
            }
            None => {
                return Err(format!(
                    "field {name}: ours {v:?}, tshark has {:?}",
                    theirs[name]
                ))
            }
        }
    }
    Ok(n)
}
