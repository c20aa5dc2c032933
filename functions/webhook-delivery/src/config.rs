//! Delivery settings from the environment. Production takes the defaults; local work
//! opens loopback and `http://`; tests shorten the clocks.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `WEBHOOK_TIMEOUT_MS` | 30000 | one attempt's time limit (the roadmap's 30 s) |
//! | `WEBHOOK_ALLOW_LOOPBACK` | false | deliver to 127.0.0.0/8 and ::1 (local work only) |
//! | `WEBHOOK_ALLOW_HTTP` | false | accept `http://` URLs (local receivers) |
//! | `WEBHOOK_REQUEUE_AFTER_SECS` | 120 | a due delivery with no message for this long is re-queued |
//! | `WEBHOOK_DISABLE_AFTER_SECS` | 432000 (5 days) | failing this long disables a webhook |
//! | `WEBHOOK_RETRY_SCHEDULE_MS` | unset | tests: e.g. `50,50,50,50,50` replaces every policy's schedule |

use std::time::Duration;

use chrono::TimeDelta;
use pm_config::{ConfigError, Env};

use crate::outbound::OutboundPolicy;
use crate::policy::RetryPolicy;

#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    pub timeout: Duration,
    pub outbound: OutboundPolicy,
    /// How long a claimed attempt is the claimer's: the timeout plus a margin to record.
    pub lease: Duration,
    pub requeue_after: Duration,
    pub disable_after: TimeDelta,
    pub schedule_override: Option<Vec<Duration>>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        let timeout = Duration::from_secs(30);
        Self {
            timeout,
            outbound: OutboundPolicy::default(),
            lease: timeout + Duration::from_secs(15),
            requeue_after: Duration::from_secs(120),
            disable_after: crate::health::DISABLE_AFTER,
            schedule_override: None,
        }
    }
}

impl DeliveryConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let timeout = Duration::from_millis(env.parsed_or("WEBHOOK_TIMEOUT_MS", 30_000u64)?);
        let schedule_override = env
            .get("WEBHOOK_RETRY_SCHEDULE_MS")
            .map(|raw| {
                raw.split(',')
                    .map(|ms| ms.trim().parse::<u64>().map(Duration::from_millis))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| {
                        ConfigError::invalid(
                            "WEBHOOK_RETRY_SCHEDULE_MS",
                            "a comma-separated list of milliseconds",
                        )
                    })
            })
            .transpose()?;
        Ok(Self {
            timeout,
            outbound: OutboundPolicy {
                allow_loopback: env.parsed_or("WEBHOOK_ALLOW_LOOPBACK", false)?,
                allow_http: env.parsed_or("WEBHOOK_ALLOW_HTTP", false)?,
                only_loopback: env.parsed_or("WEBHOOK_ONLY_LOOPBACK", false)?,
            },
            lease: timeout + Duration::from_secs(15),
            requeue_after: Duration::from_secs(env.parsed_or(
                "WEBHOOK_REQUEUE_AFTER_SECS",
                defaults.requeue_after.as_secs(),
            )?),
            disable_after: TimeDelta::seconds(env.parsed_or(
                "WEBHOOK_DISABLE_AFTER_SECS",
                defaults.disable_after.num_seconds(),
            )?),
            schedule_override,
        })
    }

    /// The waits between attempts for a webhook of this policy.
    pub fn schedule(&self, policy: RetryPolicy) -> &[Duration] {
        self.schedule_override
            .as_deref()
            .unwrap_or_else(|| policy.schedule())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_loopback_and_http_and_waits_thirty_seconds() {
        let config = DeliveryConfig::from_env(&Env::fixed([("UNRELATED", "x")])).unwrap();
        assert_eq!(config.timeout, Duration::from_secs(30));
        assert_eq!(config.outbound, OutboundPolicy::default());
        assert_eq!(config.schedule(RetryPolicy::Standard).len(), 5);
    }

    #[test]
    fn tests_may_shorten_the_schedule_and_a_bad_one_is_named() {
        let env = Env::fixed([("WEBHOOK_RETRY_SCHEDULE_MS", "10,20")]);
        let config = DeliveryConfig::from_env(&env).unwrap();
        assert_eq!(
            config.schedule(RetryPolicy::Extended),
            [Duration::from_millis(10), Duration::from_millis(20)]
        );
        let env = Env::fixed([("WEBHOOK_RETRY_SCHEDULE_MS", "10,x")]);
        let err = DeliveryConfig::from_env(&env).unwrap_err().to_string();
        assert!(err.contains("WEBHOOK_RETRY_SCHEDULE_MS"), "{err}");
    }
}
