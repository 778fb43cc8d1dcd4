//! Encrypted and Authenticated payload SK (RFC 7296 §3.14) and Encrypted and Authenticated
//! Fragment payload SKF (RFC 7383 §2.5), kept as ciphertext, plus what the engine needs
//! to protect and unprotect a message: the byte ranges to encrypt, to authenticate and to
//! feed an AEAD as associated data, an emitter that leaves the cryptographic fields as
//! placeholders to be filled in place, and a parser for the decrypted plaintext.
//!
//! `wire` does no cryptography: the engine (with `mobstrap-crypto`) decrypts
//! [`EncryptedLayout::ciphertext`] and computes the ICV over
//! [`EncryptedLayout::authenticated`].

use core::ops::Range;

use crate::codec::Writer;
use crate::{Error, ErrorKind, Reader, Result};

use super::header::Header;
use super::{emit_chain_with_last, parse_chain, Payload, PayloadType, P};

/// The body of an SK payload: IV, ciphertext (inner payloads, padding, pad length) and
/// ICV as one opaque field. Their split depends on the negotiated transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encrypted<'a> {
    /// The Next Payload field of the SK payload header: the type of the first inner payload.
    pub first_payload: PayloadType,
    /// IV | encrypted data | ICV.
    pub data: &'a [u8],
}

/// The body of an SKF payload (RFC 7383 §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncryptedFragment<'a> {
    /// Type of the first inner payload in fragment 1; 0 (No Next Payload) in the others.
    pub first_payload: PayloadType,
    /// Fragment Number, starting at 1 (kept as received; see [`EncryptedFragment::check`]).
    pub fragment_number: u16,
    pub total_fragments: u16,
    /// IV | encrypted data | ICV.
    pub data: &'a [u8],
}

impl<'a> EncryptedFragment<'a> {
    pub fn parse(first_payload: PayloadType, body: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, body);
        let fragment_number = r.u16("SKF.fragment_number")?;
        let total_fragments = r.u16("SKF.total_fragments")?;
        Ok(EncryptedFragment {
            first_payload,
            fragment_number,
            total_fragments,
            data: r.rest(),
        })
    }

    /// RFC 7383 §2.5 rules a receiver enforces: Fragment Number at least 1 and at most
    /// Total Fragments; Next Payload 0 except in fragment 1.
    pub fn check(&self) -> Result<()> {
        if self.fragment_number == 0 || self.fragment_number > self.total_fragments {
            return Err(Error::bad_value(P, "SKF.fragment_number"));
        }
        if self.fragment_number != 1 && self.first_payload != PayloadType::NoNext {
            return Err(Error::bad_value(P, "SKF.next_payload"));
        }
        Ok(())
    }
}

/// How the cryptographic fields of an SK/SKF payload are sized (from the negotiated
/// transforms; e.g. AES-CBC: iv 16, block 16; AES-GCM-16: iv 8, block 1 (4 for alignment),
/// icv 16; ENCR_NULL: iv 0, block 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkParams {
    pub iv_len: usize,
    /// The encrypted part (payloads, padding, pad length) is padded to a multiple of this.
    pub block_len: usize,
    pub icv_len: usize,
}

/// Which encrypted payload to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptedKind {
    Sk,
    Skf {
        fragment_number: u16,
        total_fragments: u16,
    },
}

/// Byte ranges of a protected message, relative to the buffer the message was read from
/// or written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedLayout {
    /// The whole IKE message.
    pub message: Range<usize>,
    /// Associated data for AEAD transforms (RFC 5282 §5.1): from the start of the IKE header
    /// to the end of the SK/SKF payload header (for SKF, including the fragment fields).
    pub aad: Range<usize>,
    pub iv: Range<usize>,
    /// The encrypted part: inner payloads, padding and pad length.
    pub ciphertext: Range<usize>,
    pub icv: Range<usize>,
    /// What the integrity transform covers (RFC 7296 §3.14): the message up to the ICV.
    pub authenticated: Range<usize>,
}

/// Locates the SK or SKF payload of a received message and splits it. Walks only the
/// generic payload headers; fails if the message has no SK/SKF payload, if it is not the
/// last one, or if it is shorter than `iv_len + icv_len`.
pub fn encrypted_layout(message: &[u8], iv_len: usize, icv_len: usize) -> Result<EncryptedLayout> {
    let mut r = Reader::new(P, message);
    let (_, mut next, length) = Header::parse(&mut r)?;
    if length as usize != message.len() {
        return Err(Error::bad_length(P, "header.length"));
    }
    loop {
        let ty = PayloadType::from(next);
        if ty == PayloadType::NoNext {
            return Err(Error::new(P, "SK", ErrorKind::BadValue));
        }
        let start = r.position();
        next = r.u8("payload.next_payload")?;
        r.u8("payload.critical")?;
        let len = r.u16("payload.length")? as usize;
        if len < 4 {
            return Err(r.err("payload.length", ErrorKind::BadLength));
        }
        r.skip(len - 4, "payload.length")?;
        let fixed = match ty {
            PayloadType::Sk => 4,
            PayloadType::Skf => 8,
            _ => continue,
        };
        r.finish("SK")?;
        let end = start + len;
        let iv_start = start + fixed;
        if iv_start > end {
            return Err(Error::bad_length(P, "SKF.length"));
        }
        let ct_start = iv_start
            .checked_add(iv_len)
            .ok_or(Error::bad_length(P, "SK.encrypted_data"))?;
        let icv_start = end
            .checked_sub(icv_len)
            .filter(|&s| s >= ct_start)
            .ok_or(Error::bad_length(P, "SK.encrypted_data"))?;
        return Ok(EncryptedLayout {
            message: 0..message.len(),
            aad: 0..iv_start,
            iv: iv_start..ct_start,
            ciphertext: ct_start..icv_start,
            icv: icv_start..end,
            authenticated: 0..icv_start,
        });
    }
}

/// Number of padding bytes so that `plaintext_len + padding + 1` (the pad length byte) is a
/// multiple of `block_len` (RFC 7296 §3.14).
pub fn padding_len(plaintext_len: usize, block_len: usize) -> usize {
    if block_len <= 1 {
        0
    } else {
        crate::codec::pad_to(plaintext_len + 1, block_len)
    }
}

/// Emits an IKE message whose last payload is SK (or SKF) around `plaintext` (an inner
/// payload chain, see [`emit_inner`]; or a fragment of one), with zeroed IV and ICV
/// placeholders and zero padding. Payloads in `before` are emitted in clear ahead of it
/// (usually none). Returns the layout, with offsets into `out`, so the engine can write the
/// IV, encrypt [`EncryptedLayout::ciphertext`] in place and write the ICV.
pub fn emit_encrypted(
    header: &Header,
    before: &[Payload<'_>],
    kind: EncryptedKind,
    first_inner: PayloadType,
    plaintext: &[u8],
    params: &SkParams,
    out: &mut Vec<u8>,
) -> Result<EncryptedLayout> {
    let base = out.len();
    let enc_type = match kind {
        EncryptedKind::Sk => PayloadType::Sk,
        EncryptedKind::Skf { .. } => PayloadType::Skf,
    };
    let first = before.first().map(|p| p.payload_type()).unwrap_or(enc_type);
    let len_at = header.emit(first.into(), out);
    emit_chain_with_last(before, enc_type, out)?;
    let start = out.len();
    out.put_u8(first_inner.into());
    out.put_u8(0);
    out.put_u16(0);
    if let EncryptedKind::Skf {
        fragment_number,
        total_fragments,
    } = kind
    {
        out.put_u16(fragment_number);
        out.put_u16(total_fragments);
    }
    let iv_start = out.len();
    out.put_zeros(params.iv_len);
    let ct_start = out.len();
    out.put(plaintext);
    let pad = padding_len(plaintext.len(), params.block_len);
    let pad_byte = u8::try_from(pad).map_err(|_| Error::too_long(P, "SK.pad_length"))?;
    out.put_zeros(pad);
    out.put_u8(pad_byte);
    let icv_start = out.len();
    out.put_zeros(params.icv_len);
    out.patch_len_u16(start + 2, start, 0, P, "SK.length")?;
    out.patch_len_u32(len_at, base, 0, P, "header.length")?;
    Ok(EncryptedLayout {
        message: base..out.len(),
        aad: base..iv_start,
        iv: iv_start..ct_start,
        ciphertext: ct_start..icv_start,
        icv: icv_start..out.len(),
        authenticated: base..icv_start,
    })
}

/// Serializes an inner payload chain (the plaintext of an SK payload, before padding);
/// returns the type of the first payload, which goes in the SK header.
pub fn emit_inner(payloads: &[Payload<'_>], out: &mut Vec<u8>) -> Result<PayloadType> {
    emit_chain_with_last(payloads, PayloadType::NoNext, out)?;
    Ok(payloads
        .first()
        .map(|p| p.payload_type())
        .unwrap_or(PayloadType::NoNext))
}

/// Splits a decrypted SK body (payloads | padding | pad length) into the payload bytes and
/// the padding.
pub fn split_padding(decrypted: &[u8]) -> Result<(&[u8], &[u8])> {
    let (&pad_len, rest) = decrypted
        .split_last()
        .ok_or(Error::truncated(P, "SK.pad_length"))?;
    let at = rest
        .len()
        .checked_sub(pad_len as usize)
        .ok_or(Error::bad_length(P, "SK.pad_length"))?;
    Ok(rest.split_at(at))
}

/// The decrypted content of an SK payload: the inner payload chain and the padding (kept
/// as received; its length is the Pad Length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plaintext<'a> {
    pub payloads: Vec<Payload<'a>>,
    pub padding: &'a [u8],
}

impl<'a> Plaintext<'a> {
    /// Parses the decrypted bytes (without IV and ICV) given the SK header's Next Payload.
    pub fn parse(first_payload: PayloadType, decrypted: &'a [u8]) -> Result<Self> {
        let (inner, padding) = split_padding(decrypted)?;
        let payloads = parse_chain(first_payload.into(), inner)?;
        Ok(Plaintext { payloads, padding })
    }

    /// Emits payloads, padding and pad length; returns the first payload's type.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<PayloadType> {
        let pad =
            u8::try_from(self.padding.len()).map_err(|_| Error::too_long(P, "SK.pad_length"))?;
        let first = emit_inner(&self.payloads, out)?;
        out.put(self.padding);
        out.put_u8(pad);
        Ok(first)
    }
}
