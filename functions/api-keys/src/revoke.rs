use pm_auth::dashboard::SessionAuth;
use pm_auth::retire;
use pm_auth::store::{self, RESOURCE};
use pm_domain::ApiKeyId;
use pm_http::{ApiError, Body, Request, Response};
use pm_ports::secrets::SecretStore;
use pm_store::Db;

/// `DELETE /api/v1/platform/api-keys/{id}` → 204. The key fails on its very next use
/// (authentication reads the key's row on every request), and its bcrypt hash is
/// deleted from the secrets port (or, if that fails now, by the sweeper). Revoking
/// twice is fine.
pub async fn revoke(
    req: Request,
    sessions: &SessionAuth,
    db: &Db,
    secrets: &dyn SecretStore,
) -> Result<Response<Body>, ApiError> {
    let session = sessions.authenticate(&req).await?;
    session.require_manager()?;
    let id: ApiKeyId = RESOURCE.path_id(&req)?;
    let client = db.client().await?;
    if !store::revoke(&**client, session.tenant_id, id).await? {
        return Err(RESOURCE.not_found(id));
    }
    tracing::info!(key_id = %id, tenant_id = %session.tenant_id, "API key revoked");
    if let Err(e) = retire::delete_hash(db, secrets, session.tenant_id, id).await {
        tracing::warn!(key_id = %id, error = %e, "hash not deleted yet; the sweeper will");
    }
    pm_http::resource::no_content()
}
