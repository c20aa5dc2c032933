//! The outbox relay: sends committed events that are not yet on the events queue, and
//! marks them published.
//!
//! Events are claimed with `FOR UPDATE SKIP LOCKED`, sent in `SendMessageBatch`
//! requests, and marked in one transaction. If the queue is down the transaction rolls
//! back and the whole claim is sent again on the next run, so delivery is at least once;
//! consumers deduplicate by event id (webhook deliveries are unique per event and
//! webhook). One event the queue refuses (too large, or refused five times) is set
//! aside with its error, and never holds back the events behind it.

use pm_domain::{CrmSyncMessage, Event, EventId, TenantId};
use pm_ports::queue::{catalog, Queue, MAX_BATCH, MAX_BODY_BYTES};
use pm_ports::PortError;
use pm_store::{begin, commit, outbox, Db, DbError};

/// Events per transaction.
pub const BATCH: i64 = 100;

/// The metric the relay publishes after each run (CloudWatch embedded metric format in
/// its log) and template.yaml's OutboxLagAlarm watches: how long the oldest waiting
/// event has waited, 0 when none waits.
pub const LAG_METRIC: &str = "OutboxOldestUnpublishedSeconds";
pub const METRIC_NAMESPACE: &str = "PenguinMails";

/// The outbox's lag as one embedded-metric-format log line (CloudWatch turns it into
/// the [`LAG_METRIC`] metric; no PutMetricData call, so no extra permission or latency).
pub async fn lag_metric_line(db: &Db, now_ms: u64) -> Result<String, DbError> {
    let client = db.client().await?;
    let age = outbox::oldest_unpublished_age(&**client)
        .await?
        .map_or(0.0, |age| age.as_secs_f64());
    Ok(serde_json::json!({
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": METRIC_NAMESPACE,
                "Dimensions": [[]],
                "Metrics": [{ "Name": LAG_METRIC, "Unit": "Seconds" }],
            }],
        },
        LAG_METRIC: age,
    })
    .to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Store(#[from] DbError),
    #[error(transparent)]
    Queue(#[from] PortError),
}

/// Splits events into runs that each fit one `SendMessageBatch` request: at most
/// [`MAX_BATCH`] messages and [`MAX_BODY_BYTES`] in all.
fn batches<T>(events: &[T], encoded_len: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let mut runs = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, event) in events.iter().enumerate() {
        let size = encoded_len(event);
        if i > start && (i - start == MAX_BATCH || bytes + size > MAX_BODY_BYTES) {
            runs.push(&events[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < events.len() {
        runs.push(&events[start..]);
    }
    runs
}

/// Relays one batch; returns how many events it took from the outbox (published or set
/// aside).
pub async fn relay_batch(db: &Db, queue: &dyn Queue, batch: i64) -> Result<usize, RelayError> {
    let mut client = db.client().await?;
    let tx = begin(&mut client).await?;
    let events = outbox::claim_unpublished(&tx, batch).await?;
    let claimed = events.len();
    if claimed == 0 {
        return Ok(0);
    }
    let mut published: Vec<EventId> = Vec::with_capacity(events.len());
    let mut sendable: Vec<Event> = Vec::with_capacity(events.len());
    for event in events {
        let size = catalog::EVENTS.encode(&event).len();
        if size > MAX_BODY_BYTES {
            let error =
                format!("the event is {size} bytes; a queue message holds {MAX_BODY_BYTES}");
            tracing::error!(event_id = %event.id, %error, "event set aside: it can never be published");
            outbox::mark_unpublishable(&*tx, event.id, &error, true).await?;
        } else {
            sendable.push(event);
        }
    }
    let crm_tenants = crm_tenants(&*tx, &sendable).await?;
    for run in batches(&sendable, |e| catalog::EVENTS.encode(e).len()) {
        let outcomes = catalog::EVENTS
            .send_batch_traced(queue, run, |event| event.trace_header.clone())
            .await?;
        for (event, outcome) in run.iter().zip(outcomes) {
            match outcome {
                Ok(_) => published.push(event.id),
                Err(e) => {
                    tracing::warn!(event_id = %event.id, error = %e, "the queue refused an event");
                    outbox::mark_unpublishable(&*tx, event.id, &e.to_string(), false).await?;
                }
            }
        }
    }
    send_to_crm(queue, &sendable, &published, &crm_tenants).await?;
    outbox::mark_published(&*tx, &published).await?;
    commit(tx).await?;
    Ok(claimed)
}

/// Of these events' tenants, those with a connected CRM (a small table, one query).
async fn crm_tenants(
    db: &impl tokio_postgres::GenericClient,
    events: &[Event],
) -> Result<Vec<TenantId>, DbError> {
    let tenants: Vec<TenantId> = events
        .iter()
        .filter(|e| e.event_type.concerns_crm())
        .map(|e| e.tenant_id)
        .collect();
    if tenants.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db
        .query(
            "SELECT DISTINCT tenant_id FROM crm_connections \
             WHERE status = 'connected' AND tenant_id = ANY($1)",
            &[&tenants],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The CRM sync worker's copy of the published events that concern a tenant's CRM. A
/// queue failure rolls the batch back like the events queue's would (sent again next
/// run: the worker's pending rows coalesce repeats); one refused copy is logged and
/// left to the scheduled reconciliation, which finds what it missed.
async fn send_to_crm(
    queue: &dyn Queue,
    events: &[Event],
    published: &[EventId],
    tenants: &[TenantId],
) -> Result<(), PortError> {
    let messages: Vec<CrmSyncMessage> = events
        .iter()
        .filter(|e| {
            e.event_type.concerns_crm()
                && tenants.contains(&e.tenant_id)
                && published.contains(&e.id)
        })
        .map(|e| CrmSyncMessage::Event { event: e.clone() })
        .collect();
    for run in batches(&messages, |m| catalog::CRM_SYNC.encode(m).len()) {
        for outcome in catalog::CRM_SYNC.send_batch(queue, run).await? {
            if let Err(e) = outcome {
                tracing::warn!(error = %e, "the CRM sync queue refused an event; reconciliation will find its change");
            }
        }
    }
    Ok(())
}

/// Relays batches until the outbox is empty, `max_batches` ran, or `until` has come
/// (so one scheduled run ends inside its invocation however far behind it is). Each
/// batch commits on its own, so stopping between two loses nothing: the next run goes on.
pub async fn relay_pending(
    db: &Db,
    queue: &dyn Queue,
    max_batches: usize,
    until: Option<std::time::Instant>,
) -> Result<usize, RelayError> {
    let mut total = 0;
    for _ in 0..max_batches {
        if until.is_some_and(|until| std::time::Instant::now() >= until) {
            tracing::info!(
                events = total,
                "relay stopped at its deadline; the next run goes on"
            );
            break;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use pm_domain::{EventType, TenantId};

    fn event(data_bytes: usize) -> Event {
        Event {
            id: EventId::random(),
            tenant_id: TenantId::random(),
            event_type: EventType::ContactCreated,
            occurred_at: chrono::Utc::now(),
            data: serde_json::json!({ "x": "a".repeat(data_bytes) }),
            trace_header: None,
        }
    }

    #[test]
    fn batches_hold_at_most_ten_events_and_fit_one_request() {
        let small: Vec<Event> = (0..25).map(|_| event(10)).collect();
        let sizes: Vec<usize> = batches(&small, |e| catalog::EVENTS.encode(e).len())
            .iter()
            .map(|b| b.len())
            .collect();
        assert_eq!(sizes, [10, 10, 5]);

        let big: Vec<Event> = (0..5).map(|_| event(100 * 1024)).collect();
        let runs = batches(&big, |e| catalog::EVENTS.encode(e).len());
        assert_eq!(runs.iter().map(|b| b.len()).collect::<Vec<_>>(), [2, 2, 1]);
        for run in runs {
            let bytes: usize = run.iter().map(|e| catalog::EVENTS.encode(e).len()).sum();
            assert!(bytes <= MAX_BODY_BYTES);
        }
    }
}
