//! The EAP-AKA / EAP-AKA' peer method with a Milenage [`Usim`].
//!
//! It answers AKA-Identity (permanent identity, pseudonym or fast re-authentication
//! identity as asked and as learned), AKA-Challenge (AT_CHECKCODE, AT_MAC and AUTN checks;
//! Authentication-Reject on an AUTN/MAC failure, Synchronization-Failure with AT_AUTS on an
//! SQN failure, AT_RES with its length in bits), the EAP-AKA' KDF negotiation, AT_KDF_INPUT
//! and the AMF separation bit, the bidding-down check of RFC 9048 §4, the encrypted
//! AT_NEXT_PSEUDONYM / AT_NEXT_REAUTH_ID, fast re-authentication (counter check,
//! AT_COUNTER_TOO_SMALL), result indications and notifications. Learned identities are
//! committed when EAP-Success arrives.
//!
//! Used by the tests, the AAA load generator and the UE (inside IKEv2).

use mobstrap_crypto::eap_aka::{AkaKeys, Checkcode};
use mobstrap_crypto::eap_aka_prime::AkaPrimeKeys;
use mobstrap_crypto::milenage::UsimOutcome;
use mobstrap_wire::eap::aka::{
    Attribute, Padded, Subtype, BIDDING_D, NOTIFICATION_P, NOTIFICATION_S,
};
use mobstrap_wire::eap::Code;

use super::aka::{
    decrypt_encr, mac_alg, mac_value, network_names_match, session_id, split_message, verify_mac,
    Attrs, Keys, MsgWriter, KDF_MAX,
};
use super::peer::{PeerCtx, PeerEvent, PeerFailure, PeerMethod, PeerStep, PeerSuccess};
use super::usim::{Usim, UsimAnswer};
use super::{split_nai, Method, ReauthSecrets};
use std::collections::VecDeque;

/// What the peer puts in EAP-Response/Identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityChoice {
    /// A fast re-authentication identity if one is held, else a pseudonym, else the
    /// permanent identity.
    Auto,
    /// A pseudonym if one is held, else the permanent identity.
    PseudonymOrPermanent,
    /// Always the permanent identity.
    Permanent,
}

/// What to do when AT_KDF_INPUT differs from the network name the peer expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkNamePolicy {
    /// Go on with the server's name (RFC 9048 §3.1 allows it; the name is reported).
    Accept,
    /// Fail as if AUTN were wrong (Authentication-Reject).
    Strict,
}

/// A fault the peer injects on purpose (test labs: the network's failure paths with an
/// otherwise correct USIM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerFault {
    /// AUTN verifies and the keys are derived as usual, but AT_RES carries the USIM's RES
    /// with every bit flipped; AT_MAC is computed over that message with the right K_aut, so
    /// only the server's RES/XRES comparison can catch it.
    WrongRes,
}

impl PeerFault {
    /// The name used in configuration files and flags (`wrong-res`).
    pub fn name(self) -> &'static str {
        match self {
            PeerFault::WrongRes => "wrong-res",
        }
    }

    /// Parses [`PeerFault::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "wrong-res" => Some(PeerFault::WrongRes),
            _ => None,
        }
    }
}

/// Settings of the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AkaPeerConfig {
    /// The IMSI (digits).
    pub imsi: String,
    /// Realm of the permanent identity, e.g. `nai.epc.mnc001.mcc001.3gppnetwork.org`.
    pub realm: Option<String>,
    /// Use exactly this permanent identity instead of `0|6<IMSI>@realm`.
    pub permanent_identity: Option<Vec<u8>>,
    /// Methods the peer runs, most preferred first.
    pub methods: Vec<Method>,
    pub identity_choice: IdentityChoice,
    /// Answer AT_RESULT_IND with AT_RESULT_IND.
    pub result_ind: bool,
    /// The access network name the peer expects in AT_KDF_INPUT (e.g. "WLAN").
    pub network_name: Option<String>,
    pub network_name_policy: NetworkNamePolicy,
    /// A fault to inject (none in normal operation).
    pub fault: Option<PeerFault>,
}

impl AkaPeerConfig {
    /// A peer for `imsi` in `realm` running EAP-AKA' then EAP-AKA.
    pub fn new(imsi: &str, realm: Option<&str>) -> Self {
        AkaPeerConfig {
            imsi: imsi.to_string(),
            realm: realm.map(str::to_string),
            permanent_identity: None,
            methods: vec![Method::AkaPrime, Method::Aka],
            identity_choice: IdentityChoice::Auto,
            result_ind: false,
            network_name: None,
            network_name_policy: NetworkNamePolicy::Accept,
            fault: None,
        }
    }
}

#[derive(Debug, Clone)]
struct ReauthState {
    id: String,
    method: Method,
    /// The last counter accepted; the server must send a larger one.
    counter: u16,
    secrets: ReauthSecrets,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Fail,
    /// Keys ready, EAP-Success acceptable.
    CondSucc,
    /// Keys ready, but result indications were agreed: wait for the Success notification.
    WaitResult,
    /// Success notification seen.
    UncondSucc,
}

#[derive(Default)]
struct Session {
    method: Option<Method>,
    eap_identity: Option<Vec<u8>>,
    at_identity: Option<Vec<u8>>,
    id_reqs: u8,
    /// The EAP identity or AT_IDENTITY sent was the re-authentication identity.
    using_reauth_id: bool,
    checkcode: Option<Checkcode>,
    keys: Option<Keys>,
    rand: [u8; 16],
    autn: [u8; 16],
    fast: Option<(u16, [u8; 16], [u8; 16])>,
    kdf_requested: Option<u16>,
    original_kdfs: Vec<u16>,
    last_kdfs: Option<Vec<u16>>,
    decision: Option<Decision>,
    notifications: u8,
    pending_pseudonym: Option<String>,
    pending_reauth: Option<ReauthState>,
    replace_reauth: bool,
    network_name: Vec<u8>,
}

/// The EAP-AKA / EAP-AKA' peer method.
pub struct AkaPeer {
    config: AkaPeerConfig,
    usim: Usim,
    pseudonym: Option<String>,
    reauth: Option<ReauthState>,
    s: Session,
}

impl AkaPeer {
    pub fn new(config: AkaPeerConfig, usim: Usim) -> Self {
        AkaPeer {
            config,
            usim,
            pseudonym: None,
            reauth: None,
            s: Session::default(),
        }
    }

    pub fn usim(&self) -> &Usim {
        &self.usim
    }

    pub fn usim_mut(&mut self) -> &mut Usim {
        &mut self.usim
    }

    pub fn config(&self) -> &AkaPeerConfig {
        &self.config
    }

    /// The pseudonym held (full NAI).
    pub fn pseudonym(&self) -> Option<&str> {
        self.pseudonym.as_deref()
    }

    /// The fast re-authentication identity held.
    pub fn reauth_id(&self) -> Option<&str> {
        self.reauth.as_ref().map(|r| r.id.as_str())
    }

    /// Forgets pseudonym and re-authentication state.
    pub fn forget_identities(&mut self) {
        self.pseudonym = None;
        self.reauth = None;
    }

    /// The permanent identity for a method: `0<IMSI>@realm` or `6<IMSI>@realm`.
    pub fn permanent_identity(&self, m: Method) -> Vec<u8> {
        match &self.config.permanent_identity {
            Some(p) => p.clone(),
            None => super::permanent_identity(m, &self.config.imsi, self.config.realm.as_deref())
                .into_bytes(),
        }
    }

    fn preferred(&self) -> Method {
        self.config.methods.first().copied().unwrap_or(Method::Aka)
    }

    fn realm_of_permanent(&self) -> Option<Vec<u8>> {
        let p = self.permanent_identity(self.preferred());
        split_nai(&p).1.map(<[u8]>::to_vec)
    }

    fn allows_method(&self, m: Method) -> bool {
        self.config.methods.contains(&m)
    }

    fn new_session(&mut self) {
        self.s = Session::default();
    }

    // ---- responses -------------------------------------------------------------------

    fn client_error(&mut self, why: PeerFailure, ctx: &mut PeerCtx<'_>) -> PeerStep {
        let m = self.s.method.unwrap_or(Method::Aka);
        let mut w = MsgWriter::new(
            ctx.tx,
            Code::Response.value(),
            ctx.identifier,
            m,
            Subtype::ClientError,
        );
        let _ = w.attr(&Attribute::ClientErrorCode(0));
        w.finish(None, &[]);
        self.s.decision = Some(Decision::Fail);
        ctx.events.push_back(PeerEvent::Failure(why));
        PeerStep::Respond
    }

    fn auth_reject(&mut self, why: PeerFailure, ctx: &mut PeerCtx<'_>) -> PeerStep {
        let m = self.s.method.unwrap_or(Method::Aka);
        let w = MsgWriter::new(
            ctx.tx,
            Code::Response.value(),
            ctx.identifier,
            m,
            Subtype::AuthenticationReject,
        );
        w.finish(None, &[]);
        self.s.decision = Some(Decision::Fail);
        ctx.events.push_back(PeerEvent::Failure(why));
        PeerStep::Respond
    }

    // ---- AKA-Identity ------------------------------------------------------------------

    fn on_identity(
        &mut self,
        m: Method,
        packet: &[u8],
        a: &Attrs<'_>,
        ctx: &mut PeerCtx<'_>,
    ) -> PeerStep {
        let reqs = [a.any_id_req, a.fullauth_id_req, a.permanent_id_req];
        if reqs.iter().filter(|&&x| x).count() > 1 {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        }
        // RFC 4187 §4.1.5 as hostapd applies it: ANY only first, at most three rounds.
        let n = self.s.id_reqs;
        let too_many = (a.any_id_req && n > 0)
            || (a.fullauth_id_req && n > 1)
            || (a.permanent_id_req && n > 2);
        if too_many {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        }
        let identity: Option<Vec<u8>> = if a.any_id_req || a.fullauth_id_req || a.permanent_id_req {
            self.s.id_reqs += 1;
            let reauth_ok = self.reauth.as_ref().is_some_and(|r| r.method == m);
            if a.any_id_req && reauth_ok {
                self.s.using_reauth_id = true;
                self.reauth.as_ref().map(|r| r.id.clone().into_bytes())
            } else if (a.any_id_req || a.fullauth_id_req) && self.pseudonym.is_some() {
                self.s.using_reauth_id = false;
                self.reauth = None;
                self.pseudonym.clone().map(String::into_bytes)
            } else {
                self.s.using_reauth_id = false;
                self.reauth = None;
                if a.permanent_id_req {
                    // The server did not know the pseudonym.
                    self.pseudonym = None;
                }
                Some(self.permanent_identity(m))
            }
        } else {
            None
        };
        let cc = self.s.checkcode.get_or_insert_with(|| match m {
            Method::Aka => Checkcode::aka(),
            Method::AkaPrime => Checkcode::aka_prime(),
        });
        cc.update(packet);
        let mut w = MsgWriter::new(
            ctx.tx,
            Code::Response.value(),
            ctx.identifier,
            m,
            Subtype::Identity,
        );
        if let Some(id) = &identity {
            if w.attr(&Attribute::Identity(Padded::new(id))).is_err() {
                return self.client_error(PeerFailure::ProtocolError, ctx);
            }
        }
        w.finish(None, &[]);
        if let Some(cc) = &mut self.s.checkcode {
            cc.update(ctx.tx);
        }
        if identity.is_some() {
            self.s.at_identity = identity;
        }
        PeerStep::Respond
    }

    fn checkcode_ok(&self, received: Option<&[u8]>) -> bool {
        match (received, &self.s.checkcode) {
            (None, _) => true,
            (Some(r), Some(mine)) => mine.verify(r).is_ok(),
            (Some(r), None) => r.is_empty(),
        }
    }

    fn identity_for_keys(&self, m: Method) -> Vec<u8> {
        if let Some(i) = &self.s.at_identity {
            return i.clone();
        }
        if let Some(i) = &self.s.eap_identity {
            return i.clone();
        }
        self.permanent_identity(m)
    }

    // ---- AKA-Challenge -----------------------------------------------------------------

    fn on_challenge(
        &mut self,
        m: Method,
        packet: &[u8],
        a: &Attrs<'_>,
        ctx: &mut PeerCtx<'_>,
    ) -> PeerStep {
        if !self.checkcode_ok(a.checkcode) {
            return self.client_error(PeerFailure::BadCheckcode, ctx);
        }
        if m == Method::AkaPrime {
            let Some(name) = a.kdf_input.filter(|n| !n.is_empty()) else {
                return self.auth_reject(PeerFailure::Kdf, ctx);
            };
            if let (Some(mine), NetworkNamePolicy::Strict) =
                (&self.config.network_name, self.config.network_name_policy)
            {
                if !network_names_match(mine.as_bytes(), name) {
                    return self.auth_reject(PeerFailure::NetworkName, ctx);
                }
            }
            let kdfs = a.kdfs();
            if kdfs.is_empty() {
                return self.auth_reject(PeerFailure::Kdf, ctx);
            }
            if let Some(k) = self.s.kdf_requested {
                // RFC 9048 §3.2: exactly the requested change (selected KDF first, then the
                // original list).
                if kdfs[0] != k || kdfs[1..] != self.s.original_kdfs[..] {
                    return self.client_error(PeerFailure::Kdf, ctx);
                }
            } else {
                let dup = kdfs
                    .iter()
                    .enumerate()
                    .any(|(i, k)| kdfs[i + 1..].contains(k));
                if dup {
                    return self.auth_reject(PeerFailure::Kdf, ctx);
                }
                if self.s.last_kdfs.as_deref().is_some_and(|l| l != kdfs) {
                    return self.client_error(PeerFailure::Kdf, ctx);
                }
                if kdfs[0] != 1 {
                    if !kdfs.contains(&1) || kdfs.len() > KDF_MAX {
                        return self.auth_reject(PeerFailure::Kdf, ctx);
                    }
                    // Ask for KDF 1 and touch nothing else.
                    self.s.kdf_requested = Some(1);
                    self.s.original_kdfs = kdfs.to_vec();
                    let mut w = MsgWriter::new(
                        ctx.tx,
                        Code::Response.value(),
                        ctx.identifier,
                        m,
                        Subtype::Challenge,
                    );
                    let _ = w.attr(&Attribute::Kdf(1));
                    w.finish(None, &[]);
                    return PeerStep::Respond;
                }
            }
            self.s.last_kdfs = Some(kdfs.to_vec());
            self.s.network_name.clear();
            self.s.network_name.extend_from_slice(name);
        }
        let (Some(rand), Some(autn), true) = (a.rand, a.autn, a.mac) else {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        };
        let (res, ck, ik, amf) = match self.usim.authenticate(rand, autn) {
            UsimAnswer::MacFailure => return self.auth_reject(PeerFailure::AutnRejected, ctx),
            UsimAnswer::SyncFailure(auts) => {
                let mut w = MsgWriter::new(
                    ctx.tx,
                    Code::Response.value(),
                    ctx.identifier,
                    m,
                    Subtype::SynchronizationFailure,
                );
                let mut ok = w.attr(&Attribute::Auts(&auts)).is_ok();
                if m == Method::AkaPrime {
                    for &k in a.kdfs() {
                        ok &= w.attr(&Attribute::Kdf(k)).is_ok();
                    }
                }
                w.finish(None, &[]);
                if !ok {
                    return self.client_error(PeerFailure::ProtocolError, ctx);
                }
                ctx.events.push_back(PeerEvent::SyncFailureSent);
                return PeerStep::Respond;
            }
            UsimAnswer::Success(UsimOutcome::Success {
                res, ck, ik, amf, ..
            }) => (res, ck, ik, amf),
            UsimAnswer::Success(_) => return self.auth_reject(PeerFailure::AutnRejected, ctx),
        };
        let identity = self.identity_for_keys(m);
        let keys = match m {
            Method::Aka => Keys::Aka(
                AkaKeys::derive(&identity, ik.as_bytes(), ck.as_bytes()),
                None,
            ),
            Method::AkaPrime => {
                if amf[0] & 0x80 == 0 {
                    return self.auth_reject(PeerFailure::AmfSeparationBit, ctx);
                }
                let sqn_ak: [u8; 6] = [autn[0], autn[1], autn[2], autn[3], autn[4], autn[5]];
                match AkaPrimeKeys::derive_from_ck_ik(
                    &identity,
                    ck.as_bytes(),
                    ik.as_bytes(),
                    &self.s.network_name,
                    &sqn_ak,
                ) {
                    Ok(k) => Keys::AkaPrime(k, None),
                    Err(_) => return self.auth_reject(PeerFailure::Kdf, ctx),
                }
            }
        };
        if !verify_mac(mac_alg(m), keys.k_aut(), packet, &[]) {
            return self.client_error(PeerFailure::BadMac, ctx);
        }
        // RFC 9048 §4: both sides could have run EAP-AKA' — a bidding-down attack.
        if m == Method::Aka
            && a.bidding.is_some_and(|b| b & BIDDING_D != 0)
            && self.allows_method(Method::AkaPrime)
        {
            return self.auth_reject(PeerFailure::BiddingDown, ctx);
        }
        // The old re-authentication identity is spent; new ones come from this challenge.
        self.s.replace_reauth = true;
        self.s.pending_reauth = None;
        self.s.pending_pseudonym = None;
        if let Err(why) = self.learn(&keys, a, m, 0) {
            return self.client_error(why, ctx);
        }
        self.s.rand = *rand;
        self.s.autn = *autn;
        self.s.fast = None;
        let use_ri = self.config.result_ind && a.result_ind;
        self.s.decision = Some(if use_ri {
            Decision::WaitResult
        } else {
            Decision::CondSucc
        });
        let mut w = MsgWriter::new(
            ctx.tx,
            Code::Response.value(),
            ctx.identifier,
            m,
            Subtype::Challenge,
        );
        let mut res = res;
        if self.config.fault == Some(PeerFault::WrongRes) {
            for b in res.iter_mut() {
                *b ^= 0xff;
            }
        }
        let mut ok = w
            .attr(&Attribute::Res {
                res_bits: (res.len() * 8) as u16,
                res: &res,
                padding: &[],
            })
            .is_ok();
        let cc = self.s.checkcode.as_ref().map(|c| c.value());
        ok &= w
            .attr(&Attribute::Checkcode {
                reserved: 0,
                checkcode: cc.as_deref().unwrap_or(&[]),
            })
            .is_ok();
        if use_ri {
            ok &= w.attr(&Attribute::ResultInd { reserved: 0 }).is_ok();
        }
        w.mac();
        w.finish(keys.mac(), &[]);
        self.s.keys = Some(keys);
        if !ok {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        }
        PeerStep::Respond
    }

    /// Opens AT_ENCR_DATA of a Challenge or Reauthentication and stages the identities.
    fn learn(
        &mut self,
        keys: &Keys,
        a: &Attrs<'_>,
        m: Method,
        counter: u16,
    ) -> Result<(), PeerFailure> {
        let (iv, data) = match (a.iv, a.encr_data) {
            (Some(iv), Some(d)) => (iv, d),
            (None, None) => return Ok(()),
            _ => return Err(PeerFailure::ProtocolError),
        };
        let mut scratch = [0u8; 1024];
        let plain = decrypt_encr(keys.k_encr(), iv, data, &mut scratch)
            .map_err(|_| PeerFailure::ProtocolError)?;
        let inner = Attrs::parse(plain, true).map_err(|_| PeerFailure::ProtocolError)?;
        if let Some(p) = inner.next_pseudonym {
            let mut full = p.to_vec();
            // RFC 4187 §4.1.1.7: a pseudonym username gets the permanent identity's realm.
            if !full.contains(&b'@') {
                if let Some(realm) = self.realm_of_permanent() {
                    full.push(b'@');
                    full.extend_from_slice(&realm);
                }
            }
            self.s.pending_pseudonym = String::from_utf8(full).ok();
        }
        if let Some(r) = inner.next_reauth_id {
            if let Ok(id) = String::from_utf8(r.to_vec()) {
                self.s.pending_reauth = Some(ReauthState {
                    id,
                    method: m,
                    counter,
                    secrets: keys.reauth_secrets(),
                });
            }
        }
        Ok(())
    }

    // ---- fast re-authentication ------------------------------------------------------

    fn on_reauth(
        &mut self,
        m: Method,
        packet: &[u8],
        a: &Attrs<'_>,
        ctx: &mut PeerCtx<'_>,
    ) -> PeerStep {
        if !self.checkcode_ok(a.checkcode) {
            return self.client_error(PeerFailure::BadCheckcode, ctx);
        }
        let state = match &self.reauth {
            Some(r) if self.s.using_reauth_id && r.method == m => r.clone(),
            _ => return self.client_error(PeerFailure::ProtocolError, ctx),
        };
        let mut keys = Keys::from_reauth(&state.secrets);
        if !a.mac || !verify_mac(mac_alg(m), keys.k_aut(), packet, &[]) {
            return self.client_error(PeerFailure::BadMac, ctx);
        }
        let request_mac = mac_value(packet).unwrap_or([0; 16]);
        let (Some(iv), Some(data)) = (a.iv, a.encr_data) else {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        };
        let mut scratch = [0u8; 1024];
        let Ok(plain) = decrypt_encr(keys.k_encr(), iv, data, &mut scratch) else {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        };
        let Ok(inner) = Attrs::parse(plain, true) else {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        };
        let (Some(counter), Some(nonce_s)) = (inner.counter, inner.nonce_s) else {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        };
        let nonce_s = *nonce_s;
        // Spent in any case (one-time identity).
        self.reauth = None;
        if counter <= state.counter {
            // RFC 4187 §5.5: AT_COUNTER_TOO_SMALL; the server goes on with full
            // authentication and the re-authentication id stays the EAP identity.
            let mut w = MsgWriter::new(
                ctx.tx,
                Code::Response.value(),
                ctx.identifier,
                m,
                Subtype::Reauthentication,
            );
            let ivr = w.begin_encr(ctx.rng);
            let mut ok = w.attr(&Attribute::CounterTooSmall { reserved: 0 }).is_ok()
                && w.attr(&Attribute::Counter(counter)).is_ok();
            ok &= w.end_encr(keys.k_encr(), &ivr).is_ok();
            w.mac();
            w.finish(keys.mac(), &nonce_s);
            self.s.decision = Some(Decision::Fail);
            if !ok {
                return self.client_error(PeerFailure::ProtocolError, ctx);
            }
            return PeerStep::Respond;
        }
        let identity = state.id.as_bytes().to_vec();
        if !keys.derive_reauth(&identity, counter, &nonce_s) {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        }
        self.s.replace_reauth = true;
        self.s.pending_reauth = None;
        if let Err(why) = self.learn(&keys, a, m, counter) {
            return self.client_error(why, ctx);
        }
        self.s.pending_pseudonym = None;
        self.s.fast = Some((counter, nonce_s, request_mac));
        let use_ri = self.config.result_ind && a.result_ind;
        self.s.decision = Some(if use_ri {
            Decision::WaitResult
        } else {
            Decision::CondSucc
        });
        let mut w = MsgWriter::new(
            ctx.tx,
            Code::Response.value(),
            ctx.identifier,
            m,
            Subtype::Reauthentication,
        );
        let ivr = w.begin_encr(ctx.rng);
        let mut ok = w.attr(&Attribute::Counter(counter)).is_ok();
        ok &= w.end_encr(keys.k_encr(), &ivr).is_ok();
        let cc = self.s.checkcode.as_ref().map(|c| c.value());
        ok &= w
            .attr(&Attribute::Checkcode {
                reserved: 0,
                checkcode: cc.as_deref().unwrap_or(&[]),
            })
            .is_ok();
        if use_ri {
            ok &= w.attr(&Attribute::ResultInd { reserved: 0 }).is_ok();
        }
        w.mac();
        w.finish(keys.mac(), &nonce_s);
        self.s.keys = Some(keys);
        if !ok {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        }
        PeerStep::Respond
    }

    // ---- AKA-Notification --------------------------------------------------------------

    fn on_notification(
        &mut self,
        m: Method,
        packet: &[u8],
        a: &Attrs<'_>,
        ctx: &mut PeerCtx<'_>,
    ) -> PeerStep {
        self.s.notifications += 1;
        if self.s.notifications > 1 {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        }
        let Some(code) = a.notification else {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        };
        let after_auth = code & NOTIFICATION_P == 0;
        if after_auth {
            let authenticated = matches!(
                self.s.decision,
                Some(Decision::CondSucc | Decision::WaitResult)
            );
            let Some(keys) = self.s.keys.as_ref().filter(|_| authenticated) else {
                return self.client_error(PeerFailure::ProtocolError, ctx);
            };
            if !a.mac || !verify_mac(mac_alg(m), keys.k_aut(), packet, &[]) {
                return self.client_error(PeerFailure::BadMac, ctx);
            }
            if let Some((counter, _, _)) = self.s.fast {
                let ok = match (a.iv, a.encr_data) {
                    (Some(iv), Some(d)) => {
                        let mut scratch = [0u8; 1024];
                        decrypt_encr(keys.k_encr(), iv, d, &mut scratch)
                            .ok()
                            .and_then(|p| Attrs::parse(p, true).ok())
                            .is_some_and(|x| x.counter == Some(counter))
                    }
                    _ => false,
                };
                if !ok {
                    return self.client_error(PeerFailure::ProtocolError, ctx);
                }
            }
        }
        ctx.events.push_back(PeerEvent::Notification { code });
        if code & NOTIFICATION_S == 0 {
            self.s.decision = Some(Decision::Fail);
            ctx.events
                .push_back(PeerEvent::Failure(PeerFailure::Notification(code)));
        } else if code == 32768 && self.s.decision == Some(Decision::WaitResult) {
            self.s.decision = Some(Decision::UncondSucc);
        }
        let mut w = MsgWriter::new(
            ctx.tx,
            Code::Response.value(),
            ctx.identifier,
            m,
            Subtype::Notification,
        );
        let mut mac = None;
        let mut ok = true;
        if after_auth {
            if let Some(keys) = &self.s.keys {
                if let Some((counter, _, _)) = self.s.fast {
                    let iv = w.begin_encr(ctx.rng);
                    ok &= w.attr(&Attribute::Counter(counter)).is_ok();
                    ok &= w.end_encr(keys.k_encr(), &iv).is_ok();
                }
                w.mac();
                mac = keys.mac();
            }
        }
        w.finish(mac, &[]);
        if !ok {
            return self.client_error(PeerFailure::ProtocolError, ctx);
        }
        PeerStep::Respond
    }
}

impl PeerMethod for AkaPeer {
    fn allows(&self, typ: u8) -> bool {
        Method::from_eap_type(typ).is_some_and(|m| self.allows_method(m))
    }

    fn acceptable(&self) -> Vec<u8> {
        self.config.methods.iter().map(|m| m.eap_type()).collect()
    }

    fn eap_identity(&mut self) -> Vec<u8> {
        self.new_session();
        let pref = self.preferred();
        let id = match self.config.identity_choice {
            IdentityChoice::Auto
                if self
                    .reauth
                    .as_ref()
                    .is_some_and(|r| self.allows_method(r.method)) =>
            {
                self.s.using_reauth_id = true;
                self.reauth.as_ref().map(|r| r.id.clone().into_bytes())
            }
            IdentityChoice::Auto | IdentityChoice::PseudonymOrPermanent
                if self.pseudonym.is_some() =>
            {
                self.pseudonym.clone().map(String::into_bytes)
            }
            _ => None,
        }
        .unwrap_or_else(|| self.permanent_identity(pref));
        self.s.eap_identity = Some(id.clone());
        id
    }

    fn begin(&mut self) {
        self.new_session();
    }

    fn process(&mut self, typ: u8, packet: &[u8], ctx: &mut PeerCtx<'_>) -> PeerStep {
        let Some(m) = Method::from_eap_type(typ) else {
            return PeerStep::Discard("not an EAP-AKA type");
        };
        if self.s.method.is_some_and(|cur| cur != m) {
            // The server switched methods (after our Nak): start the method over.
            let eap_identity = self.s.eap_identity.take();
            let using = self.s.using_reauth_id;
            self.new_session();
            self.s.eap_identity = eap_identity;
            self.s.using_reauth_id = using;
        }
        self.s.method = Some(m);
        let Some((subtype, body)) = split_message(packet) else {
            return PeerStep::Discard("EAP-AKA header truncated");
        };
        let a = match Attrs::parse(body, false) {
            Ok(a) => a,
            Err(_) => return self.client_error(PeerFailure::ProtocolError, ctx),
        };
        match subtype {
            Subtype::Identity => self.on_identity(m, packet, &a, ctx),
            Subtype::Challenge => self.on_challenge(m, packet, &a, ctx),
            Subtype::Reauthentication => self.on_reauth(m, packet, &a, ctx),
            Subtype::Notification => self.on_notification(m, packet, &a, ctx),
            _ => self.client_error(PeerFailure::ProtocolError, ctx),
        }
    }

    fn success(&mut self, events: &mut VecDeque<PeerEvent>) -> bool {
        let ok = matches!(
            self.s.decision,
            Some(Decision::CondSucc | Decision::UncondSucc)
        );
        let (true, Some(keys), Some(m)) = (ok, &self.s.keys, self.s.method) else {
            self.s.pending_pseudonym = None;
            self.s.pending_reauth = None;
            return false;
        };
        if let Some(p) = self.s.pending_pseudonym.take() {
            events.push_back(PeerEvent::Pseudonym(p.clone()));
            self.pseudonym = Some(p);
        }
        if self.s.replace_reauth {
            self.reauth = self.s.pending_reauth.take();
            if let Some(r) = &self.reauth {
                events.push_back(PeerEvent::ReauthId(r.id.clone()));
            }
        }
        let (sid, fast) = match self.s.fast {
            Some((_, nonce_s, mac)) => (session_id(m, &nonce_s, &mac), true),
            None => (session_id(m, &self.s.rand, &self.s.autn), false),
        };
        let identity = match self.s.fast {
            Some(_) => self
                .s
                .at_identity
                .clone()
                .or_else(|| self.s.eap_identity.clone())
                .unwrap_or_default(),
            None => self.identity_for_keys(m),
        };
        events.push_back(PeerEvent::Success(Box::new(PeerSuccess {
            method: m,
            identity,
            msk: keys.msk().clone(),
            emsk: keys.emsk().clone(),
            session_id: sid,
            fast_reauth: fast,
        })));
        self.s.decision = Some(Decision::Fail);
        true
    }

    fn failure(&mut self) {
        self.s.pending_pseudonym = None;
        self.s.pending_reauth = None;
        self.s.decision = Some(Decision::Fail);
    }
}

/// The EAP peer with the AKA method: what tests, the load generator and the UE use.
pub type AkaEapPeer = super::EapPeer<AkaPeer>;

impl super::EapPeer<AkaPeer> {
    /// A peer with this configuration and USIM.
    pub fn aka(config: AkaPeerConfig, usim: Usim) -> Self {
        super::EapPeer::new(AkaPeer::new(config, usim))
    }
}
