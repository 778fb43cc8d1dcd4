//! `mobstrap epdg --config epdg.toml`: the ePDG of seed 002 (docs/epdg.md). One line per UE
//! on stdout (attached / refused / detached); Ctrl-C / SIGTERM deletes every IKE SA,
//! de-registers every binding and ends every AAA session.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use mobstrap_node::epdg::pmip::start_epdg;
use mobstrap_node::epdg::{EpdgEvent, EpdgSpec};

#[derive(clap::Args)]
pub struct Args {
    /// The ePDG's TOML configuration.
    #[arg(long, short)]
    config: PathBuf,
    /// Log filter (tracing `EnvFilter` syntax).
    #[arg(long, default_value = "info")]
    log: String,
    /// Logs as JSON lines.
    #[arg(long)]
    json: bool,
    /// Check the configuration and exit.
    #[arg(long)]
    check: bool,
    /// Worker threads of the runtime.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let spec = EpdgSpec::from_file(&a.config)?;
    if a.check {
        crate::outln!("{}: ok", a.config.display());
        return Ok(ExitCode::SUCCESS);
    }
    crate::logging::init(&a.log, a.json);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.threads.max(1))
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(async move {
        if let Some(addr) = spec.ike.metrics {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .with_http_listener(addr)
                .install()
                .with_context(|| format!("metrics exporter on {addr}"))?;
        }
        let (epdg, mut events, _mag) = start_epdg(spec).await?;
        crate::outln!("epdg: ready");
        let stop = crate::logging::terminated();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => {
                    epdg.shutdown().await;
                    return Ok(ExitCode::SUCCESS);
                }
                ev = events.recv() => {
                    let Some(ev) = ev else { return Ok(ExitCode::from(1)) };
                    match ev {
                        EpdgEvent::Attached { sa, nai, apn, gateway, home_gateway, ip4, ip6 } => {
                            crate::outln!(
                                "UE {sa} attached: {nai} APN {apn} via {gateway}{}, ipv4 {}, ipv6 {}",
                                home_gateway.map(|h| format!(" (home {h})")).unwrap_or_default(),
                                ip4.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                                ip6.map(|(a, l)| format!("{a}/{l}")).unwrap_or_else(|| "-".into()),
                            );
                        }
                        EpdgEvent::Refused { sa, nai, notify, why } => {
                            crate::outln!("UE {sa} refused: {nai}: {notify} ({why})");
                        }
                        EpdgEvent::Detached { sa, nai, reason } => {
                            crate::outln!("UE {sa} detached: {nai} ({reason:?})");
                        }
                    }
                }
            }
        }
    })
}
