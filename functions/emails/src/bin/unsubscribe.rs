//! POST /u/{token}: one-click unsubscribe (RFC 8058)

use pm_emails::EmailsApi;
use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let api = EmailsApi::build(&deps).await?;
    pm_http::lambda::run(|req, _| pm_emails::tracking::unsubscribe(req, &api)).await
}
