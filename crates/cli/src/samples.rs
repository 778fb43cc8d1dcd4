//! `mobstrap samples`: the reference capture of every message type.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;

#[derive(clap::Args)]
pub struct Args {
    /// Where to write the capture (pcap, raw IP link type).
    #[arg(long)]
    pcap: PathBuf,
    /// Only samples whose name contains this (e.g. `diameter/`, `PBU`).
    #[arg(long, default_value = "")]
    filter: String,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let samples: Vec<_> = mobstrap_wire::sample::all()
        .into_iter()
        .filter(|s| s.name.contains(&a.filter))
        .collect();
    let file =
        std::fs::File::create(&a.pcap).with_context(|| format!("creating {}", a.pcap.display()))?;
    let header = PcapHeader {
        datalink: DataLink::RAW,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(file, header).context("writing the pcap header")?;
    let mut args: Vec<String> = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        let ts = std::time::Duration::from_secs(1_700_000_000 + i as u64);
        w.write_packet(&PcapPacket::new(ts, s.packet.len() as u32, &s.packet))
            .context("writing a packet")?;
        crate::outln!("{:>4}  {}", i + 1, s.name);
        for pair in s.tshark_args.chunks(2) {
            if !args.windows(pair.len()).any(|x| x == pair) {
                args.extend_from_slice(pair);
            }
        }
    }
    crate::outln!("{} messages written to {}", samples.len(), a.pcap.display());
    if !args.is_empty() {
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        crate::outln!(
            "read it with: tshark -r {} {}",
            a.pcap.display(),
            quoted.join(" ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
