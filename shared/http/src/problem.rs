use http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::Code;
use crate::RequestId;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";
const TYPE_BASE: &str = "https://docs.penguinmails.com/errors/";

/// The most field errors one problem lists.
pub const MAX_FIELD_ERRORS: usize = 50;

/// One invalid field of a request, reported in the problem's `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// An error a client sees, rendered as RFC 9457 `application/problem+json`.
///
/// `code` is the stable, documented identifier clients branch on; `detail` is for people.
/// Nothing here may carry a driver message or a secret: callers log the cause themselves
/// and hand over only what the client may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// Boxed so that `Result<T, ApiError>` stays small on the happy path.
    extra: Box<Extra>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Extra {
    errors: Vec<FieldError>,
    headers: Vec<(&'static str, String)>,
    /// RFC 9457 extension members, e.g. the id of the existing resource in a conflict.
    extensions: Vec<(&'static str, serde_json::Value)>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: Code,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.as_str(),
            title,
            detail: detail.into(),
            extra: Box::default(),
        }
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.extra.errors
    }

    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.extra.headers
    }

    pub fn with_extension(mut self, name: &'static str, value: serde_json::Value) -> Self {
        self.extra.extensions.push((name, value));
        self
    }

    pub fn conflict(code: Code, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, "Conflict", detail)
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.extra.errors = errors;
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.headers.push((name, value.into()));
        self
    }

    pub fn invalid_json(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            Code::InvalidJson,
            "Request body is not valid JSON",
            detail,
        )
    }

    pub fn unsupported_media_type(got: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "Unsupported media type",
            format!("send the body as application/json (got {got:?})"),
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            "Request body too large",
            format!("the body must be at most {limit} bytes"),
        )
    }

    /// 422 `validation_failed` with the field errors: at most [`MAX_FIELD_ERRORS`] of
    /// them, so a bad request cannot make the response larger than itself; a cut list
    /// says so (`errors_truncated`).
    pub fn validation(mut errors: Vec<FieldError>) -> Self {
        let truncated = errors.len() > MAX_FIELD_ERRORS;
        errors.truncate(MAX_FIELD_ERRORS);
        let error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::ValidationFailed,
            "Validation failed",
            "one or more fields are invalid; see errors",
        )
        .with_errors(errors);
        if truncated {
            error.with_extension("errors_truncated", serde_json::json!(true))
        } else {
            error
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            Code::NotFound,
            "Resource not found",
            detail,
        )
    }

    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            Code::MethodNotAllowed,
            "Method not allowed",
            format!("this path accepts {}", allowed.join(", ")),
        )
        .with_header("allow", allowed.join(", "))
    }

    pub fn service_unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::ServiceUnavailable,
            "Service temporarily unavailable",
            detail,
        )
        .with_header("retry-after", "1")
    }

    /// The only thing a client learns about a bug: it happened, and its request id.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Code::InternalError,
            "Internal server error",
            "an unexpected error occurred; quote the request_id when contacting support",
        )
    }

    pub fn into_response(self, request_id: &RequestId) -> Response<Body> {
        #[derive(Serialize)]
        struct Problem<'a> {
            #[serde(rename = "type")]
            kind: String,
            title: &'a str,
            status: u16,
            detail: &'a str,
            code: &'a str,
            request_id: &'a str,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            errors: &'a [FieldError],
            #[serde(flatten)]
            extensions: serde_json::Map<String, serde_json::Value>,
        }
        let problem = Problem {
            kind: format!("{TYPE_BASE}{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            code: self.code,
            request_id: request_id.as_str(),
            errors: &self.extra.errors,
            extensions: self
                .extra
                .extensions
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        };
        let body = serde_json::to_string(&problem).expect("a problem always serializes");
        let mut builder = Response::builder()
            .status(self.status)
            .header(http::header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE);
        for (name, value) in &self.extra.headers {
            builder = builder.header(*name, value.as_str());
        }
        builder
            .body(Body::Text(body))
            .expect("static header names are valid")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rfc9457_with_code_and_request_id() {
        let rid = RequestId::new(None);
        let resp = ApiError::validation(vec![FieldError::new("email", "invalid", "not an email")])
            .into_response(&rid);
        assert_eq!(resp.status(), 422);
        assert_eq!(resp.headers()["content-type"], PROBLEM_CONTENT_TYPE);
        let Body::Text(text) = resp.body() else {
            panic!("problem body is text")
        };
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            v["type"],
            "https://docs.penguinmails.com/errors/validation_failed"
        );
        assert_eq!(v["status"], 422);
        assert_eq!(v["code"], "validation_failed");
        assert_eq!(v["request_id"], rid.as_str());
        assert_eq!(v["errors"][0]["field"], "email");
    }

    #[test]
    fn extensions_are_top_level_members() {
        let rid = RequestId::new(None);
        let resp = ApiError::conflict(Code::ContactExists, "taken")
            .with_extension("existing_id", serde_json::json!("c1"))
            .into_response(&rid);
        assert_eq!(resp.status(), 409);
        let Body::Text(text) = resp.body() else {
            panic!()
        };
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["existing_id"], "c1");
        assert_eq!(v["code"], "contact_exists");
    }

    #[test]
    fn errors_array_is_omitted_when_empty() {
        let rid = RequestId::new(None);
        let resp = ApiError::not_found("no such thing").into_response(&rid);
        let Body::Text(text) = resp.body() else {
            panic!()
        };
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert!(v.get("errors").is_none(), "{v}");
    }
}
