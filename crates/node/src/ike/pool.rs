//! An in-memory address pool for CFG_REPLY (a responder that assigns virtual IPs itself,
//! as `mobstrap ike` does; the ePDG gets its addresses from the gateway instead). IPv4
//! addresses from a prefix, IPv6 addresses (/128) from a prefix; the network and broadcast
//! addresses of an IPv4 prefix shorter than /31 and any excluded address are never handed
//! out. A lease is held by an owner key (the SA) until released.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IP prefix (`198.51.100.0/24`, `2001:db8:100::/120`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl std::str::FromStr for Prefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("'{s}' is not an address or prefix"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            Some(l) => l
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| format!("'{s}': prefix length must be 0..={max}"))?,
            None => max,
        };
        Ok(Prefix { addr, len })
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl Prefix {
    fn bits(&self) -> u32 {
        if self.addr.is_ipv4() {
            32
        } else {
            128
        }
    }
    fn base(&self) -> u128 {
        let a = match self.addr {
            IpAddr::V4(a) => u32::from(a) as u128,
            IpAddr::V6(a) => u128::from(a),
        };
        let host = self.bits() - self.len as u32;
        if host >= 128 {
            0
        } else {
            a & !((1u128 << host) - 1)
        }
    }
    /// Number of addresses (saturating).
    fn size(&self) -> u128 {
        let host = self.bits() - self.len as u32;
        if host >= 128 {
            u128::MAX
        } else {
            1u128 << host
        }
    }
    pub fn contains(&self, a: IpAddr) -> bool {
        if a.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        let x = match a {
            IpAddr::V4(a) => u32::from(a) as u128,
            IpAddr::V6(a) => u128::from(a),
        };
        x >= self.base() && x - self.base() < self.size()
    }
    fn at(&self, off: u128) -> IpAddr {
        let x = self.base() + off;
        if self.addr.is_ipv4() {
            IpAddr::V4(Ipv4Addr::from(x as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(x))
        }
    }
}

/// One family's range.
#[derive(Debug)]
struct Range {
    prefix: Prefix,
    first: u128,
    last: u128,
    next: u128,
    used: BTreeSet<u128>,
}

impl Range {
    fn new(prefix: Prefix, exclude: &[IpAddr]) -> Range {
        let size = prefix.size().min(1 << 24);
        let (first, last) = if prefix.addr.is_ipv4() && prefix.len < 31 {
            (1, size - 2)
        } else if prefix.addr.is_ipv6() && prefix.len < 127 {
            (1, size - 1) // the subnet-router anycast address (RFC 4291 §2.6.1) is skipped
        } else {
            (0, size - 1)
        };
        let mut used = BTreeSet::new();
        for a in exclude.iter().filter(|a| prefix.contains(**a)) {
            let x = match a {
                IpAddr::V4(a) => u32::from(*a) as u128,
                IpAddr::V6(a) => u128::from(*a),
            };
            used.insert(x - prefix.base());
        }
        Range {
            prefix,
            first,
            last,
            next: first,
            used,
        }
    }
    fn take(&mut self) -> Option<u128> {
        let span = self.last + 1 - self.first;
        for i in 0..span {
            let off = self.first + (self.next - self.first + i) % span;
            if self.used.insert(off) {
                self.next = if off == self.last {
                    self.first
                } else {
                    off + 1
                };
                return Some(off);
            }
        }
        None
    }
}

/// The pool: optional IPv4 and IPv6 ranges and the leases by owner.
#[derive(Debug, Default)]
pub struct AddressPool {
    v4: Option<Range>,
    v6: Option<Range>,
    leases: HashMap<u64, (Option<Ipv4Addr>, Option<Ipv6Addr>)>,
}

impl AddressPool {
    pub fn new(v4: Option<Prefix>, v6: Option<Prefix>, exclude: &[IpAddr]) -> Self {
        AddressPool {
            v4: v4.map(|p| Range::new(p, exclude)),
            v6: v6.map(|p| Range::new(p, exclude)),
            leases: HashMap::new(),
        }
    }

    /// Leases what is asked for (and available) to `owner`; an owner asking again gets its
    /// lease back.
    pub fn lease(
        &mut self,
        owner: u64,
        want4: bool,
        want6: bool,
    ) -> (Option<Ipv4Addr>, Option<Ipv6Addr>) {
        if let Some(l) = self.leases.get(&owner) {
            return *l;
        }
        let a4 = if want4 {
            self.v4.as_mut().and_then(|r| {
                r.take().and_then(|o| match r.prefix.at(o) {
                    IpAddr::V4(a) => Some(a),
                    _ => None,
                })
            })
        } else {
            None
        };
        let a6 = if want6 {
            self.v6.as_mut().and_then(|r| {
                r.take().and_then(|o| match r.prefix.at(o) {
                    IpAddr::V6(a) => Some(a),
                    _ => None,
                })
            })
        } else {
            None
        };
        if a4.is_some() || a6.is_some() {
            self.leases.insert(owner, (a4, a6));
        }
        (a4, a6)
    }

    pub fn release(&mut self, owner: u64) {
        let Some((a4, a6)) = self.leases.remove(&owner) else {
            return;
        };
        if let (Some(a), Some(r)) = (a4, self.v4.as_mut()) {
            r.used.remove(&(u32::from(a) as u128 - r.prefix.base()));
        }
        if let (Some(a), Some(r)) = (a6, self.v6.as_mut()) {
            r.used.remove(&(u128::from(a) - r.prefix.base()));
        }
    }

    pub fn leased(&self) -> usize {
        self.leases.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_skip_network_broadcast_and_excluded_and_come_back() {
        let mut p = AddressPool::new(
            Some("192.0.2.0/30".parse().unwrap()),
            Some("2001:db8::/126".parse().unwrap()),
            &["2001:db8::1".parse().unwrap()],
        );
        assert_eq!(
            p.lease(1, true, true),
            (
                Some("192.0.2.1".parse().unwrap()),
                Some("2001:db8::2".parse().unwrap())
            )
        );
        assert_eq!(p.lease(1, true, true).0, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(
            p.lease(2, true, true),
            (
                Some("192.0.2.2".parse().unwrap()),
                Some("2001:db8::3".parse().unwrap())
            )
        );
        assert_eq!(p.lease(3, true, true), (None, None), "exhausted");
        p.release(1);
        assert_eq!(
            p.lease(3, true, false).0,
            Some("192.0.2.1".parse().unwrap())
        );
        assert_eq!(p.leased(), 2);
        assert!("10.0.0.0/33".parse::<Prefix>().is_err());
        assert!("x/3".parse::<Prefix>().is_err());
    }
}
