use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use tokio_postgres::NoTls;

use crate::{DatabaseConfig, DbError};

/// A checked-out connection; derefs to `tokio_postgres::Client`.
pub type Client = deadpool_postgres::Object;

/// The handle every function shares: built once per process (outside the Lambda handler)
/// and cloned freely.
///
/// It is a pool in both places so that there is one code path: a Lambda container uses a
/// pool of one connection. Connections are opened lazily and checked before each use
/// (`RecyclingMethod::Verified`), because a connection that the server or RDS Proxy closed
/// while the container was frozen looks open until it is used; a dead one is replaced
/// transparently instead of failing the next request.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
}

impl Db {
    /// Builds the pool without connecting, so a cold start does not fail when the
    /// database is briefly away: the first request that needs it reports 503 instead.
    pub fn new(config: &DatabaseConfig) -> Result<Self, DbError> {
        let manager = Manager::from_config(
            config.pg_config(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Verified,
            },
        );
        let timeouts = Timeouts {
            wait: Some(config.connect_timeout),
            create: Some(config.connect_timeout),
            recycle: Some(config.connect_timeout),
        };
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .timeouts(timeouts)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        Ok(Self { pool })
    }

    pub async fn client(&self) -> Result<Client, DbError> {
        Ok(self.pool.get().await?)
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), DbError> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await?;
        Ok(())
    }
}
