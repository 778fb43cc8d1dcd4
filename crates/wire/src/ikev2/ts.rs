//! Traffic Selector payloads TSi and TSr (RFC 7296 §3.13).

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::codec::Writer;
use crate::{Error, ErrorKind, Reader, Result};

use super::P;

enum_with_unknown! {
    /// Traffic Selector Types (IANA).
    pub enum TsType(u8) {
        Ipv4AddrRange = 7 => "TS_IPV4_ADDR_RANGE",
        Ipv6AddrRange = 8 => "TS_IPV6_ADDR_RANGE",
        /// RFC 4595.
        FcAddrRange = 9 => "TS_FC_ADDR_RANGE",
        /// RFC 9478.
        SecLabel = 10 => "TS_SECLABEL",
    }
}

/// One traffic selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrafficSelector<'a> {
    /// TS_IPV4_ADDR_RANGE (Selector Length 16).
    Ipv4 {
        ip_protocol: u8,
        start_port: u16,
        end_port: u16,
        start: Ipv4Addr,
        end: Ipv4Addr,
    },
    /// TS_IPV6_ADDR_RANGE (Selector Length 40).
    Ipv6 {
        ip_protocol: u8,
        start_port: u16,
        end_port: u16,
        start: Ipv6Addr,
        end: Ipv6Addr,
    },
    /// Any other type: the byte after TS Type (IP Protocol ID or reserved) and the bytes
    /// after Selector Length, verbatim.
    Other {
        ts_type: TsType,
        byte1: u8,
        data: &'a [u8],
    },
}

impl<'a> TrafficSelector<'a> {
    /// Every port and protocol of an IPv4 range.
    pub const fn ipv4_any(start: Ipv4Addr, end: Ipv4Addr) -> Self {
        TrafficSelector::Ipv4 {
            ip_protocol: 0,
            start_port: 0,
            end_port: 65535,
            start,
            end,
        }
    }
    /// Every port and protocol of an IPv6 range.
    pub const fn ipv6_any(start: Ipv6Addr, end: Ipv6Addr) -> Self {
        TrafficSelector::Ipv6 {
            ip_protocol: 0,
            start_port: 0,
            end_port: 65535,
            start,
            end,
        }
    }

    pub fn ts_type(&self) -> TsType {
        match self {
            TrafficSelector::Ipv4 { .. } => TsType::Ipv4AddrRange,
            TrafficSelector::Ipv6 { .. } => TsType::Ipv6AddrRange,
            TrafficSelector::Other { ts_type, .. } => *ts_type,
        }
    }

    pub fn parse(r: &mut Reader<'a>) -> Result<Self> {
        let ts_type = TsType::from(r.u8("TS.ts_type")?);
        let byte1 = r.u8("TS.ip_protocol_id")?;
        let len = r.u16("TS.selector_length")? as usize;
        if len < 4 {
            return Err(r.err("TS.selector_length", ErrorKind::BadLength));
        }
        let mut b = r.sub(len - 4, "TS.selector_length")?;
        let want = match ts_type {
            TsType::Ipv4AddrRange => 16,
            TsType::Ipv6AddrRange => 40,
            _ => {
                return Ok(TrafficSelector::Other {
                    ts_type,
                    byte1,
                    data: b.rest(),
                })
            }
        };
        if len != want {
            return Err(Error::bad_length(P, "TS.selector_length"));
        }
        let start_port = b.u16("TS.start_port")?;
        let end_port = b.u16("TS.end_port")?;
        Ok(if ts_type == TsType::Ipv4AddrRange {
            TrafficSelector::Ipv4 {
                ip_protocol: byte1,
                start_port,
                end_port,
                start: Ipv4Addr::from(b.array::<4>("TS.starting_address")?),
                end: Ipv4Addr::from(b.array::<4>("TS.ending_address")?),
            }
        } else {
            TrafficSelector::Ipv6 {
                ip_protocol: byte1,
                start_port,
                end_port,
                start: Ipv6Addr::from(b.array::<16>("TS.starting_address")?),
                end: Ipv6Addr::from(b.array::<16>("TS.ending_address")?),
            }
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        match *self {
            TrafficSelector::Ipv4 {
                ip_protocol,
                start_port,
                end_port,
                start,
                end,
            } => {
                out.put_u8(TsType::Ipv4AddrRange.into());
                out.put_u8(ip_protocol);
                out.put_u16(16);
                out.put_u16(start_port);
                out.put_u16(end_port);
                out.put(&start.octets());
                out.put(&end.octets());
            }
            TrafficSelector::Ipv6 {
                ip_protocol,
                start_port,
                end_port,
                start,
                end,
            } => {
                out.put_u8(TsType::Ipv6AddrRange.into());
                out.put_u8(ip_protocol);
                out.put_u16(40);
                out.put_u16(start_port);
                out.put_u16(end_port);
                out.put(&start.octets());
                out.put(&end.octets());
            }
            TrafficSelector::Other {
                ts_type,
                byte1,
                data,
            } => {
                if matches!(ts_type, TsType::Ipv4AddrRange | TsType::Ipv6AddrRange) {
                    return Err(Error::bad_value(P, "TS.ts_type"));
                }
                let len = data
                    .len()
                    .checked_add(4)
                    .and_then(|l| u16::try_from(l).ok())
                    .ok_or(Error::too_long(P, "TS.selector_length"))?;
                out.put_u8(ts_type.into());
                out.put_u8(byte1);
                out.put_u16(len);
                out.put(data);
            }
        }
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        match self {
            TrafficSelector::Ipv4 { .. } => 16,
            TrafficSelector::Ipv6 { .. } => 40,
            TrafficSelector::Other { data, .. } => 4 + data.len(),
        }
    }
}

/// The body of a TSi or TSr payload. Number of TSs is derived on emit; on parse it must
/// match the selectors present.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Ts<'a> {
    /// The three reserved bytes, as received.
    pub reserved: [u8; 3],
    pub selectors: Vec<TrafficSelector<'a>>,
}

impl<'a> Ts<'a> {
    pub fn new(selectors: Vec<TrafficSelector<'a>>) -> Self {
        Ts {
            reserved: [0; 3],
            selectors,
        }
    }

    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let n = r.u8("TS.number_of_tss")? as usize;
        let reserved = r.array::<3>("TS.reserved")?;
        let mut selectors = Vec::with_capacity(n);
        for _ in 0..n {
            selectors.push(TrafficSelector::parse(&mut r)?);
        }
        r.finish("TS.number_of_tss")?;
        Ok(Ts {
            reserved,
            selectors,
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put_u8(
            u8::try_from(self.selectors.len())
                .map_err(|_| Error::too_long(P, "TS.number_of_tss"))?,
        );
        out.put(&self.reserved);
        for s in &self.selectors {
            s.emit(out)?;
        }
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        4 + self.selectors.iter().map(|s| s.buffer_len()).sum::<usize>()
    }
}
