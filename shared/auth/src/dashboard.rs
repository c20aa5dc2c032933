//! Dashboard requests: a valid session, within its user's rate. A stolen or runaway
//! session cannot hammer the platform routes (creating keys runs bcrypt).

use pm_http::{ApiError, Request};

use crate::ratelimit::Limiter;
use crate::session::{Session, SessionKey};

/// Requests per minute one dashboard user may make to the platform routes.
pub const SESSION_REQUESTS_PER_MINUTE: u32 = 120;

#[derive(Clone)]
pub struct SessionAuth {
    key: SessionKey,
    limiter: Limiter,
}

impl SessionAuth {
    pub fn new(key: SessionKey, limiter: Limiter) -> Self {
        Self { key, limiter }
    }

    /// The request's session (401 without a valid one), or 429 past the user's rate.
    pub async fn authenticate(&self, req: &Request) -> Result<Session, ApiError> {
        let session = self.key.authenticate(req)?;
        let decision = self
            .limiter
            .take(
                format!("session:{}:{}", session.tenant_id, session.user_id),
                SESSION_REQUESTS_PER_MINUTE,
            )
            .await;
        if !decision.allowed {
            return Err(decision.too_many_requests());
        }
        Ok(session)
    }
}
