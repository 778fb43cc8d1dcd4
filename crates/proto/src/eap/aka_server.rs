//! The EAP-AKA (RFC 4187) and EAP-AKA' (RFC 9048) server method.
//!
//! Full authentication, identity negotiation with AKA-Identity (AT_ANY_ID_REQ →
//! AT_FULLAUTH_ID_REQ → AT_PERMANENT_ID_REQ, at most three rounds, each narrower than the
//! last, with AT_CHECKCODE over them), pseudonyms and fast re-authentication identities
//! issued in AT_ENCR_DATA, the fast re-authentication exchange (AT_COUNTER, AT_NONCE_S,
//! AT_COUNTER_TOO_SMALL → full authentication), SQN re-synchronisation from AT_AUTS, result
//! indications, failure notifications, AT_BIDDING in EAP-AKA challenges and the EAP-AKA' KDF
//! (only KDF 1 exists; a peer asking for another one fails).
//!
//! The store is the node's: the method asks with [`Need`] and the node answers through
//! [`EapServer::provide_vector`], [`EapServer::provide_pseudonym`] and
//! [`EapServer::provide_reauth_context`]. What to remember is reported as
//! [`Event::StorePseudonym`], [`Event::StoreReauth`] and [`Event::ForgetReauth`].

use std::sync::Arc;

use mobstrap_crypto::eap_aka::{AkaKeys, Checkcode};
use mobstrap_crypto::eap_aka_prime::AkaPrimeKeys;
use mobstrap_crypto::milenage::AuthVector;
use mobstrap_wire::eap::aka::{
    Attribute, NotificationCode, Padded, Subtype, BIDDING_D, NOTIFICATION_P,
};
use mobstrap_wire::eap::Code;
use subtle::ConstantTimeEq;
use tracing::debug;

use super::aka::{
    decrypt_encr, mac_value, random_username, session_id, split_message, verify_mac, Attrs, Keys,
    MsgWriter,
};
use super::server::{EapServer, ServerCtx, ServerMethod, Step};
use super::{
    classify_identity, split_nai, AuthFailure, AuthSuccess, Event, FailureReason, IdentityKind,
    Method, Need, ReauthContext, Resync, VectorError,
};

/// Which identity an AKA-Identity round asks for (RFC 4187 §4.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IdRequest {
    /// AT_PERMANENT_ID_REQ.
    Permanent = 1,
    /// AT_FULLAUTH_ID_REQ (permanent identity or pseudonym).
    FullAuth = 2,
    /// AT_ANY_ID_REQ (also a fast re-authentication identity).
    Any = 3,
}

/// How the server treats the identity of EAP-Response/Identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityPolicy {
    /// Use it when it is a permanent identity, a known pseudonym or a known
    /// re-authentication identity of the selected method; otherwise ask with AKA-Identity.
    UseEapIdentity,
    /// Ignore it and always start with AKA-Identity carrying this request (RFC 4187 §4.1.4
    /// allows it because intermediaries may have changed the EAP identity; hostapd does
    /// this with AT_ANY_ID_REQ).
    AlwaysRequest(IdRequest),
}

/// Settings of the EAP-AKA / EAP-AKA' server.
#[derive(Debug, Clone)]
pub struct AkaServerConfig {
    /// EAP-AKA allowed.
    pub aka: bool,
    /// EAP-AKA' allowed.
    pub aka_prime: bool,
    /// AT_KDF_INPUT, the access network name (TS 24.302 §8.1.1.1, e.g. "WLAN").
    pub network_name: String,
    /// Send AT_RESULT_IND; when the peer answers with it too, success goes through
    /// AKA-Notification "Success" (32768) before EAP-Success.
    pub result_ind: bool,
    pub identity_policy: IdentityPolicy,
    /// Issue pseudonyms (AT_NEXT_PSEUDONYM).
    pub pseudonyms: bool,
    /// Issue pseudonyms that carry the IMSI encrypted and resolve them without asking the
    /// node ([`super::pseudonym`]); `None`: random pseudonyms the node stores and looks up
    /// ([`Event::StorePseudonym`], [`Need::Pseudonym`]). Either way a pseudonym the cipher
    /// does not open is looked up, so pseudonyms issued before a change stay usable.
    pub pseudonym_cipher: Option<Arc<dyn super::PseudonymCipher>>,
    /// Issue fast re-authentication identities (AT_NEXT_REAUTH_ID).
    pub fast_reauth: bool,
    /// Largest AT_COUNTER value; past it, full authentication again.
    pub max_fast_reauths: u16,
    /// AT_BIDDING with the D bit in EAP-AKA challenges when EAP-AKA' is allowed (RFC 9048 §4).
    pub bidding: bool,
    /// Fail through AKA-Notification "General Failure" (16384) then EAP-Failure, as RFC 4187
    /// §6.3.2 asks; `false` sends EAP-Failure at once.
    pub notify_failures: bool,
    /// SQN re-synchronisations allowed in one exchange.
    pub max_resyncs: u8,
    /// Realm of issued re-authentication identities; default: the realm of the identity in use.
    pub reauth_realm: Option<String>,
}

impl Default for AkaServerConfig {
    fn default() -> Self {
        AkaServerConfig {
            aka: true,
            aka_prime: true,
            network_name: "WLAN".into(),
            result_ind: false,
            identity_policy: IdentityPolicy::UseEapIdentity,
            pseudonyms: true,
            pseudonym_cipher: None,
            fast_reauth: true,
            max_fast_reauths: 1000,
            bidding: true,
            notify_failures: true,
            max_resyncs: 1,
            reauth_realm: None,
        }
    }
}

impl AkaServerConfig {
    fn allows(&self, m: Method) -> bool {
        match m {
            Method::Aka => self.aka,
            Method::AkaPrime => self.aka_prime,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Idle,
    Identity(IdRequest),
    WaitPseudonym,
    WaitReauth,
    WaitVector,
    Challenge,
    Reauth,
    /// A Notification is outstanding; `success` for result indication "Success".
    Notification {
        success: bool,
    },
    Done,
}

struct ReauthRun {
    counter: u16,
    nonce_s: [u8; 16],
    request_mac: [u8; 16],
}

/// The server method for one conversation. Cheap to create: the configuration is shared.
pub struct AkaServer {
    config: Arc<AkaServerConfig>,
    st: St,
    method: Method,
    identity: Vec<u8>,
    last_id_req: Option<IdRequest>,
    checkcode: Option<Checkcode>,
    imsi: Option<String>,
    keys: Option<Keys>,
    rand: [u8; 16],
    autn: [u8; 16],
    xres: [u8; 8],
    resyncs: u8,
    next_pseudonym: Option<String>,
    /// `next_pseudonym` came from the cipher: nothing to store.
    pseudonym_sealed: bool,
    next_reauth_id: Option<String>,
    next_counter: u16,
    reauth: Option<ReauthRun>,
    result_ind_sent: bool,
    fail_reason: FailureReason,
}

impl AkaServer {
    pub fn new(config: Arc<AkaServerConfig>) -> Self {
        AkaServer {
            config,
            st: St::Idle,
            method: Method::Aka,
            identity: Vec::new(),
            last_id_req: None,
            checkcode: None,
            imsi: None,
            keys: None,
            rand: [0; 16],
            autn: [0; 16],
            xres: [0; 8],
            resyncs: 0,
            next_pseudonym: None,
            pseudonym_sealed: false,
            next_reauth_id: None,
            next_counter: 1,
            reauth: None,
            result_ind_sent: false,
            fail_reason: FailureReason::ProtocolError,
        }
    }

    /// The method in use.
    pub fn current_method(&self) -> Method {
        self.method
    }

    /// The subscriber, once known.
    pub fn imsi(&self) -> Option<&str> {
        self.imsi.as_deref()
    }

    fn reset(&mut self, method: Method, identity: &[u8]) {
        let config = self.config.clone();
        *self = AkaServer::new(config);
        self.method = method;
        let mut n = identity.len();
        // RFC 4187 §7: the identity without terminating NULs (hostapd's workaround too).
        while n > 0 && identity[n - 1] == 0 {
            n -= 1;
        }
        self.identity.extend_from_slice(&identity[..n]);
    }

    // ---- identity handling -------------------------------------------------------------

    fn resolve_identity(&mut self, ctx: &mut ServerCtx<'_>) -> Step {
        let kind = classify_identity(&self.identity);
        let last = self.last_id_req;
        let m = self.method;
        match kind {
            IdentityKind::Reauth(k)
                if k == m
                    && self.config.fast_reauth
                    && matches!(last, None | Some(IdRequest::Any)) =>
            {
                if let Ok(id) = core::str::from_utf8(&self.identity) {
                    ctx.events.push_back(Event::Need(Need::ReauthContext {
                        reauth_id: id.to_string(),
                    }));
                    self.st = St::WaitReauth;
                    return Step::Pending;
                }
            }
            IdentityKind::Pseudonym(k)
                if k == m
                    && self.config.pseudonyms
                    && !matches!(last, Some(IdRequest::Permanent)) =>
            {
                let user = split_nai(&self.identity).0;
                if let Ok(u) = core::str::from_utf8(user) {
                    if let Some(imsi) = self
                        .config
                        .pseudonym_cipher
                        .as_ref()
                        .and_then(|c| c.open(m, u))
                    {
                        self.imsi = Some(imsi);
                        return self.need_vector(None, ctx);
                    }
                    ctx.events.push_back(Event::Need(Need::Pseudonym {
                        username: u.to_string(),
                    }));
                    self.st = St::WaitPseudonym;
                    return Step::Pending;
                }
            }
            // The IMSI is what matters: a `0…` identity after a Nak to EAP-AKA' (or the
            // reverse) is still the subscriber's permanent identity, used as sent.
            IdentityKind::Permanent(_) => {
                if let Some(imsi) = super::imsi_of_permanent(&self.identity) {
                    self.imsi = Some(imsi.to_string());
                    return self.need_vector(None, ctx);
                }
            }
            _ => {}
        }
        // Not usable: ask (again) with AKA-Identity, each round narrower than the last.
        let want = match kind {
            IdentityKind::Reauth(k) if k == m => {
                if self.config.pseudonyms {
                    IdRequest::FullAuth
                } else {
                    IdRequest::Permanent
                }
            }
            IdentityKind::Pseudonym(k) if k == m => IdRequest::Permanent,
            _ if self.config.fast_reauth => IdRequest::Any,
            _ if self.config.pseudonyms => IdRequest::FullAuth,
            _ => IdRequest::Permanent,
        };
        let want = match last {
            None => want,
            Some(IdRequest::Permanent) => {
                return self.fail(FailureReason::UnknownIdentity, ctx);
            }
            Some(IdRequest::FullAuth) => IdRequest::Permanent,
            Some(IdRequest::Any) => want.min(IdRequest::FullAuth),
        };
        self.send_identity_request(want, ctx)
    }

    /// A received AT_CHECKCODE (optional) against the AKA-Identity exchange (RFC 4187
    /// §10.13; empty when there was none).
    fn checkcode_ok(&self, received: Option<&[u8]>) -> bool {
        match (received, &self.checkcode) {
            (None, _) => true,
            (Some(r), Some(mine)) => mine.verify(r).is_ok(),
            (Some(r), None) => r.is_empty(),
        }
    }

    fn send_identity_request(&mut self, req: IdRequest, ctx: &mut ServerCtx<'_>) -> Step {
        let mut w = MsgWriter::new(
            ctx.tx,
            Code::Request.value(),
            ctx.identifier,
            self.method,
            Subtype::Identity,
        );
        let a = match req {
            IdRequest::Permanent => Attribute::PermanentIdReq { reserved: 0 },
            IdRequest::FullAuth => Attribute::FullauthIdReq { reserved: 0 },
            IdRequest::Any => Attribute::AnyIdReq { reserved: 0 },
        };
        if w.attr(&a).is_err() {
            return self.fail_now(FailureReason::ProtocolError, ctx);
        }
        w.finish(None, &[]);
        let cc = self.checkcode.get_or_insert_with(|| match self.method {
            Method::Aka => Checkcode::aka(),
            Method::AkaPrime => Checkcode::aka_prime(),
        });
        cc.update(ctx.tx);
        self.last_id_req = Some(req);
        self.st = St::Identity(req);
        Step::Request
    }

    fn process_identity(
        &mut self,
        packet: &[u8],
        attrs: &Attrs<'_>,
        ctx: &mut ServerCtx<'_>,
    ) -> Step {
        if attrs.mac || attrs.iv.is_some() || attrs.encr_data.is_some() {
            return self.fail(FailureReason::ProtocolError, ctx);
        }
        let Some(id) = attrs.identity.filter(|i| !i.is_empty()) else {
            return self.fail(FailureReason::ProtocolError, ctx);
        };
        if let Some(cc) = &mut self.checkcode {
            cc.update(packet);
        }
        self.identity.clear();
        self.identity.extend_from_slice(id);
        self.resolve_identity(ctx)
    }

    // ---- full authentication ----------------------------------------------------------

    fn need_vector(&mut self, resync: Option<Resync>, ctx: &mut ServerCtx<'_>) -> Step {
        let Some(imsi) = self.imsi.clone() else {
            return self.fail(FailureReason::UnknownIdentity, ctx);
        };
        ctx.events.push_back(Event::Need(Need::Vector {
            imsi,
            method: self.method,
            resync,
        }));
        self.st = St::WaitVector;
        Step::Pending
    }

    fn on_vector(&mut self, v: Result<AuthVector, VectorError>, ctx: &mut ServerCtx<'_>) -> Step {
        if self.st != St::WaitVector {
            return Step::Discard("no vector was asked for");
        }
        let v = match v {
            Ok(v) => v,
            Err(e) => return self.fail(FailureReason::NoVector(e), ctx),
        };
        let keys = match self.method {
            Method::Aka => Keys::Aka(
                AkaKeys::derive(&self.identity, v.ik.as_bytes(), v.ck.as_bytes()),
                None,
            ),
            Method::AkaPrime => {
                // TS 33.402 §6.1 / RFC 9048 §3.3: the AMF separation bit must be 1.
                if v.autn[6] & 0x80 == 0 {
                    debug!("EAP-AKA': vector without the AMF separation bit");
                    return self.fail(FailureReason::BadVector, ctx);
                }
                match AkaPrimeKeys::derive_from_ck_ik(
                    &self.identity,
                    v.ck.as_bytes(),
                    v.ik.as_bytes(),
                    self.config.network_name.as_bytes(),
                    &v.sqn_xor_ak(),
                ) {
                    Ok(k) => Keys::AkaPrime(k, None),
                    Err(_) => return self.fail(FailureReason::BadVector, ctx),
                }
            }
        };
        self.rand = v.rand;
        self.autn = v.autn;
        self.xres = v.xres;
        self.keys = Some(keys);
        self.reauth = None;
        self.next_counter = 1;
        self.send_challenge(ctx)
    }

    fn reauth_realm(&self) -> Option<String> {
        if let Some(r) = &self.config.reauth_realm {
            return Some(r.clone());
        }
        let realm = split_nai(&self.identity).1?;
        core::str::from_utf8(realm).ok().map(str::to_string)
    }

    fn new_reauth_id(&self, ctx: &mut ServerCtx<'_>) -> Option<String> {
        if !self.config.fast_reauth || self.next_counter > self.config.max_fast_reauths {
            return None;
        }
        let mut id = random_username(self.method.reauth_prefix(), ctx.rng);
        if let Some(realm) = self.reauth_realm() {
            id.push('@');
            id.push_str(&realm);
        }
        Some(id)
    }

    fn send_challenge(&mut self, ctx: &mut ServerCtx<'_>) -> Step {
        self.next_pseudonym = None;
        self.pseudonym_sealed = false;
        if self.config.pseudonyms {
            let sealed = match (&self.config.pseudonym_cipher, &self.imsi) {
                (Some(c), Some(imsi)) => c.seal(self.method, imsi, ctx.rng),
                _ => None,
            };
            self.pseudonym_sealed = sealed.is_some();
            self.next_pseudonym =
                sealed.or_else(|| Some(random_username(self.method.pseudonym_prefix(), ctx.rng)));
        }
        self.next_reauth_id = self.new_reauth_id(ctx);
        let Some(keys) = &self.keys else {
            return self.fail_now(FailureReason::ProtocolError, ctx);
        };
        let mut w = MsgWriter::new(
            ctx.tx,
            Code::Request.value(),
            ctx.identifier,
            self.method,
            Subtype::Challenge,
        );
        let mut ok = w
            .attr(&Attribute::Rand {
                reserved: 0,
                rand: &self.rand,
            })
            .is_ok()
            && w.attr(&Attribute::Autn {
                reserved: 0,
                autn: &self.autn,
            })
            .is_ok();
        if self.method == Method::AkaPrime {
            ok &= w.attr(&Attribute::Kdf(1)).is_ok()
                && w.attr(&Attribute::KdfInput(Padded::new(
                    self.config.network_name.as_bytes(),
                )))
                .is_ok();
        }
        if self.next_pseudonym.is_some() || self.next_reauth_id.is_some() {
            let iv = w.begin_encr(ctx.rng);
            if let Some(p) = &self.next_pseudonym {
                ok &= w
                    .attr(&Attribute::NextPseudonym(Padded::new(p.as_bytes())))
                    .is_ok();
            }
            if let Some(r) = &self.next_reauth_id {
                ok &= w
                    .attr(&Attribute::NextReauthId(Padded::new(r.as_bytes())))
                    .is_ok();
            }
            ok &= w.end_encr(keys.k_encr(), &iv).is_ok();
        }
        let cc = self.checkcode.as_ref().map(|c| c.value());
        ok &= w
            .attr(&Attribute::Checkcode {
                reserved: 0,
                checkcode: cc.as_deref().unwrap_or(&[]),
            })
            .is_ok();
        if self.config.result_ind {
            ok &= w.attr(&Attribute::ResultInd { reserved: 0 }).is_ok();
        }
        if self.method == Method::Aka && self.config.bidding && self.config.aka_prime {
            ok &= w.attr(&Attribute::Bidding(BIDDING_D)).is_ok();
        }
        w.mac();
        w.finish(keys.mac(), &[]);
        if !ok {
            return self.fail_now(FailureReason::ProtocolError, ctx);
        }
        self.result_ind_sent = self.config.result_ind;
        self.st = St::Challenge;
        Step::Request
    }

    fn process_challenge(
        &mut self,
        packet: &[u8],
        subtype: Subtype,
        attrs: &Attrs<'_>,
        ctx: &mut ServerCtx<'_>,
    ) -> Step {
        if subtype == Subtype::SynchronizationFailure {
            let Some(auts) = attrs.auts else {
                return self.fail(FailureReason::ProtocolError, ctx);
            };
            // RFC 9048 §3.2: a copy of the AT_KDF list of the last challenge, if any.
            if self.method == Method::AkaPrime && attrs.kdf_count > 0 && attrs.kdfs() != [1] {
                return self.fail(FailureReason::BadMac, ctx);
            }
            if self.resyncs >= self.config.max_resyncs {
                return self.fail(FailureReason::ResyncLimit, ctx);
            }
            self.resyncs += 1;
            let r = Resync {
                rand: self.rand,
                auts: *auts,
            };
            return self.need_vector(Some(r), ctx);
        }
        if subtype != Subtype::Challenge {
            return self.fail(FailureReason::ProtocolError, ctx);
        }
        if self.method == Method::AkaPrime && attrs.kdf_count > 0 && !attrs.mac {
            // KDF negotiation: we offered KDF 1 only, and the first offer is never a valid
            // alternative (RFC 9048 §3.2).
            return self.fail(FailureReason::Unsupported, ctx);
        }
        let Some(keys) = &self.keys else {
            return self.fail(FailureReason::ProtocolError, ctx);
        };
        if !attrs.mac || !verify_mac(super::aka::mac_alg(self.method), keys.k_aut(), packet, &[]) {
            return self.fail(FailureReason::BadMac, ctx);
        }
        if !self.checkcode_ok(attrs.checkcode) {
            return self.fail(FailureReason::BadCheckcode, ctx);
        }
        let res_ok = match attrs.res {
            Some((bits, res)) => {
                bits as usize == self.xres.len() * 8 && bool::from(res.ct_eq(&self.xres[..]))
            }
            None => false,
        };
        if !res_ok {
            // The peer is not authenticated (RFC 4187 §6.2, §6.3.2): with result indications
            // agreed (AT_RESULT_IND both ways) the peer waits for a result, so the failure
            // always goes through the "General Failure" notification, whatever
            // `notify_failures` says; else as configured.
            if self.result_ind_sent && attrs.result_ind {
                debug!(method = %self.method, reason = "wrong_res", "EAP-AKA failure");
                self.fail_reason = FailureReason::WrongRes;
                return self.send_notification(
                    NotificationCode::GeneralFailure.value(),
                    false,
                    ctx,
                );
            }
            return self.fail(FailureReason::WrongRes, ctx);
        }
        if self.result_ind_sent && attrs.result_ind {
            return self.send_notification(NotificationCode::Success.value(), true, ctx);
        }
        self.succeed(ctx)
    }

    // ---- fast re-authentication ---------------------------------------------------------

    fn on_reauth_context(&mut self, c: Option<ReauthContext>, ctx: &mut ServerCtx<'_>) -> Step {
        if self.st != St::WaitReauth {
            return Step::Discard("no re-authentication context was asked for");
        }
        let reauth_id = String::from_utf8_lossy(&self.identity).into_owned();
        let Some(c) = c else {
            return self.resolve_unknown_reauth(ctx);
        };
        // One-time identity: it is spent whatever happens next.
        ctx.events.push_back(Event::ForgetReauth { reauth_id });
        if c.method != self.method {
            return self.resolve_unknown_reauth(ctx);
        }
        self.imsi = Some(c.imsi.clone());
        let name_changed = self.method == Method::AkaPrime
            && c.network_name.as_deref() != Some(self.config.network_name.as_str());
        if name_changed || c.counter == 0 || c.counter > self.config.max_fast_reauths {
            // RFC 9048 §3.3 (network name changed) or counter limit: full authentication;
            // the subscriber is known from the context.
            return self.need_vector(None, ctx);
        }
        let mut keys = Keys::from_reauth(&c.secrets);
        let mut nonce_s = [0u8; 16];
        ctx.rng.fill_bytes(&mut nonce_s);
        if !keys.derive_reauth(&self.identity, c.counter, &nonce_s) {
            return self.fail(FailureReason::ProtocolError, ctx);
        }
        self.keys = Some(keys);
        self.next_counter = c.counter.saturating_add(1);
        self.reauth = Some(ReauthRun {
            counter: c.counter,
            nonce_s,
            request_mac: [0; 16],
        });
        self.send_reauth(ctx)
    }

    fn resolve_unknown_reauth(&mut self, ctx: &mut ServerCtx<'_>) -> Step {
        let want = if self.config.pseudonyms {
            IdRequest::FullAuth
        } else {
            IdRequest::Permanent
        };
        match self.last_id_req {
            None | Some(IdRequest::Any) => self.send_identity_request(want, ctx),
            _ => self.fail(FailureReason::UnknownIdentity, ctx),
        }
    }

    fn send_reauth(&mut self, ctx: &mut ServerCtx<'_>) -> Step {
        self.next_reauth_id = self.new_reauth_id(ctx);
        self.next_pseudonym = None;
        let (Some(keys), Some(run)) = (&self.keys, &mut self.reauth) else {
            return self.fail_now(FailureReason::ProtocolError, ctx);
        };
        let mut w = MsgWriter::new(
            ctx.tx,
            Code::Request.value(),
            ctx.identifier,
            self.method,
            Subtype::Reauthentication,
        );
        let iv = w.begin_encr(ctx.rng);
        let mut ok = w.attr(&Attribute::Counter(run.counter)).is_ok()
            && w.attr(&Attribute::NonceS {
                reserved: 0,
                nonce_s: &run.nonce_s,
            })
            .is_ok();
        if let Some(r) = &self.next_reauth_id {
            ok &= w
                .attr(&Attribute::NextReauthId(Padded::new(r.as_bytes())))
                .is_ok();
        }
        ok &= w.end_encr(keys.k_encr(), &iv).is_ok();
        let cc = self.checkcode.as_ref().map(|c| c.value());
        ok &= w
            .attr(&Attribute::Checkcode {
                reserved: 0,
                checkcode: cc.as_deref().unwrap_or(&[]),
            })
            .is_ok();
        if self.config.result_ind {
            ok &= w.attr(&Attribute::ResultInd { reserved: 0 }).is_ok();
        }
        w.mac();
        w.finish(keys.mac(), &[]);
        if !ok {
            return self.fail_now(FailureReason::ProtocolError, ctx);
        }
        run.request_mac = mac_value(ctx.tx).unwrap_or([0; 16]);
        self.result_ind_sent = self.config.result_ind;
        self.st = St::Reauth;
        Step::Request
    }

    fn process_reauth(
        &mut self,
        packet: &[u8],
        subtype: Subtype,
        attrs: &Attrs<'_>,
        ctx: &mut ServerCtx<'_>,
    ) -> Step {
        if subtype != Subtype::Reauthentication {
            return self.fail(FailureReason::ProtocolError, ctx);
        }
        let (Some(keys), Some(run)) = (&self.keys, &self.reauth) else {
            return self.fail(FailureReason::ProtocolError, ctx);
        };
        let alg = super::aka::mac_alg(self.method);
        if !attrs.mac || !verify_mac(alg, keys.k_aut(), packet, &run.nonce_s) {
            return self.fail(FailureReason::BadMac, ctx);
        }
        if !self.checkcode_ok(attrs.checkcode) {
            return self.fail(FailureReason::BadCheckcode, ctx);
        }
        let (Some(iv), Some(data)) = (attrs.iv, attrs.encr_data) else {
            return self.fail(FailureReason::ReauthFailed, ctx);
        };
        let mut scratch = [0u8; 1024];
        let Ok(plain) = decrypt_encr(keys.k_encr(), iv, data, &mut scratch) else {
            return self.fail(FailureReason::ReauthFailed, ctx);
        };
        let Ok(inner) = Attrs::parse(plain, true) else {
            return self.fail(FailureReason::ReauthFailed, ctx);
        };
        if inner.counter != Some(run.counter) {
            return self.fail(FailureReason::ReauthFailed, ctx);
        }
        if inner.counter_too_small {
            // RFC 4187 §5.5: the peer's counter is ahead; full authentication with the same
            // EAP identity (the re-authentication id stays the key-derivation identity).
            self.reauth = None;
            self.keys = None;
            self.next_reauth_id = None;
            return self.need_vector(None, ctx);
        }
        if self.result_ind_sent && attrs.result_ind {
            return self.send_notification(NotificationCode::Success.value(), true, ctx);
        }
        self.succeed(ctx)
    }

    // ---- notifications, outcome ---------------------------------------------------------

    fn send_notification(&mut self, code: u16, success: bool, ctx: &mut ServerCtx<'_>) -> Step {
        let after_auth = code & NOTIFICATION_P == 0;
        let mut w = MsgWriter::new(
            ctx.tx,
            Code::Request.value(),
            ctx.identifier,
            self.method,
            Subtype::Notification,
        );
        let mut ok = w.attr(&Attribute::Notification(code)).is_ok();
        let mut mac = None;
        if after_auth {
            let Some(keys) = &self.keys else {
                return self.fail_now(FailureReason::ProtocolError, ctx);
            };
            if let Some(run) = &self.reauth {
                let iv = w.begin_encr(ctx.rng);
                ok &= w.attr(&Attribute::Counter(run.counter)).is_ok();
                ok &= w.end_encr(keys.k_encr(), &iv).is_ok();
            }
            w.mac();
            mac = keys.mac();
        }
        w.finish(mac, &[]);
        if !ok {
            return self.fail_now(FailureReason::ProtocolError, ctx);
        }
        self.st = St::Notification { success };
        Step::Request
    }

    fn process_notification(
        &mut self,
        packet: &[u8],
        subtype: Subtype,
        attrs: &Attrs<'_>,
        success: bool,
        ctx: &mut ServerCtx<'_>,
    ) -> Step {
        if subtype != Subtype::Notification {
            return self.finish_failure(FailureReason::ProtocolError, ctx);
        }
        if !success {
            let r = self.fail_reason;
            return self.finish_failure(r, ctx);
        }
        // The Success notification (P = 0) is answered with AT_MAC, and after a fast
        // re-authentication with the encrypted AT_COUNTER.
        let Some(keys) = &self.keys else {
            return self.finish_failure(FailureReason::ProtocolError, ctx);
        };
        let alg = super::aka::mac_alg(self.method);
        if !attrs.mac || !verify_mac(alg, keys.k_aut(), packet, &[]) {
            return self.finish_failure(FailureReason::BadMac, ctx);
        }
        if let Some(run) = &self.reauth {
            let (Some(iv), Some(data)) = (attrs.iv, attrs.encr_data) else {
                return self.finish_failure(FailureReason::ReauthFailed, ctx);
            };
            let mut scratch = [0u8; 1024];
            let ok = decrypt_encr(keys.k_encr(), iv, data, &mut scratch)
                .ok()
                .and_then(|p| Attrs::parse(p, true).ok())
                .is_some_and(|a| a.counter == Some(run.counter));
            if !ok {
                return self.finish_failure(FailureReason::ReauthFailed, ctx);
            }
        }
        self.succeed(ctx)
    }

    /// Fails: through a "General Failure" notification first when configured (and no
    /// notification round happened yet), else at once.
    fn fail(&mut self, reason: FailureReason, ctx: &mut ServerCtx<'_>) -> Step {
        debug!(method = %self.method, reason = reason.label(), "EAP-AKA failure");
        if self.config.notify_failures && !matches!(self.st, St::Notification { .. }) {
            self.fail_reason = reason;
            return self.send_notification(NotificationCode::GeneralFailure.value(), false, ctx);
        }
        self.finish_failure(reason, ctx)
    }

    /// EAP-Failure now.
    fn fail_now(&mut self, reason: FailureReason, ctx: &mut ServerCtx<'_>) -> Step {
        self.finish_failure(reason, ctx)
    }

    fn finish_failure(&mut self, reason: FailureReason, ctx: &mut ServerCtx<'_>) -> Step {
        self.st = St::Done;
        ctx.events.push_back(Event::Failure(AuthFailure {
            reason,
            method: Some(self.method),
            imsi: self.imsi.clone(),
        }));
        Step::Failure
    }

    fn succeed(&mut self, ctx: &mut ServerCtx<'_>) -> Step {
        let (Some(keys), Some(imsi)) = (&self.keys, &self.imsi) else {
            return self.finish_failure(FailureReason::ProtocolError, ctx);
        };
        if let Some(p) = self
            .next_pseudonym
            .take()
            .filter(|_| !self.pseudonym_sealed)
        {
            ctx.events.push_back(Event::StorePseudonym {
                username: p,
                imsi: imsi.clone(),
                method: self.method,
            });
        }
        if let Some(r) = self.next_reauth_id.take() {
            ctx.events.push_back(Event::StoreReauth {
                reauth_id: r,
                context: ReauthContext {
                    imsi: imsi.clone(),
                    method: self.method,
                    counter: self.next_counter,
                    secrets: keys.reauth_secrets(),
                    network_name: (self.method == Method::AkaPrime)
                        .then(|| self.config.network_name.clone()),
                },
            });
        }
        let (sid, fast) = match &self.reauth {
            Some(run) => (
                session_id(self.method, &run.nonce_s, &run.request_mac),
                true,
            ),
            None => (session_id(self.method, &self.rand, &self.autn), false),
        };
        ctx.events.push_back(Event::Success(Box::new(AuthSuccess {
            method: self.method,
            identity: self.identity.clone(),
            imsi: imsi.clone(),
            msk: keys.msk().clone(),
            emsk: keys.emsk().clone(),
            session_id: sid,
            fast_reauth: fast,
        })));
        self.st = St::Done;
        Step::Success
    }
}

impl ServerMethod for AkaServer {
    fn allows(&self, typ: u8) -> bool {
        Method::from_eap_type(typ).is_some_and(|m| self.config.allows(m))
    }

    fn select(&self, identity: &[u8]) -> Option<u8> {
        let by_identity = match classify_identity(identity) {
            IdentityKind::Permanent(m) | IdentityKind::Pseudonym(m) | IdentityKind::Reauth(m) => {
                Some(m)
            }
            IdentityKind::Other => None,
        };
        let m = match by_identity {
            Some(m) if self.config.allows(m) => m,
            // RFC 9048 §4: EAP-AKA' is the stronger one; propose it when allowed.
            _ if self.config.aka_prime => Method::AkaPrime,
            _ if self.config.aka => Method::Aka,
            _ => return None,
        };
        Some(m.eap_type())
    }

    fn start(&mut self, typ: u8, identity: &[u8], ctx: &mut ServerCtx<'_>) -> Step {
        let Some(m) = Method::from_eap_type(typ).filter(|&m| self.config.allows(m)) else {
            return self.fail_now(FailureReason::NoCommonMethod, ctx);
        };
        self.reset(m, identity);
        match self.config.identity_policy {
            IdentityPolicy::AlwaysRequest(r) => self.send_identity_request(r, ctx),
            IdentityPolicy::UseEapIdentity => self.resolve_identity(ctx),
        }
    }

    fn process(&mut self, packet: &[u8], ctx: &mut ServerCtx<'_>) -> Step {
        let Some((subtype, body)) = split_message(packet) else {
            return Step::Discard("EAP-AKA header truncated");
        };
        if !matches!(
            self.st,
            St::Identity(_) | St::Challenge | St::Reauth | St::Notification { .. }
        ) {
            return Step::Discard("no EAP-AKA request outstanding");
        }
        let attrs = match Attrs::parse(body, false) {
            Ok(a) => a,
            Err(e) => {
                debug!(?e, "EAP-AKA: attributes refused");
                return match subtype {
                    Subtype::ClientError => self.finish_failure(FailureReason::ClientError(0), ctx),
                    Subtype::AuthenticationReject => {
                        self.finish_failure(FailureReason::AuthenticationReject, ctx)
                    }
                    _ => self.fail(FailureReason::ProtocolError, ctx),
                };
            }
        };
        // RFC 4187 §6.3.2: Client-Error and Authentication-Reject end the exchange at once.
        match subtype {
            Subtype::ClientError => {
                let code = attrs.client_error.unwrap_or(0);
                return self.finish_failure(FailureReason::ClientError(code), ctx);
            }
            Subtype::AuthenticationReject => {
                return self.finish_failure(FailureReason::AuthenticationReject, ctx);
            }
            _ => {}
        }
        match self.st {
            St::Identity(_) => {
                if subtype != Subtype::Identity {
                    return self.fail(FailureReason::ProtocolError, ctx);
                }
                self.process_identity(packet, &attrs, ctx)
            }
            St::Challenge => self.process_challenge(packet, subtype, &attrs, ctx),
            St::Reauth => self.process_reauth(packet, subtype, &attrs, ctx),
            St::Notification { success } => {
                self.process_notification(packet, subtype, &attrs, success, ctx)
            }
            _ => Step::Discard("no EAP-AKA request outstanding"),
        }
    }
}

impl AkaServer {
    fn on_pseudonym(&mut self, imsi: Option<String>, ctx: &mut ServerCtx<'_>) -> Step {
        if self.st != St::WaitPseudonym {
            return Step::Discard("no pseudonym lookup was asked for");
        }
        match imsi.filter(|i| (5..=15).contains(&i.len()) && i.bytes().all(|c| c.is_ascii_digit()))
        {
            Some(imsi) => {
                self.imsi = Some(imsi);
                self.need_vector(None, ctx)
            }
            None => match self.last_id_req {
                Some(IdRequest::Permanent) => self.fail(FailureReason::UnknownIdentity, ctx),
                _ => self.send_identity_request(IdRequest::Permanent, ctx),
            },
        }
    }
}

/// The EAP server the AAA node runs: EAP framing around EAP-AKA / EAP-AKA'.
pub type AkaEapServer = EapServer<AkaServer>;

impl EapServer<AkaServer> {
    /// A server for one conversation.
    pub fn aka(config: super::ServerConfig, aka: Arc<AkaServerConfig>) -> Self {
        EapServer::new(config, AkaServer::new(aka))
    }

    /// Answers [`Need::Vector`].
    pub fn provide_vector(
        &mut self,
        vector: Result<AuthVector, VectorError>,
        rng: &mut dyn rand::RngCore,
    ) {
        self.resume(rng, |m, ctx| m.on_vector(vector, ctx));
    }

    /// Answers [`Need::Pseudonym`] with the subscriber's IMSI, or `None` if unknown.
    pub fn provide_pseudonym(&mut self, imsi: Option<String>, rng: &mut dyn rand::RngCore) {
        self.resume(rng, |m, ctx| m.on_pseudonym(imsi, ctx));
    }

    /// Answers [`Need::ReauthContext`], `None` if the identity is unknown or expired.
    pub fn provide_reauth_context(
        &mut self,
        context: Option<ReauthContext>,
        rng: &mut dyn rand::RngCore,
    ) {
        self.resume(rng, |m, ctx| m.on_reauth_context(context, ctx));
    }
}
