//! The `mobstrap` binary: one command line for every network function, the lab, the
//! benchmarks and the tools (decode, aka-vector, subscriber).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod aka_vector;
mod decode;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(a) => decode::run(a),
        Command::AkaVector(a) => aka_vector::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mobstrap: {e:#}");
            ExitCode::from(2)
        }
    }
}
