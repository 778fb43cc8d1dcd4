//! Byte cursors shared by every codec: a bounds-checked [`Reader`] that names the field on
//! error, and the [`Writer`] extension of `Vec<u8>` with big-endian puts and length patching.

use crate::{Error, ErrorKind, Result};

/// A bounds-checked big-endian reader over a borrowed buffer. Never panics.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    proto: &'static str,
}

impl<'a> Reader<'a> {
    #[inline]
    pub fn new(proto: &'static str, buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0, proto }
    }

    #[inline]
    pub fn proto(&self) -> &'static str {
        self.proto
    }

    /// Bytes not yet read.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Offset of the next byte from the start of the buffer.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// An error of this reader's protocol.
    #[inline]
    pub fn err(&self, field: &'static str, kind: ErrorKind) -> Error {
        Error::new(self.proto, field, kind)
    }

    #[inline]
    pub fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8]> {
        if self.remaining() < n {
            return Err(self.err(field, ErrorKind::Truncated));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N]> {
        let s = self.bytes(N, field)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    #[inline]
    pub fn u8(&mut self, field: &'static str) -> Result<u8> {
        Ok(self.bytes(1, field)?[0])
    }

    #[inline]
    pub fn u16(&mut self, field: &'static str) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    #[inline]
    pub fn u24(&mut self, field: &'static str) -> Result<u32> {
        let b = self.bytes(3, field)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    #[inline]
    pub fn u32(&mut self, field: &'static str) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    #[inline]
    pub fn u64(&mut self, field: &'static str) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// The next byte without consuming it.
    #[inline]
    pub fn peek_u8(&self, field: &'static str) -> Result<u8> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.err(field, ErrorKind::Truncated))
    }

    /// Everything left; the reader is empty afterwards.
    #[inline]
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    /// A reader over the next `n` bytes (consumed from this one).
    #[inline]
    pub fn sub(&mut self, n: usize, field: &'static str) -> Result<Reader<'a>> {
        let proto = self.proto;
        Ok(Reader::new(proto, self.bytes(n, field)?))
    }

    #[inline]
    pub fn skip(&mut self, n: usize, field: &'static str) -> Result<()> {
        self.bytes(n, field).map(|_| ())
    }

    /// Fails with `TrailingBytes` unless everything was read.
    #[inline]
    pub fn finish(&self, field: &'static str) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.err(field, ErrorKind::TrailingBytes))
        }
    }
}

/// Big-endian appends and length back-patching for `Vec<u8>`.
///
/// Emitters append to a caller's buffer; a length that is only known after the body is
/// written is reserved with a placeholder and patched with a range check.
pub trait Writer {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u24(&mut self, v: u32);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    fn put(&mut self, b: &[u8]);
    fn put_zeros(&mut self, n: usize);
    fn patch_u8(&mut self, at: usize, v: u8);
    fn patch_u16(&mut self, at: usize, v: u16);
    fn patch_u24(&mut self, at: usize, v: u32);
    fn patch_u32(&mut self, at: usize, v: u32);
    /// Writes `len() - start + adjust` into the u8 at `at`; `TooLong` if it does not fit.
    fn patch_len_u8(
        &mut self,
        at: usize,
        start: usize,
        adjust: isize,
        proto: &'static str,
        field: &'static str,
    ) -> Result<()>;
    /// As [`Writer::patch_len_u8`] for a 16-bit length.
    fn patch_len_u16(
        &mut self,
        at: usize,
        start: usize,
        adjust: isize,
        proto: &'static str,
        field: &'static str,
    ) -> Result<()>;
    /// As [`Writer::patch_len_u8`] for a 24-bit length.
    fn patch_len_u24(
        &mut self,
        at: usize,
        start: usize,
        adjust: isize,
        proto: &'static str,
        field: &'static str,
    ) -> Result<()>;
    /// As [`Writer::patch_len_u8`] for a 32-bit length.
    fn patch_len_u32(
        &mut self,
        at: usize,
        start: usize,
        adjust: isize,
        proto: &'static str,
        field: &'static str,
    ) -> Result<()>;
}

#[inline]
fn len_value(
    cur: usize,
    start: usize,
    adjust: isize,
    max: u64,
    proto: &'static str,
    field: &'static str,
) -> Result<u64> {
    let v = (cur as i128) - (start as i128) + (adjust as i128);
    if v < 0 || v as u128 > max as u128 {
        return Err(Error::too_long(proto, field));
    }
    Ok(v as u64)
}

impl Writer for Vec<u8> {
    #[inline]
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    #[inline]
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    #[inline]
    fn put_u24(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes()[1..]);
    }
    #[inline]
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    #[inline]
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    #[inline]
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
    #[inline]
    fn put_zeros(&mut self, n: usize) {
        self.resize(self.len() + n, 0);
    }
    #[inline]
    fn patch_u8(&mut self, at: usize, v: u8) {
        if let Some(b) = self.get_mut(at) {
            *b = v;
        }
    }
    #[inline]
    fn patch_u16(&mut self, at: usize, v: u16) {
        if let Some(b) = self.get_mut(at..at + 2) {
            b.copy_from_slice(&v.to_be_bytes());
        }
    }
    #[inline]
    fn patch_u24(&mut self, at: usize, v: u32) {
        if let Some(b) = self.get_mut(at..at + 3) {
            b.copy_from_slice(&v.to_be_bytes()[1..]);
        }
    }
    #[inline]
    fn patch_u32(&mut self, at: usize, v: u32) {
        if let Some(b) = self.get_mut(at..at + 4) {
            b.copy_from_slice(&v.to_be_bytes());
        }
    }
    fn patch_len_u8(
        &mut self,
        at: usize,
        start: usize,
        adjust: isize,
        proto: &'static str,
        field: &'static str,
    ) -> Result<()> {
        let v = len_value(self.len(), start, adjust, u8::MAX as u64, proto, field)?;
        self.patch_u8(at, v as u8);
        Ok(())
    }
    fn patch_len_u16(
        &mut self,
        at: usize,
        start: usize,
        adjust: isize,
        proto: &'static str,
        field: &'static str,
    ) -> Result<()> {
        let v = len_value(self.len(), start, adjust, u16::MAX as u64, proto, field)?;
        self.patch_u16(at, v as u16);
        Ok(())
    }
    fn patch_len_u24(
        &mut self,
        at: usize,
        start: usize,
        adjust: isize,
        proto: &'static str,
        field: &'static str,
    ) -> Result<()> {
        let v = len_value(self.len(), start, adjust, 0xff_ffff, proto, field)?;
        self.patch_u24(at, v as u32);
        Ok(())
    }
    fn patch_len_u32(
        &mut self,
        at: usize,
        start: usize,
        adjust: isize,
        proto: &'static str,
        field: &'static str,
    ) -> Result<()> {
        let v = len_value(self.len(), start, adjust, u32::MAX as u64, proto, field)?;
        self.patch_u32(at, v as u32);
        Ok(())
    }
}

/// Number of zero bytes that pad `len` up to a multiple of `align` (a power of two or not).
#[inline]
pub const fn pad_to(len: usize, align: usize) -> usize {
    (align - len % align) % align
}

/// The Internet checksum (RFC 1071) accumulator: add byte slices, then `finish`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Checksum(u32);

impl Checksum {
    pub const fn new() -> Self {
        Checksum(0)
    }
    /// Adds `data` as a sequence of 16-bit big-endian words (odd tail padded with zero).
    /// Chunks after the first must start on an even offset of the whole sum.
    pub fn add(&mut self, data: &[u8]) -> &mut Self {
        let mut chunks = data.chunks_exact(2);
        let mut sum = self.0 as u64;
        for c in &mut chunks {
            sum += u16::from_be_bytes([c[0], c[1]]) as u64;
        }
        if let [b] = chunks.remainder() {
            sum += (*b as u64) << 8;
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        self.0 = sum as u32;
        self
    }
    pub fn add_u16(&mut self, v: u16) -> &mut Self {
        self.add(&v.to_be_bytes())
    }
    pub fn add_u32(&mut self, v: u32) -> &mut Self {
        self.add(&v.to_be_bytes())
    }
    /// The one's complement of the sum: the value to put in the checksum field.
    pub fn finish(&self) -> u16 {
        !(self.0 as u16)
    }
    /// IPv6 upper-layer pseudo-header (RFC 8200 §8.1).
    pub fn ipv6_pseudo(src: &[u8; 16], dst: &[u8; 16], len: u32, next_header: u8) -> Self {
        let mut c = Checksum::new();
        c.add(src).add(dst).add_u32(len).add_u32(next_header as u32);
        c
    }
    /// IPv4 pseudo-header (RFC 768).
    pub fn ipv4_pseudo(src: &[u8; 4], dst: &[u8; 4], len: u16, proto: u8) -> Self {
        let mut c = Checksum::new();
        c.add(src).add(dst).add_u16(proto as u16).add_u16(len);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_names_the_field() {
        let mut r = Reader::new("demo", &[1, 2, 3]);
        assert_eq!(r.u16("a").unwrap(), 0x0102);
        let e = r.u16("b").unwrap_err();
        assert_eq!(e.field, "b");
        assert_eq!(e.kind, ErrorKind::Truncated);
        assert_eq!(e.to_string(), "demo: b: truncated");
        assert_eq!(r.u8("c").unwrap(), 3);
        assert!(r.finish("end").is_ok());
    }

    #[test]
    fn writer_patches_lengths_with_range_check() {
        let mut v = Vec::new();
        v.put_u8(7);
        let at = v.len();
        v.put_u8(0);
        v.put(&[0; 300]);
        assert_eq!(
            v.patch_len_u8(at, 0, 0, "demo", "len").unwrap_err().kind,
            ErrorKind::TooLong
        );
        v.patch_len_u16(0, 0, 0, "demo", "len").unwrap();
        assert_eq!(&v[..2], &302u16.to_be_bytes());
        let mut w = Vec::new();
        w.put_u24(0x010203);
        assert_eq!(w, [1, 2, 3]);
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d.
        let mut c = Checksum::new();
        c.add(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
        assert_eq!(c.finish(), !0xddf2);
    }
}
