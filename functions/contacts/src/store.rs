use pm_http::list::{ListRequest, Order, Sorting};
use pm_store::select::{contains_pattern, Select, SortColumn};
use pm_store::{DbError, Transaction};
use tokio_postgres::error::SqlState;
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use crate::model::{Contact, ContactStatus, ValidContact};

const COLUMNS: &str = "id, email, first_name, last_name, company, tags, custom_fields, \
    status, workspace_id, created_at, updated_at";

pub const SORTING: Sorting = Sorting {
    fields: &["created_at", "updated_at", "email"],
    default_order: Order::Desc,
};

pub const SORT_COLUMNS: &[SortColumn] = &[
    SortColumn::timestamp("created_at"),
    SortColumn::timestamp("updated_at"),
    SortColumn::text("email"),
];

fn contact_of(row: &Row) -> Contact {
    let status: String = row.get("status");
    Contact {
        id: row.get("id"),
        email: row.get("email"),
        first_name: row.get("first_name"),
        last_name: row.get("last_name"),
        company: row.get("company"),
        tags: row.get("tags"),
        custom_fields: row.get("custom_fields"),
        status: ContactStatus::parse(&status).unwrap_or(ContactStatus::Subscribed),
        workspace_id: row.get("workspace_id"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    }
}

/// A write that hit another contact's email: that contact's id (`None` if it was
/// deleted in the instant between the conflict and the lookup).
pub struct EmailTaken(pub Option<Uuid>);

async fn holder_of_email(
    client: &impl GenericClient,
    tenant_id: Uuid,
    email: &str,
) -> Result<Option<Uuid>, DbError> {
    Ok(client
        .query_opt(
            "SELECT id FROM contacts WHERE tenant_id = $1 AND lower(email) = lower($2)",
            &[&tenant_id, &email],
        )
        .await?
        .map(|row| row.get(0)))
}

pub async fn insert(
    tx: &Transaction<'_>,
    tenant_id: Uuid,
    c: &ValidContact,
) -> Result<Result<Contact, EmailTaken>, DbError> {
    let row = tx
        .query_opt(
            &format!(
                "INSERT INTO contacts (tenant_id, email, first_name, last_name, company, tags, \
                 custom_fields, status, workspace_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (tenant_id, lower(email)) DO NOTHING RETURNING {COLUMNS}"
            ),
            &[
                &tenant_id,
                &c.email,
                &c.first_name,
                &c.last_name,
                &c.company,
                &c.tags,
                &c.custom_fields,
                &c.status.as_str(),
                &c.workspace_id,
            ],
        )
        .await?;
    match row {
        Some(row) => Ok(Ok(contact_of(&row))),
        None => Ok(Err(EmailTaken(
            holder_of_email(tx, tenant_id, &c.email).await?,
        ))),
    }
}

pub async fn get(
    client: &impl GenericClient,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<Contact>, DbError> {
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM contacts WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &id],
        )
        .await?;
    Ok(row.as_ref().map(contact_of))
}

/// Replaces every writable field. `Ok(None)`: no such contact for this tenant.
pub async fn replace(
    tx: &Transaction<'_>,
    tenant_id: Uuid,
    id: Uuid,
    c: &ValidContact,
) -> Result<Result<Option<Contact>, EmailTaken>, DbError> {
    // A savepoint, so a duplicate email does not abort the caller's transaction.
    tx.batch_execute("SAVEPOINT replace_contact").await?;
    let updated = tx
        .query_opt(
            &format!(
                "UPDATE contacts SET email = $3, first_name = $4, last_name = $5, company = $6, \
                 tags = $7, custom_fields = $8, status = $9, workspace_id = $10, \
                 updated_at = clock_timestamp() WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
            ),
            &[
                &tenant_id,
                &id,
                &c.email,
                &c.first_name,
                &c.last_name,
                &c.company,
                &c.tags,
                &c.custom_fields,
                &c.status.as_str(),
                &c.workspace_id,
            ],
        )
        .await;
    match updated {
        Ok(row) => Ok(Ok(row.as_ref().map(contact_of))),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT replace_contact")
                .await?;
            Ok(Err(EmailTaken(
                holder_of_email(tx, tenant_id, &c.email).await?,
            )))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    client: &impl GenericClient,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<bool, DbError> {
    Ok(client
        .execute(
            "DELETE FROM contacts WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &id],
        )
        .await?
        == 1)
}

/// Filters a list request may carry, already validated.
#[derive(Debug, Default)]
pub struct Filters {
    pub email: Option<String>,
    pub tag: Option<String>,
    pub status: Option<ContactStatus>,
    pub workspace_id: Option<Uuid>,
    pub created_after: Option<chrono::DateTime<chrono::Utc>>,
    pub created_before: Option<chrono::DateTime<chrono::Utc>>,
    pub q: Option<String>,
}

pub async fn list(
    client: &impl GenericClient,
    tenant_id: Uuid,
    filters: Filters,
    list: &ListRequest,
) -> Result<Vec<Contact>, DbError> {
    let mut select = Select::new(&format!("SELECT {COLUMNS} FROM contacts"), tenant_id);
    if let Some(email) = filters.email {
        select = select.and("lower(email) = lower(?)", vec![Box::new(email)]);
    }
    if let Some(tag) = filters.tag {
        select = select.and("tags @> ARRAY[?]::text[]", vec![Box::new(tag)]);
    }
    if let Some(status) = filters.status {
        select = select.and("status = ?", vec![Box::new(status.as_str().to_string())]);
    }
    if let Some(workspace) = filters.workspace_id {
        select = select.and("workspace_id = ?", vec![Box::new(workspace)]);
    }
    if let Some(after) = filters.created_after {
        select = select.and("created_at > ?", vec![Box::new(after)]);
    }
    if let Some(before) = filters.created_before {
        select = select.and("created_at < ?", vec![Box::new(before)]);
    }
    if let Some(q) = filters.q {
        let pattern = contains_pattern(&q);
        select = select.and(
            "(email ILIKE ? OR first_name ILIKE ? OR last_name ILIKE ? OR company ILIKE ?)",
            vec![
                Box::new(pattern.clone()),
                Box::new(pattern.clone()),
                Box::new(pattern.clone()),
                Box::new(pattern),
            ],
        );
    }
    let rows = select.page(list, SORT_COLUMNS).fetch(client).await?;
    Ok(rows.iter().map(contact_of).collect())
}
