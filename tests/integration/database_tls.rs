//! TLS to PostgreSQL as the URL's `sslmode` asks, against a real server: a second
//! PostgreSQL started here with `ssl = on`, a certificate for `localhost` from a CA made
//! for the test, and a `pg_hba.conf` that admits TLS connections only (so a plaintext
//! attempt is refused rather than silently served).

use std::path::Path;
use std::process::Command;

use pm_config::Env;
use pm_store::{DatabaseConfig, Db};
use pm_tests::explain;
use pm_tests::postgres_server::PostgresServer;

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        explain(&output)
    );
}

/// Two CAs (`ca.pem`, which signed the server's certificate, and `other_ca.pem`) and a
/// certificate for `localhost` only, so connecting by IP address fails verify-full.
fn certificates(data: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for name in ["ca", "other_ca"] {
        let (key, pem, subject) = (
            format!("{name}.key"),
            format!("{name}.pem"),
            format!("/CN=pm test {name}"),
        );
        let mut args = vec!["req", "-x509", "-days", "2", "-subj", &subject];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &pem]);
        openssl(data, &args);
    }
    let mut args = vec!["req", "-subj", "/CN=localhost"];
    args.extend(ec);
    args.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(data, &args);
    std::fs::write(data.join("ext"), "subjectAltName=DNS:localhost\n").unwrap();
    openssl(
        data,
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
    // PostgreSQL refuses a key others can read.
    std::fs::set_permissions(
        data.join("server.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
    )
    .unwrap();
}

struct TlsPostgres(PostgresServer);

impl TlsPostgres {
    fn start() -> Self {
        // Relative file names are the data directory's.
        Self(PostgresServer::start(
            &[
                "ssl=on",
                "ssl_cert_file=server.pem",
                "ssl_key_file=server.key",
            ],
            |dir| certificates(&dir.join("data")),
        ))
    }

    fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres{query}", self.0.port)
    }

    fn ca(&self, name: &str) -> String {
        self.0
            .data()
            .join(format!("{name}.pem"))
            .display()
            .to_string()
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
