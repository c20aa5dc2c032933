//! The relational store. There is one implementation, on PostgreSQL; tests run it against
//! a real server.

mod config;
mod db;
mod error;
mod migrate;
pub mod outbox;
pub mod roles;
pub mod row;
pub mod select;
pub mod tenants;
mod tls;

pub use config::DatabaseConfig;
pub use db::{begin, commit, Client, Db};
pub use error::DbError;
pub use migrate::{ensure_database, migrate};
pub use tls::{SslMode, TlsSettings};
pub use tokio_postgres::Transaction;
/// A transaction on a pooled connection; derefs to [`Transaction`].
pub type PooledTransaction<'a> = deadpool_postgres::Transaction<'a>;
/// A pooled connection or a transaction on one, with statements prepared once per
/// connection (`prepare_cached`): for the statements of hot paths.
pub use deadpool_postgres::GenericClient as CachingClient;
