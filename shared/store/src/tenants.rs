use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use crate::DbError;

/// A tenant's plan; it sets the API rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Starter,
    Pro,
    Enterprise,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Starter => "starter",
            Plan::Pro => "pro",
            Plan::Enterprise => "enterprise",
        }
    }

    /// Requests per minute per API key (roadmap: Starter 60, Pro 300, Enterprise 1000).
    pub fn requests_per_minute(self) -> u32 {
        match self {
            Plan::Starter => 60,
            Plan::Pro => 300,
            Plan::Enterprise => 1000,
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Plan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "starter" => Ok(Plan::Starter),
            "pro" => Ok(Plan::Pro),
            "enterprise" => Ok(Plan::Enterprise),
            other => Err(format!("unknown plan {other:?}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    pub id: Uuid,
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
        let plan: String = row.get("plan");
        Ok(Self {
            id: row.get("id"),
            name: row.get("name"),
            plan: plan.parse().map_err(|e: String| DbError::Unavailable(e))?,
            rate_limit_per_minute: row.get("rate_limit_per_minute"),
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
            &[&name, &plan.as_str()],
        )
        .await?;
    Tenant::from_row(&row)
}

pub async fn get(client: &impl GenericClient, id: Uuid) -> Result<Option<Tenant>, DbError> {
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
    fn plan_limits_match_the_roadmap() {
        assert_eq!(Plan::Starter.requests_per_minute(), 60);
        assert_eq!(Plan::Pro.requests_per_minute(), 300);
        assert_eq!(Plan::Enterprise.requests_per_minute(), 1000);
    }

    #[test]
    fn override_wins_over_plan() {
        let mut t = Tenant {
            id: Uuid::nil(),
            name: "t".into(),
            plan: Plan::Pro,
            rate_limit_per_minute: None,
        };
        assert_eq!(t.requests_per_minute(), 300);
        t.rate_limit_per_minute = Some(42);
        assert_eq!(t.requests_per_minute(), 42);
    }
}
