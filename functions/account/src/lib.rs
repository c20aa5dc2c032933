//! Who is calling. `GET /api/v1/me`: integrations call it to test a connection (any
//! valid key may; no scope is needed). `/api/v1/platform/session`: the dashboard's
//! signed-in user, as cookies ([`session`]).

pub mod session;

use http::StatusCode;
use pm_auth::{ApiKeyAuth, Caller};
use pm_domain::{ApiKeyId, Plan, Scope, TenantId};
use pm_http::{json, ApiError, Body, Request, Response};
use serde::Serialize;

#[derive(Serialize)]
struct Me<'a> {
    tenant: TenantInfo<'a>,
    api_key: KeyInfo<'a>,
    rate_limit: RateLimitInfo,
}

#[derive(Serialize)]
struct TenantInfo<'a> {
    id: TenantId,
    name: &'a str,
    plan: Plan,
}

#[derive(Serialize)]
struct KeyInfo<'a> {
    id: ApiKeyId,
    name: &'a str,
    display: &'a str,
    scopes: &'a [Scope],
}

#[derive(Serialize)]
struct RateLimitInfo {
    requests_per_minute: u32,
}

fn describe(caller: &Caller) -> Result<Response<Body>, ApiError> {
    json(
        StatusCode::OK,
        &Me {
            tenant: TenantInfo {
                id: caller.tenant_id,
                name: &caller.tenant_name,
                plan: caller.plan,
            },
            api_key: KeyInfo {
                id: caller.key_id,
                name: &caller.key_name,
                display: &caller.display,
                scopes: &caller.scopes,
            },
            rate_limit: RateLimitInfo {
                requests_per_minute: caller.requests_per_minute,
            },
        },
    )
}

pub async fn me(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard_any_key(req, |_, caller| async move { describe(&caller) })
        .await
}
