//! `mobstrap decode` end to end: every sample message of every codec, in pcap and pcapng,
//! decoded by the binary and compared with tshark field by field; hex input; errors.

#[path = "../../wire/tests/common/tshark.rs"]
mod tshark;

use std::collections::BTreeSet;
use std::process::Command;

use mobstrap_wire::sample;

fn mobstrap(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mobstrap"))
        .arg("decode")
        .args(args)
        .output()
        .expect("run mobstrap");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `--fields` output split per frame: frame number → (field, value) pairs.
fn per_frame(out: &str) -> Vec<(usize, Vec<(String, String)>)> {
    let mut frames: Vec<(usize, Vec<(String, String)>)> = Vec::new();
    for line in out.lines() {
        if let Some(n) = line.strip_prefix("Frame ") {
            let n: usize = n
                .split(':')
                .next()
                .unwrap()
                .trim()
                .parse()
                .expect("frame number");
            frames.push((n, Vec::new()));
        } else if let Some((k, v)) = line.split_once('=') {
            frames
                .last_mut()
                .expect("field before a frame")
                .1
                .push((k.to_string(), v.to_string()));
        }
    }
    frames
}

#[test]
fn decode_agrees_with_tshark_on_every_sample_pcap_and_pcapng() {
    let samples = sample::all();
    let pkts: Vec<&[u8]> = samples.iter().map(|s| s.packet.as_slice()).collect();
    let file = tshark::scratch("decode-all.pcap");
    std::fs::write(&file, tshark::pcap_bytes(&pkts)).unwrap();

    let (code, out, err) = mobstrap(&["--pcap", file.to_str().unwrap(), "--fields"]);
    assert_eq!(code, 0, "decode failed: {err}\n{out}");
    let frames = per_frame(&out);
    assert_eq!(
        frames.len(),
        samples.len(),
        "one decoded frame per sample:\n{out}"
    );

    let mut union: Vec<String> = Vec::new();
    for s in &samples {
        for pair in s.tshark_args.chunks(2) {
            if !union.windows(pair.len()).any(|w| w == pair) {
                union.extend_from_slice(pair);
            }
        }
    }
    let names: BTreeSet<String> = frames
        .iter()
        .flat_map(|(_, f)| f.iter().map(|(k, _)| k.clone()))
        .collect();
    let theirs = tshark::fields(&file, &union, &names);
    let mut compared = 0;
    for ((n, ours), s) in frames.iter().zip(&samples) {
        assert!(
            !ours.is_empty(),
            "frame {n} ({}) decoded without Wireshark fields",
            s.name
        );
        let ours: Vec<(String, String)> = ours
            .iter()
            .filter(|(k, _)| !s.skip_fields.contains(&k.as_str()))
            .cloned()
            .collect();
        match tshark::compare(&ours, &theirs[n - 1]) {
            Ok(c) => compared += c,
            Err(e) => panic!("frame {n} ({}): {e}", s.name),
        }
    }
    assert!(compared > 1000, "only {compared} values compared");

    // The same capture as pcapng (written by tshark itself) decodes identically.
    let ng = tshark::scratch("decode-all.pcapng");
    let conv = Command::new("tshark")
        .args([
            "-r",
            file.to_str().unwrap(),
            "-F",
            "pcapng",
            "-w",
            ng.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(conv.status.success());
    let (code, out_ng, err) = mobstrap(&["--pcap", ng.to_str().unwrap(), "--fields"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out_ng, out);
}

#[test]
fn hex_input_bare_message_ip_packet_and_forced_protocol() {
    let s = sample::all()
        .into_iter()
        .find(|s| s.name == "diameter/CER")
        .unwrap();
    let p = mobstrap_wire::frame::peel_ip(&s.packet).unwrap();
    // A bare Diameter message: guessed from its first bytes.
    let (code, out, err) = mobstrap(&["--hex", &hex::encode(p.payload)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Capabilities-Exchange"), "{out}");
    assert!(out.contains("Origin-Host"), "{out}");
    // The whole IP packet: the port decides.
    let (code, out2, _) = mobstrap(&["--hex", &hex::encode(&s.packet)]);
    assert_eq!(code, 0);
    assert!(out2.starts_with("Frame: "), "{out2}");
    assert!(out2.contains("Origin-Host"));
    // Forced protocol, with colons and spaces in the hex.
    let spaced: String = hex::encode(p.payload)
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    let (code, out3, _) = mobstrap(&["--proto", "diameter", "--hex", &spaced]);
    assert_eq!(code, 0);
    assert_eq!(out3, out);
}

#[test]
fn undecodable_input_names_the_field_and_fails() {
    let s = sample::all()
        .into_iter()
        .find(|s| s.name == "diameter/CER")
        .unwrap();
    let p = mobstrap_wire::frame::peel_ip(&s.packet).unwrap();
    let mut b = p.payload.to_vec();
    b.truncate(b.len() - 8);
    let (code, _, err) = mobstrap(&["--proto", "diameter", "--hex", &hex::encode(&b)]);
    assert_ne!(code, 0);
    assert!(err.contains("diameter") && err.contains("length"), "{err}");

    let (code, _, err) = mobstrap(&["--proto", "nonsense", "--hex", "00"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown protocol"), "{err}");

    let (code, _, err) = mobstrap(&["--hex", "0102"]);
    assert_ne!(code, 0);
    assert!(err.contains("--proto"), "{err}");

    // A pcap with one broken frame: the others decode, the exit status says it failed.
    let mut bad = s.packet.clone();
    let n = bad.len();
    bad[n - 30..].fill(0xff);
    let file = tshark::scratch("decode-bad.pcap");
    std::fs::write(&file, tshark::pcap_bytes(&[&s.packet, &bad])).unwrap();
    let (code, out, _) = mobstrap(&["--pcap", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("Frame 2") && out.contains("error: diameter"),
        "{out}"
    );
}
