//! Helpers for webhook tests: create webhooks and contacts, verify deliveries.

use std::process::Stdio;

use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::receiver::Received;
use crate::system::Sys;

pub const WEBHOOKS: &str = "/api/v1/webhooks";

/// Creates a webhook; returns it with its `secret`.
pub async fn create(sys: &Sys, body: Value) -> Value {
    let (status, _, created) = sys
        .call(Method::POST, WEBHOOKS, sys.key(), Some(body))
        .await;
    assert_eq!(status, 201, "{created}");
    created
}

/// A webhook to `url` for these event types.
pub async fn subscribe(sys: &Sys, url: &str, event_types: &[&str]) -> (String, String) {
    let created = create(sys, json!({"url": url, "event_types": event_types})).await;
    (
        created["id"].as_str().unwrap().to_string(),
        created["secret"].as_str().unwrap().to_string(),
    )
}

pub async fn contact(sys: &Sys, email: &str) -> Value {
    let (status, _, created) = sys
        .call(
            Method::POST,
            "/api/v1/contacts",
            sys.key(),
            Some(json!({"email": email, "tags": ["vip"]})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created
}

/// Checks a delivery's signature with this crate's receiver-side implementation.
pub fn verify(secret: &str, received: &Received) -> Result<(), String> {
    pm_webhook_delivery::verify::verify(
        secret,
        received.header("webhook-id"),
        received.header("webhook-timestamp"),
        received.header("webhook-signature"),
        &received.body,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|e| e.to_string())
}

/// Checks deliveries with the Standard Webhooks reference library (Python, from the
/// project venv): one `Ok` or `Err` per (secret, delivery).
pub async fn verify_with_reference_library(
    deliveries: &[(&str, &Received)],
) -> Vec<Result<(), String>> {
    let input: Vec<Value> = deliveries
        .iter()
        .map(|(secret, r)| {
            json!({
                "secret": secret,
                "headers": {
                    "webhook-id": r.header("webhook-id"),
                    "webhook-timestamp": r.header("webhook-timestamp"),
                    "webhook-signature": r.header("webhook-signature"),
                },
                "body": String::from_utf8(r.body.clone()).unwrap(),
            })
        })
        .collect();
    let script = crate::workspace_root().join("tests/support/verify_webhook.py");
    let mut child = tokio::process::Command::new(crate::peers::tool("python3"))
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<Result<(), String>> = stdout
        .lines()
        .map(|l| {
            if l == "ok" {
                Ok(())
            } else {
                Err(l.to_string())
            }
        })
        .collect();
    assert_eq!(
        lines.len(),
        deliveries.len(),
        "the verifier ran: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    lines
}

/// The webhook's deliveries, newest first.
pub async fn deliveries(sys: &Sys, webhook: &str) -> Vec<Value> {
    let (status, _, list) = sys
        .call(
            Method::GET,
            &format!("{WEBHOOKS}/{webhook}/deliveries?limit=100"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list["data"].as_array().unwrap().clone()
}

pub async fn delivery(sys: &Sys, webhook: &str, delivery: &str) -> Value {
    let (status, _, detail) = sys
        .call(
            Method::GET,
            &format!("{WEBHOOKS}/{webhook}/deliveries/{delivery}"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(status, 200, "{detail}");
    detail
}

pub async fn webhook(sys: &Sys, id: &str) -> Value {
    sys.call(Method::GET, &format!("{WEBHOOKS}/{id}"), sys.key(), None)
        .await
        .2
}
