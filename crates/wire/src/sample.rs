//! One well-formed sample of every message type, framed as it travels, for the tshark
//! cross-check, the decode tests and the documentation. Each codec module contributes its
//! own `samples()`; [`all`] gathers them.

use crate::dissect::Node;
use crate::frame::Frame;

/// A message as it would appear on the wire, and how tshark must be told to read it.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Unique, e.g. `diameter/DER`.
    pub name: String,
    /// The raw IP packet (pcap LINKTYPE_RAW).
    pub packet: Vec<u8>,
    /// Extra tshark arguments this sample needs (e.g. `-d udp.port==18120,radius`); empty for
    /// standard ports.
    pub tshark_args: Vec<String>,
    /// Our own decoding of the transport payload.
    pub dissect: fn(&[u8]) -> crate::Result<Node>,
    /// Fields we tag but tshark cannot be compared on for this sample (a known tshark gap,
    /// documented where the sample is built).
    pub skip_fields: Vec<&'static str>,
}

impl Sample {
    /// Frames `payload` and names it. Panics only on a programming error in a sample table
    /// (mixed address families), never on input.
    pub fn new(
        name: impl Into<String>,
        frame: Frame,
        payload: &[u8],
        dissect: fn(&[u8]) -> crate::Result<Node>,
    ) -> Self {
        let name = name.into();
        let packet = match frame.build(payload) {
            Ok(p) => p,
            Err(e) => panic!("sample {name}: {e}"),
        };
        Sample {
            name,
            packet,
            tshark_args: Vec::new(),
            dissect,
            skip_fields: Vec::new(),
        }
    }

    /// Adds tshark arguments (e.g. `["-d", "udp.port==18120,radius"]`).
    pub fn tshark(mut self, args: &[&str]) -> Self {
        self.tshark_args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    /// Our decoding of this sample (the payload above IP/UDP/TCP).
    pub fn decode(&self) -> crate::Result<Node> {
        let p = crate::frame::peel_ip(&self.packet)?;
        (self.dissect)(p.payload)
    }
}

/// Every sample of every codec, in a stable order.
pub fn all() -> Vec<Sample> {
    #[allow(unused_mut)]
    let mut v: Vec<Sample> = Vec::new();
    v.extend(crate::ikev2::samples());
    v.extend(crate::esp::samples());
    v.extend(crate::mh::samples());
    v.extend(crate::icmpv6::samples());
    v.extend(crate::mip4::samples());
    v.extend(crate::diameter::samples());
    v.extend(crate::eap::samples());
    v.extend(crate::radius::samples());
    v
}
