//! The queries behind the reports. Email figures read `email_stats` (counters kept by a
//! trigger as events are recorded: see `V10__analytics.sql`); one contact's figures read
//! its own events, which are few.

use chrono::{DateTime, Utc};
use pm_domain::paging::ListRequest;
use pm_domain::{CampaignId, ContactId, TenantId};
use pm_email_delivery::model::EmailEventType;
use pm_store::select::Select;
use pm_store::{row, CachingClient, DbError};
use serde::Serialize;

use crate::figures::Counts;
use crate::window::Cover;

pub async fn tenant_time_zone(
    client: &impl CachingClient,
    tenant_id: TenantId,
) -> Result<String, DbError> {
    let row = client
        .query_one("SELECT time_zone FROM tenants WHERE id = $1", &[&tenant_id])
        .await?;
    row::get(&row, "tenants", "time_zone")
}

/// Rows of one slice within a [`Cover`] (`$3` days, `$4` hours, `$5` quarter-hours).
const COVERED: &str = "tenant_id = $1 AND slice = $2 AND ((grain = 'd' AND bucket = ANY($3)) \
     OR (grain = 'h' AND bucket = ANY($4)) OR (grain = 'q' AND bucket = ANY($5)))";

/// The counters of one slice over `[from, to)`.
pub async fn total(
    client: &impl CachingClient,
    tenant_id: TenantId,
    slice: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Counts, DbError> {
    let cover = Cover::of(from, to);
    let sql = format!("SELECT {} FROM email_stats WHERE {COVERED}", Counts::sums());
    let row = client
        .query_one(
            &sql,
            &[
                &tenant_id,
                &slice,
                &cover.days,
                &cover.hours,
                &cover.quarters,
            ],
        )
        .await?;
    Ok(Counts::from_row(&row, 0)?)
}

/// The counters of one slice per period: `starts` are the periods' starts (ascending),
/// the last period ends at `to`. Periods without mail are zeros. Each period is covered
/// by its own rows, so every row falls in exactly one period.
pub async fn series(
    client: &impl CachingClient,
    tenant_id: TenantId,
    slice: &str,
    starts: &[DateTime<Utc>],
    to: DateTime<Utc>,
) -> Result<Vec<Counts>, DbError> {
    let mut cover = Cover::default();
    for (i, start) in starts.iter().enumerate() {
        cover.add(*start, starts.get(i + 1).copied().unwrap_or(to));
    }
    let sql = format!(
        "SELECT width_bucket(bucket, $6::timestamptz[]) AS period, {} FROM email_stats \
         WHERE {COVERED} GROUP BY period",
        Counts::sums()
    );
    let rows = client
        .query(
            &sql,
            &[
                &tenant_id,
                &slice,
                &cover.days,
                &cover.hours,
                &cover.quarters,
                &starts,
            ],
        )
        .await?;
    let mut periods = vec![Counts::default(); starts.len()];
    for row in rows {
        let period: i32 = row::get(&row, "email_stats", "period")?;
        if let Some(counts) = usize::try_from(period - 1)
            .ok()
            .and_then(|i| periods.get_mut(i))
        {
            *counts = Counts::from_row(&row, 1)?;
        }
    }
    Ok(periods)
}

pub struct Campaign {
    pub name: String,
    pub status: String,
    pub steps: i32,
}

pub async fn campaign(
    client: &impl CachingClient,
    tenant_id: TenantId,
    id: CampaignId,
) -> Result<Option<Campaign>, DbError> {
    let row = client
        .query_opt(
            "SELECT name, status, jsonb_array_length(steps) AS steps FROM campaigns \
             WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &id],
        )
        .await?;
    row.map(|r| {
        Ok(Campaign {
            name: row::get(&r, "campaigns", "name")?,
            status: row::get(&r, "campaigns", "status")?,
            steps: row::get(&r, "campaigns", "steps")?,
        })
    })
    .transpose()
}

/// A slice's counters over all time (its day rows).
pub async fn lifetime(
    client: &impl CachingClient,
    tenant_id: TenantId,
    slice: &str,
) -> Result<Counts, DbError> {
    let sql = format!(
        "SELECT {} FROM email_stats WHERE tenant_id = $1 AND slice = $2 AND grain = 'd'",
        Counts::sums()
    );
    let row = client.query_one(&sql, &[&tenant_id, &slice]).await?;
    Ok(Counts::from_row(&row, 0)?)
}

/// A campaign's counters per step over all time: its `step:<id>:<n>` slices, read as one
/// index range (the column sorts bytewise).
pub async fn steps(
    client: &impl CachingClient,
    tenant_id: TenantId,
    id: CampaignId,
) -> Result<Vec<(i32, Counts)>, DbError> {
    let sql = format!(
        "SELECT split_part(slice, ':', 3)::int AS step, {} FROM email_stats \
         WHERE tenant_id = $1 AND slice >= $2 AND slice < $3 AND grain = 'd' \
         GROUP BY step ORDER BY step",
        Counts::sums()
    );
    let low = format!("step:{id}:");
    // ';' is the byte after ':'.
    let high = format!("step:{id};");
    let rows = client.query(&sql, &[&tenant_id, &low, &high]).await?;
    rows.iter()
        .map(|r| Ok((row::get(r, "email_stats", "step")?, Counts::from_row(r, 1)?)))
        .collect()
}

/// Where a campaign's audience stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Audience {
    /// Contacts the campaign has taken on.
    pub total: i64,
    /// Those at least one step has gone to.
    pub contacted: i64,
    /// Those with steps still to go.
    pub remaining: i64,
    /// Those that had every step.
    pub completed: i64,
    /// Those that replied (which ends their sequence).
    pub replied: i64,
    /// Those that unsubscribed, bounced or complained on the way.
    pub suppressed: i64,
}

pub async fn audience(
    client: &impl CachingClient,
    tenant_id: TenantId,
    id: CampaignId,
) -> Result<Audience, DbError> {
    let row = client
        .query_one(
            "SELECT count(*) AS total, \
             count(*) FILTER (WHERE last_sent_at IS NOT NULL) AS contacted, \
             count(*) FILTER (WHERE state = 'active') AS remaining, \
             count(*) FILTER (WHERE state = 'done') AS completed, \
             count(*) FILTER (WHERE state = 'replied') AS replied, \
             count(*) FILTER (WHERE state = 'suppressed') AS suppressed \
             FROM campaign_recipients WHERE tenant_id = $1 AND campaign_id = $2",
            &[&tenant_id, &id],
        )
        .await?;
    const T: &str = "campaign_recipients";
    Ok(Audience {
        total: row::get(&row, T, "total")?,
        contacted: row::get(&row, T, "contacted")?,
        remaining: row::get(&row, T, "remaining")?,
        completed: row::get(&row, T, "completed")?,
        replied: row::get(&row, T, "replied")?,
        suppressed: row::get(&row, T, "suppressed")?,
    })
}

pub struct Contact {
    pub email: String,
    pub status: String,
}

pub async fn contact(
    client: &impl CachingClient,
    tenant_id: TenantId,
    id: ContactId,
) -> Result<Option<Contact>, DbError> {
    let row = client
        .query_opt(
            "SELECT email, status FROM contacts WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &id],
        )
        .await?;
    row.map(|r| {
        Ok(Contact {
            email: row::get(&r, "contacts", "email")?,
            status: row::get(&r, "contacts", "status")?,
        })
    })
    .transpose()
}

/// One kind of event in a contact's history (automated hits left out).
pub struct Activity {
    pub event_type: EmailEventType,
    pub count: i64,
    pub last: DateTime<Utc>,
    /// Σ 0.5^(age in days / 30) over those of the last 180 days: the kind's recency-
    /// weighted count, for the engagement score.
    pub recency: f64,
}

pub async fn activity(
    client: &impl CachingClient,
    tenant_id: TenantId,
    id: ContactId,
) -> Result<Vec<Activity>, DbError> {
    let rows = client
        .query(
            "SELECT ev.type, count(*) AS n, max(ev.occurred_at) AS last, \
             coalesce(sum(power(0.5, greatest(extract(epoch FROM now() - ev.occurred_at), 0) \
                 / 2592000.0)) FILTER (WHERE ev.occurred_at > now() - interval '180 days'), 0) \
                 ::float8 AS recency \
             FROM email_events ev JOIN emails e ON e.id = ev.email_id \
             WHERE e.tenant_id = $1 AND e.contact_id = $2 AND ev.automated IS NULL \
             GROUP BY ev.type",
            &[&tenant_id, &id],
        )
        .await?;
    const T: &str = "email_events";
    rows.iter()
        .map(|r| {
            Ok(Activity {
                event_type: row::get(r, T, "type")?,
                count: row::get(r, T, "n")?,
                last: row::get(r, T, "last")?,
                recency: row::get(r, T, "recency")?,
            })
        })
        .collect()
}

/// One entry of a contact's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub id: uuid::Uuid,
    #[serde(rename = "type")]
    pub event_type: EmailEventType,
    pub occurred_at: DateTime<Utc>,
    pub email_id: uuid::Uuid,
    pub subject: String,
    pub campaign_id: Option<uuid::Uuid>,
    pub campaign_step: Option<i32>,
    pub source: String,
    pub automated: Option<String>,
    pub data: serde_json::Value,
}

/// A page of the contact's events, newest first.
pub async fn timeline(
    client: &impl tokio_postgres::GenericClient,
    tenant_id: TenantId,
    id: ContactId,
    list: &ListRequest,
) -> Result<Vec<TimelineEntry>, DbError> {
    let rows = Select::new(
        // The email's tenant and contact: the filter then runs on emails_by_contact.
        "SELECT * FROM (SELECT ev.id, e.tenant_id, ev.type, ev.occurred_at, ev.email_id, \
         e.subject, e.campaign_id, e.campaign_step, e.contact_id, ev.source, ev.automated, \
         ev.data FROM email_events ev JOIN emails e ON e.id = ev.email_id) t",
        tenant_id,
    )
    .and("contact_id = ?", vec![Box::new(id)])
    .page(list)
    .fetch(client)
    .await?;
    const T: &str = "email_events";
    rows.iter()
        .map(|r| {
            Ok(TimelineEntry {
                id: row::get(r, T, "id")?,
                event_type: row::get(r, T, "type")?,
                occurred_at: row::get(r, T, "occurred_at")?,
                email_id: row::get(r, T, "email_id")?,
                subject: row::get(r, T, "subject")?,
                campaign_id: row::get(r, T, "campaign_id")?,
                campaign_step: row::get(r, T, "campaign_step")?,
                source: row::get(r, T, "source")?,
                automated: row::get(r, T, "automated")?,
                data: row::get(r, T, "data")?,
            })
        })
        .collect()
}
