//! Creating and rolling keys. The bcrypt hash goes to the secrets port while the key's
//! row is still uncommitted: if the secrets store fails, the transaction rolls back and
//! nothing usable is left; a committed row always has its hash.

use std::sync::Arc;

use http::StatusCode;
use pm_config::Redacted;
use pm_http::ApiError;
use pm_http::Code;
use pm_ports::secrets::{SecretData, SecretStore};
use pm_store::{Db, DbError};

use crate::api_key::hash_path;
use crate::keys::{self, Pepper};
use crate::store::{self, KeyStatus, KeyView, NewKey};
use pm_domain::{ApiKeyId, Scope, TenantId};

/// Active keys a tenant may hold at once (a roll's grace period does not count against
/// it): a stolen session cannot mint keys without end, and each key costs a secret.
pub const MAX_ACTIVE_KEYS: i64 = 50;

/// At most 24 hours of overlap when rolling a key (as Stripe allows).
pub const MAX_GRACE_SECONDS: i64 = 24 * 60 * 60;

pub struct Issued {
    pub key: KeyView,
    /// The full key: shown once, in the creation response, never again.
    pub secret: Redacted<String>,
}

/// Creates and rolls keys: the database for rows, the secrets port for hashes, the
/// pepper for lookup hashes. Built once per process (see [`crate::build::issuer`]).
#[derive(Clone)]
pub struct Issuer {
    pub db: Db,
    pub secrets: Arc<dyn SecretStore>,
    pub pepper: Pepper,
}

fn store_unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        Code::KeyStoreUnavailable,
        "Key store unavailable",
        "the key could not be stored, so no key was created; retry shortly",
    )
    .with_header("retry-after", "1")
}

impl Issuer {
    pub async fn create(
        &self,
        tenant_id: TenantId,
        name: &str,
        scopes: &[Scope],
        created_by: &str,
    ) -> Result<Issued, ApiError> {
        let mut client = self.db.client().await?;
        let tx = client.transaction().await.map_err(DbError::from)?;
        // The tenant's row lock serialises concurrent creations, so the cap holds.
        if store::lock_and_count_active(&tx, tenant_id).await? >= MAX_ACTIVE_KEYS {
            return Err(ApiError::conflict(
                Code::KeyLimitReached,
                format!("a tenant may hold {MAX_ACTIVE_KEYS} active API keys; revoke one first"),
            ));
        }
        let issued = self
            .insert(&tx, tenant_id, name, scopes, created_by)
            .await?;
        self.commit(tx, tenant_id, &issued).await?;
        Ok(issued)
    }

    /// Replaces key `id` with a new key of the same name and scopes. The old key stops
    /// working now, or after `grace_seconds` (at most 24 h).
    pub async fn roll(
        &self,
        tenant_id: TenantId,
        id: ApiKeyId,
        grace_seconds: i64,
        created_by: &str,
    ) -> Result<(Issued, KeyView), ApiError> {
        let mut client = self.db.client().await?;
        let tx = client.transaction().await.map_err(DbError::from)?;
        let old = store::lock_for_roll(&tx, tenant_id, id)
            .await?
            .ok_or_else(|| store::RESOURCE.not_found(id))?;
        if old.status != KeyStatus::Active {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Code::KeyNotActive,
                "Key cannot be rolled",
                format!("only active keys can be rolled; this key is {}", old.status),
            ));
        }
        let issued = self
            .insert(&tx, tenant_id, &old.name, &old.scopes, created_by)
            .await?;
        store::retire(&tx, tenant_id, id, issued.key.id, grace_seconds).await?;
        let previous = store::get(&*tx, tenant_id, id)
            .await?
            .ok_or_else(ApiError::internal)?;
        self.commit(tx, tenant_id, &issued).await?;
        Ok((issued, previous))
    }

    /// Inserts the row and stores the hash; the caller commits.
    async fn insert(
        &self,
        tx: &pm_store::Transaction<'_>,
        tenant_id: TenantId,
        name: &str,
        scopes: &[Scope],
        created_by: &str,
    ) -> Result<Issued, ApiError> {
        let secret = keys::generate();
        let id = ApiKeyId::random();
        let display = keys::display_form(secret.expose());
        let lookup = self.pepper.lookup_hash(secret.expose());
        store::insert(
            tx,
            &NewKey {
                id,
                tenant_id,
                name,
                display: &display,
                lookup_hash: &lookup,
                scopes,
                created_by,
            },
        )
        .await?;
        let plain = secret.expose().clone();
        let hash = tokio::task::spawn_blocking(move || keys::bcrypt_hash(&plain))
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(|e| {
                tracing::error!(error = %e, "bcrypt failed");
                ApiError::internal()
            })?;
        self.secrets
            .put(
                &hash_path(tenant_id, id),
                &SecretData::new().with("hash", hash),
            )
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "storing an API key hash failed; key not created");
                store_unavailable()
            })?;
        let key = store::get(tx, tenant_id, id)
            .await?
            .ok_or_else(ApiError::internal)?;
        Ok(Issued { key, secret })
    }

    async fn commit(
        &self,
        tx: pm_store::PooledTransaction<'_>,
        tenant_id: TenantId,
        issued: &Issued,
    ) -> Result<(), ApiError> {
        if let Err(e) = tx.commit().await {
            // The hash is stored but its row is not: remove the orphan (harmless if
            // this fails too, since nothing can find a key without its row).
            let _ = self
                .secrets
                .delete(&hash_path(tenant_id, issued.key.id))
                .await;
            return Err(DbError::from(e).into());
        }
        Ok(())
    }
}
