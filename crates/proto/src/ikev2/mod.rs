//! The IKEv2 engine (RFC 7296), sans-I/O: one [`IkeSa`] per IKE SA, initiator or responder,
//! and a responder-side [`Dispatcher`] that owns many SAs, routes datagrams by SPI, answers
//! with stateless COOKIEs under load (§2.6) and with INVALID_KE_PAYLOAD / NO_PROPOSAL_CHOSEN
//! before any state exists.
//!
//! quinn-proto style: `handle_datagram(now, local, remote, bytes)`, `poll_transmit`,
//! `poll_timeout`, `handle_timeout(now)`, `poll_event`. Time is passed in, randomness comes
//! from the RNG given at construction (a seeded one makes whole conversations
//! reproducible). Codecs are `mobstrap_wire::ikev2`; keys, transforms, DH and signatures are
//! `mobstrap_crypto`. Nothing here opens a socket, reads a clock or touches the store.
//!
//! Covered: IKE_SA_INIT (proposals, INVALID_KE_PAYLOAD retry, COOKIE, NAT detection and the
//! move to the NAT-T port, SIGNATURE_HASH_ALGORITHMS, IKEV2_FRAGMENTATION_SUPPORTED),
//! IKE_AUTH (PSK, RSA/ECDSA certificates, EAP through a local peer or a relayed
//! authenticator, EAP-only RFC 5998; CP with deferred replies; TS narrowing; a Child SA),
//! CREATE_CHILD_SA (new Child SA, Child SA rekey, IKE SA rekey with PFS), INFORMATIONAL
//! (liveness, DELETE, notifies), fragmentation (RFC 7383) both ways, retransmission with
//! exponential back-off, responses to retransmitted requests from a cache, lifetimes, and
//! Wireshark key export. The message ID window is 1 (RFC 7296 §2.3: the default; no
//! SET_WINDOW_SIZE is sent).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use mobstrap_crypto::SecretVec;
use mobstrap_wire::ikev2::{CfgAttrType, NotifyType};

pub mod auth;
pub mod config;
pub mod dispatcher;
pub mod eap;
mod keylog;
mod keys;
pub mod proposal;
mod sa;
pub mod ts;

pub use config::{
    CfgPolicy, Config, EapStart, EspProposal, Identity, IkeProposal, Lifetime, Lifetimes,
    LocalAuth, Mode, PeerAuth, Ports, PskEntry, Signer, SpiAllocator, SpiSet, Timers,
};
pub use dispatcher::{Dispatcher, DispatcherConfig, DispatcherStats, SaId};
pub use eap::{EapPeer, EapPeerAction, EapReply, UsimPeer};
pub use proposal::{EspAlgs, IkeAlgs};
pub use sa::{IkeSa, Role};
pub use ts::TsRange;

/// Errors inside the engine. They never leave it as panics: a datagram that causes one is
/// answered with the protocol's notify or dropped, and counted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Wire(#[from] mobstrap_wire::Error),
    #[error(transparent)]
    Crypto(#[from] mobstrap_crypto::Error),
    /// An ICV did not verify: the message is dropped silently (RFC 7296 §2.21.2).
    #[error("integrity check failed")]
    Integrity,
    #[error("authentication: {0}")]
    Auth(&'static str),
    #[error("not possible in this state: {0}")]
    State(&'static str),
    #[error("configuration: {0}")]
    Config(&'static str),
}

/// A datagram to send: from our `local` address/port to `remote`. On the NAT-T port the
/// payload already starts with the Non-ESP Marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub data: Vec<u8>,
}

/// One direction's ESP keys (integrity empty for AEAD; GCM keys end with the salt).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EspKeys {
    pub encr: SecretVec,
    pub integ: SecretVec,
}

impl core::fmt::Debug for EspKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EspKeys(redacted)")
    }
}

/// A Child SA as the data path needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSaInfo {
    pub inbound_spi: u32,
    pub outbound_spi: u32,
    pub algs: EspAlgs,
    pub mode: Mode,
    pub inbound: EspKeys,
    pub outbound: EspKeys,
    pub local_ts: Vec<TsRange>,
    pub remote_ts: Vec<TsRange>,
    /// The IKE SA's addresses (the ESP endpoints).
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// ESP in UDP (RFC 3948) on the NAT-T port.
    pub udp_encap: bool,
}

/// Configuration payload contents (what was requested and assigned).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    pub ip4: Option<Ipv4Addr>,
    pub ip4_netmask: Option<Ipv4Addr>,
    /// Address and prefix length.
    pub ip6: Option<(Ipv6Addr, u8)>,
    pub dns4: Vec<Ipv4Addr>,
    pub dns6: Vec<Ipv6Addr>,
    /// HOME_AGENT_ADDRESS (TS 24.302): IPv6 and optional IPv4 address.
    pub home_agent: Option<(Ipv6Addr, Option<Ipv4Addr>)>,
    pub pcscf4: Vec<Ipv4Addr>,
    pub pcscf6: Vec<Ipv6Addr>,
}

impl Addresses {
    pub fn is_empty(&self) -> bool {
        *self == Addresses::default()
    }

    /// The host selectors of the assigned inner addresses.
    pub fn selectors(&self) -> Vec<TsRange> {
        let mut v = Vec::new();
        if let Some(a) = self.ip4 {
            v.push(TsRange::host(IpAddr::V4(a)));
        }
        if let Some((a, len)) = self.ip6 {
            // A /128 is the address; a shorter length delegates the prefix (RFC 5739 style).
            v.push(TsRange::prefix(IpAddr::V6(a), len.clamp(64, 128)));
        }
        v
    }
}

/// A CFG_REQUEST the responder needs answered ([`Event::NeedAddresses`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfgRequest {
    /// The attribute types requested (zero-length or with a hint).
    pub attributes: Vec<CfgAttrType>,
    /// Values the initiator suggested (e.g. its previous address).
    pub hints: Addresses,
    pub peer_id: Identity,
    pub eap_identity: Option<Vec<u8>>,
}

/// What an established IKE SA reports.
#[derive(Debug, Clone)]
pub struct Established {
    pub role: Role,
    pub spi_i: [u8; 8],
    pub spi_r: [u8; 8],
    pub algs: IkeAlgs,
    pub local_id: Identity,
    pub peer_id: Identity,
    /// The EAP identity (initiator: its own; responder: what the peer used in EAP, if seen).
    pub eap_identity: Option<Vec<u8>>,
    pub msk: Option<SecretVec>,
    pub emsk: Option<SecretVec>,
    /// Initiator: what the responder assigned; responder: what it gave.
    pub addresses: Addresses,
    pub child: Option<ChildSaInfo>,
    /// Why no Child SA was created in IKE_AUTH, when one was asked for and refused
    /// (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, INTERNAL_ADDRESS_FAILURE, FAILED_CP_REQUIRED).
    pub child_error: Option<NotifyType>,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// NAT detected in front of us / in front of the peer (or forced).
    pub nat_local: bool,
    pub nat_remote: bool,
}

/// Why an IKE SA ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The peer sent DELETE for the IKE SA.
    DeletedByPeer,
    /// We deleted it (API call or hard lifetime).
    DeletedLocally,
    /// Retransmissions exhausted (dead peer).
    Timeout,
    /// The responder did not complete IKE_AUTH in time (half-open SA dropped).
    HalfOpenTimeout,
    /// Authentication failed: `by_peer` when the peer said so (AUTHENTICATION_FAILED).
    AuthenticationFailed { by_peer: bool },
    /// EAP ended in failure.
    EapFailure,
    /// No acceptable IKE proposal.
    NoProposalChosen,
    /// The peer answered with this error notify.
    PeerError(NotifyType),
    /// The authenticator or the address provider did not answer in time.
    ApplicationTimeout,
    /// We refused the IKE_AUTH exchange with this error notify (responder,
    /// `refuse_auth`).
    Refused(NotifyType),
    /// A local failure (crypto backend, configuration).
    Internal(&'static str),
}

/// What the engine tells the application.
#[derive(Debug)]
pub enum Event {
    /// IKE_AUTH completed (with its Child SA, if any).
    Established(Box<Established>),
    /// A Child SA created by CREATE_CHILD_SA (not by rekeying).
    ChildCreated(Box<ChildSaInfo>),
    /// A Child SA replaced another; the old one stays until [`Event::ChildDeleted`].
    ChildRekeyed {
        old_inbound_spi: u32,
        new: Box<ChildSaInfo>,
    },
    ChildDeleted {
        inbound_spi: u32,
        outbound_spi: u32,
    },
    /// A Child SA reached its soft lifetime and `auto_rekey` is off.
    ChildExpiring {
        inbound_spi: u32,
    },
    /// The IKE SA was rekeyed: our SPI changed (the old one still answers its DELETE until
    /// [`Event::IkeSpiRetired`]).
    IkeRekeyed {
        old_local_spi: [u8; 8],
        new_local_spi: [u8; 8],
    },
    /// An old SPI of this SA will no longer be used.
    IkeSpiRetired {
        local_spi: [u8; 8],
    },
    /// Responder: the IKE_AUTH response waits for addresses
    /// (`provide_addresses` / `fail_addresses`).
    NeedAddresses(Box<CfgRequest>),
    /// Responder: forward this EAP packet to the authenticator (AAA) and answer with
    /// `eap_reply`. `packet` is empty for [`EapStart::Empty`].
    EapRelay {
        identity: Identity,
        /// The IDr the initiator sent, if any (TS 24.302: the APN).
        requested: Option<Identity>,
        /// The attribute types of the initiator's CFG_REQUEST (empty: none).
        cfg: Vec<CfgAttrType>,
        packet: Vec<u8>,
    },
    /// The peer's address or port changed (NAT mapping, move to the NAT-T port).
    PeerAddressChanged {
        local: SocketAddr,
        remote: SocketAddr,
    },
    /// The IKE SA is gone (all its Child SAs with it); drop the engine.
    Closed(CloseReason),
}

/// The two Wireshark key tables for an SA ([`IkeSa::wireshark_keys`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyExport {
    pub ikev2_decryption_table: Vec<String>,
    pub esp_sa: Vec<String>,
}
