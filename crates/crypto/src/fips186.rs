//! The FIPS 186-2 pseudo-random function with change notice 1, as EAP-SIM (RFC 4186 §7) and
//! EAP-AKA (RFC 4187 §7) use it: b = 160, XSEED_j = 0, no reduction mod q, and G built from
//! the SHA-1 compression function (FIPS 186-2 Appendix 3.3: one block, the 160-bit input
//! padded with zeros, no length padding).
//!
//! For each 40-octet output block j: for i in {0, 1}: w_i = G(t, XKEY);
//! XKEY = (1 + XKEY + w_i) mod 2^160; x_j = w_0 | w_1.

use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

const SHA1_IV: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// G(t, c): SHA-1 compression of c | 0^352 from the SHA-1 initial value.
fn g(c: &[u8; 20]) -> [u8; 20] {
    let mut block = [0u8; 64];
    block[..20].copy_from_slice(c);
    let mut state = SHA1_IV;
    sha1::block_api::compress(&mut state, core::slice::from_ref(&block));
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state.iter()) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    block.zeroize();
    state.zeroize();
    out
}

/// The generator state (XKEY). Produces 20 octets (one w_i) per step.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Fips186Prf {
    xkey: [u8; 20],
}

impl fmt::Debug for Fips186Prf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fips186Prf(redacted)")
    }
}

impl Fips186Prf {
    /// Seeds the generator with XKEY (MK for EAP-SIM/AKA, XKEY' for fast re-authentication).
    pub fn new(xkey: &[u8; 20]) -> Self {
        Self { xkey: *xkey }
    }

    /// The current XKEY (exposed for known-answer tests of the intermediate values).
    pub fn xkey(&self) -> &[u8; 20] {
        &self.xkey
    }

    /// One step: w = G(XKEY); XKEY = (1 + XKEY + w) mod 2^160; returns w.
    pub fn next_w(&mut self) -> [u8; 20] {
        let w = g(&self.xkey);
        // Big-endian addition of XKEY + w + 1, carry out of the top discarded (mod 2^160).
        let mut carry: u16 = 1;
        for i in (0..20).rev() {
            let sum = u16::from(self.xkey[i]) + u16::from(w[i]) + carry;
            self.xkey[i] = (sum & 0xff) as u8;
            carry = sum >> 8;
        }
        w
    }

    /// Fills `out` with the output stream w_0 | w_1 | w_2 | ... (truncating the last w).
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(20) {
            let mut w = self.next_w();
            chunk.copy_from_slice(&w[..chunk.len()]);
            w.zeroize();
        }
    }
}

/// The PRF output for `xkey`, `out.len()` octets.
pub fn fips186_2_prf(xkey: &[u8; 20], out: &mut [u8]) {
    Fips186Prf::new(xkey).fill(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_of_zero_is_compression_not_hash() {
        // SHA-1("") would be da39a3ee...; G(0) is the raw compression of an all-zero block,
        // a well-known value: 92b404e5 56588ced 6c1acd4e bf053f68 09f73a93.
        let out = g(&[0u8; 20]);
        assert_eq!(hex::encode(out), "92b404e556588ced6c1acd4ebf053f6809f73a93");
    }

    #[test]
    fn addition_wraps_mod_2_160() {
        let mut p = Fips186Prf::new(&[0xff; 20]);
        let w = p.next_w();
        // XKEY = (1 + (2^160 - 1) + w) mod 2^160 = w.
        assert_eq!(p.xkey(), &w);
    }

    #[test]
    fn truncated_fill_is_a_prefix() {
        let xkey = [7u8; 20];
        let mut a = [0u8; 45];
        let mut b = [0u8; 60];
        fips186_2_prf(&xkey, &mut a);
        fips186_2_prf(&xkey, &mut b);
        assert_eq!(a[..], b[..45]);
    }
}
