//! The API's SQL. Every query is scoped by the caller's tenant: another tenant's
//! webhook or delivery is indistinguishable from a missing one.

use chrono::{DateTime, Utc};
use pm_domain::paging::ListRequest;
use pm_domain::{DeliveryId, EventType, TenantId, WebhookId};
use pm_store::select::Select;
use pm_store::{row, DbError, Transaction};
use pm_webhook_delivery::model::{DeliveryStatus, WebhookState};
use tokio_postgres::{GenericClient, Row};

use crate::model::{Attempt, Delivery, Filters, Stats, StatsWindow, ValidWebhook, Webhook};

const WEBHOOKS: &str = "webhooks";
const DELIVERIES: &str = "webhook_deliveries";

const COLUMNS: &str = "id, url, description, event_types, filter_workspace_ids, \
    filter_campaign_ids, filter_tags, enabled, retry_policy, state, disabled_reason, \
    disabled_at, created_at, updated_at";

fn webhook_of(r: &Row) -> Result<Webhook, DbError> {
    Ok(Webhook {
        id: row::get(r, WEBHOOKS, "id")?,
        url: row::get(r, WEBHOOKS, "url")?,
        description: row::get(r, WEBHOOKS, "description")?,
        event_types: row::get(r, WEBHOOKS, "event_types")?,
        filters: Filters {
            workspace_ids: row::get(r, WEBHOOKS, "filter_workspace_ids")?,
            campaign_ids: row::get(r, WEBHOOKS, "filter_campaign_ids")?,
            tags: row::get(r, WEBHOOKS, "filter_tags")?,
        },
        enabled: row::get(r, WEBHOOKS, "enabled")?,
        retry_policy: row::get(r, WEBHOOKS, "retry_policy")?,
        state: row::get(r, WEBHOOKS, "state")?,
        disabled_reason: row::get(r, WEBHOOKS, "disabled_reason")?,
        disabled_at: row::get(r, WEBHOOKS, "disabled_at")?,
        created_at: row::get(r, WEBHOOKS, "created_at")?,
        updated_at: row::get(r, WEBHOOKS, "updated_at")?,
    })
}

pub async fn insert(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    w: &ValidWebhook,
) -> Result<Webhook, DbError> {
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO webhooks (tenant_id, url, description, event_types, \
                 filter_workspace_ids, filter_campaign_ids, filter_tags, enabled, retry_policy, \
                 state, disabled_reason, disabled_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                   CASE WHEN $8 THEN 'healthy' ELSE 'disabled' END, \
                   CASE WHEN $8 THEN NULL ELSE 'created disabled' END, \
                   CASE WHEN $8 THEN NULL ELSE now() END) \
                 RETURNING {COLUMNS}"
            ),
            &[
                &tenant_id,
                &w.url,
                &w.description,
                &w.event_types,
                &w.filters.workspace_ids,
                &w.filters.campaign_ids,
                &w.filters.tags,
                &w.enabled,
                &w.retry_policy,
            ],
        )
        .await?;
    webhook_of(&row)
}

pub async fn get(
    client: &impl GenericClient,
    tenant_id: TenantId,
    id: WebhookId,
) -> Result<Option<Webhook>, DbError> {
    client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &id],
        )
        .await?
        .as_ref()
        .map(webhook_of)
        .transpose()
}

/// Replaces every writable field. Disabling records why; enabling a disabled webhook
/// starts it afresh (healthy, no failure streak).
pub async fn update(
    client: &impl GenericClient,
    tenant_id: TenantId,
    id: WebhookId,
    w: &ValidWebhook,
) -> Result<Option<Webhook>, DbError> {
    client
        .query_opt(
            &format!(
                "UPDATE webhooks SET url = $3, description = $4, event_types = $5, \
                 filter_workspace_ids = $6, filter_campaign_ids = $7, filter_tags = $8, \
                 retry_policy = $10, \
                 state = CASE WHEN NOT $9 THEN 'disabled' WHEN NOT enabled THEN 'healthy' ELSE state END, \
                 disabled_reason = CASE WHEN NOT $9 THEN COALESCE(disabled_reason, 'disabled by an update') END, \
                 disabled_at = CASE WHEN NOT $9 THEN COALESCE(disabled_at, now()) END, \
                 failing_since = CASE WHEN $9 AND NOT enabled THEN NULL ELSE failing_since END, \
                 enabled = $9, updated_at = clock_timestamp() \
                 WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
            ),
            &[
                &tenant_id,
                &id,
                &w.url,
                &w.description,
                &w.event_types,
                &w.filters.workspace_ids,
                &w.filters.campaign_ids,
                &w.filters.tags,
                &w.enabled,
                &w.retry_policy,
            ],
        )
        .await?
        .as_ref()
        .map(webhook_of)
        .transpose()
}

pub async fn delete(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    id: WebhookId,
) -> Result<bool, DbError> {
    Ok(tx
        .execute(
            "DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &id],
        )
        .await?
        == 1)
}

#[derive(Debug, Default)]
pub struct WebhookFilters {
    pub enabled: Option<bool>,
    pub state: Option<WebhookState>,
    pub event_type: Option<EventType>,
}

pub async fn list(
    client: &impl GenericClient,
    tenant_id: TenantId,
    filters: WebhookFilters,
    list: &ListRequest,
) -> Result<Vec<Webhook>, DbError> {
    let mut select = Select::new(&format!("SELECT {COLUMNS} FROM webhooks"), tenant_id);
    if let Some(enabled) = filters.enabled {
        select = select.and("enabled = ?", vec![Box::new(enabled)]);
    }
    if let Some(state) = filters.state {
        select = select.and("state = ?", vec![Box::new(state)]);
    }
    if let Some(t) = filters.event_type {
        select = select.and(
            "(event_types @> ARRAY[?::text] OR event_types @> ARRAY['*'])",
            vec![Box::new(t)],
        );
    }
    let rows = select.page(list).fetch(client).await?;
    rows.iter().map(webhook_of).collect()
}

/// The latest attempt's response time, for the log's column: the attempts' primary key
/// (delivery_id, attempt) finds it with one index step.
const LAST_RESPONSE_MS: &str = "(SELECT a.response_ms FROM webhook_attempts a \
    WHERE a.delivery_id = webhook_deliveries.id ORDER BY a.attempt DESC LIMIT 1) \
    AS last_response_ms";

const DELIVERY_COLUMNS: &str = "id, event_id, event_type, status, attempts, next_attempt_at, \
    last_attempt_at, succeeded_at, last_status_code, last_error_kind, created_at";

fn delivery_of(r: &Row) -> Result<Delivery, DbError> {
    Ok(Delivery {
        id: row::get(r, DELIVERIES, "id")?,
        event_id: row::get(r, DELIVERIES, "event_id")?,
        event_type: row::get(r, DELIVERIES, "event_type")?,
        status: row::get(r, DELIVERIES, "status")?,
        attempts: row::get(r, DELIVERIES, "attempts")?,
        next_attempt_at: row::get(r, DELIVERIES, "next_attempt_at")?,
        last_attempt_at: row::get(r, DELIVERIES, "last_attempt_at")?,
        succeeded_at: row::get(r, DELIVERIES, "succeeded_at")?,
        last_status_code: row::get(r, DELIVERIES, "last_status_code")?,
        last_error_kind: row::get(r, DELIVERIES, "last_error_kind")?,
        last_response_ms: row::get(r, DELIVERIES, "last_response_ms")?,
        created_at: row::get(r, DELIVERIES, "created_at")?,
    })
}

/// A test send's sample event and its one delivery, to this webhook only, in one
/// statement. The event is written published (the relay never fans it out) and marked
/// `test` (left out of the event listing); the delivery waits `queued_for` before the
/// requeue schedule would take it as lost, time enough for the caller to claim it.
pub async fn record_test_event(
    client: &impl GenericClient,
    tenant_id: TenantId,
    webhook_id: WebhookId,
    event_type: EventType,
    data: &serde_json::Value,
    queued_for: std::time::Duration,
) -> Result<DeliveryId, DbError> {
    let row = client
        .query_one(
            "WITH event AS ( \
               INSERT INTO event_outbox (tenant_id, event_type, payload, published_at, test) \
               VALUES ($1, $3, $4, now(), true) RETURNING id) \
             INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event_type, \
               queued_until) \
             SELECT $1, $2, event.id, $3, now() + make_interval(secs => $5) FROM event \
             RETURNING id",
            &[
                &tenant_id,
                &webhook_id,
                &event_type,
                data,
                &queued_for.as_secs_f64(),
            ],
        )
        .await?;
    row::get(&row, DELIVERIES, "id")
}

#[derive(Debug, Default)]
pub struct DeliveryFilters {
    pub status: Option<DeliveryStatus>,
    pub event_type: Option<EventType>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
}

pub async fn deliveries(
    client: &impl GenericClient,
    tenant_id: TenantId,
    webhook_id: WebhookId,
    filters: DeliveryFilters,
    list: &ListRequest,
) -> Result<Vec<Delivery>, DbError> {
    let mut select = Select::new(
        &format!("SELECT {DELIVERY_COLUMNS}, {LAST_RESPONSE_MS} FROM webhook_deliveries"),
        tenant_id,
    )
    .and("webhook_id = ?", vec![Box::new(webhook_id)]);
    if let Some(status) = filters.status {
        select = select.and("status = ?", vec![Box::new(status)]);
    }
    if let Some(t) = filters.event_type {
        select = select.and("event_type = ?", vec![Box::new(t)]);
    }
    if let Some(after) = filters.created_after {
        select = select.and("created_at > ?", vec![Box::new(after)]);
    }
    if let Some(before) = filters.created_before {
        select = select.and("created_at < ?", vec![Box::new(before)]);
    }
    let rows = select.page(list).fetch(client).await?;
    rows.iter().map(delivery_of).collect()
}

/// One delivery of the webhook with the body as sent.
pub async fn delivery(
    client: &impl GenericClient,
    tenant_id: TenantId,
    webhook_id: WebhookId,
    id: DeliveryId,
) -> Result<Option<(Delivery, serde_json::Value)>, DbError> {
    let row = client
        .query_opt(
            "SELECT d.id, d.event_id, d.event_type, d.status, d.attempts, d.next_attempt_at, \
             d.last_attempt_at, d.succeeded_at, d.last_status_code, d.last_error_kind, \
             d.created_at, jsonb_build_object('id', e.id, 'type', e.event_type, \
               'created_at', e.occurred_at, 'data', e.payload) AS body, \
             (SELECT a.response_ms FROM webhook_attempts a WHERE a.delivery_id = d.id \
              ORDER BY a.attempt DESC LIMIT 1) AS last_response_ms \
             FROM webhook_deliveries d JOIN event_outbox e ON e.id = d.event_id \
             WHERE d.tenant_id = $1 AND d.webhook_id = $2 AND d.id = $3",
            &[&tenant_id, &webhook_id, &id],
        )
        .await?;
    row.map(|r| Ok((delivery_of(&r)?, row::get(&r, DELIVERIES, "body")?)))
        .transpose()
}

pub async fn attempts(
    client: &impl GenericClient,
    delivery_id: DeliveryId,
) -> Result<Vec<Attempt>, DbError> {
    const T: &str = "webhook_attempts";
    client
        .query(
            "SELECT attempt, started_at, status_code, response_ms, error_kind, \
             response_excerpt, succeeded FROM webhook_attempts WHERE delivery_id = $1 \
             ORDER BY attempt",
            &[&delivery_id],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Attempt {
                attempt: row::get(r, T, "attempt")?,
                started_at: row::get(r, T, "started_at")?,
                status_code: row::get(r, T, "status_code")?,
                response_ms: row::get(r, T, "response_ms")?,
                error_kind: row::get(r, T, "error_kind")?,
                response_excerpt: row::get(r, T, "response_excerpt")?,
                succeeded: row::get(r, T, "succeeded")?,
            })
        })
        .collect()
}

pub async fn stats(
    client: &impl GenericClient,
    webhook: &Webhook,
    window: StatsWindow,
) -> Result<Stats, DbError> {
    const T: &str = "webhook_attempts";
    let r = client
        .query_one(
            "SELECT count(*) AS attempts, count(*) FILTER (WHERE succeeded) AS succeeded, \
             avg(response_ms)::float8 AS avg_ms, \
             (percentile_cont(0.95) WITHIN GROUP (ORDER BY response_ms))::float8 AS p95_ms, \
             (SELECT count(*) FROM webhook_attempts a WHERE a.webhook_id = $1 AND a.started_at > \
               COALESCE((SELECT max(started_at) FROM webhook_attempts s \
                         WHERE s.webhook_id = $1 AND s.succeeded), '-infinity')) AS streak \
             FROM webhook_attempts WHERE webhook_id = $1 \
               AND started_at >= now() - make_interval(secs => $2)",
            &[&webhook.id, &window.seconds()],
        )
        .await?;
    let attempts: i64 = row::get(&r, T, "attempts")?;
    let succeeded: i64 = row::get(&r, T, "succeeded")?;
    let rate = |n: i64| (attempts > 0).then(|| n as f64 / attempts as f64);
    Ok(Stats {
        window,
        attempts,
        succeeded,
        failed: attempts - succeeded,
        success_rate: rate(succeeded),
        error_rate: rate(attempts - succeeded),
        avg_response_ms: row::get(&r, T, "avg_ms")?,
        p95_response_ms: row::get(&r, T, "p95_ms")?,
        consecutive_failures: row::get(&r, T, "streak")?,
        state: webhook.state,
    })
}
