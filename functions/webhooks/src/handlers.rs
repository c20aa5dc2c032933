use chrono::Utc;
use http::StatusCode;
use pm_auth::{Ctx, Principal};
use pm_domain::paging::timestamp_value;
use pm_domain::{DeliveryMessage, EventType, WebhookId};
use pm_http::bounded::Bounded;
use pm_http::list::parsed_param;
use pm_http::resource::no_content;
use pm_http::{json, ApiError, Body, Request, Response};
use pm_store::{begin, commit};
use pm_webhook_delivery::deliveries::{self, Next};
use pm_webhook_delivery::model::WebhookState;
use pm_webhook_delivery::secrets;

use crate::model::{
    AttemptOutcome, NewWebhook, SecretView, TestInput, ValidWebhook, Webhook, WebhookInput,
    WebhookPatch,
};
use crate::store::{self, WebhookFilters};
use crate::{validate, WebhooksApi, RESOURCE};

/// A test send answers within API Gateway's 30 s, so it waits less than a delivery.
const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// The body holds a secret: no cache may keep it.
fn no_store(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}

async fn valid(api: &WebhooksApi, input: &WebhookInput) -> Result<ValidWebhook, ApiError> {
    let mut url_errors = Vec::new();
    let url = validate::url(
        &input.url,
        api.config.outbound,
        &api.lookup,
        &mut url_errors,
    )
    .await;
    validate::webhook(input, url, url_errors)
}

/// The tenant's webhook `id`, or the one 404.
pub(crate) async fn found(cx: &Ctx<'_>, id: WebhookId) -> Result<Webhook, ApiError> {
    let client = cx.db().client().await?;
    store::get(&**client, cx.tenant_id(), id)
        .await?
        .ok_or_else(|| cx.not_found(id))
}

/// `POST /api/v1/webhooks` → 201 with the signing secret, shown here and by `GET …/secret`.
pub async fn create(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let input: WebhookInput = cx.body()?;
            let valid = valid(api, &input).await?;
            let mut client = cx.db().client().await?;
            let tx = begin(&mut client).await?;
            let webhook = store::insert(&tx, cx.tenant_id(), &valid).await?;
            // The secret is stored before the row commits: a row never lacks its secret.
            let created = secrets::create(api.secrets.as_ref(), cx.tenant_id(), webhook.id).await?;
            if let Err(e) = commit(tx).await {
                let _ = secrets::delete(api.secrets.as_ref(), cx.tenant_id(), webhook.id).await;
                return Err(e.into());
            }
            tracing::info!(webhook_id = %webhook.id, actor = %cx.actor(), "webhook created");
            let body = NewWebhook {
                webhook: &webhook,
                secret: created.current.expose(),
            };
            RESOURCE.created(webhook.id, &body).map(no_store)
        })
        .await
}

fn list_filters(req: &Request) -> Result<WebhookFilters, ApiError> {
    let enabled = parsed_param::<bool>(req, "enabled", "true or false")?;
    let state =
        parsed_param::<WebhookState>(req, "state", "healthy, degraded, failing or disabled")?;
    let event_type = parsed_param::<EventType>(req, "event_type", "an event type")?;
    Ok(WebhookFilters {
        enabled,
        state,
        event_type,
    })
}

/// `GET /api/v1/webhooks` (filters `enabled`, `state`, `event_type`).
pub async fn list(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let list = cx.list_request()?;
            let filters = list_filters(&cx.req)?;
            let client = cx.db().client().await?;
            let rows = store::list(&**client, cx.tenant_id(), filters, &list).await?;
            let page = list.page(rows, |w| {
                let at = match list.sort_by() {
                    "updated_at" => &w.updated_at,
                    _ => &w.created_at,
                };
                (timestamp_value(at), w.id.as_uuid())
            });
            json(StatusCode::OK, &page)
        })
        .await
}

/// `GET /api/v1/webhooks/event-types`: the catalog with a sample of each.
pub async fn event_types(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |_| async move {
            let data: Vec<serde_json::Value> = EventType::ALL
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "type": t,
                        "description": t.description(),
                        "sample": t.sample_data(),
                    })
                })
                .collect();
            json(StatusCode::OK, &serde_json::json!({ "data": data }))
        })
        .await
}

/// `GET /api/v1/webhooks/{id}`
pub async fn get(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let webhook = found(&cx, cx.path_id()?).await?;
            json(StatusCode::OK, &webhook)
        })
        .await
}

async fn save(cx: &Ctx<'_>, id: WebhookId, valid: &ValidWebhook) -> Result<Webhook, ApiError> {
    let client = cx.db().client().await?;
    store::update(&**client, cx.tenant_id(), id, valid)
        .await?
        .ok_or_else(|| cx.not_found(id))
}

/// `PUT /api/v1/webhooks/{id}`: replaces every writable field (omitted ones reset).
pub async fn replace(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let id: WebhookId = cx.path_id()?;
            let input: WebhookInput = cx.body()?;
            found(&cx, id).await?;
            let valid = valid(api, &input).await?;
            json(StatusCode::OK, &save(&cx, id, &valid).await?)
        })
        .await
}

/// `PATCH /api/v1/webhooks/{id}`: changes the fields given; `"enabled": true`
/// re-enables a disabled webhook.
pub async fn update(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let id: WebhookId = cx.path_id()?;
            let patch: WebhookPatch = cx.body()?;
            let current = found(&cx, id).await?;
            let valid = if patch.url.is_some()
                || patch.event_types.is_some()
                || patch.filters.is_some()
                || patch.retry_policy.is_some()
                || patch.description.is_some()
            {
                // Re-validate the merged whole, so a patch obeys the same rules as a PUT.
                let merged = WebhookInput {
                    url: patch.url.clone().unwrap_or_else(|| current.url.clone()),
                    description: patch
                        .description
                        .clone()
                        .unwrap_or_else(|| current.description.clone()),
                    event_types: patch.event_types.clone().unwrap_or_else(|| {
                        Bounded::new(current.event_types.clone()).expect("stored lists fit")
                    }),
                    filters: patch.filters.or_else(|| {
                        Some(crate::model::FiltersInput {
                            workspace_ids: strings(&current.filters.workspace_ids),
                            campaign_ids: strings(&current.filters.campaign_ids),
                            tags: Bounded::new(current.filters.tags.clone())
                                .expect("stored lists fit"),
                        })
                    }),
                    enabled: Some(patch.enabled.unwrap_or(current.enabled)),
                    retry_policy: Some(
                        patch
                            .retry_policy
                            .clone()
                            .unwrap_or_else(|| current.retry_policy.to_string()),
                    ),
                };
                valid(api, &merged).await?
            } else {
                ValidWebhook {
                    enabled: patch.enabled.unwrap_or(current.enabled),
                    ..ValidWebhook::from(&current)
                }
            };
            json(StatusCode::OK, &save(&cx, id, &valid).await?)
        })
        .await
}

fn strings<T: ToString, const MAX: usize>(items: &[T]) -> Bounded<String, MAX> {
    Bounded::new(items.iter().map(T::to_string).collect()).expect("stored lists fit")
}

/// `DELETE /api/v1/webhooks/{id}` → 204; its deliveries and secret go with it.
pub async fn delete(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let id: WebhookId = cx.path_id()?;
            let mut client = cx.db().client().await?;
            let tx = begin(&mut client).await?;
            if !store::delete(&tx, cx.tenant_id(), id).await? {
                return Err(cx.not_found(id));
            }
            commit(tx).await?;
            if let Err(e) = secrets::delete(api.secrets.as_ref(), cx.tenant_id(), id).await {
                // The row is gone, so nothing can sign with it; log the leftover.
                tracing::warn!(webhook_id = %id, error = %e, "webhook secret left behind");
            }
            no_content()
        })
        .await
}

fn secret_view(
    secrets: Option<secrets::Secrets>,
    id: WebhookId,
) -> Result<Response<Body>, ApiError> {
    let secrets = secrets.ok_or_else(|| {
        tracing::error!(webhook_id = %id, "webhook has no signing secret");
        ApiError::internal()
    })?;
    let now = Utc::now();
    json(
        StatusCode::OK,
        &SecretView {
            secret: secrets.current.expose(),
            previous_expires_at: secrets.previous_expires_at(now),
        },
    )
    .map(no_store)
}

/// `GET /api/v1/webhooks/{id}/secret` (with a session: owners and admins only, as for
/// any change, since the secret lets its holder forge deliveries).
pub async fn secret(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            if let Principal::Session(session) = &cx.principal {
                session.require_manager()?;
            }
            let id: WebhookId = cx.path_id()?;
            found(&cx, id).await?;
            let secrets = secrets::load(api.secrets.as_ref(), cx.tenant_id(), id).await?;
            secret_view(secrets, id)
        })
        .await
}

/// `POST /api/v1/webhooks/{id}/rotate-secret`: a new secret; the old one keeps signing
/// beside it for 24 hours.
pub async fn rotate_secret(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let id: WebhookId = cx.path_id()?;
            found(&cx, id).await?;
            let rotated =
                secrets::rotate(api.secrets.as_ref(), cx.tenant_id(), id, Utc::now()).await?;
            tracing::info!(webhook_id = %id, actor = %cx.actor(), "webhook secret rotated");
            secret_view(rotated, id)
        })
        .await
}

/// `POST /api/v1/webhooks/{id}/test` with `{"event_type": …}`: sends that type's sample
/// now, signed like any delivery and recorded as one (in the log, replayable), and
/// answers how it went. It is not retried: its answer is the point.
pub async fn test(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let id: WebhookId = cx.path_id()?;
            let input: TestInput = cx.body()?;
            found(&cx, id).await?;
            let secrets = secrets::load(api.secrets.as_ref(), cx.tenant_id(), id)
                .await?
                .ok_or_else(ApiError::internal)?;
            let timeout = api.config.timeout.min(TEST_TIMEOUT);
            // Recorded first and claimed like a queued delivery, so the dispatcher's own
            // steps log it; the connection is not held while the endpoint answers.
            let claimed = {
                let client = cx.db().client().await?;
                let delivery = store::record_test_event(
                    &**client,
                    cx.tenant_id(),
                    id,
                    input.event_type,
                    &input.event_type.sample_data(),
                    api.config.lease,
                )
                .await?;
                let message = DeliveryMessage {
                    delivery_id: delivery,
                    attempt: 1,
                };
                deliveries::claim(&**client, message, api.config.lease)
                    .await?
                    .ok_or_else(ApiError::internal)?
            };
            let attempted = claimed
                .send(&api.client, api.config.outbound, timeout, &secrets)
                .await;
            let next = if attempted.succeeded() {
                Next::Succeeded
            } else {
                Next::Failed
            };
            let client = cx.db().client().await?;
            deliveries::record(
                &**client,
                &claimed,
                &attempted,
                next,
                None,
                api.config.disable_after,
            )
            .await?;
            json(
                StatusCode::OK,
                &AttemptOutcome {
                    delivery_id: claimed.delivery_id,
                    success: attempted.succeeded(),
                    status_code: attempted.status_code,
                    response_ms: attempted.response_ms,
                    error_kind: attempted.error_kind(),
                    response_excerpt: attempted.excerpt,
                },
            )
        })
        .await
}
