//! `mobstrap ike`: a stand-alone IKE node from an [`IkeNodeSpec`]. As initiator it brings
//! one SA up (PSK, certificate, or EAP-AKA with a local USIM) and keeps it; as responder it
//! answers every initiator, relays EAP to the configured AAA (RADIUS or Diameter) and
//! assigns virtual IPs from its pool. The later `mobstrap ue` / `mobstrap epdg` wrap the same
//! [`IkeNode`] with their own event handling; this is the generic one.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use mobstrap_proto::eap::{AkaEapPeer, AkaPeerConfig, SqnPolicy, Usim};
use mobstrap_proto::ikev2::{Addresses, EapPeer, SaId, UsimPeer};
use mobstrap_wire::ikev2::CfgAttrType;
use tokio::sync::Mutex;
use tracing::{info, warn};

use super::aaa::{AaaClient, AaaSession, DiameterRelay, RadiusRelay};
use super::config::{with_local_id, AaaSpec, IkeNodeSpec, RoleName, UsimSpec};
use super::node::{IkeHandle, IkeNode, NodeError, NodeEvent};
use super::pool::AddressPool;

/// Why the app stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error("ike: AAA: {0}")]
    Aaa(String),
    #[error("ike: the IKE SA closed: {0}")]
    Closed(String),
}

/// The EAP peer of a UE with a Milenage USIM, and the identity it puts in IDi.
pub fn usim_peer(u: &UsimSpec) -> (Box<dyn EapPeer>, Vec<u8>) {
    let mut cfg = AkaPeerConfig::new(&u.imsi, Some(&u.realm));
    cfg.methods = u.methods.clone();
    if let Some(id) = &u.identity {
        cfg.permanent_identity = Some(id.as_bytes().to_vec());
    }
    cfg.network_name = u.network_name.clone();
    cfg.fault = u.fault;
    let usim = Usim::new(&u.k, &u.opc, u.sqn, SqnPolicy::Simple { delta: None });
    let mut peer = UsimPeer::new(AkaEapPeer::aka(cfg, usim));
    let nai = peer.begin();
    (Box::new(peer), nai)
}

/// What the responder side keeps per SA.
struct Relay {
    aaa: AaaClient,
    sessions: HashMap<SaId, Arc<Mutex<AaaSession>>>,
}

/// Runs the node until `stop` completes (then deletes its SAs), or, for an initiator, until
/// its SA closes.
pub async fn run(mut spec: IkeNodeSpec, stop: impl Future<Output = ()>) -> Result<(), AppError> {
    let mut eap = None;
    if let Some(u) = &spec.usim {
        let (peer, nai) = usim_peer(u);
        with_local_id(
            &mut spec.node,
            mobstrap_proto::ikev2::Identity::rfc822(&String::from_utf8_lossy(&nai)),
        );
        eap = Some(peer);
    }
    let relay = match &spec.aaa {
        Some(AaaSpec::Radius(r)) => Some(Relay {
            aaa: AaaClient::Radius(
                RadiusRelay::start(r.clone())
                    .await
                    .map_err(|e| AppError::Aaa(e.to_string()))?,
            ),
            sessions: HashMap::new(),
        }),
        Some(AaaSpec::Diameter { node, relay }) => {
            let app = relay.application;
            let dn = crate::diameter::DiameterNode::builder((**node).clone())
                .client_application(
                    app,
                    (app == mobstrap_wire::diameter::app::SWM).then_some(10415),
                )
                .start()
                .await
                .map_err(|e| AppError::Aaa(e.to_string()))?;
            Some(Relay {
                aaa: AaaClient::Diameter(DiameterRelay::new(dn, relay.clone())),
                sessions: HashMap::new(),
            })
        }
        None => None,
    };
    let mut pool = spec.pool.as_ref().map(|p| {
        // the TUN's own addresses (a responder's gateway address in the pool's subnet)
        let mut ex = p.exclude.clone();
        if let Some(t) = &spec.node.tun {
            ex.extend(t.addresses.iter().map(|(a, _)| *a));
        }
        AddressPool::new(p.v4, p.v6, &ex)
    });
    let (handle, mut events) = IkeNode::start(spec.node.clone()).await?;
    let initiator = spec.role == RoleName::Initiator;
    let mut my_sa = None;
    if initiator {
        if let Some(remote) = spec.remote {
            my_sa = Some(handle.connect(remote, eap.take()).await?);
        }
    }
    let mut relay = relay;
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => {
                info!("stopping: deleting the IKE SAs");
                handle.shutdown().await;
                return Ok(());
            }
            ev = events.recv() => {
                let Some(ev) = ev else { return Err(AppError::Node(NodeError::Stopped)) };
                match ev {
                    NodeEvent::Up { id, info } => {
                        println!(
                            "IKE SA {id} up: {} {} <-> {} {}, addresses {:?}{}",
                            info.local_id, info.local, info.peer_id, info.remote, info.addresses,
                            info.child.as_ref().map(|c| format!(", CHILD_SA {:08x}/{:08x}", c.inbound_spi, c.outbound_spi)).unwrap_or_default()
                        );
                    }
                    NodeEvent::Down { id, reason } => {
                        if let Some(p) = pool.as_mut() { p.release(id); }
                        if let Some(r) = relay.as_mut() { r.sessions.remove(&id); }
                        println!("IKE SA {id} down: {reason:?}");
                        if my_sa == Some(id) {
                            handle.shutdown().await;
                            return Err(AppError::Closed(format!("{reason:?}")));
                        }
                    }
                    NodeEvent::NeedAddresses { id, request } => {
                        answer_addresses(&handle, pool.as_mut(), spec.pool.as_ref(), id, &request.attributes);
                    }
                    NodeEvent::EapRelay { id, identity, packet, .. } => {
                        let Some(r) = relay.as_mut() else {
                            warn!(sa = id, "EAP relay without an AAA: refused");
                            handle.eap_reply(id, mobstrap_proto::ikev2::EapReply::Failure { packet: vec![4, packet.get(1).copied().unwrap_or(0), 0, 4] });
                            continue;
                        };
                        let remote = None;
                        let s = r.sessions.entry(id).or_insert_with(|| {
                            Arc::new(Mutex::new(AaaSession::new(&identity.data, remote)))
                        }).clone();
                        let aaa = r.aaa.clone();
                        let h = handle.clone();
                        tokio::spawn(async move {
                            let mut s = s.lock().await;
                            match aaa.relay(&mut s, &packet).await {
                                Ok(reply) => h.eap_reply(id, reply),
                                Err(e) => {
                                    warn!(sa = id, error = %e, "EAP relay failed");
                                    h.eap_reply(id, mobstrap_proto::ikev2::EapReply::Failure {
                                        packet: vec![4, packet.get(1).copied().unwrap_or(0), 0, 4],
                                    });
                                }
                            }
                        });
                    }
                    NodeEvent::ChildUp { .. } | NodeEvent::ChildDown { .. } | NodeEvent::Transport { .. } => {}
                }
            }
        }
    }
}

fn answer_addresses(
    handle: &IkeHandle,
    pool: Option<&mut AddressPool>,
    spec: Option<&super::config::PoolSpec>,
    id: SaId,
    attrs: &[CfgAttrType],
) {
    let Some(pool) = pool else {
        // nothing to give: an empty reply lets the SA up without addresses
        handle.provide_addresses(id, Addresses::default());
        return;
    };
    let want4 = attrs.contains(&CfgAttrType::InternalIp4Address);
    let want6 = attrs.contains(&CfgAttrType::InternalIp6Address);
    let (a4, a6) = pool.lease(id, want4, want6);
    if (want4 || want6) && a4.is_none() && a6.is_none() {
        warn!(sa = id, "address pool exhausted: INTERNAL_ADDRESS_FAILURE");
        handle.fail_addresses(id);
        return;
    }
    let mut a = Addresses {
        ip4: a4,
        ip6: a6.map(|a| (a, 128)),
        ..Default::default()
    };
    if let Some(s) = spec {
        a.dns4 = s.dns4.clone();
        a.dns6 = s.dns6.clone();
    }
    info!(sa = id, ip4 = ?a4, ip6 = ?a6, "addresses leased");
    handle.provide_addresses(id, a);
}
