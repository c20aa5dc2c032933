//! SMTP adapter on lettre's async transport.
//!
//! The host is tenant-chosen, so it is resolved here, every resolved address is checked
//! against the private-range policy, and lettre connects to the checked IP rather than the
//! name: a second DNS lookup (DNS rebinding) cannot swap in an internal address. TLS still
//! verifies the certificate against the host name.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lettre::transport::smtp::authentication::Credentials as SmtpCredentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::message::{envelope, to_mime, OutgoingMessage};
use crate::transport::resolver::{is_non_public, Resolver};
use crate::transport::{
    Delivered, Endpoints, MailTransport, SendError, SmtpSecurity, SmtpSettings, TransportKind,
};

pub(crate) const PRIVATE_HOST_REFUSED: &str = "smtp host resolves to a private or loopback address";

pub(crate) struct SmtpTransport {
    settings: SmtpSettings,
    password: Option<String>,
    allow_private: bool,
    timeout: Duration,
    resolver: Arc<dyn Resolver>,
}

impl SmtpTransport {
    pub(crate) fn new(
        settings: SmtpSettings,
        password: Option<String>,
        endpoints: &Endpoints,
        resolver: Arc<dyn Resolver>,
    ) -> Self {
        Self {
            settings,
            password,
            allow_private: endpoints.allow_private_smtp,
            timeout: endpoints.timeout,
            resolver,
        }
    }

    /// The address to connect to, after checking that none of the host's addresses is
    /// internal. All of them are checked (not just the one used) because a name that mixes
    /// public and private answers is a rebinding attempt or a misconfiguration either way.
    async fn checked_address(&self) -> Result<IpAddr, SendError> {
        let host = self.settings.host.as_str();
        let addresses = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::time::timeout(
                self.timeout,
                self.resolver.resolve(host, self.settings.port),
            )
            .await
            .map_err(|_| SendError::Transient(format!("resolving smtp host {host} timed out")))?
            .map_err(|e| SendError::Transient(format!("resolving smtp host {host} failed: {e}")))?,
        };
        if !self.allow_private && addresses.iter().any(|ip| is_non_public(*ip)) {
            return Err(SendError::Permanent(PRIVATE_HOST_REFUSED.to_owned()));
        }
        addresses
            .first()
            .copied()
            .ok_or_else(|| SendError::Transient(format!("smtp host {host} has no addresses")))
    }

    fn client(&self, ip: IpAddr) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
        let tls = match self.settings.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::Starttls => Tls::Required(self.tls_parameters()?),
            SmtpSecurity::Tls => Tls::Wrapper(self.tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(ip.to_string())
            .port(self.settings.port)
            .tls(tls)
            .timeout(Some(self.timeout));
        if let Some(username) = &self.settings.username {
            let password = self.password.clone().unwrap_or_default();
            builder = builder.credentials(SmtpCredentials::new(username.clone(), password));
        }
        Ok(builder.build())
    }

    /// Certificates are verified against the configured host name, not the IP we dial.
    fn tls_parameters(&self) -> Result<TlsParameters, SendError> {
        TlsParameters::new(self.settings.host.clone())
            .map_err(|e| SendError::Permanent(format!("smtp tls setup failed: {e}")))
    }
}

#[async_trait]
impl MailTransport for SmtpTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Smtp
    }

    async fn send(&self, msg: &OutgoingMessage) -> Result<Delivered, SendError> {
        let mime = to_mime(msg)?;
        let envelope = envelope(msg)?;
        let ip = self.checked_address().await?;
        let client = self.client(ip)?;
        client.send_raw(&envelope, &mime).await.map_err(classify)?;
        // SMTP gives no id we could match webhooks against; our Message-ID is the reference.
        Ok(Delivered {
            provider_message_id: None,
        })
    }
}

/// 5xx replies and client-side protocol problems (no STARTTLS offered when required, no
/// usable AUTH mechanism) will fail the same way next time; 4xx replies, timeouts, network
/// and TLS handshake errors may not. lettre's messages carry the server's reply text, never
/// the AUTH exchange.
fn classify(error: lettre::transport::smtp::Error) -> SendError {
    if error.is_permanent() || error.is_client() {
        SendError::Permanent(format!("smtp: {error}"))
    } else {
        SendError::Transient(format!("smtp: {error}"))
    }
}
