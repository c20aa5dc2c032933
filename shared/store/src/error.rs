use pm_http::ApiError;

/// A store failure. Its `Display` is for logs; clients only ever see the `ApiError`
/// it converts to, which carries no driver text.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database could not be reached or the connection broke: worth a retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database query failed: {0}")]
    Query(#[from] tokio_postgres::Error),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl DbError {
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Unavailable(_) => true,
            // A broken connection or socket; not a statement the server rejected, nor
            // a value the client could not encode (both are bugs, not outages).
            DbError::Query(e) => {
                e.is_closed()
                    || std::error::Error::source(e)
                        .is_some_and(|source| source.is::<std::io::Error>())
            }
            DbError::Migration(_) => false,
        }
    }
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        DbError::Unavailable(e.to_string())
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "database error");
        if e.is_unavailable() {
            ApiError::service_unavailable("the database is unavailable; retry shortly")
        } else {
            ApiError::internal()
        }
    }
}
