//! Typed keys over the string key-value port: a [`Namespace<T>`] is a key prefix and
//! the one value type stored under it (JSON), so writers and readers agree on the shape
//! and no two features share a key by accident.

use std::fmt::{self, Display};
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Expect, KeyValue};
use crate::PortError;

pub struct Namespace<T> {
    prefix: &'static str,
    value: PhantomData<fn() -> T>,
}

impl<T> Clone for Namespace<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Namespace<T> {}

impl<T> fmt::Debug for Namespace<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({})", self.prefix)
    }
}

/// A value read from a namespace, with the version a conditional write must expect.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

impl<T> Namespace<T> {
    pub const fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            value: PhantomData,
        }
    }

    /// The full key of `id`: `{prefix}:{id}`.
    pub fn key(&self, id: impl Display) -> String {
        format!("{}:{id}", self.prefix)
    }
}

impl<T: Serialize + DeserializeOwned> Namespace<T> {
    /// The live value under `id`. A stored value that does not decode is
    /// `PortError::Invalid` (with the version, callers may overwrite it knowingly).
    pub async fn get(
        &self,
        kv: &dyn KeyValue,
        id: impl Display,
    ) -> Result<Option<Result<Versioned<T>, (PortError, u64)>>, PortError> {
        let key = self.key(id);
        Ok(kv.get(&key).await?.map(|item| {
            serde_json::from_str(&item.value)
                .map(|value| Versioned {
                    value,
                    version: item.version,
                })
                .map_err(|e| {
                    (
                        PortError::Invalid(format!("the value at {key} does not decode: {e}")),
                        item.version,
                    )
                })
        }))
    }

    /// Writes `value` if `expect` holds: the new version, or `None` when it did not.
    pub async fn put_if(
        &self,
        kv: &dyn KeyValue,
        id: impl Display,
        value: &T,
        expect: Expect,
        ttl: Option<Duration>,
    ) -> Result<Option<u64>, PortError> {
        let body = serde_json::to_string(value).expect("key-value values serialize");
        kv.put_if(&self.key(id), &body, expect, ttl).await
    }

    pub async fn delete(&self, kv: &dyn KeyValue, id: impl Display) -> Result<(), PortError> {
        kv.delete(&self.key(id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::MemoryKeyValue;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Count {
        n: u32,
    }

    const COUNTS: Namespace<Count> = Namespace::new("count");

    #[tokio::test]
    async fn values_round_trip_under_their_prefix_with_versions() {
        let kv = MemoryKeyValue::new();
        assert!(COUNTS.get(&kv, "a").await.unwrap().is_none());
        let v1 = COUNTS
            .put_if(&kv, "a", &Count { n: 1 }, Expect::Absent, None)
            .await
            .unwrap()
            .unwrap();
        let read = COUNTS.get(&kv, "a").await.unwrap().unwrap().unwrap();
        assert_eq!(
            read,
            Versioned {
                value: Count { n: 1 },
                version: v1
            }
        );
        assert!(kv.get("count:a").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_value_of_another_shape_is_reported_with_its_version() {
        let kv = MemoryKeyValue::new();
        let v = kv
            .put_if("count:b", "[]", Expect::Absent, None)
            .await
            .unwrap()
            .unwrap();
        let (err, version) = COUNTS.get(&kv, "b").await.unwrap().unwrap().unwrap_err();
        assert!(matches!(err, PortError::Invalid(_)));
        assert_eq!(version, v);
    }
}
