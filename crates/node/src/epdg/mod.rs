//! # The ePDG: `mobstrap epdg` (seed 002, PMIPv6-based S2b attach)
//!
//! An IKEv2 responder for UEs ([`crate::ike`]) whose EAP goes to the 3GPP AAA over Diameter
//! SWm (DER/DEA, steps 3–8); after the AAA's success, an AAR in the same session resolves the
//! APN (from IDr) to the gateway(s) (steps 9–10, [`swm`]), a gateway named by host is looked
//! up in DNS ([`resolve`]), and the MAG ([`mobility`]) registers the UE at the gateway
//! (PBU/PBA, steps 11–14). Only then does the EAP-Success go to the UE, and the final
//! IKE_AUTH response carries the IPv4 address and IPv6 prefix the gateway assigned (steps
//! 13–15). IKE DELETE, a dead peer or expiry de-register the binding and end the AAA session
//! (STR). Each failure ends with its notify (docs/epdg.md) and no state in any node.

pub mod config;
pub mod mobility;
pub mod node;
pub mod pmip;
pub mod resolve;
pub mod swm;

pub use config::EpdgSpec;
pub use mobility::{AttachError, AttachRequest, Binding, Mobility};
pub use node::{EpdgError, EpdgEvent, EpdgHandle, EpdgNode, EpdgStatus};
