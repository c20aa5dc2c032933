use pm_config::Env;
use pm_store::{DatabaseConfig, Db};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pm_http::telemetry::init();
    let db = Db::new(&DatabaseConfig::from_env(&Env::process())?)?;
    pm_http::lambda::run(|req, id| pm_health::handle(req, id, &db)).await
}
