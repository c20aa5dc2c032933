//! `GET /api/v1/emails` and `GET /api/v1/emails/{id}` (with the timeline).

use http::StatusCode;
use pm_auth::{ApiKeyAuth, Ctx};
use pm_domain::paging::timestamp_value;
use pm_domain::{CampaignId, ContactId, EmailId};
use pm_http::list::{parsed_param, query_param, timestamp_param};
use pm_http::{json, ApiError, Body, Request, Response};

use crate::model::EmailStatus;
use crate::RESOURCE;
use pm_email_delivery::store::{self, Filters};

fn filters(req: &Request) -> Result<Filters, ApiError> {
    let names: Vec<&str> = EmailStatus::ALL.iter().map(|s| s.as_str()).collect();
    let status =
        parsed_param::<EmailStatus>(req, "status", &format!("one of {}", names.join(", ")))?;
    Ok(Filters {
        status,
        campaign_id: parsed_param::<CampaignId>(req, "campaign_id", "a UUID")?,
        contact_id: parsed_param::<ContactId>(req, "contact_id", "a UUID")?,
        recipient: query_param(req, "recipient").filter(|r| !r.is_empty()),
        tag: query_param(req, "tag").filter(|t| !t.is_empty()),
        created_after: timestamp_param(req, "created_after")?,
        created_before: timestamp_param(req, "created_before")?,
    })
}

/// `GET /api/v1/emails`
pub async fn list(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let list = cx.list_request()?;
        let filters = filters(&cx.req)?;
        let client = cx.db().client().await?;
        let rows = store::list(&**client, cx.tenant_id(), filters, &list).await?;
        let page = list.page(rows, |e| (timestamp_value(&e.created_at), e.id.as_uuid()));
        json(StatusCode::OK, &page)
    })
    .await
}

/// `GET /api/v1/emails/{id}`
pub async fn get(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: EmailId = cx.path_id()?;
        let client = cx.db().client().await?;
        let email = store::get(&client, cx.tenant_id(), id)
            .await?
            .ok_or_else(|| cx.not_found(id))?;
        json(StatusCode::OK, &email)
    })
    .await
}
