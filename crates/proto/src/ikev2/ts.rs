//! Traffic selectors as owned ranges, and the narrowing a responder does (RFC 7296 §2.9):
//! the result is the intersection of what the initiator proposed with the responder's
//! policy (and, for the initiator's side, the addresses the responder assigned).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mobstrap_wire::ikev2::TrafficSelector;

/// One traffic selector: IP protocol (0 = any), port range, address range (both ends the
/// same family).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TsRange {
    pub ip_protocol: u8,
    pub start_port: u16,
    pub end_port: u16,
    pub start: IpAddr,
    pub end: IpAddr,
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u32::from(v) as u128,
        IpAddr::V6(v) => u128::from(v),
    }
}

fn from_u128(v4: bool, x: u128) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(x as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(x))
    }
}

impl TsRange {
    pub fn any_v4() -> Self {
        Self::range(Ipv4Addr::UNSPECIFIED.into(), Ipv4Addr::BROADCAST.into())
    }
    pub fn any_v6() -> Self {
        Self::range(
            Ipv6Addr::UNSPECIFIED.into(),
            Ipv6Addr::from(u128::MAX).into(),
        )
    }
    /// All protocols and ports between two addresses.
    pub fn range(start: IpAddr, end: IpAddr) -> Self {
        TsRange {
            ip_protocol: 0,
            start_port: 0,
            end_port: 65535,
            start,
            end,
        }
    }
    /// One host.
    pub fn host(a: IpAddr) -> Self {
        Self::range(a, a)
    }
    /// A prefix, e.g. `10.0.0.0/8`.
    pub fn prefix(a: IpAddr, len: u8) -> Self {
        let (bits, v4) = match a {
            IpAddr::V4(_) => (32u32, true),
            IpAddr::V6(_) => (128u32, false),
        };
        let len = u32::from(len).min(bits);
        let host_bits = bits - len;
        let mask: u128 = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let x = to_u128(a);
        Self::range(from_u128(v4, x & !mask), from_u128(v4, x | mask))
    }

    pub fn is_v4(&self) -> bool {
        self.start.is_ipv4()
    }

    /// Whether a well-formed range (same family, start ≤ end).
    pub fn is_valid(&self) -> bool {
        self.start.is_ipv4() == self.end.is_ipv4()
            && to_u128(self.start) <= to_u128(self.end)
            && self.start_port <= self.end_port
    }

    /// The intersection, if not empty.
    pub fn intersect(&self, other: &TsRange) -> Option<TsRange> {
        if self.is_v4() != other.is_v4() || !self.is_valid() || !other.is_valid() {
            return None;
        }
        let ip_protocol = match (self.ip_protocol, other.ip_protocol) {
            (0, p) | (p, 0) => p,
            (a, b) if a == b => a,
            _ => return None,
        };
        let sp = self.start_port.max(other.start_port);
        let ep = self.end_port.min(other.end_port);
        let s = to_u128(self.start).max(to_u128(other.start));
        let e = to_u128(self.end).min(to_u128(other.end));
        if sp > ep || s > e {
            return None;
        }
        let v4 = self.is_v4();
        Some(TsRange {
            ip_protocol,
            start_port: sp,
            end_port: ep,
            start: from_u128(v4, s),
            end: from_u128(v4, e),
        })
    }

    /// Whether `self` includes `other` entirely.
    pub fn contains(&self, other: &TsRange) -> bool {
        self.intersect(other).as_ref() == Some(other)
    }

    pub fn to_wire(&self) -> TrafficSelector<'static> {
        match (self.start, self.end) {
            (IpAddr::V4(s), IpAddr::V4(e)) => TrafficSelector::Ipv4 {
                ip_protocol: self.ip_protocol,
                start_port: self.start_port,
                end_port: self.end_port,
                start: s,
                end: e,
            },
            (IpAddr::V6(s), IpAddr::V6(e)) => TrafficSelector::Ipv6 {
                ip_protocol: self.ip_protocol,
                start_port: self.start_port,
                end_port: self.end_port,
                start: s,
                end: e,
            },
            // Mixed families never reach the wire: callers build ranges with the helpers
            // above or from the wire; emit an empty IPv4 range as the least harmful value.
            _ => TrafficSelector::Ipv4 {
                ip_protocol: 0,
                start_port: 65535,
                end_port: 0,
                start: Ipv4Addr::BROADCAST,
                end: Ipv4Addr::UNSPECIFIED,
            },
        }
    }

    /// From the wire; `None` for selector types other than the IPv4/IPv6 ranges.
    pub fn from_wire(ts: &TrafficSelector<'_>) -> Option<TsRange> {
        match *ts {
            TrafficSelector::Ipv4 {
                ip_protocol,
                start_port,
                end_port,
                start,
                end,
            } => Some(TsRange {
                ip_protocol,
                start_port,
                end_port,
                start: start.into(),
                end: end.into(),
            }),
            TrafficSelector::Ipv6 {
                ip_protocol,
                start_port,
                end_port,
                start,
                end,
            } => Some(TsRange {
                ip_protocol,
                start_port,
                end_port,
                start: start.into(),
                end: end.into(),
            }),
            TrafficSelector::Other { .. } => None,
        }
    }
}

/// Narrows the proposed selectors to the policy: every non-empty pairwise intersection,
/// without duplicates. Empty means TS_UNACCEPTABLE.
pub fn narrow(proposed: &[TsRange], policy: &[TsRange]) -> Vec<TsRange> {
    let mut out: Vec<TsRange> = Vec::new();
    for p in proposed {
        for q in policy {
            if let Some(x) = p.intersect(q) {
                if !out.contains(&x) {
                    out.push(x);
                }
            }
        }
    }
    // Kept for the SA's life (twice per Child SA, in the SA and its data path): without
    // this, a first push leaves room for four ranges (160 octets) for the usual one or two.
    out.shrink_to_fit();
    out
}

/// Whether every range of `got` lies within some range of `allowed` (the initiator checks
/// the responder's narrowed selectors this way).
pub fn all_within(got: &[TsRange], allowed: &[TsRange]) -> bool {
    got.iter().all(|g| allowed.iter().any(|a| a.contains(g)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn prefix_and_intersection() {
        let net = TsRange::prefix(v4("10.1.2.3"), 16);
        assert_eq!(net.start, v4("10.1.0.0"));
        assert_eq!(net.end, v4("10.1.255.255"));
        let host = TsRange::host(v4("10.1.9.9"));
        assert_eq!(net.intersect(&host), Some(host));
        assert!(net.contains(&host));
        assert_eq!(
            net.intersect(&TsRange::host(v4("10.2.0.0"))),
            None,
            "disjoint"
        );
        assert_eq!(net.intersect(&TsRange::any_v6()), None, "families");
        let tcp = TsRange {
            ip_protocol: 6,
            start_port: 80,
            end_port: 90,
            ..TsRange::any_v4()
        };
        let udp = TsRange {
            ip_protocol: 17,
            ..tcp
        };
        assert_eq!(tcp.intersect(&udp), None);
        let x = tcp.intersect(&net).unwrap();
        assert_eq!((x.ip_protocol, x.start_port, x.end_port), (6, 80, 90));
        let all = TsRange::prefix(v4("0.0.0.0"), 0);
        assert_eq!(all, TsRange::any_v4());
        let v6 = TsRange::prefix("2001:db8::1".parse().unwrap(), 64);
        assert_eq!(
            v6.end,
            "2001:db8::ffff:ffff:ffff:ffff".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            TsRange::prefix(v4("1.2.3.4"), 40),
            TsRange::host(v4("1.2.3.4"))
        );
    }

    #[test]
    fn narrowing() {
        let proposed = [TsRange::any_v4(), TsRange::any_v6()];
        let policy = [TsRange::host(v4("192.0.2.7"))];
        assert_eq!(
            narrow(&proposed, &policy),
            vec![TsRange::host(v4("192.0.2.7"))]
        );
        assert!(narrow(&[TsRange::any_v6()], &policy).is_empty());
        assert!(all_within(&policy, &proposed));
        assert!(!all_within(&proposed, &policy));
        let r = TsRange::any_v4();
        assert_eq!(TsRange::from_wire(&r.to_wire()), Some(r));
        let r = TsRange::any_v6();
        assert_eq!(TsRange::from_wire(&r.to_wire()), Some(r));
    }
}
