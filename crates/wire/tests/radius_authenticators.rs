//! tshark checks the Response Authenticators of the RADIUS samples: every sample in one
//! capture, in conversation order, with the sample shared secret. This is Wireshark's own
//! MD5, independent of `mobstrap-crypto` (whose test `radius_samples` checks the same
//! packets, and their Message-Authenticators, which tshark does not verify).
//!
//! Needs `tshark` on PATH, as `tests/tshark.rs` does.

use std::process::Command;

use mobstrap_wire::radius::{self, Code};

fn pcap(packets: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 65535, 101] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, p) in packets.iter().enumerate() {
        for v in [
            1_700_000_000u32 + i as u32,
            0,
            p.len() as u32,
            p.len() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(p);
    }
    out
}

#[test]
fn tshark_validates_every_response_authenticator() {
    let all = radius::samples_with_request_authenticators();
    let packets: Vec<&[u8]> = all.iter().map(|(s, _)| s.packet.as_slice()).collect();
    let dir = std::env::temp_dir().join(format!("mobstrap-radius-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("radius.pcap");
    std::fs::write(&file, pcap(&packets)).unwrap();
    let secret = format!(
        "radius.shared_secret:{}",
        String::from_utf8_lossy(radius::SAMPLE_SECRET)
    );
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&file)
        .args(["-o", &secret, "-o", "radius.validate_authenticator:TRUE"])
        .args([
            "-T",
            "fields",
            "-e",
            "radius.code",
            "-e",
            "radius.authenticator.valid",
            "-e",
            "radius.authenticator.invalid",
        ])
        .output()
        .expect("tshark must be installed (apt-get install tshark)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), all.len());
    let mut valid = 0;
    for ((s, ra), line) in all.iter().zip(&lines) {
        let cols: Vec<&str> = line.split('\t').collect();
        let code = Code::from(cols[0].parse::<u8>().unwrap());
        assert_ne!(
            cols.get(2).copied().unwrap_or(""),
            "1",
            "{}: tshark finds the authenticator invalid",
            s.name
        );
        // tshark does not pair a Status-Server with its Access-Accept, so that one reply
        // goes unchecked (crypto's test covers it).
        if ra.is_some() && !s.name.ends_with("-Status") {
            assert!(code.is_response());
            assert_eq!(
                cols.get(1).copied().unwrap_or(""),
                "1",
                "{}: tshark did not validate it",
                s.name
            );
            valid += 1;
        }
    }
    assert!(valid >= 20, "only {valid} responses validated");
    let _ = std::fs::remove_dir_all(&dir);
}
