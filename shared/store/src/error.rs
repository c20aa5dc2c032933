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
    /// The configuration cannot work (an unreadable `sslrootcert`, say).
    #[error(transparent)]
    Config(#[from] pm_config::ConfigError),
    /// A stored row that does not decode (an unknown status, a malformed JSON column):
    /// a bug or a bad manual edit, reported as such rather than read as a default.
    #[error("corrupt row in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
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
                    || e.code().is_some_and(is_transient_state)
            }
            DbError::Migration(_) | DbError::Config(_) | DbError::Corrupt { .. } => false,
        }
    }
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        DbError::Unavailable(with_causes(&e))
    }
}

/// An error and each cause beneath it, for the logs: a failed TLS handshake says only
/// that it failed, and its cause says why (an unknown issuer, a name the certificate
/// does not hold).
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = inner.source();
    }
    text
}

impl DbError {
    /// PostgreSQL refused a value the request carried (SQLSTATE class 22: a NUL
    /// character in text, a tampered cursor value that is not a timestamp, ...).
    /// The statement ran past `statement_timeout` (SQLSTATE 57014).
    pub fn is_timeout(&self) -> bool {
        matches!(self, DbError::Query(e) if e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED))
    }

    pub fn is_bad_value(&self) -> bool {
        matches!(self, DbError::Query(e) if e.code().is_some_and(|c| c.code().starts_with("22")))
    }
}

/// Server answers that mean "not now" rather than "never": the server is shutting down
/// or starting (57P01–57P03, as when PostgreSQL restarts under load and cuts running
/// queries off), the connection failed (class 08), too many connections (53300), or a
/// serialization or deadlock conflict (40001, 40P01). Each is worth a retry: 503.
fn is_transient_state(state: &tokio_postgres::error::SqlState) -> bool {
    let code = state.code();
    code.starts_with("08")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "53300" | "40001" | "40P01"
        )
}
