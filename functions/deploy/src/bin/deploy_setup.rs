//! CloudFormation custom resource (template.yaml: DeploySetupFunction): migrations, the
//! runtime role and the platform secrets, at deploy time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, LambdaEvent};
use pm_runtime::{telemetry, Deps};

/// Kept back from the invocation's deadline for sending CloudFormation the answer.
const MARGIN: Duration = Duration::from_secs(15);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let http = pm_deploy::http_client();
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let left = Duration::from_millis(event.context.deadline.saturating_sub(now_ms));
        let (deps, http) = (&deps, &http);
        async move { pm_deploy::handle(deps, event.payload, left.saturating_sub(MARGIN), http).await }
    }))
    .await
}
