use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let api = pm_webhooks::WebhooksApi::build(&Deps::from_process()).await?;
    pm_http::lambda::run(|req, _| pm_webhooks::events(req, &api)).await
}
