//! UDP sockets that know which local address a datagram arrived on (IP_PKTINFO /
//! IPV6_RECVPKTINFO) and send from a chosen local address. Behind a wildcard bind this is
//! what feeds the real local address into IKEv2 NAT detection (RFC 7296 §2.23), and what
//! makes answers leave from the address the peer talked to.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// One bound UDP socket.
#[derive(Debug)]
pub struct PktSocket {
    sock: UdpSocket,
    local: SocketAddr,
}

/// A received datagram's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    pub len: usize,
    pub remote: SocketAddr,
    /// The address the datagram was sent to (with our port).
    pub local: SocketAddr,
}

impl PktSocket {
    /// Binds `addr` (port 0 picks one). IPv6 sockets are IPv6-only, so `0.0.0.0` and `::`
    /// can both be bound. Buffers are enlarged (best effort) for bursts of IKE_SA_INITs.
    pub fn bind(addr: SocketAddr) -> io::Result<PktSocket> {
        let domain = Domain::for_address(addr);
        let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
        if addr.is_ipv6() {
            s.set_only_v6(true)?;
        }
        s.set_reuse_address(true)?;
        let _ = s.set_recv_buffer_size(4 << 20);
        let _ = s.set_send_buffer_size(4 << 20);
        let on: libc::c_int = 1;
        let fd = s.as_raw_fd();
        let (level, opt) = if addr.is_ipv6() {
            (libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO)
        } else {
            (libc::IPPROTO_IP, libc::IP_PKTINFO)
        };
        // SAFETY: fd is a valid socket; the option value is a c_int that outlives the call.
        let r = unsafe {
            libc::setsockopt(
                fd,
                level,
                opt,
                &on as *const libc::c_int as *const libc::c_void,
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        s.set_nonblocking(true)?;
        s.bind(&addr.into())?;
        let std: std::net::UdpSocket = s.into();
        let sock = UdpSocket::from_std(std)?;
        let local = sock.local_addr()?;
        Ok(PktSocket { sock, local })
    }

    /// The bound address (possibly a wildcard).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn is_wildcard(&self) -> bool {
        self.local.ip().is_unspecified()
    }

    /// Readiness for reading, for a driver polling several sockets at once.
    pub fn poll_recv_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        self.sock.poll_recv_ready(cx)
    }

    /// Waits until a datagram can be read.
    pub async fn readable(&self) -> io::Result<()> {
        self.sock.readable().await
    }

    /// Reads one datagram without waiting (`WouldBlock` when none is queued).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta> {
        let fd = self.sock.as_raw_fd();
        let port = self.local.port();
        let bound = self.local.ip();
        self.sock
            .try_io(Interest::READABLE, || recvmsg_pktinfo(fd, buf, port, bound))
    }

    /// Sends `data` to `to` from `from` (used as the source address when the socket is a
    /// wildcard; ignored otherwise). Waits for buffer space if the socket is full.
    pub async fn send(&self, data: &[u8], to: SocketAddr, from: IpAddr) -> io::Result<usize> {
        let fd = self.sock.as_raw_fd();
        let src = if self.is_wildcard() && !from.is_unspecified() {
            Some(from)
        } else {
            None
        };
        loop {
            match self
                .sock
                .try_io(Interest::WRITABLE, || sendmsg_pktinfo(fd, data, to, src))
            {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.sock.writable().await?;
                }
                r => return r,
            }
        }
    }
}

fn to_sockaddr(a: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    let s2: socket2::SockAddr = a.into();
    // SAFETY: SockAddr holds a valid sockaddr_storage of the stated length.
    let mut st: libc::sockaddr_storage = unsafe { zeroed() };
    let len = s2.len();
    unsafe {
        std::ptr::copy_nonoverlapping(
            s2.as_ptr() as *const u8,
            &mut st as *mut libc::sockaddr_storage as *mut u8,
            len as usize,
        );
    }
    (st, len)
}

fn from_sockaddr(st: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match st.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let sin = unsafe { &*(st as *const _ as *const libc::sockaddr_in) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let sin6 = unsafe { &*(st as *const _ as *const libc::sockaddr_in6) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

const CMSG_SPACE: usize = 128;

fn recvmsg_pktinfo(fd: RawFd, buf: &mut [u8], port: u16, bound: IpAddr) -> io::Result<RecvMeta> {
    // SAFETY: every pointer handed to recvmsg points into live locals of the right size;
    // control messages are walked with the libc CMSG macros within msg_controllen.
    unsafe {
        let mut name: libc::sockaddr_storage = zeroed();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        let mut control = [0u64; CMSG_SPACE / 8];
        let mut msg: libc::msghdr = zeroed();
        msg.msg_name = &mut name as *mut _ as *mut libc::c_void;
        msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = CMSG_SPACE as _;
        let n = libc::recvmsg(fd, &mut msg, 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let remote = from_sockaddr(&name)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no source address"))?;
        let mut local_ip = bound;
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let h = &*c;
            if h.cmsg_level == libc::IPPROTO_IP && h.cmsg_type == libc::IP_PKTINFO {
                let pi = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::in_pktinfo);
                local_ip = IpAddr::V4(Ipv4Addr::from(u32::from_be(pi.ipi_addr.s_addr)));
            } else if h.cmsg_level == libc::IPPROTO_IPV6 && h.cmsg_type == libc::IPV6_PKTINFO {
                let pi = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::in6_pktinfo);
                local_ip = IpAddr::V6(Ipv6Addr::from(pi.ipi6_addr.s6_addr));
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        Ok(RecvMeta {
            len: n as usize,
            remote,
            local: SocketAddr::new(local_ip, port),
        })
    }
}

fn sendmsg_pktinfo(
    fd: RawFd,
    data: &[u8],
    to: SocketAddr,
    src: Option<IpAddr>,
) -> io::Result<usize> {
    let (mut name, namelen) = to_sockaddr(to);
    // SAFETY: as in recvmsg_pktinfo; the control buffer is large enough for one pktinfo.
    unsafe {
        let mut iov = libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        };
        let mut control = [0u64; CMSG_SPACE / 8];
        let mut msg: libc::msghdr = zeroed();
        msg.msg_name = &mut name as *mut _ as *mut libc::c_void;
        msg.msg_namelen = namelen;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        match src {
            Some(IpAddr::V4(a)) if to.is_ipv4() => {
                let len = size_of::<libc::in_pktinfo>() as u32;
                msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
                msg.msg_controllen = libc::CMSG_SPACE(len) as _;
                let c = libc::CMSG_FIRSTHDR(&msg);
                (*c).cmsg_level = libc::IPPROTO_IP;
                (*c).cmsg_type = libc::IP_PKTINFO;
                (*c).cmsg_len = libc::CMSG_LEN(len) as _;
                let mut pi: libc::in_pktinfo = zeroed();
                pi.ipi_spec_dst.s_addr = u32::from(a).to_be();
                std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut libc::in_pktinfo, pi);
            }
            Some(IpAddr::V6(a)) if to.is_ipv6() => {
                let len = size_of::<libc::in6_pktinfo>() as u32;
                msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
                msg.msg_controllen = libc::CMSG_SPACE(len) as _;
                let c = libc::CMSG_FIRSTHDR(&msg);
                (*c).cmsg_level = libc::IPPROTO_IPV6;
                (*c).cmsg_type = libc::IPV6_PKTINFO;
                (*c).cmsg_len = libc::CMSG_LEN(len) as _;
                let mut pi: libc::in6_pktinfo = zeroed();
                pi.ipi6_addr.s6_addr = a.octets();
                std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut libc::in6_pktinfo, pi);
            }
            _ => {}
        }
        let n = libc::sendmsg(fd, &msg, 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

/// The local address the kernel would use to reach `remote` (a connected UDP socket's
/// name; nothing is sent).
pub fn route_source(remote: SocketAddr) -> io::Result<IpAddr> {
    let bind: SocketAddr = if remote.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let s = std::net::UdpSocket::bind(bind)?;
    s.connect(remote)?;
    Ok(s.local_addr()?.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wildcard_socket_reports_the_destination_address_and_answers_from_it() {
        let a = PktSocket::bind("0.0.0.0:0".parse().unwrap()).unwrap();
        let b = PktSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let to = SocketAddr::new("127.0.0.2".parse().unwrap(), a.local_addr().port());
        b.send(b"hello", to, "127.0.0.1".parse().unwrap())
            .await
            .unwrap();
        a.readable().await.unwrap();
        let mut buf = [0u8; 64];
        let m = loop {
            match a.try_recv(&mut buf) {
                Ok(m) => break m,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => a.readable().await.unwrap(),
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(&buf[..m.len], b"hello");
        assert_eq!(m.local, to, "the real local address, not 0.0.0.0");
        assert_eq!(m.remote, b.local_addr());
        // the answer leaves from 127.0.0.2
        a.send(b"back", m.remote, m.local.ip()).await.unwrap();
        b.readable().await.unwrap();
        let m2 = loop {
            match b.try_recv(&mut buf) {
                Ok(m) => break m,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => b.readable().await.unwrap(),
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(m2.remote, to);
        assert_eq!(
            route_source("127.0.0.9:500".parse().unwrap()).unwrap(),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
    }
}
