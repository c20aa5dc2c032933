//! A webhook's delivery log: list, one delivery with every attempt, replay one,
//! recover every failed one since a time, and health figures.

use chrono::Utc;
use http::StatusCode;
use pm_auth::Ctx;
use pm_domain::paging::timestamp_value;
use pm_domain::{DeliveryId, DeliveryMessage, EventType, WebhookId};
use pm_http::list::{list_request, parsed_param, timestamp_param};
use pm_http::{json, ApiError, Body, Code, FieldError, Request, RequestExt, Response};
use pm_ports::queue::{catalog, MAX_BATCH};
use pm_webhook_delivery::deliveries;
use pm_webhook_delivery::model::DeliveryStatus;

use crate::model::{delivery_detail, RecoverInput, StatsWindow, Webhook};
use crate::store::{self, DeliveryFilters};
use crate::{WebhooksApi, DELIVERIES, RESOURCE};

/// The webhook the path names (`{id}`).
async fn webhook(cx: &Ctx<'_>) -> Result<Webhook, ApiError> {
    crate::handlers::found(cx, cx.path_id::<WebhookId>()?).await
}

/// The `{delivery_id}` path parameter (malformed: the same 404 as missing).
fn delivery_id(req: &Request) -> Result<DeliveryId, ApiError> {
    let raw = req
        .path_parameters_ref()
        .and_then(|p| p.first("delivery_id"))
        .unwrap_or_default();
    raw.parse()
        .map_err(|_| DELIVERIES.not_found(format_args!("{raw:?}")))
}

/// `GET /api/v1/webhooks/{id}/deliveries` (filters `status`, `event_type`,
/// `created_after`, `created_before`), newest first.
pub async fn deliveries(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let webhook = webhook(&cx).await?;
            let list = list_request(&cx.req, &DELIVERIES.sorting)?;
            let filters = DeliveryFilters {
                status: parsed_param::<DeliveryStatus>(
                    &cx.req,
                    "status",
                    "pending, sending, retrying, succeeded or failed",
                )?,
                event_type: parsed_param::<EventType>(&cx.req, "event_type", "an event type")?,
                created_after: timestamp_param(&cx.req, "created_after")?,
                created_before: timestamp_param(&cx.req, "created_before")?,
            };
            let client = cx.db().client().await?;
            let rows =
                store::deliveries(&**client, cx.tenant_id(), webhook.id, filters, &list).await?;
            let page = list.page(rows, |d| (timestamp_value(&d.created_at), d.id.as_uuid()));
            json(StatusCode::OK, &page)
        })
        .await
}

/// `GET /api/v1/webhooks/{id}/deliveries/{delivery_id}`: the delivery, the body as
/// sent, and every attempt.
pub async fn delivery(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let webhook = webhook(&cx).await?;
            let id = delivery_id(&cx.req)?;
            let client = cx.db().client().await?;
            let (delivery, payload) = store::delivery(&**client, cx.tenant_id(), webhook.id, id)
                .await?
                .ok_or_else(|| DELIVERIES.not_found(id))?;
            let attempts = store::attempts(&**client, id).await?;
            json(
                StatusCode::OK,
                &delivery_detail(&delivery, payload, &attempts),
            )
        })
        .await
}

async fn enqueue(api: &WebhooksApi, messages: &[DeliveryMessage]) -> Result<(), ApiError> {
    for chunk in messages.chunks(MAX_BATCH) {
        for outcome in catalog::DELIVERIES
            .send_batch(api.queue.as_ref(), chunk)
            .await?
        {
            if let Err(e) = outcome {
                // Recorded as due: the requeue schedule sends it.
                tracing::warn!(error = %e, "replay not queued now; the requeue will");
            }
        }
    }
    Ok(())
}

/// `POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry` → 202: sends it again
/// now, under the same delivery id, on a fresh retry schedule.
pub async fn retry(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let webhook = webhook(&cx).await?;
            let id = delivery_id(&cx.req)?;
            let client = cx.db().client().await?;
            store::delivery(&**client, cx.tenant_id(), webhook.id, id)
                .await?
                .ok_or_else(|| DELIVERIES.not_found(id))?;
            let message =
                deliveries::replay(&**client, cx.tenant_id(), id, api.config.requeue_after)
                    .await?
                    .ok_or_else(|| {
                        ApiError::conflict(
                            Code::DeliveryInFlight,
                            "this delivery is being sent right now; retry after it finishes",
                        )
                    })?;
            enqueue(api, &[message]).await?;
            let (delivery, _) = store::delivery(&**client, cx.tenant_id(), webhook.id, id)
                .await?
                .ok_or_else(|| DELIVERIES.not_found(id))?;
            json(StatusCode::ACCEPTED, &delivery)
        })
        .await
}

/// `POST /api/v1/webhooks/{id}/recover` with `{"since": …}` → 202: every failed
/// delivery made since then is sent again, under its own delivery id.
pub async fn recover(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let webhook = webhook(&cx).await?;
            let input: RecoverInput = cx.body()?;
            if input.since > Utc::now() {
                return Err(ApiError::validation(vec![FieldError::new(
                    "since",
                    "invalid_value",
                    "since must not be in the future",
                )]));
            }
            let client = cx.db().client().await?;
            let messages = deliveries::recover(
                &**client,
                cx.tenant_id(),
                webhook.id,
                input.since,
                api.config.requeue_after,
            )
            .await?;
            enqueue(api, &messages).await?;
            json(
                StatusCode::ACCEPTED,
                &serde_json::json!({ "recovered": messages.len() }),
            )
        })
        .await
}

/// `GET /api/v1/webhooks/{id}/stats?window=1h|24h|7d` (default 24h).
pub async fn stats(req: Request, api: &WebhooksApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard_key_or_session(req, &RESOURCE, &api.sessions, |cx: Ctx| async move {
            let webhook = webhook(&cx).await?;
            let window = parsed_param::<StatsWindow>(&cx.req, "window", "1h, 24h or 7d")?
                .unwrap_or(StatsWindow::Day);
            let client = cx.db().client().await?;
            json(
                StatusCode::OK,
                &store::stats(&**client, &webhook, window).await?,
            )
        })
        .await
}
