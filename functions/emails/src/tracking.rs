//! The links inside sent emails (no credentials: the signed token is the authority):
//! - `GET /t/o/{token}`: the open pixel;
//! - `GET /t/c/{token}`: a tracked link, redirected only to the link stored for that
//!   email and index (never to a URL the request names, so it is no open redirect);
//! - `GET /u/{token}`: the unsubscribe page, and `POST /u/{token}`: the unsubscribe
//!   itself, one click per RFC 8058 (mail clients post `List-Unsubscribe=One-Click`).
//!
//! A tampered or unknown token records nothing. The GET page never unsubscribes by
//! itself: link scanners and prefetchers follow GET links, and must not unsubscribe
//! anyone. Opens and clicks that look automated are kept, flagged, and emit no event
//! (see `pm_tracking::automated_reason`).

use chrono::Utc;
use http::{header, StatusCode};
use pm_domain::EmailId;
use pm_http::{ApiError, Body, Request, RequestExt, Response};
use pm_tracking::Action;

use crate::EmailsApi;
use pm_email_delivery::engagement::{self, Happening};
use pm_email_delivery::store::Entry;

fn token(req: &Request) -> String {
    req.path_parameters_ref()
        .and_then(|p| p.first("token"))
        .unwrap_or_default()
        .to_string()
}

fn user_agent(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
}

fn not_found() -> ApiError {
    ApiError::not_found("this link is not valid")
}

/// The email and action a token names, if it is authentic and the email exists.
async fn resolve(
    api: &EmailsApi,
    req: &Request,
) -> Result<Option<(EmailId, Action, engagement::Target)>, ApiError> {
    let Ok((email_id, action)) = pm_tracking::verify(&api.tracking, &token(req)) else {
        return Ok(None);
    };
    let email_id = EmailId::from(email_id);
    Ok(engagement::target(api.db(), email_id)
        .await?
        .map(|t| (email_id, action, t)))
}

fn automated(req: &Request, target: &engagement::Target) -> Option<&'static str> {
    let since_sent = target.sent_at.map(|at| (Utc::now() - at).num_seconds());
    pm_tracking::automated_reason(user_agent(req), req.method().as_str(), since_sent)
}

/// `GET /t/o/{token}`: always the pixel (a broken image helps no one), recording an
/// open when the token is good.
pub async fn open(req: Request, api: &EmailsApi) -> Result<Response<Body>, ApiError> {
    if let Some((email_id, Action::Open, target)) = resolve(api, &req).await? {
        let entry = Entry::from("tracking").automated(automated(&req, &target));
        engagement::apply(
            api.db(),
            target.tenant_id,
            email_id,
            Happening::Opened,
            entry,
        )
        .await?;
    }
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "image/gif")
        .header(header::CACHE_CONTROL, "no-store, max-age=0")
        .body(Body::Binary(pm_tracking::open_pixel_gif().to_vec()))
        .map_err(|_| ApiError::internal())
}

/// `GET /t/c/{token}`: 302 to the link as it was in the message.
pub async fn click(req: Request, api: &EmailsApi) -> Result<Response<Body>, ApiError> {
    let Some((email_id, Action::Click { link }, target)) = resolve(api, &req).await? else {
        return Err(not_found());
    };
    let url = target
        .links
        .get(usize::from(link))
        .cloned()
        .ok_or_else(not_found)?;
    let entry = Entry::from("tracking").automated(automated(&req, &target));
    engagement::apply(
        api.db(),
        target.tenant_id,
        email_id,
        Happening::Clicked { url: url.clone() },
        entry,
    )
    .await?;
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, url)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Empty)
        .map_err(|_| ApiError::internal())
}

fn page(title: &str, body: &str) -> Result<Response<Body>, ApiError> {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:32rem;margin:4rem auto\">{body}</body></html>"
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        )
        .body(Body::Text(html))
        .map_err(|_| ApiError::internal())
}

/// `GET /u/{token}`: asks for confirmation (a button that posts back here).
pub async fn unsubscribe_page(req: Request, api: &EmailsApi) -> Result<Response<Body>, ApiError> {
    let Some((_, Action::Unsubscribe, _)) = resolve(api, &req).await? else {
        return Err(not_found());
    };
    page(
        "Unsubscribe",
        "<h1>Unsubscribe</h1><p>Stop receiving these emails?</p>\
         <form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>",
    )
}

/// `POST /u/{token}`: unsubscribes the recipient (RFC 8058 one-click, or the page's
/// button). Doing it twice is harmless.
pub async fn unsubscribe(req: Request, api: &EmailsApi) -> Result<Response<Body>, ApiError> {
    let Some((email_id, Action::Unsubscribe, target)) = resolve(api, &req).await? else {
        return Err(not_found());
    };
    let entry = Entry::from("tracking").dedupe("unsubscribe");
    engagement::apply(
        api.db(),
        target.tenant_id,
        email_id,
        Happening::Unsubscribed,
        entry,
    )
    .await?;
    page(
        "Unsubscribed",
        "<h1>You are unsubscribed</h1><p>You will not receive these emails again.</p>",
    )
}
