//! The tshark cross-check: every sample message goes into a pcap; tshark must find no
//! malformed packet and no expert warning or error, and for every field our dissector ties to
//! a Wireshark field, tshark must print the same value.
//!
//! Needs `tshark` on PATH (`.ci/run` installs it). `MOBSTRAP_SAMPLES=substr` narrows the run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use mobstrap_wire::sample::{self, Sample};

fn pcap_bytes(packets: &[&[u8]]) -> Vec<u8> {
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

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mobstrap-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d.join(name)
}

fn tshark(file: &Path, args: &[String], extra: &[&str]) -> String {
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

/// tshark's value list for one field: occurrences separated by \x1f.
fn split_occurrences(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split('\u{1f}').map(|v| v.to_string()).collect()
    }
}

fn values_match(ours: &str, theirs: &str) -> bool {
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

/// Checks one sample alone, so that a failure names it.
fn check(s: &Sample) -> Result<usize, String> {
    let tree = s
        .decode()
        .map_err(|e| format!("our decoder rejects the sample: {e}"))?;
    let file = scratch(&format!("{}.pcap", s.name.replace('/', "_")));
    std::fs::write(&file, pcap_bytes(&[&s.packet])).map_err(|e| e.to_string())?;

    // 1. Nothing malformed, no expert warning or error.
    let bad = tshark(
        &file,
        &s.tshark_args,
        &[
            "-Y",
            "_ws.malformed || _ws.expert.severity >= 0x600000",
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-e",
            "_ws.expert.message",
        ],
    );
    if !bad.trim().is_empty() {
        return Err(format!("tshark reports problems: {}", bad.trim()));
    }
    let verbose = tshark(&file, &s.tshark_args, &["-V"]);
    if verbose.contains("[Malformed Packet") {
        return Err(format!("tshark: malformed packet\n{verbose}"));
    }

    // 2. Field by field: each value we print must be among tshark's values for that field.
    let ours = tree.fields();
    let names: BTreeSet<&str> = ours
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !s.skip_fields.contains(n))
        .collect();
    if names.is_empty() {
        return Err("our dissector ties no field to Wireshark".into());
    }
    let mut args = vec![
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=\u{1f}",
        "-E",
        "separator=\u{1e}",
    ];
    for n in &names {
        args.push("-e");
        args.push(n);
    }
    let line = tshark(&file, &s.tshark_args, &args);
    let cols: Vec<&str> = line.trim_end_matches('\n').split('\u{1e}').collect();
    let mut compared = 0;
    for (i, name) in names.iter().enumerate() {
        let mut theirs = split_occurrences(cols.get(i).copied().unwrap_or(""));
        for (_, v) in ours.iter().filter(|(n, _)| n == name) {
            match theirs.iter().position(|t| values_match(v, t)) {
                Some(p) => {
                    theirs.remove(p);
                    compared += 1;
                }
                None => {
                    return Err(format!(
                        "field {name}: ours {v:?}, tshark has {:?}",
                        split_occurrences(cols.get(i).copied().unwrap_or(""))
                    ))
                }
            }
        }
    }
    Ok(compared)
}

#[test]
fn tshark_agrees_with_every_sample() {
    let filter = std::env::var("MOBSTRAP_SAMPLES").unwrap_or_default();
    let samples: Vec<Sample> = sample::all()
        .into_iter()
        .filter(|s| s.name.contains(&filter))
        .collect();
    assert!(!samples.is_empty(), "no samples match {filter:?}");
    let mut failures = Vec::new();
    let mut total = 0;
    for s in &samples {
        match check(s) {
            Ok(n) => {
                total += n;
                eprintln!("ok   {}: {n} fields agree", s.name);
            }
            Err(e) => {
                eprintln!("FAIL {}: {e}", s.name);
                failures.push(format!("{}: {e}", s.name));
            }
        }
    }
    // All samples in one file too: what a user opens in Wireshark.
    let file = scratch("all.pcap");
    let pkts: Vec<&[u8]> = samples.iter().map(|s| s.packet.as_slice()).collect();
    std::fs::write(&file, pcap_bytes(&pkts)).expect("write pcap");
    eprintln!(
        "{} samples, {total} field values compared; pcap at {}",
        samples.len(),
        file.display()
    );
    assert!(
        failures.is_empty(),
        "tshark disagrees:\n{}",
        failures.join("\n")
    );
}
