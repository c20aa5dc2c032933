use pm_auth::issue::Issuer;
use pm_config::Env;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pm_http::telemetry::init();
    let (sessions, db, secrets, pepper) = pm_api_keys::issuer_parts(&Env::process()).await?;
    let issuer = Issuer {
        db: &db,
        secrets: secrets.as_ref(),
        pepper: &pepper,
    };
    pm_http::lambda::run(|req, _| pm_api_keys::regenerate(req, &sessions, &issuer)).await
}
