use pm_store::tenants::{self, Plan, Tenant};
use pm_store::{Db, DbError};

pub const DEMO_TENANT: &str = "Demo Tenant";

/// The demo tenant, created on first start and reused afterwards.
pub async fn demo_tenant(db: &Db) -> Result<Tenant, DbError> {
    let client = db.client().await?;
    if let Some(tenant) = tenants::find_by_name(&**client, DEMO_TENANT).await? {
        return Ok(tenant);
    }
    tenants::create(&**client, DEMO_TENANT, Plan::Pro).await
}
