//! `Idempotency-Key`: replay, mismatch, in flight and expiry, on both key-value adapters
//! (in-process and DynamoDB on moto), and over HTTP: a retried send never sends twice.

use std::time::Duration;

use http::StatusCode;
use pm_auth::idempotency::{Begin, Idempotency, REPLAYED_HEADER};
use pm_domain::ApiKeyId;
use pm_http::{ApiError, Body, Request, Response};
use pm_ports::kv::{DynamoDbStore, KeyValue, MemoryKeyValue};
use pm_tests::mail::{message, EMAILS, SEND};
use pm_tests::system::Sys;
use pm_tests::{aws, unique};
use reqwest::Method;
use serde_json::json;

fn post(body: &str) -> Request {
    http::Request::builder()
        .method("POST")
        .uri("/api/v1/contacts")
        .header("idempotency-key", "k")
        .body(Body::Text(body.to_string()))
        .unwrap()
}

fn created(body: &str) -> Result<Response<Body>, ApiError> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = StatusCode::CREATED;
    response
        .headers_mut()
        .insert("location", "/api/v1/contacts/1".parse().unwrap());
    response
        .headers_mut()
        .insert("x-request-id", "first".parse().unwrap());
    Ok(response)
}

async fn run(
    idem: &Idempotency<'_>,
    key_id: ApiKeyId,
    key: &str,
    body: &str,
) -> Result<Begin, ApiError> {
    idem.begin(key_id, key, &post(body)).await
}

async fn behaves(kv: &dyn KeyValue) {
    let idem = Idempotency::new(kv).with_windows(Duration::from_secs(2), Duration::from_secs(1));
    let key_id = ApiKeyId::random();
    let key = unique("idem-");

    // First use: the request runs; while it runs, a twin is 409 and another body 422.
    let Ok(Begin::Run(claim)) = run(&idem, key_id, &key, "{\"a\":1}").await else {
        panic!("first use runs")
    };
    let twin = run(&idem, key_id, &key, "{\"a\":1}").await.unwrap_err();
    assert_eq!(
        (twin.status.as_u16(), twin.code),
        (409, "idempotency_key_in_flight")
    );
    let other = run(&idem, key_id, &key, "{\"a\":2}").await.unwrap_err();
    assert_eq!(
        (other.status.as_u16(), other.code),
        (422, "idempotency_key_reused")
    );

    // Done: the same request replays the response (status, body, location), marked.
    idem.finish(claim, &created("{\"id\":1}")).await;
    let Ok(Begin::Replay(replayed)) = run(&idem, key_id, &key, "{\"a\":1}").await else {
        panic!("replay")
    };
    assert_eq!(replayed.status(), StatusCode::CREATED);
    assert_eq!(replayed.headers()["location"], "/api/v1/contacts/1");
    assert_eq!(replayed.headers()[REPLAYED_HEADER], "true");
    assert!(
        replayed.headers().get("x-request-id").is_none(),
        "the replaying request has its own id"
    );
    assert_eq!(replayed.body(), &Body::Text("{\"id\":1}".into()));
    let other = run(&idem, key_id, &key, "{\"a\":2}").await.unwrap_err();
    assert_eq!(other.code, "idempotency_key_reused");

    // Keys are per API key: another key's same Idempotency-Key is a new request.
    assert!(matches!(
        run(&idem, ApiKeyId::random(), &key, "{\"a\":2}").await,
        Ok(Begin::Run(_))
    ));

    // A failed request releases its key: the client fixes it and retries with the same key.
    let failing = unique("idem-");
    let Ok(Begin::Run(claim)) = run(&idem, key_id, &failing, "{}").await else {
        panic!()
    };
    idem.finish(claim, &Err(ApiError::validation(vec![]))).await;
    assert!(matches!(
        run(&idem, key_id, &failing, "{\"fixed\":1}").await,
        Ok(Begin::Run(_))
    ));

    // Expiry: a kept response is gone after its window; a crashed request's claim lapses.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert!(
        matches!(
            run(&idem, key_id, &key, "{\"a\":1}").await,
            Ok(Begin::Run(_))
        ),
        "kept response expired"
    );
    assert!(
        matches!(
            run(&idem, key_id, &failing, "{\"fixed\":1}").await,
            Ok(Begin::Run(_))
        ),
        "in-flight claim lapsed"
    );
}

#[tokio::test]
async fn idempotency_on_the_in_process_adapter() {
    behaves(&MemoryKeyValue::new()).await;
}

#[tokio::test]
async fn idempotency_on_dynamodb() {
    let sdk = aws::moto_sdk().await;
    let store = DynamoDbStore::ensure_table(&sdk, &unique("idem-"))
        .await
        .unwrap();
    behaves(&store).await;
}

#[tokio::test]
async fn a_store_that_is_down_refuses_before_anything_runs() {
    let sdk = aws::unreachable_sdk().await;
    let store = DynamoDbStore::new(&sdk, "t");
    let err = Idempotency::new(&store)
        .begin(ApiKeyId::random(), "k", &post("{}"))
        .await
        .unwrap_err();
    assert_eq!(err.status.as_u16(), 503);
}

#[tokio::test]
async fn a_retried_send_replays_and_never_sends_twice() {
    let sys = Sys::start().await;
    let body = message("ada@example.org", json!({}));
    let call = |body: serde_json::Value, key: &'static str| {
        sys.http
            .post(sys.url(SEND))
            .bearer_auth(sys.key())
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let first = call(body.clone(), "order-42").await.unwrap();
    assert_eq!(first.status(), 202);
    assert!(first.headers().get(REPLAYED_HEADER).is_none());
    let first: serde_json::Value = first.json().await.unwrap();
    let again = call(body.clone(), "order-42").await.unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()[REPLAYED_HEADER], "true");
    assert!(
        again.headers().get("x-ratelimit-limit").is_some(),
        "the replay is still rate limited"
    );
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    let changed = call(message("bob@example.org", json!({})), "order-42")
        .await
        .unwrap();
    assert_eq!(changed.status(), 422);
    let bad = call(body.clone(), "").await.unwrap();
    assert_eq!(bad.status(), 400);
    let (_, _, page) = sys.call(Method::GET, EMAILS, sys.key(), None).await;
    assert_eq!(
        page["data"].as_array().unwrap().len(),
        1,
        "one email for three sends with one key"
    );

    // The email row itself is keyed too: with the store's record lost (as when the
    // store failed after the commit), the retry still finds the first email.
    let client = sys.running.app.db.client().await.unwrap();
    let key_id: uuid::Uuid = client
        .query_one("SELECT api_key_id FROM emails LIMIT 1", &[])
        .await
        .unwrap()
        .get(0);
    let record = format!("idem:{key_id}:{}", sha256_hex("order-42"));
    sys.running.app.kv.delete(&record).await.unwrap();
    let after_loss = call(body, "order-42").await.unwrap();
    assert_eq!(after_loss.status(), 202);
    let after_loss: serde_json::Value = after_loss.json().await.unwrap();
    assert_eq!(after_loss["id"], first["id"]);
    let (_, _, page) = sys.call(Method::GET, EMAILS, sys.key(), None).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    sys.stop().await;
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
