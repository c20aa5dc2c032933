/// A port failure. `detail` is for logs: adapters put the backend's status and error
/// words there, never a secret value or a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// The backend could not be reached, timed out or answered 5xx: worth a retry.
    #[error("{backend} unavailable: {detail}")]
    Unavailable {
        backend: &'static str,
        detail: String,
    },
    /// The backend is shedding load (DynamoDB throttling, SQS request limits): worth a
    /// retry later, and for a rate limiter a reason to refuse rather than to wave through.
    #[error("{backend} is throttling: {detail}")]
    Throttled {
        backend: &'static str,
        detail: String,
    },
    /// The backend refused the request (permissions, limits, a missing queue).
    #[error("{backend} rejected the request: {detail}")]
    Rejected {
        backend: &'static str,
        detail: String,
    },
    /// The caller's input breaks the port's contract (a bad path, an over-long delay).
    #[error("invalid input: {0}")]
    Invalid(String),
}

impl PortError {
    /// Unavailable or throttling: worth trying again shortly.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PortError::Unavailable { .. } | PortError::Throttled { .. }
        )
    }

    pub fn unavailable(backend: &'static str, detail: impl Into<String>) -> Self {
        Self::Unavailable {
            backend,
            detail: detail.into(),
        }
    }

    pub fn throttled(backend: &'static str, detail: impl Into<String>) -> Self {
        Self::Throttled {
            backend,
            detail: detail.into(),
        }
    }

    pub fn rejected(backend: &'static str, detail: impl Into<String>) -> Self {
        Self::Rejected {
            backend,
            detail: detail.into(),
        }
    }
}
