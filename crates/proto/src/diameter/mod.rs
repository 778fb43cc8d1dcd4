//! # The Diameter base protocol engines (RFC 6733, RFC 3539)
//!
//! * [`conn`]: one [`Connection`] per transport connection: the peer state machine
//!   (CER/CEA as initiator or responder, DPR/DPA), the RFC 3539 watchdog (DWR/DWA, OKAY /
//!   SUSPECT / REOPEN, failover), the pending-request table matched by Hop-by-Hop Identifier,
//!   request timeouts, and the checks that answer malformed requests (5xxx, 3008, 3009).
//! * [`caps`]: our identity and capabilities ([`LocalIdentity`]), the peer's ([`PeerCaps`]),
//!   and the application intersection.
//! * [`peers`]: the [`PeerTable`]: which peers may connect (3010 otherwise), which we
//!   connect to, the Tc reconnect timer, hold-offs after a DPR, and the election between two
//!   simultaneous connections with one peer.
//! * [`router`]: the realm-based routing table and the forwarding decisions of RFC 6733 §6
//!   (local, Destination-Host, realm routes, default route, 3002/3003/3005), and the byte
//!   edits a proxy makes (Route-Record, Hop-by-Hop Identifier, T flag).
//! * [`dup`]: duplicate detection by (Origin-Host, End-to-End Identifier).
//! * [`rules`]: command ABNF checks (5005/5008/5009) and error answers.
//!
//! Time (`Instant`) and randomness (seeds) are passed in; nothing here reads a clock,
//! touches a socket or logs: the node does, from the events the engines queue. Messages are
//! parsed and built with `mobstrap_wire::diameter`.

pub mod caps;
pub mod conn;
pub mod dup;
pub mod peers;
pub mod router;
pub mod rules;

pub use caps::{AppSet, LocalIdentity, PeerCaps, VendorApp};
pub use conn::{
    CloseReason, Connection, ConnectionConfig, Event, Received, Role, State, WatchdogState,
};
pub use dup::{DupStatus, DuplicateCache};
pub use peers::{AllowRule, CerVerdict, PeerConfig, PeerTable};
pub use router::{Decision, PeerView, Route, RouteAction, RouteTable};
pub use rules::{AvpRule, Rejection};

/// Result-Code values the engines use (RFC 6733 §7.1).
pub mod rc {
    pub const SUCCESS: u32 = 2001;
    pub const COMMAND_UNSUPPORTED: u32 = 3001;
    pub const UNABLE_TO_DELIVER: u32 = 3002;
    pub const REALM_NOT_SERVED: u32 = 3003;
    pub const TOO_BUSY: u32 = 3004;
    pub const LOOP_DETECTED: u32 = 3005;
    pub const APPLICATION_UNSUPPORTED: u32 = 3007;
    pub const INVALID_HDR_BITS: u32 = 3008;
    pub const INVALID_AVP_BITS: u32 = 3009;
    pub const UNKNOWN_PEER: u32 = 3010;
    pub const ELECTION_LOST: u32 = 4003;
    pub const AVP_UNSUPPORTED: u32 = 5001;
    pub const INVALID_AVP_VALUE: u32 = 5004;
    pub const MISSING_AVP: u32 = 5005;
    pub const AVP_NOT_ALLOWED: u32 = 5008;
    pub const AVP_OCCURS_TOO_MANY_TIMES: u32 = 5009;
    pub const NO_COMMON_APPLICATION: u32 = 5010;
    pub const UNSUPPORTED_VERSION: u32 = 5011;
    pub const UNABLE_TO_COMPLY: u32 = 5012;
    pub const INVALID_AVP_LENGTH: u32 = 5014;
    pub const INVALID_MESSAGE_LENGTH: u32 = 5015;
    pub const NO_COMMON_SECURITY: u32 = 5017;

    /// Protocol errors (3xxx) are sent with the E bit (RFC 6733 §7.1.3).
    pub fn is_protocol_error(code: u32) -> bool {
        (3000..4000).contains(&code)
    }
}

/// Disconnect-Cause values (RFC 6733 §5.4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisconnectCause {
    Rebooting,
    Busy,
    DoNotWantToTalkToYou,
    Other(i32),
}

impl DisconnectCause {
    pub fn value(self) -> i32 {
        match self {
            DisconnectCause::Rebooting => 0,
            DisconnectCause::Busy => 1,
            DisconnectCause::DoNotWantToTalkToYou => 2,
            DisconnectCause::Other(v) => v,
        }
    }
    pub fn from_value(v: i32) -> Self {
        match v {
            0 => DisconnectCause::Rebooting,
            1 => DisconnectCause::Busy,
            2 => DisconnectCause::DoNotWantToTalkToYou,
            v => DisconnectCause::Other(v),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            DisconnectCause::Rebooting => "REBOOTING",
            DisconnectCause::Busy => "BUSY",
            DisconnectCause::DoNotWantToTalkToYou => "DO_NOT_WANT_TO_TALK_TO_YOU",
            DisconnectCause::Other(_) => "unknown",
        }
    }
}

/// Diameter identities compare case-insensitively (RFC 6733 §5.6.4, DNS rules).
pub fn same_identity(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests;
