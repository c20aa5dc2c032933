//! A tenant's mail transport as stored: settings and senders in PostgreSQL
//! (`email_providers`), credentials in the secrets port at `email_providers/{tenant}`.
//! The routes that set them are the API crate's (`pm_emails::providers`).

use chrono::{DateTime, Utc};
use pm_domain::TenantId;
use pm_mail::{Credentials, TransportSettings};
use pm_ports::secrets::SecretStore;
use pm_store::{row, CachingClient, DbError};

pub fn secret_path(tenant_id: TenantId) -> String {
    format!("email_providers/{tenant_id}")
}

/// A tenant's transport as stored (no secrets).
#[derive(Debug, Clone)]
pub struct Provider {
    pub settings: TransportSettings,
    pub senders: Vec<String>,
    pub tracking: bool,
    pub credentials_masked: serde_json::Value,
    pub updated_at: DateTime<Utc>,
}

impl Provider {
    /// Whether `from` is one of the registered senders (any case).
    pub fn allows_sender(&self, from: &str) -> bool {
        pm_domain::senders::sender_allowed(&self.senders, from)
    }
}

pub async fn load(
    client: &impl CachingClient,
    tenant_id: TenantId,
) -> Result<Option<Provider>, DbError> {
    let statement = client
        .prepare_cached(
            "SELECT settings, senders, tracking, credentials_masked, updated_at \
             FROM email_providers WHERE tenant_id = $1",
        )
        .await?;
    let row = client.query_opt(&statement, &[&tenant_id]).await?;
    row.map(|r| {
        Ok(Provider {
            settings: row::json(&r, "email_providers", "settings")?,
            senders: row::get(&r, "email_providers", "senders")?,
            tracking: row::get(&r, "email_providers", "tracking")?,
            credentials_masked: row::get(&r, "email_providers", "credentials_masked")?,
            updated_at: row::get(&r, "email_providers", "updated_at")?,
        })
    })
    .transpose()
}

/// The tenant's stored credentials (none stored: all unset).
pub async fn credentials(
    secrets: &dyn SecretStore,
    tenant_id: TenantId,
) -> Result<Credentials, pm_ports::PortError> {
    let data = secrets
        .get(&secret_path(tenant_id))
        .await?
        .unwrap_or_default();
    let field = |name: &str| data.get(name).map(str::to_string);
    Ok(Credentials {
        password: field("password"),
        server_token: field("server_token"),
        api_key: field("api_key"),
        webhook_signing_key: field("webhook_signing_key"),
        webhook_username: field("webhook_username"),
        webhook_password: field("webhook_password"),
    })
}
