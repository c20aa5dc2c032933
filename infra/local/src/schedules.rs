//! Scheduled work. In AWS each schedule is a function with a Schedule event in
//! template.yaml (a test keeps the two lists equal); locally each runs as a background
//! task, more often than in AWS so that development feels immediate.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::App;

pub type Job = for<'a> fn(&'a App) -> BoxFuture<'a, Result<(), String>>;

pub struct Schedule {
    pub name: &'static str,
    /// The function's logical id in template.yaml.
    pub function: &'static str,
    /// How often the local runtime runs it.
    pub every: Duration,
    pub job: Job,
}

pub const SCHEDULES: &[Schedule] = &[
    Schedule {
        name: "outbox-relay",
        function: "OutboxRelayFunction",
        every: Duration::from_secs(1),
        job: |app| {
            Box::pin(async move {
                pm_events::relay_pending(&app.db, app.queue.as_ref(), 50, None)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        },
    },
    Schedule {
        name: "webhook-requeue",
        function: "WebhookRequeueFunction",
        every: Duration::from_secs(1),
        job: |app| {
            Box::pin(async move {
                pm_webhook_delivery::requeue::requeue_due(
                    &app.db,
                    app.queue.as_ref(),
                    app.delivery.requeue_after,
                )
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
            })
        },
    },
    Schedule {
        name: "email-requeue",
        function: "EmailRequeueFunction",
        every: Duration::from_secs(1),
        job: |app| {
            Box::pin(async move {
                app.sender
                    .requeue_due(app.email_requeue_after)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        },
    },
    Schedule {
        name: "campaign-scheduler",
        function: "CampaignSchedulerFunction",
        every: Duration::from_secs(5),
        job: |app| {
            Box::pin(async move {
                if !app.campaign_ticks {
                    return Ok(());
                }
                app.campaigns
                    .run(chrono::Utc::now())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        },
    },
    Schedule {
        name: "crm-reconcile",
        function: "CrmReconcileFunction",
        every: Duration::from_secs(30),
        job: |app| {
            Box::pin(async move {
                pm_integrations::worker::schedule(&app.integrations.core)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        },
    },
    Schedule {
        name: "api-key-hash-sweeper",
        function: "ApiKeyHashSweeperFunction",
        every: Duration::from_secs(10),
        job: |app| {
            Box::pin(async move {
                pm_auth::retire::sweep(&app.db, app.secrets.as_ref(), 500)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        },
    },
];

/// Starts every schedule; each stops when `stop` turns true.
pub fn spawn_all(app: &App, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    SCHEDULES
        .iter()
        .map(|schedule| {
            let app = app.clone();
            let mut stop = stop.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(schedule.every) => {}
                        _ = stop.wait_for(|stopped| *stopped) => return,
                    }
                    if let Err(e) = (schedule.job)(&app).await {
                        // Logged, then retried on the next tick: a database or queue
                        // outage must not end the schedule.
                        tracing::warn!(schedule = schedule.name, error = %e, "scheduled job failed");
                    }
                }
            })
        })
        .collect()
}
