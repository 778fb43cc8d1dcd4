//! The user-space ESP data path of an IKE node: the installed Child SAs (inbound by SPI,
//! outbound by the inner destination address), per-SA counters, and the policy check on
//! decrypted packets (the inner source must lie in the peer's traffic selectors).
//!
//! The kernel here has no ESP, so this is where tunnel-mode packets from the TUN device are
//! sealed and ESP from the sockets is opened. No I/O: the node moves the bytes.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

use mobstrap_proto::esp::{self, EspError, Inbound, Outbound};
use mobstrap_proto::ikev2::{ChildSaInfo, Mode, SaId, TsRange};
use rand::RngCore;

/// Counters of one Child SA.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChildCounters {
    pub in_packets: u64,
    pub in_bytes: u64,
    pub out_packets: u64,
    pub out_bytes: u64,
    /// Inbound packets refused: ICV, replay, padding, or outside the traffic selectors.
    pub in_dropped: u64,
    /// Outbound packets that could not be sealed (sequence exhausted, too large).
    pub out_dropped: u64,
}

/// A Child SA as the operator sees it (no keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildStatus {
    pub ike: SaId,
    pub inbound_spi: u32,
    pub outbound_spi: u32,
    pub mode: Mode,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub udp_encap: bool,
    pub local_ts: Vec<TsRange>,
    pub remote_ts: Vec<TsRange>,
    pub counters: ChildCounters,
}

struct Child {
    ike: SaId,
    inbound: Inbound,
    outbound: Outbound,
    info: ChildStatus,
}

/// Where a sealed packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EspTx {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// UDP-encapsulated (RFC 3948) on the NAT-T port; else raw IP protocol 50.
    pub udp_encap: bool,
}

/// Why a packet was not forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// No Child SA for this SPI / destination.
    NoSa,
    /// Not an IP packet.
    NotIp,
    Esp(EspError),
    /// The decrypted inner source is outside the peer's traffic selectors.
    Policy,
}

/// Inbound SPIs of one selector or IKE SA: nearly always one or two (a rekey overlaps
/// the old and the new), held inline; a heap list of one SPI cost an allocation per table.
type Spis = smallvec::SmallVec<[u32; 2]>;

/// The SA tables.
#[derive(Default)]
pub struct DataPath {
    /// Boxed (about 700 bytes each; inline, the table's empty slots cost as much).
    children: HashMap<u32, Box<Child>>,
    /// Host selectors (one address): inner destination → inbound SPI of the newest SA.
    hosts: HashMap<IpAddr, u32>,
    /// Every tunnel-mode SA with a host selector, per address, oldest first (the fallback
    /// when the SA in `hosts` goes).
    host_spis: HashMap<IpAddr, Spis>,
    /// The Child SAs of each IKE SA.
    by_ike: HashMap<SaId, Spis>,
    /// Selectors that are one CIDR prefix (a UE's /64, `0.0.0.0/0` on the UE side), by
    /// (IPv6?, prefix length, network): the SAs that have it, oldest first. An insert, a
    /// removal and a lookup cost a hash per prefix length in use, not a scan of every SA:
    /// with the UEs' IPv6 prefixes in a list, each attach moved the whole list (the list was
    /// newest first) and each IPv6 packet to a UE scanned it.
    prefixes: HashMap<(bool, u8, u128), Spis>,
    /// The (IPv6?, prefix length) pairs in `prefixes`, with how many prefixes each has.
    prefix_lens: BTreeMap<(bool, u8), usize>,
    /// Selectors that are no CIDR prefix (an arbitrary address range), newest first.
    ranges: Vec<(TsRange, u32)>,
    replay_window: usize,
    /// Packets that matched no SA (either direction).
    pub unmatched: u64,
}

fn in_range(r: &TsRange, a: IpAddr) -> bool {
    match (r.start, r.end, a) {
        (IpAddr::V4(s), IpAddr::V4(e), IpAddr::V4(x)) => s <= x && x <= e,
        (IpAddr::V6(s), IpAddr::V6(e), IpAddr::V6(x)) => s <= x && x <= e,
        _ => false,
    }
}

/// An address as (IPv6?, value).
fn addr_bits(a: IpAddr) -> (bool, u128) {
    match a {
        IpAddr::V4(v) => (false, u128::from(u32::from(v))),
        IpAddr::V6(v) => (true, u128::from(v)),
    }
}

/// The network of `a` under a prefix of `len` bits.
fn network(v6: bool, a: u128, len: u8) -> u128 {
    let bits = if v6 { 128 } else { 32 };
    if len == 0 {
        0
    } else {
        let host_bits = bits - u32::from(len);
        (a >> host_bits) << host_bits
    }
}

/// The range as one CIDR prefix (IPv6?, length, network), if it is one.
fn as_prefix(r: &TsRange) -> Option<(bool, u8, u128)> {
    let ((v6, s), (v6e, e)) = (addr_bits(r.start), addr_bits(r.end));
    if v6 != v6e || e < s {
        return None;
    }
    let bits: u32 = if v6 { 128 } else { 32 };
    // host bits: the number of trailing ones of (end - start), when start is aligned to them
    let span = e - s;
    let host_bits = span.trailing_ones();
    if span.checked_shr(host_bits).unwrap_or(0) != 0 || host_bits > bits {
        return None;
    }
    let len = (bits - host_bits) as u8;
    (network(v6, s, len) == s).then_some((v6, len, s))
}

/// Source and destination of an IPv4/IPv6 packet.
pub fn ip_addrs(p: &[u8]) -> Option<(IpAddr, IpAddr)> {
    match p.first()? >> 4 {
        4 if p.len() >= 20 => {
            let s: [u8; 4] = p[12..16].try_into().ok()?;
            let d: [u8; 4] = p[16..20].try_into().ok()?;
            Some((IpAddr::from(s), IpAddr::from(d)))
        }
        6 if p.len() >= 40 => {
            let s: [u8; 16] = p[8..24].try_into().ok()?;
            let d: [u8; 16] = p[24..40].try_into().ok()?;
            Some((IpAddr::from(s), IpAddr::from(d)))
        }
        _ => None,
    }
}

impl DataPath {
    pub fn new(replay_window: usize) -> Self {
        DataPath {
            replay_window,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.children.len()
    }
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// Installs a Child SA reported by the engine (new or rekeyed: the newest SA carries
    /// the outbound traffic of its selectors).
    pub fn install(
        &mut self,
        ike: SaId,
        c: &ChildSaInfo,
        rng: &mut dyn RngCore,
    ) -> Result<(), EspError> {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let (inbound, outbound) = esp::from_child(c, self.replay_window, seed)?;
        let info = ChildStatus {
            ike,
            inbound_spi: c.inbound_spi,
            outbound_spi: c.outbound_spi,
            mode: c.mode,
            local: c.local,
            remote: c.remote,
            udp_encap: c.udp_encap,
            local_ts: c.local_ts.clone(),
            remote_ts: c.remote_ts.clone(),
            counters: ChildCounters::default(),
        };
        if c.mode == Mode::Tunnel {
            for ts in &c.remote_ts {
                if ts.start == ts.end {
                    self.hosts.insert(ts.start, c.inbound_spi);
                    let list = self.host_spis.entry(ts.start).or_default();
                    if !list.contains(&c.inbound_spi) {
                        list.push(c.inbound_spi);
                    }
                } else if let Some(key) = as_prefix(ts) {
                    let list = self.prefixes.entry(key).or_default();
                    if !list.contains(&c.inbound_spi) {
                        list.push(c.inbound_spi);
                        if list.len() == 1 {
                            *self.prefix_lens.entry((key.0, key.1)).or_default() += 1;
                        }
                    }
                } else {
                    self.ranges.insert(0, (*ts, c.inbound_spi));
                }
            }
        }
        let mine = self.by_ike.entry(ike).or_default();
        if !mine.contains(&c.inbound_spi) {
            mine.push(c.inbound_spi);
        }
        self.children.insert(
            c.inbound_spi,
            Box::new(Child {
                ike,
                inbound,
                outbound,
                info,
            }),
        );
        Ok(())
    }

    /// Removes a Child SA; its selectors fall back to another SA that has them (the one a
    /// rekey left behind, or its replacement).
    pub fn remove(&mut self, inbound_spi: u32) -> Option<ChildStatus> {
        let c = self.children.remove(&inbound_spi)?;
        // Indexes, so that removing one of N SAs does not scan the others (a mass detach of
        // 20,000 UEs spent most of the ePDG's time here).
        if let Some(list) = self.by_ike.get_mut(&c.ike) {
            list.retain(|s| *s != inbound_spi);
            if list.is_empty() {
                self.by_ike.remove(&c.ike);
            }
        }
        for ts in c.info.remote_ts.iter().filter(|t| t.start != t.end) {
            match as_prefix(ts) {
                Some(key) => {
                    let Some(list) = self.prefixes.get_mut(&key) else {
                        continue;
                    };
                    list.retain(|s| *s != inbound_spi);
                    if list.is_empty() {
                        self.prefixes.remove(&key);
                        if let Some(n) = self.prefix_lens.get_mut(&(key.0, key.1)) {
                            *n -= 1;
                            if *n == 0 {
                                self.prefix_lens.remove(&(key.0, key.1));
                            }
                        }
                    }
                }
                None => self.ranges.retain(|(_, s)| *s != inbound_spi),
            }
        }
        for ts in c.info.remote_ts.iter().filter(|t| t.start == t.end) {
            let newest = match self.host_spis.get_mut(&ts.start) {
                Some(list) => {
                    list.retain(|s| *s != inbound_spi);
                    let last = list.last().copied();
                    if list.is_empty() {
                        self.host_spis.remove(&ts.start);
                    }
                    last
                }
                None => None,
            };
            if self.hosts.get(&ts.start) == Some(&inbound_spi) {
                match newest {
                    Some(other) => self.hosts.insert(ts.start, other),
                    None => self.hosts.remove(&ts.start),
                };
            }
        }
        Some(c.info)
    }

    /// Removes every Child SA of an IKE SA.
    pub fn remove_ike(&mut self, ike: SaId) -> Vec<ChildStatus> {
        let spis = self.by_ike.remove(&ike).unwrap_or_default();
        spis.into_iter().filter_map(|s| self.remove(s)).collect()
    }

    /// The Child SA for an inner packet to `dst`.
    fn route(&self, dst: IpAddr) -> Option<u32> {
        if let Some(s) = self.hosts.get(&dst) {
            return Some(*s);
        }
        // The longest prefix that has an SA; of several SAs with it, the newest.
        let (v6, a) = addr_bits(dst);
        for &(fam, len) in self.prefix_lens.keys().rev() {
            if fam != v6 {
                continue;
            }
            if let Some(spi) = self
                .prefixes
                .get(&(v6, len, network(v6, a, len)))
                .and_then(|l| l.last())
            {
                return Some(*spi);
            }
        }
        self.ranges
            .iter()
            .find(|(r, _)| in_range(r, dst))
            .map(|(_, s)| *s)
    }

    /// Seals an inner IP packet (from the TUN) into `out` (the ESP packet, starting with
    /// the SPI). Returns where it goes and which IKE SA it belongs to.
    pub fn seal(&mut self, inner: &[u8], out: &mut Vec<u8>) -> Result<(EspTx, SaId), Drop> {
        let Some((_, dst)) = ip_addrs(inner) else {
            return Err(Drop::NotIp);
        };
        let Some(spi) = self.route(dst) else {
            self.unmatched += 1;
            return Err(Drop::NoSa);
        };
        let Some(c) = self.children.get_mut(&spi) else {
            return Err(Drop::NoSa);
        };
        let nh = esp::tunnel_next_header(inner).ok_or(Drop::NotIp)?;
        match c.outbound.seal(inner, nh, out) {
            Ok(()) => {
                c.info.counters.out_packets += 1;
                c.info.counters.out_bytes += inner.len() as u64;
                Ok((
                    EspTx {
                        local: c.info.local,
                        remote: c.info.remote,
                        udp_encap: c.info.udp_encap,
                    },
                    c.ike,
                ))
            }
            Err(e) => {
                c.info.counters.out_dropped += 1;
                Err(Drop::Esp(e))
            }
        }
    }

    /// Seals an upper-layer payload on a transport-mode SA (e.g. a Binding Update).
    pub fn seal_transport(
        &mut self,
        inbound_spi: u32,
        payload: &[u8],
        next_header: u8,
        out: &mut Vec<u8>,
    ) -> Result<EspTx, Drop> {
        let c = self.children.get_mut(&inbound_spi).ok_or(Drop::NoSa)?;
        c.outbound.seal(payload, next_header, out).map_err(|e| {
            c.info.counters.out_dropped += 1;
            Drop::Esp(e)
        })?;
        c.info.counters.out_packets += 1;
        c.info.counters.out_bytes += payload.len() as u64;
        Ok(EspTx {
            local: c.info.local,
            remote: c.info.remote,
            udp_encap: c.info.udp_encap,
        })
    }

    /// Opens an ESP packet in place. Returns the payload range, the Next Header, the
    /// Child SA's mode and its IKE SA. In tunnel mode the inner source must be within the
    /// peer's selectors.
    pub fn open(
        &mut self,
        packet: &mut [u8],
    ) -> Result<(std::ops::Range<usize>, u8, Mode, SaId), Drop> {
        let Some(spi) = packet
            .get(..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        else {
            return Err(Drop::Esp(EspError::Truncated));
        };
        let Some(c) = self.children.get_mut(&spi) else {
            self.unmatched += 1;
            return Err(Drop::NoSa);
        };
        let o = match c.inbound.open(packet) {
            Ok(o) => o,
            Err(e) => {
                c.info.counters.in_dropped += 1;
                return Err(Drop::Esp(e));
            }
        };
        if c.info.mode == Mode::Tunnel {
            let inner = &packet[o.payload.clone()];
            let ok = ip_addrs(inner)
                .is_some_and(|(src, _)| c.info.remote_ts.iter().any(|r| in_range(r, src)));
            if !ok {
                c.info.counters.in_dropped += 1;
                return Err(Drop::Policy);
            }
        }
        c.info.counters.in_packets += 1;
        c.info.counters.in_bytes += o.payload.len() as u64;
        Ok((o.payload, o.next_header, c.info.mode, c.ike))
    }

    /// Status and counters of every Child SA.
    pub fn status(&self) -> Vec<ChildStatus> {
        let mut v: Vec<ChildStatus> = self.children.values().map(|c| c.info.clone()).collect();
        v.sort_by_key(|c| (c.ike, c.inbound_spi));
        v
    }

    /// Packets and bytes through the SAs of one IKE SA (both directions).
    pub fn ike_counters(&self, ike: SaId) -> ChildCounters {
        let mut t = ChildCounters::default();
        let spis = self
            .by_ike
            .get(&ike)
            .map(|v| v.as_slice())
            .unwrap_or_default();
        for c in spis.iter().filter_map(|s| self.children.get(s)) {
            let k = c.info.counters;
            t.in_packets += k.in_packets;
            t.in_bytes += k.in_bytes;
            t.out_packets += k.out_packets;
            t.out_bytes += k.out_bytes;
            t.in_dropped += k.in_dropped;
            t.out_dropped += k.out_dropped;
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobstrap_crypto::transform::Encr;
    use mobstrap_crypto::SecretVec;
    use mobstrap_proto::ikev2::{EspAlgs, EspKeys};
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn child(in_spi: u32, out_spi: u32, remote_ts: TsRange, swap: bool) -> ChildSaInfo {
        let k1 = EspKeys {
            encr: SecretVec::from_slice(&[1u8; 20]),
            integ: SecretVec::from_slice(&[]),
        };
        let k2 = EspKeys {
            encr: SecretVec::from_slice(&[2u8; 20]),
            integ: SecretVec::from_slice(&[]),
        };
        let (inbound, outbound) = if swap { (k2, k1) } else { (k1, k2) };
        ChildSaInfo {
            inbound_spi: in_spi,
            outbound_spi: out_spi,
            algs: EspAlgs {
                encr: Encr::AesGcm16_128,
                integ: None,
                esn: false,
                dh: None,
            },
            mode: Mode::Tunnel,
            inbound,
            outbound,
            local_ts: vec![TsRange::any_v4()],
            remote_ts: vec![remote_ts],
            local: "192.0.2.1:4500".parse().unwrap(),
            remote: "192.0.2.2:4500".parse().unwrap(),
            udp_encap: true,
        }
    }

    fn ipv4(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let mut p = vec![0u8; 28];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&28u16.to_be_bytes());
        p[9] = 17;
        p[12..16].copy_from_slice(&src);
        p[16..20].copy_from_slice(&dst);
        p
    }

    #[test]
    fn seal_route_open_policy_and_rekey_fallback() {
        let mut rng = StdRng::seed_from_u64(1);
        // "gateway" side: the peer is host 198.51.100.7
        let mut gw = DataPath::new(64);
        let vip = TsRange::host("198.51.100.7".parse().unwrap());
        gw.install(1, &child(0x1000, 0x2000, vip, false), &mut rng)
            .unwrap();
        // "UE" side: everything goes to the gateway
        let mut ue = DataPath::new(64);
        ue.install(9, &child(0x2000, 0x1000, TsRange::any_v4(), true), &mut rng)
            .unwrap();

        let mut out = Vec::new();
        let p = ipv4([198, 51, 100, 7], [203, 0, 113, 1]);
        let (tx, ike) = ue.seal(&p, &mut out).unwrap();
        assert_eq!((ike, tx.udp_encap), (9, true));
        let (range, nh, mode, ike) = gw.open(&mut out).unwrap();
        assert_eq!((nh, mode, ike), (4, Mode::Tunnel, 1));
        assert_eq!(&out[range], &p[..]);
        // replay
        let (_, _) = ue.seal(&p, &mut out).unwrap();
        let copy = out.clone();
        gw.open(&mut out).unwrap();
        let mut again = copy;
        assert!(matches!(
            gw.open(&mut again),
            Err(Drop::Esp(EspError::Replay(2)))
        ));
        // a spoofed inner source is refused after decryption
        let spoof = ipv4([198, 51, 100, 8], [203, 0, 113, 1]);
        ue.seal(&spoof, &mut out).unwrap();
        assert_eq!(gw.open(&mut out), Err(Drop::Policy));
        // gateway → UE by the VIP; nothing for other hosts
        let back = ipv4([203, 0, 113, 1], [198, 51, 100, 7]);
        gw.seal(&back, &mut out).unwrap();
        assert!(ue.open(&mut out).is_ok());
        assert_eq!(
            gw.seal(&ipv4([203, 0, 113, 1], [198, 51, 100, 9]), &mut out),
            Err(Drop::NoSa)
        );
        // rekey: the new SA takes the VIP; deleting it falls back to the old one
        gw.install(1, &child(0x1001, 0x2001, vip, false), &mut rng)
            .unwrap();
        assert_eq!(gw.route("198.51.100.7".parse().unwrap()), Some(0x1001));
        gw.remove(0x1001);
        assert_eq!(gw.route("198.51.100.7".parse().unwrap()), Some(0x1000));
        let st = gw.status();
        assert_eq!(st.len(), 1);
        assert_eq!(st[0].counters.in_packets, 2);
        assert_eq!(st[0].counters.in_dropped, 2);
        assert_eq!(st[0].counters.out_packets, 1);
        assert_eq!(gw.ike_counters(1).in_packets, 2);
        assert_eq!(gw.remove_ike(1).len(), 1);
        assert!(gw.is_empty());
        assert_eq!(gw.route("198.51.100.7".parse().unwrap()), None);
        assert!(gw.by_ike.is_empty() && gw.host_spis.is_empty());
    }

    #[test]
    fn prefix_selectors_route_by_longest_prefix_then_newest_sa() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut dp = DataPath::new(64);
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let p = |s: &str, len| TsRange::prefix(ip(s), len);
        // as_prefix: prefixes are recognised, other ranges are not
        assert_eq!(as_prefix(&TsRange::any_v6()), Some((true, 0, 0)));
        assert_eq!(as_prefix(&TsRange::any_v4()), Some((false, 0, 0)));
        assert_eq!(
            as_prefix(&p("10.1.0.0", 16)),
            Some((false, 16, 0x0a01_0000))
        );
        assert_eq!(
            as_prefix(&TsRange::range(ip("10.0.0.1"), ip("10.0.0.2"))),
            None
        );
        assert_eq!(
            as_prefix(&TsRange::range(ip("10.0.0.0"), ip("10.0.0.2"))),
            None
        );
        assert_eq!(as_prefix(&TsRange::range(ip("10.0.0.0"), ip("::1"))), None);

        dp.install(
            1,
            &child(0x11, 0x21, p("2001:db8:1::", 64), false),
            &mut rng,
        )
        .unwrap();
        dp.install(
            2,
            &child(0x12, 0x22, p("2001:db8:2::", 64), false),
            &mut rng,
        )
        .unwrap();
        dp.install(3, &child(0x13, 0x23, TsRange::any_v6(), false), &mut rng)
            .unwrap();
        let odd = TsRange::range(ip("192.0.2.7"), ip("192.0.2.9"));
        dp.install(4, &child(0x14, 0x24, odd, false), &mut rng)
            .unwrap();
        assert_eq!(dp.route(ip("2001:db8:1::5")), Some(0x11));
        assert_eq!(dp.route(ip("2001:db8:2:0:ffff::1")), Some(0x12));
        assert_eq!(dp.route(ip("2001:db8:3::1")), Some(0x13), "::/0");
        assert_eq!(dp.route(ip("192.0.2.8")), Some(0x14));
        assert_eq!(dp.route(ip("192.0.2.10")), None);
        // a rekey of UE 1: the new SA carries the prefix; removing it falls back
        dp.install(
            1,
            &child(0x31, 0x41, p("2001:db8:1::", 64), false),
            &mut rng,
        )
        .unwrap();
        assert_eq!(dp.route(ip("2001:db8:1::5")), Some(0x31));
        dp.remove(0x31);
        assert_eq!(dp.route(ip("2001:db8:1::5")), Some(0x11));
        // UE 1 gone: its prefix goes to the default
        dp.remove_ike(1);
        assert_eq!(dp.route(ip("2001:db8:1::5")), Some(0x13));
        for ike in 2..=4 {
            assert_eq!(dp.remove_ike(ike).len(), 1);
        }
        assert!(dp.is_empty() && dp.prefixes.is_empty() && dp.prefix_lens.is_empty());
        assert!(dp.ranges.is_empty());
        assert_eq!(dp.route(ip("2001:db8:2::1")), None);
    }

    #[test]
    fn many_ike_sas_install_and_remove_through_the_indexes() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut gw = DataPath::new(64);
        for i in 0..300u32 {
            let host = TsRange::host(std::net::Ipv4Addr::from(0x0a00_0000 + i).into());
            gw.install(
                u64::from(i),
                &child(0x1_0000 + i, 0x2_0000 + i, host, false),
                &mut rng,
            )
            .unwrap();
        }
        // one UE side with ranges: removal takes its range out
        gw.install(
            1000,
            &child(0x9999, 0x8888, TsRange::any_v4(), false),
            &mut rng,
        )
        .unwrap();
        assert_eq!(gw.route("203.0.113.1".parse().unwrap()), Some(0x9999));
        assert_eq!(gw.remove_ike(1000).len(), 1);
        assert_eq!(gw.route("203.0.113.1".parse().unwrap()), None);
        for i in (0..300u32).rev() {
            assert_eq!(gw.remove_ike(u64::from(i)).len(), 1, "IKE SA {i}");
            assert_eq!(
                gw.route(std::net::Ipv4Addr::from(0x0a00_0000 + i).into()),
                None
            );
        }
        assert!(gw.is_empty() && gw.hosts.is_empty() && gw.ranges.is_empty());
        assert!(gw.prefixes.is_empty() && gw.prefix_lens.is_empty());
        assert!(gw.by_ike.is_empty() && gw.host_spis.is_empty());
        assert!(gw.remove_ike(5).is_empty());
    }
}
