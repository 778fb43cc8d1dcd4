//! The recorded signalling as a pcap (raw IP link type): the tapped payloads with
//! synthesized IPv4/IPv6 and UDP/TCP headers. Each TCP connection gets a handshake and
//! consistent sequence/acknowledgement numbers, so Wireshark reassembles Diameter.

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::UNIX_EPOCH;

use mobstrap_node::trace::Transport;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;

use super::decode::WirePacket;

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
/// Largest TCP payload per synthesized segment.
const MSS: usize = 16_000;

fn csum_add(mut sum: u32, b: &[u8]) -> u32 {
    let mut it = b.chunks_exact(2);
    for c in &mut it {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [x] = it.remainder() {
        sum += (*x as u32) << 8;
    }
    sum
}

fn csum_fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IP packet carrying `l4` (a UDP or TCP header + payload with a zero checksum at
/// `ck_at`), checksums filled.
fn ip_packet(src: IpAddr, dst: IpAddr, proto: u8, mut l4: Vec<u8>, ck_at: usize) -> Vec<u8> {
    let mut pseudo = Vec::new();
    let mut out = Vec::with_capacity(l4.len() + 40);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, proto]);
            pseudo.extend_from_slice(&(l4.len() as u16).to_be_bytes());
            let total = (20 + l4.len()) as u16;
            let mut h = vec![0x45, 0];
            h.extend_from_slice(&total.to_be_bytes());
            h.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
            h.extend_from_slice(&s.octets());
            h.extend_from_slice(&d.octets());
            let c = csum_fold(csum_add(0, &h));
            h[10..12].copy_from_slice(&c.to_be_bytes());
            out.extend_from_slice(&h);
        }
        _ => {
            let v6 = |a: IpAddr| match a {
                IpAddr::V6(v) => v.octets(),
                IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
            };
            let (s, d) = (v6(src), v6(dst));
            pseudo.extend_from_slice(&s);
            pseudo.extend_from_slice(&d);
            pseudo.extend_from_slice(&(l4.len() as u32).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, proto]);
            out.extend_from_slice(&[0x60, 0, 0, 0]);
            out.extend_from_slice(&(l4.len() as u16).to_be_bytes());
            out.extend_from_slice(&[proto, 64]);
            out.extend_from_slice(&s);
            out.extend_from_slice(&d);
        }
    }
    let mut c = csum_fold(csum_add(csum_add(0, &pseudo), &l4));
    if proto == 17 && c == 0 {
        c = 0xffff;
    }
    l4[ck_at..ck_at + 2].copy_from_slice(&c.to_be_bytes());
    out.extend_from_slice(&l4);
    out
}

fn udp(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let mut l4 = Vec::with_capacity(payload.len() + 8);
    l4.extend_from_slice(&src.port().to_be_bytes());
    l4.extend_from_slice(&dst.port().to_be_bytes());
    l4.extend_from_slice(&((payload.len() + 8) as u16).to_be_bytes());
    l4.extend_from_slice(&[0, 0]);
    l4.extend_from_slice(payload);
    ip_packet(src.ip(), dst.ip(), 17, l4, 6)
}

fn tcp(src: SocketAddr, dst: SocketAddr, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut l4 = Vec::with_capacity(payload.len() + 20);
    l4.extend_from_slice(&src.port().to_be_bytes());
    l4.extend_from_slice(&dst.port().to_be_bytes());
    l4.extend_from_slice(&seq.to_be_bytes());
    l4.extend_from_slice(&ack.to_be_bytes());
    l4.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    l4.extend_from_slice(payload);
    ip_packet(src.ip(), dst.ip(), 6, l4, 16)
}

/// The IP packets of `wire`, each with its time.
pub fn packets(wire: &[WirePacket]) -> Vec<(std::time::Duration, Vec<u8>)> {
    // next sequence number per direction of each connection
    let mut next: HashMap<(SocketAddr, SocketAddr), u32> = HashMap::new();
    let mut out = Vec::new();
    for w in wire {
        let t = w.time.duration_since(UNIX_EPOCH).unwrap_or_default();
        match w.transport {
            Transport::Udp => out.push((t, udp(w.src, w.dst, &w.bytes))),
            Transport::Tcp => {
                let key = (w.src, w.dst);
                let rkey = (w.dst, w.src);
                if !next.contains_key(&key) && !next.contains_key(&rkey) {
                    // the connection as first seen: its opener is the side that sent first
                    let (isn_c, isn_s) = (1000u32, 5000u32);
                    out.push((t, tcp(w.src, w.dst, isn_c, 0, SYN, &[])));
                    out.push((t, tcp(w.dst, w.src, isn_s, isn_c + 1, SYN | ACK, &[])));
                    out.push((t, tcp(w.src, w.dst, isn_c + 1, isn_s + 1, ACK, &[])));
                    next.insert(key, isn_c + 1);
                    next.insert(rkey, isn_s + 1);
                }
                for chunk in w.bytes.chunks(MSS) {
                    let seq = next.get(&key).copied().unwrap_or(1);
                    let ack = next.get(&rkey).copied().unwrap_or(1);
                    out.push((t, tcp(w.src, w.dst, seq, ack, PSH | ACK, chunk)));
                    next.insert(key, seq.wrapping_add(chunk.len() as u32));
                }
            }
        }
    }
    out
}

/// Writes `wire` to `w` as a pcap (LINKTYPE_RAW).
pub fn write(w: impl Write, wire: &[WirePacket]) -> Result<usize, pcap_file::PcapError> {
    let header = PcapHeader {
        datalink: DataLink::RAW,
        ..Default::default()
    };
    let mut pw = PcapWriter::with_header(w, header)?;
    let pk = packets(wire);
    for (t, p) in &pk {
        pw.write_packet(&PcapPacket::new(*t, p.len() as u32, p))?;
    }
    Ok(pk.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_and_ipv4_checksums_verify() {
        let p = udp(
            "127.0.0.1:500".parse().unwrap(),
            "127.0.0.2:500".parse().unwrap(),
            b"abc",
        );
        assert_eq!(csum_fold(csum_add(0, &p[..20])), 0, "IPv4 header checksum");
        let mut pseudo = vec![127, 0, 0, 1, 127, 0, 0, 2, 0, 17, 0, 11];
        pseudo.extend_from_slice(&p[20..]);
        assert_eq!(csum_fold(csum_add(0, &pseudo)), 0, "UDP checksum");
    }

    #[test]
    fn tcp_sequence_numbers_follow_the_bytes() {
        let a: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let b: SocketAddr = "127.0.0.2:3868".parse().unwrap();
        let w = |src, dst, n: usize| WirePacket {
            order: 0,
            time: UNIX_EPOCH,
            transport: Transport::Tcp,
            src,
            dst,
            bytes: vec![1; n],
        };
        let pk = packets(&[w(a, b, 100), w(b, a, 60), w(a, b, 20)]);
        assert_eq!(pk.len(), 6, "handshake + 3 segments");
        let seq = |p: &Vec<u8>| u32::from_be_bytes([p[24], p[25], p[26], p[27]]);
        let ack = |p: &Vec<u8>| u32::from_be_bytes([p[28], p[29], p[30], p[31]]);
        assert_eq!(seq(&pk[3].1), 1001);
        assert_eq!(seq(&pk[4].1), 5001);
        assert_eq!(ack(&pk[4].1), 1101);
        assert_eq!(seq(&pk[5].1), 1101);
        assert_eq!(ack(&pk[5].1), 5061);
    }
}
