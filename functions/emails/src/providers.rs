//! `/api/v1/platform/email-providers` (dashboard session): the tenant's mail transport,
//! its write-only credentials (kept in the secrets port at `email_providers/{tenant}`,
//! shown masked), the senders it may use, and whether tracking is on by default.
//!
//! A sender is registered by listing it here: a whole address (`pat@acme.io`) or a
//! domain (`@acme.io`, any address there). `POST /api/v1/emails/send` and campaigns may
//! only send from a registered sender. Proving control of the domain (DNS) belongs to
//! domain management, later.

use chrono::{DateTime, Utc};
use http::StatusCode;
use pm_domain::TenantId;
use pm_http::email::is_valid_email;
use pm_http::{json, json_body, ApiError, Body, FieldError, Request, Response};
use pm_mail::transport::masked;
use pm_mail::{Credentials, TransportSettings};
use pm_ports::secrets::SecretData;
use pm_store::DbError;
use serde::{Deserialize, Serialize};

use pm_email_delivery::providers::{credentials, load, secret_path, Provider};

use crate::EmailsApi;

pub const MAX_SENDERS: usize = 100;
/// The credential fields, as stored in the secrets port and shown masked.
const CREDENTIAL_FIELDS: [&str; 6] = [
    "password",
    "server_token",
    "api_key",
    "webhook_signing_key",
    "webhook_username",
    "webhook_password",
];

fn fields_of(c: &Credentials) -> [(&'static str, Option<&String>); 6] {
    [
        ("password", c.password.as_ref()),
        ("server_token", c.server_token.as_ref()),
        ("api_key", c.api_key.as_ref()),
        ("webhook_signing_key", c.webhook_signing_key.as_ref()),
        ("webhook_username", c.webhook_username.as_ref()),
        ("webhook_password", c.webhook_password.as_ref()),
    ]
}

/// The request body of `PUT`. `credentials` replaces every stored credential when
/// present and keeps them when absent, so changing a setting needs no secret re-typed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    pub transport: TransportSettings,
    #[serde(default)]
    pub credentials: Option<Credentials>,
    #[serde(default)]
    pub senders: pm_http::bounded::Bounded<String, 500>,
    #[serde(default = "tracking_on")]
    pub tracking: bool,
}

fn tracking_on() -> bool {
    true
}

#[derive(Debug, Serialize)]
struct ProviderView {
    transport: TransportSettings,
    credentials: serde_json::Value,
    senders: Vec<String>,
    tracking: bool,
    /// Where to point the provider's event webhooks (Postmark: add Basic-auth
    /// credentials to the URL; Mailgun: signed with the webhook signing key).
    event_urls: serde_json::Value,
    updated_at: DateTime<Utc>,
}

fn view(api: &EmailsApi, tenant_id: TenantId, p: Provider) -> ProviderView {
    let base = &api.config.public_base_url;
    ProviderView {
        transport: p.settings,
        credentials: p.credentials_masked,
        senders: p.senders,
        tracking: p.tracking,
        event_urls: serde_json::json!({
            "postmark": format!("{base}/api/v1/provider-events/postmark/{tenant_id}"),
            "mailgun": format!("{base}/api/v1/provider-events/mailgun/{tenant_id}"),
            "mailgun_inbound": format!("{base}/api/v1/provider-events/mailgun/{tenant_id}/inbound"),
        }),
        updated_at: p.updated_at,
    }
}

fn not_configured() -> ApiError {
    ApiError::not_found("no email provider is configured for this account")
}

/// `GET /api/v1/platform/email-providers`
pub async fn get(req: Request, api: &EmailsApi) -> Result<Response<Body>, ApiError> {
    let session = api.sessions.authenticate(&req).await?;
    let client = api.db().client().await?;
    let provider = load(&client, session.tenant_id)
        .await?
        .ok_or_else(not_configured)?;
    json(StatusCode::OK, &view(api, session.tenant_id, provider))
}

fn senders(raw: Vec<String>, errors: &mut Vec<FieldError>) -> Vec<String> {
    if raw.len() > MAX_SENDERS {
        errors.push(FieldError::new(
            "senders",
            "too_many",
            format!("at most {MAX_SENDERS} senders"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, s) in raw.into_iter().enumerate() {
        let s = s.trim().to_lowercase();
        let ok = match s.strip_prefix('@') {
            Some(domain) => is_valid_email(&format!("x@{domain}")),
            None => is_valid_email(&s),
        };
        if !ok {
            errors.push(FieldError::new(
                format!("senders[{i}]"),
                "invalid_value",
                "an email address, or @domain for every address at a domain",
            ));
        } else if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// `PUT /api/v1/platform/email-providers`: owners and admins.
pub async fn put(req: Request, api: &EmailsApi) -> Result<Response<Body>, ApiError> {
    let session = api.sessions.authenticate(&req).await?;
    session.require_manager()?;
    let input: ProviderInput = json_body(&req)?;
    let mut errors: Vec<FieldError> = input
        .transport
        .validate()
        .into_iter()
        .map(|(field, message)| {
            FieldError::new(format!("transport.{field}"), "invalid_value", message)
        })
        .collect();
    let senders = senders(input.senders.into_inner(), &mut errors);
    let tenant_id = session.tenant_id;
    let credentials = match input.credentials {
        Some(c) => c,
        None => credentials(api.secrets.as_ref(), tenant_id).await?,
    };
    if let Some(missing) = credentials.missing_for(&input.transport) {
        errors.push(FieldError::new(
            format!("credentials.{missing}"),
            "required",
            format!(
                "the {} transport needs {missing}",
                input.transport.kind().as_str()
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut data = SecretData::new();
    let mut shown = serde_json::Map::new();
    for (name, value) in fields_of(&credentials) {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            data = data.with(name, value.clone());
            shown.insert(name.to_string(), serde_json::json!(masked(value)));
        }
    }
    debug_assert!(shown
        .keys()
        .all(|k| CREDENTIAL_FIELDS.contains(&k.as_str())));
    // Secrets first: the row never names credentials the store does not hold.
    api.secrets.put(&secret_path(tenant_id), &data).await?;
    let settings = serde_json::to_value(&input.transport).map_err(|_| ApiError::internal())?;
    let client = api.db().client().await?;
    client
        .execute(
            "INSERT INTO email_providers (tenant_id, settings, senders, tracking, credentials_masked) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id) DO UPDATE SET settings = $2, senders = $3, tracking = $4, \
             credentials_masked = $5, updated_at = clock_timestamp()",
            &[&tenant_id, &settings, &senders, &input.tracking, &serde_json::Value::Object(shown)],
        )
        .await
        .map_err(DbError::from)?;
    let provider = load(&client, tenant_id)
        .await?
        .ok_or_else(ApiError::internal)?;
    tracing::info!(%tenant_id, transport = provider.settings.kind().as_str(), "email provider set");
    json(StatusCode::OK, &view(api, tenant_id, provider))
}
