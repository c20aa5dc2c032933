//! The rate governor: one per connection (a CRM's limits are per app and account), so a
//! backfill of ten thousand contacts stays inside the provider's limit, leaves headroom
//! for a person waiting on the dashboard, honours a 429 and its `Retry-After`, and stops
//! background work before the daily cap rather than at it.
//!
//! It counts its own calls in a rolling window (HubSpot's limit is "110 per rolling
//! 10 s" for OAuth apps) and believes the provider when the provider says fewer remain
//! (another integration on the same account spends the same budget). The decisions take
//! the time as an argument, so tests drive them with a clock of their own.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::provider::RateLimit;

/// Who is waiting: the background sync, or a person (the dashboard's "test connection",
/// a property list for the mapping editor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Background,
    Interactive,
}

/// Why a call has to wait, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The rolling window is spent (for this class).
    Window(Duration),
    /// The provider said to slow down (a 429).
    Paused(Duration),
    /// The day's budget is down to the interactive reserve: background work stops.
    DailyCap,
}

/// What the provider's answer said about the budget (HubSpot:
/// `X-HubSpot-RateLimit-Remaining`, `-Interval-Milliseconds`, `-Daily-Remaining`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observed {
    pub remaining: Option<u32>,
    pub daily_remaining: Option<u32>,
}

struct State {
    /// When each call of the current window went out.
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
    daily_remaining: Option<u32>,
}

pub struct Governor {
    limit: RateLimit,
    /// Calls of each window only an interactive caller may use.
    headroom: u32,
    /// Calls of the day kept for interactive callers.
    daily_reserve: u32,
    state: Mutex<State>,
}

impl Governor {
    /// A tenth of each window, and a hundredth of the day, kept for interactive calls.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            headroom: (limit.requests / 10).max(1),
            daily_reserve: limit.daily.map_or(0, |d| (d / 100).max(1)),
            state: Mutex::new(State {
                sent: VecDeque::new(),
                paused_until: None,
                daily_remaining: None,
            }),
        }
    }

    fn allowed(&self, class: Class) -> u32 {
        match class {
            Class::Background => self.limit.requests - self.headroom,
            Class::Interactive => self.limit.requests,
        }
    }

    /// Takes one call's place in the budget at `now`, or says how long to wait.
    pub fn try_acquire(&self, now: Instant, class: Class) -> Result<(), Wait> {
        let mut state = self.state.lock().expect("governor lock");
        if let Some(until) = state.paused_until {
            if now < until {
                return Err(Wait::Paused(until - now));
            }
            state.paused_until = None;
        }
        if class == Class::Background
            && state
                .daily_remaining
                .is_some_and(|left| left <= self.daily_reserve)
        {
            return Err(Wait::DailyCap);
        }
        while state
            .sent
            .front()
            .is_some_and(|at| now.duration_since(*at) >= self.limit.per)
        {
            state.sent.pop_front();
        }
        if state.sent.len() as u32 >= self.allowed(class) {
            let oldest = *state.sent.front().expect("a full window has calls");
            return Err(Wait::Window(self.limit.per - now.duration_since(oldest)));
        }
        state.sent.push_back(now);
        if let Some(left) = state.daily_remaining.as_mut() {
            *left = left.saturating_sub(1);
        }
        Ok(())
    }

    /// Folds in what an answer said: if the provider counts fewer calls left than we
    /// do, the difference is spent now.
    pub fn observe(&self, now: Instant, observed: Observed) {
        let mut state = self.state.lock().expect("governor lock");
        if let Some(remaining) = observed.remaining {
            let ours = self.limit.requests.saturating_sub(state.sent.len() as u32);
            for _ in remaining..ours {
                state.sent.push_back(now);
            }
        }
        if observed.daily_remaining.is_some() {
            state.daily_remaining = observed.daily_remaining;
        }
    }

    /// A 429: nothing goes out for `retry_after` (or a whole window, when the provider
    /// did not say), plus `jitter` so that the connection's workers do not all return in
    /// the same instant.
    pub fn rate_limited(&self, now: Instant, retry_after: Option<Duration>, jitter: Duration) {
        let mut state = self.state.lock().expect("governor lock");
        let until = now + retry_after.unwrap_or(self.limit.per) + jitter;
        state.paused_until = Some(state.paused_until.map_or(until, |u| u.max(until)));
    }

    /// Waits for a place in the budget. `Err(Wait::DailyCap)` for background work when
    /// the day's budget is down to the reserve: the caller parks the work until tomorrow.
    pub async fn acquire(&self, class: Class) -> Result<(), Wait> {
        loop {
            match self.try_acquire(Instant::now(), class) {
                Ok(()) => return Ok(()),
                Err(Wait::DailyCap) => return Err(Wait::DailyCap),
                Err(Wait::Window(d) | Wait::Paused(d)) => {
                    tokio::time::sleep(d.max(Duration::from_millis(1))).await
                }
            }
        }
    }
}

/// A random extra wait of up to `max`, for [`Governor::rate_limited`].
pub fn jitter(max: Duration) -> Duration {
    let mut byte = [0u8; 2];
    getrandom::fill(&mut byte).expect("the OS random number generator works");
    max.mul_f64(f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUBSPOT: RateLimit = RateLimit {
        requests: 110,
        per: Duration::from_secs(10),
        daily: Some(250_000),
    };

    fn spend(g: &Governor, now: Instant, class: Class) -> u32 {
        let mut n = 0;
        while g.try_acquire(now, class).is_ok() {
            n += 1;
        }
        n
    }

    #[test]
    fn background_work_leaves_a_tenth_of_each_window_to_people() {
        let g = Governor::new(HUBSPOT);
        let t0 = Instant::now();
        assert_eq!(spend(&g, t0, Class::Background), 99);
        assert_eq!(
            g.try_acquire(t0, Class::Background),
            Err(Wait::Window(Duration::from_secs(10)))
        );
        assert_eq!(spend(&g, t0, Class::Interactive), 11);
        // The window rolls: 4 s later still full, at 10 s all free again.
        assert!(
            matches!(g.try_acquire(t0 + Duration::from_secs(4), Class::Interactive), Err(Wait::Window(d)) if d == Duration::from_secs(6))
        );
        assert_eq!(
            spend(&g, t0 + Duration::from_secs(10), Class::Background),
            99
        );
    }

    #[test]
    fn the_providers_count_of_what_remains_is_believed() {
        let g = Governor::new(HUBSPOT);
        let t0 = Instant::now();
        g.try_acquire(t0, Class::Background).unwrap();
        // Another app on the account spent most of the window.
        g.observe(
            t0,
            Observed {
                remaining: Some(20),
                daily_remaining: None,
            },
        );
        assert_eq!(spend(&g, t0, Class::Background), 9);
        assert_eq!(spend(&g, t0, Class::Interactive), 11);
    }

    #[test]
    fn a_429_pauses_everyone_for_retry_after_and_the_jitter() {
        let g = Governor::new(HUBSPOT);
        let t0 = Instant::now();
        g.rate_limited(t0, Some(Duration::from_secs(2)), Duration::from_millis(300));
        assert_eq!(
            g.try_acquire(t0, Class::Interactive),
            Err(Wait::Paused(Duration::from_millis(2300)))
        );
        assert_eq!(
            g.try_acquire(t0 + Duration::from_millis(2300), Class::Background),
            Ok(())
        );
        // Without Retry-After: a whole window.
        g.rate_limited(t0, None, Duration::ZERO);
        assert!(matches!(
            g.try_acquire(t0 + Duration::from_secs(9), Class::Background),
            Err(Wait::Paused(_))
        ));
    }

    #[test]
    fn background_work_stops_before_the_daily_cap_and_people_keep_the_reserve() {
        let g = Governor::new(HUBSPOT);
        let t0 = Instant::now();
        g.observe(
            t0,
            Observed {
                remaining: None,
                daily_remaining: Some(2_501),
            },
        );
        assert_eq!(g.try_acquire(t0, Class::Background), Ok(()));
        assert_eq!(g.try_acquire(t0, Class::Background), Err(Wait::DailyCap));
        assert_eq!(g.try_acquire(t0, Class::Interactive), Ok(()));
    }

    #[test]
    fn jitter_stays_within_its_bound() {
        for _ in 0..100 {
            assert!(jitter(Duration::from_millis(500)) <= Duration::from_millis(500));
        }
    }
}
