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

/// A DynamoDB that cannot be reached: requests are limited per instance (the tenant's
/// 8 per minute over 4 instances: 2 here), never let through unlimited.
#[tokio::test]
async fn a_key_value_outage_does_not_lift_the_limit() {
    let sys = pm_tests::system::Sys::start_with(&[
        ("KV_BACKEND", "dynamodb".into()),
        ("KV_TABLE", "unreachable".into()),
        (
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", pm_tests::peers::free_port()),
        ),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "x".into()),
        ("AWS_SECRET_ACCESS_KEY", "x".into()),
        ("AWS_MAX_ATTEMPTS", "1".into()),
    ])
    .await;
    let client = sys.running.app.db.client().await.unwrap();
    client
        .execute(
            "UPDATE tenants SET rate_limit_per_minute = 8 WHERE id = $1",
            &[&sys.running.tenant.id],
        )
        .await
        .unwrap();
    let statuses: Vec<u16> = {
        let mut out = Vec::new();
        for _ in 0..4 {
            out.push(sys.me(sys.key()).await.0.as_u16());
        }
        out
    };
    assert_eq!(statuses, [200, 200, 429, 429]);
    sys.stop().await;
}

/// Keys of one tenant share the plan's rate: a second key does not double it.
#[tokio::test]
async fn all_keys_of_a_tenant_share_its_rate() {
    let sys = pm_tests::system::Sys::start().await;
    let client = sys.running.app.db.client().await.unwrap();
    client
        .execute(
            "UPDATE tenants SET rate_limit_per_minute = 4 WHERE id = $1",
            &[&sys.running.tenant.id],
        )
        .await
        .unwrap();
    let second =
        pm_tests::system::secret(&sys.create_key(sys.owner(), "second", &["send_email"]).await);
    let mut allowed = 0;
    for key in [
        sys.key(),
        second.as_str(),
        sys.key(),
        second.as_str(),
        sys.key(),
        second.as_str(),
    ] {
        if sys.me(key).await.0 == 200 {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 4, "the tenant's 4, not 4 per key");
    sys.stop().await;
}
