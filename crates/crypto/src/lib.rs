//! mobstrap-crypto: the key derivations and transforms of the mobility bootstrapping control plane.
//!
//! This crate works on bytes only: it knows nothing about packet formats (the `mobstrap-wire`
//! codecs lay out the bytes and hand over offsets), sockets, clocks or the store. Engines in
//! `proto` call it; randomness is passed in wherever a sans-I/O engine needs determinism.
//!
//! Rooms:
//! * [`milenage`]: 3GPP TS 35.206 f1..f5*, AUTN, USIM-side AUTN check, AUTS resynchronisation,
//!   and the GSM conversions c2/c3 (TS 33.102, TS 55.205).
//! * [`fips186`]: the FIPS 186-2 (change notice 1) PRF of EAP-SIM/EAP-AKA.
//! * [`eap_aka`]: EAP-AKA (RFC 4187) and EAP-SIM (RFC 4186) keys, fast re-authentication keys,
//!   AT_MAC, AT_CHECKCODE and AT_ENCR_DATA.
//! * [`eap_aka_prime`]: EAP-AKA' (RFC 9048 / RFC 5448): CK'/IK', PRF', keys, re-auth keys.
//! * [`ikev2`]: IKEv2 (RFC 7296, RFC 4868) PRFs, prf+, SKEYSEED, IKE SA and Child SA keys, AUTH
//!   payload computation, integrity transforms.
//! * [`erp`]: RFC 5295 KDF, USRK/DSRK, EMSKname, and the ERP (RFC 6696) rRK/rIK/rMSK keys and
//!   authentication tag.
//! * [`dh`]: Diffie-Hellman groups 14, 15 (MODP), 19, 20 (ECP) and 31 (Curve25519).
//! * [`sig`]: RSA and ECDSA signatures for IKEv2 AUTH (RFC 7296, RFC 4754, RFC 7427).
//! * [`transform`]: ENCR_AES_CBC + HMAC and ENCR_AES_GCM_16 for IKE SK payloads and ESP,
//!   in place in a buffer the codec laid out.
//!
//! Rules: secret keys are zeroized on drop and never printed by `Debug`; MACs and ICVs are
//! compared in constant time; no function panics on any input (lengths are checked and
//! reported as [`Error`]).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod dh;
pub mod eap_aka;
pub mod eap_aka_prime;
pub mod erp;
pub mod fips186;
pub mod ikev2;
pub mod milenage;
pub mod pseudonym;
pub mod radius;
mod secret;
pub mod sig;
pub mod transform;
mod util;

pub use secret::{SecretBytes, SecretVec};
pub use util::Output;

/// Errors of this crate. Each names what was wrong; none carries secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An input had a length the algorithm cannot accept.
    #[error("{what}: invalid length {len}")]
    InvalidLength {
        /// The input, e.g. `"AT_ENCR_DATA"` or `"K_encr"`.
        what: &'static str,
        /// The length received.
        len: usize,
    },
    /// A value was out of its allowed range (e.g. an SQN above 2^48 - 1).
    #[error("{what}: value out of range")]
    OutOfRange {
        /// The value's name.
        what: &'static str,
    },
    /// A requested output is longer than the KDF can produce.
    #[error("{what}: requested output of {len} octets is too long")]
    OutputTooLong {
        /// The KDF, e.g. `"prf+"`.
        what: &'static str,
        /// Octets requested.
        len: usize,
    },
    /// A MAC, ICV, AUTH value or authentication tag did not verify.
    #[error("{what}: authentication failed")]
    AuthenticationFailed {
        /// What did not verify, e.g. `"AT_MAC"`, `"ICV"`, `"MAC-S"`.
        what: &'static str,
    },
    /// A peer's Diffie-Hellman public value was rejected (wrong length, not on the curve,
    /// or outside 1 < y < p-1).
    #[error("DH group {group}: invalid peer public value")]
    InvalidPublicValue {
        /// IANA Transform Type 4 number.
        group: u16,
    },
    /// Private key material was unusable (e.g. an ECP scalar of zero or ≥ the group order).
    #[error("DH group {group}: invalid private value (draw new randomness)")]
    InvalidPrivateValue {
        /// IANA Transform Type 4 number.
        group: u16,
    },
    /// An algorithm or transform number this crate does not implement.
    #[error("unsupported {what} {id}")]
    Unsupported {
        /// The kind of thing, e.g. `"DH group"`.
        what: &'static str,
        /// Its number.
        id: u16,
    },
    /// The system random number generator failed.
    #[error("system random number generator failed")]
    Rng,
    /// The cryptographic backend reported an internal failure.
    #[error("crypto backend failure in {0}")]
    Backend(&'static str),
}

/// Result with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
