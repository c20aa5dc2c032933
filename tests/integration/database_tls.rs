//! TLS to PostgreSQL as the URL's `sslmode` asks, against a real server: a second
//! PostgreSQL started here with `ssl = on`, a certificate for `localhost` from a CA made
//! for the test, and a `pg_hba.conf` that admits TLS connections only (so a plaintext
//! attempt is refused rather than silently served).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use pm_config::Env;
use pm_store::{DatabaseConfig, Db};
use pm_tests::{explain, peers};

struct TlsPostgres {
    dir: PathBuf,
    port: u16,
    child: Child,
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        // SIGINT: PostgreSQL's fast shutdown.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(command: &mut Command) {
    let output = command.output().expect("the command starts");
    assert!(output.status.success(), "{command:?}: {}", explain(&output));
}

fn bin_dir() -> PathBuf {
    let output = Command::new("pg_config").arg("--bindir").output();
    match output {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        _ => std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's binaries are installed")
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .max()
            .expect("a PostgreSQL version directory"),
    }
}

/// PostgreSQL refuses to run as root: as root, run it as the `postgres` user.
fn as_server_user(program: &Path) -> Command {
    if unsafe { libc::geteuid() } == 0 {
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

fn openssl(dir: &Path, args: &[&str]) {
    run(Command::new("openssl").current_dir(dir).args(args));
}

impl TlsPostgres {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(pm_tests::unique("pm_tls_pg_"));
        std::fs::create_dir_all(&dir).unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let ca = |name: &str| {
            let (key, pem, subject) = (
                format!("{name}.key"),
                format!("{name}.pem"),
                format!("/CN=pm test {name}"),
            );
            let mut args = vec!["req", "-x509", "-days", "2", "-subj", &subject];
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &pem]);
            openssl(&dir, &args);
        };
        ca("ca");
        ca("other_ca");
        let mut args = vec!["req", "-subj", "/CN=localhost"];
        args.extend(ec);
        args.extend(["-keyout", "server.key", "-out", "server.csr"]);
        openssl(&dir, &args);
        // Only the name `localhost`: connecting by IP address fails verify-full.
        std::fs::write(dir.join("ext"), "subjectAltName=DNS:localhost\n").unwrap();
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "ext",
                "-out",
                "server.pem",
            ],
        );
        let data = dir.join("data");
        let bin = bin_dir();
        if unsafe { libc::geteuid() } == 0 {
            run(Command::new("chown").arg("-R").arg("postgres:").arg(&dir));
        }
        run(as_server_user(&bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data));
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
        )
        .unwrap();
        let port = peers::free_port();
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let child = as_server_user(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.display()))
            .args(["-c", "ssl=on", "-c", "fsync=off"])
            .arg("-c")
            .arg(format!(
                "ssl_cert_file={}",
                dir.join("server.pem").display()
            ))
            .arg("-c")
            .arg(format!("ssl_key_file={}", dir.join("server.key").display()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("postgres starts");
        let server = Self { dir, port, child };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the TLS PostgreSQL did not start: {}",
                std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres{query}", self.port)
    }

    fn ca(&self, name: &str) -> String {
        self.dir.join(format!("{name}.pem")).display().to_string()
    }
}

fn db(url: &str) -> Db {
    let config = DatabaseConfig::from_env(&Env::fixed([("DATABASE_URL", url)])).expect("config");
    Db::new(&config).expect("pool")
}

/// Whether the connection is encrypted, as the server sees it.
async fn encrypted(db: &Db) -> Result<bool, String> {
    let client = db.client().await.map_err(|e| e.to_string())?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}

async fn refused(url: &str) -> String {
    let err = db(url).ping().await.expect_err("the connection is refused");
    assert!(err.is_unavailable(), "{err}");
    err.to_string()
}

#[tokio::test]
async fn connections_follow_the_urls_sslmode() {
    let server = tokio::task::spawn_blocking(TlsPostgres::start)
        .await
        .unwrap();
    let ca = server.ca("ca");

    // verify-full: the chain and the name.
    let url = server.url(
        "localhost",
        &format!("?sslmode=verify-full&sslrootcert={ca}"),
    );
    assert_eq!(encrypted(&db(&url)).await, Ok(true));
    let err = refused(&server.url(
        "127.0.0.1",
        &format!("?sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await;
    assert!(err.contains("not valid for name"), "{err}");
    let other = server.ca("other_ca");
    let err = refused(&server.url(
        "localhost",
        &format!("?sslmode=verify-full&sslrootcert={other}"),
    ))
    .await;
    assert!(err.contains("UnknownIssuer"), "{err}");

    // verify-ca: the chain, any name.
    let url = server.url("127.0.0.1", &format!("?sslmode=verify-ca&sslrootcert={ca}"));
    assert_eq!(encrypted(&db(&url)).await, Ok(true));
    let err = refused(&server.url(
        "127.0.0.1",
        &format!("?sslmode=verify-ca&sslrootcert={other}"),
    ))
    .await;
    assert!(err.contains("UnknownIssuer"), "{err}");

    // require: encrypted, unverified.
    assert_eq!(
        encrypted(&db(&server.url("127.0.0.1", "?sslmode=require"))).await,
        Ok(true)
    );

    // No sslmode is verify-full against the system's roots, which do not hold the test CA.
    let err = refused(&server.url("localhost", "")).await;
    assert!(err.contains("UnknownIssuer"), "{err}");

    // disable sends plaintext, which this server's pg_hba.conf turns away.
    let err = refused(&server.url("127.0.0.1", "?sslmode=disable")).await;
    assert!(err.contains("no encryption"), "{err}");
}

#[tokio::test]
async fn disable_is_plaintext_and_prefer_upgrades_when_offered() {
    // The machine's own server offers TLS (Debian's default); the tests' URLs disable it.
    let system = pm_tests::db::server_url();
    assert!(system.contains("sslmode=disable"), "{system}");
    assert_eq!(encrypted(&db(&system)).await, Ok(false));
    let prefer = system.replace("sslmode=disable", "sslmode=prefer");
    let offered = encrypted(&db(&prefer)).await.unwrap();
    let server_ssl: String = {
        let client = db(&system).client().await.unwrap();
        client.query_one("SHOW ssl", &[]).await.unwrap().get(0)
    };
    assert_eq!(offered, server_ssl == "on");
}
