//! Proxy Mobile IPv6 (RFC 5213, IPv4 support RFC 5844, APN RFC 5149, vendor option RFC 5094):
//! the MAG's binding update list ([`mag`]), the LMA's binding cache ([`lma`]) and the visited
//! gateway's relay toward a home gateway (seed 002 roaming, inside [`lma`]).
//!
//! Sans-I/O like every engine here: Mobility Header bytes in (`handle_*`), Mobility Header
//! bytes out ([`Transmit`], checksum left 0: the node knows the addresses the checksum covers
//! and fills it when it wraps the message for RFC 5844 UDP or a raw IPv6 socket), timers via
//! `poll_timeout` / `handle_timeout`, results via `poll_event`. Time is an `Instant` for
//! timers; the Timestamp option (RFC 5213 §8.8, 48-bit seconds since 1970 + 16-bit fraction)
//! is derived from a wall-clock origin given at construction, so tests run on a virtual clock.
//! Address allocation and AAA authorisation are asked of the node ([`lma::LmaEvent::Authorize`])
//! and answered with [`lma::Lma::complete`], like the EAP server's `Need` pattern.

pub mod lma;
pub mod mag;

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mobstrap_wire::mh::{self, MobOption};

/// PBA status codes (RFC 6275 §6.1.8, RFC 5213 §8.9, RFC 5149 §5, RFC 5844 §6.2; numbers as in
/// the IANA registry).
pub mod status {
    pub const ACCEPTED: u8 = 0;
    pub const REASON_UNSPECIFIED: u8 = 128;
    pub const ADMINISTRATIVELY_PROHIBITED: u8 = 129;
    pub const INSUFFICIENT_RESOURCES: u8 = 130;
    pub const HOME_REGISTRATION_NOT_SUPPORTED: u8 = 131;
    pub const SEQUENCE_OUT_OF_WINDOW: u8 = 135;
    /// RFC 5149: the Service Selection (APN) is not authorised for this user.
    pub const SERVICE_AUTHORIZATION_FAILED: u8 = 151;
    pub const PROXY_REG_NOT_ENABLED: u8 = 152;
    pub const NOT_LMA_FOR_THIS_MOBILE_NODE: u8 = 153;
    pub const MAG_NOT_AUTHORIZED_FOR_PROXY_REG: u8 = 154;
    pub const NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX: u8 = 155;
    pub const TIMESTAMP_MISMATCH: u8 = 156;
    pub const TIMESTAMP_LOWER_THAN_PREV_ACCEPTED: u8 = 157;
    pub const MISSING_HOME_NETWORK_PREFIX_OPTION: u8 = 158;
    pub const BCE_PBU_PREFIX_SET_DO_NOT_MATCH: u8 = 159;
    pub const MISSING_MN_IDENTIFIER_OPTION: u8 = 160;
    pub const MISSING_HANDOFF_INDICATOR_OPTION: u8 = 161;
    pub const MISSING_ACCESS_TECH_TYPE_OPTION: u8 = 162;
    pub const NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE: u8 = 170;
    pub const NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS: u8 = 171;
    pub const NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE: u8 = 172;
    pub const MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED: u8 = 173;

    /// The registry name of a status (for logs and errors).
    pub fn name(v: u8) -> &'static str {
        match v {
            170 => "NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE",
            171 => "NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS",
            172 => "NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE",
            173 => "MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED",
            _ => mobstrap_wire::mh::ba_status_name(v),
        }
    }
}

/// IPv4 Home Address Reply status codes (RFC 5844 §3.1.2).
pub mod v4_reply {
    pub const SUCCESS: u8 = 0;
    pub const FAILURE_UNSPECIFIED: u8 = 128;
    pub const ADMINISTRATIVELY_PROHIBITED: u8 = 129;
    pub const INCORRECT_IPV4_HOME_ADDRESS: u8 = 130;
    pub const INVALID_IPV4_ADDRESS: u8 = 131;
    pub const DYNAMIC_ASSIGNMENT_NOT_AVAILABLE: u8 = 132;
}

/// Handoff Indicator values (RFC 5213 §8.4).
pub mod hi {
    pub const NEW_INTERFACE: u8 = 1;
    pub const DIFFERENT_INTERFACE: u8 = 2;
    pub const BETWEEN_MAGS: u8 = 3;
    pub const UNKNOWN: u8 = 4;
    pub const NOT_CHANGED: u8 = 5;
}

/// Access Technology Type "IEEE 802.11a/b/g" (IANA value 4): what an ePDG on untrusted WLAN
/// sends (docs/gw.md explains the choice).
pub const ATT_WLAN: u8 = 4;

/// SMI PEN used by mobstrap's vendor-specific mobility option (RFC 5612 documentation PEN).
pub const MOBSTRAP_VENDOR_ID: u32 = 32473;
/// Vendor option sub-type: the home gateway address of the s2b roaming chain.
pub const VSO_HOME_GATEWAY: u8 = 1;

/// A mobility session: the MN-ID NAI and the APN (Service Selection; empty when absent).
/// Shared strings: a node keys several tables and timers by it, and a clone is two
/// reference counts, not two allocations.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MnKey {
    pub nai: std::sync::Arc<str>,
    pub apn: std::sync::Arc<str>,
}

impl MnKey {
    pub fn new(nai: impl Into<std::sync::Arc<str>>, apn: impl Into<std::sync::Arc<str>>) -> Self {
        MnKey {
            nai: nai.into(),
            apn: apn.into(),
        }
    }
}

impl std::fmt::Display for MnKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.apn.is_empty() {
            f.write_str(&self.nai)
        } else {
            write!(f, "{}/{}", self.nai, self.apn)
        }
    }
}

/// A Mobility Header to send to `peer` (checksum 0; see the module comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub peer: SocketAddr,
    pub mh: Vec<u8>,
}

/// Why a received message was not processed (one log line; the engine stays as it was).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("malformed mobility header: {0}")]
    Malformed(String),
    #[error("unexpected message: {0}")]
    Unexpected(&'static str),
    #[error("no matching binding update (sequence {0})")]
    NoMatch(u16),
}

/// Maps an `Instant` to the RFC 5213 §8.8 timestamp through a wall-clock origin.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Instant,
    wall: Duration,
}

impl Clock {
    /// `origin` and `wall` are the same moment (the node passes `Instant::now()` and
    /// `SystemTime::now()`).
    pub fn new(origin: Instant, wall: SystemTime) -> Self {
        Clock {
            origin,
            wall: wall.duration_since(UNIX_EPOCH).unwrap_or_default(),
        }
    }

    /// Seconds since 1970 as 48.16 fixed point.
    pub fn timestamp(&self, now: Instant) -> u64 {
        to_timestamp(self.wall + now.saturating_duration_since(self.origin))
    }
}

/// A duration since 1970 as the RFC 5213 §8.8 48.16 fixed-point value.
pub fn to_timestamp(d: Duration) -> u64 {
    let secs = d.as_secs() & 0xffff_ffff_ffff;
    let frac = ((d.subsec_nanos() as u64) << 16) / 1_000_000_000;
    (secs << 16) | frac
}

/// The difference `a - b` of two timestamps, in signed nanoseconds (saturating).
pub fn timestamp_diff_ns(a: u64, b: u64) -> i128 {
    ((a as i128) - (b as i128)) * 1_000_000_000 / 65536
}

/// An IPv6 prefix as (address, length).
pub type Prefix6 = (Ipv6Addr, u8);

/// A parsed Proxy Binding Update: the options this implementation acts on, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pbu {
    pub seq: u16,
    pub flags: u16,
    /// In seconds.
    pub lifetime: u32,
    /// NAI of the Mobile Node Identifier option (subtype 1).
    pub nai: Option<String>,
    pub apn: Option<String>,
    /// Home Network Prefix option (`::/0` asks for one).
    pub hnp: Option<Prefix6>,
    /// IPv4 Home Address Request (`0.0.0.0` asks for one): (address, prefix length).
    pub v4_request: Option<(Ipv4Addr, u8)>,
    pub hi: Option<u8>,
    pub att: Option<u8>,
    pub timestamp: Option<u64>,
    /// mobstrap vendor option sub-type 1.
    pub home_gw: Option<IpAddr>,
    /// More than one IPv4 Home Address Request option.
    pub multiple_v4: bool,
}

/// A parsed Proxy Binding Acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pba {
    pub status: u8,
    pub flags: u8,
    pub seq: u16,
    /// In seconds.
    pub lifetime: u32,
    pub nai: Option<String>,
    pub apn: Option<String>,
    pub hnp: Option<Prefix6>,
    /// IPv4 Home Address Reply: (status, address, prefix length).
    pub v4_reply: Option<(u8, Ipv4Addr, u8)>,
    pub v4_router: Option<Ipv4Addr>,
    pub hi: Option<u8>,
    pub att: Option<u8>,
    pub timestamp: Option<u64>,
}

fn utf8(field: &str, b: &[u8]) -> Result<String, InputError> {
    std::str::from_utf8(b)
        .map(str::to_owned)
        .map_err(|_| InputError::Malformed(format!("{field}: not UTF-8")))
}

fn nai_of(o: MobOption<'_>) -> Result<Option<String>, InputError> {
    match o {
        MobOption::MobileNodeIdentifier {
            subtype: 1,
            identifier,
        } => utf8("option.mn_id", identifier).map(Some),
        _ => Ok(None),
    }
}

/// Parses a Mobility Header that must be a Proxy Binding Update.
pub fn parse_pbu(bytes: &[u8]) -> Result<Pbu, InputError> {
    let r = mh::Repr::parse(bytes).map_err(|e| InputError::Malformed(e.to_string()))?;
    let mh::Message::BindingUpdate(bu) = r.message else {
        return Err(InputError::Unexpected("not a binding update"));
    };
    let mut p = Pbu {
        seq: bu.seq,
        flags: bu.flags,
        lifetime: bu.lifetime as u32 * 4,
        nai: None,
        apn: None,
        hnp: None,
        v4_request: None,
        hi: None,
        att: None,
        timestamp: None,
        home_gw: None,
        multiple_v4: false,
    };
    for o in r.options.iter() {
        match o {
            MobOption::MobileNodeIdentifier { .. } if p.nai.is_none() => p.nai = nai_of(o)?,
            MobOption::ServiceSelection(s) => p.apn = Some(utf8("option.service_selection", s)?),
            MobOption::HomeNetworkPrefix {
                prefix_len, prefix, ..
            } if p.hnp.is_none() => p.hnp = Some((Ipv6Addr::from(prefix), prefix_len)),
            MobOption::Ipv4HomeAddressRequest { bits, address } => {
                if p.v4_request.is_some() {
                    p.multiple_v4 = true;
                }
                p.v4_request = Some((Ipv4Addr::from(address), (bits >> 10) as u8));
            }
            MobOption::HandoffIndicator { indicator, .. } => p.hi = Some(indicator),
            MobOption::AccessTechnologyType { att, .. } => p.att = Some(att),
            MobOption::Timestamp(t) => p.timestamp = Some(t),
            MobOption::VendorSpecific {
                vendor_id: MOBSTRAP_VENDOR_ID,
                sub_type: VSO_HOME_GATEWAY,
                data,
            } => {
                p.home_gw = Some(match data.len() {
                    4 => IpAddr::from(<[u8; 4]>::try_from(data).unwrap_or_default()),
                    16 => {
                        let a = Ipv6Addr::from(<[u8; 16]>::try_from(data).unwrap_or_default());
                        a.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(a))
                    }
                    _ => {
                        return Err(InputError::Malformed(
                            "option.vendor_specific.home_gateway: bad length".into(),
                        ))
                    }
                })
            }
            _ => {}
        }
    }
    Ok(p)
}

/// Parses a Mobility Header that must be a Proxy Binding Acknowledgement.
pub fn parse_pba(bytes: &[u8]) -> Result<Pba, InputError> {
    let r = mh::Repr::parse(bytes).map_err(|e| InputError::Malformed(e.to_string()))?;
    let mh::Message::BindingAck(ba) = r.message else {
        return Err(InputError::Unexpected("not a binding acknowledgement"));
    };
    let mut p = Pba {
        status: ba.status,
        flags: ba.flags,
        seq: ba.seq,
        lifetime: ba.lifetime as u32 * 4,
        nai: None,
        apn: None,
        hnp: None,
        v4_reply: None,
        v4_router: None,
        hi: None,
        att: None,
        timestamp: None,
    };
    for o in r.options.iter() {
        match o {
            MobOption::MobileNodeIdentifier { .. } if p.nai.is_none() => p.nai = nai_of(o)?,
            MobOption::ServiceSelection(s) => p.apn = Some(utf8("option.service_selection", s)?),
            MobOption::HomeNetworkPrefix {
                prefix_len, prefix, ..
            } if p.hnp.is_none() => p.hnp = Some((Ipv6Addr::from(prefix), prefix_len)),
            MobOption::Ipv4HomeAddressReply {
                status,
                bits,
                address,
            } => p.v4_reply = Some((status, Ipv4Addr::from(address), bits >> 2)),
            MobOption::Ipv4DefaultRouterAddress { address, .. } => {
                p.v4_router = Some(Ipv4Addr::from(address))
            }
            MobOption::HandoffIndicator { indicator, .. } => p.hi = Some(indicator),
            MobOption::AccessTechnologyType { att, .. } => p.att = Some(att),
            MobOption::Timestamp(t) => p.timestamp = Some(t),
            _ => {}
        }
    }
    Ok(p)
}

/// Builds a PBU. `hnp`/`v4_request` are what to ask for (`::/0`, `0.0.0.0` for "assign").
pub fn build_pbu(p: &Pbu) -> Vec<u8> {
    let mut opts = Vec::with_capacity(9);
    let nai;
    if let Some(n) = &p.nai {
        nai = n.as_bytes();
        opts.push(MobOption::MobileNodeIdentifier {
            subtype: 1,
            identifier: nai,
        });
    }
    if let Some(a) = &p.apn {
        opts.push(MobOption::ServiceSelection(a.as_bytes()));
    }
    if let Some((prefix, len)) = p.hnp {
        opts.push(MobOption::HomeNetworkPrefix {
            reserved: 0,
            prefix_len: len,
            prefix: prefix.octets(),
        });
    }
    if let Some((addr, len)) = p.v4_request {
        opts.push(MobOption::Ipv4HomeAddressRequest {
            bits: ((len as u16) & 0x3f) << 10,
            address: addr.octets(),
        });
    }
    if let Some(hi) = p.hi {
        opts.push(MobOption::HandoffIndicator {
            reserved: 0,
            indicator: hi,
        });
    }
    if let Some(att) = p.att {
        opts.push(MobOption::AccessTechnologyType { reserved: 0, att });
    }
    if let Some(t) = p.timestamp {
        opts.push(MobOption::Timestamp(t));
    }
    let gw_bytes: Vec<u8> = match p.home_gw {
        Some(IpAddr::V4(a)) => a.octets().to_vec(),
        Some(IpAddr::V6(a)) => a.octets().to_vec(),
        None => Vec::new(),
    };
    if p.home_gw.is_some() {
        opts.push(MobOption::VendorSpecific {
            vendor_id: MOBSTRAP_VENDOR_ID,
            sub_type: VSO_HOME_GATEWAY,
            data: &gw_bytes,
        });
    }
    let repr = mh::Repr::new(
        mh::Message::BindingUpdate(mh::BindingUpdate {
            seq: p.seq,
            flags: p.flags,
            lifetime: lifetime_units(p.lifetime),
        }),
        opts,
    );
    emit(&repr)
}

/// Builds a PBA.
pub fn build_pba(p: &Pba) -> Vec<u8> {
    let mut opts = Vec::with_capacity(9);
    if let Some(n) = &p.nai {
        opts.push(MobOption::MobileNodeIdentifier {
            subtype: 1,
            identifier: n.as_bytes(),
        });
    }
    if let Some(a) = &p.apn {
        opts.push(MobOption::ServiceSelection(a.as_bytes()));
    }
    if let Some((prefix, len)) = p.hnp {
        opts.push(MobOption::HomeNetworkPrefix {
            reserved: 0,
            prefix_len: len,
            prefix: prefix.octets(),
        });
    }
    if let Some((st, addr, len)) = p.v4_reply {
        opts.push(MobOption::Ipv4HomeAddressReply {
            status: st,
            bits: (len & 0x3f) << 2,
            address: addr.octets(),
        });
    }
    if let Some(r) = p.v4_router {
        opts.push(MobOption::Ipv4DefaultRouterAddress {
            reserved: 0,
            address: r.octets(),
        });
    }
    if let Some(hi) = p.hi {
        opts.push(MobOption::HandoffIndicator {
            reserved: 0,
            indicator: hi,
        });
    }
    if let Some(att) = p.att {
        opts.push(MobOption::AccessTechnologyType { reserved: 0, att });
    }
    if let Some(t) = p.timestamp {
        opts.push(MobOption::Timestamp(t));
    }
    let repr = mh::Repr::new(
        mh::Message::BindingAck(mh::BindingAck {
            status: p.status,
            flags: p.flags,
            seq: p.seq,
            lifetime: lifetime_units(p.lifetime),
        }),
        opts,
    );
    emit(&repr)
}

fn emit(repr: &mh::Repr<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    // Only fails for options over 255 octets (a NAI/APN that long was refused earlier).
    if repr.emit(&mut out).is_err() {
        out.clear();
    }
    out
}

/// Seconds → 4-second units, rounded up, saturating.
pub fn lifetime_units(secs: u32) -> u16 {
    secs.div_ceil(4).min(u16::MAX as u32) as u16
}

/// Whether `p` is the "please assign" IPv6 prefix (`::/0`).
pub fn is_unspecified_prefix(p: &Prefix6) -> bool {
    p.0.is_unspecified() && p.1 == 0
}
