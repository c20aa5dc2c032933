//! Ports: the small traits each external system sits behind, and their adapters.
//!
//! | port | adapters |
//! |---|---|
//! | [`secrets::SecretStore`] | Vault KV v2 over HTTP, AWS Secrets Manager, in-process |
//! | [`queue::Queue`] | SQS, in-process (same delay and visibility semantics) |
//! | [`kv::KeyValue`] | DynamoDB, in-process (both: conditional writes, TTL) |
//!
//! Which adapter runs is configuration ([`config`]); handlers only see the traits. One
//! contract suite per port (in `tests/`) holds every adapter to the same behaviour.

pub mod aws;
pub mod config;
mod error;
pub mod kv;
pub mod queue;
pub mod secrets;

pub use error::PortError;
