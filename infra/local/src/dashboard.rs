//! The dashboard: the static files `web/` builds (`make dashboard`, which `make dev` and
//! `make test` run) under `/dashboard`, and the local runtime's one-time sign-in links.
//!
//! In AWS the same files come from a bucket behind the CloudFront distribution that also
//! fronts the API, so the session cookie is first-party (template.yaml).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use http::StatusCode;
use lambda_http::RequestExt;
use pm_domain::TenantId;
use pm_http::{ApiError, Body, Code, Request, Response};

use crate::App;

/// Where `vite build` writes the dashboard.
const SITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/dist");
pub const SIGN_IN_LINK_PATH: &str = "/dashboard/local-sign-in";

/// No script but the dashboard's own files, no framing, no referrer. Styles allow inline
/// `style` attributes: the component libraries position popovers with them.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn serves(path: &str) -> bool {
    path == "/dashboard" || path.starts_with("/dashboard/")
}

/// Answers a dashboard path (GET or HEAD).
pub fn respond(req: &Request, path: &str, app: &App) -> Result<Response<Body>, ApiError> {
    if req.method() != http::Method::GET && req.method() != http::Method::HEAD {
        return Err(ApiError::method_not_allowed(&["GET", "HEAD"]));
    }
    if path == SIGN_IN_LINK_PATH {
        // Spending a ticket is for a person's GET: a HEAD (a link preview, a prefetch
        // check) must not burn it.
        if req.method() != http::Method::GET {
            return Err(ApiError::method_not_allowed(&["GET"]));
        }
        let ticket = req
            .query_string_parameters_ref()
            .and_then(|q| q.first("ticket"));
        return Ok(app.sign_in.redeem(ticket.unwrap_or(""), app));
    }
    let site = PathBuf::from(SITE);
    if !site.join("index.html").exists() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::ServiceUnavailable,
            "Dashboard not built",
            "the dashboard is not built: run `make dashboard` (make dev does)",
        ));
    }
    // Built assets have content hashes in their names: cache them for good. Every other
    // path is a page of the single-page app, which routes it itself.
    match path.strip_prefix("/dashboard/assets/") {
        Some(name) => asset(&site, name),
        None => page(&site),
    }
}

fn asset(site: &std::path::Path, name: &str) -> Result<Response<Body>, ApiError> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let content_type = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        _ => "",
    };
    let not_found = || ApiError::not_found(format!("no dashboard file {name:?}"));
    if !plain || content_type.is_empty() {
        return Err(not_found());
    }
    let bytes = std::fs::read(site.join("assets").join(name)).map_err(|_| not_found())?;
    file(content_type, "public, max-age=31536000, immutable", bytes)
}

fn page(site: &std::path::Path) -> Result<Response<Body>, ApiError> {
    let bytes = std::fs::read(site.join("index.html")).map_err(|_| ApiError::internal())?;
    file("text/html; charset=utf-8", "no-cache", bytes)
}

fn file(content_type: &str, cache: &str, bytes: Vec<u8>) -> Result<Response<Body>, ApiError> {
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, content_type)
        .header(http::header::CACHE_CONTROL, cache)
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .header("x-frame-options", "DENY")
        .body(Body::Binary(bytes))
        .map_err(|_| ApiError::internal())
}

/// How long an unused sign-in link stays good.
const LINK_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// One-time sign-in links for the demo tenant's owner: the local stand-in for the
/// PenguinMails app's sign-in. A link works once; using it prints the next one.
#[derive(Default)]
pub struct SignInLinks {
    tickets: Mutex<HashMap<String, (TenantId, Instant)>>,
    /// Where to print each next link: the `serve` command's base URL (tests ask for
    /// links themselves).
    announce: OnceLock<String>,
}

impl SignInLinks {
    /// From now on, print each next link as a URL on `base`.
    pub fn announce_at(&self, base: &str) {
        let _ = self.announce.set(base.to_string());
    }

    /// A new link (a path with its ticket) signing in as the owner of `tenant`.
    pub fn issue(&self, tenant: TenantId) -> String {
        // Two random UUIDs: 244 bits from the OS generator.
        let ticket = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut tickets = self.tickets.lock().expect("never poisoned");
        tickets.retain(|_, (_, expires)| *expires > Instant::now());
        tickets.insert(ticket.clone(), (tenant, Instant::now() + LINK_LIFETIME));
        format!("{SIGN_IN_LINK_PATH}?ticket={ticket}")
    }

    /// Spends a ticket: a fresh session for the dashboard's sign-in page, handed over in
    /// the URL fragment (which browsers never send to a server), as the PenguinMails app
    /// does in production. A used, expired or unknown ticket gets the sign-in page's
    /// explanation instead.
    fn redeem(&self, ticket: &str, app: &App) -> Response<Body> {
        let spent = self.tickets.lock().expect("never poisoned").remove(ticket);
        let location = match spent {
            Some((tenant, expires)) if expires > Instant::now() => {
                let next = self.issue(tenant);
                if let Some(base) = self.announce.get() {
                    println!("  next one-time dashboard sign-in link: {base}{next}");
                }
                let token = crate::seed::demo_session_for(app, tenant);
                format!("/dashboard/sign-in#token={token}")
            }
            _ => "/dashboard/sign-in?reason=link_used".to_string(),
        };
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(http::header::LOCATION, location)
            .header(http::header::CACHE_CONTROL, "no-store")
            .header("referrer-policy", "no-referrer")
            .body(Body::Empty)
            .expect("a redirect builds")
    }
}
