//! A read-through cache in front of a secrets store, for workers that read the same
//! secret for message after message (a webhook's signing secret, a tenant's transport
//! credentials): one read per secret per `ttl`, not one per message. Short-lived on
//! purpose, so a change made elsewhere is seen within `ttl`; a write through this store
//! is seen at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{SecretData, SecretStore};
use crate::PortError;

/// Entries kept at most; past it the cache starts over (a worker touches few tenants).
const MAX_ENTRIES: usize = 10_000;

pub struct CachedSecrets {
    inner: Arc<dyn SecretStore>,
    ttl: Duration,
    /// Only secrets that exist are kept: a missing one is asked for again.
    entries: Mutex<HashMap<String, (Instant, SecretData)>>,
}

impl CachedSecrets {
    pub fn new(inner: Arc<dyn SecretStore>, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn forget(&self, path: &str) {
        self.entries.lock().expect("cache lock").remove(path);
    }
}

#[async_trait]
impl SecretStore for CachedSecrets {
    async fn put(&self, path: &str, data: &SecretData) -> Result<(), PortError> {
        self.inner.put(path, data).await?;
        self.forget(path);
        Ok(())
    }

    async fn get(&self, path: &str) -> Result<Option<SecretData>, PortError> {
        if let Some((at, data)) = self.entries.lock().expect("cache lock").get(path) {
            if at.elapsed() < self.ttl {
                return Ok(Some(data.clone()));
            }
        }
        let loaded = self.inner.get(path).await?;
        let mut entries = self.entries.lock().expect("cache lock");
        match &loaded {
            Some(data) => {
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
                entries.insert(path.to_string(), (Instant::now(), data.clone()));
            }
            None => {
                entries.remove(path);
            }
        }
        Ok(loaded)
    }

    async fn delete(&self, path: &str) -> Result<(), PortError> {
        self.inner.delete(path).await?;
        self.forget(path);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MemorySecretStore;

    #[tokio::test]
    async fn reads_once_per_ttl_and_sees_its_own_writes_at_once() {
        let inner = Arc::new(MemorySecretStore::new());
        let cached = CachedSecrets::new(inner.clone(), Duration::from_millis(200));
        let v = |s: &str| SecretData::new().with("value", s);
        cached.put("a/b", &v("1")).await.unwrap();
        assert_eq!(cached.get("a/b").await.unwrap(), Some(v("1")));
        // A change behind the cache's back is seen only after the ttl.
        inner.put("a/b", &v("2")).await.unwrap();
        assert_eq!(cached.get("a/b").await.unwrap(), Some(v("1")));
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(cached.get("a/b").await.unwrap(), Some(v("2")));
        // Its own writes and deletes are seen at once.
        cached.put("a/b", &v("3")).await.unwrap();
        assert_eq!(cached.get("a/b").await.unwrap(), Some(v("3")));
        cached.delete("a/b").await.unwrap();
        assert_eq!(cached.get("a/b").await.unwrap(), None);
    }
}
