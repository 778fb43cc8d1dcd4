//! The IPv6 Mobility Header (RFC 6275 §6.1) and its messages: Mobile IPv6, Proxy Mobile IPv6
//! (RFC 5213, RFC 5844), DSMIPv6 (RFC 5555), Binding Revocation (RFC 5846) and Update
//! Notification (RFC 7077), with the mobility options of [`options`].
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Payload Proto |  Header Len   |   MH Type     |   Reserved    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
//! .                      Message Data (and options)               .
//! ```
//!
//! Header Len counts 8-octet units after the first 8, so a Mobility Header is always a multiple
//! of 8 octets. The checksum covers the IPv6 pseudo-header (next header 135) and is kept as
//! received by `parse`; [`Repr::emit_with_checksum`] computes it, [`verify_checksum`] checks it.
//! This room has no I/O and no clock: a node supplies addresses and timestamps.

pub mod ip6;
pub mod options;
mod samples;
pub mod udp;

#[cfg(test)]
mod tests;

use crate::codec::{Checksum, Reader, Writer};
use crate::dissect::{ip_text, Node};
use crate::{Error, ErrorKind, Result};

pub use options::{MobOption, OptionType, Options};
pub use samples::samples;

/// Protocol name in errors.
pub(crate) const P: &str = "mh";

/// IPv6 next-header value of the Mobility Header.
pub const NEXT_HEADER: u8 = 135;
/// "No next header", the Payload Proto every current message carries.
pub const NO_NEXT_HEADER: u8 = 59;

enum_with_unknown! {
    /// Mobility Header types (IANA "Mobility Header Types - for the MH Type field").
    pub enum MhType(u8) {
        BindingRefreshRequest = 0 => "Binding Refresh Request",
        HomeTestInit = 1 => "Home Test Init",
        CareOfTestInit = 2 => "Care-of Test Init",
        HomeTest = 3 => "Home Test",
        CareOfTest = 4 => "Care-of Test",
        BindingUpdate = 5 => "Binding Update",
        BindingAcknowledgement = 6 => "Binding Acknowledgement",
        BindingError = 7 => "Binding Error",
        BindingRevocation = 16 => "Binding Revocation",
        UpdateNotification = 19 => "Update Notification",
        UpdateNotificationAck = 20 => "Update Notification Acknowledgement",
    }
}

/// Binding Update flags (RFC 6275 §6.1.7, RFC 3963, RFC 5213 §8.1, RFC 5555, RFC 5845, RFC 6602).
pub mod bu_flags {
    pub const A: u16 = 0x8000;
    pub const H: u16 = 0x4000;
    pub const L: u16 = 0x2000;
    pub const K: u16 = 0x1000;
    pub const M: u16 = 0x0800;
    /// Mobile Router (RFC 3963).
    pub const R: u16 = 0x0400;
    /// Proxy registration (RFC 5213).
    pub const P: u16 = 0x0200;
    /// Force UDP encapsulation (RFC 5555).
    pub const F: u16 = 0x0100;
    /// TLV-header format (RFC 5845).
    pub const T: u16 = 0x0080;
    /// Bulk binding update (RFC 6602).
    pub const B: u16 = 0x0040;
}

/// Binding Acknowledgement flags (RFC 6275 §6.1.8, RFC 3963, RFC 5213 §8.2, RFC 5845, RFC 6602).
pub mod ba_flags {
    pub const K: u8 = 0x80;
    pub const R: u8 = 0x40;
    pub const P: u8 = 0x20;
    pub const T: u8 = 0x10;
    pub const B: u8 = 0x08;
}

/// Binding Revocation flags (RFC 5846 §6.1/§6.2).
pub mod br_flags {
    /// Proxy binding.
    pub const P: u16 = 0x8000;
    /// IPv4 HoA binding only.
    pub const V: u16 = 0x4000;
    /// Global revocation.
    pub const G: u16 = 0x2000;
}

/// Binding Revocation message types (RFC 5846 §6.1).
pub mod br_type {
    pub const INDICATION: u8 = 1;
    pub const ACKNOWLEDGEMENT: u8 = 2;
}

/// Update Notification flags (RFC 7077 §4.1).
pub mod upn_flags {
    /// Acknowledge requested.
    pub const A: u8 = 0x80;
    /// Deregistration.
    pub const D: u8 = 0x40;
}

/// A view over the fixed Mobility Header.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps without checking; accessors may then return garbage but never panic.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks that the header is present and that Header Len fits in the buffer.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Packet { buffer };
        let b = p.buffer.as_ref();
        if b.len() < 6 {
            return Err(Error::truncated(P, "MH"));
        }
        if p.total_len() > b.len() {
            return Err(Error::truncated(P, "MH.header_len"));
        }
        Ok(p)
    }

    fn byte(&self, i: usize) -> u8 {
        self.buffer.as_ref().get(i).copied().unwrap_or(0)
    }

    pub fn payload_proto(&self) -> u8 {
        self.byte(0)
    }
    /// Header Len field (8-octet units after the first 8).
    pub fn header_len(&self) -> u8 {
        self.byte(1)
    }
    pub fn mh_type(&self) -> MhType {
        MhType::from(self.byte(2))
    }
    pub fn reserved(&self) -> u8 {
        self.byte(3)
    }
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.byte(4), self.byte(5)])
    }
    /// Length of the whole Mobility Header in octets.
    pub fn total_len(&self) -> usize {
        (self.header_len() as usize + 1) * 8
    }
    /// The Mobility Header bytes (`total_len` of them, or fewer if the buffer is short).
    pub fn mh(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[..self.total_len().min(b.len())]
    }
    /// Message data after the 6-octet header.
    pub fn body(&self) -> &[u8] {
        self.mh().get(6..).unwrap_or(&[])
    }
    /// RFC 6275 §6.1.1 checksum check with the given pseudo-header addresses.
    pub fn verify_checksum(&self, src: &[u8; 16], dst: &[u8; 16]) -> bool {
        verify_checksum(self.mh(), src, dst).is_ok()
    }
}

/// The checksum of a Mobility Header `mh` (its own checksum field counted as zero).
pub fn compute_checksum(mh: &[u8], src: &[u8; 16], dst: &[u8; 16]) -> u16 {
    let mut c = Checksum::ipv6_pseudo(src, dst, mh.len() as u32, NEXT_HEADER);
    c.add(mh.get(..4).unwrap_or(mh));
    if let Some(rest) = mh.get(6..) {
        c.add(rest);
    }
    c.finish()
}

/// Checks the checksum of a Mobility Header (RFC 6275 §6.1.1): `src` is the home address when a
/// Home Address option is present, `dst` the final destination (see [`ip6::locate`]).
pub fn verify_checksum(mh: &[u8], src: &[u8; 16], dst: &[u8; 16]) -> Result<()> {
    let mut c = Checksum::ipv6_pseudo(src, dst, mh.len() as u32, NEXT_HEADER);
    c.add(mh);
    if c.finish() == 0 {
        Ok(())
    } else {
        Err(Error::new(P, "MH.checksum", ErrorKind::BadChecksum))
    }
}

/// Binding Update / Proxy Binding Update (RFC 6275 §6.1.7, RFC 5213 §8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindingUpdate {
    pub seq: u16,
    /// All 16 bits after the sequence number: flags A H L K M R P F T B and the reserved bits.
    pub flags: u16,
    /// In units of 4 seconds.
    pub lifetime: u16,
}

impl BindingUpdate {
    pub fn is_proxy(&self) -> bool {
        self.flags & bu_flags::P != 0
    }
}

/// Binding Acknowledgement / Proxy Binding Acknowledgement (RFC 6275 §6.1.8, RFC 5213 §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindingAck {
    pub status: u8,
    /// Flags K R P T B and the reserved bits.
    pub flags: u8,
    pub seq: u16,
    pub lifetime: u16,
}

impl BindingAck {
    pub fn is_proxy(&self) -> bool {
        self.flags & ba_flags::P != 0
    }
}

/// The type-specific part of a Mobility Header message (options excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// MH type 0 (RFC 6275 §6.1.2).
    BindingRefreshRequest { reserved: u16 },
    /// MH type 1 (§6.1.3).
    HomeTestInit { reserved: u16, cookie: u64 },
    /// MH type 2 (§6.1.4).
    CareOfTestInit { reserved: u16, cookie: u64 },
    /// MH type 3 (§6.1.5).
    HomeTest {
        nonce_index: u16,
        cookie: u64,
        token: u64,
    },
    /// MH type 4 (§6.1.6).
    CareOfTest {
        nonce_index: u16,
        cookie: u64,
        token: u64,
    },
    /// MH type 5.
    BindingUpdate(BindingUpdate),
    /// MH type 6.
    BindingAck(BindingAck),
    /// MH type 7 (§6.1.9).
    BindingError {
        status: u8,
        reserved: u8,
        home_address: [u8; 16],
    },
    /// MH type 16 (RFC 5846 §6): `br_type` 1 = Indication (`code` is the Revocation Trigger),
    /// 2 = Acknowledgement (`code` is the Status). `flags` holds P V G and the reserved bits.
    BindingRevocation {
        br_type: u8,
        code: u8,
        seq: u16,
        flags: u16,
    },
    /// MH type 19 (RFC 7077 §4.1). `flags` holds A D and the reserved bits.
    UpdateNotification { seq: u16, reason: u8, flags: u8 },
    /// MH type 20 (RFC 7077 §4.2).
    UpdateNotificationAck { seq: u16, status: u8, reserved: u8 },
    /// Any other MH type: the message data (options included) kept verbatim.
    Unknown { mh_type: u8, data: &'a [u8] },
}

impl Message<'_> {
    pub fn mh_type(&self) -> MhType {
        use Message::*;
        match self {
            BindingRefreshRequest { .. } => MhType::BindingRefreshRequest,
            HomeTestInit { .. } => MhType::HomeTestInit,
            CareOfTestInit { .. } => MhType::CareOfTestInit,
            HomeTest { .. } => MhType::HomeTest,
            CareOfTest { .. } => MhType::CareOfTest,
            BindingUpdate(_) => MhType::BindingUpdate,
            BindingAck(_) => MhType::BindingAcknowledgement,
            BindingError { .. } => MhType::BindingError,
            BindingRevocation { .. } => MhType::BindingRevocation,
            UpdateNotification { .. } => MhType::UpdateNotification,
            UpdateNotificationAck { .. } => MhType::UpdateNotificationAck,
            Unknown { mh_type, .. } => MhType::from(*mh_type),
        }
    }

    /// Octets of the fixed message data (after the 6-octet header, before the options).
    pub fn fixed_len(&self) -> usize {
        use Message::*;
        match self {
            BindingRefreshRequest { .. } => 2,
            HomeTestInit { .. } | CareOfTestInit { .. } => 10,
            HomeTest { .. } | CareOfTest { .. } => 18,
            BindingUpdate(_) | BindingAck(_) | BindingRevocation { .. } => 6,
            BindingError { .. } => 18,
            UpdateNotification { .. } | UpdateNotificationAck { .. } => 4,
            Unknown { data, .. } => data.len(),
        }
    }
}

/// A Mobility Header message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Payload Proto (59 for every message defined today).
    pub payload_proto: u8,
    /// The reserved octet after MH Type, kept as received.
    pub reserved: u8,
    /// The checksum as received (or to emit verbatim with [`Repr::emit`]).
    pub checksum: u16,
    pub message: Message<'a>,
    /// Mobility options; always empty for [`Message::Unknown`].
    pub options: Options<'a>,
}

impl<'a> Repr<'a> {
    /// A message to send: Payload Proto 59, reserved 0, checksum 0 (fill it with
    /// [`Repr::emit_with_checksum`]), options aligned and padded on emit.
    pub fn new(message: Message<'a>, options: Vec<MobOption<'a>>) -> Self {
        Repr {
            payload_proto: NO_NEXT_HEADER,
            reserved: 0,
            checksum: 0,
            message,
            options: Options::List(options),
        }
    }

    /// Parses one Mobility Header occupying all of `b`.
    pub fn parse(b: &'a [u8]) -> Result<Self> {
        let pkt = Packet::new_checked(b)?;
        if pkt.total_len() != b.len() {
            return Err(Error::new(P, "MH.header_len", ErrorKind::TrailingBytes));
        }
        let mut r = Reader::new(P, b.get(6..).unwrap_or(&[]));
        use Message as M;
        let message = match pkt.mh_type() {
            MhType::BindingRefreshRequest => M::BindingRefreshRequest {
                reserved: r.u16("BRR.reserved")?,
            },
            MhType::HomeTestInit => M::HomeTestInit {
                reserved: r.u16("HoTI.reserved")?,
                cookie: r.u64("HoTI.home_init_cookie")?,
            },
            MhType::CareOfTestInit => M::CareOfTestInit {
                reserved: r.u16("CoTI.reserved")?,
                cookie: r.u64("CoTI.care_of_init_cookie")?,
            },
            MhType::HomeTest => M::HomeTest {
                nonce_index: r.u16("HoT.home_nonce_index")?,
                cookie: r.u64("HoT.home_init_cookie")?,
                token: r.u64("HoT.home_keygen_token")?,
            },
            MhType::CareOfTest => M::CareOfTest {
                nonce_index: r.u16("CoT.care_of_nonce_index")?,
                cookie: r.u64("CoT.care_of_init_cookie")?,
                token: r.u64("CoT.care_of_keygen_token")?,
            },
            MhType::BindingUpdate => M::BindingUpdate(BindingUpdate {
                seq: r.u16("BU.sequence")?,
                flags: r.u16("BU.flags")?,
                lifetime: r.u16("BU.lifetime")?,
            }),
            MhType::BindingAcknowledgement => M::BindingAck(BindingAck {
                status: r.u8("BA.status")?,
                flags: r.u8("BA.flags")?,
                seq: r.u16("BA.sequence")?,
                lifetime: r.u16("BA.lifetime")?,
            }),
            MhType::BindingError => M::BindingError {
                status: r.u8("BE.status")?,
                reserved: r.u8("BE.reserved")?,
                home_address: r.array("BE.home_address")?,
            },
            MhType::BindingRevocation => M::BindingRevocation {
                br_type: r.u8("BR.type")?,
                code: r.u8("BR.trigger_or_status")?,
                seq: r.u16("BR.sequence")?,
                flags: r.u16("BR.flags")?,
            },
            MhType::UpdateNotification => M::UpdateNotification {
                seq: r.u16("UPN.sequence")?,
                reason: r.u8("UPN.notification_reason")?,
                flags: r.u8("UPN.flags")?,
            },
            MhType::UpdateNotificationAck => M::UpdateNotificationAck {
                seq: r.u16("UPA.sequence")?,
                status: r.u8("UPA.status")?,
                reserved: r.u8("UPA.reserved")?,
            },
            MhType::Unknown(t) => M::Unknown {
                mh_type: t,
                data: r.rest(),
            },
        };
        let options = Options::parse(r.rest())?;
        Ok(Repr {
            payload_proto: pkt.payload_proto(),
            reserved: pkt.reserved(),
            checksum: pkt.checksum(),
            message,
            options,
        })
    }

    /// Appends the Mobility Header with [`Repr::checksum`] as is.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        self.emit_checked(out, self.checksum)
    }

    fn emit_checked(&self, out: &mut Vec<u8>, checksum: u16) -> Result<()> {
        let start = out.len();
        let r = self.emit_inner(out, checksum);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    fn emit_inner(&self, out: &mut Vec<u8>, checksum: u16) -> Result<()> {
        let start = out.len();
        out.reserve(self.buffer_len());
        out.put_u8(self.payload_proto);
        out.put_u8(0);
        out.put_u8(self.message.mh_type().value());
        out.put_u8(self.reserved);
        out.put_u16(checksum);
        use Message as M;
        match self.message {
            M::BindingRefreshRequest { reserved } => out.put_u16(reserved),
            M::HomeTestInit { reserved, cookie } | M::CareOfTestInit { reserved, cookie } => {
                out.put_u16(reserved);
                out.put_u64(cookie);
            }
            M::HomeTest {
                nonce_index,
                cookie,
                token,
            }
            | M::CareOfTest {
                nonce_index,
                cookie,
                token,
            } => {
                out.put_u16(nonce_index);
                out.put_u64(cookie);
                out.put_u64(token);
            }
            M::BindingUpdate(bu) => {
                out.put_u16(bu.seq);
                out.put_u16(bu.flags);
                out.put_u16(bu.lifetime);
            }
            M::BindingAck(ba) => {
                out.put_u8(ba.status);
                out.put_u8(ba.flags);
                out.put_u16(ba.seq);
                out.put_u16(ba.lifetime);
            }
            M::BindingError {
                status,
                reserved,
                home_address,
            } => {
                out.put_u8(status);
                out.put_u8(reserved);
                out.put(&home_address);
            }
            M::BindingRevocation {
                br_type,
                code,
                seq,
                flags,
            } => {
                out.put_u8(br_type);
                out.put_u8(code);
                out.put_u16(seq);
                out.put_u16(flags);
            }
            M::UpdateNotification { seq, reason, flags } => {
                out.put_u16(seq);
                out.put_u8(reason);
                out.put_u8(flags);
            }
            M::UpdateNotificationAck {
                seq,
                status,
                reserved,
            } => {
                out.put_u16(seq);
                out.put_u8(status);
                out.put_u8(reserved);
            }
            M::Unknown { data, .. } => out.put(data),
        }
        if matches!(self.message, M::Unknown { .. }) {
            if self.options.iter().next().is_some() {
                return Err(Error::bad_value(P, "MH.options"));
            }
        } else {
            self.options.emit_at(out, start)?;
        }
        let total = out.len() - start;
        if !total.is_multiple_of(8) {
            return Err(Error::bad_length(P, "MH.header_len"));
        }
        let units = total / 8 - 1;
        if units > 255 {
            return Err(Error::too_long(P, "MH.header_len"));
        }
        out.patch_u8(start + 1, units as u8);
        Ok(())
    }

    /// Appends the Mobility Header with the checksum computed for these pseudo-header addresses
    /// (source: the home address when a Home Address option travels with it; destination: the
    /// final destination).
    pub fn emit_with_checksum(
        &self,
        src: &[u8; 16],
        dst: &[u8; 16],
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let start = out.len();
        self.emit_checked(out, 0)?;
        let c = compute_checksum(&out[start..], src, dst);
        out.patch_u16(start + 4, c);
        Ok(())
    }

    /// Octets [`Repr::emit`] writes for `Wire` options (exact), an upper bound for `List` ones.
    pub fn buffer_len(&self) -> usize {
        let opts = match &self.options {
            Options::Wire(b) => b.len(),
            Options::List(v) => v.iter().map(|o| o.buffer_len() + 7).sum::<usize>() + 7,
        };
        6 + self.message.fixed_len() + opts
    }

    /// Renders the message.
    pub fn dissect(&self) -> Node {
        dissect_repr(self)
    }
}

fn flag(label: &str, v: bool, field: &str) -> Node {
    Node::uint(label, v as u64, field)
}

/// Binding Acknowledgement / PBA status names (RFC 6275, RFC 5213, IANA).
pub fn ba_status_name(v: u8) -> &'static str {
    match v {
        0 => "Binding Update accepted",
        1 => "Accepted but prefix discovery necessary",
        128 => "Reason unspecified",
        129 => "Administratively prohibited",
        130 => "Insufficient resources",
        131 => "Home registration not supported",
        132 => "Not home subnet",
        133 => "Not home agent for this mobile node",
        134 => "Duplicate Address Detection failed",
        135 => "Sequence number out of window",
        136 => "Expired home nonce index",
        137 => "Expired care-of nonce index",
        138 => "Expired nonces",
        139 => "Registration type change disallowed",
        151 => "SERVICE_AUTHORIZATION_FAILED",
        152 => "PROXY_REG_NOT_ENABLED",
        153 => "NOT_LMA_FOR_THIS_MOBILE_NODE",
        154 => "MAG_NOT_AUTHORIZED_FOR_PROXY_REG",
        155 => "NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX",
        156 => "TIMESTAMP_MISMATCH",
        157 => "TIMESTAMP_LOWER_THAN_PREV_ACCEPTED",
        158 => "MISSING_HOME_NETWORK_PREFIX_OPTION",
        159 => "BCE_PBU_PREFIX_SET_DO_NOT_MATCH",
        160 => "MISSING_MN_IDENTIFIER_OPTION",
        161 => "MISSING_HANDOFF_INDICATOR_OPTION",
        162 => "MISSING_ACCESS_TECH_TYPE_OPTION",
        _ => "Unassigned",
    }
}

fn dissect_repr(r: &Repr<'_>) -> Node {
    let t = r.message.mh_type();
    let proxy = match r.message {
        Message::BindingUpdate(bu) if bu.is_proxy() => "Proxy ",
        Message::BindingAck(ba) if ba.is_proxy() => "Proxy ",
        _ => "",
    };
    let mut root = Node::new("Mobile IPv6", format!("{proxy}{t}"));
    let total = 6
        + r.message.fixed_len()
        + match &r.options {
            Options::Wire(b) => b.len(),
            Options::List(_) => 0,
        };
    root.push(Node::uint(
        "Payload protocol",
        r.payload_proto as u64,
        "mip6.proto",
    ));
    root.push(Node::uint(
        "Header length",
        (total / 8).saturating_sub(1) as u64,
        "mip6.hlen",
    ));
    root.push(Node::code(
        "Mobility Header Type",
        t,
        t.value() as u64,
        "mip6.mhtype",
    ));
    root.push(Node::uint("Reserved", r.reserved as u64, "mip6.reserved"));
    root.push(
        Node::new("Checksum", format!("0x{:04x}", r.checksum))
            .field("mip6.csum", format!("0x{:04x}", r.checksum)),
    );
    use Message as M;
    let mut m = Node::branch(t.to_string());
    match r.message {
        M::BindingRefreshRequest { reserved } => {
            m.push(Node::uint("Reserved", reserved as u64, ""))
        }
        M::HomeTestInit { reserved, cookie } => {
            m.push(Node::uint("Reserved", reserved as u64, ""));
            m.push(Node::uint("Home Init Cookie", cookie, "mip6.hoti.cookie"));
        }
        M::CareOfTestInit { reserved, cookie } => {
            m.push(Node::uint("Reserved", reserved as u64, ""));
            m.push(Node::uint(
                "Care-of Init Cookie",
                cookie,
                "mip6.coti.cookie",
            ));
        }
        M::HomeTest {
            nonce_index,
            cookie,
            token,
        } => {
            m.push(Node::uint(
                "Home Nonce Index",
                nonce_index as u64,
                "mip6.hot.nindex",
            ));
            m.push(Node::uint("Home Init Cookie", cookie, "mip6.hot.cookie"));
            m.push(Node::uint("Home Keygen Token", token, "mip6.hot.token"));
        }
        M::CareOfTest {
            nonce_index,
            cookie,
            token,
        } => {
            m.push(Node::uint(
                "Care-of Nonce Index",
                nonce_index as u64,
                "mip6.cot.nindex",
            ));
            m.push(Node::uint("Care-of Init Cookie", cookie, "mip6.cot.cookie"));
            m.push(Node::uint("Care-of Keygen Token", token, ""));
        }
        M::BindingUpdate(bu) => {
            use bu_flags as F;
            let f = bu.flags;
            m.push(Node::uint(
                "Sequence number",
                bu.seq as u64,
                "mip6.bu.seqnr",
            ));
            m.push(flag("Acknowledge (A)", f & F::A != 0, "mip6.bu.a_flag"));
            m.push(flag(
                "Home Registration (H)",
                f & F::H != 0,
                "mip6.bu.h_flag",
            ));
            m.push(flag(
                "Link-Local Compatibility (L)",
                f & F::L != 0,
                "mip6.bu.l_flag",
            ));
            m.push(flag(
                "Key Management Compatibility (K)",
                f & F::K != 0,
                "mip6.bu.k_flag",
            ));
            m.push(flag(
                "MAP Registration (M)",
                f & F::M != 0,
                "mip6.bu.m_flag",
            ));
            m.push(flag(
                "Mobile Router (R)",
                f & F::R != 0,
                "mip6.nemo.bu.r_flag",
            ));
            m.push(flag(
                "Proxy Registration (P)",
                f & F::P != 0,
                "mip6.bu.p_flag",
            ));
            m.push(flag(
                "Forcing UDP encapsulation (F)",
                f & F::F != 0,
                "mip6.bu.f_flag",
            ));
            m.push(flag(
                "TLV-header format (T)",
                f & F::T != 0,
                "mip6.bu.t_flag",
            ));
            m.push(flag(
                "Bulk Binding Update (B)",
                f & F::B != 0,
                "mip6.bu.b_flag",
            ));
            m.push(Node::new("Reserved bits", format!("0x{:04x}", f & 0x003f)));
            m.push(Node::uint(
                "Lifetime (units of 4 s)",
                bu.lifetime as u64,
                "mip6.bu.lifetime",
            ));
        }
        M::BindingAck(ba) => {
            use ba_flags as F;
            let f = ba.flags;
            m.push(Node::code(
                "Status",
                ba_status_name(ba.status),
                ba.status as u64,
                "mip6.ba.status",
            ));
            m.push(flag(
                "Key Management Compatibility (K)",
                f & F::K != 0,
                "mip6.ba.k_flag",
            ));
            m.push(flag(
                "Mobile Router (R)",
                f & F::R != 0,
                "mip6.nemo.ba.r_flag",
            ));
            m.push(flag(
                "Proxy Registration (P)",
                f & F::P != 0,
                "mip6.ba.p_flag",
            ));
            m.push(flag(
                "TLV-header format (T)",
                f & F::T != 0,
                "mip6.ba.t_flag",
            ));
            m.push(flag(
                "Bulk Binding Update (B)",
                f & F::B != 0,
                "mip6.ba.b_flag",
            ));
            m.push(Node::new("Reserved bits", format!("0x{:02x}", f & 0x07)));
            m.push(Node::uint(
                "Sequence number",
                ba.seq as u64,
                "mip6.ba.seqnr",
            ));
            m.push(Node::uint(
                "Lifetime (units of 4 s)",
                ba.lifetime as u64,
                "mip6.ba.lifetime",
            ));
        }
        M::BindingError {
            status,
            reserved,
            home_address,
        } => {
            m.push(Node::uint("Status", status as u64, "mip6.be.status"));
            m.push(Node::uint("Reserved", reserved as u64, ""));
            let a = ip_text(&home_address);
            m.push(Node::new("Home Address", a.clone()).field("mip6.be.haddr", a));
        }
        M::BindingRevocation {
            br_type,
            code,
            seq,
            flags,
        } => {
            m.push(Node::uint("B.R. Type", br_type as u64, "mip6.bri_br.type"));
            let ack = br_type == br_type::ACKNOWLEDGEMENT;
            if ack {
                m.push(Node::uint("Status", code as u64, "mip6.bri_status"));
            } else {
                m.push(Node::uint(
                    "Revocation Trigger",
                    code as u64,
                    "mip6.bri_r.trigger",
                ));
            }
            m.push(Node::uint("Sequence Number", seq as u64, "mip6.bri_seqnr"));
            let (p, v, g) = if ack {
                ("mip6.bri_ap", "mip6.bri_av", "mip6.bri_ag")
            } else {
                ("mip6.bri_ip", "mip6.bri_iv", "mip6.bri_ig")
            };
            m.push(flag("Proxy Binding (P)", flags & br_flags::P != 0, p));
            m.push(flag(
                "IPv4 HoA Binding Only (V)",
                flags & br_flags::V != 0,
                v,
            ));
            m.push(flag("Global (G)", flags & br_flags::G != 0, g));
            m.push(Node::uint(
                "Reserved",
                (flags & 0x1fff) as u64,
                "mip6.bri_res",
            ));
        }
        M::UpdateNotification { seq, reason, flags } => {
            m.push(Node::uint("Sequence Number", seq as u64, ""));
            m.push(Node::uint("Notification Reason", reason as u64, ""));
            m.push(Node::uint("Acknowledge (A)", (flags >> 7) as u64, ""));
            m.push(Node::uint(
                "Deregistration (D)",
                ((flags >> 6) & 1) as u64,
                "",
            ));
        }
        M::UpdateNotificationAck {
            seq,
            status,
            reserved,
        } => {
            m.push(Node::uint("Sequence Number", seq as u64, ""));
            m.push(Node::uint("Status", status as u64, ""));
            m.push(Node::uint("Reserved", reserved as u64, ""));
        }
        M::Unknown { data, .. } => m.push(Node::bytes("Message Data", data, "")),
    }
    root.push(m);
    if r.options.iter().next().is_some() {
        let mut o = Node::branch("Mobility Options");
        r.options.dissect(&mut o);
        root.push(o);
    }
    root
}

/// Parses a bare Mobility Header (the payload of IPv6 next header 135) and renders it.
pub fn dissect(data: &[u8]) -> Result<Node> {
    Ok(Repr::parse(data)?.dissect())
}
