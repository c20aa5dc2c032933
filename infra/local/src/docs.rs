//! The API reference: Swagger UI at `/api/docs`, over `/api/openapi.yaml` (the file in
//! the repository, as it is) and `/api/openapi.json` (the same contract, with this server
//! listed first so "Try it out" calls it). Swagger UI's assets come from the
//! `swagger-ui-dist` npm package (`docs/api/`, installed by `make dev` and `make test`);
//! nothing is fetched from the internet. Every file is static: in AWS they can be served
//! as they are from a bucket.

use std::sync::LazyLock;

use http::StatusCode;
use pm_http::{ApiError, Body, Code, Response};

const OPENAPI_YAML: &str = include_str!("../../../openapi.yaml");
const INDEX_HTML: &str = include_str!("../../../docs/api/index.html");
const INIT_JS: &str = include_str!("../../../docs/api/init.js");
/// Where `npm ci --prefix docs/api` puts Swagger UI's files.
const ASSETS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/api/node_modules/swagger-ui-dist"
);
/// The package's files the page loads (nothing else is served from it).
const ASSET_FILES: &[(&str, &str)] = &[
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    (
        "swagger-ui-standalone-preset.js",
        "text/javascript; charset=utf-8",
    ),
    ("favicon-32x32.png", "image/png"),
    ("favicon-16x16.png", "image/png"),
];

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
        "/api/docs" | "/api/docs/" => {
            file("text/html; charset=utf-8", Body::Text(INDEX_HTML.into()))
        }
        "/api/docs/init.js" => file("text/javascript; charset=utf-8", Body::Text(INIT_JS.into())),
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
        _ => asset(path.trim_start_matches("/api/docs/")),
    }
}

fn asset(name: &str) -> Result<Response<Body>, ApiError> {
    let Some((name, content_type)) = ASSET_FILES.iter().find(|(file, _)| *file == name) else {
        return Err(ApiError::not_found(format!(
            "no documentation file {name:?}"
        )));
    };
    match std::fs::read(format!("{ASSETS}/{name}")) {
        Ok(bytes) => file(content_type, Body::Binary(bytes)),
        Err(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::ServiceUnavailable,
            "Documentation assets missing",
            "Swagger UI's files are not installed: run `npm ci --prefix docs/api` (make dev does)",
        )),
    }
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
