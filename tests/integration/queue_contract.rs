//! The queue port's contract, run against the in-process adapter and SQS on moto.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use pm_ports::queue::{BatchEntry, MemoryQueue, Queue, QueueSpec, SqsQueue};
use pm_ports::PortError;
use pm_tests::{aws, unique};

const PLAIN: &str = "plain";
const DELAYED: &str = "delayed";
const HELD: &str = "held";

/// The queues the contract uses: one plain with a 1 s visibility timeout, one with a
/// 1 s default delay, one that hides a received message for a minute.
fn specs() -> Vec<QueueSpec> {
    vec![
        QueueSpec::new(PLAIN).visibility_timeout(Duration::from_secs(1)),
        QueueSpec::new(DELAYED).delay(Duration::from_secs(1)),
        QueueSpec::new(HELD).visibility_timeout(Duration::from_secs(60)),
    ]
}

async fn drain(queue: &dyn Queue, name: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let batch = queue.receive(name, 10, Duration::ZERO).await.unwrap();
        if batch.is_empty() {
            return bodies;
        }
        for message in batch {
            queue.delete(name, &message.receipt).await.unwrap();
            bodies.push(message.body);
        }
    }
}

async fn send_receive_delete(queue: &dyn Queue) {
    let id = queue
        .send(PLAIN, r#"{"hello":"world"}"#, None)
        .await
        .unwrap();
    let got = queue
        .receive(PLAIN, 10, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    assert_eq!(got[0].body, r#"{"hello":"world"}"#);
    assert_eq!(got[0].receive_count, 1);
    queue.delete(PLAIN, &got[0].receipt).await.unwrap();
    // Deleted: not even after the visibility timeout has passed.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(queue
        .receive(PLAIN, 10, Duration::ZERO)
        .await
        .unwrap()
        .is_empty());
}

async fn unacknowledged_messages_come_back(queue: &dyn Queue) {
    let id = queue.send(PLAIN, "again", None).await.unwrap();
    let first = queue
        .receive(PLAIN, 1, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(first[0].id, id);
    assert!(
        queue
            .receive(PLAIN, 1, Duration::ZERO)
            .await
            .unwrap()
            .is_empty(),
        "a received message is hidden for the visibility timeout"
    );
    let second = queue
        .receive(PLAIN, 1, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(second.len(), 1, "it reappears after the visibility timeout");
    assert_eq!(second[0].id, id);
    assert_eq!(second[0].receive_count, 2);
    queue.delete(PLAIN, &second[0].receipt).await.unwrap();
}

async fn assert_invisible_then_visible(queue: &dyn Queue, name: &str, min: Duration) {
    let sent = Instant::now();
    assert!(
        queue
            .receive(name, 1, Duration::ZERO)
            .await
            .unwrap()
            .is_empty(),
        "a delayed message must not be visible at once"
    );
    let mut got = Vec::new();
    while got.is_empty() && sent.elapsed() < Duration::from_secs(10) {
        got = queue
            .receive(name, 1, Duration::from_secs(1))
            .await
            .unwrap();
    }
    assert_eq!(got.len(), 1, "the delayed message arrives");
    let waited = sent.elapsed();
    // SQS counts delays in whole seconds; allow a little clock slack.
    assert!(
        waited + Duration::from_millis(150) >= min,
        "arrived after {waited:?}, before its delay {min:?}"
    );
    queue.delete(name, &got[0].receipt).await.unwrap();
}

async fn per_message_delay(queue: &dyn Queue) {
    queue
        .send(PLAIN, "later", Some(Duration::from_secs(2)))
        .await
        .unwrap();
    assert_invisible_then_visible(queue, PLAIN, Duration::from_secs(2)).await;
}

async fn queue_level_delay(queue: &dyn Queue) {
    queue.send(DELAYED, "by default later", None).await.unwrap();
    assert_invisible_then_visible(queue, DELAYED, Duration::from_secs(1)).await;
}

async fn nothing_lost_nothing_doubled(queue: &dyn Queue) {
    let sent: HashSet<String> = (0..25).map(|i| format!("message-{i}")).collect();
    for body in &sent {
        queue.send(PLAIN, body, None).await.unwrap();
    }
    let received = drain(queue, PLAIN).await;
    assert_eq!(received.len(), sent.len(), "each message exactly once");
    assert_eq!(received.into_iter().collect::<HashSet<_>>(), sent);
}

async fn bad_input_is_refused(queue: &dyn Queue) {
    let too_long = Some(Duration::from_secs(901));
    assert!(matches!(
        queue.send(PLAIN, "x", too_long).await,
        Err(PortError::Invalid(_))
    ));
    assert!(matches!(
        queue.send(PLAIN, "", None).await,
        Err(PortError::Invalid(_))
    ));
    let huge = "x".repeat(256 * 1024 + 1);
    assert!(matches!(
        queue.send(PLAIN, &huge, None).await,
        Err(PortError::Invalid(_))
    ));
    for max in [0, 11] {
        assert!(matches!(
            queue.receive(PLAIN, max, Duration::ZERO).await,
            Err(PortError::Invalid(_))
        ));
    }
    assert!(matches!(
        queue.send("no-such-queue", "x", None).await,
        Err(PortError::Rejected { .. })
    ));
}

fn entry(body: &str, delay: Option<Duration>) -> BatchEntry {
    BatchEntry {
        body: body.to_string(),
        delay,
        trace_header: None,
    }
}

async fn batches_deliver_each_entry_with_its_own_delay(queue: &dyn Queue) {
    let outcome = queue
        .send_batch(
            PLAIN,
            &[
                entry("b1", None),
                entry("b2", None),
                entry("b3", Some(Duration::from_secs(2))),
            ],
        )
        .await
        .unwrap();
    assert_eq!(outcome.len(), 3);
    let ids: HashSet<String> = outcome.into_iter().map(Result::unwrap).collect();
    assert_eq!(ids.len(), 3, "each entry has its own message id");
    let mut now: Vec<String> = drain(queue, PLAIN).await;
    now.sort();
    assert_eq!(now, ["b1", "b2"], "the delayed entry waits");
    assert_invisible_then_visible(queue, PLAIN, Duration::from_secs(1)).await;
}

async fn bad_batches_are_refused_whole(queue: &dyn Queue) {
    let eleven: Vec<BatchEntry> = (0..11).map(|i| entry(&format!("m{i}"), None)).collect();
    let too_big: Vec<BatchEntry> = (0..2)
        .map(|_| entry(&"x".repeat(130 * 1024), None))
        .collect();
    for bad in [
        vec![],
        eleven,
        too_big,
        vec![entry("ok", None), entry("", None)],
        vec![entry("ok", Some(Duration::from_secs(901)))],
    ] {
        assert!(
            matches!(
                queue.send_batch(PLAIN, &bad).await,
                Err(PortError::Invalid(_))
            ),
            "{} entries",
            bad.len()
        );
    }
    assert!(
        drain(queue, PLAIN).await.is_empty(),
        "a refused batch sends nothing"
    );
}

/// A consumer that failed has the message back when it says, not after the queue's
/// minute; `name` is how the adapter is told the queue (a catalog name or an ARN).
async fn a_failed_message_comes_back_when_asked(queue: &dyn Queue, name: &str) {
    let id = queue.send(HELD, "try again soon", None).await.unwrap();
    let first = queue
        .receive(HELD, 1, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(first[0].id, id);
    assert!(queue
        .receive(HELD, 1, Duration::ZERO)
        .await
        .unwrap()
        .is_empty());
    queue
        .change_visibility(name, &first[0].receipt, Duration::ZERO)
        .await
        .unwrap();
    let second = queue
        .receive(HELD, 1, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(second.len(), 1, "visible again at once");
    assert_eq!(second[0].receive_count, 2);

    let asked = Instant::now();
    queue
        .change_visibility(name, &second[0].receipt, Duration::from_secs(2))
        .await
        .unwrap();
    assert!(queue
        .receive(HELD, 1, Duration::ZERO)
        .await
        .unwrap()
        .is_empty());
    let mut third = Vec::new();
    while third.is_empty() && asked.elapsed() < Duration::from_secs(10) {
        third = queue
            .receive(HELD, 1, Duration::from_secs(1))
            .await
            .unwrap();
    }
    assert_eq!(
        third.len(),
        1,
        "back after the 2 s asked for, not the minute"
    );
    assert!(asked.elapsed() + Duration::from_millis(150) >= Duration::from_secs(2));
    assert!(matches!(
        queue
            .change_visibility(name, &third[0].receipt, Duration::from_secs(12 * 3600 + 1))
            .await,
        Err(PortError::Invalid(_))
    ));
    queue.delete(HELD, &third[0].receipt).await.unwrap();
}

async fn contract(queue: &dyn Queue) {
    a_failed_message_comes_back_when_asked(queue, HELD).await;
    bad_input_is_refused(queue).await;
    bad_batches_are_refused_whole(queue).await;
    batches_deliver_each_entry_with_its_own_delay(queue).await;
    send_receive_delete(queue).await;
    unacknowledged_messages_come_back(queue).await;
    per_message_delay(queue).await;
    queue_level_delay(queue).await;
    nothing_lost_nothing_doubled(queue).await;
}

#[tokio::test]
async fn memory_adapter_meets_the_contract() {
    contract(&MemoryQueue::new(specs())).await;
}

#[tokio::test]
async fn sqs_adapter_meets_the_contract_on_moto() {
    let sdk = aws::moto_sdk().await;
    let prefix = unique("t-");
    let queue = SqsQueue::ensure_queues(&sdk, &specs(), &prefix)
        .await
        .unwrap();
    contract(&queue).await;
    // As the Lambda driver names a record's queue: by its ARN (moto's account).
    let arn = format!("arn:aws:sqs:us-east-1:123456789012:{prefix}{HELD}");
    a_failed_message_comes_back_when_asked(&queue, &arn).await;
}

#[tokio::test]
async fn memory_receive_wakes_as_soon_as_a_message_is_sent() {
    let queue = std::sync::Arc::new(MemoryQueue::new(specs()));
    let sender = queue.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        sender.send(PLAIN, "wake", None).await.unwrap();
    });
    let started = Instant::now();
    let got = queue
        .receive(PLAIN, 1, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "long poll returned late"
    );
}

#[tokio::test]
async fn sqs_that_is_down_is_unavailable() {
    let sdk = aws::unreachable_sdk().await;
    let queue = SqsQueue::new(
        &sdk,
        [(PLAIN.to_string(), "http://127.0.0.1:1/q".to_string())].into(),
    );
    let err = queue.send(PLAIN, "x", None).await.unwrap_err();
    assert!(matches!(err, PortError::Unavailable { .. }), "{err:?}");
}
