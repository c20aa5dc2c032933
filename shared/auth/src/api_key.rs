//! The middleware of every public API route:
//! authentication → scope check → rate limit → handler → usage record.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue, StatusCode};
use pm_domain::{ApiKeyId, Plan, Scope, TenantId};
use pm_http::resource::Resource;
use pm_http::{ApiError, Body, Code, Request, Response};
use pm_ports::kv::KeyValue;
use pm_ports::secrets::SecretStore;
use pm_store::Db;

use crate::context::{Ctx, Principal};
use crate::dashboard::SessionAuth;
use crate::idempotency::{self, Begin, Idempotency};
use crate::keys::{self, Pepper};
use crate::ratelimit::{Decision, Limiter};
use crate::session::{bearer, session_token, unauthorized};
use crate::store::{self, AuthRecord};
use crate::usage::{FlushMode, UsageRecorder};

/// How long a successful bcrypt check is trusted for a key. Revocation does not wait
/// for this: the key's row is read on every request.
const VERIFIED_FOR: Duration = Duration::from_secs(300);
const CACHE_LIMIT: usize = 10_000;

/// The authenticated caller of an API route.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: ApiKeyId,
    pub key_name: String,
    pub display: String,
    pub scopes: Vec<Scope>,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub plan: Plan,
    pub requests_per_minute: u32,
}

impl From<AuthRecord> for Caller {
    fn from(r: AuthRecord) -> Self {
        Self {
            key_id: r.key_id,
            key_name: r.name,
            display: r.display,
            scopes: r.scopes,
            tenant_id: r.tenant_id,
            tenant_name: r.tenant_name,
            plan: r.plan,
            requests_per_minute: r.requests_per_minute,
        }
    }
}

/// Where a key's bcrypt hash lives in the secrets port.
pub fn hash_path(tenant_id: TenantId, key_id: ApiKeyId) -> String {
    format!("api_keys/{tenant_id}/{key_id}")
}

pub struct ApiKeyAuth {
    db: Db,
    secrets: Arc<dyn SecretStore>,
    limiter: Limiter,
    /// Idempotency records (and, through the limiter, rate-limit cells).
    kv: Arc<dyn KeyValue>,
    pepper: Pepper,
    usage: UsageRecorder,
    /// key id → when its bcrypt check last passed in this process.
    verified: Mutex<HashMap<ApiKeyId, Instant>>,
    /// Failure buckets (source address, key prefix) known to be used up, and until when.
    blocked: Mutex<HashMap<String, Instant>>,
    /// One bcrypt check per key at a time: parallel first uses of a new key wait for the
    /// one check in flight instead of each paying ~0.25 s of CPU.
    verifying: Mutex<HashMap<ApiKeyId, Arc<tokio::sync::Mutex<()>>>>,
    bcrypt_checks: AtomicU64,
}

fn unauthorized_key() -> ApiError {
    unauthorized("a valid API key is required: Authorization: Bearer pm_live_...")
}

impl ApiKeyAuth {
    pub fn new(
        db: Db,
        secrets: Arc<dyn SecretStore>,
        kv: Arc<dyn KeyValue>,
        pepper: Pepper,
        flush: FlushMode,
    ) -> Self {
        Self {
            db,
            secrets,
            pepper,
            usage: UsageRecorder::new(flush),
            verified: Mutex::new(HashMap::new()),
            verifying: Mutex::new(HashMap::new()),
            blocked: Mutex::new(HashMap::new()),
            limiter: Limiter::new(kv.clone()),
            kv,
            bcrypt_checks: AtomicU64::new(0),
        }
    }

    /// How many instances share a key's limit while the shared store is down (each then
    /// allows its share; `RATE_LIMIT_FALLBACK_INSTANCES`).
    pub fn with_fallback_instances(mut self, instances: u32) -> Self {
        self.limiter = self.limiter.with_fallback_instances(instances);
        self
    }

    /// The database the middleware reads keys from; handlers use it too.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// How many bcrypt verifications this process has run (the warm path runs none).
    pub fn bcrypt_checks(&self) -> u64 {
        self.bcrypt_checks.load(Ordering::Relaxed)
    }

    pub fn usage(&self) -> &UsageRecorder {
        &self.usage
    }

    /// Runs a resource's handler for an authenticated caller holding the resource's
    /// scope, within the key's rate limit, and counts the request.
    pub async fn guard<'a, F, Fut>(
        &'a self,
        req: Request,
        resource: &'static Resource,
        handler: F,
    ) -> Result<Response<Body>, ApiError>
    where
        F: FnOnce(Ctx<'a>) -> Fut,
        Fut: Future<Output = Result<Response<Body>, ApiError>>,
    {
        self.run(req, resource.scope, |req, caller| {
            handler(Ctx {
                req,
                principal: Principal::Key(caller),
                resource,
                db: &self.db,
            })
        })
        .await
    }

    /// Like [`guard`](Self::guard), but a dashboard session may call the route too (no
    /// rate limit, no key usage). With a session, reading is for every role and
    /// changing (any method but GET) is for owners and admins.
    pub async fn guard_key_or_session<'a, F, Fut>(
        &'a self,
        req: Request,
        resource: &'static Resource,
        sessions: &SessionAuth,
        handler: F,
    ) -> Result<Response<Body>, ApiError>
    where
        F: FnOnce(Ctx<'a>) -> Fut,
        Fut: Future<Output = Result<Response<Body>, ApiError>>,
    {
        // An API key, or no session at all (then the key guard says what is missing).
        let is_key = bearer(&req).is_some_and(|token| token.starts_with(keys::PREFIX));
        if is_key || session_token(&req).is_none() {
            return self.guard(req, resource, handler).await;
        }
        let session = sessions.authenticate(&req).await?;
        if req.method() != http::Method::GET {
            session.require_manager()?;
        }
        handler(Ctx {
            req,
            principal: Principal::Session(session),
            resource,
            db: &self.db,
        })
        .await
    }

    /// Like [`guard`](Self::guard) for a route that any valid key may call (no scope,
    /// no resource): `GET /api/v1/me`.
    pub async fn guard_any_key<F, Fut>(
        &self,
        req: Request,
        handler: F,
    ) -> Result<Response<Body>, ApiError>
    where
        F: FnOnce(Request, Caller) -> Fut,
        Fut: Future<Output = Result<Response<Body>, ApiError>>,
    {
        self.run(req, None, handler).await
    }

    async fn run<F, Fut>(
        &self,
        req: Request,
        scope: Option<Scope>,
        handler: F,
    ) -> Result<Response<Body>, ApiError>
    where
        F: FnOnce(Request, Caller) -> Fut,
        Fut: Future<Output = Result<Response<Body>, ApiError>>,
    {
        let failures = self.failure_buckets(&req);
        if self.is_blocked(&failures) {
            return Err(too_many_failures());
        }
        let caller = match self.authenticate(&req).await {
            Ok(caller) => caller,
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                return Err(self.count_failure(failures).await.unwrap_or(e));
            }
            Err(e) => return Err(e),
        };
        let key_id = caller.key_id;
        let outcome = self.authorised(req, caller, scope, handler).await;
        let status = match &outcome {
            Ok((response, _)) => response.status(),
            Err((error, _)) => error.status,
        };
        self.usage
            .record(key_id, status.is_client_error() || status.is_server_error());
        if self.usage.mode() == FlushMode::AfterEachRequest {
            if let Err(e) = self.usage.flush(&self.db).await {
                tracing::warn!(error = %e, "usage flush failed; kept for the next one");
            }
        }
        match outcome {
            Ok((mut response, decision)) => {
                if let Some(decision) = decision {
                    for (name, value) in decision.headers() {
                        if let Ok(value) = HeaderValue::from_str(&value) {
                            response
                                .headers_mut()
                                .insert(HeaderName::from_static(name), value);
                        }
                    }
                }
                Ok(response)
            }
            Err((mut error, decision)) => {
                if let Some(decision) = decision {
                    for (name, value) in decision.headers() {
                        error = error.with_header(name, value);
                    }
                }
                Err(error)
            }
        }
    }

    /// The failed-authentication buckets a request counts against: its source address
    /// and the prefix of the key it presented. Requests without credentials count
    /// against nothing (they cost no lookup).
    fn failure_buckets(&self, req: &Request) -> Vec<String> {
        let Some(token) = bearer(req) else {
            return Vec::new();
        };
        let mut buckets = vec![format!(
            "authfail:prefix:{}",
            token
                .chars()
                .take(keys::PREFIX.len() + 4)
                .collect::<String>()
        )];
        if let Some(ip) = pm_http::client::source_ip(req) {
            buckets.push(format!("authfail:ip:{ip}"));
        }
        buckets
    }

    /// Whether a source or key prefix of this request has used up its failures; this
    /// process remembers it, so a blocked guesser costs neither a lookup nor a store
    /// round trip, and a good request costs one map lookup.
    fn is_blocked(&self, buckets: &[String]) -> bool {
        let blocked = self.blocked.lock().expect("blocked map poisoned");
        buckets
            .iter()
            .any(|b| blocked.get(b).is_some_and(|until| *until > Instant::now()))
    }

    /// Charges a failed authentication to its buckets (shared across instances); the
    /// 429 to answer instead of the 401 once one of them is used up.
    async fn count_failure(&self, buckets: Vec<String>) -> Option<ApiError> {
        let mut refused = None;
        for bucket in buckets {
            let decision = self.limiter.take(&bucket, AUTH_FAILURES_PER_MINUTE).await;
            if !decision.allowed {
                let mut blocked = self.blocked.lock().expect("blocked map poisoned");
                if blocked.len() >= CACHE_LIMIT {
                    blocked.retain(|_, until| *until > Instant::now());
                }
                blocked.insert(
                    bucket,
                    Instant::now() + Duration::from_secs(decision.retry_after_secs.max(1)),
                );
                refused = Some(too_many_failures());
            }
        }
        refused
    }

    /// Scope, rate limit, handler: everything after authentication, with the rate-limit
    /// decision (when one was made) for the response headers.
    async fn authorised<F, Fut>(
        &self,
        req: Request,
        caller: Caller,
        scope: Option<Scope>,
        handler: F,
    ) -> Result<(Response<Body>, Option<Decision>), (ApiError, Option<Decision>)>
    where
        F: FnOnce(Request, Caller) -> Fut,
        Fut: Future<Output = Result<Response<Body>, ApiError>>,
    {
        if let Some(needed) = scope {
            if !caller.scopes.contains(&needed) {
                return Err((insufficient_scope(needed), None));
            }
        }
        let decision = self.rate_limit(&caller).await;
        if let Some(d) = decision.filter(|d| !d.allowed) {
            return Err((d.too_many_requests(), decision));
        }
        let idempotency = Idempotency::new(&*self.kv);
        let claim = match idempotency::key_of(&req) {
            Err(error) => return Err((error, decision)),
            Ok(None) => None,
            Ok(Some(key)) => match idempotency.begin(caller.key_id, &key, &req).await {
                Ok(Begin::Run(claim)) => Some(claim),
                Ok(Begin::Replay(response)) => return Ok((response, decision)),
                Err(error) => return Err((error, decision)),
            },
        };
        let outcome = handler(req, caller).await;
        if let Some(claim) = claim {
            idempotency.finish(claim, &outcome).await;
        }
        match outcome {
            Ok(response) => Ok((response, decision)),
            Err(error) => Err((error, decision)),
        }
    }

    /// The tenant's bucket (all its keys together get the plan's rate) and then the
    /// key's. A store outage limits per instance; throttling refuses; nothing lets a
    /// request through unlimited.
    async fn rate_limit(&self, caller: &Caller) -> Option<Decision> {
        let limit = caller.requests_per_minute;
        let tenant = self
            .limiter
            .take(format!("tenant:{}", caller.tenant_id), limit)
            .await;
        if !tenant.allowed {
            return Some(tenant);
        }
        Some(tenant.and(self.limiter.take(caller.key_id, limit).await))
    }

    /// The caller behind `Authorization: Bearer pm_live_...`, or one 401 for a missing,
    /// malformed, unknown, revoked or expired key alike.
    pub async fn authenticate(&self, req: &Request) -> Result<Caller, ApiError> {
        let key = bearer(req)
            .filter(|k| keys::is_well_formed(k))
            .ok_or_else(unauthorized_key)?;
        let lookup = self.pepper.lookup_hash(key);
        let record = {
            let client = self.db.client().await?;
            store::find_for_auth(&client, &lookup).await?
        };
        let record = record.filter(|r| r.usable).ok_or_else(unauthorized_key)?;
        if !self.recently_verified(record.key_id) {
            let gate = self
                .verifying
                .lock()
                .expect("verifying map poisoned")
                .entry(record.key_id)
                .or_default()
                .clone();
            let held = gate.lock().await;
            // Whoever held the gate before may have verified the key meanwhile.
            let outcome = if self.recently_verified(record.key_id) {
                Ok(())
            } else {
                self.verify_bcrypt(key, &record).await
            };
            drop(held);
            let mut verifying = self.verifying.lock().expect("verifying map poisoned");
            if Arc::strong_count(&gate) == 2 {
                verifying.remove(&record.key_id);
            }
            outcome?;
        }
        Ok(record.into())
    }

    fn recently_verified(&self, key_id: ApiKeyId) -> bool {
        self.verified
            .lock()
            .expect("verified cache poisoned")
            .get(&key_id)
            .is_some_and(|at| at.elapsed() < VERIFIED_FOR)
    }

    async fn verify_bcrypt(&self, key: &str, record: &AuthRecord) -> Result<(), ApiError> {
        let stored = self
            .secrets
            .get(&hash_path(record.tenant_id, record.key_id))
            .await?;
        // A key row without its hash cannot be used.
        let hash = stored
            .and_then(|data| data.get("hash").map(str::to_string))
            .ok_or_else(unauthorized_key)?;
        let key = key.to_string();
        self.bcrypt_checks.fetch_add(1, Ordering::Relaxed);
        let matches = tokio::task::spawn_blocking(move || keys::bcrypt_verify(&key, &hash))
            .await
            .map_err(|_| ApiError::internal())?;
        if !matches {
            return Err(unauthorized_key());
        }
        let mut verified = self.verified.lock().expect("verified cache poisoned");
        if verified.len() >= CACHE_LIMIT {
            verified.retain(|_, at| at.elapsed() < VERIFIED_FOR);
            if verified.len() >= CACHE_LIMIT {
                verified.clear();
            }
        }
        verified.insert(record.key_id, Instant::now());
        Ok(())
    }
}

/// Failed authentications allowed per minute from one address, or for one key prefix,
/// before further attempts are refused without a lookup: guessing keys gets slow.
pub const AUTH_FAILURES_PER_MINUTE: u32 = 30;

fn too_many_failures() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        Code::RateLimited,
        "Too many requests",
        "too many failed authentications from this address or for this key; retry later",
    )
    .with_header("retry-after", "2")
}

pub fn insufficient_scope(needed: Scope) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        Code::InsufficientScope,
        "Insufficient scope",
        format!("this API key lacks the {needed} scope this operation needs"),
    )
    .with_errors(vec![pm_http::FieldError::new(
        "scope",
        "required",
        needed.as_str(),
    )])
}
