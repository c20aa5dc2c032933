use std::sync::Arc;

use pm_auth::dashboard::SessionAuth;
use pm_auth::usage::FlushMode;
use pm_auth::{build, ApiKeyAuth};
use pm_ports::kv::KeyValue;
use pm_ports::queue::Queue;
use pm_ports::secrets::SecretStore;
use pm_runtime::{BoxError, Deps};
use pm_tracking::TrackingKeys;

use pm_email_delivery::config::EmailConfig;

/// What the email routes need: the middleware (API routes), the session key (transport
/// settings), the secrets port (transport credentials), the queue (the sender's), the
/// key-value port (provider-event replay refusal), the tracking-token key and settings.
pub struct EmailsApi {
    pub auth: Arc<ApiKeyAuth>,
    pub sessions: SessionAuth,
    pub secrets: Arc<dyn SecretStore>,
    pub queue: Arc<dyn Queue>,
    pub kv: Arc<dyn KeyValue>,
    pub tracking: TrackingKeys,
    pub config: EmailConfig,
}

impl EmailsApi {
    /// As a Lambda main builds it at cold start.
    pub async fn build(deps: &Deps) -> Result<Self, BoxError> {
        let secrets = deps.secrets().await?;
        Ok(Self {
            auth: Arc::new(build::api_key_auth(deps, FlushMode::AfterEachRequest).await?),
            sessions: build::session_auth(deps).await?,
            tracking: pm_email_delivery::tracking_keys(secrets.as_ref()).await?,
            secrets,
            queue: deps.queue().await?,
            kv: deps.kv().await?,
            config: EmailConfig::from_env(deps.env())?,
        })
    }

    pub fn db(&self) -> &pm_store::Db {
        self.auth.db()
    }
}
