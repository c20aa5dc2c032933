use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{
    validate_batch, validate_receive, validate_send, validate_visibility, BatchEntry, BatchOutcome,
    Queue, QueueMessage, QueueSpec,
};
use crate::PortError;

const BACKEND: &str = "memory-queue";

struct Stored {
    id: String,
    body: String,
    visible_at: Instant,
    receive_count: u32,
    receipt: Option<String>,
}

struct QueueState {
    spec: QueueSpec,
    messages: VecDeque<Stored>,
}

/// Queues in the process, with SQS's delay and visibility semantics, for the local
/// runtime. Messages are lost on exit.
pub struct MemoryQueue {
    queues: Mutex<HashMap<String, QueueState>>,
    /// Woken on every send, so a waiting receive returns as soon as it can.
    sent: Notify,
}

impl MemoryQueue {
    pub fn new(specs: impl IntoIterator<Item = QueueSpec>) -> Self {
        let queues = specs
            .into_iter()
            .map(|spec| {
                (
                    spec.name.clone(),
                    QueueState {
                        spec,
                        messages: VecDeque::new(),
                    },
                )
            })
            .collect();
        Self {
            queues: Mutex::new(queues),
            sent: Notify::new(),
        }
    }

    fn with_queue<T>(
        &self,
        queue: &str,
        f: impl FnOnce(&mut QueueState) -> T,
    ) -> Result<T, PortError> {
        let mut queues = self.queues.lock().expect("queue lock poisoned");
        let state = queues
            .get_mut(queue)
            .ok_or_else(|| PortError::rejected(BACKEND, format!("no queue named {queue:?}")))?;
        Ok(f(state))
    }

    fn push(&self, queue: &str, body: &str, delay: Option<Duration>) -> Result<String, PortError> {
        let id = uuid::Uuid::new_v4().to_string();
        self.with_queue(queue, |state| {
            let delay = delay.unwrap_or(state.spec.delay);
            state.messages.push_back(Stored {
                id: id.clone(),
                body: body.to_string(),
                visible_at: Instant::now() + delay,
                receive_count: 0,
                receipt: None,
            });
        })?;
        Ok(id)
    }

    /// Takes up to `max` visible messages, or says when the next one becomes visible.
    fn take_visible(
        &self,
        queue: &str,
        max: usize,
    ) -> Result<Result<Vec<QueueMessage>, Option<Instant>>, PortError> {
        self.with_queue(queue, |state| {
            let now = Instant::now();
            let hide_until = now + state.spec.visibility_timeout;
            let mut taken = Vec::new();
            for message in state.messages.iter_mut() {
                if taken.len() == max {
                    break;
                }
                if message.visible_at <= now {
                    let receipt = uuid::Uuid::new_v4().to_string();
                    message.visible_at = hide_until;
                    message.receive_count += 1;
                    message.receipt = Some(receipt.clone());
                    taken.push(QueueMessage {
                        id: message.id.clone(),
                        body: message.body.clone(),
                        receipt,
                        receive_count: message.receive_count,
                    });
                }
            }
            if taken.is_empty() {
                Err(state.messages.iter().map(|m| m.visible_at).min())
            } else {
                Ok(taken)
            }
        })
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn send(
        &self,
        queue: &str,
        body: &str,
        delay: Option<Duration>,
    ) -> Result<String, PortError> {
        validate_send(body, delay)?;
        let id = self.push(queue, body, delay)?;
        self.sent.notify_waiters();
        Ok(id)
    }

    async fn send_batch(
        &self,
        queue: &str,
        entries: &[BatchEntry],
    ) -> Result<BatchOutcome, PortError> {
        validate_batch(entries)?;
        let ids = entries
            .iter()
            .map(|e| self.push(queue, &e.body, e.delay).map(Ok))
            .collect::<Result<BatchOutcome, PortError>>()?;
        self.sent.notify_waiters();
        Ok(ids)
    }

    async fn receive(
        &self,
        queue: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<QueueMessage>, PortError> {
        validate_receive(max, wait)?;
        let deadline = Instant::now() + wait;
        loop {
            // Register interest before looking, so a send between the look and the wait
            // still wakes us.
            let notified = self.sent.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let next_visible = match self.take_visible(queue, max)? {
                Ok(messages) => return Ok(messages),
                Err(next_visible) => next_visible,
            };
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            let wake = next_visible.map_or(deadline, |at| at.min(deadline));
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), PortError> {
        self.with_queue(queue, |state| {
            state
                .messages
                .retain(|m| m.receipt.as_deref() != Some(receipt));
        })
    }

    async fn change_visibility(
        &self,
        queue: &str,
        receipt: &str,
        visible_in: Duration,
    ) -> Result<(), PortError> {
        validate_visibility(visible_in)?;
        let found = self.with_queue(queue, |state| {
            let message = state
                .messages
                .iter_mut()
                .find(|m| m.receipt.as_deref() == Some(receipt));
            message.map(|m| m.visible_at = Instant::now() + visible_in)
        })?;
        // As SQS: a receipt of a deleted (or since received again) message is refused.
        found.ok_or_else(|| {
            PortError::rejected(BACKEND, "no message on that queue has this receipt")
        })?;
        self.sent.notify_waiters();
        Ok(())
    }
}
