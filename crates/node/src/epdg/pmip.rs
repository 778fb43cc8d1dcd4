//! The ePDG's MAG: [`Mobility`] over the PMIPv6 MAG node (`crate::mag`, RFC 5213 / RFC 5844
//! over UDP), configured by the `[mag]` table of `epdg.toml`, and the wiring of its notices
//! (a lost binding deletes the UE's IKE SA; downlink packets go into the UE's ESP SA).

use std::net::SocketAddr;
use std::time::Duration;

use mobstrap_proto::pmip::mag::{AttachRequest as PmipRequest, MagConfig};
use mobstrap_proto::pmip::MnKey;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::mobility::{AttachError, AttachRequest, Binding, BoxFuture, Mobility};
use super::node::EpdgHandle;
use crate::ike::config::ConfigError;
use crate::mag::{AttachError as MagError, Mag, MagNotice};

fn err(key: impl Into<String>, why: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        why: why.into(),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct MagSection {
    listen: Option<String>,
    user_plane: Option<bool>,
    lifetime: Option<u32>,
    initial_timeout: Option<f64>,
    max_timeout: Option<f64>,
    max_transmissions: Option<u32>,
    timestamps: Option<bool>,
    lma_port: Option<u16>,
    ipv6_mh: Option<String>,
}

/// `[mag]`, validated.
#[derive(Debug, Clone)]
pub struct MagSpec {
    pub listen: SocketAddr,
    pub user_plane: bool,
    /// The gateways' PMIPv6 UDP port (RFC 5844: 5436).
    pub lma_port: u16,
    /// PMIPv6 over IPv6 from this address (raw Mobility Header, IP-in-IPv6 tunnel) to
    /// gateways with an IPv6 address; IPv4 gateways stay on UDP.
    pub ipv6_mh: Option<std::net::Ipv6Addr>,
    pub engine: MagConfig,
}

impl MagSpec {
    pub fn from_table(t: &toml::Table) -> Result<MagSpec, ConfigError> {
        let s: MagSection = toml::Value::Table(t.clone())
            .try_into()
            .map_err(|e: toml::de::Error| err("mag", e.message().to_string()))?;
        let listen = match &s.listen {
            None => SocketAddr::from(([0, 0, 0, 0], 5436)),
            Some(l) => l
                .parse::<SocketAddr>()
                .or_else(|_| {
                    l.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, 5436))
                })
                .map_err(|_| err("mag.listen", format!("'{l}': not an address")))?,
        };
        // 4 transmissions (0, 1.5, 4.5, 10.5 s; given up at 22.5 s): the UE hears
        // NETWORK_FAILURE before the IKE engine's 30 s application timeout
        let mut engine = MagConfig {
            max_transmissions: 4,
            ..MagConfig::default()
        };
        if let Some(l) = s.lifetime {
            if l == 0 {
                return Err(err("mag.lifetime", "must be > 0"));
            }
            engine.lifetime = l;
        }
        let secs = |k: &str, v: f64| {
            if v > 0.0 && v < 3600.0 {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(err(k, format!("{v}: 0 < seconds < 3600")))
            }
        };
        if let Some(v) = s.initial_timeout {
            engine.initial_timeout = secs("mag.initial_timeout", v)?;
        }
        if let Some(v) = s.max_timeout {
            engine.max_timeout = secs("mag.max_timeout", v)?;
        }
        if let Some(n) = s.max_transmissions {
            if n == 0 {
                return Err(err("mag.max_transmissions", "must be ≥ 1"));
            }
            engine.max_transmissions = n;
        }
        if let Some(t) = s.timestamps {
            engine.timestamps = t;
        }
        let ipv6_mh = match &s.ipv6_mh {
            None => None,
            Some(a) => match a.parse::<std::net::Ipv6Addr>() {
                Ok(v) if !v.is_unspecified() && !v.is_multicast() => Some(v),
                _ => {
                    return Err(err(
                        "mag.ipv6_mh",
                        format!("'{a}': not a unicast IPv6 address"),
                    ))
                }
            },
        };
        Ok(MagSpec {
            listen,
            user_plane: s.user_plane.unwrap_or(true),
            lma_port: s.lma_port.unwrap_or(5436),
            ipv6_mh,
            engine,
        })
    }
}

/// [`Mobility`] over a running MAG node.
#[derive(Clone)]
pub struct PmipMobility {
    pub mag: Mag,
    pub lma_port: u16,
    /// IPv6 gateways over raw IPv6 (`mag.ipv6_mh`).
    pub ipv6_mh: bool,
}

impl PmipMobility {
    /// Binds the MAG's sockets and starts it.
    pub async fn start(
        spec: &MagSpec,
    ) -> std::io::Result<(PmipMobility, mpsc::Receiver<MagNotice>)> {
        let (mag, notices) = Mag::bind_with(
            spec.engine.clone(),
            spec.listen,
            spec.user_plane,
            spec.ipv6_mh,
        )
        .await?;
        Ok((
            PmipMobility {
                mag,
                lma_port: spec.lma_port,
                ipv6_mh: spec.ipv6_mh.is_some(),
            },
            notices,
        ))
    }
}

impl Mobility for PmipMobility {
    fn attach(&self, r: AttachRequest) -> BoxFuture<'_, Result<Binding, AttachError>> {
        Box::pin(async move {
            // port 0: the MAG's raw IPv6 transport (crate::pmip_raw)
            let port = if self.ipv6_mh && r.lma.is_ipv6() {
                0
            } else {
                self.lma_port
            };
            let mut req = PmipRequest::new(MnKey::new(r.nai, r.apn), SocketAddr::new(r.lma, port));
            req.want_v4 = r.want_v4;
            req.want_v6 = r.want_v6;
            req.home_gw = r.home_gw;
            match self.mag.attach(req).await {
                Ok(b) => Ok(Binding {
                    hnp: b.hnp,
                    v4: b.v4,
                    lma: b.lma.ip(),
                }),
                Err(MagError::Status(s)) => Err(AttachError::Status(s)),
                Err(MagError::Timeout) => Err(AttachError::Timeout),
                Err(e) => Err(AttachError::Local(e.to_string())),
            }
        })
    }
    fn detach(&self, nai: &str, apn: &str) -> BoxFuture<'_, ()> {
        let key = MnKey::new(nai, apn);
        Box::pin(async move {
            let _ = self.mag.detach(key).await;
        })
    }
    fn bindings(&self) -> BoxFuture<'_, usize> {
        Box::pin(async move { self.mag.sessions().await })
    }
    fn uplink(&self, packet: Vec<u8>) -> BoxFuture<'_, bool> {
        Box::pin(async move { self.mag.uplink(&packet).await })
    }
}

/// Hands the MAG's notices to the ePDG: a lost binding tears the UE down, downlink packets go
/// into its ESP SA.
pub fn wire_notices(mut notices: mpsc::Receiver<MagNotice>, epdg: EpdgHandle) {
    tokio::spawn(async move {
        while let Some(n) = notices.recv().await {
            match n {
                MagNotice::Lost { key, .. } => epdg.binding_lost(&key.nai, &key.apn),
                MagNotice::Downlink(p) => epdg.downlink(p),
            }
        }
    });
}

/// The whole ePDG: the MAG from `spec.mag`, the IKE/SWm node, the notices wired. What
/// `mobstrap epdg` and the lab run. The returned [`PmipMobility`] gives the MAG's binding count.
pub async fn start_epdg(
    spec: super::EpdgSpec,
) -> Result<
    (
        EpdgHandle,
        mpsc::UnboundedReceiver<super::EpdgEvent>,
        PmipMobility,
    ),
    super::EpdgError,
> {
    let mag_spec =
        MagSpec::from_table(&spec.mag).map_err(|e| super::EpdgError::Config(e.to_string()))?;
    let (mobility, notices) = PmipMobility::start(&mag_spec)
        .await
        .map_err(|e| super::EpdgError::Config(format!("mag.listen {}: {e}", mag_spec.listen)))?;
    let (handle, events) =
        super::EpdgNode::start(spec, std::sync::Arc::new(mobility.clone())).await?;
    wire_notices(notices, handle.clone());
    Ok((handle, events, mobility))
}
