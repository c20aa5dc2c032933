//! `GET /api/v1/analytics/emails` (JSON) and `GET /api/v1/analytics/export` (CSV).

use std::fmt::Write;

use http::StatusCode;
use pm_auth::{ApiKeyAuth, Ctx};
use pm_http::list::{bad_parameter, query_param};
use pm_http::{json, ApiError, Body, Code, Request, Response};
use serde::Serialize;

use crate::figures::{Counts, Figures, Rates};
use crate::report::{self, Filter, ReportRequest};
use crate::window::Interval;
use crate::EMAILS;

#[derive(Serialize)]
struct Report {
    /// The range used, in the report's zone (`from` inclusive, `to` exclusive).
    from: String,
    to: String,
    time_zone: String,
    interval: Option<&'static str>,
    filter: Option<Filter>,
    totals: Figures,
    #[serde(skip_serializing_if = "Option::is_none")]
    series: Option<Vec<PeriodFigures>>,
}

#[derive(Serialize)]
struct PeriodFigures {
    start: String,
    end: String,
    #[serde(flatten)]
    figures: Figures,
}

/// `GET /api/v1/analytics/emails`
pub async fn emails(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &EMAILS, |cx: Ctx| async move {
        let client = cx.db().client().await?;
        let request = ReportRequest::parse(&cx, &client, None).await?;
        let (totals, periods) = report::read(&client, cx.tenant_id(), &request).await?;
        let window = &request.window;
        let report = Report {
            from: window.local(window.from),
            to: window.local(window.to),
            time_zone: window.time_zone.name().to_string(),
            interval: request.interval.map(Interval::as_str),
            filter: request.filter.clone(),
            totals: totals.into(),
            series: periods.map(|periods| {
                periods
                    .into_iter()
                    .map(|p| PeriodFigures {
                        start: window.local(p.start),
                        end: window.local(p.end),
                        figures: p.counts.into(),
                    })
                    .collect()
            }),
        };
        json(StatusCode::OK, &report)
    })
    .await
}

/// `GET /api/v1/analytics/export?format=csv`: one row per period (a day unless
/// `interval` says otherwise): its start and end in the report's zone, every counter
/// and every rate (empty where the rate is undefined).
pub async fn export(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &EMAILS, |cx: Ctx| async move {
        if let Some(format) = query_param(&cx.req, "format").filter(|f| f != "csv") {
            return Err(bad_parameter(
                Code::InvalidParameter,
                format!("format must be csv (got {format:?})"),
            ));
        }
        let client = cx.db().client().await?;
        let request = ReportRequest::parse(&cx, &client, Some(Interval::Day)).await?;
        let (_, periods) = report::read(&client, cx.tenant_id(), &request).await?;
        let window = &request.window;
        let mut csv = String::from("period_start,period_end");
        for column in Counts::COLUMNS.iter().chain(Rates::COLUMNS.iter()) {
            csv.push(',');
            csv.push_str(column);
        }
        csv.push('\n');
        for period in periods.unwrap_or_default() {
            csv_row(
                &mut csv,
                &window.local(period.start),
                &window.local(period.end),
                &period.counts,
            );
        }
        let filename = format!(
            "penguinmails-analytics-{}-{}.csv",
            window
                .from
                .with_timezone(&window.time_zone)
                .format("%Y%m%d"),
            // The last day the range includes (`to` is exclusive).
            (window.to - chrono::Duration::seconds(1))
                .with_timezone(&window.time_zone)
                .format("%Y%m%d"),
        );
        Response::builder()
            .status(StatusCode::OK)
            .header(http::header::CONTENT_TYPE, "text/csv; charset=utf-8")
            .header(
                http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            )
            .body(Body::Text(csv))
            .map_err(|_| ApiError::internal())
    })
    .await
}

fn csv_row(csv: &mut String, start: &str, end: &str, counts: &Counts) {
    // Times, integers and decimals only: nothing here needs quoting.
    let _ = write!(csv, "{start},{end}");
    for n in counts.values() {
        let _ = write!(csv, ",{n}");
    }
    for rate in counts.rates().values() {
        match rate {
            Some(rate) => {
                let _ = write!(csv, ",{rate}");
            }
            None => csv.push(','),
        }
    }
    csv.push('\n');
}
