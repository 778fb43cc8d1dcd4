//! `dissect`: a message as a tree, every AVP by name with its typed value, nodes tied to the
//! Wireshark fields (`diameter.cmd.code`, `diameter.Session-Id`, ...).

use super::avp::{Address, Avp, Avps};
use super::commands::app;
use super::dict::DataType;
use super::message::{flags, Message};
use super::MAX_DEPTH;
use crate::dissect::{hex, text, Node};

/// Parses `data` as one Diameter message and renders it.
pub fn dissect(data: &[u8]) -> crate::Result<Node> {
    let m = Message::parse(data)?;
    let h = &m.header;
    let cmd = match h.command() {
        Some(c) => format!(
            "{} {} ({})",
            c.name,
            if h.is_request() { "Request" } else { "Answer" },
            if h.is_request() { c.request } else { c.answer }
        ),
        None => "Unknown".to_string(),
    };
    let mut root = Node::branch("Diameter Protocol");
    root.push(Node::new("Version", "1").field("diameter.version", "0x01"));
    root.push(Node::uint(
        "Length",
        m.buffer_len() as u64,
        "diameter.length",
    ));
    let mut fl = Node::new("Flags", format!("0x{:02x}", h.flags))
        .field("diameter.flags", format!("0x{:02x}", h.flags));
    for (bit, label, field) in [
        (flags::REQUEST, "Request", "diameter.flags.request"),
        (flags::PROXIABLE, "Proxyable", "diameter.flags.proxyable"),
        (flags::ERROR, "Error", "diameter.flags.error"),
        (
            flags::RETRANSMITTED,
            "T (potentially re-transmitted)",
            "diameter.flags.T",
        ),
    ] {
        let v = if h.flags & bit != 0 { "1" } else { "0" };
        fl.push(Node::new(label, v).field(field, v));
    }
    if h.flags & flags::RESERVED != 0 {
        fl.push(Node::new(
            "Reserved bits",
            format!("0x{:x}", h.flags & flags::RESERVED),
        ));
    }
    root.push(fl);
    root.push(Node::code(
        "Command Code",
        cmd,
        h.command_code as u64,
        "diameter.cmd.code",
    ));
    root.push(Node::code(
        "ApplicationId",
        app::name(h.application_id).unwrap_or("Unknown"),
        h.application_id as u64,
        "diameter.applicationId",
    ));
    root.push(
        Node::new("Hop-by-Hop Identifier", format!("0x{:08x}", h.hop_by_hop))
            .field("diameter.hopbyhopid", format!("0x{:08x}", h.hop_by_hop)),
    );
    root.push(
        Node::new("End-to-End Identifier", format!("0x{:08x}", h.end_to_end))
            .field("diameter.endtoendid", format!("0x{:08x}", h.end_to_end)),
    );
    avps(&mut root, m.avps(), 0);
    Ok(root)
}

fn avps(parent: &mut Node, list: Avps<'_>, depth: usize) {
    for a in list {
        parent.push(avp_node(a, depth));
    }
}

fn avp_node(a: Avp<'_>, depth: usize) -> Node {
    let def = a.def();
    let name = def.map(|d| d.name).unwrap_or("Unknown");
    let fl = a.flags();
    let flag_text = format!(
        "{}{}{}",
        if a.is_vendor_specific() { 'V' } else { '-' },
        if a.is_mandatory() { 'M' } else { '-' },
        if a.is_protected() { 'P' } else { '-' },
    );
    let mut n = Node::branch(format!(
        "AVP: {name}({}) l={} f={flag_text}",
        a.code(),
        a.length()
    ));
    n.push(Node::uint("AVP Code", a.code() as u64, "diameter.avp.code"));
    n.push(
        Node::new("AVP Flags", format!("0x{fl:02x}"))
            .field("diameter.avp.flags", format!("0x{fl:02x}")),
    );
    n.push(Node::uint(
        "AVP Length",
        a.length() as u64,
        "diameter.avp.len",
    ));
    if let Some(v) = a.vendor_id() {
        n.push(Node::uint(
            "AVP Vendor Id",
            v as u64,
            "diameter.avp.vendorId",
        ));
    }
    let Some(def) = def else {
        n.push(Node::bytes("Value", a.data(), ""));
        return n;
    };
    let field = def.wireshark_field();
    let f = field.as_str();
    let named = |v: u32| match def.value_name(v) {
        Some(s) => format!("{s} ({v})"),
        None => v.to_string(),
    };
    match def.ty {
        DataType::Grouped => {
            let mut g =
                Node::new(name, format!("{} bytes", a.data().len())).field(f, hex(a.data()));
            if depth + 1 < MAX_DEPTH {
                if let Ok(inner) = a.grouped() {
                    avps(&mut g, inner, depth + 1);
                }
            }
            n.push(g);
        }
        DataType::Unsigned32 => {
            if let Ok(v) = a.u32() {
                n.push(Node::new(name, named(v)).field(f, v.to_string()));
            }
        }
        DataType::Enumerated | DataType::Integer32 => {
            if let Ok(v) = a.i32() {
                n.push(Node::new(name, named(v as u32)).field(f, v.to_string()));
            }
        }
        DataType::Unsigned64 => {
            if let Ok(v) = a.u64() {
                n.push(Node::uint(name, v, f));
            }
        }
        DataType::Integer64 => {
            if let Ok(v) = a.i64() {
                n.push(Node::new(name, v.to_string()).field(f, v.to_string()));
            }
        }
        DataType::Float32 => {
            if let Ok(v) = a.f32() {
                n.push(Node::new(name, v.to_string()));
            }
        }
        DataType::Float64 => {
            if let Ok(v) = a.f64() {
                n.push(Node::new(name, v.to_string()));
            }
        }
        DataType::Time => {
            if let Ok(t) = a.time() {
                n.push(
                    Node::new(name, format!("{} (NTP {})", utc_text(t.unix()), t.0))
                        .field(f, tshark_time(t.unix())),
                );
            }
        }
        DataType::Address => {
            if let Ok(addr) = a.address() {
                let mut x = Node::new(name, addr.to_string()).field(f, hex(a.data()));
                x.push(Node::uint(
                    "Address Family",
                    addr.family() as u64,
                    &format!("{field}.addr_family"),
                ));
                match addr {
                    Address::V4(ip) => x.push(
                        Node::new("Address", ip.to_string())
                            .field(format!("{field}.IPv4"), ip.to_string()),
                    ),
                    Address::V6(ip) => x.push(
                        Node::new("Address", ip.to_string())
                            .field(format!("{field}.IPv6"), ip.to_string()),
                    ),
                    Address::Other { addr, .. } => x.push(Node::bytes("Address", addr, "")),
                }
                n.push(x);
            }
        }
        t if t.is_text() => {
            let s = text(a.data());
            n.push(Node::new(name, s.clone()).field(f, s));
        }
        _ => n.push(Node::bytes(name, a.data(), f)),
    }
    n
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn utc_parts(unix: i64) -> (i64, u32, u32, i64, i64, i64) {
    let (y, mo, d) = civil(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    (y, mo, d, s / 3600, s / 60 % 60, s % 60)
}

/// `2024-01-02 03:04:05 UTC`.
fn utc_text(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = utc_parts(unix);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// What tshark prints for an FT_ABSOLUTE_TIME field with `-T fields` (in UTC, as the tshark
/// harness runs with TZ unset): `Jan  2, 2024 03:04:05.000000000 UTC`.
fn tshark_time(unix: i64) -> String {
    const M: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, mo, d, h, mi, s) = utc_parts(unix);
    let mon = M.get(mo as usize - 1).copied().unwrap_or("???");
    format!("{mon} {d:>2}, {y} {h:02}:{mi:02}:{s:02}.000000000 UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_text(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(
            tshark_time(1_704_164_645),
            "Jan  2, 2024 03:04:05.000000000 UTC"
        );
        assert_eq!(utc_text(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
