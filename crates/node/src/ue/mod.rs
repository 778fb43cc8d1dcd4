//! # The UE: `mobstrap ue` (seed 002 steps 1–2, 5–6, 14–16 on the UE's side)
//!
//! An IKEv2 initiator ([`crate::ike`]) with a Milenage USIM (EAP-AKA / AKA'), IDi = its NAI,
//! IDr = the APN (TS 24.302 §7.2.2), a CFG_REQUEST for IPv4 and/or IPv6 (and optionally DNS
//! and P-CSCF). It reports the addresses the ePDG assigned and keeps the tunnel (with a TUN
//! device when configured and privileged), or reports the notify it was refused with.
//!
//! The configuration is the IKE node's (`[ike]` with `role = "initiator"`, `auth = "eap"`,
//! `[usim]`, `[tun]`) plus `[ue] apn`; [`UeSpec::from_flags`] builds one without a file.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use mobstrap_proto::ikev2::{CloseReason, Identity, SaId};
use mobstrap_wire::ikev2::NotifyType;
use tokio::sync::mpsc;
use tracing::info;

use crate::ike::app::usim_peer;
use crate::ike::config::{with_local_id, ConfigError, IkeNodeSpec, RoleName};
use crate::ike::{IkeHandle, IkeNode, NodeError, NodeEvent};

fn err(key: impl Into<String>, why: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        why: why.into(),
    }
}

/// A validated UE configuration.
#[derive(Debug)]
pub struct UeSpec {
    pub ike: IkeNodeSpec,
    pub apn: String,
}

/// Command-line credentials (`mobstrap ue --imsi … --k … --opc … --apn … --epdg …`).
#[derive(Debug, Clone, Default)]
pub struct UeFlags {
    pub imsi: String,
    pub k: String,
    pub opc: String,
    pub sqn: Option<String>,
    pub apn: String,
    /// The ePDG `addr[:port]`.
    pub epdg: String,
    /// Local address to bind (default 0.0.0.0) and the IKE ports.
    pub bind: Option<String>,
    pub port: Option<u16>,
    pub natt_port: Option<u16>,
    pub ip4: bool,
    pub ip6: bool,
    pub dns: bool,
    pub pcscf: bool,
    /// The ePDG's identity to require (`@epdg.example`), if any.
    pub epdg_id: Option<String>,
    /// Trust anchor for the ePDG's certificate; without it a PSK (`psk`) is needed.
    pub ca: Option<String>,
    pub psk: Option<String>,
    /// Bring up a TUN with the assigned addresses and route through it (root).
    pub tun: bool,
    /// Test-lab fault injection of the USIM's EAP peer (`wrong-res`, `[usim] fault`).
    pub usim_fault: Option<String>,
}

impl UeSpec {
    pub fn from_file(path: &Path) -> Result<UeSpec, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(path.display().to_string(), e.to_string()))?;
        Self::from_toml(&text, path.parent().unwrap_or(Path::new(".")))
    }

    pub fn from_toml(text: &str, base: &Path) -> Result<UeSpec, ConfigError> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| err("file", e.message().to_string()))?;
        let apn = match table.remove("ue") {
            None => return Err(err("ue.apn", "missing: the APN goes into IDr")),
            Some(toml::Value::Table(mut t)) => {
                let apn = match t.remove("apn") {
                    Some(toml::Value::String(s)) if !s.is_empty() => s,
                    Some(_) => return Err(err("ue.apn", "must be a non-empty string")),
                    None => return Err(err("ue.apn", "missing: the APN goes into IDr")),
                };
                if let Some(k) = t.keys().next() {
                    return Err(err(format!("ue.{k}"), "unknown key"));
                }
                apn
            }
            Some(_) => return Err(err("ue", "must be a table")),
        };
        let ike = table
            .entry("ike")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(ike) = ike else {
            return Err(err("ike", "must be a table"));
        };
        ike.entry("role").or_insert_with(|| "initiator".into());
        ike.entry("auth").or_insert_with(|| "eap".into());
        ike.entry("name").or_insert_with(|| "ue".into());
        if ike.get("role").and_then(|v| v.as_str()) != Some("initiator") {
            return Err(err("ike.role", "a UE is an initiator"));
        }
        let rest = toml::to_string(&table).map_err(|e| err("file", e.to_string()))?;
        let mut spec = IkeNodeSpec::from_toml(&rest, base)?;
        if spec.role != RoleName::Initiator || spec.remote.is_none() {
            return Err(err("ike.remote", "missing: the ePDG's address"));
        }
        if spec.usim.is_none() {
            return Err(err("usim", "missing: the UE authenticates with EAP-AKA"));
        }
        let Some(engine) = Arc::get_mut(&mut spec.node.engine) else {
            return Err(err("ike", "internal: engine configuration shared"));
        };
        engine.requested_id = Some(Identity::fqdn(&apn));
        Ok(UeSpec { ike: spec, apn })
    }

    /// The same from command-line flags.
    pub fn from_flags(f: &UeFlags) -> Result<UeSpec, ConfigError> {
        let mut ike = toml::Table::new();
        ike.insert("role".into(), "initiator".into());
        ike.insert("auth".into(), "eap".into());
        ike.insert("remote".into(), f.epdg.clone().into());
        if let Some(b) = &f.bind {
            ike.insert("bind".into(), toml::Value::Array(vec![b.clone().into()]));
        }
        if let Some(p) = f.port {
            ike.insert("port".into(), i64::from(p).into());
        }
        if let Some(p) = f.natt_port {
            ike.insert("natt_port".into(), i64::from(p).into());
        }
        let (mut v4, mut v6) = (f.ip4, f.ip6);
        if !v4 && !v6 {
            (v4, v6) = (true, true);
        }
        let mut req: Vec<toml::Value> = Vec::new();
        if v4 {
            req.push("ip4".into());
            if f.dns {
                req.push("dns4".into());
            }
            if f.pcscf {
                req.push("pcscf4".into());
            }
        }
        if v6 {
            req.push("ip6".into());
            if f.dns {
                req.push("dns6".into());
            }
            if f.pcscf {
                req.push("pcscf6".into());
            }
        }
        ike.insert("request".into(), toml::Value::Array(req));
        let mut remote_auth: Vec<toml::Value> = Vec::new();
        if let Some(ca) = &f.ca {
            ike.insert("ca".into(), toml::Value::Array(vec![ca.clone().into()]));
            remote_auth.push("pubkey".into());
        }
        if let Some(p) = &f.psk {
            ike.insert("psk".into(), p.clone().into());
            remote_auth.push("psk".into());
        }
        if !remote_auth.is_empty() {
            ike.insert("remote_auth".into(), toml::Value::Array(remote_auth));
        }
        if let Some(id) = &f.epdg_id {
            ike.insert("remote_id".into(), id.clone().into());
        }
        let mut usim = toml::Table::new();
        usim.insert("imsi".into(), f.imsi.clone().into());
        usim.insert("k".into(), f.k.clone().into());
        usim.insert("opc".into(), f.opc.clone().into());
        if let Some(s) = &f.sqn {
            usim.insert("sqn".into(), s.clone().into());
        }
        if let Some(x) = &f.usim_fault {
            usim.insert("fault".into(), x.clone().into());
        }
        let mut ue = toml::Table::new();
        ue.insert("apn".into(), f.apn.clone().into());
        let mut t = toml::Table::new();
        t.insert("ike".into(), toml::Value::Table(ike));
        t.insert("usim".into(), toml::Value::Table(usim));
        t.insert("ue".into(), toml::Value::Table(ue));
        if f.tun {
            let mut tun = toml::Table::new();
            tun.insert("install_vips".into(), true.into());
            tun.insert("routes".into(), true.into());
            t.insert("tun".into(), toml::Value::Table(tun));
        }
        let text = toml::to_string(&t).map_err(|e| err("flags", e.to_string()))?;
        Self::from_toml(&text, Path::new("."))
    }
}

/// How an attach ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachOutcome {
    /// The tunnel is up with these addresses.
    Attached {
        sa: SaId,
        ip4: Option<Ipv4Addr>,
        ip6: Option<(Ipv6Addr, u8)>,
        dns4: Vec<Ipv4Addr>,
        dns6: Vec<Ipv6Addr>,
        pcscf4: Vec<Ipv4Addr>,
        pcscf6: Vec<Ipv6Addr>,
        epdg: SocketAddr,
    },
    /// Refused: the notify the ePDG sent (AUTHENTICATION_FAILED for an EAP failure), or
    /// another reason (timeout).
    Refused {
        notify: Option<NotifyType>,
        reason: String,
    },
}

impl AttachOutcome {
    /// The notify's name (`NO_APN_SUBSCRIPTION`), or the reason.
    pub fn refusal(&self) -> Option<String> {
        match self {
            AttachOutcome::Attached { .. } => None,
            AttachOutcome::Refused {
                notify: Some(n), ..
            } => Some(n.to_string()),
            AttachOutcome::Refused { reason, .. } => Some(reason.clone()),
        }
    }
}

/// A running UE.
pub struct Ue {
    pub handle: IkeHandle,
    events: mpsc::UnboundedReceiver<NodeEvent>,
    sa: SaId,
}

fn refusal_of(reason: CloseReason) -> AttachOutcome {
    let notify = match reason {
        CloseReason::PeerError(n) | CloseReason::Refused(n) => Some(n),
        CloseReason::AuthenticationFailed { .. } | CloseReason::EapFailure => {
            Some(NotifyType::AuthenticationFailed)
        }
        _ => None,
    };
    AttachOutcome::Refused {
        notify,
        reason: format!("{reason:?}"),
    }
}

impl Ue {
    /// Starts the IKE node and the attach (IKE_SA_INIT).
    pub async fn start(mut spec: UeSpec) -> Result<Ue, NodeError> {
        let Some(u) = spec.ike.usim.as_ref() else {
            return Err(NodeError::Stopped);
        };
        let (peer, nai) = usim_peer(u);
        with_local_id(
            &mut spec.ike.node,
            Identity::rfc822(&String::from_utf8_lossy(&nai)),
        );
        let Some(remote) = spec.ike.remote else {
            return Err(NodeError::Stopped);
        };
        let (handle, events) = IkeNode::start(spec.ike.node.clone()).await?;
        info!(apn = %spec.apn, %remote, "UE attaching");
        let sa = handle.connect(remote, Some(peer)).await?;
        Ok(Ue { handle, events, sa })
    }

    /// Waits for the attach to finish. A refused Child SA (the notify in the last IKE_AUTH
    /// response) deletes the IKE SA and is a refusal.
    pub async fn attached(&mut self) -> AttachOutcome {
        while let Some(ev) = self.events.recv().await {
            match ev {
                NodeEvent::Up { id, info } if id == self.sa => {
                    if let Some(n) = info.child_error {
                        self.handle.delete(id);
                        return AttachOutcome::Refused {
                            notify: Some(n),
                            reason: format!("Child SA refused: {n}"),
                        };
                    }
                    let a = &info.addresses;
                    return AttachOutcome::Attached {
                        sa: id,
                        ip4: a.ip4,
                        ip6: a.ip6,
                        dns4: a.dns4.clone(),
                        dns6: a.dns6.clone(),
                        pcscf4: a.pcscf4.clone(),
                        pcscf6: a.pcscf6.clone(),
                        epdg: info.remote,
                    };
                }
                NodeEvent::Down { id, reason } if id == self.sa => return refusal_of(reason),
                _ => {}
            }
        }
        AttachOutcome::Refused {
            notify: None,
            reason: "the IKE node stopped".into(),
        }
    }

    /// After an attach: waits until the tunnel ends (ePDG DELETE, dead peer); the reason.
    pub async fn closed(&mut self) -> CloseReason {
        while let Some(ev) = self.events.recv().await {
            if let NodeEvent::Down { id, reason } = ev {
                if id == self.sa {
                    return reason;
                }
            }
        }
        CloseReason::Internal("node stopped")
    }

    /// Detach: IKE DELETE, then stop the node.
    pub async fn detach(mut self) -> CloseReason {
        self.handle.delete(self.sa);
        let r = tokio::time::timeout(std::time::Duration::from_secs(10), self.closed()).await;
        self.handle.shutdown().await;
        r.unwrap_or(CloseReason::Timeout)
    }
}
