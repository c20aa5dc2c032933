//! `POST /api/v1/emails/send`: validate, check the sender, recipient and suppression,
//! render, store as queued, hand to the sender, answer 202.

use chrono::Utc;
use http::StatusCode;
use pm_auth::{idempotency, Ctx, Principal};
use pm_domain::{ContactId, TenantId};
use pm_http::{json, ApiError, Body, Code, FieldError, Request, Response};
use pm_store::CachingClient;
use pm_templates::render_parts;

use crate::model::Email;
use crate::validate::{self, Content, Recipient, ValidSend};
use pm_email_delivery::providers::{self, Provider};
use pm_email_delivery::queueing;
use pm_email_delivery::store::{self, NewEmail};

use crate::{lookups, EmailsApi, RESOURCE};

fn unprocessable(code: Code, field: &str, detail: String) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code,
        "Cannot send",
        detail.clone(),
    )
    .with_errors(vec![FieldError::new(field, code.as_str(), detail)])
}

/// 202 with the email and where to follow it.
fn accepted(email: &Email) -> Result<Response<Body>, ApiError> {
    let mut response = json(StatusCode::ACCEPTED, email)?;
    if let Ok(location) = format!("{}/{}", RESOURCE.base_path, email.id).parse() {
        response
            .headers_mut()
            .insert(http::header::LOCATION, location);
    }
    Ok(response)
}

/// A Message-ID at the sender's domain, unique for this email and stable across retries.
pub fn new_message_id(from: &str) -> String {
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("penguinmails.invalid");
    format!("{}@{}", uuid::Uuid::new_v4(), domain.to_lowercase())
}

/// The recipient's address and contact (when the tenant has one for it), after
/// checking that no recipient is suppressed: one query over to, cc and bcc.
async fn resolve_recipients(
    client: &impl CachingClient,
    tenant_id: TenantId,
    valid: &ValidSend,
) -> Result<(String, Option<ContactId>), ApiError> {
    let to = match &valid.to {
        Recipient::Contact(id) => {
            store::contact_by_id(client, tenant_id, *id)
                .await?
                .ok_or_else(|| {
                    unprocessable(
                        Code::ContactNotFound,
                        "contact_id",
                        format!("no contact {id}"),
                    )
                })?
                .email
        }
        Recipient::Address(address) => address.clone(),
    };
    let mut all = vec![to.clone()];
    all.extend(valid.cc.iter().cloned());
    all.extend(valid.bcc.iter().cloned());
    let contacts = store::contacts_by_email(client, tenant_id, &all).await?;
    refuse_suppressed(&contacts)?;
    let contact_id = contacts
        .iter()
        .find(|c| c.email.eq_ignore_ascii_case(&to))
        .map(|c| c.id);
    Ok((to, contact_id))
}

/// A suppressed recipient (unsubscribed, bounced hard, complained) anywhere among to,
/// cc and bcc refuses the whole message.
fn refuse_suppressed(contacts: &[store::ContactRef]) -> Result<(), ApiError> {
    let suppressed: Vec<_> = contacts
        .iter()
        .filter(|c| c.status != "subscribed")
        .collect();
    if suppressed.is_empty() {
        return Ok(());
    }
    let errors = suppressed
        .iter()
        .map(|c| {
            FieldError::new(
                "to",
                "recipient_suppressed",
                format!("{} is {} and receives no email", c.email, c.status),
            )
        })
        .collect();
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        Code::RecipientSuppressed,
        "Recipient suppressed",
        "a recipient unsubscribed, bounced or complained; the platform will not send to them",
    )
    .with_errors(errors))
}

/// Subject and bodies: as given, or the template rendered with the variables.
async fn render(
    client: &impl CachingClient,
    tenant_id: TenantId,
    content: Content,
) -> Result<
    (
        String,
        Option<String>,
        Option<String>,
        Option<pm_domain::TemplateId>,
    ),
    ApiError,
> {
    match content {
        Content::Inline {
            subject,
            html,
            text,
        } => Ok((subject, html, text, None)),
        Content::Template { id, variables } => {
            let parts = lookups::template_parts(client, tenant_id, id)
                .await?
                .ok_or_else(|| {
                    unprocessable(
                        Code::TemplateNotFound,
                        "template_id",
                        format!("no template {id}"),
                    )
                })?;
            let rendered = tokio::task::spawn_blocking(move || render_parts(&parts, &variables))
                .await
                .map_err(|_| ApiError::internal())??;
            let mut errors = Vec::new();
            let subject = validate::subject(&rendered.subject, &mut errors);
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            Ok((subject, rendered.html, rendered.text, Some(id)))
        }
    }
}

fn no_provider() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        Code::EmailProviderNotConfigured,
        "No email provider",
        "this account has no email provider; set one at /api/v1/platform/email-providers",
    )
}

fn check_sender(provider: &Provider, from: &str) -> Result<(), ApiError> {
    if provider.allows_sender(from) {
        return Ok(());
    }
    Err(unprocessable(
        Code::SenderNotAllowed,
        "from.email",
        format!("{from} is not a registered sender of this account"),
    ))
}

/// `POST /api/v1/emails/send` → 202 with the queued email.
pub async fn send(req: Request, api: &EmailsApi) -> Result<Response<Body>, ApiError> {
    api.auth
        .guard(req, &RESOURCE, |cx: Ctx| async move {
            let valid = validate::send(cx.body()?, Utc::now())?;
            let tenant_id = cx.tenant_id();
            let api_key_id = match &cx.principal {
                Principal::Key(caller) => Some(caller.key_id),
                Principal::Session(_) => None,
            };
            // The middleware replays a finished request; this finds one whose record
            // was lost (the store failed after the commit), so it is never sent twice.
            let idempotency_key = idempotency::key_of(&cx.req)?;
            let client = cx.db().client().await?;
            if let (Some(key_id), Some(key)) = (api_key_id, &idempotency_key) {
                if let Some(email) =
                    store::by_idempotency_key(&client, tenant_id, key_id, key).await?
                {
                    return accepted(&email);
                }
            }
            let provider = providers::load(&client, tenant_id)
                .await?
                .ok_or_else(no_provider)?;
            check_sender(&provider, &valid.from.email)?;
            let (to, contact_id) = resolve_recipients(&client, tenant_id, &valid).await?;
            if let Some(campaign_id) = valid.campaign_id {
                if !lookups::campaign_exists(&client, tenant_id, campaign_id).await? {
                    return Err(unprocessable(
                        Code::CampaignNotFound,
                        "campaign_id",
                        format!("no campaign {campaign_id}"),
                    ));
                }
            }
            let (subject, html, text, template_id) =
                render(&client, tenant_id, valid.content.clone()).await?;
            let new = NewEmail {
                tenant_id,
                message_id: new_message_id(&valid.from.email),
                api_key_id,
                idempotency_key,
                from: valid.from,
                to,
                contact_id,
                cc: valid.cc,
                bcc: valid.bcc,
                reply_to: valid.reply_to,
                subject,
                html,
                text,
                headers: serde_json::json!(valid.headers),
                tags: valid.tags,
                metadata: serde_json::json!(valid.metadata),
                template_id,
                campaign_id: valid.campaign_id,
                campaign_step: None,
                tracking: valid.tracking.unwrap_or(provider.tracking),
                scheduled_at: valid.scheduled_at,
            };
            let inserted = store::insert(&client, &new, None).await?;
            let email = match inserted {
                Some(email) => email,
                // A concurrent twin with the same Idempotency-Key won the insert.
                None => match (new.api_key_id, &new.idempotency_key) {
                    (Some(key_id), Some(key)) => {
                        store::by_idempotency_key(&client, tenant_id, key_id, key)
                            .await?
                            .ok_or_else(ApiError::internal)?
                    }
                    _ => return Err(ApiError::internal()),
                },
            };
            queueing::enqueue(api.queue.as_ref(), email.id, email.scheduled_at).await;
            accepted(&email)
        })
        .await
}
