//! One message handler, two drivers: the Lambda SQS driver (a batch in, the failed
//! messages out, so SQS redelivers only those) and the local runtime's consumer loop
//! (receive → handle → delete). Messages of a batch are handled concurrently.
//!
//! Both bring a failed message back on [`retry_in`]'s schedule rather than after the
//! queue's visibility timeout (three to five minutes, sized for a consumer that is still
//! working, not for one that has given up): a peer away for a few seconds then delays
//! the events behind it by seconds too.

use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use futures::future::join_all;
use pm_ports::queue::{Queue, Topic, MAX_BATCH};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::watch;

use crate::WorkerError;

/// When a message that failed on its `receive_count`-th receive is tried again (None:
/// after the queue's own visibility timeout). With the queues' `maxReceiveCount` of 8
/// (template.yaml) a message is tried for 5 + 15 + 45 s and then four visibility
/// timeouts (13 minutes or more) before it goes to its dead-letter queue.
pub fn retry_in(receive_count: u32) -> Option<Duration> {
    match receive_count {
        0 | 1 => Some(Duration::from_secs(5)),
        2 => Some(Duration::from_secs(15)),
        3 => Some(Duration::from_secs(45)),
        _ => None,
    }
}

/// After a failure: asks the queue for the message back on [`retry_in`]'s schedule. A
/// poison message is left to the visibility timeout (it will not get better), and if the
/// queue cannot be asked the timeout brings the message back anyway.
async fn schedule_retry(
    queue: &dyn Queue,
    source: &str,
    receipt: &str,
    receive_count: u32,
    error: &WorkerError,
) {
    if matches!(error, WorkerError::Poison(_)) {
        return;
    }
    let Some(after) = retry_in(receive_count) else {
        return;
    };
    if let Err(e) = queue.change_visibility(source, receipt, after).await {
        tracing::warn!(queue = source, error = %e, "could not bring the message back sooner; it returns after the visibility timeout");
    }
}

/// Handles an SQS event's records; the ids of those that failed (or did not decode) go
/// back as batch item failures, each due again on [`retry_in`]'s schedule.
pub async fn sqs_batch<T, F, Fut>(
    queue: &dyn Queue,
    topic: Topic<T>,
    event: SqsEvent,
    handle: F,
) -> SqsBatchResponse
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
            if let Err(e) = &outcome {
                tracing::error!(message_id = %id, queue = topic.name(), error = %e, "message failed; SQS will redeliver it");
                let receive_count = record
                    .attributes
                    .get("ApproximateReceiveCount")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                // The record's own queue, by ARN: the dispatcher's come from six.
                let source = record.event_source_arn.as_deref().unwrap_or(topic.name());
                let receipt = record.receipt_handle.as_deref().unwrap_or_default();
                schedule_retry(queue, source, receipt, receive_count, e).await;
            }
            (id, outcome)
        }
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for (id, outcome) in outcomes {
        if outcome.is_err() {
            response.add_failure(id);
        }
    }
    response
}

/// Consumes `topic` until `stop` turns true: up to ten messages at a time, each handled
/// concurrently; a handled message is deleted, a failed one due again on [`retry_in`]'s
/// schedule.
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
                        schedule_retry(queue, topic.name(), &message.receipt, message.receive_count, &e).await;
                    }
                }
            }
        }))
        .await;
    }
}
