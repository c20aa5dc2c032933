//! SQL for API keys. Every query that takes a tenant filters by it: another tenant's
//! key is indistinguishable from a missing one.

use chrono::{DateTime, Utc};
use pm_domain::paging::{ListRequest, Order, SortField, SortKind, Sorting};
use pm_domain::{ApiKeyId, Plan, Scope, TenantId};
use pm_http::resource::Resource;
use pm_store::select::Select;
use pm_store::{row, DbError, Transaction};
use serde::Serialize;
use tokio_postgres::{GenericClient, Row};

const TABLE: &str = "api_keys";

/// A key as the dashboard sees it: never the key itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyView {
    pub id: ApiKeyId,
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
    pub replaced_by: Option<ApiKeyId>,
}

pm_domain::string_enum! {
    pub enum KeyStatus {
        Active = "active",
        /// Rolled with a grace period that has not ended.
        Expiring = "expiring",
        Expired = "expired",
        Revoked = "revoked",
    }
}

/// What authentication needs about a key and its tenant, in one query.
#[derive(Debug, Clone)]
pub struct AuthRecord {
    pub key_id: ApiKeyId,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub plan: Plan,
    pub requests_per_minute: u32,
    pub name: String,
    pub display: String,
    pub scopes: Vec<Scope>,
    pub usable: bool,
}

pub struct NewKey<'a> {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
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

fn view_of(row: &Row) -> Result<KeyView, DbError> {
    let revoked_at: Option<DateTime<Utc>> = row::get(row, TABLE, "revoked_at")?;
    let expires_at: Option<DateTime<Utc>> = row::get(row, TABLE, "expires_at")?;
    let status = match (revoked_at, expires_at) {
        (Some(_), _) => KeyStatus::Revoked,
        (None, Some(at)) if at <= Utc::now() => KeyStatus::Expired,
        (None, Some(_)) => KeyStatus::Expiring,
        (None, None) => KeyStatus::Active,
    };
    Ok(KeyView {
        id: row::get(row, TABLE, "id")?,
        name: row::get(row, TABLE, "name")?,
        display: row::get(row, TABLE, "display")?,
        scopes: row::get(row, TABLE, "scopes")?,
        status,
        created_by: row::get(row, TABLE, "created_by")?,
        created_at: row::get(row, TABLE, "created_at")?,
        last_used_at: row::get(row, TABLE, "last_used_at")?,
        request_count: row::get(row, TABLE, "requests")?,
        error_count: row::get(row, TABLE, "errors")?,
        revoked_at,
        expires_at,
        replaced_by: row::get(row, TABLE, "replaced_by")?,
    })
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
            &key.scopes,
            &key.created_by,
        ],
    )
    .await?;
    Ok(())
}

pub async fn get(
    client: &impl GenericClient,
    tenant_id: TenantId,
    id: ApiKeyId,
) -> Result<Option<KeyView>, DbError> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM api_keys k {USAGE_JOIN} WHERE k.tenant_id = $1 AND k.id = $2"
    );
    client
        .query_opt(&sql, &[&tenant_id, &id])
        .await?
        .as_ref()
        .map(view_of)
        .transpose()
}

/// API keys as a resource of the dashboard's key management (session routes, so no
/// scope). Keys may be listed by creation time only (newest first by default).
pub static RESOURCE: Resource = Resource {
    name: "API key",
    scope: None,
    base_path: "/api/v1/platform/api-keys",
    sorting: Sorting {
        fields: &[SortField {
            name: "created_at",
            column: "k.created_at",
            kind: SortKind::Timestamp,
        }],
        default_order: Order::Desc,
    },
};

/// A page of the tenant's keys (`limit + 1` rows, for [`ListRequest::page`]).
pub async fn list(
    client: &impl GenericClient,
    tenant_id: TenantId,
    list: &ListRequest,
) -> Result<Vec<KeyView>, DbError> {
    let rows = Select::new(
        &format!("SELECT {VIEW_COLUMNS} FROM api_keys k {USAGE_JOIN}"),
        tenant_id,
    )
    .page(list)
    .fetch(client)
    .await?;
    rows.iter().map(view_of).collect()
}

/// Locks the tenant's row for the transaction and counts its usable keys.
pub async fn lock_and_count_active(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
) -> Result<i64, DbError> {
    tx.execute(
        "SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE",
        &[&tenant_id],
    )
    .await?;
    let row = tx
        .query_one(
            "SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > now())",
            &[&tenant_id],
        )
        .await?;
    row::get(&row, TABLE, "count")
}

/// Revokes the key (idempotent). `false` when the tenant has no such key.
pub async fn revoke(
    client: &impl GenericClient,
    tenant_id: TenantId,
    id: ApiKeyId,
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
    tenant_id: TenantId,
    id: ApiKeyId,
) -> Result<Option<KeyView>, DbError> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM api_keys k {USAGE_JOIN} \
         WHERE k.tenant_id = $1 AND k.id = $2 FOR UPDATE OF k"
    );
    tx.query_opt(&sql, &[&tenant_id, &id])
        .await?
        .as_ref()
        .map(view_of)
        .transpose()
}

/// Ends the old key of a roll: at once (`grace_seconds` 0) or after the grace period.
pub async fn retire(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    id: ApiKeyId,
    replaced_by: ApiKeyId,
    grace_seconds: i64,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE api_keys SET replaced_by = $2, \
         revoked_at = CASE WHEN $3::int8 = 0 THEN now() END, \
         expires_at = CASE WHEN $3::int8 > 0 THEN now() + make_interval(secs => $3::int8) END \
         WHERE id = $1 AND tenant_id = $4",
        &[&id, &replaced_by, &grace_seconds, &tenant_id],
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
    let plan: Plan = row::get(&row, TABLE, "plan")?;
    let override_rpm: Option<i32> = row::get(&row, TABLE, "rate_limit_per_minute")?;
    Ok(Some(AuthRecord {
        key_id: row::get(&row, TABLE, "id")?,
        tenant_id: row::get(&row, TABLE, "tenant_id")?,
        tenant_name: row::get(&row, TABLE, "tenant_name")?,
        plan,
        requests_per_minute: override_rpm
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or_else(|| plan.requests_per_minute()),
        name: row::get(&row, TABLE, "name")?,
        display: row::get(&row, TABLE, "display")?,
        scopes: row::get(&row, TABLE, "scopes")?,
        usable: row::get(&row, TABLE, "usable")?,
    }))
}

pm_domain::string_enum! {
    pub enum Granularity {
        Minute = "minute",
        Hour = "hour",
        /// UTC days.
        Day = "day",
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
    key_id: ApiKeyId,
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
    rows.iter()
        .map(|r| {
            Ok(UsagePoint {
                at: row::get(r, "api_key_usage", "at")?,
                requests: row::get(r, "api_key_usage", "requests")?,
                errors: row::get(r, "api_key_usage", "errors")?,
            })
        })
        .collect()
}
