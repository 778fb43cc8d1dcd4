//! EAP-AKA (type 23, RFC 4187) and EAP-AKA' (type 50, RFC 9048): subtypes and attributes.
//!
//! Both methods share one layout after the EAP Type byte: Subtype (1), Reserved (2), then
//! attributes, each Type (1), Length (1, in units of 4 bytes, whole attribute), Value.
//!
//! * Every attribute of RFC 4187 and RFC 9048 has a typed variant; unknown ones are kept raw
//!   in [`Attribute::Unknown`]. Whether an unknown attribute may be ignored is the engine's
//!   decision: [`is_skippable`] (types 128–255 may be skipped, 0–127 may not; RFC 4187 §8.1)
//!   and [`Message::first_non_skippable_unknown`] tell it.
//! * Reserved fields, padding and AT_PADDING contents are kept as received.
//! * Attributes that travel encrypted inside AT_ENCR_DATA (AT_NEXT_PSEUDONYM,
//!   AT_NEXT_REAUTH_ID, AT_PADDING, AT_COUNTER, AT_COUNTER_TOO_SMALL, AT_NONCE_S) are parsed
//!   from the decrypted plaintext with the same parser: [`parse_attributes`].
//! * AT_MAC: emit with a zeroed MAC, compute the HMAC over the emitted packet (plus whatever
//!   RFC 4187 §10.15 appends), then write it with [`set_mac`]; to verify, [`mac_input`] gives
//!   the packet with the MAC zeroed and [`mac_offset`] where the received value sits.

use super::{text_node, P};
use crate::codec::{pad_to, Reader, Writer};
use crate::dissect::Node;
use crate::{Error, ErrorKind, Result};

enum_with_unknown! {
    /// EAP-AKA subtypes (RFC 4187 §11, IANA "Subtypes").
    pub enum Subtype(u8) {
        Challenge = 1 => "AKA-Challenge",
        AuthenticationReject = 2 => "AKA-Authentication-Reject",
        SynchronizationFailure = 4 => "AKA-Synchronization-Failure",
        Identity = 5 => "AKA-Identity",
        Notification = 12 => "AKA-Notification",
        Reauthentication = 13 => "AKA-Reauthentication",
        ClientError = 14 => "AKA-Client-Error",
    }
}

enum_with_unknown! {
    /// EAP-AKA/SIM attribute types (RFC 4187 §11, RFC 9048 §6, IANA).
    pub enum AttrType(u8) {
        Rand = 1 => "AT_RAND",
        Autn = 2 => "AT_AUTN",
        Res = 3 => "AT_RES",
        Auts = 4 => "AT_AUTS",
        Padding = 6 => "AT_PADDING",
        NonceMt = 7 => "AT_NONCE_MT",
        PermanentIdReq = 10 => "AT_PERMANENT_ID_REQ",
        Mac = 11 => "AT_MAC",
        Notification = 12 => "AT_NOTIFICATION",
        AnyIdReq = 13 => "AT_ANY_ID_REQ",
        Identity = 14 => "AT_IDENTITY",
        VersionList = 15 => "AT_VERSION_LIST",
        SelectedVersion = 16 => "AT_SELECTED_VERSION",
        FullauthIdReq = 17 => "AT_FULLAUTH_ID_REQ",
        Counter = 19 => "AT_COUNTER",
        CounterTooSmall = 20 => "AT_COUNTER_TOO_SMALL",
        NonceS = 21 => "AT_NONCE_S",
        ClientErrorCode = 22 => "AT_CLIENT_ERROR_CODE",
        KdfInput = 23 => "AT_KDF_INPUT",
        Kdf = 24 => "AT_KDF",
        Iv = 129 => "AT_IV",
        EncrData = 130 => "AT_ENCR_DATA",
        NextPseudonym = 132 => "AT_NEXT_PSEUDONYM",
        NextReauthId = 133 => "AT_NEXT_REAUTH_ID",
        Checkcode = 134 => "AT_CHECKCODE",
        ResultInd = 135 => "AT_RESULT_IND",
        Bidding = 136 => "AT_BIDDING",
        IpmsInd = 137 => "AT_IPMS_IND",
        IpmsRes = 138 => "AT_IPMS_RES",
        TrustInd = 139 => "AT_TRUST_IND",
        ShortNameForNetwork = 140 => "AT_SHORT_NAME_FOR_NETWORK",
        FullNameForNetwork = 141 => "AT_FULL_NAME_FOR_NETWORK",
        RqsiInd = 142 => "AT_RQSI_IND",
        RqsiRes = 143 => "AT_RQSI_RES",
        TwanConnMode = 144 => "AT_TWAN_CONN_MODE",
        VirtualNetworkId = 145 => "AT_VIRTUAL_NETWORK_ID",
        VirtualNetworkReq = 146 => "AT_VIRTUAL_NETWORK_REQ",
        ConnectivityType = 147 => "AT_CONNECTIVITY_TYPE",
        HandoverIndication = 148 => "AT_HANDOVER_INDICATION",
        HandoverSessionId = 149 => "AT_HANDOVER_SESSION_ID",
        MnSerialId = 150 => "AT_MN_SERIAL_ID",
        DeviceIdentity = 151 => "AT_DEVICE_IDENTITY",
    }
}

enum_with_unknown! {
    /// AT_NOTIFICATION codes (RFC 4187 §10.19, IANA).
    pub enum NotificationCode(u16) {
        GeneralFailureAfterAuth = 0 => "General Failure after Authentication",
        TemporarilyDenied = 1026 => "User has been temporarily denied access",
        NotSubscribed = 1031 => "User has not subscribed to the requested service",
        GeneralFailure = 16384 => "General Failure",
        Success = 32768 => "Success",
    }
}

enum_with_unknown! {
    /// AT_CLIENT_ERROR_CODE values (RFC 4187 §10.20; 1–3 are EAP-SIM's).
    pub enum ClientErrorCode(u16) {
        UnableToProcess = 0 => "unable to process packet",
        UnsupportedVersion = 1 => "unsupported version",
        InsufficientChallenges = 2 => "insufficient number of challenges",
        RandsNotFresh = 3 => "RANDs are not fresh",
    }
}

enum_with_unknown! {
    /// AT_KDF values (RFC 9048 §6, IANA).
    pub enum Kdf(u16) {
        AkaPrimeWithCkIk = 1 => "EAP-AKA' with CK'/IK'",
    }
}

/// AT_NOTIFICATION S bit: 1 = success, 0 = failure.
pub const NOTIFICATION_S: u16 = 0x8000;
/// AT_NOTIFICATION P bit: 1 = before the challenge (no AT_MAC), 0 = after it.
pub const NOTIFICATION_P: u16 = 0x4000;
/// AT_BIDDING D bit: the server supports EAP-AKA' (RFC 9048 §4).
pub const BIDDING_D: u16 = 0x8000;

/// Whether an attribute of this type may be ignored when not understood (RFC 4187 §8.1).
pub const fn is_skippable(typ: u8) -> bool {
    typ >= 128
}

/// A value with an "Actual Length" (bytes) followed by padding to a 4-byte boundary, as in
/// AT_IDENTITY, AT_NEXT_PSEUDONYM, AT_NEXT_REAUTH_ID and AT_KDF_INPUT. `padding` is what
/// was received; when emitting, zeros are added after it to reach the boundary, so an empty
/// `padding` gives the standard encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Padded<'a> {
    pub value: &'a [u8],
    pub padding: &'a [u8],
}

impl<'a> Padded<'a> {
    pub const fn new(value: &'a [u8]) -> Self {
        Padded {
            value,
            padding: &[],
        }
    }
}

/// One EAP-AKA/AKA' attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute<'a> {
    Rand {
        reserved: u16,
        rand: &'a [u8; 16],
    },
    Autn {
        reserved: u16,
        autn: &'a [u8; 16],
    },
    /// RES Length is in bits (32..128); `res` holds the ⌈bits/8⌉ bytes it covers and
    /// `padding` the rest of the value as received (zeros are appended on emit to reach a
    /// 4-byte boundary).
    Res {
        res_bits: u16,
        res: &'a [u8],
        padding: &'a [u8],
    },
    Auts(&'a [u8; 14]),
    /// The padding bytes (4·Length − 2 of them; RFC 4187 says zeros, checked by the engine).
    Padding(&'a [u8]),
    PermanentIdReq {
        reserved: u16,
    },
    Mac {
        reserved: u16,
        mac: &'a [u8; 16],
    },
    /// The 16-bit code with its S and P bits ([`NOTIFICATION_S`], [`NOTIFICATION_P`]).
    Notification(u16),
    AnyIdReq {
        reserved: u16,
    },
    Identity(Padded<'a>),
    FullauthIdReq {
        reserved: u16,
    },
    Counter(u16),
    CounterTooSmall {
        reserved: u16,
    },
    NonceS {
        reserved: u16,
        nonce_s: &'a [u8; 16],
    },
    ClientErrorCode(u16),
    /// RFC 9048 §3.1: the access network name.
    KdfInput(Padded<'a>),
    Kdf(u16),
    Iv {
        reserved: u16,
        iv: &'a [u8; 16],
    },
    /// Encrypted attributes (a multiple of 16 bytes when well formed; the engine checks).
    EncrData {
        reserved: u16,
        data: &'a [u8],
    },
    NextPseudonym(Padded<'a>),
    NextReauthId(Padded<'a>),
    /// Empty (Length 1) or a SHA-1 (20) / SHA-256 (32) hash.
    Checkcode {
        reserved: u16,
        checkcode: &'a [u8],
    },
    ResultInd {
        reserved: u16,
    },
    /// The D bit ([`BIDDING_D`]) and 15 reserved bits, as received.
    Bidding(u16),
    /// Any other type; `value` is everything after the Type and Length bytes.
    Unknown {
        typ: u8,
        value: &'a [u8],
    },
}

fn arr<'a, const N: usize>(r: &mut Reader<'a>, field: &'static str) -> Result<&'a [u8; N]> {
    r.bytes(N, field)?
        .try_into()
        .map_err(|_| Error::truncated(P, field))
}

fn padded<'a>(r: &mut Reader<'a>, name: &'static str) -> Result<Padded<'a>> {
    let n = r.u16(name)? as usize;
    if n > r.remaining() {
        return Err(Error::bad_length(P, name));
    }
    let value = r.bytes(n, name)?;
    Ok(Padded {
        value,
        padding: r.rest(),
    })
}

impl<'a> Attribute<'a> {
    pub fn typ(&self) -> AttrType {
        AttrType::from(self.type_code())
    }

    /// The numeric attribute type.
    pub fn type_code(&self) -> u8 {
        match self {
            Attribute::Rand { .. } => 1,
            Attribute::Autn { .. } => 2,
            Attribute::Res { .. } => 3,
            Attribute::Auts(_) => 4,
            Attribute::Padding(_) => 6,
            Attribute::PermanentIdReq { .. } => 10,
            Attribute::Mac { .. } => 11,
            Attribute::Notification(_) => 12,
            Attribute::AnyIdReq { .. } => 13,
            Attribute::Identity(_) => 14,
            Attribute::FullauthIdReq { .. } => 17,
            Attribute::Counter(_) => 19,
            Attribute::CounterTooSmall { .. } => 20,
            Attribute::NonceS { .. } => 21,
            Attribute::ClientErrorCode(_) => 22,
            Attribute::KdfInput(_) => 23,
            Attribute::Kdf(_) => 24,
            Attribute::Iv { .. } => 129,
            Attribute::EncrData { .. } => 130,
            Attribute::NextPseudonym(_) => 132,
            Attribute::NextReauthId(_) => 133,
            Attribute::Checkcode { .. } => 134,
            Attribute::ResultInd { .. } => 135,
            Attribute::Bidding(_) => 136,
            Attribute::Unknown { typ, .. } => *typ,
        }
    }

    /// True for [`Attribute::Unknown`] of a type that may be ignored (128–255).
    pub fn is_skippable(&self) -> bool {
        is_skippable(self.type_code())
    }

    /// Parses one attribute at the reader's position.
    pub fn parse(r: &mut Reader<'a>) -> Result<Self> {
        let typ = r.u8("attribute.Type")?;
        let units = r.u8("attribute.Length")?;
        if units == 0 {
            return Err(Error::bad_length(P, "attribute.Length"));
        }
        let value_len = units as usize * 4 - 2;
        let mut v = r.sub(value_len, "attribute.Length")?;
        let v = &mut v;
        // Fixed-length attributes must have exactly their length.
        let fixed = |want: u8, field: &'static str| -> Result<()> {
            if units == want {
                Ok(())
            } else {
                Err(Error::bad_length(P, field))
            }
        };
        let a = match typ {
            1 => {
                fixed(5, "AT_RAND.Length")?;
                Attribute::Rand {
                    reserved: v.u16("AT_RAND.Reserved")?,
                    rand: arr(v, "AT_RAND.RAND")?,
                }
            }
            2 => {
                fixed(5, "AT_AUTN.Length")?;
                Attribute::Autn {
                    reserved: v.u16("AT_AUTN.Reserved")?,
                    autn: arr(v, "AT_AUTN.AUTN")?,
                }
            }
            3 => {
                let res_bits = v.u16("AT_RES.RES Length")?;
                let n = (res_bits as usize).div_ceil(8);
                if n > v.remaining() {
                    return Err(Error::bad_length(P, "AT_RES.RES Length"));
                }
                let res = v.bytes(n, "AT_RES.RES")?;
                Attribute::Res {
                    res_bits,
                    res,
                    padding: v.rest(),
                }
            }
            4 => {
                fixed(4, "AT_AUTS.Length")?;
                Attribute::Auts(arr(v, "AT_AUTS.AUTS")?)
            }
            6 => Attribute::Padding(v.rest()),
            10 => {
                fixed(1, "AT_PERMANENT_ID_REQ.Length")?;
                Attribute::PermanentIdReq {
                    reserved: v.u16("AT_PERMANENT_ID_REQ.Reserved")?,
                }
            }
            11 => {
                fixed(5, "AT_MAC.Length")?;
                Attribute::Mac {
                    reserved: v.u16("AT_MAC.Reserved")?,
                    mac: arr(v, "AT_MAC.MAC")?,
                }
            }
            12 => {
                fixed(1, "AT_NOTIFICATION.Length")?;
                Attribute::Notification(v.u16("AT_NOTIFICATION.Notification Code")?)
            }
            13 => {
                fixed(1, "AT_ANY_ID_REQ.Length")?;
                Attribute::AnyIdReq {
                    reserved: v.u16("AT_ANY_ID_REQ.Reserved")?,
                }
            }
            14 => Attribute::Identity(padded(v, "AT_IDENTITY.Actual Identity Length")?),
            17 => {
                fixed(1, "AT_FULLAUTH_ID_REQ.Length")?;
                Attribute::FullauthIdReq {
                    reserved: v.u16("AT_FULLAUTH_ID_REQ.Reserved")?,
                }
            }
            19 => {
                fixed(1, "AT_COUNTER.Length")?;
                Attribute::Counter(v.u16("AT_COUNTER.Counter")?)
            }
            20 => {
                fixed(1, "AT_COUNTER_TOO_SMALL.Length")?;
                Attribute::CounterTooSmall {
                    reserved: v.u16("AT_COUNTER_TOO_SMALL.Reserved")?,
                }
            }
            21 => {
                fixed(5, "AT_NONCE_S.Length")?;
                Attribute::NonceS {
                    reserved: v.u16("AT_NONCE_S.Reserved")?,
                    nonce_s: arr(v, "AT_NONCE_S.NONCE_S")?,
                }
            }
            22 => {
                fixed(1, "AT_CLIENT_ERROR_CODE.Length")?;
                Attribute::ClientErrorCode(v.u16("AT_CLIENT_ERROR_CODE.Client Error Code")?)
            }
            23 => Attribute::KdfInput(padded(v, "AT_KDF_INPUT.Actual Network Name Length")?),
            24 => {
                fixed(1, "AT_KDF.Length")?;
                Attribute::Kdf(v.u16("AT_KDF.Key Derivation Function")?)
            }
            129 => {
                fixed(5, "AT_IV.Length")?;
                Attribute::Iv {
                    reserved: v.u16("AT_IV.Reserved")?,
                    iv: arr(v, "AT_IV.Initialization Vector")?,
                }
            }
            130 => Attribute::EncrData {
                reserved: v.u16("AT_ENCR_DATA.Reserved")?,
                data: v.rest(),
            },
            132 => {
                Attribute::NextPseudonym(padded(v, "AT_NEXT_PSEUDONYM.Actual Pseudonym Length")?)
            }
            133 => Attribute::NextReauthId(padded(
                v,
                "AT_NEXT_REAUTH_ID.Actual Re-Auth Identity Length",
            )?),
            134 => Attribute::Checkcode {
                reserved: v.u16("AT_CHECKCODE.Reserved")?,
                checkcode: v.rest(),
            },
            135 => {
                fixed(1, "AT_RESULT_IND.Length")?;
                Attribute::ResultInd {
                    reserved: v.u16("AT_RESULT_IND.Reserved")?,
                }
            }
            136 => {
                fixed(1, "AT_BIDDING.Length")?;
                Attribute::Bidding(v.u16("AT_BIDDING.D")?)
            }
            typ => Attribute::Unknown {
                typ,
                value: v.rest(),
            },
        };
        Ok(a)
    }

    /// Length of the whole attribute on the wire, in bytes (a multiple of 4).
    pub fn buffer_len(&self) -> usize {
        let body = match self {
            Attribute::Rand { .. }
            | Attribute::Autn { .. }
            | Attribute::Mac { .. }
            | Attribute::NonceS { .. }
            | Attribute::Iv { .. } => 18,
            Attribute::Res { res, padding, .. } => 2 + res.len() + padding.len(),
            Attribute::Auts(_) => 14,
            Attribute::Padding(p) => p.len(),
            Attribute::Identity(p)
            | Attribute::KdfInput(p)
            | Attribute::NextPseudonym(p)
            | Attribute::NextReauthId(p) => 2 + p.value.len() + p.padding.len(),
            Attribute::EncrData { data, .. } => 2 + data.len(),
            Attribute::Checkcode { checkcode, .. } => 2 + checkcode.len(),
            Attribute::Unknown { value, .. } => value.len(),
            _ => 2,
        };
        let n = 2 + body;
        n + pad_to(n, 4)
    }

    /// Appends the attribute; the Length is computed and zero padding added to a 4-byte
    /// boundary where the value does not reach one.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.put_u8(self.type_code());
        out.put_u8(0);
        match self {
            Attribute::Rand { reserved, rand: b }
            | Attribute::Autn { reserved, autn: b }
            | Attribute::Mac { reserved, mac: b }
            | Attribute::NonceS {
                reserved,
                nonce_s: b,
            }
            | Attribute::Iv { reserved, iv: b } => {
                out.put_u16(*reserved);
                out.put(&b[..]);
            }
            Attribute::Res {
                res_bits,
                res,
                padding,
            } => {
                if (*res_bits as usize).div_ceil(8) != res.len() {
                    return Err(Error::bad_length(P, "AT_RES.RES Length"));
                }
                out.put_u16(*res_bits);
                out.put(res);
                out.put(padding);
            }
            Attribute::Auts(b) => out.put(&b[..]),
            Attribute::Padding(p) => {
                if p.is_empty() || !(p.len() + 2).is_multiple_of(4) {
                    return Err(Error::bad_length(P, "AT_PADDING.Length"));
                }
                out.put(p)
            }
            Attribute::PermanentIdReq { reserved }
            | Attribute::AnyIdReq { reserved }
            | Attribute::FullauthIdReq { reserved }
            | Attribute::CounterTooSmall { reserved }
            | Attribute::ResultInd { reserved }
            | Attribute::Notification(reserved)
            | Attribute::Counter(reserved)
            | Attribute::ClientErrorCode(reserved)
            | Attribute::Kdf(reserved)
            | Attribute::Bidding(reserved) => out.put_u16(*reserved),
            Attribute::Identity(p)
            | Attribute::KdfInput(p)
            | Attribute::NextPseudonym(p)
            | Attribute::NextReauthId(p) => {
                let n = u16::try_from(p.value.len())
                    .map_err(|_| Error::too_long(P, "attribute.Actual Length"))?;
                out.put_u16(n);
                out.put(p.value);
                out.put(p.padding);
            }
            Attribute::EncrData { reserved, data: b }
            | Attribute::Checkcode {
                reserved,
                checkcode: b,
            } => {
                out.put_u16(*reserved);
                out.put(b);
            }
            Attribute::Unknown { typ, value } => {
                // A known type must use its variant, or parse would not give this back.
                if known_layout(*typ) {
                    return Err(Error::bad_value(P, "attribute.Type"));
                }
                out.put(value)
            }
        }
        let n = out.len() - start;
        if !n.is_multiple_of(4) {
            // Only values that end short of the boundary get zeros; parse keeps them as padding.
            match self {
                Attribute::Res { .. }
                | Attribute::Identity(_)
                | Attribute::KdfInput(_)
                | Attribute::NextPseudonym(_)
                | Attribute::NextReauthId(_)
                | Attribute::Unknown { .. } => out.put_zeros(pad_to(n, 4)),
                _ => return Err(Error::bad_length(P, "attribute.Length")),
            }
        }
        let units = (out.len() - start) / 4;
        let units = u8::try_from(units).map_err(|_| Error::too_long(P, "attribute.Length"))?;
        out.patch_u8(start + 1, units);
        Ok(())
    }
}

/// Types whose parse never yields [`Attribute::Unknown`].
fn known_layout(typ: u8) -> bool {
    matches!(
        typ,
        1 | 2
            | 3
            | 4
            | 6
            | 10
            | 11
            | 12
            | 13
            | 14
            | 17
            | 19
            | 20
            | 21
            | 22
            | 23
            | 24
            | 129
            | 130
            | 132..=136
    )
}

/// Parses a sequence of attributes filling `buf` exactly: the body of a message, or the
/// decrypted plaintext of AT_ENCR_DATA.
pub fn parse_attributes(buf: &[u8]) -> Result<Vec<Attribute<'_>>> {
    let mut r = Reader::new(P, buf);
    let mut v = Vec::with_capacity(buf.len() / 8);
    while !r.is_empty() {
        v.push(Attribute::parse(&mut r)?);
    }
    Ok(v)
}

/// Appends attributes back to back (e.g. the plaintext of AT_ENCR_DATA before encryption;
/// the engine adds AT_PADDING to reach a 16-byte multiple).
pub fn emit_attributes(attrs: &[Attribute<'_>], out: &mut Vec<u8>) -> Result<()> {
    for a in attrs {
        a.emit(out)?;
    }
    Ok(())
}

/// The Type-Data of an EAP-AKA or EAP-AKA' Request/Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    pub subtype: Subtype,
    pub reserved: u16,
    pub attributes: Vec<Attribute<'a>>,
}

impl<'a> Message<'a> {
    pub fn new(subtype: Subtype, attributes: Vec<Attribute<'a>>) -> Self {
        Message {
            subtype,
            reserved: 0,
            attributes,
        }
    }

    /// Parses the bytes after the EAP Type byte.
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let subtype = Subtype::from(r.u8("AKA.Subtype")?);
        let reserved = r.u16("AKA.Reserved")?;
        let attributes = parse_attributes(r.rest())?;
        Ok(Message {
            subtype,
            reserved,
            attributes,
        })
    }

    pub fn buffer_len(&self) -> usize {
        3 + self
            .attributes
            .iter()
            .map(Attribute::buffer_len)
            .sum::<usize>()
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put_u8(self.subtype.value());
        out.put_u16(self.reserved);
        emit_attributes(&self.attributes, out)
    }

    /// The first attribute of this type.
    pub fn attribute(&self, typ: AttrType) -> Option<&Attribute<'a>> {
        let t = typ.value();
        self.attributes.iter().find(|a| a.type_code() == t)
    }

    /// The type of the first attribute this codec does not know and that may not be ignored
    /// (0–127): the engine must then reject the message (RFC 4187 §8.1).
    pub fn first_non_skippable_unknown(&self) -> Option<u8> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Unknown { typ, .. } if !is_skippable(*typ) => Some(*typ),
            _ => None,
        })
    }
}

/// Offset of the 16-byte AT_MAC value in an EAP-AKA/AKA' packet (from the first byte of
/// the EAP header), `None` when the packet has no AT_MAC. Walks the bytes, no allocation.
pub fn mac_offset(eap_packet: &[u8]) -> Result<Option<usize>> {
    let p = super::Packet::new_checked(eap_packet)?;
    if !matches!(p.typ(), Some(23) | Some(50)) {
        return Err(Error::bad_value(P, "Type"));
    }
    let msg = p.message();
    let mut pos = super::HEADER_LEN + 4;
    if msg.len() < pos {
        return Err(Error::truncated(P, "AKA.Reserved"));
    }
    while pos < msg.len() {
        let (typ, units) = match msg.get(pos..pos + 2) {
            Some(h) => (h[0], h[1] as usize),
            None => return Err(Error::truncated(P, "attribute.Length")),
        };
        if units == 0 {
            return Err(Error::bad_length(P, "attribute.Length"));
        }
        let end = pos + units * 4;
        if end > msg.len() {
            return Err(Error::truncated(P, "attribute.Length"));
        }
        if typ == AttrType::Mac.value() {
            if units != 5 {
                return Err(Error::bad_length(P, "AT_MAC.Length"));
            }
            return Ok(Some(pos + 4));
        }
        pos = end;
    }
    Ok(None)
}

/// Writes `mac` into the AT_MAC of an emitted packet.
pub fn set_mac(eap_packet: &mut [u8], mac: &[u8; 16]) -> Result<()> {
    let at = mac_offset(eap_packet)?.ok_or_else(|| Error::new(P, "AT_MAC", ErrorKind::BadValue))?;
    eap_packet
        .get_mut(at..at + 16)
        .ok_or_else(|| Error::truncated(P, "AT_MAC.MAC"))?
        .copy_from_slice(mac);
    Ok(())
}

/// Appends the packet with its AT_MAC value zeroed: the start of the HMAC input of
/// RFC 4187 §10.15 (the engine appends NONCE_MT/NONCE_S or nothing, as the subtype asks).
pub fn mac_input(eap_packet: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let at = mac_offset(eap_packet)?.ok_or_else(|| Error::new(P, "AT_MAC", ErrorKind::BadValue))?;
    let len = super::Packet::new_unchecked(eap_packet).length() as usize;
    let msg = &eap_packet[..len.min(eap_packet.len())];
    let start = out.len();
    out.put(msg);
    out[start + at..start + at + 16].fill(0);
    Ok(())
}

/// Adds the subtype and attribute lines under an EAP node (Wireshark's `eap.aka.*`).
pub(crate) fn dissect_into(n: &mut Node, m: &Message<'_>) {
    n.push(Node::code(
        "EAP-AKA Subtype",
        m.subtype,
        m.subtype.value().into(),
        "eap.aka.subtype",
    ));
    n.push(Node::uint(
        "EAP-AKA Reserved",
        m.reserved.into(),
        "eap.aka.reserved",
    ));
    for a in &m.attributes {
        n.push(dissect_attribute(a));
    }
}

/// One attribute as a tree (also used for decrypted AT_ENCR_DATA contents).
pub fn dissect_attribute(a: &Attribute<'_>) -> Node {
    let t = a.typ();
    let len = a.buffer_len();
    let mut n = Node::new("EAP-AKA Attribute", format!("{t} ({})", t.value()))
        .with(Node::uint("Type", t.value().into(), "eap.aka.subtype.type"))
        .with(Node::uint(
            "Length",
            (len / 4) as u64,
            "eap.aka.subtype.len",
        ));
    // tshark shows everything after Type and Length as one value, except for the three
    // attributes it decodes (AT_IDENTITY, AT_NOTIFICATION, AT_CLIENT_ERROR_CODE).
    let mut raw = Vec::with_capacity(len);
    if a.emit(&mut raw).is_ok()
        && !matches!(
            a,
            Attribute::Identity(_) | Attribute::Notification(_) | Attribute::ClientErrorCode(_)
        )
    {
        n.push(Node::bytes("Value", &raw[2..], "eap.aka.subtype.value"));
    }
    let reserved = |n: &mut Node, r: u16| n.push(Node::uint("Reserved", r.into(), ""));
    match a {
        Attribute::Rand { reserved: r, rand } => {
            reserved(&mut n, *r);
            n.push(Node::bytes("RAND", &rand[..], ""));
        }
        Attribute::Autn { reserved: r, autn } => {
            reserved(&mut n, *r);
            n.push(Node::bytes("AUTN", &autn[..], ""));
        }
        Attribute::Res {
            res_bits,
            res,
            padding,
        } => {
            n.push(Node::uint("RES Length (bits)", (*res_bits).into(), ""));
            n.push(Node::bytes("RES", res, ""));
            if !padding.is_empty() {
                n.push(Node::bytes("Padding", padding, ""));
            }
        }
        Attribute::Auts(b) => n.push(Node::bytes("AUTS", &b[..], "")),
        Attribute::Padding(p) => n.push(Node::bytes("Padding", p, "")),
        Attribute::Mac { reserved: r, mac } => {
            reserved(&mut n, *r);
            n.push(Node::bytes("MAC", &mac[..], ""));
        }
        Attribute::Notification(c) => {
            let code = NotificationCode::from(*c);
            n.push(Node::code(
                "Notification Code",
                code,
                (*c).into(),
                "eap.aka.notification_type",
            ));
            n.push(Node::new(
                "S (success)",
                u8::from(c & NOTIFICATION_S != 0).to_string(),
            ));
            n.push(Node::new(
                "P (before challenge)",
                u8::from(c & NOTIFICATION_P != 0).to_string(),
            ));
        }
        Attribute::ClientErrorCode(c) => {
            let code = ClientErrorCode::from(*c);
            n.push(Node::code(
                "Client Error Code",
                code,
                (*c).into(),
                "eap.aka.error_code",
            ));
        }
        Attribute::Identity(p) => {
            n.push(Node::uint(
                "Actual Identity Length",
                p.value.len() as u64,
                "eap.identity.actual_len",
            ));
            n.push(text_node("Identity", p.value, "eap.identity"));
            if !p.padding.is_empty() {
                n.push(Node::bytes("Padding", p.padding, "eap.identity.padding"));
            }
        }
        Attribute::KdfInput(p) | Attribute::NextPseudonym(p) | Attribute::NextReauthId(p) => {
            n.push(Node::uint("Actual Length", p.value.len() as u64, ""));
            n.push(text_node("Value", p.value, ""));
            if !p.padding.is_empty() {
                n.push(Node::bytes("Padding", p.padding, ""));
            }
        }
        Attribute::PermanentIdReq { reserved: r }
        | Attribute::AnyIdReq { reserved: r }
        | Attribute::FullauthIdReq { reserved: r }
        | Attribute::CounterTooSmall { reserved: r }
        | Attribute::ResultInd { reserved: r } => reserved(&mut n, *r),
        Attribute::Counter(c) => n.push(Node::uint("Counter", (*c).into(), "")),
        Attribute::NonceS {
            reserved: r,
            nonce_s,
        } => {
            reserved(&mut n, *r);
            n.push(Node::bytes("NONCE_S", &nonce_s[..], ""));
        }
        Attribute::Kdf(k) => {
            let kdf = Kdf::from(*k);
            n.push(Node::code("Key Derivation Function", kdf, (*k).into(), ""));
        }
        Attribute::Iv { reserved: r, iv } => {
            reserved(&mut n, *r);
            n.push(Node::bytes("IV", &iv[..], ""));
        }
        Attribute::EncrData { reserved: r, data } => {
            reserved(&mut n, *r);
            n.push(Node::bytes("Encrypted Data", data, ""));
        }
        Attribute::Checkcode {
            reserved: r,
            checkcode,
        } => {
            reserved(&mut n, *r);
            n.push(Node::bytes("Checkcode", checkcode, ""));
        }
        Attribute::Bidding(b) => {
            n.push(Node::new(
                "D (AKA' supported)",
                u8::from(b & BIDDING_D != 0).to_string(),
            ));
            n.push(Node::uint("Reserved", (b & !BIDDING_D).into(), ""));
        }
        Attribute::Unknown { typ, value } => {
            let skip = if is_skippable(*typ) {
                "skippable"
            } else {
                "non-skippable"
            };
            n.push(Node::new("Skippable", skip));
            n.push(Node::bytes("Value", value, ""));
        }
    }
    n
}
