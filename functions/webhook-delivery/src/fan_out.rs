//! The fan-out worker: one event in, one delivery per matching webhook out.
//!
//! The deliveries are made in one statement, unique per (event, webhook), so a
//! redelivered event makes nothing new; then each new delivery's first message goes to
//! the deliveries queue in batches. If that send fails after the commit, the deliveries
//! are not lost: the requeue schedule sends any pending delivery without a message.

use std::time::Duration;

use pm_domain::{DeliveryMessage, Event};
use pm_ports::queue::{catalog, Queue, MAX_BATCH};
use pm_store::Db;

use crate::deliveries;
use crate::WorkerError;

/// Makes the event's deliveries and queues their first attempts; returns how many
/// deliveries it made.
pub async fn fan_out(
    db: &Db,
    queue: &dyn Queue,
    event: &Event,
    requeue_after: Duration,
) -> Result<usize, WorkerError> {
    let created = {
        let client = db.client().await?;
        deliveries::create_for_event(&**client, event, requeue_after).await?
    };
    let messages: Vec<DeliveryMessage> = created
        .iter()
        .map(|&delivery_id| DeliveryMessage {
            delivery_id,
            attempt: 1,
        })
        .collect();
    for chunk in messages.chunks(MAX_BATCH) {
        for outcome in catalog::DELIVERIES.send_batch(queue, chunk).await? {
            if let Err(e) = outcome {
                // Committed already: the requeue schedule sends it once queued_until passes.
                tracing::warn!(error = %e, "a first delivery message was not sent; the requeue will");
            }
        }
    }
    if !created.is_empty() {
        tracing::debug!(event_id = %event.id, deliveries = created.len(), "fanned out");
    }
    Ok(created.len())
}
