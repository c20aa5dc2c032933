//! An endpoint's health, as the dashboard shows it (healthy, degraded, failing), and
//! when a persistently failing endpoint is switched off.

use chrono::{DateTime, TimeDelta, Utc};

/// How many of the most recent attempts count.
pub const WINDOW: usize = 20;
/// This many failures in a row is failing, whatever the older attempts say: a receiver
/// that just went down should not look healthy on the strength of last week.
pub const FAILING_STREAK: usize = 5;

pm_domain::string_enum! {
    /// An endpoint's health over its recent attempts.
    pub enum Health {
        Healthy = "healthy",
        Degraded = "degraded",
        Failing = "failing",
    }
}

/// Health from the outcomes of recent attempts, newest first (`true` = delivered), as
/// `ORDER BY attempted_at DESC LIMIT 20` returns them. Only the first [`WINDOW`] count.
///
/// - [`FAILING_STREAK`] or more failures in a row, newest first: failing.
/// - Otherwise by success rate: at least 95 % healthy (the roadmap's delivery target),
///   at least 50 % degraded, below that failing.
/// - No attempts yet: healthy; there is nothing against the endpoint.
pub fn health(newest_first: &[bool]) -> Health {
    let window = &newest_first[..newest_first.len().min(WINDOW)];
    if window.is_empty() {
        return Health::Healthy;
    }
    let streak = window.iter().take_while(|delivered| !**delivered).count();
    if streak >= FAILING_STREAK {
        return Health::Failing;
    }
    // Integer arithmetic: 19 of 20 is exactly 95 %, with no rounding to argue about.
    let delivered = window.iter().filter(|delivered| **delivered).count();
    if delivered * 100 >= window.len() * 95 {
        Health::Healthy
    } else if delivered * 100 >= window.len() * 50 {
        Health::Degraded
    } else {
        Health::Failing
    }
}

/// How long an endpoint may fail without a single success before it is disabled (the
/// spec recommends disabling, and telling the customer, after consistent failure).
pub const DISABLE_AFTER: TimeDelta = TimeDelta::days(5);

/// Whether to disable an endpoint whose current failure streak began at `streak_start`
/// (`None`: the last attempt succeeded). Disabled once `now - streak_start >= period`;
/// a clock behind the streak's start never disables.
pub fn should_disable(
    streak_start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    period: TimeDelta,
) -> bool {
    streak_start.is_some_and(|start| now - start >= period)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempts(successes: usize, failures: usize) -> Vec<bool> {
        // Failures oldest, so no streak at the front.
        let mut out = vec![true; successes];
        out.extend(vec![false; failures]);
        out
    }

    #[test]
    fn an_endpoint_without_attempts_is_healthy() {
        assert_eq!(health(&[]), Health::Healthy);
    }

    #[test]
    fn nineteen_of_twenty_is_healthy_and_eighteen_is_degraded() {
        assert_eq!(health(&attempts(20, 0)), Health::Healthy);
        assert_eq!(health(&attempts(19, 1)), Health::Healthy);
        assert_eq!(health(&attempts(18, 2)), Health::Degraded);
    }

    #[test]
    fn half_delivered_is_degraded_and_less_is_failing() {
        assert_eq!(health(&attempts(10, 10)), Health::Degraded);
        assert_eq!(health(&attempts(9, 11)), Health::Failing);
        assert_eq!(health(&attempts(1, 1)), Health::Degraded);
    }

    #[test]
    fn five_failures_in_a_row_is_failing_even_with_a_good_rate_before() {
        let mut recent = vec![false; 5];
        recent.extend(vec![true; 15]);
        assert_eq!(health(&recent), Health::Failing);
    }

    #[test]
    fn four_failures_in_a_row_fall_back_to_the_rate() {
        let mut recent = vec![false; 4];
        recent.extend(vec![true; 16]);
        assert_eq!(health(&recent), Health::Degraded);
    }

    #[test]
    fn a_streak_only_counts_from_the_newest_attempt() {
        let mut recent = vec![true];
        recent.extend(vec![false; 5]);
        recent.extend(vec![true; 14]);
        // 15 of 20: degraded by rate, not failing by streak.
        assert_eq!(health(&recent), Health::Degraded);
    }

    #[test]
    fn attempts_beyond_the_window_do_not_count() {
        let mut recent = vec![true; WINDOW];
        recent.extend(vec![false; 100]);
        assert_eq!(health(&recent), Health::Healthy);
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn an_endpoint_failing_for_five_days_is_disabled() {
        let start = Some(at("2026-01-01T00:00:00Z"));
        assert!(should_disable(
            start,
            at("2026-01-06T00:00:00Z"),
            DISABLE_AFTER
        ));
        assert!(should_disable(
            start,
            at("2026-02-01T00:00:00Z"),
            DISABLE_AFTER
        ));
    }

    #[test]
    fn an_endpoint_failing_for_just_under_five_days_is_kept() {
        let start = Some(at("2026-01-01T00:00:00Z"));
        assert!(!should_disable(
            start,
            at("2026-01-05T23:59:59Z"),
            DISABLE_AFTER
        ));
    }

    #[test]
    fn an_endpoint_whose_last_attempt_succeeded_is_never_disabled() {
        assert!(!should_disable(
            None,
            at("2026-01-06T00:00:00Z"),
            DISABLE_AFTER
        ));
    }

    #[test]
    fn a_clock_behind_the_streak_start_does_not_disable() {
        let start = Some(at("2026-01-10T00:00:00Z"));
        assert!(!should_disable(
            start,
            at("2026-01-01T00:00:00Z"),
            DISABLE_AFTER
        ));
    }

    #[test]
    fn the_period_is_the_callers_to_choose() {
        let start = Some(at("2026-01-01T00:00:00Z"));
        assert!(should_disable(
            start,
            at("2026-01-01T01:00:00Z"),
            TimeDelta::hours(1)
        ));
    }
}
