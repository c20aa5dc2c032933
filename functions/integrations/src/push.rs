//! Outbound sync: contacts that changed here, written to the CRM in the provider's
//! batches. Only the mapped fields whose value differs from what was last pushed (and is
//! not the value just pulled from the CRM, which would echo it back) go out; a contact
//! with nothing new is not sent at all. The write is keyed (HubSpot upserts by email), and
//! the CRM's id is kept in `crm_sync_records`, so two pushes of one new contact make one
//! record there. Every record's outcome goes to `crm_sync_log`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pm_crm::echo::{outbound_echo, value_hash, FieldState};
use pm_crm::mapping::{FieldMapping, LocalField};
use pm_crm::provider::{ContactWrite, ProviderError};
use pm_domain::TenantId;
use pm_store::DbError;
use tokio_postgres::GenericClient;

use crate::connections::{ConnectError, Connections};
use crate::sync_log::{self, Entry};

/// A contact as the sync reads it.
#[derive(Debug, Clone)]
pub struct LocalContact {
    pub id: uuid::Uuid,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub tags: Vec<String>,
    pub status: String,
    pub custom_fields: serde_json::Value,
    pub updated_at: DateTime<Utc>,
    pub engagement: Engagement,
}

/// What the email events say of a contact (`crm_engagement`), for the engagement
/// properties CRM workflows act on.
#[derive(Debug, Clone, Default)]
pub struct Engagement {
    pub last_opened_at: Option<DateTime<Utc>>,
    pub last_replied_at: Option<DateTime<Utc>>,
    pub campaign_status: Option<String>,
}

impl LocalContact {
    /// The field's value as the CRM is sent it (tags `;`-separated, HubSpot's
    /// multi-select form); None when it has none.
    pub fn value(&self, field: &LocalField) -> Option<String> {
        match field {
            LocalField::Email => Some(self.email.clone()),
            LocalField::FirstName => self.first_name.clone(),
            LocalField::LastName => self.last_name.clone(),
            LocalField::Company => self.company.clone(),
            LocalField::Phone => self.custom("phone"),
            LocalField::Tags => (!self.tags.is_empty()).then(|| self.tags.join(";")),
            LocalField::Status => Some(self.status.clone()),
            LocalField::Custom(name) => self.custom(name),
            LocalField::LastOpenedAt => self.engagement.last_opened_at.map(|t| t.to_rfc3339()),
            LocalField::LastRepliedAt => self.engagement.last_replied_at.map(|t| t.to_rfc3339()),
            LocalField::CampaignStatus => self.engagement.campaign_status.clone(),
        }
    }

    fn custom(&self, name: &str) -> Option<String> {
        match self.custom_fields.get(name)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub created: usize,
    pub updated: usize,
    /// Nothing new to send (or only values pulled from the CRM).
    pub unchanged: usize,
    /// Refused by the provider, per contact: logged, replayable.
    pub failed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// Worth retrying as a whole later (rate limited, the provider or a store away).
    #[error("push failed for now: {0}")]
    Transient(String),
    #[error(transparent)]
    Connection(ConnectError),
    #[error(transparent)]
    Store(#[from] DbError),
}

impl PushError {
    pub fn is_transient(&self) -> bool {
        match self {
            PushError::Transient(_) => true,
            PushError::Store(e) => e.is_unavailable(),
            PushError::Connection(_) => false,
        }
    }
}

impl From<ProviderError> for PushError {
    fn from(e: ProviderError) -> Self {
        ConnectError::Provider(e).into()
    }
}

impl From<ConnectError> for PushError {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::Provider(e) if e.is_transient() => PushError::Transient(e.to_string()),
            ConnectError::Store(e) => PushError::Store(e),
            ConnectError::Secrets(e) if e.is_transient() => PushError::Transient(e.to_string()),
            e => PushError::Connection(e),
        }
    }
}

async fn load(
    db: &impl GenericClient,
    tenant: TenantId,
    provider: &str,
    ids: &[uuid::Uuid],
) -> Result<Vec<(LocalContact, Option<String>, BTreeMap<String, FieldState>)>, DbError> {
    let rows = db
        .query(
            "SELECT c.id, c.email, c.first_name, c.last_name, c.company, c.tags, c.status, \
                    c.custom_fields, c.updated_at, s.external_id, s.field_state, \
                    g.last_opened_at, g.last_replied_at, g.campaign_status \
             FROM contacts c LEFT JOIN crm_sync_records s \
               ON s.tenant_id = c.tenant_id AND s.contact_id = c.id AND s.provider = $3 \
             LEFT JOIN crm_engagement g ON g.tenant_id = c.tenant_id AND g.contact_id = c.id \
             WHERE c.tenant_id = $1 AND c.id = ANY($2) ORDER BY c.id",
            &[&tenant, &ids, &provider],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let state: Option<serde_json::Value> = r.get(10);
            let fields = match state {
                Some(v) => serde_json::from_value(v).map_err(|e| DbError::Corrupt {
                    table: "crm_sync_records",
                    detail: e.to_string(),
                })?,
                None => BTreeMap::new(),
            };
            Ok((
                LocalContact {
                    id: r.get(0),
                    email: r.get(1),
                    first_name: r.get(2),
                    last_name: r.get(3),
                    company: r.get(4),
                    tags: r.get(5),
                    status: r.get(6),
                    custom_fields: r.get(7),
                    updated_at: r.get(8),
                    engagement: Engagement {
                        last_opened_at: r.get(11),
                        last_replied_at: r.get(12),
                        campaign_status: r.get(13),
                    },
                },
                r.get(9),
                fields,
            ))
        })
        .collect()
}

/// What goes out for one contact: the mapped properties with something new. The email
/// is the key and always sent.
fn changes(
    contact: &LocalContact,
    mappings: &[FieldMapping],
    state: &BTreeMap<String, FieldState>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for m in mappings.iter().filter(|m| m.direction.pushes()) {
        let value = contact.value(&m.local);
        let field = state.get(&m.remote).cloned().unwrap_or_default();
        if field.pushed_hash.as_deref() == Some(value_hash(value.as_deref()).as_str())
            || outbound_echo(value.as_deref(), &field).is_some()
        {
            continue;
        }
        match value {
            Some(v) if !v.trim().is_empty() => {
                out.insert(m.remote.clone(), v);
            }
            // Clearing a CRM value only when the mapping says empty overwrites.
            _ if m.empty_overwrites && field.pushed_hash.is_some() => {
                out.insert(m.remote.clone(), String::new());
            }
            _ => {}
        }
    }
    out
}

/// Pushes these contacts of `tenant` through its connection, in the provider's batches.
pub async fn push_contacts(
    connections: &Connections,
    tenant: TenantId,
    mappings: &[FieldMapping],
    ids: &[uuid::Uuid],
) -> Result<Pushed, PushError> {
    let provider = connections.provider();
    // A pooled connection is held only between provider calls, never across one (which
    // may wait on the rate limit, and needs a connection of its own for the token).
    let db = connections.db().client().await?;
    let loaded = load(&**db, tenant, provider.id(), ids).await?;
    let mut result = Pushed::default();
    let mut pending = Vec::new();
    for (contact, external_id, state) in loaded {
        let properties = changes(&contact, mappings, &state);
        let only_key = properties.keys().all(|k| k == "email");
        if only_key && external_id.is_some() {
            result.unchanged += 1;
            sync_log::record(
                &**db,
                tenant,
                provider.id(),
                Entry {
                    direction: "push",
                    contact: contact.id,
                    external_id: external_id.as_deref(),
                    outcome: "unchanged",
                    properties: &[],
                    detail: None,
                },
            )
            .await?;
            continue;
        }
        pending.push((contact, state, properties));
    }
    drop(db);
    for batch in pending.chunks(provider.capabilities().batch_size) {
        let writes: Vec<ContactWrite> = batch
            .iter()
            .map(|(c, _, properties)| ContactWrite {
                key: c.email.clone(),
                properties: properties.clone(),
            })
            .collect();
        let outcomes = connections
            .with_session(tenant, false, |p, s| {
                let writes = writes.clone();
                Box::pin(async move { p.write_contacts(&s, &writes).await })
            })
            .await?;
        let db = connections.db().client().await?;
        let now = Utc::now();
        for ((contact, state, properties), outcome) in batch.iter().zip(outcomes) {
            let names: Vec<String> = properties.keys().cloned().collect();
            match outcome {
                Ok(written) => {
                    let mut fields = state.clone();
                    for (name, value) in properties {
                        let field = fields.entry(name.clone()).or_default();
                        field.pushed_hash = Some(value_hash(Some(value)));
                        field.agreed_hash = field.pushed_hash.clone();
                        field.pushed_at = Some(now);
                    }
                    let fields = serde_json::to_value(&fields).expect("field state serialises");
                    db.execute(
                        "INSERT INTO crm_sync_records (tenant_id, provider, contact_id, external_id, field_state) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (tenant_id, provider, contact_id) DO UPDATE SET \
                           external_id = EXCLUDED.external_id, field_state = EXCLUDED.field_state, synced_at = now()",
                        &[&tenant, &provider.id(), &contact.id, &written.id, &fields],
                    )
                    .await
                    .map_err(DbError::from)?;
                    let outcome = if written.created {
                        "created"
                    } else {
                        "updated"
                    };
                    if written.created {
                        result.created += 1;
                    } else {
                        result.updated += 1;
                    }
                    sync_log::record(
                        &**db,
                        tenant,
                        provider.id(),
                        Entry {
                            direction: "push",
                            contact: contact.id,
                            external_id: Some(&written.id),
                            outcome,
                            properties: &names,
                            detail: None,
                        },
                    )
                    .await?;
                }
                Err(e) if e.is_transient() => return Err(e.into()),
                Err(e) => {
                    result.failed += 1;
                    sync_log::record(
                        &**db,
                        tenant,
                        provider.id(),
                        Entry {
                            direction: "push",
                            contact: contact.id,
                            external_id: None,
                            outcome: "failed",
                            properties: &names,
                            detail: Some(&e.to_string()),
                        },
                    )
                    .await?;
                }
            }
        }
    }
    Ok(result)
}
