//! POST /api/v1/integrations/hubspot/webhooks (signed by HubSpot; no platform credentials)

use pm_integrations::api::Integrations;
use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let core = Integrations::build(&deps).await?;
    pm_http::lambda::run(|req, _| pm_integrations::inbound::hubspot(req, &core)).await
}
