//! Dashboard sessions: EdDSA (Ed25519) JWTs with a `kid`, carrying the user, tenant and
//! role, living at most 15 minutes. Key management is for signed-in users, never for API
//! keys. Only the issuer holds the private key; verifiers hold public keys.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use pm_domain::TenantId;
use pm_http::{ApiError, Code, Request};
use serde::{Deserialize, Serialize};
use sha2::Digest;

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
    /// When the token ends (Unix seconds): the session cookie lives no longer.
    pub expires_at: u64,
}

impl Session {
    /// Creating, revoking and rolling keys is for owners and admins; members may look.
    pub fn require_manager(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Owner | Role::Admin => Ok(()),
            Role::Member => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                Code::InsufficientRole,
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

/// Sessions live at most this long; the issuer (the PenguinMails app; locally the
/// runtime) hands out a fresh one before the old one ends.
pub const MAX_SESSION_TTL: Duration = Duration::from_secs(15 * 60);

/// The issuer's Ed25519 private key. Only the issuer holds it: every function that
/// verifies sessions holds public keys only ([`SessionKey`]), so none can mint one.
#[derive(Clone)]
pub struct SessionSigner {
    kid: String,
    key: EncodingKey,
}

impl SessionSigner {
    /// From the PKCS#8 document of an Ed25519 key, under the key id `kid`.
    pub fn new(kid: impl Into<String>, pkcs8: &[u8]) -> Self {
        Self {
            kid: kid.into(),
            key: EncodingKey::from_ed_der(pkcs8),
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A session token (EdDSA, with `kid`), valid for `ttl` but never longer than
    /// [`MAX_SESSION_TTL`].
    pub fn issue(&self, user_id: &str, tenant_id: TenantId, role: Role, ttl: Duration) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            tenant_id,
            role,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + ttl.min(MAX_SESSION_TTL).as_secs(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).expect("Ed25519 signing cannot fail")
    }
}

impl std::fmt::Debug for SessionSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionSigner({}, [redacted])", self.kid)
    }
}

/// What verifies sessions: the issuer's public keys by key id. Several during a
/// rotation: tokens signed with the previous key stay valid until they expire.
#[derive(Clone)]
pub struct SessionKey {
    keys: Arc<HashMap<String, DecodingKey>>,
}

impl SessionKey {
    /// From `(kid, raw 32-byte Ed25519 public key)` pairs.
    pub fn new(keys: impl IntoIterator<Item = (String, Vec<u8>)>) -> Self {
        Self {
            keys: Arc::new(
                keys.into_iter()
                    .map(|(kid, public)| (kid, DecodingKey::from_ed_der(&public)))
                    .collect(),
            ),
        }
    }

    pub fn verify(&self, token: &str) -> Option<Session> {
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        let key = self.keys.get(&kid)?;
        // Only EdDSA: a token claiming another algorithm (HS256 with a public key as its
        // secret, `none`) is refused before its signature is looked at.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).ok()?;
        // A token living longer than the rule allows was not issued by us.
        if data.claims.exp.saturating_sub(data.claims.iat) > MAX_SESSION_TTL.as_secs() {
            return None;
        }
        Some(Session {
            user_id: data.claims.sub,
            tenant_id: data.claims.tenant_id,
            role: data.claims.role,
            expires_at: data.claims.exp,
        })
    }

    /// The session of a dashboard request ([`session_token`]: a bearer token, or the
    /// session cookie with its CSRF token), or 401.
    pub fn authenticate(&self, req: &Request) -> Result<Session, ApiError> {
        session_token(req)
            .and_then(|token| self.verify(token))
            .ok_or_else(|| unauthorized("a valid dashboard session is required"))
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<&String> = self.keys.keys().collect();
        kids.sort();
        write!(f, "SessionKey(public keys {kids:?})")
    }
}

/// The cookie the dashboard's session travels in: `HttpOnly`, so no script on the page
/// can read it, and `SameSite=Strict`, so no other site's page makes the browser send it.
/// The `__Host-` prefix makes browsers refuse it unless this very host set it (`Secure`,
/// `Path=/`, no `Domain`): a sibling subdomain cannot plant its own session here.
pub const SESSION_COOKIE: &str = "__Host-pm_session";
/// The session's CSRF token, in a cookie the dashboard's own script reads and copies into
/// [`CSRF_HEADER`] on every call.
pub const CSRF_COOKIE: &str = "__Host-pm_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of a session token. It is derived from the token, which only the
/// `HttpOnly` cookie holds: another site can make a browser send the cookies, but cannot
/// compute the header value that matches the victim's session.
pub fn csrf_token(session_token: &str) -> String {
    let digest = sha2::Sha256::digest(format!("pm-csrf\0{session_token}"));
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, digest)
}

/// The session token of a dashboard request: `Authorization: Bearer <jwt>`, or else the
/// [`SESSION_COOKIE`], which counts only beside an [`CSRF_HEADER`] equal to its
/// [`csrf_token`].
pub fn session_token(req: &Request) -> Option<&str> {
    if let Some(token) = bearer(req) {
        return Some(token);
    }
    let token = cookie(req, SESSION_COOKIE)?;
    let given = req.headers().get(CSRF_HEADER)?.as_bytes();
    aws_lc_rs::constant_time::verify_slices_are_equal(given, csrf_token(token).as_bytes())
        .ok()
        .map(|()| token)
}

/// The value of the cookie `name` in the request's `Cookie` headers (API Gateway hands
/// the cookies to the function as one `cookie` header).
pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
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
        Code::Unauthorized,
        "Unauthorized",
        detail,
    )
    .with_header("www-authenticate", "Bearer")
}

#[cfg(test)]
pub(crate) fn test_pair(kid: &str) -> (SessionSigner, SessionKey) {
    let (pkcs8, public) = crate::platform::generate_ed25519();
    (
        SessionSigner::new(kid, &pkcs8),
        SessionKey::new([(kid.to_string(), public)]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_with_the_issuers_public_key_only() {
        let tenant = TenantId::random();
        let (signer, verifier) = test_pair("k1");
        let token = signer.issue("u1", tenant, Role::Admin, Duration::from_secs(60));
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(
            (header.alg, header.kid.as_deref()),
            (Algorithm::EdDSA, Some("k1"))
        );
        let session = verifier.verify(&token).unwrap();
        assert_eq!(session.tenant_id, tenant);
        assert_eq!(session.role, Role::Admin);
        let (_, stranger) = test_pair("k1");
        assert!(stranger.verify(&token).is_none(), "another key pair");
        assert!(verifier.verify("not.a.jwt").is_none());
    }

    #[test]
    fn during_a_rotation_both_keys_verify() {
        let (old_signer, old) = test_pair("old");
        let (new_signer, new) = test_pair("new");
        let both = SessionKey {
            keys: Arc::new(
                old.keys
                    .iter()
                    .chain(new.keys.iter())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        };
        let tenant = TenantId::random();
        for signer in [&old_signer, &new_signer] {
            let token = signer.issue("u", tenant, Role::Owner, Duration::from_secs(60));
            assert!(both.verify(&token).is_some());
        }
    }

    #[test]
    fn sessions_live_fifteen_minutes_at_most() {
        let (signer, verifier) = test_pair("k");
        let token = signer.issue(
            "u",
            TenantId::random(),
            Role::Owner,
            Duration::from_secs(86_400),
        );
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                token.split('.').nth(1).unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            900
        );
        assert!(verifier.verify(&token).is_some());
    }

    #[test]
    fn an_hs256_token_is_refused_whatever_its_secret() {
        let (_, verifier) = test_pair("k");
        let forged = Claims {
            sub: "u1".into(),
            tenant_id: TenantId::random(),
            role: Role::Owner,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: jsonwebtoken::get_current_timestamp(),
            exp: jsonwebtoken::get_current_timestamp() + 60,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k".into());
        let token =
            jsonwebtoken::encode(&header, &forged, &EncodingKey::from_secret(&[1; 32])).unwrap();
        assert!(verifier.verify(&token).is_none());
    }

    #[test]
    fn members_cannot_manage() {
        let member = Session {
            user_id: "u".into(),
            tenant_id: TenantId::from(uuid::Uuid::nil()),
            role: Role::Member,
            expires_at: 0,
        };
        assert_eq!(
            member.require_manager().unwrap_err().code,
            "insufficient_role"
        );
    }

    fn with_headers(headers: &[(&str, &str)]) -> Request {
        let mut req = Request::default();
        for (name, value) in headers {
            req.headers_mut().append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        req
    }

    #[test]
    fn the_session_cookie_counts_only_with_its_csrf_token() {
        let (signer, verifier) = test_pair("k");
        let token = signer.issue(
            "u",
            TenantId::random(),
            Role::Owner,
            Duration::from_secs(60),
        );
        let cookie = format!("theme=dark; {SESSION_COOKIE}={token}; {CSRF_COOKIE}=x");
        let csrf = csrf_token(&token);
        let good = with_headers(&[("cookie", &cookie), (CSRF_HEADER, &csrf)]);
        assert_eq!(verifier.authenticate(&good).unwrap().user_id, "u");
        // A cross-site request carries the cookie but cannot know the token.
        for req in [
            with_headers(&[("cookie", &cookie)]),
            with_headers(&[("cookie", &cookie), (CSRF_HEADER, "x")]),
            with_headers(&[("cookie", &cookie), (CSRF_HEADER, &csrf[1..])]),
            with_headers(&[(CSRF_HEADER, &csrf)]),
        ] {
            assert_eq!(verifier.authenticate(&req).unwrap_err().status, 401);
        }
        // Cookies may arrive in several headers; the bearer token is still read first.
        let split = with_headers(&[
            ("cookie", "a=1"),
            ("cookie", &format!("{SESSION_COOKIE}={token}")),
            (CSRF_HEADER, &csrf),
        ]);
        assert!(verifier.authenticate(&split).is_ok());
        assert_ne!(csrf_token(&token), csrf_token(&format!("{token}x")));
    }
}
