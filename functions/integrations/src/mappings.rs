//! A tenant's field mapping per provider (`crm_field_mappings`): the provider's defaults
//! until the tenant saves its own, checked as a whole before it is kept.

use pm_crm::mapping::{validate, FieldMapping, MappingError};
use pm_crm::provider::Provider;
use pm_domain::TenantId;
use pm_store::DbError;
use tokio_postgres::GenericClient;

/// The mapping in force for the tenant's connection to `provider`.
pub async fn load(
    db: &impl GenericClient,
    tenant: TenantId,
    provider: &dyn Provider,
) -> Result<Vec<FieldMapping>, DbError> {
    let row = db
        .query_opt(
            "SELECT mappings FROM crm_field_mappings WHERE tenant_id = $1 AND provider = $2",
            &[&tenant, &provider.id()],
        )
        .await?;
    match row {
        None => Ok(provider.default_mapping()),
        Some(row) => serde_json::from_value(row.get(0)).map_err(|e| DbError::Corrupt {
            table: "crm_field_mappings",
            detail: e.to_string(),
        }),
    }
}

/// Keeps the tenant's mapping, once it passes [`validate`].
pub async fn save(
    db: &impl GenericClient,
    tenant: TenantId,
    provider: &dyn Provider,
    mappings: &[FieldMapping],
) -> Result<Result<(), MappingError>, DbError> {
    if let Err(e) = validate(mappings) {
        return Ok(Err(e));
    }
    let json = serde_json::to_value(mappings).expect("mappings serialise");
    db.execute(
        "INSERT INTO crm_field_mappings (tenant_id, provider, mappings) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, provider) DO UPDATE SET mappings = EXCLUDED.mappings, \
           updated_at = now()",
        &[&tenant, &provider.id(), &json],
    )
    .await?;
    Ok(Ok(()))
}

/// The CRM properties a read of contacts asks for: every mapped property that is pulled,
/// and the email that matches records.
pub fn pulled_properties(mappings: &[FieldMapping]) -> Vec<String> {
    let mut names: Vec<String> = mappings
        .iter()
        .filter(|m| m.direction.pulls())
        .map(|m| m.remote.clone())
        .collect();
    if !names.iter().any(|n| n == "email") {
        names.push("email".into());
    }
    names
}
