//! The requeue schedule: sends a message for every delivery that is due and has none in
//! flight. Two jobs in one: extended-policy retries whose delay exceeds SQS's 15 minutes
//! wait here, and a message lost to a crash (fan-out after commit, a dispatcher killed
//! mid-attempt, a failed retry send) is made again. Duplicates are harmless: the
//! dispatcher claims each attempt once.

use std::time::Duration;

use pm_ports::queue::{catalog, Queue, MAX_BATCH};
use pm_store::Db;

use crate::deliveries;
use crate::WorkerError;

/// Deliveries per run; the next run takes the rest.
pub const BATCH: i64 = 500;

pub async fn requeue_due(
    db: &Db,
    queue: &dyn Queue,
    requeue_after: Duration,
) -> Result<usize, WorkerError> {
    let due = {
        let client = db.client().await?;
        deliveries::take_due(&**client, BATCH, requeue_after).await?
    };
    for chunk in due.chunks(MAX_BATCH) {
        for outcome in catalog::DELIVERIES.send_batch(queue, chunk).await? {
            if let Err(e) = outcome {
                tracing::warn!(error = %e, "requeue send failed; the next run retries it");
            }
        }
    }
    if !due.is_empty() {
        tracing::info!(deliveries = due.len(), "requeued due webhook deliveries");
    }
    Ok(due.len())
}
