use pm_domain::{Plan, TenantId};
use serde::Serialize;
use tokio_postgres::GenericClient;

use crate::{row, DbError};

const TABLE: &str = "tenants";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub plan: Plan,
    pub rate_limit_per_minute: Option<i32>,
}

impl Tenant {
    pub fn requests_per_minute(&self) -> u32 {
        self.rate_limit_per_minute
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or_else(|| self.plan.requests_per_minute())
    }

    fn from_row(row: &tokio_postgres::Row) -> Result<Self, DbError> {
        Ok(Self {
            id: row::get(row, TABLE, "id")?,
            name: row::get(row, TABLE, "name")?,
            plan: row::get(row, TABLE, "plan")?,
            rate_limit_per_minute: row::get(row, TABLE, "rate_limit_per_minute")?,
        })
    }
}

pub async fn create(
    client: &impl GenericClient,
    name: &str,
    plan: Plan,
) -> Result<Tenant, DbError> {
    let row = client
        .query_one(
            "INSERT INTO tenants (name, plan) VALUES ($1, $2) \
             RETURNING id, name, plan, rate_limit_per_minute",
            &[&name, &plan],
        )
        .await?;
    Tenant::from_row(&row)
}

pub async fn get(client: &impl GenericClient, id: TenantId) -> Result<Option<Tenant>, DbError> {
    let row = client
        .query_opt(
            "SELECT id, name, plan, rate_limit_per_minute FROM tenants WHERE id = $1",
            &[&id],
        )
        .await?;
    row.as_ref().map(Tenant::from_row).transpose()
}

pub async fn find_by_name(
    client: &impl GenericClient,
    name: &str,
) -> Result<Option<Tenant>, DbError> {
    let row = client
        .query_opt(
            "SELECT id, name, plan, rate_limit_per_minute FROM tenants WHERE name = $1 \
             ORDER BY created_at LIMIT 1",
            &[&name],
        )
        .await?;
    row.as_ref().map(Tenant::from_row).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_wins_over_plan() {
        let mut t = Tenant {
            id: TenantId::from(uuid::Uuid::nil()),
            name: "t".into(),
            plan: Plan::Pro,
            rate_limit_per_minute: None,
        };
        assert_eq!(t.requests_per_minute(), 300);
        t.rate_limit_per_minute = Some(42);
        assert_eq!(t.requests_per_minute(), 42);
    }
}
