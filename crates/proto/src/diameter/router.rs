//! Request routing (RFC 6733 §6.1): where a request goes (a local application, a peer by
//! Destination-Host, a peer by realm route, the default route) or which error it gets
//! (3002 DIAMETER_UNABLE_TO_DELIVER, 3003 DIAMETER_REALM_NOT_SERVED, 3005
//! DIAMETER_LOOP_DETECTED, 3007 DIAMETER_APPLICATION_UNSUPPORTED), and the byte edits of
//! forwarding (Route-Record, Hop-by-Hop Identifier).

use mobstrap_wire::diameter::{avp::flags as avp_flags, dict, Message};

use super::caps::AppSet;
use super::rc;
use super::rules::Rejection;
use super::same_identity;

/// What a route does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteAction {
    /// Handled by this node's application.
    Local,
    /// Forwarded to the first usable peer of the list, unchanged but for Route-Record
    /// (a relay agent, RFC 6733 §2.8.2).
    Relay(Vec<String>),
    /// Forwarded like `Relay`, and the node's proxy hooks for the application may rewrite
    /// the request and its answer (a proxy agent, RFC 6733 §2.8.3).
    Proxy(Vec<String>),
}

/// One realm route; `app` `None` matches every application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub realm: String,
    pub app: Option<u32>,
    pub action: RouteAction,
}

/// What the router knows of the peers now.
pub trait PeerView {
    /// Whether a request of application `app` may be sent to `host` now: connected, usable
    /// (watchdog OKAY) and `app` among the applications in common.
    fn usable(&self, host: &str, app: u32) -> bool;
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'a> {
    Local,
    /// To this peer; `proxy` when the proxy hooks apply.
    Forward {
        peer: &'a str,
        proxy: bool,
    },
    /// Answer with this error.
    Reject(Rejection),
}

/// The routing table of one node.
#[derive(Debug, Clone)]
pub struct RouteTable {
    pub local_host: String,
    pub local_realm: String,
    pub routes: Vec<Route>,
    /// Used when no route names the realm (3003 when `None`).
    pub default: Option<RouteAction>,
}

impl RouteTable {
    pub fn new(local_host: &str, local_realm: &str) -> Self {
        RouteTable {
            local_host: local_host.to_string(),
            local_realm: local_realm.to_string(),
            routes: Vec::new(),
            default: None,
        }
    }

    /// The route for (`realm`, `app`): an exact application match first, then a route for
    /// every application.
    pub fn lookup(&self, realm: &str, app: u32) -> Option<&RouteAction> {
        let by_realm = |r: &&Route| same_identity(&r.realm, realm);
        self.routes
            .iter()
            .filter(by_realm)
            .find(|r| r.app == Some(app))
            .or_else(|| {
                self.routes
                    .iter()
                    .filter(by_realm)
                    .find(|r| r.app.is_none())
            })
            .map(|r| &r.action)
    }

    /// Decides for request `req`. `from`: the peer it came from (`None` for requests this
    /// node originates); `local_apps`: the applications this node serves.
    pub fn route<'a>(
        &'a self,
        req: &Message<'a>,
        local_apps: &AppSet,
        from: Option<&str>,
        peers: &impl PeerView,
    ) -> Decision<'a> {
        let app = req.header.application_id;
        let mut route_records = req
            .avps()
            .filter(|a| a.is(&dict::ROUTE_RECORD))
            .filter_map(|a| a.utf8().ok());
        if from.is_some() && route_records.any(|r| same_identity(r, &self.local_host)) {
            return Decision::Reject(Rejection::new(
                rc::LOOP_DETECTED,
                "Route-Record: our own identity (forwarding loop)",
            ));
        }
        let local = || {
            if local_apps.contains(app) {
                Decision::Local
            } else {
                Decision::Reject(Rejection::new(
                    rc::APPLICATION_UNSUPPORTED,
                    format!("application {app} is not supported here"),
                ))
            }
        };
        let dest_host = req.get(&dict::DESTINATION_HOST).and_then(|a| a.utf8().ok());
        let dest_realm = req
            .get(&dict::DESTINATION_REALM)
            .and_then(|a| a.utf8().ok());
        if dest_host.is_some_and(|h| same_identity(h, &self.local_host)) {
            return local();
        }
        let origin = req.get(&dict::ORIGIN_HOST).and_then(|a| a.utf8().ok());
        // A peer that the request came from, originated it or already relayed it is no
        // next hop.
        let eligible = |p: &str| {
            peers.usable(p, app)
                && !from.is_some_and(|f| same_identity(f, p))
                && !origin.is_some_and(|o| same_identity(o, p))
                && !req
                    .avps()
                    .filter(|a| a.is(&dict::ROUTE_RECORD))
                    .any(|a| a.utf8().is_ok_and(|r| same_identity(r, p)))
        };
        let forwardable = from.is_none() || req.header.is_proxiable();
        let Some(realm) = dest_realm else {
            if let Some(h) = dest_host {
                if forwardable && eligible(h) {
                    return Decision::Forward {
                        peer: h,
                        proxy: false,
                    };
                }
            }
            return local();
        };
        let action = self.lookup(realm, app);
        let proxy = matches!(action, Some(RouteAction::Proxy(_)));
        if let Some(h) = dest_host {
            if forwardable && eligible(h) {
                return Decision::Forward { peer: h, proxy };
            }
        }
        let is_local_realm = same_identity(realm, &self.local_realm);
        let action = match action {
            Some(a) => a,
            // Our realm: served here, or (a client node) by the default route's peers.
            None if is_local_realm && (local_apps.contains(app) || self.default.is_none()) => {
                return local()
            }
            None => match &self.default {
                Some(a) => a,
                None => {
                    return Decision::Reject(Rejection::new(
                        rc::REALM_NOT_SERVED,
                        format!("Destination-Realm {realm} is not served"),
                    ))
                }
            },
        };
        let (peers_list, proxy) = match action {
            RouteAction::Local => return local(),
            RouteAction::Relay(p) => (p, false),
            RouteAction::Proxy(p) => (p, true),
        };
        if !forwardable {
            return Decision::Reject(Rejection::new(
                rc::UNABLE_TO_DELIVER,
                "request is not proxiable and not for this node",
            ));
        }
        match peers_list.iter().find(|p| eligible(p)) {
            Some(p) => Decision::Forward { peer: p, proxy },
            None => Decision::Reject(Rejection::new(
                rc::UNABLE_TO_DELIVER,
                format!("no usable peer for realm {realm} and application {app}"),
            )),
        }
    }
}

/// Appends to `out` the request `req` as forwarded: a Route-Record AVP naming `from` (the
/// peer it came from, RFC 6733 §6.1.9) is added at the end and Message Length updated. The
/// node sets the Hop-by-Hop Identifier when it sends it.
pub fn forward_request(req: &[u8], from: &str, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(req);
    append_route_record(out, start, from);
}

/// Appends a Route-Record AVP naming `from` to the message that starts at `start` in `out`
/// and is the last thing in it, updating its Message Length.
pub fn append_route_record(out: &mut Vec<u8>, start: usize, from: &str) {
    if out.len() < start + 20 {
        return;
    }
    let avp_len = 8 + from.len();
    out.extend_from_slice(&dict::ROUTE_RECORD.code.to_be_bytes());
    out.push(avp_flags::MANDATORY);
    out.extend_from_slice(&(avp_len as u32).to_be_bytes()[1..]);
    out.extend_from_slice(from.as_bytes());
    let pad = (4 - avp_len % 4) % 4;
    out.extend_from_slice(&[0u8; 3][..pad]);
    let total = (out.len() - start) as u32;
    out[start + 1..start + 4].copy_from_slice(&total.to_be_bytes()[1..]);
}

/// Sets the Hop-by-Hop Identifier of an encoded message.
pub fn set_hop_by_hop(msg: &mut [u8], hop_by_hop: u32) {
    if let Some(s) = msg.get_mut(12..16) {
        s.copy_from_slice(&hop_by_hop.to_be_bytes());
    }
}
