//! The outbox relay against real PostgreSQL: committed events reach the events queue
//! once; a queue failure loses nothing.

use std::time::Duration;

use pm_domain::{Event, EventType, Plan};
use pm_ports::queue::{catalog, MemoryQueue, Queue, QueueSpec};
use pm_store::outbox;
use pm_store::tenants;
use pm_tests::db::TestDb;

async fn record(test: &TestDb, n: usize) -> Vec<Event> {
    let mut client = test.db.client().await.unwrap();
    let tenant = tenants::create(&**client, "Acme", Plan::Pro).await.unwrap();
    let tx = client.transaction().await.unwrap();
    let mut events = Vec::new();
    for i in 0..n {
        let data = serde_json::json!({ "n": i });
        events.push(
            outbox::record(&tx, tenant.id, EventType::ContactCreated, &data)
                .await
                .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    events
}

async fn received(queue: &dyn Queue) -> Vec<Event> {
    let mut all = Vec::new();
    loop {
        let batch = queue
            .receive(catalog::EVENTS.name(), 10, Duration::ZERO)
            .await
            .unwrap();
        if batch.is_empty() {
            return all;
        }
        for m in batch {
            all.push(serde_json::from_str(&m.body).unwrap());
            queue
                .delete(catalog::EVENTS.name(), &m.receipt)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn committed_events_are_published_once_in_order() {
    let test = TestDb::new().await;
    let events = record(&test, 150).await;
    let queue = MemoryQueue::new(catalog::all());

    let sent = pm_events::relay_pending(&test.db, &queue, 10, None)
        .await
        .unwrap();
    assert_eq!(sent, 150, "two batches, 100 + 50");
    let got = received(&queue).await;
    assert_eq!(got, events);

    assert_eq!(
        pm_events::relay_pending(&test.db, &queue, 10, None)
            .await
            .unwrap(),
        0
    );
    assert!(received(&queue).await.is_empty(), "nothing is sent twice");
}

#[tokio::test]
async fn a_queue_failure_leaves_events_for_the_next_run() {
    let test = TestDb::new().await;
    let events = record(&test, 3).await;
    // A queue set without the events queue: every send fails.
    let broken = MemoryQueue::new([QueueSpec::new("something-else")]);
    assert!(pm_events::relay_pending(&test.db, &broken, 10, None)
        .await
        .is_err());

    let queue = MemoryQueue::new(catalog::all());
    assert_eq!(
        pm_events::relay_pending(&test.db, &queue, 10, None)
            .await
            .unwrap(),
        3
    );
    assert_eq!(received(&queue).await, events);
}

/// A run whose deadline has come starts no batch, and what it left is the next run's:
/// nothing half-sent, nothing lost.
#[tokio::test]
async fn a_relay_at_its_deadline_starts_no_batch_and_the_next_run_goes_on() {
    let test = TestDb::new().await;
    let events = record(&test, 150).await;
    let queue = MemoryQueue::new(catalog::all());
    let now = std::time::Instant::now();
    let sent = pm_events::relay_pending(&test.db, &queue, 10, Some(now))
        .await
        .unwrap();
    assert_eq!(sent, 0);
    assert!(received(&queue).await.is_empty());
    let later = now + Duration::from_secs(60);
    let sent = pm_events::relay_pending(&test.db, &queue, 10, Some(later))
        .await
        .unwrap();
    assert_eq!(sent, 150);
    assert_eq!(received(&queue).await, events);
}

/// The relay's lag metric (the alarm's input) says how long the oldest waiting event has
/// waited, as CloudWatch's embedded metric format, and 0 once nothing waits.
#[tokio::test]
async fn the_lag_metric_is_the_oldest_waiting_events_age() {
    let test = TestDb::new().await;
    record(&test, 3).await;
    let client = test.db.client().await.unwrap();
    client
        .execute(
            "UPDATE event_outbox SET occurred_at = now() - interval '10 minutes'",
            &[],
        )
        .await
        .unwrap();
    let line = |text: String| -> serde_json::Value { serde_json::from_str(&text).unwrap() };
    let waiting = line(pm_events::lag_metric_line(&test.db, 1).await.unwrap());
    let age = waiting[pm_events::LAG_METRIC].as_f64().unwrap();
    assert!((599.0..700.0).contains(&age), "{waiting}");
    let declared = &waiting["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(declared["Namespace"], pm_events::METRIC_NAMESPACE);
    assert_eq!(declared["Metrics"][0]["Name"], pm_events::LAG_METRIC);

    let queue = MemoryQueue::new(catalog::all());
    pm_events::relay_pending(&test.db, &queue, 10, None)
        .await
        .unwrap();
    let idle = line(pm_events::lag_metric_line(&test.db, 2).await.unwrap());
    assert_eq!(idle[pm_events::LAG_METRIC], 0.0);
}

/// The trace of the request that recorded an event goes with it through the outbox: the
/// relay sends it as the message's `AWSTraceHeader`, so X-Ray links the API call to the
/// consumers; an event recorded outside a trace has none. moto keeps that attribute on
/// `SendMessage` but drops it on `SendMessageBatch`, so this checks the request the SQS
/// adapter makes against SQS's published JSON protocol, at a loopback endpoint.
#[tokio::test]
async fn each_event_reaches_the_queue_in_the_trace_that_recorded_it() {
    use pm_tests::receiver::{Receiver, Reply};
    let test = TestDb::new().await;
    let events = record(&test, 2).await;
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    // As `outbox::record` stores it when `_X_AMZN_TRACE_ID` is set (in a Lambda
    // invocation; the binaries' emulator test goes through that path).
    let client = test.db.client().await.unwrap();
    client
        .execute(
            "UPDATE event_outbox SET trace_header = $2 WHERE id = $1",
            &[&events[0].id, &trace],
        )
        .await
        .unwrap();
    let sqs = Receiver::start().await;
    sqs.always(Reply::Json(
        200,
        r#"{"Successful":[{"Id":"0","MessageId":"m0","MD5OfMessageBody":"-"},{"Id":"1","MessageId":"m1","MD5OfMessageBody":"-"}],"Failed":[]}"#.into(),
    ));
    let sdk =
        pm_tests::aws::sdk_with_timeouts(&sqs.url(""), &pm_config::Env::fixed::<&str, &str>([]))
            .await;
    let urls = [(
        catalog::EVENTS.name().to_string(),
        sqs.url("/123456789012/events"),
    )];
    let queue = pm_ports::queue::SqsQueue::new(&sdk, urls.into_iter().collect());
    assert_eq!(
        pm_events::relay_pending(&test.db, &queue, 1, None)
            .await
            .unwrap(),
        2
    );

    let request = &sqs.received()[0];
    assert_eq!(request.header("x-amz-target"), "AmazonSQS.SendMessageBatch");
    let entries = request.json()["Entries"].as_array().unwrap().clone();
    let traces: Vec<(Event, Option<String>)> = entries
        .iter()
        .map(|entry| {
            let event = serde_json::from_str(entry["MessageBody"].as_str().unwrap()).unwrap();
            let header = &entry["MessageSystemAttributes"]["AWSTraceHeader"];
            if !header.is_null() {
                assert_eq!(header["DataType"], "String");
            }
            (event, header["StringValue"].as_str().map(String::from))
        })
        .collect();
    let mut untraced = events.clone();
    untraced.iter_mut().for_each(|e| e.trace_header = None);
    assert_eq!(
        traces,
        vec![
            (untraced[0].clone(), Some(trace.to_string())),
            (untraced[1].clone(), None)
        ]
    );
    assert!(
        !entries[0]["MessageBody"]
            .as_str()
            .unwrap()
            .contains("Root="),
        "not in the body"
    );
}
