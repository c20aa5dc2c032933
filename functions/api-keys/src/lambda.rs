//! What the Lambda binaries build at cold start, in one place.

use std::sync::Arc;

use pm_auth::keys::Pepper;
use pm_auth::platform;
use pm_auth::session::SessionKey;
use pm_config::Env;
use pm_ports::config::PortFactory;
use pm_ports::secrets::SecretStore;
use pm_store::{DatabaseConfig, Db};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The session key and database: all the read-only endpoints need.
pub async fn sessions_and_db(env: &Env) -> Result<(SessionKey, Db), BoxError> {
    let secrets = PortFactory::new(env.clone()).secrets().await?;
    let sessions = platform::session_key(secrets.as_ref()).await?;
    Ok((sessions, Db::new(&DatabaseConfig::from_env(env)?)?))
}

/// Everything creating or rolling a key needs.
pub async fn issuer_parts(
    env: &Env,
) -> Result<(SessionKey, Db, Arc<dyn SecretStore>, Pepper), BoxError> {
    let secrets = PortFactory::new(env.clone()).secrets().await?;
    let sessions = platform::session_key(secrets.as_ref()).await?;
    let pepper = platform::pepper(secrets.as_ref()).await?;
    Ok((
        sessions,
        Db::new(&DatabaseConfig::from_env(env)?)?,
        secrets,
        pepper,
    ))
}
