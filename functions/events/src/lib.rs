//! The outbox relay: sends committed events that are not yet on the events queue, and
//! marks them published.
//!
//! Events are claimed with `FOR UPDATE SKIP LOCKED`, sent, and marked in one
//! transaction: if a send fails the transaction rolls back and the whole batch is sent
//! again on the next run. Delivery is therefore at least once; consumers deduplicate by
//! event id (webhook deliveries are unique per event and webhook).

use pm_ports::queue::{catalog, Queue};
use pm_ports::PortError;
use pm_store::{outbox, Db, DbError};

/// Events per transaction.
pub const BATCH: i64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Store(#[from] DbError),
    #[error(transparent)]
    Queue(#[from] PortError),
}

/// Relays one batch; returns how many events were published.
pub async fn relay_batch(db: &Db, queue: &dyn Queue, batch: i64) -> Result<usize, RelayError> {
    let mut client = db.client().await?;
    let tx = client.transaction().await.map_err(DbError::from)?;
    let events = outbox::claim_unpublished(&tx, batch).await?;
    if events.is_empty() {
        return Ok(0);
    }
    for event in &events {
        let body = serde_json::to_string(event).expect("events serialize");
        queue.send(catalog::EVENTS, &body, None).await?;
    }
    let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.id).collect();
    outbox::mark_published(&*tx, &ids).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(events.len())
}

/// Relays batches until the outbox is empty or `max_batches` ran (so one scheduled run
/// stays well inside its timeout however far behind it is).
pub async fn relay_pending(
    db: &Db,
    queue: &dyn Queue,
    max_batches: usize,
) -> Result<usize, RelayError> {
    let mut total = 0;
    for _ in 0..max_batches {
        let sent = relay_batch(db, queue, BATCH).await?;
        total += sent;
        if sent < BATCH as usize {
            break;
        }
    }
    if total > 0 {
        tracing::info!(events = total, "relayed outbox events");
    }
    Ok(total)
}
