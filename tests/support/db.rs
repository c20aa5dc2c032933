//! A fresh, migrated PostgreSQL database per test (zero2prod's `spawn_app` idea), so
//! tests never see each other's rows and can run in parallel.

use std::sync::Once;

use pm_config::Env;
use pm_store::{DatabaseConfig, Db};

const PREFIX: &str = "pm_test_";

/// The server tests use: `TEST_DATABASE_URL`, else the machine's local PostgreSQL.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
        "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".to_string()
    })
}

pub struct TestDb {
    pub config: DatabaseConfig,
    pub db: Db,
    pub name: String,
}

impl TestDb {
    pub async fn new() -> Self {
        drop_leftovers_once().await;
        let name = crate::unique(PREFIX);
        let config = config_for(&name);
        pm_store::ensure_database(&config)
            .await
            .expect("create test database (is PostgreSQL running?)");
        let db = Db::new(&config).expect("pool");
        pm_store::migrate(&db).await.expect("migrations apply");
        Self { config, db, name }
    }
}

/// Configuration for database `name` on the test server.
pub fn config_for(name: &str) -> DatabaseConfig {
    let server = server_url();
    let (base, query) = server.split_once('?').unwrap_or((&server, ""));
    let cut = base.rfind('/').expect("URL has a database part");
    let mut url = format!("{}{name}", &base[..=cut]);
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    DatabaseConfig::from_env(&Env::fixed([
        ("DATABASE_URL", url),
        ("DB_POOL_SIZE", "4".into()),
    ]))
    .expect("valid test database config")
}

/// Earlier runs' databases are dropped once per process, so they do not pile up.
async fn drop_leftovers_once() {
    static ONCE: Once = Once::new();
    let mut first = false;
    ONCE.call_once(|| first = true);
    if !first {
        return;
    }
    let (client, connection) = tokio_postgres::connect(&server_url(), tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL server");
    tokio::spawn(connection);
    let stale = client
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'pm\\_test\\_%' \
             AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = pg_database.datname)",
            &[],
        )
        .await
        .expect("list databases");
    for row in stale {
        let name: String = row.get(0);
        let _ = client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
            .await;
    }
}
