use pm_account::session::{self, CookiePolicy};
use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let cookies = CookiePolicy::from_env(deps.env())?;
    pm_http::lambda::run(|req, _| session::delete(req, cookies)).await
}
