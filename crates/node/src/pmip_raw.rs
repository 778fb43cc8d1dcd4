//! PMIPv6 over IPv6 transport (RFC 5213), shared by the gateway (`gw`) and the MAG driver
//! (`mag`), on raw sockets bound to one IPv6 address of the node:
//!
//! * signalling: the Mobility Header straight over IPv6 (next header 135). The kernel builds
//!   the IPv6 header from the socket's address and the peer's, and on a raw `IPPROTO_MH`
//!   socket it also fills in the checksum on sending and checks it on receiving (Linux
//!   `raw(7)`: checksum offset 4 for this protocol), so what crosses this module is the bare
//!   Mobility Header, checksum field included.
//! * user plane: the mobile node's packet as the payload of an outer IPv6 header between the
//!   MAG and the LMA: IPv6-in-IPv6 (next header 41, RFC 2473) or IPv4-in-IPv6 (next header 4),
//!   the tunnel RFC 5213 §6.10 and RFC 5844 §5.2 describe for an IPv6 transport network.
//!
//! A peer reached this way is written as its address with port 0 in the engines' and
//! routes' `SocketAddr`s (the UDP transport of [`crate::pmip_tunnel`] always has a port).
//! Raw sockets need `CAP_NET_RAW`. Every raw socket of a protocol receives every packet of
//! that protocol for its address, so each side keeps only the message types it serves:
//! a gateway and a MAG sharing an address (`::1` in the tests) do not see each other's
//! messages as their own.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// IP protocol numbers used here.
pub const MH: i32 = 135;
const IPV6_IN_IPV6: i32 = 41;
const IPV4_IN_IPV6: i32 = 4;

/// Mobility Header types (RFC 6275 §6.1.2, RFC 5213 §8): what each side takes in.
pub const MH_PBU: u8 = 5;
pub const MH_PBA: u8 = 6;

/// The address form of a peer reached over raw IPv6.
pub fn peer(a: Ipv6Addr) -> SocketAddr {
    SocketAddr::new(IpAddr::V6(a), 0)
}

/// The IPv6 address of a peer of this transport (port 0); None for a UDP peer.
pub fn raw_peer(p: SocketAddr) -> Option<Ipv6Addr> {
    match p {
        SocketAddr::V6(a) if a.port() == 0 => Some(*a.ip()),
        _ => None,
    }
}

/// The Mobility Header type of a raw-socket payload.
pub fn mh_type(mh: &[u8]) -> Option<u8> {
    mh.get(2).copied()
}

/// One raw IPv6 socket of one protocol, bound to an address.
struct RawSock {
    fd: AsyncFd<Socket>,
}

impl RawSock {
    fn open(proto: i32, local: Ipv6Addr) -> io::Result<RawSock> {
        let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::from(proto)))?;
        s.set_nonblocking(true)?;
        s.bind(&SockAddr::from(SocketAddr::new(IpAddr::V6(local), 0)))?;
        // SAFETY: the socket2::Socket owns its descriptor and keeps it open for as long as
        // the AsyncFd (which owns the Socket) lives.
        let fd =
            unsafe { AsyncFd::register_with_interest(s, Interest::READABLE | Interest::WRITABLE) }
                .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(RawSock { fd })
    }

    /// One payload (an IPv6 raw socket delivers no IP header) and its source address.
    async fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, Ipv6Addr)> {
        loop {
            let mut g = self.fd.readable().await?;
            match g.try_io(|s| recv_from6(s.get_ref(), buf)) {
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }

    async fn send(&self, data: &[u8], to: Ipv6Addr) -> io::Result<()> {
        let to = SockAddr::from(SocketAddr::new(IpAddr::V6(to), 0));
        loop {
            let mut g = self.fd.writable().await?;
            match g.try_io(|s| s.get_ref().send_to(data, &to)) {
                Ok(r) => return r.map(|_| ()),
                Err(_would_block) => continue,
            }
        }
    }
}

fn recv_from6(s: &Socket, buf: &mut [u8]) -> io::Result<(usize, Ipv6Addr)> {
    let (n, name) = crate::ike::sys::recv_from(s.as_raw_fd(), buf)?;
    Ok((n, crate::ike::sys::in6_source(&name)))
}

/// The raw sockets of one node's IPv6 transport address.
pub struct RawTransport {
    local: Ipv6Addr,
    mh: RawSock,
    ip6: RawSock,
    ip4: RawSock,
}

impl RawTransport {
    /// Opens the three sockets (Mobility Header, IPv6-in-IPv6, IPv4-in-IPv6) on `local`.
    pub fn open(local: Ipv6Addr) -> io::Result<RawTransport> {
        Ok(RawTransport {
            local,
            mh: RawSock::open(MH, local)?,
            ip6: RawSock::open(IPV6_IN_IPV6, local)?,
            ip4: RawSock::open(IPV4_IN_IPV6, local)?,
        })
    }

    pub fn local(&self) -> Ipv6Addr {
        self.local
    }

    /// A Mobility Header and its sender.
    pub async fn recv_mh(&self, buf: &mut [u8]) -> io::Result<(usize, Ipv6Addr)> {
        self.mh.recv(buf).await
    }

    /// Sends a Mobility Header (the kernel fills in its checksum).
    pub async fn send_mh(&self, mh: &[u8], to: Ipv6Addr) -> io::Result<()> {
        self.mh.send(mh, to).await
    }

    /// A tunnelled packet (the inner packet) and the tunnel peer it came from.
    pub async fn recv_data(&self, buf: &mut [u8]) -> io::Result<(usize, Ipv6Addr)> {
        loop {
            let mut g = tokio::select! {
                g = self.ip6.fd.readable() => g?,
                g = self.ip4.fd.readable() => g?,
            };
            match g.try_io(|s| recv_from6(s.get_ref(), buf)) {
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }

    /// Tunnels a mobile node's IPv4 or IPv6 packet to `to`.
    pub async fn send_data(&self, packet: &[u8], to: Ipv6Addr) -> io::Result<()> {
        match packet.first().map(|b| b >> 4) {
            Some(6) => self.ip6.send(packet, to).await,
            Some(4) => self.ip4.send(packet, to).await,
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not an IPv4 or IPv6 packet",
            )),
        }
    }
}
