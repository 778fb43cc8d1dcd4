//! PMIPv6 over IPv4 transport, shared by the gateway (`gw`) and the MAG driver (`mag`):
//!
//! * signalling (RFC 5844 §4, UDP 5436): the UDP payload is an IPv6 header (source Proxy-CoA,
//!   destination LMAA) followed by the Mobility Header. With IPv4-only nodes the inner
//!   addresses are the IPv4-mapped IPv6 forms (`::ffff:a.b.c.d`) of the outer ones; the
//!   Mobility Header checksum covers those inner addresses.
//! * user plane (UDP 5437): the UDP payload is the mobile node's IPv4 or IPv6 packet, nothing
//!   before it (docs/protocols/mobility.md §2). [`Routes`] maps home addresses/prefixes to the
//!   tunnel peer and checks that a decapsulated packet's source belongs to the peer it came
//!   from.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use mobstrap_wire::mh::{self, udp::Ipv4Transport};

/// The IPv6 form of an address for the inner header.
pub fn inner_addr(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Wraps a Mobility Header (checksum 0) for UDP 5436, computing the checksum.
pub fn wrap_signalling(local: IpAddr, peer: IpAddr, mh_bytes: &[u8]) -> Result<Vec<u8>, String> {
    let repr = mh::Repr::parse(mh_bytes).map_err(|e| e.to_string())?;
    let t = Ipv4Transport::new(inner_addr(local), inner_addr(peer), repr);
    let mut out = Vec::with_capacity(40 + mh_bytes.len());
    t.emit_with_checksum(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The Mobility Header of a UDP 5436 payload, its checksum verified.
pub fn unwrap_signalling(payload: &[u8]) -> Result<&[u8], String> {
    let t = Ipv4Transport::parse(payload).map_err(|e| e.to_string())?;
    t.verify_checksum(payload).map_err(|e| e.to_string())?;
    payload
        .get(40..)
        .ok_or_else(|| "ipv6: truncated".to_string())
}

/// The user-plane address of a signalling peer: over UDP by convention one port above its
/// signalling port (5436 → 5437); over the IPv6 transport ([`crate::pmip_raw`], port 0) the
/// same address.
pub fn data_peer(sig: SocketAddr) -> SocketAddr {
    if sig.port() == 0 {
        return sig;
    }
    SocketAddr::new(sig.ip(), sig.port().wrapping_add(1))
}

/// Inner (source, destination) of an IPv4 or IPv6 packet.
pub fn ip_endpoints(p: &[u8]) -> Option<(IpAddr, IpAddr)> {
    match p.first()? >> 4 {
        4 if p.len() >= 20 => {
            let s: [u8; 4] = p.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = p.get(16..20)?.try_into().ok()?;
            Some((IpAddr::from(s), IpAddr::from(d)))
        }
        6 if p.len() >= 40 => {
            let s: [u8; 16] = p.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = p.get(24..40)?.try_into().ok()?;
            Some((IpAddr::from(s), IpAddr::from(d)))
        }
        _ => None,
    }
}

/// Checks a UDP 5437 payload: one IPv4/IPv6 packet filling it.
pub fn check_data(payload: &[u8]) -> Result<(IpAddr, IpAddr), String> {
    mh::udp::DataPacket::parse(payload).map_err(|e| e.to_string())?;
    ip_endpoints(payload).ok_or_else(|| "tunnel.ip: truncated".into())
}

/// Home addresses (IPv4) and home network prefixes (IPv6, matched on their upper 64 bits)
/// → the tunnel peer (a MAG at the gateway; the LMA at the MAG).
///
/// The peers are few (the gateways, or the MAGs) and every UE has a route or two: a route
/// holds the peer's slot in `peers`, not a 32-octet `SocketAddr` (about 70 octets less per
/// UE and node with the tables' spare room).
#[derive(Debug, Default, Clone)]
pub struct Routes {
    v4: HashMap<Ipv4Addr, u32>,
    v6: HashMap<u64, u32>,
    /// Slot → (peer, routes to it); a slot with no routes is free for the next new peer.
    peers: Vec<(SocketAddr, u32)>,
    slots: HashMap<SocketAddr, u32>,
    free: Vec<u32>,
}

fn upper64(a: Ipv6Addr) -> u64 {
    (u128::from(a) >> 64) as u64
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    /// The slot of `peer`, counting one more route to it.
    fn hold(&mut self, peer: SocketAddr) -> u32 {
        if let Some(&i) = self.slots.get(&peer) {
            self.peers[i as usize].1 += 1;
            return i;
        }
        let i = match self.free.pop() {
            Some(i) => {
                self.peers[i as usize] = (peer, 1);
                i
            }
            None => {
                self.peers.push((peer, 1));
                (self.peers.len() - 1) as u32
            }
        };
        self.slots.insert(peer, i);
        i
    }

    /// One route fewer to slot `i`; the slot is freed with its last route.
    fn release(&mut self, i: u32) {
        let Some(slot) = self.peers.get_mut(i as usize) else {
            return;
        };
        slot.1 = slot.1.saturating_sub(1);
        if slot.1 == 0 {
            let peer = slot.0;
            self.slots.remove(&peer);
            self.free.push(i);
        }
    }

    pub fn add(&mut self, v4: Option<Ipv4Addr>, hnp: Option<Ipv6Addr>, peer: SocketAddr) {
        if let Some(a) = v4 {
            let i = self.hold(peer);
            if let Some(old) = self.v4.insert(a, i) {
                self.release(old);
            }
        }
        if let Some(p) = hnp {
            let i = self.hold(peer);
            if let Some(old) = self.v6.insert(upper64(p), i) {
                self.release(old);
            }
        }
    }

    pub fn remove(&mut self, v4: Option<Ipv4Addr>, hnp: Option<Ipv6Addr>) {
        if let Some(i) = v4.and_then(|a| self.v4.remove(&a)) {
            self.release(i);
        }
        if let Some(i) = hnp.and_then(|p| self.v6.remove(&upper64(p))) {
            self.release(i);
        }
    }

    /// The peer serving home address `a`.
    pub fn lookup(&self, a: IpAddr) -> Option<SocketAddr> {
        let i = match a {
            IpAddr::V4(v4) => self.v4.get(&v4),
            IpAddr::V6(v6) => self.v6.get(&upper64(v6)),
        }?;
        self.peers.get(*i as usize).map(|p| p.0)
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tunnel peers with at least one route.
    pub fn peers(&self) -> usize {
        self.slots.len()
    }
}

/// A UDP socket for PMIPv6 signalling with large kernel buffers (best effort, up to
/// `net.core.rmem_max` / `wmem_max`): a mass detach or attach arrives as a burst of thousands
/// of PBUs, and what overflows the default ~200 KiB buffer is only recovered by the MAG's
/// retransmissions seconds later.
pub(crate) fn bind_signalling(addr: SocketAddr) -> std::io::Result<tokio::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    let _ = s.set_recv_buffer_size(4 << 20);
    let _ = s.set_send_buffer_size(4 << 20);
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    tokio::net::UdpSocket::from_std(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Routes share their peer's slot; a route moved to another peer releases the old one;
    /// a peer's slot is freed with its last route and reused by the next new peer.
    #[test]
    fn routes_share_and_free_peer_slots() {
        let (a, b, c): (SocketAddr, SocketAddr, SocketAddr) = (
            "192.0.2.1:5437".parse().unwrap(),
            "192.0.2.2:5437".parse().unwrap(),
            "[2001:db8::3]:5437".parse().unwrap(),
        );
        let v4 = |n: u8| Some(Ipv4Addr::new(10, 0, 0, n));
        let v6 = |n: u16| Some(Ipv6Addr::new(0x2001, 0xdb8, n, 0, 0, 0, 0, 0));
        let mut r = Routes::new();
        for n in 1..=100 {
            r.add(v4(n), v6(u16::from(n)), a);
        }
        r.add(v4(200), None, b);
        assert_eq!((r.len(), r.peers()), (201, 2));
        assert_eq!(r.lookup(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7))), Some(a));
        let in_prefix = Ipv6Addr::new(0x2001, 0xdb8, 7, 0, 0, 0, 0, 0x42);
        assert_eq!(r.lookup(IpAddr::V6(in_prefix)), Some(a));
        assert_eq!(r.lookup(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 200))), Some(b));
        assert_eq!(r.lookup(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 201))), None);
        // UE 200 moves to peer a: b has no route left
        r.add(v4(200), None, a);
        assert_eq!(r.peers(), 1);
        assert_eq!(r.lookup(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 200))), Some(a));
        // a new peer takes b's slot
        r.add(v4(201), None, c);
        assert_eq!((r.peers(), r.peers.len()), (2, 2));
        assert_eq!(r.lookup(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 201))), Some(c));
        for n in 1..=100 {
            r.remove(v4(n), v6(u16::from(n)));
        }
        r.remove(v4(200), None);
        assert_eq!(r.peers(), 1, "only c is left");
        assert_eq!(r.lookup(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7))), None);
        r.remove(v4(201), None);
        assert!(r.is_empty());
        assert_eq!(r.peers(), 0);
        // removing what is not there changes nothing
        r.remove(v4(1), v6(1));
        assert_eq!(r.peers(), 0);
    }

    /// Every PBA the gateway can send survives the RFC 5844 wrapping and the MAG's checks,
    /// whatever its sequence number, timestamp and addresses (checksum corner cases included:
    /// ~1 in 65,536 messages sums to 0xffff).
    #[test]
    fn pba_round_trip_over_many_values() {
        use mobstrap_proto::pmip::{build_pba, parse_pba, Pba};
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let local: IpAddr = "127.66.1.50".parse().unwrap();
        let peer: IpAddr = "127.66.1.20".parse().unwrap();
        let n = if cfg!(debug_assertions) {
            20_000
        } else {
            400_000
        };
        for i in 0..n {
            let r = next();
            let pba = Pba {
                status: 0,
                flags: 0x40,
                seq: r as u16,
                lifetime: 3600,
                nai: Some(format!(
                    "0001010{:09}@nai.epc.mnc001.mcc001.3gppnetwork.org",
                    i
                )),
                apn: None,
                hnp: Some((
                    Ipv6Addr::from(((next() as u128) << 64) & !0u128 >> 64 << 64),
                    64,
                )),
                v4_reply: Some((0, std::net::Ipv4Addr::from(next() as u32), 10)),
                v4_router: Some(std::net::Ipv4Addr::new(10, 127, 255, 254)),
                hi: Some(1),
                att: Some(4),
                timestamp: Some(next()),
            };
            let mh = build_pba(&pba);
            let wire = wrap_signalling(local, peer, &mh).unwrap();
            let back = unwrap_signalling(&wire).unwrap_or_else(|e| panic!("#{i}: {e}"));
            assert_eq!(parse_pba(back).unwrap().seq, pba.seq, "#{i}");
        }
    }

    #[test]
    fn signalling_round_trip() {
        let pbu = mobstrap_proto::pmip::build_pbu(&mobstrap_proto::pmip::Pbu {
            seq: 1,
            flags: mh::bu_flags::A | mh::bu_flags::P,
            lifetime: 40,
            nai: Some("u@x".into()),
            apn: None,
            hnp: Some((Ipv6Addr::UNSPECIFIED, 0)),
            v4_request: None,
            hi: Some(1),
            att: Some(4),
            timestamp: Some(7),
            home_gw: None,
            multiple_v4: false,
        });
        let w = wrap_signalling(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            &pbu,
        )
        .unwrap();
        assert_eq!(w[0] >> 4, 6);
        assert_eq!(&w[8..24], &inner_addr("192.0.2.1".parse().unwrap()));
        let mh = unwrap_signalling(&w).unwrap();
        assert_eq!(&mh[..4], &pbu[..4]);
        let mut bad = w.clone();
        bad[45] ^= 1;
        assert!(unwrap_signalling(&bad).is_err());
    }

    #[test]
    fn routes() {
        let mut r = Routes::new();
        let peer: SocketAddr = "10.0.0.1:5437".parse().unwrap();
        r.add(
            Some("192.0.2.5".parse().unwrap()),
            Some("2001:db8:1:5::".parse().unwrap()),
            peer,
        );
        assert_eq!(r.lookup("192.0.2.5".parse().unwrap()), Some(peer));
        assert_eq!(r.lookup("2001:db8:1:5::99".parse().unwrap()), Some(peer));
        assert_eq!(r.lookup("2001:db8:1:6::99".parse().unwrap()), None);
        r.remove(
            Some("192.0.2.5".parse().unwrap()),
            Some("2001:db8:1:5::".parse().unwrap()),
        );
        assert!(r.is_empty());
    }
}
