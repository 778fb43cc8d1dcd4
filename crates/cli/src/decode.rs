//! `mobstrap decode`: hex or pcap in, a protocol tree out.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use mobstrap_wire::dissect::Node;
use mobstrap_wire::frame;
use mobstrap_wire::sniff::{self, Proto};

#[derive(clap::Args)]
pub struct Args {
    /// A message (or a whole IPv4/IPv6 packet) as hex; spaces and colons are ignored.
    #[arg(long, conflicts_with = "pcap", required_unless_present = "pcap")]
    hex: Option<String>,
    /// A pcap or pcapng file; every frame is decoded.
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// The protocol, instead of guessing from ports or first bytes
    /// (ikev2, udp4500, esp, eap, radius, diameter, mh, mh-udp, icmpv6, mip4, agent-adv).
    #[arg(long)]
    proto: Option<Proto>,
    /// Print `wireshark.field=value` lines instead of the tree (for comparing with tshark).
    #[arg(long)]
    fields: bool,
}

fn print(nodes: &[Node], fields: bool) {
    let mut out = String::new();
    for n in nodes {
        if fields {
            for (k, v) in n.fields() {
                out.push_str(k);
                out.push('=');
                out.push_str(v);
                out.push('\n');
            }
        } else {
            n.render(&mut out);
        }
    }
    crate::out(&out);
}

fn parse_hex(s: &str) -> anyhow::Result<Vec<u8>> {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let clean = clean.strip_prefix("0x").unwrap_or(&clean);
    hex::decode(clean).context("--hex is not valid hex")
}

/// A whole IP packet, or a bare message?
fn looks_like_ip(b: &[u8]) -> bool {
    matches!(b.first().map(|x| x >> 4), Some(4) | Some(6)) && frame::peel_ip(b).is_ok()
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if let Some(h) = a.hex {
        let bytes = parse_hex(&h)?;
        let nodes = if a.proto.is_none() && looks_like_ip(&bytes) {
            sniff::dissect_ip(&bytes, None)?
        } else {
            let proto = match a.proto.or_else(|| sniff::guess(&bytes)) {
                Some(p) => p,
                None => bail!("cannot tell the protocol from the first bytes; use --proto"),
            };
            vec![proto.dissect(&bytes)?]
        };
        print(&nodes, a.fields);
        return Ok(ExitCode::SUCCESS);
    }
    let Some(path) = a.pcap else {
        bail!("give --hex or --pcap");
    };
    let data = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let frames = read_capture(&data).with_context(|| format!("reading {}", path.display()))?;
    let mut failed = 0usize;
    for (i, (linktype, pkt)) in frames.iter().enumerate() {
        let no = i + 1;
        let ip = match frame::strip_link(*linktype, pkt) {
            Ok(ip) => ip,
            Err(e) => {
                crate::outln!("Frame {no}: {e}");
                failed += 1;
                continue;
            }
        };
        let peeled = match frame::peel_ip(ip) {
            Ok(p) => p,
            Err(e) => {
                crate::outln!("Frame {no}: {e}");
                failed += 1;
                continue;
            }
        };
        if peeled.payload.is_empty() {
            crate::outln!("Frame {no}: no payload (transport control)");
            continue;
        }
        let proto = a
            .proto
            .or_else(|| sniff::by_frame(&peeled.frame))
            .or_else(|| sniff::guess(peeled.payload));
        let Some(proto) = proto else {
            crate::outln!(
                "Frame {no}: {} (not a protocol mobstrap decodes)",
                sniff::frame_node(&peeled.frame).value
            );
            continue;
        };
        crate::outln!("Frame {no}");
        match proto.dissect(peeled.payload) {
            Ok(tree) => print(&[sniff::frame_node(&peeled.frame), tree], a.fields),
            Err(e) => {
                crate::outln!("    error: {e}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "mobstrap: {failed} of {} frames could not be decoded",
            frames.len()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// (link type, frame bytes) for every packet of a pcap or pcapng file.
fn read_capture(data: &[u8]) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
    use pcap_file::pcap::PcapReader;
    use pcap_file::pcapng::{Block, PcapNgReader};
    let mut out = Vec::new();
    if data.len() >= 4 && data[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
        let mut r = PcapNgReader::new(data).context("not a pcapng file")?;
        let mut linktypes: Vec<u32> = Vec::new();
        while let Some(block) = r.next_block() {
            match block.context("bad pcapng block")? {
                Block::SectionHeader(_) => linktypes.clear(),
                Block::InterfaceDescription(idb) => linktypes.push(u32::from(idb.linktype)),
                Block::EnhancedPacket(epb) => {
                    let lt = linktypes
                        .get(epb.interface_id as usize)
                        .copied()
                        .context("packet names an unknown interface")?;
                    out.push((lt, epb.data.to_vec()));
                }
                Block::SimplePacket(spb) => {
                    let lt = linktypes.first().copied().context("no interface")?;
                    out.push((lt, spb.data.to_vec()));
                }
                _ => {}
            }
        }
    } else {
        let mut r = PcapReader::new(data).context("not a pcap or pcapng file")?;
        let lt = u32::from(r.header().datalink);
        while let Some(p) = r.next_packet() {
            out.push((lt, p.context("bad pcap record")?.data.to_vec()));
        }
    }
    Ok(out)
}
