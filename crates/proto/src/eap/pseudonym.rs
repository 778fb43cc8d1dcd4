//! Pseudonyms the server resolves without a lookup: the IMSI travels encrypted in the
//! pseudonym itself ([`mobstrap_crypto::pseudonym`]).
//!
//! The username is `<P><K><32 hex digits>`: `P` the method's pseudonym prefix (`2` EAP-AKA,
//! `7` EAP-AKA'), `K` the key identifier as one lowercase hex digit, then the sealed
//! 16-octet block in lowercase hex: 34 characters (docs/protocols.md, "Encrypted pseudonyms").
//! Lowercase hex survives every NAI-handling intermediary (no case folding, no characters
//! that need escaping).

use std::fmt;
use std::sync::Arc;

use mobstrap_crypto::pseudonym::PseudonymKey;
use rand::RngCore;

use super::Method;

/// Issues pseudonyms and resolves those it issued, so that neither needs the store.
/// [`super::AkaServerConfig::pseudonym_cipher`] holds one; without it the server issues
/// random pseudonyms and asks the node to store and look them up ([`super::Event`]).
pub trait PseudonymCipher: Send + Sync + fmt::Debug {
    /// A new pseudonym (a username, no realm) for `imsi` under `method`; `None` if it cannot
    /// make one (then the server falls back to a random, stored one).
    fn seal(&self, method: Method, imsi: &str, rng: &mut dyn RngCore) -> Option<String>;

    /// The IMSI behind `username` if this cipher issued it for `method` and it is still
    /// valid; `None` otherwise (the server then asks the node's store, which may hold a
    /// pseudonym issued before the cipher was configured).
    fn open(&self, method: Method, username: &str) -> Option<String>;
}

/// Length of an encrypted pseudonym username.
pub const ENCRYPTED_LEN: usize = 2 + 32;

/// The node's clock as Unix seconds (this crate reads no clock itself).
pub type UnixClock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// [`PseudonymCipher`] with an AES-128 key shared by every AAA node of a deployment.
pub struct EncryptedPseudonyms {
    key: PseudonymKey,
    key_id: u8,
    lifetime: u32,
    now: UnixClock,
}

impl fmt::Debug for EncryptedPseudonyms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedPseudonyms")
            .field("key_id", &self.key_id)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl EncryptedPseudonyms {
    /// Pseudonyms under `key` (identified as `key_id`, 0–15, in the username), valid for
    /// `lifetime` seconds after issue by `now`.
    pub fn new(key: PseudonymKey, key_id: u8, lifetime: u32, now: UnixClock) -> Self {
        Self {
            key,
            key_id: key_id & 0x0f,
            lifetime,
            now,
        }
    }
}

fn method_octet(m: Method) -> u8 {
    match m {
        Method::Aka => 0,
        Method::AkaPrime => 1,
    }
}

fn hex_digit(v: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(v & 0x0f)])
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl PseudonymCipher for EncryptedPseudonyms {
    fn seal(&self, method: Method, imsi: &str, rng: &mut dyn RngCore) -> Option<String> {
        let expires = (self.now)().saturating_add(u64::from(self.lifetime));
        let expires = u32::try_from(expires).ok()?;
        let mut nonce = [0u8; 3];
        rng.fill_bytes(&mut nonce);
        let block = self.key.seal(imsi, method_octet(method), expires, nonce)?;
        let mut s = String::with_capacity(ENCRYPTED_LEN);
        s.push(char::from(method.pseudonym_prefix()));
        s.push(hex_digit(self.key_id));
        for b in block {
            s.push(hex_digit(b >> 4));
            s.push(hex_digit(b));
        }
        Some(s)
    }

    fn open(&self, method: Method, username: &str) -> Option<String> {
        let u = username.as_bytes();
        if u.len() != ENCRYPTED_LEN
            || u[0] != method.pseudonym_prefix()
            || hex_value(u[1]) != Some(self.key_id)
        {
            return None;
        }
        let mut block = [0u8; 16];
        for (o, pair) in block.iter_mut().zip(u[2..].chunks_exact(2)) {
            *o = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
        }
        let opened = self.key.open(&block)?;
        if opened.method != method_octet(method) || u64::from(opened.expires) <= (self.now)() {
            return None;
        }
        Some(opened.imsi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Key id 3, 600 s lifetime, the key `[key; 16]`, on `clock`.
    fn cipher_with(key: u8, clock: Arc<AtomicU64>) -> EncryptedPseudonyms {
        EncryptedPseudonyms::new(
            PseudonymKey::new(&[key; 16]),
            3,
            600,
            Arc::new(move || clock.load(Ordering::Relaxed)),
        )
    }

    fn cipher(clock: Arc<AtomicU64>) -> EncryptedPseudonyms {
        cipher_with(7, clock)
    }

    #[test]
    fn issued_pseudonym_opens_until_it_expires() {
        let clock = Arc::new(AtomicU64::new(1_800_000_000));
        let c = cipher(clock.clone());
        let p = c
            .seal(Method::AkaPrime, "001010000000042", &mut rand::rng())
            .unwrap();
        assert_eq!(p.len(), ENCRYPTED_LEN);
        assert!(p.starts_with("73"), "{p}");
        assert!(p[2..].bytes().all(|b| hex_value(b).is_some()));
        assert_eq!(
            c.open(Method::AkaPrime, &p).as_deref(),
            Some("001010000000042")
        );
        // Not under the other method, nor with the other method's prefix.
        assert_eq!(c.open(Method::Aka, &p), None);
        let swapped = format!("2{}", &p[1..]);
        assert_eq!(c.open(Method::Aka, &swapped), None);
        clock.store(1_800_000_599, Ordering::Relaxed);
        assert!(c.open(Method::AkaPrime, &p).is_some());
        clock.store(1_800_000_600, Ordering::Relaxed);
        assert_eq!(c.open(Method::AkaPrime, &p), None);
    }

    #[test]
    fn rejects_other_keys_ids_and_malformed_usernames() {
        let clock = Arc::new(AtomicU64::new(1_800_000_000));
        let c = cipher(clock.clone());
        let p = c
            .seal(Method::Aka, "001010000000042", &mut rand::rng())
            .unwrap();
        let other = cipher_with(8, clock);
        assert_eq!(other.open(Method::Aka, &p), None);
        let wrong_id = format!("24{}", &p[2..]);
        assert_eq!(c.open(Method::Aka, &wrong_id), None);
        let upper = p.to_uppercase();
        assert_eq!(c.open(Method::Aka, &upper), None);
        for bad in ["", "2", "23", &p[..33], &format!("{p}0")] {
            assert_eq!(c.open(Method::Aka, bad), None, "{bad}");
        }
        // A random (stored-style) pseudonym is not this cipher's.
        let random = super::super::aka::random_username(b'2', &mut rand::rng());
        assert_eq!(c.open(Method::Aka, &random), None);
    }

    #[test]
    fn two_pseudonyms_of_one_subscriber_differ() {
        let c = cipher(Arc::new(AtomicU64::new(1_800_000_000)));
        let a = c.seal(Method::Aka, "001010000000042", &mut rand::rng());
        let b = c.seal(Method::Aka, "001010000000042", &mut rand::rng());
        assert_ne!(a, b);
    }
}
