//! `POST /api/v1/provider-events/{postmark|mailgun}/{tenant_id}`: the tenant's mail
//! provider reporting deliveries, bounces, complaints, opens, clicks and replies.
//!
//! - Postmark authenticates its webhooks with HTTP Basic credentials put in the webhook
//!   URL; they are the tenant's `webhook_username`/`webhook_password` credentials.
//! - Mailgun signs each webhook: HMAC-SHA256 of timestamp + token with the tenant's
//!   webhook signing key. A timestamp outside the window is refused, and so is a token
//!   seen before (the signature does not cover the payload, so a replayed signature
//!   with another payload must not pass). Inbound replies arrive from a Mailgun Route
//!   at `…/mailgun/{tenant_id}/inbound`, signed the same way.
//!
//! A bad signature, unknown tenant or missing credentials is the same 401 and changes
//! nothing. An authentic report about a message we do not know, or of a kind we do not
//! act on, is a 200 (the provider would otherwise retry it for days). The same provider
//! event twice is recorded once (its event id is the timeline's dedupe key).

use std::time::Duration;

use chrono::Utc;
use http::StatusCode;
use pm_domain::TenantId;
use pm_http::{json, ApiError, Body, Code, Request, RequestExt, Response};
use pm_mail::events::{mailgun, postmark};
use pm_mail::{EventError, ProviderEvent, ProviderEventKind};
use pm_ports::kv::{Expect, Namespace};

use crate::EmailsApi;
use pm_email_delivery::engagement::{self, Applied, Happening};
use pm_email_delivery::providers;
use pm_email_delivery::store::Entry;

/// Mailgun signature tokens already used, kept past the freshness window.
const SEEN_TOKENS: Namespace<u8> = Namespace::new("mailgun-token");

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        Code::InvalidSignature,
        "Invalid signature",
        "the event's signature or credentials do not match this account's provider settings",
    )
}

fn refused(e: EventError) -> ApiError {
    match e {
        EventError::BadSignature => unauthorized(),
        EventError::Stale => ApiError::new(
            StatusCode::UNAUTHORIZED,
            Code::StaleEvent,
            "Stale event",
            "the event's timestamp is outside the accepted window",
        ),
        EventError::Malformed(detail) => ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::InvalidEvent,
            "Invalid event",
            format!("the event payload is not one we can read: {detail}"),
        ),
        EventError::Ignored(_) => ApiError::internal(), // answered 200 before this
    }
}

fn tenant(req: &Request) -> Result<TenantId, ApiError> {
    req.path_parameters_ref()
        .and_then(|p| p.first("tenant_id"))
        .and_then(|raw| raw.parse().ok())
        .ok_or_else(unauthorized)
}

fn body(req: &Request) -> &[u8] {
    match req.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    }
}

fn answer(status: &str) -> Result<Response<Body>, ApiError> {
    json(StatusCode::OK, &serde_json::json!({"status": status}))
}

fn happening(kind: ProviderEventKind, detail: Option<String>) -> Happening {
    match kind {
        ProviderEventKind::Delivered => Happening::Delivered,
        ProviderEventKind::Bounced { hard } => Happening::Bounced { hard, detail },
        ProviderEventKind::Complained => Happening::Complained,
        ProviderEventKind::Opened => Happening::Opened,
        ProviderEventKind::Clicked { url } => Happening::Clicked { url },
        ProviderEventKind::Unsubscribed => Happening::Unsubscribed,
        ProviderEventKind::Replied => Happening::Replied,
    }
}

/// Records an authentic event on the email it is about.
async fn record(
    api: &EmailsApi,
    tenant_id: TenantId,
    event: ProviderEvent,
) -> Result<Response<Body>, ApiError> {
    let email = engagement::find_by_message(
        api.db(),
        tenant_id,
        event.provider_message_id.as_deref(),
        event.message_id.as_deref(),
    )
    .await?;
    let Some(email_id) = email else {
        tracing::info!(%tenant_id, provider = event.provider.as_str(), "provider event for an unknown message");
        return answer("unknown_message");
    };
    let entry = Entry::from(event.provider.as_str())
        .dedupe(format!("{}:{}", event.provider.as_str(), event.event_id))
        .at(event.occurred_at)
        .data(serde_json::json!({"recipient": event.recipient, "detail": event.detail}));
    let detail = event.detail.clone();
    let applied = engagement::apply(
        api.db(),
        tenant_id,
        email_id,
        happening(event.kind, detail),
        entry,
    )
    .await?;
    answer(match applied {
        Applied::Recorded => "recorded",
        Applied::Duplicate => "duplicate",
        Applied::NoSuchEmail => "unknown_message",
    })
}

/// `POST /api/v1/provider-events/postmark/{tenant_id}`
pub async fn postmark(req: Request, api: &EmailsApi) -> Result<Response<Body>, ApiError> {
    let tenant_id = tenant(&req)?;
    let credentials = providers::credentials(api.secrets.as_ref(), tenant_id).await?;
    let (Some(user), Some(password)) = (credentials.webhook_username, credentials.webhook_password)
    else {
        return Err(unauthorized());
    };
    let authorization = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    postmark::authenticate(&user, &password, authorization).map_err(refused)?;
    match postmark::parse(body(&req)) {
        Ok(event) => record(api, tenant_id, event).await,
        Err(EventError::Ignored(what)) => {
            tracing::debug!(%what, "postmark record ignored");
            answer("ignored")
        }
        Err(e) => Err(refused(e)),
    }
}

/// Mailgun's two verifiers (webhooks, inbound Route forwards): signing key, body, now,
/// window → the event and its signature token.
type MailgunVerify =
    fn(&str, &[u8], chrono::DateTime<Utc>, Duration) -> Result<(ProviderEvent, String), EventError>;

async fn mailgun_with(
    req: Request,
    api: &EmailsApi,
    verify: MailgunVerify,
) -> Result<Response<Body>, ApiError> {
    let tenant_id = tenant(&req)?;
    let credentials = providers::credentials(api.secrets.as_ref(), tenant_id).await?;
    let Some(key) = credentials.webhook_signing_key else {
        return Err(unauthorized());
    };
    let (event, token) = match verify(&key, body(&req), Utc::now(), api.config.event_window) {
        Ok(verified) => verified,
        Err(EventError::Ignored(what)) => {
            tracing::debug!(%what, "mailgun event ignored");
            return answer("ignored");
        }
        Err(e) => return Err(refused(e)),
    };
    let seen = format!("{tenant_id}:{token}");
    let keep = api.config.event_window * 2 + Duration::from_secs(60);
    let fresh = SEEN_TOKENS
        .put_if(api.kv.as_ref(), &seen, &1, Expect::Absent, Some(keep))
        .await?;
    if fresh.is_none() {
        return Err(ApiError::conflict(
            Code::EventReplayed,
            "this signed event was received before; a replay changes nothing",
        ));
    }
    let outcome = record(api, tenant_id, event).await;
    if outcome.is_err() {
        // Not recorded: let Mailgun's retry (same token) through.
        if let Err(e) = SEEN_TOKENS.delete(api.kv.as_ref(), &seen).await {
            tracing::warn!(error = %e, "could not release a mailgun token");
        }
    }
    outcome
}

/// `POST /api/v1/provider-events/mailgun/{tenant_id}`
pub async fn mailgun(req: Request, api: &EmailsApi) -> Result<Response<Body>, ApiError> {
    mailgun_with(req, api, mailgun::verify).await
}

/// `POST /api/v1/provider-events/mailgun/{tenant_id}/inbound` (a Route's forward)
pub async fn mailgun_inbound(req: Request, api: &EmailsApi) -> Result<Response<Body>, ApiError> {
    mailgun_with(req, api, mailgun::verify_inbound).await
}
