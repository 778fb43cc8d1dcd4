//! # mobstrap-proto: the protocol engines
//!
//! Sans-I/O state machines in the quinn-proto style: an engine is fed parsed input and the
//! current time (`handle_*(…, now)`), and queues what it wants done (`poll_transmit`,
//! `poll_timeout`, `poll_event`). Randomness is passed in. Engines never touch sockets,
//! clocks, the store or tokio; that is the job of `mobstrap-node`. This keeps every engine
//! deterministic, so tests run whole conversations in memory with a virtual clock, loss and
//! reordering.

pub mod diameter;
pub mod eap;
pub mod esp;
pub mod ikev2;
pub mod pmip;
pub mod radius;
