//! The event outbox. A domain change records its event with [`record`] inside its own
//! transaction, so the event exists if and only if the change committed.

use pm_domain::{Event, EventId, EventType, TenantId};
use tokio_postgres::{GenericClient, Row, Transaction};

use crate::{row, DbError};

const TABLE: &str = "event_outbox";

/// Writes an event in the caller's transaction. Taking a `Transaction` (not any client)
/// makes "outside a transaction" a compile error.
pub async fn record(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    event_type: EventType,
    data: &serde_json::Value,
) -> Result<Event, DbError> {
    let trace_header = pm_domain::trace::current();
    let row = tx
        .query_one(
            "INSERT INTO event_outbox (tenant_id, event_type, payload, trace_header) \
             VALUES ($1, $2, $3, $4) RETURNING id, occurred_at",
            &[&tenant_id, &event_type, data, &trace_header],
        )
        .await?;
    Ok(Event {
        id: row::get(&row, TABLE, "id")?,
        tenant_id,
        event_type,
        occurred_at: row::get(&row, TABLE, "occurred_at")?,
        data: data.clone(),
        trace_header,
    })
}

fn event_of(row: &Row) -> Result<Event, DbError> {
    Ok(Event {
        id: row::get(row, TABLE, "id")?,
        tenant_id: row::get(row, TABLE, "tenant_id")?,
        event_type: row::get(row, TABLE, "event_type")?,
        occurred_at: row::get(row, TABLE, "occurred_at")?,
        data: row::get(row, TABLE, "payload")?,
        trace_header: row::get(row, TABLE, "trace_header")?,
    })
}

/// Unpublished events in the order they were recorded, locked so that concurrent relays take disjoint
/// batches. Call inside a transaction and mark them published in the same one.
/// How long the oldest event still waiting to be published has waited (none waiting:
/// `None`). Events set aside as unpublishable are not waiting. The partial index on
/// unpublished events keeps this to the few rows that are.
pub async fn oldest_unpublished_age(
    client: &impl GenericClient,
) -> Result<Option<std::time::Duration>, DbError> {
    let row = client
        .query_one(
            "SELECT EXTRACT(EPOCH FROM now() - min(occurred_at))::float8 AS age \
             FROM event_outbox WHERE published_at IS NULL AND publish_failed_at IS NULL",
            &[],
        )
        .await?;
    let age: Option<f64> = row::get(&row, "event_outbox", "age")?;
    Ok(age.map(|secs| std::time::Duration::from_secs_f64(secs.max(0.0))))
}

pub async fn claim_unpublished(tx: &Transaction<'_>, limit: i64) -> Result<Vec<Event>, DbError> {
    let rows = tx
        .query(
            "SELECT id, tenant_id, event_type, payload, occurred_at, trace_header FROM event_outbox \
             WHERE published_at IS NULL AND publish_failed_at IS NULL \
             ORDER BY position LIMIT $1 \
             FOR UPDATE SKIP LOCKED",
            &[&limit],
        )
        .await?;
    rows.iter().map(event_of).collect()
}

pub async fn mark_published(client: &impl GenericClient, ids: &[EventId]) -> Result<u64, DbError> {
    Ok(client
        .execute(
            "UPDATE event_outbox SET published_at = now() WHERE id = ANY($1)",
            &[&ids],
        )
        .await?)
}

/// How often the relay tries an event the queue refuses before setting it aside.
pub const MAX_PUBLISH_ATTEMPTS: i32 = 5;

/// Records a failed publication of one event. After [`MAX_PUBLISH_ATTEMPTS`], or at once
/// when `permanent` (it can never fit the queue), the event is set aside
/// (`publish_failed_at`) so it no longer holds back the events behind it; its error
/// stays on the row for an operator.
pub async fn mark_unpublishable(
    client: &impl GenericClient,
    id: EventId,
    error: &str,
    permanent: bool,
) -> Result<(), DbError> {
    client
        .execute(
            "UPDATE event_outbox SET publish_attempts = publish_attempts + 1, publish_error = $2, \
             publish_failed_at = CASE WHEN $3 OR publish_attempts + 1 >= $4 THEN now() END \
             WHERE id = $1",
            &[&id, &error, &permanent, &MAX_PUBLISH_ATTEMPTS],
        )
        .await?;
    Ok(())
}
