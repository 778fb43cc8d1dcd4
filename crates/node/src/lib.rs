//! # mobstrap-node: the network functions
//!
//! Sockets, timers, the store and metrics around the `mobstrap-proto` engines. Nodes decide
//! nothing about protocol behaviour themselves: they move bytes between sockets and engines,
//! arm the timers engines ask for, and read and write the store.
