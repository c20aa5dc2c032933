//! What every process does at start, in one place: logging ([`telemetry::init`]) and
//! building its dependencies from the environment ([`Deps`]).
//!
//! A Lambda main builds a `Deps` once at cold start, asks it for only the parts its
//! handler needs (so it validates only its own variables), and lends them to the handler;
//! the local runtime builds every part from the same `Deps`. There is no other wiring
//! code. Parts that need the auth layer (the API-key middleware, the session key) are
//! built by `pm_auth` from a `Deps`, so this crate stays below HTTP.

pub mod telemetry;

use std::sync::Arc;

use pm_config::{ConfigError, Env, Redacted};
use pm_ports::config::PortFactory;
use pm_ports::kv::KeyValue;
use pm_ports::queue::Queue;
use pm_ports::secrets::SecretStore;
use pm_store::{DatabaseConfig, Db, DbError};
use tokio::sync::OnceCell;

/// A start-up failure, for a `main` to return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A process's dependencies, each built on first use and then shared (clones of the
/// same pool and clients).
pub struct Deps {
    env: Env,
    ports: PortFactory,
    db: OnceCell<Db>,
    secrets: OnceCell<Arc<dyn SecretStore>>,
    queue: OnceCell<Arc<dyn Queue>>,
    kv: OnceCell<Arc<dyn KeyValue>>,
}

impl Deps {
    pub fn new(env: Env) -> Self {
        Self {
            ports: PortFactory::new(env.clone()),
            env,
            db: OnceCell::new(),
            secrets: OnceCell::new(),
            queue: OnceCell::new(),
            kv: OnceCell::new(),
        }
    }

    /// From the process environment: what a Lambda main uses.
    pub fn from_process() -> Self {
        Self::new(Env::process())
    }

    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The database pool (`DATABASE_URL`, `DB_POOL_SIZE`, …). Building it does not
    /// connect, so a cold start does not fail while the database is briefly away.
    ///
    /// With `DATABASE_SECRET` set, the user and password come from that document in the
    /// secrets port (`username` and `password`: the format RDS and RDS Proxy use), read
    /// once here, and the URL names only where the database is. A missing or incomplete
    /// secret fails the cold start, naming the path.
    pub async fn db(&self) -> Result<Db, BoxError> {
        self.db
            .get_or_try_init(|| async {
                let mut config = DatabaseConfig::from_env(&self.env)?;
                if let Some(path) = self.env.get("DATABASE_SECRET") {
                    let (user, password) = self.database_credentials(&path).await?;
                    config = config.with_credentials(&user, password);
                }
                Db::new(&config).map_err(|e: DbError| BoxError::from(e))
            })
            .await
            .cloned()
    }

    /// The `username` and `password` of the secrets-port document at `path`.
    pub async fn database_credentials(
        &self,
        path: &str,
    ) -> Result<(String, Redacted<String>), BoxError> {
        let data = self
            .secrets()
            .await?
            .get(path)
            .await?
            .ok_or_else(|| format!("the database secret {path} does not exist"))?;
        match (data.get("username"), data.get("password")) {
            (Some(user), Some(password)) if !user.is_empty() => {
                Ok((user.to_string(), Redacted::new(password.to_string())))
            }
            _ => Err(format!("the database secret {path} lacks a username or password").into()),
        }
    }

    pub async fn secrets(&self) -> Result<Arc<dyn SecretStore>, ConfigError> {
        self.secrets
            .get_or_try_init(|| self.ports.secrets())
            .await
            .cloned()
    }

    pub async fn queue(&self) -> Result<Arc<dyn Queue>, ConfigError> {
        self.queue
            .get_or_try_init(|| self.ports.queue())
            .await
            .cloned()
    }

    pub async fn kv(&self) -> Result<Arc<dyn KeyValue>, ConfigError> {
        self.kv
            .get_or_try_init(|| self.ports.key_value())
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_part_is_built_once_and_shared() {
        let deps = Deps::new(Env::fixed([("QUEUE_BACKEND", "memory")]));
        let a = deps.queue().await.unwrap();
        let b = deps.queue().await.unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }

    #[tokio::test]
    async fn a_bad_variable_is_named_when_its_part_is_asked_for() {
        let deps = Deps::new(Env::fixed([("KV_BACKEND", "redis")]));
        let err = deps.kv().await.err().unwrap().to_string();
        assert!(err.contains("KV_BACKEND"), "{err}");
        let err = deps.db().await.err().unwrap().to_string();
        assert!(err.contains("DATABASE_URL"), "{err}");
    }
}
