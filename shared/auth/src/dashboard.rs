//! Dashboard requests: a valid session, within its user's rate. A stolen or runaway
//! session cannot hammer the platform routes (creating keys runs bcrypt).

use pm_http::{ApiError, Request};

use crate::ratelimit::Limiter;
use crate::session::{Session, SessionKey};

/// Requests per minute one dashboard user may make to the platform routes (the default
/// of `DASHBOARD_REQUESTS_PER_MINUTE`, which contract tests raise so generated requests
/// reach the handlers).
pub const SESSION_REQUESTS_PER_MINUTE: u32 = 120;

#[derive(Clone)]
pub struct SessionAuth {
    key: SessionKey,
    limiter: Limiter,
    per_minute: u32,
}

impl SessionAuth {
    pub fn new(key: SessionKey, limiter: Limiter) -> Self {
        Self {
            key,
            limiter,
            per_minute: SESSION_REQUESTS_PER_MINUTE,
        }
    }

    /// Another per-user rate than [`SESSION_REQUESTS_PER_MINUTE`].
    pub fn with_per_minute(mut self, per_minute: u32) -> Self {
        self.per_minute = per_minute.max(1);
        self
    }

    /// The request's session (401 without a valid one), or 429 past the user's rate.
    pub async fn authenticate(&self, req: &Request) -> Result<Session, ApiError> {
        let session = self.key.authenticate(req)?;
        let decision = self
            .limiter
            .take(
                format!("session:{}:{}", session.tenant_id, session.user_id),
                self.per_minute,
            )
            .await;
        if !decision.allowed {
            return Err(decision.too_many_requests());
        }
        Ok(session)
    }
}
