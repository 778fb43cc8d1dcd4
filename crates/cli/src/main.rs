//! The `mobstrap` binary: one command line for every network function, the lab, the
//! benchmarks and the tools (decode, aka-vector, subscriber).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jemalloc: about a sixth less AAA CPU per authentication than glibc's malloc, whose
/// consolidation and free-list walks were a quarter of the AAA's profile (docs/performance.md).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod aaa;
mod aka_vector;
mod bench;
mod bench_aaa;
mod bench_attach;
mod decode;
mod epdg;
mod gw;
mod ike;
mod lab;
mod logging;
mod samples;
mod subscriber;
mod ue;

#[derive(Parser)]
#[command(
    name = "mobstrap",
    version,
    about = "Mobility bootstrapping control plane for non-3GPP access"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode IKEv2, ESP, EAP, RADIUS, Diameter, Mobility Header, ICMPv6 or Mobile IPv4
    /// messages from hex or a pcap, in the spirit of `tshark -V`.
    Decode(decode::Args),
    /// Compute an AKA authentication vector with Milenage and, with an identity, the
    /// EAP-AKA / EAP-AKA' keys.
    AkaVector(aka_vector::Args),
    /// Write one sample of every message type mobstrap speaks into a pcap (open it in
    /// Wireshark, or decode it with `mobstrap decode --pcap`).
    Samples(samples::Args),
    /// Load generators: `mobstrap bench ike`, `mobstrap bench aaa`.
    Bench(bench::Args),
    /// Run an IKEv2 + ESP node (initiator or responder) from a TOML file.
    Ike(ike::Args),
    /// Provision the embedded HSS: add, import (CSV), list, show, delete subscribers.
    Subscriber(subscriber::Args),
    /// Run the 3GPP AAA server with the embedded HSS (RADIUS, Diameter SWm/STa/S6b).
    Aaa(aaa::Args),
    /// Run the seed procedures end to end on loopback: ladder diagrams with seed step
    /// numbers and verdicts, an HTML report, a pcap with Wireshark keys.
    Lab(lab::Args),
    /// Run the ePDG (IKEv2 for UEs, SWm to the AAA, PMIPv6 MAG to the gateways).
    Epdg(epdg::Args),
    /// Attach as a UE through an ePDG (IKEv2 + EAP-AKA with a Milenage USIM, APN in IDr).
    Ue(ue::Args),
    /// Run the PDN gateway as PMIPv6 LMA / visited gateway (RFC 5213, RFC 5844, S6b).
    Gw(gw::Args),
}

/// Writes to standard output; a closed pipe (`mobstrap decode ... | head`) ends the program
/// quietly instead of panicking.
pub fn out(text: &str) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_all(text.as_bytes()).and_then(|_| o.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("mobstrap: writing output: {e}");
        std::process::exit(2);
    }
}

/// `println!` through [`out`].
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => { $crate::out(&format!("{}\n", format_args!($($t)*))) };
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(a) => decode::run(a),
        Command::AkaVector(a) => aka_vector::run(a),
        Command::Samples(a) => samples::run(a),
        Command::Subscriber(a) => subscriber::run(a),
        Command::Ike(a) => ike::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Aaa(a) => aaa::run(a),
        Command::Lab(a) => lab::run(a),
        Command::Ue(a) => ue::run(a),
        Command::Epdg(a) => epdg::run(a),
        Command::Gw(a) => gw::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mobstrap: {e:#}");
            ExitCode::from(2)
        }
    }
}
