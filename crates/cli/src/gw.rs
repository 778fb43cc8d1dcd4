//! `mobstrap gw --config gw.toml`: the PDN gateway as PMIPv6 LMA (and visited gateway with
//! `[roaming]`) as a daemon (docs/gw.md). `--check` validates the file and exits.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args as ClapArgs;
use mobstrap_node::gw::{GwConfig, GwNode};

use crate::outln;

#[derive(ClapArgs)]
pub struct Args {
    /// The configuration file (docs/gw.md, docs/examples/gw.toml).
    #[arg(long, short, value_name = "FILE")]
    config: PathBuf,
    /// Validate the configuration and exit (0: valid).
    #[arg(long)]
    check: bool,
    /// Worker threads of the runtime (default: one per CPU).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn load(path: &PathBuf) -> anyhow::Result<GwConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    GwConfig::from_toml(&text).with_context(|| format!("{}", path.display()))
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let config = load(&a.config)?;
    if a.check {
        outln!("{}: valid", a.config.display());
        return Ok(ExitCode::SUCCESS);
    }
    crate::aaa::init_logging(config.log.format, &config.log.level)?;
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
                .install()
                .with_context(|| format!("metrics: listening on {addr}"))?;
        }
        let node = GwNode::start(config).await?;
        outln!("gw: PMIPv6 signalling on {}", node.local_addr());
        wait_for_signal().await?;
        tracing::info!("shutting down");
        node.shutdown().await;
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
