//! Chooses each port's adapter from the environment:
//!
//! | variable | values | default |
//! |---|---|---|
//! | `SECRETS_BACKEND` | `memory`, `vault`, `aws` | `memory` |
//! | `QUEUE_BACKEND` | `memory`, `sqs` | `memory` |
//! | `KV_BACKEND` | `memory`, `dynamodb` | `memory` |
//!
//! and each adapter's own settings (see the README's configuration reference). A process
//! builds only the ports it uses, so a Lambda validates only its own variables.

use std::sync::Arc;
use std::time::Duration;

use pm_config::{ConfigError, Env};
use tokio::sync::OnceCell;

use crate::kv::{DynamoDbStore, KeyValue, MemoryKeyValue};
use crate::queue::{catalog, MemoryQueue, Queue, SqsQueue};
use crate::secrets::{
    MemorySecretStore, SecretStore, SecretsManagerStore, VaultConfig, VaultStore,
};

/// Builds ports from one environment, loading the AWS SDK configuration at most once and
/// only when an AWS adapter is chosen.
pub struct PortFactory {
    env: Env,
    sdk: OnceCell<aws_config::SdkConfig>,
}

impl PortFactory {
    pub fn new(env: Env) -> Self {
        Self {
            env,
            sdk: OnceCell::new(),
        }
    }

    async fn sdk(&self) -> Result<&aws_config::SdkConfig, ConfigError> {
        let timeouts = crate::aws::timeout_config(&self.env)?;
        Ok(self
            .sdk
            .get_or_init(|| crate::aws::load_sdk_config(timeouts))
            .await)
    }

    pub async fn secrets(&self) -> Result<Arc<dyn SecretStore>, ConfigError> {
        let env = &self.env;
        Ok(
            match env.choice("SECRETS_BACKEND", &["memory", "vault", "aws"], "memory")? {
                "vault" => Arc::new(
                    VaultStore::new(vault_config(env)?)
                        .map_err(|e| ConfigError::invalid("VAULT_ADDR", e.to_string()))?,
                ),
                "aws" => Arc::new(SecretsManagerStore::new(
                    self.sdk().await?,
                    env.or("SECRETS_PREFIX", "penguinmails/"),
                )),
                _ => Arc::new(MemorySecretStore::new()),
            },
        )
    }

    pub async fn queue(&self) -> Result<Arc<dyn Queue>, ConfigError> {
        let env = &self.env;
        Ok(
            match env.choice("QUEUE_BACKEND", &["memory", "sqs"], "memory")? {
                "sqs" => match env.get("SQS_CREATE_QUEUES_WITH_PREFIX") {
                    // Local work against moto: make the catalog's queues under a prefix.
                    Some(prefix) => Arc::new(
                        SqsQueue::ensure_queues(self.sdk().await?, &catalog::all(), &prefix)
                            .await
                            .map_err(|e| {
                                ConfigError::invalid("SQS_CREATE_QUEUES_WITH_PREFIX", e.to_string())
                            })?,
                    ),
                    None => Arc::new(SqsQueue::new(
                        self.sdk().await?,
                        SqsQueue::urls_from_env(env),
                    )),
                },
                _ => Arc::new(MemoryQueue::new(catalog::all())),
            },
        )
    }

    /// In Lambda the backend must be named: the in-process store would give every
    /// instance its own rate limits (N instances, N times the limit), silently.
    pub async fn key_value(&self) -> Result<Arc<dyn KeyValue>, ConfigError> {
        let env = &self.env;
        if env.get("AWS_LAMBDA_FUNCTION_NAME").is_some() && env.get("KV_BACKEND").is_none() {
            return Err(ConfigError::invalid(
                "KV_BACKEND",
                "must be set in Lambda (dynamodb); in-process state is per instance",
            ));
        }
        Ok(
            match env.choice("KV_BACKEND", &["memory", "dynamodb"], "memory")? {
                "dynamodb" => {
                    let table = env.required("KV_TABLE")?;
                    if env.get("KV_CREATE_TABLE").as_deref() == Some("true") {
                        Arc::new(
                            DynamoDbStore::ensure_table(self.sdk().await?, &table)
                                .await
                                .map_err(|e| ConfigError::invalid("KV_TABLE", e.to_string()))?,
                        )
                    } else {
                        Arc::new(DynamoDbStore::new(self.sdk().await?, table))
                    }
                }
                _ => Arc::new(MemoryKeyValue::new()),
            },
        )
    }
}

fn vault_config(env: &Env) -> Result<VaultConfig, ConfigError> {
    let addr = env.or("VAULT_ADDR", "http://127.0.0.1:8200");
    if !(addr.starts_with("http://") || addr.starts_with("https://")) {
        return Err(ConfigError::invalid(
            "VAULT_ADDR",
            format!("must start with http:// or https:// (got {addr:?})"),
        ));
    }
    let token = env.optional_secret("VAULT_TOKEN");
    let token_file = env.get("VAULT_TOKEN_FILE").map(std::path::PathBuf::from);
    if token.is_some() && token_file.is_some() {
        return Err(ConfigError::invalid(
            "VAULT_TOKEN_FILE",
            "set VAULT_TOKEN or VAULT_TOKEN_FILE, not both",
        ));
    }
    Ok(VaultConfig {
        addr,
        token,
        token_file,
        namespace: env.get("VAULT_NAMESPACE"),
        ca_cert: env.get("VAULT_CACERT").map(std::path::PathBuf::from),
        mount: env.or("VAULT_KV_MOUNT", "secret"),
        timeout: Duration::from_secs(env.parsed_or("VAULT_TIMEOUT_SECS", 5u64)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_backend_is_named() {
        let factory = PortFactory::new(Env::fixed([("SECRETS_BACKEND", "etcd")]));
        let err = factory.secrets().await.err().unwrap().to_string();
        assert!(err.contains("SECRETS_BACKEND"), "{err}");
    }

    #[tokio::test]
    async fn lambda_refuses_to_start_without_an_explicit_key_value_backend() {
        let factory = PortFactory::new(Env::fixed([("AWS_LAMBDA_FUNCTION_NAME", "me")]));
        let err = factory.key_value().await.err().unwrap().to_string();
        assert!(err.contains("KV_BACKEND"), "{err}");
        let factory = PortFactory::new(Env::fixed([
            ("AWS_LAMBDA_FUNCTION_NAME", "me"),
            ("KV_BACKEND", "memory"),
        ]));
        assert!(factory.key_value().await.is_ok(), "explicit is allowed");
    }

    #[tokio::test]
    async fn dynamodb_needs_a_table() {
        let factory = PortFactory::new(Env::fixed([("KV_BACKEND", "dynamodb")]));
        let err = factory.key_value().await.err().unwrap().to_string();
        assert!(err.contains("KV_TABLE"), "{err}");
    }

    #[test]
    fn vault_address_must_be_http() {
        let err = vault_config(&Env::fixed([("VAULT_ADDR", "127.0.0.1:8200")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("VAULT_ADDR"), "{err}");
    }

    #[test]
    fn vault_takes_a_token_or_a_token_file_not_both() {
        let err = vault_config(&Env::fixed([
            ("VAULT_TOKEN", "hvs.x"),
            ("VAULT_TOKEN_FILE", "/run/vault/token"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("VAULT_TOKEN_FILE"), "{err}");
        let cfg = vault_config(&Env::fixed([
            ("VAULT_TOKEN_FILE", "/run/vault/token"),
            ("VAULT_NAMESPACE", "team-a"),
            ("VAULT_CACERT", "/etc/vault/ca.pem"),
        ]))
        .unwrap();
        assert_eq!(
            (
                cfg.token_file.as_deref(),
                cfg.namespace.as_deref(),
                cfg.ca_cert.as_deref()
            ),
            (
                Some(std::path::Path::new("/run/vault/token")),
                Some("team-a"),
                Some(std::path::Path::new("/etc/vault/ca.pem"))
            )
        );
    }

    #[test]
    fn vault_token_never_prints() {
        let cfg = vault_config(&Env::fixed([("VAULT_TOKEN", "hvs.topsecret")])).unwrap();
        assert!(!format!("{cfg:?}").contains("topsecret"));
        assert_eq!(cfg.addr, "http://127.0.0.1:8200");
    }
}
