//! tshark reads our PMIPv6 signalling over IPv4 (RFC 5844 §4: IPv4/UDP 5436/IPv6/MH) as we
//! mean it: a whole registration and de-registration between the MAG and LMA engines, each
//! message wrapped by `node::pmip_tunnel` exactly as `mobstrap gw` and the MAG driver send it,
//! written to a pcap and decoded by tshark with `-d udp.port==5436,ipv6`: no malformed packet,
//! no expert warning, the option values ours (checksums are verified by our own unwrap).
//! Needs `tshark` (`.ci/run` installs it).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use mobstrap_node::pmip_tunnel::{unwrap_signalling, wrap_signalling};
use mobstrap_proto::pmip::lma::{Allocation, Lma, LmaConfig, LmaEvent};
use mobstrap_proto::pmip::mag::{AttachRequest, Mag, MagConfig};
use mobstrap_proto::pmip::MnKey;
use mobstrap_wire::frame::Frame;

type Wrap<'a> = dyn FnMut(SocketAddr, SocketAddr, &[u8]) -> Vec<u8> + 'a;

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

#[test]
fn tshark_decodes_pbu_pba_over_udp_5436() {
    let mag_addr: SocketAddr = "192.0.2.1:40000".parse().unwrap();
    let lma_addr: SocketAddr = "192.0.2.2:5436".parse().unwrap();
    let now = Instant::now();
    let wall = SystemTime::now();
    let mut mag = Mag::new(MagConfig::default(), now, wall, 4242);
    let mut lma = Lma::new(LmaConfig::default(), now, wall, 1);
    let key = MnKey::new(
        "0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org",
        "internet",
    );
    let mut req = AttachRequest::new(key.clone(), lma_addr);
    req.home_gw = Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9)));
    mag.attach(req, now).unwrap();
    let mut packets = Vec::new();
    let mut wrap = |from: SocketAddr, to: SocketAddr, mh: &[u8]| {
        let payload = wrap_signalling(from.ip(), to.ip(), mh).unwrap();
        let f = Frame::udp(from.ip(), to.ip(), from.port(), to.port());
        packets.push(f.build(&payload).unwrap());
        payload
    };
    let step = |mag: &mut Mag, lma: &mut Lma, wrap: &mut Wrap<'_>| {
        while let Some(t) = mag.poll_transmit() {
            let p = wrap(mag_addr, t.peer, &t.mh);
            lma.handle(mag_addr, unwrap_signalling(&p).unwrap(), now)
                .unwrap();
        }
        while let Some(e) = lma.poll_event() {
            if let LmaEvent::Authorize(a) = e {
                lma.complete(
                    a.id,
                    Ok(Allocation {
                        hnp: Some(("2001:db8:1:7::".parse::<Ipv6Addr>().unwrap(), 64)),
                        v4: Some((Ipv4Addr::new(10, 45, 0, 7), 16)),
                        v4_router: Some(Ipv4Addr::new(10, 45, 255, 254)),
                    }),
                    now,
                );
            }
        }
        while let Some(t) = lma.poll_transmit() {
            let p = wrap(lma_addr, t.peer, &t.mh);
            mag.handle(lma_addr, unwrap_signalling(&p).unwrap(), now)
                .unwrap();
        }
    };
    step(&mut mag, &mut lma, &mut wrap);
    assert!(mag.binding(&key).is_some());
    mag.detach(&key, now + Duration::from_millis(10)).unwrap();
    step(&mut mag, &mut lma, &mut wrap);
    assert_eq!(packets.len(), 4);

    let dir = std::env::temp_dir().join(format!("mobstrap-pmip-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pmip.pcap");
    std::fs::write(&file, pcap(&packets)).unwrap();
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&file)
        .args(["-d", "udp.port==5436,ipv6", "-V"])
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let out = match out {
        Ok(o) => o,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("tshark not available ({e}): skipped");
            return;
        }
        Err(e) => panic!("tshark must be installed in CI: {e}"),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("Malformed"), "{text}");
    assert!(
        !text.contains("[Expert Info (Warning") && !text.contains("[Expert Info (Error"),
        "{text}"
    );
    assert!(text.matches("Binding Update").count() >= 2, "{text}");
    assert!(text.contains("Binding Acknowledgement"), "{text}");
    assert!(text.contains("0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org"));
    assert!(text.contains("internet"));
    assert!(text.contains("2001:db8:1:7::"), "HNP in the PBA:\n{text}");
    assert!(text.contains("10.45.0.7"), "IPv4 HoA reply:\n{text}");
    assert!(text.contains("10.45.255.254"), "default router:\n{text}");
    assert!(text.contains("32473"), "vendor option:\n{text}");
    assert!(!text.contains("[incorrect"), "checksums:\n{text}");
}
