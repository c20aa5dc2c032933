//! SQL for API keys. Every query that takes a tenant filters by it: another tenant's
//! key is indistinguishable from a missing one.

use chrono::{DateTime, Utc};
use pm_http::list::{ListRequest, Order, Sorting};
use pm_store::select::{Select, SortColumn};
use pm_store::tenants::Plan;
use pm_store::{DbError, Transaction};
use serde::Serialize;
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use crate::Scope;

/// A key as the dashboard sees it: never the key itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyView {
    pub id: Uuid,
    pub name: String,
    /// `pm_live_abcd…wxyz`
    pub display: String,
    pub scopes: Vec<Scope>,
    pub status: KeyStatus,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub request_count: i64,
    pub error_count: i64,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub replaced_by: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    /// Rolled with a grace period that has not ended.
    Expiring,
    Expired,
    Revoked,
}

/// What authentication needs about a key and its tenant, in one query.
#[derive(Debug, Clone)]
pub struct AuthRecord {
    pub key_id: Uuid,
    pub tenant_id: Uuid,
    pub tenant_name: String,
    pub plan: Plan,
    pub requests_per_minute: u32,
    pub name: String,
    pub display: String,
    pub scopes: Vec<Scope>,
    pub usable: bool,
}

pub struct NewKey<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: &'a str,
    pub display: &'a str,
    pub lookup_hash: &'a [u8],
    pub scopes: &'a [Scope],
    pub created_by: &'a str,
}

const VIEW_COLUMNS: &str = "k.id, k.name, k.display, k.scopes, k.created_by, k.created_at, \
    k.revoked_at, k.expires_at, k.replaced_by, \
    COALESCE(u.requests, 0)::int8 AS requests, COALESCE(u.errors, 0)::int8 AS errors, \
    u.last_used_at";

/// Usage totals for the key in `k`, summed over every writer and minute.
const USAGE_JOIN: &str = "LEFT JOIN LATERAL (SELECT sum(requests) AS requests, \
    sum(errors) AS errors, max(last_used_at) AS last_used_at \
    FROM api_key_usage WHERE key_id = k.id) u ON true";

fn scopes_of(row: &Row) -> Vec<Scope> {
    let names: Vec<String> = row.get("scopes");
    // The column only ever receives Scope names; skip anything unknown rather than fail.
    names.iter().filter_map(|n| n.parse().ok()).collect()
}

fn view_of(row: &Row) -> KeyView {
    let revoked_at: Option<DateTime<Utc>> = row.get("revoked_at");
    let expires_at: Option<DateTime<Utc>> = row.get("expires_at");
    let status = match (revoked_at, expires_at) {
        (Some(_), _) => KeyStatus::Revoked,
        (None, Some(at)) if at <= Utc::now() => KeyStatus::Expired,
        (None, Some(_)) => KeyStatus::Expiring,
        (None, None) => KeyStatus::Active,
    };
    KeyView {
        id: row.get("id"),
        name: row.get("name"),
        display: row.get("display"),
        scopes: scopes_of(row),
        status,
        created_by: row.get("created_by"),
        created_at: row.get("created_at"),
        last_used_at: row.get("last_used_at"),
        request_count: row.get("requests"),
        error_count: row.get("errors"),
        revoked_at,
        expires_at,
        replaced_by: row.get("replaced_by"),
    }
}

fn scope_names(scopes: &[Scope]) -> Vec<&'static str> {
    scopes.iter().map(|s| s.as_str()).collect()
}

pub async fn insert(tx: &Transaction<'_>, key: &NewKey<'_>) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO api_keys (id, tenant_id, name, display, lookup_hash, scopes, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &key.id,
            &key.tenant_id,
            &key.name,
            &key.display,
            &key.lookup_hash,
            &scope_names(key.scopes),
            &key.created_by,
        ],
    )
    .await?;
    Ok(())
}

pub async fn get(
    client: &impl GenericClient,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<KeyView>, DbError> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM api_keys k {USAGE_JOIN} WHERE k.tenant_id = $1 AND k.id = $2"
    );
    Ok(client
        .query_opt(&sql, &[&tenant_id, &id])
        .await?
        .as_ref()
        .map(view_of))
}

/// Keys may be listed by creation time only (newest first by default).
pub const SORTING: Sorting = Sorting {
    fields: &["created_at"],
    default_order: Order::Desc,
};
const SORT_COLUMNS: &[SortColumn] = &[SortColumn {
    field: "created_at",
    column: "k.created_at",
    cast: "timestamptz",
}];

/// A page of the tenant's keys (`limit + 1` rows, for [`ListRequest::page`]).
pub async fn list(
    client: &impl GenericClient,
    tenant_id: Uuid,
    list: &ListRequest,
) -> Result<Vec<KeyView>, DbError> {
    let rows = Select::new(
        &format!("SELECT {VIEW_COLUMNS} FROM api_keys k {USAGE_JOIN}"),
        tenant_id,
    )
    .page(list, SORT_COLUMNS)
    .fetch(client)
    .await?;
    Ok(rows.iter().map(view_of).collect())
}

/// Revokes the key (idempotent). `false` when the tenant has no such key.
pub async fn revoke(
    client: &impl GenericClient,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<bool, DbError> {
    let updated = client
        .execute(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) \
             WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &id],
        )
        .await?;
    Ok(updated == 1)
}

/// The key being rolled, locked for the rest of the transaction.
pub async fn lock_for_roll(
    tx: &Transaction<'_>,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<KeyView>, DbError> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM api_keys k {USAGE_JOIN} \
         WHERE k.tenant_id = $1 AND k.id = $2 FOR UPDATE OF k"
    );
    Ok(tx
        .query_opt(&sql, &[&tenant_id, &id])
        .await?
        .as_ref()
        .map(view_of))
}

/// Ends the old key of a roll: at once (`grace_seconds` 0) or after the grace period.
pub async fn retire(
    tx: &Transaction<'_>,
    id: Uuid,
    replaced_by: Uuid,
    grace_seconds: i64,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE api_keys SET replaced_by = $2, \
         revoked_at = CASE WHEN $3::int8 = 0 THEN now() END, \
         expires_at = CASE WHEN $3::int8 > 0 THEN now() + make_interval(secs => $3::int8) END \
         WHERE id = $1",
        &[&id, &replaced_by, &grace_seconds],
    )
    .await?;
    Ok(())
}

/// The key with this lookup hash and its tenant, in one indexed query. On the hot path
/// of every API request, so the statement is prepared once per connection.
pub async fn find_for_auth(
    client: &pm_store::Client,
    lookup_hash: &[u8],
) -> Result<Option<AuthRecord>, DbError> {
    let statement = client
        .prepare_cached(
            "SELECT k.id, k.tenant_id, k.name, k.display, k.scopes, \
             (k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())) AS usable, \
             t.name AS tenant_name, t.plan, t.rate_limit_per_minute \
             FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.lookup_hash = $1",
        )
        .await?;
    let row = client.query_opt(&statement, &[&lookup_hash]).await?;
    let Some(row) = row else { return Ok(None) };
    let plan: Plan = row
        .get::<_, String>("plan")
        .parse()
        .map_err(DbError::Unavailable)?;
    let override_rpm: Option<i32> = row.get("rate_limit_per_minute");
    Ok(Some(AuthRecord {
        key_id: row.get("id"),
        tenant_id: row.get("tenant_id"),
        tenant_name: row.get("tenant_name"),
        plan,
        requests_per_minute: override_rpm
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or_else(|| plan.requests_per_minute()),
        name: row.get("name"),
        display: row.get("display"),
        scopes: scopes_of(&row),
        usable: row.get("usable"),
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Minute,
    Hour,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Minute => "minute",
            Granularity::Hour => "hour",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsagePoint {
    pub at: DateTime<Utc>,
    pub requests: i64,
    pub errors: i64,
}

/// Requests and errors per bucket from `from` (inclusive) to `to` (exclusive), both
/// already truncated to the granularity; empty buckets are zeros, so charts need no
/// gap filling.
pub async fn usage_series(
    client: &impl GenericClient,
    key_id: Uuid,
    granularity: Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<UsagePoint>, DbError> {
    let step = format!("1 {}", granularity.as_str());
    let rows = client
        .query(
            "SELECT b.at, COALESCE(sum(u.requests), 0)::int8 AS requests, \
             COALESCE(sum(u.errors), 0)::int8 AS errors \
             FROM generate_series($2::timestamptz, $3::timestamptz - $4::text::interval, \
                                  $4::text::interval) AS b(at) \
             LEFT JOIN api_key_usage u ON u.key_id = $1 \
               AND u.minute >= b.at AND u.minute < b.at + $4::text::interval \
             GROUP BY b.at ORDER BY b.at",
            &[&key_id, &from, &to, &step],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| UsagePoint {
            at: r.get("at"),
            requests: r.get("requests"),
            errors: r.get("errors"),
        })
        .collect())
}
