//! Mail transport port for PenguinMails.
//!
//! * [`message`]: the provider-neutral [`OutgoingMessage`] and its RFC 5322 rendering ([`to_mime`]).
//! * [`transport`]: the [`MailTransport`] port with capture, SMTP, Postmark and Mailgun adapters,
//!   the tenant-facing [`TransportSettings`] and the write-only [`Credentials`].
//! * [`events`]: verification and normalisation of provider webhooks into [`ProviderEvent`]s.

pub mod error;
pub mod events;
pub mod message;
pub mod transport;

pub use error::MailError;
pub use events::{EventError, ProviderEvent, ProviderEventKind};
pub use message::{envelope_recipients, to_mime, Address, OutgoingMessage};
pub use transport::{
    build, build_with_resolver, Credentials, Delivered, Endpoints, MailTransport, MailgunRegion,
    MailgunSettings, PostmarkSettings, SendError, SmtpSecurity, SmtpSettings, TransportKind,
    TransportSettings,
};
