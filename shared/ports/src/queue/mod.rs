//! The queue port: at-least-once messages with SQS semantics. A message sent with a
//! delay (or to a queue with a default delay) stays invisible until the delay has passed;
//! a received message is hidden for the queue's visibility timeout and comes back unless
//! it is deleted.

pub mod catalog;
mod memory;
mod sqs;
mod topic;

use std::time::Duration;

use async_trait::async_trait;

pub use memory::MemoryQueue;
pub use sqs::SqsQueue;
pub use topic::Topic;

use crate::PortError;

/// SQS's limits, enforced by every adapter so that local behaviour matches production.
pub const MAX_DELAY: Duration = Duration::from_secs(900);
pub const MAX_BODY_BYTES: usize = 256 * 1024;
pub const MAX_BATCH: usize = 10;
pub const MAX_WAIT: Duration = Duration::from_secs(20);

/// A queue's settings, as template.yaml declares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub name: String,
    /// Default delay for messages sent without their own.
    pub delay: Duration,
    pub visibility_timeout: Duration,
}

impl QueueSpec {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            delay: Duration::ZERO,
            visibility_timeout: Duration::from_secs(30),
        }
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn visibility_timeout(mut self, timeout: Duration) -> Self {
        self.visibility_timeout = timeout;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub id: String,
    pub body: String,
    /// Handle for [`Queue::delete`]; valid for this receipt only.
    pub receipt: String,
    /// How many times this message has been received, this time included.
    pub receive_count: u32,
}

/// One message of a [`Queue::send_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEntry {
    pub body: String,
    /// `None` uses the queue's default delay.
    pub delay: Option<Duration>,
    /// An X-Ray trace header for the message (SQS's `AWSTraceHeader`), when it belongs
    /// to a trace other than the sender's own (which the SDK passes on by itself).
    pub trace_header: Option<String>,
}

/// What became of each entry of a batch, in the order sent: the message id, or why that
/// one entry failed (the others may still have been sent).
pub type BatchOutcome = Vec<Result<String, PortError>>;

#[async_trait]
pub trait Queue: Send + Sync {
    /// Sends `body` to the queue named `queue`. `delay: None` uses the queue's default.
    /// Returns the message id.
    async fn send(
        &self,
        queue: &str,
        body: &str,
        delay: Option<Duration>,
    ) -> Result<String, PortError>;
    /// Sends 1–10 messages in one request (SQS `SendMessageBatch`). The whole call fails
    /// when the batch breaks SQS's limits (more than 10 entries, a body that is empty or
    /// too long, more than 256 KiB in all); otherwise each entry has its own outcome.
    async fn send_batch(
        &self,
        queue: &str,
        entries: &[BatchEntry],
    ) -> Result<BatchOutcome, PortError>;
    /// Up to `max` (1–10) visible messages, waiting up to `wait` (≤ 20 s) for the first.
    async fn receive(
        &self,
        queue: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<QueueMessage>, PortError>;
    /// Acknowledges a received message so it is not delivered again.
    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), PortError>;
    /// Makes a received message visible again in `visible_in` (0–12 h) instead of after
    /// the queue's visibility timeout (SQS `ChangeMessageVisibility`): how a consumer
    /// that failed on a message has it back soon. `queue` is a catalog name, or the
    /// queue's ARN as an SQS event names a record's source.
    async fn change_visibility(
        &self,
        queue: &str,
        receipt: &str,
        visible_in: Duration,
    ) -> Result<(), PortError>;
}

/// SQS's limit on a message's visibility timeout.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

pub(crate) fn validate_visibility(visible_in: Duration) -> Result<(), PortError> {
    if visible_in > MAX_VISIBILITY {
        return Err(PortError::Invalid(format!(
            "a message can be hidden for at most {} s",
            MAX_VISIBILITY.as_secs()
        )));
    }
    Ok(())
}

pub(crate) fn validate_send(body: &str, delay: Option<Duration>) -> Result<(), PortError> {
    if body.is_empty() {
        return Err(PortError::Invalid("message body is empty".into()));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(PortError::Invalid(format!(
            "message body is {} bytes; the limit is {MAX_BODY_BYTES}",
            body.len()
        )));
    }
    if delay.is_some_and(|d| d > MAX_DELAY) {
        return Err(PortError::Invalid(format!(
            "delay may be at most {} s",
            MAX_DELAY.as_secs()
        )));
    }
    Ok(())
}

pub(crate) fn validate_batch(entries: &[BatchEntry]) -> Result<(), PortError> {
    if !(1..=MAX_BATCH).contains(&entries.len()) {
        return Err(PortError::Invalid(format!(
            "a batch has 1 to {MAX_BATCH} messages, not {}",
            entries.len()
        )));
    }
    for entry in entries {
        validate_send(&entry.body, entry.delay)?;
    }
    let total: usize = entries.iter().map(|e| e.body.len()).sum();
    if total > MAX_BODY_BYTES {
        return Err(PortError::Invalid(format!(
            "a batch's bodies are {total} bytes together; the limit is {MAX_BODY_BYTES}"
        )));
    }
    Ok(())
}

pub(crate) fn validate_receive(max: usize, wait: Duration) -> Result<(), PortError> {
    if !(1..=MAX_BATCH).contains(&max) {
        return Err(PortError::Invalid(format!(
            "can receive 1 to {MAX_BATCH} messages at once, not {max}"
        )));
    }
    if wait > MAX_WAIT {
        return Err(PortError::Invalid(format!(
            "wait may be at most {} s",
            MAX_WAIT.as_secs()
        )));
    }
    Ok(())
}
