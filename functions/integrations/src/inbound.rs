//! `POST /api/v1/integrations/hubspot/webhooks`: HubSpot's change events. One URL for
//! the app: each event names its portal, which names the tenants connected to it.
//!
//! The v3 signature is checked before anything else (HMAC-SHA256 over method, the URL
//! HubSpot called, body and timestamp with the app's client secret; older than five
//! minutes is stale): a bad or stale one is 401 and changes nothing. Applied changes go
//! through [`crate::pull::apply_changes`] (once per event id, echoes dropped, conflicts
//! by rule); a contact created in HubSpot (`contact.creation`) is read and linked to
//! the contact here with its email, or made here. A failure of ours answers 503, so
//! HubSpot sends the events again.

use std::collections::BTreeMap;

use http::StatusCode;
use pm_crm::hubspot::{signature, webhooks};
use pm_http::{json, ApiError, Body, Code, Request, Response};

use pm_crm::mapping::FieldMapping;
use pm_domain::TenantId;

use crate::api::Integrations;
use crate::connections::{ConnectError, Connections};
use crate::mappings;
use crate::pull::{apply_changes, Pulled};
use crate::runs::{take_record, Linked};

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

/// Contacts created in HubSpot: read (the notice names only the id), then linked or made
/// here; how many were made here. HubSpot being away is a 503, so it sends them again.
async fn take_new_records(
    connections: &Connections,
    tenant: TenantId,
    mapping: &[FieldMapping],
    records: &[(&str, &str)],
) -> Result<usize, ApiError> {
    let properties = mappings::pulled_properties(mapping);
    let mut created = 0;
    for (event_id, id) in records {
        let remote = connections
            .with_session(tenant, false, |p, s| {
                let (id, properties) = (id.to_string(), properties.clone());
                Box::pin(async move { p.read_contact(&s, &id, &properties).await })
            })
            .await;
        let remote = match remote {
            Ok(Some(remote)) => remote,
            // Deleted since, or the connection cannot work now: nothing to take.
            Ok(None) | Err(ConnectError::NeedsReauth | ConnectError::NotConnected) => continue,
            Err(e) => {
                tracing::warn!(%tenant, error = %e, "could not read a contact HubSpot created; HubSpot will send it again");
                return Err(ApiError::service_unavailable(
                    "HubSpot could not be read just now; send the events again",
                ));
            }
        };
        let origin = format!("created:{event_id}");
        if let Linked::Created = take_record(connections, tenant, mapping, &remote, &origin).await?
        {
            created += 1;
        }
    }
    Ok(created)
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
    let mut by_portal: BTreeMap<&str, (Vec<_>, Vec<_>)> = BTreeMap::new();
    for event in &events {
        let portal = by_portal.entry(&event.portal_id).or_default();
        if let Some(change) = event.contact_change(&app.config.app_id) {
            portal.0.push(change);
        } else if let Some(id) = event.created_contact(&app.config.app_id) {
            portal.1.push((event.event_id.as_str(), id));
        }
    }
    let connections = &app.connections;
    let mut total = Pulled::default();
    let mut created = 0;
    for (portal, (changes, new_records)) in by_portal {
        for tenant in connections.tenants_of_account(portal).await? {
            let mapping = {
                let client = core.db.client().await?;
                mappings::load(&**client, tenant, connections.provider()).await?
            };
            created += take_new_records(connections, tenant, &mapping, &new_records).await?;
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
            "created": created,
            "applied": total.applied,
            "echoes": total.echoes,
            "duplicates": total.duplicates,
            "kept": total.kept,
            "unknown": total.unknown,
        }),
    )
}
