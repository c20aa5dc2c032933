//! What the email report and the export share: which slice of the mail, which range and
//! zone, which periods; and reading the counters for them.

use chrono::{DateTime, Utc};
use pm_auth::Ctx;
use pm_domain::{CampaignId, TenantId, WorkspaceId};
use pm_http::list::{bad_parameter, query_param};
use pm_http::{ApiError, Code, Request};
use pm_store::CachingClient;
use serde::Serialize;

use crate::figures::Counts;
use crate::store;
use crate::window::{parse_time_zone, Interval, Window};

/// The one slice of the mail a report may be narrowed to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    CampaignId(CampaignId),
    Tag(String),
    WorkspaceId(WorkspaceId),
    Sender(String),
}

impl Filter {
    const PARAMS: [&'static str; 4] = ["campaign_id", "tag", "workspace_id", "sender"];

    /// At most one of `campaign_id`, `tag`, `workspace_id` and `sender`: the counters
    /// are kept per slice, not per combination (a campaign has one sender and no tags).
    fn param(req: &Request) -> Result<Option<Filter>, ApiError> {
        let given: Vec<(&str, String)> = Self::PARAMS
            .iter()
            .filter_map(|name| query_param(req, name).map(|v| (*name, v)))
            .collect();
        let (name, value) = match given.as_slice() {
            [] => return Ok(None),
            [one] => one.clone(),
            _ => {
                return Err(bad_parameter(
                    Code::ConflictingFilters,
                    format!(
                        "use one of campaign_id, tag, workspace_id and sender at a time (got {})",
                        given.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
        };
        if value.is_empty() {
            return Err(bad_parameter(
                Code::InvalidParameter,
                format!("{name} must not be empty"),
            ));
        }
        let not_uuid = || {
            bad_parameter(
                Code::InvalidParameter,
                format!("{name} must be a UUID (got {value:?})"),
            )
        };
        Ok(Some(match name {
            "campaign_id" => Filter::CampaignId(value.parse().map_err(|_| not_uuid())?),
            "workspace_id" => Filter::WorkspaceId(value.parse().map_err(|_| not_uuid())?),
            "tag" => Filter::Tag(value),
            _ => Filter::Sender(value.to_lowercase()),
        }))
    }

    /// Its slice key in `email_stats` (as the counting trigger writes it).
    fn slice(&self) -> String {
        match self {
            Filter::CampaignId(id) => format!("campaign:{id}"),
            Filter::Tag(tag) => format!("tag:{tag}"),
            Filter::WorkspaceId(id) => format!("workspace:{id}"),
            Filter::Sender(address) => format!("sender:{address}"),
        }
    }
}

pub struct ReportRequest {
    pub filter: Option<Filter>,
    pub window: Window,
    pub interval: Option<Interval>,
}

impl ReportRequest {
    /// Reads the query string; the tenant's zone is looked up only when none is given.
    pub async fn parse(
        cx: &Ctx<'_>,
        client: &impl CachingClient,
        default_interval: Option<Interval>,
    ) -> Result<Self, ApiError> {
        let filter = Filter::param(&cx.req)?;
        let interval = Interval::param(&cx.req)?.or(default_interval);
        let time_zone = match query_param(&cx.req, "time_zone") {
            Some(raw) => parse_time_zone(&raw)?,
            None => {
                let stored = store::tenant_time_zone(client, cx.tenant_id()).await?;
                stored.parse().unwrap_or_else(|_| {
                    tracing::warn!(time_zone = %stored, "tenant time zone is not an IANA zone; using UTC");
                    chrono_tz::UTC
                })
            }
        };
        let window = Window::parse(&cx.req, time_zone, interval, Utc::now())?;
        Ok(Self {
            filter,
            window,
            interval,
        })
    }

    fn slice(&self) -> String {
        self.filter.as_ref().map(Filter::slice).unwrap_or_default()
    }
}

/// One period of a series.
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub counts: Counts,
}

/// The counters for the whole range, and per period when an interval was asked for.
pub async fn read(
    client: &impl CachingClient,
    tenant_id: TenantId,
    request: &ReportRequest,
) -> Result<(Counts, Option<Vec<Period>>), ApiError> {
    let slice = request.slice();
    let window = &request.window;
    let Some(interval) = request.interval else {
        let totals = store::total(client, tenant_id, &slice, window.from, window.to).await?;
        return Ok((totals, None));
    };
    let starts = window.periods(interval);
    let counts = store::series(client, tenant_id, &slice, &starts, window.to).await?;
    let mut totals = Counts::default();
    let periods = counts
        .into_iter()
        .enumerate()
        .map(|(i, counts)| {
            totals.add(&counts);
            Period {
                start: starts[i],
                end: starts.get(i + 1).copied().unwrap_or(window.to),
                counts,
            }
        })
        .collect();
    Ok((totals, Some(periods)))
}
