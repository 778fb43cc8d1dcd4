//! `mobstrap subscriber`: provisioning of the embedded HSS (add, import from CSV, list,
//! show, delete) on the same store the AAA uses (`--db`: a SQLite path or URL, or a
//! PostgreSQL URL). Formats: `docs/store.md`.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args as ClapArgs, Subcommand};
use mobstrap_store::backend::ConnectOptions;
use mobstrap_store::{
    csv as store_csv, sqn, AccessType, AkaMethod, Error as StoreError, Imsi, Provision, Store,
    StoreOptions, StoredSubscriber, WriteMode,
};

use crate::outln;

#[derive(ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(ClapArgs)]
struct Db {
    /// The store: a SQLite file (path, or sqlite:///path; created if missing) or a
    /// PostgreSQL URL (postgres://user@host/db). Default: $MOBSTRAP_DB.
    #[arg(long, value_name = "URL")]
    db: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Provision one subscriber.
    Add(Box<AddArgs>),
    /// Provision subscribers from a CSV file (header row; all rows or none).
    Import(ImportArgs),
    /// List subscribers (no secrets unless --csv --secrets).
    List(ListArgs),
    /// Show one subscriber (K and OPc only with --secrets).
    Show(ShowArgs),
    /// Delete subscribers (with their pseudonyms and re-authentication identities).
    Delete(DeleteArgs),
}

#[derive(ClapArgs)]
struct AddArgs {
    #[command(flatten)]
    db: Db,
    /// IMSI, 6 to 15 digits.
    #[arg(long)]
    imsi: String,
    /// Subscriber key K, 32 hex digits.
    #[arg(long)]
    k: String,
    /// OPc, 32 hex digits.
    #[arg(long, conflicts_with = "op", required_unless_present = "op")]
    opc: Option<String>,
    /// OP, 32 hex digits: OPc is computed and stored (OP is not).
    #[arg(long)]
    op: Option<String>,
    /// AMF, 4 hex digits [default: 8000].
    #[arg(long)]
    amf: Option<String>,
    /// MNC length in the IMSI, 2 or 3 [default: 2].
    #[arg(long)]
    mnc_len: Option<String>,
    /// The USIM's current SQN, 12 hex digits; challenges go above it [default: a fresh card].
    #[arg(long)]
    sqn: Option<String>,
    /// MSISDN.
    #[arg(long)]
    msisdn: Option<String>,
    /// An APN profile, `APN=TARGET[+FLAG...]` with TARGET `dynamic`, `gw:ADDRESS` or
    /// `fqdn:NAME` and FLAGs `visited`, `ipv4`, `ipv6`, `ipv4v6`, `ipv4-or-ipv6`
    /// (repeatable; `;`-separated lists work too).
    #[arg(long = "apn", value_name = "SPEC")]
    apns: Vec<String>,
    /// The APN used when the UE names none [default: the first --apn].
    #[arg(long)]
    default_apn: Option<String>,
    /// Static IPv4 home address.
    #[arg(long)]
    static_ipv4: Option<String>,
    /// Static IPv6 home network prefix, e.g. 2001:db8:1::/64.
    #[arg(long)]
    static_ipv6_prefix: Option<String>,
    /// Home agent / LMA: address or FQDN.
    #[arg(long)]
    home_agent: Option<String>,
    /// Mobile IPv4 foreign home agent: address or FQDN.
    #[arg(long)]
    mip4_fha: Option<String>,
    /// Allowed access types: `all`, or a comma-separated list of untrusted-wlan,
    /// trusted-wlan, trusted-non3gpp, mip4 [default: all].
    #[arg(long)]
    access_types: Option<String>,
    /// Replace an existing subscriber (keys and profile; the SQN only moves up).
    #[arg(long)]
    replace: bool,
}

#[derive(ClapArgs)]
struct ImportArgs {
    #[command(flatten)]
    db: Db,
    /// The CSV file (`-`: standard input).
    file: String,
    /// Replace subscribers that exist (keys and profile; the SQN only moves up).
    #[arg(long)]
    replace: bool,
}

#[derive(ClapArgs)]
struct ListArgs {
    #[command(flatten)]
    db: Db,
    /// Write the import CSV format instead of a table.
    #[arg(long)]
    csv: bool,
    /// With --csv: include K and OPc (otherwise the file does not import).
    #[arg(long, requires = "csv")]
    secrets: bool,
    /// At most this many subscribers.
    #[arg(long)]
    limit: Option<u64>,
}

#[derive(ClapArgs)]
struct ShowArgs {
    #[command(flatten)]
    db: Db,
    /// The IMSI.
    imsi: String,
    /// Also print K and OPc.
    #[arg(long)]
    secrets: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(ClapArgs)]
struct DeleteArgs {
    #[command(flatten)]
    db: Db,
    /// IMSIs to delete.
    #[arg(required = true)]
    imsis: Vec<String>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(async move {
        match a.command {
            Command::Add(a) => add(*a).await,
            Command::Import(a) => import(a).await,
            Command::List(a) => list(a).await,
            Command::Show(a) => show(a).await,
            Command::Delete(a) => delete(a).await,
        }
    })
}

async fn open(db: &Db) -> anyhow::Result<Store> {
    let url = match &db.db {
        Some(u) => u.clone(),
        None => match std::env::var("MOBSTRAP_DB") {
            Ok(u) if !u.is_empty() => u,
            _ => bail!("give --db URL (a SQLite path or a postgres:// URL) or set MOBSTRAP_DB"),
        },
    };
    let opts = StoreOptions {
        connect: ConnectOptions {
            max_connections: 2,
            ..ConnectOptions::default()
        },
        cache_ttl: None,
        ..StoreOptions::default()
    };
    Store::open_with(&url, opts)
        .await
        .with_context(|| format!("opening the store {}", mask(&url)))
}

fn mask(url: &str) -> String {
    match url.split_once("://") {
        Some((s, rest)) => match rest.split_once('@') {
            Some((auth, host)) => match auth.split_once(':') {
                Some((user, _)) => format!("{s}://{user}:***@{host}"),
                None => url.to_owned(),
            },
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The CLI option for a field name of the store's validation errors.
fn option_name(field: &str) -> String {
    match field {
        "apns" => "--apn".into(),
        f => format!("--{}", f.replace('_', "-")),
    }
}

fn write_mode(replace: bool) -> WriteMode {
    if replace {
        WriteMode::Replace
    } else {
        WriteMode::Add
    }
}

fn store_error(e: StoreError, replace: bool) -> anyhow::Error {
    match e {
        StoreError::Exists { imsi } if !replace => {
            anyhow::anyhow!("subscriber {imsi} already exists (use --replace to update it)")
        }
        StoreError::Invalid(f) => anyhow::anyhow!("{}: {}", option_name(f.field), f.reason),
        e => e.into(),
    }
}

async fn add(a: AddArgs) -> anyhow::Result<ExitCode> {
    let mut cells: HashMap<&str, String> = HashMap::new();
    let mut put = |k: &'static str, v: &Option<String>| {
        if let Some(v) = v {
            cells.insert(k, v.clone());
        }
    };
    put("imsi", &Some(a.imsi.clone()));
    put("k", &Some(a.k.clone()));
    put("opc", &a.opc);
    put("op", &a.op);
    put("amf", &a.amf);
    put("mnc_len", &a.mnc_len);
    put("sqn", &a.sqn);
    put("msisdn", &a.msisdn);
    put("default_apn", &a.default_apn);
    put("static_ipv4", &a.static_ipv4);
    put("static_ipv6_prefix", &a.static_ipv6_prefix);
    put("home_agent", &a.home_agent);
    put("mip4_fha", &a.mip4_fha);
    put("access_types", &a.access_types);
    cells.insert("apns", a.apns.join(";"));
    let p = store_csv::parse_row(&|c: &str| cells.get(c).map(String::as_str).unwrap_or(""))
        .map_err(|f| anyhow::anyhow!("{}: {}", option_name(f.field), f.reason))?;
    let store = open(&a.db).await?;
    store
        .write_subscribers(std::slice::from_ref(&p), write_mode(a.replace))
        .await
        .map_err(|e| store_error(e, a.replace))?;
    outln!(
        "{} subscriber {}",
        if a.replace { "stored" } else { "added" },
        p.subscriber.imsi
    );
    Ok(ExitCode::SUCCESS)
}

async fn import(a: ImportArgs) -> anyhow::Result<ExitCode> {
    let subs: Vec<Provision> = if a.file == "-" {
        store_csv::parse(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(&a.file).with_context(|| format!("opening {}", a.file))?;
        store_csv::parse(std::io::BufReader::new(f))
    }
    .map_err(|e| anyhow::anyhow!("{}: nothing imported:\n{e}", a.file))?;
    let store = open(&a.db).await?;
    let mut done = 0;
    // One transaction per chunk keeps a huge file from holding one lock for long; a
    // failure names the chunk's first line.
    const CHUNK: usize = 10_000;
    for (i, chunk) in subs.chunks(CHUNK).enumerate() {
        done += store
            .write_subscribers(chunk, write_mode(a.replace))
            .await
            .map_err(|e| store_error(e, a.replace))
            .with_context(|| {
                format!(
                    "{}: rows {} to {} not imported ({} before them were)",
                    a.file,
                    i * CHUNK + 1,
                    i * CHUNK + chunk.len(),
                    done
                )
            })?;
    }
    outln!("imported {done} subscribers");
    Ok(ExitCode::SUCCESS)
}

async fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let store = open(&a.db).await?;
    let limit = a.limit.unwrap_or(u64::MAX);
    let mut all: Vec<StoredSubscriber> = Vec::new();
    let mut after: Option<Imsi> = None;
    while (all.len() as u64) < limit {
        let page = store
            .list_subscribers(after.as_ref(), 1000)
            .await
            .context("listing")?;
        let Some(last) = page.last() else { break };
        after = Some(last.subscriber.imsi.clone());
        all.extend(page);
    }
    all.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    if a.csv {
        if !a.secrets {
            eprintln!("mobstrap: k and opc left empty (add --secrets for a file that imports)");
        }
        let mut buf = Vec::new();
        store_csv::write(&mut buf, &all, a.secrets).context("writing CSV")?;
        crate::out(&String::from_utf8_lossy(&buf));
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{:<15}  {:>9}  {:<15}  {:<30}  ACCESS",
        "IMSI",
        "NEXT SEQ",
        "MSISDN",
        "APNS"
    );
    for st in &all {
        let p = &st.subscriber.profile;
        outln!(
            "{:<15}  {:>9}  {:<15}  {:<30}  {}",
            st.subscriber.imsi,
            st.seq_hwm,
            p.msisdn.as_deref().unwrap_or("-"),
            p.apns
                .iter()
                .map(|a| a.apn.as_str())
                .collect::<Vec<_>>()
                .join(","),
            AccessType::format_list(&p.access_types)
        );
    }
    outln!("{} subscribers", all.len());
    Ok(ExitCode::SUCCESS)
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a Unix time.
fn utc(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

async fn show(a: ShowArgs) -> anyhow::Result<ExitCode> {
    let imsi = Imsi::new(&a.imsi).map_err(|e| anyhow::anyhow!("{}", e.reason))?;
    let store = open(&a.db).await?;
    let Some(st) = store.subscriber_uncached(&imsi).await.context("reading")? else {
        eprintln!("mobstrap: subscriber {imsi} not found");
        return Ok(ExitCode::from(1));
    };
    let s = &st.subscriber;
    let p = &s.profile;
    if a.json {
        let mut v = serde_json::to_value(s).context("JSON")?;
        if let Some(o) = v.as_object_mut() {
            if !a.secrets {
                o.remove("k");
                o.remove("opc");
            }
            o.insert("seq_hwm".into(), st.seq_hwm.into());
            o.insert(
                "permanent_identity_aka".into(),
                s.permanent_identity(AkaMethod::Aka).into(),
            );
            o.insert(
                "permanent_identity_aka_prime".into(),
                s.permanent_identity(AkaMethod::AkaPrime).into(),
            );
            o.insert("created_at".into(), st.created_at.into());
            o.insert("updated_at".into(), st.updated_at.into());
        }
        outln!("{}", serde_json::to_string_pretty(&v).context("JSON")?);
        return Ok(ExitCode::SUCCESS);
    }
    let hidden = "(hidden; --secrets shows it)";
    let line = |k: &str, v: &str| outln!("{k:<20}{v}");
    line("IMSI", s.imsi.as_str());
    line(
        "MCC / MNC",
        &format!("{} / {}", s.imsi.mcc(), s.imsi.mnc(s.mnc_len)),
    );
    line("identity (AKA)", &s.permanent_identity(AkaMethod::Aka));
    line(
        "identity (AKA')",
        &s.permanent_identity(AkaMethod::AkaPrime),
    );
    line(
        "K",
        &if a.secrets {
            s.k.to_hex()
        } else {
            hidden.into()
        },
    );
    let opc = if a.secrets {
        s.opc.to_hex()
    } else {
        hidden.into()
    };
    line(
        "OPc",
        &if s.opc_from_op {
            format!("{opc} (computed from OP)")
        } else {
            opc
        },
    );
    line("AMF", &s.amf.to_string());
    line(
        "SQN",
        &format!(
            "next SEQ {} (SQN {:012x} with IND 0; SEQ below it may have been issued)",
            st.seq_hwm,
            sqn::compose(st.seq_hwm, 0)
        ),
    );
    line("MSISDN", p.msisdn.as_deref().unwrap_or("-"));
    let default = p.default_apn().map(|d| d.apn.clone());
    if p.apns.is_empty() {
        line("APNs", "-");
    }
    for (i, ap) in p.apns.iter().enumerate() {
        let mark = if Some(&ap.apn) == default.as_ref() {
            "  (default)"
        } else {
            ""
        };
        line(if i == 0 { "APNs" } else { "" }, &format!("{ap}{mark}"));
    }
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    line("static IPv4", &opt(p.static_ipv4.map(|a| a.to_string())));
    line(
        "static IPv6 prefix",
        &opt(p.static_ipv6_prefix.map(|a| a.to_string())),
    );
    line(
        "home agent / LMA",
        &opt(p.home_agent.as_ref().map(|a| a.to_string())),
    );
    line(
        "MIPv4 FHA",
        &opt(p.mip4_fha.as_ref().map(|a| a.to_string())),
    );
    line("access types", &AccessType::format_list(&p.access_types));
    line("created", &utc(st.created_at));
    line("updated", &utc(st.updated_at));
    Ok(ExitCode::SUCCESS)
}

async fn delete(a: DeleteArgs) -> anyhow::Result<ExitCode> {
    let mut imsis = Vec::new();
    for i in &a.imsis {
        imsis.push(Imsi::new(i).map_err(|e| anyhow::anyhow!("{}", e.reason))?);
    }
    let store = open(&a.db).await?;
    let mut missing = 0;
    for imsi in imsis {
        if store.delete_subscriber(&imsi).await.context("deleting")? {
            outln!("deleted {imsi}");
        } else {
            eprintln!("mobstrap: subscriber {imsi} not found");
            missing += 1;
        }
    }
    Ok(if missing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(super::utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
