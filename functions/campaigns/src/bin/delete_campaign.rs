use pm_config::Env;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pm_http::telemetry::init();
    let auth = pm_auth::ApiKeyAuth::from_env(&Env::process()).await?;
    pm_http::lambda::run(|req, _| pm_campaigns::delete(req, &auth)).await
}
