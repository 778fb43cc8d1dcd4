//! # The IKEv2 + ESP network-function core
//!
//! What the UE, the ePDG, the PDN GW / LMA and the MAG share: the IKE sockets (UDP 500 and
//! the NAT-T port 4500, where IKE with its Non-ESP Marker, UDP-encapsulated ESP and NAT
//! keepalives arrive together), the engine of `mobstrap_proto::ikev2` driven by its own
//! timers (one [`Dispatcher`](mobstrap_proto::ikev2::Dispatcher) owns every SA, initiated or
//! accepted), the user-space ESP data path between a TUN device and the sockets (the kernel
//! has no ESP), NAT keepalives, Wireshark key files, metrics and logs.
//!
//! The network function embedding it talks to it through an [`IkeHandle`] (connect, answer
//! the EAP relay, provide addresses, delete, status, key export) and receives
//! [`NodeEvent`]s (SA up with addresses, identities and MSK; SA down; EAP packets to relay to
//! the AAA; "need addresses" for a deferred CFG_REPLY). Protocol decisions stay in the
//! engine; this room moves bytes, arms timers and installs SAs.
//!
//! * [`udp`]: sockets that report the real local address (IP_PKTINFO) for NAT detection.
//! * [`datapath`]: the Child SA tables, tunnel-mode seal/open, counters, policy check.
//! * [`node`]: the driver task, [`NodeConfig`], [`IkeHandle`], [`NodeEvent`].
//! * [`config`]: the TOML configuration of `mobstrap ike` (`docs/ike-node.md`).
//! * [`aaa`]: EAP relays to an AAA over RADIUS or Diameter, for responders.
//! * [`pool`]: an address pool for CFG_REPLY.

pub mod aaa;
pub mod app;
pub mod config;
pub mod datapath;
pub mod node;
pub mod pool;
pub(crate) mod sys;
pub mod udp;

pub use datapath::{ChildCounters, ChildStatus};
pub use node::{
    EspSettings, IkeHandle, IkeNode, NodeConfig, NodeError, NodeEvent, NodeStatus, SaStatus,
    TunSettings,
};
