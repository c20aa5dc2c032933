//! Per-key token buckets in the key-value port.
//!
//! A bucket holds up to the per-minute limit and refills continuously at limit/60 per
//! second. Taking a token is read → refill → conditional write, retried on conflict, so
//! concurrent requests against a bucket with k tokens let exactly k through, across
//! every container (DynamoDB's conditional PutItem in production).

use std::time::Duration;

use http::StatusCode;
use pm_http::ApiError;
use pm_http::Code;
use pm_ports::kv::{Advance, KeyValue};
use pm_ports::PortError;

/// A full bucket after a minute of silence equals no bucket, so items may expire.
const BUCKET_TTL: Duration = Duration::from_secs(120);

/// Rate cells' keys: `ratelimit:{bucket}`.
const RATE_PREFIX: &str = "ratelimit";

/// When the shared store fails, each instance limits on its own with this share of the
/// limit: the number of instances expected to serve one key at once. Never unlimited.
pub const DEFAULT_FALLBACK_INSTANCES: u32 = 4;

/// A token from `bucket` in the shared store, never failing open: if the store throttles
/// (a flood can provoke that) the request is refused with 429; if it is otherwise down,
/// the in-process `fallback` store limits this instance to its share of the limit.
pub async fn take_guarded(
    kv: &dyn KeyValue,
    fallback: &dyn KeyValue,
    fallback_instances: u32,
    bucket: impl std::fmt::Display,
    per_minute: u32,
    now_ms: u64,
) -> Decision {
    let bucket = bucket.to_string();
    match take(kv, &bucket, per_minute, now_ms).await {
        Ok(decision) => decision,
        Err(PortError::Throttled { .. }) => Decision {
            allowed: false,
            limit: per_minute,
            remaining: 0,
            reset_secs: 60,
            retry_after_secs: 1,
        },
        Err(e) => {
            tracing::warn!(error = %e, %bucket, "rate-limit store unavailable; limiting per instance");
            let share = (per_minute / fallback_instances.max(1)).max(1);
            match take(fallback, &bucket, share, now_ms).await {
                Ok(decision) => Decision {
                    limit: per_minute,
                    ..decision
                },
                Err(_) => Decision {
                    allowed: false,
                    limit: per_minute,
                    remaining: 0,
                    reset_secs: 60,
                    retry_after_secs: 1,
                },
            }
        }
    }
}

/// The shared store with its per-instance fallback: the one way every limit here
/// takes a token (API keys, tenants, failed authentications, dashboard sessions).
#[derive(Clone)]
pub struct Limiter {
    kv: std::sync::Arc<dyn KeyValue>,
    fallback: std::sync::Arc<pm_ports::kv::MemoryKeyValue>,
    instances: u32,
}

impl Limiter {
    pub fn new(kv: std::sync::Arc<dyn KeyValue>) -> Self {
        Self {
            kv,
            fallback: std::sync::Arc::default(),
            instances: DEFAULT_FALLBACK_INSTANCES,
        }
    }

    /// How many instances share a limit while the shared store is down.
    pub fn with_fallback_instances(mut self, instances: u32) -> Self {
        self.instances = instances.max(1);
        self
    }

    /// A token from `bucket` now.
    pub async fn take(&self, bucket: impl std::fmt::Display, per_minute: u32) -> Decision {
        let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
        take_guarded(
            self.kv.as_ref(),
            self.fallback.as_ref(),
            self.instances,
            bucket,
            per_minute,
            now_ms,
        )
        .await
    }
}

impl Decision {
    /// Both limits at once: allowed only if both allow; the tighter figures.
    pub fn and(self, other: Decision) -> Decision {
        Decision {
            allowed: self.allowed && other.allowed,
            limit: self.limit.min(other.limit),
            remaining: self.remaining.min(other.remaining),
            reset_secs: self.reset_secs.max(other.reset_secs),
            retry_after_secs: self.retry_after_secs.max(other.retry_after_secs),
        }
    }
}

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
            Code::RateLimited,
            "Too many requests",
            format!(
                "this key may make {} requests per minute; retry after {} s",
                self.limit, self.retry_after_secs
            ),
        )
        .with_header("retry-after", self.retry_after_secs.to_string())
    }
}

/// Takes one token from the bucket `bucket` (an API key id, `tenant:…`, …) at time
/// `now_ms` (milliseconds since the epoch; a parameter so tests can hold the clock still).
///
/// The bucket is a GCRA cell in the key-value store: one atomic conditional write per
/// request (no read-then-write, no retry loop), so concurrent requests against a bucket
/// with k tokens let exactly k through across every container. It behaves as a bucket
/// of `per_minute` tokens refilled continuously at `per_minute` a minute.
pub async fn take(
    kv: &dyn KeyValue,
    bucket: impl std::fmt::Display,
    per_minute: u32,
    now_ms: u64,
) -> Result<Decision, PortError> {
    let per_minute = per_minute.max(1);
    // Microseconds, so 1,000 a minute still steps exactly.
    let now = now_ms * 1000;
    let window = 60_000_000u64;
    // At least 1 µs: a limit above 60 million a minute is that many (and never a
    // division by zero).
    let step = (window / u64::from(per_minute)).max(1);
    let key = format!("{RATE_PREFIX}:{bucket}");
    let secs_up = |us: u64| us.div_ceil(1_000_000);
    Ok(
        match kv.advance(&key, now, step, window, BUCKET_TTL).await? {
            Advance::Taken { at } => Decision {
                allowed: true,
                limit: per_minute,
                remaining: ((now + window).saturating_sub(at) / step).min(u64::from(per_minute))
                    as u32,
                reset_secs: secs_up(at.saturating_sub(now)),
                retry_after_secs: 0,
            },
            Advance::Refused { at } => Decision {
                allowed: false,
                limit: per_minute,
                remaining: 0,
                reset_secs: secs_up(at.saturating_sub(now)),
                retry_after_secs: secs_up((at + step).saturating_sub(now + window)).max(1),
            },
        },
    )
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

    /// A store that is down, or throttling.
    struct Broken(PortError);

    #[async_trait::async_trait]
    impl KeyValue for Broken {
        async fn get(&self, _: &str) -> Result<Option<pm_ports::kv::KvItem>, PortError> {
            Err(self.0.clone())
        }
        async fn put_if(
            &self,
            _: &str,
            _: &str,
            _: pm_ports::kv::Expect,
            _: Option<Duration>,
        ) -> Result<Option<u64>, PortError> {
            Err(self.0.clone())
        }
        async fn delete(&self, _: &str) -> Result<(), PortError> {
            Err(self.0.clone())
        }
        async fn advance(
            &self,
            _: &str,
            _: u64,
            _: u64,
            _: u64,
            _: Duration,
        ) -> Result<Advance, PortError> {
            Err(self.0.clone())
        }
    }

    #[tokio::test]
    async fn a_limit_too_high_to_step_in_microseconds_still_works() {
        let kv = MemoryKeyValue::new();
        for per_minute in [100_000_000, u32::MAX] {
            let d = take(&kv, format!("huge-{per_minute}"), per_minute, 5_000)
                .await
                .unwrap();
            assert!(d.allowed, "{per_minute}");
            assert!(d.remaining <= per_minute);
        }
    }

    #[tokio::test]
    async fn a_store_outage_limits_each_instance_to_its_share_never_to_nothing() {
        let down = Broken(PortError::unavailable("dynamodb", "connection refused"));
        let fallback = MemoryKeyValue::new();
        let now = 1_000_000;
        let allowed = futures_count(&down, &fallback, 60, now, 40).await;
        assert_eq!(allowed, 15, "60/min over 4 instances");
    }

    #[tokio::test]
    async fn a_throttling_store_answers_429() {
        let throttled = Broken(PortError::throttled("dynamodb", "ThrottlingException"));
        let d = take_guarded(&throttled, &MemoryKeyValue::new(), 4, "k", 60, 0).await;
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, 1);
    }

    async fn futures_count(
        kv: &dyn KeyValue,
        fallback: &dyn KeyValue,
        per_minute: u32,
        now: u64,
        n: usize,
    ) -> usize {
        let mut allowed = 0;
        for _ in 0..n {
            if take_guarded(
                kv,
                fallback,
                DEFAULT_FALLBACK_INSTANCES,
                "k",
                per_minute,
                now,
            )
            .await
            .allowed
            {
                allowed += 1;
            }
        }
        allowed
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
