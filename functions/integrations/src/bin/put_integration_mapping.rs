//! PUT /api/v1/platform/integrations/{provider}/mapping

use pm_integrations::api::IntegrationsApi;
use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let api = IntegrationsApi::build(&deps).await?;
    pm_http::lambda::run(|req, _| pm_integrations::api::put_mapping(req, &api)).await
}
