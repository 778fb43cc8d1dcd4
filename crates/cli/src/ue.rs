//! `mobstrap ue`: attach through an ePDG with USIM credentials (docs/ue.md). Prints the
//! assigned addresses and keeps the tunnel until Ctrl-C / SIGTERM (then IKE DELETE), or with
//! `--once` detaches at once. Refused: exit status 3 and the notify's name on stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use mobstrap_node::ue::{AttachOutcome, Ue, UeFlags, UeSpec};

#[derive(clap::Args)]
pub struct Args {
    /// A TOML configuration (the IKE node's sections plus `[ue] apn`); or the flags below.
    #[arg(long, short)]
    config: Option<PathBuf>,
    #[arg(long)]
    imsi: Option<String>,
    /// K (hex).
    #[arg(long)]
    k: Option<String>,
    /// OPc (hex).
    #[arg(long)]
    opc: Option<String>,
    /// SQN_MS (hex), default 0.
    #[arg(long)]
    sqn: Option<String>,
    /// The APN (sent in IDr).
    #[arg(long)]
    apn: Option<String>,
    /// The ePDG, `address[:port]`.
    #[arg(long)]
    epdg: Option<String>,
    /// Local address to bind.
    #[arg(long)]
    bind: Option<String>,
    /// IKE port (both sides), default 500.
    #[arg(long)]
    port: Option<u16>,
    /// NAT-T port (both sides), default 4500.
    #[arg(long)]
    natt_port: Option<u16>,
    /// Ask for an IPv4 address (with neither --ip4 nor --ip6: both).
    #[arg(long)]
    ip4: bool,
    /// Ask for an IPv6 prefix/address.
    #[arg(long)]
    ip6: bool,
    /// Ask for DNS servers.
    #[arg(long)]
    dns: bool,
    /// Ask for P-CSCF addresses.
    #[arg(long)]
    pcscf: bool,
    /// CA certificate (PEM) the ePDG's certificate must chain to.
    #[arg(long)]
    ca: Option<String>,
    /// Identity the ePDG must prove (e.g. `@epdg.example`).
    #[arg(long)]
    epdg_id: Option<String>,
    /// PSK for the ePDG's authentication (tests).
    #[arg(long)]
    psk: Option<String>,
    /// Bring up a TUN with the assigned addresses and route through it (root).
    #[arg(long)]
    tun: bool,
    /// Test labs: make the USIM's EAP peer misbehave on purpose. `wrong-res`: verify AUTN,
    /// then answer the AKA-Challenge with a wrong RES under a valid AT_MAC (the AAA must
    /// refuse it). Overrides `[usim] fault`.
    #[arg(long, value_name = "FAULT")]
    usim_fault: Option<String>,
    /// Detach right after the attach (exit 0 when it succeeded).
    #[arg(long)]
    once: bool,
    #[arg(long, default_value = "info")]
    log: String,
    #[arg(long)]
    json: bool,
    /// Check the configuration and exit.
    #[arg(long)]
    check: bool,
}

fn need(v: &Option<String>, name: &str) -> anyhow::Result<String> {
    v.clone()
        .with_context(|| format!("--{name} is required without --config"))
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let mut spec = match &a.config {
        Some(p) => UeSpec::from_file(p)?,
        None => UeSpec::from_flags(&UeFlags {
            imsi: need(&a.imsi, "imsi")?,
            k: need(&a.k, "k")?,
            opc: need(&a.opc, "opc")?,
            sqn: a.sqn.clone(),
            apn: need(&a.apn, "apn")?,
            epdg: need(&a.epdg, "epdg")?,
            bind: a.bind.clone(),
            port: a.port,
            natt_port: a.natt_port,
            ip4: a.ip4,
            ip6: a.ip6,
            dns: a.dns,
            pcscf: a.pcscf,
            epdg_id: a.epdg_id.clone(),
            ca: a.ca.clone(),
            psk: a.psk.clone(),
            tun: a.tun,
            usim_fault: a.usim_fault.clone(),
        })?,
    };
    if let (Some(name), Some(_)) = (&a.usim_fault, &a.config) {
        let fault = mobstrap_proto::eap::PeerFault::from_name(name)
            .with_context(|| format!("--usim-fault: unknown fault '{name}' (known: wrong-res)"))?;
        if let Some(u) = spec.ike.usim.as_mut() {
            u.fault = Some(fault);
        }
    }
    if a.check {
        crate::outln!("ue configuration: ok (APN {})", spec.apn);
        return Ok(ExitCode::SUCCESS);
    }
    crate::logging::init(&a.log, a.json);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(async move {
        let apn = spec.apn.clone();
        let mut ue = Ue::start(spec).await?;
        let outcome = tokio::select! {
            o = ue.attached() => o,
            _ = crate::logging::terminated() => {
                ue.handle.shutdown().await;
                return Ok(ExitCode::from(130));
            }
        };
        match outcome {
            AttachOutcome::Attached {
                ip4,
                ip6,
                dns4,
                dns6,
                pcscf4,
                pcscf6,
                epdg,
                ..
            } => {
                crate::outln!("attached to {epdg}, APN {apn}");
                if let Some(a) = ip4 {
                    crate::outln!("ipv4 {a}");
                }
                if let Some((a, l)) = ip6 {
                    crate::outln!("ipv6 {a}/{l}");
                }
                for d in &dns4 {
                    crate::outln!("dns {d}");
                }
                for d in &dns6 {
                    crate::outln!("dns {d}");
                }
                for p in &pcscf4 {
                    crate::outln!("pcscf {p}");
                }
                for p in &pcscf6 {
                    crate::outln!("pcscf {p}");
                }
                if a.once {
                    let r = ue.detach().await;
                    crate::outln!("detached ({r:?})");
                    return Ok(ExitCode::SUCCESS);
                }
                tokio::select! {
                    r = ue.closed() => {
                        eprintln!("mobstrap ue: the tunnel closed: {r:?}");
                        ue.handle.shutdown().await;
                        Ok(ExitCode::from(1))
                    }
                    _ = crate::logging::terminated() => {
                        let r = ue.detach().await;
                        crate::outln!("detached ({r:?})");
                        Ok(ExitCode::SUCCESS)
                    }
                }
            }
            refused => {
                ue.handle.shutdown().await;
                eprintln!(
                    "mobstrap ue: refused: {}",
                    refused.refusal().unwrap_or_default()
                );
                Ok(ExitCode::from(3))
            }
        }
    })
}
