use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let db = Deps::from_process().db().await?;
    pm_http::lambda::run(|req, id| pm_health::handle(req, id, &db)).await
}
