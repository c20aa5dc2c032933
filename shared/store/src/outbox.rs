//! The event outbox. A domain change records its event with [`record`] inside its own
//! transaction, so the event exists if and only if the change committed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::{GenericClient, Transaction};
use uuid::Uuid;

use crate::DbError;

/// An event as it travels from the outbox to the events queue and on to webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// Writes an event in the caller's transaction. Taking a `Transaction` (not any client)
/// makes "outside a transaction" a compile error.
pub async fn record(
    tx: &Transaction<'_>,
    tenant_id: Uuid,
    event_type: &str,
    data: &serde_json::Value,
) -> Result<Event, DbError> {
    let row = tx
        .query_one(
            "INSERT INTO event_outbox (tenant_id, event_type, payload) VALUES ($1, $2, $3) \
             RETURNING id, occurred_at",
            &[&tenant_id, &event_type, data],
        )
        .await?;
    Ok(Event {
        id: row.get("id"),
        tenant_id,
        event_type: event_type.to_string(),
        occurred_at: row.get("occurred_at"),
        data: data.clone(),
    })
}

/// Unpublished events in the order they were recorded, locked so that concurrent relays take disjoint
/// batches. Call inside a transaction and mark them published in the same one.
pub async fn claim_unpublished(tx: &Transaction<'_>, limit: i64) -> Result<Vec<Event>, DbError> {
    let rows = tx
        .query(
            "SELECT id, tenant_id, event_type, payload, occurred_at FROM event_outbox \
             WHERE published_at IS NULL ORDER BY position LIMIT $1 \
             FOR UPDATE SKIP LOCKED",
            &[&limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Event {
            id: row.get("id"),
            tenant_id: row.get("tenant_id"),
            event_type: row.get("event_type"),
            occurred_at: row.get("occurred_at"),
            data: row.get("payload"),
        })
        .collect())
}

pub async fn mark_published(client: &impl GenericClient, ids: &[Uuid]) -> Result<u64, DbError> {
    Ok(client
        .execute(
            "UPDATE event_outbox SET published_at = now() WHERE id = ANY($1)",
            &[&ids],
        )
        .await?)
}
