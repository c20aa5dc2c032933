//! `/api/v1/platform/integrations` (dashboard session): the CRMs a tenant can connect,
//! the OAuth connection (start, complete, disconnect), the field mapping, resync, runs,
//! the per-record log and the replay of failed items.
//!
//! The OAuth callback is the dashboard's page (`/dashboard/integrations/{provider}/callback`,
//! the redirect URI registered with the provider): it posts the `code` and `state` it
//! was given to `POST …/{provider}/callback` with the user's session, so the state is
//! checked against the session that started the connection. A callback hit by anyone
//! else (no session, another user) changes nothing.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use http::StatusCode;
use pm_auth::dashboard::SessionAuth;
use pm_auth::session::Session;
use pm_config::Redacted;
use pm_crm::hubspot::{HubSpot, HubSpotConfig};
use pm_crm::mapping::{FieldMapping, MappingError};
use pm_crm::provider::{PropertyInfo, ProviderError};
use pm_domain::{CrmSyncMessage, TenantId};
use pm_http::{json, json_body, ApiError, Body, Code, FieldError, Request, RequestExt, Response};
use pm_ports::queue::{catalog, Queue};
use pm_ports::secrets::SecretStore;
use pm_runtime::Deps;
use pm_store::Db;
use serde::{Deserialize, Serialize};

use crate::connections::{ConnectError, Connection, Connections, STATE_LIFETIME};
use crate::runs::{self, Kind};
use crate::{mappings, sync_log};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The HubSpot app's client secret (it signs HubSpot's webhooks, too).
pub const HUBSPOT_APP_SECRET_PATH: &str = "platform/hubspot_app";
/// The scopes a HubSpot connection asks for: contacts read and write, contact
/// properties (ours are created on connect), and the email engagements.
pub const HUBSPOT_SCOPES: &str =
    "crm.objects.contacts.read crm.objects.contacts.write crm.schemas.contacts.write sales-email-read oauth";

/// The CRMs the framework knows, in the order the dashboard lists them; only those a
/// deployment has configured (HubSpot: `HUBSPOT_CLIENT_ID`) can be connected.
pub const PROVIDERS: [(&str, &str); 1] = [("hubspot", "HubSpot")];

/// HubSpot as this deployment registered it.
pub struct HubSpotApp {
    pub connections: Arc<Connections>,
    pub config: HubSpotConfig,
}

/// The integrations' shared parts: what the routes, the sync worker and the schedule
/// each build once.
pub struct Integrations {
    pub db: Db,
    pub queue: Arc<dyn Queue>,
    pub hubspot: Option<HubSpotApp>,
    /// `PUBLIC_BASE_URL`: where HubSpot sends its webhooks and the customer returns.
    pub public_base_url: String,
}

impl Integrations {
    pub async fn build(deps: &Deps) -> Result<Self, BoxError> {
        let db = deps.db().await?;
        let queue = deps.queue().await?;
        let secrets = deps.secrets().await?;
        let env = deps.env();
        let public_base_url = env
            .required("PUBLIC_BASE_URL")?
            .trim_end_matches('/')
            .to_string();
        let hubspot = match env.get("HUBSPOT_CLIENT_ID").filter(|v| !v.is_empty()) {
            None => None,
            Some(client_id) => {
                let secret = secrets.get(HUBSPOT_APP_SECRET_PATH).await?.ok_or_else(|| {
                    format!("HUBSPOT_CLIENT_ID is set but secret {HUBSPOT_APP_SECRET_PATH} (client_secret) is missing")
                })?;
                let client_secret = secret
                    .get("client_secret")
                    .ok_or_else(|| {
                        format!("secret {HUBSPOT_APP_SECRET_PATH} has no client_secret")
                    })?
                    .to_string();
                let config = HubSpotConfig {
                    client_id,
                    client_secret: Redacted::new(client_secret),
                    app_id: env.required("HUBSPOT_APP_ID")?,
                    scopes: env
                        .or("HUBSPOT_SCOPES", HUBSPOT_SCOPES)
                        .split_whitespace()
                        .map(str::to_string)
                        .collect(),
                    api_base: env.or("HUBSPOT_API_BASE", "https://api.hubapi.com"),
                    app_base: env.or("HUBSPOT_APP_BASE", "https://app.hubspot.com"),
                };
                Some(Self::hubspot_app(
                    &db,
                    secrets.clone(),
                    config,
                    &public_base_url,
                ))
            }
        };
        Ok(Self {
            db,
            queue,
            hubspot,
            public_base_url,
        })
    }

    /// HubSpot's connections, for a deployment (or a test) with this app registration.
    pub fn hubspot_app(
        db: &Db,
        secrets: Arc<dyn SecretStore>,
        config: HubSpotConfig,
        public_base_url: &str,
    ) -> HubSpotApp {
        let redirect = redirect_uri(public_base_url, "hubspot");
        HubSpotApp {
            connections: Arc::new(Connections::new(
                db.clone(),
                secrets,
                Arc::new(HubSpot::new(config.clone())),
                redirect,
            )),
            config,
        }
    }

    /// The configured provider's connections (None: not configured here).
    pub fn connections(&self, provider: &str) -> Option<&Arc<Connections>> {
        match provider {
            "hubspot" => self.hubspot.as_ref().map(|h| &h.connections),
            _ => None,
        }
    }

    /// Tells the sync worker the connection has work.
    pub async fn nudge(&self, tenant: TenantId, provider: &str, run_id: Option<uuid::Uuid>) {
        let message = CrmSyncMessage::Work {
            tenant_id: tenant,
            provider: provider.to_string(),
            run_id,
        };
        if let Err(e) = catalog::CRM_SYNC
            .send(self.queue.as_ref(), &message, None)
            .await
        {
            // The work waits in PostgreSQL; the schedule finds it within minutes.
            tracing::warn!(%tenant, provider, error = %e, "could not tell the sync worker; the schedule will");
        }
    }
}

/// Where the provider sends the customer back: the dashboard's callback page.
pub fn redirect_uri(public_base_url: &str, provider: &str) -> String {
    format!(
        "{}/dashboard/integrations/{provider}/callback",
        public_base_url.trim_end_matches('/')
    )
}

pub struct IntegrationsApi {
    pub core: Arc<Integrations>,
    pub sessions: SessionAuth,
}

impl IntegrationsApi {
    pub async fn build(deps: &Deps) -> Result<Self, BoxError> {
        Ok(Self {
            core: Arc::new(Integrations::build(deps).await?),
            sessions: pm_auth::build::session_auth(deps).await?,
        })
    }

    /// The session and the `{provider}` of the path: 404 for a provider the framework
    /// does not know, 409 for one this deployment has not configured.
    async fn provider(
        &self,
        req: &Request,
        manage: bool,
    ) -> Result<(Session, &Arc<Connections>), ApiError> {
        let session = self.sessions.authenticate(req).await?;
        if manage {
            session.require_manager()?;
        }
        let provider = req
            .path_parameters_ref()
            .and_then(|p| p.first("provider"))
            .unwrap_or_default()
            .to_string();
        if !PROVIDERS.iter().any(|(id, _)| *id == provider) {
            return Err(ApiError::not_found(format!("no integration {provider:?}")));
        }
        let connections = self.core.connections(&provider).ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                Code::IntegrationNotConfigured,
                "Integration not configured",
                format!("this deployment has no {provider} app registered"),
            )
        })?;
        Ok((session, connections))
    }
}

fn connect_error(e: ConnectError) -> ApiError {
    match e {
        ConnectError::BadState => ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::InvalidState,
            "Unknown authorization",
            "this authorization is unknown, used, expired or another user's: connect again",
        ),
        ConnectError::NotConnected => not_connected(),
        ConnectError::NeedsReauth => ApiError::new(
            StatusCode::CONFLICT,
            Code::ReauthRequired,
            "Connect again",
            "the CRM no longer accepts this connection's grant (revoked or expired): connect again",
        ),
        ConnectError::Provider(e) => provider_error(e),
        ConnectError::Store(e) => e.into(),
        ConnectError::Secrets(e) => e.into(),
    }
}

fn provider_error(e: ProviderError) -> ApiError {
    match e {
        ProviderError::Rejected { status, .. } => {
            // The provider's message may quote our request; it is logged, not returned.
            tracing::warn!(error = %e, "the CRM refused a request");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                Code::ProviderRejected,
                "The CRM refused the request",
                format!("the CRM answered {status}; see the integration's log"),
            )
        }
        ProviderError::GrantRevoked => connect_error(ConnectError::NeedsReauth),
        e => {
            tracing::warn!(error = %e, "the CRM is unavailable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Code::ProviderUnavailable,
                "The CRM is unavailable",
                "the CRM did not answer or asks us to slow down; try again shortly",
            )
            .with_header("retry-after", "30")
        }
    }
}

fn not_connected() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        Code::NotConnected,
        "Not connected",
        "this integration is not connected: connect it first",
    )
}

#[derive(Debug, Serialize)]
struct ConnectionView {
    provider: &'static str,
    name: &'static str,
    /// not_connected, connected, needs_reauth, disconnected; unavailable when this
    /// deployment has no app registered with the provider.
    status: String,
    account_id: Option<String>,
    scopes: Vec<String>,
    connected_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    latest_run: Option<runs::Run>,
    pending: i64,
}

async fn view(
    core: &Integrations,
    tenant: TenantId,
    provider: &'static str,
    name: &'static str,
) -> Result<ConnectionView, ApiError> {
    let Some(connections) = core.connections(provider) else {
        return Ok(ConnectionView {
            provider,
            name,
            status: "unavailable".into(),
            account_id: None,
            scopes: Vec::new(),
            connected_at: None,
            last_error: None,
            latest_run: None,
            pending: 0,
        });
    };
    let connection: Option<Connection> = connections.get(tenant).await.map_err(connect_error)?;
    let client = core.db.client().await?;
    let latest_run = runs::list(&**client, tenant, provider, 1).await?.pop();
    let pending: i64 = client
        .query_one(
            "SELECT count(*) FROM crm_sync_pending WHERE tenant_id = $1 AND provider = $2",
            &[&tenant, &provider],
        )
        .await
        .map_err(pm_store::DbError::from)?
        .get(0);
    Ok(match connection {
        None => ConnectionView {
            provider,
            name,
            status: "not_connected".into(),
            account_id: None,
            scopes: Vec::new(),
            connected_at: None,
            last_error: None,
            latest_run,
            pending,
        },
        Some(c) => ConnectionView {
            provider,
            name,
            status: c.status.as_str().into(),
            account_id: c.account_id,
            scopes: c.scopes,
            connected_at: c.connected_at,
            last_error: c.last_error,
            latest_run,
            pending,
        },
    })
}

/// `GET /api/v1/platform/integrations`
pub async fn list(req: Request, api: &IntegrationsApi) -> Result<Response<Body>, ApiError> {
    let session = api.sessions.authenticate(&req).await?;
    let mut data = Vec::new();
    for (id, name) in PROVIDERS {
        data.push(view(&api.core, session.tenant_id, id, name).await?);
    }
    json(StatusCode::OK, &serde_json::json!({ "data": data }))
}

/// `POST /api/v1/platform/integrations/{provider}/connect`: where to send the user.
pub async fn connect(req: Request, api: &IntegrationsApi) -> Result<Response<Body>, ApiError> {
    let (session, connections) = api.provider(&req, true).await?;
    let url = connections
        .start(session.tenant_id, &session.user_id)
        .await
        .map_err(connect_error)?;
    let expires_at = Utc::now() + chrono::Duration::from_std(STATE_LIFETIME).expect("minutes");
    json(
        StatusCode::OK,
        &serde_json::json!({ "authorize_url": url, "expires_at": expires_at }),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackInput {
    code: String,
    state: String,
}

/// `POST /api/v1/platform/integrations/{provider}/callback`: completes the connection
/// the same user started, creates our properties in the CRM and starts the backfill.
pub async fn complete(req: Request, api: &IntegrationsApi) -> Result<Response<Body>, ApiError> {
    let (session, connections) = api.provider(&req, true).await?;
    let input: CallbackInput = json_body(&req)?;
    let mut errors = Vec::new();
    for (field, value) in [("code", &input.code), ("state", &input.state)] {
        if value.trim().is_empty() || value.len() > 2048 {
            errors.push(FieldError::new(field, "invalid", "1 to 2048 characters"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let tenant = session.tenant_id;
    connections
        .complete(tenant, &session.user_id, &input.state, &input.code)
        .await
        .map_err(connect_error)?;
    let provider = connections.provider().id();
    let mapping = {
        let client = api.core.db.client().await?;
        mappings::load(&**client, tenant, connections.provider()).await?
    };
    // Connected whatever happens next (the state is spent): a failure here is retried by
    // the backfill, which makes sure of our properties before it pushes.
    if let Err(e) = connections.ensure_properties(tenant, &mapping).await {
        tracing::warn!(%tenant, provider, error = %e, "our CRM properties were not created yet; the backfill retries");
    }
    let run = {
        let client = api.core.db.client().await?;
        match runs::start(&**client, tenant, provider, Kind::Backfill).await? {
            Ok(run) | Err(runs::AlreadyRunning(run)) => run,
        }
    };
    api.core.nudge(tenant, provider, Some(run.id)).await;
    let (id, name) = PROVIDERS
        .iter()
        .find(|(id, _)| *id == provider)
        .expect("a known provider");
    json(StatusCode::OK, &view(&api.core, tenant, id, name).await?)
}

/// `DELETE /api/v1/platform/integrations/{provider}`: revokes the grant at the CRM and
/// deletes its tokens. The mapping, the sync state and the log stay (a reconnection
/// goes on from them).
pub async fn disconnect(req: Request, api: &IntegrationsApi) -> Result<Response<Body>, ApiError> {
    let (session, connections) = api.provider(&req, true).await?;
    connections
        .disconnect(session.tenant_id)
        .await
        .map_err(connect_error)?;
    let client = api.core.db.client().await?;
    client
        .execute(
            "DELETE FROM crm_sync_pending WHERE tenant_id = $1 AND provider = $2",
            &[&session.tenant_id, &connections.provider().id()],
        )
        .await
        .map_err(pm_store::DbError::from)?;
    client
        .execute(
            "UPDATE crm_sync_runs SET status = 'failed', last_error = 'disconnected', \
               finished_at = now() WHERE tenant_id = $1 AND provider = $2 AND status = 'running'",
            &[&session.tenant_id, &connections.provider().id()],
        )
        .await
        .map_err(pm_store::DbError::from)?;
    pm_http::resource::no_content()
}

/// `GET /api/v1/platform/integrations/{provider}/mapping`: the mapping in force, and
/// (when connected) the CRM's contact properties to choose custom fields from.
pub async fn get_mapping(req: Request, api: &IntegrationsApi) -> Result<Response<Body>, ApiError> {
    let (session, connections) = api.provider(&req, false).await?;
    let tenant = session.tenant_id;
    let fields = {
        let client = api.core.db.client().await?;
        mappings::load(&**client, tenant, connections.provider()).await?
    };
    let properties = match described(connections, tenant).await {
        Ok(properties) => Some(properties),
        Err(ConnectError::NotConnected | ConnectError::NeedsReauth) => None,
        Err(e) => return Err(connect_error(e)),
    };
    json(
        StatusCode::OK,
        &serde_json::json!({ "fields": fields, "properties": properties }),
    )
}

async fn described(
    connections: &Connections,
    tenant: TenantId,
) -> Result<Vec<PropertyInfo>, ConnectError> {
    connections
        .with_session(tenant, true, |p, s| {
            Box::pin(async move { p.contact_properties(&s).await })
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingInput {
    fields: pm_http::bounded::Bounded<FieldMapping, 100>,
}

fn mapping_error(e: MappingError) -> ApiError {
    let field = match &e {
        MappingError::NoEmail => "fields",
        _ => "fields[]",
    };
    ApiError::validation(vec![FieldError::new(field, "invalid", e.to_string())])
}

/// `PUT /api/v1/platform/integrations/{provider}/mapping`: replaces the mapping. Each
/// CRM property must be one the CRM describes (and writable when pushed), or one of
/// ours (`penguinmails_…`), which is created in the CRM now.
pub async fn put_mapping(req: Request, api: &IntegrationsApi) -> Result<Response<Body>, ApiError> {
    let (session, connections) = api.provider(&req, true).await?;
    let tenant = session.tenant_id;
    let input: MappingInput = json_body(&req)?;
    let fields: Vec<FieldMapping> = input.fields.into_inner();
    if let Err(e) = pm_crm::mapping::validate(&fields) {
        return Err(mapping_error(e));
    }
    let mut errors = Vec::new();
    for (i, m) in fields.iter().enumerate() {
        let ok = !m.remote.is_empty()
            && m.remote.len() <= 100
            && m.remote
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            errors.push(FieldError::new(
                format!("fields[{i}].remote"),
                "invalid",
                "a CRM property name: letters, digits and _, at most 100",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if connections.access_token(tenant).await.is_ok() {
        let described = described(connections, tenant)
            .await
            .map_err(connect_error)?;
        for (i, m) in fields.iter().enumerate() {
            if m.remote
                .starts_with(crate::connections::OWN_PROPERTY_PREFIX)
            {
                continue;
            }
            match described.iter().find(|p| p.name == m.remote) {
                None => errors.push(FieldError::new(
                    format!("fields[{i}].remote"),
                    "unknown_property",
                    format!("the CRM has no contact property {:?}", m.remote),
                )),
                Some(p) if p.read_only && m.direction.pushes() => errors.push(FieldError::new(
                    format!("fields[{i}].direction"),
                    "read_only",
                    format!(
                        "{:?} is computed by the CRM: it can only be pulled",
                        m.remote
                    ),
                )),
                Some(_) => {}
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        connections
            .ensure_properties(tenant, &fields)
            .await
            .map_err(connect_error)?;
    }
    let client = api.core.db.client().await?;
    mappings::save(&**client, tenant, connections.provider(), &fields)
        .await?
        .map_err(mapping_error)?;
    json(StatusCode::OK, &serde_json::json!({ "fields": fields }))
}

/// `POST /api/v1/platform/integrations/{provider}/resync`: a reconciliation now (both
/// directions, every record); 409 while another run is under way.
pub async fn resync(req: Request, api: &IntegrationsApi) -> Result<Response<Body>, ApiError> {
    let (session, connections) = api.provider(&req, true).await?;
    let tenant = session.tenant_id;
    let provider = connections.provider().id();
    connections
        .access_token(tenant)
        .await
        .map_err(connect_error)?;
    let client = api.core.db.client().await?;
    match runs::start(&**client, tenant, provider, Kind::Reconcile).await? {
        Ok(run) => {
            api.core.nudge(tenant, provider, Some(run.id)).await;
            json(StatusCode::ACCEPTED, &run)
        }
        Err(runs::AlreadyRunning(run)) => Err(ApiError::conflict(
            Code::SyncRunning,
            format!("run {} is under way; wait for it to finish", run.id),
        )
        .with_extension("run_id", serde_json::json!(run.id))),
    }
}

/// A `limit` query parameter: 1 to 100, 50 by default.
fn limit(req: &Request) -> Result<i64, ApiError> {
    let query = req.query_string_parameters_ref();
    match query.and_then(|q| q.first("limit")) {
        None => Ok(50),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    Code::InvalidLimit,
                    "Invalid limit",
                    "limit is a whole number from 1 to 100",
                )
            }),
    }
}

/// `GET /api/v1/platform/integrations/{provider}/runs`: newest first.
pub async fn list_runs(req: Request, api: &IntegrationsApi) -> Result<Response<Body>, ApiError> {
    let (session, connections) = api.provider(&req, false).await?;
    let limit = limit(&req)?;
    let client = api.core.db.client().await?;
    let data = runs::list(
        &**client,
        session.tenant_id,
        connections.provider().id(),
        limit,
    )
    .await?;
    json(StatusCode::OK, &serde_json::json!({ "data": data }))
}

/// `GET /api/v1/platform/integrations/{provider}/log`: the per-record log, newest first;
/// `outcome` and `contact_id` narrow it, `before` (an entry's id) pages on.
pub async fn list_log(req: Request, api: &IntegrationsApi) -> Result<Response<Body>, ApiError> {
    let (session, connections) = api.provider(&req, false).await?;
    let limit = limit(&req)?;
    let query = req.query_string_parameters_ref();
    let param = |name: &str| query.and_then(|q| q.first(name)).map(str::to_string);
    let bad = |name: &str, detail: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::InvalidParameter,
            "Invalid parameter",
            format!("{name}: {detail}"),
        )
    };
    let outcome = param("outcome");
    if let Some(o) = &outcome {
        if !sync_log::OUTCOMES.contains(&o.as_str()) {
            return Err(bad(
                "outcome",
                "one of created, updated, unchanged, echo, failed",
            ));
        }
    }
    let contact = param("contact_id")
        .map(|c| uuid::Uuid::parse_str(&c).map_err(|_| bad("contact_id", "a contact id")))
        .transpose()?;
    let before = param("before")
        .map(|b| {
            b.parse::<i64>()
                .map_err(|_| bad("before", "an entry id from this log"))
        })
        .transpose()?;
    let client = api.core.db.client().await?;
    let filter = sync_log::Filter {
        outcome: outcome.as_deref(),
        contact,
        before,
    };
    let (data, more) = sync_log::list(
        &**client,
        session.tenant_id,
        connections.provider().id(),
        &filter,
        limit,
    )
    .await?;
    let next = more.then(|| data.last().map(|e| e.id)).flatten();
    json(
        StatusCode::OK,
        &serde_json::json!({ "data": data, "has_more": more, "next_before": next }),
    )
}

/// `POST /api/v1/platform/integrations/{provider}/replay`: the contacts whose latest
/// push failed go out again.
pub async fn replay(req: Request, api: &IntegrationsApi) -> Result<Response<Body>, ApiError> {
    let (session, connections) = api.provider(&req, true).await?;
    let tenant = session.tenant_id;
    let provider = connections.provider().id();
    connections
        .access_token(tenant)
        .await
        .map_err(connect_error)?;
    let client = api.core.db.client().await?;
    let failed = sync_log::failed_contacts(&**client, tenant, provider).await?;
    let queued =
        crate::outbound::enqueue(&**client, tenant, &[provider.to_string()], &failed).await?;
    if queued > 0 {
        api.core.nudge(tenant, provider, None).await;
    }
    json(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "queued": queued }),
    )
}
