//! Operating-system plumbing of the IKE node: raw ESP sockets (IP protocol 50, where the
//! process may open them) and the policy routes that send a virtual IP's traffic into the
//! TUN device.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::process::Command;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use mobstrap_proto::ikev2::TsRange;

/// A raw socket for ESP (IP protocol 50) of one address family.
pub struct RawEsp {
    fd: AsyncFd<Socket>,
    v6: bool,
}

impl RawEsp {
    pub fn open(v6: bool) -> io::Result<RawEsp> {
        let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
        let s = Socket::new(domain, Type::RAW, Some(Protocol::from(50)))?;
        s.set_nonblocking(true)?;
        // SAFETY: the socket2::Socket owns its descriptor and keeps it open for as long as
        // the AsyncFd (which owns the Socket) lives.
        let fd = unsafe { AsyncFd::register_with_interest(s, Interest::READABLE) }
            .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(RawEsp { fd, v6 })
    }

    pub async fn readable(&self) -> io::Result<()> {
        let mut g = self.fd.readable().await?;
        g.retain_ready();
        Ok(())
    }

    /// One ESP packet: (offset of the ESP header in `buf`, length, source address).
    /// IPv4 raw sockets deliver the IP header; IPv6 ones do not.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<(usize, usize, IpAddr)> {
        let (n, name) = self
            .fd
            .try_io(Interest::READABLE, |s| recv_from(s.as_raw_fd(), buf))?;
        let (off, src) = if self.v6 {
            (0, IpAddr::V6(in6_source(&name)))
        } else {
            let ihl = buf.first().map(|b| (b & 0x0f) as usize * 4).unwrap_or(0);
            if ihl < 20 || ihl > n {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "short IPv4 header",
                ));
            }
            let s: [u8; 4] = buf[12..16].try_into().unwrap_or([0; 4]);
            (ihl, IpAddr::V4(Ipv4Addr::from(s)))
        };
        Ok((off, n - off, src))
    }

    pub fn send(&self, data: &[u8], to: IpAddr) -> io::Result<usize> {
        let (st, len) = sockaddr(SocketAddr::new(to, 0));
        // SAFETY: data and st are live; len is st's length.
        let n = unsafe {
            libc::sendto(
                self.fd.get_ref().as_raw_fd(),
                data.as_ptr() as *const libc::c_void,
                data.len(),
                0,
                &st as *const _ as *const libc::sockaddr,
                len,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

/// `recvfrom(2)` on a datagram or raw socket: the length and the sender's address.
pub(crate) fn recv_from(
    fd: std::os::fd::RawFd,
    buf: &mut [u8],
) -> io::Result<(usize, libc::sockaddr_storage)> {
    // SAFETY: buf and name are live for the call; the lengths passed are theirs.
    let mut name: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let n = unsafe {
        libc::recvfrom(
            fd,
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
            0,
            &mut name as *mut _ as *mut libc::sockaddr,
            &mut len,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((n as usize, name))
}

/// The address of a [`recv_from`] on an `AF_INET6` socket.
pub(crate) fn in6_source(name: &libc::sockaddr_storage) -> Ipv6Addr {
    // SAFETY: an AF_INET6 socket fills a sockaddr_in6, which the storage is large enough for
    // and aligned for.
    let sin6 = unsafe { &*(name as *const _ as *const libc::sockaddr_in6) };
    Ipv6Addr::from(sin6.sin6_addr.s6_addr)
}

fn sockaddr(a: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    let s2: socket2::SockAddr = a.into();
    // SAFETY: copies a valid sockaddr of s2.len() bytes into a zeroed storage.
    let mut st: libc::sockaddr_storage = unsafe { zeroed() };
    unsafe {
        std::ptr::copy_nonoverlapping(
            s2.as_ptr() as *const u8,
            &mut st as *mut _ as *mut u8,
            s2.len() as usize,
        );
    }
    (st, s2.len())
}

/// The CIDR prefixes that exactly cover an address range (for routes).
pub fn range_to_prefixes(r: &TsRange) -> Vec<(IpAddr, u8)> {
    fn cover(mut s: u128, e: u128, bits: u32, out: &mut Vec<(u128, u8)>) {
        loop {
            if s > e {
                return;
            }
            // largest block starting at s within [s, e]
            let mut size = if s == 0 {
                bits
            } else {
                s.trailing_zeros().min(bits)
            };
            while size > 0 {
                let span = if size >= 128 {
                    u128::MAX
                } else {
                    (1u128 << size) - 1
                };
                if s.checked_add(span).is_some_and(|end| end <= e) {
                    break;
                }
                size -= 1;
            }
            out.push((s, (bits - size) as u8));
            let span = if size >= 128 {
                u128::MAX
            } else {
                1u128 << size
            };
            match s.checked_add(span) {
                Some(n) if size < 128 => s = n,
                _ => return,
            }
            if s == 0 || (bits == 32 && s > u32::MAX as u128) {
                return;
            }
        }
    }
    let mut out = Vec::new();
    match (r.start, r.end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => {
            let mut v = Vec::new();
            cover(u32::from(s) as u128, u32::from(e) as u128, 32, &mut v);
            out.extend(
                v.into_iter()
                    .map(|(a, l)| (IpAddr::V4(Ipv4Addr::from(a as u32)), l)),
            );
        }
        (IpAddr::V6(s), IpAddr::V6(e)) => {
            let mut v = Vec::new();
            cover(u128::from(s), u128::from(e), 128, &mut v);
            out.extend(
                v.into_iter()
                    .map(|(a, l)| (IpAddr::V6(Ipv6Addr::from(a)), l)),
            );
        }
        _ => {}
    }
    out
}

fn ip(args: &[String]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Policy routing for a virtual IP, as strongSwan does with its table 220: traffic from
/// `vip` to the peer's selectors goes into the TUN device `dev`.
pub fn add_vip_routes(dev: &str, vip: IpAddr, remote_ts: &[TsRange], table: u32) -> io::Result<()> {
    let fam = if vip.is_ipv4() { "-4" } else { "-6" };
    let t = table.to_string();
    for r in remote_ts
        .iter()
        .filter(|r| r.start.is_ipv4() == vip.is_ipv4())
    {
        for (a, l) in range_to_prefixes(r) {
            ip(&[
                fam.into(),
                "route".into(),
                "replace".into(),
                format!("{a}/{l}"),
                "dev".into(),
                dev.into(),
                "src".into(),
                vip.to_string(),
                "table".into(),
                t.clone(),
            ])?;
        }
    }
    let _ = del_rule(vip, table);
    ip(&[
        fam.into(),
        "rule".into(),
        "add".into(),
        "from".into(),
        vip.to_string(),
        "lookup".into(),
        t,
        "pref".into(),
        table.to_string(),
    ])
}

fn del_rule(vip: IpAddr, table: u32) -> io::Result<()> {
    let fam = if vip.is_ipv4() { "-4" } else { "-6" };
    ip(&[
        fam.into(),
        "rule".into(),
        "del".into(),
        "from".into(),
        vip.to_string(),
        "lookup".into(),
        table.to_string(),
    ])
}

/// Undoes [`add_vip_routes`] (the routes go with the address; the rule is removed).
pub fn del_vip_routes(vip: IpAddr, table: u32) {
    let _ = del_rule(vip, table);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_become_prefixes() {
        let p = |s: &str, e: &str| {
            range_to_prefixes(&TsRange::range(s.parse().unwrap(), e.parse().unwrap()))
                .into_iter()
                .map(|(a, l)| format!("{a}/{l}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(p("0.0.0.0", "255.255.255.255"), ["0.0.0.0/0"]);
        assert_eq!(p("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), ["::/0"]);
        assert_eq!(p("10.0.0.1", "10.0.0.1"), ["10.0.0.1/32"]);
        assert_eq!(
            p("10.0.0.1", "10.0.0.6"),
            ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
        );
        assert_eq!(p("2001:db8::", "2001:db8::ff"), ["2001:db8::/120"]);
    }
}
