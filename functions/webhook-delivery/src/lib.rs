//! Webhook delivery: from a domain event on the events queue to signed POSTs at the
//! customers' endpoints, with retries, an attempt log and endpoint health.
//!
//! Workers (each a handler of one message, run by [`driver`] in Lambda and locally):
//! - [`fan_out`]: an event → one delivery per matching webhook (unique per pair);
//! - [`dispatch`]: a delivery message → one signed attempt → record → next retry;
//! - [`requeue`]: (scheduled) due deliveries without a message in flight → messages.
//!
//! Pure steps, each tested on its own:
//! - [`signature`]: Standard Webhooks headers and `v1` HMAC-SHA256 signatures.
//! - [`verify`]: a receiver's verification, written separately to check [`signature`].
//! - [`outbound`]: which addresses deliveries may reach, enforced at connect time.
//! - [`classify`]: an HTTP answer or client error as a [`policy::Outcome`].
//! - [`policy`]: the retry schedules and the next step after an attempt.
//! - [`health`]: an endpoint's health and when to disable it.

pub mod attempt;
pub mod classify;
pub mod config;
pub mod deliveries;
pub mod dispatch;
pub mod driver;
pub mod fan_out;
pub mod health;
pub mod model;
pub mod outbound;
pub mod policy;
pub mod requeue;
pub mod secrets;
pub mod signature;
pub mod verify;

use pm_ports::PortError;
use pm_store::DbError;

/// A failure of the platform, not of the endpoint: the message is retried by its queue.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] DbError),
    #[error(transparent)]
    Queue(PortError),
    #[error("secrets: {0}")]
    Secrets(PortError),
    /// A peer outside the platform (a CRM) is unavailable or asks us to slow down.
    #[error("peer unavailable: {0}")]
    Peer(String),
    /// A message that does not decode: it goes to the queue's DLQ after its retries.
    #[error("poison message: {0}")]
    Poison(String),
}

impl From<PortError> for WorkerError {
    fn from(e: PortError) -> Self {
        WorkerError::Queue(e)
    }
}
