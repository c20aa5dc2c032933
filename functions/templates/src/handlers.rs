use http::StatusCode;
use pm_auth::{ApiKeyAuth, Ctx};
use pm_domain::paging::timestamp_value;
use pm_domain::TemplateId;
use pm_http::list::query_param;
use pm_http::resource::no_content;
use pm_http::{json, ApiError, Body, Code, Request, Response};

use crate::model::RenderInput;
use crate::render::render_parts;
use crate::{store, validate, RESOURCE};

/// `GET /api/v1/templates` (filter `name`: case-insensitive substring).
pub async fn list(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let list = cx.list_request()?;
        let name = query_param(&cx.req, "name").filter(|n| !n.is_empty());
        let client = cx.db().client().await?;
        let rows = store::list(&**client, cx.tenant_id(), name, &list).await?;
        let page = list.page(rows, |t| {
            let value = match list.sort_by() {
                "name" => t.name.clone(),
                "updated_at" => timestamp_value(&t.updated_at),
                _ => timestamp_value(&t.created_at),
            };
            (value, t.id.as_uuid())
        });
        json(StatusCode::OK, &page)
    })
    .await
}

/// `POST /api/v1/templates` → 201.
pub async fn create(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let (name, parts) = validate::template(cx.body()?)?;
        let client = cx.db().client().await?;
        let template = store::insert(&**client, cx.tenant_id(), &name, &parts).await?;
        RESOURCE.created(template.id, &template)
    })
    .await
}

/// `GET /api/v1/templates/{id}`
pub async fn get(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: TemplateId = cx.path_id()?;
        let client = cx.db().client().await?;
        let template = store::get(&**client, cx.tenant_id(), id)
            .await?
            .ok_or_else(|| cx.not_found(id))?;
        json(StatusCode::OK, &template)
    })
    .await
}

/// `PUT /api/v1/templates/{id}`: replaces name, subject and bodies.
pub async fn replace(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: TemplateId = cx.path_id()?;
        let (name, parts) = validate::template(cx.body()?)?;
        let client = cx.db().client().await?;
        let template = store::replace(&**client, cx.tenant_id(), id, &name, &parts)
            .await?
            .ok_or_else(|| cx.not_found(id))?;
        json(StatusCode::OK, &template)
    })
    .await
}

/// `DELETE /api/v1/templates/{id}` → 204; a template a campaign uses is 409.
pub async fn delete(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: TemplateId = cx.path_id()?;
        let client = cx.db().client().await?;
        match store::delete(&**client, cx.tenant_id(), id).await? {
            store::Deleted::Yes => {}
            store::Deleted::NotFound => return Err(cx.not_found(id)),
            store::Deleted::InUse(campaign) => {
                return Err(ApiError::conflict(
                    Code::TemplateInUse,
                    format!("campaign {campaign} uses this template; change its steps first"),
                )
                .with_extension("campaign_id", serde_json::json!(campaign)))
            }
        }
        no_content()
    })
    .await
}

/// `POST /api/v1/templates/{id}/render`: `{"variables": {...}}` in, the rendered
/// subject, html and text out. A variable with no value and no default is a 422
/// `missing_variable` naming each one.
pub async fn render(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: TemplateId = cx.path_id()?;
        let input: RenderInput = cx.body()?;
        let client = cx.db().client().await?;
        let template = store::get(&**client, cx.tenant_id(), id)
            .await?
            .ok_or_else(|| cx.not_found(id))?;
        drop(client);
        let parts = template.parts();
        // Rendering is CPU work with a fuel limit; keep it off the async threads.
        let rendered = tokio::task::spawn_blocking(move || render_parts(&parts, &input.variables))
            .await
            .map_err(|_| ApiError::internal())??;
        json(StatusCode::OK, &rendered)
    })
    .await
}
