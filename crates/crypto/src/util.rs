//! Small shared helpers: HMAC over several parts, constant-time comparison, fixed-capacity
//! outputs.

use aws_lc_rs::{digest, hmac};
use core::fmt;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// HMAC of the concatenation of `parts` (no concatenation buffer is built).
pub(crate) fn hmac_parts(alg: hmac::Algorithm, key: &[u8], parts: &[&[u8]]) -> hmac::Tag {
    let key = hmac::Key::new(alg, key);
    hmac_parts_with(&key, parts)
}

/// HMAC with a prepared key.
pub(crate) fn hmac_parts_with(key: &hmac::Key, parts: &[&[u8]]) -> hmac::Tag {
    let mut ctx = hmac::Context::with_key(key);
    for p in parts {
        ctx.update(p);
    }
    ctx.sign()
}

/// A hash of the concatenation of `parts`.
pub(crate) fn digest_parts(alg: &'static digest::Algorithm, parts: &[&[u8]]) -> digest::Digest {
    let mut ctx = digest::Context::new(alg);
    for p in parts {
        ctx.update(p);
    }
    ctx.finish()
}

/// Constant-time equality of two byte strings (the lengths are not secret).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Copies the first `N` octets of `src`, zero-filling if `src` is shorter (never the case for
/// the callers in this crate, whose sources are hash outputs of known length).
pub(crate) fn take<const N: usize>(src: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = src.len().min(N);
    out[..n].copy_from_slice(&src[..n]);
    out
}

/// An output of at most 64 octets (a PRF output, an ICV, a checkcode): no heap allocation.
/// Zeroized on drop because PRF outputs are keys (SKEYSEED, AUTH key).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Output {
    buf: [u8; 64],
    len: u8,
}

impl Output {
    /// Copies up to 64 octets (a longer input is truncated; callers pass hash outputs).
    pub(crate) fn new(bytes: &[u8]) -> Self {
        let n = bytes.len().min(64);
        let mut buf = [0u8; 64];
        buf[..n].copy_from_slice(&bytes[..n]);
        Self {
            buf,
            len: u8::try_from(n).unwrap_or(64),
        }
    }

    /// The octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len).min(64)]
    }

    /// Length in octets.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Constant-time comparison with received octets.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        ct_eq(self.as_bytes(), other)
    }
}

impl AsRef<[u8]> for Output {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl core::ops::Deref for Output {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Output[{}](redacted)", self.len)
    }
}

impl PartialEq for Output {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(self.as_bytes(), other.as_bytes())
    }
}

impl Eq for Output {}

/// The HMAC-based "prf+" expansion shared by IKEv2 (RFC 7296 §2.13), EAP-AKA' PRF'
/// (RFC 5448 §3.4) and the RFC 5295 KDF: T1 = prf(K, S | 0x01), Tn = prf(K, T(n-1) | S | n),
/// output T1 | T2 | ... truncated to `out.len()`. `seed` is S given in parts. At most 255
/// blocks can be produced.
pub(crate) fn prf_plus(
    what: &'static str,
    alg: hmac::Algorithm,
    key: &[u8],
    seed: &[&[u8]],
    out: &mut [u8],
) -> crate::Result<()> {
    let block = alg.digest_algorithm().output_len();
    let blocks = out.len().div_ceil(block);
    if blocks > 255 {
        return Err(crate::Error::OutputTooLong {
            what,
            len: out.len(),
        });
    }
    let key = hmac::Key::new(alg, key);
    let mut prev: Option<hmac::Tag> = None;
    for (i, chunk) in out.chunks_mut(block).enumerate() {
        let n = [u8::try_from(i + 1).unwrap_or(u8::MAX)];
        let mut ctx = hmac::Context::with_key(&key);
        if let Some(t) = &prev {
            ctx.update(t.as_ref());
        }
        for p in seed {
            ctx.update(p);
        }
        ctx.update(&n);
        let t = ctx.sign();
        chunk.copy_from_slice(&t.as_ref()[..chunk.len()]);
        prev = Some(t);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_truncates_and_compares() {
        let o = Output::new(&[7u8; 80]);
        assert_eq!(o.len(), 64);
        assert!(o.ct_eq(&[7u8; 64]));
        assert!(!o.ct_eq(&[7u8; 63]));
        let e = Output::new(&[]);
        assert!(e.is_empty());
    }

    #[test]
    fn ct_eq_lengths() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }

    #[test]
    fn take_pads() {
        assert_eq!(take::<4>(&[1, 2]), [1, 2, 0, 0]);
        assert_eq!(take::<2>(&[1, 2, 3]), [1, 2]);
    }
}
