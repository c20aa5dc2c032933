use pm_auth::dashboard::SessionAuth;
use pm_auth::issue::{Issuer, MAX_GRACE_SECONDS};
use pm_auth::store::RESOURCE;
use pm_domain::ApiKeyId;
use pm_http::{json_body, ApiError, Body, FieldError, Request, Response};
use serde::Deserialize;

use crate::create::issued_response;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Roll {
    #[serde(default)]
    grace_period_seconds: i64,
}

/// `POST /api/v1/platform/api-keys/{id}/regenerate` → 201 with a new key of the same
/// name and scopes (shown once). The old key stops working at once, or after
/// `grace_period_seconds` (at most 86400), as with Stripe's key roll.
pub async fn regenerate(
    req: Request,
    sessions: &SessionAuth,
    issuer: &Issuer,
) -> Result<Response<Body>, ApiError> {
    let session = sessions.authenticate(&req).await?;
    session.require_manager()?;
    let id: ApiKeyId = RESOURCE.path_id(&req)?;
    let roll: Roll = if has_body(&req) {
        json_body(&req)?
    } else {
        Roll::default()
    };
    if !(0..=MAX_GRACE_SECONDS).contains(&roll.grace_period_seconds) {
        return Err(ApiError::validation(vec![FieldError::new(
            "grace_period_seconds",
            "out_of_range",
            format!("must be 0 to {MAX_GRACE_SECONDS} seconds"),
        )]));
    }
    let (issued, previous) = issuer
        .roll(
            session.tenant_id,
            id,
            roll.grace_period_seconds,
            &session.user_id,
        )
        .await?;
    tracing::info!(old = %id, new = %issued.key.id, "API key rolled");
    issued_response(&issued, Some(&previous))
}

fn has_body(req: &Request) -> bool {
    match req.body() {
        Body::Empty => false,
        Body::Text(text) => !text.trim().is_empty(),
        Body::Binary(bytes) => !bytes.is_empty(),
        _ => false,
    }
}
