use pm_config::Env;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pm_http::telemetry::init();
    let (sessions, db) = pm_api_keys::sessions_and_db(&Env::process()).await?;
    pm_http::lambda::run(|req, _| pm_api_keys::usage(req, &sessions, &db)).await
}
