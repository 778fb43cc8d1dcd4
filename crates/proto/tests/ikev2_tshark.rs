//! The Wireshark key export works with Wireshark: a real conversation (IKE_SA_INIT,
//! IKE_AUTH, a liveness check) and ESP packets of its Child SA are written to a pcap, and
//! tshark, given only the lines of `IkeSa::wireshark_keys()`, decrypts IKE_AUTH (our
//! identities inside, ICV correct) and the ESP payload (the inner UDP datagram). Needs
//! `tshark` (`.ci/run` installs it).

mod ike_common;

use std::process::Command;
use std::time::Duration;

use ike_common::*;
use mobstrap_crypto::dh::Group;
use mobstrap_crypto::ikev2::{Integ, Prf};
use mobstrap_crypto::transform::Encr;
use mobstrap_proto::esp;
use mobstrap_proto::ikev2::{Config, DispatcherConfig, EspProposal, Identity, IkeProposal};
use mobstrap_wire::frame::Frame;

fn pcap(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [0xa1b2c3d4u32, 0x0004_0002, 0, 0, 65535, 101] {
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

fn check(ike: IkeProposal, child: EspProposal, force_encap: bool, seed: u64) {
    let mut i = Config::new(Identity::fqdn("ue.tshark.example")).with_psk(None, b"tshark psk");
    i.ike_proposals = vec![ike.clone()];
    i.esp_proposals = vec![child.clone()];
    i.force_encap = force_encap;
    let mut r = Config::new(Identity::fqdn("epdg.tshark.example")).with_psk(None, b"tshark psk");
    r.ike_proposals = vec![ike];
    r.esp_proposals = vec![child];
    let mut sim = Sim::new(i, r, None, DispatcherConfig::default(), seed);
    assert!(sim.run_until(Duration::from_secs(5), |s| s.both_established()));
    let now = sim.now;
    sim.init.liveness_check(now);
    sim.run_for(Duration::from_secs(1));
    let mut packets = Vec::new();
    for t in &sim.log {
        let f = Frame::udp(t.local.ip(), t.remote.ip(), t.local.port(), t.remote.port());
        packets.push(f.build(&t.data).unwrap());
    }
    // One ESP packet each way with an inner UDP datagram.
    let c = sim.i_est().child.clone().unwrap();
    let (_, mut out) = esp::from_child(&c, 64, [3; 32]).unwrap();
    let inner = Frame::udp(
        "10.45.0.7".parse().unwrap(),
        "10.99.0.1".parse().unwrap(),
        40000,
        9999,
    )
    .build(b"hello through ESP")
    .unwrap();
    let mut e = Vec::new();
    out.seal(&inner, esp::NEXT_HEADER_IPV4, &mut e).unwrap();
    let frame = if c.udp_encap {
        Frame::udp(c.local.ip(), c.remote.ip(), c.local.port(), c.remote.port())
    } else {
        Frame::ip(c.local.ip(), c.remote.ip(), 50)
    };
    packets.push(frame.build(&e).unwrap());

    let dir =
        std::env::temp_dir().join(format!("mobstrap-ike-tshark-{}-{seed}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ike.pcap");
    std::fs::write(&file, pcap(&packets)).unwrap();
    let keys = sim.init.wireshark_keys();
    let mut args: Vec<String> = vec!["-o".into(), "esp.enable_encryption_decode:TRUE".into()];
    for l in &keys.ikev2_decryption_table {
        args.push("-o".into());
        args.push(format!("uat:ikev2_decryption_table:{l}"));
    }
    for l in &keys.esp_sa {
        args.push("-o".into());
        args.push(format!("uat:esp_sa:{l}"));
    }
    let run = |args: &[String]| {
        let out = Command::new("tshark")
            .args(["-n", "-r"])
            .arg(&file)
            .args(args)
            .args(["-d", "udp.port==4500,udpencap", "-V"])
            .output()
            .expect("tshark must be installed (apt-get install tshark); .ci/run installs it");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Negative control: without the keys nothing inside is visible.
    let blind = run(&[]);
    assert!(!blind.contains("ue.tshark.example") && !blind.contains("Destination Port: 9999"));
    let text = run(&args);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(text.contains("ue.tshark.example"), "IDi decrypted:\n{text}");
    assert!(text.contains("epdg.tshark.example"), "IDr decrypted");
    assert!(
        text.contains("Traffic Selector - Initiator"),
        "TSi decrypted"
    );
    assert!(
        !text.contains("[incorrect"),
        "an ICV did not verify:\n{text}"
    );
    assert!(
        text.contains("Destination Port: 9999"),
        "inner UDP in ESP decrypted:\n{text}"
    );
}

#[test]
fn tshark_decrypts_with_our_keys_gcm() {
    check(
        IkeProposal::gcm_sha256_x25519(),
        EspProposal::gcm128(),
        false,
        90,
    );
}

#[test]
fn tshark_decrypts_with_our_keys_cbc_hmac_natt() {
    let ike = IkeProposal {
        encr: vec![Encr::AesCbc256],
        integ: vec![Integ::HmacSha256_128],
        prf: vec![Prf::HmacSha256],
        dh: vec![Group::Ecp256],
    };
    check(ike, EspProposal::cbc128_sha256(), true, 91);
}
