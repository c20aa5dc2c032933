//! The campaign scheduler: on each tick (a schedule; once a minute in AWS) it sends
//! every active campaign's due steps to its audience.
//!
//! - The audience (contact ids and tags) becomes one `campaign_recipients` row per
//!   contact, with the next step and when it is due; contacts that join the audience
//!   later are added on a later tick.
//! - Sending happens only on the campaign's days and hours, in its time zone, and at
//!   most `daily_cap` emails per local day. Within a window the day's remaining budget
//!   is spread evenly over the remaining ticks instead of going out in one burst.
//! - Suppressed contacts are skipped (and marked so); a reply ends the sequence for its
//!   contact (tracking and provider events mark the row `replied`).
//! - Each email is unique per (campaign, step, contact) in the database, so a tick that
//!   runs twice, or overlaps another, sends nothing twice. Pausing holds the campaign's
//!   queued emails (the sender does not claim them) and stops new ones; resuming picks
//!   up from each contact's next step.
//! - When no contact has a step left and no email of the campaign is still waiting, the
//!   campaign is `completed` and `campaign.completed` goes to the outbox.
//!
//! The clock is a parameter, so tests drive days, hours and caps without waiting.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use pm_campaigns::{Campaign, Schedule, Sender, Step};
use pm_domain::{CampaignId, ContactId, EmailId, EventType, TenantId};
use pm_ports::queue::Queue;
use pm_store::{begin, commit, outbox, row, CachingClient, Db, DbError};
use pm_templates::{render_parts, TemplateParts};
use tokio_postgres::Row;

use crate::lookups;
use crate::model::{EmailEventType, Mailbox};
use crate::send::new_message_id;
use pm_email_delivery::providers;
use pm_email_delivery::store::{self, Entry, NewEmail};

/// Campaigns looked at per tick (the rest on the next).
const CAMPAIGNS_PER_TICK: i64 = 200;

pub struct CampaignScheduler {
    pub db: Db,
    pub queue: Arc<dyn Queue>,
    /// How often the scheduler runs: the budget of a window is spread over its ticks.
    pub tick: Duration,
}

/// What one tick did, for logs and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    pub campaigns: usize,
    pub queued: usize,
    pub suppressed: usize,
    pub completed: Vec<CampaignId>,
}

/// A campaign with its tenant, as the scheduler reads it.
struct Active {
    tenant_id: TenantId,
    campaign: Campaign,
}

/// A recipient whose next step is due.
struct Due {
    contact_id: ContactId,
    step: i32,
    email: String,
    status: String,
    variables: serde_json::Map<String, serde_json::Value>,
}

impl CampaignScheduler {
    pub fn new(db: Db, queue: Arc<dyn Queue>, tick: Duration) -> Self {
        Self { db, queue, tick }
    }

    pub async fn run(&self, now: DateTime<Utc>) -> Result<TickReport, DbError> {
        let ids: Vec<CampaignId> = {
            let client = self.db.client().await?;
            let rows = client
                .query(
                    "SELECT id FROM campaigns WHERE status = 'active' ORDER BY updated_at LIMIT $1",
                    &[&CAMPAIGNS_PER_TICK],
                )
                .await?;
            rows.iter()
                .map(|r| row::get(r, "campaigns", "id"))
                .collect::<Result<_, _>>()?
        };
        let mut report = TickReport {
            campaigns: ids.len(),
            ..TickReport::default()
        };
        for id in ids {
            match self.campaign(id, now, &mut report).await {
                Ok(queued) => {
                    for email_id in queued {
                        pm_email_delivery::queueing::enqueue(self.queue.as_ref(), email_id, None)
                            .await;
                    }
                }
                Err(e) if e.is_unavailable() => return Err(e),
                // One broken campaign does not hold back the others.
                Err(e) => tracing::error!(campaign_id = %id, error = %e, "campaign tick failed"),
            }
        }
        Ok(report)
    }

    /// One campaign's tick, in one transaction holding its row (a concurrent tick skips
    /// it; a pause waits for it). Returns the emails to put on the queue after commit.
    async fn campaign(
        &self,
        id: CampaignId,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> Result<Vec<EmailId>, DbError> {
        let mut client = self.db.client().await?;
        let tx = begin(&mut client).await?;
        let row = tx
            .query_opt(
                "SELECT tenant_id, id, name, status, sender, steps, audience, schedule, started_at, \
                 created_at, updated_at FROM campaigns WHERE id = $1 AND status = 'active' \
                 FOR UPDATE SKIP LOCKED",
                &[&id],
            )
            .await?;
        let Some(row) = row else {
            return Ok(Vec::new());
        };
        let active = active_of(&row)?;
        let Active {
            tenant_id,
            campaign,
        } = &active;
        let started = campaign.started_at.unwrap_or(now);
        let first_delay = campaign.steps.first().map(|s| s.delay_minutes).unwrap_or(0);
        tx.execute(
            "INSERT INTO campaign_recipients (campaign_id, contact_id, tenant_id, due_at) \
             SELECT $1, id, $2, $5 FROM contacts \
             WHERE tenant_id = $2 AND (id = ANY($3) OR tags && $4) \
             ON CONFLICT DO NOTHING",
            &[
                &campaign.id,
                tenant_id,
                &&*campaign.audience.contact_ids,
                &&*campaign.audience.tags,
                &(started + chrono::TimeDelta::minutes(i64::from(first_delay))),
            ],
        )
        .await?;
        let mut queued = Vec::new();
        if let Some(budget) = self.budget(&tx, campaign, now).await? {
            let provider = providers::load(&tx, *tenant_id).await?;
            let tracking = provider.as_ref().map(|p| p.tracking).unwrap_or(true);
            for due in due_recipients(&tx, campaign.id, now, budget).await? {
                if due.status != "subscribed" {
                    tx.execute(
                        "UPDATE campaign_recipients SET state = 'suppressed' WHERE campaign_id = $1 AND contact_id = $2",
                        &[&campaign.id, &due.contact_id],
                    )
                    .await?;
                    report.suppressed += 1;
                    continue;
                }
                if let Some(email_id) =
                    queue_step(&tx, *tenant_id, campaign, &due, tracking, now).await?
                {
                    queued.push(email_id);
                }
                advance(&tx, campaign, &due, now).await?;
            }
        }
        report.queued += queued.len();
        if is_finished(&tx, campaign.id).await? {
            let done = tx
                .query_one(
                    "UPDATE campaigns SET status = 'completed', completed_at = $2, \
                     updated_at = clock_timestamp() WHERE id = $1 RETURNING completed_at",
                    &[&campaign.id, &now],
                )
                .await?;
            let completed_at: DateTime<Utc> = row::get(&done, "campaigns", "completed_at")?;
            let mut data = serde_json::to_value(campaign).unwrap_or_default();
            data["status"] = serde_json::json!("completed");
            data["completed_at"] = serde_json::json!(completed_at);
            outbox::record(&tx, *tenant_id, EventType::CampaignCompleted, &data).await?;
            report.completed.push(campaign.id);
        }
        commit(tx).await?;
        Ok(queued)
    }

    /// How many emails this campaign may queue now: `None` outside its days and hours;
    /// else the day's remaining cap spread over the window's remaining ticks.
    async fn budget(
        &self,
        client: &impl CachingClient,
        campaign: &Campaign,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, DbError> {
        let Some(window) = window(&campaign.schedule, now) else {
            return Ok(None);
        };
        // Counted by when the scheduler queued them (its clock), so the cap holds
        // whatever the clock says.
        let row = client
            .query_one(
                "SELECT count(*) AS n FROM emails \
                 WHERE campaign_id = $1 AND campaign_step IS NOT NULL AND queued_at >= $2",
                &[&campaign.id, &window.day_start],
            )
            .await?;
        let queued_today: i64 = row::get(&row, "emails", "n")?;
        let left = i64::from(campaign.schedule.daily_cap) - queued_today;
        Ok(share(
            left,
            (window.end - now).num_seconds(),
            self.tick.as_secs(),
        ))
        .map(|n| (n > 0).then_some(n))
    }
}

/// Pure: this tick's share of what is left of the day's cap, spread evenly over the
/// ticks left in the window (at least one), so a campaign does not burst at the start.
pub fn share(left: i64, seconds_left: i64, tick_secs: u64) -> i64 {
    if left <= 0 {
        return 0;
    }
    let tick = i64::try_from(tick_secs.max(1)).unwrap_or(i64::MAX);
    let ticks_left = ((seconds_left.max(0) + tick - 1) / tick).max(1);
    (left + ticks_left - 1) / ticks_left
}

fn active_of(r: &Row) -> Result<Active, DbError> {
    const T: &str = "campaigns";
    Ok(Active {
        tenant_id: row::get(r, T, "tenant_id")?,
        campaign: Campaign {
            id: row::get(r, T, "id")?,
            name: row::get(r, T, "name")?,
            status: row::get(r, T, "status")?,
            sender: row::json::<Sender>(r, T, "sender")?,
            steps: row::json::<Vec<Step>>(r, T, "steps")?,
            audience: row::json(r, T, "audience")?,
            schedule: row::json::<Schedule>(r, T, "schedule")?,
            started_at: row::get(r, T, "started_at")?,
            created_at: row::get(r, T, "created_at")?,
            updated_at: row::get(r, T, "updated_at")?,
        },
    })
}

/// The sending window `now` falls in: the local day's start and the window's end (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub day_start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Pure: whether `now` is on one of the schedule's days, within its hours, in its time
/// zone. An unknown zone sends nothing (validation refuses one on save).
pub fn window(schedule: &Schedule, now: DateTime<Utc>) -> Option<Window> {
    let tz: Tz = schedule.time_zone.parse().ok()?;
    let local = now.with_timezone(&tz);
    let day = local.weekday().to_string().to_lowercase();
    if !schedule.days.iter().any(|d| d.eq_ignore_ascii_case(&day)) {
        return None;
    }
    let hour = local.hour();
    if hour < u32::from(schedule.start_hour) || hour >= u32::from(schedule.end_hour) {
        return None;
    }
    let date = local.date_naive();
    let at = |h: u32| {
        let time = NaiveTime::from_hms_opt(h.min(23), 0, 0)?;
        let naive = date.and_time(time) + chrono::TimeDelta::hours(i64::from(h.saturating_sub(23)));
        tz.from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    Some(Window {
        day_start: at(0)?,
        end: at(u32::from(schedule.end_hour))?,
    })
}

async fn due_recipients(
    client: &impl CachingClient,
    campaign_id: CampaignId,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Due>, DbError> {
    let rows = client
        .query(
            "SELECT r.contact_id, r.next_step, c.email, c.status, c.first_name, c.last_name, \
             c.company, c.custom_fields \
             FROM campaign_recipients r JOIN contacts c ON c.id = r.contact_id \
             WHERE r.campaign_id = $1 AND r.state = 'active' AND r.due_at <= $2 \
             ORDER BY r.due_at, r.contact_id LIMIT $3 FOR UPDATE OF r SKIP LOCKED",
            &[&campaign_id, &now, &limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            const T: &str = "campaign_recipients";
            let email: String = row::get(r, T, "email")?;
            let mut variables = serde_json::Map::new();
            for column in ["first_name", "last_name", "company"] {
                let value: Option<String> = row::get(r, T, column)?;
                variables.insert(
                    column.to_string(),
                    serde_json::json!(value.unwrap_or_default()),
                );
            }
            variables.insert("email".into(), serde_json::json!(email));
            let custom: serde_json::Value = row::get(r, T, "custom_fields")?;
            variables.insert("custom_fields".into(), custom);
            Ok(Due {
                contact_id: row::get(r, T, "contact_id")?,
                step: row::get(r, T, "next_step")?,
                email,
                status: row::get(r, T, "status")?,
                variables,
            })
        })
        .collect()
}

/// The step's subject and bodies for this contact (a template rendered with the
/// contact's fields, or the inline parts rendered the same way).
async fn content(
    client: &impl CachingClient,
    tenant_id: TenantId,
    step: &Step,
    due: &Due,
) -> Result<Result<TemplateParts, String>, DbError> {
    let parts = match step.template_id {
        Some(id) => match lookups::template_parts(client, tenant_id, id).await? {
            Some(parts) => parts,
            None => return Ok(Err(format!("template {id} no longer exists"))),
        },
        None => TemplateParts {
            subject: step.subject.clone().unwrap_or_default(),
            html: step.html.clone(),
            text: step.text.clone(),
        },
    };
    let variables = due.variables.clone();
    let rendered = tokio::task::spawn_blocking(move || render_parts(&parts, &variables))
        .await
        .map_err(|e| DbError::Unavailable(format!("render task: {e}")))?;
    Ok(rendered
        .map(|r| TemplateParts {
            subject: r.subject.trim().to_string(),
            html: r.html,
            text: r.text,
        })
        .map_err(|e| format!("render: {}", e.detail)))
}

/// Stores the contact's next step as a queued email (or, when it cannot be rendered,
/// as a failed one, visibly). `None` when that step went to the contact already.
async fn queue_step(
    tx: &pm_store::PooledTransaction<'_>,
    tenant_id: TenantId,
    campaign: &Campaign,
    due: &Due,
    tracking: bool,
    now: DateTime<Utc>,
) -> Result<Option<EmailId>, DbError> {
    let Some(step) = usize::try_from(due.step)
        .ok()
        .and_then(|i| campaign.steps.get(i))
    else {
        return Ok(None);
    };
    let rendered = content(tx, tenant_id, step, due).await?;
    let (subject, html, text, failure) = match rendered {
        Ok(parts)
            if parts
                .subject
                .chars()
                .any(pm_http::fields::is_forbidden_char) =>
        {
            (
                parts.subject.replace(['\r', '\n'], " "),
                parts.html,
                parts.text,
                Some("render: subject has line breaks".to_string()),
            )
        }
        Ok(parts) => (parts.subject, parts.html, parts.text, None),
        Err(reason) => (
            format!("(step {} of {})", due.step + 1, campaign.name),
            None,
            Some(String::new()),
            Some(reason),
        ),
    };
    let new = NewEmail {
        tenant_id,
        message_id: new_message_id(&campaign.sender.from_email),
        api_key_id: None,
        idempotency_key: None,
        from: Mailbox {
            email: campaign.sender.from_email.clone(),
            name: Some(campaign.sender.from_name.clone()),
        },
        to: due.email.clone(),
        contact_id: Some(due.contact_id),
        cc: Vec::new(),
        bcc: Vec::new(),
        reply_to: campaign.sender.reply_to.clone(),
        subject,
        html,
        text,
        headers: serde_json::json!({}),
        tags: Vec::new(),
        metadata: serde_json::json!({}),
        template_id: step.template_id,
        campaign_id: Some(campaign.id),
        campaign_step: Some(due.step),
        tracking,
        scheduled_at: None,
    };
    let Some(email) = store::insert(tx, &new, Some(now)).await? else {
        return Ok(None);
    };
    if let Some(reason) = failure {
        tx.execute(
            "UPDATE emails SET status = 'failed', last_error = $2 WHERE id = $1",
            &[&email.id, &reason],
        )
        .await?;
        store::record_event(
            tx,
            tenant_id,
            email.id,
            EmailEventType::Failed,
            Entry::from("campaign")
                .dedupe("failed")
                .data(serde_json::json!({"reason": reason})),
        )
        .await?;
        outbox::record(
            tx,
            tenant_id,
            EventType::EmailFailed,
            &email.event_data(serde_json::json!({"failed_at": Utc::now(), "reason": reason})),
        )
        .await?;
        tracing::warn!(campaign_id = %campaign.id, contact_id = %due.contact_id, %reason, "campaign step could not be rendered");
        return Ok(None);
    }
    Ok(Some(email.id))
}

/// Moves the contact to its next step, due after that step's delay; past the last step
/// the contact is done.
async fn advance(
    client: &impl CachingClient,
    campaign: &Campaign,
    due: &Due,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let next = due.step + 1;
    let next_step = usize::try_from(next)
        .ok()
        .and_then(|i| campaign.steps.get(i));
    let (state, due_at) = match next_step {
        Some(step) => (
            "active",
            now + chrono::TimeDelta::minutes(i64::from(step.delay_minutes)),
        ),
        None => ("done", now),
    };
    client
        .execute(
            "UPDATE campaign_recipients SET next_step = $3, due_at = $4, state = $5, last_sent_at = $6 \
             WHERE campaign_id = $1 AND contact_id = $2",
            &[&campaign.id, &due.contact_id, &next, &due_at, &state, &now],
        )
        .await?;
    Ok(())
}

/// Every contact is past its last step (or stopped), and no email of the campaign waits.
async fn is_finished(
    client: &impl CachingClient,
    campaign_id: CampaignId,
) -> Result<bool, DbError> {
    let row = client
        .query_one(
            "SELECT NOT EXISTS (SELECT 1 FROM campaign_recipients WHERE campaign_id = $1 AND state = 'active') \
             AND NOT EXISTS (SELECT 1 FROM emails WHERE campaign_id = $1 AND campaign_step IS NOT NULL \
                             AND status IN ('queued', 'sending')) AS finished",
            &[&campaign_id],
        )
        .await?;
    row::get(&row, "campaigns", "finished")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(days: &[&str], start: u8, end: u8, tz: &str) -> Schedule {
        Schedule {
            days: pm_http::bounded::Bounded::new(days.iter().map(|d| d.to_string()).collect())
                .unwrap(),
            start_hour: start,
            end_hour: end,
            time_zone: tz.into(),
            daily_cap: 10,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_window_is_the_schedules_days_and_hours_in_its_zone() {
        let s = schedule(&["mon", "tue"], 9, 17, "Europe/Berlin");
        // Monday 2026-11-30 08:30 UTC is 09:30 in Berlin.
        let w = window(&s, at("2026-11-30T08:30:00Z")).unwrap();
        assert_eq!(w.end, at("2026-11-30T16:00:00Z"));
        assert_eq!(w.day_start, at("2026-11-29T23:00:00Z"));
        assert!(
            window(&s, at("2026-11-30T07:59:00Z")).is_none(),
            "08:59 Berlin"
        );
        assert!(
            window(&s, at("2026-11-30T16:00:00Z")).is_none(),
            "17:00 Berlin"
        );
        assert!(
            window(&s, at("2026-12-02T10:00:00Z")).is_none(),
            "a Wednesday"
        );
        assert!(window(
            &schedule(&["mon"], 9, 17, "Mars/Olympus"),
            at("2026-11-30T10:00:00Z")
        )
        .is_none());
    }

    #[test]
    fn the_days_budget_is_spread_over_the_windows_ticks() {
        // 100 left, 8 hours left, a tick a minute: 480 ticks, one email each at most.
        assert_eq!(share(100, 8 * 3600, 60), 1);
        // 600 left over 480 ticks: two per tick (rounded up so the day's cap is reached).
        assert_eq!(share(600, 8 * 3600, 60), 2);
        // The last tick of the window takes what is left.
        assert_eq!(share(7, 30, 60), 7);
        assert_eq!(share(0, 3600, 60), 0);
        assert_eq!(share(-3, 3600, 60), 0);
    }

    #[test]
    fn a_window_to_midnight_ends_at_the_next_day() {
        let s = schedule(&["mon"], 0, 24, "UTC");
        let w = window(&s, at("2026-11-30T23:30:00Z")).unwrap();
        assert_eq!(w.end, at("2026-12-01T00:00:00Z"));
    }
}
