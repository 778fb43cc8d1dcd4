//! One IKE SA (RFC 7296) as a sans-I/O state machine, initiator or responder.
//!
//! Exchanges are driven by a single outstanding request per direction (message ID window 1,
//! RFC 7296 §2.3). Our requests are retransmitted with exponential back-off until answered
//! or given up; the peer's retransmitted request gets the cached last response and is never
//! executed twice. Operations asked for while a request is outstanding (rekey, delete,
//! liveness, new Child SA) wait in a queue.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mobstrap_crypto::dh::{Dh, DhKey, Group};
use mobstrap_crypto::ikev2::{eap_shared_key, rekey_skeyseed, skeyseed, ChildSaKeys, KeyLengths};
use mobstrap_crypto::SecretVec;
use mobstrap_wire::ikev2::{
    classify_udp4500, emit_inner, flags, parse_chain, Auth, AuthMethod, Cert, CertEncoding,
    CfgAttrType, CfgAttribute, CfgType, CfgValue, Cp, Delete, EncryptedKind, ExchangeType, Header,
    Id, Ke, Message, Notify, NotifyType, Packet, Payload, PayloadBody, PayloadType, ProtocolId, Sa,
    Ts, Udp4500, HEADER_LEN, NON_ESP_MARKER,
};
use rand::RngCore;

use super::auth::{self, AuthInput, PeerCert};
use super::config::{CfgPolicy, Config, EapStart, Identity, LocalAuth, Mode};
use super::eap::{identity_response, EapPeer, EapPeerAction, EapReply};
use super::keys::IkeKeys;
use super::proposal::{self, EspAlgs, IkeAlgs};
use super::ts::{all_within, narrow, TsRange};
use super::{
    keylog, Addresses, CfgRequest, ChildSaInfo, CloseReason, Error, EspKeys, Established, Event,
    KeyExport, Transmit,
};

/// Our role in the current IKE SA (after an IKE SA rekey, the rekey initiator is the
/// initiator of the new SA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Initiator,
    Responder,
}

const NONCE_LEN: usize = 32;
/// Bound on SKF fragments of one message and on the reassembled size.
const MAX_FRAGMENTS: u16 = 64;
const MAX_REASSEMBLED: usize = 64 * 1024;
/// How long a failed SA lingers to answer retransmissions of the request that failed it.
const LINGER: Duration = Duration::from_secs(10);

/// Parsed payloads of one message (outer or decrypted inner chain).
#[derive(Default)]
struct Parsed<'a> {
    sa: Option<Sa<'a>>,
    ke: Option<Ke<'a>>,
    nonce: Option<&'a [u8]>,
    idi: Option<Id<'a>>,
    idr: Option<Id<'a>>,
    certs: Vec<&'a [u8]>,
    certreq: bool,
    auth: Option<Auth<'a>>,
    notifies: Vec<Notify<'a>>,
    deletes: Vec<Delete<'a>>,
    tsi: Option<Ts<'a>>,
    tsr: Option<Ts<'a>>,
    cp: Option<Cp<'a>>,
    eap: Option<&'a [u8]>,
    unsupported_critical: Option<u8>,
}

impl<'a> Parsed<'a> {
    fn new(payloads: &[Payload<'a>]) -> Self {
        let mut p = Parsed::default();
        for pl in payloads {
            match &pl.body {
                PayloadBody::Sa(x) if p.sa.is_none() => p.sa = Some(x.clone()),
                PayloadBody::Ke(x) if p.ke.is_none() => p.ke = Some(*x),
                PayloadBody::Nonce(x) if p.nonce.is_none() => p.nonce = Some(x),
                PayloadBody::IdI(x) if p.idi.is_none() => p.idi = Some(*x),
                PayloadBody::IdR(x) if p.idr.is_none() => p.idr = Some(*x),
                PayloadBody::Cert(c) if c.encoding == CertEncoding::X509Signature => {
                    p.certs.push(c.data);
                }
                PayloadBody::CertReq(_) => p.certreq = true,
                PayloadBody::Auth(x) if p.auth.is_none() => p.auth = Some(*x),
                PayloadBody::Notify(n) => p.notifies.push(*n),
                PayloadBody::Delete(d) => p.deletes.push(*d),
                PayloadBody::TsI(x) if p.tsi.is_none() => p.tsi = Some(x.clone()),
                PayloadBody::TsR(x) if p.tsr.is_none() => p.tsr = Some(x.clone()),
                PayloadBody::Cp(x) if p.cp.is_none() => p.cp = Some(x.clone()),
                PayloadBody::Eap(x) if p.eap.is_none() => p.eap = Some(x),
                PayloadBody::Unknown { payload_type, .. } if pl.is_critical() => {
                    p.unsupported_critical.get_or_insert(*payload_type);
                }
                _ => {}
            }
        }
        p
    }

    fn notify(&self, t: NotifyType) -> Option<&Notify<'a>> {
        self.notifies.iter().find(|n| n.notify_type == t)
    }

    fn has(&self, t: NotifyType) -> bool {
        self.notify(t).is_some()
    }

    fn error(&self) -> Option<NotifyType> {
        self.notifies
            .iter()
            .map(|n| n.notify_type)
            .find(|t| t.is_error())
    }
}

fn ts_ranges(ts: &Option<Ts<'_>>) -> Option<Vec<TsRange>> {
    let ts = ts.as_ref()?;
    let v: Vec<TsRange> = ts.selectors.iter().filter_map(TsRange::from_wire).collect();
    Some(v)
}

fn ts_payload(v: &[TsRange]) -> Ts<'static> {
    Ts::new(v.iter().map(|t| t.to_wire()).collect())
}

fn notify_payload(t: NotifyType, data: &[u8]) -> Payload<'_> {
    Payload::new(PayloadBody::Notify(Notify::new(t, data)))
}

/// The attributes of a CFG_REQUEST/CFG_REPLY, read into [`Addresses`].
fn read_addresses(cp: &Cp<'_>) -> (Vec<CfgAttrType>, Addresses) {
    let mut types = Vec::new();
    let mut a = Addresses::default();
    for attr in &cp.attributes {
        let t = attr.attr_type();
        if !types.contains(&t) {
            types.push(t);
        }
        match (t, attr.typed()) {
            (CfgAttrType::InternalIp4Address, CfgValue::Ip4(x)) => a.ip4 = Some(x),
            (CfgAttrType::InternalIp4Netmask, CfgValue::Ip4(x)) => a.ip4_netmask = Some(x),
            (CfgAttrType::InternalIp6Address, CfgValue::Ip6Prefix(x, l)) => a.ip6 = Some((x, l)),
            (CfgAttrType::InternalIp4Dns, CfgValue::Ip4(x)) => a.dns4.push(x),
            (CfgAttrType::InternalIp6Dns, CfgValue::Ip6(x)) => a.dns6.push(x),
            (CfgAttrType::HomeAgentAddress, CfgValue::HomeAgent { ipv6, ipv4 }) => {
                a.home_agent = Some((ipv6, ipv4))
            }
            (CfgAttrType::PCscfIp4Address, CfgValue::Ip4(x)) => a.pcscf4.push(x),
            (CfgAttrType::PCscfIp6Address, CfgValue::Ip6(x)) => a.pcscf6.push(x),
            _ => {}
        }
    }
    (types, a)
}

/// CFG_REPLY attribute values for `requested` from `a` (values owned by the returned Vec).
fn reply_attributes(requested: &[CfgAttrType], a: &Addresses) -> Vec<(CfgAttrType, Vec<u8>)> {
    let mut out = Vec::new();
    let want = |t: CfgAttrType| requested.is_empty() || requested.contains(&t);
    if let Some(x) = a.ip4 {
        out.push((CfgAttrType::InternalIp4Address, x.octets().to_vec()));
        if let Some(m) = a.ip4_netmask {
            out.push((CfgAttrType::InternalIp4Netmask, m.octets().to_vec()));
        }
    }
    if let Some((x, l)) = a.ip6 {
        let mut v = x.octets().to_vec();
        v.push(l);
        out.push((CfgAttrType::InternalIp6Address, v));
    }
    if want(CfgAttrType::InternalIp4Dns) {
        for d in &a.dns4 {
            out.push((CfgAttrType::InternalIp4Dns, d.octets().to_vec()));
        }
    }
    if want(CfgAttrType::InternalIp6Dns) {
        for d in &a.dns6 {
            out.push((CfgAttrType::InternalIp6Dns, d.octets().to_vec()));
        }
    }
    if want(CfgAttrType::HomeAgentAddress) {
        if let Some((v6, v4)) = a.home_agent {
            let mut v = v6.octets().to_vec();
            if let Some(x) = v4 {
                v.extend_from_slice(&x.octets());
            }
            out.push((CfgAttrType::HomeAgentAddress, v));
        }
    }
    if want(CfgAttrType::PCscfIp4Address) {
        for d in &a.pcscf4 {
            out.push((CfgAttrType::PCscfIp4Address, d.octets().to_vec()));
        }
    }
    if want(CfgAttrType::PCscfIp6Address) {
        for d in &a.pcscf6 {
            out.push((CfgAttrType::PCscfIp6Address, d.octets().to_vec()));
        }
    }
    out
}

/// The IKE_SA_INIT context, kept until IKE_AUTH is done.
struct InitCtx {
    ni: Vec<u8>,
    nr: Vec<u8>,
    dh: Option<DhKey>,
    /// Our IKE_SA_INIT request (initiator) or the peer's (responder).
    request: Vec<u8>,
    response: Vec<u8>,
    cookie: Option<Vec<u8>>,
    ke_retries: u8,
}

/// What the responder saved from the first IKE_AUTH request for the final response.
struct ChildRequest {
    sa: Vec<u8>,
    tsi: Vec<TsRange>,
    tsr: Vec<TsRange>,
    transport: bool,
    cfg: Option<(Vec<CfgAttrType>, Addresses)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
enum RespStep {
    /// Waiting for the authenticator; `first`: the IKE_AUTH response also carries IDr/AUTH.
    WaitAuthenticator { msg_id: u32, first: bool },
    /// EAP Request sent, waiting for the initiator's next IKE_AUTH.
    WaitEapResponse,
    /// EAP-Success sent, waiting for the initiator's AUTH.
    WaitFinalAuth,
    /// The final IKE_AUTH response waits for addresses.
    WaitAddresses { msg_id: u32 },
}

/// The authentication context of an SA being set up, created at first use.
fn ctx(a: &mut Option<Box<AuthCtx>>) -> &mut AuthCtx {
    a.get_or_insert_with(Box::default)
}

#[derive(Default)]
struct AuthCtx {
    eap_peer: Option<Box<dyn EapPeer>>,
    /// Initiator: the responder's AUTH was checked already (before EAP).
    peer_verified: bool,
    /// Initiator: the IKE_AUTH request carried no AUTH (EAP).
    using_eap: bool,
    child_spi: u32,
    request: Option<ChildRequest>,
    eap_only: bool,
    msk: Option<SecretVec>,
    emsk: Option<SecretVec>,
    eap_identity: Option<Vec<u8>>,
    peer_cert: Option<PeerCert>,
    step: Option<RespStep>,
    /// Responder: the IDr the initiator asked for (a 3GPP UE puts the APN there).
    requested_id: Option<Identity>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    InitSent,
    InitDone,
    AuthSent,
    Responding,
    Established,
    Closing,
    Closed,
}

struct Child {
    info: ChildSaInfo,
    rekey_at: Option<Instant>,
    hard_at: Option<Instant>,
    /// Replaced by a rekey; waits for its DELETE.
    rekeyed: bool,
    /// A rekey or delete of it is queued or in flight.
    busy: bool,
}

enum ReqKind {
    Init,
    Auth,
    CreateChild {
        spi: u32,
        ni: Vec<u8>,
        dh: Option<DhKey>,
        rekey_of: Option<u32>,
        local_ts: Vec<TsRange>,
        remote_ts: Vec<TsRange>,
    },
    RekeyIke {
        spi: [u8; 8],
        ni: Vec<u8>,
        dh: DhKey,
    },
    DeleteIke,
    DeleteChildren(Vec<u32>),
    Dpd,
}

struct Outstanding {
    msg_id: u32,
    exchange: ExchangeType,
    datagrams: Vec<Vec<u8>>,
    tries: u32,
    next: Instant,
    kind: ReqKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Dpd,
    DeleteIke,
    DeleteChild(u32),
    RekeyChild(u32),
    RekeyIke,
    CreateChild(Vec<TsRange>, Vec<TsRange>),
}

struct Reassembly {
    msg_id: u32,
    response: bool,
    total: u16,
    first: PayloadType,
    pieces: Vec<Option<Vec<u8>>>,
    bytes: usize,
}

/// The SA state that survives an IKE rekey only to exchange the DELETE of the old SA.
struct OldSa {
    spi_i: [u8; 8],
    spi_r: [u8; 8],
    role: Role,
    keys: IkeKeys,
    next_id: u32,
    peer_next_id: u32,
    /// Our DELETE request (if we initiated the rekey) and its retransmission state.
    pending: Option<(u32, Vec<u8>, u32, Instant)>,
    expires: Instant,
}

/// One IKE SA. See the module documentation.
pub struct IkeSa {
    config: Arc<Config>,
    /// This SA's own identity when it differs from [`Config::local_id`] (an initiator node
    /// running many UEs, each with its NAI as IDi).
    local_id: Option<Box<Identity>>,
    rng: Box<dyn RngCore + Send>,
    role: Role,
    state: State,
    close_reason: Option<CloseReason>,
    linger_until: Option<Instant>,
    spi_i: [u8; 8],
    spi_r: [u8; 8],
    local: SocketAddr,
    remote: SocketAddr,
    natt: bool,
    nat_local: bool,
    nat_remote: bool,
    peer_frag: bool,
    peer_hashes: Vec<u16>,
    keys: Option<IkeKeys>,
    init: Option<Box<InitCtx>>,
    /// Only while the SA is being authenticated (over 400 octets an established SA does
    /// not need): created at first use, dropped when the SA is established.
    auth: Option<Box<AuthCtx>>,
    peer_id: Option<Identity>,
    addresses: Addresses,
    next_id: u32,
    peer_next_id: u32,
    /// The request in flight (boxed: 256 bytes, and an idle SA has none).
    outstanding: Option<Box<Outstanding>>,
    ops: VecDeque<Op>,
    last_response: Option<(u32, Vec<Vec<u8>>)>,
    /// A request being processed asynchronously (EAP relay, addresses): its retransmissions
    /// are ignored until the response goes out.
    deferred: Option<u32>,
    reassembly: Option<Reassembly>,
    children: Vec<Child>,
    old: Option<Box<OldSa>>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    last_rx: Instant,
    created: Instant,
    ike_rekey_at: Option<Instant>,
    ike_hard_at: Option<Instant>,
    app_deadline: Option<Instant>,
    /// The earliest deadline the dispatcher's timer heap holds for this SA (its own
    /// bookkeeping; the SA never reads it).
    pub(crate) timer_armed: Option<Instant>,
}

impl core::fmt::Debug for IkeSa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IkeSa")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("spi_i", &super::config::hex(&self.spi_i))
            .field("spi_r", &super::config::hex(&self.spi_r))
            .field("remote", &self.remote)
            .finish_non_exhaustive()
    }
}

/// A stateless answer to an IKE_SA_INIT request (no SA was created).
#[derive(Debug)]
pub(crate) enum InitReject {
    /// Send this datagram (INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN, INVALID_SYNTAX).
    Answer(Vec<u8>),
    /// Drop silently.
    Drop,
}

fn random_nonce(rng: &mut dyn RngCore) -> Vec<u8> {
    let mut n = vec![0u8; NONCE_LEN];
    rng.fill_bytes(&mut n);
    n
}

fn new_dh(rng: &mut dyn RngCore, group: Group) -> Result<DhKey, Error> {
    let mut buf = [0u8; 64];
    let n = group.randomness_len().min(buf.len());
    for _ in 0..8 {
        rng.fill_bytes(&mut buf[..n]);
        match DhKey::from_randomness(group, &buf[..n]) {
            Ok(k) => {
                zeroize::Zeroize::zeroize(&mut buf);
                return Ok(k);
            }
            Err(mobstrap_crypto::Error::InvalidPrivateValue { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Crypto(mobstrap_crypto::Error::Rng))
}

fn esp_key_lengths(a: &EspAlgs) -> KeyLengths {
    KeyLengths {
        encr: a.encr.keymat_len(),
        integ: a.integ.map_or(0, |i| i.key_len()),
    }
}

fn nat_hash(spi_i: &[u8; 8], spi_r: &[u8; 8], addr: SocketAddr) -> [u8; 20] {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(a) => a.octets().to_vec(),
        std::net::IpAddr::V6(a) => a.octets().to_vec(),
    };
    mobstrap_crypto::ikev2::nat_detection_hash(spi_i, spi_r, &ip, addr.port())
}

/// An unprotected reply to an IKE_SA_INIT request carrying one notify (stateless errors).
pub(crate) fn init_error_reply(
    req: &Header,
    spi_r: [u8; 8],
    t: NotifyType,
    data: &[u8],
) -> Vec<u8> {
    let h = Header::new(
        req.spi_i,
        spi_r,
        ExchangeType::IkeSaInit,
        flags::RESPONSE,
        req.message_id,
    );
    let msg = Message::new(h, vec![notify_payload(t, data)]);
    let mut out = Vec::with_capacity(40 + data.len());
    // A Message of one notify always emits; an error would only drop the answer.
    let _ = msg.emit(&mut out);
    out
}

impl IkeSa {
    fn blank(
        config: Arc<Config>,
        rng: Box<dyn RngCore + Send>,
        role: Role,
        local: SocketAddr,
        remote: SocketAddr,
        now: Instant,
    ) -> Self {
        IkeSa {
            config,
            local_id: None,
            rng,
            role,
            state: State::InitSent,
            close_reason: None,
            linger_until: None,
            spi_i: [0; 8],
            spi_r: [0; 8],
            local,
            remote,
            natt: false,
            nat_local: false,
            nat_remote: false,
            peer_frag: false,
            peer_hashes: Vec::new(),
            keys: None,
            init: None,
            auth: None,
            peer_id: None,
            addresses: Addresses::default(),
            next_id: 0,
            peer_next_id: 0,
            outstanding: None,
            ops: VecDeque::new(),
            last_response: None,
            deferred: None,
            reassembly: None,
            children: Vec::new(),
            old: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            last_rx: now,
            created: now,
            ike_rekey_at: None,
            ike_hard_at: None,
            app_deadline: None,
            timer_armed: None,
        }
    }

    /// Starts an IKE SA as initiator: queues the IKE_SA_INIT request. `eap` is the local
    /// EAP peer when [`LocalAuth::Eap`] is configured. The RNG must be cryptographically
    /// secure (nonces, SPIs, DH keys and IVs come from it); seed one for reproducible tests.
    pub fn initiate(
        config: Arc<Config>,
        mut rng: Box<dyn RngCore + Send>,
        eap: Option<Box<dyn EapPeer>>,
        local: SocketAddr,
        remote: SocketAddr,
        now: Instant,
    ) -> Result<IkeSa, Error> {
        if config.local_auth == LocalAuth::Eap && eap.is_none() {
            return Err(Error::Config("EAP authentication needs an EAP peer"));
        }
        let group = config
            .ike_proposals
            .iter()
            .find_map(|p| p.dh.first().copied())
            .ok_or(Error::Config("no IKE proposal with a DH group"))?;
        let mut spi_i = [0u8; 8];
        while spi_i == [0; 8] {
            rng.fill_bytes(&mut spi_i);
        }
        let mut sa = IkeSa::blank(config, rng, Role::Initiator, local, remote, now);
        sa.spi_i = spi_i;
        ctx(&mut sa.auth).eap_peer = eap;
        let ni = random_nonce(&mut *sa.rng);
        let dh = new_dh(&mut *sa.rng, group)?;
        sa.init = Some(Box::new(InitCtx {
            ni,
            nr: Vec::new(),
            dh: Some(dh),
            request: Vec::new(),
            response: Vec::new(),
            cookie: None,
            ke_retries: 0,
        }));
        sa.send_init_request(now)?;
        Ok(sa)
    }

    /// Sets this SA's own identity (IDi), instead of [`Config::local_id`]; before the
    /// IKE_AUTH request leaves (right after [`IkeSa::initiate`]).
    pub fn set_local_id(&mut self, id: Identity) {
        self.local_id = Some(Box::new(id));
    }

    /// The identity this SA authenticates as.
    pub fn local_id(&self) -> &Identity {
        self.local_id.as_deref().unwrap_or(&self.config.local_id)
    }

    // ----- public accessors -----

    pub fn role(&self) -> Role {
        self.role
    }
    pub fn spi_i(&self) -> [u8; 8] {
        self.spi_i
    }
    pub fn spi_r(&self) -> [u8; 8] {
        self.spi_r
    }
    /// Our SPI: the one the dispatcher routes on.
    pub fn local_spi(&self) -> [u8; 8] {
        match self.role {
            Role::Initiator => self.spi_i,
            Role::Responder => self.spi_r,
        }
    }
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }
    pub fn local(&self) -> SocketAddr {
        self.local
    }
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }
    pub fn peer_id(&self) -> Option<&Identity> {
        self.peer_id.as_ref()
    }
    /// The Child SAs (including ones replaced by a rekey and not yet deleted); their keys
    /// only with [`Config::keep_child_keys`] (else they are in the [`Event::ChildCreated`]
    /// / [`Event::ChildRekeyed`] / [`Established`] that announced each).
    pub fn children(&self) -> impl Iterator<Item = &ChildSaInfo> {
        self.children.iter().map(|c| &c.info)
    }
    pub fn ike_algs(&self) -> Option<IkeAlgs> {
        self.keys.as_ref().map(|k| k.algs)
    }
    /// How long ago the SA was created.
    pub fn age(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.created)
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Releases spare queue capacity (the dispatcher calls it on idle SAs: an established SA
    /// mostly waits, and thousands of them should not each hold grown buffers).
    pub fn compact(&mut self) {
        if self.transmits.is_empty() {
            self.transmits = VecDeque::new();
        }
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        self.ops.shrink_to_fit();
    }

    /// The earliest time [`IkeSa::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut m = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |y| y.min(x)));
            }
        };
        if self.state == State::Closed {
            return None;
        }
        m(self.linger_until);
        m(self.outstanding.as_ref().map(|o| o.next));
        if let Some(old) = &self.old {
            m(Some(old.expires));
            m(old.pending.as_ref().map(|p| p.3));
        }
        m(self.app_deadline);
        match self.state {
            State::InitDone | State::Responding if self.deferred.is_none() => {
                m(Some(self.last_rx + self.config.timers.half_open_timeout))
            }
            State::Established => {
                m(self.ike_rekey_at);
                m(self.ike_hard_at);
                if let Some(d) = self.config.timers.dpd_interval {
                    if self.outstanding.is_none() {
                        m(Some(self.last_rx + d));
                    }
                }
                for c in &self.children {
                    if !c.busy {
                        m(c.rekey_at);
                        m(c.hard_at);
                    }
                }
            }
            _ => {}
        }
        t
    }

    /// Wireshark key tables for this IKE SA and its Child SAs (see `keylog`).
    pub fn wireshark_keys(&self) -> KeyExport {
        let mut k = KeyExport::default();
        if let Some(keys) = &self.keys {
            k.ikev2_decryption_table.push(keylog::ike_line(
                &self.spi_i,
                &self.spi_r,
                keys.algs.encr,
                keys.algs.integ,
                keys.sk_ei(),
                keys.sk_er(),
                keys.sk_ai(),
                keys.sk_ar(),
            ));
        }
        if let Some(old) = &self.old {
            let keys = &old.keys;
            k.ikev2_decryption_table.push(keylog::ike_line(
                &old.spi_i,
                &old.spi_r,
                keys.algs.encr,
                keys.algs.integ,
                keys.sk_ei(),
                keys.sk_er(),
                keys.sk_ai(),
                keys.sk_ar(),
            ));
        }
        // Child SAs only with Config::keep_child_keys (otherwise the records have no keys).
        for c in self
            .children
            .iter()
            .filter(|c| !c.info.inbound.encr.is_empty())
        {
            k.esp_sa.extend(keylog::esp_lines(&c.info));
        }
        k
    }

    // ----- application calls -----

    /// Where the responder's authentication stands (none once established: an answer of
    /// the application that comes late finds nothing to do and creates no context).
    fn step(&self) -> Option<RespStep> {
        self.auth.as_ref().and_then(|a| a.step)
    }

    /// Responder: the authenticator's answer to [`Event::EapRelay`].
    pub fn eap_reply(&mut self, reply: EapReply, now: Instant) {
        let Some(RespStep::WaitAuthenticator { msg_id, first }) = self.step() else {
            return;
        };
        self.app_deadline = None;
        let r = match reply {
            EapReply::Request(p) => {
                ctx(&mut self.auth).step = Some(RespStep::WaitEapResponse);
                self.respond_eap(msg_id, first, &p, now)
            }
            EapReply::Success { packet, msk, emsk } => {
                ctx(&mut self.auth).msk = Some(msk);
                ctx(&mut self.auth).emsk = emsk;
                ctx(&mut self.auth).step = Some(RespStep::WaitFinalAuth);
                self.respond_eap(msg_id, first, &packet, now)
            }
            EapReply::Failure { packet } => {
                let r = self.respond_eap(msg_id, first, &packet, now);
                self.fail(now, CloseReason::EapFailure, true);
                r
            }
        };
        if r.is_err() {
            self.fail(now, CloseReason::Internal("EAP response"), false);
        }
    }

    /// Responder: the addresses for the deferred CFG_REPLY ([`Event::NeedAddresses`]).
    pub fn provide_addresses(&mut self, addresses: Addresses, now: Instant) {
        let Some(RespStep::WaitAddresses { msg_id }) = self.step() else {
            return;
        };
        self.app_deadline = None;
        self.addresses = addresses;
        if self.finish_responder_auth(msg_id, now, false).is_err() {
            self.fail(now, CloseReason::Internal("IKE_AUTH response"), false);
        }
    }

    /// Responder: no addresses; the IKE_AUTH response carries INTERNAL_ADDRESS_FAILURE and
    /// no Child SA (the IKE SA is still established, RFC 7296 §3.15.4).
    pub fn fail_addresses(&mut self, now: Instant) {
        let Some(RespStep::WaitAddresses { msg_id }) = self.step() else {
            return;
        };
        self.app_deadline = None;
        if self.finish_responder_auth(msg_id, now, true).is_err() {
            self.fail(now, CloseReason::Internal("IKE_AUTH response"), false);
        }
    }

    /// Responder: refuses the IKE_AUTH exchange while the authenticator's answer is awaited
    /// (after [`Event::EapRelay`]): the response carries only the error notify `notify`
    /// (e.g. a TS 24.302 private type when the AAA authenticated the UE but the PDN
    /// connection could not be set up), and the SA closes with [`CloseReason::Refused`].
    pub fn refuse_auth(&mut self, notify: NotifyType, now: Instant) {
        let Some(RespStep::WaitAuthenticator { msg_id, .. }) = self.step() else {
            return;
        };
        self.app_deadline = None;
        ctx(&mut self.auth).step = None;
        let r = self.send_response(
            msg_id,
            ExchangeType::IkeAuth,
            &[notify_payload(notify, &[])],
        );
        if r.is_err() {
            self.fail(now, CloseReason::Internal("IKE_AUTH response"), false);
            return;
        }
        self.fail(now, CloseReason::Refused(notify), true);
    }

    /// Deletes the IKE SA (INFORMATIONAL with D(IKE)); [`Event::Closed`] follows.
    pub fn delete(&mut self, now: Instant) {
        if self.state == State::Established {
            self.queue(Op::DeleteIke, now);
        } else if self.state != State::Closed {
            self.close(CloseReason::DeletedLocally);
        }
    }

    /// Sends a liveness check (empty INFORMATIONAL).
    pub fn liveness_check(&mut self, now: Instant) {
        self.queue(Op::Dpd, now);
    }

    pub fn rekey_ike(&mut self, now: Instant) {
        self.queue(Op::RekeyIke, now);
    }

    /// Rekeys the Child SA with this inbound SPI.
    pub fn rekey_child(&mut self, inbound_spi: u32, now: Instant) {
        self.queue(Op::RekeyChild(inbound_spi), now);
    }

    pub fn delete_child(&mut self, inbound_spi: u32, now: Instant) {
        self.queue(Op::DeleteChild(inbound_spi), now);
    }

    /// Creates another Child SA with CREATE_CHILD_SA.
    pub fn create_child(&mut self, local_ts: Vec<TsRange>, remote_ts: Vec<TsRange>, now: Instant) {
        self.queue(Op::CreateChild(local_ts, remote_ts), now);
    }

    /// The data path reports a byte/packet lifetime of a Child SA: soft → rekey, hard →
    /// delete.
    pub fn child_expired(&mut self, inbound_spi: u32, hard: bool, now: Instant) {
        if hard {
            self.queue(Op::DeleteChild(inbound_spi), now);
        } else {
            self.queue(Op::RekeyChild(inbound_spi), now);
        }
    }

    fn queue(&mut self, op: Op, now: Instant) {
        if self.state != State::Established || self.ops.contains(&op) {
            return;
        }
        if let Op::RekeyChild(s) | Op::DeleteChild(s) = op {
            let rekey = matches!(op, Op::RekeyChild(_));
            match self.children.iter_mut().find(|c| c.info.inbound_spi == s) {
                // A replaced Child SA can still be deleted (hard lifetime), not rekeyed.
                Some(c) if !(rekey && c.rekeyed) => c.busy = true,
                _ => return,
            }
        }
        self.ops.push_back(op);
        self.drive(now);
    }

    // ----- sending -----

    fn header(&self, exchange: ExchangeType, response: bool, msg_id: u32) -> Header {
        let mut f = 0;
        if self.role == Role::Initiator {
            f |= flags::INITIATOR;
        }
        if response {
            f |= flags::RESPONSE;
        }
        Header::new(self.spi_i, self.spi_r, exchange, f, msg_id)
    }

    fn emit_datagram(&self, msg: &[u8]) -> Vec<u8> {
        if self.natt {
            let mut v = Vec::with_capacity(4 + msg.len());
            v.extend_from_slice(&NON_ESP_MARKER);
            v.extend_from_slice(msg);
            v
        } else {
            msg.to_vec()
        }
    }

    /// Protects `payloads` into one or more datagrams (SKF fragments when the peer supports
    /// them and the message would exceed the MTU).
    fn protect(
        &mut self,
        header: &Header,
        payloads: &[Payload<'_>],
    ) -> Result<Vec<Vec<u8>>, Error> {
        let mut plain = Vec::with_capacity(256);
        let first = emit_inner(payloads, &mut plain)?;
        let natt = self.natt;
        let fragment = self.config.fragmentation
            && self.peer_frag
            && header.exchange_type != ExchangeType::IkeSaInit;
        let ip_overhead = if self.remote.is_ipv4() { 20 } else { 40 };
        let max_msg = self
            .config
            .fragment_mtu
            .saturating_sub(ip_overhead + 8 + if natt { 4 } else { 0 });
        let keys = self.keys.as_mut().ok_or(Error::State("no keys"))?;
        let whole = HEADER_LEN + keys.sk_overhead(plain.len(), false) + plain.len();
        let prefix = |out: &mut Vec<u8>| {
            if natt {
                out.extend_from_slice(&NON_ESP_MARKER);
            }
        };
        if !fragment || whole <= max_msg {
            let mut out = Vec::with_capacity(whole + 4);
            prefix(&mut out);
            keys.seal(
                header,
                EncryptedKind::Sk,
                first,
                &plain,
                &mut *self.rng,
                &mut out,
            )?;
            return Ok(vec![out]);
        }
        let chunk = keys.max_fragment_plain(max_msg).max(16);
        let total = plain.len().div_ceil(chunk);
        let total = u16::try_from(total).map_err(|_| Error::State("message too large"))?;
        let mut dgrams = Vec::with_capacity(total as usize);
        for (i, piece) in plain.chunks(chunk).enumerate() {
            let n = i as u16 + 1;
            let mut out = Vec::with_capacity(max_msg + 4);
            prefix(&mut out);
            let f = if n == 1 { first } else { PayloadType::NoNext };
            keys.seal(
                header,
                EncryptedKind::Skf {
                    fragment_number: n,
                    total_fragments: total,
                },
                f,
                piece,
                &mut *self.rng,
                &mut out,
            )?;
            dgrams.push(out);
        }
        Ok(dgrams)
    }

    fn push_datagrams(&mut self, dgrams: &[Vec<u8>]) {
        for d in dgrams {
            self.transmits.push_back(Transmit {
                local: self.local,
                remote: self.remote,
                data: d.clone(),
            });
        }
    }

    fn send_request(
        &mut self,
        now: Instant,
        exchange: ExchangeType,
        payloads: &[Payload<'_>],
        kind: ReqKind,
    ) -> Result<(), Error> {
        let msg_id = self.next_id;
        let header = self.header(exchange, false, msg_id);
        let datagrams = self.protect(&header, payloads)?;
        self.next_id = self.next_id.wrapping_add(1);
        self.push_datagrams(&datagrams);
        self.outstanding = Some(Box::new(Outstanding {
            msg_id,
            exchange,
            datagrams,
            tries: 0,
            next: now + self.config.timers.retransmit_timeout,
            kind,
        }));
        Ok(())
    }

    fn send_response(
        &mut self,
        msg_id: u32,
        exchange: ExchangeType,
        payloads: &[Payload<'_>],
    ) -> Result<(), Error> {
        let header = self.header(exchange, true, msg_id);
        let datagrams = self.protect(&header, payloads)?;
        self.push_datagrams(&datagrams);
        self.last_response = Some((msg_id, datagrams));
        if self.deferred == Some(msg_id) {
            self.deferred = None;
        }
        Ok(())
    }

    fn send_init_request(&mut self, now: Instant) -> Result<(), Error> {
        let config = self.config.clone();
        let init = self.init.as_ref().ok_or(Error::State("no init context"))?;
        let dh = init.dh.as_ref().ok_or(Error::State("no DH key"))?;
        let header = self.header(ExchangeType::IkeSaInit, false, 0);
        let sa = proposal::ike_sa_payload(&config.ike_proposals, &[]);
        let mut payloads: Vec<Payload<'_>> = Vec::with_capacity(8);
        if let Some(c) = &init.cookie {
            payloads.push(notify_payload(NotifyType::Cookie, c));
        }
        payloads.push(Payload::new(PayloadBody::Sa(sa)));
        payloads.push(Payload::new(PayloadBody::Ke(Ke::new(
            dh.group().id(),
            dh.public_key(),
        ))));
        payloads.push(Payload::new(PayloadBody::Nonce(&init.ni)));
        let (src, dst);
        if config.nat_traversal {
            let mut s = nat_hash(&self.spi_i, &[0; 8], self.local);
            if config.force_encap {
                self.rng.fill_bytes(&mut s);
            }
            src = s;
            dst = nat_hash(&self.spi_i, &[0; 8], self.remote);
            payloads.push(notify_payload(NotifyType::NatDetectionSourceIp, &src));
            payloads.push(notify_payload(NotifyType::NatDetectionDestinationIp, &dst));
        }
        if config.fragmentation {
            payloads.push(notify_payload(NotifyType::Ikev2FragmentationSupported, &[]));
        }
        let hashes = auth::hash_notify_data();
        payloads.push(notify_payload(NotifyType::SignatureHashAlgorithms, &hashes));
        let msg = Message::new(header, payloads);
        let mut bytes = Vec::with_capacity(msg.buffer_len());
        msg.emit(&mut bytes)?;
        let datagram = self.emit_datagram(&bytes);
        if let Some(init) = self.init.as_mut() {
            init.request = bytes;
        }
        self.state = State::InitSent;
        self.next_id = 1;
        self.push_datagrams(std::slice::from_ref(&datagram));
        self.outstanding = Some(Box::new(Outstanding {
            msg_id: 0,
            exchange: ExchangeType::IkeSaInit,
            datagrams: vec![datagram],
            tries: 0,
            next: now + config.timers.retransmit_timeout,
            kind: ReqKind::Init,
        }));
        Ok(())
    }

    // ----- failure and closing -----

    fn close(&mut self, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        for c in self.children.drain(..) {
            if let Some(a) = &self.config.spi_allocator {
                a.release(c.info.inbound_spi);
            }
        }
        self.state = State::Closed;
        self.outstanding = None;
        self.ops.clear();
        self.old = None;
        self.linger_until = None;
        self.events.push_back(Event::Closed(reason));
    }

    /// Fails the SA; with `linger`, it stays to answer retransmissions of the request that
    /// failed it before [`Event::Closed`].
    fn fail(&mut self, now: Instant, reason: CloseReason, linger: bool) {
        if matches!(self.state, State::Closed | State::Closing) {
            return;
        }
        if linger {
            self.state = State::Closing;
            self.close_reason = Some(reason);
            self.linger_until = Some(now + LINGER);
            self.outstanding = None;
            self.ops.clear();
        } else {
            self.close(reason);
        }
    }
}

impl IkeSa {
    // ----- receiving -----

    /// Feeds one UDP datagram received on `local` from `remote` (on the NAT-T port, with its
    /// Non-ESP Marker). Anything malformed, unauthenticated or unexpected is answered as
    /// RFC 7296 says or dropped; nothing panics.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        if self.state == State::Closed {
            return;
        }
        let msg = if local.port() == self.config.ports.natt && local.port() != self.config.ports.ike
        {
            match classify_udp4500(data) {
                Ok(Udp4500::Ike(m)) => m,
                _ => return,
            }
        } else {
            data
        };
        let Ok(pkt) = Packet::new_checked(msg) else {
            return;
        };
        if pkt.major_version() != 2 {
            return;
        }
        let (spi_i, spi_r) = (pkt.spi_i(), pkt.spi_r());
        if let Some(old) = &self.old {
            if spi_i == old.spi_i && spi_r == old.spi_r {
                self.handle_old(now, msg);
                return;
            }
        }
        if spi_i != self.spi_i {
            return;
        }
        let response = pkt.flags() & flags::RESPONSE != 0;
        // The I flag must say the sender is the other role.
        let from_initiator = pkt.flags() & flags::INITIATOR != 0;
        if from_initiator == (self.role == Role::Initiator) {
            return;
        }
        let exchange = pkt.exchange_type();
        let msg_id = pkt.message_id();
        if exchange == ExchangeType::IkeSaInit {
            if response && self.state == State::InitSent {
                self.handle_init_response(now, local, remote, msg);
            } else if !response && self.role == Role::Responder && msg_id == 0 {
                // A retransmitted IKE_SA_INIT request: the cached response.
                if self.state == State::InitDone
                    && self.init.as_ref().is_some_and(|i| i.request == msg)
                {
                    if let Some((0, d)) = &self.last_response {
                        let d = d.clone();
                        self.push_datagrams(&d);
                    }
                }
            }
            return;
        }
        if spi_r != self.spi_r || self.keys.is_none() {
            return;
        }
        if response {
            match &self.outstanding {
                Some(o) if o.msg_id == msg_id && o.exchange == exchange => {}
                _ => return,
            }
        } else if msg_id != self.peer_next_id {
            if msg_id.wrapping_add(1) == self.peer_next_id && self.deferred != Some(msg_id) {
                self.retransmit_response(msg_id, msg);
            }
            // Other IDs are outside the window: dropped (RFC 7296 §2.3; INVALID_MESSAGE_ID
            // is optional and must be rate limited, so we do not send it).
            return;
        } else if self.deferred == Some(msg_id) {
            return;
        }
        let mut buf = msg.to_vec();
        let Some(inner) = self.unprotect(&mut buf, response, msg_id) else {
            return;
        };
        // Authenticated: the peer is alive, and behind a NAT its address may change.
        self.last_rx = now;
        let on_natt = local.port() == self.config.ports.natt
            && self.config.ports.natt != self.config.ports.ike;
        if on_natt && !self.natt {
            // The initiator floated to the NAT-T port (RFC 7296 §2.23).
            self.natt = true;
        }
        if (remote != self.remote || local != self.local)
            && (self.nat_remote || self.nat_local || on_natt)
        {
            self.remote = remote;
            self.local = local;
            self.events
                .push_back(Event::PeerAddressChanged { local, remote });
        }
        let Ok((first, plain)) = inner else {
            // Decrypted but unparseable: INVALID_SYNTAX for a request (§2.21.3).
            if !response {
                self.peer_next_id = msg_id.wrapping_add(1);
                let _ = self.send_response(
                    msg_id,
                    exchange,
                    &[notify_payload(NotifyType::InvalidSyntax, &[])],
                );
                if self.state != State::Established {
                    self.fail(now, CloseReason::PeerError(NotifyType::InvalidSyntax), true);
                }
            }
            return;
        };
        let payloads = match parse_chain(first.into(), &plain) {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(error = %e, "IKE message with bad inner payloads");
                if !response {
                    self.peer_next_id = msg_id.wrapping_add(1);
                    let _ = self.send_response(
                        msg_id,
                        exchange,
                        &[notify_payload(NotifyType::InvalidSyntax, &[])],
                    );
                    if self.state != State::Established {
                        self.fail(now, CloseReason::PeerError(NotifyType::InvalidSyntax), true);
                    }
                }
                return;
            }
        };
        let p = Parsed::new(&payloads);
        if response {
            self.handle_response(now, exchange, p);
        } else {
            self.peer_next_id = msg_id.wrapping_add(1);
            if let Some(t) = p.unsupported_critical {
                let _ = self.send_response(
                    msg_id,
                    exchange,
                    &[notify_payload(NotifyType::UnsupportedCriticalPayload, &[t])],
                );
                return;
            }
            let r = self.handle_request(now, exchange, msg_id, p);
            if let Err(e) = r {
                tracing::debug!(error = %e, "IKE request failed");
                if self.last_response.as_ref().map(|r| r.0) != Some(msg_id)
                    && self.deferred != Some(msg_id)
                {
                    let _ = self.send_response(
                        msg_id,
                        exchange,
                        &[notify_payload(NotifyType::InvalidSyntax, &[])],
                    );
                }
                if self.state != State::Established {
                    self.fail(now, CloseReason::Internal("request"), true);
                }
            }
        }
        self.drive(now);
    }

    /// Resends the cached response to a retransmitted request. For a fragmented request
    /// only fragment 1 triggers it (RFC 7383 §2.6.1), so one retransmission of N fragments
    /// does not cause N responses.
    fn retransmit_response(&mut self, msg_id: u32, msg: &[u8]) {
        if let Ok(m) = Message::parse(msg) {
            if let Some(PayloadBody::Skf(f)) = m.payloads.last().map(|p| &p.body) {
                if f.fragment_number != 1 {
                    return;
                }
            }
        }
        if let Some((id, d)) = &self.last_response {
            if *id == msg_id {
                let d = d.clone();
                self.push_datagrams(&d);
            }
        }
    }

    /// Verifies and decrypts; returns `None` to drop (integrity failure, incomplete
    /// fragments), `Some(Err)` for an authentic but malformed plaintext, or the inner chain
    /// with its first payload type.
    #[allow(clippy::type_complexity)]
    fn unprotect(
        &mut self,
        buf: &mut [u8],
        response: bool,
        msg_id: u32,
    ) -> Option<Result<(PayloadType, Vec<u8>), ()>> {
        // The outer chain tells SK from SKF (and where the encrypted payload is).
        let (first, skf) = {
            let m = Message::parse(buf).ok()?;
            match m.payloads.last().map(|p| &p.body) {
                Some(PayloadBody::Sk(e)) => (e.first_payload, None),
                Some(PayloadBody::Skf(f)) => {
                    f.check().ok()?;
                    (
                        f.first_payload,
                        Some((f.fragment_number, f.total_fragments)),
                    )
                }
                _ => return None,
            }
        };
        let keys = self.keys.as_ref()?;
        let range = keys.open(buf).ok()?;
        let Some((number, total)) = skf else {
            return Some(Ok((first, buf[range].to_vec())));
        };
        if !self.config.fragmentation || total > MAX_FRAGMENTS {
            return None;
        }
        let r = match &mut self.reassembly {
            Some(r) if r.msg_id == msg_id && r.response == response => r,
            _ => {
                self.reassembly = Some(Reassembly {
                    msg_id,
                    response,
                    total,
                    first: PayloadType::NoNext,
                    pieces: vec![None; total as usize],
                    bytes: 0,
                });
                self.reassembly.as_mut()?
            }
        };
        if r.total != total {
            // RFC 7383 §2.6.1: a different total means a re-fragmented retransmission;
            // start over with the new one.
            r.total = total;
            r.pieces = vec![None; total as usize];
            r.bytes = 0;
        }
        let slot = r.pieces.get_mut(number as usize - 1)?;
        if slot.is_some() {
            return None;
        }
        r.bytes += range.len();
        if r.bytes > MAX_REASSEMBLED {
            self.reassembly = None;
            return None;
        }
        *slot = Some(buf[range].to_vec());
        if number == 1 {
            r.first = first;
        }
        if r.pieces.iter().any(|p| p.is_none()) {
            return None;
        }
        let r = self.reassembly.take()?;
        let mut whole = Vec::with_capacity(r.bytes);
        for p in r.pieces.into_iter().flatten() {
            whole.extend_from_slice(&p);
        }
        Some(Ok((r.first, whole)))
    }

    /// Messages on the SPIs of an IKE SA replaced by a rekey: only its DELETE matters.
    fn handle_old(&mut self, now: Instant, msg: &[u8]) {
        let Some(old) = self.old.as_mut() else { return };
        let Ok(pkt) = Packet::new_checked(msg) else {
            return;
        };
        let response = pkt.flags() & flags::RESPONSE != 0;
        let msg_id = pkt.message_id();
        let mut buf = msg.to_vec();
        let Ok(range) = old.keys.open(&mut buf) else {
            return;
        };
        if response {
            if old.pending.as_ref().is_some_and(|p| p.0 == msg_id) {
                let spi = if old.role == Role::Initiator {
                    old.spi_i
                } else {
                    old.spi_r
                };
                self.old = None;
                self.events
                    .push_back(Event::IkeSpiRetired { local_spi: spi });
            }
            return;
        }
        if msg_id != old.peer_next_id {
            return;
        }
        let first = match Message::parse(msg)
            .ok()
            .and_then(|m| m.payloads.last().cloned())
        {
            Some(Payload {
                body: PayloadBody::Sk(e),
                ..
            }) => e.first_payload,
            _ => return,
        };
        let is_delete = parse_chain(first.into(), &buf[range])
            .map(|pl| pl.iter().any(|p| matches!(&p.body, PayloadBody::Delete(d) if d.protocol_id == ProtocolId::Ike)))
            .unwrap_or(false);
        old.peer_next_id = msg_id.wrapping_add(1);
        // Answer (empty INFORMATIONAL) with the old keys.
        let mut f = flags::RESPONSE;
        if old.role == Role::Initiator {
            f |= flags::INITIATOR;
        }
        let h = Header::new(old.spi_i, old.spi_r, pkt.exchange_type(), f, msg_id);
        let mut out = Vec::new();
        if self.natt {
            out.extend_from_slice(&NON_ESP_MARKER);
        }
        if old
            .keys
            .seal(
                &h,
                EncryptedKind::Sk,
                PayloadType::NoNext,
                &[],
                &mut *self.rng,
                &mut out,
            )
            .is_ok()
        {
            self.transmits.push_back(Transmit {
                local: self.local,
                remote: self.remote,
                data: out,
            });
        }
        if is_delete {
            let spi = if old.role == Role::Initiator {
                old.spi_i
            } else {
                old.spi_r
            };
            self.old = None;
            self.events
                .push_back(Event::IkeSpiRetired { local_spi: spi });
        }
        let _ = now;
    }

    // ----- timers -----

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        if let Some(t) = self.linger_until {
            if now >= t {
                let r = self
                    .close_reason
                    .unwrap_or(CloseReason::Internal("closing"));
                self.close(r);
                return;
            }
        }
        // The old SA of a rekey.
        if let Some(old) = self.old.as_mut() {
            let mut retire = now >= old.expires;
            if let Some(p) = old.pending.as_mut() {
                if now >= p.3 {
                    if p.2 >= self.config.timers.retransmit_tries {
                        retire = true;
                    } else {
                        p.2 += 1;
                        p.3 = now + backoff(&self.config.timers, p.2);
                        let d = p.1.clone();
                        self.transmits.push_back(Transmit {
                            local: self.local,
                            remote: self.remote,
                            data: d,
                        });
                    }
                }
            }
            if retire {
                let spi = if old.role == Role::Initiator {
                    old.spi_i
                } else {
                    old.spi_r
                };
                self.old = None;
                self.events
                    .push_back(Event::IkeSpiRetired { local_spi: spi });
            }
        }
        if let Some(o) = self.outstanding.as_mut() {
            if now >= o.next {
                if o.tries >= self.config.timers.retransmit_tries {
                    self.close(CloseReason::Timeout);
                    return;
                }
                o.tries += 1;
                o.next = now + backoff(&self.config.timers, o.tries);
                let d = o.datagrams.clone();
                self.push_datagrams(&d);
            }
        }
        if let Some(t) = self.app_deadline {
            if now >= t {
                self.app_deadline = None;
                match self.step() {
                    Some(RespStep::WaitAddresses { .. }) => self.fail_addresses(now),
                    Some(RespStep::WaitAuthenticator { msg_id, .. }) => {
                        let _ = self.send_response(
                            msg_id,
                            ExchangeType::IkeAuth,
                            &[notify_payload(NotifyType::AuthenticationFailed, &[])],
                        );
                        self.fail(now, CloseReason::ApplicationTimeout, true);
                    }
                    _ => {}
                }
            }
        }
        match self.state {
            // Waiting for the peer (not for the application) too long.
            State::InitDone | State::Responding
                if self.deferred.is_none()
                    && now >= self.last_rx + self.config.timers.half_open_timeout =>
            {
                self.close(CloseReason::HalfOpenTimeout);
                return;
            }
            State::Established => {
                if self.ike_hard_at.is_some_and(|t| now >= t) {
                    self.ike_hard_at = None;
                    self.ops.clear();
                    self.queue(Op::DeleteIke, now);
                }
                if self.ike_rekey_at.is_some_and(|t| now >= t) {
                    self.ike_rekey_at = None;
                    if self.config.auto_rekey {
                        self.queue(Op::RekeyIke, now);
                    }
                }
                let mut ops = Vec::new();
                for c in &mut self.children {
                    if c.busy {
                        continue;
                    }
                    if c.hard_at.is_some_and(|t| now >= t) {
                        c.hard_at = None;
                        ops.push(Op::DeleteChild(c.info.inbound_spi));
                    } else if c.rekey_at.is_some_and(|t| now >= t) {
                        c.rekey_at = None;
                        if self.config.auto_rekey && !c.rekeyed {
                            ops.push(Op::RekeyChild(c.info.inbound_spi));
                        } else if !c.rekeyed {
                            self.events.push_back(Event::ChildExpiring {
                                inbound_spi: c.info.inbound_spi,
                            });
                        }
                    }
                }
                for op in ops {
                    self.queue(op, now);
                }
                if let Some(d) = self.config.timers.dpd_interval {
                    if self.outstanding.is_none() && self.ops.is_empty() && now >= self.last_rx + d
                    {
                        self.queue(Op::Dpd, now);
                    }
                }
            }
            _ => {}
        }
        self.drive(now);
    }

    /// Starts the next queued operation when no request is outstanding.
    fn drive(&mut self, now: Instant) {
        while self.outstanding.is_none() && self.state == State::Established {
            let Some(op) = self.ops.pop_front() else {
                return;
            };
            let r = match op {
                Op::Dpd => self.send_request(now, ExchangeType::Informational, &[], ReqKind::Dpd),
                Op::DeleteIke => {
                    let d = [Payload::new(PayloadBody::Delete(Delete::ike()))];
                    self.send_request(now, ExchangeType::Informational, &d, ReqKind::DeleteIke)
                }
                Op::DeleteChild(spi) => self.start_delete_children(now, vec![spi]),
                Op::RekeyChild(spi) => self.start_rekey_child(now, spi),
                Op::RekeyIke => self.start_rekey_ike(now),
                Op::CreateChild(l, r) => self.start_create_child(now, None, l, r),
            };
            if let Err(e) = r {
                tracing::debug!(error = %e, "IKE operation not started");
            }
        }
    }
}

fn backoff(t: &super::Timers, tries: u32) -> Duration {
    let f = t.retransmit_base.powi(tries.min(64) as i32);
    let d = t.retransmit_timeout.as_secs_f64() * f;
    // A NaN or infinite product (odd configuration) falls back to the limit.
    Duration::try_from_secs_f64(d)
        .unwrap_or(t.retransmit_limit)
        .min(t.retransmit_limit)
}

impl IkeSa {
    // ----- IKE_SA_INIT -----

    /// Responder: creates an SA from an IKE_SA_INIT request (the dispatcher has checked the
    /// cookie). `spi_r` is our SPI, unique in the dispatcher.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn accept(
        config: Arc<Config>,
        rng: Box<dyn RngCore + Send>,
        spi_r: [u8; 8],
        local: SocketAddr,
        remote: SocketAddr,
        msg: &[u8],
        now: Instant,
    ) -> Result<IkeSa, InitReject> {
        let m = match Message::parse(msg) {
            Ok(m) => m,
            Err(_) => {
                return match Packet::new_checked(msg) {
                    Ok(pkt) if pkt.major_version() == 2 => {
                        let h = Header::new(
                            pkt.spi_i(),
                            [0; 8],
                            ExchangeType::IkeSaInit,
                            0,
                            pkt.message_id(),
                        );
                        Err(InitReject::Answer(init_error_reply(
                            &h,
                            [0; 8],
                            NotifyType::InvalidSyntax,
                            &[],
                        )))
                    }
                    _ => Err(InitReject::Drop),
                };
            }
        };
        let h = m.header;
        if h.exchange_type != ExchangeType::IkeSaInit
            || h.is_response()
            || !h.is_initiator()
            || h.message_id != 0
            || h.spi_r != [0; 8]
            || h.spi_i == [0; 8]
        {
            return Err(InitReject::Drop);
        }
        let p = Parsed::new(&m.payloads);
        let syntax =
            || InitReject::Answer(init_error_reply(&h, [0; 8], NotifyType::InvalidSyntax, &[]));
        if let Some(t) = p.unsupported_critical {
            return Err(InitReject::Answer(init_error_reply(
                &h,
                [0; 8],
                NotifyType::UnsupportedCriticalPayload,
                &[t],
            )));
        }
        let (Some(sa), Some(ke), Some(ni)) = (&p.sa, &p.ke, p.nonce) else {
            return Err(syntax());
        };
        if !(16..=256).contains(&ni.len()) {
            return Err(syntax());
        }
        let Some((number, _, algs)) =
            proposal::select_ike(&config.ike_proposals, sa, Group::from_id(ke.dh_group))
        else {
            return Err(InitReject::Answer(init_error_reply(
                &h,
                [0; 8],
                NotifyType::NoProposalChosen,
                &[],
            )));
        };
        if ke.dh_group != algs.dh.id() {
            return Err(InitReject::Answer(init_error_reply(
                &h,
                [0; 8],
                NotifyType::InvalidKePayload,
                &algs.dh.id().to_be_bytes(),
            )));
        }
        let mut sa_ = IkeSa::blank(config.clone(), rng, Role::Responder, local, remote, now);
        sa_.spi_i = h.spi_i;
        sa_.spi_r = spi_r;
        sa_.natt = local.port() == config.ports.natt && config.ports.natt != config.ports.ike;
        let r = sa_.accept_inner(msg, &p, number, algs, ke, ni);
        match r {
            Ok(()) => Ok(sa_),
            Err(Error::Crypto(mobstrap_crypto::Error::InvalidPublicValue { .. })) => {
                // A KE value off the curve or out of range is a syntax error (§2.21.1).
                Err(syntax())
            }
            Err(_) => Err(InitReject::Drop),
        }
    }

    fn accept_inner(
        &mut self,
        msg: &[u8],
        p: &Parsed<'_>,
        number: u8,
        algs: IkeAlgs,
        ke: &Ke<'_>,
        ni: &[u8],
    ) -> Result<(), Error> {
        let config = self.config.clone();
        let dh = new_dh(&mut *self.rng, algs.dh)?;
        let shared = dh.agree(ke.data)?;
        let nr = random_nonce(&mut *self.rng);
        // NAT detection (hashes of the request use SPIr = 0).
        let peer_natd = config.nat_traversal
            && (p.has(NotifyType::NatDetectionSourceIp)
                || p.has(NotifyType::NatDetectionDestinationIp));
        if peer_natd {
            let src_want = nat_hash(&self.spi_i, &[0; 8], self.remote);
            let dst_want = nat_hash(&self.spi_i, &[0; 8], self.local);
            self.nat_remote = !p
                .notifies
                .iter()
                .filter(|n| n.notify_type == NotifyType::NatDetectionSourceIp)
                .any(|n| n.data == src_want);
            self.nat_local = !p
                .notifies
                .iter()
                .filter(|n| n.notify_type == NotifyType::NatDetectionDestinationIp)
                .any(|n| n.data == dst_want);
        }
        self.peer_frag = p.has(NotifyType::Ikev2FragmentationSupported);
        if let Some(n) = p.notify(NotifyType::SignatureHashAlgorithms) {
            self.peer_hashes = auth::usable_hashes(n.signature_hash_algorithms());
        }
        let header = self.header(ExchangeType::IkeSaInit, true, 0);
        let sa = proposal::ike_selected(number, &algs, &[]);
        let mut payloads = vec![
            Payload::new(PayloadBody::Sa(sa)),
            Payload::new(PayloadBody::Ke(Ke::new(algs.dh.id(), dh.public_key()))),
            Payload::new(PayloadBody::Nonce(&nr)),
        ];
        let (src, dst);
        if peer_natd {
            src = nat_hash(&self.spi_i, &self.spi_r, self.local);
            dst = nat_hash(&self.spi_i, &self.spi_r, self.remote);
            payloads.push(notify_payload(NotifyType::NatDetectionSourceIp, &src));
            payloads.push(notify_payload(NotifyType::NatDetectionDestinationIp, &dst));
        }
        if self.peer_frag && config.fragmentation {
            payloads.push(notify_payload(NotifyType::Ikev2FragmentationSupported, &[]));
        }
        let hashes = auth::hash_notify_data();
        if p.has(NotifyType::SignatureHashAlgorithms) {
            payloads.push(notify_payload(NotifyType::SignatureHashAlgorithms, &hashes));
        }
        let certreq = auth::certreq_data(&config);
        if config.send_certreq && config.peer_auth.signature && !certreq.is_empty() {
            payloads.push(Payload::new(PayloadBody::CertReq(Cert::new(
                CertEncoding::X509Signature,
                &certreq,
            ))));
        }
        let resp = Message::new(header, payloads);
        let mut bytes = Vec::with_capacity(resp.buffer_len());
        resp.emit(&mut bytes)?;
        let seed = skeyseed(algs.prf, ni, &nr, shared.as_bytes());
        self.keys = Some(IkeKeys::derive(
            algs,
            seed.as_bytes(),
            ni,
            &nr,
            &self.spi_i,
            &self.spi_r,
            false,
        )?);
        let datagram = self.emit_datagram(&bytes);
        self.push_datagrams(std::slice::from_ref(&datagram));
        self.last_response = Some((0, vec![datagram]));
        self.init = Some(Box::new(InitCtx {
            ni: ni.to_vec(),
            nr,
            dh: None,
            request: msg.to_vec(),
            response: bytes,
            cookie: None,
            ke_retries: 0,
        }));
        self.state = State::InitDone;
        self.peer_next_id = 1;
        Ok(())
    }

    fn handle_init_response(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &[u8],
    ) {
        let _ = (local, remote);
        let Ok(m) = Message::parse(msg) else { return };
        let h = m.header;
        if h.message_id != 0 || !h.is_response() || h.is_initiator() {
            return;
        }
        let p = Parsed::new(&m.payloads);
        let config = self.config.clone();
        // COOKIE: retry with it first (same SPI, nonce and KE).
        if let Some(c) = p.notify(NotifyType::Cookie) {
            if (1..=64).contains(&c.data.len()) {
                if let Some(init) = self.init.as_mut() {
                    if init.cookie.as_deref() != Some(c.data) {
                        init.cookie = Some(c.data.to_vec());
                        self.outstanding = None;
                        if self.send_init_request(now).is_err() {
                            self.close(CloseReason::Internal("IKE_SA_INIT"));
                        }
                    }
                }
            }
            return;
        }
        if let Some(n) = p.notify(NotifyType::InvalidKePayload) {
            let Some(g) = n.accepted_dh_group().and_then(Group::from_id) else {
                return;
            };
            let ours = config.ike_proposals.iter().any(|p| p.dh.contains(&g));
            let Some(init) = self.init.as_mut() else {
                return;
            };
            let current = init.dh.as_ref().map(|d| d.group());
            if !ours || current == Some(g) || init.ke_retries >= 2 {
                // Unusable group: wait for a better answer or the timeout.
                return;
            }
            init.ke_retries += 1;
            match new_dh(&mut *self.rng, g) {
                Ok(k) => {
                    if let Some(init) = self.init.as_mut() {
                        init.dh = Some(k);
                        init.cookie = None;
                    }
                }
                Err(_) => return,
            }
            self.outstanding = None;
            if self.send_init_request(now).is_err() {
                self.close(CloseReason::Internal("IKE_SA_INIT"));
            }
            return;
        }
        if let Some(t) = p.error() {
            // An unauthenticated error: RFC 7296 §2.21.1 says it may be forged; we give up
            // only on NO_PROPOSAL_CHOSEN and otherwise wait for a valid response.
            if t == NotifyType::NoProposalChosen {
                self.close(CloseReason::NoProposalChosen);
            }
            return;
        }
        if h.spi_r == [0; 8] {
            return;
        }
        let (Some(sa), Some(ke), Some(nr)) = (&p.sa, &p.ke, p.nonce) else {
            return;
        };
        if !(16..=256).contains(&nr.len()) {
            return;
        }
        let Some(algs) = proposal::accept_ike_reply(&config.ike_proposals, sa) else {
            self.close(CloseReason::NoProposalChosen);
            return;
        };
        let Some(init) = self.init.as_mut() else {
            return;
        };
        let Some(dh) = init.dh.as_ref() else { return };
        if algs.dh != dh.group() || ke.dh_group != dh.group().id() {
            return;
        }
        let Ok(shared) = dh.agree(ke.data) else {
            return;
        };
        init.nr = nr.to_vec();
        init.response = msg.to_vec();
        init.dh = None;
        let seed = skeyseed(algs.prf, &init.ni, nr, shared.as_bytes());
        let keys = match IkeKeys::derive(
            algs,
            seed.as_bytes(),
            &init.ni,
            nr,
            &self.spi_i,
            &h.spi_r,
            true,
        ) {
            Ok(k) => k,
            Err(_) => {
                self.close(CloseReason::Internal("key derivation"));
                return;
            }
        };
        self.spi_r = h.spi_r;
        self.keys = Some(keys);
        self.outstanding = None;
        // NAT detection (the response's hashes use both SPIs).
        let has_natd = p.has(NotifyType::NatDetectionSourceIp);
        if config.nat_traversal && has_natd {
            let src_want = nat_hash(&self.spi_i, &self.spi_r, self.remote);
            let dst_want = nat_hash(&self.spi_i, &self.spi_r, self.local);
            self.nat_remote = !p
                .notifies
                .iter()
                .filter(|n| n.notify_type == NotifyType::NatDetectionSourceIp)
                .any(|n| n.data == src_want);
            self.nat_local = config.force_encap
                || !p
                    .notifies
                    .iter()
                    .filter(|n| n.notify_type == NotifyType::NatDetectionDestinationIp)
                    .any(|n| n.data == dst_want);
            if self.nat_local || self.nat_remote {
                // RFC 7296 §2.23: move to the NAT-T port.
                self.natt = true;
                self.local.set_port(config.ports.natt);
                if self.remote.port() == config.ports.ike {
                    self.remote.set_port(config.ports.natt);
                }
            }
        }
        self.peer_frag = p.has(NotifyType::Ikev2FragmentationSupported);
        if let Some(n) = p.notify(NotifyType::SignatureHashAlgorithms) {
            self.peer_hashes = auth::usable_hashes(n.signature_hash_algorithms());
        }
        if let Err(e) = self.send_auth_request(now) {
            tracing::debug!(error = %e, "IKE_AUTH request not built");
            self.close(CloseReason::Internal("IKE_AUTH request"));
        }
    }

    // ----- IKE_AUTH, initiator -----

    fn auth_input<'a>(&'a self, ours: bool, id: &'a Identity) -> Option<AuthInput<'a>> {
        let keys = self.keys.as_ref()?;
        let init = self.init.as_ref()?;
        let we_init = self.role == Role::Initiator;
        // The signer's IKE_SA_INIT message and the other side's nonce.
        let signer_is_initiator = ours == we_init;
        Some(AuthInput {
            prf: keys.prf(),
            sk_p: if signer_is_initiator {
                keys.sk_pi()
            } else {
                keys.sk_pr()
            },
            real_message: if signer_is_initiator {
                &init.request
            } else {
                &init.response
            },
            peer_nonce: if signer_is_initiator {
                &init.nr
            } else {
                &init.ni
            },
            id,
        })
    }

    /// Our AUTH payload data with PSK, signature, or (after EAP) the MSK.
    fn our_auth(&self, eap_key: Option<&[u8]>) -> Result<(AuthMethod, Vec<u8>), Error> {
        let config = &self.config;
        let id = self.local_id();
        let input = self.auth_input(true, id).ok_or(Error::State("no keys"))?;
        if let Some(k) = eap_key {
            return Ok((AuthMethod::SharedKeyMic, input.shared_key(k)));
        }
        match config.local_auth {
            LocalAuth::Psk | LocalAuth::Eap => {
                let psk = config
                    .psk_for(id)
                    .ok_or(Error::Config("no PSK for our identity"))?;
                Ok((AuthMethod::SharedKeyMic, input.shared_key(psk.as_bytes())))
            }
            LocalAuth::Signature => {
                let signer = config.signer.as_ref().ok_or(Error::Config("no signer"))?;
                auth::sign(signer, &input, &self.peer_hashes)
            }
        }
    }

    fn allocate_child_spi(&mut self) -> u32 {
        let mut b = [0u8; 4];
        let mut spi = 0;
        while spi < 256 {
            self.rng.fill_bytes(&mut b);
            spi = u32::from_be_bytes(b);
        }
        match &self.config.spi_allocator {
            Some(a) => a.allocate(spi),
            None => spi,
        }
    }

    fn send_auth_request(&mut self, now: Instant) -> Result<(), Error> {
        let config = self.config.clone();
        let using_eap = config.local_auth == LocalAuth::Eap;
        ctx(&mut self.auth).using_eap = using_eap;
        let auth = if using_eap {
            None
        } else {
            Some(self.our_auth(None)?)
        };
        let spi = if config.child_in_auth {
            self.allocate_child_spi()
        } else {
            0
        };
        ctx(&mut self.auth).child_spi = spi;
        let spi_b = spi.to_be_bytes();
        let chain: Vec<Vec<u8>> = match (&config.signer, config.local_auth) {
            (Some(s), LocalAuth::Signature) => s.chain.clone(),
            _ => Vec::new(),
        };
        let certreq = auth::certreq_data(&config);
        let my_id = self.local_id().clone();
        let mut pl: Vec<Payload<'_>> = Vec::with_capacity(12);
        pl.push(Payload::new(PayloadBody::IdI(my_id.to_payload())));
        for c in &chain {
            pl.push(Payload::new(PayloadBody::Cert(Cert::new(
                CertEncoding::X509Signature,
                c,
            ))));
        }
        if config.initial_contact {
            pl.push(notify_payload(NotifyType::InitialContact, &[]));
        }
        if config.send_certreq && !certreq.is_empty() {
            pl.push(Payload::new(PayloadBody::CertReq(Cert::new(
                CertEncoding::X509Signature,
                &certreq,
            ))));
        }
        if let Some(r) = config.requested_id.as_ref().or(config.remote_id.as_ref()) {
            pl.push(Payload::new(PayloadBody::IdR(r.to_payload())));
        }
        if let Some((m, d)) = &auth {
            pl.push(Payload::new(PayloadBody::Auth(Auth::new(*m, d))));
        }
        let cfg: Vec<CfgAttribute<'_>> = config
            .cfg_request
            .iter()
            .map(|&t| CfgAttribute {
                raw_type: t.value() & 0x7fff,
                value: &[],
            })
            .collect();
        if !cfg.is_empty() {
            pl.push(Payload::new(PayloadBody::Cp(Cp::new(
                CfgType::Request,
                cfg,
            ))));
        }
        if using_eap && config.eap_only {
            pl.push(notify_payload(NotifyType::EapOnlyAuthentication, &[]));
        }
        if config.child_in_auth {
            if config.mode == Mode::Transport {
                pl.push(notify_payload(NotifyType::UseTransportMode, &[]));
            }
            pl.push(Payload::new(PayloadBody::Sa(proposal::esp_sa_payload(
                &config.esp_proposals,
                &spi_b,
                None,
            ))));
            pl.push(Payload::new(PayloadBody::TsI(ts_payload(&config.local_ts))));
            pl.push(Payload::new(PayloadBody::TsR(ts_payload(
                &config.remote_ts,
            ))));
        }
        self.state = State::AuthSent;
        self.send_request(now, ExchangeType::IkeAuth, &pl, ReqKind::Auth)
    }

    fn handle_auth_response(&mut self, now: Instant, p: Parsed<'_>) {
        let config = self.config.clone();
        if p.has(NotifyType::AuthenticationFailed) {
            self.close(CloseReason::AuthenticationFailed { by_peer: true });
            return;
        }
        // First response: IDr (and the responder's AUTH, unless EAP-only).
        if self.peer_id.is_none() {
            let Some(idr) = p.idr else {
                let reason = p
                    .error()
                    .map_or(CloseReason::Internal("no IDr"), CloseReason::PeerError);
                self.close(reason);
                return;
            };
            let idr = Identity::from_payload(&idr);
            if config.remote_id.as_ref().is_some_and(|r| *r != idr) {
                self.auth_failed_notify(now);
                return;
            }
            self.peer_id = Some(idr);
            if let Some(a) = &p.auth {
                if self.verify_peer_auth(a, &p.certs, None).is_err() {
                    self.auth_failed_notify(now);
                    return;
                }
                ctx(&mut self.auth).peer_verified = true;
            } else if !(ctx(&mut self.auth).using_eap && config.eap_only) {
                self.auth_failed_notify(now);
                return;
            }
        }
        let a = ctx(&mut self.auth);
        if a.using_eap && a.msk.is_none() {
            // EAP conversation.
            let Some(eap) = p.eap else {
                let reason = p
                    .error()
                    .map_or(CloseReason::Internal("no EAP"), CloseReason::PeerError);
                self.close(reason);
                return;
            };
            let eap = eap.to_vec();
            let Some(peer) = ctx(&mut self.auth).eap_peer.as_mut() else {
                return;
            };
            let action = peer.handle(&eap, &mut *self.rng);
            let r = match action {
                EapPeerAction::Respond(resp) => self.send_request(
                    now,
                    ExchangeType::IkeAuth,
                    &[Payload::new(PayloadBody::Eap(&resp))],
                    ReqKind::Auth,
                ),
                EapPeerAction::Success => {
                    let (msk, emsk, identity) = (peer.msk(), peer.emsk(), peer.identity());
                    let a = ctx(&mut self.auth);
                    a.emsk = emsk;
                    a.eap_identity = identity;
                    let key = match &msk {
                        Some(m) => m.as_bytes().to_vec(),
                        None => self
                            .keys
                            .as_ref()
                            .map(|k| k.sk_pi().to_vec())
                            .unwrap_or_default(),
                    };
                    ctx(&mut self.auth).msk =
                        Some(msk.unwrap_or_else(|| SecretVec::new(Vec::new())));
                    match self.our_auth(Some(&key)) {
                        Ok((m, d)) => self.send_request(
                            now,
                            ExchangeType::IkeAuth,
                            &[Payload::new(PayloadBody::Auth(Auth::new(m, &d)))],
                            ReqKind::Auth,
                        ),
                        Err(e) => Err(e),
                    }
                }
                EapPeerAction::Failure => {
                    self.close(CloseReason::EapFailure);
                    return;
                }
                EapPeerAction::Ignore => {
                    // RFC 3748: discard; the exchange can't go on without a request.
                    self.close(CloseReason::EapFailure);
                    return;
                }
            };
            if r.is_err() {
                self.close(CloseReason::Internal("IKE_AUTH request"));
            }
            return;
        }
        if ctx(&mut self.auth).using_eap {
            // Final response: the responder's AUTH from the MSK.
            let Some(a) = &p.auth else {
                let reason = p.error().map_or(
                    CloseReason::AuthenticationFailed { by_peer: false },
                    CloseReason::PeerError,
                );
                self.close(reason);
                return;
            };
            let msk = ctx(&mut self.auth)
                .msk
                .as_ref()
                .map(|m| m.as_bytes().to_vec())
                .unwrap_or_default();
            let key = {
                let keys = self.keys.as_ref();
                let sk_pr = keys.map(|k| k.sk_pr()).unwrap_or(&[]);
                eap_shared_key(Some(&msk), sk_pr).to_vec()
            };
            if a.method != AuthMethod::SharedKeyMic
                || self.verify_peer_auth(a, &[], Some(&key)).is_err()
            {
                self.auth_failed_notify(now);
                return;
            }
        }
        self.complete_initiator(now, &p);
    }

    /// Verifies the peer's AUTH payload: with `eap_key` as a shared key, else by method (PSK
    /// for its identity, or a signature with its certificate).
    fn verify_peer_auth(
        &mut self,
        a: &Auth<'_>,
        certs: &[&[u8]],
        eap_key: Option<&[u8]>,
    ) -> Result<(), Error> {
        let config = self.config.clone();
        let peer_id = self
            .peer_id
            .clone()
            .ok_or(Error::Auth("no peer identity"))?;
        let input = self
            .auth_input(false, &peer_id)
            .ok_or(Error::State("no keys"))?;
        if let Some(k) = eap_key {
            return if a.method == AuthMethod::SharedKeyMic && input.verify_shared_key(k, a.data) {
                Ok(())
            } else {
                Err(Error::Auth("AUTH"))
            };
        }
        match a.method {
            AuthMethod::SharedKeyMic => {
                if !config.peer_auth.psk {
                    return Err(Error::Auth("PSK not allowed"));
                }
                let psk = config.psk_for(&peer_id).ok_or(Error::Auth("no PSK"))?;
                if input.verify_shared_key(psk.as_bytes(), a.data) {
                    Ok(())
                } else {
                    Err(Error::Auth("AUTH"))
                }
            }
            _ => {
                if !config.peer_auth.signature {
                    return Err(Error::Auth("signature not allowed"));
                }
                let cert = auth::validate_peer_cert(&config, certs, &peer_id)?;
                auth::verify_signature(&cert, a.method, a.data, &input)?;
                ctx(&mut self.auth).peer_cert = Some(cert);
                Ok(())
            }
        }
    }

    /// RFC 7296 §2.21.2: the initiator tells the responder its AUTH failed, then closes.
    fn auth_failed_notify(&mut self, now: Instant) {
        let _ = self.send_request(
            now,
            ExchangeType::Informational,
            &[notify_payload(NotifyType::AuthenticationFailed, &[])],
            ReqKind::Dpd,
        );
        self.outstanding = None;
        self.close(CloseReason::AuthenticationFailed { by_peer: false });
    }

    fn complete_initiator(&mut self, now: Instant, p: &Parsed<'_>) {
        let config = self.config.clone();
        if let Some(cp) = &p.cp {
            if cp.cfg_type == CfgType::Reply {
                self.addresses = read_addresses(cp).1;
            }
        }
        let mut child = None;
        let mut child_error = None;
        if config.child_in_auth {
            let child_spi = ctx(&mut self.auth).child_spi;
            match self.initiator_child(
                p,
                None,
                None,
                child_spi,
                &config.local_ts,
                &config.remote_ts,
            ) {
                Ok(c) => child = Some(c),
                Err(t) => {
                    child_error = Some(t);
                    if let Some(a) = &config.spi_allocator {
                        a.release(ctx(&mut self.auth).child_spi);
                    }
                }
            }
        }
        if let Some(c) = &child {
            self.add_child(now, c.clone());
        }
        self.established(now, child, child_error);
    }

    /// Checks a Child SA response (IKE_AUTH or CREATE_CHILD_SA) and derives its keys.
    #[allow(clippy::too_many_arguments)]
    fn initiator_child(
        &mut self,
        p: &Parsed<'_>,
        nonces: Option<(&[u8], &[u8])>,
        dh: Option<&DhKey>,
        our_spi: u32,
        local_ts: &[TsRange],
        remote_ts: &[TsRange],
    ) -> Result<ChildSaInfo, NotifyType> {
        let config = self.config.clone();
        if let Some(t) = p.error() {
            return Err(t);
        }
        let sa = p.sa.as_ref().ok_or(NotifyType::NoProposalChosen)?;
        let pfs = dh.map(|d| d.group());
        let (spi, algs) = proposal::accept_esp_reply(&config.esp_proposals, sa, pfs)
            .ok_or(NotifyType::NoProposalChosen)?;
        let peer_spi = u32::from_be_bytes(
            <[u8; 4]>::try_from(spi.as_slice()).map_err(|_| NotifyType::InvalidSyntax)?,
        );
        let tsi = ts_ranges(&p.tsi).ok_or(NotifyType::TsUnacceptable)?;
        let tsr = ts_ranges(&p.tsr).ok_or(NotifyType::TsUnacceptable)?;
        // The responder may narrow; our side may also become the assigned address.
        let mut allowed_i = local_ts.to_vec();
        allowed_i.extend(self.addresses.selectors());
        if tsi.is_empty()
            || tsr.is_empty()
            || !all_within(&tsi, &allowed_i)
            || !all_within(&tsr, remote_ts)
        {
            return Err(NotifyType::TsUnacceptable);
        }
        let transport = p.has(NotifyType::UseTransportMode);
        if (config.mode == Mode::Transport) != transport {
            return Err(NotifyType::NoProposalChosen);
        }
        let shared = match (dh, &p.ke) {
            (Some(d), Some(ke)) if ke.dh_group == d.group().id() => {
                Some(d.agree(ke.data).map_err(|_| NotifyType::InvalidSyntax)?)
            }
            (Some(_), _) => return Err(NotifyType::InvalidKePayload),
            _ => None,
        };
        let keys = self.keys.as_ref().ok_or(NotifyType::InvalidSyntax)?;
        let init = self.init.as_ref();
        let (ni, nr) = match nonces {
            Some(n) => n,
            None => {
                let init = init.ok_or(NotifyType::InvalidSyntax)?;
                (init.ni.as_slice(), init.nr.as_slice())
            }
        };
        let k = ChildSaKeys::derive(
            keys.prf(),
            keys.sk_d(),
            shared.as_ref().map(|s| s.as_bytes()),
            ni,
            nr,
            esp_key_lengths(&algs),
        )
        .map_err(|_| NotifyType::InvalidSyntax)?;
        Ok(ChildSaInfo {
            inbound_spi: our_spi,
            outbound_spi: peer_spi,
            algs,
            mode: config.mode,
            inbound: EspKeys {
                encr: k.encr_r,
                integ: k.integ_r,
            },
            outbound: EspKeys {
                encr: k.encr_i,
                integ: k.integ_i,
            },
            local_ts: tsi,
            remote_ts: tsr,
            local: self.local,
            remote: self.remote,
            udp_encap: self.natt,
        })
    }

    fn add_child(&mut self, now: Instant, mut info: ChildSaInfo) {
        // The SA's record of the Child SA serves rekeying, deleting and the selectors; its
        // keys went to the application with the event (the data path keeps them).
        if !self.config.keep_child_keys {
            info.inbound = EspKeys::default();
            info.outbound = EspKeys::default();
        }
        let lt = self.config.lifetimes.child;
        let jitter = self.jitter(lt.jitter);
        let rekey_at = lt.rekey.map(|r| now + r.saturating_sub(jitter));
        let hard_at = lt.hard.map(|h| now + h);
        // Most SAs have one Child SA: room for one (a first push makes room for four).
        if self.children.capacity() == 0 {
            self.children.reserve_exact(1);
        }
        self.children.push(Child {
            info,
            rekey_at,
            hard_at,
            rekeyed: false,
            busy: false,
        });
    }

    fn jitter(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            return max;
        }
        let x = self.rng.next_u64() % (max.as_millis().max(1) as u64);
        Duration::from_millis(x)
    }

    fn established(
        &mut self,
        now: Instant,
        child: Option<ChildSaInfo>,
        child_error: Option<NotifyType>,
    ) {
        self.state = State::Established;
        ctx(&mut self.auth).step = None;
        self.last_rx = now;
        let lt = self.config.lifetimes.ike;
        let jitter = self.jitter(lt.jitter);
        self.ike_rekey_at = lt.rekey.map(|r| now + r.saturating_sub(jitter));
        self.ike_hard_at = lt.hard.map(|h| now + h);
        let keys = self.keys.as_ref();
        let e = Established {
            role: self.role,
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            algs: keys.map(|k| k.algs).unwrap_or(IkeAlgs {
                encr: mobstrap_crypto::transform::Encr::AesGcm16_128,
                integ: None,
                prf: mobstrap_crypto::ikev2::Prf::HmacSha256,
                dh: Group::Curve25519,
            }),
            local_id: self.local_id().clone(),
            peer_id: self
                .peer_id
                .clone()
                .unwrap_or_else(|| Identity::new(mobstrap_wire::ikev2::IdType::Null, Vec::new())),
            eap_identity: ctx(&mut self.auth).eap_identity.clone(),
            msk: ctx(&mut self.auth).msk.clone().filter(|m| !m.is_empty()),
            emsk: ctx(&mut self.auth).emsk.clone(),
            addresses: self.addresses.clone(),
            child,
            child_error,
            local: self.local,
            remote: self.remote,
            nat_local: self.nat_local,
            nat_remote: self.nat_remote,
        };
        // The IKE_SA_INIT messages and the MSK are no longer needed, nor kept cipher
        // contexts (the SA's later messages are few).
        if let Some(k) = self.keys.as_mut() {
            k.release_ciphers();
        }
        self.init = None;
        // The authentication context (EAP peer, MSK, requested IDr, certificate) too.
        self.auth = None;
        self.events.push_back(Event::Established(Box::new(e)));
    }
}

/// A Child SA a responder accepted, with what its response needs.
struct Accepted {
    info: ChildSaInfo,
    number: u8,
}

impl IkeSa {
    // ----- requests from the peer -----

    fn handle_request(
        &mut self,
        now: Instant,
        exchange: ExchangeType,
        msg_id: u32,
        p: Parsed<'_>,
    ) -> Result<(), Error> {
        match (&self.state, exchange) {
            (State::InitDone | State::Responding, ExchangeType::IkeAuth) => {
                self.responder_auth(now, msg_id, p)
            }
            (State::Established, ExchangeType::CreateChildSa) => {
                self.handle_create_child(now, msg_id, p)
            }
            (State::Established, ExchangeType::Informational) => {
                self.handle_informational(now, msg_id, p)
            }
            (State::InitDone | State::Responding, ExchangeType::Informational) => {
                // E.g. AUTHENTICATION_FAILED from an initiator that rejected our AUTH.
                self.send_response(msg_id, exchange, &[])?;
                if p.has(NotifyType::AuthenticationFailed) {
                    self.close(CloseReason::AuthenticationFailed { by_peer: true });
                }
                Ok(())
            }
            (State::Closing, _) => Ok(()),
            _ => self.send_response(
                msg_id,
                exchange,
                &[notify_payload(NotifyType::InvalidSyntax, &[])],
            ),
        }
    }

    fn reject_auth(&mut self, now: Instant, msg_id: u32) -> Result<(), Error> {
        self.send_response(
            msg_id,
            ExchangeType::IkeAuth,
            &[notify_payload(NotifyType::AuthenticationFailed, &[])],
        )?;
        self.fail(
            now,
            CloseReason::AuthenticationFailed { by_peer: false },
            true,
        );
        Ok(())
    }

    fn responder_auth(&mut self, now: Instant, msg_id: u32, p: Parsed<'_>) -> Result<(), Error> {
        let config = self.config.clone();
        match self.step() {
            None => {
                let Some(idi) = p.idi else {
                    self.send_response(
                        msg_id,
                        ExchangeType::IkeAuth,
                        &[notify_payload(NotifyType::InvalidSyntax, &[])],
                    )?;
                    self.fail(now, CloseReason::PeerError(NotifyType::InvalidSyntax), true);
                    return Ok(());
                };
                let idi = Identity::from_payload(&idi);
                if config.remote_id.as_ref().is_some_and(|r| *r != idi) {
                    return self.reject_auth(now, msg_id);
                }
                self.peer_id = Some(idi.clone());
                ctx(&mut self.auth).requested_id = p.idr.as_ref().map(Identity::from_payload);
                self.state = State::Responding;
                let mut sa_bytes = Vec::new();
                if let Some(sa) = &p.sa {
                    sa.emit(&mut sa_bytes)?;
                }
                ctx(&mut self.auth).request = Some(ChildRequest {
                    sa: sa_bytes,
                    tsi: ts_ranges(&p.tsi).unwrap_or_default(),
                    tsr: ts_ranges(&p.tsr).unwrap_or_default(),
                    transport: p.has(NotifyType::UseTransportMode),
                    cfg: p
                        .cp
                        .as_ref()
                        .filter(|c| c.cfg_type == CfgType::Request)
                        .map(read_addresses),
                });
                if let Some(a) = &p.auth {
                    if self.verify_peer_auth(a, &p.certs, None).is_err() {
                        return self.reject_auth(now, msg_id);
                    }
                    return self.finish_or_defer(now, msg_id);
                }
                if !config.peer_auth.eap {
                    return self.reject_auth(now, msg_id);
                }
                ctx(&mut self.auth).eap_only =
                    config.eap_only && p.has(NotifyType::EapOnlyAuthentication);
                let can_sign = match config.local_auth {
                    LocalAuth::Psk => config.psk_for(&config.local_id).is_some(),
                    LocalAuth::Signature => config.signer.is_some(),
                    LocalAuth::Eap => false,
                };
                if !ctx(&mut self.auth).eap_only && !can_sign {
                    return self.reject_auth(now, msg_id);
                }
                let packet = match config.eap_start {
                    EapStart::IdentityFromIdi => {
                        ctx(&mut self.auth).eap_identity = Some(idi.data.clone());
                        identity_response(0, &idi.data)
                    }
                    EapStart::Empty => Vec::new(),
                };
                self.wait_authenticator(now, msg_id, true, idi, packet);
                Ok(())
            }
            Some(RespStep::WaitEapResponse) => {
                let Some(eap) = p.eap else {
                    return self.reject_auth(now, msg_id);
                };
                // An EAP-Response/Identity from the peer names its EAP identity.
                if eap.len() > 5 && eap[0] == 2 && eap[4] == 1 {
                    ctx(&mut self.auth).eap_identity = Some(eap[5..].to_vec());
                }
                let idi = self
                    .peer_id
                    .clone()
                    .unwrap_or_else(|| config.local_id.clone());
                self.wait_authenticator(now, msg_id, false, idi, eap.to_vec());
                Ok(())
            }
            Some(RespStep::WaitFinalAuth) => {
                let Some(a) = &p.auth else {
                    return self.reject_auth(now, msg_id);
                };
                let msk = ctx(&mut self.auth)
                    .msk
                    .as_ref()
                    .map(|m| m.as_bytes().to_vec());
                let key = {
                    let sk_pi = self.keys.as_ref().map(|k| k.sk_pi()).unwrap_or(&[]);
                    eap_shared_key(msk.as_deref(), sk_pi).to_vec()
                };
                if self.verify_peer_auth(a, &[], Some(&key)).is_err() {
                    return self.reject_auth(now, msg_id);
                }
                self.finish_or_defer(now, msg_id)
            }
            Some(_) => Ok(()),
        }
    }

    fn wait_authenticator(
        &mut self,
        now: Instant,
        msg_id: u32,
        first: bool,
        identity: Identity,
        packet: Vec<u8>,
    ) {
        ctx(&mut self.auth).step = Some(RespStep::WaitAuthenticator { msg_id, first });
        self.deferred = Some(msg_id);
        self.app_deadline = Some(now + self.config.timers.application_timeout);
        let requested = ctx(&mut self.auth).requested_id.clone();
        let cfg = ctx(&mut self.auth)
            .request
            .as_ref()
            .and_then(|r| r.cfg.as_ref())
            .map(|(t, _)| t.clone())
            .unwrap_or_default();
        self.events.push_back(Event::EapRelay {
            identity,
            requested,
            cfg,
            packet,
        });
    }

    fn respond_eap(
        &mut self,
        msg_id: u32,
        first: bool,
        packet: &[u8],
        now: Instant,
    ) -> Result<(), Error> {
        let _ = now;
        let config = self.config.clone();
        if !first {
            return self.send_response(
                msg_id,
                ExchangeType::IkeAuth,
                &[Payload::new(PayloadBody::Eap(packet))],
            );
        }
        let auth = if ctx(&mut self.auth).eap_only {
            None
        } else {
            Some(self.our_auth(None)?)
        };
        let chain: Vec<Vec<u8>> = match (&config.signer, config.local_auth, &auth) {
            (Some(s), LocalAuth::Signature, Some(_)) => s.chain.clone(),
            _ => Vec::new(),
        };
        let mut pl = vec![Payload::new(PayloadBody::IdR(config.local_id.to_payload()))];
        for c in &chain {
            pl.push(Payload::new(PayloadBody::Cert(Cert::new(
                CertEncoding::X509Signature,
                c,
            ))));
        }
        if let Some((m, d)) = &auth {
            pl.push(Payload::new(PayloadBody::Auth(Auth::new(*m, d))));
        }
        if ctx(&mut self.auth).eap_only {
            pl.push(notify_payload(NotifyType::EapOnlyAuthentication, &[]));
        }
        pl.push(Payload::new(PayloadBody::Eap(packet)));
        self.send_response(msg_id, ExchangeType::IkeAuth, &pl)
    }

    fn finish_or_defer(&mut self, now: Instant, msg_id: u32) -> Result<(), Error> {
        let config = self.config.clone();
        let cfg = ctx(&mut self.auth)
            .request
            .as_ref()
            .and_then(|r| r.cfg.clone());
        if let (Some((types, hints)), CfgPolicy::Defer) = (cfg, config.cfg_policy) {
            ctx(&mut self.auth).step = Some(RespStep::WaitAddresses { msg_id });
            self.deferred = Some(msg_id);
            self.app_deadline = Some(now + config.timers.application_timeout);
            let peer_id = self
                .peer_id
                .clone()
                .unwrap_or_else(|| config.local_id.clone());
            self.events
                .push_back(Event::NeedAddresses(Box::new(CfgRequest {
                    attributes: types,
                    hints,
                    peer_id,
                    eap_identity: ctx(&mut self.auth).eap_identity.clone(),
                })));
            return Ok(());
        }
        self.finish_responder_auth(msg_id, now, false)
    }

    /// The last IKE_AUTH response: our AUTH, CP, and the Child SA.
    fn finish_responder_auth(
        &mut self,
        msg_id: u32,
        now: Instant,
        addr_failed: bool,
    ) -> Result<(), Error> {
        let config = self.config.clone();
        let eap = ctx(&mut self.auth).msk.is_some();
        let (method, auth_data) = if eap {
            let msk = ctx(&mut self.auth)
                .msk
                .as_ref()
                .map(|m| m.as_bytes().to_vec());
            let sk_pr = self
                .keys
                .as_ref()
                .map(|k| k.sk_pr().to_vec())
                .unwrap_or_default();
            let key = eap_shared_key(msk.as_deref(), &sk_pr).to_vec();
            self.our_auth(Some(&key))?
        } else {
            self.our_auth(None)?
        };
        let req = ctx(&mut self.auth).request.take();
        let cfg_req = req.as_ref().and_then(|r| r.cfg.clone());
        let mut child = None;
        let mut child_error = None;
        let mut accepted: Option<Accepted> = None;
        if let Some(r) = &req {
            if !r.sa.is_empty() {
                let no_addresses = cfg_req.is_some()
                    && config.cfg_policy == CfgPolicy::Defer
                    && self.addresses.is_empty();
                if addr_failed || no_addresses {
                    child_error = Some(NotifyType::InternalAddressFailure);
                } else {
                    match Sa::parse(&r.sa) {
                        Ok(sa) => match self.responder_child(
                            &sa,
                            &r.tsi,
                            &r.tsr,
                            r.transport,
                            None,
                            None,
                            None,
                        ) {
                            Ok(a) => accepted = Some(a),
                            Err(t) => child_error = Some(t),
                        },
                        Err(_) => child_error = Some(NotifyType::NoProposalChosen),
                    }
                }
            }
        }
        let chain: Vec<Vec<u8>> = match (&config.signer, config.local_auth, eap) {
            (Some(s), LocalAuth::Signature, false) => s.chain.clone(),
            _ => Vec::new(),
        };
        let cfg_values = match (&cfg_req, addr_failed) {
            (Some((types, _)), false) if !self.addresses.is_empty() => {
                reply_attributes(types, &self.addresses)
            }
            _ => Vec::new(),
        };
        let spi_b = accepted
            .as_ref()
            .map(|a| a.info.inbound_spi.to_be_bytes())
            .unwrap_or_default();
        let mut pl: Vec<Payload<'_>> = Vec::with_capacity(10);
        if !eap {
            pl.push(Payload::new(PayloadBody::IdR(config.local_id.to_payload())));
            for c in &chain {
                pl.push(Payload::new(PayloadBody::Cert(Cert::new(
                    CertEncoding::X509Signature,
                    c,
                ))));
            }
        }
        pl.push(Payload::new(PayloadBody::Auth(Auth::new(
            method, &auth_data,
        ))));
        if !cfg_values.is_empty() {
            let attrs = cfg_values
                .iter()
                .map(|(t, v)| CfgAttribute {
                    raw_type: t.value() & 0x7fff,
                    value: v,
                })
                .collect();
            pl.push(Payload::new(PayloadBody::Cp(Cp::new(
                CfgType::Reply,
                attrs,
            ))));
        }
        if let Some(t) = child_error {
            pl.push(notify_payload(t, &[]));
        }
        if let Some(a) = &accepted {
            if a.info.mode == Mode::Transport {
                pl.push(notify_payload(NotifyType::UseTransportMode, &[]));
            }
            pl.push(Payload::new(PayloadBody::Sa(proposal::esp_selected(
                a.number,
                &a.info.algs,
                &spi_b,
            ))));
            pl.push(Payload::new(PayloadBody::TsI(ts_payload(
                &a.info.remote_ts,
            ))));
            pl.push(Payload::new(PayloadBody::TsR(ts_payload(&a.info.local_ts))));
        }
        self.send_response(msg_id, ExchangeType::IkeAuth, &pl)?;
        if let Some(a) = accepted {
            child = Some(a.info.clone());
            self.add_child(now, a.info);
        }
        if addr_failed {
            self.addresses = Addresses::default();
        }
        self.established(now, child, child_error);
        Ok(())
    }

    /// Accepts (or refuses with a notify) a Child SA proposed to us. `nonces`: (Ni, Nr) of a
    /// CREATE_CHILD_SA (IKE_AUTH uses the IKE_SA_INIT nonces); `shared`: the PFS secret.
    #[allow(clippy::too_many_arguments)]
    fn responder_child(
        &mut self,
        sa: &Sa<'_>,
        tsi: &[TsRange],
        tsr: &[TsRange],
        transport: bool,
        pfs: Option<Group>,
        nonces: Option<(&[u8], &[u8])>,
        shared: Option<&[u8]>,
    ) -> Result<Accepted, NotifyType> {
        let config = self.config.clone();
        let (number, spi, algs) = proposal::select_esp(&config.esp_proposals, sa, pfs)
            .ok_or(NotifyType::NoProposalChosen)?;
        let peer_spi =
            u32::from_be_bytes(<[u8; 4]>::try_from(spi).map_err(|_| NotifyType::NoProposalChosen)?);
        let remote_policy = if self.addresses.is_empty() {
            config.remote_ts.clone()
        } else {
            self.addresses.selectors()
        };
        let ts_i = narrow(tsi, &remote_policy);
        let ts_r = narrow(tsr, &config.local_ts);
        if ts_i.is_empty() || ts_r.is_empty() {
            return Err(NotifyType::TsUnacceptable);
        }
        let keys = self.keys.as_ref().ok_or(NotifyType::InvalidSyntax)?;
        let (ni, nr) = match nonces {
            Some(n) => n,
            None => {
                let init = self.init.as_ref().ok_or(NotifyType::InvalidSyntax)?;
                (init.ni.as_slice(), init.nr.as_slice())
            }
        };
        let k = ChildSaKeys::derive(
            keys.prf(),
            keys.sk_d(),
            shared,
            ni,
            nr,
            esp_key_lengths(&algs),
        )
        .map_err(|_| NotifyType::InvalidSyntax)?;
        let our_spi = self.allocate_child_spi();
        Ok(Accepted {
            number,
            info: ChildSaInfo {
                inbound_spi: our_spi,
                outbound_spi: peer_spi,
                algs,
                mode: if transport && config.mode == Mode::Transport {
                    Mode::Transport
                } else {
                    Mode::Tunnel
                },
                inbound: EspKeys {
                    encr: k.encr_i,
                    integ: k.integ_i,
                },
                outbound: EspKeys {
                    encr: k.encr_r,
                    integ: k.integ_r,
                },
                local_ts: ts_r,
                remote_ts: ts_i,
                local: self.local,
                remote: self.remote,
                udp_encap: self.natt,
            },
        })
    }

    fn handle_create_child(
        &mut self,
        now: Instant,
        msg_id: u32,
        p: Parsed<'_>,
    ) -> Result<(), Error> {
        let config = self.config.clone();
        let x = ExchangeType::CreateChildSa;
        let err = |s: &mut Self, t: NotifyType, d: &[u8]| {
            s.send_response(msg_id, x, &[notify_payload(t, d)])
        };
        let (Some(sa), Some(ni)) = (&p.sa, p.nonce) else {
            return err(self, NotifyType::InvalidSyntax, &[]);
        };
        if !(16..=256).contains(&ni.len()) {
            return err(self, NotifyType::InvalidSyntax, &[]);
        }
        if sa
            .proposals
            .first()
            .is_some_and(|q| q.protocol_id == ProtocolId::Ike)
        {
            return self.handle_rekey_ike(now, msg_id, &p, sa, ni);
        }
        let rekey_of = match p.notify(NotifyType::RekeySa) {
            Some(n) => {
                let Ok(spi) = <[u8; 4]>::try_from(n.spi) else {
                    return err(self, NotifyType::InvalidSyntax, &[]);
                };
                let spi = u32::from_be_bytes(spi);
                match self
                    .children
                    .iter()
                    .find(|c| c.info.outbound_spi == spi && !c.rekeyed)
                {
                    Some(c) => {
                        // We are rekeying or deleting it ourselves: let the peer retry later
                        // (RFC 7296 §2.25).
                        if c.busy {
                            return err(self, NotifyType::TemporaryFailure, &[]);
                        }
                        Some(c.info.inbound_spi)
                    }
                    None => {
                        let mut d = Vec::new();
                        d.extend_from_slice(&spi.to_be_bytes());
                        let n = Notify {
                            protocol_id: ProtocolId::Esp,
                            notify_type: NotifyType::ChildSaNotFound,
                            spi: &d,
                            data: &[],
                        };
                        return self.send_response(
                            msg_id,
                            x,
                            &[Payload::new(PayloadBody::Notify(n))],
                        );
                    }
                }
            }
            None => None,
        };
        let (Some(tsi), Some(tsr)) = (ts_ranges(&p.tsi), ts_ranges(&p.tsr)) else {
            return err(self, NotifyType::InvalidSyntax, &[]);
        };
        let pfs = p.ke.as_ref().map(|k| k.dh_group);
        let pfs_group = match pfs {
            Some(g) => match Group::from_id(g) {
                Some(g) if proposal::select_esp(&config.esp_proposals, sa, Some(g)).is_some() => {
                    Some(g)
                }
                _ => {
                    return match proposal::esp_pfs_group(&config.esp_proposals, sa) {
                        Some(want) => {
                            err(self, NotifyType::InvalidKePayload, &want.id().to_be_bytes())
                        }
                        None => err(self, NotifyType::NoProposalChosen, &[]),
                    };
                }
            },
            None => None,
        };
        let nr = random_nonce(&mut *self.rng);
        let (dh, shared) = match (pfs_group, &p.ke) {
            (Some(g), Some(ke)) => {
                let dh = new_dh(&mut *self.rng, g)?;
                match dh.agree(ke.data) {
                    Ok(s) => (Some(dh), Some(s)),
                    Err(_) => return err(self, NotifyType::InvalidSyntax, &[]),
                }
            }
            _ => (None, None),
        };
        let transport = p.has(NotifyType::UseTransportMode);
        let a = match self.responder_child(
            sa,
            &tsi,
            &tsr,
            transport,
            pfs_group,
            Some((ni, &nr)),
            shared.as_ref().map(|s| s.as_bytes()),
        ) {
            Ok(a) => a,
            Err(t) => return err(self, t, &[]),
        };
        let spi_b = a.info.inbound_spi.to_be_bytes();
        let mut pl = Vec::with_capacity(7);
        if a.info.mode == Mode::Transport {
            pl.push(notify_payload(NotifyType::UseTransportMode, &[]));
        }
        pl.push(Payload::new(PayloadBody::Sa(proposal::esp_selected(
            a.number,
            &a.info.algs,
            &spi_b,
        ))));
        pl.push(Payload::new(PayloadBody::Nonce(&nr)));
        if let Some(d) = &dh {
            pl.push(Payload::new(PayloadBody::Ke(Ke::new(
                d.group().id(),
                d.public_key(),
            ))));
        }
        pl.push(Payload::new(PayloadBody::TsI(ts_payload(
            &a.info.remote_ts,
        ))));
        pl.push(Payload::new(PayloadBody::TsR(ts_payload(&a.info.local_ts))));
        self.send_response(msg_id, x, &pl)?;
        let info = a.info;
        self.add_child(now, info.clone());
        match rekey_of {
            Some(old) => {
                if let Some(c) = self.children.iter_mut().find(|c| c.info.inbound_spi == old) {
                    c.rekeyed = true;
                    c.rekey_at = None;
                }
                self.events.push_back(Event::ChildRekeyed {
                    old_inbound_spi: old,
                    new: Box::new(info),
                });
            }
            None => self.events.push_back(Event::ChildCreated(Box::new(info))),
        }
        Ok(())
    }

    fn handle_rekey_ike(
        &mut self,
        now: Instant,
        msg_id: u32,
        p: &Parsed<'_>,
        sa: &Sa<'_>,
        ni: &[u8],
    ) -> Result<(), Error> {
        let config = self.config.clone();
        let x = ExchangeType::CreateChildSa;
        let err = |s: &mut Self, t: NotifyType, d: &[u8]| {
            s.send_response(msg_id, x, &[notify_payload(t, d)])
        };
        if self.outstanding.is_some() || self.old.is_some() {
            return err(self, NotifyType::TemporaryFailure, &[]);
        }
        let Some(ke) = &p.ke else {
            return err(self, NotifyType::InvalidSyntax, &[]);
        };
        let Some((number, spi, algs)) =
            proposal::select_ike(&config.ike_proposals, sa, Group::from_id(ke.dh_group))
        else {
            return err(self, NotifyType::NoProposalChosen, &[]);
        };
        if ke.dh_group != algs.dh.id() {
            return err(
                self,
                NotifyType::InvalidKePayload,
                &algs.dh.id().to_be_bytes(),
            );
        }
        let Ok(new_spi_i) = <[u8; 8]>::try_from(spi) else {
            return err(self, NotifyType::InvalidSyntax, &[]);
        };
        let mut new_spi_r = [0u8; 8];
        while new_spi_r == [0; 8] {
            self.rng.fill_bytes(&mut new_spi_r);
        }
        let dh = new_dh(&mut *self.rng, algs.dh)?;
        let Ok(shared) = dh.agree(ke.data) else {
            return err(self, NotifyType::InvalidSyntax, &[]);
        };
        let nr = random_nonce(&mut *self.rng);
        let old_keys = self.keys.as_ref().ok_or(Error::State("no keys"))?;
        let seed = rekey_skeyseed(old_keys.prf(), old_keys.sk_d(), shared.as_bytes(), ni, &nr);
        let new_keys = IkeKeys::derive(
            algs,
            seed.as_bytes(),
            ni,
            &nr,
            &new_spi_i,
            &new_spi_r,
            false,
        )?;
        let pl = [
            Payload::new(PayloadBody::Sa(proposal::ike_selected(
                number, &algs, &new_spi_r,
            ))),
            Payload::new(PayloadBody::Nonce(&nr)),
            Payload::new(PayloadBody::Ke(Ke::new(algs.dh.id(), dh.public_key()))),
        ];
        self.send_response(msg_id, x, &pl)?;
        self.switch_ike(now, new_spi_i, new_spi_r, Role::Responder, new_keys, None);
        Ok(())
    }

    /// Moves to the new IKE SA of a rekey; the old one is kept for its DELETE.
    fn switch_ike(
        &mut self,
        now: Instant,
        spi_i: [u8; 8],
        spi_r: [u8; 8],
        role: Role,
        keys: IkeKeys,
        delete: Option<()>,
    ) {
        let old_local = self.local_spi();
        let Some(old_keys) = self.keys.replace(keys) else {
            return;
        };
        if let Some(k) = self.keys.as_mut() {
            k.release_ciphers();
        }
        let mut old = OldSa {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            role: self.role,
            keys: old_keys,
            next_id: self.next_id,
            peer_next_id: self.peer_next_id,
            pending: None,
            expires: now
                + self
                    .config
                    .timers
                    .half_open_timeout
                    .max(Duration::from_secs(60)),
        };
        if delete.is_some() {
            let mut f = 0;
            if old.role == Role::Initiator {
                f |= flags::INITIATOR;
            }
            let h = Header::new(
                old.spi_i,
                old.spi_r,
                ExchangeType::Informational,
                f,
                old.next_id,
            );
            let mut plain = Vec::new();
            let d = [Payload::new(PayloadBody::Delete(Delete::ike()))];
            if let Ok(first) = emit_inner(&d, &mut plain) {
                let mut out = Vec::new();
                if self.natt {
                    out.extend_from_slice(&NON_ESP_MARKER);
                }
                if old
                    .keys
                    .seal(
                        &h,
                        EncryptedKind::Sk,
                        first,
                        &plain,
                        &mut *self.rng,
                        &mut out,
                    )
                    .is_ok()
                {
                    self.transmits.push_back(Transmit {
                        local: self.local,
                        remote: self.remote,
                        data: out.clone(),
                    });
                    old.pending = Some((
                        old.next_id,
                        out,
                        0,
                        now + self.config.timers.retransmit_timeout,
                    ));
                    old.next_id = old.next_id.wrapping_add(1);
                }
            }
        }
        self.old = Some(Box::new(old));
        self.spi_i = spi_i;
        self.spi_r = spi_r;
        self.role = role;
        self.next_id = 0;
        self.peer_next_id = 0;
        self.last_response = None;
        self.reassembly = None;
        let lt = self.config.lifetimes.ike;
        let jitter = self.jitter(lt.jitter);
        self.ike_rekey_at = lt.rekey.map(|r| now + r.saturating_sub(jitter));
        self.ike_hard_at = lt.hard.map(|h| now + h);
        self.events.push_back(Event::IkeRekeyed {
            old_local_spi: old_local,
            new_local_spi: self.local_spi(),
        });
    }

    fn handle_informational(
        &mut self,
        now: Instant,
        msg_id: u32,
        p: Parsed<'_>,
    ) -> Result<(), Error> {
        let x = ExchangeType::Informational;
        if p.deletes.iter().any(|d| d.protocol_id == ProtocolId::Ike) {
            self.send_response(msg_id, x, &[])?;
            self.close(CloseReason::DeletedByPeer);
            return Ok(());
        }
        let mut ours: Vec<u8> = Vec::new();
        for d in p
            .deletes
            .iter()
            .filter(|d| d.protocol_id == ProtocolId::Esp && d.spi_size == 4)
        {
            for spi in d.iter() {
                let Ok(b) = <[u8; 4]>::try_from(spi) else {
                    continue;
                };
                let spi = u32::from_be_bytes(b);
                if let Some(i) = self
                    .children
                    .iter()
                    .position(|c| c.info.outbound_spi == spi)
                {
                    let c = self.children.remove(i);
                    ours.extend_from_slice(&c.info.inbound_spi.to_be_bytes());
                    self.child_gone(&c.info);
                }
            }
        }
        if !ours.is_empty() {
            let d = Delete::child(ProtocolId::Esp, &ours)?;
            self.send_response(msg_id, x, &[Payload::new(PayloadBody::Delete(d))])?;
        } else {
            self.send_response(msg_id, x, &[])?;
        }
        if p.has(NotifyType::AuthenticationFailed) {
            self.close(CloseReason::AuthenticationFailed { by_peer: true });
        }
        let _ = now;
        Ok(())
    }

    fn child_gone(&mut self, info: &ChildSaInfo) {
        if let Some(a) = &self.config.spi_allocator {
            a.release(info.inbound_spi);
        }
        self.events.push_back(Event::ChildDeleted {
            inbound_spi: info.inbound_spi,
            outbound_spi: info.outbound_spi,
        });
        // Any queued operation on it is moot.
        self.ops.retain(
            |o| !matches!(o, Op::RekeyChild(s) | Op::DeleteChild(s) if *s == info.inbound_spi),
        );
    }
}

impl IkeSa {
    // ----- our requests and their responses -----

    fn start_delete_children(&mut self, now: Instant, spis: Vec<u32>) -> Result<(), Error> {
        let spis: Vec<u32> = spis
            .into_iter()
            .filter(|s| self.children.iter().any(|c| c.info.inbound_spi == *s))
            .collect();
        if spis.is_empty() {
            return Ok(());
        }
        let bytes: Vec<u8> = spis.iter().flat_map(|s| s.to_be_bytes()).collect();
        let d = Delete::child(ProtocolId::Esp, &bytes)?;
        self.send_request(
            now,
            ExchangeType::Informational,
            &[Payload::new(PayloadBody::Delete(d))],
            ReqKind::DeleteChildren(spis),
        )
    }

    fn start_rekey_child(&mut self, now: Instant, spi: u32) -> Result<(), Error> {
        let Some(c) = self
            .children
            .iter()
            .find(|c| c.info.inbound_spi == spi && !c.rekeyed)
        else {
            return Ok(());
        };
        let (l, r) = (c.info.local_ts.clone(), c.info.remote_ts.clone());
        self.start_create_child(now, Some(spi), l, r)
    }

    fn start_create_child(
        &mut self,
        now: Instant,
        rekey_of: Option<u32>,
        local_ts: Vec<TsRange>,
        remote_ts: Vec<TsRange>,
    ) -> Result<(), Error> {
        let group = self
            .config
            .esp_proposals
            .iter()
            .find_map(|p| p.dh.first().copied());
        self.send_create_child(now, rekey_of, local_ts, remote_ts, group)
    }

    fn send_create_child(
        &mut self,
        now: Instant,
        rekey_of: Option<u32>,
        local_ts: Vec<TsRange>,
        remote_ts: Vec<TsRange>,
        group: Option<Group>,
    ) -> Result<(), Error> {
        let config = self.config.clone();
        let spi = self.allocate_child_spi();
        let spi_b = spi.to_be_bytes();
        let ni = random_nonce(&mut *self.rng);
        let dh = match group {
            Some(g) => Some(new_dh(&mut *self.rng, g)?),
            None => None,
        };
        let old_b = rekey_of.map(|s| s.to_be_bytes());
        let mut pl = Vec::with_capacity(8);
        if let Some(o) = &old_b {
            pl.push(Payload::new(PayloadBody::Notify(Notify {
                protocol_id: ProtocolId::Esp,
                notify_type: NotifyType::RekeySa,
                spi: o,
                data: &[],
            })));
        }
        if config.mode == Mode::Transport {
            pl.push(notify_payload(NotifyType::UseTransportMode, &[]));
        }
        pl.push(Payload::new(PayloadBody::Sa(proposal::esp_sa_payload(
            &config.esp_proposals,
            &spi_b,
            group,
        ))));
        pl.push(Payload::new(PayloadBody::Nonce(&ni)));
        if let Some(d) = &dh {
            pl.push(Payload::new(PayloadBody::Ke(Ke::new(
                d.group().id(),
                d.public_key(),
            ))));
        }
        pl.push(Payload::new(PayloadBody::TsI(ts_payload(&local_ts))));
        pl.push(Payload::new(PayloadBody::TsR(ts_payload(&remote_ts))));
        let kind = ReqKind::CreateChild {
            spi,
            ni: ni.clone(),
            dh: None,
            rekey_of,
            local_ts: local_ts.clone(),
            remote_ts: remote_ts.clone(),
        };
        self.send_request(now, ExchangeType::CreateChildSa, &pl, kind)?;
        if let Some(o) = self.outstanding.as_mut() {
            if let ReqKind::CreateChild { dh: slot, .. } = &mut o.kind {
                *slot = dh;
            }
        }
        Ok(())
    }

    fn start_rekey_ike(&mut self, now: Instant) -> Result<(), Error> {
        let group = self
            .keys
            .as_ref()
            .map(|k| k.algs.dh)
            .ok_or(Error::State("no keys"))?;
        self.send_rekey_ike(now, group)
    }

    fn send_rekey_ike(&mut self, now: Instant, group: Group) -> Result<(), Error> {
        if self.old.is_some() {
            // The previous rekey's old SA is still being deleted: later.
            self.ike_rekey_at = Some(now + Duration::from_secs(10));
            return Ok(());
        }
        let config = self.config.clone();
        let mut spi = [0u8; 8];
        while spi == [0; 8] {
            self.rng.fill_bytes(&mut spi);
        }
        let ni = random_nonce(&mut *self.rng);
        let dh = new_dh(&mut *self.rng, group)?;
        // Our proposals, with the group of our KE first in each (so it is acceptable).
        let mut props = config.ike_proposals.clone();
        for p in &mut props {
            if let Some(i) = p.dh.iter().position(|g| *g == group) {
                p.dh.remove(i);
                p.dh.insert(0, group);
            }
        }
        let public = dh.public_key().to_vec();
        let nonce = ni.clone();
        let pl = [
            Payload::new(PayloadBody::Sa(proposal::ike_sa_payload(&props, &spi))),
            Payload::new(PayloadBody::Nonce(&nonce)),
            Payload::new(PayloadBody::Ke(Ke::new(group.id(), &public))),
        ];
        self.send_request(
            now,
            ExchangeType::CreateChildSa,
            &pl,
            ReqKind::RekeyIke { spi, ni, dh },
        )
    }

    fn handle_response(&mut self, now: Instant, exchange: ExchangeType, p: Parsed<'_>) {
        let Some(o) = self.outstanding.take() else {
            return;
        };
        let _ = exchange;
        match o.kind {
            ReqKind::Init => {}
            ReqKind::Auth => self.handle_auth_response(now, p),
            ReqKind::Dpd => {}
            ReqKind::DeleteIke => self.close(CloseReason::DeletedLocally),
            ReqKind::DeleteChildren(spis) => {
                for s in spis {
                    if let Some(i) = self.children.iter().position(|c| c.info.inbound_spi == s) {
                        let c = self.children.remove(i);
                        self.child_gone(&c.info);
                    }
                }
            }
            ReqKind::CreateChild {
                spi,
                ni,
                dh,
                rekey_of,
                local_ts,
                remote_ts,
            } => self
                .handle_create_child_response(now, p, spi, ni, dh, rekey_of, local_ts, remote_ts),
            ReqKind::RekeyIke { spi, ni, dh } => {
                self.handle_rekey_ike_response(now, p, spi, ni, dh)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn handle_create_child_response(
        &mut self,
        now: Instant,
        p: Parsed<'_>,
        spi: u32,
        ni: Vec<u8>,
        dh: Option<DhKey>,
        rekey_of: Option<u32>,
        local_ts: Vec<TsRange>,
        remote_ts: Vec<TsRange>,
    ) {
        let release = |s: &Self| {
            if let Some(a) = &s.config.spi_allocator {
                a.release(spi);
            }
        };
        let unbusy = |s: &mut Self, retry_in: Option<Duration>| {
            if let Some(old) = rekey_of {
                if let Some(c) = s.children.iter_mut().find(|c| c.info.inbound_spi == old) {
                    c.busy = false;
                    if let Some(d) = retry_in {
                        c.rekey_at = Some(now + d);
                    }
                }
            }
        };
        if let Some(n) = p.notify(NotifyType::InvalidKePayload) {
            release(self);
            let g = n.accepted_dh_group().and_then(Group::from_id);
            let ours =
                g.is_some_and(|g| self.config.esp_proposals.iter().any(|p| p.dh.contains(&g)));
            if ours
                && g != dh.as_ref().map(|d| d.group())
                && self
                    .send_create_child(now, rekey_of, local_ts, remote_ts, g)
                    .is_ok()
            {
                return;
            }
            unbusy(self, None);
            return;
        }
        match p.error() {
            Some(NotifyType::TemporaryFailure) => {
                release(self);
                let d = Duration::from_secs(1) + self.jitter(Duration::from_secs(9));
                unbusy(self, Some(d));
                return;
            }
            Some(NotifyType::ChildSaNotFound) => {
                release(self);
                if let Some(old) = rekey_of {
                    if let Some(i) = self.children.iter().position(|c| c.info.inbound_spi == old) {
                        let c = self.children.remove(i);
                        self.child_gone(&c.info);
                    }
                }
                return;
            }
            Some(_) => {
                release(self);
                unbusy(self, None);
                return;
            }
            None => {}
        }
        let Some(nr) = p.nonce.filter(|n| (16..=256).contains(&n.len())) else {
            release(self);
            unbusy(self, None);
            return;
        };
        let info = match self.initiator_child(
            &p,
            Some((&ni, nr)),
            dh.as_ref(),
            spi,
            &local_ts,
            &remote_ts,
        ) {
            Ok(i) => i,
            Err(_) => {
                // Not acceptable: the peer installed it, so delete it again (§1.3).
                release(self);
                unbusy(self, None);
                return;
            }
        };
        self.add_child(now, info.clone());
        match rekey_of {
            Some(old) => {
                if let Some(c) = self.children.iter_mut().find(|c| c.info.inbound_spi == old) {
                    c.rekeyed = true;
                    c.rekey_at = None;
                }
                self.events.push_back(Event::ChildRekeyed {
                    old_inbound_spi: old,
                    new: Box::new(info),
                });
                // The initiator of the rekey deletes the old SA.
                self.ops.push_front(Op::DeleteChild(old));
            }
            None => self.events.push_back(Event::ChildCreated(Box::new(info))),
        }
    }

    fn handle_rekey_ike_response(
        &mut self,
        now: Instant,
        p: Parsed<'_>,
        spi: [u8; 8],
        ni: Vec<u8>,
        dh: DhKey,
    ) {
        let config = self.config.clone();
        if let Some(n) = p.notify(NotifyType::InvalidKePayload) {
            if let Some(g) = n.accepted_dh_group().and_then(Group::from_id) {
                if g != dh.group() && config.ike_proposals.iter().any(|p| p.dh.contains(&g)) {
                    let _ = self.send_rekey_ike(now, g);
                    return;
                }
            }
            self.ike_rekey_at = Some(now + Duration::from_secs(30));
            return;
        }
        if p.error().is_some() {
            // TEMPORARY_FAILURE (a collision) or a refusal: try again a little later; the
            // hard lifetime ends it if it never works.
            self.ike_rekey_at =
                Some(now + Duration::from_secs(1) + self.jitter(Duration::from_secs(9)));
            return;
        }
        let (Some(sa), Some(ke), Some(nr)) = (&p.sa, &p.ke, p.nonce) else {
            return;
        };
        let Some(algs) = proposal::accept_ike_reply(&config.ike_proposals, sa) else {
            return;
        };
        let Ok(spi_r) = <[u8; 8]>::try_from(sa.proposals[0].spi) else {
            return;
        };
        if algs.dh != dh.group() || ke.dh_group != dh.group().id() {
            return;
        }
        let Ok(shared) = dh.agree(ke.data) else {
            return;
        };
        let Some(old) = self.keys.as_ref() else {
            return;
        };
        let seed = rekey_skeyseed(old.prf(), old.sk_d(), shared.as_bytes(), &ni, nr);
        let Ok(keys) = IkeKeys::derive(algs, seed.as_bytes(), &ni, nr, &spi, &spi_r, true) else {
            return;
        };
        self.switch_ike(now, spi, spi_r, Role::Initiator, keys, Some(()));
    }
}
