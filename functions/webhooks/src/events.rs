//! `GET /api/v1/events`: the account's recent events, newest first, each exactly as a
//! webhook receives it. For catching up after an outage, and for integrations that show
//! real examples before subscribing (Zapier's `performList`).

use chrono::{DateTime, Utc};
use http::StatusCode;
use pm_auth::Ctx;
use pm_domain::paging::{timestamp_value, ListRequest};
use pm_domain::{EventId, EventType, TenantId};
use pm_http::list::{list_request, parsed_param};
use pm_http::{json, ApiError, Body, Request, Response};
use pm_store::select::Select;
use pm_store::{row, DbError};
use serde::Serialize;
use tokio_postgres::GenericClient;

use crate::{WebhooksApi, EVENTS};

/// An event as its webhook body: `id`, `type`, `created_at` (when it happened), `data`.
#[derive(Debug, Serialize)]
pub struct EventView {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// `GET /api/v1/events` (filter `type`), newest first.
pub async fn events(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &EVENTS, &api.sessions, |cx: Ctx| async move {
            let list = list_request(&cx.req, &EVENTS.sorting)?;
            let event_type = parsed_param::<EventType>(
                &cx.req,
                "type",
                "an event type (see GET /api/v1/webhooks/event-types)",
            )?;
            let client = cx.db().client().await?;
            let rows = recent(&**client, cx.tenant_id(), event_type, &list).await?;
            let page = list.page(rows, |e| (timestamp_value(&e.created_at), e.id.as_uuid()));
            json(StatusCode::OK, &page)
        })
        .await
}

async fn recent(
    client: &impl GenericClient,
    tenant_id: TenantId,
    event_type: Option<EventType>,
    list: &ListRequest,
) -> Result<Vec<EventView>, DbError> {
    const TABLE: &str = "event_outbox";
    // A test send's sample is not one of the account's events.
    let mut select = Select::new(
        "SELECT id, event_type, occurred_at, payload FROM event_outbox",
        tenant_id,
    )
    .and("NOT test", vec![]);
    if let Some(t) = event_type {
        select = select.and("event_type = ?", vec![Box::new(t)]);
    }
    let rows = select.page(list).fetch(client).await?;
    rows.iter()
        .map(|r| {
            Ok(EventView {
                id: row::get(r, TABLE, "id")?,
                event_type: row::get(r, TABLE, "event_type")?,
                created_at: row::get(r, TABLE, "occurred_at")?,
                data: row::get(r, TABLE, "payload")?,
            })
        })
        .collect()
}
