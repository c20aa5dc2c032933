use std::collections::HashMap;
use std::sync::RwLock;

use async_trait::async_trait;

use super::{validate_path, SecretData, SecretStore};
use crate::PortError;

/// Secrets held in the process: the local runtime's default. Lost on exit.
#[derive(Default)]
pub struct MemorySecretStore {
    documents: RwLock<HashMap<String, SecretData>>,
}

impl MemorySecretStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SecretStore for MemorySecretStore {
    async fn put(&self, path: &str, data: &SecretData) -> Result<(), PortError> {
        validate_path(path)?;
        self.documents
            .write()
            .expect("secret map lock poisoned")
            .insert(path.to_string(), data.clone());
        Ok(())
    }

    async fn get(&self, path: &str) -> Result<Option<SecretData>, PortError> {
        validate_path(path)?;
        Ok(self
            .documents
            .read()
            .expect("secret map lock poisoned")
            .get(path)
            .cloned())
    }

    async fn delete(&self, path: &str) -> Result<(), PortError> {
        validate_path(path)?;
        self.documents
            .write()
            .expect("secret map lock poisoned")
            .remove(path);
        Ok(())
    }
}
