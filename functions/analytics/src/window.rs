//! The stretch of time a report covers, the zone it is read in, and its periods.
//!
//! - `from` and `to` are dates (`2026-11-01`, read in the report's zone: `from` is the
//!   start of that day, `to` the end of it) or RFC 3339 times (`to` exclusive). Times are
//!   widened to whole quarter-hours (the grain the counters keep); the response says the
//!   range used. Default: the 30 days ending now (today and the 29 days before it).
//! - `time_zone`: an IANA name; default the tenant's.
//! - `interval=hour|day|week`: periods that start on the zone's own hour, midnight or
//!   Monday midnight, so a day across a daylight-saving change is 23 or 25 hours long and
//!   the repeated hour appears twice (with its two offsets).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use pm_http::list::{bad_parameter, query_param};
use pm_http::{ApiError, Code, Request};

/// The counters' grain, in seconds.
const QUARTER_HOUR: i64 = 900;
/// The longest range, in days (a leap year).
pub const MAX_RANGE_DAYS: i64 = 366;
/// The longest range of an hourly series, in days.
pub const MAX_HOURLY_RANGE_DAYS: i64 = 31;
/// The default range, in days.
pub const DEFAULT_RANGE_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Hour,
    Day,
    Week,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Hour => "hour",
            Interval::Day => "day",
            Interval::Week => "week",
        }
    }

    /// `interval`, or 400 `invalid_parameter`.
    pub fn param(req: &Request) -> Result<Option<Interval>, ApiError> {
        query_param(req, "interval")
            .map(|raw| match raw.as_str() {
                "hour" => Ok(Interval::Hour),
                "day" => Ok(Interval::Day),
                "week" => Ok(Interval::Week),
                _ => Err(bad_parameter(
                    Code::InvalidParameter,
                    format!("interval must be hour, day or week (got {raw:?})"),
                )),
            })
            .transpose()
    }

    /// Which period a local time falls in: a change of it marks a period's start.
    /// An hour includes its offset: the hour a fall-back change repeats is two periods.
    fn period(self, t: DateTime<Tz>) -> (i32, u32, u32, i32) {
        match self {
            Interval::Hour => (
                t.year(),
                t.ordinal(),
                t.hour(),
                t.offset().fix().local_minus_utc(),
            ),
            Interval::Day => (t.year(), t.ordinal(), 0, 0),
            Interval::Week => (t.iso_week().year(), t.iso_week().week(), 0, 0),
        }
    }
}

/// `time_zone` as an IANA zone, or 400 `invalid_time_zone`.
pub fn parse_time_zone(raw: &str) -> Result<Tz, ApiError> {
    raw.parse::<Tz>().map_err(|_| {
        bad_parameter(
            Code::InvalidTimeZone,
            format!("time_zone must be an IANA time zone such as Europe/Berlin (got {raw:?})"),
        )
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub time_zone: Tz,
}

/// How a range bound was given.
enum Bound {
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

fn bound(req: &Request, name: &str) -> Result<Option<Bound>, ApiError> {
    let Some(raw) = query_param(req, name) else {
        return Ok(None);
    };
    if let Ok(date) = NaiveDate::parse_from_str(&raw, "%Y-%m-%d") {
        return Ok(Some(Bound::Date(date)));
    }
    DateTime::parse_from_rfc3339(&raw)
        .map(|t| Some(Bound::Time(t.with_timezone(&Utc))))
        .map_err(|_| {
            bad_parameter(
                Code::InvalidParameter,
                format!(
                    "{name} must be a date such as 2026-11-01 or an RFC 3339 time such as \
                     2026-11-01T00:00:00Z (got {raw:?})"
                ),
            )
        })
}

fn floor_quarter(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp().div_euclid(QUARTER_HOUR) * QUARTER_HOUR;
    DateTime::from_timestamp(secs, 0).unwrap_or(t)
}

fn ceil_quarter(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = floor_quarter(t);
    if floor == t {
        t
    } else {
        floor + Duration::seconds(QUARTER_HOUR)
    }
}

/// The first instant of `date` in `tz`: midnight, or (where a change skips midnight) the
/// first quarter-hour after it that exists.
pub fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    (0..=16)
        .find_map(|q| {
            tz.from_local_datetime(&(midnight + Duration::minutes(15 * q)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        // No zone skips four hours; fall back to the naive reading rather than fail.
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

impl Window {
    /// `from` and `to` from the query string, read in `time_zone`.
    pub fn parse(
        req: &Request,
        time_zone: Tz,
        interval: Option<Interval>,
        now: DateTime<Utc>,
    ) -> Result<Window, ApiError> {
        let from = match bound(req, "from")? {
            Some(Bound::Date(d)) => start_of_day(time_zone, d),
            Some(Bound::Time(t)) => floor_quarter(t),
            None => {
                let today = now.with_timezone(&time_zone).date_naive();
                start_of_day(time_zone, today - Duration::days(DEFAULT_RANGE_DAYS - 1))
            }
        };
        let (to, to_is_date) = match bound(req, "to")? {
            Some(Bound::Date(d)) => (start_of_day(time_zone, d + Duration::days(1)), true),
            Some(Bound::Time(t)) => (ceil_quarter(t), false),
            None => (ceil_quarter(now), false),
        };
        // A date `to` is the end of that day, so `to` = `from` means it is the day before.
        if from > to || (to_is_date && from == to) {
            return Err(bad_parameter(
                Code::InvalidRange,
                format!("from ({from}) is after to ({to})"),
            ));
        }
        let max_days = match interval {
            Some(Interval::Hour) => MAX_HOURLY_RANGE_DAYS,
            _ => MAX_RANGE_DAYS,
        };
        // An hour of slack: a range of whole local days can span a daylight-saving change.
        if to - from > Duration::days(max_days) + Duration::hours(1) {
            let what = if interval == Some(Interval::Hour) {
                "an hourly series"
            } else {
                "a report"
            };
            return Err(bad_parameter(
                Code::RangeTooLong,
                format!("{what} covers at most {max_days} days; narrow from and to"),
            ));
        }
        Ok(Window {
            from,
            to,
            time_zone,
        })
    }

    /// Where each period starts: `from`, then every local hour, midnight or Monday
    /// midnight before `to`. Each period ends where the next starts (the last at `to`).
    pub fn periods(&self, interval: Interval) -> Vec<DateTime<Utc>> {
        let step = Duration::seconds(QUARTER_HOUR);
        let mut starts = vec![self.from];
        let mut t = floor_quarter(self.from) + step;
        let mut previous = interval.period((t - step).with_timezone(&self.time_zone));
        while t < self.to {
            let current = interval.period(t.with_timezone(&self.time_zone));
            if current != previous && t > self.from {
                starts.push(t);
            }
            previous = current;
            t += step;
        }
        starts
    }

    /// `t` as an RFC 3339 time in the report's zone.
    pub fn local(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.time_zone)
            .fixed_offset()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

/// The counter rows that exactly cover some ranges of quarter-hours: whole UTC days as
/// day rows, whole hours as hour rows, the rest as quarter-hour rows (`email_stats`
/// keeps all three grains). A 30-day range is about 30 rows instead of 2,880.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Cover {
    pub days: Vec<DateTime<Utc>>,
    pub hours: Vec<DateTime<Utc>>,
    pub quarters: Vec<DateTime<Utc>>,
}

impl Cover {
    /// Adds `[from, to)`; both are quarter-hours (as a `Window`'s are).
    pub fn add(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) {
        let aligned = |t: DateTime<Utc>, secs: i64| t.timestamp().rem_euclid(secs) == 0;
        let mut t = from;
        while t < to {
            let (list, step) = if aligned(t, 86_400) && t + Duration::days(1) <= to {
                (&mut self.days, Duration::days(1))
            } else if aligned(t, 3_600) && t + Duration::hours(1) <= to {
                (&mut self.hours, Duration::hours(1))
            } else {
                (&mut self.quarters, Duration::seconds(QUARTER_HOUR))
            };
            list.push(t);
            t += step;
        }
    }

    pub fn of(from: DateTime<Utc>, to: DateTime<Utc>) -> Cover {
        let mut cover = Cover::default();
        cover.add(from, to);
        cover
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_http::testing::with_query;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn window(
        pairs: &[(&str, &str)],
        tz: &str,
        interval: Option<Interval>,
    ) -> Result<Window, ApiError> {
        Window::parse(
            &with_query(pairs),
            tz.parse().unwrap(),
            interval,
            at("2026-11-28T10:07:00Z"),
        )
    }

    #[test]
    fn dates_are_whole_local_days_and_times_are_widened_to_quarter_hours() {
        let w = window(
            &[("from", "2026-11-01"), ("to", "2026-11-02")],
            "Europe/Berlin",
            None,
        )
        .unwrap();
        assert_eq!(w.from, at("2026-10-31T23:00:00Z"));
        assert_eq!(w.to, at("2026-11-02T23:00:00Z"));
        let w = window(
            &[
                ("from", "2026-11-01T10:07:00Z"),
                ("to", "2026-11-01T11:01:00Z"),
            ],
            "UTC",
            None,
        )
        .unwrap();
        assert_eq!(w.from, at("2026-11-01T10:00:00Z"));
        assert_eq!(w.to, at("2026-11-01T11:15:00Z"));
    }

    #[test]
    fn the_default_is_today_and_the_29_days_before() {
        let w = window(&[], "America/New_York", None).unwrap();
        assert_eq!(w.from, at("2026-10-30T04:00:00Z"));
        assert_eq!(w.to, at("2026-11-28T10:15:00Z"));
    }

    #[test]
    fn bad_ranges_have_their_own_codes() {
        let code =
            |pairs: &[(&str, &str)], interval| window(pairs, "UTC", interval).unwrap_err().code;
        assert_eq!(
            code(&[("from", "2026-11-02"), ("to", "2026-11-01")], None),
            "invalid_range"
        );
        assert_eq!(
            code(&[("from", "2025-01-01"), ("to", "2026-11-01")], None),
            "range_too_long"
        );
        assert_eq!(
            code(
                &[("from", "2026-09-01"), ("to", "2026-11-01")],
                Some(Interval::Hour)
            ),
            "range_too_long"
        );
        assert_eq!(code(&[("from", "yesterday")], None), "invalid_parameter");
        assert!(window(&[("from", "2025-11-01"), ("to", "2026-10-31")], "UTC", None).is_ok());
        assert_eq!(
            parse_time_zone("Mars/Olympus").unwrap_err().code,
            "invalid_time_zone"
        );
    }

    #[test]
    fn a_fall_back_day_has_25_hourly_periods_and_a_spring_forward_day_23() {
        let w = window(
            &[("from", "2026-11-01"), ("to", "2026-11-01")],
            "America/New_York",
            None,
        )
        .unwrap();
        let hours = w.periods(Interval::Hour);
        assert_eq!(hours.len(), 25);
        assert_eq!(w.local(hours[1]), "2026-11-01T01:00:00-04:00");
        assert_eq!(w.local(hours[2]), "2026-11-01T01:00:00-05:00");
        let w = window(
            &[("from", "2026-03-08"), ("to", "2026-03-08")],
            "America/New_York",
            None,
        )
        .unwrap();
        assert_eq!(w.periods(Interval::Hour).len(), 23);
        assert_eq!(w.periods(Interval::Day).len(), 1);
    }

    #[test]
    fn a_cover_uses_the_largest_rows_that_fit() {
        let c = Cover::of(at("2026-11-01T22:30:00Z"), at("2026-11-04T01:15:00Z"));
        assert_eq!(
            c.days,
            [at("2026-11-02T00:00:00Z"), at("2026-11-03T00:00:00Z")]
        );
        assert_eq!(
            c.hours,
            [at("2026-11-01T23:00:00Z"), at("2026-11-04T00:00:00Z")]
        );
        assert_eq!(
            c.quarters,
            [
                at("2026-11-01T22:30:00Z"),
                at("2026-11-01T22:45:00Z"),
                at("2026-11-04T01:00:00Z")
            ]
        );
        // A New York day: no whole UTC day fits, 24 hours do.
        let ny = Cover::of(at("2026-11-10T05:00:00Z"), at("2026-11-11T05:00:00Z"));
        assert_eq!(
            (ny.days.len(), ny.hours.len(), ny.quarters.len()),
            (0, 24, 0)
        );
        assert_eq!(
            Cover::of(at("2026-11-10T05:00:00Z"), at("2026-11-10T05:00:00Z")),
            Cover::default()
        );
    }

    #[test]
    fn days_and_weeks_start_at_local_midnight() {
        let w = window(
            &[("from", "2026-10-24"), ("to", "2026-11-08")],
            "Asia/Kolkata",
            None,
        )
        .unwrap();
        let days = w.periods(Interval::Day);
        assert_eq!(days.len(), 16);
        assert_eq!(days[1], at("2026-10-24T18:30:00Z"));
        let weeks = w.periods(Interval::Week);
        // Sat 24th (part of a week), then Mondays 26 Oct and 2 Nov.
        assert_eq!(weeks.len(), 3);
        assert_eq!(w.local(weeks[1]), "2026-10-26T00:00:00+05:30");
    }
}
