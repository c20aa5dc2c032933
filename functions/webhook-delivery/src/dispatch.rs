//! The dispatcher: one delivery attempt per message, as a straight pipeline
//! (claim → prepare → send → decide → record → route), after svix's worker.
//!
//! Exactly-once effect: PostgreSQL decides who may send. A message names an attempt; the
//! claim succeeds only if that attempt is due and nobody holds a live lease on it, so a
//! duplicated or stale message sends nothing, and a succeeded delivery is never sent
//! again. A dispatcher that dies mid-attempt leaves a lease that runs out; the requeue
//! schedule then queues the attempt again (a receiver may see that one delivery twice,
//! with the same `webhook-id` to de-duplicate by, but it is recorded as succeeded once).
//!
//! An endpoint's failure is recorded and routed to its next retry: the message is done.
//! An infrastructure failure (database, queue) is an error, so SQS redelivers the message.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use pm_domain::DeliveryMessage;
use pm_ports::queue::{catalog, Queue, MAX_DELAY};
use pm_ports::secrets::{CachedSecrets, SecretStore};
use pm_store::Db;

use crate::attempt::Attempted;
use crate::config::DeliveryConfig;
use crate::deliveries::{self, Claimed, Next, WebhookChange};
use crate::outbound::{self, Lookup, SystemLookup};
use crate::policy::{decide_on, Decision};
use crate::WorkerError;

/// Retries at least this far off are queued before their attempt is recorded.
const ROUTE_EARLY_FROM: Duration = Duration::from_secs(1);

/// What became of one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    /// Nothing to do: a duplicate, stale or finished delivery's message.
    Skipped,
    Delivered,
    Retrying {
        after: Duration,
    },
    /// The schedule is used up; the delivery stays replayable.
    Failed,
    /// The webhook is (now) disabled.
    Disabled,
}

/// How soon a delivery is tried again after the secrets store failed to give its signing
/// secret.
const SECRETS_RETRY: Duration = Duration::from_secs(5);

pub struct Dispatcher {
    db: Db,
    queue: Arc<dyn Queue>,
    /// Read through a short cache ([`crate::secrets::CACHE_FOR`]).
    secrets: Arc<dyn SecretStore>,
    client: reqwest::Client,
    config: DeliveryConfig,
}

impl Dispatcher {
    /// A dispatcher resolving names with the system's resolver.
    pub fn new(
        db: Db,
        queue: Arc<dyn Queue>,
        secrets: Arc<dyn SecretStore>,
        config: DeliveryConfig,
    ) -> Self {
        Self::with_lookup(db, queue, secrets, config, SystemLookup)
    }

    /// A dispatcher resolving names through `lookup` (tests control DNS answers).
    pub fn with_lookup<L: Lookup + 'static>(
        db: Db,
        queue: Arc<dyn Queue>,
        secrets: Arc<dyn SecretStore>,
        config: DeliveryConfig,
        lookup: L,
    ) -> Self {
        let client = outbound::client_builder(config.outbound, lookup)
            .timeout(config.timeout)
            .build()
            .expect("the HTTP client builds");
        Self {
            db,
            queue,
            secrets: Arc::new(CachedSecrets::new(secrets, crate::secrets::CACHE_FOR)),
            client,
            config,
        }
    }

    /// Makes the attempt the message names, if it is still due.
    pub async fn handle(&self, message: DeliveryMessage) -> Result<Handled, WorkerError> {
        let claimed = {
            let client = self.db.client().await?;
            deliveries::claim(&**client, message, self.config.lease).await?
        };
        let Some(claimed) = claimed else {
            return Ok(Handled::Skipped);
        };
        if !claimed.enabled {
            let client = self.db.client().await?;
            deliveries::fail_disabled(&**client, &claimed).await?;
            return Ok(Handled::Disabled);
        }
        let attempted = match self.send(&claimed).await {
            Ok(attempted) => attempted,
            Err(WorkerError::Secrets(e)) if e.is_transient() => {
                // Our outage, not the endpoint's: nothing was sent, so no attempt is
                // spent, and the delivery is tried again soon rather than when its
                // claim and queue marker run out (minutes).
                tracing::warn!(error = %e, delivery_id = %claimed.delivery_id,
                    "signing secret unavailable; the attempt is put back");
                let client = self.db.client().await?;
                if let Some(message) =
                    deliveries::release(&**client, &claimed, SECRETS_RETRY).await?
                {
                    if let Err(e) = catalog::DELIVERIES
                        .send(self.queue.as_ref(), &message, Some(SECRETS_RETRY))
                        .await
                    {
                        tracing::warn!(error = %e, delivery_id = %claimed.delivery_id, "retry not queued; the requeue will");
                    }
                }
                return Ok(Handled::Retrying {
                    after: SECRETS_RETRY,
                });
            }
            Err(e) => return Err(e),
        };
        let decision = decide_on(
            self.config.schedule(claimed.retry_policy),
            claimed.retry_policy.retry_after_cap(),
            claimed.attempt_in_round,
            attempted.outcome,
        );
        let (next, disable, handled) = self.next_step(decision, &attempted);
        // The schedule counts from the failure, not from when it was recorded: a retry
        // of a second or more is queued before recording (which may take a while on a
        // busy database). A shorter one (shortened test schedules) is queued after, so it
        // cannot arrive while its attempt is still being recorded.
        let route_early =
            matches!(handled, Handled::Retrying { after } if after >= ROUTE_EARLY_FROM);
        if let (true, Handled::Retrying { after }) = (route_early, &handled) {
            self.route_retry(&claimed, *after).await;
        }
        let change = {
            let client = self.db.client().await?;
            deliveries::record(
                &**client,
                &claimed,
                &attempted,
                next,
                disable,
                self.config.disable_after,
            )
            .await?
        };
        if let WebhookChange::Disabled(reason) = &change {
            tracing::warn!(webhook_id = %claimed.webhook_id, %reason, "webhook disabled");
            return Ok(Handled::Disabled);
        }
        if let (false, Handled::Retrying { after }) = (route_early, &handled) {
            self.route_retry(&claimed, *after).await;
        }
        Ok(handled)
    }

    /// Signs and sends the claimed attempt.
    async fn send(&self, claimed: &Claimed) -> Result<Attempted, WorkerError> {
        let secrets =
            crate::secrets::load(self.secrets.as_ref(), claimed.tenant_id, claimed.webhook_id)
                .await
                .map_err(WorkerError::Secrets)?
                .ok_or_else(|| {
                    WorkerError::Secrets(pm_ports::PortError::Invalid(format!(
                        "webhook {} has no signing secret",
                        claimed.webhook_id
                    )))
                })?;
        Ok(claimed
            .send(
                &self.client,
                self.config.outbound,
                self.config.timeout,
                &secrets,
            )
            .await)
    }

    /// The delivery's next state, the reason to disable the webhook (if any), and what
    /// to report.
    fn next_step(
        &self,
        decision: Decision,
        attempted: &Attempted,
    ) -> (Next, Option<String>, Handled) {
        match decision {
            Decision::Done => (Next::Succeeded, None, Handled::Delivered),
            Decision::GiveUp => (Next::Failed, None, Handled::Failed),
            Decision::Disable => (
                Next::Failed,
                Some(format!(
                    "the endpoint answered {} Gone",
                    attempted.status_code.unwrap_or(410)
                )),
                Handled::Disabled,
            ),
            Decision::Retry { after } => {
                let at = Utc::now() + after;
                // A delay SQS can carry travels as a message; a longer one waits for the
                // requeue schedule (queued_until None makes it due for it at `at`).
                let queued_until = (after <= MAX_DELAY).then(|| at + self.config.requeue_after);
                (
                    Next::Retry { at, queued_until },
                    None,
                    Handled::Retrying { after },
                )
            }
        }
    }

    /// Sends the retry's message: to the per-attempt delay queue whose delay it is, or
    /// with a per-message delay. A failure here loses nothing: the requeue schedule
    /// sends it once `queued_until` passes.
    async fn route_retry(&self, claimed: &Claimed, after: Duration) {
        if after > MAX_DELAY {
            return;
        }
        let message = DeliveryMessage {
            delivery_id: claimed.delivery_id,
            attempt: claimed.attempt + 1,
        };
        let queue = self.queue.as_ref();
        let sent = match catalog::DELIVERY_RETRIES
            .iter()
            .find(|(_, secs)| Duration::from_secs(*secs) == after)
        {
            Some((topic, _)) => topic.send(queue, &message, None).await,
            None => catalog::DELIVERIES.send(queue, &message, Some(after)).await,
        };
        if let Err(e) = sent {
            tracing::warn!(error = %e, delivery_id = %claimed.delivery_id, "retry not queued; the requeue will");
        }
    }
}
