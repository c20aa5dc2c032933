use http::StatusCode;
use pm_auth::{ApiKeyAuth, Ctx};
use pm_domain::paging::timestamp_value;
use pm_domain::{ContactId, EventType, WorkspaceId};
use pm_http::list::{bad_parameter, parsed_param, query_param, timestamp_param};
use pm_http::resource::no_content;
use pm_http::{json, ApiError, Body, Code, Request, Response};
use pm_store::{begin, commit, outbox};

use crate::model::{Contact, ContactInput, ContactStatus};
use crate::store::{self, EmailTaken, Filters};
use crate::{validate, RESOURCE};

fn email_taken(EmailTaken(existing): EmailTaken) -> ApiError {
    let detail = match existing {
        Some(id) => format!("a contact with this email already exists: {id}"),
        None => "a contact with this email already exists".to_string(),
    };
    ApiError::conflict(Code::ContactExists, detail)
        .with_extension("existing_id", serde_json::json!(existing))
}

fn event_data(contact: &Contact) -> serde_json::Value {
    serde_json::to_value(contact).expect("contacts serialize")
}

fn filters(req: &Request) -> Result<Filters, ApiError> {
    let status = parsed_param::<ContactStatus>(
        req,
        "status",
        "subscribed, unsubscribed, bounced or complained",
    )?;
    let workspace_id = parsed_param::<WorkspaceId>(req, "workspace", "a UUID")?;
    Ok(Filters {
        email: query_param(req, "email"),
        tag: query_param(req, "tag"),
        status,
        workspace_id,
        created_after: timestamp_param(req, "created_after")?,
        created_before: timestamp_param(req, "created_before")?,
        q: search_term(req)?,
    })
}

/// The shortest search term: trigrams need three characters to narrow anything down,
/// and a shorter one would match most of a tenant's contacts.
pub const MIN_SEARCH_CHARS: usize = 3;

fn search_term(req: &Request) -> Result<Option<String>, ApiError> {
    let Some(q) = query_param(req, "q").filter(|q| !q.trim().is_empty()) else {
        return Ok(None);
    };
    if q.trim().chars().count() < MIN_SEARCH_CHARS {
        return Err(bad_parameter(
            Code::InvalidParameter,
            format!("q must be at least {MIN_SEARCH_CHARS} characters (got {q:?})"),
        ));
    }
    Ok(Some(q.trim().to_string()))
}

/// `GET /api/v1/contacts`
pub async fn list(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let list = cx.list_request()?;
        let filters = filters(&cx.req)?;
        let client = cx.db().client().await?;
        let rows = store::list(&**client, cx.tenant_id(), filters, &list).await?;
        let page = list.page(rows, |c| {
            let value = match list.sort_by() {
                "email" => c.email.clone(),
                "updated_at" => timestamp_value(&c.updated_at),
                _ => timestamp_value(&c.created_at),
            };
            (value, c.id.as_uuid())
        });
        json(StatusCode::OK, &page)
    })
    .await
}

/// `POST /api/v1/contacts` → 201; a duplicate email (any case) is 409 with its id.
pub async fn create(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let input: ContactInput = cx.body()?;
        let valid = validate::contact(&input)?;
        let mut client = cx.db().client().await?;
        let tx = begin(&mut client).await?;
        let contact = store::insert(&tx, cx.tenant_id(), &valid)
            .await?
            .map_err(email_taken)?;
        outbox::record(
            &tx,
            cx.tenant_id(),
            EventType::ContactCreated,
            &event_data(&contact),
        )
        .await?;
        commit(tx).await?;
        RESOURCE.created(contact.id, &contact)
    })
    .await
}

/// `GET /api/v1/contacts/{id}`
pub async fn get(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: ContactId = cx.path_id()?;
        let client = cx.db().client().await?;
        let contact = store::get(&**client, cx.tenant_id(), id)
            .await?
            .ok_or_else(|| cx.not_found(id))?;
        json(StatusCode::OK, &contact)
    })
    .await
}

/// `PUT /api/v1/contacts/{id}`: replaces every writable field (omitted ones are reset).
pub async fn replace(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: ContactId = cx.path_id()?;
        let input: ContactInput = cx.body()?;
        let valid = validate::contact(&input)?;
        let mut client = cx.db().client().await?;
        let tx = begin(&mut client).await?;
        let current = store::status_for_update(&tx, cx.tenant_id(), id)
            .await?
            .ok_or_else(|| cx.not_found(id))?;
        if current.is_suppressed() && valid.status == Some(ContactStatus::Subscribed) {
            return Err(suppressed(current));
        }
        let contact = store::replace(&tx, cx.tenant_id(), id, &valid)
            .await?
            .map_err(email_taken)?
            .ok_or_else(|| cx.not_found(id))?;
        outbox::record(
            &tx,
            cx.tenant_id(),
            EventType::ContactUpdated,
            &event_data(&contact),
        )
        .await?;
        commit(tx).await?;
        json(StatusCode::OK, &contact)
    })
    .await
}

fn suppressed(current: ContactStatus) -> ApiError {
    ApiError::conflict(
        Code::ContactSuppressed,
        format!(
            "this contact is {current}; setting it back to subscribed takes an explicit \
             POST /api/v1/contacts/{{id}}/resubscribe"
        ),
    )
}

/// The body of `POST /api/v1/contacts/{id}/resubscribe`: why it is all right to mail
/// this person again (their renewed consent), kept in the log and the event.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ResubscribeInput {
    reason: String,
}

/// `POST /api/v1/contacts/{id}/resubscribe`: the one way back to `subscribed` for a
/// contact that unsubscribed, bounced or complained. A subscribed contact stays as it is.
pub async fn resubscribe(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: ContactId = cx.path_id()?;
        let input: ResubscribeInput = cx.body()?;
        let mut errors = Vec::new();
        let reason = pm_http::fields::name("reason", &input.reason, 500, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let mut client = cx.db().client().await?;
        let tx = begin(&mut client).await?;
        let previous = store::status_for_update(&tx, cx.tenant_id(), id)
            .await?
            .ok_or_else(|| cx.not_found(id))?;
        let contact = store::set_status(&tx, cx.tenant_id(), id, ContactStatus::Subscribed)
            .await?
            .ok_or_else(|| cx.not_found(id))?;
        if previous.is_suppressed() {
            let mut data = event_data(&contact);
            data["resubscribed"] = serde_json::json!({"previous_status": previous, "reason": reason});
            outbox::record(&tx, cx.tenant_id(), EventType::ContactUpdated, &data).await?;
            tracing::info!(contact_id = %id, actor = %cx.actor(), %previous, "contact re-subscribed");
        }
        commit(tx).await?;
        json(StatusCode::OK, &contact)
    })
    .await
}

/// `DELETE /api/v1/contacts/{id}` → 204, and `contact.deleted` with the contact as it was.
pub async fn delete(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: ContactId = cx.path_id()?;
        let mut client = cx.db().client().await?;
        let tx = begin(&mut client).await?;
        let contact = store::delete(&tx, cx.tenant_id(), id)
            .await?
            .ok_or_else(|| cx.not_found(id))?;
        outbox::record(
            &tx,
            cx.tenant_id(),
            EventType::ContactDeleted,
            &event_data(&contact),
        )
        .await?;
        commit(tx).await?;
        no_content()
    })
    .await
}
