//! The RADIUS front end (RFC 2865, RFC 3579): one UDP socket per port, owned by one task
//! with its `RadiusServer` engine (client secrets, Message-Authenticator, duplicate cache).
//! An Access-Request carrying EAP continues the conversation its State names (or starts one);
//! the answer is an Access-Challenge with the next EAP Request and the State, an
//! Access-Accept with EAP-Success and the MSK as MS-MPPE keys, or an Access-Reject.
//!
//! Conversations that need the store beyond the cache run on their own task and send their
//! outcome back to the socket task, which signs and sends the answer (the engine caches it
//! for retransmissions). Every dropped datagram is counted
//! (`aaa_radius_dropped_total{reason}`) and logged in one line naming the reason.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use mobstrap_proto::radius::{self, Client, ClientNetwork, Incoming, Outcome, RadiusServer, Token};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

use super::core::{self, count_auth, drive, poll_once, Core, Front, Input, Step};
use super::sessions::{Refused, Take};

/// A conversation's result, on its way back to the socket task.
struct Done {
    token: Token,
    state: [u8; 16],
    conv: Box<core::Conversation>,
    step: Step,
    started: Instant,
}

/// Builds the engine from the configuration.
pub(crate) fn engine(core: &Core) -> RadiusServer {
    let cfg = &core.config.radius;
    let mut exact = Vec::new();
    let mut nets = Vec::new();
    for c in &cfg.clients {
        let Ok((ip, len)) = c.network() else { continue };
        let client = Client {
            name: c.name.clone().unwrap_or_else(|| c.address.clone()),
            secret: c.secret.as_bytes().to_vec(),
        };
        let full = if ip.is_ipv4() { 32 } else { 128 };
        if len == full {
            exact.push((ip, client));
        } else {
            nets.push(ClientNetwork {
                network: ip,
                prefix_len: len,
                client,
            });
        }
    }
    RadiusServer::new(
        radius::Config {
            duplicate_window: cfg.duplicate_window,
            ..radius::Config::default()
        },
        exact,
    )
    .with_networks(nets)
}

fn drop_reason(d: &radius::Drop) -> &'static str {
    match d {
        radius::Drop::UnknownClient => "unknown_client",
        radius::Drop::Malformed(_) => "malformed",
        radius::Drop::MissingMessageAuthenticator => "no_message_authenticator",
        radius::Drop::BadAuthenticator => "bad_authenticator",
        radius::Drop::UnexpectedCode(_) => "unexpected_code",
        radius::Drop::Overloaded => "overloaded",
    }
}

/// Serves one socket until `stop` turns true.
pub(crate) async fn serve(
    core: Arc<Core>,
    sock: UdpSocket,
    accounting: bool,
    mut stop: watch::Receiver<bool>,
) {
    let mut engine = engine(&core);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
    let mut buf = vec![0u8; 65536];
    let port = if accounting { "accounting" } else { "auth" };
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => {
                if *stop.borrow() {
                    break;
                }
            }
            Some(d) = done_rx.recv() => finish(&core, &mut engine, &sock, d).await,
            r = sock.recv_from(&mut buf) => {
                let (n, src) = match r {
                    Ok(v) => v,
                    Err(e) => {
                        // ICMP errors of earlier sends surface here on some systems.
                        tracing::debug!(error = %e, "radius recv");
                        continue;
                    }
                };
                if crate::trace::enabled() {
                    if let Ok(l) = sock.local_addr() {
                        crate::trace::udp(&core.host, crate::trace::Direction::Received, l, src, &buf[..n]);
                    }
                }
                let started = Instant::now();
                metrics::counter!("aaa_requests_total", "frontend" => "radius").increment(1);
                datagram(&core, &mut engine, &sock, &done_tx, src, &buf[..n], started, port).await;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn datagram(
    core: &Arc<Core>,
    engine: &mut RadiusServer,
    sock: &UdpSocket,
    done_tx: &mpsc::UnboundedSender<Done>,
    src: SocketAddr,
    data: &[u8],
    started: Instant,
    port: &'static str,
) {
    let now = Instant::now();
    enum Got {
        Reply(Vec<u8>),
        Nothing,
        Dropped(radius::Drop),
        NotEap(Token),
        Eap(Token, Arc<str>, Bytes, Option<Vec<u8>>),
    }
    let got = match engine.handle_datagram(src, data, now) {
        Incoming::Reply(bytes) => Got::Reply(bytes),
        Incoming::InProgress => Got::Nothing,
        Incoming::Drop(d) => Got::Dropped(d),
        Incoming::NotEap(token) => Got::NotEap(token),
        Incoming::Eap(req) => Got::Eap(
            req.token,
            Arc::<str>::from(req.client),
            Bytes::copy_from_slice(&req.eap),
            req.state.map(<[u8]>::to_vec),
        ),
    };
    let (token, client, eap, state) = match got {
        Got::Reply(bytes) => {
            send(&core.host, sock, &bytes, src).await;
            return;
        }
        Got::Nothing => return,
        Got::Dropped(d) => {
            metrics::counter!("aaa_radius_dropped_total", "reason" => drop_reason(&d)).increment(1);
            tracing::warn!(%src, port, "radius: dropped: {d}");
            return;
        }
        Got::NotEap(token) => {
            tracing::info!(%src, "radius: Access-Request without EAP-Message rejected (only EAP is served)");
            reject(core, engine, sock, token, None).await;
            return;
        }
        Got::Eap(t, c, e, s) => (t, c, e, s),
    };
    // Find or start the conversation.
    let (key, conv, input) = match state {
        Some(s) => {
            let key: Option<[u8; 16]> = s.as_slice().try_into().ok();
            let found = match key {
                Some(k) => core.radius_conversations.take(&k, now),
                None => Take::Unknown,
            };
            match (key, found) {
                (Some(k), Take::Got(c)) => {
                    if c.owner != client {
                        core.radius_conversations.put(&k, c, now);
                        tracing::warn!(%src, client = %client, "radius: State of another client's conversation; rejected");
                        reject(core, engine, sock, token, None).await;
                        return;
                    }
                    (k, c, Input::Response(eap))
                }
                (_, Take::Busy) => {
                    // The previous request of this conversation is still being worked on.
                    engine.abandon(token);
                    return;
                }
                _ => {
                    tracing::info!(%src, client = %client, "radius: unknown or expired State; rejected");
                    metrics::counter!("aaa_radius_unknown_state_total").increment(1);
                    reject(core, engine, sock, token, None).await;
                    return;
                }
            }
        }
        None => {
            let key = core::random_state();
            if let Err(r) = core.radius_conversations.insert_busy(key, now) {
                if r == Refused::Full {
                    metrics::counter!("aaa_radius_dropped_total", "reason" => "too_many_sessions")
                        .increment(1);
                    tracing::warn!(%src, "radius: dropped: too many unfinished EAP conversations");
                }
                engine.abandon(token);
                return;
            }
            let access = core.config.radius.access_type.into();
            let conv = core.new_conversation(Front::Radius, access, client);
            let input = if eap.is_empty() {
                Input::Start
            } else {
                Input::Response(eap)
            };
            (key, conv, input)
        }
    };
    let fut = Box::pin(drive(core.clone(), conv, input));
    match poll_once(fut) {
        Ok((conv, step)) => {
            let d = Done {
                token,
                state: key,
                conv,
                step,
                started,
            };
            finish(core, engine, sock, d).await;
        }
        Err(fut) => {
            let tx = done_tx.clone();
            tokio::spawn(async move {
                let (conv, step) = fut.await;
                let _ = tx.send(Done {
                    token,
                    state: key,
                    conv,
                    step,
                    started,
                });
            });
        }
    }
}

async fn reject(
    core: &Core,
    engine: &mut RadiusServer,
    sock: &UdpSocket,
    token: Token,
    eap: Option<&[u8]>,
) {
    match engine.respond(token, Outcome::Reject { eap }, 0) {
        Ok(b) => send(&core.host, sock, &b, token.source()).await,
        Err(e) => tracing::warn!("radius: {e}"),
    }
}

async fn finish(core: &Core, engine: &mut RadiusServer, sock: &UdpSocket, d: Done) {
    let Done {
        token,
        state,
        conv,
        step,
        started,
    } = d;
    let now = Instant::now();
    let salt = rand::random::<u16>();
    let answer = match &step {
        Step::Request(eap) => {
            core.radius_conversations.put(&state, conv, now);
            engine.respond(token, Outcome::Challenge { eap, state: &state }, salt)
        }
        Step::Discard(why) => {
            tracing::debug!(src = %token.source(), "radius: EAP message discarded: {why}");
            metrics::counter!("aaa_eap_discarded_total", "frontend" => "radius").increment(1);
            core.radius_conversations.put(&state, conv, now);
            engine.abandon(token);
            return;
        }
        Step::Success { eap, ok, .. } => {
            core.radius_conversations.remove(&state);
            count_auth(Front::Radius, &step);
            tracing::debug!(src = %token.source(), imsi = %ok.imsi, method = %ok.method,
                fast_reauth = ok.fast_reauth, "radius: authentication succeeded");
            let t = core.config.radius.session_timeout.as_secs() as u32;
            engine.respond(
                token,
                Outcome::Accept {
                    eap,
                    msk: ok.msk.as_bytes(),
                    user_name: None,
                    session_timeout: (t > 0).then_some(t),
                },
                salt,
            )
        }
        Step::Failure { eap, reason, .. } => {
            core.radius_conversations.remove(&state);
            count_auth(Front::Radius, &step);
            tracing::info!(src = %token.source(), reason = reason.label(), "radius: authentication failed");
            engine.respond(
                token,
                Outcome::Reject {
                    eap: eap.as_deref(),
                },
                salt,
            )
        }
    };
    metrics::histogram!("aaa_request_duration_seconds", "frontend" => "radius")
        .record(started.elapsed().as_secs_f64());
    match answer {
        Ok(b) => send(&core.host, sock, &b, token.source()).await,
        Err(e) => tracing::warn!("radius: {e}"),
    }
}

async fn send(node: &str, sock: &UdpSocket, bytes: &[u8], to: SocketAddr) {
    if crate::trace::enabled() {
        if let Ok(l) = sock.local_addr() {
            crate::trace::udp(node, crate::trace::Direction::Sent, l, to, bytes);
        }
    }
    if let Err(e) = sock.send_to(bytes, to).await {
        tracing::debug!(%to, error = %e, "radius send failed");
    }
}
