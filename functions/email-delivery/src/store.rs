//! Emails' SQL, for the API and the workers. Every query of the API is scoped by the
//! caller's tenant: another tenant's email or contact is indistinguishable from a
//! missing one.

use chrono::{DateTime, Utc};
use pm_domain::paging::ListRequest;
use pm_domain::{ApiKeyId, CampaignId, ContactId, EmailId, TemplateId, TenantId};
use pm_store::select::Select;
use pm_store::{row, CachingClient, DbError};
use tokio_postgres::Row;

use crate::model::{Email, EmailEventType, EmailStatus, Mailbox, TimelineEntry};

const EMAILS: &str = "emails";
const EVENTS: &str = "email_events";

pub(crate) const COLUMNS: &str = "id, status, from_email, from_name, to_email, contact_id, cc, \
    bcc, reply_to, subject, html, text, tags, metadata, headers, template_id, campaign_id, \
    campaign_step, tracking, message_id, transport, provider_message_id, attempts, \
    last_error, scheduled_at, sent_at, created_at, updated_at, captured_mime, queued_at";

/// What a list reads: no bodies, no captured message (up to 512 KiB each).
const SUMMARY_COLUMNS: &str = "id, status, from_email, from_name, to_email, contact_id, cc, \
    bcc, reply_to, subject, tags, metadata, headers, template_id, campaign_id, \
    campaign_step, tracking, message_id, transport, provider_message_id, attempts, \
    last_error, scheduled_at, sent_at, created_at, updated_at";

/// A row as an email; `full` keeps the bodies and the captured message (lists drop them).
pub(crate) fn email_of(r: &Row, full: bool) -> Result<Email, DbError> {
    let body = |column: &str| -> Result<Option<String>, DbError> {
        if full {
            row::get(r, EMAILS, column)
        } else {
            Ok(None)
        }
    };
    Ok(Email {
        id: row::get(r, EMAILS, "id")?,
        status: row::get(r, EMAILS, "status")?,
        from: Mailbox {
            email: row::get(r, EMAILS, "from_email")?,
            name: row::get(r, EMAILS, "from_name")?,
        },
        to: row::get(r, EMAILS, "to_email")?,
        contact_id: row::get(r, EMAILS, "contact_id")?,
        cc: row::get(r, EMAILS, "cc")?,
        bcc: row::get(r, EMAILS, "bcc")?,
        reply_to: row::get(r, EMAILS, "reply_to")?,
        subject: row::get(r, EMAILS, "subject")?,
        html: body("html")?,
        text: body("text")?,
        tags: row::get(r, EMAILS, "tags")?,
        metadata: row::get(r, EMAILS, "metadata")?,
        headers: row::get(r, EMAILS, "headers")?,
        template_id: row::get(r, EMAILS, "template_id")?,
        campaign_id: row::get(r, EMAILS, "campaign_id")?,
        campaign_step: row::get(r, EMAILS, "campaign_step")?,
        tracking: row::get(r, EMAILS, "tracking")?,
        message_id: row::get(r, EMAILS, "message_id")?,
        transport: row::get(r, EMAILS, "transport")?,
        provider_message_id: row::get(r, EMAILS, "provider_message_id")?,
        attempts: row::get(r, EMAILS, "attempts")?,
        last_error: row::get(r, EMAILS, "last_error")?,
        scheduled_at: row::get(r, EMAILS, "scheduled_at")?,
        sent_at: row::get(r, EMAILS, "sent_at")?,
        created_at: row::get(r, EMAILS, "created_at")?,
        updated_at: row::get(r, EMAILS, "updated_at")?,
        events: None,
        captured_mime: body("captured_mime")?,
    })
}

/// A contact as sending needs it.
#[derive(Debug, Clone)]
pub struct ContactRef {
    pub id: ContactId,
    pub email: String,
    /// `subscribed`, or why it is suppressed.
    pub status: String,
}

pub async fn contact_by_id(
    client: &impl CachingClient,
    tenant_id: TenantId,
    id: ContactId,
) -> Result<Option<ContactRef>, DbError> {
    let row = client
        .query_opt(
            "SELECT id, email, status FROM contacts WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &id],
        )
        .await?;
    row.map(|r| contact_ref(&r)).transpose()
}

fn contact_ref(r: &Row) -> Result<ContactRef, DbError> {
    Ok(ContactRef {
        id: row::get(r, "contacts", "id")?,
        email: row::get(r, "contacts", "email")?,
        status: row::get(r, "contacts", "status")?,
    })
}

/// The tenant's contacts among `addresses` (any case).
pub async fn contacts_by_email(
    client: &impl CachingClient,
    tenant_id: TenantId,
    addresses: &[String],
) -> Result<Vec<ContactRef>, DbError> {
    let lower: Vec<String> = addresses.iter().map(|a| a.to_lowercase()).collect();
    let statement = client
        .prepare_cached(
            "SELECT id, email, status FROM contacts \
             WHERE tenant_id = $1 AND lower(email) = ANY($2)",
        )
        .await?;
    let rows = client.query(&statement, &[&tenant_id, &lower]).await?;
    rows.iter().map(contact_ref).collect()
}

/// An email ready to be stored as queued.
#[derive(Debug, Clone)]
pub struct NewEmail {
    pub tenant_id: TenantId,
    pub message_id: String,
    pub api_key_id: Option<ApiKeyId>,
    pub idempotency_key: Option<String>,
    pub from: Mailbox,
    pub to: String,
    pub contact_id: Option<ContactId>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub html: Option<String>,
    pub text: Option<String>,
    pub headers: serde_json::Value,
    pub tags: Vec<String>,
    pub metadata: serde_json::Value,
    pub template_id: Option<TemplateId>,
    pub campaign_id: Option<CampaignId>,
    pub campaign_step: Option<i32>,
    pub tracking: bool,
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// Stores the email as queued (`queued_at`: the scheduler's clock for campaign steps,
/// else now), in one statement. `None` when it exists already: the same
/// Idempotency-Key of the same API key, or the same campaign step for the same contact.
pub async fn insert(
    client: &impl CachingClient,
    e: &NewEmail,
    queued_at: Option<DateTime<Utc>>,
) -> Result<Option<Email>, DbError> {
    let statement = client
        .prepare_cached(&format!(
            "INSERT INTO emails (tenant_id, message_id, api_key_id, idempotency_key, \
             from_email, from_name, to_email, contact_id, cc, bcc, reply_to, subject, html, \
             text, headers, tags, metadata, template_id, campaign_id, campaign_step, tracking, \
             scheduled_at, next_attempt_at, queued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20, $21, $22, coalesce($22, clock_timestamp()), \
             coalesce($23, clock_timestamp())) \
             ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
        ))
        .await?;
    let row = client
        .query_opt(
            &statement,
            &[
                &e.tenant_id,
                &e.message_id,
                &e.api_key_id,
                &e.idempotency_key,
                &e.from.email,
                &e.from.name,
                &e.to,
                &e.contact_id,
                &e.cc,
                &e.bcc,
                &e.reply_to,
                &e.subject,
                &e.html,
                &e.text,
                &e.headers,
                &e.tags,
                &e.metadata,
                &e.template_id,
                &e.campaign_id,
                &e.campaign_step,
                &e.tracking,
                &e.scheduled_at,
                &queued_at,
            ],
        )
        .await?;
    row.map(|r| email_of(&r, true)).transpose()
}

/// The email an API key already made with this Idempotency-Key.
pub async fn by_idempotency_key(
    client: &impl CachingClient,
    tenant_id: TenantId,
    api_key_id: ApiKeyId,
    key: &str,
) -> Result<Option<Email>, DbError> {
    let row = client
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM emails \
                 WHERE tenant_id = $1 AND api_key_id = $2 AND idempotency_key = $3"
            ),
            &[&tenant_id, &api_key_id, &key],
        )
        .await?;
    row.map(|r| email_of(&r, true)).transpose()
}

/// A timeline entry's source and details.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub source: String,
    /// Makes a repeat of the same happening (a provider resending its event) a no-op.
    pub dedupe_key: Option<String>,
    pub automated: Option<String>,
    pub data: serde_json::Value,
    pub occurred_at: Option<DateTime<Utc>>,
}

impl From<&str> for Entry {
    fn from(source: &str) -> Self {
        Self {
            source: source.to_string(),
            data: serde_json::json!({}),
            ..Self::default()
        }
    }
}

impl Entry {
    pub fn data(mut self, data: serde_json::Value) -> Self {
        self.data = data;
        self
    }
    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
    pub fn automated(mut self, reason: Option<&str>) -> Self {
        self.automated = reason.map(str::to_string);
        self
    }
    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.occurred_at = Some(at);
        self
    }
}

/// Adds to an email's timeline; `false` when an entry with the same dedupe key is
/// there already (nothing was added).
pub async fn record_event(
    client: &impl CachingClient,
    tenant_id: TenantId,
    email_id: EmailId,
    event_type: EmailEventType,
    entry: Entry,
) -> Result<bool, DbError> {
    let added = client
        .execute(
            "INSERT INTO email_events (tenant_id, email_id, type, source, dedupe_key, automated, \
             data, occurred_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, clock_timestamp())) \
             ON CONFLICT DO NOTHING",
            &[
                &tenant_id,
                &email_id,
                &event_type,
                &entry.source,
                &entry.dedupe_key,
                &entry.automated,
                &entry.data,
                &entry.occurred_at,
            ],
        )
        .await?;
    Ok(added == 1)
}

pub async fn get(
    client: &impl CachingClient,
    tenant_id: TenantId,
    id: EmailId,
) -> Result<Option<Email>, DbError> {
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM emails WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut email = email_of(&row, true)?;
    let queued = TimelineEntry {
        event_type: EmailEventType::Queued,
        occurred_at: row::get(&row, EMAILS, "queued_at")?,
        source: if email.campaign_step.is_some() {
            "campaign"
        } else {
            "api"
        }
        .to_string(),
        automated: None,
        data: serde_json::json!({"scheduled_at": email.scheduled_at}),
    };
    let mut events = vec![queued];
    events.extend(timeline(client, tenant_id, id).await?);
    email.events = Some(events);
    Ok(Some(email))
}

/// The most entries a timeline shows (opens can repeat without end).
const MAX_TIMELINE: i64 = 500;

async fn timeline(
    client: &impl CachingClient,
    tenant_id: TenantId,
    id: EmailId,
) -> Result<Vec<TimelineEntry>, DbError> {
    let rows = client
        .query(
            "SELECT type, occurred_at, source, automated, data FROM email_events \
             WHERE tenant_id = $1 AND email_id = $2 ORDER BY occurred_at, seq LIMIT $3",
            &[&tenant_id, &id, &MAX_TIMELINE],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(TimelineEntry {
                event_type: row::get(r, EVENTS, "type")?,
                occurred_at: row::get(r, EVENTS, "occurred_at")?,
                source: row::get(r, EVENTS, "source")?,
                automated: row::get(r, EVENTS, "automated")?,
                data: row::get(r, EVENTS, "data")?,
            })
        })
        .collect()
}

#[derive(Debug, Default)]
pub struct Filters {
    pub status: Option<EmailStatus>,
    pub campaign_id: Option<CampaignId>,
    pub contact_id: Option<ContactId>,
    pub recipient: Option<String>,
    pub tag: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
}

pub async fn list(
    client: &impl tokio_postgres::GenericClient,
    tenant_id: TenantId,
    filters: Filters,
    list: &ListRequest,
) -> Result<Vec<Email>, DbError> {
    let mut select = Select::new(&format!("SELECT {SUMMARY_COLUMNS} FROM emails"), tenant_id);
    if let Some(status) = filters.status {
        select = select.and("status = ?", vec![Box::new(status)]);
    }
    if let Some(campaign) = filters.campaign_id {
        select = select.and("campaign_id = ?", vec![Box::new(campaign)]);
    }
    if let Some(contact) = filters.contact_id {
        select = select.and("contact_id = ?", vec![Box::new(contact)]);
    }
    if let Some(recipient) = filters.recipient {
        select = select.and("lower(to_email) = lower(?)", vec![Box::new(recipient)]);
    }
    if let Some(tag) = filters.tag {
        select = select.and("tags @> ARRAY[?]::text[]", vec![Box::new(tag)]);
    }
    if let Some(after) = filters.created_after {
        select = select.and("created_at > ?", vec![Box::new(after)]);
    }
    if let Some(before) = filters.created_before {
        select = select.and("created_at < ?", vec![Box::new(before)]);
    }
    let rows = select.page(list).fetch(client).await?;
    rows.iter().map(|r| email_of(r, false)).collect()
}
