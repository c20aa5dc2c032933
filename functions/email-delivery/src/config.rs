//! Sending settings from the environment. Production takes the defaults; local work
//! allows SMTP servers on loopback; tests shorten the retry clock.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PUBLIC_BASE_URL` | required | where recipients reach tracking and unsubscribe links, and providers post events |
//! | `EMAIL_MAX_ATTEMPTS` | 5 | sends of one email before it fails |
//! | `EMAIL_RETRY_BASE_MS` | 30000 | the first retry's wait; each next one doubles |
//! | `EMAIL_LEASE_SECS` | 120 | how long a sender owns a claimed email |
//! | `MAIL_TIMEOUT_MS` | 30000 | one transport call's time limit |
//! | `MAIL_ALLOW_PRIVATE_SMTP` | false | let tenants' SMTP hosts be private or loopback (local work only) |
//! | `POSTMARK_API_URL`, `MAILGUN_API_URL_US`, `MAILGUN_API_URL_EU` | the providers' | tests point these at a local receiver |
//! | `PROVIDER_EVENT_WINDOW_SECS` | 300 | how old (or early) a signed provider event may be |

use std::time::Duration;

use chrono::TimeDelta;
use pm_config::{ConfigError, Env};
use pm_mail::Endpoints;

#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub public_base_url: String,
    pub max_attempts: i32,
    pub retry_base: Duration,
    pub lease: Duration,
    pub endpoints: Endpoints,
    pub event_window: Duration,
}

impl EmailConfig {
    /// Defaults with this base URL: what tests start from.
    pub fn with_base_url(public_base_url: &str) -> Self {
        Self {
            public_base_url: public_base_url.trim_end_matches('/').to_string(),
            max_attempts: 5,
            retry_base: Duration::from_secs(30),
            lease: Duration::from_secs(120),
            endpoints: Endpoints::default(),
            event_window: Duration::from_secs(300),
        }
    }

    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let base = env.required("PUBLIC_BASE_URL")?;
        // Recipients' mail clients post one-click unsubscribes here: https (RFC 8058),
        // or http on a loopback host for local work.
        if !pm_mail::message::is_https_or_loopback(&base) {
            return Err(ConfigError::invalid(
                "PUBLIC_BASE_URL",
                "an https URL (http only for a loopback host)",
            ));
        }
        let defaults = Self::with_base_url(&base);
        let mut endpoints = Endpoints::default();
        endpoints.postmark = env.or("POSTMARK_API_URL", &endpoints.postmark);
        endpoints.mailgun_us = env.or("MAILGUN_API_URL_US", &endpoints.mailgun_us);
        endpoints.mailgun_eu = env.or("MAILGUN_API_URL_EU", &endpoints.mailgun_eu);
        endpoints.allow_private_smtp = env.parsed_or("MAIL_ALLOW_PRIVATE_SMTP", false)?;
        endpoints.timeout = Duration::from_millis(env.parsed_or("MAIL_TIMEOUT_MS", 30_000u64)?);
        let max_attempts: i32 = env.parsed_or("EMAIL_MAX_ATTEMPTS", defaults.max_attempts)?;
        if !(1..=20).contains(&max_attempts) {
            return Err(ConfigError::invalid("EMAIL_MAX_ATTEMPTS", "1 to 20"));
        }
        Ok(Self {
            max_attempts,
            retry_base: Duration::from_millis(env.parsed_or("EMAIL_RETRY_BASE_MS", 30_000u64)?),
            lease: Duration::from_secs(env.parsed_or("EMAIL_LEASE_SECS", 120u64)?),
            endpoints,
            event_window: Duration::from_secs(env.parsed_or("PROVIDER_EVENT_WINDOW_SECS", 300u64)?),
            ..defaults
        })
    }

    /// The wait before attempt `attempt + 1` after a transient failure of `attempt`.
    pub fn retry_after(&self, attempt: i32) -> TimeDelta {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).clamp(0, 16) as u32);
        TimeDelta::from_std(self.retry_base * factor).unwrap_or(TimeDelta::hours(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_url_is_required_and_retries_double() {
        let err = EmailConfig::from_env(&Env::fixed([("X", "y")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("PUBLIC_BASE_URL"), "{err}");
        let config =
            EmailConfig::from_env(&Env::fixed([("PUBLIC_BASE_URL", "https://t.example.com/")]))
                .unwrap();
        assert_eq!(config.public_base_url, "https://t.example.com");
        assert!(!config.endpoints.allow_private_smtp);
        assert_eq!(config.retry_after(1), TimeDelta::seconds(30));
        assert_eq!(config.retry_after(3), TimeDelta::seconds(120));
    }
}
