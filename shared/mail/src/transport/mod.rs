//! The mail transport port and its adapters.
//!
//! [`build`] turns a tenant's [`TransportSettings`] plus [`Credentials`] into an
//! `Arc<dyn MailTransport>`. Provider base URLs come from [`Endpoints`] (process
//! configuration), never from tenants, so the only tenant-chosen destination is an SMTP host,
//! which is checked against private address ranges before connecting.

mod capture;
mod credentials;
mod endpoints;
mod http_api;
mod kind;
mod mailgun;
mod postmark;
pub mod resolver;
mod settings;
mod smtp;

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::MailError;
use crate::message::OutgoingMessage;

pub use credentials::{masked, Credentials};
pub use endpoints::Endpoints;
pub use kind::{TransportKind, UnknownTransportKind};
pub use resolver::{Resolver, SystemResolver};
pub use settings::{
    FieldError, MailgunRegion, MailgunSettings, PostmarkSettings, SmtpSecurity, SmtpSettings,
    TransportSettings,
};

#[async_trait]
pub trait MailTransport: Send + Sync {
    fn kind(&self) -> TransportKind;
    async fn send(&self, msg: &OutgoingMessage) -> Result<Delivered, SendError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The provider's id for the accepted message, used to match later webhook events.
    pub provider_message_id: Option<String>,
}

/// Why a send failed. Reasons are meant for humans (tenant-visible logs) and never contain a
/// credential or an Authorization header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later: timeouts, connection failures, 4xx SMTP replies, HTTP 429/5xx.
    #[error("transient send failure: {0}")]
    Transient(String),
    /// Retrying will not help: rejected message, bad credentials, refused destination.
    #[error("permanent send failure: {0}")]
    Permanent(String),
}

impl SendError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }

    pub fn reason(&self) -> &str {
        match self {
            Self::Transient(reason) | Self::Permanent(reason) => reason,
        }
    }
}

/// A message that fails validation can never be sent, whatever the transport.
impl From<MailError> for SendError {
    fn from(error: MailError) -> Self {
        Self::Permanent(error.to_string())
    }
}

/// Builds the transport for a tenant, resolving SMTP hosts with the system resolver.
pub fn build(
    settings: &TransportSettings,
    credentials: &Credentials,
    endpoints: &Endpoints,
) -> Result<Arc<dyn MailTransport>, MailError> {
    build_with_resolver(settings, credentials, endpoints, Arc::new(SystemResolver))
}

/// [`build`] with a caller-supplied resolver for SMTP hosts (tests, or a caching resolver).
pub fn build_with_resolver(
    settings: &TransportSettings,
    credentials: &Credentials,
    endpoints: &Endpoints,
    resolver: Arc<dyn Resolver>,
) -> Result<Arc<dyn MailTransport>, MailError> {
    if let Some((field, message)) = settings.validate().into_iter().next() {
        return Err(MailError::Invalid(format!("{field}: {message}")));
    }
    if let Some(missing) = credentials.missing_for(settings) {
        return Err(MailError::MissingCredential(missing));
    }
    // `missing_for` guarantees the secrets used below are present.
    let secret = |value: &Option<String>| value.clone().unwrap_or_default();
    Ok(match settings {
        TransportSettings::Capture {} => Arc::new(capture::CaptureTransport),
        TransportSettings::Smtp(smtp) => Arc::new(smtp::SmtpTransport::new(
            smtp.clone(),
            credentials.password.clone(),
            endpoints,
            resolver,
        )),
        TransportSettings::Postmark(postmark) => Arc::new(postmark::PostmarkTransport::new(
            postmark.clone(),
            secret(&credentials.server_token),
            endpoints,
        )?),
        TransportSettings::Mailgun(mailgun) => Arc::new(mailgun::MailgunTransport::new(
            mailgun.clone(),
            secret(&credentials.api_key),
            endpoints,
        )?),
    })
}
