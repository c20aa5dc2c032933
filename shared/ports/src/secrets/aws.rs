use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;

use super::{validate_path, SecretData, SecretStore};
use crate::aws::classify;
use crate::PortError;

const BACKEND: &str = "secretsmanager";

/// Secrets in AWS Secrets Manager, one secret per path, named `{prefix}{path}`, holding
/// the document as a JSON object.
pub struct SecretsManagerStore {
    client: Client,
    prefix: String,
}

impl SecretsManagerStore {
    pub fn new(sdk: &aws_config::SdkConfig, prefix: impl Into<String>) -> Self {
        Self {
            client: Client::new(sdk),
            prefix: prefix.into(),
        }
    }

    fn name(&self, path: &str) -> String {
        format!("{}{}", self.prefix, path)
    }
}

#[async_trait]
impl SecretStore for SecretsManagerStore {
    async fn put(&self, path: &str, data: &SecretData) -> Result<(), PortError> {
        validate_path(path)?;
        let name = self.name(path);
        let document =
            serde_json::to_string(data.fields()).map_err(|e| PortError::Invalid(e.to_string()))?;
        let updated = self
            .client
            .put_secret_value()
            .secret_id(&name)
            .secret_string(&document)
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                self.client
                    .create_secret()
                    .name(&name)
                    .secret_string(&document)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| classify(BACKEND, e))
            }
            Err(e) => Err(classify(BACKEND, e)),
        }
    }

    async fn get(&self, path: &str) -> Result<Option<SecretData>, PortError> {
        validate_path(path)?;
        let read = self
            .client
            .get_secret_value()
            .secret_id(self.name(path))
            .send()
            .await;
        match read {
            Ok(output) => {
                let text = output.secret_string().unwrap_or("{}");
                let data = serde_json::from_str(text).map_err(|_| {
                    PortError::rejected(BACKEND, "secret is not a flat JSON object")
                })?;
                Ok(Some(data))
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(classify(BACKEND, e)),
        }
    }

    async fn delete(&self, path: &str) -> Result<(), PortError> {
        validate_path(path)?;
        let deleted = self
            .client
            .delete_secret()
            .secret_id(self.name(path))
            .force_delete_without_recovery(true)
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(classify(BACKEND, e)),
        }
    }
}
