//! The workers' SQL: creating deliveries, claiming an attempt, recording it, and finding
//! deliveries whose message was lost or whose next attempt lies beyond SQS's delays.
//! PostgreSQL holds every delivery's state; queue messages only say "try now".

use std::time::Duration;

use chrono::{DateTime, Utc};
use pm_domain::{DeliveryId, DeliveryMessage, Event, EventId, EventType, TenantId, WebhookId};
use pm_store::{row, DbError};
use tokio_postgres::GenericClient;

use crate::attempt::{self, Attempted, Outgoing};
use crate::health;
use crate::model::{DeliveryStatus, WebhookState};
use crate::outbound::OutboundPolicy;
use crate::policy::RetryPolicy;
use crate::secrets::Secrets;

const TABLE: &str = "webhook_deliveries";

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Records one delivery for each enabled webhook of the event's tenant that wants it
/// (event type and filters), in one statement, and returns the new ones. A delivery
/// that exists already (a redelivered event) is not made again.
pub async fn create_for_event(
    client: &impl GenericClient,
    event: &Event,
    queued_for: Duration,
) -> Result<Vec<DeliveryId>, DbError> {
    let filters = event.filter_attributes();
    let rows = client
        .query(
            "INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event_type, queued_until) \
             SELECT $1, w.id, $2, $3, now() + make_interval(secs => $7) FROM webhooks w \
             WHERE w.tenant_id = $1 AND w.enabled \
               AND (w.event_types @> ARRAY[$3::text] OR w.event_types @> ARRAY['*']) \
               AND (cardinality(w.filter_workspace_ids) = 0 OR $4 = ANY (w.filter_workspace_ids)) \
               AND (cardinality(w.filter_campaign_ids) = 0 OR $5 = ANY (w.filter_campaign_ids)) \
               AND (cardinality(w.filter_tags) = 0 OR w.filter_tags && $6) \
             ON CONFLICT (event_id, webhook_id) DO NOTHING RETURNING id",
            &[
                &event.tenant_id,
                &event.id,
                &event.event_type,
                &filters.workspace_id,
                &filters.campaign_id,
                &filters.tags,
                &secs(queued_for),
            ],
        )
        .await?;
    rows.iter().map(|r| row::get(r, TABLE, "id")).collect()
}

/// An attempt this dispatcher owns until its lease ends, with what sending it needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery_id: DeliveryId,
    pub attempt: u32,
    /// The attempt number within the current retry schedule (1 for its first).
    pub attempt_in_round: u32,
    pub tenant_id: TenantId,
    pub webhook_id: WebhookId,
    pub url: String,
    pub enabled: bool,
    pub retry_policy: RetryPolicy,
    pub state: WebhookState,
    pub failing_since: Option<DateTime<Utc>>,
    pub event_id: EventId,
    pub event_type: EventType,
    pub occurred_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

impl Claimed {
    /// Sends this attempt: the event's body, under the delivery's id (the same on every
    /// retry and replay), signed with the webhook's current secrets.
    pub async fn send(
        &self,
        client: &reqwest::Client,
        outbound: OutboundPolicy,
        timeout: Duration,
        secrets: &Secrets,
    ) -> Attempted {
        let body = attempt::body(
            self.event_id,
            self.event_type.as_str(),
            self.occurred_at,
            &self.data,
        );
        let message_id = self.delivery_id.to_string();
        let signing = secrets.signing(Utc::now());
        let outgoing = Outgoing {
            url: &self.url,
            message_id: &message_id,
            body: &body,
            secrets: &signing,
        };
        attempt::send(client, outbound, timeout, &outgoing).await
    }
}

/// Claims attempt `message.attempt` of the delivery: only if it is that attempt's turn
/// (nothing recorded it yet, no other dispatcher holds a live lease on it) and the
/// delivery is not finished. `None`: a duplicate, stale or finished message, nothing to do.
pub async fn claim(
    client: &impl GenericClient,
    message: DeliveryMessage,
    lease: Duration,
) -> Result<Option<Claimed>, DbError> {
    let attempt = i32::try_from(message.attempt).unwrap_or(i32::MAX);
    let row = client
        .query_opt(
            "WITH claimed AS ( \
               UPDATE webhook_deliveries SET status = 'sending', attempts = attempts + 1, \
                 lease_until = now() + make_interval(secs => $3) \
               WHERE id = $1 AND attempts = $2 - 1 \
                 AND (status IN ('pending', 'retrying') \
                      OR (status = 'sending' AND lease_until < now())) \
               RETURNING id, attempts, round_start, tenant_id, webhook_id, event_id) \
             SELECT c.id, c.attempts, c.round_start, c.tenant_id, c.webhook_id, c.event_id, \
               w.url, w.enabled, w.retry_policy, w.state, w.failing_since, \
               e.event_type, e.occurred_at, e.payload \
             FROM claimed c JOIN webhooks w ON w.id = c.webhook_id \
             JOIN event_outbox e ON e.id = c.event_id",
            &[&message.delivery_id, &attempt, &secs(lease)],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    let attempts: i32 = row::get(&r, TABLE, "attempts")?;
    let round_start: i32 = row::get(&r, TABLE, "round_start")?;
    Ok(Some(Claimed {
        delivery_id: row::get(&r, TABLE, "id")?,
        attempt: attempts as u32,
        attempt_in_round: (attempts - round_start + 1).max(1) as u32,
        tenant_id: row::get(&r, TABLE, "tenant_id")?,
        webhook_id: row::get(&r, TABLE, "webhook_id")?,
        url: row::get(&r, "webhooks", "url")?,
        enabled: row::get(&r, "webhooks", "enabled")?,
        retry_policy: row::get(&r, "webhooks", "retry_policy")?,
        state: row::get(&r, "webhooks", "state")?,
        failing_since: row::get(&r, "webhooks", "failing_since")?,
        event_id: row::get(&r, TABLE, "event_id")?,
        event_type: row::get(&r, "event_outbox", "event_type")?,
        occurred_at: row::get(&r, "event_outbox", "occurred_at")?,
        data: row::get(&r, "event_outbox", "payload")?,
    }))
}

/// A claimed delivery whose webhook is disabled: failed without an attempt, replayable
/// (recover) once the webhook is enabled again.
pub async fn fail_disabled(client: &impl GenericClient, claimed: &Claimed) -> Result<(), DbError> {
    client
        .execute(
            "UPDATE webhook_deliveries SET status = 'failed', lease_until = NULL, \
             queued_until = NULL, last_error_kind = 'endpoint_disabled' \
             WHERE id = $1 AND status = 'sending' AND attempts = $2",
            &[&claimed.delivery_id, &(claimed.attempt as i32)],
        )
        .await?;
    Ok(())
}

/// Gives a claim back without an attempt having been made (the platform's own secrets
/// store failed before anything was sent): the attempt is not counted against the
/// endpoint's schedule, and the delivery is due again after `retry_in`. `queued_until`
/// is set just past that, so the requeue schedule re-sends it if the retry's message is
/// lost. Returns the message for the retry, or `None` when the claim was lost meanwhile.
pub async fn release(
    client: &impl GenericClient,
    claimed: &Claimed,
    retry_in: Duration,
) -> Result<Option<DeliveryMessage>, DbError> {
    let released = client
        .execute(
            "UPDATE webhook_deliveries SET status = 'retrying', attempts = attempts - 1, \
             lease_until = NULL, next_attempt_at = now() + make_interval(secs => $3), \
             queued_until = now() + make_interval(secs => $3 * 2) \
             WHERE id = $1 AND status = 'sending' AND attempts = $2",
            &[
                &claimed.delivery_id,
                &(claimed.attempt as i32),
                &secs(retry_in),
            ],
        )
        .await?;
    Ok((released == 1).then_some(DeliveryMessage {
        delivery_id: claimed.delivery_id,
        attempt: claimed.attempt,
    }))
}

/// What becomes of the delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    Succeeded,
    /// Retry at this time; `queued_until` is `None` when no message will carry it (a
    /// delay beyond SQS's limit: the requeue schedule sends it when it is due).
    Retry {
        at: DateTime<Utc>,
        queued_until: Option<DateTime<Utc>>,
    },
    Failed,
}

/// What recording changed about the webhook, for the log.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookChange {
    None,
    State(WebhookState),
    Disabled(String),
}

/// Records the attempt and the delivery's next state in one statement (so one round
/// trip, and both or neither), then updates the webhook's health where the attempt can
/// have changed it. If the lease was lost meanwhile (another dispatcher re-claimed the
/// delivery), the attempt is still logged but the delivery's state is left to the newer
/// claim.
pub async fn record(
    client: &impl GenericClient,
    claimed: &Claimed,
    attempted: &Attempted,
    next: Next,
    disable: Option<String>,
    disable_after: chrono::TimeDelta,
) -> Result<WebhookChange, DbError> {
    let attempt = claimed.attempt as i32;
    let status_code = attempted.status_code.map(i32::from);
    let (status, next_at, queued_until) = match next {
        Next::Succeeded => (DeliveryStatus::Succeeded, None, None),
        Next::Retry { at, queued_until } => (DeliveryStatus::Retrying, Some(at), queued_until),
        Next::Failed => (DeliveryStatus::Failed, None, None),
    };
    client
        .execute(
            "WITH logged AS ( \
               INSERT INTO webhook_attempts (delivery_id, attempt, webhook_id, started_at, \
                 response_ms, status_code, error_kind, response_excerpt, succeeded) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING) \
             UPDATE webhook_deliveries SET status = $10, lease_until = NULL, \
               next_attempt_at = $11, queued_until = $12, last_attempt_at = $4, \
               last_status_code = $6, last_error_kind = $7, \
               succeeded_at = CASE WHEN $10 = 'succeeded' THEN now() ELSE succeeded_at END \
             WHERE id = $1 AND attempts = $2 AND status = 'sending'",
            &[
                &claimed.delivery_id,
                &attempt,
                &claimed.webhook_id,
                &attempted.started_at,
                &attempted.response_ms,
                &status_code,
                &attempted.error_kind(),
                &attempted.excerpt.replace('\0', ""),
                &attempted.succeeded(),
                &status,
                &next_at,
                &queued_until,
            ],
        )
        .await?;
    update_health(client, claimed, attempted, disable, disable_after).await
}

async fn update_health(
    client: &impl GenericClient,
    claimed: &Claimed,
    attempted: &Attempted,
    disable: Option<String>,
    disable_after: chrono::TimeDelta,
) -> Result<WebhookChange, DbError> {
    // A success keeps a healthy webhook healthy: the common case reads and writes nothing.
    if attempted.succeeded()
        && disable.is_none()
        && claimed.state == WebhookState::Healthy
        && claimed.failing_since.is_none()
    {
        return Ok(WebhookChange::None);
    }
    let failing_since = if attempted.succeeded() {
        None
    } else {
        Some(claimed.failing_since.unwrap_or(attempted.started_at))
    };
    let disable = disable.or_else(|| {
        health::should_disable(failing_since, Utc::now(), disable_after).then(|| {
            format!(
                "every attempt has failed since {}",
                failing_since.map(|t| t.to_rfc3339()).unwrap_or_default()
            )
        })
    });
    if let Some(reason) = disable {
        client
            .execute(
                "UPDATE webhooks SET enabled = false, state = 'disabled', disabled_reason = $2, \
             disabled_at = now(), failing_since = $3, updated_at = clock_timestamp() \
             WHERE id = $1 AND enabled",
                &[&claimed.webhook_id, &reason, &failing_since],
            )
            .await?;
        return Ok(WebhookChange::Disabled(reason));
    }
    let recent: Vec<bool> = client
        .query(
            "SELECT succeeded FROM webhook_attempts WHERE webhook_id = $1 \
             ORDER BY started_at DESC LIMIT $2",
            &[&claimed.webhook_id, &(health::WINDOW as i64)],
        )
        .await?
        .iter()
        .map(|r| row::get(r, "webhook_attempts", "succeeded"))
        .collect::<Result<_, _>>()?;
    let state = WebhookState::from(health::health(&recent));
    // Most attempts change nothing: skip the write, so a busy webhook's row is not a
    // lock every dispatcher queues on.
    if state == claimed.state && failing_since.is_some() == claimed.failing_since.is_some() {
        return Ok(WebhookChange::None);
    }
    client
        .execute(
            "UPDATE webhooks SET state = $2, failing_since = $3 WHERE id = $1 AND enabled",
            &[&claimed.webhook_id, &state, &failing_since],
        )
        .await?;
    Ok(if state == claimed.state {
        WebhookChange::None
    } else {
        WebhookChange::State(state)
    })
}

/// Deliveries that need a message and have none believed in flight: due retries (those
/// beyond SQS's delays, and any whose message was lost), pending ones whose fan-out
/// message was lost, and attempts whose dispatcher died (lease over). Each is marked
/// queued for `queued_for` and returned as the message to send.
pub async fn take_due(
    client: &impl GenericClient,
    limit: i64,
    queued_for: Duration,
) -> Result<Vec<DeliveryMessage>, DbError> {
    let rows = client
        .query(
            "UPDATE webhook_deliveries SET queued_until = now() + make_interval(secs => $2) \
             WHERE id IN ( \
               SELECT id FROM webhook_deliveries \
               WHERE status IN ('pending', 'sending', 'retrying') \
                 AND (queued_until IS NULL OR queued_until < now()) \
                 AND (status <> 'retrying' OR next_attempt_at <= now()) \
                 AND (status <> 'sending' OR lease_until < now()) \
               ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, attempts",
            &[&limit, &secs(queued_for)],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let attempts: i32 = row::get(r, TABLE, "attempts")?;
            Ok(DeliveryMessage {
                delivery_id: row::get(r, TABLE, "id")?,
                attempt: attempts as u32 + 1,
            })
        })
        .collect()
}

/// A fresh retry schedule, due now: what the API's retry and recover set.
const REPLAY: &str = "UPDATE webhook_deliveries SET status = 'retrying', \
    round_start = attempts + 1, next_attempt_at = now(), \
    queued_until = now() + make_interval(secs => $2)";

fn replay_messages(rows: &[tokio_postgres::Row]) -> Result<Vec<DeliveryMessage>, DbError> {
    rows.iter()
        .map(|r| {
            let attempts: i32 = row::get(r, TABLE, "attempts")?;
            Ok(DeliveryMessage {
                delivery_id: row::get(r, TABLE, "id")?,
                attempt: attempts as u32 + 1,
            })
        })
        .collect()
}

/// Starts a new retry schedule for a finished or waiting delivery (the API's retry): the
/// next attempt is due now. `None` when the delivery is being sent right now (or is not
/// the tenant's).
pub async fn replay(
    client: &impl GenericClient,
    tenant_id: TenantId,
    delivery: DeliveryId,
    queued_for: Duration,
) -> Result<Option<DeliveryMessage>, DbError> {
    let rows = client
        .query(
            &format!(
                "{REPLAY} WHERE id = $1 AND tenant_id = $3 \
                 AND (status <> 'sending' OR lease_until < now()) RETURNING id, attempts"
            ),
            &[&delivery, &secs(queued_for), &tenant_id],
        )
        .await?;
    Ok(replay_messages(&rows)?.pop())
}

/// Starts a new retry schedule for every failed delivery of the webhook made since
/// `since` (the API's recover); the messages to send.
pub async fn recover(
    client: &impl GenericClient,
    tenant_id: TenantId,
    webhook_id: WebhookId,
    since: DateTime<Utc>,
    queued_for: Duration,
) -> Result<Vec<DeliveryMessage>, DbError> {
    let rows = client
        .query(
            &format!(
                "{REPLAY} WHERE webhook_id = $1 AND tenant_id = $3 AND status = 'failed' \
                 AND created_at >= $4 RETURNING id, attempts"
            ),
            &[&webhook_id, &secs(queued_for), &tenant_id, &since],
        )
        .await?;
    replay_messages(&rows)
}
