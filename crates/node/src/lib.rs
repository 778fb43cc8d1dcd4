//! # mobstrap-node: the network functions
//!
//! Sockets, timers, the store and metrics around the `mobstrap-proto` engines. Nodes decide
//! nothing about protocol behaviour themselves: they move bytes between sockets and engines,
//! arm the timers engines ask for, and read and write the store.
//!
//! * [`diameter`]: the Diameter node (TCP transport, peers, routing, proxying, client API)
//!   that the AAA, the ePDG and the gateways are built on.
//! * [`aaa`]: the 3GPP AAA server with an embedded HSS (`mobstrap aaa`).
//! * [`trace`]: the message tap every socket reports to (`mobstrap lab`'s ladders and pcap).

pub mod aaa;
pub mod diameter;
pub mod epdg;
pub mod gw;
pub mod ike;
pub mod mag;
pub mod pmip_raw;
pub mod pmip_tunnel;
pub mod trace;
pub mod ue;

/// Awaits `f`, or never when there is none: an optional branch of a `select!` (a socket or
/// device a node may not have, a timer that may not be set).
pub(crate) async fn or_pending<T>(f: Option<impl std::future::Future<Output = T>>) -> T {
    match f {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}
