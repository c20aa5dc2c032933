use pm_auth::session::SessionKey;
use pm_auth::store::{self, RESOURCE};
use pm_domain::ApiKeyId;
use pm_http::{ApiError, Body, Request, Response};
use pm_store::Db;

/// `DELETE /api/v1/platform/api-keys/{id}` → 204. The key fails on its very next use
/// (authentication reads the key's row on every request). Revoking twice is fine.
pub async fn revoke(
    req: Request,
    sessions: &SessionKey,
    db: &Db,
) -> Result<Response<Body>, ApiError> {
    let session = sessions.authenticate(&req)?;
    session.require_manager()?;
    let id: ApiKeyId = RESOURCE.path_id(&req)?;
    let client = db.client().await?;
    if !store::revoke(&**client, session.tenant_id, id).await? {
        return Err(RESOURCE.not_found(id));
    }
    tracing::info!(key_id = %id, tenant_id = %session.tenant_id, "API key revoked");
    pm_http::resource::no_content()
}
