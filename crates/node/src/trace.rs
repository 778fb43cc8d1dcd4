//! The message tap: every datagram and every TCP chunk a node's sockets send or receive,
//! handed to one process-wide [`Recorder`] when one is installed (`mobstrap lab` draws its
//! ladders and writes its pcap from these records). With none installed a call costs one
//! relaxed atomic load.
//!
//! Sockets call [`udp`] / [`tcp`] with the node's name (its log name or Diameter identity),
//! the direction, both addresses and the bytes. UDP records are whole datagrams; TCP records
//! are the chunks as written to / read from the stream (a reader reassembles messages per
//! connection). A record is made before a send and after a receive, so a reply is never
//! recorded before the message it answers was recorded on one side or the other.
//!
//! This room records; it decides nothing and never fails the node's I/O.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

/// Which way the bytes went, seen from the recording node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// One tapped datagram or TCP chunk.
#[derive(Debug, Clone)]
pub struct Record {
    /// Order of recording in this process (total, across nodes).
    pub seq: u64,
    pub time: SystemTime,
    pub node: Arc<str>,
    pub direction: Direction,
    pub transport: Transport,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub bytes: Vec<u8>,
}

/// Where records go.
pub trait Recorder: Send + Sync {
    fn record(&self, r: Record);
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static SEQ: AtomicU64 = AtomicU64::new(0);
static RECORDER: RwLock<Option<Arc<dyn Recorder>>> = RwLock::new(None);

/// Installs `r` as the process's recorder (replacing any other).
pub fn install(r: Arc<dyn Recorder>) {
    if let Ok(mut g) = RECORDER.write() {
        *g = Some(r);
        ENABLED.store(true, Ordering::Release);
    }
}

/// Removes the recorder; later calls record nothing.
pub fn uninstall() {
    ENABLED.store(false, Ordering::Release);
    if let Ok(mut g) = RECORDER.write() {
        *g = None;
    }
}

/// Whether a recorder is installed.
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Taps one UDP datagram.
#[inline]
pub fn udp(node: &str, direction: Direction, local: SocketAddr, remote: SocketAddr, bytes: &[u8]) {
    if enabled() {
        emit(node, direction, Transport::Udp, local, remote, bytes);
    }
}

/// Taps one chunk of a TCP stream.
#[inline]
pub fn tcp(node: &str, direction: Direction, local: SocketAddr, remote: SocketAddr, bytes: &[u8]) {
    if enabled() && !bytes.is_empty() {
        emit(node, direction, Transport::Tcp, local, remote, bytes);
    }
}

#[cold]
fn emit(
    node: &str,
    direction: Direction,
    transport: Transport,
    local: SocketAddr,
    remote: SocketAddr,
    bytes: &[u8],
) {
    let Ok(g) = RECORDER.read() else { return };
    let Some(r) = g.as_ref() else { return };
    r.record(Record {
        seq: SEQ.fetch_add(1, Ordering::Relaxed),
        time: SystemTime::now(),
        node: Arc::from(node),
        direction,
        transport,
        local,
        remote,
        bytes: bytes.to_vec(),
    });
}

/// A recorder that keeps everything in memory, in recording order.
#[derive(Default)]
pub struct MemoryRecorder {
    records: Mutex<Vec<Record>>,
}

impl MemoryRecorder {
    pub fn new() -> Arc<MemoryRecorder> {
        Arc::new(MemoryRecorder::default())
    }

    /// Everything recorded so far (the recorder is emptied).
    pub fn take(&self) -> Vec<Record> {
        let mut v = match self.records.lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(_) => Vec::new(),
        };
        v.sort_by_key(|r| r.seq);
        v
    }

    pub fn len(&self) -> usize {
        self.records.lock().map(|g| g.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Recorder for MemoryRecorder {
    fn record(&self, r: Record) {
        if let Ok(mut g) = self.records.lock() {
            g.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_while_installed_and_in_order() {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:2".parse().unwrap();
        udp("trace-test", Direction::Sent, a, b, b"lost");
        let rec = MemoryRecorder::new();
        install(rec.clone());
        udp("trace-test", Direction::Sent, a, b, b"one");
        tcp("trace-test", Direction::Received, b, a, b"");
        tcp("trace-test", Direction::Received, b, a, b"two");
        uninstall();
        udp("trace-test", Direction::Sent, a, b, b"after");
        // other tests of this process may record too: look at ours only
        let v: Vec<Record> = rec
            .take()
            .into_iter()
            .filter(|r| &*r.node == "trace-test")
            .collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].bytes, b"one");
        assert_eq!(v[0].transport, Transport::Udp);
        assert_eq!(v[1].bytes, b"two");
        assert_eq!(v[1].direction, Direction::Received);
        assert!(v[0].seq < v[1].seq);
    }
}
