//! Response and path helpers every resource handler shares.

use std::fmt::Display;

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use uuid::Uuid;

use crate::{json, ApiError};

/// `no <what> <id>`: the one 404 for a missing resource and for another tenant's.
pub fn not_found(what: &str, id: impl Display) -> ApiError {
    ApiError::not_found(format!("no {what} {id}"))
}

/// The `{id}` path parameter. A malformed id names no resource, so it is the same 404
/// as any other id the caller cannot see.
pub fn path_id(req: &Request, what: &str) -> Result<Uuid, ApiError> {
    let raw = req
        .path_parameters_ref()
        .and_then(|p| p.first("id"))
        .unwrap_or_default();
    Uuid::parse_str(raw).map_err(|_| not_found(what, format!("{raw:?}")))
}

/// 201 with the new resource and its `Location`.
pub fn created<T: Serialize>(location: &str, value: &T) -> Result<Response<Body>, ApiError> {
    let mut response = json(StatusCode::CREATED, value)?;
    if let Ok(location) = location.parse() {
        response
            .headers_mut()
            .insert(http::header::LOCATION, location);
    }
    Ok(response)
}

/// 204 with no body.
pub fn no_content() -> Result<Response<Body>, ApiError> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .map_err(|_| ApiError::internal())
}
