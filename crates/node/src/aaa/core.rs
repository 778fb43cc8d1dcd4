//! The AAA's shared core: the embedded HSS glue (vectors from the store and Milenage,
//! resynchronisation, temporary identities), the EAP conversation driver both front ends
//! use, and the tables of conversations and authorized sessions.
//!
//! The driver is an `async fn` so that a store miss (a subscriber not cached, an SQN block
//! to reserve, a pseudonym to look up) can wait without blocking; the front ends poll it once
//! on their own task first ([`poll_once`]): with the subscriber cached and an SQN block in
//! memory it completes there and then, without a task switch. Otherwise it is spawned and
//! answers when ready.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use mobstrap_crypto::milenage::{AuthVector, Milenage};
use mobstrap_proto::eap::{
    AkaEapServer, AkaServerConfig, AuthSuccess, Discard, Event, FailureReason, Method, Need,
    ReauthContext, ReauthSecrets, Resync, ServerConfig, VectorError,
};
use mobstrap_store::{
    unix_now, AccessType, AkaMethod, HostRef, Imsi, PseudonymRecord, ReauthRecord, Store,
    StoredSubscriber,
};
use rand::RngCore;

use super::config::{AaaConfig, AccessPolicy};
use super::sessions::Table;

/// Which access the authentications of a conversation count as, checked against the
/// subscriber's `access_types` when the vector is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccessCheck {
    Any,
    Only(AccessType),
    /// STa: trusted access; `wlan` when RAT-Type is WLAN (trusted-wlan), otherwise
    /// trusted-non3gpp.
    Trusted {
        wlan: bool,
    },
}

impl From<AccessPolicy> for AccessCheck {
    fn from(p: AccessPolicy) -> Self {
        match p {
            AccessPolicy::Any => AccessCheck::Any,
            AccessPolicy::Only(a) => AccessCheck::Only(a),
        }
    }
}

/// TS 29.273 Experimental-Result codes the access check gives.
pub(crate) const ER_USER_UNKNOWN: u32 = 5001;
pub(crate) const ER_ROAMING_NOT_ALLOWED: u32 = 5004;
pub(crate) const ER_NO_NON_3GPP_SUBSCRIPTION: u32 = 5450;
pub(crate) const ER_NO_APN_SUBSCRIPTION: u32 = 5451;
pub(crate) const ER_RAT_TYPE_NOT_ALLOWED: u32 = 5452;

impl AccessCheck {
    /// `None` when allowed, else the Experimental-Result code explaining the refusal.
    fn refusal(self, sub: &StoredSubscriber) -> Option<u32> {
        let p = &sub.subscriber.profile;
        match self {
            AccessCheck::Any => None,
            AccessCheck::Only(a) => (!p.allows(a)).then_some(ER_NO_NON_3GPP_SUBSCRIPTION),
            AccessCheck::Trusted { wlan } => {
                let want = if wlan {
                    AccessType::TrustedWlan
                } else {
                    AccessType::TrustedNon3gpp
                };
                if p.allows(want) {
                    None
                } else if p.allows(AccessType::TrustedWlan) || p.allows(AccessType::TrustedNon3gpp)
                {
                    Some(ER_RAT_TYPE_NOT_ALLOWED)
                } else {
                    Some(ER_NO_NON_3GPP_SUBSCRIPTION)
                }
            }
        }
    }
}

/// Which front end a conversation belongs to (metrics labels, answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Front {
    Radius,
    /// Diameter application id (EAP, SWm, STa).
    Diameter(u32),
}

impl Front {
    pub fn label(self) -> &'static str {
        match self {
            Front::Radius => "radius",
            Front::Diameter(mobstrap_wire::diameter::app::SWM) => "swm",
            Front::Diameter(mobstrap_wire::diameter::app::STA) => "sta",
            Front::Diameter(_) => "eap",
        }
    }
}

/// One EAP conversation.
pub(crate) struct Conversation {
    pub eap: AkaEapServer,
    pub front: Front,
    pub access: AccessCheck,
    /// RADIUS client name / Diameter Origin-Host that started it: only it may continue it.
    pub owner: Arc<str>,
    /// The Experimental-Result when the access check refused the subscriber.
    pub denial: Option<u32>,
    /// Visited-Network-Identifier of a roaming request.
    pub visited: Option<String>,
    /// The LMA the MAG named in its request (MIP6-Agent-Info), for the MAG–LMA key.
    pub lma_hint: Option<HostRef>,
    /// Load the subscriber profile on success (Diameter answers carry it).
    pub want_profile: bool,
    /// With `want_profile`: the subscriber record this conversation's vector came from, so
    /// that the success needs no second look-up (it is the profile of the authentication).
    pub subscriber: Option<Arc<StoredSubscriber>>,
}

/// The outcome of feeding one message to a conversation.
pub(crate) enum Step {
    /// Send this EAP Request; the conversation continues.
    Request(Vec<u8>),
    /// EAP-Success: send it with the keys.
    Success {
        eap: Vec<u8>,
        ok: Box<AuthSuccess>,
        sub: Option<Arc<StoredSubscriber>>,
    },
    /// EAP-Failure (the packet may be absent for failures before any EAP exchange).
    Failure {
        eap: Option<Vec<u8>>,
        reason: FailureReason,
        method: Option<Method>,
    },
    /// Drop the message silently (RFC 3748 §4).
    Discard(Discard),
}

/// What starts or continues a conversation.
pub(crate) enum Input {
    /// EAP-Start (an empty EAP-Message / EAP-Payload): send EAP-Request/Identity.
    Start,
    /// An EAP Response.
    Response(Bytes),
}

/// The state shared by the front ends.
pub(crate) struct Core {
    pub store: Store,
    pub config: Arc<AaaConfig>,
    pub aka: Arc<AkaServerConfig>,
    pub server: ServerConfig,
    /// Unfinished RADIUS conversations by State.
    pub radius_conversations: Table<[u8; 16], Box<Conversation>>,
    /// Unfinished Diameter conversations by Session-Id.
    pub diameter_conversations: Table<String, Box<Conversation>>,
    /// Authorized Diameter sessions by Session-Id (mirrors the store's `aaa_session`).
    pub authorized: Table<String, super::diameter::Authorized>,
    /// Our Diameter identity (or the node name without Diameter).
    pub host: String,
}

impl Core {
    pub fn new_conversation(
        &self,
        front: Front,
        access: AccessCheck,
        owner: Arc<str>,
    ) -> Box<Conversation> {
        Box::new(Conversation {
            eap: AkaEapServer::aka(self.server.clone(), self.aka.clone()),
            front,
            access,
            owner,
            denial: None,
            visited: None,
            lma_hint: None,
            want_profile: matches!(front, Front::Diameter(_)),
            subscriber: None,
        })
    }

    /// The HSS: an authentication vector for `imsi`, with the SQN committed to the store
    /// before it is returned; after a Synchronization-Failure, MAC-S is checked and the
    /// counter moved above SQN_MS first.
    async fn vector(
        &self,
        imsi: &str,
        method: Method,
        resync: Option<Resync>,
        conv: &mut Conversation,
    ) -> Result<AuthVector, VectorError> {
        let Ok(imsi) = Imsi::new(imsi) else {
            return Err(VectorError::UnknownSubscriber);
        };
        let sub = match self.store.subscriber(&imsi).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(VectorError::UnknownSubscriber),
            Err(e) => {
                tracing::warn!(imsi = %imsi, error = %e, "store: subscriber lookup failed");
                return Err(VectorError::Unavailable);
            }
        };
        if let Some(code) = conv.access.refusal(&sub) {
            conv.denial = Some(code);
            tracing::debug!(imsi = %imsi, code, "access type not allowed for the subscriber");
            return Err(VectorError::NotAllowed);
        }
        let s = &sub.subscriber;
        let milenage = Milenage::new(s.k.as_bytes(), s.opc.as_bytes());
        if let Some(r) = resync {
            let sqn_ms = match milenage.resync(&r.rand, &r.auts) {
                Ok(v) => v,
                Err(_) => {
                    tracing::info!(imsi = %imsi, "resynchronisation refused: MAC-S does not verify");
                    metrics::counter!("aaa_resync_total", "result" => "mac_s_failed").increment(1);
                    return Err(VectorError::ResyncFailed);
                }
            };
            if let Err(e) = self.store.resync_sqn(&imsi, sqn_ms).await {
                tracing::warn!(imsi = %imsi, error = %e, "store: resync failed");
                return Err(VectorError::Unavailable);
            }
            metrics::counter!("aaa_resync_total", "result" => "ok").increment(1);
            tracing::debug!(imsi = %imsi, sqn_ms, "SQN resynchronised");
        }
        let sqn = match self.store.next_sqn(&imsi).await {
            Ok(v) => v,
            Err(mobstrap_store::Error::NotFound { .. }) => {
                return Err(VectorError::UnknownSubscriber)
            }
            Err(e) => {
                tracing::warn!(imsi = %imsi, error = %e, "store: SQN allocation failed");
                return Err(VectorError::Unavailable);
            }
        };
        let mut amf = s.amf.0;
        if method == Method::AkaPrime {
            // TS 33.402 §6.1 / RFC 9048 §3.3: the AMF separation bit for EAP-AKA'.
            amf[0] |= 0x80;
        }
        let mut rand = [0u8; 16];
        rand::rng().fill_bytes(&mut rand);
        let v = milenage
            .generate_vector(&rand, sqn, amf)
            .map_err(|_| VectorError::Unavailable)?;
        if conv.want_profile {
            conv.subscriber = Some(sub);
        }
        Ok(v)
    }

    async fn reauth_context(&self, id: &str) -> Option<ReauthContext> {
        // The identity was queued without waiting (`put_reauth_nowait`): a peer that comes
        // back at once may be ahead of its commit. On a miss, commit what is queued and
        // look again.
        let mut rec = self.store.take_reauth(id, unix_now()).await;
        if matches!(rec, Ok(None)) && self.store.flush().await.is_ok() {
            rec = self.store.take_reauth(id, unix_now()).await;
        }
        let rec = match rec {
            Ok(Some(r)) => r,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "store: re-authentication lookup failed");
                return None;
            }
        };
        let secrets = match rec.method {
            AkaMethod::Aka => ReauthSecrets::Aka {
                mk: mobstrap_crypto::SecretBytes::from_slice("mk", &rec.mk).ok()?,
                k_encr: mobstrap_crypto::SecretBytes::from_slice("k_encr", &rec.k_encr).ok()?,
                k_aut: mobstrap_crypto::SecretBytes::from_slice("k_aut", &rec.k_aut).ok()?,
            },
            AkaMethod::AkaPrime => ReauthSecrets::AkaPrime {
                k_encr: mobstrap_crypto::SecretBytes::from_slice("k_encr", &rec.k_encr).ok()?,
                k_aut: mobstrap_crypto::SecretBytes::from_slice("k_aut", &rec.k_aut).ok()?,
                k_re: mobstrap_crypto::SecretBytes::from_slice("k_re", &rec.k_re).ok()?,
            },
        };
        Some(ReauthContext {
            imsi: rec.imsi.as_str().to_string(),
            method: match rec.method {
                AkaMethod::Aka => Method::Aka,
                AkaMethod::AkaPrime => Method::AkaPrime,
            },
            // The store keeps the last counter used; the engine wants the next one.
            counter: rec.counter.saturating_add(1),
            secrets,
            // One network name per deployment: the record is valid under ours.
            network_name: Some(self.aka.network_name.clone()),
        })
    }

    fn store_reauth(&self, reauth_id: String, ctx: ReauthContext) {
        let Ok(imsi) = Imsi::new(&ctx.imsi) else {
            return;
        };
        let (method, mk, k_re, k_aut, k_encr) = match &ctx.secrets {
            ReauthSecrets::Aka { mk, k_encr, k_aut } => (
                AkaMethod::Aka,
                mk.as_bytes().to_vec(),
                Vec::new(),
                k_aut.as_bytes().to_vec(),
                k_encr.as_bytes().to_vec(),
            ),
            ReauthSecrets::AkaPrime {
                k_encr,
                k_aut,
                k_re,
            } => (
                AkaMethod::AkaPrime,
                Vec::new(),
                k_re.as_bytes().to_vec(),
                k_aut.as_bytes().to_vec(),
                k_encr.as_bytes().to_vec(),
            ),
        };
        let rec = ReauthRecord {
            username: reauth_id,
            imsi,
            method,
            counter: ctx.counter.saturating_sub(1),
            mk,
            k_re,
            k_aut,
            k_encr,
            expires_at: unix_now() + self.config.eap.reauth_lifetime.as_secs() as i64,
        };
        if let Err(e) = self.store.put_reauth_nowait(rec) {
            tracing::warn!(error = %e, "store: re-authentication identity not queued");
        }
    }

    fn store_pseudonym(&self, username: String, imsi: String, method: Method) {
        let Ok(imsi) = Imsi::new(&imsi) else { return };
        let rec = PseudonymRecord {
            username,
            imsi,
            method: match method {
                Method::Aka => AkaMethod::Aka,
                Method::AkaPrime => AkaMethod::AkaPrime,
            },
            expires_at: unix_now() + self.config.eap.pseudonym_lifetime.as_secs() as i64,
        };
        if let Err(e) = self.store.put_pseudonym_nowait(rec) {
            tracing::warn!(error = %e, "store: pseudonym not queued");
        }
    }
}

/// Feeds `input` to the conversation and answers every need of the engine until it has
/// something to send. Owns the conversation while it runs (it may be spawned).
pub(crate) async fn drive(
    core: Arc<Core>,
    mut conv: Box<Conversation>,
    input: Input,
) -> (Box<Conversation>, Step) {
    match input {
        Input::Start => conv.eap.start(&mut rand::rng()),
        Input::Response(b) => {
            if let Err(d) = conv.eap.handle_response(&b, &mut rand::rng()) {
                return (conv, Step::Discard(d));
            }
        }
    }
    let mut success = None;
    let mut failure = None;
    while let Some(ev) = conv.eap.poll_event() {
        match ev {
            Event::Need(Need::Vector {
                imsi,
                method,
                resync,
            }) => {
                let v = core.vector(&imsi, method, resync, &mut conv).await;
                conv.eap.provide_vector(v, &mut rand::rng());
            }
            Event::Need(Need::Pseudonym { username }) => {
                // Stored without waiting: on a miss, commit what is queued and look again.
                let mut found = core.store.pseudonym(&username, unix_now()).await;
                if matches!(found, Ok(None)) && core.store.flush().await.is_ok() {
                    found = core.store.pseudonym(&username, unix_now()).await;
                }
                let imsi = match found {
                    Ok(r) => r.map(|p| p.imsi.as_str().to_string()),
                    Err(e) => {
                        tracing::warn!(error = %e, "store: pseudonym lookup failed");
                        None
                    }
                };
                conv.eap.provide_pseudonym(imsi, &mut rand::rng());
            }
            Event::Need(Need::ReauthContext { reauth_id }) => {
                let ctx = core.reauth_context(&reauth_id).await;
                conv.eap.provide_reauth_context(ctx, &mut rand::rng());
            }
            Event::StorePseudonym {
                username,
                imsi,
                method,
            } => core.store_pseudonym(username, imsi, method),
            Event::StoreReauth { reauth_id, context } => core.store_reauth(reauth_id, context),
            // Taken (read and deleted) from the store when it was looked up.
            Event::ForgetReauth { .. } => {}
            Event::Success(s) => success = Some(s),
            Event::Failure(f) => failure = Some(f),
        }
    }
    let pkt = conv.eap.poll_transmit().map(<[u8]>::to_vec);
    if let Some(ok) = success {
        let sub = if conv.want_profile {
            match conv.subscriber.take() {
                Some(s) if s.subscriber.imsi.as_str() == ok.imsi => Some(s),
                // fast re-authentication (no vector) or another IMSI: look it up
                _ => match Imsi::new(&ok.imsi) {
                    Ok(i) => core.store.subscriber(&i).await.ok().flatten(),
                    Err(_) => None,
                },
            }
        } else {
            None
        };
        return (
            conv,
            Step::Success {
                eap: pkt.unwrap_or_else(|| vec![3, 0, 0, 4]),
                ok,
                sub,
            },
        );
    }
    if let Some(f) = failure {
        return (
            conv,
            Step::Failure {
                eap: pkt,
                reason: f.reason,
                method: f.method,
            },
        );
    }
    match pkt {
        Some(p) => (conv, Step::Request(p)),
        None => (conv, Step::Discard(Discard::Busy)),
    }
}

/// Polls a future once on the current task. `Ok` with its output when it completed, `Err`
/// with the future when it must wait (then spawn it).
pub(crate) fn poll_once<F: Future>(mut fut: Pin<Box<F>>) -> Result<F::Output, Pin<Box<F>>> {
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(v) => Ok(v),
        Poll::Pending => Err(fut),
    }
}

/// Metrics of one finished authentication.
pub(crate) fn count_auth(front: Front, step: &Step) {
    match step {
        Step::Success { ok, .. } => {
            metrics::counter!("aaa_authentications_total",
                "frontend" => front.label(), "method" => ok.method.name(), "result" => "success",
                "reason" => if ok.fast_reauth { "fast_reauth" } else { "full" })
            .increment(1);
        }
        Step::Failure { reason, method, .. } => {
            metrics::counter!("aaa_authentications_total",
                "frontend" => front.label(),
                "method" => method.map(|m| m.name()).unwrap_or("none"),
                "result" => "failure", "reason" => reason.label())
            .increment(1);
        }
        _ => {}
    }
}

/// 16 random octets (RADIUS State).
pub(crate) fn random_state() -> [u8; 16] {
    let mut s = [0u8; 16];
    rand::rng().fill_bytes(&mut s);
    s
}
