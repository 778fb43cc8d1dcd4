//! RADIUS cryptography with the shared secret: Request and Response Authenticators
//! (RFC 2865 §3, RFC 2866 §3, RFC 5176 §2.3), Message-Authenticator (HMAC-MD5, RFC 2869
//! §5.14, RFC 3579 §3.2, RFC 5176 §3.3), User-Password hiding (RFC 2865 §5.2) and the
//! MS-MPPE-Send/Recv-Key salt encryption (RFC 2548 §2.4.2, §2.4.3).
//!
//! Functions take whole packets as bytes (what `mobstrap_wire::radius::Repr::emit` wrote)
//! and find the Message-Authenticator themselves. MD5 and HMAC-MD5 are what the RFCs
//! prescribe; nothing here is a general-purpose primitive. Comparisons are constant-time.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

const HEADER_LEN: usize = 20;
const AUTH: core::ops::Range<usize> = 4..20;
const MESSAGE_AUTHENTICATOR: u8 = 80;

/// Code points whose Request Authenticator is computed (Accounting-Request,
/// Disconnect-Request, CoA-Request).
const COMPUTED_REQUESTS: [u8; 3] = [4, 40, 43];
/// Response codes (Access-Accept/Reject/Challenge, Accounting-Response, Disconnect-ACK/NAK,
/// CoA-ACK/NAK).
const RESPONSES: [u8; 8] = [2, 3, 11, 5, 41, 42, 44, 45];

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RadiusCryptoError {
    /// The packet is not a RADIUS packet this function can work on.
    #[error("radius: packet is malformed ({0})")]
    Malformed(&'static str),
    /// A Message-Authenticator was required but is absent.
    #[error("radius: the packet has no Message-Authenticator")]
    NoMessageAuthenticator,
    /// The Request or Response Authenticator does not verify.
    #[error("radius: Authenticator does not verify")]
    BadAuthenticator,
    /// The Message-Authenticator does not verify.
    #[error("radius: Message-Authenticator does not verify")]
    BadMessageAuthenticator,
    /// The packet code has no such authenticator.
    #[error("radius: this code has no {0}")]
    WrongCode(&'static str),
    /// A User-Password of impossible length.
    #[error("radius: User-Password must be 1..=128 bytes once padded (hidden: a multiple of 16, 16..=128)")]
    PasswordLength,
    /// A malformed MS-MPPE key attribute value.
    #[error("radius: MS-MPPE key: {0}")]
    Mppe(&'static str),
}

/// Result of the RADIUS helpers.
pub type Result<T> = core::result::Result<T, RadiusCryptoError>;

type HmacMd5 = Hmac<Md5>;

/// Checks the header; returns the packet cut to its Length.
fn message(packet: &[u8]) -> Result<&[u8]> {
    if packet.len() < HEADER_LEN {
        return Err(RadiusCryptoError::Malformed("header"));
    }
    let len = u16::from_be_bytes([packet[2], packet[3]]) as usize;
    if len < HEADER_LEN || len > packet.len() {
        return Err(RadiusCryptoError::Malformed("Length"));
    }
    Ok(&packet[..len])
}

/// Offset of the Message-Authenticator value, if the packet has one.
pub fn message_authenticator_offset(packet: &[u8]) -> Result<Option<usize>> {
    let msg = message(packet)?;
    let mut pos = HEADER_LEN;
    while pos < msg.len() {
        let (t, l) = match msg.get(pos..pos + 2) {
            Some(h) => (h[0], h[1] as usize),
            None => return Err(RadiusCryptoError::Malformed("Attribute.Length")),
        };
        if l < 2 || pos + l > msg.len() {
            return Err(RadiusCryptoError::Malformed("Attribute.Length"));
        }
        if t == MESSAGE_AUTHENTICATOR {
            if l != 18 {
                return Err(RadiusCryptoError::Malformed("Message-Authenticator.Length"));
            }
            return Ok(Some(pos + 2));
        }
        pos += l;
    }
    Ok(None)
}

/// MD5(Code | Identifier | Length | `authenticator` | Attributes | secret).
fn md5_over(msg: &[u8], authenticator: &[u8; 16], secret: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(&msg[..4]);
    h.update(authenticator);
    h.update(&msg[HEADER_LEN..]);
    h.update(secret);
    h.finalize().into()
}

/// The Request Authenticator of an Accounting-Request, Disconnect-Request or CoA-Request:
/// MD5 over the packet with 16 zero bytes in place of the Authenticator, then the secret.
pub fn request_authenticator(packet: &[u8], secret: &[u8]) -> Result<[u8; 16]> {
    let msg = message(packet)?;
    Ok(md5_over(msg, &[0u8; 16], secret))
}

/// The Response Authenticator: MD5 over the response with the request's Authenticator in
/// place of its own, then the secret.
pub fn response_authenticator(
    packet: &[u8],
    request_authenticator: &[u8; 16],
    secret: &[u8],
) -> Result<[u8; 16]> {
    let msg = message(packet)?;
    Ok(md5_over(msg, request_authenticator, secret))
}

/// HMAC-MD5 keyed with the secret over the packet with `authenticator` in the
/// Authenticator field and the Message-Authenticator value zeroed.
///
/// `authenticator` is the packet's own for Access-Request and Status-Server, the request's
/// for a response, and 16 zero bytes for Accounting-, Disconnect- and CoA-Requests.
pub fn message_authenticator(
    packet: &[u8],
    authenticator: &[u8; 16],
    secret: &[u8],
) -> Result<[u8; 16]> {
    let msg = message(packet)?;
    let at = message_authenticator_offset(msg)?.ok_or(RadiusCryptoError::NoMessageAuthenticator)?;
    let mut mac = <HmacMd5 as KeyInit>::new_from_slice(secret)
        .map_err(|_| RadiusCryptoError::Malformed("secret"))?;
    mac.update(&msg[..4]);
    mac.update(authenticator);
    mac.update(&msg[HEADER_LEN..at]);
    mac.update(&[0u8; 16]);
    mac.update(&msg[at + 16..]);
    Ok(mac.finalize().into_bytes().into())
}

/// The Authenticator a Message-Authenticator of this packet is computed with, given the
/// request's Authenticator for a response.
fn ma_authenticator(msg: &[u8], request_authenticator: Option<&[u8; 16]>) -> Result<[u8; 16]> {
    let code = msg[0];
    if RESPONSES.contains(&code) {
        request_authenticator
            .copied()
            .ok_or(RadiusCryptoError::WrongCode(
                "request authenticator given for a response",
            ))
    } else if COMPUTED_REQUESTS.contains(&code) {
        Ok([0u8; 16])
    } else {
        let mut a = [0u8; 16];
        a.copy_from_slice(&msg[AUTH]);
        Ok(a)
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Signs a request in place: fills the Message-Authenticator if the packet has one, and
/// for Accounting-, Disconnect- and CoA-Requests computes the Request Authenticator
/// (after the Message-Authenticator, which is computed with a zero Authenticator). For an
/// Access-Request or Status-Server the random Authenticator must already be in place.
pub fn sign_request(packet: &mut [u8], secret: &[u8]) -> Result<()> {
    let len = message(packet)?.len();
    let code = packet[0];
    if RESPONSES.contains(&code) {
        return Err(RadiusCryptoError::WrongCode("request"));
    }
    let computed = COMPUTED_REQUESTS.contains(&code);
    if computed {
        packet[AUTH].fill(0);
    }
    if let Some(at) = message_authenticator_offset(packet)? {
        let a = ma_authenticator(&packet[..len], None)?;
        let ma = message_authenticator(packet, &a, secret)?;
        packet[at..at + 16].copy_from_slice(&ma);
    }
    if computed {
        let ra = request_authenticator(packet, secret)?;
        packet[AUTH].copy_from_slice(&ra);
    }
    Ok(())
}

/// Signs a response in place: Message-Authenticator (if present) with the request's
/// Authenticator, then the Response Authenticator.
pub fn sign_response(
    packet: &mut [u8],
    request_authenticator: &[u8; 16],
    secret: &[u8],
) -> Result<()> {
    message(packet)?;
    if !RESPONSES.contains(&packet[0]) {
        return Err(RadiusCryptoError::WrongCode("response"));
    }
    if let Some(at) = message_authenticator_offset(packet)? {
        let ma = message_authenticator(packet, request_authenticator, secret)?;
        packet[at..at + 16].copy_from_slice(&ma);
    }
    let ra = response_authenticator(packet, request_authenticator, secret)?;
    packet[AUTH].copy_from_slice(&ra);
    Ok(())
}

fn verify_ma(msg: &[u8], authenticator: &[u8; 16], secret: &[u8]) -> Result<bool> {
    match message_authenticator_offset(msg)? {
        None => Ok(false),
        Some(at) => {
            let want = message_authenticator(msg, authenticator, secret)?;
            if ct_eq(&want, &msg[at..at + 16]) {
                Ok(true)
            } else {
                Err(RadiusCryptoError::BadMessageAuthenticator)
            }
        }
    }
}

/// Verifies a request: the Request Authenticator where it is computed, and the
/// Message-Authenticator if present. Returns whether a Message-Authenticator was checked
/// (whether one is required is the engine's policy, e.g. RFC 3579 §3.2 for EAP).
pub fn verify_request(packet: &[u8], secret: &[u8]) -> Result<bool> {
    let msg = message(packet)?;
    let code = msg[0];
    if RESPONSES.contains(&code) {
        return Err(RadiusCryptoError::WrongCode("request"));
    }
    if COMPUTED_REQUESTS.contains(&code) {
        let want = request_authenticator(msg, secret)?;
        if !ct_eq(&want, &msg[AUTH]) {
            return Err(RadiusCryptoError::BadAuthenticator);
        }
    }
    let a = ma_authenticator(msg, None)?;
    verify_ma(msg, &a, secret)
}

/// Verifies a response against the Authenticator of the request it answers: the Response
/// Authenticator, and the Message-Authenticator if present (returns whether one was).
pub fn verify_response(
    packet: &[u8],
    request_authenticator: &[u8; 16],
    secret: &[u8],
) -> Result<bool> {
    let msg = message(packet)?;
    if !RESPONSES.contains(&msg[0]) {
        return Err(RadiusCryptoError::WrongCode("response"));
    }
    let want = response_authenticator(msg, request_authenticator, secret)?;
    if !ct_eq(&want, &msg[AUTH]) {
        return Err(RadiusCryptoError::BadAuthenticator);
    }
    verify_ma(msg, request_authenticator, secret)
}

/// b(i) of the RFC 2865 §5.2 / RFC 2548 §2.4.2 chains: MD5(secret | prev [| salt]).
fn chain_block(secret: &[u8], prev: &[u8], salt: Option<&[u8; 2]>) -> Zeroizing<[u8; 16]> {
    let mut h = Md5::new();
    h.update(secret);
    h.update(prev);
    if let Some(s) = salt {
        h.update(s);
    }
    Zeroizing::new(h.finalize().into())
}

/// Hides a User-Password (RFC 2865 §5.2): pads with zeros to a multiple of 16 (at most 128
/// bytes) and XORs with the MD5 chain seeded by the Request Authenticator.
pub fn hide_user_password(
    password: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<Vec<u8>> {
    if password.len() > 128 {
        return Err(RadiusCryptoError::PasswordLength);
    }
    let padded = password.len().div_ceil(16).max(1) * 16;
    let mut out = vec![0u8; padded];
    out[..password.len()].copy_from_slice(password);
    let mut prev: [u8; 16] = *request_authenticator;
    for chunk in out.chunks_exact_mut(16) {
        let b = chain_block(secret, &prev, None);
        for (c, k) in chunk.iter_mut().zip(b.iter()) {
            *c ^= k;
        }
        prev.copy_from_slice(chunk);
    }
    Ok(out)
}

/// Recovers a hidden User-Password; trailing zero padding is removed.
pub fn recover_user_password(
    hidden: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<Zeroizing<Vec<u8>>> {
    if hidden.is_empty() || hidden.len() > 128 || !hidden.len().is_multiple_of(16) {
        return Err(RadiusCryptoError::PasswordLength);
    }
    let mut out = Zeroizing::new(hidden.to_vec());
    let mut prev: &[u8] = request_authenticator;
    for (chunk, c) in out.chunks_exact_mut(16).zip(hidden.chunks_exact(16)) {
        let b = chain_block(secret, prev, None);
        for (p, k) in chunk.iter_mut().zip(b.iter()) {
            *p ^= k;
        }
        prev = c;
    }
    let end = out.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    out.truncate(end);
    Ok(out)
}

/// Encrypts an MS-MPPE-Send-Key or MS-MPPE-Recv-Key (RFC 2548 §2.4.2/§2.4.3) and returns
/// the attribute value: Salt (2 bytes, high bit set) followed by the encrypted String
/// (Key-Length, Key, zero padding to a multiple of 16). `salt` must be unique per key in a
/// packet; its high bit must be set.
pub fn encrypt_mppe_key(
    key: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
    salt: [u8; 2],
) -> Result<Vec<u8>> {
    if salt[0] & 0x80 == 0 {
        return Err(RadiusCryptoError::Mppe("salt high bit not set"));
    }
    let plain_len = 1 + key.len();
    let padded = plain_len.div_ceil(16) * 16;
    // The value must fit in a vendor attribute: 2 (salt) + padded ≤ 247.
    if key.len() > 255 || 2 + padded > 247 {
        return Err(RadiusCryptoError::Mppe("key too long"));
    }
    let mut out = Vec::with_capacity(2 + padded);
    out.extend_from_slice(&salt);
    out.push(key.len() as u8);
    out.extend_from_slice(key);
    out.resize(2 + padded, 0);
    for i in 0..padded / 16 {
        let s = 2 + i * 16;
        let b = if i == 0 {
            chain_block(secret, request_authenticator, Some(&salt))
        } else {
            let prev: [u8; 16] = out[s - 16..s]
                .try_into()
                .map_err(|_| RadiusCryptoError::Mppe("internal"))?;
            chain_block(secret, &prev, None)
        };
        for (c, k) in out[s..s + 16].iter_mut().zip(b.iter()) {
            *c ^= k;
        }
    }
    Ok(out)
}

/// Decrypts an MS-MPPE-Send-Key / MS-MPPE-Recv-Key attribute value (Salt + String) and
/// returns the key (Key-Length bytes; the padding is dropped).
pub fn decrypt_mppe_key(
    value: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<Zeroizing<Vec<u8>>> {
    let (salt, c) = match value {
        [a, b, rest @ ..] => ([*a, *b], rest),
        _ => return Err(RadiusCryptoError::Mppe("too short")),
    };
    if salt[0] & 0x80 == 0 {
        return Err(RadiusCryptoError::Mppe("salt high bit not set"));
    }
    if c.is_empty() || !c.len().is_multiple_of(16) {
        return Err(RadiusCryptoError::Mppe(
            "string is not a multiple of 16 bytes",
        ));
    }
    let mut plain = Zeroizing::new(c.to_vec());
    for (i, chunk) in plain.chunks_exact_mut(16).enumerate() {
        let b = if i == 0 {
            chain_block(secret, request_authenticator, Some(&salt))
        } else {
            chain_block(secret, &c[(i - 1) * 16..i * 16], None)
        };
        for (p, k) in chunk.iter_mut().zip(b.iter()) {
            *p ^= k;
        }
    }
    let n = plain[0] as usize;
    if n + 1 > plain.len() {
        return Err(RadiusCryptoError::Mppe("Key-Length exceeds the string"));
    }
    Ok(Zeroizing::new(plain[1..1 + n].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 2865 §7.1: Access-Request and its Access-Accept, secret "xyzzy5461".
    const REQ: &str = "010000380f403f9473978057bd83d5cb98f4227a01066e656d6f02120dbe708d93d413ce3196e43f782a0aee0406c0a80110050600000003";
    const ACC: &str =
        "0200002686fe220e7624ba2a1005f6bf9b55e0b20606000000010f06000000000e06c0a80103";

    fn ra(pkt: &[u8]) -> [u8; 16] {
        pkt[4..20].try_into().unwrap()
    }

    #[test]
    fn rfc2865_response_authenticator_and_password() {
        let req = hex::decode(REQ).unwrap();
        let acc = hex::decode(ACC).unwrap();
        assert_eq!(
            response_authenticator(&acc, &ra(&req), b"xyzzy5461").unwrap(),
            ra(&acc)
        );
        assert_eq!(verify_response(&acc, &ra(&req), b"xyzzy5461"), Ok(false));
        assert_eq!(
            verify_response(&acc, &ra(&req), b"xyzzy5462"),
            Err(RadiusCryptoError::BadAuthenticator)
        );
        let hidden = &req[28..44];
        let pw = recover_user_password(hidden, b"xyzzy5461", &ra(&req)).unwrap();
        assert_eq!(&pw[..], b"arctangent");
        assert_eq!(
            hide_user_password(b"arctangent", b"xyzzy5461", &ra(&req)).unwrap(),
            hidden
        );
    }

    #[test]
    fn sign_response_reproduces_the_rfc_accept() {
        let req = hex::decode(REQ).unwrap();
        let mut acc = hex::decode(ACC).unwrap();
        acc[4..20].fill(0xee);
        sign_response(&mut acc, &ra(&req), b"xyzzy5461").unwrap();
        assert_eq!(hex::encode(&acc), ACC);
        assert!(sign_response(&mut acc.clone(), &ra(&req), b"x").is_ok());
        assert_eq!(
            sign_request(&mut acc, b"x"),
            Err(RadiusCryptoError::WrongCode("request"))
        );
    }

    #[test]
    fn long_passwords_chain_over_blocks() {
        let a = [7u8; 16];
        for n in [0usize, 1, 15, 16, 17, 31, 32, 100, 128] {
            let pw: Vec<u8> = (1..=n as u8).collect();
            let h = hide_user_password(&pw, b"s3cr3t", &a).unwrap();
            assert_eq!(h.len(), n.div_ceil(16).max(1) * 16);
            assert_eq!(
                &recover_user_password(&h, b"s3cr3t", &a).unwrap()[..],
                &pw[..]
            );
        }
        assert_eq!(
            hide_user_password(&[1; 129], b"s", &a),
            Err(RadiusCryptoError::PasswordLength)
        );
        assert_eq!(
            recover_user_password(&[1; 15], b"s", &a).unwrap_err(),
            RadiusCryptoError::PasswordLength
        );
    }

    #[test]
    fn mppe_round_trip_and_errors() {
        let a = [0x5a; 16];
        let key: Vec<u8> = (0..32).collect();
        let v = encrypt_mppe_key(&key, b"secret", &a, [0x80, 0x01]).unwrap();
        assert_eq!(v.len(), 2 + 48);
        assert_eq!(&decrypt_mppe_key(&v, b"secret", &a).unwrap()[..], &key[..]);
        assert_ne!(
            &decrypt_mppe_key(&v, b"secreT", &a)
                .map(|k| k.to_vec())
                .unwrap_or_default()[..],
            &key[..]
        );
        assert!(encrypt_mppe_key(&key, b"secret", &a, [0x01, 0x01]).is_err());
        assert!(decrypt_mppe_key(&v[..20], b"secret", &a).is_err());
        assert!(encrypt_mppe_key(&[0; 250], b"secret", &a, [0x80, 0]).is_err());
    }
}
