//! Command ABNF checks (which AVPs a message must, may and must not carry: 5005, 5008, 5009)
//! and the error answers every engine and application sends (RFC 6733 §7.2).

use std::borrow::Cow;

use mobstrap_wire::diameter::{
    avp::flags as avp_flags, dict, message::flags, Avp, AvpDef, AvpRepr, DataType, Fault, Header,
    Message, MessageRepr, Packet, Value,
};

use super::caps::LocalIdentity;
use super::rc;

/// Why a request is refused: the Result-Code, one line naming the field (for the log and
/// the Error-Message AVP), and the AVP that Failed-AVP carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub result_code: u32,
    pub reason: Cow<'static, str>,
    /// The whole offending AVP as received, or for a missing AVP one with its code, vendor
    /// and a zero-filled value of the minimum length (RFC 6733 §7.5).
    pub failed_avp: Option<Vec<u8>>,
}

impl Rejection {
    pub fn new(result_code: u32, reason: impl Into<Cow<'static, str>>) -> Self {
        Rejection {
            result_code,
            reason: reason.into(),
            failed_avp: None,
        }
    }
    /// The same rejection, naming `avp` (as received) in Failed-AVP.
    pub fn with_avp(mut self, avp: &Avp<'_>) -> Self {
        self.failed_avp = Some(avp.raw().to_vec());
        self
    }
    /// 5005 DIAMETER_MISSING_AVP for `def`.
    pub fn missing(def: &AvpDef) -> Self {
        Rejection {
            result_code: rc::MISSING_AVP,
            reason: Cow::Owned(format!("missing AVP {}", def.name)),
            failed_avp: Some(missing_avp_bytes(def)),
        }
    }
    /// From a codec fault (`Message::check`).
    pub fn from_fault(f: &Fault<'_>) -> Self {
        let reason = match &f.avp {
            Some(a) => format!(
                "{} in AVP {} (code {}, vendor {})",
                f.error,
                a.name.unwrap_or("unknown"),
                a.code,
                a.vendor
            ),
            None => f.error.to_string(),
        };
        Rejection {
            result_code: f.result_code,
            reason: Cow::Owned(reason),
            failed_avp: f.avp.map(|a| a.bytes.to_vec()),
        }
    }
}

impl core::fmt::Display for Rejection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} (Result-Code {})", self.reason, self.result_code)
    }
}

/// An AVP of `def` with a zero-filled value of the type's minimum length (RFC 6733 §7.5:
/// what Failed-AVP carries for a missing AVP).
pub fn missing_avp_bytes(def: &AvpDef) -> Vec<u8> {
    let data_len = match def.ty {
        DataType::Address => 6,
        t => t.fixed_len().unwrap_or(0),
    };
    let zeros = [0u8; 8];
    let mut out = Vec::with_capacity(12 + data_len);
    let r = AvpRepr::new(def, Value::Octets(&zeros[..data_len.min(8)]));
    // Emitting a small AVP into a Vec cannot fail.
    let _ = r.emit(&mut out);
    out
}

/// How many times an AVP may occur at the top level of a message.
#[derive(Debug, Clone, Copy)]
pub struct AvpRule {
    pub def: &'static AvpDef,
    pub min: u16,
    /// `None`: unbounded.
    pub max: Option<u16>,
}

impl AvpRule {
    /// `{ AVP }`: exactly once.
    pub const fn required(def: &'static AvpDef) -> Self {
        AvpRule {
            def,
            min: 1,
            max: Some(1),
        }
    }
    /// `[ AVP ]`: at most once.
    pub const fn optional(def: &'static AvpDef) -> Self {
        AvpRule {
            def,
            min: 0,
            max: Some(1),
        }
    }
    /// `1* { AVP }`.
    pub const fn at_least_one(def: &'static AvpDef) -> Self {
        AvpRule {
            def,
            min: 1,
            max: None,
        }
    }
    /// `* [ AVP ]`.
    pub const fn any(def: &'static AvpDef) -> Self {
        AvpRule {
            def,
            min: 0,
            max: None,
        }
    }
    /// `0 AVP`: must not occur.
    pub const fn not_allowed(def: &'static AvpDef) -> Self {
        AvpRule {
            def,
            min: 0,
            max: Some(0),
        }
    }
}

/// Checks the top-level AVPs of `msg` against `rules` (at most 32): the first violation as
/// 5008 (an AVP that must not occur), 5009 (too many times; Failed-AVP holds the first
/// instance over the maximum) or 5005 (missing). AVPs no rule names are not checked. Does not
/// allocate unless it rejects.
pub fn check_avps(msg: &Message<'_>, rules: &[AvpRule]) -> Result<(), Rejection> {
    let rules = &rules[..rules.len().min(32)];
    let mut counts = [0u16; 32];
    for avp in msg.avps() {
        let Some(i) = rules.iter().position(|r| avp.is(r.def)) else {
            continue;
        };
        counts[i] = counts[i].saturating_add(1);
        if let Some(max) = rules[i].max {
            if counts[i] > max {
                let (code, what) = if max == 0 {
                    (rc::AVP_NOT_ALLOWED, "AVP not allowed")
                } else {
                    (rc::AVP_OCCURS_TOO_MANY_TIMES, "AVP occurs too many times")
                };
                return Err(
                    Rejection::new(code, format!("{what}: {}", rules[i].def.name)).with_avp(&avp),
                );
            }
        }
    }
    for (r, &n) in rules.iter().zip(counts.iter()) {
        if n < r.min {
            return Err(Rejection::missing(r.def));
        }
    }
    Ok(())
}

/// The first top-level AVP with the M bit set that `known` does not accept (5001
/// DIAMETER_AVP_UNSUPPORTED, RFC 6733 §4.1). Base-protocol messages use the dictionary.
pub fn check_mandatory(
    msg: &Message<'_>,
    known: impl Fn(&Avp<'_>) -> bool,
) -> Result<(), Rejection> {
    for avp in msg.avps() {
        if avp.is_mandatory() && !known(&avp) {
            return Err(Rejection::new(
                rc::AVP_UNSUPPORTED,
                format!(
                    "unsupported mandatory AVP code {} vendor {}",
                    avp.code(),
                    avp.vendor()
                ),
            )
            .with_avp(&avp));
        }
    }
    Ok(())
}

/// 3008 for a request with the E bit, 3009 for an AVP (nested included) with reserved flag
/// bits set (RFC 6733 §3, §4.1, §7.1.3).
pub fn check_bits(msg: &Message<'_>) -> Result<(), Rejection> {
    if msg.header.is_request() && msg.header.is_error() {
        return Err(Rejection::new(
            rc::INVALID_HDR_BITS,
            "header.flags: E bit in a request",
        ));
    }
    let mut bad: Option<Avp<'_>> = None;
    mobstrap_wire::diameter::walk(msg.avps(), &mut |_, a| {
        if bad.is_none() && a.flags() & avp_flags::RESERVED != 0 {
            bad = Some(a);
        }
    });
    if let Some(a) = bad {
        return Err(Rejection::new(
            rc::INVALID_AVP_BITS,
            format!("AVP.flags: reserved bits set in AVP code {}", a.code()),
        )
        .with_avp(&a));
    }
    Ok(())
}

fn push_identity<'a>(ans: &mut MessageRepr<'a>, local: &'a LocalIdentity) {
    ans.push(AvpRepr::utf8(&dict::ORIGIN_HOST, &local.origin_host));
    ans.push(AvpRepr::utf8(&dict::ORIGIN_REALM, &local.origin_realm));
}

fn push_rejection<'a>(ans: &mut MessageRepr<'a>, rej: &'a Rejection) {
    if rc::is_protocol_error(rej.result_code) {
        ans.header.flags |= flags::ERROR;
    }
    ans.push(AvpRepr::u32(&dict::RESULT_CODE, rej.result_code));
    if !rej.reason.is_empty() {
        ans.push(AvpRepr::utf8(&dict::ERROR_MESSAGE, &rej.reason));
    }
    if let Some(b) = &rej.failed_avp {
        ans.push(AvpRepr::new(&dict::FAILED_AVP, Value::Octets(b)));
    }
}

/// Appends to `out` the error answer to `req` (RFC 6733 §7.2): Session-Id, Origin-Host,
/// Origin-Realm, Result-Code, Error-Message, Failed-AVP, the request's Proxy-Info; the E bit
/// for protocol errors.
pub fn answer_error(req: &Message<'_>, local: &LocalIdentity, rej: &Rejection, out: &mut Vec<u8>) {
    let mut ans = MessageRepr::answer_to(req);
    push_identity(&mut ans, local);
    push_rejection(&mut ans, rej);
    ans.push_proxy_info(req);
    // An answer built from a validated request always emits.
    let _ = ans.emit(out);
}

/// Appends to `out` the answer to a request that failed validation: the header comes from
/// the raw bytes, Session-Id is copied when it is the first AVP and well formed.
pub fn answer_malformed(frame: &[u8], local: &LocalIdentity, rej: &Rejection, out: &mut Vec<u8>) {
    let h = Packet::new_unchecked(frame).header();
    let mut ans = MessageRepr {
        header: Header {
            flags: h.flags & flags::PROXIABLE,
            ..h
        },
        avps: Vec::new(),
    };
    let avps = frame.get(20..).unwrap_or(&[]);
    if let Ok((first, _)) = Avp::split(avps) {
        if first.is(&dict::SESSION_ID) && first.utf8().is_ok() {
            ans.push(AvpRepr::raw(
                first.code(),
                first.vendor_id(),
                first.flags(),
                first.data(),
            ));
        }
    }
    push_identity(&mut ans, local);
    push_rejection(&mut ans, rej);
    let _ = ans.emit(out);
}

/// The Result-Code of an encoded message by a quick walk over the top-level AVP headers (no
/// validation: for messages this node built itself).
pub fn scan_result_code(msg: &[u8]) -> Option<u32> {
    let mut at = 20;
    while at + 8 <= msg.len() {
        let code = u32::from_be_bytes([msg[at], msg[at + 1], msg[at + 2], msg[at + 3]]);
        let flags = msg[at + 4];
        let len = u32::from_be_bytes([0, msg[at + 5], msg[at + 6], msg[at + 7]]) as usize;
        let hdr = if flags & 0x80 != 0 { 12 } else { 8 };
        if len < hdr || at + len > msg.len() {
            return None;
        }
        if code == dict::RESULT_CODE.code && flags & 0x80 == 0 && len == 12 {
            return Some(u32::from_be_bytes([
                msg[at + 8],
                msg[at + 9],
                msg[at + 10],
                msg[at + 11],
            ]));
        }
        at += (len + 3) & !3;
    }
    None
}
