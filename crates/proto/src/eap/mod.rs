//! EAP engines: the authenticator-side EAP server as a backend AAA server runs it (RFC 3748),
//! the EAP peer, and the EAP-AKA (RFC 4187) / EAP-AKA' (RFC 9048) methods behind them.
//!
//! Layout (hostapd `eap_server` / `eap_peer` style): [`server`] and [`peer`] are the generic
//! EAP framing (Identity, Nak, Success/Failure, Identifier rules, duplicate and unexpected
//! packets); each method is one module behind one trait ([`server::ServerMethod`],
//! [`peer::PeerMethod`]): [`aka_server`] and [`aka_peer`] (one module serves both EAP-AKA and
//! EAP-AKA', which differ only in key derivation, hashes and a few attributes).
//! [`usim`] is the USIM the peer runs on (Milenage, SQN_MS with TS 33.102 Annex C).
//!
//! What this room may not touch: sockets, clocks, the store, tokio. The server cannot look up
//! a subscriber itself: it asks with [`Need`] (polled as [`Event::Need`]) and waits until the
//! node answers with `provide_vector`, `provide_pseudonym` or `provide_reauth_context`.
//! Randomness (identifiers, nonces, IVs, pseudonyms) is passed in as a [`rand::RngCore`].
//! Codecs come from `mobstrap_wire::eap`, keys and MACs from `mobstrap_crypto`.
//!
//! Secrets (MSK, EMSK, K_aut, K_encr, MK, K_re) live in zeroizing containers and never reach
//! a log line; MACs and RES are compared in constant time.

mod aka;
pub mod aka_peer;
pub mod aka_server;
pub mod peer;
pub mod pseudonym;
pub mod server;
pub mod usim;

pub use aka_peer::{
    AkaEapPeer, AkaPeer, AkaPeerConfig, IdentityChoice, NetworkNamePolicy, PeerFault,
};
pub use aka_server::{AkaEapServer, AkaServer, AkaServerConfig, IdRequest, IdentityPolicy};
pub use peer::{EapPeer, PeerEvent, PeerFailure, PeerSuccess};
pub use pseudonym::{EncryptedPseudonyms, PseudonymCipher};
pub use server::{EapServer, ServerConfig};
pub use usim::{SqnPolicy, SqnState, Usim, UsimAnswer};

use mobstrap_crypto::SecretBytes;

/// The two methods of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// EAP-AKA, type 23 (RFC 4187).
    Aka,
    /// EAP-AKA', type 50 (RFC 9048).
    AkaPrime,
}

/// EAP type of EAP-AKA.
pub const TYPE_AKA: u8 = 23;
/// EAP type of EAP-AKA'.
pub const TYPE_AKA_PRIME: u8 = 50;

impl Method {
    /// The EAP Type value.
    pub const fn eap_type(self) -> u8 {
        match self {
            Method::Aka => TYPE_AKA,
            Method::AkaPrime => TYPE_AKA_PRIME,
        }
    }

    /// The method of an EAP Type value.
    pub const fn from_eap_type(t: u8) -> Option<Self> {
        match t {
            TYPE_AKA => Some(Method::Aka),
            TYPE_AKA_PRIME => Some(Method::AkaPrime),
            _ => None,
        }
    }

    /// Leading character of IMSI-based permanent usernames (RFC 4187 §4.1.1.6, RFC 9048 §3).
    pub const fn permanent_prefix(self) -> u8 {
        match self {
            Method::Aka => b'0',
            Method::AkaPrime => b'6',
        }
    }

    /// Leading character of the pseudonym usernames this server issues (TS 23.003 §19.3,
    /// the convention RFC 9048 §3 gives as an example).
    pub const fn pseudonym_prefix(self) -> u8 {
        match self {
            Method::Aka => b'2',
            Method::AkaPrime => b'7',
        }
    }

    /// Leading character of the fast re-authentication usernames this server issues.
    pub const fn reauth_prefix(self) -> u8 {
        match self {
            Method::Aka => b'4',
            Method::AkaPrime => b'8',
        }
    }

    /// A short name for logs and metrics labels.
    pub const fn name(self) -> &'static str {
        match self {
            Method::Aka => "EAP-AKA",
            Method::AkaPrime => "EAP-AKA'",
        }
    }
}

impl core::fmt::Display for Method {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// What an identity's username says about itself, by its leading character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    /// `0<IMSI>` (EAP-AKA) or `6<IMSI>` (EAP-AKA').
    Permanent(Method),
    /// `2…` / `7…`.
    Pseudonym(Method),
    /// `4…` / `8…`.
    Reauth(Method),
    /// Anything else (including the empty identity).
    Other,
}

/// Splits an NAI into username and realm (the part after the last `@`, RFC 7542).
pub fn split_nai(identity: &[u8]) -> (&[u8], Option<&[u8]>) {
    match identity.iter().rposition(|&c| c == b'@') {
        Some(at) => (&identity[..at], Some(&identity[at + 1..])),
        None => (identity, None),
    }
}

/// Classifies an identity by the leading character of its username. A permanent identity is
/// only recognised when the rest of the username is an IMSI (5 to 15 digits).
pub fn classify_identity(identity: &[u8]) -> IdentityKind {
    let (user, _) = split_nai(identity);
    let Some(&first) = user.first() else {
        return IdentityKind::Other;
    };
    for m in [Method::Aka, Method::AkaPrime] {
        if first == m.permanent_prefix() {
            return if imsi_digits(&user[1..]).is_some() {
                IdentityKind::Permanent(m)
            } else {
                IdentityKind::Other
            };
        }
        if first == m.pseudonym_prefix() && user.len() > 1 {
            return IdentityKind::Pseudonym(m);
        }
        if first == m.reauth_prefix() && user.len() > 1 {
            return IdentityKind::Reauth(m);
        }
    }
    IdentityKind::Other
}

fn imsi_digits(b: &[u8]) -> Option<&str> {
    if (5..=15).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
        core::str::from_utf8(b).ok()
    } else {
        None
    }
}

/// The IMSI of an IMSI-based permanent identity (`0<IMSI>@realm` or `6<IMSI>@realm`).
pub fn imsi_of_permanent(identity: &[u8]) -> Option<&str> {
    match classify_identity(identity) {
        IdentityKind::Permanent(_) => imsi_digits(&split_nai(identity).0[1..]),
        _ => None,
    }
}

/// `0<IMSI>@realm` (EAP-AKA) or `6<IMSI>@realm` (EAP-AKA'); no realm part when `realm` is
/// `None`.
pub fn permanent_identity(method: Method, imsi: &str, realm: Option<&str>) -> String {
    let mut s = String::with_capacity(1 + imsi.len() + realm.map_or(0, |r| r.len() + 1));
    s.push(method.permanent_prefix() as char);
    s.push_str(imsi);
    if let Some(r) = realm {
        s.push('@');
        s.push_str(r);
    }
    s
}

/// The 3GPP realm of TS 23.003 §14.3 / §19.3.2 for an IMSI: `nai.epc.mnc<MNC>.mcc<MCC>.
/// 3gppnetwork.org`, with a 3-digit MNC (a 2-digit MNC gets a leading zero).
pub fn epc_realm(mcc: &str, mnc: &str) -> String {
    let mnc3 = if mnc.len() == 2 {
        format!("0{mnc}")
    } else {
        mnc.to_string()
    };
    format!("nai.epc.mnc{mnc3}.mcc{mcc}.3gppnetwork.org")
}

/// SQN re-synchronisation data from an AKA-Synchronization-Failure: RAND of the failed
/// challenge and AT_AUTS. The HSS checks MAC-S and continues from SQN_MS (TS 33.102 §6.3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resync {
    pub rand: [u8; 16],
    pub auts: [u8; 14],
}

/// Something the server engine needs from the node (store, HSS) before it can go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// An authentication vector for `imsi` (answer: `provide_vector`). For EAP-AKA' the
    /// vector must have the AMF separation bit (bit 0) set (TS 33.402 §6.1); the engine
    /// refuses one that does not. With `resync`, the HSS first re-synchronises SQN from AUTS.
    Vector {
        imsi: String,
        method: Method,
        resync: Option<Resync>,
    },
    /// Which subscriber a pseudonym username (no realm) belongs to (answer:
    /// `provide_pseudonym`).
    Pseudonym { username: String },
    /// The fast re-authentication context stored under this identity, exactly as the peer
    /// sent it (answer: `provide_reauth_context`).
    ReauthContext { reauth_id: String },
}

/// Why the node could not provide a vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VectorError {
    #[error("unknown subscriber")]
    UnknownSubscriber,
    #[error("resynchronisation failed (MAC-S did not verify)")]
    ResyncFailed,
    #[error("subscriber not allowed this method or access")]
    NotAllowed,
    #[error("vector source unavailable")]
    Unavailable,
}

/// Keys kept for fast re-authentication (RFC 4187 §5, RFC 9048 §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReauthSecrets {
    /// EAP-AKA: MK of the full authentication, and the K_encr and K_aut derived from it
    /// (RFC 4187 §7), carried so that whoever stores the context need not derive them
    /// again; the engine itself derives them from MK when it resumes.
    Aka {
        mk: SecretBytes<20>,
        k_encr: SecretBytes<16>,
        k_aut: SecretBytes<16>,
    },
    /// EAP-AKA': K_encr, K_aut and K_re of the full authentication.
    AkaPrime {
        k_encr: SecretBytes<16>,
        k_aut: SecretBytes<32>,
        k_re: SecretBytes<32>,
    },
}

/// A fast re-authentication context as the store keeps it under a re-authentication id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReauthContext {
    pub imsi: String,
    pub method: Method,
    /// The AT_COUNTER value the next re-authentication uses.
    pub counter: u16,
    pub secrets: ReauthSecrets,
    /// EAP-AKA': the network name of the full authentication (RFC 9048 §3.3: a changed name
    /// means full authentication).
    pub network_name: Option<String>,
}

/// A successful authentication, as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSuccess {
    pub method: Method,
    /// The identity used in the key derivation (last AT_IDENTITY or EAP-Response/Identity).
    pub identity: Vec<u8>,
    pub imsi: String,
    pub msk: SecretBytes<64>,
    pub emsk: SecretBytes<64>,
    /// RFC 5247 / RFC 9048 §6: Type | RAND | AUTN, or Type | NONCE_S | MAC on fast
    /// re-authentication.
    pub session_id: [u8; 33],
    /// True for a fast re-authentication (the keys are the new re-authentication keys).
    pub fast_reauth: bool,
}

/// Why an authentication failed (server side); also the metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// The node had no vector for the subscriber.
    NoVector(VectorError),
    /// The provided vector did not fit (AKA' without the AMF separation bit).
    BadVector,
    /// The identity could not be resolved after the allowed AKA-Identity rounds.
    UnknownIdentity,
    /// AT_RES did not match XRES.
    WrongRes,
    /// AT_MAC missing or wrong.
    BadMac,
    /// AT_CHECKCODE did not match the AKA-Identity exchange.
    BadCheckcode,
    /// The peer sent AKA-Authentication-Reject (AUTN, AMF, KDF or bidding check failed).
    AuthenticationReject,
    /// The peer sent AKA-Client-Error with this code.
    ClientError(u16),
    /// Another Synchronization-Failure after the allowed re-synchronisations.
    ResyncLimit,
    /// The peer offered or asked for something this server does not support (KDF, method).
    Unsupported,
    /// The peer answered a Nak with no method this server allows.
    NoCommonMethod,
    /// A response broke the method's rules (missing or misplaced attributes, wrong subtype).
    ProtocolError,
    /// The fast re-authentication response did not verify (counter, encrypted data).
    ReauthFailed,
    /// More rounds than `ServerConfig::max_rounds`.
    TooManyRounds,
}

impl FailureReason {
    /// A stable label for metrics.
    pub const fn label(self) -> &'static str {
        match self {
            FailureReason::NoVector(VectorError::UnknownSubscriber) => "unknown_subscriber",
            FailureReason::NoVector(VectorError::ResyncFailed) => "resync_failed",
            FailureReason::NoVector(VectorError::NotAllowed) => "not_allowed",
            FailureReason::NoVector(VectorError::Unavailable) => "vector_unavailable",
            FailureReason::BadVector => "bad_vector",
            FailureReason::UnknownIdentity => "unknown_identity",
            FailureReason::WrongRes => "wrong_res",
            FailureReason::BadMac => "bad_mac",
            FailureReason::BadCheckcode => "bad_checkcode",
            FailureReason::AuthenticationReject => "authentication_reject",
            FailureReason::ClientError(_) => "client_error",
            FailureReason::ResyncLimit => "resync_limit",
            FailureReason::Unsupported => "unsupported",
            FailureReason::NoCommonMethod => "no_common_method",
            FailureReason::ProtocolError => "protocol_error",
            FailureReason::ReauthFailed => "reauth_failed",
            FailureReason::TooManyRounds => "too_many_rounds",
        }
    }
}

/// A failed authentication, as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    pub reason: FailureReason,
    pub method: Option<Method>,
    /// The subscriber, when it was known by then.
    pub imsi: Option<String>,
}

/// What the server engine reports; poll with `EapServer::poll_event` after every call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The engine waits for this; no packet goes out until the node answers.
    Need(Need),
    /// Remember that `username` (a pseudonym without realm) stands for `imsi`. Emitted on
    /// success of the exchange that issued it, before [`Event::Success`]; not for
    /// pseudonyms of [`AkaServerConfig::pseudonym_cipher`], which need no storing.
    StorePseudonym {
        username: String,
        imsi: String,
        method: Method,
    },
    /// Store a fast re-authentication context under `reauth_id` (a full NAI). Emitted on
    /// success, before [`Event::Success`].
    StoreReauth {
        reauth_id: String,
        context: ReauthContext,
    },
    /// A re-authentication id was used (they are one-time): delete it.
    ForgetReauth { reauth_id: String },
    /// EAP-Success is being sent.
    Success(Box<AuthSuccess>),
    /// EAP-Failure is being sent.
    Failure(AuthFailure),
}

/// Why an incoming packet was silently discarded (RFC 3748 §4: no answer, no state change).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Discard {
    #[error("malformed EAP packet: {0}")]
    Malformed(mobstrap_wire::Error),
    #[error("EAP code {0} not expected here")]
    UnexpectedCode(u8),
    #[error("identifier {got} does not match the outstanding request {expected}")]
    IdentifierMismatch { expected: u8, got: u8 },
    #[error("EAP type {0} not expected here")]
    UnexpectedType(u8),
    #[error("waiting for the node to answer a need")]
    Busy,
    #[error("the conversation is over")]
    Finished,
    #[error("the conversation has not started")]
    NotStarted,
    #[error("discarded by the method: {0}")]
    Method(&'static str),
}
