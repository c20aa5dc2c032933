use http::StatusCode;
use pm_auth::dashboard::SessionAuth;
use pm_auth::store::{self, RESOURCE};
use pm_domain::paging::timestamp_value;
use pm_http::list::list_request;
use pm_http::{json, ApiError, Body, Request, Response};
use pm_store::Db;

/// `GET /api/v1/platform/api-keys`: the tenant's keys, masked, newest first, with the
/// shared list parameters (`limit`, `offset` or `cursor`, `order`).
pub async fn list(
    req: Request,
    sessions: &SessionAuth,
    db: &Db,
) -> Result<Response<Body>, ApiError> {
    let session = sessions.authenticate(&req).await?;
    let list = list_request(&req, &RESOURCE.sorting)?;
    let client = db.client().await?;
    let rows = store::list(&**client, session.tenant_id, &list).await?;
    json(
        StatusCode::OK,
        &list.page(rows, |key| {
            (timestamp_value(&key.created_at), key.id.as_uuid())
        }),
    )
}
