//! The Emails API's own SQL (the rest is the worker crate's `store`): what sending looks
//! up besides the email, scoped by the caller's tenant.

use pm_domain::{CampaignId, TemplateId, TenantId};
use pm_store::{row, CachingClient, DbError};
use pm_templates::TemplateParts;

pub async fn template_parts(
    client: &impl CachingClient,
    tenant_id: TenantId,
    id: TemplateId,
) -> Result<Option<TemplateParts>, DbError> {
    let row = client
        .query_opt(
            "SELECT subject, html, text_body AS text FROM templates WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &id],
        )
        .await?;
    row.map(|r| {
        Ok(TemplateParts {
            subject: row::get(&r, "templates", "subject")?,
            html: row::get(&r, "templates", "html")?,
            text: row::get(&r, "templates", "text")?,
        })
    })
    .transpose()
}

pub async fn campaign_exists(
    client: &impl CachingClient,
    tenant_id: TenantId,
    id: CampaignId,
) -> Result<bool, DbError> {
    Ok(client
        .query_opt(
            "SELECT 1 FROM campaigns WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &id],
        )
        .await?
        .is_some())
}
