use std::time::Duration;

use pm_config::{ConfigError, Env, Redacted};

use crate::tls::{self, TlsSettings};

/// How to reach PostgreSQL. The URL may hold a password, so it is kept redacted.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// The URL as given, `sslmode` and `sslrootcert` included.
    pub url: Redacted<String>,
    /// Its TLS half (`sslmode`, default `verify-full`; `sslrootcert`).
    pub tls: TlsSettings,
    /// A user and password that replace the URL's: in AWS the URL names only the host
    /// and the credentials come from a secret (`DATABASE_SECRET`, read by `pm_runtime`).
    pub credentials: Option<(String, Redacted<String>)>,
    /// Connections kept open: 1 in a Lambda container (it serves one request at a time),
    /// more in the local runtime.
    pub pool_size: usize,
    pub connect_timeout: Duration,
    /// Every statement on these connections dies after this long (`statement_timeout`),
    /// so a query cannot outlive the request that made it. 0 disables (migrations).
    pub statement_timeout: Duration,
}

impl DatabaseConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let url = env.required_secret("DATABASE_URL")?;
        let tls = parse(url.expose())?;
        let pool_size = env.parsed_or("DB_POOL_SIZE", 4usize)?;
        if pool_size == 0 {
            return Err(ConfigError::invalid("DB_POOL_SIZE", "must be at least 1"));
        }
        let connect_timeout_secs = env.parsed_or("DB_CONNECT_TIMEOUT_SECS", 3u64)?;
        Ok(Self {
            url,
            tls,
            credentials: None,
            pool_size,
            connect_timeout: Duration::from_secs(connect_timeout_secs.max(1)),
            statement_timeout: Duration::from_millis(
                env.parsed_or("DB_STATEMENT_TIMEOUT_MS", 5000u64)?,
            ),
        })
    }

    pub fn with_url(&self, url: String) -> Result<Self, ConfigError> {
        Ok(Self {
            tls: parse(&url)?,
            url: Redacted::new(url),
            ..self.clone()
        })
    }

    /// The same database as another user.
    pub fn with_credentials(&self, user: &str, password: Redacted<String>) -> Self {
        Self {
            credentials: Some((user.to_string(), password)),
            ..self.clone()
        }
    }

    pub(crate) fn pg_config(&self) -> tokio_postgres::Config {
        let (url, _) = tls::split_url(self.url.expose()).expect("validated in from_env");
        let mut config: tokio_postgres::Config = url.parse().expect("validated in from_env");
        config.ssl_mode(self.tls.mode.wire());
        if let Some((user, password)) = &self.credentials {
            config.user(user).password(password.expose());
        }
        config.connect_timeout(self.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("penguinmails");
        }
        if !self.statement_timeout.is_zero() {
            let options = format!(
                "{} -c statement_timeout={}",
                config.get_options().unwrap_or(""),
                self.statement_timeout.as_millis()
            );
            config.options(options.trim());
        }
        config
    }
}

/// Checks a URL and returns its TLS settings.
fn parse(url: &str) -> Result<TlsSettings, ConfigError> {
    let (rest, tls) = tls::split_url(url)?;
    rest.parse::<tokio_postgres::Config>()
        // The parser's message can quote the URL; say only that it is malformed.
        .map_err(|_| ConfigError::invalid("DATABASE_URL", "not a valid PostgreSQL URL"))?;
    Ok(tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_url_is_named_without_echoing_it() {
        let env = Env::fixed([("DATABASE_URL", "postgres://u:pw@host:notaport/db")]);
        let err = DatabaseConfig::from_env(&env).unwrap_err().to_string();
        assert!(err.contains("DATABASE_URL"), "{err}");
        assert!(!err.contains("pw"), "{err}");
    }

    #[test]
    fn debug_hides_the_url() {
        let env = Env::fixed([("DATABASE_URL", "postgres://u:hunter2@localhost/db")]);
        let cfg = DatabaseConfig::from_env(&env).unwrap();
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }

    #[test]
    fn zero_pool_size_is_rejected() {
        let env = Env::fixed([
            ("DATABASE_URL", "postgres://localhost/db"),
            ("DB_POOL_SIZE", "0"),
        ]);
        let err = DatabaseConfig::from_env(&env).unwrap_err().to_string();
        assert!(err.contains("DB_POOL_SIZE"));
    }
}
