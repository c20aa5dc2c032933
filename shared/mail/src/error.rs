//! Errors raised while preparing a message or a transport (as opposed to sending it).

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MailError {
    /// The message or a setting cannot be turned into something safe to send.
    #[error("invalid message: {0}")]
    Invalid(String),
    /// The chosen transport needs a credential that was not supplied.
    #[error("missing credential: {0}")]
    MissingCredential(&'static str),
    /// The transport could not be constructed (TLS setup, HTTP client).
    #[error("transport setup failed: {0}")]
    Setup(String),
}
