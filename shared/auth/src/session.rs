//! Dashboard sessions: HS256 JWTs carrying the user, tenant and role. Key management is
//! for signed-in users, never for API keys.

use std::time::Duration;

use http::StatusCode;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use pm_config::Redacted;
use pm_domain::TenantId;
use pm_http::{ApiError, Request};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "penguinmails";
const AUDIENCE: &str = "penguinmails-dashboard";

pm_domain::string_enum! {
    /// A dashboard user's role in their tenant.
    pub enum Role {
        Owner = "owner",
        Admin = "admin",
        Member = "member",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: String,
    pub tenant_id: TenantId,
    pub role: Role,
}

impl Session {
    /// Creating, revoking and rolling keys is for owners and admins; members may look.
    pub fn require_manager(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Owner | Role::Admin => Ok(()),
            Role::Member => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_role",
                "Insufficient role",
                "this action needs the owner or admin role",
            )),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    tenant_id: TenantId,
    role: Role,
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
}

/// The HS256 signing key, from the secrets port.
#[derive(Clone)]
pub struct SessionKey(Redacted<Vec<u8>>);

impl SessionKey {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Redacted::new(bytes))
    }

    pub fn issue(&self, user_id: &str, tenant_id: TenantId, role: Role, ttl: Duration) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            tenant_id,
            role,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + ttl.as_secs(),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(self.0.expose()),
        )
        .expect("HS256 signing cannot fail")
    }

    pub fn verify(&self, token: &str) -> Option<Session> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(self.0.expose()),
            &validation,
        )
        .ok()?;
        Some(Session {
            user_id: data.claims.sub,
            tenant_id: data.claims.tenant_id,
            role: data.claims.role,
        })
    }

    /// The session of a dashboard request (`Authorization: Bearer <jwt>`), or 401.
    pub fn authenticate(&self, req: &Request) -> Result<Session, ApiError> {
        bearer(req)
            .and_then(|token| self.verify(token))
            .ok_or_else(|| unauthorized("a valid dashboard session is required"))
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer(req: &Request) -> Option<&str> {
    let value = req
        .headers()
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// One 401 for every way authentication can fail, so a caller learns nothing about why.
pub fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized",
        detail,
    )
    .with_header("www-authenticate", "Bearer")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SessionKey {
        SessionKey::new(vec![byte; 32])
    }

    #[test]
    fn issued_tokens_verify_with_the_same_key_only() {
        let tenant = TenantId::random();
        let token = key(1).issue("u1", tenant, Role::Admin, Duration::from_secs(60));
        let session = key(1).verify(&token).unwrap();
        assert_eq!(session.tenant_id, tenant);
        assert_eq!(session.role, Role::Admin);
        assert!(key(2).verify(&token).is_none());
        assert!(key(1).verify("not.a.jwt").is_none());
    }

    #[test]
    fn expired_tokens_fail() {
        let old = Claims {
            sub: "u1".into(),
            tenant_id: TenantId::from(uuid::Uuid::nil()),
            role: Role::Owner,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: 1,
            exp: 2,
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &old,
            &EncodingKey::from_secret(&[1; 32]),
        )
        .unwrap();
        assert!(key(1).verify(&token).is_none());
    }

    #[test]
    fn members_cannot_manage() {
        let member = Session {
            user_id: "u".into(),
            tenant_id: TenantId::from(uuid::Uuid::nil()),
            role: Role::Member,
        };
        assert_eq!(
            member.require_manager().unwrap_err().code,
            "insufficient_role"
        );
    }
}
