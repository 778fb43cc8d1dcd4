//! The Diameter applications of the AAA on the node's `DiameterNode`:
//!
//! * the EAP application (5, RFC 4072: DER/DEA, what freeDiameter's `app_radgw` speaks),
//!   with the PMIPv6 profile of RFC 5779 for a MAG that asks for it;
//! * SWm (16777264, TS 29.273 §7): DER/DEA from the ePDG, AAR/AAA resolving the APN to a
//!   gateway (seed 002 steps 9–10), STR/STA;
//! * STa (16777250, TS 29.273 §5): DER/DEA from a trusted access gateway (a MAG, seed 003)
//!   with Non-3GPP-User-Data, STR/STA;
//! * S6b (16777272, TS 29.273 §9): AAR/AAA from PDN GWs / LMAs, which register themselves
//!   for a user and APN and receive the MAG–LMA key of seed 003; STR/STA.
//!
//! Every request is processed by one `async fn` that the connection task polls once
//! (`core::poll_once`): with everything in memory the answer goes out at once; otherwise
//! it runs on its own task and answers through a `Responder`. What each answer carries is
//! written down in docs/aaa.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mobstrap_proto::diameter::rules::{self, AvpRule};
use mobstrap_proto::diameter::{rc, LocalIdentity, Rejection};
use mobstrap_proto::eap::{FailureReason, VectorError};
use mobstrap_store::{
    unix_now, AaaSessionRecord, AkaMethod, GatewaySelection, HostRef, Imsi, PermanentIdentity,
    SessionKind, StoredSubscriber,
};
use mobstrap_wire::diameter::commands::{self, app};
use mobstrap_wire::diameter::{dict, message::flags, AvpRepr as A, Message, MessageRepr};

use super::core::{
    count_auth, drive, poll_once, AccessCheck, Core, Front, Input, Step, ER_NO_APN_SUBSCRIPTION,
    ER_NO_NON_3GPP_SUBSCRIPTION, ER_ROAMING_NOT_ALLOWED, ER_USER_UNKNOWN,
};
use super::profile::{self, emit, Gateway, FEATURES, PMIP6_SUPPORTED};
use super::sessions::{Refused, Take};
use crate::diameter::{Application, Reply, Request};

/// An authorized Diameter session (memory mirror of the store's `aaa_session`).
#[derive(Debug, Clone)]
pub(crate) struct Authorized {
    pub imsi: String,
    pub nai: String,
    pub kind: SessionKind,
    pub peer: String,
    pub visited: Option<String>,
    pub expires: Instant,
    /// The stored session holds a MAG–LMA key (the AAR must not rewrite it).
    pub keyed: bool,
}

/// One application served on the node.
pub(crate) struct AaaApp {
    pub core: Arc<Core>,
    pub app: u32,
}

const EAP_CMDS: &[u32] = &[commands::DIAMETER_EAP, commands::SESSION_TERMINATION];
const SWM_CMDS: &[u32] = &[
    commands::DIAMETER_EAP,
    commands::AA,
    commands::SESSION_TERMINATION,
];
const S6B_CMDS: &[u32] = &[commands::AA, commands::SESSION_TERMINATION];

impl Application for AaaApp {
    fn commands(&self) -> &[u32] {
        match self.app {
            app::SWM => SWM_CMDS,
            app::S6B => S6B_CMDS,
            _ => EAP_CMDS,
        }
    }

    fn handle(&self, req: &Request<'_>) -> Reply {
        let started = Instant::now();
        let fut = Box::pin(process(
            self.core.clone(),
            self.app,
            req.bytes().clone(),
            req.identity_arc(),
            started,
        ));
        match poll_once(fut) {
            Ok(answer) => Reply::Answer(answer),
            Err(fut) => {
                let r = req.responder();
                tokio::spawn(async move {
                    let answer = fut.await;
                    r.send(answer);
                });
                Reply::Later
            }
        }
    }
}

/// The result an answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Res {
    Code(u32),
    Exp(u32),
}

/// The answer skeleton: Session-Id, Auth-Application-Id, Auth-Request-Type (echoed),
/// Result-Code or Experimental-Result, Origin-Host, Origin-Realm.
fn base<'a>(msg: &Message<'a>, id: &'a LocalIdentity, res: Res) -> MessageRepr<'a> {
    let mut a = MessageRepr::answer_to(msg);
    a.push(A::u32(
        &dict::AUTH_APPLICATION_ID,
        msg.header.application_id,
    ));
    if let Some(t) = msg
        .get(&dict::AUTH_REQUEST_TYPE_AVP)
        .and_then(|x| x.enumerated().ok())
    {
        a.push(A::enumerated(&dict::AUTH_REQUEST_TYPE_AVP, t));
    }
    match res {
        Res::Code(c) => {
            a.push(A::u32(&dict::RESULT_CODE, c));
            if rc::is_protocol_error(c) {
                a.header.flags |= flags::ERROR;
            }
        }
        Res::Exp(c) => {
            a.push(profile::experimental_result(c));
        }
    }
    a.push(A::utf8(&dict::ORIGIN_HOST, &id.origin_host));
    a.push(A::utf8(&dict::ORIGIN_REALM, &id.origin_realm));
    a
}

/// Emits `a`, then the pre-encoded AVPs `extra`, then the request's Proxy-Info.
fn finish(mut a: MessageRepr<'_>, msg: &Message<'_>, extra: &[u8]) -> Vec<u8> {
    let mut tail = Vec::new();
    let mut pi = MessageRepr {
        header: a.header,
        avps: Vec::new(),
    };
    pi.push_proxy_info(msg);
    for p in &pi.avps {
        emit(&mut tail, p);
    }
    a.avps.shrink_to_fit();
    let mut out = Vec::with_capacity(a.buffer_len() + extra.len() + tail.len());
    if a.emit(&mut out).is_err() {
        return Vec::new();
    }
    out.extend_from_slice(extra);
    out.extend_from_slice(&tail);
    let len = out.len() as u32;
    if out.len() >= 4 && len <= 0x00ff_ffff {
        out[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
    }
    out
}

fn reject(msg: &Message<'_>, id: &LocalIdentity, r: &Rejection) -> Vec<u8> {
    metrics::counter!("aaa_diameter_rejected_total", "result" => r.result_code.to_string())
        .increment(1);
    tracing::info!(
        command = msg.header.command_code,
        session = msg.session_id().unwrap_or(""),
        "diameter request refused: {r}"
    );
    let mut v = Vec::new();
    rules::answer_error(msg, id, r, &mut v);
    v
}

async fn process(
    core: Arc<Core>,
    app_id: u32,
    bytes: Bytes,
    id: Arc<LocalIdentity>,
    started: Instant,
) -> Vec<u8> {
    let msg = match Message::parse(&bytes) {
        Ok(m) => m,
        Err(e) => {
            // Validated by the stack already; answer something sane anyway.
            let mut v = Vec::new();
            let r = Rejection::new(rc::UNABLE_TO_COMPLY, e.to_string());
            rules::answer_malformed(&bytes, &id, &r, &mut v);
            return v;
        }
    };
    let label = Front::Diameter(app_id).label();
    let (answer, what) = match msg.header.command_code {
        commands::DIAMETER_EAP => (der(&core, app_id, &bytes, &msg, &id).await, "der"),
        commands::AA if app_id == app::S6B => (s6b_aar(&core, &msg, &id).await, "s6b_aar"),
        commands::AA => (swm_aar(&core, &msg, &id).await, "aar"),
        commands::SESSION_TERMINATION => (str_(&core, &msg, &id).await, "str"),
        c => (
            reject(
                &msg,
                &id,
                &Rejection::new(rc::COMMAND_UNSUPPORTED, format!("command {c}")),
            ),
            "other",
        ),
    };
    metrics::histogram!("aaa_request_duration_seconds", "frontend" => label, "command" => what)
        .record(started.elapsed().as_secs_f64());
    answer
}

/// The Visited-Network-Identifier of a request, when it names a network that is not ours.
fn visited_network(core: &Core, msg: &Message<'_>) -> Option<String> {
    let v = msg.get(&dict::VISITED_NETWORK_IDENTIFIER)?;
    let s = String::from_utf8_lossy(v.octets()).into_owned();
    let home = core.config.home_realms();
    (!home.iter().any(|h| h.eq_ignore_ascii_case(&s))).then_some(s)
}

fn roaming_allowed(core: &Core, visited: &str) -> bool {
    core.config
        .roaming
        .allowed_visited_networks
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(visited))
}

fn der_rules(app_id: u32) -> Vec<AvpRule> {
    let mut r = vec![
        AvpRule::required(&dict::SESSION_ID),
        AvpRule::required(&dict::AUTH_APPLICATION_ID),
        AvpRule::required(&dict::ORIGIN_HOST),
        AvpRule::required(&dict::ORIGIN_REALM),
        AvpRule::required(&dict::DESTINATION_REALM),
        AvpRule::required(&dict::AUTH_REQUEST_TYPE_AVP),
        AvpRule::required(&dict::EAP_PAYLOAD),
        AvpRule::optional(&dict::DESTINATION_HOST),
        AvpRule::optional(&dict::SERVICE_SELECTION),
        AvpRule::optional(&dict::VISITED_NETWORK_IDENTIFIER),
        AvpRule::optional(&dict::MIP6_FEATURE_VECTOR),
    ];
    match app_id {
        app::SWM => r.push(AvpRule::required(&dict::USER_NAME)),
        app::STA => {
            r.push(AvpRule::required(&dict::USER_NAME));
            r.push(AvpRule::required(&dict::RAT_TYPE_AVP));
            r.push(AvpRule::optional(&dict::AN_TRUSTED_AVP));
        }
        _ => r.push(AvpRule::optional(&dict::USER_NAME)),
    }
    r
}

async fn der(
    core: &Arc<Core>,
    app_id: u32,
    bytes: &Bytes,
    msg: &Message<'_>,
    id: &LocalIdentity,
) -> Vec<u8> {
    if let Err(r) = rules::check_avps(msg, &der_rules(app_id)) {
        return reject(msg, id, &r);
    }
    let (Some(sid), Some(payload), Some(origin)) = (
        msg.session_id(),
        msg.get(&dict::EAP_PAYLOAD),
        msg.get(&dict::ORIGIN_HOST).and_then(|a| a.utf8().ok()),
    ) else {
        return reject(msg, id, &Rejection::missing(&dict::SESSION_ID));
    };
    let now = Instant::now();
    let visited = visited_network(core, msg);
    if let Some(v) = &visited {
        if !roaming_allowed(core, v) {
            tracing::info!(session = sid, visited = %v, "DER from a visited network that may not serve our subscribers");
            metrics::counter!("aaa_authentications_total", "frontend" => Front::Diameter(app_id).label(),
                "method" => "none", "result" => "failure", "reason" => "roaming_not_allowed")
            .increment(1);
            let a = base(msg, id, Res::Exp(ER_ROAMING_NOT_ALLOWED));
            let mut extra = Vec::new();
            if let Some(i) = payload.octets().get(1) {
                emit(&mut extra, &A::octets(&dict::EAP_PAYLOAD, &[4, *i, 0, 4]));
            }
            return finish(a, msg, &extra);
        }
    }
    // Continue the conversation, or start one.
    let (conv, input) = match core.diameter_conversations.take(sid, now) {
        Take::Got(c) => {
            if !c.owner.eq_ignore_ascii_case(origin) {
                core.diameter_conversations.put(sid, c, now);
                return reject(
                    msg,
                    id,
                    &Rejection::new(
                        rc::UNABLE_TO_COMPLY,
                        "Session-Id belongs to another client's EAP conversation",
                    ),
                );
            }
            (c, Input::Response(bytes.slice_ref(payload.octets())))
        }
        Take::Busy => {
            return reject(
                msg,
                id,
                &Rejection::new(
                    rc::TOO_BUSY,
                    "a request of this EAP conversation is still being processed",
                ),
            );
        }
        Take::Unknown => {
            if let Err(r) = core
                .diameter_conversations
                .insert_busy(sid.to_string(), now)
            {
                let why = match r {
                    Refused::Full => "too many unfinished EAP conversations",
                    Refused::Exists => "a request of this EAP conversation is being processed",
                };
                return reject(msg, id, &Rejection::new(rc::TOO_BUSY, why));
            }
            let access = match app_id {
                app::SWM => AccessCheck::Only(mobstrap_store::AccessType::UntrustedWlan),
                app::STA => AccessCheck::Trusted {
                    wlan: msg
                        .get(&dict::RAT_TYPE_AVP)
                        .and_then(|a| a.enumerated().ok())
                        == Some(0),
                },
                _ => core.config.eap.eap_application_access_type.into(),
            };
            let mut c = core.new_conversation(Front::Diameter(app_id), access, Arc::from(origin));
            c.visited = visited;
            c.lma_hint =
                msg.get(&dict::MIP6_AGENT_INFO)
                    .and_then(|a| match profile::read_agent_info(&a) {
                        (_, Some(h)) => HostRef::parse("lma", &h).ok(),
                        (Some(ip), None) => Some(HostRef::Address(ip)),
                        _ => None,
                    });
            let input = if payload.octets().is_empty() {
                Input::Start
            } else {
                Input::Response(bytes.slice_ref(payload.octets()))
            };
            (c, input)
        }
    };
    let (conv, step) = drive(core.clone(), conv, input).await;
    let front = conv.front;
    match &step {
        Step::Request(eap) => {
            core.diameter_conversations.put(sid, conv, Instant::now());
            let a = base(msg, id, Res::Code(1001));
            let mut extra = Vec::with_capacity(eap.len() + 24);
            emit(&mut extra, &A::octets(&dict::EAP_PAYLOAD, eap));
            emit(
                &mut extra,
                &A::u32(
                    &dict::MULTI_ROUND_TIME_OUT,
                    core.config.eap.session_idle_timeout.as_secs().max(1) as u32,
                ),
            );
            finish(a, msg, &extra)
        }
        Step::Discard(why) => {
            // RFC 4072 §4.1.2: the Response was discarded; the previous Request is
            // re-issued for the client to retransmit.
            tracing::debug!(session = sid, "EAP-Payload discarded: {why}");
            metrics::counter!("aaa_eap_discarded_total", "frontend" => front.label()).increment(1);
            let last = conv.eap.last_request().map(<[u8]>::to_vec);
            if last.is_some() {
                core.diameter_conversations.put(sid, conv, Instant::now());
            } else {
                core.diameter_conversations.remove(sid);
            }
            let mut a = base(msg, id, Res::Code(rc::UNABLE_TO_COMPLY));
            let text = format!("EAP-Payload discarded: {why}");
            a.push(A::utf8(&dict::ERROR_MESSAGE, &text));
            let mut extra = Vec::new();
            if let Some(l) = &last {
                emit(&mut extra, &A::octets(&dict::EAP_REISSUED_PAYLOAD, l));
            }
            finish(a, msg, &extra)
        }
        Step::Failure {
            eap,
            reason,
            method,
        } => {
            core.diameter_conversations.remove(sid);
            count_auth(front, &step);
            let res = failure_result(app_id, *reason, conv.denial);
            tracing::info!(
                session = sid,
                reason = reason.label(),
                method = method.map(|m| m.name()).unwrap_or("none"),
                imsi = conv.eap.method().imsi().unwrap_or(""),
                "diameter: authentication failed"
            );
            let a = base(msg, id, res);
            let mut extra = Vec::new();
            if let Some(e) = eap {
                emit(&mut extra, &A::octets(&dict::EAP_PAYLOAD, e));
            }
            finish(a, msg, &extra)
        }
        Step::Success { eap, ok, sub } => {
            core.diameter_conversations.remove(sid);
            count_auth(front, &step);
            tracing::debug!(session = sid, imsi = %ok.imsi, method = %ok.method, fast_reauth = ok.fast_reauth,
                "diameter: authentication succeeded");
            let Some(sub) = sub else {
                // The subscriber vanished between the vector and now (or the store failed).
                let a = base(msg, id, Res::Code(rc::UNABLE_TO_COMPLY));
                return finish(a, msg, &[]);
            };
            success(core, app_id, msg, id, &conv, eap, ok, sub, origin).await
        }
    }
}

fn failure_result(app_id: u32, reason: FailureReason, denial: Option<u32>) -> Res {
    let three_gpp = app_id == app::SWM || app_id == app::STA;
    match reason {
        FailureReason::NoVector(VectorError::UnknownSubscriber) if three_gpp => {
            Res::Exp(ER_USER_UNKNOWN)
        }
        FailureReason::NoVector(VectorError::NotAllowed) if three_gpp => {
            Res::Exp(denial.unwrap_or(ER_NO_NON_3GPP_SUBSCRIPTION))
        }
        FailureReason::NoVector(VectorError::NotAllowed) => Res::Code(5003),
        FailureReason::NoVector(VectorError::Unavailable) => Res::Code(rc::UNABLE_TO_COMPLY),
        _ => Res::Code(4001),
    }
}

/// The permanent NAI of the subscriber (Mobile-Node-Identifier).
fn permanent_nai(sub: &StoredSubscriber, method: mobstrap_proto::eap::Method) -> String {
    sub.subscriber.permanent_identity(match method {
        mobstrap_proto::eap::Method::Aka => AkaMethod::Aka,
        mobstrap_proto::eap::Method::AkaPrime => AkaMethod::AkaPrime,
    })
}

#[allow(clippy::too_many_arguments)]
async fn success(
    core: &Arc<Core>,
    app_id: u32,
    msg: &Message<'_>,
    id: &LocalIdentity,
    conv: &super::core::Conversation,
    eap: &[u8],
    ok: &mobstrap_proto::eap::AuthSuccess,
    sub: &StoredSubscriber,
    origin: &str,
) -> Vec<u8> {
    let sid = msg.session_id().unwrap_or("");
    let cfg = &core.config;
    let nai = permanent_nai(sub, ok.method);
    let p = &sub.subscriber.profile;
    // The MAG–LMA key (seed 003): for the LMA the MAG named, else the profile's.
    let lma = conv.lma_hint.clone().or_else(|| p.home_agent.clone());
    let key = match (&lma, cfg.keys.mag_lma) {
        (Some(l), true) => mobstrap_crypto::erp::pmip6_mag_lma_key(
            ok.emsk.as_bytes(),
            &profile::lma_identity_octets(l),
        )
        .ok()
        .map(|k| (k, l.to_string())),
        _ => None,
    };
    let lifetime = cfg.apn.session_timeout;
    let kind = match app_id {
        app::SWM => SessionKind::Swm,
        app::STA => SessionKind::Sta,
        _ => SessionKind::Eap,
    };
    core.authorized.put(
        sid,
        Authorized {
            imsi: ok.imsi.clone(),
            nai: nai.clone(),
            kind,
            peer: origin.to_string(),
            visited: conv.visited.clone(),
            expires: Instant::now() + lifetime,
            keyed: key.is_some(),
        },
        Instant::now(),
    );
    let now = unix_now();
    let rec = AaaSessionRecord {
        session_id: sid.to_string(),
        imsi: sub.subscriber.imsi.clone(),
        kind,
        peer: origin.to_string(),
        aaa_host: core.host.clone(),
        nai: nai.clone(),
        apn: None,
        gateway_host: None,
        gateway_address: None,
        visited_network: conv.visited.clone(),
        mag_lma_key: key
            .as_ref()
            .map(|(k, _)| k.as_bytes().to_vec())
            .unwrap_or_default(),
        lma_identity: key.as_ref().map(|(_, l)| l.clone()),
        created_ms: unix_ms(),
        expires_at: now + lifetime.as_secs() as i64,
    };
    if key.is_some() {
        // The LMA will ask for this key over S6b, maybe at another AAA node: committed
        // before the MAG has it.
        if let Err(e) = core.store.put_session(rec).await {
            tracing::warn!(session = sid, error = %e, "store: session with MAG-LMA key not stored");
            let a = base(msg, id, Res::Code(rc::UNABLE_TO_COMPLY));
            return finish(a, msg, &[]);
        }
    } else if let Err(e) = core.store.put_session_nowait(rec) {
        tracing::warn!(session = sid, error = %e, "store: session not queued");
    }

    let mut a = base(msg, id, Res::Code(rc::SUCCESS));
    let mut extra = Vec::with_capacity(512);
    emit(&mut extra, &A::octets(&dict::EAP_PAYLOAD, eap));
    emit(
        &mut extra,
        &A::octets(&dict::EAP_MASTER_SESSION_KEY, ok.msk.as_bytes()),
    );
    if let Ok(u) = std::str::from_utf8(&ok.identity) {
        emit(&mut extra, &A::utf8(&dict::USER_NAME, u));
    }
    let asked_features = msg
        .get(&dict::MIP6_FEATURE_VECTOR)
        .and_then(|a| a.u64().ok());
    let pmip_asked = asked_features.is_some_and(|f| f & PMIP6_SUPPORTED != 0);
    let three_gpp = app_id == app::SWM || app_id == app::STA;
    if three_gpp || pmip_asked {
        emit(&mut extra, &A::utf8(&dict::MOBILE_NODE_IDENTIFIER, &nai));
    }
    match app_id {
        app::SWM => {
            profile::all_apn_configurations(&mut extra, sub, &cfg.apn.dynamic_gateways);
        }
        app::STA => {
            emit(&mut extra, &A::enumerated(&dict::AN_TRUSTED_AVP, 0));
            profile::non_3gpp_user_data(&mut extra, sub, &cfg.apn.dynamic_gateways);
        }
        _ => {}
    }
    if three_gpp || pmip_asked {
        if let Some(f) = asked_features {
            emit(
                &mut extra,
                &A::u64(&dict::MIP6_FEATURE_VECTOR, f & FEATURES),
            );
        }
        let lma_gw = lma.as_ref().map(Gateway::from_host_ref);
        profile::pmip6_profile(&mut extra, sub, lma_gw.as_ref());
    }
    if let Some((k, l)) = &key {
        profile::key_avp(
            &mut extra,
            k.as_bytes(),
            cfg.keys.mag_lma_lifetime.as_secs() as u32,
            l,
        );
    }
    a.push(A::u32(&dict::SESSION_TIMEOUT, lifetime.as_secs() as u32));
    finish(a, msg, &extra)
}

/// The session an AAR/STR names: memory first, then the store (another node's).
async fn find_session(core: &Core, sid: &str) -> Option<Authorized> {
    if let Some(a) = core.authorized.with(sid, |a| a.clone()) {
        if a.expires > Instant::now() {
            return Some(a);
        }
    }
    match core.store.session(sid, unix_now()).await {
        Ok(Some(r)) => Some(Authorized {
            imsi: r.imsi.as_str().to_string(),
            nai: r.nai.clone(),
            kind: r.kind,
            peer: r.peer.clone(),
            visited: r.visited_network.clone(),
            expires: Instant::now()
                + Duration::from_secs((r.expires_at - unix_now()).max(0) as u64),
            keyed: !r.mag_lma_key.is_empty(),
        }),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(session = sid, error = %e, "store: session lookup failed");
            None
        }
    }
}

/// The gateway a `dynamic` APN resolves to for this subscriber: a PDN GW registered over
/// S6b for the user and APN (handover keeps the anchor), else `[apn] dynamic_gateways`.
async fn resolve_dynamic(core: &Core, imsi: &Imsi, apn: &str) -> Option<Gateway> {
    if let Ok(list) = core.store.sessions_for(imsi, unix_now()).await {
        for r in list.iter().filter(|r| r.kind == SessionKind::S6b) {
            if r.apn
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(apn))
            {
                if let Some(a) = r.gateway_address.as_deref().and_then(|a| a.parse().ok()) {
                    return Some(Gateway::Address(a));
                }
                if let Some(h) = &r.gateway_host {
                    return Some(Gateway::Host(h.clone()));
                }
            }
        }
    }
    profile::dynamic_choice(&core.config.apn.dynamic_gateways, imsi.as_str(), apn)
        .and_then(Gateway::from_selection)
}

fn aar_rules() -> [AvpRule; 8] {
    [
        AvpRule::required(&dict::SESSION_ID),
        AvpRule::required(&dict::AUTH_APPLICATION_ID),
        AvpRule::required(&dict::ORIGIN_HOST),
        AvpRule::required(&dict::ORIGIN_REALM),
        AvpRule::required(&dict::DESTINATION_REALM),
        AvpRule::required(&dict::AUTH_REQUEST_TYPE_AVP),
        AvpRule::required(&dict::USER_NAME),
        AvpRule::optional(&dict::SERVICE_SELECTION),
    ]
}

/// SWm AAR (seed 002 step 9): authorize the APN of an authenticated session and resolve
/// it to a gateway (step 10).
async fn swm_aar(core: &Arc<Core>, msg: &Message<'_>, id: &LocalIdentity) -> Vec<u8> {
    if let Err(r) = rules::check_avps(msg, &aar_rules()) {
        return reject(msg, id, &r);
    }
    let sid = msg.session_id().unwrap_or("");
    let count = |result: &'static str| {
        metrics::counter!("aaa_authorizations_total", "interface" => "swm", "result" => result)
            .increment(1);
    };
    let Some(session) = find_session(core, sid).await else {
        count("unknown_session");
        return reject(
            msg,
            id,
            &Rejection::new(
                5002,
                "no authenticated session with this Session-Id (DER/DEA first)",
            ),
        );
    };
    if session.kind != SessionKind::Swm {
        count("wrong_interface");
        return reject(
            msg,
            id,
            &Rejection::new(5003, "the session was not authenticated over SWm"),
        );
    }
    let user = msg
        .get(&dict::USER_NAME)
        .and_then(|a| a.utf8().ok())
        .unwrap_or("");
    if let Some(p) = PermanentIdentity::parse(user) {
        if p.imsi.as_str() != session.imsi {
            count("identity_mismatch");
            return reject(
                msg,
                id,
                &Rejection::new(5003, "User-Name is not the session's subscriber"),
            );
        }
    }
    let Ok(imsi) = Imsi::new(&session.imsi) else {
        count("user_unknown");
        return finish(base(msg, id, Res::Exp(ER_USER_UNKNOWN)), msg, &[]);
    };
    let sub = match core.store.subscriber(&imsi).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            count("user_unknown");
            return finish(base(msg, id, Res::Exp(ER_USER_UNKNOWN)), msg, &[]);
        }
        Err(e) => {
            tracing::warn!(error = %e, "store: subscriber lookup failed");
            return finish(base(msg, id, Res::Code(rc::UNABLE_TO_COMPLY)), msg, &[]);
        }
    };
    let p = &sub.subscriber.profile;
    if !p.allows(mobstrap_store::AccessType::UntrustedWlan) {
        count("no_non3gpp_subscription");
        return finish(
            base(msg, id, Res::Exp(ER_NO_NON_3GPP_SUBSCRIPTION)),
            msg,
            &[],
        );
    }
    let visited = visited_network(core, msg).or(session.visited.clone());
    if let Some(v) = &visited {
        if !roaming_allowed(core, v) {
            count("roaming_not_allowed");
            return finish(base(msg, id, Res::Exp(ER_ROAMING_NOT_ALLOWED)), msg, &[]);
        }
    }
    let requested = msg
        .get(&dict::SERVICE_SELECTION)
        .and_then(|a| a.utf8().ok());
    let apn = match requested {
        Some(r) => p.apn(r),
        None => p.default_apn(),
    };
    let Some(apn) = apn else {
        count("apn_not_allowed");
        tracing::info!(session = sid, imsi = %imsi, apn = requested.unwrap_or(""), "AAR: APN not in the subscription");
        let mut a = base(msg, id, Res::Exp(ER_NO_APN_SUBSCRIPTION));
        if let Some(s) = msg.get(&dict::SERVICE_SELECTION) {
            let raw = s.raw().to_vec();
            let mut extra = Vec::new();
            emit(
                &mut extra,
                &A::new(
                    &dict::FAILED_AVP,
                    mobstrap_wire::diameter::Value::Octets(&raw),
                ),
            );
            a.push(A::utf8(&dict::ERROR_MESSAGE, "APN not in the subscription"));
            return finish(a, msg, &extra);
        }
        return finish(a, msg, &[]);
    };
    let name = match requested {
        Some(r) if apn.apn == "*" => r.to_ascii_lowercase(),
        _ => apn.apn.clone(),
    };
    let gateway = match &apn.gateway {
        GatewaySelection::Dynamic => resolve_dynamic(core, &imsi, &name).await,
        g => Gateway::from_selection(g),
    };
    count("success");
    tracing::debug!(session = sid, imsi = %imsi, apn = %name, gateway = ?gateway, "AAR: APN resolved");
    // Remember the APN of the session (another node's AAR/STR sees it).
    let now = unix_now();
    let rec = AaaSessionRecord {
        session_id: sid.to_string(),
        imsi: imsi.clone(),
        kind: SessionKind::Swm,
        peer: session.peer.clone(),
        aaa_host: core.host.clone(),
        nai: session.nai.clone(),
        apn: Some(name.clone()),
        gateway_host: None,
        gateway_address: None,
        visited_network: visited.clone(),
        mag_lma_key: Vec::new(),
        lma_identity: None,
        created_ms: unix_ms(),
        expires_at: now + core.config.apn.session_timeout.as_secs() as i64,
    };
    // Keep a key stored by the DER's success: only sessions without one are rewritten.
    if !session.keyed {
        let _ = core.store.put_session_nowait(rec);
    }
    let mut a = base(msg, id, Res::Code(rc::SUCCESS));
    a.push(A::u32(
        &dict::SESSION_TIMEOUT,
        core.config.apn.session_timeout.as_secs() as u32,
    ));
    let mut extra = Vec::new();
    emit(
        &mut extra,
        &A::utf8(&dict::MOBILE_NODE_IDENTIFIER, &session.nai),
    );
    profile::apn_configuration(
        &mut extra,
        &sub,
        apn,
        &name,
        profile::context_id(&sub, apn),
        gateway.as_ref(),
    );
    finish(a, msg, &extra)
}

/// S6b AAR from a PDN GW / LMA: registers it for the user and APN; hands it the MAG–LMA
/// key derived for it.
async fn s6b_aar(core: &Arc<Core>, msg: &Message<'_>, id: &LocalIdentity) -> Vec<u8> {
    if let Err(r) = rules::check_avps(msg, &aar_rules()) {
        return reject(msg, id, &r);
    }
    let count = |result: &'static str| {
        metrics::counter!("aaa_authorizations_total", "interface" => "s6b", "result" => result)
            .increment(1);
    };
    let sid = msg.session_id().unwrap_or("");
    let origin = msg
        .get(&dict::ORIGIN_HOST)
        .and_then(|a| a.utf8().ok())
        .unwrap_or("")
        .to_string();
    let user = msg
        .get(&dict::USER_NAME)
        .and_then(|a| a.utf8().ok())
        .unwrap_or("");
    let Some(pid) = PermanentIdentity::parse(user) else {
        count("user_unknown");
        return finish(base(msg, id, Res::Exp(ER_USER_UNKNOWN)), msg, &[]);
    };
    let sub = match core.store.subscriber(&pid.imsi).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            count("user_unknown");
            return finish(base(msg, id, Res::Exp(ER_USER_UNKNOWN)), msg, &[]);
        }
        Err(e) => {
            tracing::warn!(error = %e, "store: subscriber lookup failed");
            return finish(base(msg, id, Res::Code(rc::UNABLE_TO_COMPLY)), msg, &[]);
        }
    };
    let p = &sub.subscriber.profile;
    let requested = msg
        .get(&dict::SERVICE_SELECTION)
        .and_then(|a| a.utf8().ok());
    if let Some(r) = requested {
        if p.apn(r).is_none() {
            count("apn_not_allowed");
            let mut a = base(msg, id, Res::Exp(ER_NO_APN_SUBSCRIPTION));
            a.push(A::utf8(&dict::ERROR_MESSAGE, "APN not in the subscription"));
            let raw = msg
                .get(&dict::SERVICE_SELECTION)
                .map(|s| s.raw().to_vec())
                .unwrap_or_default();
            let mut extra = Vec::new();
            emit(
                &mut extra,
                &A::new(
                    &dict::FAILED_AVP,
                    mobstrap_wire::diameter::Value::Octets(&raw),
                ),
            );
            return finish(a, msg, &extra);
        }
    }
    let (gw_addr, gw_host) = msg
        .get(&dict::MIP6_AGENT_INFO)
        .map(|a| profile::read_agent_info(&a))
        .unwrap_or((None, None));
    let gw_host = gw_host.unwrap_or_else(|| origin.to_ascii_lowercase());
    // The MAG–LMA key derived for this LMA, from the newest session that has one.
    let now = unix_now();
    let mut key: Option<(Vec<u8>, String)> = None;
    match core.store.sessions_for(&pid.imsi, now).await {
        Ok(list) => {
            let names: Vec<String> = [
                Some(origin.clone()),
                Some(gw_host.clone()),
                gw_addr.map(|a| a.to_string()),
            ]
            .into_iter()
            .flatten()
            .collect();
            key = list
                .iter()
                .filter(|r| !r.mag_lma_key.is_empty())
                .find(|r| {
                    r.lma_identity
                        .as_deref()
                        .is_some_and(|l| names.iter().any(|n| n.eq_ignore_ascii_case(l)))
                })
                .map(|r| {
                    (
                        r.mag_lma_key.clone(),
                        r.lma_identity.clone().unwrap_or_default(),
                    )
                });
        }
        Err(e) => tracing::warn!(error = %e, "store: session lookup failed"),
    }
    let rec = AaaSessionRecord {
        session_id: sid.to_string(),
        imsi: pid.imsi.clone(),
        kind: SessionKind::S6b,
        peer: origin.clone(),
        aaa_host: core.host.clone(),
        nai: permanent_nai(
            &sub,
            match pid.method {
                AkaMethod::Aka => mobstrap_proto::eap::Method::Aka,
                AkaMethod::AkaPrime => mobstrap_proto::eap::Method::AkaPrime,
            },
        ),
        apn: requested.map(str::to_ascii_lowercase),
        gateway_host: Some(gw_host.clone()),
        gateway_address: gw_addr.map(|a| a.to_string()),
        visited_network: visited_network(core, msg),
        mag_lma_key: Vec::new(),
        lma_identity: None,
        created_ms: unix_ms(),
        expires_at: now + core.config.apn.session_timeout.as_secs() as i64,
    };
    let nai = rec.nai.clone();
    if let Err(e) = core.store.put_session(rec).await {
        tracing::warn!(session = sid, error = %e, "store: S6b registration not stored");
        return finish(base(msg, id, Res::Code(rc::UNABLE_TO_COMPLY)), msg, &[]);
    }
    count(if key.is_some() {
        "success_with_key"
    } else {
        "success"
    });
    tracing::debug!(session = sid, imsi = %pid.imsi, gateway = %gw_host, key = key.is_some(), "S6b: gateway registered");
    let mut mk = key;
    let mut a = base(msg, id, Res::Code(rc::SUCCESS));
    a.push(A::u32(
        &dict::SESSION_TIMEOUT,
        core.config.apn.session_timeout.as_secs() as u32,
    ));
    let mut extra = Vec::new();
    emit(&mut extra, &A::utf8(&dict::MOBILE_NODE_IDENTIFIER, &nai));
    if let Some(r) = requested {
        emit(&mut extra, &A::utf8(&dict::SERVICE_SELECTION, r));
    }
    if let Some(f) = msg
        .get(&dict::MIP6_FEATURE_VECTOR)
        .and_then(|a| a.u64().ok())
    {
        emit(
            &mut extra,
            &A::u64(&dict::MIP6_FEATURE_VECTOR, f & FEATURES),
        );
    }
    if let Some(pre) = p.static_ipv6_prefix {
        let mut b = [0u8; 17];
        b[0] = pre.len;
        b[1..].copy_from_slice(&pre.addr.octets());
        emit(&mut extra, &A::octets(&dict::MIP6_HOME_LINK_PREFIX, &b));
    }
    if let Some(v4) = p.static_ipv4 {
        emit(
            &mut extra,
            &A::ip(&dict::PMIP6_IPV4_HOME_ADDRESS, std::net::IpAddr::V4(v4)),
        );
    }
    if let Some((k, l)) = &mk {
        profile::key_avp(
            &mut extra,
            k,
            core.config.keys.mag_lma_lifetime.as_secs() as u32,
            l,
        );
    }
    if let Some((k, _)) = &mut mk {
        use zeroize::Zeroize;
        k.zeroize();
    }
    finish(a, msg, &extra)
}

/// STR: the session ends (its authorization, registration and key are forgotten).
async fn str_(core: &Arc<Core>, msg: &Message<'_>, id: &LocalIdentity) -> Vec<u8> {
    let rules_ = [
        AvpRule::required(&dict::SESSION_ID),
        AvpRule::required(&dict::ORIGIN_HOST),
        AvpRule::required(&dict::ORIGIN_REALM),
        AvpRule::required(&dict::DESTINATION_REALM),
        AvpRule::required(&dict::AUTH_APPLICATION_ID),
        AvpRule::required(&dict::TERMINATION_CAUSE_AVP),
    ];
    if let Err(r) = rules::check_avps(msg, &rules_) {
        return reject(msg, id, &r);
    }
    let sid = msg.session_id().unwrap_or("");
    let in_memory = core.authorized.remove(sid).is_some();
    core.diameter_conversations.remove(sid);
    // The session may have been stored without waiting (DER success, AAR) and still sit in
    // the store's write queue: the delete goes through the same queue, behind it (a batch
    // applies its upserts before its deletes), so the row cannot outlive the session (it
    // did, with an STR right after a refused AAR, when deletes bypassed the queue).
    let in_store = match core.store.delete_session(sid).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(session = sid, error = %e, "store: session delete failed");
            false
        }
    };
    metrics::counter!("aaa_session_terminations_total", "known" => if in_memory || in_store { "yes" } else { "no" })
        .increment(1);
    if !(in_memory || in_store) {
        return reject(msg, id, &Rejection::new(5002, "unknown Session-Id"));
    }
    tracing::debug!(session = sid, "session terminated");
    let mut a = MessageRepr::answer_to(msg);
    a.push(A::u32(&dict::RESULT_CODE, rc::SUCCESS));
    a.push(A::utf8(&dict::ORIGIN_HOST, &id.origin_host));
    a.push(A::utf8(&dict::ORIGIN_REALM, &id.origin_realm));
    finish(a, msg, &[])
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
