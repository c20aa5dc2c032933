use chrono::{DateTime, Utc};
use http::StatusCode;
use pm_auth::session::SessionKey;
use pm_auth::store;
use pm_http::list::{cursor, limit, Page};
use pm_http::{json, ApiError, Body, Request, Response};
use pm_store::Db;
use uuid::Uuid;

/// `GET /api/v1/platform/api-keys`: the tenant's keys, masked, newest first, with
/// `limit` and `cursor` pagination.
pub async fn list(
    req: Request,
    sessions: &SessionKey,
    db: &Db,
) -> Result<Response<Body>, ApiError> {
    let session = sessions.authenticate(&req)?;
    let limit = limit(&req)?;
    let after: Option<(DateTime<Utc>, Uuid)> = cursor(&req)?;
    let client = db.client().await?;
    let rows = store::list(&**client, session.tenant_id, after, limit + 1).await?;
    json(
        StatusCode::OK,
        &Page::from_rows(rows, limit, |key| (key.created_at, key.id)),
    )
}
