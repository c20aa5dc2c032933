//! One message handler, two drivers: the Lambda SQS driver (a batch in, the failed
//! messages out, so SQS redelivers only those) and the local runtime's consumer loop
//! (receive → handle → delete). Messages of a batch are handled concurrently.

use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use futures::future::join_all;
use pm_ports::queue::{Queue, Topic, MAX_BATCH};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::watch;

use crate::WorkerError;

/// Handles an SQS event's records; the ids of those that failed (or did not decode) go
/// back as batch item failures.
pub async fn sqs_batch<T, F, Fut>(topic: Topic<T>, event: SqsEvent, handle: F) -> SqsBatchResponse
where
    T: Serialize + DeserializeOwned,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<(), WorkerError>>,
{
    let outcomes = join_all(event.records.into_iter().map(|record| {
        let id = record.message_id.unwrap_or_default();
        let decoded = serde_json::from_str::<T>(record.body.as_deref().unwrap_or(""));
        let handle = &handle;
        async move {
            let outcome = match decoded {
                Ok(message) => handle(message).await,
                Err(e) => Err(WorkerError::Poison(format!(
                    "message {id} on {} is not a valid message: {e}",
                    topic.name()
                ))),
            };
            (id, outcome)
        }
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for (id, outcome) in outcomes {
        if let Err(e) = outcome {
            tracing::error!(message_id = %id, queue = topic.name(), error = %e, "message failed; SQS will redeliver it");
            response.add_failure(id);
        }
    }
    response
}

/// Consumes `topic` until `stop` turns true: up to ten messages at a time, each handled
/// concurrently; a handled message is deleted, a failed one left to reappear after the
/// queue's visibility timeout (as SQS would).
pub async fn consume<T, F, Fut>(
    queue: &dyn Queue,
    topic: Topic<T>,
    handle: F,
    mut stop: watch::Receiver<bool>,
) where
    T: Serialize + DeserializeOwned,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<(), WorkerError>>,
{
    loop {
        let received = tokio::select! {
            received = queue.receive(topic.name(), MAX_BATCH, Duration::from_secs(1)) => received,
            _ = stop.wait_for(|stopped| *stopped) => return,
        };
        let messages = match received {
            Ok(messages) => messages,
            Err(e) => {
                tracing::warn!(queue = topic.name(), error = %e, "receive failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = stop.wait_for(|stopped| *stopped) => return,
                }
            }
        };
        join_all(messages.into_iter().map(|message| {
            let handle = &handle;
            async move {
                let outcome = match topic.decode(&message) {
                    Ok(decoded) => handle(decoded).await,
                    Err(e) => Err(WorkerError::Poison(e.to_string())),
                };
                match outcome {
                    Ok(()) => {
                        if let Err(e) = queue.delete(topic.name(), &message.receipt).await {
                            tracing::warn!(queue = topic.name(), error = %e, "delete failed; the message will come back");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(queue = topic.name(), message_id = %message.id, error = %e, "message failed; it will come back");
                    }
                }
            }
        }))
        .await;
    }
}
