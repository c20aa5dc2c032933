//! A PostgreSQL server of a test's own, in a temporary directory on a free port: for what
//! the machine's shared server must not be put through (TLS settings of the test's
//! choosing, a restart in the middle of a load).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::explain;

pub struct PostgresServer {
    pub dir: PathBuf,
    pub port: u16,
    bin: PathBuf,
    options: Vec<String>,
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["stop", "-m", "immediate"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn checked(command: &mut Command) -> Output {
    let output = command.output().expect("the command starts");
    assert!(output.status.success(), "{command:?}: {}", explain(&output));
    output
}

/// PostgreSQL's binaries: `pg_config --bindir`, else the newest under /usr/lib/postgresql.
fn bin_dir() -> PathBuf {
    match Command::new("pg_config").arg("--bindir").output() {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        _ => std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's binaries are installed")
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .max()
            .expect("a PostgreSQL version directory"),
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// PostgreSQL refuses to run as root: as root, it runs as the `postgres` user.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl PostgresServer {
    /// A fresh cluster (trust authentication, user `postgres`). `prepare` runs on its
    /// directory before the server first starts (to write certificates or replace
    /// `pg_hba.conf`); `options` are `-c name=value` settings.
    pub fn start(options: &[&str], prepare: impl FnOnce(&Path)) -> Self {
        let dir = std::env::temp_dir().join(crate::unique("pm_pg_"));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = bin_dir();
        let mut server = Self {
            port: crate::peers::free_port(),
            bin,
            options: options.iter().map(|o| o.to_string()).collect(),
            dir,
        };
        if is_root() {
            checked(Command::new("chown").arg("postgres:").arg(&server.dir));
        }
        checked(
            as_server_user(&server.bin.join("initdb"))
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
                .arg(server.data()),
        );
        prepare(&server.dir);
        if is_root() {
            checked(
                Command::new("chown")
                    .arg("-R")
                    .arg("postgres:")
                    .arg(&server.dir),
            );
        }
        server.options.extend([
            "listen_addresses=127.0.0.1".to_string(),
            format!("unix_socket_directories={}", server.dir.display()),
            "fsync=off".to_string(),
        ]);
        server.start_again();
        server
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}?sslmode=disable",
            self.port
        )
    }

    fn pg_ctl(&self, args: &[&str]) -> std::io::Result<Output> {
        let mut settings = format!("-p {}", self.port);
        for option in &self.options {
            settings.push_str(&format!(" -c {option}"));
        }
        as_server_user(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["-o", &settings, "-l"])
            .arg(self.dir.join("server.log"))
            .args(args)
            .output()
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start_again(&self) {
        let output = self.pg_ctl(&["-w", "-t", "30", "start"]).unwrap();
        assert!(
            output.status.success(),
            "PostgreSQL did not start: {}\n{}",
            explain(&output),
            std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "PostgreSQL does not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A fast shutdown (running queries are cut off, as a failover or a restart does).
    pub fn stop(&self) {
        let output = self.pg_ctl(&["-w", "-m", "fast", "stop"]).unwrap();
        assert!(output.status.success(), "{}", explain(&output));
    }

    pub fn restart(&self) {
        self.stop();
        self.start_again();
    }
}
