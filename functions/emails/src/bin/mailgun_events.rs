//! POST /api/v1/provider-events/mailgun/{tenant_id}

use pm_emails::EmailsApi;
use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let api = EmailsApi::build(&deps).await?;
    pm_http::lambda::run(|req, _| pm_emails::provider_events::mailgun(req, &api)).await
}
