//! Per-key token buckets in the key-value port.
//!
//! A bucket holds up to the per-minute limit and refills continuously at limit/60 per
//! second. Taking a token is read → refill → conditional write, retried on conflict, so
//! concurrent requests against a bucket with k tokens let exactly k through, across
//! every container (DynamoDB's conditional PutItem in production).

use std::time::Duration;

use http::StatusCode;
use pm_http::ApiError;
use pm_ports::kv::{Expect, KeyValue, Namespace, Versioned};
use pm_ports::PortError;
use serde::{Deserialize, Serialize};

/// A full bucket after a minute of silence equals no bucket, so items may expire.
const BUCKET_TTL: Duration = Duration::from_secs(120);
const MAX_ATTEMPTS: usize = 64;

#[derive(Debug, Serialize, Deserialize)]
pub struct Bucket {
    tokens: f64,
    at_ms: u64,
}

/// One bucket per API key id.
pub const BUCKETS: Namespace<Bucket> = Namespace::new("ratelimit");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until a request would be allowed (0 when allowed).
    pub retry_after_secs: u64,
}

impl Decision {
    /// `RateLimit-Policy`/`RateLimit` (IETF httpapi draft) and the `X-RateLimit-*` trio.
    pub fn headers(&self) -> [(&'static str, String); 5] {
        [
            (
                "ratelimit-policy",
                format!("\"per-key\";q={};w=60", self.limit),
            ),
            (
                "ratelimit",
                format!("\"per-key\";r={};t={}", self.remaining, self.reset_secs),
            ),
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-reset", self.reset_secs.to_string()),
        ]
    }

    pub fn too_many_requests(&self) -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests",
            format!(
                "this key may make {} requests per minute; retry after {} s",
                self.limit, self.retry_after_secs
            ),
        )
        .with_header("retry-after", self.retry_after_secs.to_string())
    }
}

/// Takes one token from the bucket `bucket` (an API key id) at time `now_ms`
/// (milliseconds since the epoch; a parameter so tests can hold the clock still).
pub async fn take(
    kv: &dyn KeyValue,
    bucket: impl std::fmt::Display,
    per_minute: u32,
    now_ms: u64,
) -> Result<Decision, PortError> {
    let capacity = f64::from(per_minute.max(1));
    let per_ms = capacity / 60_000.0;
    let bucket = bucket.to_string();
    for _ in 0..MAX_ATTEMPTS {
        let (tokens, expect) = match BUCKETS.get(kv, &bucket).await? {
            None => (capacity, Expect::Absent),
            Some(Ok(Versioned { value, version })) => {
                let elapsed = now_ms.saturating_sub(value.at_ms) as f64;
                (
                    (value.tokens + elapsed * per_ms).min(capacity),
                    Expect::Version(version),
                )
            }
            // Not written by this code (or by an older shape of it): start the bucket
            // afresh over it, and say so.
            Some(Err((e, version))) => {
                tracing::warn!(error = %e, "replacing an undecodable rate-limit bucket");
                (capacity, Expect::Version(version))
            }
        };
        let decide = |left: f64, allowed: bool| Decision {
            allowed,
            limit: per_minute,
            remaining: left.floor().max(0.0) as u32,
            reset_secs: ((capacity - left) / per_ms / 1000.0).ceil().max(0.0) as u64,
            retry_after_secs: if allowed {
                0
            } else {
                ((1.0 - left) / per_ms / 1000.0).ceil().max(1.0) as u64
            },
        };
        if tokens < 1.0 {
            // Denying changes nothing, so nothing is written.
            return Ok(decide(tokens, false));
        }
        let left = tokens - 1.0;
        let next = Bucket {
            tokens: left,
            at_ms: now_ms,
        };
        if BUCKETS
            .put_if(kv, &bucket, &next, expect, Some(BUCKET_TTL))
            .await?
            .is_some()
        {
            return Ok(decide(left, true));
        }
        // Another request took a token first: look again.
    }
    // Still losing races after many tries means a burst far beyond the bucket on this
    // key: deny (429) rather than let the flood through unlimited.
    Ok(Decision {
        allowed: false,
        limit: per_minute,
        remaining: 0,
        reset_secs: 60,
        retry_after_secs: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_ports::kv::MemoryKeyValue;

    #[tokio::test]
    async fn a_full_bucket_allows_its_capacity_then_refills() {
        let kv = MemoryKeyValue::new();
        let t0 = 1_000_000;
        for i in 0..60 {
            let d = take(&kv, "b", 60, t0).await.unwrap();
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 59 - i);
        }
        let denied = take(&kv, "b", 60, t0).await.unwrap();
        assert!(!denied.allowed);
        assert_eq!(denied.retry_after_secs, 1);
        assert_eq!(denied.reset_secs, 60);
        // One second later exactly one token (60/min) is back.
        assert!(take(&kv, "b", 60, t0 + 1000).await.unwrap().allowed);
        assert!(!take(&kv, "b", 60, t0 + 1000).await.unwrap().allowed);
    }

    #[test]
    fn headers_follow_the_drafts() {
        let d = Decision {
            allowed: true,
            limit: 300,
            remaining: 299,
            reset_secs: 1,
            retry_after_secs: 0,
        };
        let h = d.headers();
        assert_eq!(h[0], ("ratelimit-policy", "\"per-key\";q=300;w=60".into()));
        assert_eq!(h[1], ("ratelimit", "\"per-key\";r=299;t=1".into()));
    }
}
