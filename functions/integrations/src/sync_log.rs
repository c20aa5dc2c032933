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
