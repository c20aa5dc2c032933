use chrono::SecondsFormat;
use http::StatusCode;
use pm_auth::{ApiKeyAuth, Scope};
use pm_http::list::{bad_parameter, list_request, query_param, timestamp_param};
use pm_http::resource::{self, created, no_content, path_id};
use pm_http::{json, json_body, ApiError, Body, Request, Response};
use pm_store::{outbox, DbError};
use uuid::Uuid;

use crate::model::{Contact, ContactInput, ContactStatus};
use crate::store::{self, EmailTaken, Filters};
use crate::validate;

const SCOPE: Option<Scope> = Some(Scope::ManageContacts);

const WHAT: &str = "contact";

fn contact_id(req: &Request) -> Result<Uuid, ApiError> {
    path_id(req, WHAT)
}

fn not_found(id: Uuid) -> ApiError {
    resource::not_found(WHAT, id)
}

fn email_taken(EmailTaken(existing): EmailTaken) -> ApiError {
    let detail = match existing {
        Some(id) => format!("a contact with this email already exists: {id}"),
        None => "a contact with this email already exists".to_string(),
    };
    ApiError::conflict("contact_exists", detail)
        .with_extension("existing_id", serde_json::json!(existing))
}

fn event_data(contact: &Contact) -> serde_json::Value {
    serde_json::to_value(contact).expect("contacts serialize")
}

fn filters(req: &Request) -> Result<Filters, ApiError> {
    let status = query_param(req, "status")
        .map(|raw| {
            ContactStatus::parse(&raw).ok_or_else(|| {
                bad_parameter(
                    "invalid_parameter",
                    format!("status must be subscribed, unsubscribed or bounced (got {raw:?})"),
                )
            })
        })
        .transpose()?;
    let workspace_id = query_param(req, "workspace")
        .map(|raw| {
            Uuid::parse_str(&raw).map_err(|_| {
                bad_parameter(
                    "invalid_parameter",
                    format!("workspace must be a UUID (got {raw:?})"),
                )
            })
        })
        .transpose()?;
    Ok(Filters {
        email: query_param(req, "email"),
        tag: query_param(req, "tag"),
        status,
        workspace_id,
        created_after: timestamp_param(req, "created_after")?,
        created_before: timestamp_param(req, "created_before")?,
        q: query_param(req, "q").filter(|q| !q.trim().is_empty()),
    })
}

/// `GET /api/v1/contacts`
pub async fn list(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let list = list_request(&req, &store::SORTING)?;
        let filters = filters(&req)?;
        let client = auth.db().client().await?;
        let rows = store::list(&**client, caller.tenant_id, filters, &list).await?;
        let page = list.page(rows, |c| {
            let value = match list.sort_by {
                "email" => c.email.clone(),
                "updated_at" => c.updated_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                _ => c.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            };
            (value, c.id)
        });
        json(StatusCode::OK, &page)
    })
    .await
}

/// `POST /api/v1/contacts` → 201; a duplicate email (any case) is 409 with its id.
pub async fn create(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let input: ContactInput = json_body(&req)?;
        let valid = validate::contact(&input)?;
        let mut client = auth.db().client().await?;
        let tx = client.transaction().await.map_err(DbError::from)?;
        let contact = store::insert(&tx, caller.tenant_id, &valid)
            .await?
            .map_err(email_taken)?;
        outbox::record(
            &tx,
            caller.tenant_id,
            "contact.created",
            &event_data(&contact),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        created(&format!("/api/v1/contacts/{}", contact.id), &contact)
    })
    .await
}

/// `GET /api/v1/contacts/{id}`
pub async fn get(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let id = contact_id(&req)?;
        let client = auth.db().client().await?;
        let contact = store::get(&**client, caller.tenant_id, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        json(StatusCode::OK, &contact)
    })
    .await
}

/// `PUT /api/v1/contacts/{id}`: replaces every writable field (omitted ones are reset).
pub async fn replace(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let id = contact_id(&req)?;
        let input: ContactInput = json_body(&req)?;
        let valid = validate::contact(&input)?;
        let mut client = auth.db().client().await?;
        let tx = client.transaction().await.map_err(DbError::from)?;
        let contact = store::replace(&tx, caller.tenant_id, id, &valid)
            .await?
            .map_err(email_taken)?
            .ok_or_else(|| not_found(id))?;
        outbox::record(
            &tx,
            caller.tenant_id,
            "contact.updated",
            &event_data(&contact),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        json(StatusCode::OK, &contact)
    })
    .await
}

/// `DELETE /api/v1/contacts/{id}` → 204.
pub async fn delete(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let id = contact_id(&req)?;
        let client = auth.db().client().await?;
        if !store::delete(&**client, caller.tenant_id, id).await? {
            return Err(not_found(id));
        }
        no_content()
    })
    .await
}
