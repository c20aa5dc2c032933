use std::time::Duration;

use pm_auth::session::Role;
use pm_domain::{Plan, Scope};
use pm_store::tenants::{self, Tenant};
use pm_store::{Db, DbError};

use crate::App;

pub const DEMO_TENANT: &str = "Demo Tenant";
pub const DEMO_USER: &str = "demo-user";
pub const DEMO_KEY_NAME: &str = "Demo key (local runtime)";
/// Sessions live 15 minutes at most (the runtime re-issues the demo one; see runtime.rs).
const SESSION_LIFETIME: Duration = pm_auth::session::MAX_SESSION_TTL;

/// The demo tenant, created on first start and reused afterwards.
pub async fn demo_tenant(db: &Db) -> Result<Tenant, DbError> {
    let client = db.client().await?;
    if let Some(tenant) = tenants::find_by_name(&**client, DEMO_TENANT).await? {
        return Ok(tenant);
    }
    tenants::create(&**client, DEMO_TENANT, Plan::Pro).await
}

/// A session for the demo user (owner of the demo tenant).
pub fn demo_session(app: &App, tenant: &Tenant) -> String {
    demo_session_for(app, tenant.id)
}

/// A fresh owner session of the demo tenant.
pub fn demo_session_for(app: &App, tenant: pm_domain::TenantId) -> String {
    app.session_signer
        .issue(DEMO_USER, tenant, Role::Owner, SESSION_LIFETIME)
}

/// A fresh demo key with every scope. Earlier demo keys are revoked: their hashes may
/// have lived in an in-process secrets store that is gone now.
pub async fn demo_api_key(app: &App, tenant: &Tenant) -> anyhow::Result<String> {
    {
        let client = app.db.client().await?;
        client
            .execute(
                "UPDATE api_keys SET revoked_at = now() \
                 WHERE tenant_id = $1 AND name = $2 AND revoked_at IS NULL",
                &[&tenant.id, &DEMO_KEY_NAME],
            )
            .await
            .map_err(DbError::from)?;
    }
    let issued = app
        .issuer
        .create(tenant.id, DEMO_KEY_NAME, Scope::ALL, DEMO_USER)
        .await
        .map_err(|e| anyhow::anyhow!("creating the demo API key: {e}"))?;
    Ok(issued.secret.expose().clone())
}

/// The demo sender domain: `POST /api/v1/emails/send` from any address here works.
pub const DEMO_SENDER_DOMAIN: &str = "example.com";

/// The demo tenant's transport: `capture` (stored, not sent; see `captured_mime` on
/// `GET /api/v1/emails/{id}`), with senders at [`DEMO_SENDER_DOMAIN`]. A transport set
/// through the API is kept.
pub async fn demo_email_provider(app: &App, tenant: &Tenant) -> Result<(), DbError> {
    let client = app.db.client().await?;
    client
        .execute(
            "INSERT INTO email_providers (tenant_id, settings, senders) \
             VALUES ($1, '{\"type\": \"capture\"}', $2) ON CONFLICT (tenant_id) DO NOTHING",
            &[&tenant.id, &vec![format!("@{DEMO_SENDER_DOMAIN}")]],
        )
        .await?;
    Ok(())
}
