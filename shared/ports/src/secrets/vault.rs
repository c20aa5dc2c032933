use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use pm_config::Redacted;
use reqwest::StatusCode;
use serde::Deserialize;

use super::{validate_path, SecretData, SecretStore};
use crate::PortError;

const BACKEND: &str = "vault";

/// How to reach Vault (or OpenBao). The token is optional: with a Vault Agent, `bao
/// proxy` or the Vault Lambda extension as a sidecar on `VAULT_ADDR`, the sidecar adds it.
#[derive(Debug, Clone, Default)]
pub struct VaultConfig {
    pub addr: String,
    pub token: Option<Redacted<String>>,
    /// A file holding the token, as an agent's file sink writes it; read again whenever
    /// the file changes, so the agent can renew or replace it (`VAULT_TOKEN_FILE`).
    pub token_file: Option<PathBuf>,
    /// Sent as `X-Vault-Namespace` (`VAULT_NAMESPACE`).
    pub namespace: Option<String>,
    /// A PEM file of CA certificates to trust for an `https://` address (`VAULT_CACERT`).
    pub ca_cert: Option<PathBuf>,
    /// The KV v2 mount, `secret` by default.
    pub mount: String,
    pub timeout: Duration,
}

/// Secrets in a Vault KV v2 engine over its HTTP API.
pub struct VaultStore {
    http: reqwest::Client,
    config: VaultConfig,
    /// The token last read from `token_file`, with the file's modification time then.
    file_token: Mutex<Option<(SystemTime, Redacted<String>)>>,
}

#[derive(Deserialize)]
struct ReadResponse {
    data: ReadData,
}

#[derive(Deserialize)]
struct ReadData {
    data: Option<SecretData>,
}

impl VaultStore {
    pub fn new(config: VaultConfig) -> Result<Self, PortError> {
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &config.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|e| PortError::Invalid(format!("VAULT_CACERT {}: {e}", path.display())))?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| PortError::Invalid(format!("VAULT_CACERT {}: {e}", path.display())))?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder
            .build()
            .map_err(|e| PortError::unavailable(BACKEND, e.to_string()))?;
        Ok(Self {
            http,
            config,
            file_token: Mutex::new(None),
        })
    }

    /// The token to send: the configured one, or the token file's current content (read
    /// again only when the file's modification time moved: one `stat` per request).
    fn token(&self) -> Result<Option<Redacted<String>>, PortError> {
        let Some(path) = &self.config.token_file else {
            return Ok(self.config.token.clone());
        };
        let unreadable =
            |e: std::io::Error| PortError::unavailable(BACKEND, format!("VAULT_TOKEN_FILE: {e}"));
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map_err(unreadable)?;
        let mut cached = self.file_token.lock().expect("never poisoned");
        if let Some((at, token)) = cached.as_ref() {
            if *at == modified {
                return Ok(Some(token.clone()));
            }
        }
        let text = std::fs::read_to_string(path).map_err(unreadable)?;
        let token = text.trim();
        if token.is_empty() {
            // An agent that has not authenticated yet, or is rewriting the file.
            return Err(PortError::unavailable(BACKEND, "VAULT_TOKEN_FILE is empty"));
        }
        let token = Redacted::new(token.to_string());
        *cached = Some((modified, token.clone()));
        Ok(Some(token))
    }

    fn url(&self, kind: &str, path: &str) -> String {
        format!(
            "{}/v1/{}/{}/{}",
            self.config.addr.trim_end_matches('/'),
            self.config.mount,
            kind,
            path
        )
    }

    /// A request with what every call carries: `X-Vault-Request` (a Vault Agent or `bao
    /// proxy` with `require_request_header` refuses requests without it, which keeps
    /// other pages in a browser from using the sidecar), the namespace and the token.
    fn request(
        &self,
        method: reqwest::Method,
        url: String,
    ) -> Result<reqwest::RequestBuilder, PortError> {
        let mut builder = self
            .http
            .request(method, url)
            .header("X-Vault-Request", "true");
        if let Some(namespace) = &self.config.namespace {
            builder = builder.header("X-Vault-Namespace", namespace);
        }
        Ok(match self.token()? {
            Some(token) => builder.header("X-Vault-Token", token.expose()),
            None => builder,
        })
    }

    async fn send(&self, builder: reqwest::RequestBuilder) -> Result<reqwest::Response, PortError> {
        let response = builder
            .send()
            .await
            // without_url: the error's URL would be harmless, but keep logs uniform.
            .map_err(|e| PortError::unavailable(BACKEND, e.without_url().to_string()))?;
        Ok(response)
    }

    async fn failure(response: reqwest::Response) -> PortError {
        let status = response.status();
        // Vault's error bodies are `{"errors": [...]}` with messages, never secret values.
        let body = response.text().await.unwrap_or_default();
        let detail = format!("HTTP {}: {}", status.as_u16(), truncate(&body, 300));
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            PortError::unavailable(BACKEND, detail)
        } else {
            PortError::rejected(BACKEND, detail)
        }
    }
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

#[async_trait]
impl SecretStore for VaultStore {
    async fn put(&self, path: &str, data: &SecretData) -> Result<(), PortError> {
        validate_path(path)?;
        let body = serde_json::json!({ "data": data.fields() });
        let response = self
            .send(
                self.request(reqwest::Method::POST, self.url("data", path))?
                    .json(&body),
            )
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Self::failure(response).await)
        }
    }

    async fn get(&self, path: &str) -> Result<Option<SecretData>, PortError> {
        validate_path(path)?;
        let response = self
            .send(self.request(reqwest::Method::GET, self.url("data", path))?)
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => {
                let parsed: ReadResponse = response.json().await.map_err(|e| {
                    PortError::rejected(BACKEND, format!("unexpected response shape: {e}"))
                })?;
                Ok(parsed.data.data)
            }
            _ => Err(Self::failure(response).await),
        }
    }

    async fn delete(&self, path: &str) -> Result<(), PortError> {
        validate_path(path)?;
        // The metadata endpoint removes every version, not just the latest one.
        let response = self
            .send(self.request(reqwest::Method::DELETE, self.url("metadata", path))?)
            .await?;
        if response.status().is_success() || response.status() == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(Self::failure(response).await)
        }
    }
}
