//! The API documentation: Swagger UI at `/api/docs`, the guides at `/api/docs/guides/`,
//! the Postman collection at `/api/docs/postman.json`, over `/api/openapi.yaml` (the file
//! in the repository, as it is) and `/api/openapi.json` (the same contract, with this
//! server listed first so "Try it out" calls it).
//!
//! Everything under `/api/docs/` is the static site `docs/api/build.mjs` writes to
//! `docs/api/dist` (`make docs`, which `make dev` and `make test` run): Swagger UI's files
//! from its npm package, the guides rendered from Markdown, the collection converted from
//! the spec. Nothing is fetched from the internet, and in AWS the same tree is served from
//! a bucket.

use std::path::PathBuf;
use std::sync::LazyLock;

use http::StatusCode;
use pm_http::{ApiError, Body, Code, Response};

const OPENAPI_YAML: &str = include_str!("../../../openapi.yaml");
/// Where `docs/api/build.mjs` writes the site.
const SITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api/dist");

static OPENAPI: LazyLock<serde_json::Value> = LazyLock::new(|| {
    serde_yaml::from_str(OPENAPI_YAML).expect("openapi.yaml parses (a test checks it)")
});

/// Whether `path` is one of the documentation's.
pub fn serves(path: &str) -> bool {
    path == "/api/docs"
        || path.starts_with("/api/docs/")
        || path == "/api/openapi.yaml"
        || path == "/api/openapi.json"
}

/// Answers a documentation path (GET or HEAD).
pub fn respond(
    method: &http::Method,
    path: &str,
    host: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    if method != http::Method::GET && method != http::Method::HEAD {
        return Err(ApiError::method_not_allowed(&["GET", "HEAD"]));
    }
    match path {
        "/api/openapi.yaml" => file(
            "application/yaml; charset=utf-8",
            Body::Text(OPENAPI_YAML.into()),
        ),
        "/api/openapi.json" => {
            let mut spec = OPENAPI.clone();
            if let (Some(host), Some(servers)) = (
                host.filter(|h| plausible_host(h)),
                spec["servers"].as_array_mut(),
            ) {
                servers.insert(
                    0,
                    serde_json::json!({"url": format!("http://{host}"), "description": "This server"}),
                );
            }
            let text = serde_json::to_string(&spec).map_err(|_| ApiError::internal())?;
            file("application/json", Body::Text(text))
        }
        _ => site_file(path),
    }
}

/// A file of the built site: `/api/docs` and `/api/docs/guides` are their folders'
/// `index.html`; other names are plain file names, one or two levels deep.
fn site_file(path: &str) -> Result<Response<Body>, ApiError> {
    let relative = match path.trim_end_matches('/') {
        "/api/docs" => "index.html".to_string(),
        "/api/docs/guides" => "guides/index.html".to_string(),
        other => other.trim_start_matches("/api/docs/").to_string(),
    };
    let segments: Vec<&str> = relative.split('/').collect();
    let plain = |segment: &&str| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    let Some(content_type) =
        content_type(&relative).filter(|_| segments.len() <= 2 && segments.iter().all(plain))
    else {
        return Err(not_found(&relative));
    };
    let site = PathBuf::from(SITE);
    if !site.join("api/docs/index.html").exists() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::ServiceUnavailable,
            "Documentation not built",
            "the documentation site is not built: run `make docs` (make dev does)",
        ));
    }
    match std::fs::read(site.join("api/docs").join(&relative)) {
        Ok(bytes) => file(content_type, Body::Binary(bytes)),
        Err(_) => Err(not_found(&relative)),
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("no documentation file {name:?}"))
}

fn content_type(name: &str) -> Option<&'static str> {
    Some(match name.rsplit_once('.')?.1 {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        _ => return None,
    })
}

/// A Host header fit to put in a URL: a name or address and a port, nothing else.
fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

fn file(content_type: &str, body: Body) -> Result<Response<Body>, ApiError> {
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, content_type)
        .header(http::header::CACHE_CONTROL, "public, max-age=300")
        .body(body)
        .map_err(|_| ApiError::internal())
}
