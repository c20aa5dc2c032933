use chrono::SecondsFormat;
use http::StatusCode;
use pm_auth::{ApiKeyAuth, Scope};
use pm_http::list::{list_request, query_param};
use pm_http::resource::{self, created, no_content, path_id};
use pm_http::{json, json_body, ApiError, Body, FieldError, Request, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::render::{check_syntax, render_parts, TemplateParts};
use crate::store;

const SCOPE: Option<Scope> = Some(Scope::ManageTemplates);
const MAX_BODY_CHARS: usize = 512 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateInput {
    name: String,
    subject: String,
    #[serde(default)]
    html: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenderInput {
    #[serde(default)]
    variables: serde_json::Map<String, serde_json::Value>,
}

const WHAT: &str = "template";

fn template_id(req: &Request) -> Result<Uuid, ApiError> {
    path_id(req, WHAT)
}

fn not_found(id: Uuid) -> ApiError {
    resource::not_found(WHAT, id)
}

/// Name 1–200 characters, subject 1–998 (the RFC 5322 line limit), at least one body,
/// and every part compiles.
fn validate(input: TemplateInput) -> Result<(String, TemplateParts), ApiError> {
    let mut errors = Vec::new();
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new(
            "name",
            "invalid_length",
            "name must be 1 to 200 characters",
        ));
    }
    if input.subject.trim().is_empty() || input.subject.chars().count() > 998 {
        errors.push(FieldError::new(
            "subject",
            "invalid_length",
            "subject must be 1 to 998 characters",
        ));
    }
    for (field, value) in [("name", &name), ("subject", &input.subject)] {
        if value.chars().any(char::is_control) {
            errors.push(FieldError::new(
                field,
                "invalid_characters",
                "line breaks and control characters are not allowed",
            ));
        }
    }
    let html = input.html.filter(|h| !h.trim().is_empty());
    let text = input.text.filter(|t| !t.trim().is_empty());
    if html.is_none() && text.is_none() {
        errors.push(FieldError::new(
            "html",
            "required",
            "give an html or a text body (or both)",
        ));
    }
    for (field, body) in [("html", &html), ("text", &text)] {
        if body
            .as_ref()
            .is_some_and(|b| b.chars().count() > MAX_BODY_CHARS)
        {
            errors.push(FieldError::new(
                field,
                "too_long",
                format!("at most {MAX_BODY_CHARS} characters"),
            ));
        }
    }
    let parts = TemplateParts {
        subject: input.subject,
        html,
        text,
    };
    if errors.is_empty() {
        errors = check_syntax(&parts);
    }
    if errors.is_empty() {
        Ok((name, parts))
    } else {
        Err(ApiError::validation(errors))
    }
}

/// `GET /api/v1/templates` (filter `name`: case-insensitive substring).
pub async fn list(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let list = list_request(&req, &store::SORTING)?;
        let name = query_param(&req, "name").filter(|n| !n.is_empty());
        let client = auth.db().client().await?;
        let rows = store::list(&**client, caller.tenant_id, name, &list).await?;
        let page = list.page(rows, |t| {
            let value = match list.sort_by {
                "name" => t.name.clone(),
                "updated_at" => t.updated_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                _ => t.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            };
            (value, t.id)
        });
        json(StatusCode::OK, &page)
    })
    .await
}

/// `POST /api/v1/templates` → 201.
pub async fn create(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let (name, parts) = validate(json_body(&req)?)?;
        let client = auth.db().client().await?;
        let template = store::insert(&**client, caller.tenant_id, &name, &parts).await?;
        created(&format!("/api/v1/templates/{}", template.id), &template)
    })
    .await
}

/// `GET /api/v1/templates/{id}`
pub async fn get(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let id = template_id(&req)?;
        let client = auth.db().client().await?;
        let template = store::get(&**client, caller.tenant_id, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        json(StatusCode::OK, &template)
    })
    .await
}

/// `PUT /api/v1/templates/{id}`: replaces name, subject and bodies.
pub async fn replace(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let id = template_id(&req)?;
        let (name, parts) = validate(json_body(&req)?)?;
        let client = auth.db().client().await?;
        let template = store::replace(&**client, caller.tenant_id, id, &name, &parts)
            .await?
            .ok_or_else(|| not_found(id))?;
        json(StatusCode::OK, &template)
    })
    .await
}

/// `DELETE /api/v1/templates/{id}` → 204; a template a campaign uses is 409.
pub async fn delete(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let id = template_id(&req)?;
        let client = auth.db().client().await?;
        match store::delete(&**client, caller.tenant_id, id).await? {
            store::Deleted::Yes => {}
            store::Deleted::NotFound => return Err(not_found(id)),
            store::Deleted::InUse(campaign) => {
                return Err(ApiError::conflict(
                    "template_in_use",
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
    auth.guard(req, SCOPE, |req, caller| async move {
        let id = template_id(&req)?;
        let input: RenderInput = json_body(&req)?;
        let client = auth.db().client().await?;
        let template = store::get(&**client, caller.tenant_id, id)
            .await?
            .ok_or_else(|| not_found(id))?;
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
