use pm_domain::paging::ListRequest;
use pm_domain::{ContactId, TenantId, WorkspaceId};
use pm_store::select::{contains_pattern, Select};
use pm_store::{row, DbError, Transaction};
use tokio_postgres::error::SqlState;
use tokio_postgres::{GenericClient, Row};

use crate::model::{Contact, ContactStatus, ValidContact};

const TABLE: &str = "contacts";

const COLUMNS: &str = "id, email, first_name, last_name, company, tags, custom_fields, \
    status, workspace_id, created_at, updated_at";

fn contact_of(r: &Row) -> Result<Contact, DbError> {
    Ok(Contact {
        id: row::get(r, TABLE, "id")?,
        email: row::get(r, TABLE, "email")?,
        first_name: row::get(r, TABLE, "first_name")?,
        last_name: row::get(r, TABLE, "last_name")?,
        company: row::get(r, TABLE, "company")?,
        tags: row::get(r, TABLE, "tags")?,
        custom_fields: row::get(r, TABLE, "custom_fields")?,
        status: row::get(r, TABLE, "status")?,
        workspace_id: row::get(r, TABLE, "workspace_id")?,
        created_at: row::get(r, TABLE, "created_at")?,
        updated_at: row::get(r, TABLE, "updated_at")?,
    })
}

/// A write that hit another contact's email: that contact's id (`None` if it was
/// deleted in the instant between the conflict and the lookup).
pub struct EmailTaken(pub Option<ContactId>);

async fn holder_of_email(
    client: &impl GenericClient,
    tenant_id: TenantId,
    email: &str,
) -> Result<Option<ContactId>, DbError> {
    client
        .query_opt(
            "SELECT id FROM contacts WHERE tenant_id = $1 AND lower(email) = lower($2)",
            &[&tenant_id, &email],
        )
        .await?
        .map(|r| row::get(&r, TABLE, "id"))
        .transpose()
}

pub async fn insert(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
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
                &c.status.unwrap_or(ContactStatus::Subscribed),
                &c.workspace_id,
            ],
        )
        .await?;
    match row {
        Some(row) => Ok(Ok(contact_of(&row)?)),
        None => Ok(Err(EmailTaken(
            holder_of_email(tx, tenant_id, &c.email).await?,
        ))),
    }
}

pub async fn get(
    client: &impl GenericClient,
    tenant_id: TenantId,
    id: ContactId,
) -> Result<Option<Contact>, DbError> {
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM contacts WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &id],
        )
        .await?;
    row.as_ref().map(contact_of).transpose()
}

/// Replaces every writable field. `Ok(None)`: no such contact for this tenant.
pub async fn replace(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    id: ContactId,
    c: &ValidContact,
) -> Result<Result<Option<Contact>, EmailTaken>, DbError> {
    // A savepoint, so a duplicate email does not abort the caller's transaction.
    tx.batch_execute("SAVEPOINT replace_contact").await?;
    let updated = tx
        .query_opt(
            &format!(
                "UPDATE contacts SET email = $3, first_name = $4, last_name = $5, company = $6, \
                 tags = $7, custom_fields = $8, status = coalesce($9, status), workspace_id = $10, \
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
                &c.status,
                &c.workspace_id,
            ],
        )
        .await;
    match updated {
        Ok(row) => Ok(Ok(row.as_ref().map(contact_of).transpose()?)),
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

/// Deletes the contact and returns it as it was (`None`: no such contact here).
pub async fn delete(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    id: ContactId,
) -> Result<Option<Contact>, DbError> {
    tx.query_opt(
        &format!("DELETE FROM contacts WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"),
        &[&tenant_id, &id],
    )
    .await?
    .as_ref()
    .map(contact_of)
    .transpose()
}

/// Filters a list request may carry, already validated.
#[derive(Debug, Default)]
pub struct Filters {
    pub email: Option<String>,
    pub tag: Option<String>,
    pub status: Option<ContactStatus>,
    pub workspace_id: Option<WorkspaceId>,
    pub created_after: Option<chrono::DateTime<chrono::Utc>>,
    pub created_before: Option<chrono::DateTime<chrono::Utc>>,
    pub q: Option<String>,
}

pub async fn list(
    client: &impl GenericClient,
    tenant_id: TenantId,
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
        select = select.and("status = ?", vec![Box::new(status)]);
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
        // The expression of the trigram index contacts_search, so the index serves it.
        select = select.and(
            "(email || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || \
             coalesce(company, '')) ILIKE ?",
            vec![Box::new(pattern)],
        );
    }
    let rows = select.page(list).fetch(client).await?;
    rows.iter().map(contact_of).collect()
}

/// The contact's status, locked until the transaction ends (so a check and the write
/// that follows it see the same status).
pub async fn status_for_update(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    id: ContactId,
) -> Result<Option<ContactStatus>, DbError> {
    let row = tx
        .query_opt(
            "SELECT status FROM contacts WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
            &[&tenant_id, &id],
        )
        .await?;
    row.map(|r| row::get(&r, TABLE, "status")).transpose()
}

pub async fn set_status(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    id: ContactId,
    status: ContactStatus,
) -> Result<Option<Contact>, DbError> {
    let row = tx
        .query_opt(
            &format!(
                "UPDATE contacts SET status = $3, updated_at = clock_timestamp() \
                 WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
            ),
            &[&tenant_id, &id, &status],
        )
        .await?;
    row.as_ref().map(contact_of).transpose()
}
