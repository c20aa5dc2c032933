use std::sync::Arc;

use pm_auth::issue::Issuer;
use pm_auth::keys::Pepper;
use pm_auth::session::SessionKey;
use pm_auth::usage::FlushMode;
use pm_auth::{platform, ApiKeyAuth};
use pm_config::Env;
use pm_ports::config::PortFactory;
use pm_ports::kv::KeyValue;
use pm_ports::queue::Queue;
use pm_ports::secrets::SecretStore;
use pm_store::{DatabaseConfig, Db};

/// Everything the routes need, built once at start. In Lambda each function builds only
/// its own part of this; locally one process holds it all.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub secrets: Arc<dyn SecretStore>,
    pub queue: Arc<dyn Queue>,
    pub kv: Arc<dyn KeyValue>,
    pub sessions: SessionKey,
    pub pepper: Pepper,
    /// The API-key middleware; usage is flushed by a background task.
    pub auth: Arc<ApiKeyAuth>,
}

impl App {
    /// Builds every port. The platform secrets (pepper, session key) are created in the
    /// secrets store when missing, as the local runtime owns its store.
    pub async fn build(database: &DatabaseConfig, env: &Env) -> anyhow::Result<Self> {
        let ports = PortFactory::new(env.clone());
        let db = Db::new(database)?;
        let secrets = ports.secrets().await?;
        platform::provision(secrets.as_ref()).await?;
        let pepper = platform::pepper(secrets.as_ref()).await?;
        let sessions = platform::session_key(secrets.as_ref()).await?;
        let kv = ports.key_value().await?;
        let auth = Arc::new(ApiKeyAuth::new(
            db.clone(),
            secrets.clone(),
            kv.clone(),
            pepper.clone(),
            FlushMode::Background,
        ));
        Ok(Self {
            db,
            secrets,
            queue: ports.queue().await?,
            kv,
            sessions,
            pepper,
            auth,
        })
    }

    pub fn issuer(&self) -> Issuer<'_> {
        Issuer {
            db: &self.db,
            secrets: self.secrets.as_ref(),
            pepper: &self.pepper,
        }
    }
}
