//! The key-value port: small versioned items with optimistic concurrency and expiry,
//! for rate-limit buckets and idempotency records.
//!
//! Writes are conditional ([`Expect`]), so read–modify–write loops are correct under
//! concurrency: of two writers that read the same version, exactly one succeeds. An item
//! past its expiry is gone for every purpose, even before the backend sweeps it away
//! (DynamoDB's TTL deletes lazily, up to days later).

mod dynamodb;
mod memory;
mod namespace;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

pub use dynamodb::DynamoDbStore;
pub use memory::MemoryKeyValue;
pub use namespace::{Namespace, Versioned};

use crate::PortError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvItem {
    pub value: String,
    /// Starts at 1 and grows by one on every write.
    pub version: u64,
    /// Unix seconds after which the item no longer exists.
    pub expires_at: Option<u64>,
}

/// What must hold for a conditional write to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No live item under the key (never written, deleted or expired).
    Absent,
    /// A live item with exactly this version.
    Version(u64),
}

/// What [`KeyValue::advance`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advance {
    /// The cell moved on; its new time.
    Taken { at: u64 },
    /// The cell is too far ahead; its time, unchanged.
    Refused { at: u64 },
}

#[async_trait]
pub trait KeyValue: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<KvItem>, PortError>;
    /// Writes `value` if `expect` holds; returns the new version, or `None` when the
    /// condition did not hold (nothing was written). `ttl` sets the expiry (whole
    /// seconds, rounded up); `None` keeps the item until deleted.
    async fn put_if(
        &self,
        key: &str,
        value: &str,
        expect: Expect,
        ttl: Option<Duration>,
    ) -> Result<Option<u64>, PortError>;
    async fn delete(&self, key: &str) -> Result<(), PortError>;
    /// A rate cell (the generic cell rate algorithm's "theoretical arrival time"), moved
    /// in one atomic conditional write, without reading first: if the cell is absent or
    /// behind `now`, it becomes `now + step`; else if `at + step <= now + ahead` it
    /// becomes `at + step`; else nothing changes and the answer is `Refused`. Times are
    /// in any unit, the same for all four numbers; `ttl` sets the expiry.
    async fn advance(
        &self,
        key: &str,
        now: u64,
        step: u64,
        ahead: u64,
        ttl: Duration,
    ) -> Result<Advance, PortError>;
}

/// DynamoDB's limits on keys and items, enforced by every adapter.
pub const MAX_KEY_BYTES: usize = 1024;
pub const MAX_VALUE_BYTES: usize = 350 * 1024;

pub(crate) fn validate(key: &str, value: Option<&str>) -> Result<(), PortError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(PortError::Invalid(format!(
            "keys are 1 to {MAX_KEY_BYTES} bytes"
        )));
    }
    if value.is_some_and(|v| v.len() > MAX_VALUE_BYTES) {
        return Err(PortError::Invalid(format!(
            "values are at most {MAX_VALUE_BYTES} bytes"
        )));
    }
    Ok(())
}

fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

pub(crate) fn now_secs() -> u64 {
    since_epoch().as_secs()
}

/// Expiry in whole unix seconds (DynamoDB's TTL unit), rounded up from the exact end
/// time, so an item lives at least its TTL and at most one second longer.
pub(crate) fn expiry(ttl: Option<Duration>) -> Option<u64> {
    ttl.map(|ttl| {
        let end = since_epoch() + ttl;
        end.as_secs() + u64::from(end.subsec_nanos() > 0)
    })
}

pub(crate) fn is_live(expires_at: Option<u64>, now: u64) -> bool {
    expires_at.is_none_or(|at| at > now)
}
