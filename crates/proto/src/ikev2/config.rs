//! What an IKE SA is configured with: proposals, identities, credentials, traffic selectors,
//! timers and lifetimes. One [`Config`] is shared (behind an `Arc`) by every SA a
//! dispatcher owns.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mobstrap_crypto::dh::Group;
use mobstrap_crypto::ikev2::{Integ, Prf};
use mobstrap_crypto::sig::SigningKey;
use mobstrap_crypto::transform::Encr;
use mobstrap_crypto::SecretVec;
use mobstrap_wire::ikev2::{CfgAttrType, Id, IdType};

use super::ts::TsRange;

/// An IKE identity (ID payload type and data).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub id_type: IdType,
    pub data: Vec<u8>,
}

impl Identity {
    pub fn new(id_type: IdType, data: impl Into<Vec<u8>>) -> Self {
        Identity {
            id_type,
            data: data.into(),
        }
    }
    /// ID_FQDN.
    pub fn fqdn(name: &str) -> Self {
        Self::new(IdType::Fqdn, name.as_bytes())
    }
    /// ID_RFC822_ADDR (an NAI such as `0001010123456789@nai.epc...`).
    pub fn rfc822(name: &str) -> Self {
        Self::new(IdType::Rfc822Addr, name.as_bytes())
    }
    /// ID_KEY_ID.
    pub fn key_id(data: &[u8]) -> Self {
        Self::new(IdType::KeyId, data)
    }
    /// ID_IPV4_ADDR or ID_IPV6_ADDR.
    pub fn ip(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Self::new(IdType::Ipv4Addr, a.octets()),
            IpAddr::V6(a) => Self::new(IdType::Ipv6Addr, a.octets()),
        }
    }
    /// ID_DER_ASN1_DN from a DER Name.
    pub fn der_dn(der: &[u8]) -> Self {
        Self::new(IdType::DerAsn1Dn, der)
    }
    pub fn from_payload(id: &Id<'_>) -> Self {
        Self::new(id.id_type, id.data)
    }
    pub fn to_payload(&self) -> Id<'_> {
        Id::new(self.id_type, &self.data)
    }
    /// "RestOfIDPayload" of RFC 7296 §2.15: type, three zero reserved bytes, data.
    pub fn rest_of_payload(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(4 + self.data.len());
        v.push(self.id_type.into());
        v.extend_from_slice(&[0, 0, 0]);
        v.extend_from_slice(&self.data);
        v
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id_type {
            IdType::Fqdn | IdType::Rfc822Addr => f.write_str(&String::from_utf8_lossy(&self.data)),
            IdType::Ipv4Addr => match <[u8; 4]>::try_from(self.data.as_slice()) {
                Ok(a) => write!(f, "{}", Ipv4Addr::from(a)),
                Err(_) => write!(f, "ipv4:{}", hex(&self.data)),
            },
            IdType::Ipv6Addr => match <[u8; 16]>::try_from(self.data.as_slice()) {
                Ok(a) => write!(f, "{}", Ipv6Addr::from(a)),
                Err(_) => write!(f, "ipv6:{}", hex(&self.data)),
            },
            t => write!(f, "{}:{}", u8::from(t), hex(&self.data)),
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({self})")
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// One IKE SA proposal: every combination of the listed algorithms is acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeProposal {
    pub encr: Vec<Encr>,
    /// Empty when every `encr` is AEAD.
    pub integ: Vec<Integ>,
    pub prf: Vec<Prf>,
    /// The first group is the one the initiator sends a KE for.
    pub dh: Vec<Group>,
}

impl IkeProposal {
    /// AES-GCM-16-128, PRF-HMAC-SHA2-256, Curve25519.
    pub fn gcm_sha256_x25519() -> Self {
        IkeProposal {
            encr: vec![Encr::AesGcm16_128],
            integ: vec![],
            prf: vec![Prf::HmacSha256],
            dh: vec![Group::Curve25519],
        }
    }
}

/// One Child SA (ESP) proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspProposal {
    pub encr: Vec<Encr>,
    pub integ: Vec<Integ>,
    /// Acceptable ESN settings in order of preference (`false` = no ESN).
    pub esn: Vec<bool>,
    /// DH groups for PFS in CREATE_CHILD_SA; empty means no PFS. Never sent in IKE_AUTH.
    pub dh: Vec<Group>,
}

impl EspProposal {
    pub fn gcm128() -> Self {
        EspProposal {
            encr: vec![Encr::AesGcm16_128],
            integ: vec![],
            esn: vec![false, true],
            dh: vec![],
        }
    }
    pub fn cbc128_sha256() -> Self {
        EspProposal {
            encr: vec![Encr::AesCbc128],
            integ: vec![Integ::HmacSha256_128],
            esn: vec![false, true],
            dh: vec![],
        }
    }
}

/// How we prove who we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalAuth {
    /// AUTH method 2 with the PSK for our identity (see [`Config::psks`]).
    Psk,
    /// A signature with [`Config::signer`]: AUTH method 14 (RFC 7427) when the peer
    /// announced SIGNATURE_HASH_ALGORITHMS, else 1 (RSA: not available for signing, so 14
    /// is used anyway) or 9/10/11 (ECDSA).
    Signature,
    /// Initiator only: EAP with the local [`super::EapPeer`]; AUTH from the MSK.
    Eap,
}

/// Which ways a peer may prove who it is (responder: several may be allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeerAuth {
    pub psk: bool,
    pub signature: bool,
    /// Responder only: an IKE_AUTH without AUTH starts EAP through the authenticator
    /// interface ([`super::Event::EapRelay`]).
    pub eap: bool,
}

impl PeerAuth {
    pub const PSK: PeerAuth = PeerAuth {
        psk: true,
        signature: false,
        eap: false,
    };
    pub const SIGNATURE: PeerAuth = PeerAuth {
        psk: false,
        signature: true,
        eap: false,
    };
    pub const EAP: PeerAuth = PeerAuth {
        psk: false,
        signature: false,
        eap: true,
    };
}

/// A pre-shared key, for one peer identity or (`None`) any.
#[derive(Clone)]
pub struct PskEntry {
    pub identity: Option<Identity>,
    pub secret: SecretVec,
}

impl fmt::Debug for PskEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PskEntry({:?}, redacted)", self.identity)
    }
}

/// Our private key and certificate chain (end entity first, DER).
pub struct Signer {
    pub key: SigningKey,
    pub chain: Vec<Vec<u8>>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Signer({:?}, {} certificates)",
            self.key,
            self.chain.len()
        )
    }
}

/// IPsec mode of the Child SAs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Tunnel,
    /// Transport mode (USE_TRANSPORT_MODE), e.g. to protect Binding Updates.
    Transport,
}

/// How a responder handles a CFG_REQUEST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CfgPolicy {
    /// Ignore it (no CP in the reply).
    #[default]
    Ignore,
    /// Ask the application ([`super::Event::NeedAddresses`]) and defer the IKE_AUTH response
    /// until it calls `provide_addresses` or `fail_addresses`.
    Defer,
}

/// How a responder starts an EAP conversation on the authenticator side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EapStart {
    /// Relay an EAP-Response/Identity made from IDi (3GPP TS 33.402 §8.2.2: the AAA server
    /// then starts the method; no Identity round trip with the UE).
    #[default]
    IdentityFromIdi,
    /// Relay an empty packet: the authenticator starts with its own EAP-Request/Identity.
    Empty,
}

/// Retransmission timers (strongSwan's defaults: 4 s, ×1.8, 5 retransmissions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timers {
    pub retransmit_timeout: Duration,
    pub retransmit_base: f64,
    /// Retransmissions before giving up (the original is not counted).
    pub retransmit_tries: u32,
    /// Upper bound of one retransmission interval.
    pub retransmit_limit: Duration,
    /// Liveness check after this long without a message from the peer (`None`: off).
    pub dpd_interval: Option<Duration>,
    /// A responder SA that has not completed IKE_AUTH by then is dropped silently.
    pub half_open_timeout: Duration,
    /// How long the responder waits for the authenticator or for addresses.
    pub application_timeout: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            retransmit_timeout: Duration::from_secs(4),
            retransmit_base: 1.8,
            retransmit_tries: 5,
            retransmit_limit: Duration::from_secs(60),
            dpd_interval: Some(Duration::from_secs(30)),
            half_open_timeout: Duration::from_secs(30),
            application_timeout: Duration::from_secs(30),
        }
    }
}

/// SA lifetimes: at `rekey` (minus a random part up to `jitter`) the SA is rekeyed, at
/// `hard` it is deleted if the rekey did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub rekey: Option<Duration>,
    pub jitter: Duration,
    pub hard: Option<Duration>,
}

impl Lifetime {
    pub const NEVER: Lifetime = Lifetime {
        rekey: None,
        jitter: Duration::ZERO,
        hard: None,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub ike: Lifetime,
    pub child: Lifetime,
}

impl Default for Lifetimes {
    fn default() -> Self {
        // strongSwan: IKE 4 h, Child 1 h, each with a 10 % margin and jitter.
        Lifetimes {
            ike: Lifetime {
                rekey: Some(Duration::from_secs(4 * 3600)),
                jitter: Duration::from_secs(1440),
                hard: Some(Duration::from_secs(4 * 3600 + 1440)),
            },
            child: Lifetime {
                rekey: Some(Duration::from_secs(3600)),
                jitter: Duration::from_secs(360),
                hard: Some(Duration::from_secs(3960)),
            },
        }
    }
}

/// The ports of the two IKE sockets (RFC 7296: 500 and 4500; loopback tests override them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub ike: u16,
    pub natt: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            ike: mobstrap_wire::ikev2::PORT,
            natt: mobstrap_wire::ikev2::NATT_PORT,
        }
    }
}

/// Allocates inbound ESP SPIs unique on this node (several SAs drawing random SPIs collide
/// by the birthday bound). The engine offers a random candidate; the allocator returns it or
/// another free one.
pub trait SpiAllocator: Send + Sync {
    fn allocate(&self, candidate: u32) -> u32;
    fn release(&self, spi: u32);
}

/// A node-wide [`SpiAllocator`]: a set of SPIs in use behind a mutex. Candidates that
/// collide (or fall in the reserved range 0–255) are replaced by the next free value.
#[derive(Debug, Default)]
pub struct SpiSet {
    used: std::sync::Mutex<std::collections::HashSet<u32>>,
}

impl SpiSet {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.used.lock().map(|u| u.len()).unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SpiAllocator for SpiSet {
    fn allocate(&self, candidate: u32) -> u32 {
        let Ok(mut used) = self.used.lock() else {
            return candidate;
        };
        let mut spi = candidate.max(256);
        while !used.insert(spi) {
            spi = spi.wrapping_add(1).max(256);
        }
        spi
    }
    fn release(&self, spi: u32) {
        if let Ok(mut used) = self.used.lock() {
            used.remove(&spi);
        }
    }
}

/// Wall-clock source for certificate validity (the engines otherwise use `Instant`s given
/// by the caller).
pub type WallClock = fn() -> SystemTime;

/// The configuration of IKE SAs (one per peer policy; shared by all SAs of a dispatcher).
pub struct Config {
    pub ike_proposals: Vec<IkeProposal>,
    pub esp_proposals: Vec<EspProposal>,
    pub local_id: Identity,
    /// Initiator: the IDr to send, and the identity the responder must prove. Responder:
    /// when set, only this initiator identity is accepted.
    /// Initiator: an IDr to send that the responder need not answer with (TS 24.302 §7.2.2:
    /// a UE puts the APN there and the ePDG answers with its own identity). `remote_id`,
    /// when also set, is what the responder must prove.
    pub requested_id: Option<Identity>,
    pub remote_id: Option<Identity>,
    pub local_auth: LocalAuth,
    pub peer_auth: PeerAuth,
    /// Pre-shared keys: ours is the entry for [`Config::local_id`] (or the wildcard),
    /// the peer's the entry for its identity (or the wildcard).
    pub psks: Vec<PskEntry>,
    pub signer: Option<Arc<Signer>>,
    /// Trust anchors for peer certificates (DER).
    pub ca_certs: Vec<Vec<u8>>,
    /// Send CERTREQ for our CAs when we expect a signature.
    pub send_certreq: bool,
    /// Initiator: attributes requested in CFG_REQUEST (empty: no CP payload).
    pub cfg_request: Vec<CfgAttrType>,
    pub cfg_policy: CfgPolicy,
    pub eap_start: EapStart,
    /// Initiator: offer EAP-only authentication (RFC 5998). Responder: accept it.
    pub eap_only: bool,
    /// Traffic selectors of our side and of the peer's side (narrowed by the responder).
    pub local_ts: Vec<TsRange>,
    pub remote_ts: Vec<TsRange>,
    pub mode: Mode,
    /// Create a Child SA in IKE_AUTH (off: childless, RFC 6023 style, for tests).
    pub child_in_auth: bool,
    pub ports: Ports,
    /// Send NAT detection notifies and float to the NAT-T port when a NAT is found.
    pub nat_traversal: bool,
    /// Pretend a NAT (a random NAT_DETECTION_SOURCE_IP) to force UDP encapsulation, as
    /// strongSwan's `encap = yes` does; needed where the kernel has no ESP.
    pub force_encap: bool,
    /// Announce IKEV2_FRAGMENTATION_SUPPORTED and fragment when the peer does too.
    pub fragmentation: bool,
    /// IP MTU towards the peer for fragmentation (RFC 7383 §2.5.1: 1280 for IPv6, 576
    /// is the IPv4 minimum; strongSwan uses 1280).
    pub fragment_mtu: usize,
    pub timers: Timers,
    pub lifetimes: Lifetimes,
    /// Rekey automatically at the soft lifetime (otherwise only an event is emitted).
    pub auto_rekey: bool,
    /// Send INITIAL_CONTACT in IKE_AUTH (initiator).
    pub initial_contact: bool,
    pub spi_allocator: Option<Arc<dyn SpiAllocator>>,
    pub wall_clock: WallClock,
    /// Keep each Child SA's ESP keys in the SA's record, for
    /// [`IkeSa::wireshark_keys`](super::IkeSa::wireshark_keys). Off, the keys are only in
    /// the events that announce the Child SA (the data path takes them from there): about
    /// 130 octets less per Child SA.
    pub keep_child_keys: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("local_id", &self.local_id)
            .field("remote_id", &self.remote_id)
            .field("local_auth", &self.local_auth)
            .field("peer_auth", &self.peer_auth)
            .field("ike_proposals", &self.ike_proposals)
            .field("esp_proposals", &self.esp_proposals)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A configuration with sensible defaults: AES-GCM-128/SHA-256/X25519 then
    /// AES-CBC-128+HMAC-SHA-256/SHA-256/P-256/MODP-2048, ESP AES-GCM-128 then
    /// AES-CBC-128+HMAC-SHA-256-128, PSK both ways, any traffic.
    pub fn new(local_id: Identity) -> Self {
        Config {
            ike_proposals: vec![
                IkeProposal::gcm_sha256_x25519(),
                IkeProposal {
                    encr: vec![Encr::AesCbc128, Encr::AesCbc256],
                    integ: vec![Integ::HmacSha256_128],
                    prf: vec![Prf::HmacSha256, Prf::HmacSha384, Prf::HmacSha512],
                    dh: vec![Group::Ecp256, Group::Ecp384, Group::Modp2048],
                },
            ],
            esp_proposals: vec![EspProposal::gcm128(), EspProposal::cbc128_sha256()],
            local_id,
            remote_id: None,
            requested_id: None,
            local_auth: LocalAuth::Psk,
            peer_auth: PeerAuth::PSK,
            psks: Vec::new(),
            signer: None,
            ca_certs: Vec::new(),
            send_certreq: true,
            cfg_request: Vec::new(),
            cfg_policy: CfgPolicy::Ignore,
            eap_start: EapStart::default(),
            eap_only: false,
            local_ts: vec![TsRange::any_v4(), TsRange::any_v6()],
            remote_ts: vec![TsRange::any_v4(), TsRange::any_v6()],
            mode: Mode::Tunnel,
            child_in_auth: true,
            ports: Ports::default(),
            nat_traversal: true,
            force_encap: false,
            fragmentation: true,
            fragment_mtu: 1280,
            timers: Timers::default(),
            lifetimes: Lifetimes::default(),
            auto_rekey: true,
            initial_contact: false,
            keep_child_keys: true,
            spi_allocator: None,
            wall_clock: SystemTime::now,
        }
    }

    /// Adds a PSK for `identity` (`None`: any identity).
    pub fn with_psk(mut self, identity: Option<Identity>, secret: &[u8]) -> Self {
        self.psks.push(PskEntry {
            identity,
            secret: SecretVec::from_slice(secret),
        });
        self
    }

    /// The PSK for an identity: the exact entry first, then the wildcard.
    pub(crate) fn psk_for(&self, id: &Identity) -> Option<&SecretVec> {
        self.psks
            .iter()
            .find(|e| e.identity.as_ref() == Some(id))
            .or_else(|| self.psks.iter().find(|e| e.identity.is_none()))
            .map(|e| &e.secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spi_set_never_hands_out_a_used_spi() {
        let s = SpiSet::new();
        assert_eq!(s.allocate(1000), 1000);
        assert_eq!(s.allocate(1000), 1001);
        assert_eq!(s.allocate(5), 256);
        assert_eq!(s.allocate(u32::MAX), u32::MAX);
        assert_eq!(s.allocate(u32::MAX), 257, "wraps past the reserved range");
        s.release(1000);
        assert_eq!(s.allocate(1000), 1000);
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn psk_lookup_prefers_the_exact_identity() {
        let c = Config::new(Identity::fqdn("a"))
            .with_psk(None, b"wild")
            .with_psk(Some(Identity::fqdn("b")), b"exact");
        assert_eq!(
            c.psk_for(&Identity::fqdn("b")).unwrap().as_bytes(),
            b"exact"
        );
        assert_eq!(c.psk_for(&Identity::fqdn("c")).unwrap().as_bytes(), b"wild");
        assert_eq!(
            format!("{}", Identity::ip("10.0.0.1".parse().unwrap())),
            "10.0.0.1"
        );
        assert!(!format!("{:?}", c.psks[0]).contains("wild"));
    }
}
