//! The CRM sync worker (template.yaml: CrmSyncFunction, on the `crm-sync` queue) and its
//! schedule (CrmReconcileFunction).
//!
//! A message is an outbox event (routed to pending work, then drained) or a nudge (drain
//! the connection; go on with a run). Work left when the step's time is up is handed on
//! in a fresh nudge, so a 10,000-contact backfill runs as a chain of short invocations.
//! The schedule is the safety net: it nudges connections whose work waits unleased (a
//! lost message), runs whose worker went quiet (a crash), starts each connection's
//! daily reconciliation, and deletes webhook event ids and log entries past their keep.

use std::time::{Duration, Instant};

use pm_domain::{CrmSyncMessage, TenantId};
use pm_store::DbError;
use pm_webhook_delivery::WorkerError;

use crate::api::Integrations;
use crate::outbound::{drain, route_event};
use crate::push::PushError;
use crate::runs::{self, needs_customer, Kind};

/// How long one message's work may go on (the worker's timeout is
/// `catalog::CRM_SYNC_TIMEOUT`, 120 s; the rest is margin).
pub const STEP_BUDGET: Duration = Duration::from_secs(90);
/// A running run nobody touched for this long has lost its worker.
pub const STALLED_AFTER: Duration = Duration::from_secs(180);
/// Pending work older than this, unleased, lost its message.
pub const WAITING_AFTER: Duration = Duration::from_secs(60);
/// Each connection is reconciled this often.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

fn worker_error(e: PushError) -> WorkerError {
    match e {
        PushError::Store(e) => WorkerError::Store(e),
        e => WorkerError::Peer(e.to_string()),
    }
}

/// Handles one message of the `crm-sync` queue within `budget`.
pub async fn handle(
    core: &Integrations,
    message: CrmSyncMessage,
    budget: Duration,
) -> Result<(), WorkerError> {
    let until = Instant::now() + budget;
    match message {
        CrmSyncMessage::Event { event } => {
            let tenant = event.tenant_id;
            for provider in route_event(&core.db, &event).await? {
                work(core, tenant, &provider, None, until).await?;
            }
            Ok(())
        }
        CrmSyncMessage::Work {
            tenant_id,
            provider,
            run_id,
        } => work(core, tenant_id, &provider, run_id, until).await,
    }
}

async fn work(
    core: &Integrations,
    tenant: TenantId,
    provider: &str,
    run_id: Option<uuid::Uuid>,
    until: Instant,
) -> Result<(), WorkerError> {
    let Some(connections) = core.connections(provider) else {
        tracing::warn!(
            provider,
            "work for a provider this deployment has not configured; dropped"
        );
        return Ok(());
    };
    let outcome = async {
        let drained = drain(connections, tenant, until).await?;
        if drained.more {
            core.nudge(tenant, provider, run_id).await;
            return Ok(());
        }
        if let Some(id) = run_id {
            let run = runs::step(connections, tenant, id, until, None).await?;
            if run.is_some_and(|r| r.running()) {
                core.nudge(tenant, provider, Some(id)).await;
            }
        }
        Ok::<(), PushError>(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(()),
        // Shown on the connection (needs_reauth); nothing to retry until the customer acts.
        Err(e) if needs_customer(&e) => {
            tracing::info!(%tenant, provider, error = %e, "sync paused: the connection needs the customer");
            Ok(())
        }
        Err(e) if e.is_transient() => Err(worker_error(e)),
        Err(e) => {
            tracing::warn!(%tenant, provider, error = %e, "sync step failed");
            Err(worker_error(e))
        }
    }
}

/// Webhook event ids are kept this long to recognise HubSpot's redeliveries (it retries
/// for three days at most).
pub const INBOUND_EVENTS_KEPT: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// The per-record log's history.
pub const LOG_KEPT: Duration = Duration::from_secs(90 * 24 * 60 * 60);
/// Rows one pass deletes from each, so a pass stays short however much is due.
const SWEEP_BATCH: i64 = 10_000;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Scheduled {
    pub nudged: usize,
    pub reconciliations: usize,
    /// Old webhook event ids and log entries deleted.
    pub swept: u64,
}

/// The schedule's pass: nudges what waits without a worker and starts due
/// reconciliations.
pub async fn schedule(core: &Integrations) -> Result<Scheduled, DbError> {
    let mut result = Scheduled::default();
    let rows = {
        let client = core.db.client().await?;
        client
            .query(
                "SELECT tenant_id, provider, id FROM crm_sync_runs \
                 WHERE status = 'running' AND touched_at < now() - make_interval(secs => $1) \
                 UNION ALL \
                 SELECT DISTINCT tenant_id, provider, NULL::uuid FROM crm_sync_pending \
                 WHERE queued_at < now() - make_interval(secs => $2) \
                   AND (leased_until IS NULL OR leased_until < now()) \
                 UNION ALL \
                 SELECT DISTINCT tenant_id, provider, NULL::uuid FROM crm_activity_pending \
                 WHERE leased_until IS NULL OR leased_until < now()",
                &[&STALLED_AFTER.as_secs_f64(), &WAITING_AFTER.as_secs_f64()],
            )
            .await?
    };
    for row in rows {
        let (tenant, provider, run): (TenantId, String, Option<uuid::Uuid>) =
            (row.get(0), row.get(1), row.get(2));
        core.nudge(tenant, &provider, run).await;
        result.nudged += 1;
    }
    let due = {
        let client = core.db.client().await?;
        client
            .query(
                "SELECT c.tenant_id, c.provider FROM crm_connections c \
                 WHERE c.status = 'connected' AND NOT EXISTS ( \
                   SELECT 1 FROM crm_sync_runs r WHERE r.tenant_id = c.tenant_id \
                     AND r.provider = c.provider \
                     AND (r.status = 'running' OR r.started_at > now() - make_interval(secs => $1)))",
                &[&RECONCILE_EVERY.as_secs_f64()],
            )
            .await?
    };
    {
        let client = core.db.client().await?;
        for (table, column, kept) in [
            ("crm_inbound_events", "received_at", INBOUND_EVENTS_KEPT),
            ("crm_sync_log", "at", LOG_KEPT),
        ] {
            result.swept += client
                .execute(
                    &format!(
                        "DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table} \
                         WHERE {column} < now() - make_interval(secs => $1) LIMIT $2)"
                    ),
                    &[&kept.as_secs_f64(), &SWEEP_BATCH],
                )
                .await?;
        }
    }
    for row in due {
        let (tenant, provider): (TenantId, String) = (row.get(0), row.get(1));
        if core.connections(&provider).is_none() {
            continue;
        }
        let started = {
            let client = core.db.client().await?;
            runs::start(&**client, tenant, &provider, Kind::Reconcile).await?
        };
        if let Ok(run) = started {
            core.nudge(tenant, &provider, Some(run.id)).await;
            result.reconciliations += 1;
        }
    }
    Ok(result)
}
