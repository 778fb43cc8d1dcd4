//! Encrypted EAP-AKA / EAP-AKA' pseudonyms: the subscriber's IMSI, the method and an expiry
//! time sealed in one AES-128 block under a key only the AAA servers hold, so that a
//! pseudonym is resolved by decrypting it, not by looking it up (RFC 4187 §4.1.1.7 leaves
//! the form of a pseudonym to the server; it must only be unlinkable to the IMSI for anyone
//! else).
//!
//! The 16-octet plaintext (docs/protocols.md, "Encrypted pseudonyms"):
//!
//! | octets | content |
//! |---|---|
//! | 0–7 | first nibble: number of IMSI digits (5–15); then the digits as BCD, unused nibbles 0 |
//! | 8–11 | expiry, Unix seconds, big-endian |
//! | 12 | method: 0 EAP-AKA, 1 EAP-AKA' |
//! | 13–15 | random |
//!
//! AES is a permutation, so every ciphertext decrypts to something: [`PseudonymKey::open`]
//! accepts a block only when the digit count, the digits, the zero nibbles and the method
//! octet are well formed (a random block passes with probability below 2^-20). A forged
//! pseudonym that passes names some IMSI, and gains its sender nothing: the server answers
//! it with a full authentication only that subscriber's USIM can complete. The random
//! octets and the expiry make two pseudonyms of one subscriber unlinkable.

use aes::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use aes::Aes128;

/// Octets of a pseudonym key (AES-128).
pub const KEY_LEN: usize = 16;

/// What an encrypted pseudonym carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// 5 to 15 decimal digits.
    pub imsi: String,
    /// 0 EAP-AKA, 1 EAP-AKA'.
    pub method: u8,
    /// Unix seconds after which the pseudonym is no longer valid.
    pub expires: u32,
}

/// The AES-128 key pseudonyms are sealed with.
#[derive(Clone)]
pub struct PseudonymKey {
    aes: Aes128,
}

impl core::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PseudonymKey(..)")
    }
}

impl PseudonymKey {
    /// A key from its 16 octets.
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        Self {
            aes: Aes128::new(&Array::from(*key)),
        }
    }

    /// The sealed block; `None` when `imsi` is not 5 to 15 decimal digits or `method` is
    /// not 0 or 1.
    pub fn seal(&self, imsi: &str, method: u8, expires: u32, nonce: [u8; 3]) -> Option<[u8; 16]> {
        let digits = imsi.as_bytes();
        if !(5..=15).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) || method > 1
        {
            return None;
        }
        let mut nibbles = [0u8; 16];
        nibbles[0] = digits.len() as u8;
        for (n, d) in nibbles[1..].iter_mut().zip(digits) {
            *n = d - b'0';
        }
        let mut b = [0u8; 16];
        for (i, o) in b[..8].iter_mut().enumerate() {
            *o = (nibbles[2 * i] << 4) | nibbles[2 * i + 1];
        }
        b[8..12].copy_from_slice(&expires.to_be_bytes());
        b[12] = method;
        b[13..].copy_from_slice(&nonce);
        let mut block = Array::from(b);
        self.aes.encrypt_block(&mut block);
        Some(block.into())
    }

    /// What `block` carries, if it is a well-formed pseudonym of this key. Expiry is the
    /// caller's to check.
    pub fn open(&self, block: &[u8; 16]) -> Option<Opened> {
        let mut a = Array::from(*block);
        self.aes.decrypt_block(&mut a);
        let b: [u8; 16] = a.into();
        let nibble = |i: usize| (b[i / 2] >> (4 * (1 - i % 2))) & 0x0f;
        let len = usize::from(nibble(0));
        if !(5..=15).contains(&len) || b[12] > 1 {
            return None;
        }
        let mut imsi = String::with_capacity(len);
        for i in 1..16 {
            let d = nibble(i);
            if i <= len {
                if d > 9 {
                    return None;
                }
                imsi.push(char::from(b'0' + d));
            } else if d != 0 {
                return None;
            }
        }
        Some(Opened {
            imsi,
            method: b[12],
            expires: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PseudonymKey {
        PseudonymKey::new(&[0x42; 16])
    }

    #[test]
    fn seal_then_open_gives_back_imsi_method_and_expiry() {
        let k = key();
        for imsi in ["00101", "001010000000001", "23415999999"] {
            for method in [0, 1] {
                let b = k.seal(imsi, method, 1_900_000_000, [1, 2, 3]).unwrap();
                assert_eq!(
                    k.open(&b),
                    Some(Opened {
                        imsi: imsi.into(),
                        method,
                        expires: 1_900_000_000
                    })
                );
            }
        }
    }

    #[test]
    fn plaintext_layout_is_the_documented_one() {
        let k = key();
        let b = k
            .seal("001010123456789", 1, 0x0102_0304, [9, 8, 7])
            .unwrap();
        let mut a = Array::from(b);
        k.aes.decrypt_block(&mut a);
        let p: [u8; 16] = a.into();
        assert_eq!(
            p,
            [0xf0, 0x01, 0x01, 0x01, 0x23, 0x45, 0x67, 0x89, 1, 2, 3, 4, 1, 9, 8, 7]
        );
    }

    #[test]
    fn refuses_what_it_cannot_seal() {
        let k = key();
        assert!(k.seal("1234", 0, 0, [0; 3]).is_none());
        assert!(k.seal("0010100000000011", 0, 0, [0; 3]).is_none());
        assert!(k.seal("00101x", 0, 0, [0; 3]).is_none());
        assert!(k.seal("001010000000001", 2, 0, [0; 3]).is_none());
    }

    #[test]
    fn other_key_or_altered_block_does_not_open() {
        let k = key();
        let b = k
            .seal("001010000000001", 0, 1_900_000_000, [5, 6, 7])
            .unwrap();
        assert!(PseudonymKey::new(&[0x43; 16]).open(&b).is_none());
        for i in 0..16 {
            let mut x = b;
            x[i] ^= 0x01;
            // Any change scrambles the whole plaintext; the check rejects nearly all.
            assert_ne!(
                k.open(&x).map(|o| o.imsi),
                Some("001010000000001".to_string())
            );
        }
    }

    #[test]
    fn random_blocks_almost_never_open() {
        let k = key();
        let mut opened = 0;
        let mut x = [0u8; 16];
        for i in 0u32..200_000 {
            x[..4].copy_from_slice(&i.to_le_bytes());
            x[4] = (i % 251) as u8;
            if k.open(&x).is_some() {
                opened += 1;
            }
        }
        // Expected about 200,000 × 2^-21 ≈ 0.1; 10 would mean the check is broken.
        assert!(opened < 10, "{opened} random blocks opened");
    }

    #[test]
    fn same_imsi_gives_unlinkable_pseudonyms() {
        let k = key();
        let a = k
            .seal("001010000000001", 0, 1_900_000_000, [0, 0, 1])
            .unwrap();
        let b = k
            .seal("001010000000001", 0, 1_900_000_000, [0, 0, 2])
            .unwrap();
        assert_ne!(a, b);
    }
}
