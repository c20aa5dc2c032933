//! The secrets port: small key/value documents at slash-separated paths
//! (`api_keys/{tenant}/{key}`), written and read whole.

mod aws;
mod cached;
mod memory;
mod vault;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

pub use aws::SecretsManagerStore;
pub use cached::CachedSecrets;
pub use memory::MemorySecretStore;
pub use vault::{VaultConfig, VaultStore};

use crate::PortError;

/// One secret document. `Debug` lists the field names only, never the values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretData(BTreeMap<String, String>);

impl SecretData {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, field: &str, value: impl Into<String>) -> Self {
        self.0.insert(field.to_string(), value.into());
        self
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub(crate) fn fields(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

/// A JSON object of fields. Numbers and booleans are kept as their JSON text, because
/// documents other tools write carry them (an RDS secret's `"port": 5432`); nested values
/// are refused.
impl<'de> serde::Deserialize<'de> for SecretData {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde_json::Value;
        let object = BTreeMap::<String, Value>::deserialize(deserializer)?;
        object
            .into_iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(field, value)| match value {
                Value::String(text) => Ok((field, text)),
                Value::Number(_) | Value::Bool(_) => Ok((field, value.to_string())),
                _ => Err(serde::de::Error::custom(format!(
                    "field {field} is not a string, number or boolean"
                ))),
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl fmt::Debug for SecretData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Creates or replaces the document at `path`.
    async fn put(&self, path: &str, data: &SecretData) -> Result<(), PortError>;
    /// The document at `path`, or `None` when there is none.
    async fn get(&self, path: &str) -> Result<Option<SecretData>, PortError>;
    /// Removes the document and its history; removing a missing one is not an error.
    async fn delete(&self, path: &str) -> Result<(), PortError>;
}

/// Paths are slash-separated segments of `[A-Za-z0-9_.-]` (no empty, `.` or `..`
/// segment), at most 256 bytes: the common ground of Vault and Secrets Manager names, and
/// nothing a caller could use to climb out of its prefix.
pub fn validate_path(path: &str) -> Result<(), PortError> {
    let ok = !path.is_empty()
        && path.len() <= 256
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        });
    if ok {
        Ok(())
    } else {
        Err(PortError::Invalid(format!("invalid secret path {path:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_field_names_only() {
        let data = SecretData::new().with("hash", "$2b$12$abc");
        let text = format!("{data:?}");
        assert!(text.contains("hash"));
        assert!(!text.contains("$2b$12$abc"));
    }

    #[test]
    fn path_rules() {
        assert!(validate_path("api_keys/3f2a/key-1").is_ok());
        for bad in ["", "/a", "a/", "a//b", "a/../b", "a/./b", "a b", "a?b"] {
            assert!(validate_path(bad).is_err(), "{bad:?}");
        }
    }
}
