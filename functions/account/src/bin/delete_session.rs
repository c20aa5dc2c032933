use pm_runtime::telemetry;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    pm_http::lambda::run(|req, _| pm_account::session::delete(req)).await
}
