use http::StatusCode;
use pm_auth::dashboard::SessionAuth;
use pm_auth::issue::{Issued, Issuer};
use pm_auth::store::KeyView;
use pm_domain::Scope;
use pm_http::fields;
use pm_http::{json, json_body, ApiError, Body, FieldError, Request, Response};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKey {
    name: String,
    scopes: pm_http::bounded::Bounded<String, 64>,
}

/// A new key as returned once: the view plus the full key.
#[derive(Serialize)]
pub(crate) struct WithSecret<'a> {
    #[serde(flatten)]
    key: &'a KeyView,
    /// The only time the full key is shown.
    secret: &'a str,
    /// After a roll: the key this one replaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_key: Option<&'a KeyView>,
}

pub(crate) fn issued_response(
    issued: &Issued,
    previous_key: Option<&KeyView>,
) -> Result<Response<Body>, ApiError> {
    let mut response = json(
        StatusCode::CREATED,
        &WithSecret {
            key: &issued.key,
            secret: issued.secret.expose(),
            previous_key,
        },
    )?;
    // The body holds a secret: no cache may keep it.
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        "no-store".parse().expect("static"),
    );
    Ok(response)
}

/// Name: 1–100 characters after trimming. Scopes: at least one, each known; duplicates
/// collapse.
fn validate(body: &CreateKey) -> Result<(String, Vec<Scope>), ApiError> {
    let mut errors = Vec::new();
    let name = fields::name("name", &body.name, 100, &mut errors);
    if body.scopes.is_empty() {
        errors.push(FieldError::new(
            "scopes",
            "required",
            "at least one scope is required",
        ));
    }
    let mut scopes = Vec::new();
    for (i, raw) in body.scopes.iter().enumerate() {
        match raw.parse::<Scope>() {
            Ok(scope) if !scopes.contains(&scope) => scopes.push(scope),
            Ok(_) => {}
            Err(_) => errors.push(FieldError::new(
                format!("scopes[{i}]"),
                "unknown_scope",
                format!(
                    "unknown scope {raw:?}; valid scopes: {}",
                    Scope::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok((name, scopes))
    } else {
        Err(ApiError::validation(errors))
    }
}

/// `POST /api/v1/platform/api-keys` → 201 with the key, shown this once.
pub async fn create(
    req: Request,
    sessions: &SessionAuth,
    issuer: &Issuer,
) -> Result<Response<Body>, ApiError> {
    let session = sessions.authenticate(&req).await?;
    session.require_manager()?;
    let body: CreateKey = json_body(&req)?;
    let (name, scopes) = validate(&body)?;
    let issued = issuer
        .create(session.tenant_id, &name, &scopes, &session.user_id)
        .await?;
    tracing::info!(key_id = %issued.key.id, tenant_id = %session.tenant_id, "API key created");
    issued_response(&issued, None)
}
