//! The per-record sync log (`crm_sync_log`): what was sent or received for a record, the
//! provider's answer, errors. The dashboard's record view reads it; a replay of failed
//! items starts from its `failed` rows.

use pm_domain::TenantId;
use pm_store::DbError;
use tokio_postgres::GenericClient;

pub struct Entry<'a> {
    /// `push` or `pull`.
    pub direction: &'static str,
    pub contact: uuid::Uuid,
    pub external_id: Option<&'a str>,
    /// created, updated, unchanged, echo, failed.
    pub outcome: &'a str,
    pub properties: &'a [String],
    pub detail: Option<&'a str>,
}

pub async fn record(
    db: &impl GenericClient,
    tenant: TenantId,
    provider: &str,
    e: Entry<'_>,
) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO crm_sync_log (tenant_id, provider, contact_id, external_id, direction, \
           outcome, properties, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &tenant,
            &provider,
            &e.contact,
            &e.external_id,
            &e.direction,
            &e.outcome,
            &e.properties,
            &e.detail,
        ],
    )
    .await?;
    Ok(())
}

/// The outcomes an entry can have.
pub const OUTCOMES: [&str; 5] = ["created", "updated", "unchanged", "echo", "failed"];

#[derive(Debug, Clone, serde::Serialize)]
pub struct LogEntry {
    pub id: i64,
    pub direction: String,
    pub contact_id: Option<uuid::Uuid>,
    pub external_id: Option<String>,
    pub outcome: String,
    pub properties: Vec<String>,
    pub detail: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub outcome: Option<&'a str>,
    pub contact: Option<uuid::Uuid>,
    /// Entries older than this one (paging on).
    pub before: Option<i64>,
}

/// The connection's entries, newest first, and whether more are older.
pub async fn list(
    db: &impl GenericClient,
    tenant: TenantId,
    provider: &str,
    filter: &Filter<'_>,
    limit: i64,
) -> Result<(Vec<LogEntry>, bool), DbError> {
    let rows = db
        .query(
            "SELECT id, direction, contact_id, external_id, outcome, properties, detail, at \
             FROM crm_sync_log WHERE tenant_id = $1 AND provider = $2 \
               AND ($3::text IS NULL OR outcome = $3) AND ($4::uuid IS NULL OR contact_id = $4) \
               AND ($5::bigint IS NULL OR id < $5) \
             ORDER BY id DESC LIMIT $6",
            &[
                &tenant,
                &provider,
                &filter.outcome,
                &filter.contact,
                &filter.before,
                &(limit + 1),
            ],
        )
        .await?;
    let more = rows.len() as i64 > limit;
    let entries = rows
        .iter()
        .take(limit as usize)
        .map(|r| LogEntry {
            id: r.get(0),
            direction: r.get(1),
            contact_id: r.get(2),
            external_id: r.get(3),
            outcome: r.get(4),
            properties: r.get(5),
            detail: r.get(6),
            at: r.get(7),
        })
        .collect();
    Ok((entries, more))
}

/// Contacts whose latest push entry failed: what a replay sends again.
pub async fn failed_contacts(
    db: &impl GenericClient,
    tenant: TenantId,
    provider: &str,
) -> Result<Vec<uuid::Uuid>, DbError> {
    let rows = db
        .query(
            "SELECT contact_id FROM ( \
               SELECT DISTINCT ON (contact_id) contact_id, outcome FROM crm_sync_log \
               WHERE tenant_id = $1 AND provider = $2 AND direction = 'push' AND contact_id IS NOT NULL \
               ORDER BY contact_id, id DESC) latest WHERE outcome = 'failed'",
            &[&tenant, &provider],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
