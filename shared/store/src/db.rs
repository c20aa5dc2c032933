use std::time::Duration;

use deadpool_postgres::{
    Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts,
};

use crate::{DatabaseConfig, DbError};

/// Connections idle at least this long are checked before use.
const IDLE_CHECK_AFTER: Duration = Duration::from_secs(5);

/// A checked-out connection; derefs to `tokio_postgres::Client`.
pub type Client = deadpool_postgres::Object;

/// The handle every function shares: built once per process (outside the Lambda handler)
/// and cloned freely.
///
/// It is a pool in both places so that there is one code path: a Lambda container uses a
/// pool of one connection. Connections are opened lazily. A connection that was idle for
/// a while is checked with an empty query before it is handed out, because one that the
/// server or RDS Proxy closed while a Lambda container was frozen looks open until it is
/// used; a dead one is replaced transparently instead of failing the next request. Busy
/// connections skip the check, so a loaded process pays no extra round trip.
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
            crate::tls::connector(&config.tls)?,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
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
            .pre_recycle(Hook::async_fn(|client, metrics| {
                Box::pin(async move {
                    if metrics.last_used() >= IDLE_CHECK_AFTER {
                        client.simple_query("").await.map_err(HookError::Backend)?;
                    }
                    Ok(())
                })
            }))
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

/// Starts a transaction on a pooled connection, for a handler that writes: commit it
/// with [`commit`]; dropping it rolls back.
pub async fn begin(client: &mut Client) -> Result<crate::PooledTransaction<'_>, DbError> {
    Ok(client.transaction().await?)
}

/// Commits a transaction from [`begin`].
pub async fn commit(tx: crate::PooledTransaction<'_>) -> Result<(), DbError> {
    Ok(tx.commit().await?)
}
