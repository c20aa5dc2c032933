use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::{expiry, is_live, now_secs, validate, Advance, Expect, KeyValue, KvItem};
use crate::PortError;

/// Items in the process, for the local runtime. Lost on exit.
#[derive(Default)]
pub struct MemoryKeyValue {
    items: Mutex<HashMap<String, KvItem>>,
}

impl MemoryKeyValue {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl KeyValue for MemoryKeyValue {
    async fn get(&self, key: &str) -> Result<Option<KvItem>, PortError> {
        validate(key, None)?;
        let now = now_secs();
        let items = self.items.lock().expect("kv lock poisoned");
        Ok(items
            .get(key)
            .filter(|item| is_live(item.expires_at, now))
            .cloned())
    }

    async fn put_if(
        &self,
        key: &str,
        value: &str,
        expect: Expect,
        ttl: Option<Duration>,
    ) -> Result<Option<u64>, PortError> {
        validate(key, Some(value))?;
        let now = now_secs();
        let mut items = self.items.lock().expect("kv lock poisoned");
        let live = items.get(key).filter(|item| is_live(item.expires_at, now));
        let holds = match (expect, live) {
            (Expect::Absent, None) => true,
            (Expect::Version(v), Some(item)) => item.version == v,
            _ => false,
        };
        if !holds {
            return Ok(None);
        }
        let version = match expect {
            Expect::Absent => 1,
            Expect::Version(v) => v + 1,
        };
        items.insert(
            key.to_string(),
            KvItem {
                value: value.to_string(),
                version,
                expires_at: expiry(ttl),
            },
        );
        Ok(Some(version))
    }

    async fn advance(
        &self,
        key: &str,
        now: u64,
        step: u64,
        ahead: u64,
        ttl: Duration,
    ) -> Result<Advance, PortError> {
        validate(key, None)?;
        let mut items = self.items.lock().expect("kv lock poisoned");
        let current = items
            .get(key)
            .filter(|item| is_live(item.expires_at, now_secs()))
            .and_then(|item| item.value.parse::<u64>().ok());
        let next = match current {
            None => now + step,
            Some(at) if at <= now => now + step,
            Some(at) if at + step <= now + ahead => at + step,
            Some(at) => return Ok(Advance::Refused { at }),
        };
        let version = items.get(key).map_or(1, |item| item.version + 1);
        items.insert(
            key.to_string(),
            KvItem {
                value: next.to_string(),
                version,
                expires_at: expiry(Some(ttl)),
            },
        );
        Ok(Advance::Taken { at: next })
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        validate(key, None)?;
        self.items.lock().expect("kv lock poisoned").remove(key);
        Ok(())
    }
}
