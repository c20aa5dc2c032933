use chrono::SecondsFormat;
use http::StatusCode;
use pm_auth::{ApiKeyAuth, Scope};
use pm_http::list::{bad_parameter, list_request, query_param};
use pm_http::resource::{self, created, no_content, path_id};
use pm_http::{json, json_body, ApiError, Body, FieldError, Request, Response};
use pm_store::{outbox, DbError, Transaction};
use uuid::Uuid;

use crate::model::{Campaign, CampaignInput, CampaignStatus};
use crate::store;
use crate::validate::{self, ValidCampaign};

const SCOPE: Option<Scope> = Some(Scope::ManageCampaigns);

const WHAT: &str = "campaign";

fn campaign_id(req: &Request) -> Result<Uuid, ApiError> {
    path_id(req, WHAT)
}

fn not_found(id: Uuid) -> ApiError {
    resource::not_found(WHAT, id)
}

/// 409 for an action the campaign's status forbids, naming that status.
fn conflict(code: &'static str, campaign: &Campaign, action: &str) -> ApiError {
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
    tenant_id: Uuid,
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
    if !store::time_zone_exists(client, &valid.schedule.time_zone).await? {
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

async fn locked(tx: &Transaction<'_>, tenant_id: Uuid, id: Uuid) -> Result<Campaign, ApiError> {
    store::lock(tx, tenant_id, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// `GET /api/v1/campaigns` (filters `status`, `name`).
pub async fn list(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let list = list_request(&req, &store::SORTING)?;
        let status = query_param(&req, "status")
            .map(|raw| {
                CampaignStatus::parse(&raw).ok_or_else(|| {
                    bad_parameter(
                        "invalid_parameter",
                        format!("status must be draft, active, paused or completed (got {raw:?})"),
                    )
                })
            })
            .transpose()?;
        let name = query_param(&req, "name").filter(|n| !n.is_empty());
        let client = auth.db().client().await?;
        let rows = store::list(&**client, caller.tenant_id, status, name, &list).await?;
        let page = list.page(rows, |c| {
            let value = match list.sort_by {
                "name" => c.name.clone(),
                "updated_at" => c.updated_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                _ => c.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            };
            (value, c.id)
        });
        json(StatusCode::OK, &page)
    })
    .await
}

/// `POST /api/v1/campaigns` → 201, as a draft.
pub async fn create(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let input: CampaignInput = json_body(&req)?;
        let valid = validate::campaign(input)?;
        let mut client = auth.db().client().await?;
        let tx = client.transaction().await.map_err(DbError::from)?;
        validate_against_store(&*tx, caller.tenant_id, &valid).await?;
        let campaign = store::insert(&tx, caller.tenant_id, &valid).await?;
        tx.commit().await.map_err(DbError::from)?;
        created(&format!("/api/v1/campaigns/{}", campaign.id), &campaign)
    })
    .await
}

/// `GET /api/v1/campaigns/{id}`
pub async fn get(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let id = campaign_id(&req)?;
        let client = auth.db().client().await?;
        let campaign = store::get(&**client, caller.tenant_id, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        json(StatusCode::OK, &campaign)
    })
    .await
}

/// `PUT /api/v1/campaigns/{id}`: replaces the writable fields. A running campaign's
/// steps cannot change, and a completed campaign cannot change at all (409).
pub async fn replace(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let id = campaign_id(&req)?;
        let input: CampaignInput = json_body(&req)?;
        let valid = validate::campaign(input)?;
        let mut client = auth.db().client().await?;
        let tx = client.transaction().await.map_err(DbError::from)?;
        let current = locked(&tx, caller.tenant_id, id).await?;
        match current.status {
            CampaignStatus::Completed => {
                return Err(conflict("campaign_completed", &current, "edit"))
            }
            CampaignStatus::Active if current.steps != valid.steps => {
                return Err(conflict(
                    "campaign_running",
                    &current,
                    "change the steps of",
                ))
            }
            _ => {}
        }
        validate_against_store(&*tx, caller.tenant_id, &valid).await?;
        let campaign = store::replace(&tx, id, &valid).await?;
        tx.commit().await.map_err(DbError::from)?;
        json(StatusCode::OK, &campaign)
    })
    .await
}

/// `DELETE /api/v1/campaigns/{id}` → 204; an active campaign must be paused first (409).
pub async fn delete(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let id = campaign_id(&req)?;
        let mut client = auth.db().client().await?;
        let tx = client.transaction().await.map_err(DbError::from)?;
        let current = locked(&tx, caller.tenant_id, id).await?;
        if current.status == CampaignStatus::Active {
            return Err(conflict("campaign_running", &current, "delete"));
        }
        store::delete(&tx, id).await?;
        tx.commit().await.map_err(DbError::from)?;
        no_content()
    })
    .await
}

/// `POST /api/v1/campaigns/{id}/start`: draft or paused → active, with
/// `campaign.started` in the outbox. No steps or an audience matching no subscribed
/// contact is 422 `campaign_not_ready`.
pub async fn start(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let id = campaign_id(&req)?;
        let mut client = auth.db().client().await?;
        let tx = client.transaction().await.map_err(DbError::from)?;
        let current = locked(&tx, caller.tenant_id, id).await?;
        if !matches!(
            current.status,
            CampaignStatus::Draft | CampaignStatus::Paused
        ) {
            return Err(conflict("invalid_transition", &current, "start"));
        }
        let mut errors = Vec::new();
        if current.steps.is_empty() {
            errors.push(FieldError::new(
                "steps",
                "required",
                "a campaign needs at least one step",
            ));
        }
        if store::audience_size(&*tx, caller.tenant_id, &current).await? == 0 {
            errors.push(FieldError::new(
                "audience",
                "empty",
                "the audience matches no subscribed contact",
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "campaign_not_ready",
                "Campaign not ready",
                "the campaign cannot start yet; see errors",
            )
            .with_errors(errors));
        }
        let campaign = store::set_status(&tx, id, CampaignStatus::Active).await?;
        let data = serde_json::to_value(&campaign).expect("campaigns serialize");
        outbox::record(&tx, caller.tenant_id, "campaign.started", &data).await?;
        tx.commit().await.map_err(DbError::from)?;
        json(StatusCode::OK, &campaign)
    })
    .await
}

/// `POST /api/v1/campaigns/{id}/pause`: active → paused.
pub async fn pause(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, SCOPE, |req, caller| async move {
        let id = campaign_id(&req)?;
        let mut client = auth.db().client().await?;
        let tx = client.transaction().await.map_err(DbError::from)?;
        let current = locked(&tx, caller.tenant_id, id).await?;
        if current.status != CampaignStatus::Active {
            return Err(conflict("invalid_transition", &current, "pause"));
        }
        let campaign = store::set_status(&tx, id, CampaignStatus::Paused).await?;
        tx.commit().await.map_err(DbError::from)?;
        json(StatusCode::OK, &campaign)
    })
    .await
}
