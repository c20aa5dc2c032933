use http::StatusCode;
use pm_auth::{ApiKeyAuth, Ctx};
use pm_domain::paging::timestamp_value;
use pm_domain::{CampaignId, EventType, TenantId};
use pm_http::list::{parsed_param, query_param};
use pm_http::resource::no_content;
use pm_http::{json, ApiError, Body, Code, FieldError, Request, Response};
use pm_store::{begin, commit, outbox, Transaction};

use crate::model::{Campaign, CampaignInput, CampaignStatus};
use crate::validate::{self, ValidCampaign};
use crate::{store, RESOURCE};

/// What campaign events carry: the campaign without its steps' bodies (a step may hold
/// up to 512 KiB of inline HTML; twenty of them would not fit a queue message), with
/// the step count instead. Receivers fetch the campaign for the rest.
fn event_data(campaign: &Campaign) -> serde_json::Value {
    serde_json::json!({
        "id": campaign.id,
        "name": campaign.name,
        "status": campaign.status,
        "sender": campaign.sender,
        "step_count": campaign.steps.len(),
        "audience": campaign.audience,
        "started_at": campaign.started_at,
        "created_at": campaign.created_at,
        "updated_at": campaign.updated_at,
    })
}

/// 409 for an action the campaign's status forbids, naming that status.
fn conflict(code: Code, campaign: &Campaign, action: &str) -> ApiError {
    ApiError::conflict(
        code,
        format!(
            "cannot {action} a campaign that is {}",
            campaign.status.as_str()
        ),
    )
    .with_extension("current_status", serde_json::json!(campaign.status))
}

/// The checks that need the database: referenced templates and contacts belong to the
/// tenant, and the time zone exists. Run inside the write's transaction.
async fn validate_against_store(
    client: &impl tokio_postgres::GenericClient,
    tenant_id: TenantId,
    valid: &ValidCampaign,
) -> Result<(), ApiError> {
    let mut errors: Vec<FieldError> = store::unknown_templates(client, tenant_id, valid)
        .await?
        .into_iter()
        .map(|(i, id)| {
            FieldError::new(
                format!("steps[{i}].template_id"),
                "unknown_template",
                format!("no template {id}"),
            )
        })
        .collect();
    for id in store::unknown_contacts(client, tenant_id, valid).await? {
        errors.push(FieldError::new(
            "audience.contact_ids",
            "unknown_contact",
            format!("no contact {id}"),
        ));
    }
    // The sender reads the zone with chrono-tz, so that is the list that decides.
    if valid.schedule.time_zone.parse::<chrono_tz::Tz>().is_err() {
        errors.push(FieldError::new(
            "schedule.time_zone",
            "invalid_time_zone",
            format!("{:?} is not an IANA time zone", valid.schedule.time_zone),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

async fn locked(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    id: CampaignId,
) -> Result<Campaign, ApiError> {
    store::lock(tx, tenant_id, id)
        .await?
        .ok_or_else(|| RESOURCE.not_found(id))
}

/// `GET /api/v1/campaigns` (filters `status`, `name`).
pub async fn list(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let list = cx.list_request()?;
        let status = parsed_param::<CampaignStatus>(
            &cx.req,
            "status",
            "draft, active, paused or completed",
        )?;
        let name = query_param(&cx.req, "name").filter(|n| !n.is_empty());
        let client = cx.db().client().await?;
        let rows = store::list(&**client, cx.tenant_id(), status, name, &list).await?;
        let page = list.page(rows, |c| {
            let value = match list.sort_by() {
                "name" => c.name.clone(),
                "updated_at" => timestamp_value(&c.updated_at),
                _ => timestamp_value(&c.created_at),
            };
            (value, c.id.as_uuid())
        });
        json(StatusCode::OK, &page)
    })
    .await
}

/// `POST /api/v1/campaigns` → 201, as a draft.
pub async fn create(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let input: CampaignInput = cx.body()?;
        let valid = validate::campaign(input)?;
        let mut client = cx.db().client().await?;
        let tx = begin(&mut client).await?;
        validate_against_store(&*tx, cx.tenant_id(), &valid).await?;
        let campaign = store::insert(&tx, cx.tenant_id(), &valid).await?;
        commit(tx).await?;
        RESOURCE.created(campaign.id, &campaign)
    })
    .await
}

/// `GET /api/v1/campaigns/{id}`
pub async fn get(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: CampaignId = cx.path_id()?;
        let client = cx.db().client().await?;
        let campaign = store::get(&**client, cx.tenant_id(), id)
            .await?
            .ok_or_else(|| cx.not_found(id))?;
        json(StatusCode::OK, &campaign)
    })
    .await
}

/// `PUT /api/v1/campaigns/{id}`: replaces the writable fields. A running campaign's
/// steps cannot change, and a completed campaign cannot change at all (409).
pub async fn replace(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: CampaignId = cx.path_id()?;
        let input: CampaignInput = cx.body()?;
        let valid = validate::campaign(input)?;
        let mut client = cx.db().client().await?;
        let tx = begin(&mut client).await?;
        let current = locked(&tx, cx.tenant_id(), id).await?;
        match current.status {
            CampaignStatus::Completed => {
                return Err(conflict(Code::CampaignCompleted, &current, "edit"))
            }
            CampaignStatus::Active if current.steps != valid.steps => {
                return Err(conflict(
                    Code::CampaignRunning,
                    &current,
                    "change the steps of",
                ))
            }
            _ => {}
        }
        validate_against_store(&*tx, cx.tenant_id(), &valid).await?;
        let campaign = store::replace(&tx, cx.tenant_id(), id, &valid).await?;
        commit(tx).await?;
        json(StatusCode::OK, &campaign)
    })
    .await
}

/// `DELETE /api/v1/campaigns/{id}` → 204; an active campaign must be paused first (409).
pub async fn delete(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: CampaignId = cx.path_id()?;
        let mut client = cx.db().client().await?;
        let tx = begin(&mut client).await?;
        let current = locked(&tx, cx.tenant_id(), id).await?;
        if current.status == CampaignStatus::Active {
            return Err(conflict(Code::CampaignRunning, &current, "delete"));
        }
        store::delete(&tx, cx.tenant_id(), id).await?;
        commit(tx).await?;
        no_content()
    })
    .await
}

/// `POST /api/v1/campaigns/{id}/start`: draft or paused → active, with
/// `campaign.started` in the outbox. No steps or an audience matching no subscribed
/// contact is 422 `campaign_not_ready`.
pub async fn start(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: CampaignId = cx.path_id()?;
        let mut client = cx.db().client().await?;
        let tx = begin(&mut client).await?;
        let current = locked(&tx, cx.tenant_id(), id).await?;
        if !matches!(
            current.status,
            CampaignStatus::Draft | CampaignStatus::Paused
        ) {
            return Err(conflict(Code::InvalidTransition, &current, "start"));
        }
        let mut errors = Vec::new();
        if current.steps.is_empty() {
            errors.push(FieldError::new(
                "steps",
                "required",
                "a campaign needs at least one step",
            ));
        }
        if !store::sender_registered(&*tx, cx.tenant_id(), &current.sender.from_email).await? {
            errors.push(FieldError::new(
                "sender.from_email",
                "sender_not_allowed",
                "not a registered sender of this account (see /api/v1/platform/email-providers)",
            ));
        }
        if store::audience_size(&*tx, cx.tenant_id(), &current).await? == 0 {
            errors.push(FieldError::new(
                "audience",
                "empty",
                "the audience matches no subscribed contact",
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Code::CampaignNotReady,
                "Campaign not ready",
                "the campaign cannot start yet; see errors",
            )
            .with_errors(errors));
        }
        let campaign = store::set_status(&tx, cx.tenant_id(), id, CampaignStatus::Active).await?;
        outbox::record(
            &tx,
            cx.tenant_id(),
            EventType::CampaignStarted,
            &event_data(&campaign),
        )
        .await?;
        commit(tx).await?;
        json(StatusCode::OK, &campaign)
    })
    .await
}

/// `POST /api/v1/campaigns/{id}/pause`: active → paused.
pub async fn pause(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &RESOURCE, |cx: Ctx| async move {
        let id: CampaignId = cx.path_id()?;
        let mut client = cx.db().client().await?;
        let tx = begin(&mut client).await?;
        let current = locked(&tx, cx.tenant_id(), id).await?;
        if current.status != CampaignStatus::Active {
            return Err(conflict(Code::InvalidTransition, &current, "pause"));
        }
        let campaign = store::set_status(&tx, cx.tenant_id(), id, CampaignStatus::Paused).await?;
        commit(tx).await?;
        json(StatusCode::OK, &campaign)
    })
    .await
}
