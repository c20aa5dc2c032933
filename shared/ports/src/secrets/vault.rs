use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use pm_config::Redacted;
use reqwest::StatusCode;
use serde::Deserialize;

use super::{validate_path, SecretData, SecretStore};
use crate::PortError;

const BACKEND: &str = "vault";

/// How to reach Vault (or OpenBao). The token is optional: with the Vault Agent or the
/// Vault Lambda extension as a sidecar on `VAULT_ADDR`, the sidecar adds it.
#[derive(Debug, Clone)]
pub struct VaultConfig {
    pub addr: String,
    pub token: Option<Redacted<String>>,
    /// The KV v2 mount, `secret` by default.
    pub mount: String,
    pub timeout: Duration,
}

/// Secrets in a Vault KV v2 engine over its HTTP API.
pub struct VaultStore {
    http: reqwest::Client,
    config: VaultConfig,
}

#[derive(Deserialize)]
struct ReadResponse {
    data: ReadData,
}

#[derive(Deserialize)]
struct ReadData {
    data: Option<BTreeMap<String, String>>,
}

impl VaultStore {
    pub fn new(config: VaultConfig) -> Result<Self, PortError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| PortError::unavailable(BACKEND, e.to_string()))?;
        Ok(Self { http, config })
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

    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, url);
        match &self.config.token {
            Some(token) => builder.header("X-Vault-Token", token.expose()),
            None => builder,
        }
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
                self.request(reqwest::Method::POST, self.url("data", path))
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
            .send(self.request(reqwest::Method::GET, self.url("data", path)))
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => {
                let parsed: ReadResponse = response.json().await.map_err(|e| {
                    PortError::rejected(BACKEND, format!("unexpected response shape: {e}"))
                })?;
                Ok(parsed.data.data.map(SecretData::from_fields))
            }
            _ => Err(Self::failure(response).await),
        }
    }

    async fn delete(&self, path: &str) -> Result<(), PortError> {
        validate_path(path)?;
        // The metadata endpoint removes every version, not just the latest one.
        let response = self
            .send(self.request(reqwest::Method::DELETE, self.url("metadata", path)))
            .await?;
        if response.status().is_success() || response.status() == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(Self::failure(response).await)
        }
    }
}
