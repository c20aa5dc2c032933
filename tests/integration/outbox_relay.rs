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

    let sent = pm_events::relay_pending(&test.db, &queue, 10)
        .await
        .unwrap();
    assert_eq!(sent, 150, "two batches, 100 + 50");
    let got = received(&queue).await;
    assert_eq!(got, events);

    assert_eq!(
        pm_events::relay_pending(&test.db, &queue, 10)
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
    assert!(pm_events::relay_pending(&test.db, &broken, 10)
        .await
        .is_err());

    let queue = MemoryQueue::new(catalog::all());
    assert_eq!(
        pm_events::relay_pending(&test.db, &queue, 10)
            .await
            .unwrap(),
        3
    );
    assert_eq!(received(&queue).await, events);
}
