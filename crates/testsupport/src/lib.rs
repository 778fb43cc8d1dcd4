//! # mobstrap-testsupport: real servers for tests
//!
//! [`TempPostgres`] starts a throw-away PostgreSQL cluster from the Debian `postgresql`
//! package (`initdb` + `pg_ctl` in a fresh directory, on a free loopback port), so the tests
//! of the PostgreSQL back end run the same on a developer machine and in CI, with no external
//! setup and no mock. Tests run as root in CI; PostgreSQL refuses to run as root, so the
//! cluster runs as the `postgres` OS user (`runuser -u postgres --`).
//!
//! The cluster is owned by a small supervising shell that holds a pipe from the test process:
//! when the test process ends — normally, by a panic, or by SIGKILL — the pipe closes, and the
//! shell stops the server (`pg_ctl -m immediate`) and removes the directory. Nothing is left
//! behind even when a test binary is killed.
//!
//! ```no_run
//! let pg = mobstrap_testsupport::TempPostgres::shared().unwrap();
//! let url = pg.fresh_database().unwrap(); // postgres://postgres@127.0.0.1:PORT/t123_0
//! ```
//!
//! Environment: `MOBSTRAP_PG_BINDIR` (directory of `initdb`/`pg_ctl`/`psql`; default the newest
//! `/usr/lib/postgresql/*/bin`), `MOBSTRAP_PG_BASE` (where cluster directories go; default
//! `/tmp`).

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Why a temporary cluster could not be started or used.
#[derive(Debug, Clone)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn err(msg: impl Into<String>) -> Error {
    Error(msg.into())
}

/// The supervising script, run as the cluster's owner. Arguments: bindir, port, base dir.
/// Prints `ready <dir>` once the server accepts connections, then waits for standard input
/// to close (the test process ending) and tears everything down.
const SUPERVISOR: &str = r#"
set -u
bindir=$1; port=$2; base=$3
dir=$(mktemp -d "$base/mobstrap-pg.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
if ! "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-instructions -N \
    >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  exit 1
fi
if ! "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=32MB" \
    start >/dev/null 2>&1; then
  cat "$dir/log" >&2
  exit 1
fi
echo "ready $dir"
read -r _ignored || true
"$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
"#;

/// A running throw-away PostgreSQL cluster; stopped and removed on drop (or when the process
/// ends, whichever comes first). User `postgres`, no password (trust), loopback only.
pub struct TempPostgres {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    dir: PathBuf,
    bindir: PathBuf,
}

impl fmt::Debug for TempPostgres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TempPostgres")
            .field("port", &self.port)
            .field("dir", &self.dir)
            .finish()
    }
}

static SHARED: OnceLock<Result<TempPostgres, Error>> = OnceLock::new();
static DB_COUNTER: AtomicU64 = AtomicU64::new(0);

impl TempPostgres {
    /// Starts a new cluster (about 1.5 s: initdb dominates).
    pub fn start() -> Result<Self, Error> {
        let bindir = find_bindir()?;
        let base = std::env::var_os("MOBSTRAP_PG_BASE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        let mut last = err("no attempt");
        // A port picked free may be taken by someone else before the server binds it.
        for _ in 0..5 {
            let port = free_port()?;
            match Self::start_on(&bindir, &base, port) {
                Ok(pg) => return Ok(pg),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// One cluster per test process, started on first use and stopped when the process ends.
    /// Tests share it and isolate themselves with [`TempPostgres::fresh_database`].
    pub fn shared() -> Result<&'static TempPostgres, Error> {
        SHARED
            .get_or_init(TempPostgres::start)
            .as_ref()
            .map_err(Clone::clone)
    }

    fn start_on(bindir: &Path, base: &Path, port: u16) -> Result<Self, Error> {
        let mut cmd = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "sh"]);
            c
        } else {
            Command::new("sh")
        };
        cmd.arg("-c")
            .arg(SUPERVISOR)
            .arg("mobstrap-pg")
            .arg(bindir)
            .arg(port.to_string())
            .arg(base)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| err(format!("starting the PostgreSQL supervisor: {e}")))?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| err("supervisor without stdout"))?;
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        let n = reader
            .read_line(&mut line)
            .map_err(|e| err(format!("reading the PostgreSQL supervisor: {e}")))?;
        let dir = line.trim_end().strip_prefix("ready ").map(PathBuf::from);
        match (n, dir) {
            (n, Some(dir)) if n > 0 => Ok(TempPostgres {
                child,
                stdin,
                port,
                dir,
                bindir: bindir.to_path_buf(),
            }),
            _ => {
                drop(stdin);
                let mut msg = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut msg);
                }
                let _ = child.wait();
                Err(err(format!(
                    "PostgreSQL did not start on port {port}: {}",
                    msg.trim()
                )))
            }
        }
    }

    /// TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster directory (data, log and socket).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Connection URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Runs SQL with `psql` against database `db` and returns its unaligned output.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, Error> {
        let out = Command::new(self.bindir.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-qAt",
            ])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-d")
            .arg(db)
            .arg("-c")
            .arg(sql)
            .output()
            .map_err(|e| err(format!("running psql: {e}")))?;
        if !out.status.success() {
            return Err(err(format!(
                "psql {sql:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Creates database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, Error> {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(err(format!("database name {name:?}: use [a-z0-9_]")));
        }
        self.psql("postgres", &format!("CREATE DATABASE {name}"))?;
        Ok(self.url(name))
    }

    /// Creates a database with a name unique in this cluster and returns its URL.
    pub fn fresh_database(&self) -> Result<String, Error> {
        let n = DB_COUNTER.fetch_add(1, Ordering::Relaxed);
        self.create_database(&format!("t{}_{n}", std::process::id()))
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        // Closing the pipe tells the supervisor to stop the server and remove the directory.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

fn running_as_root() -> bool {
    // /proc/self belongs to the effective user of the process.
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn free_port() -> Result<u16, Error> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| err(format!("binding a loopback port: {e}")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| err(format!("loopback port: {e}")))
}

fn find_bindir() -> Result<PathBuf, Error> {
    if let Some(d) = std::env::var_os("MOBSTRAP_PG_BINDIR") {
        return Ok(PathBuf::from(d));
    }
    let mut best: Option<(u32, PathBuf)> = None;
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        for e in rd.flatten() {
            let bin = e.path().join("bin");
            let ver = e
                .file_name()
                .to_str()
                .and_then(|v| v.split('.').next()?.parse::<u32>().ok());
            if let Some(ver) = ver {
                if bin.join("initdb").exists() && best.as_ref().is_none_or(|(b, _)| ver > *b) {
                    best = Some((ver, bin));
                }
            }
        }
    }
    if let Some((_, bin)) = best {
        return Ok(bin);
    }
    Err(err(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install Debian's \
         `postgresql` package (scripts/setup-debian.sh does) or set MOBSTRAP_PG_BINDIR",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_creates_databases_and_cleans_up() {
        let pg = TempPostgres::start().expect("start PostgreSQL");
        let dir = pg.dir().to_path_buf();
        assert!(dir.join("data/PG_VERSION").exists());
        pg.create_database("alpha").unwrap();
        let url = pg.fresh_database().unwrap();
        assert!(url.starts_with("postgres://postgres@127.0.0.1:"));
        assert_eq!(pg.psql("alpha", "SELECT 40 + 2").unwrap().trim(), "42");
        assert!(pg.create_database("alpha").is_err(), "duplicate name");
        assert!(pg.create_database("Bad-Name").is_err());
        drop(pg);
        assert!(!dir.exists(), "cluster directory removed on drop");
    }
}
