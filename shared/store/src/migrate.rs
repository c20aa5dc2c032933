use crate::{DatabaseConfig, Db, DbError};

mod embedded {
    refinery::embed_migrations!("../../infra/migrations");
}

/// An arbitrary constant naming the advisory lock that serialises migration runs, so two
/// processes starting together do not both try to apply the same migration.
const MIGRATION_LOCK: i64 = 0x706d_6d69_6772; // "pmmigr"

/// Applies every migration under `infra/migrations/` that has not run yet, and names
/// those it applied.
pub async fn migrate(db: &Db) -> Result<Vec<String>, DbError> {
    let mut client = db.client().await?;
    // Migrations may take long (an index on a big table): no statement timeout here.
    client.batch_execute("SET statement_timeout = 0").await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let outcome = embedded::migrations::runner()
        .run_async(&mut **client)
        .await
        .map_err(|e| DbError::Migration(e.to_string()));
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    let report = outcome?;
    let applied: Vec<String> = report
        .applied_migrations()
        .iter()
        .map(|m| m.to_string())
        .collect();
    for name in &applied {
        tracing::info!(migration = %name, "applied migration");
    }
    Ok(applied)
}

/// Creates the configured database if it does not exist, connecting to the server's
/// `postgres` database to do so. Returns whether it was created.
pub async fn ensure_database(config: &DatabaseConfig) -> Result<bool, DbError> {
    let target = config.pg_config();
    let name = target
        .get_dbname()
        .ok_or_else(|| DbError::Unavailable("DATABASE_URL names no database".into()))?
        .to_string();
    let mut admin = target.clone();
    admin.dbname("postgres");
    let (client, connection) = admin
        .connect(crate::tls::connector(&config.tls)?)
        .await
        .map_err(|e| DbError::Unavailable(crate::error::with_causes(&e)))?;
    let task = tokio::spawn(connection);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await?
        .is_some();
    let created = if exists {
        false
    } else {
        let statement = format!("CREATE DATABASE {}", quote_identifier(&name));
        match client.batch_execute(&statement).await {
            Ok(()) => true,
            // Someone else created it between our check and our create: fine.
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) => {
                false
            }
            Err(e) => return Err(e.into()),
        }
    };
    drop(client);
    let _ = task.await;
    Ok(created)
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(super::quote_identifier(r#"we"ird"#), r#""we""ird""#);
    }
}
