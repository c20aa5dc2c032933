use std::sync::Arc;

use pm_auth::dashboard::SessionAuth;
use pm_auth::usage::FlushMode;
use pm_auth::{build, ApiKeyAuth};
use pm_ports::queue::Queue;
use pm_ports::secrets::SecretStore;
use pm_runtime::{BoxError, Deps};
use pm_webhook_delivery::config::DeliveryConfig;
use pm_webhook_delivery::outbound::{self, SystemLookup};

/// What the webhook routes need: the middleware, the session key (the dashboard may
/// call them), the secrets port (signing secrets), the queue (replays) and the delivery
/// settings with a guarded HTTP client (test sends).
pub struct WebhooksApi {
    pub auth: Arc<ApiKeyAuth>,
    pub sessions: SessionAuth,
    pub secrets: Arc<dyn SecretStore>,
    pub queue: Arc<dyn Queue>,
    pub config: DeliveryConfig,
    pub(crate) client: reqwest::Client,
    pub(crate) lookup: SystemLookup,
}

impl WebhooksApi {
    pub fn new(
        auth: Arc<ApiKeyAuth>,
        sessions: SessionAuth,
        secrets: Arc<dyn SecretStore>,
        queue: Arc<dyn Queue>,
        config: DeliveryConfig,
    ) -> Self {
        let client = outbound::client_builder(config.outbound, SystemLookup)
            .timeout(config.timeout)
            .build()
            .expect("the HTTP client builds");
        Self {
            auth,
            sessions,
            secrets,
            queue,
            config,
            client,
            lookup: SystemLookup,
        }
    }

    /// As a Lambda main builds it at cold start.
    pub async fn build(deps: &Deps) -> Result<Self, BoxError> {
        Ok(Self::new(
            Arc::new(build::api_key_auth(deps, FlushMode::AfterEachRequest).await?),
            build::session_auth(deps).await?,
            deps.secrets().await?,
            deps.queue().await?,
            DeliveryConfig::from_env(deps.env())?,
        ))
    }
}
