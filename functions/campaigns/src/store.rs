use pm_domain::paging::ListRequest;
use pm_domain::{CampaignId, ContactId, TemplateId, TenantId};
use pm_store::select::{contains_pattern, Select};
use pm_store::{row, DbError, Transaction};
use tokio_postgres::{GenericClient, Row};

use crate::model::{Campaign, CampaignStatus, CampaignSummary};
use crate::validate::ValidCampaign;

const COLUMNS: &str =
    "id, name, status, sender, steps, audience, schedule, started_at, created_at, updated_at";

const TABLE: &str = "campaigns";

fn campaign_of(r: &Row) -> Result<Campaign, DbError> {
    Ok(Campaign {
        id: row::get(r, TABLE, "id")?,
        name: row::get(r, TABLE, "name")?,
        status: row::get(r, TABLE, "status")?,
        sender: row::json(r, TABLE, "sender")?,
        steps: row::json(r, TABLE, "steps")?,
        audience: row::json(r, TABLE, "audience")?,
        schedule: row::json(r, TABLE, "schedule")?,
        started_at: row::get(r, TABLE, "started_at")?,
        created_at: row::get(r, TABLE, "created_at")?,
        updated_at: row::get(r, TABLE, "updated_at")?,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("campaign parts serialize")
}

/// Template ids the steps name that this tenant does not have. The ones it has are
/// locked (FOR KEY SHARE) until the caller's transaction ends, so a concurrent delete
/// cannot slip in between this check and the campaign's write.
pub async fn unknown_templates(
    client: &impl GenericClient,
    tenant_id: TenantId,
    c: &ValidCampaign,
) -> Result<Vec<(usize, TemplateId)>, DbError> {
    let mut unknown = Vec::new();
    for (i, step) in c.steps.iter().enumerate() {
        if let Some(id) = step.template_id {
            let found = client
                .query_opt(
                    "SELECT 1 FROM templates WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE",
                    &[&tenant_id, &id],
                )
                .await?;
            if found.is_none() {
                unknown.push((i, id));
            }
        }
    }
    Ok(unknown)
}

/// Audience contact ids that are not this tenant's contacts.
pub async fn unknown_contacts(
    client: &impl GenericClient,
    tenant_id: TenantId,
    c: &ValidCampaign,
) -> Result<Vec<ContactId>, DbError> {
    let rows = client
        .query(
            "SELECT t.id FROM unnest($2::uuid[]) AS t(id) WHERE NOT EXISTS \
             (SELECT 1 FROM contacts c WHERE c.tenant_id = $1 AND c.id = t.id)",
            &[&tenant_id, &&*c.audience.contact_ids],
        )
        .await?;
    rows.iter().map(|r| row::get(r, "contacts", "id")).collect()
}

async fn link_templates(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    id: CampaignId,
    c: &ValidCampaign,
) -> Result<(), DbError> {
    // The link table has no tenant column: the campaign's tenant stands in for it.
    tx.execute(
        "DELETE FROM campaign_templates WHERE campaign_id = $1 \
         AND campaign_id IN (SELECT id FROM campaigns WHERE tenant_id = $2)",
        &[&id, &tenant_id],
    )
    .await?;
    let templates: Vec<TemplateId> = c.steps.iter().filter_map(|s| s.template_id).collect();
    tx.execute(
        "INSERT INTO campaign_templates (campaign_id, template_id) \
         SELECT $1, t FROM unnest($2::uuid[]) t ON CONFLICT DO NOTHING",
        &[&id, &templates],
    )
    .await?;
    Ok(())
}

pub async fn insert(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    c: &ValidCampaign,
) -> Result<Campaign, DbError> {
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO campaigns (tenant_id, name, sender, steps, audience, schedule) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
            ),
            &[
                &tenant_id,
                &c.name,
                &to_json(&c.sender),
                &to_json(&c.steps),
                &to_json(&c.audience),
                &to_json(&c.schedule),
            ],
        )
        .await?;
    let campaign = campaign_of(&row)?;
    link_templates(tx, tenant_id, campaign.id, c).await?;
    Ok(campaign)
}

pub async fn get(
    client: &impl GenericClient,
    tenant_id: TenantId,
    id: CampaignId,
) -> Result<Option<Campaign>, DbError> {
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM campaigns WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &id],
        )
        .await?;
    row.as_ref().map(campaign_of).transpose()
}

/// The campaign, locked until the transaction ends (transitions and edits serialise).
pub async fn lock(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    id: CampaignId,
) -> Result<Option<Campaign>, DbError> {
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM campaigns WHERE tenant_id = $1 AND id = $2 FOR UPDATE"),
            &[&tenant_id, &id],
        )
        .await?;
    row.as_ref().map(campaign_of).transpose()
}

// Every write names the tenant in its own WHERE, not only the lock that came before it:
// a statement reused elsewhere cannot reach another tenant's row.

pub async fn replace(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    id: CampaignId,
    c: &ValidCampaign,
) -> Result<Campaign, DbError> {
    let row = tx
        .query_one(
            &format!(
                "UPDATE campaigns SET name = $2, sender = $3, steps = $4, audience = $5, \
                 schedule = $6, updated_at = clock_timestamp() \
                 WHERE id = $1 AND tenant_id = $7 RETURNING {COLUMNS}"
            ),
            &[
                &id,
                &c.name,
                &to_json(&c.sender),
                &to_json(&c.steps),
                &to_json(&c.audience),
                &to_json(&c.schedule),
                &tenant_id,
            ],
        )
        .await?;
    link_templates(tx, tenant_id, id, c).await?;
    campaign_of(&row)
}

pub async fn set_status(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    id: CampaignId,
    status: CampaignStatus,
) -> Result<Campaign, DbError> {
    let row = tx
        .query_one(
            &format!(
                "UPDATE campaigns SET status = $2, updated_at = clock_timestamp(), \
                 started_at = CASE WHEN $2 = 'active' THEN COALESCE(started_at, clock_timestamp()) \
                              ELSE started_at END \
                 WHERE id = $1 AND tenant_id = $3 RETURNING {COLUMNS}"
            ),
            &[&id, &status, &tenant_id],
        )
        .await?;
    campaign_of(&row)
}

pub async fn delete(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    id: CampaignId,
) -> Result<(), DbError> {
    tx.execute(
        "DELETE FROM campaigns WHERE id = $1 AND tenant_id = $2",
        &[&id, &tenant_id],
    )
    .await?;
    Ok(())
}

/// How many of the tenant's subscribed contacts the audience reaches.
pub async fn audience_size(
    client: &impl GenericClient,
    tenant_id: TenantId,
    c: &Campaign,
) -> Result<i64, DbError> {
    Ok(client
        .query_one(
            "SELECT count(*) FROM contacts WHERE tenant_id = $1 AND status = 'subscribed' \
             AND (id = ANY($2) OR tags && $3)",
            &[&tenant_id, &&*c.audience.contact_ids, &&*c.audience.tags],
        )
        .await?
        .get(0))
}

pub async fn list(
    client: &impl GenericClient,
    tenant_id: TenantId,
    status: Option<CampaignStatus>,
    name: Option<String>,
    list: &ListRequest,
) -> Result<Vec<CampaignSummary>, DbError> {
    let mut select = Select::new(
        "SELECT id, name, status, sender, jsonb_array_length(steps) AS step_count, \
         jsonb_array_length(audience -> 'contact_ids') AS audience_contact_count, \
         audience -> 'tags' AS audience_tags, schedule, started_at, created_at, updated_at \
         FROM campaigns",
        tenant_id,
    );
    if let Some(status) = status {
        select = select.and("status = ?", vec![Box::new(status)]);
    }
    if let Some(name) = name {
        select = select.and("name ILIKE ?", vec![Box::new(contains_pattern(&name))]);
    }
    let rows = select.page(list).fetch(client).await?;
    rows.iter()
        .map(|r| {
            Ok(CampaignSummary {
                id: row::get(r, TABLE, "id")?,
                name: row::get(r, TABLE, "name")?,
                status: row::get(r, TABLE, "status")?,
                sender: row::json(r, TABLE, "sender")?,
                step_count: row::get(r, TABLE, "step_count")?,
                audience_contact_count: row::get(r, TABLE, "audience_contact_count")?,
                audience_tags: row::json(r, TABLE, "audience_tags")?,
                schedule: row::json(r, TABLE, "schedule")?,
                started_at: row::get(r, TABLE, "started_at")?,
                created_at: row::get(r, TABLE, "created_at")?,
                updated_at: row::get(r, TABLE, "updated_at")?,
            })
        })
        .collect()
}

/// Whether the tenant's email provider lists `from` among its senders.
pub async fn sender_registered(
    client: &impl GenericClient,
    tenant_id: TenantId,
    from: &str,
) -> Result<bool, DbError> {
    let row = client
        .query_opt(
            "SELECT senders FROM email_providers WHERE tenant_id = $1",
            &[&tenant_id],
        )
        .await?;
    let senders: Vec<String> = match row {
        Some(r) => row::get(&r, "email_providers", "senders")?,
        None => Vec::new(),
    };
    Ok(pm_domain::senders::sender_allowed(&senders, from))
}
