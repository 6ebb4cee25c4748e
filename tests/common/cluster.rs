//! A private PostgreSQL cluster for tests that must restart, dump or restore a server: `initdb`
//! into a temporary directory, `pg_ctl start` on a free port with its socket in that directory,
//! and always stopped when the value is dropped (a panicking test too). The shared server on
//! 127.0.0.1:5432 is never touched.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where the PostgreSQL 15 server programs are (`LIFECOURSE_PG_BIN` overrides).
pub fn pg_bin(program: &str) -> PathBuf {
    let dir = std::env::var("LIFECOURSE_PG_BIN")
        .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".to_string());
    Path::new(&dir).join(program)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL server program: as user `postgres` when we are root (the server refuses to
/// run as root), as ourselves otherwise.
fn as_postgres(program: &str, args: &[&str]) -> Output {
    let path = pg_bin(program);
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&path);
        c
    } else {
        Command::new(&path)
    };
    command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()))
}

fn check(what: &str, output: Output) -> Output {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A free TCP port on 127.0.0.1 (free now; the server takes it a moment later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

pub struct PrivateCluster {
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PrivateCluster {
    /// `initdb` (trust authentication for local connections, superuser `postgres`) and start.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("lifecourse-pg-")
            .tempdir_in("/tmp")
            .expect("a temporary directory");
        if is_root() {
            check(
                "chown",
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(dir.path())
                    .output()
                    .expect("chown"),
            );
        }
        let data = dir.path().join("data");
        check(
            "initdb",
            as_postgres(
                "initdb",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            ),
        );
        let cluster = Self {
            dir,
            port: free_port(),
        };
        cluster.pg_ctl("start");
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        let data = self.data();
        let mut args = vec!["-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options];
        if action == "restart" {
            args.extend(["-m", "fast"]);
        }
        args.push(action);
        check(&format!("pg_ctl {action}"), as_postgres("pg_ctl", &args));
    }

    /// `pg_ctl restart -m fast`: every session is cut, the server comes back on the same port.
    pub fn restart(&self) {
        self.pg_ctl("restart");
    }

    /// The URL of database `database` on this cluster, as the superuser.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a database.
    pub fn create_database(&self, database: &str) {
        self.psql("postgres", &format!("CREATE DATABASE \"{database}\""));
    }

    /// Runs SQL through `psql` on `database`; returns its standard output (unaligned, tuples only).
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let output = Command::new("psql")
            .args(["-X", "-v", "ON_ERROR_STOP=1", "-At"])
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-d", database, "-c", sql])
            .output()
            .expect("psql");
        let output = check(&format!("psql {sql}"), output);
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// `pg_dump -Fc` of `database` into `file`.
    pub fn dump(&self, database: &str, file: &Path) {
        let output = Command::new(pg_bin("pg_dump"))
            .args(["-Fc", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", database, "-f"])
            .arg(file)
            .output()
            .expect("pg_dump");
        check("pg_dump", output);
    }

    /// `pg_restore` of `file` into `database` (which must exist).
    pub fn restore(&self, database: &str, file: &Path) {
        let output = Command::new(pg_bin("pg_restore"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", database, "--exit-on-error"])
            .arg(file)
            .output()
            .expect("pg_restore");
        check("pg_restore", output);
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = as_postgres("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}
