//! `mobstrap lab [SCENARIO...] [--report F] [--pcap F] [--keep]`: the seed procedures end to
//! end on loopback, every node a real socket endpoint in this process, the store a SQLite
//! file in a temporary directory. Every datagram and Diameter message the nodes' sockets
//! send or receive is tapped (`mobstrap_node::trace`), paired, decoded with the `wire`
//! codecs (IKE SK payloads opened with the key tables the IKE nodes write), labelled with
//! the seed's step numbers and drawn as a ladder; the verdict checks every step is there, in
//! order, and the scenario's own checks (addresses, notifies, no state left behind).
//!
//! * [`decode`]: records → messages; [`steps`]: rule tables and verdicts; [`ladder`]: text,
//!   SVG and the HTML report; [`pcap`]: the capture with synthesized IP/UDP/TCP headers.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::time::UNIX_EPOCH;

use anyhow::Context;
use mobstrap_node::trace::{self, MemoryRecorder};

mod decode;
mod ladder;
mod pcap;
mod s2b;
mod steps;
#[cfg(test)]
mod tests;
mod world;

use decode::{IkeKeys, Kind, WirePacket};
use ladder::{Ladder, Row};
use steps::{Check, Rule};

#[derive(clap::Args)]
pub struct Args {
    /// Scenarios to run (default: every scenario that can run). `--list` shows them.
    scenarios: Vec<String>,
    /// Write the ladders and verdicts as one HTML page with SVG ladders.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write the signalling as a pcap; the Wireshark key tables go beside it
    /// (`<pcap>.keys/ikev2_decryption_table`, `<pcap>.keys/esp_sa`).
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// Keep the temporary directories (stores, configurations, key tables) and print them.
    #[arg(long)]
    keep: bool,
    /// List the scenarios and exit.
    #[arg(long)]
    list: bool,
    /// Log filter for the nodes' logs (to standard error), e.g. `info`.
    #[arg(long, default_value = "off")]
    log: String,
}

/// Where a scenario runs: its temporary directory.
pub struct Env {
    // read by the scenario runners (the s2b ones need `mobstrap epdg` / `mobstrap gw`)
    #[cfg_attr(not(test), allow(dead_code))]
    pub dir: PathBuf,
}

/// What a scenario's runner reports besides the tapped traffic.
#[derive(Default)]
pub struct Outcome {
    /// Tap name (IKE node name, Diameter Origin-Host…) → ladder column.
    pub aliases: Vec<(String, String)>,
    /// States shown on the ladder at the time they were noted.
    pub notes: Vec<Note>,
    /// The scenario's own checks.
    pub checks: Vec<Check>,
    /// Directories where IKE nodes wrote their Wireshark key tables.
    pub key_dirs: Vec<PathBuf>,
    /// Addresses no node listens at but the ladder should place (a dead gateway → its column).
    pub addresses: Vec<(std::net::IpAddr, String)>,
}

/// A state at a node, drawn on the ladder where it happened.
pub struct Note {
    pub col: String,
    pub step: Option<u32>,
    pub text: String,
    pub time: std::time::SystemTime,
}

impl Outcome {
    /// Notes a state at column `col` now.
    pub fn note(&mut self, col: &str, step: Option<u32>, text: impl Into<String>) {
        self.notes.push(Note {
            col: col.to_string(),
            step,
            text: text.into(),
            time: std::time::SystemTime::now(),
        });
    }

    pub fn check(&mut self, ok: bool, what: impl Into<String>) {
        self.checks.push(Check {
            what: what.into(),
            ok,
        });
    }
}

type RunFn = for<'a> fn(&'a Env) -> Pin<Box<dyn Future<Output = anyhow::Result<Outcome>> + 'a>>;

/// A lab scenario.
pub struct Scenario {
    pub name: &'static str,
    pub title: &'static str,
    pub columns: &'static [&'static str],
    pub rules: &'static [Rule],
    /// Steps that must appear on the ladder (notes included).
    pub expected: &'static [u32],
    /// `None`: the network functions it needs are not part of this build.
    pub run: Option<RunFn>,
    /// Why it cannot run, when `run` is `None`.
    pub missing: &'static str,
}

/// Every scenario the lab knows.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "s2b",
            title: "seed 002 §2.1: PMIPv6-based S2b attach through the ePDG, non-roaming",
            columns: &["UE", "ePDG", "AAA", "GW"],
            rules: steps::S2B,
            expected: &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
            run: Some(|e| Box::pin(s2b::s2b(e))),
            missing: "",
        },
        Scenario {
            name: "s2b-roaming",
            title: "seed 002 §2.2: PMIPv6-based S2b attach through the ePDG, roaming",
            columns: &["UE", "ePDG", "vAAA", "hAAA", "vGW", "hGW"],
            rules: steps::S2B_ROAMING,
            expected: &[
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
            ],
            run: Some(|e| Box::pin(s2b::s2b_roaming(e))),
            missing: "",
        },
        Scenario {
            name: "unknown-imsi",
            title: "seed 002 failure: the UE's IMSI is not provisioned",
            columns: &["UE", "ePDG", "AAA", "GW"],
            rules: steps::UNKNOWN_IMSI,
            expected: &[1, 2, 3, 4, 5, 6, 7, 8, 13],
            run: Some(|e| Box::pin(s2b::failure(e, s2b::Variant::UnknownImsi))),
            missing: "",
        },
        Scenario {
            name: "wrong-res",
            title: "seed 002 failure: the UE's USIM answers the challenge with a wrong RES",
            columns: &["UE", "ePDG", "AAA", "GW"],
            rules: steps::WRONG_RES,
            expected: &[1, 2, 3, 4, 5, 6, 7, 8, 13],
            run: Some(|e| Box::pin(s2b::failure(e, s2b::Variant::WrongRes))),
            missing: "",
        },
        Scenario {
            name: "wrong-k",
            title: "seed 002 failure: the UE's USIM holds another K (AUTN does not verify)",
            columns: &["UE", "ePDG", "AAA", "GW"],
            rules: steps::WRONG_K,
            expected: &[1, 2, 3, 4, 5, 6, 7, 8, 13],
            run: Some(|e| Box::pin(s2b::failure(e, s2b::Variant::WrongK))),
            missing: "",
        },
        Scenario {
            name: "apn-not-allowed",
            title: "seed 002 failure: the UE asks for an APN outside its subscription",
            columns: &["UE", "ePDG", "AAA", "GW"],
            rules: steps::APN_NOT_ALLOWED,
            expected: &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13],
            run: Some(|e| Box::pin(s2b::failure(e, s2b::Variant::ApnNotAllowed))),
            missing: "",
        },
        Scenario {
            name: "pool-exhausted",
            title: "seed 002 failure: the gateway has no IPv4 address left",
            columns: &["UE", "ePDG", "AAA", "GW"],
            rules: steps::POOL_EXHAUSTED,
            expected: &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
            run: Some(|e| Box::pin(s2b::failure(e, s2b::Variant::PoolExhausted))),
            missing: "",
        },
        Scenario {
            name: "gw-unreachable",
            title: "seed 002 failure: the gateway the AAA names does not answer",
            columns: &["UE", "ePDG", "AAA", "GW"],
            rules: steps::GW_UNREACHABLE,
            expected: &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13],
            run: Some(|e| Box::pin(s2b::failure(e, s2b::Variant::GwUnreachable))),
            missing: "",
        },
    ]
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let all = scenarios();
    if a.list {
        for s in &all {
            match s.run {
                Some(_) => crate::outln!("{:<16} {}", s.name, s.title),
                None => crate::outln!("{:<16} {} [{}]", s.name, s.title, s.missing),
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut selected = Vec::new();
    if a.scenarios.is_empty() {
        selected.extend(all.iter().filter(|s| s.run.is_some()));
        if selected.is_empty() {
            anyhow::bail!(
                "no scenario can run in this build: {}",
                all.iter()
                    .map(|s| format!("{} {}", s.name, s.missing))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
    } else {
        for n in &a.scenarios {
            let s = all.iter().find(|s| s.name == n).with_context(|| {
                format!(
                    "unknown scenario '{n}'; known: {}",
                    all.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
                )
            })?;
            if s.run.is_none() {
                anyhow::bail!("scenario {}: {}", s.name, s.missing);
            }
            selected.push(s);
        }
    }
    if a.log != "off" {
        crate::logging::init(&a.log, false);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let mut ladders = Vec::new();
    let mut wire = Vec::new();
    let mut key_text = (String::new(), String::new());
    for s in selected {
        let dir = tempfile::Builder::new()
            .prefix(&format!("mobstrap-lab-{}-", s.name))
            .tempdir()
            .context("temporary directory")?;
        let env = Env {
            dir: dir.path().to_path_buf(),
        };
        let r = rt.block_on(run_scenario(s, &env));
        if a.keep {
            let kept = dir.keep();
            crate::outln!("{}: files kept in {}", s.name, kept.display());
        }
        let done = r?;
        crate::out(&done.ladder.text());
        crate::outln!("");
        wire.extend(done.wire);
        key_text.0.push_str(&done.keys.0);
        key_text.1.push_str(&done.keys.1);
        ladders.push(done.ladder);
    }
    if let Some(p) = &a.report {
        std::fs::write(p, ladder::html(&ladders))
            .with_context(|| format!("writing {}", p.display()))?;
        crate::outln!("report: {}", p.display());
    }
    if let Some(p) = &a.pcap {
        let n = write_pcap(p, &wire, &key_text)?;
        let ike = match world::ike_ports() {
            (500, _) => String::new(),
            (port, natt) => format!(" -d udp.port=={port},isakmp -d udp.port=={natt},udpencap"),
        };
        crate::outln!(
            "pcap: {} ({n} packets); Wireshark key tables in {}/ (docs/lab.md); tshark -r {} -d udp.port==5436,ipv6{ike} -o uat:ikev2_decryption_table:<line>",
            p.display(),
            keys_dir_of(p).display(),
            p.display()
        );
    }
    let failed: Vec<&str> = ladders
        .iter()
        .filter(|l| !l.passed())
        .map(|l| l.scenario.as_str())
        .collect();
    if failed.is_empty() {
        crate::outln!("lab: {} scenario(s) passed", ladders.len());
        Ok(ExitCode::SUCCESS)
    } else {
        crate::outln!("lab: FAILED: {}", failed.join(", "));
        Ok(ExitCode::from(1))
    }
}

/// `<pcap>.keys`
pub fn keys_dir_of(pcap: &Path) -> PathBuf {
    let mut s = pcap.as_os_str().to_owned();
    s.push(".keys");
    PathBuf::from(s)
}

fn write_pcap(p: &Path, wire: &[WirePacket], keys: &(String, String)) -> anyhow::Result<usize> {
    let f = std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?;
    let n = pcap::write(std::io::BufWriter::new(f), wire)
        .with_context(|| format!("writing {}", p.display()))?;
    let kd = keys_dir_of(p);
    std::fs::create_dir_all(&kd).with_context(|| format!("creating {}", kd.display()))?;
    std::fs::write(kd.join("ikev2_decryption_table"), &keys.0)?;
    std::fs::write(kd.join("esp_sa"), &keys.1)?;
    Ok(n)
}

/// A scenario's ladder, its packets and its key table lines.
pub struct Done {
    pub ladder: Ladder,
    pub wire: Vec<WirePacket>,
    pub keys: (String, String),
}

/// Runs one scenario with the tap installed and turns what it recorded into a ladder.
pub async fn run_scenario(s: &Scenario, env: &Env) -> anyhow::Result<Done> {
    let Some(run) = s.run else {
        anyhow::bail!("scenario {}: {}", s.name, s.missing);
    };
    world::new_net();
    let rec = MemoryRecorder::new();
    trace::install(rec.clone());
    let out = run(env).await;
    trace::uninstall();
    let out = out.with_context(|| format!("scenario {}", s.name))?;
    Ok(build(
        s.name,
        s.title,
        s.columns,
        s.rules,
        s.expected,
        out,
        &rec.take(),
    ))
}

/// Ladder, packets and keys from what a scenario recorded.
pub fn build(
    name: &str,
    title: &str,
    columns: &[&str],
    rules: &[Rule],
    expected: &[u32],
    out: Outcome,
    records: &[trace::Record],
) -> Done {
    let mut keys = (String::new(), String::new());
    // both ends of an SA write the same lines: each once
    let mut seen = std::collections::HashSet::new();
    for d in &out.key_dirs {
        for (file, into) in [
            ("ikev2_decryption_table", &mut keys.0),
            ("esp_sa", &mut keys.1),
        ] {
            if let Ok(t) = std::fs::read_to_string(d.join(file)) {
                for l in t.lines().filter(|l| !l.is_empty()) {
                    if seen.insert(l.to_string()) {
                        into.push_str(l);
                        into.push('\n');
                    }
                }
            }
        }
    }
    let ike_keys = IkeKeys::parse(&keys.0);
    let (mut msgs, wire) = decode::messages(records, &ike_keys);
    let column = |n: Option<&str>| -> Option<String> {
        let n = n?;
        Some(
            out.aliases
                .iter()
                .find(|(a, _)| a.eq_ignore_ascii_case(n))
                .map(|(_, c)| c.clone())
                .unwrap_or_else(|| n.to_string()),
        )
    };
    steps::label(&mut msgs, rules, column);
    // the ladder shows signalling: no ESP, keepalives or Diameter watchdogs
    msgs.retain(|m| match &m.kind {
        Kind::Esp | Kind::Keepalive => false,
        Kind::Diameter { command, .. } => {
            *command != mobstrap_wire::diameter::commands::DEVICE_WATCHDOG
        }
        _ => true,
    });
    let mut cols: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let col_of = |name: Option<String>, cols: &mut Vec<String>| -> Option<usize> {
        let n = name?;
        Some(match cols.iter().position(|c| *c == n) {
            Some(i) => i,
            None => {
                cols.push(n);
                cols.len() - 1
            }
        })
    };
    let t0 = msgs.first().map(|m| m.time).unwrap_or(UNIX_EPOCH);
    let mut rows = Vec::new();
    let mut steps_seen: Vec<Option<u32>> = Vec::new();
    let mut notes: Vec<&Note> = out.notes.iter().collect();
    notes.sort_by_key(|n| n.time);
    let mut notes = notes.into_iter().peekable();
    let note_row = |n: &Note, rows: &mut Vec<Row>, cols: &mut Vec<String>| {
        rows.push(Row::Note {
            col: col_of(Some(n.col.clone()), cols).unwrap_or(0),
            step: n.step,
            text: n.text.clone(),
        });
        n.step
    };
    for m in &msgs {
        while let Some(n) = notes.next_if(|n| n.time < m.time) {
            steps_seen.push(note_row(n, &mut rows, &mut cols));
        }
        let from = col_of(column(m.from.as_deref()), &mut cols);
        let mut to = col_of(column(m.to.as_deref()), &mut cols);
        let lost = to.is_none();
        if lost {
            let at = out.addresses.iter().find(|(a, _)| *a == m.dst.ip());
            to = col_of(at.map(|(_, c)| c.clone()), &mut cols);
        }
        // a retransmission repeats its step; the order check looks at first sendings
        steps_seen.push(if m.retransmission { None } else { m.step });
        rows.push(Row::Msg {
            from,
            to,
            lost,
            step: m.step,
            label: m.label.clone(),
            ms: m
                .time
                .duration_since(t0)
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0),
            detail: format!(
                "{} {} → {}",
                match m.transport {
                    trace::Transport::Udp => "UDP",
                    trace::Transport::Tcp => "TCP",
                },
                m.src,
                m.dst
            ),
        });
    }
    for n in notes {
        steps_seen.push(note_row(n, &mut rows, &mut cols));
    }
    let mut checks = steps::order_checks(&steps_seen, expected);
    checks.extend(out.checks);
    Done {
        ladder: Ladder {
            scenario: name.to_string(),
            title: title.to_string(),
            columns: cols,
            rows,
            checks,
        },
        wire,
        keys,
    }
}
