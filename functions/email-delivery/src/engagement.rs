//! What happens to an email after it is sent: opens and clicks (tracking), unsubscribes,
//! and the provider's reports (delivered, bounced, complained, replied). Each is one
//! transaction: the timeline entry, the email's status, the contact's suppression, the
//! campaign's stop for a replier, and the `email.*` event in the outbox.
//!
//! A repeated happening with the same dedupe key (a provider resending its event) adds
//! nothing and emits nothing. Hits that look automated (link scanners, privacy proxies)
//! are kept on the timeline, flagged, but emit no event: a receiver acting on "opened"
//! or "clicked" should not act on a robot.

use chrono::{DateTime, Utc};
use pm_domain::{EmailId, EventType, TenantId};
use pm_store::{begin, commit, outbox, row, CachingClient, Db, DbError};

use crate::model::EmailEventType;
use crate::store::{self, email_of, Entry, COLUMNS};

/// Opens or clicks kept per email: a pixel reloaded without end must not grow the table
/// without end. Beyond it, hits are dropped (the first ones carry the information).
pub const MAX_ENGAGEMENTS_PER_EMAIL: i64 = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum Happening {
    Delivered,
    Opened,
    Clicked { url: String },
    Replied,
    Bounced { hard: bool, detail: Option<String> },
    Unsubscribed,
    Complained,
}

impl Happening {
    fn timeline_type(&self) -> EmailEventType {
        match self {
            Happening::Delivered => EmailEventType::Delivered,
            Happening::Opened => EmailEventType::Opened,
            Happening::Clicked { .. } => EmailEventType::Clicked,
            Happening::Replied => EmailEventType::Replied,
            Happening::Bounced { .. } => EmailEventType::Bounced,
            Happening::Unsubscribed => EmailEventType::Unsubscribed,
            Happening::Complained => EmailEventType::Complained,
        }
    }

    fn event_type(&self) -> EventType {
        match self {
            Happening::Delivered => EventType::EmailDelivered,
            Happening::Opened => EventType::EmailOpened,
            Happening::Clicked { .. } => EventType::EmailClicked,
            Happening::Replied => EventType::EmailReplied,
            Happening::Bounced { .. } => EventType::EmailBounced,
            Happening::Unsubscribed => EventType::EmailUnsubscribed,
            Happening::Complained => EventType::EmailComplained,
        }
    }

    /// The event's extra `data`, named as the catalog's samples are.
    fn data(&self, at: DateTime<Utc>) -> serde_json::Value {
        match self {
            Happening::Delivered => serde_json::json!({"delivered_at": at}),
            Happening::Opened => serde_json::json!({"opened_at": at}),
            Happening::Clicked { url } => serde_json::json!({"clicked_at": at, "url": url}),
            Happening::Replied => serde_json::json!({"replied_at": at}),
            Happening::Bounced { hard, detail } => serde_json::json!({
                "bounced_at": at,
                "bounce_type": if *hard { "hard" } else { "soft" },
                "reason": detail,
            }),
            Happening::Unsubscribed => serde_json::json!({"unsubscribed_at": at}),
            Happening::Complained => serde_json::json!({"complained_at": at}),
        }
    }

    /// The contact status it sets: a hard bounce, a complaint and an unsubscribe
    /// suppress the contact.
    fn suppresses(&self) -> Option<&'static str> {
        match self {
            Happening::Bounced { hard: true, .. } => Some("bounced"),
            Happening::Unsubscribed => Some("unsubscribed"),
            Happening::Complained => Some("complained"),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Recorded,
    /// The same happening was recorded before (or the per-email cap is reached).
    Duplicate,
    NoSuchEmail,
}

/// Records `happening` on the email. `entry` carries its source, dedupe key, automated
/// flag and time.
pub async fn apply(
    db: &Db,
    tenant_id: TenantId,
    email_id: EmailId,
    happening: Happening,
    entry: Entry,
) -> Result<Applied, DbError> {
    let mut client = db.client().await?;
    let tx = begin(&mut client).await?;
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM emails WHERE tenant_id = $1 AND id = $2 FOR UPDATE"),
            &[&tenant_id, &email_id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Applied::NoSuchEmail);
    };
    let email = email_of(&row, false)?;
    let kind = happening.timeline_type();
    if matches!(happening, Happening::Opened | Happening::Clicked { .. })
        && count(&tx, email_id, kind).await? >= MAX_ENGAGEMENTS_PER_EMAIL
    {
        return Ok(Applied::Duplicate);
    }
    let at = entry.occurred_at.unwrap_or_else(Utc::now);
    let automated = entry.automated.is_some();
    let mut entry = entry.at(at);
    // The happening's own data (a bounce's type, a click's URL) always goes on the
    // timeline, with whatever the source added: analytics counts hard and soft bounces
    // from it.
    let mut data = happening.data(at);
    if let (Some(data), Some(extra)) = (data.as_object_mut(), entry.data.as_object()) {
        data.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    entry.data = data;
    if !store::record_event(&tx, tenant_id, email_id, kind, entry).await? {
        return Ok(Applied::Duplicate);
    }
    let status = match happening {
        Happening::Delivered => Some(("delivered", vec!["sent"])),
        Happening::Bounced { .. } => Some(("bounced", vec!["sent", "delivered"])),
        _ => None,
    };
    if let Some((to, from)) = status {
        tx.execute(
            "UPDATE emails SET status = $2, updated_at = clock_timestamp() \
             WHERE id = $1 AND status = ANY($3)",
            &[&email_id, &to, &from],
        )
        .await?;
    }
    if let (Some(status), Some(contact_id)) = (happening.suppresses(), email.contact_id) {
        // Only a subscribed contact changes: the first reason for suppression stays.
        tx.execute(
            "UPDATE contacts SET status = $3, updated_at = clock_timestamp() \
             WHERE tenant_id = $1 AND id = $2 AND status = 'subscribed'",
            &[&tenant_id, &contact_id, &status],
        )
        .await?;
        tx.execute(
            "UPDATE campaign_recipients SET state = 'suppressed' \
             WHERE tenant_id = $1 AND contact_id = $2 AND state = 'active'",
            &[&tenant_id, &contact_id],
        )
        .await?;
    }
    if let (Happening::Replied, Some(campaign_id), Some(contact_id)) =
        (&happening, email.campaign_id, email.contact_id)
    {
        // A reply ends the sequence for this contact: no further step goes to them.
        tx.execute(
            "UPDATE campaign_recipients SET state = 'replied' \
             WHERE campaign_id = $1 AND contact_id = $2 AND state = 'active'",
            &[&campaign_id, &contact_id],
        )
        .await?;
    }
    if !automated {
        outbox::record(
            &tx,
            tenant_id,
            happening.event_type(),
            &email.event_data(happening.data(at)),
        )
        .await?;
    }
    commit(tx).await?;
    Ok(Applied::Recorded)
}

async fn count(
    client: &impl CachingClient,
    email_id: EmailId,
    kind: EmailEventType,
) -> Result<i64, DbError> {
    let row = client
        .query_one(
            "SELECT count(*) AS n FROM email_events WHERE email_id = $1 AND type = $2",
            &[&email_id, &kind],
        )
        .await?;
    row::get(&row, "email_events", "n")
}

/// The email a provider's event is about, by the id the provider gave when it took the
/// message, or by our Message-ID.
pub async fn find_by_message(
    db: &Db,
    tenant_id: TenantId,
    provider_message_id: Option<&str>,
    message_id: Option<&str>,
) -> Result<Option<EmailId>, DbError> {
    let client = db.client().await?;
    let row = client
        .query_opt(
            "SELECT id FROM emails WHERE tenant_id = $1 \
             AND ((provider_message_id IS NOT NULL AND provider_message_id = $2) OR message_id = $3) \
             LIMIT 1",
            &[&tenant_id, &provider_message_id, &message_id.map(|m| m.trim_matches(|c| c == '<' || c == '>'))],
        )
        .await?;
    row.map(|r| row::get(&r, "emails", "id")).transpose()
}

/// What tracking needs of an email its token names: the tenant (tokens carry only the
/// email's id), the tracked links and when it was sent.
#[derive(Debug, Clone)]
pub struct Target {
    pub tenant_id: TenantId,
    pub links: Vec<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

pub async fn target(db: &Db, email_id: EmailId) -> Result<Option<Target>, DbError> {
    let client = db.client().await?;
    let row = client
        .query_opt(
            "SELECT tenant_id, links, sent_at FROM emails WHERE id = $1",
            &[&email_id],
        )
        .await?;
    row.map(|r| {
        Ok(Target {
            tenant_id: row::get(&r, "emails", "tenant_id")?,
            links: row::get(&r, "emails", "links")?,
            sent_at: row::get(&r, "emails", "sent_at")?,
        })
    })
    .transpose()
}
