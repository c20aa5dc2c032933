//! The retry decision: from the policy, the number of the attempt that just ended and
//! how it ended, what happens next. Pure, so every branch is a unit test; the
//! dispatcher only carries the decision out.

use std::time::Duration;

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Roadmap: five retries after 1, 2, 4, 8 and 16 s (six attempts in all), short enough
/// for SQS per-attempt delay queues.
const STANDARD: &[Duration] = &[secs(1), secs(2), secs(4), secs(8), secs(16)];

/// The standard five, then 5 min, 30 min, 2 h, 8 h and 24 h: a receiver that is down
/// for most of a day still gets its events (last attempt ≈ 34.6 h after the first).
const EXTENDED: &[Duration] = &[
    secs(1),
    secs(2),
    secs(4),
    secs(8),
    secs(16),
    secs(5 * 60),
    secs(30 * 60),
    secs(2 * 3600),
    secs(8 * 3600),
    secs(24 * 3600),
];

/// How long an endpoint's `Retry-After` may push the next standard attempt: SQS's
/// largest message delay, so the retry still travels as one delayed message.
const STANDARD_RETRY_AFTER_CAP: Duration = secs(15 * 60);

pm_domain::string_enum! {
    /// An endpoint's retry schedule.
    pub enum RetryPolicy {
        Standard = "standard",
        Extended = "extended",
    }
}

impl RetryPolicy {
    /// The wait before each retry: entry `n - 1` follows the failure of attempt `n`.
    pub fn schedule(self) -> &'static [Duration] {
        match self {
            Self::Standard => STANDARD,
            Self::Extended => EXTENDED,
        }
    }

    /// Attempts in all, the first included.
    pub fn max_attempts(self) -> u32 {
        self.schedule().len() as u32 + 1
    }

    /// The longest wait a `Retry-After` header can obtain. Standard: 15 min, SQS's
    /// largest message delay. Extended: its own longest step, 24 h. Either way a hostile
    /// or mistaken header (`Retry-After: 31536000`) cannot park a delivery.
    pub fn retry_after_cap(self) -> Duration {
        match self {
            Self::Standard => STANDARD_RETRY_AFTER_CAP,
            Self::Extended => *EXTENDED.last().expect("the schedule is not empty"),
        }
    }
}

/// How one attempt ended, as far as the decision needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Success,
    /// Any other answer. `retry_after` is the parsed `Retry-After` header, if any.
    HttpStatus {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No full answer within the request timeout.
    Timeout,
    /// The host name did not resolve.
    Dns,
    /// The TCP connection failed (refused, reset, unreachable).
    Connect,
    /// The TLS handshake failed (bad certificate, not TLS).
    Tls,
    /// Every address of the host is one deliveries may not reach.
    RefusedAddress,
    /// Anything else (a malformed answer, a broken body).
    Other,
}

/// What the dispatcher does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Delivered: record it and never send again.
    Done,
    /// Send attempt `n + 1` after this wait.
    Retry { after: Duration },
    /// The schedule is used up: the delivery is failed, and stays replayable.
    GiveUp,
    /// The receiver answered 410 Gone: disable the endpoint (the spec's advice).
    Disable,
}

/// The next step after attempt number `attempt` (1 for the first) ended with `outcome`.
///
/// - 2xx: done. 410: disable the endpoint, however many attempts remain.
/// - Any other failure retries on the schedule until it runs out, then gives up.
/// - 429 and 503 with `Retry-After`: wait the longer of the schedule's delay and the
///   header's, but no longer than [`RetryPolicy::retry_after_cap`]. Other statuses'
///   `Retry-After` is ignored, as its meaning there is not "come back later".
/// - A refused address retries like any failure: the refusal costs no connection, and a
///   customer whose DNS briefly pointed somewhere private should not lose the event.
///   It stays refused for as long as the DNS answer stays forbidden.
pub fn decide(policy: RetryPolicy, attempt: u32, outcome: Outcome) -> Decision {
    decide_on(
        policy.schedule(),
        policy.retry_after_cap(),
        attempt,
        outcome,
    )
}

/// [`decide`] on an explicit schedule: a policy's, or a shortened one that
/// configuration gives tests (`WEBHOOK_RETRY_SCHEDULE_MS`).
pub fn decide_on(
    schedule: &[Duration],
    retry_after_cap: Duration,
    attempt: u32,
    outcome: Outcome,
) -> Decision {
    match outcome {
        Outcome::Success => return Decision::Done,
        Outcome::HttpStatus { status, .. } if (200..300).contains(&status) => {
            return Decision::Done
        }
        Outcome::HttpStatus { status: 410, .. } => return Decision::Disable,
        _ => {}
    }
    let Some(&delay) = (attempt as usize)
        .checked_sub(1)
        .and_then(|i| schedule.get(i))
    else {
        return Decision::GiveUp;
    };
    let after = match outcome {
        Outcome::HttpStatus {
            status: 429 | 503,
            retry_after: Some(asked),
        } => delay.max(asked.min(retry_after_cap)),
        _ => delay,
    };
    Decision::Retry { after }
}

/// A stable name for the attempt log's error column; `None` for a success.
pub fn error_kind(outcome: &Outcome) -> Option<&'static str> {
    Some(match outcome {
        Outcome::Success => return None,
        Outcome::HttpStatus { status, .. } if (200..300).contains(status) => return None,
        Outcome::HttpStatus { .. } => "http_status",
        Outcome::Timeout => "timeout",
        Outcome::Dns => "dns",
        Outcome::Connect => "connect",
        Outcome::Tls => "tls",
        Outcome::RefusedAddress => "refused_address",
        Outcome::Other => "other",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use RetryPolicy::{Extended, Standard};

    fn status(status: u16) -> Outcome {
        Outcome::HttpStatus {
            status,
            retry_after: None,
        }
    }

    fn retry_after(status: u16, after: Duration) -> Outcome {
        Outcome::HttpStatus {
            status,
            retry_after: Some(after),
        }
    }

    fn retry(after: Duration) -> Decision {
        Decision::Retry { after }
    }

    #[test]
    fn standard_retries_after_1_2_4_8_16_seconds_then_gives_up() {
        let waits: Vec<Decision> = (1..=6).map(|n| decide(Standard, n, status(500))).collect();
        assert_eq!(
            waits,
            vec![
                retry(secs(1)),
                retry(secs(2)),
                retry(secs(4)),
                retry(secs(8)),
                retry(secs(16)),
                Decision::GiveUp
            ]
        );
        assert_eq!(Standard.max_attempts(), 6);
    }

    #[test]
    fn extended_continues_for_about_a_day_after_the_standard_five() {
        let waits: Vec<Decision> = (1..=11)
            .map(|n| decide(Extended, n, Outcome::Timeout))
            .collect();
        let expected: Vec<Decision> = [1, 2, 4, 8, 16, 300, 1800, 7200, 28800, 86400]
            .into_iter()
            .map(|s| retry(secs(s)))
            .chain([Decision::GiveUp])
            .collect();
        assert_eq!(waits, expected);
        assert_eq!(Extended.max_attempts(), 11);
        let total: Duration = Extended.schedule().iter().sum();
        assert_eq!(total, secs(124_531)); // 34 h 35 min 31 s
    }

    #[test]
    fn any_2xx_is_done_on_any_attempt() {
        for attempt in [1, 3, 6, 11, 99] {
            for policy in [Standard, Extended] {
                assert_eq!(decide(policy, attempt, Outcome::Success), Decision::Done);
                assert_eq!(decide(policy, attempt, status(200)), Decision::Done);
                assert_eq!(decide(policy, attempt, status(204)), Decision::Done);
                assert_eq!(decide(policy, attempt, status(299)), Decision::Done);
            }
        }
    }

    #[test]
    fn gone_disables_the_endpoint_even_with_retries_left() {
        assert_eq!(decide(Standard, 1, status(410)), Decision::Disable);
        assert_eq!(decide(Extended, 11, status(410)), Decision::Disable);
    }

    #[test]
    fn redirects_client_errors_and_server_errors_retry_on_the_schedule() {
        for code in [
            199, 300, 301, 302, 400, 401, 404, 409, 429, 500, 502, 503, 504,
        ] {
            assert_eq!(decide(Standard, 2, status(code)), retry(secs(2)), "{code}");
        }
    }

    #[test]
    fn every_transport_failure_retries_on_the_schedule() {
        for outcome in [
            Outcome::Timeout,
            Outcome::Dns,
            Outcome::Connect,
            Outcome::Tls,
            Outcome::Other,
        ] {
            assert_eq!(decide(Standard, 3, outcome), retry(secs(4)), "{outcome:?}");
            assert_eq!(
                decide(Standard, 6, outcome),
                Decision::GiveUp,
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn a_refused_address_retries_on_the_schedule_in_case_the_dns_is_fixed() {
        assert_eq!(decide(Standard, 1, Outcome::RefusedAddress), retry(secs(1)));
        assert_eq!(
            decide(Extended, 8, Outcome::RefusedAddress),
            retry(secs(7200))
        );
        assert_eq!(
            decide(Standard, 6, Outcome::RefusedAddress),
            Decision::GiveUp
        );
    }

    #[test]
    fn retry_after_on_429_and_503_lengthens_the_wait() {
        assert_eq!(
            decide(Standard, 1, retry_after(429, secs(60))),
            retry(secs(60))
        );
        assert_eq!(
            decide(Standard, 2, retry_after(503, secs(120))),
            retry(secs(120))
        );
    }

    #[test]
    fn retry_after_never_shortens_the_scheduled_wait() {
        assert_eq!(
            decide(Standard, 5, retry_after(429, secs(3))),
            retry(secs(16))
        );
        assert_eq!(
            decide(Standard, 1, retry_after(503, Duration::ZERO)),
            retry(secs(1))
        );
    }

    #[test]
    fn retry_after_is_capped_at_15_minutes_for_standard_and_24_hours_for_extended() {
        let year = secs(365 * 24 * 3600);
        assert_eq!(
            decide(Standard, 1, retry_after(429, year)),
            retry(secs(900))
        );
        assert_eq!(
            decide(Standard, 1, retry_after(503, secs(901))),
            retry(secs(900))
        );
        assert_eq!(
            decide(Standard, 1, retry_after(503, secs(900))),
            retry(secs(900))
        );
        assert_eq!(
            decide(Extended, 1, retry_after(429, year)),
            retry(secs(86400))
        );
    }

    #[test]
    fn retry_after_on_other_statuses_is_ignored() {
        assert_eq!(
            decide(Standard, 1, retry_after(500, secs(600))),
            retry(secs(1))
        );
        assert_eq!(
            decide(Standard, 1, retry_after(301, secs(600))),
            retry(secs(1))
        );
    }

    #[test]
    fn retry_after_does_not_extend_a_used_up_schedule() {
        assert_eq!(
            decide(Standard, 6, retry_after(503, secs(60))),
            Decision::GiveUp
        );
    }

    #[test]
    fn attempt_zero_is_not_a_retry_licence() {
        // Attempts count from 1; a 0 is a caller bug and must not loop forever.
        assert_eq!(decide(Standard, 0, status(500)), Decision::GiveUp);
    }

    #[test]
    fn error_kinds_have_stable_names_and_success_has_none() {
        let cases = [
            (Outcome::Success, None),
            (status(204), None),
            (status(500), Some("http_status")),
            (status(410), Some("http_status")),
            (Outcome::Timeout, Some("timeout")),
            (Outcome::Dns, Some("dns")),
            (Outcome::Connect, Some("connect")),
            (Outcome::Tls, Some("tls")),
            (Outcome::RefusedAddress, Some("refused_address")),
            (Outcome::Other, Some("other")),
        ];
        for (outcome, kind) in cases {
            assert_eq!(error_kind(&outcome), kind, "{outcome:?}");
        }
    }
}
