//! What the ePDG asks of its MAG (seed 002 steps 11–14): register a binding for one UE and
//! APN at a gateway (PBU → PBA), and de-register it (PBU with lifetime 0). The MAG driver
//! owns retransmissions and refreshes; the ePDG only sees the outcome.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::Pin;

/// One registration to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachRequest {
    /// MN-Identifier: the UE's NAI (the EAP identity).
    pub nai: String,
    /// Service Selection: the APN.
    pub apn: String,
    /// Ask for an IPv4 home address / an IPv6 home network prefix.
    pub want_v4: bool,
    pub want_v6: bool,
    /// Where the PBU goes: the gateway (non-roaming) or the visited gateway (roaming).
    pub lma: IpAddr,
    /// Roaming: the home gateway, named in the vendor-specific mobility option.
    pub home_gw: Option<IpAddr>,
}

/// What the gateway granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Home network prefix and its length.
    pub hnp: Option<(Ipv6Addr, u8)>,
    /// IPv4 home address and its prefix length.
    pub v4: Option<(Ipv4Addr, u8)>,
    /// The LMA that answered.
    pub lma: IpAddr,
}

/// Why a registration did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    /// The PBA's status code (≥ 128).
    #[error("PBA status {0}")]
    Status(u8),
    /// No PBA after every retransmission.
    #[error("no PBA (retransmissions exhausted)")]
    Timeout,
    /// The MAG refused locally (busy, duplicate, stopped).
    #[error("MAG: {0}")]
    Local(String),
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A MAG the ePDG can drive (implemented over the PMIPv6 MAG node).
pub trait Mobility: Send + Sync + 'static {
    /// Registers and waits for the PBA (or the MAG's giving up).
    fn attach(&self, req: AttachRequest) -> BoxFuture<'_, Result<Binding, AttachError>>;
    /// De-registers (PBU lifetime 0) and waits until the binding is gone.
    fn detach(&self, nai: &str, apn: &str) -> BoxFuture<'_, ()>;
    /// Bindings held (registered or in flight).
    fn bindings(&self) -> BoxFuture<'_, usize>;
    /// User plane: a packet from a UE's Child SA (its source already checked against the
    /// SA's selectors) into the PMIPv6 tunnel of its binding; `false` if it went nowhere.
    fn uplink(&self, packet: Vec<u8>) -> BoxFuture<'_, bool> {
        let _ = packet;
        Box::pin(async { false })
    }
}

/// PBA status 130, Insufficient resources (RFC 5213 §8.9): the gateway's pool is exhausted.
pub const INSUFFICIENT_RESOURCES: u8 = 130;
