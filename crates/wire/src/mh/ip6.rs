//! The IPv6 headers Mobile IPv6 adds around a Mobility Header: the Home Address destination
//! option (RFC 6275 §6.3) and the type 2 routing header (§6.4), and the walk from an IPv6
//! packet to its Mobility Header that yields the addresses of the checksum pseudo-header.

use crate::codec::{Reader, Writer};
use crate::{Error, Result};

use super::P;

/// IPv6 extension header numbers walked here.
pub mod nh {
    pub const HOP_BY_HOP: u8 = 0;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const AUTH: u8 = 51;
    pub const DEST_OPTS: u8 = 60;
}

/// Home Address option type in a Destination Options header (RFC 6275 §6.3).
pub const HOME_ADDRESS_OPTION: u8 = 201;
/// Routing type of the type 2 routing header (RFC 6275 §6.4).
pub const ROUTING_TYPE_2: u8 = 2;

/// Appends a fixed IPv6 header (version 6, traffic class and flow label 0).
pub fn put_ipv6_header(
    out: &mut Vec<u8>,
    src: &[u8; 16],
    dst: &[u8; 16],
    payload_len: u16,
    next_header: u8,
    hop_limit: u8,
) {
    out.put_u32(0x6000_0000);
    out.put_u16(payload_len);
    out.put_u8(next_header);
    out.put_u8(hop_limit);
    out.put(src);
    out.put(dst);
}

/// Appends a Destination Options header holding only the Home Address option, with the PadN
/// that puts the option at 8n+6 as §6.3 requires (24 octets in all).
pub fn put_home_address_dest_opts(out: &mut Vec<u8>, next_header: u8, home: &[u8; 16]) {
    out.put_u8(next_header);
    out.put_u8(2); // (24 / 8) - 1
    out.put(&[1, 2, 0, 0]); // PadN, 2 octets of data
    out.put_u8(HOME_ADDRESS_OPTION);
    out.put_u8(16);
    out.put(home);
}

/// Appends a type 2 routing header carrying the home address (segments left 1; 24 octets).
pub fn put_type2_routing_header(out: &mut Vec<u8>, next_header: u8, home: &[u8; 16]) {
    out.put_u8(next_header);
    out.put_u8(2);
    out.put_u8(ROUTING_TYPE_2);
    out.put_u8(1);
    out.put_u32(0);
    out.put(home);
}

/// A Mobility Header found in an IPv6 packet, with its pseudo-header addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located<'a> {
    /// The IPv6 source address, or the home address of a Home Address option.
    pub src: [u8; 16],
    /// The IPv6 destination, or the home address of a type 2 routing header with segments left.
    pub dst: [u8; 16],
    /// The Mobility Header (to the end of the IPv6 payload).
    pub mh: &'a [u8],
    /// Whether a Home Address option was present.
    pub home_address_option: bool,
    /// Whether a type 2 routing header was present.
    pub type2_routing_header: bool,
}

/// Walks an IPv6 packet (no link layer) to its Mobility Header. Errors name the header that
/// does not fit, or `ipv6.next_header` if no Mobility Header is there.
pub fn locate(packet: &[u8]) -> Result<Located<'_>> {
    let mut r = Reader::new(P, packet);
    let vtf = r.u32("ipv6.version")?;
    if vtf >> 28 != 6 {
        return Err(Error::bad_value(P, "ipv6.version"));
    }
    let plen = r.u16("ipv6.payload_length")? as usize;
    let mut next = r.u8("ipv6.next_header")?;
    r.u8("ipv6.hop_limit")?;
    let mut src: [u8; 16] = r.array("ipv6.src")?;
    let mut dst: [u8; 16] = r.array("ipv6.dst")?;
    let mut r = r.sub(plen, "ipv6.payload_length")?;
    let (mut hao, mut rh2) = (false, false);
    for _ in 0..16 {
        match next {
            super::NEXT_HEADER => {
                return Ok(Located {
                    src,
                    dst,
                    mh: r.rest(),
                    home_address_option: hao,
                    type2_routing_header: rh2,
                })
            }
            nh::HOP_BY_HOP | nh::DEST_OPTS | nh::ROUTING => {
                let n = r.u8("ipv6.ext.next_header")?;
                let len = (r.u8("ipv6.ext.length")? as usize + 1) * 8 - 2;
                let mut body = r.sub(len, "ipv6.ext.length")?;
                if next == nh::DEST_OPTS {
                    while !body.is_empty() {
                        let t = body.u8("ipv6.dstopt.type")?;
                        if t == 0 {
                            continue;
                        }
                        let l = body.u8("ipv6.dstopt.length")? as usize;
                        let d = body.bytes(l, "ipv6.dstopt.length")?;
                        if t == HOME_ADDRESS_OPTION {
                            src = d
                                .try_into()
                                .map_err(|_| Error::bad_length(P, "ipv6.hao.length"))?;
                            hao = true;
                        }
                    }
                } else if next == nh::ROUTING {
                    let rtype = body.u8("ipv6.routing.type")?;
                    let left = body.u8("ipv6.routing.segments_left")?;
                    if rtype == ROUTING_TYPE_2 {
                        body.u32("ipv6.routing.reserved")?;
                        let home: [u8; 16] = body.array("ipv6.routing.home_address")?;
                        if left > 0 {
                            dst = home;
                        }
                        rh2 = true;
                    }
                }
                next = n;
            }
            nh::FRAGMENT => {
                next = r.u8("ipv6.fragment.next_header")?;
                r.skip(7, "ipv6.fragment")?;
            }
            nh::AUTH => {
                let n = r.u8("ipv6.ah.next_header")?;
                let len = (r.u8("ipv6.ah.length")? as usize + 2) * 4 - 2;
                r.skip(len, "ipv6.ah.length")?;
                next = n;
            }
            _ => return Err(Error::bad_value(P, "ipv6.next_header")),
        }
    }
    Err(Error::bad_value(P, "ipv6.next_header"))
}
