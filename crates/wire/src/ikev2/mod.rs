//! IKEv2 (RFC 7296) messages: the header, the generic payload chain and every payload type
//! the mobility flows use, with the extensions RFC 4555 (MOBIKE), RFC 5998 (EAP-only),
//! RFC 7383 (fragmentation), RFC 7427 (signature hash algorithms), RFC 5026/5739/7651 and
//! 3GPP TS 24.302 configuration attributes; NAT traversal framing on UDP 4500 (RFC 3948).
//!
//! One file per payload family, strongSwan style. The SK and SKF payloads are kept as
//! ciphertext; [`sk`] has what the engine needs to protect and unprotect a message. This
//! module does no cryptography and never panics.
//!
//! Exactness: reserved bytes and the critical/reserved byte of each generic payload header
//! are kept raw; values derived from the structure (Next Payload, lengths, Last Substruc,
//! counts) are computed on emit and checked on parse, so `emit(parse(b)) == b`.

use crate::codec::Writer;
use crate::{Error, ErrorKind, Reader, Result};

pub mod auth;
pub mod cert;
pub mod cp;
pub mod delete;
mod dissect;
pub mod header;
pub mod id;
pub mod ke;
pub mod natt;
pub mod notify;
pub mod sa;
mod samples;
pub mod sk;
pub mod ts;

#[cfg(test)]
mod tests;

pub use auth::{Auth, AuthMethod};
pub use cert::{Cert, CertEncoding, CertReq};
pub use cp::{CfgAttrType, CfgAttribute, CfgType, CfgValue, Cp};
pub use delete::Delete;
pub use dissect::{
    dissect, dissect_null_encrypted, dissect_udp4500, dissect_with_decrypt, Decrypt,
};
pub use header::{flags, Header, Packet, HEADER_LEN};
pub use id::{Id, IdType};
pub use ke::Ke;
pub use natt::{classify_udp4500, Udp4500, NAT_KEEPALIVE, NON_ESP_MARKER};
pub use notify::{HashAlgorithm, Notify, NotifyType};
pub use sa::{
    AttributeValue, DhGroup, EncrId, EsnId, IntegId, PrfId, Proposal, Sa, Transform,
    TransformAttribute, TransformType,
};
pub use samples::samples;
pub use sk::{
    emit_encrypted, emit_inner, encrypted_layout, EncryptedKind, EncryptedLayout, Plaintext,
    SkParams,
};
pub use sk::{Encrypted, EncryptedFragment};
pub use ts::{TrafficSelector, Ts, TsType};

/// Protocol name in errors.
pub(crate) const P: &str = "ikev2";

/// IKE's UDP port.
pub const PORT: u16 = 500;
/// IKE's NAT-traversal UDP port, shared with UDP-encapsulated ESP (RFC 3948).
pub const NATT_PORT: u16 = 4500;

enum_with_unknown! {
    /// Exchange Types (IANA "IKEv2 Exchange Types").
    pub enum ExchangeType(u8) {
        IkeSaInit = 34 => "IKE_SA_INIT",
        IkeAuth = 35 => "IKE_AUTH",
        CreateChildSa = 36 => "CREATE_CHILD_SA",
        Informational = 37 => "INFORMATIONAL",
        /// RFC 5723.
        IkeSessionResume = 38 => "IKE_SESSION_RESUME",
        GsaAuth = 39 => "GSA_AUTH",
        GsaRegistration = 40 => "GSA_REGISTRATION",
        GsaRekey = 41 => "GSA_REKEY",
        /// RFC 9242.
        IkeIntermediate = 43 => "IKE_INTERMEDIATE",
        /// RFC 9370.
        IkeFollowupKe = 44 => "IKE_FOLLOWUP_KE",
    }
}

enum_with_unknown! {
    /// Payload Types (IANA "IKEv2 Payload Types").
    pub enum PayloadType(u8) {
        NoNext = 0 => "No Next Payload",
        Sa = 33 => "SA",
        Ke = 34 => "KE",
        IdI = 35 => "IDi",
        IdR = 36 => "IDr",
        Cert = 37 => "CERT",
        CertReq = 38 => "CERTREQ",
        Auth = 39 => "AUTH",
        Nonce = 40 => "Ni, Nr",
        Notify = 41 => "N",
        Delete = 42 => "D",
        VendorId = 43 => "V",
        TsI = 44 => "TSi",
        TsR = 45 => "TSr",
        Sk = 46 => "SK",
        Cp = 47 => "CP",
        Eap = 48 => "EAP",
        /// RFC 6467.
        Gspm = 49 => "GSPM",
        IdG = 50 => "IDg",
        Gsa = 51 => "GSA",
        Kd = 52 => "KD",
        /// RFC 7383.
        Skf = 53 => "SKF",
        /// RFC 8019.
        Ps = 54 => "PS",
    }
}

enum_with_unknown! {
    /// Security Protocol Identifiers (RFC 7296 §3.3.1); 0 in a Notify about the IKE SA.
    pub enum ProtocolId(u8) {
        None = 0 => "NONE",
        Ike = 1 => "IKE",
        Ah = 2 => "AH",
        Esp = 3 => "ESP",
    }
}

/// The body of one payload, by type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PayloadBody<'a> {
    Sa(Sa<'a>),
    Ke(Ke<'a>),
    IdI(Id<'a>),
    IdR(Id<'a>),
    Cert(Cert<'a>),
    CertReq(CertReq<'a>),
    Auth(Auth<'a>),
    /// Ni or Nr: the nonce data.
    Nonce(&'a [u8]),
    Notify(Notify<'a>),
    Delete(Delete<'a>),
    /// Vendor ID: opaque.
    VendorId(&'a [u8]),
    TsI(Ts<'a>),
    TsR(Ts<'a>),
    /// SK: must be the last payload of its chain.
    Sk(Encrypted<'a>),
    Cp(Cp<'a>),
    /// EAP: an opaque EAP message (decoded by the `eap` module).
    Eap(&'a [u8]),
    /// SKF: must be the last payload of its chain.
    Skf(EncryptedFragment<'a>),
    /// Any other payload type, body verbatim.
    Unknown {
        payload_type: u8,
        data: &'a [u8],
    },
}

/// One payload: the raw critical/reserved byte of its generic header and its body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Payload<'a> {
    /// The byte after Next Payload: the Critical bit (0x80) and 7 reserved bits, as received.
    pub flags: u8,
    pub body: PayloadBody<'a>,
}

impl<'a> From<PayloadBody<'a>> for Payload<'a> {
    fn from(body: PayloadBody<'a>) -> Self {
        Payload { flags: 0, body }
    }
}

impl<'a> Payload<'a> {
    /// Critical bit mask.
    pub const CRITICAL: u8 = 0x80;

    pub fn new(body: PayloadBody<'a>) -> Self {
        Payload { flags: 0, body }
    }

    pub fn is_critical(&self) -> bool {
        self.flags & Self::CRITICAL != 0
    }

    pub fn payload_type(&self) -> PayloadType {
        match &self.body {
            PayloadBody::Sa(_) => PayloadType::Sa,
            PayloadBody::Ke(_) => PayloadType::Ke,
            PayloadBody::IdI(_) => PayloadType::IdI,
            PayloadBody::IdR(_) => PayloadType::IdR,
            PayloadBody::Cert(_) => PayloadType::Cert,
            PayloadBody::CertReq(_) => PayloadType::CertReq,
            PayloadBody::Auth(_) => PayloadType::Auth,
            PayloadBody::Nonce(_) => PayloadType::Nonce,
            PayloadBody::Notify(_) => PayloadType::Notify,
            PayloadBody::Delete(_) => PayloadType::Delete,
            PayloadBody::VendorId(_) => PayloadType::VendorId,
            PayloadBody::TsI(_) => PayloadType::TsI,
            PayloadBody::TsR(_) => PayloadType::TsR,
            PayloadBody::Sk(_) => PayloadType::Sk,
            PayloadBody::Cp(_) => PayloadType::Cp,
            PayloadBody::Eap(_) => PayloadType::Eap,
            PayloadBody::Skf(_) => PayloadType::Skf,
            PayloadBody::Unknown { payload_type, .. } => PayloadType::from(*payload_type),
        }
    }

    /// Parses a body of the given type. For SK/SKF, `next` is the Next Payload field of
    /// the generic header (the first inner payload's type).
    pub fn parse_body(ty: PayloadType, flags: u8, next: u8, body: &'a [u8]) -> Result<Self> {
        let body = match ty {
            PayloadType::Sa => PayloadBody::Sa(Sa::parse(body)?),
            PayloadType::Ke => PayloadBody::Ke(Ke::parse(body)?),
            PayloadType::IdI => PayloadBody::IdI(Id::parse(body)?),
            PayloadType::IdR => PayloadBody::IdR(Id::parse(body)?),
            PayloadType::Cert => PayloadBody::Cert(Cert::parse(body)?),
            PayloadType::CertReq => PayloadBody::CertReq(Cert::parse(body)?),
            PayloadType::Auth => PayloadBody::Auth(Auth::parse(body)?),
            PayloadType::Nonce => PayloadBody::Nonce(body),
            PayloadType::Notify => PayloadBody::Notify(Notify::parse(body)?),
            PayloadType::Delete => PayloadBody::Delete(Delete::parse(body)?),
            PayloadType::VendorId => PayloadBody::VendorId(body),
            PayloadType::TsI => PayloadBody::TsI(Ts::parse(body)?),
            PayloadType::TsR => PayloadBody::TsR(Ts::parse(body)?),
            PayloadType::Sk => PayloadBody::Sk(Encrypted {
                first_payload: PayloadType::from(next),
                data: body,
            }),
            PayloadType::Cp => PayloadBody::Cp(Cp::parse(body)?),
            PayloadType::Eap => PayloadBody::Eap(body),
            PayloadType::Skf => {
                PayloadBody::Skf(EncryptedFragment::parse(PayloadType::from(next), body)?)
            }
            other => PayloadBody::Unknown {
                payload_type: other.into(),
                data: body,
            },
        };
        Ok(Payload { flags, body })
    }

    /// Appends the body only.
    pub fn emit_body(&self, out: &mut Vec<u8>) -> Result<()> {
        match &self.body {
            PayloadBody::Sa(b) => b.emit(out),
            PayloadBody::Ke(b) => b.emit(out),
            PayloadBody::IdI(b) | PayloadBody::IdR(b) => b.emit(out),
            PayloadBody::Cert(b) | PayloadBody::CertReq(b) => b.emit(out),
            PayloadBody::Auth(b) => b.emit(out),
            PayloadBody::Notify(b) => b.emit(out),
            PayloadBody::Delete(b) => b.emit(out),
            PayloadBody::TsI(b) | PayloadBody::TsR(b) => b.emit(out),
            PayloadBody::Cp(b) => b.emit(out),
            PayloadBody::Nonce(d) | PayloadBody::VendorId(d) | PayloadBody::Eap(d) => {
                out.put(d);
                Ok(())
            }
            PayloadBody::Sk(e) => {
                out.put(e.data);
                Ok(())
            }
            PayloadBody::Skf(f) => {
                out.put_u16(f.fragment_number);
                out.put_u16(f.total_fragments);
                out.put(f.data);
                Ok(())
            }
            PayloadBody::Unknown { payload_type, data } => {
                if *payload_type == 0 || has_typed_body(PayloadType::from(*payload_type)) {
                    return Err(Error::bad_value(P, "payload.type"));
                }
                out.put(data);
                Ok(())
            }
        }
    }

    /// Length of the payload with its 4-byte generic header.
    pub fn buffer_len(&self) -> usize {
        4 + match &self.body {
            PayloadBody::Sa(b) => b.buffer_len(),
            PayloadBody::Ke(b) => b.buffer_len(),
            PayloadBody::IdI(b) | PayloadBody::IdR(b) => b.buffer_len(),
            PayloadBody::Cert(b) | PayloadBody::CertReq(b) => b.buffer_len(),
            PayloadBody::Auth(b) => b.buffer_len(),
            PayloadBody::Notify(b) => b.buffer_len(),
            PayloadBody::Delete(b) => b.buffer_len(),
            PayloadBody::TsI(b) | PayloadBody::TsR(b) => b.buffer_len(),
            PayloadBody::Cp(b) => b.buffer_len(),
            PayloadBody::Nonce(d) | PayloadBody::VendorId(d) | PayloadBody::Eap(d) => d.len(),
            PayloadBody::Sk(e) => e.data.len(),
            PayloadBody::Skf(f) => 4 + f.data.len(),
            PayloadBody::Unknown { data, .. } => data.len(),
        }
    }

    /// The Next Payload value this payload's header carries for itself when it is SK/SKF
    /// (the first inner type), `None` for other payloads (whose Next Payload is the type of
    /// the following payload).
    fn own_next(&self) -> Option<PayloadType> {
        match &self.body {
            PayloadBody::Sk(e) => Some(e.first_payload),
            PayloadBody::Skf(f) => Some(f.first_payload),
            _ => None,
        }
    }
}

/// Whether `parse_body` gives this type its own variant (else it is kept as `Unknown`).
fn has_typed_body(ty: PayloadType) -> bool {
    use PayloadType::*;
    matches!(
        ty,
        Sa | Ke
            | IdI
            | IdR
            | Cert
            | CertReq
            | Auth
            | Nonce
            | Notify
            | Delete
            | VendorId
            | TsI
            | TsR
            | Sk
            | Cp
            | Eap
            | Skf
    )
}

/// Parses a payload chain that starts with a payload of type `first` and fills `data`
/// exactly. An SK/SKF payload ends the chain (RFC 7296 §3.14: it must be last).
/// This is also the parser for the decrypted inner chain of an SK payload (give the SK
/// header's Next Payload as `first`, and the plaintext without padding; see
/// [`sk::Plaintext`] to split the padding).
pub fn parse_chain(first: u8, data: &[u8]) -> Result<Vec<Payload<'_>>> {
    let mut r = Reader::new(P, data);
    // A payload is at least 4 bytes; most messages carry fewer than 16.
    let mut payloads = Vec::with_capacity((data.len() / 4).min(16));
    let mut next = first;
    while next != 0 {
        let ty = PayloadType::from(next);
        next = r.u8("payload.next_payload")?;
        let flags = r.u8("payload.critical")?;
        let len = r.u16("payload.length")? as usize;
        if len < 4 {
            return Err(r.err("payload.length", ErrorKind::BadLength));
        }
        let body = r.bytes(len - 4, "payload.length")?;
        let p = Payload::parse_body(ty, flags, next, body)?;
        let last = p.own_next().is_some();
        payloads.push(p);
        if last {
            r.finish("SK")?;
            return Ok(payloads);
        }
    }
    r.finish("payload.next_payload")?;
    Ok(payloads)
}

/// Emits a chain whose last payload's Next Payload is `after` (0 for a complete chain).
pub(crate) fn emit_chain_with_last(
    payloads: &[Payload<'_>],
    after: PayloadType,
    out: &mut Vec<u8>,
) -> Result<()> {
    for (i, p) in payloads.iter().enumerate() {
        let following = payloads
            .get(i + 1)
            .map(|q| q.payload_type())
            .unwrap_or(after);
        let next = match p.own_next() {
            Some(inner) => {
                if i + 1 != payloads.len() || after != PayloadType::NoNext {
                    return Err(Error::bad_value(P, "SK"));
                }
                inner
            }
            None => following,
        };
        let start = out.len();
        out.put_u8(next.into());
        out.put_u8(p.flags);
        out.put_u16(0);
        p.emit_body(out)?;
        out.patch_len_u16(start + 2, start, 0, P, "payload.length")?;
    }
    Ok(())
}

/// Emits a complete payload chain (no header); returns the first payload's type.
pub fn emit_chain(payloads: &[Payload<'_>], out: &mut Vec<u8>) -> Result<PayloadType> {
    sk::emit_inner(payloads, out)
}

/// An IKEv2 message: header and payloads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Message<'a> {
    pub header: Header,
    pub payloads: Vec<Payload<'a>>,
}

impl<'a> Message<'a> {
    pub fn new(header: Header, payloads: Vec<Payload<'a>>) -> Self {
        Message { header, payloads }
    }

    /// Parses one message that fills `data` exactly (the IKE Length must equal its size).
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let (header, next, length) = Header::parse(&mut r)?;
        let length = length as usize;
        if length < HEADER_LEN {
            return Err(Error::bad_length(P, "header.length"));
        }
        if length > data.len() {
            return Err(Error::truncated(P, "header.length"));
        }
        if length < data.len() {
            return Err(Error::new(P, "header.length", ErrorKind::TrailingBytes));
        }
        let payloads = parse_chain(next, r.rest())?;
        Ok(Message { header, payloads })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let base = out.len();
        let first = self
            .payloads
            .first()
            .map(|p| p.payload_type())
            .unwrap_or(PayloadType::NoNext);
        let len_at = self.header.emit(first.into(), out);
        emit_chain_with_last(&self.payloads, PayloadType::NoNext, out)?;
        out.patch_len_u32(len_at, base, 0, P, "header.length")
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payloads.iter().map(|p| p.buffer_len()).sum::<usize>()
    }

    /// The first payload with this type.
    pub fn payload(&self, ty: PayloadType) -> Option<&Payload<'a>> {
        self.payloads.iter().find(|p| p.payload_type() == ty)
    }

    /// The notifications of one type.
    pub fn notifies(&self, t: NotifyType) -> impl Iterator<Item = &Notify<'a>> {
        notifies(&self.payloads, t)
    }

    /// The SK payload, if the message has one.
    pub fn encrypted(&self) -> Option<&Encrypted<'a>> {
        self.payloads.iter().find_map(|p| match &p.body {
            PayloadBody::Sk(e) => Some(e),
            _ => None,
        })
    }
}

/// The notifications of one type in a payload list (outer or inner).
pub fn notifies<'p, 'a>(
    payloads: &'p [Payload<'a>],
    t: NotifyType,
) -> impl Iterator<Item = &'p Notify<'a>> {
    payloads.iter().filter_map(move |p| match &p.body {
        PayloadBody::Notify(n) if n.notify_type == t => Some(n),
        _ => None,
    })
}
