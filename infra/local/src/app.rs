use std::sync::Arc;

use pm_auth::dashboard::SessionAuth;
use pm_auth::issue::Issuer;
use pm_auth::session::SessionSigner;
use pm_auth::usage::FlushMode;
use pm_auth::{build, platform, ApiKeyAuth};
use pm_email_delivery::config::EmailConfig;
use pm_email_delivery::sender::Sender;
use pm_emails::campaign_sending::CampaignScheduler;
use pm_emails::EmailsApi;
use pm_integrations::api::{Integrations, IntegrationsApi};
use pm_ports::kv::KeyValue;
use pm_ports::queue::Queue;
use pm_ports::secrets::SecretStore;
use pm_runtime::Deps;
use pm_store::Db;
use pm_webhook_delivery::config::DeliveryConfig;
use pm_webhook_delivery::dispatch::Dispatcher;
use pm_webhooks::WebhooksApi;

use crate::dashboard::SignInLinks;

/// Everything the routes need, built once at start from one [`Deps`] with the same
/// calls the Lambda mains make; in Lambda each function builds only its own part.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub secrets: Arc<dyn SecretStore>,
    pub queue: Arc<dyn Queue>,
    pub kv: Arc<dyn KeyValue>,
    pub sessions: SessionAuth,
    /// The dashboard's one-time sign-in links (the local stand-in for the app's sign-in).
    pub sign_in: Arc<SignInLinks>,
    /// The local runtime is also the session issuer (in AWS, the PenguinMails app is).
    pub session_signer: SessionSigner,
    pub issuer: Issuer,
    /// The API-key middleware; usage is flushed by a background task.
    pub auth: Arc<ApiKeyAuth>,
    pub webhooks: Arc<WebhooksApi>,
    pub delivery: DeliveryConfig,
    /// The webhook dispatcher the local consumers run.
    pub dispatcher: Arc<Dispatcher>,
    pub emails: Arc<EmailsApi>,
    /// The email sender the local consumer runs, and the campaign scheduler.
    pub sender: Arc<Sender>,
    pub campaigns: Arc<CampaignScheduler>,
    /// `CAMPAIGN_SCHEDULER_ENABLED=false` stops the background ticks, for tests that
    /// drive the scheduler on their own clock.
    pub campaign_ticks: bool,
    /// Consumer loops on the email-send queue (`LOCAL_EMAIL_SEND_LOOPS`, default 2;
    /// 0 leaves emails queued, as the send benchmark does to time the API alone).
    pub email_send_loops: usize,
    /// How long a due email waits for its queue message before the sweep re-sends one.
    pub email_requeue_after: std::time::Duration,
    /// CRM integrations: the routes, the sync worker and its schedule.
    pub integrations: Arc<IntegrationsApi>,
}

impl App {
    /// Builds every part. The platform secrets (pepper, session key) are created in the
    /// secrets store when missing, as the local runtime owns its store.
    pub async fn build(deps: &Deps) -> anyhow::Result<Self> {
        let secrets = deps.secrets().await?;
        platform::provision(secrets.as_ref()).await?;
        let db = deps.db().await.map_err(anyhow::Error::from_boxed)?;
        let queue = deps.queue().await?;
        let kv = deps.kv().await?;
        let sessions = build::session_auth(deps)
            .await
            .map_err(anyhow::Error::from_boxed)?;
        let auth = Arc::new(
            build::api_key_auth(deps, FlushMode::Background)
                .await
                .map_err(anyhow::Error::from_boxed)?,
        );
        let delivery = DeliveryConfig::from_env(deps.env())?;
        let email_config = EmailConfig::from_env(deps.env())?;
        let tracking = pm_email_delivery::tracking_keys(secrets.as_ref())
            .await
            .map_err(anyhow::Error::from_boxed)?;
        let emails = Arc::new(EmailsApi {
            auth: auth.clone(),
            sessions: sessions.clone(),
            secrets: secrets.clone(),
            queue: queue.clone(),
            kv: kv.clone(),
            tracking: tracking.clone(),
            config: email_config.clone(),
        });
        let sender = Arc::new(Sender::new(
            db.clone(),
            queue.clone(),
            secrets.clone(),
            tracking,
            email_config,
        ));
        let campaigns = Arc::new(CampaignScheduler::new(
            db.clone(),
            queue.clone(),
            std::time::Duration::from_secs(deps.env().parsed_or("CAMPAIGN_TICK_SECS", 5u64)?),
        ));
        let email_requeue_after = std::time::Duration::from_secs(
            deps.env().parsed_or("EMAIL_REQUEUE_AFTER_SECS", 60u64)?,
        );
        let integrations = Arc::new(IntegrationsApi {
            core: Arc::new(
                Integrations::build(deps)
                    .await
                    .map_err(anyhow::Error::from_boxed)?,
            ),
            sessions: sessions.clone(),
        });
        let session_signer = build::session_signer(deps)
            .await
            .map_err(anyhow::Error::from_boxed)?;
        Ok(Self {
            session_signer,
            issuer: build::issuer(deps)
                .await
                .map_err(anyhow::Error::from_boxed)?,
            webhooks: Arc::new(WebhooksApi::new(
                auth.clone(),
                sessions.clone(),
                secrets.clone(),
                queue.clone(),
                delivery.clone(),
            )),
            dispatcher: Arc::new(Dispatcher::new(
                db.clone(),
                queue.clone(),
                secrets.clone(),
                delivery.clone(),
            )),
            delivery,
            emails,
            sender,
            campaigns,
            campaign_ticks: deps.env().parsed_or("CAMPAIGN_SCHEDULER_ENABLED", true)?,
            email_send_loops: deps.env().parsed_or("LOCAL_EMAIL_SEND_LOOPS", 2usize)?,
            email_requeue_after,
            integrations,
            db,
            secrets,
            queue,
            kv,
            sign_in: Arc::default(),
            sessions,
            auth,
        })
    }
}
