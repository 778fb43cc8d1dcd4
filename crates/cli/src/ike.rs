//! `mobstrap ike --config ike.toml`: one IKEv2 + ESP node (initiator or responder) from a
//! TOML file (`docs/ike-node.md`). Runs until Ctrl-C / SIGTERM (an initiator also stops when
//! its SA closes, with exit status 1).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use mobstrap_node::ike::app;
use mobstrap_node::ike::config::IkeNodeSpec;

#[derive(clap::Args)]
pub struct Args {
    /// The node's TOML configuration.
    #[arg(long, short)]
    config: PathBuf,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info`, `mobstrap_node=debug`.
    #[arg(long, default_value = "info")]
    log: String,
    /// Logs as JSON lines.
    #[arg(long)]
    json: bool,
    /// Check the configuration and exit.
    #[arg(long)]
    check: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let spec = IkeNodeSpec::from_file(&a.config)?;
    if a.check {
        crate::outln!("{}: ok ({:?})", a.config.display(), spec.role);
        return Ok(ExitCode::SUCCESS);
    }
    crate::logging::init(&a.log, a.json);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(async move {
        if let Some(addr) = spec.metrics {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .with_http_listener(addr)
                .install()
                .with_context(|| format!("metrics exporter on {addr}"))?;
        }
        match app::run(spec, crate::logging::terminated()).await {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(app::AppError::Closed(why)) => {
                eprintln!("mobstrap ike: the IKE SA closed: {why}");
                Ok(ExitCode::from(1))
            }
            Err(e) => Err(e.into()),
        }
    })
}
