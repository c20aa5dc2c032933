//! The key-value port's contract, run against the in-process adapter and DynamoDB on
//! moto: conditional writes, expiry, and correctness under concurrent writers.

use std::sync::Arc;
use std::time::Duration;

use pm_ports::kv::{Advance, DynamoDbStore, Expect, KeyValue, MemoryKeyValue};
use pm_ports::PortError;
use pm_tests::{aws, unique};

async fn conditional_writes(kv: &dyn KeyValue) {
    let key = unique("cond-");
    assert_eq!(kv.get(&key).await.unwrap(), None);
    assert_eq!(
        kv.put_if(&key, "a", Expect::Absent, None).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        kv.put_if(&key, "b", Expect::Absent, None).await.unwrap(),
        None,
        "Absent fails when the item exists"
    );
    assert_eq!(
        kv.put_if(&key, "b", Expect::Version(1), None)
            .await
            .unwrap(),
        Some(2)
    );
    assert_eq!(
        kv.put_if(&key, "c", Expect::Version(1), None)
            .await
            .unwrap(),
        None,
        "a stale version fails"
    );
    let item = kv.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (item.value.as_str(), item.version, item.expires_at),
        ("b", 2, None)
    );

    kv.delete(&key).await.unwrap();
    assert_eq!(kv.get(&key).await.unwrap(), None);
    assert_eq!(
        kv.put_if(&key, "d", Expect::Version(2), None)
            .await
            .unwrap(),
        None,
        "Version fails on a missing item"
    );
    assert_eq!(
        kv.put_if(&key, "d", Expect::Absent, None).await.unwrap(),
        Some(1)
    );
    kv.delete(&key).await.unwrap();
    kv.delete(&key).await.unwrap(); // deleting a missing key is fine
}

async fn expiry(kv: &dyn KeyValue) {
    let key = unique("ttl-");
    assert_eq!(
        kv.put_if(&key, "short", Expect::Absent, Some(Duration::from_secs(1)))
            .await
            .unwrap(),
        Some(1)
    );
    let item = kv.get(&key).await.unwrap().expect("live before expiry");
    assert!(item.expires_at.is_some());
    // Expiry is in whole seconds and rounds up, so 1 s may last just under 2 s.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(kv.get(&key).await.unwrap(), None, "gone after expiry");
    assert_eq!(
        kv.put_if(&key, "again", Expect::Version(1), None)
            .await
            .unwrap(),
        None,
        "an expired item cannot be updated"
    );
    assert_eq!(
        kv.put_if(&key, "again", Expect::Absent, None)
            .await
            .unwrap(),
        Some(1),
        "an expired item counts as absent"
    );
    assert_eq!(kv.get(&key).await.unwrap().unwrap().expires_at, None);
}

/// Many tasks increment one counter with read–modify–conditional-write loops; with
/// correct conditional writes no increment is lost.
async fn concurrent_increments(kv: Arc<dyn KeyValue>) {
    let key = unique("counter-");
    let writers = 16;
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let kv = kv.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            for _attempt in 0..200 {
                let current = kv.get(&key).await.unwrap();
                let (next, expect) = match &current {
                    None => (1, Expect::Absent),
                    Some(item) => (
                        item.value.parse::<u32>().unwrap() + 1,
                        Expect::Version(item.version),
                    ),
                };
                if kv
                    .put_if(&key, &next.to_string(), expect, None)
                    .await
                    .unwrap()
                    .is_some()
                {
                    return;
                }
            }
            panic!("gave up after 200 conflicts");
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let item = kv.get(&key).await.unwrap().unwrap();
    assert_eq!(
        item.value,
        writers.to_string(),
        "every increment counted once"
    );
    assert_eq!(item.version, writers as u64);
}

async fn bad_keys(kv: &dyn KeyValue) {
    assert!(matches!(kv.get("").await, Err(PortError::Invalid(_))));
    let long = "k".repeat(1025);
    assert!(matches!(
        kv.put_if(&long, "v", Expect::Absent, None).await,
        Err(PortError::Invalid(_))
    ));
}

/// A rate cell: fresh, stepping within `ahead`, refused past it (unchanged), and
/// idle again once `now` passes it; concurrent steps are never lost.
async fn rate_cells(kv: Arc<dyn KeyValue>) {
    let key = unique("cell-");
    let ttl = Duration::from_secs(60);
    let advance = |now| {
        let (kv, key) = (kv.clone(), key.clone());
        async move { kv.advance(&key, now, 10, 30, ttl).await.unwrap() }
    };
    assert_eq!(advance(1000).await, Advance::Taken { at: 1010 });
    assert_eq!(advance(1000).await, Advance::Taken { at: 1020 });
    assert_eq!(advance(1000).await, Advance::Taken { at: 1030 });
    assert_eq!(advance(1000).await, Advance::Refused { at: 1030 });
    assert_eq!(advance(1010).await, Advance::Taken { at: 1040 });
    assert_eq!(
        advance(5000).await,
        Advance::Taken { at: 5010 },
        "an idle cell starts afresh"
    );

    let key = unique("cell-race-");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (kv, key) = (kv.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            kv.advance(&key, 0, 1, 7, ttl).await.unwrap()
        }));
    }
    let mut taken = 0;
    for task in tasks {
        if matches!(task.await.unwrap(), Advance::Taken { .. }) {
            taken += 1;
        }
    }
    assert_eq!(taken, 7, "exactly the steps that fit");
}

async fn contract(kv: Arc<dyn KeyValue>) {
    rate_cells(kv.clone()).await;
    bad_keys(kv.as_ref()).await;
    conditional_writes(kv.as_ref()).await;
    concurrent_increments(kv.clone()).await;
    expiry(kv.as_ref()).await;
}

#[tokio::test]
async fn memory_adapter_meets_the_contract() {
    contract(Arc::new(MemoryKeyValue::new())).await;
}

#[tokio::test]
async fn dynamodb_adapter_meets_the_contract_on_moto() {
    let sdk = aws::moto_sdk().await;
    let store = DynamoDbStore::ensure_table(&sdk, &unique("kv-"))
        .await
        .unwrap();
    contract(Arc::new(store)).await;
}

#[tokio::test]
async fn dynamodb_that_is_down_is_unavailable() {
    let sdk = aws::unreachable_sdk().await;
    let err = DynamoDbStore::new(&sdk, "t").get("k").await.unwrap_err();
    assert!(matches!(err, PortError::Unavailable { .. }), "{err:?}");
}
