use pm_http::{ApiError, Request, RequestExt};
use uuid::Uuid;

/// The `{id}` path parameter. A malformed id names no key, so it is a 404 like any
/// other key the caller cannot see.
pub fn key_id(req: &Request) -> Result<Uuid, ApiError> {
    let raw = req
        .path_parameters_ref()
        .and_then(|p| p.first("id"))
        .unwrap_or_default();
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(format!("no API key {raw:?}")))
}
