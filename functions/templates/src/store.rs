use pm_domain::paging::ListRequest;
use pm_domain::{CampaignId, TemplateId, TenantId};
use pm_store::select::{contains_pattern, Select};
use pm_store::{row, DbError};
use tokio_postgres::{GenericClient, Row};

use crate::model::{Template, TemplateSummary};
use crate::render::TemplateParts;

const TABLE: &str = "templates";

const COLUMNS: &str = "id, name, subject, html, text_body, created_at, updated_at";

fn template_of(r: &Row) -> Result<Template, DbError> {
    Ok(Template {
        id: row::get(r, TABLE, "id")?,
        name: row::get(r, TABLE, "name")?,
        subject: row::get(r, TABLE, "subject")?,
        html: row::get(r, TABLE, "html")?,
        text: row::get(r, TABLE, "text_body")?,
        created_at: row::get(r, TABLE, "created_at")?,
        updated_at: row::get(r, TABLE, "updated_at")?,
    })
}

pub async fn insert(
    client: &impl GenericClient,
    tenant_id: TenantId,
    name: &str,
    parts: &TemplateParts,
) -> Result<Template, DbError> {
    let row = client
        .query_one(
            &format!(
                "INSERT INTO templates (tenant_id, name, subject, html, text_body) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
            ),
            &[&tenant_id, &name, &parts.subject, &parts.html, &parts.text],
        )
        .await?;
    template_of(&row)
}

pub async fn get(
    client: &impl GenericClient,
    tenant_id: TenantId,
    id: TemplateId,
) -> Result<Option<Template>, DbError> {
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM templates WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &id],
        )
        .await?;
    row.as_ref().map(template_of).transpose()
}

pub async fn replace(
    client: &impl GenericClient,
    tenant_id: TenantId,
    id: TemplateId,
    name: &str,
    parts: &TemplateParts,
) -> Result<Option<Template>, DbError> {
    let row = client
        .query_opt(
            &format!(
                "UPDATE templates SET name = $3, subject = $4, html = $5, text_body = $6, \
                 updated_at = clock_timestamp() WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
            ),
            &[&tenant_id, &id, &name, &parts.subject, &parts.html, &parts.text],
        )
        .await?;
    row.as_ref().map(template_of).transpose()
}

pub enum Deleted {
    Yes,
    NotFound,
    /// A campaign's step uses it: this campaign, for one.
    InUse(CampaignId),
}

/// A campaign using the tenant's template (the tenant condition keeps another tenant's
/// template ids from answering anything but 404).
const USED_BY: &str = "SELECT ct.campaign_id FROM campaign_templates ct \
    JOIN templates t ON t.id = ct.template_id WHERE ct.template_id = $1 AND t.tenant_id = $2 LIMIT 1";

/// Deletes the template unless a campaign uses it (the foreign key from
/// campaign_templates makes that hold even against a concurrent campaign update).
pub async fn delete(
    client: &impl GenericClient,
    tenant_id: TenantId,
    id: TemplateId,
) -> Result<Deleted, DbError> {
    if let Some(row) = client.query_opt(USED_BY, &[&id, &tenant_id]).await? {
        return Ok(Deleted::InUse(row::get(&row, TABLE, "campaign_id")?));
    }
    match client
        .execute(
            "DELETE FROM templates WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &id],
        )
        .await
    {
        Ok(1) => Ok(Deleted::Yes),
        Ok(_) => Ok(Deleted::NotFound),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION) => {
            match client.query_opt(USED_BY, &[&id, &tenant_id]).await? {
                Some(row) => Ok(Deleted::InUse(row::get(&row, TABLE, "campaign_id")?)),
                None => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// A page of templates; `name` filters by a case-insensitive substring.
pub async fn list(
    client: &impl GenericClient,
    tenant_id: TenantId,
    name: Option<String>,
    list: &ListRequest,
) -> Result<Vec<TemplateSummary>, DbError> {
    let mut select = Select::new(
        "SELECT id, name, subject, created_at, updated_at FROM templates",
        tenant_id,
    );
    if let Some(name) = name {
        select = select.and("name ILIKE ?", vec![Box::new(contains_pattern(&name))]);
    }
    let rows = select.page(list).fetch(client).await?;
    rows.iter()
        .map(|r| {
            Ok(TemplateSummary {
                id: row::get(r, TABLE, "id")?,
                name: row::get(r, TABLE, "name")?,
                subject: row::get(r, TABLE, "subject")?,
                created_at: row::get(r, TABLE, "created_at")?,
                updated_at: row::get(r, TABLE, "updated_at")?,
            })
        })
        .collect()
}
