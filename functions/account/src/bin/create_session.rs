use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let sessions = pm_auth::build::session_auth(&deps).await?;
    pm_http::lambda::run(|req, _| pm_account::session::create(req, &sessions)).await
}
