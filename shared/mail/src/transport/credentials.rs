//! Write-only secrets that go with [`TransportSettings`]. The caller keeps them in a secrets
//! store; nothing in this crate prints, logs or serialises them back out.

use std::fmt;

use serde::Deserialize;

use crate::transport::TransportSettings;

/// Deserialize-only on purpose: there is no path that turns credentials back into JSON.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// SMTP AUTH password (needed only when the settings carry a username).
    #[serde(default)]
    pub password: Option<String>,
    /// Postmark server API token.
    #[serde(default)]
    pub server_token: Option<String>,
    /// Mailgun sending API key.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Mailgun HTTP webhook signing key, for [`crate::events::mailgun::verify`].
    #[serde(default)]
    pub webhook_signing_key: Option<String>,
    /// Basic-auth pair Postmark presents on webhooks, for [`crate::events::postmark::authenticate`].
    #[serde(default)]
    pub webhook_username: Option<String>,
    #[serde(default)]
    pub webhook_password: Option<String>,
}

impl Credentials {
    /// The name of the credential the transport cannot work without, if it is missing.
    pub fn missing_for(&self, settings: &TransportSettings) -> Option<&'static str> {
        let absent = |value: &Option<String>| value.as_deref().is_none_or(str::is_empty);
        match settings {
            TransportSettings::Capture {} => None,
            TransportSettings::Smtp(smtp) if smtp.username.is_some() && absent(&self.password) => {
                Some("password")
            }
            TransportSettings::Smtp(_) => None,
            TransportSettings::Postmark(_) if absent(&self.server_token) => Some("server_token"),
            TransportSettings::Postmark(_) => None,
            TransportSettings::Mailgun(_) if absent(&self.api_key) => Some("api_key"),
            TransportSettings::Mailgun(_) => None,
        }
    }
}

/// A secret shown as bullets plus its last four characters (`••••abcd`), enough for a tenant
/// to recognise which key is stored. Secrets of eight characters or fewer show only bullets so
/// that half of a short secret is never revealed.
pub fn masked(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 8 {
        return "••••".to_owned();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("••••{tail}")
}

/// Prints only whether each secret is set, never a character of it, so a `{:?}` in a log line
/// or a panic message cannot leak one.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |value: &Option<String>| if value.is_some() { "***" } else { "unset" };
        f.debug_struct("Credentials")
            .field("password", &shown(&self.password))
            .field("server_token", &shown(&self.server_token))
            .field("api_key", &shown(&self.api_key))
            .field("webhook_signing_key", &shown(&self.webhook_signing_key))
            .field("webhook_username", &shown(&self.webhook_username))
            .field("webhook_password", &shown(&self.webhook_password))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{
        MailgunRegion, MailgunSettings, PostmarkSettings, SmtpSecurity, SmtpSettings,
    };

    fn all_set() -> Credentials {
        Credentials {
            password: Some("SECRET-pw-1234".into()),
            server_token: Some("SECRET-tok-5678".into()),
            api_key: Some("SECRET-key-9012".into()),
            webhook_signing_key: Some("SECRET-sig-3456".into()),
            webhook_username: Some("SECRET-usr-2468".into()),
            webhook_password: Some("SECRET-hook-7890".into()),
        }
    }

    #[test]
    fn debug_never_prints_a_secret() {
        let credentials = all_set();
        let printed = format!("{credentials:?} {credentials:#?}");
        for secret in ["SECRET", "1234", "5678", "9012", "3456", "2468", "7890"] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
        }
        assert!(printed.contains("password: \"***\""));
        assert!(format!("{:?}", Credentials::default()).contains("api_key: \"unset\""));
    }

    #[test]
    fn masked_shows_only_the_last_four_of_long_secrets() {
        assert_eq!(masked("key-0123456789abcd"), "••••abcd");
        assert_eq!(masked("short"), "••••");
        assert_eq!(masked("12345678"), "••••");
    }

    #[test]
    fn missing_credential_depends_on_the_transport() {
        let none = Credentials::default();
        let all = all_set();
        let smtp = |username: Option<&str>| {
            TransportSettings::Smtp(SmtpSettings {
                host: "smtp.example.com".into(),
                port: 587,
                security: SmtpSecurity::Starttls,
                username: username.map(str::to_owned),
            })
        };
        let postmark = TransportSettings::Postmark(PostmarkSettings::default());
        let mailgun = TransportSettings::Mailgun(MailgunSettings {
            domain: "mg.example.com".into(),
            region: MailgunRegion::Us,
        });
        assert_eq!(none.missing_for(&TransportSettings::Capture {}), None);
        assert_eq!(none.missing_for(&smtp(None)), None);
        assert_eq!(none.missing_for(&smtp(Some("user"))), Some("password"));
        assert_eq!(none.missing_for(&postmark), Some("server_token"));
        assert_eq!(none.missing_for(&mailgun), Some("api_key"));
        let empty_token = Credentials {
            server_token: Some(String::new()),
            ..Credentials::default()
        };
        assert_eq!(empty_token.missing_for(&postmark), Some("server_token"));
        for settings in [smtp(Some("user")), postmark, mailgun] {
            assert_eq!(all.missing_for(&settings), None);
        }
    }
}
