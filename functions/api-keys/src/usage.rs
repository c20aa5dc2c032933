use chrono::{DateTime, Datelike, DurationRound, TimeDelta, Utc};
use http::StatusCode;
use pm_auth::dashboard::SessionAuth;
use pm_auth::store::RESOURCE;
use pm_auth::store::{self, Granularity, UsagePoint};
use pm_domain::ApiKeyId;
use pm_http::list::{bad_parameter, query_param, timestamp_param};
use pm_http::{json, ApiError, Body, Code, Request, Response};
use pm_store::Db;
use serde::Serialize;

#[derive(Serialize)]
struct Usage {
    key_id: ApiKeyId,
    granularity: &'static str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    data: Vec<UsagePoint>,
}

struct Window {
    granularity: Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

fn step(granularity: Granularity) -> TimeDelta {
    match granularity {
        Granularity::Minute => TimeDelta::minutes(1),
        Granularity::Hour => TimeDelta::hours(1),
        Granularity::Day => TimeDelta::days(1),
    }
}

/// `granularity` (minute | hour | day, default hour), `from` and `to` (RFC 3339; default:
/// the last hour by minute, the last 24 hours by hour, the last 30 days by day). At most
/// 1440 points.
fn window(req: &Request, now: DateTime<Utc>) -> Result<Window, ApiError> {
    let granularity = match query_param(req, "granularity").as_deref() {
        None | Some("hour") => Granularity::Hour,
        Some("minute") => Granularity::Minute,
        Some("day") => Granularity::Day,
        Some(other) => {
            return Err(bad_parameter(
                Code::InvalidParameter,
                format!("granularity must be minute, hour or day (got {other:?})"),
            ))
        }
    };
    let step = step(granularity);
    let to = timestamp_param(req, "to")?.unwrap_or(now);
    let default_span = match granularity {
        Granularity::Minute => TimeDelta::hours(1),
        Granularity::Hour => TimeDelta::hours(24),
        Granularity::Day => TimeDelta::days(30),
    };
    let from = timestamp_param(req, "from")?.unwrap_or(to - default_span);
    let out_of_range = || {
        bad_parameter(
            Code::InvalidParameter,
            "from and to must fall in the years 1970 to 2199",
        )
    };
    if [from, to]
        .iter()
        .any(|t| !(1970..=2199).contains(&t.year()))
    {
        return Err(out_of_range());
    }
    // Whole buckets: from rounds down, to rounds up (a partial bucket is included).
    let from = from.duration_trunc(step).map_err(|_| out_of_range())?;
    let to_floor = to.duration_trunc(step).map_err(|_| out_of_range())?;
    let to = if to_floor == to { to } else { to_floor + step };
    if from >= to {
        return Err(bad_parameter(Code::InvalidRange, "from must be before to"));
    }
    let points = (to - from).num_seconds() / step.num_seconds();
    if points > 1440 {
        return Err(bad_parameter(
            Code::RangeTooLong,
            format!(
                "the window holds {points} {}s; at most 1440 fit in one response",
                granularity.as_str()
            ),
        ));
    }
    Ok(Window {
        granularity,
        from,
        to,
    })
}

/// `GET /api/v1/platform/api-keys/{id}/usage`: requests and errors per minute or hour,
/// zero-filled, for the dashboard's charts.
pub async fn usage(
    req: Request,
    sessions: &SessionAuth,
    db: &Db,
) -> Result<Response<Body>, ApiError> {
    let session = sessions.authenticate(&req).await?;
    let id: ApiKeyId = RESOURCE.path_id(&req)?;
    let window = window(&req, Utc::now())?;
    let client = db.client().await?;
    if store::get(&**client, session.tenant_id, id)
        .await?
        .is_none()
    {
        return Err(RESOURCE.not_found(id));
    }
    let data =
        store::usage_series(&**client, id, window.granularity, window.from, window.to).await?;
    json(
        StatusCode::OK,
        &Usage {
            key_id: id,
            granularity: window.granularity.as_str(),
            from: window.from,
            to: window.to,
            data,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_http::testing::with_query as req;

    fn now() -> DateTime<Utc> {
        "2026-11-27T10:30:15Z".parse().unwrap()
    }

    #[test]
    fn defaults_are_a_day_by_hour() {
        let w = window(&req(&[]), now()).unwrap();
        assert_eq!(w.granularity, Granularity::Hour);
        assert_eq!(
            w.to,
            "2026-11-27T11:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            w.from,
            "2026-11-26T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn minute_windows_round_outwards() {
        let w = window(&req(&[("granularity", "minute")]), now()).unwrap();
        assert_eq!((w.to - w.from).num_minutes(), 61);
    }

    #[test]
    fn day_windows_are_thirty_utc_days_by_default() {
        let w = window(&req(&[("granularity", "day")]), now()).unwrap();
        assert_eq!(w.granularity, Granularity::Day);
        assert_eq!(
            (w.from, w.to),
            (
                "2026-10-28T00:00:00Z".parse::<DateTime<Utc>>().unwrap(),
                "2026-11-28T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
            )
        );
    }

    #[test]
    fn bad_windows_are_400_with_their_code() {
        for (pairs, code) in [
            (vec![("granularity", "week")], "invalid_parameter"),
            (vec![("from", "yesterday")], "invalid_parameter"),
            (vec![("from", "1969-12-31T23:00:00Z")], "invalid_parameter"),
            (
                vec![
                    ("from", "2026-11-27T10:00:00Z"),
                    ("to", "2026-11-27T09:00:00Z"),
                ],
                "invalid_range",
            ),
            (
                vec![("granularity", "minute"), ("from", "2026-11-20T00:00:00Z")],
                "range_too_long",
            ),
        ] {
            let e = window(&req(&pairs), now()).err().unwrap();
            assert_eq!((e.status.as_u16(), e.code), (400, code), "{pairs:?}");
        }
    }
}
