//! The sender worker, a pipeline like the webhook dispatcher's: claim the email →
//! prepare the message (pure: tracking, headers) → call the tenant's transport →
//! classify → record and route (sent, a retry after a backoff, or failed).
//!
//! State lives in PostgreSQL: a queue message only names the email, so a duplicate or
//! stale message finds nothing to claim. A sender that dies mid-send leaves a claim
//! that lapses; the requeue sweep then sends the email again (at least once: the
//! Message-ID stays the same, so receiving systems can tell the copies apart).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use pm_domain::{EmailId, EmailSendMessage, EventType, TenantId};
use pm_mail::{Address, Delivered, MailTransport, OutgoingMessage, SendError, TransportSettings};
use pm_ports::queue::Queue;
use pm_ports::secrets::{CachedSecrets, SecretStore};
use pm_runtime::{BoxError, Deps};
use pm_store::{begin, commit, outbox, row, Db, DbError};
use pm_tracking::TrackingKeys;
use pm_webhook_delivery::WorkerError;
use tokio_postgres::Row;

use crate::config::EmailConfig;
use crate::model::{Email, EmailEventType};
use crate::providers;
use crate::store::{self, email_of, Entry, COLUMNS};

/// Builds a transport from settings and credentials; tests swap in their own resolver.
pub type TransportFactory = Arc<
    dyn Fn(
            &TransportSettings,
            &pm_mail::Credentials,
        ) -> Result<Arc<dyn MailTransport>, pm_mail::MailError>
        + Send
        + Sync,
>;

/// How long the sender trusts transport credentials it read: a change through
/// `PUT /api/v1/platform/email-providers` reaches sends within this.
pub const CREDENTIALS_CACHE_FOR: Duration = Duration::from_secs(5);

pub struct Sender {
    pub db: Db,
    pub queue: Arc<dyn Queue>,
    pub secrets: Arc<dyn SecretStore>,
    pub tracking: TrackingKeys,
    pub config: EmailConfig,
    transports: TransportFactory,
}

/// What one message came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to claim: sent already, not due, or another sender has it.
    Skipped,
    Sent,
    /// A transient failure; tried again after the backoff.
    Retrying {
        after: chrono::TimeDelta,
    },
    Failed {
        reason: String,
    },
}

/// A claimed email and what sending it needs besides.
struct Claimed {
    tenant_id: TenantId,
    email: Email,
    attempt: i32,
}

impl Sender {
    pub fn new(
        db: Db,
        queue: Arc<dyn Queue>,
        secrets: Arc<dyn SecretStore>,
        tracking: TrackingKeys,
        config: EmailConfig,
    ) -> Self {
        let endpoints = config.endpoints.clone();
        Self {
            db,
            queue,
            // Each email reads its tenant's transport credentials: once per
            // CREDENTIALS_CACHE_FOR per tenant, not once per message.
            secrets: Arc::new(CachedSecrets::new(secrets, CREDENTIALS_CACHE_FOR)),
            tracking,
            config,
            transports: Arc::new(move |settings, credentials| {
                pm_mail::build(settings, credentials, &endpoints)
            }),
        }
    }

    pub fn with_transports(mut self, factory: TransportFactory) -> Self {
        self.transports = factory;
        self
    }

    /// As the sender Lambda builds it at cold start.
    pub async fn build(deps: &Deps) -> Result<Self, BoxError> {
        let secrets = deps.secrets().await?;
        let tracking = crate::tracking_keys(secrets.as_ref()).await?;
        Ok(Self::new(
            deps.db().await?,
            deps.queue().await?,
            secrets,
            tracking,
            EmailConfig::from_env(deps.env())?,
        ))
    }

    /// Handles one queue message. `Err` only for the platform's own failures (the
    /// message comes back); a transport's failure is recorded and routed here.
    pub async fn handle(&self, message: EmailSendMessage) -> Result<Outcome, WorkerError> {
        let Some(claimed) = self.claim(message.email_id).await? else {
            return Ok(Outcome::Skipped);
        };
        let outcome = match self.refusal(&claimed).await? {
            Some(reason) => Err(SendError::Permanent(reason)),
            None => self.deliver(&claimed).await,
        };
        self.record(claimed, outcome).await
    }

    async fn claim(&self, id: EmailId) -> Result<Option<Claimed>, WorkerError> {
        let client = self.db.client().await?;
        let lease = self.config.lease.as_secs_f64();
        let row = client
            .query_opt(
                &format!(
                    "UPDATE emails SET status = 'sending', attempts = attempts + 1, \
                     lease_until = clock_timestamp() + make_interval(secs => $2), \
                     updated_at = clock_timestamp() \
                     WHERE id = $1 AND ((status = 'queued' AND next_attempt_at <= clock_timestamp()) \
                       OR (status = 'sending' AND lease_until < clock_timestamp())) \
                     AND NOT {HELD} RETURNING tenant_id, {COLUMNS}"
                ),
                &[&id, &lease],
            )
            .await
            .map_err(DbError::from)?;
        row.map(|r| claimed_of(&r))
            .transpose()
            .map_err(WorkerError::from)
    }

    /// Why this email must not go out after all: its recipient was suppressed since it
    /// was queued, or the tenant has no transport.
    async fn refusal(&self, c: &Claimed) -> Result<Option<String>, WorkerError> {
        let client = self.db.client().await?;
        let mut all = vec![c.email.to.clone()];
        all.extend(c.email.cc.iter().cloned());
        all.extend(c.email.bcc.iter().cloned());
        let suppressed = store::contacts_by_email(&client, c.tenant_id, &all)
            .await?
            .into_iter()
            .find(|contact| contact.status != "subscribed");
        Ok(suppressed.map(|contact| {
            format!(
                "recipient_suppressed: {} is {}",
                contact.email, contact.status
            )
        }))
    }

    async fn deliver(&self, c: &Claimed) -> Result<(Delivered, Prepared), SendError> {
        let provider = {
            let client = self
                .db
                .client()
                .await
                .map_err(|e| SendError::Transient(format!("database: {e}")))?;
            providers::load(&client, c.tenant_id)
                .await
                .map_err(|e| SendError::Transient(format!("database: {e}")))?
        };
        let Some(provider) = provider else {
            return Err(SendError::Permanent(
                "no email provider is configured".into(),
            ));
        };
        let credentials = providers::credentials(self.secrets.as_ref(), c.tenant_id)
            .await
            .map_err(|e| SendError::Transient(format!("secrets: {e}")))?;
        let transport = (self.transports)(&provider.settings, &credentials)
            .map_err(|e| SendError::Permanent(format!("transport: {e}")))?;
        let prepared = prepare(&self.tracking, &self.config.public_base_url, &c.email);
        let delivered = transport.send(&prepared.message).await?;
        let captured = (transport.kind() == pm_mail::TransportKind::Capture)
            .then(|| pm_mail::to_mime(&prepared.message).ok())
            .flatten()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        Ok((
            delivered,
            Prepared {
                captured,
                transport: transport.kind().as_str().to_string(),
                ..prepared
            },
        ))
    }

    async fn record(
        &self,
        c: Claimed,
        outcome: Result<(Delivered, Prepared), SendError>,
    ) -> Result<Outcome, WorkerError> {
        let mut client = self.db.client().await?;
        let tx = begin(&mut client).await?;
        let (result, retry_at) = match outcome {
            Ok((delivered, prepared)) => {
                let row = tx
                    .query_opt(
                        &format!(
                            "UPDATE emails SET status = 'sent', sent_at = clock_timestamp(), \
                             lease_until = NULL, last_error = NULL, links = $3, transport = $4, \
                             provider_message_id = $5, captured_mime = $6, updated_at = clock_timestamp() \
                             WHERE id = $1 AND status = 'sending' AND attempts = $2 RETURNING tenant_id, {COLUMNS}"
                        ),
                        &[
                            &c.email.id,
                            &c.attempt,
                            &prepared.links,
                            &prepared.transport,
                            &delivered.provider_message_id,
                            &prepared.captured,
                        ],
                    )
                    .await
                    .map_err(DbError::from)?;
                let Some(row) = row else {
                    // Our claim lapsed and another sender took the email over.
                    return Ok(Outcome::Skipped);
                };
                let email = claimed_of(&row)?.email;
                let sent_at = email.sent_at.unwrap_or_else(Utc::now);
                store::record_event(
                    &tx,
                    c.tenant_id,
                    email.id,
                    EmailEventType::Sent,
                    Entry::from("sender")
                        .dedupe("sent")
                        .data(serde_json::json!({
                            "transport": prepared.transport,
                            "provider_message_id": delivered.provider_message_id,
                        })),
                )
                .await?;
                outbox::record(
                    &tx,
                    c.tenant_id,
                    EventType::EmailSent,
                    &email.event_data(serde_json::json!({"sent_at": sent_at})),
                )
                .await?;
                (Outcome::Sent, None)
            }
            Err(SendError::Transient(reason)) if c.attempt < self.config.max_attempts => {
                let after = self.config.retry_after(c.attempt);
                let at = Utc::now() + after;
                let changed = tx
                    .execute(
                        "UPDATE emails SET status = 'queued', next_attempt_at = $3, lease_until = NULL, \
                         last_error = $4, updated_at = clock_timestamp() \
                         WHERE id = $1 AND status = 'sending' AND attempts = $2",
                        &[&c.email.id, &c.attempt, &at, &bounded(&reason)],
                    )
                    .await
                    .map_err(DbError::from)?;
                if changed == 0 {
                    return Ok(Outcome::Skipped);
                }
                tracing::info!(email_id = %c.email.id, attempt = c.attempt, %reason, "send failed; retrying");
                (Outcome::Retrying { after }, Some(at))
            }
            Err(error) => {
                let reason = bounded(error.reason());
                let changed = tx
                    .execute(
                        "UPDATE emails SET status = 'failed', lease_until = NULL, last_error = $3, \
                         updated_at = clock_timestamp() \
                         WHERE id = $1 AND status = 'sending' AND attempts = $2",
                        &[&c.email.id, &c.attempt, &reason],
                    )
                    .await
                    .map_err(DbError::from)?;
                if changed == 0 {
                    return Ok(Outcome::Skipped);
                }
                store::record_event(
                    &tx,
                    c.tenant_id,
                    c.email.id,
                    EmailEventType::Failed,
                    Entry::from("sender")
                        .dedupe("failed")
                        .data(serde_json::json!({"reason": reason})),
                )
                .await?;
                outbox::record(
                    &tx,
                    c.tenant_id,
                    EventType::EmailFailed,
                    &c.email
                        .event_data(serde_json::json!({"failed_at": Utc::now(), "reason": reason})),
                )
                .await?;
                tracing::warn!(email_id = %c.email.id, attempts = c.attempt, %reason, "email failed");
                (Outcome::Failed { reason }, None)
            }
        };
        commit(tx).await?;
        if let Some(at) = retry_at {
            crate::queueing::enqueue(self.queue.as_ref(), c.email.id, Some(at)).await;
        }
        Ok(result)
    }

    /// The sweep: emails due for `requeue_after` with no sender on them (a lost queue
    /// message, a schedule beyond SQS's 15-minute delay limit) and claims a crashed
    /// sender left to lapse go back on the queue, made due now; they are due now, so
    /// they are claimable, and not due "for a while", so the next sweep leaves them to
    /// their message. Returns how many it queued.
    pub async fn requeue_due(&self, requeue_after: Duration) -> Result<usize, WorkerError> {
        let client = self.db.client().await?;
        let grace = requeue_after.as_secs_f64();
        let rows = client
            .query(
                &format!(
                    "UPDATE emails SET status = 'queued', next_attempt_at = clock_timestamp(), \
                     lease_until = NULL \
                     WHERE id IN (SELECT id FROM emails \
                       WHERE ((status = 'queued' \
                               AND next_attempt_at <= clock_timestamp() - make_interval(secs => $1)) \
                          OR (status = 'sending' AND lease_until < clock_timestamp())) \
                         AND NOT {HELD} \
                       ORDER BY next_attempt_at LIMIT 500 FOR UPDATE SKIP LOCKED) \
                     RETURNING id"
                ),
                &[&grace],
            )
            .await
            .map_err(DbError::from)?;
        let ids = rows
            .iter()
            .map(|r| row::get(r, "emails", "id"))
            .collect::<Result<Vec<EmailId>, _>>()?;
        for chunk in ids.chunks(pm_ports::queue::MAX_BATCH) {
            let messages: Vec<EmailSendMessage> = chunk
                .iter()
                .map(|&email_id| EmailSendMessage { email_id })
                .collect();
            pm_ports::queue::catalog::EMAIL_SEND
                .send_batch(self.queue.as_ref(), &messages)
                .await?;
        }
        Ok(ids.len())
    }
}

/// A campaign step of a paused campaign waits: pausing stops sends at once, including
/// those already queued; resuming releases them.
const HELD: &str = "EXISTS (SELECT 1 FROM campaigns c WHERE c.id = emails.campaign_id \
    AND emails.campaign_step IS NOT NULL AND c.status = 'paused')";

fn claimed_of(r: &Row) -> Result<Claimed, DbError> {
    let email = email_of(r, true)?;
    Ok(Claimed {
        tenant_id: row::get(r, "emails", "tenant_id")?,
        attempt: email.attempts,
        email,
    })
}

fn bounded(reason: &str) -> String {
    reason.chars().take(500).collect()
}

/// The message as it goes out, and what the sender keeps of its preparation.
pub struct Prepared {
    pub message: OutgoingMessage,
    /// The tracked links of the HTML, by index (what click tokens name).
    pub links: Vec<String>,
    pub captured: Option<String>,
    pub transport: String,
}

/// Pure: the outgoing message for a stored email. With tracking on, the HTML gets the
/// open pixel and rewritten links; the text part keeps its links readable. Every
/// message carries the one-click unsubscribe pair (RFC 8058).
pub fn prepare(keys: &TrackingKeys, base_url: &str, email: &Email) -> Prepared {
    let (html, links) = match (&email.html, email.tracking) {
        (Some(html), true) => {
            let tracked = pm_tracking::track_html(keys, base_url, email.id.as_uuid(), html);
            (Some(tracked.html), tracked.links)
        }
        (html, _) => (html.clone(), Vec::new()),
    };
    let headers = email
        .headers
        .as_object()
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let metadata = email
        .metadata
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let message = OutgoingMessage {
        message_id: email.message_id.clone(),
        from: Address {
            name: email.from.name.clone(),
            email: email.from.email.clone(),
        },
        to: vec![Address::new(email.to.clone())],
        cc: email.cc.iter().cloned().map(Address::new).collect(),
        bcc: email.bcc.iter().cloned().map(Address::new).collect(),
        reply_to: email.reply_to.clone().map(Address::new),
        subject: email.subject.clone(),
        html,
        text: email.text.clone(),
        headers,
        unsubscribe_url: pm_tracking::unsubscribe_url(keys, base_url, email.id.as_uuid()),
        unsubscribe_mailto: None,
        tags: email.tags.clone(),
        metadata,
    };
    Prepared {
        message,
        links,
        captured: None,
        transport: String::new(),
    }
}
