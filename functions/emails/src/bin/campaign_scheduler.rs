//! Scheduled Lambda (template.yaml: CampaignSchedulerFunction, once a minute): sends
//! active campaigns' due steps within their windows and caps.

use std::time::Duration;

use lambda_runtime::{service_fn, LambdaEvent};
use pm_emails::campaign_sending::CampaignScheduler;
use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let tick = Duration::from_secs(deps.env().parsed_or("CAMPAIGN_TICK_SECS", 60u64)?);
    let scheduler = CampaignScheduler::new(deps.db().await?, deps.queue().await?, tick);
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let scheduler = &scheduler;
        async move {
            let report = scheduler.run(chrono::Utc::now()).await?;
            tracing::info!(
                campaigns = report.campaigns,
                queued = report.queued,
                completed = report.completed.len(),
                "campaign tick"
            );
            Ok::<_, lambda_runtime::Error>(())
        }
    }))
    .await
}
