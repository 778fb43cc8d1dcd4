//! `mobstrap aaa --config aaa.toml`: the 3GPP AAA server as a daemon (docs/aaa.md). Logs
//! with tracing (human or JSON), Prometheus metrics on `[metrics] listen`, graceful
//! shutdown on SIGTERM / SIGINT (Diameter peers get DPR, queued store writes are committed).
//! `--check` validates the file and exits.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args as ClapArgs;
use mobstrap_node::aaa::config::LogFormat;
use mobstrap_node::aaa::{AaaConfig, AaaNode};

use crate::outln;

#[derive(ClapArgs)]
pub struct Args {
    /// The configuration file (docs/aaa.md, docs/examples/aaa.toml).
    #[arg(long, short, value_name = "FILE")]
    config: PathBuf,
    /// Validate the configuration and exit (0: valid).
    #[arg(long)]
    check: bool,
    /// Worker threads of the runtime (default: one per CPU).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn load(path: &PathBuf) -> anyhow::Result<AaaConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    AaaConfig::from_toml(&text).with_context(|| format!("{}", path.display()))
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let config = load(&a.config)?;
    if a.check {
        outln!("{}: valid", a.config.display());
        return Ok(ExitCode::SUCCESS);
    }
    init_logging(config.log.format, &config.log.level)?;
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = a.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.build().context("starting the runtime")?;
    rt.block_on(async move {
        if let Some(addr) = config.metrics.listen {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .with_http_listener(addr)
                .set_buckets(&[
                    0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
                    1.0,
                ])
                .context("metrics buckets")?
                .install()
                .with_context(|| format!("metrics: listening on {addr}"))?;
        }
        let node = AaaNode::start(config).await?;
        wait_for_signal().await?;
        tracing::info!("shutting down");
        node.shutdown(Duration::from_secs(5)).await;
        Ok(ExitCode::SUCCESS)
    })
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

pub fn init_logging(format: LogFormat, level: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .with_context(|| format!("log.level {level:?}"))?;
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let r = match format {
        LogFormat::Human => b.try_init(),
        LogFormat::Json => b.json().try_init(),
    };
    r.map_err(|e| anyhow::anyhow!("logging: {e}"))
}
