//! `POST /api/v1/integrations/hubspot/webhooks`: HubSpot's change events. One URL for
//! the app: each event names its portal, which names the tenants connected to it.
//!
//! The v3 signature is checked before anything else (HMAC-SHA256 over method, the URL
//! HubSpot called, body and timestamp with the app's client secret; older than five
//! minutes is stale): a bad or stale one is 401 and changes nothing. Applied changes go
//! through [`crate::pull::apply_changes`] (once per event id, echoes dropped, conflicts
//! by rule). A failure of ours answers 503, so HubSpot sends the events again.

use std::collections::BTreeMap;

use http::StatusCode;
use pm_crm::hubspot::{signature, webhooks};
use pm_http::{json, ApiError, Body, Code, Request, Response};

use crate::api::Integrations;
use crate::mappings;
use crate::pull::{apply_changes, Pulled};

/// The most events one request may carry (HubSpot sends at most 100).
pub const MAX_EVENTS: usize = 1000;

fn unsigned(detail: String) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        Code::InvalidSignature,
        "Invalid signature",
        detail,
    )
}

pub async fn hubspot(req: Request, core: &Integrations) -> Result<Response<Body>, ApiError> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    // Unsigned is unsigned, whether or not this deployment has a HubSpot app.
    if header(signature::HEADER_SIGNATURE).is_none()
        || header(signature::HEADER_TIMESTAMP).is_none()
    {
        return Err(unsigned(signature::SignatureError::Missing.to_string()));
    }
    let Some(app) = &core.hubspot else {
        return Err(ApiError::not_found("no HubSpot app is registered here"));
    };
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let url = format!("{}{path}", core.public_base_url);
    let body: &[u8] = req.body().as_ref();
    if let Err(e) = signature::verify(
        app.config.client_secret.expose(),
        req.method().as_str(),
        &url,
        body,
        header(signature::HEADER_SIGNATURE),
        header(signature::HEADER_TIMESTAMP),
        chrono::Utc::now(),
    ) {
        return Err(unsigned(e.to_string()));
    }
    let events = webhooks::parse(body).map_err(|e| ApiError::invalid_json(e.to_string()))?;
    if events.len() > MAX_EVENTS {
        return Err(ApiError::payload_too_large(MAX_EVENTS));
    }
    let mut by_portal: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for event in &events {
        if let Some(change) = event.contact_change(&app.config.app_id) {
            by_portal.entry(&event.portal_id).or_default().push(change);
        }
    }
    let connections = &app.connections;
    let mut total = Pulled::default();
    for (portal, changes) in by_portal {
        for tenant in connections.tenants_of_account(portal).await? {
            let mapping = {
                let client = core.db.client().await?;
                mappings::load(&**client, tenant, connections.provider()).await?
            };
            let pulled = apply_changes(connections, tenant, &mapping, &changes).await?;
            total.applied += pulled.applied;
            total.echoes += pulled.echoes;
            total.duplicates += pulled.duplicates;
            total.kept += pulled.kept;
            total.unknown += pulled.unknown;
        }
    }
    json(
        StatusCode::OK,
        &serde_json::json!({
            "received": events.len(),
            "applied": total.applied,
            "echoes": total.echoes,
            "duplicates": total.duplicates,
            "kept": total.kept,
            "unknown": total.unknown,
        }),
    )
}
