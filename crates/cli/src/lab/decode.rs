//! From tapped records (`mobstrap_node::trace`) to the messages of a ladder: each message
//! once (the sender's record paired with the receiver's), named from its bytes with the
//! `wire` codecs, IKE SK payloads opened with the key tables the IKE nodes wrote.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::SystemTime;

use mobstrap_crypto::ikev2::Integ;
use mobstrap_crypto::transform::{Cipher, Encr};
use mobstrap_node::trace::{Direction, Record, Transport};
use mobstrap_wire::diameter::{commands, dict, Message as DiaMessage};
use mobstrap_wire::eap;
use mobstrap_wire::ikev2::{
    self, classify_udp4500, encrypted_layout, Header, PayloadBody, PayloadType, Plaintext, Udp4500,
};
use mobstrap_wire::mh;

/// What a message is, as far as the ladder and the verdicts care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Ike {
        exchange: String,
        response: bool,
        message_id: u32,
        /// Inner payload summary when decrypted (`EAP-Request/AKA-Challenge`, `AUTH`, `CP`…).
        inner: Vec<String>,
        /// Notify types (numbers) seen in the clear or decrypted part.
        notifies: Vec<u16>,
        decrypted: bool,
    },
    Diameter {
        command: u32,
        request: bool,
        name: String,
        /// Result-Code or Experimental-Result-Code of an answer.
        result: Option<u32>,
        /// `result` came from Experimental-Result.
        experimental: bool,
        /// The EAP-Payload, summarised.
        eap: Option<String>,
    },
    Pmip {
        /// `PBU` or `PBA`.
        name: String,
        seq: u16,
        status: Option<u8>,
        /// Lifetime in units of 4 s (0: de-registration).
        lifetime: u16,
    },
    Esp,
    Keepalive,
    Other(String),
}

/// One message on the ladder.
#[derive(Debug, Clone)]
pub struct Msg {
    /// Causal order (min of the sender's and the receiver's record).
    pub order: u64,
    pub time: SystemTime,
    /// Node names (as tapped); `None` when nobody tapped that end.
    pub from: Option<String>,
    pub to: Option<String>,
    pub transport: Transport,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub kind: Kind,
    pub label: String,
    pub step: Option<u32>,
    /// The same bytes were sent by the same node to the same address before.
    pub retransmission: bool,
}

/// A segment for the pcap: what went on the wire, once.
#[derive(Debug, Clone)]
pub struct WirePacket {
    pub order: u64,
    pub time: SystemTime,
    pub transport: Transport,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub bytes: Vec<u8>,
}

/// IKE SA keys from an `ikev2_decryption_table` (one line per SA).
#[derive(Default)]
pub struct IkeKeys {
    sas: Vec<([u8; 8], [u8; 8], Cipher, Cipher)>,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.trim()).ok()
}

impl IkeKeys {
    /// Reads the lines of `ikev2_decryption_table` (strongSwan save-keys format, as the IKE
    /// node writes it). Lines it cannot use are skipped.
    pub fn parse(text: &str) -> IkeKeys {
        let mut k = IkeKeys::default();
        for line in text.lines() {
            let f: Vec<&str> = line
                .split(',')
                .map(|s| s.trim().trim_matches('"'))
                .collect();
            if f.len() != 8 {
                continue;
            }
            let (Some(spi_i), Some(spi_r)) = (unhex(f[0]), unhex(f[1])) else {
                continue;
            };
            let (Ok(spi_i), Ok(spi_r)) = (<[u8; 8]>::try_from(spi_i), <[u8; 8]>::try_from(spi_r))
            else {
                continue;
            };
            let encr = match f[4] {
                s if s.starts_with("AES-CBC-128") => Encr::AesCbc128,
                s if s.starts_with("AES-CBC-256") => Encr::AesCbc256,
                s if s.starts_with("AES-GCM-128") => Encr::AesGcm16_128,
                s if s.starts_with("AES-GCM-256") => Encr::AesGcm16_256,
                _ => continue,
            };
            let integ = match f[7] {
                s if s.starts_with("NONE") => None,
                s if s.starts_with("HMAC_SHA1_96") => Some(Integ::HmacSha1_96),
                s if s.starts_with("HMAC_SHA2_256_128") => Some(Integ::HmacSha256_128),
                s if s.starts_with("HMAC_SHA2_384_192") => Some(Integ::HmacSha384_192),
                s if s.starts_with("HMAC_SHA2_512_256") => Some(Integ::HmacSha512_256),
                _ => continue,
            };
            let (Some(ei), Some(er), Some(ai), Some(ar)) =
                (unhex(f[2]), unhex(f[3]), unhex(f[5]), unhex(f[6]))
            else {
                continue;
            };
            let c = |e: &[u8], a: &[u8]| Cipher::new(encr, e, integ.map(|i| (i, a)));
            if let (Ok(ci), Ok(cr)) = (c(&ei, &ai), c(&er, &ar)) {
                k.sas.push((spi_i, spi_r, ci, cr));
            }
        }
        k
    }

    /// Opens the SK payload of `msg` (an IKE message without Non-ESP Marker): the decrypted
    /// inner payload bytes and the SK's first payload type.
    fn open(&self, msg: &[u8]) -> Option<(PayloadType, Vec<u8>)> {
        let p = ikev2::Packet::new_checked(msg).ok()?;
        let (spi_i, spi_r) = (p.spi_i(), p.spi_r());
        let from_initiator = p.flags() & ikev2::flags::INITIATOR != 0;
        let (_, _, ci, cr) = self
            .sas
            .iter()
            .find(|(i, r, _, _)| *i == spi_i && *r == spi_r)?;
        let c = if from_initiator { ci } else { cr };
        let layout = encrypted_layout(msg, c.iv_len(), c.icv_len()).ok()?;
        let first = PayloadType::from(*msg.get(layout.aad.end.checked_sub(4)?)?);
        let mut buf = msg[..layout.icv.end].to_vec();
        c.open_ike(&mut buf, layout.aad.end).ok()?;
        let r = c.payload_range(buf.len(), layout.aad.end).ok()?;
        Some((first, buf[r].to_vec()))
    }
}

/// `EAP-Request/AKA-Challenge`, `EAP-Success`, …
pub fn eap_summary(b: &[u8]) -> String {
    let Some(&code) = b.first() else {
        return "EAP (empty)".into();
    };
    let code_name = eap::Code::from(code).to_string();
    let base = format!("EAP-{code_name}");
    if !(code == 1 || code == 2) || b.len() < 5 {
        return base;
    }
    let t = eap::Type::from(b[4]);
    match b[4] {
        23 | 50 if b.len() >= 6 => {
            let sub = eap::aka::Subtype::from(b[5]).to_string();
            format!("{base}/{sub}")
        }
        1 => format!("{base}/Identity"),
        _ => format!("{base}/{t}"),
    }
}

fn id_text(id: &ikev2::Id<'_>) -> String {
    match id.id_type.value() {
        // FQDN, RFC822
        2 | 3 => String::from_utf8_lossy(id.data).into_owned(),
        1 | 5 => mobstrap_wire::dissect::ip_text(id.data),
        _ => mobstrap_wire::dissect::hex(id.data),
    }
}

fn ike_kind(msg: &[u8], keys: &IkeKeys) -> Option<Kind> {
    let parsed = ikev2::Message::parse(msg).ok()?;
    let h: Header = parsed.header;
    let exchange = h.exchange_type.to_string();
    let mut inner = Vec::new();
    let mut notifies = Vec::new();
    let mut decrypted = false;
    let mut collect = |payloads: &[ikev2::Payload<'_>], inner: &mut Vec<String>| {
        for p in payloads {
            match &p.body {
                PayloadBody::Eap(e) => inner.push(eap_summary(e)),
                PayloadBody::Notify(n) => {
                    notifies.push(n.notify_type.value());
                    if n.notify_type.is_error() {
                        inner.push(format!("N({})", n.notify_type));
                    }
                }
                PayloadBody::IdI(id) => inner.push(format!("IDi {}", id_text(id))),
                PayloadBody::IdR(id) => inner.push(format!("IDr {}", id_text(id))),
                PayloadBody::Auth(_) => inner.push("AUTH".into()),
                PayloadBody::Cp(c) => inner.push(format!("CP({})", c.cfg_type)),
                PayloadBody::Delete(_) => inner.push("D".into()),
                _ => {}
            }
        }
    };
    collect(&parsed.payloads, &mut inner);
    if parsed
        .payloads
        .iter()
        .any(|p| matches!(p.body, PayloadBody::Sk(_)))
    {
        if let Some((first, plain)) = keys.open(msg) {
            if let Ok(pt) = Plaintext::parse(first, &plain) {
                decrypted = true;
                collect(&pt.payloads, &mut inner);
            }
        }
    }
    Some(Kind::Ike {
        exchange,
        response: h.is_response(),
        message_id: h.message_id,
        inner,
        notifies,
        decrypted,
    })
}

fn diameter_kind(b: &[u8]) -> Option<Kind> {
    let m = DiaMessage::parse(b).ok()?;
    let h = m.header;
    let request = h.is_request();
    let name = match commands::lookup(h.command_code) {
        Some(c) if request => c.request.to_string(),
        Some(c) => c.answer.to_string(),
        None => format!("Diameter {}", h.command_code),
    };
    let plain = m.get(&dict::RESULT_CODE).and_then(|a| a.u32().ok());
    let experimental = m
        .get(&dict::EXPERIMENTAL_RESULT)
        .and_then(|g| g.grouped().ok())
        .and_then(|g| g.get(&dict::EXPERIMENTAL_RESULT_CODE))
        .and_then(|a| a.u32().ok());
    let result = plain.or(experimental);
    let eap = m.get(&dict::EAP_PAYLOAD).map(|a| eap_summary(a.data()));
    Some(Kind::Diameter {
        command: h.command_code,
        request,
        name,
        result,
        experimental: plain.is_none() && experimental.is_some(),
        eap,
    })
}

fn pmip_kind(b: &[u8]) -> Option<Kind> {
    let t = mh::udp::Ipv4Transport::parse(b).ok()?;
    Some(match t.mh.message {
        mh::Message::BindingUpdate(bu) => Kind::Pmip {
            name: if bu.is_proxy() { "PBU" } else { "BU" }.into(),
            seq: bu.seq,
            status: None,
            lifetime: bu.lifetime,
        },
        mh::Message::BindingAck(ba) => Kind::Pmip {
            name: if ba.is_proxy() { "PBA" } else { "BA" }.into(),
            seq: ba.seq,
            status: Some(ba.status),
            lifetime: ba.lifetime,
        },
        other => Kind::Other(format!("MH {}", other.mh_type())),
    })
}

/// Names a UDP datagram.
fn udp_kind(src: SocketAddr, dst: SocketAddr, b: &[u8], keys: &IkeKeys) -> Kind {
    let ports = [src.port(), dst.port()];
    if ports.contains(&mh::udp::PORT_CONTROL) {
        if let Some(k) = pmip_kind(b) {
            return k;
        }
    }
    match classify_udp4500(b) {
        Ok(Udp4500::Ike(ike)) => {
            if let Some(k) = ike_kind(ike, keys) {
                return k;
            }
        }
        Ok(Udp4500::Keepalive) => return Kind::Keepalive,
        Ok(Udp4500::Esp(_)) if !b.starts_with(&[0, 0, 0, 0]) => {
            // could also be plain IKE on port 500 (its SPIi is never zero)
            if let Some(k) = ike_kind(b, keys) {
                return k;
            }
            if ports.iter().any(|p| *p != 500) {
                return Kind::Esp;
            }
        }
        _ => {}
    }
    if let Some(k) = ike_kind(b, keys) {
        return k;
    }
    if let Some(k) = pmip_kind(b) {
        return k;
    }
    match mobstrap_wire::sniff::guess(b) {
        Some(p) => Kind::Other(p.name().to_string()),
        None => Kind::Other(format!("{} bytes", b.len())),
    }
}

/// The ladder label of a message.
pub fn label(k: &Kind) -> String {
    match k {
        Kind::Ike {
            exchange,
            response,
            message_id,
            inner,
            ..
        } => {
            let mut s = format!(
                "{exchange} {} #{message_id}",
                if *response { "resp" } else { "req" }
            );
            if !inner.is_empty() {
                s.push_str(&format!(" ({})", inner.join(", ")));
            }
            s
        }
        Kind::Diameter {
            name,
            result,
            experimental,
            eap,
            ..
        } => {
            let mut s = name.clone();
            let mut extra = Vec::new();
            if let Some(r) = result {
                let n = if *experimental {
                    dict::EXPERIMENTAL_RESULT_CODE.value_name(*r)
                } else {
                    dict::RESULT_CODE.value_name(*r)
                };
                extra.push(match n {
                    Some(n) => format!("{r} {n}"),
                    None => r.to_string(),
                });
            }
            if let Some(e) = eap {
                extra.push(e.clone());
            }
            if !extra.is_empty() {
                s.push_str(&format!(" ({})", extra.join(", ")));
            }
            s
        }
        Kind::Pmip {
            name,
            seq,
            status,
            lifetime,
        } => {
            let life = if status.is_some_and(|st| st >= 128) {
                "refused".to_string()
            } else if *lifetime == 0 {
                "de-registration".to_string()
            } else {
                format!("lifetime {} s", *lifetime as u32 * 4)
            };
            match status {
                Some(st) if *st >= 128 => {
                    format!("{name} seq {seq} (status {st} {})", mh::ba_status_name(*st))
                }
                Some(st) => format!(
                    "{name} seq {seq} (status {st} {}, {life})",
                    mh::ba_status_name(*st)
                ),
                None => format!("{name} seq {seq} ({life})"),
            }
        }
        Kind::Esp => "ESP".into(),
        Kind::Keepalive => "NAT-keepalive".into(),
        Kind::Other(s) => s.clone(),
    }
}

/// Pairs sent and received records, splits TCP streams into Diameter messages and names
/// everything. Returns the ladder messages (in causal order) and the pcap packets.
pub fn messages(records: &[Record], keys: &IkeKeys) -> (Vec<Msg>, Vec<WirePacket>) {
    let mut msgs = Vec::new();
    let mut wire = Vec::new();
    // UDP: pair by (addresses, bytes), first unmatched.
    let mut rx_used = vec![false; records.len()];
    for s in records
        .iter()
        .filter(|r| r.transport == Transport::Udp && r.direction == Direction::Sent)
    {
        let rx = records.iter().enumerate().position(|(i, r)| {
            !rx_used[i]
                && r.transport == Transport::Udp
                && r.direction == Direction::Received
                && r.local == s.remote
                && r.remote == s.local
                && r.bytes == s.bytes
        });
        let (to, order, time) = match rx {
            Some(i) => {
                rx_used[i] = true;
                let r = &records[i];
                let (o, t) = if r.seq < s.seq {
                    (r.seq, r.time)
                } else {
                    (s.seq, s.time)
                };
                (Some(r.node.to_string()), o, t)
            }
            None => (None, s.seq, s.time),
        };
        let kind = udp_kind(s.local, s.remote, &s.bytes, keys);
        msgs.push(Msg {
            order,
            time,
            from: Some(s.node.to_string()),
            to,
            transport: Transport::Udp,
            src: s.local,
            dst: s.remote,
            label: label(&kind),
            kind,
            step: None,
            retransmission: false,
        });
        wire.push(WirePacket {
            order,
            time: s.time,
            transport: Transport::Udp,
            src: s.local,
            dst: s.remote,
            bytes: s.bytes.clone(),
        });
    }
    // received from senders nobody tapped
    for (i, r) in records.iter().enumerate() {
        if r.transport == Transport::Udp && r.direction == Direction::Received && !rx_used[i] {
            let kind = udp_kind(r.remote, r.local, &r.bytes, keys);
            msgs.push(Msg {
                order: r.seq,
                time: r.time,
                from: None,
                to: Some(r.node.to_string()),
                transport: Transport::Udp,
                src: r.remote,
                dst: r.local,
                label: label(&kind),
                kind,
                step: None,
                retransmission: false,
            });
            wire.push(WirePacket {
                order: r.seq,
                time: r.time,
                transport: Transport::Udp,
                src: r.remote,
                dst: r.local,
                bytes: r.bytes.clone(),
            });
        }
    }
    // TCP: streams per (node, local, remote, direction), split into frames.
    struct Frame {
        seq: u64,
        time: SystemTime,
        bytes: Vec<u8>,
    }
    type Key = (String, SocketAddr, SocketAddr, bool);
    let mut streams: HashMap<Key, (Vec<u8>, Vec<Frame>)> = HashMap::new();
    let mut stream_order: Vec<Key> = Vec::new();
    for r in records.iter().filter(|r| r.transport == Transport::Tcp) {
        let key = (
            r.node.to_string(),
            r.local,
            r.remote,
            r.direction == Direction::Sent,
        );
        let e = streams.entry(key.clone()).or_insert_with(|| {
            stream_order.push(key.clone());
            (Vec::new(), Vec::new())
        });
        e.0.extend_from_slice(&r.bytes);
        while let Some(len) = mobstrap_wire::diameter::message::frame_len(&e.0) {
            if len < 20 || e.0.len() < len {
                break;
            }
            let rest = e.0.split_off(len);
            let bytes = std::mem::replace(&mut e.0, rest);
            e.1.push(Frame {
                seq: r.seq,
                time: r.time,
                bytes,
            });
        }
        if r.direction == Direction::Sent {
            wire.push(WirePacket {
                order: r.seq,
                time: r.time,
                transport: Transport::Tcp,
                src: r.local,
                dst: r.remote,
                bytes: r.bytes.clone(),
            });
        }
    }
    for key in &stream_order {
        let (node, local, remote, sent) = key;
        if !*sent {
            continue;
        }
        let frames = &streams[key].1;
        let peer = streams
            .iter()
            .find(|((_, l, r, s), _)| !*s && l == remote && r == local)
            .map(|((n, _, _, _), (_, f))| (n.clone(), f));
        for (i, f) in frames.iter().enumerate() {
            let rx = peer.as_ref().and_then(|(n, fr)| fr.get(i).map(|x| (n, x)));
            let (order, time) = match rx {
                Some((_, x)) if x.seq < f.seq => (x.seq, x.time),
                _ => (f.seq, f.time),
            };
            let kind = diameter_kind(&f.bytes).unwrap_or(Kind::Other("TCP data".into()));
            msgs.push(Msg {
                order,
                time,
                from: Some(node.clone()),
                to: rx.map(|(n, _)| n.clone()),
                transport: Transport::Tcp,
                src: *local,
                dst: *remote,
                label: label(&kind),
                kind,
                step: None,
                retransmission: false,
            });
        }
    }
    msgs.sort_by_key(|m| m.order);
    wire.sort_by_key(|w| w.order);
    // retransmissions: a UDP datagram identical to an earlier one on the same path
    let mut sent: std::collections::HashSet<(SocketAddr, SocketAddr, &[u8])> =
        std::collections::HashSet::new();
    let mut rtx = vec![false; msgs.len()];
    for (i, m) in msgs.iter().enumerate() {
        if m.transport == Transport::Udp {
            if let Some(w) = wire.iter().find(|w| w.order == m.order) {
                rtx[i] = !sent.insert((m.src, m.dst, w.bytes.as_slice()));
            }
        }
    }
    for (m, r) in msgs.iter_mut().zip(rtx) {
        if r {
            m.retransmission = true;
            m.label.push_str(" [retransmission]");
        }
    }
    (msgs, wire)
}
