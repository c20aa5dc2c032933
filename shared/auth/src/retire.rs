//! Retired keys leave nothing behind: once a key can no longer be used (revoked, or
//! past a roll's grace period), its bcrypt hash is deleted from the secrets port. A
//! revoke does it at once; the sweeper catches grace periods that ended and any
//! deletion that failed.

use pm_domain::{ApiKeyId, TenantId};
use pm_ports::secrets::SecretStore;
use pm_store::{row, Db, DbError};

use crate::api_key::hash_path;

#[derive(Debug, thiserror::Error)]
pub enum RetireError {
    #[error(transparent)]
    Store(#[from] DbError),
    #[error(transparent)]
    Secrets(#[from] pm_ports::PortError),
}

/// Deletes one retired key's hash and records it.
pub async fn delete_hash(
    db: &Db,
    secrets: &dyn SecretStore,
    tenant_id: TenantId,
    key_id: ApiKeyId,
) -> Result<(), RetireError> {
    secrets.delete(&hash_path(tenant_id, key_id)).await?;
    db.client()
        .await?
        .execute(
            "UPDATE api_keys SET hash_deleted_at = now() WHERE id = $1 AND tenant_id = $2",
            &[&key_id, &tenant_id],
        )
        .await
        .map_err(DbError::from)?;
    Ok(())
}

/// Deletes the hashes of up to `limit` keys that can no longer be used and still have
/// one; returns how many. A failure leaves the rest for the next run.
pub async fn sweep(db: &Db, secrets: &dyn SecretStore, limit: i64) -> Result<usize, RetireError> {
    let rows = db
        .client()
        .await?
        .query(
            "SELECT id, tenant_id FROM api_keys WHERE hash_deleted_at IS NULL \
             AND (revoked_at <= now() OR expires_at <= now()) LIMIT $1",
            &[&limit],
        )
        .await
        .map_err(DbError::from)?;
    let mut deleted = 0;
    for r in &rows {
        let key_id: ApiKeyId = row::get(r, "api_keys", "id")?;
        let tenant_id: TenantId = row::get(r, "api_keys", "tenant_id")?;
        delete_hash(db, secrets, tenant_id, key_id).await?;
        deleted += 1;
    }
    if deleted > 0 {
        tracing::info!(keys = deleted, "deleted the hashes of retired API keys");
    }
    Ok(deleted)
}
