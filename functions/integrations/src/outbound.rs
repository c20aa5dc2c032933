//! The sync worker's outbound side: events from the outbox become pending work per
//! connection ([`route_event`]), and [`drain`] pushes that work in the provider's
//! batches.
//!
//! Pending work lives in PostgreSQL, not in the queue: a contact changed fifty times
//! while its connection was rate limited is one row (`crm_sync_pending`), pushed once
//! with its latest values; a lost or repeated queue message loses or repeats nothing.
//! A lease (`leased_until`) keeps two workers off the same contact; a change that lands
//! during a push moves the row's `queued_at` on, so the row outlives the push and the
//! newer change goes out too.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pm_crm::provider::{Activity, ActivityKind};
use pm_domain::{Event, EventType, TenantId};
use pm_store::{begin, commit, Db, DbError};

use crate::connections::Connections;
use crate::mappings;
use crate::push::{push_contacts, PushError, Pushed};
use crate::sync_log::{self, Entry};

/// Contacts one drain step claims; pushed in the provider's batches.
pub const STEP: i64 = 500;
/// How long a claim keeps other workers off the claimed rows.
pub const LEASE: Duration = Duration::from_secs(300);
/// An engagement whose contact has no CRM record yet waits for it this many tries, then
/// is logged as failed (replayable).
pub const ACTIVITY_ATTEMPTS: i32 = 5;

fn activity_kind(t: EventType) -> Option<ActivityKind> {
    match t {
        EventType::EmailSent => Some(ActivityKind::Sent),
        EventType::EmailReplied => Some(ActivityKind::Replied),
        EventType::EmailBounced => Some(ActivityKind::Bounced),
        _ => None,
    }
}

/// The campaign statuses in the order an email goes through them: of two at the same
/// instant, the later stage stands.
const STAGES: [&str; 6] = [
    "sent",
    "opened",
    "clicked",
    "replied",
    "bounced",
    "unsubscribed",
];

/// What an email event makes of the contact's campaign status.
fn campaign_status(t: EventType) -> Option<&'static str> {
    match t {
        EventType::EmailSent => Some("sent"),
        EventType::EmailOpened => Some("opened"),
        EventType::EmailClicked => Some("clicked"),
        EventType::EmailReplied => Some("replied"),
        EventType::EmailBounced => Some("bounced"),
        EventType::EmailUnsubscribed => Some("unsubscribed"),
        _ => None,
    }
}

/// Turns one outbox event into pending work for each of the tenant's connected CRMs;
/// the providers that got work (to drain). Events that do not concern a CRM, or whose
/// contact is gone, make none.
pub async fn route_event(db: &Db, event: &Event) -> Result<Vec<String>, DbError> {
    if !event.event_type.concerns_crm() {
        return Ok(Vec::new());
    }
    let field = match event.event_type {
        EventType::ContactCreated | EventType::ContactUpdated => "id",
        _ => "contact_id",
    };
    let Some(contact) = event.data[field]
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
    else {
        return Ok(Vec::new());
    };
    let tenant = event.tenant_id;
    let mut client = db.client().await?;
    let tx = begin(&mut client).await?;
    let providers: Vec<String> = tx
        .query(
            "SELECT provider FROM crm_connections WHERE tenant_id = $1 AND status = 'connected'",
            &[&tenant],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if providers.is_empty() {
        return Ok(providers);
    }
    if let Some(status) = campaign_status(event.event_type) {
        // When it happened (`opened_at`, …), not when it was recorded.
        let at = event.data[format!("{status}_at")]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map_or(event.occurred_at, |t| t.with_timezone(&Utc));
        let opened = matches!(
            event.event_type,
            EventType::EmailOpened | EventType::EmailClicked
        )
        .then_some(at);
        let replied = (event.event_type == EventType::EmailReplied).then_some(at);
        // Later events win; an older one arriving late changes nothing it should not.
        tx.execute(
            "INSERT INTO crm_engagement (tenant_id, contact_id, last_opened_at, last_replied_at, \
               campaign_status, status_at) \
             SELECT $1, c.id, $3, $4, $5, $6 FROM contacts c WHERE c.tenant_id = $1 AND c.id = $2 \
             ON CONFLICT (tenant_id, contact_id) DO UPDATE SET \
               last_opened_at = GREATEST(crm_engagement.last_opened_at, EXCLUDED.last_opened_at), \
               last_replied_at = GREATEST(crm_engagement.last_replied_at, EXCLUDED.last_replied_at), \
               campaign_status = CASE WHEN crm_engagement.status_at IS NULL \
                 OR (crm_engagement.status_at, array_position($7::text[], crm_engagement.campaign_status)) \
                    <= (EXCLUDED.status_at, array_position($7::text[], EXCLUDED.campaign_status)) \
                 THEN EXCLUDED.campaign_status ELSE crm_engagement.campaign_status END, \
               status_at = GREATEST(crm_engagement.status_at, EXCLUDED.status_at)",
            &[&tenant, &contact, &opened, &replied, &status, &at, &STAGES.to_vec()],
        )
        .await?;
    }
    if let Some(kind) = activity_kind(event.event_type) {
        let kind = serde_json::to_value(kind).expect("kinds serialise");
        let subject = event.data["subject"].as_str().unwrap_or("").to_string();
        tx.execute(
            "INSERT INTO crm_activity_pending (tenant_id, provider, event_id, contact_id, kind, \
               subject, occurred_at) \
             SELECT $1, p, $3, c.id, $4, $5, $6 FROM unnest($7::text[]) AS p, contacts c \
             WHERE c.tenant_id = $1 AND c.id = $2 ON CONFLICT DO NOTHING",
            &[
                &tenant,
                &contact,
                &event.id.as_uuid(),
                &kind.as_str(),
                &subject,
                &event.occurred_at,
                &providers,
            ],
        )
        .await?;
    }
    enqueue(&*tx, tenant, &providers, &[contact]).await?;
    commit(tx).await?;
    Ok(providers)
}

/// Marks contacts as waiting to be pushed to these providers (coalesced: one row per
/// contact, its `queued_at` moved on).
pub async fn enqueue(
    db: &impl tokio_postgres::GenericClient,
    tenant: TenantId,
    providers: &[String],
    contacts: &[uuid::Uuid],
) -> Result<u64, DbError> {
    Ok(db
        .execute(
            "INSERT INTO crm_sync_pending (tenant_id, provider, contact_id) \
             SELECT $1, p, c.id FROM unnest($2::text[]) AS p, contacts c \
             WHERE c.tenant_id = $1 AND c.id = ANY($3) \
             ON CONFLICT (tenant_id, provider, contact_id) DO UPDATE SET queued_at = clock_timestamp()",
            &[&tenant, &providers, &contacts],
        )
        .await?)
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drained {
    pub pushed: Pushed,
    pub activities: usize,
    /// Work is left (the deadline came first).
    pub more: bool,
}

/// Pushes the connection's pending contacts and records its pending engagements, until
/// none is left or `until` comes. A transient failure (rate limit, the CRM away) gives
/// the claimed rows back and returns: the queue retries the message.
pub async fn drain(
    connections: &Connections,
    tenant: TenantId,
    until: Instant,
) -> Result<Drained, PushError> {
    let provider = connections.provider();
    let mut result = Drained::default();
    let mapping = {
        let client = connections.db().client().await?;
        mappings::load(&**client, tenant, provider).await?
    };
    loop {
        if Instant::now() >= until {
            result.more = true;
            return Ok(result);
        }
        let claimed = claim(connections.db(), tenant, provider.id()).await?;
        if claimed.is_empty() {
            break;
        }
        let ids: Vec<uuid::Uuid> = claimed.iter().map(|(id, _)| *id).collect();
        match push_contacts(connections, tenant, &mapping, &ids).await {
            Ok(pushed) => {
                result.pushed.created += pushed.created;
                result.pushed.updated += pushed.updated;
                result.pushed.unchanged += pushed.unchanged;
                result.pushed.failed += pushed.failed;
                settle(connections.db(), tenant, provider.id(), &claimed).await?;
            }
            Err(e) => {
                release(connections.db(), tenant, provider.id(), &ids).await?;
                return Err(e);
            }
        }
    }
    result.activities = record_activities(connections, tenant).await?;
    Ok(result)
}

async fn claim(
    db: &Db,
    tenant: TenantId,
    provider: &str,
) -> Result<Vec<(uuid::Uuid, DateTime<Utc>)>, DbError> {
    let client = db.client().await?;
    let rows = client
        .query(
            "UPDATE crm_sync_pending p SET leased_until = clock_timestamp() + make_interval(secs => $4) \
             FROM (SELECT contact_id FROM crm_sync_pending \
                   WHERE tenant_id = $1 AND provider = $2 \
                     AND (leased_until IS NULL OR leased_until < clock_timestamp()) \
                   ORDER BY queued_at LIMIT $3 FOR UPDATE SKIP LOCKED) c \
             WHERE p.tenant_id = $1 AND p.provider = $2 AND p.contact_id = c.contact_id \
             RETURNING p.contact_id, p.queued_at",
            &[&tenant, &provider, &STEP, &LEASE.as_secs_f64()],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The claimed rows are done: each goes unless it changed again meanwhile (then it
/// stays, unleased, for the next step).
async fn settle(
    db: &Db,
    tenant: TenantId,
    provider: &str,
    claimed: &[(uuid::Uuid, DateTime<Utc>)],
) -> Result<(), DbError> {
    let (ids, queued): (Vec<uuid::Uuid>, Vec<DateTime<Utc>>) = claimed.iter().copied().unzip();
    {
        // Given back before `release` takes one: a Lambda's pool holds one connection.
        let client = db.client().await?;
        client
            .execute(
                "DELETE FROM crm_sync_pending p USING unnest($3::uuid[], $4::timestamptz[]) AS d(id, q) \
                 WHERE p.tenant_id = $1 AND p.provider = $2 AND p.contact_id = d.id AND p.queued_at = d.q",
                &[&tenant, &provider, &ids, &queued],
            )
            .await?;
    }
    release(db, tenant, provider, &ids).await
}

async fn release(
    db: &Db,
    tenant: TenantId,
    provider: &str,
    ids: &[uuid::Uuid],
) -> Result<(), DbError> {
    let client = db.client().await?;
    client
        .execute(
            "UPDATE crm_sync_pending SET leased_until = NULL \
             WHERE tenant_id = $1 AND provider = $2 AND contact_id = ANY($3)",
            &[&tenant, &provider, &ids],
        )
        .await?;
    Ok(())
}

/// Records the pending engagements whose contact has a CRM record; the others wait
/// (their contact's push may still be coming) up to [`ACTIVITY_ATTEMPTS`] times.
async fn record_activities(
    connections: &Connections,
    tenant: TenantId,
) -> Result<usize, PushError> {
    let provider = connections.provider();
    let db = connections.db();
    let mut recorded = 0;
    loop {
        let rows = {
            let client = db.client().await?;
            client
                .query(
                    "UPDATE crm_activity_pending a SET leased_until = clock_timestamp() + make_interval(secs => $4), \
                       attempts = a.attempts + 1 \
                     FROM (SELECT event_id FROM crm_activity_pending \
                           WHERE tenant_id = $1 AND provider = $2 \
                             AND (leased_until IS NULL OR leased_until < clock_timestamp()) \
                           ORDER BY occurred_at LIMIT $3 FOR UPDATE SKIP LOCKED) c \
                     WHERE a.tenant_id = $1 AND a.provider = $2 AND a.event_id = c.event_id \
                     RETURNING a.event_id, a.contact_id, a.kind, a.subject, a.occurred_at, a.attempts, \
                       (SELECT external_id FROM crm_sync_records s WHERE s.tenant_id = $1 \
                          AND s.provider = $2 AND s.contact_id = a.contact_id)",
                    &[&tenant, &provider.id(), &(provider.capabilities().batch_size as i64), &LEASE.as_secs_f64()],
                )
                .await
                .map_err(DbError::from)?
        };
        if rows.is_empty() {
            return Ok(recorded);
        }
        let mut ready = Vec::new();
        let mut ready_ids = Vec::new();
        let mut given_up = Vec::new();
        for row in &rows {
            let event_id: uuid::Uuid = row.get(0);
            let contact: uuid::Uuid = row.get(1);
            let kind: String = row.get(2);
            let external: Option<String> = row.get(6);
            let attempts: i32 = row.get(5);
            match external {
                Some(contact_id) => {
                    ready.push(Activity {
                        contact_id,
                        kind: serde_json::from_value(serde_json::Value::String(kind)).map_err(
                            |e| DbError::Corrupt {
                                table: "crm_activity_pending",
                                detail: e.to_string(),
                            },
                        )?,
                        at: row.get(4),
                        subject: row.get(3),
                        key: event_id.to_string(),
                    });
                    ready_ids.push(event_id);
                }
                None if attempts >= ACTIVITY_ATTEMPTS => given_up.push((event_id, contact)),
                None => {}
            }
        }
        if !ready.is_empty() {
            let outcome = connections
                .with_session(tenant, false, |p, s| {
                    let ready = ready.clone();
                    Box::pin(async move { p.record_activities(&s, &ready).await })
                })
                .await;
            if let Err(e) = outcome {
                let e = PushError::from(e);
                if e.is_transient() {
                    return Err(e);
                }
                // Refused as a whole: logged per contact, replayable, not retried blindly.
                for row in rows.iter().filter(|r| ready_ids.contains(&r.get(0))) {
                    let contact: uuid::Uuid = row.get(1);
                    given_up.push((row.get(0), contact));
                }
                log_failed(db, tenant, provider.id(), &given_up, &e.to_string()).await?;
                delete_activities(
                    db,
                    tenant,
                    provider.id(),
                    &given_up.iter().map(|g| g.0).collect::<Vec<_>>(),
                )
                .await?;
                continue;
            }
            recorded += ready.len();
            delete_activities(db, tenant, provider.id(), &ready_ids).await?;
        }
        if !given_up.is_empty() {
            log_failed(
                db,
                tenant,
                provider.id(),
                &given_up,
                "the contact has no CRM record to record the engagement on",
            )
            .await?;
            delete_activities(
                db,
                tenant,
                provider.id(),
                &given_up.iter().map(|g| g.0).collect::<Vec<_>>(),
            )
            .await?;
        }
        if ready.is_empty() {
            // Only engagements waiting for their contact: they wait for a later drain.
            return Ok(recorded);
        }
    }
}

async fn delete_activities(
    db: &Db,
    tenant: TenantId,
    provider: &str,
    ids: &[uuid::Uuid],
) -> Result<(), DbError> {
    let client = db.client().await?;
    client
        .execute(
            "DELETE FROM crm_activity_pending WHERE tenant_id = $1 AND provider = $2 AND event_id = ANY($3)",
            &[&tenant, &provider, &ids],
        )
        .await?;
    Ok(())
}

async fn log_failed(
    db: &Db,
    tenant: TenantId,
    provider: &str,
    items: &[(uuid::Uuid, uuid::Uuid)],
    detail: &str,
) -> Result<(), DbError> {
    let client = db.client().await?;
    for (_, contact) in items {
        sync_log::record(
            &**client,
            tenant,
            provider,
            Entry {
                direction: "push",
                contact: *contact,
                external_id: None,
                outcome: "failed",
                properties: &["activity".to_string()],
                detail: Some(detail),
            },
        )
        .await?;
    }
    Ok(())
}
