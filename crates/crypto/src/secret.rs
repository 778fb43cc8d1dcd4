//! Containers for secret key material: zeroized on drop, redacted in `Debug`, compared in
//! constant time.

use core::fmt;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{Error, Result};

/// A fixed-size secret (a key such as CK, IK, K_aut, MSK). Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes<const N: usize>([u8; N]);

impl<const N: usize> SecretBytes<N> {
    /// Wraps key bytes.
    pub const fn new(bytes: [u8; N]) -> Self {
        Self(bytes)
    }

    /// Copies a slice that must be exactly `N` octets long.
    pub fn from_slice(what: &'static str, bytes: &[u8]) -> Result<Self> {
        let arr: [u8; N] = bytes.try_into().map_err(|_| Error::InvalidLength {
            what,
            len: bytes.len(),
        })?;
        Ok(Self(arr))
    }

    /// All zeros (to be filled in place).
    pub(crate) const fn zero() -> Self {
        Self([0u8; N])
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; N] {
        &self.0
    }

    pub(crate) fn as_mut_bytes(&mut self) -> &mut [u8; N] {
        &mut self.0
    }
}

impl<const N: usize> AsRef<[u8]> for SecretBytes<N> {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl<const N: usize> fmt::Debug for SecretBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes<{N}>(redacted)")
    }
}

impl<const N: usize> PartialEq for SecretBytes<N> {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl<const N: usize> Eq for SecretBytes<N> {}

impl<const N: usize> From<[u8; N]> for SecretBytes<N> {
    fn from(bytes: [u8; N]) -> Self {
        Self(bytes)
    }
}

/// A variable-length secret (IKE SA keys whose length depends on the negotiated transforms,
/// KEYMAT, DH shared secrets). Zeroized on drop.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct SecretVec(Vec<u8>);

impl SecretVec {
    /// Wraps key bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Copies key bytes.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// `len` zero octets, to be filled in place.
    pub(crate) fn zeroed(len: usize) -> Self {
        Self(vec![0u8; len])
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn as_mut_bytes(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Length in octets.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl AsRef<[u8]> for SecretVec {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretVec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretVec[{}](redacted)", self.0.len())
    }
}

impl PartialEq for SecretVec {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretVec {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_key_bytes() {
        let k = SecretBytes::new([0xabu8; 16]);
        let s = format!("{k:?}");
        assert!(!s.contains("ab") && !s.contains("171"), "{s}");
        let v = SecretVec::from_slice(&[0xcd; 5]);
        let s = format!("{v:?}");
        assert!(!s.contains("cd") && !s.contains("205"), "{s}");
        assert!(s.contains("[5]"));
    }

    #[test]
    fn from_slice_checks_length() {
        assert!(SecretBytes::<16>::from_slice("K", &[0; 15]).is_err());
        assert_eq!(
            SecretBytes::<16>::from_slice("K", &[0; 17]),
            Err(Error::InvalidLength { what: "K", len: 17 })
        );
        assert!(SecretBytes::<16>::from_slice("K", &[0; 16]).is_ok());
    }

    #[test]
    fn equality_is_by_value() {
        assert_eq!(SecretBytes::new([1u8; 4]), SecretBytes::new([1u8; 4]));
        assert_ne!(SecretBytes::new([1u8; 4]), SecretBytes::new([1, 1, 1, 2]));
        assert_ne!(
            SecretVec::from_slice(&[1, 2]),
            SecretVec::from_slice(&[1, 2, 3])
        );
    }
}
