use pm_config::Env;
use pm_store::{DatabaseConfig, Db};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pm_http::telemetry::init();
    let db = Db::new(&DatabaseConfig::from_env(&Env::process())?)?;
    lambda_http::run(lambda_http::service_fn(|req| {
        let db = &db;
        async move {
            let response = pm_http::serve(req, |req, id| pm_health::handle(req, id, db)).await;
            Ok::<_, std::convert::Infallible>(response)
        }
    }))
    .await
}
