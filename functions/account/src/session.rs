//! `/api/v1/platform/session`: a dashboard session as cookies. The PenguinMails app
//! hands the dashboard a session token once; `POST` trades it for an `HttpOnly` cookie,
//! out of reach of any script on the page, and its CSRF token in a readable one. From
//! then on the dashboard never holds the token itself.

use chrono::{DateTime, Utc};
use http::{HeaderValue, StatusCode};
use pm_auth::dashboard::SessionAuth;
use pm_auth::session::{self, bearer, csrf_token, unauthorized, Role, Session};
use pm_domain::TenantId;
use pm_http::{json, ApiError, Body, Request, Response};
use serde::Serialize;

/// `name=value` for `max_age` seconds: `Secure`, `Path=/` and no `Domain`, as the
/// `__Host-` prefix requires, and `SameSite=Strict` so no other site's page makes the
/// browser send it. Browsers keep `Secure` cookies from plain HTTP only on localhost and
/// 127.0.0.1, which is where the local runtime listens.
fn cookie(name: &str, value: &str, max_age: u64, http_only: bool) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict; Secure");
    if http_only {
        text.push_str("; HttpOnly");
    }
    HeaderValue::from_str(&text).expect("cookie values are base64url or JWT characters")
}

/// Both cookies: the session token and its CSRF token (empty and expired to clear).
fn set_cookies(response: &mut Response<Body>, token: &str, csrf: &str, max_age: u64) {
    let headers = response.headers_mut();
    headers.append(
        http::header::SET_COOKIE,
        cookie(session::SESSION_COOKIE, token, max_age, true),
    );
    headers.append(
        http::header::SET_COOKIE,
        cookie(session::CSRF_COOKIE, csrf, max_age, false),
    );
}

#[derive(Serialize)]
struct SessionInfo<'a> {
    user_id: &'a str,
    tenant_id: TenantId,
    role: Role,
    expires_at: DateTime<Utc>,
}

fn describe(session: &Session) -> Result<Response<Body>, ApiError> {
    let expires_at = DateTime::from_timestamp(session.expires_at as i64, 0).unwrap_or_default();
    let mut response = json(
        StatusCode::OK,
        &SessionInfo {
            user_id: &session.user_id,
            tenant_id: session.tenant_id,
            role: session.role,
            expires_at,
        },
    )?;
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// `POST`: the token in `Authorization: Bearer` becomes the session cookie, living as
/// long as the token does. A cookie cannot start a session: only a handed-over token.
pub async fn create(req: Request, sessions: &SessionAuth) -> Result<Response<Body>, ApiError> {
    let token = bearer(&req)
        .ok_or_else(|| unauthorized("send the session token as Authorization: Bearer <token>"))?
        .to_string();
    let session = sessions.authenticate(&req).await?;
    let remaining = session
        .expires_at
        .saturating_sub(Utc::now().timestamp().max(0) as u64);
    let mut response = describe(&session)?;
    set_cookies(&mut response, &token, &csrf_token(&token), remaining);
    Ok(response)
}

/// `GET`: who is signed in and until when (401 once the session has ended).
pub async fn get(req: Request, sessions: &SessionAuth) -> Result<Response<Body>, ApiError> {
    describe(&sessions.authenticate(&req).await?)
}

/// `DELETE`: signs out by expiring both cookies. Needs no valid session, so a user whose
/// session has just ended can still clear it; other sites cannot send a DELETE.
pub async fn delete(_req: Request) -> Result<Response<Body>, ApiError> {
    let mut response = Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .map_err(|_| ApiError::internal())?;
    set_cookies(&mut response, "", "", 0);
    Ok(response)
}
