use pm_http::{resource, ApiError, Request};
use uuid::Uuid;

pub const WHAT: &str = "API key";

pub fn key_id(req: &Request) -> Result<Uuid, ApiError> {
    resource::path_id(req, WHAT)
}

pub fn not_found(id: Uuid) -> ApiError {
    resource::not_found(WHAT, id)
}
