//! GET /api/v1/analytics/campaigns/{id}

use pm_auth::usage::FlushMode;
use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let auth = pm_auth::build::api_key_auth(&deps, FlushMode::AfterEachRequest).await?;
    pm_http::lambda::run(|req, _| pm_analytics::campaign(req, &auth)).await
}
