//! Scheduled Lambda (template.yaml: CrmReconcileFunction): nudges CRM work that lost its
//! message or its worker, and starts each connection's daily reconciliation.

use lambda_runtime::{service_fn, LambdaEvent};
use pm_integrations::api::Integrations;
use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let core = Integrations::build(&deps).await?;
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let core = &core;
        async move {
            let scheduled = pm_integrations::worker::schedule(core).await?;
            tracing::info!(
                nudged = scheduled.nudged,
                reconciliations = scheduled.reconciliations,
                "CRM schedule ran"
            );
            Ok::<_, lambda_runtime::Error>(())
        }
    }))
    .await
}
