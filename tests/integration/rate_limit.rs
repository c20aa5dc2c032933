//! The token bucket under concurrency, on the in-process store and on DynamoDB (moto):
//! N parallel takes against a bucket of k tokens let exactly k through.

use std::sync::Arc;

use pm_auth::ratelimit;
use pm_ports::kv::{DynamoDbStore, KeyValue, MemoryKeyValue};
use pm_tests::{aws, unique};

async fn exactly_k_of_n(kv: Arc<dyn KeyValue>, k: u32, n: usize) {
    let key = unique("bucket-");
    // The clock stands still, so nothing refills during the burst.
    let now_ms = 1_800_000_000_000;
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (kv, key) = (kv.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            ratelimit::take(kv.as_ref(), &key, k, now_ms).await.unwrap()
        }));
    }
    let mut allowed = 0;
    for task in tasks {
        if task.await.unwrap().allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, k, "{n} parallel requests against {k} tokens");
}

#[tokio::test]
async fn exactly_k_pass_on_the_in_process_store() {
    exactly_k_of_n(Arc::new(MemoryKeyValue::new()), 15, 60).await;
}

#[tokio::test]
async fn exactly_k_pass_on_dynamodb() {
    let sdk = aws::moto_sdk().await;
    let store = DynamoDbStore::ensure_table(&sdk, &unique("rl-"))
        .await
        .unwrap();
    exactly_k_of_n(Arc::new(store), 15, 40).await;
}
