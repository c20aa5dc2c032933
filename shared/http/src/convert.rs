//! How failures of the lower layers (store, ports) look to a client. The lower crates
//! know nothing of HTTP; this is the one place their errors become problems, carrying no
//! driver or backend text (that goes to the log).

use pm_ports::PortError;
use pm_store::DbError;

use crate::ApiError;
use crate::Code;

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        if e.is_bad_value() {
            tracing::info!(error = %e, "request value refused by the database");
            return ApiError::new(
                http::StatusCode::BAD_REQUEST,
                Code::InvalidValue,
                "Invalid value",
                "a value in the request cannot be stored or compared (for example a NUL \
                 character, or a cursor that was altered)",
            );
        }
        if e.is_timeout() {
            tracing::warn!(error = %e, "statement timed out");
            return ApiError::new(
                http::StatusCode::SERVICE_UNAVAILABLE,
                Code::QueryTimeout,
                "Query took too long",
                "the request's database work took too long and was stopped; retry, or \
                 narrow the request (filters, a smaller limit)",
            )
            .with_header("retry-after", "1");
        }
        tracing::error!(error = %e, "database error");
        if e.is_unavailable() {
            ApiError::service_unavailable("the database is unavailable; retry shortly")
        } else {
            ApiError::internal()
        }
    }
}

impl From<PortError> for ApiError {
    fn from(e: PortError) -> Self {
        tracing::error!(error = %e, "port error");
        match e {
            PortError::Throttled { .. } => {
                ApiError::service_unavailable("a backing service is busy; retry shortly")
                    .with_header("retry-after", "1")
            }
            PortError::Unavailable { .. } => {
                ApiError::service_unavailable("a backing service is unavailable; retry shortly")
            }
            PortError::Rejected { .. } | PortError::Invalid(_) => ApiError::internal(),
        }
    }
}
