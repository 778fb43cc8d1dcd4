//! The tshark cross-check: every sample message goes into one pcap; tshark must find no
//! malformed packet and no expert warning or error, and for every field our dissector ties to
//! a Wireshark field, tshark must print the same value.
//!
//! All samples are checked in one tshark run with the union of their tshark arguments (they
//! are made not to interfere: decode-as rules and decryption tables name their own ports and
//! SPIs); a sample that fails there is re-checked alone with only its own arguments, so that a
//! failure names the sample and cannot come from another sample's options.
//! `MOBSTRAP_SAMPLES=substr` narrows the run.

#[path = "common/tshark.rs"]
mod tshark;

use std::collections::BTreeSet;

use mobstrap_wire::sample::{self, Sample};

fn our_fields(s: &Sample) -> Result<Vec<(String, String)>, String> {
    let tree = s
        .decode()
        .map_err(|e| format!("our decoder rejects the sample: {e}"))?;
    let v: Vec<(String, String)> = tree
        .fields()
        .into_iter()
        .filter(|(n, _)| !s.skip_fields.contains(n))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    if v.is_empty() {
        return Err("our dissector ties no field to Wireshark".into());
    }
    Ok(v)
}

/// Checks `samples` in one capture with `args`; returns per-sample results in order.
fn check_batch(
    samples: &[&Sample],
    args: &[String],
    file_name: &str,
) -> Vec<Result<usize, String>> {
    let file = tshark::scratch(file_name);
    let pkts: Vec<&[u8]> = samples.iter().map(|s| s.packet.as_slice()).collect();
    std::fs::write(&file, tshark::pcap_bytes(&pkts)).expect("write pcap");
    let ours: Vec<Result<Vec<(String, String)>, String>> =
        samples.iter().map(|s| our_fields(s)).collect();
    let names: BTreeSet<String> = ours
        .iter()
        .flatten()
        .flat_map(|v| v.iter().map(|(n, _)| n.clone()))
        .collect();
    let problems = tshark::problems(&file, args);
    let theirs = tshark::fields(&file, args, &names);
    ours.into_iter()
        .enumerate()
        .map(|(i, o)| {
            let o = o?;
            if let Some(p) = problems.get(&(i + 1)) {
                return Err(format!("tshark reports problems: {p}"));
            }
            let t = theirs
                .get(i)
                .ok_or("tshark printed no line for this frame")?;
            tshark::compare(&o, t)
        })
        .collect()
}

#[test]
fn tshark_agrees_with_every_sample() {
    let filter = std::env::var("MOBSTRAP_SAMPLES").unwrap_or_default();
    let samples: Vec<Sample> = sample::all()
        .into_iter()
        .filter(|s| s.name.contains(&filter))
        .collect();
    assert!(!samples.is_empty(), "no samples match {filter:?}");
    let names: BTreeSet<&str> = samples.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), samples.len(), "sample names must be unique");

    let mut union: Vec<String> = Vec::new();
    for s in &samples {
        for pair in s.tshark_args.chunks(2) {
            if !union.windows(pair.len()).any(|w| w == pair) {
                union.extend_from_slice(pair);
            }
        }
    }
    let refs: Vec<&Sample> = samples.iter().collect();
    let results = check_batch(&refs, &union, "all.pcap");
    let mut failures = Vec::new();
    let mut total = 0;
    for (s, r) in samples.iter().zip(results) {
        let r = match r {
            Ok(n) => Ok(n),
            // Confirm alone, with only this sample's own arguments.
            Err(_) => check_batch(
                &[s],
                &s.tshark_args,
                &format!("{}.pcap", s.name.replace('/', "_")),
            )
            .remove(0),
        };
        match r {
            Ok(n) => total += n,
            Err(e) => {
                eprintln!("FAIL {}: {e}", s.name);
                failures.push(format!("{}: {e}", s.name));
            }
        }
    }
    eprintln!(
        "{} samples, {total} field values agree with tshark; capture: {}",
        samples.len(),
        tshark::scratch("all.pcap").display()
    );
    assert!(
        failures.is_empty(),
        "tshark disagrees:\n{}",
        failures.join("\n")
    );
}

/// The harness itself must be able to fail: a wrong value and a malformed packet are caught.
#[test]
fn harness_catches_disagreement_and_malformed_packets() {
    use mobstrap_wire::dissect::Node;
    let rad = sample::all()
        .into_iter()
        .find(|s| s.name == "radius/Access-Request")
        .expect("radius/Access-Request sample");
    let p = mobstrap_wire::frame::peel_ip(&rad.packet).expect("peel");
    let mut wrong = Sample::new("neg/wrong-code", p.frame, p.payload, |_| {
        Ok(Node::uint("Code", 99, "radius.code"))
    });
    wrong.tshark_args = rad.tshark_args.clone();
    let r = check_batch(&[&wrong], &wrong.tshark_args, "neg-wrong.pcap").remove(0);
    assert!(r.unwrap_err().contains("radius.code"));

    // A RADIUS packet whose Length claims more than is there.
    let mut bytes = p.payload.to_vec();
    let l = bytes.len() as u16 + 40;
    bytes[2..4].copy_from_slice(&l.to_be_bytes());
    let bad = Sample::new("neg/radius-length", p.frame, &bytes, |_| {
        Ok(Node::uint("Code", 1, "radius.code"))
    });
    let r = check_batch(&[&bad], &[], "neg-malformed.pcap").remove(0);
    assert!(r.unwrap_err().contains("tshark reports problems"));
}
