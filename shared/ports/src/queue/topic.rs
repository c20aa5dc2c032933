//! Typed topics over the string queue port: a [`Topic<T>`] names a queue and the one
//! message type it carries, so a producer and its consumer cannot disagree on the shape.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{BatchEntry, BatchOutcome, Queue, QueueMessage, MAX_BATCH};
use crate::PortError;

/// A queue and the type of its messages (JSON on the wire).
pub struct Topic<T> {
    name: &'static str,
    message: PhantomData<fn() -> T>,
}

// Manual impls: a derive would demand `T: Clone`/`Copy`, which the marker does not need.
impl<T> Clone for Topic<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Topic<T> {}

impl<T> fmt::Debug for Topic<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Topic({})", self.name)
    }
}

impl<T> Topic<T> {
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            message: PhantomData,
        }
    }

    /// The queue's logical name (the catalog's, and template.yaml's).
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<T: Serialize + DeserializeOwned> Topic<T> {
    pub fn encode(&self, message: &T) -> String {
        serde_json::to_string(message).expect("queue messages serialize")
    }

    /// The message, or `PortError::Invalid` for a body that is not one (a poison
    /// message: the consumer reports it and lets the queue's DLQ take it).
    pub fn decode(&self, message: &QueueMessage) -> Result<T, PortError> {
        serde_json::from_str(&message.body).map_err(|e| {
            PortError::Invalid(format!(
                "message {} on {} is not a valid message: {e}",
                message.id, self.name
            ))
        })
    }

    pub async fn send(
        &self,
        queue: &dyn Queue,
        message: &T,
        delay: Option<Duration>,
    ) -> Result<String, PortError> {
        queue.send(self.name, &self.encode(message), delay).await
    }

    /// Sends up to [`MAX_BATCH`] messages in one request; each has its own outcome.
    pub async fn send_batch(
        &self,
        queue: &dyn Queue,
        messages: &[T],
    ) -> Result<BatchOutcome, PortError> {
        self.send_batch_traced(queue, messages, |_| None).await
    }

    /// [`Topic::send_batch`], each message in the trace `trace_of` gives it.
    pub async fn send_batch_traced(
        &self,
        queue: &dyn Queue,
        messages: &[T],
        trace_of: impl Fn(&T) -> Option<String>,
    ) -> Result<BatchOutcome, PortError> {
        debug_assert!(messages.len() <= MAX_BATCH);
        let entries: Vec<BatchEntry> = messages
            .iter()
            .map(|m| BatchEntry {
                body: self.encode(m),
                delay: None,
                trace_header: trace_of(m),
            })
            .collect();
        queue.send_batch(self.name, &entries).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::{MemoryQueue, QueueSpec};
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ping {
        n: u32,
    }

    const PINGS: Topic<Ping> = Topic::new("pings");

    #[tokio::test]
    async fn a_topic_sends_and_decodes_its_own_type() {
        let queue = MemoryQueue::new([QueueSpec::new("pings")]);
        PINGS.send(&queue, &Ping { n: 1 }, None).await.unwrap();
        let outcome = PINGS
            .send_batch(&queue, &[Ping { n: 2 }, Ping { n: 3 }])
            .await
            .unwrap();
        assert!(outcome.iter().all(Result::is_ok));
        let got = queue
            .receive("pings", 10, Duration::ZERO)
            .await
            .unwrap()
            .iter()
            .map(|m| PINGS.decode(m).unwrap().n)
            .collect::<Vec<_>>();
        assert_eq!(got, [1, 2, 3]);
    }

    #[tokio::test]
    async fn a_body_of_another_shape_is_an_invalid_message_not_a_panic() {
        let queue = MemoryQueue::new([QueueSpec::new("pings")]);
        queue.send("pings", "{\"m\":1}", None).await.unwrap();
        let message = &queue.receive("pings", 1, Duration::ZERO).await.unwrap()[0];
        assert!(matches!(PINGS.decode(message), Err(PortError::Invalid(_))));
    }
}
