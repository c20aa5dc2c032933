//! The HTTP plumbing every function uses, in Lambda and in the local runtime alike.
//!
//! A handler is a plain async function from a request to `Result<Response, ApiError>`;
//! [`serve`] wraps it with the request id, panic containment, problem+json rendering and
//! one access-log line, so no handler repeats any of that.

mod body;
pub mod bounded;
pub mod client;
mod codes;
mod convert;
pub mod email;
pub mod fields;
pub mod lambda;
pub mod list;
mod problem;
mod request_id;
pub mod resource;
mod respond;
pub mod testing;

pub use body::{json_body, MAX_BODY_BYTES};
pub use codes::Code;
pub use lambda_http::{Body, Request, RequestExt, Response};
pub use problem::{ApiError, FieldError, MAX_FIELD_ERRORS, PROBLEM_CONTENT_TYPE};
pub use request_id::{RequestId, REQUEST_ID_HEADER};
pub use respond::{json, serve, ANSWER_MARGIN};
