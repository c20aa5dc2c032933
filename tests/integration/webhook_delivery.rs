//! Webhook delivery end to end on the local runtime: events from real API calls reach a
//! receiver on a loopback port, signed; retries keep their schedule; replay, recover,
//! rotation, 410, timeouts and filters behave as documented.

use std::time::Duration;

use pm_tests::eventually;
use pm_tests::receiver::{Receiver, Reply};
use pm_tests::system::Sys;
use pm_tests::webhooks::{
    contact, create, deliveries, delivery, subscribe, verify, verify_with_reference_library,
    webhook, WEBHOOKS,
};
use reqwest::Method;
use serde_json::{json, Value};

async fn delivery_status(sys: &Sys, webhook: &str, status: &str, n: usize) -> Vec<Value> {
    eventually(
        &format!("{n} deliveries {status}"),
        Duration::from_secs(60),
        || async {
            let all = deliveries(sys, webhook).await;
            (all.len() == n && all.iter().all(|d| d["status"] == status)).then_some(all)
        },
    )
    .await
}

#[tokio::test]
async fn deliveries_are_signed_and_verify_with_the_reference_library() {
    let sys = Sys::start().await;
    let receiver = Receiver::start().await;
    let (id, secret) = subscribe(
        &sys,
        &receiver.url("/hooks/pm"),
        &["contact.created", "contact.deleted"],
    )
    .await;
    let ada = contact(&sys, "ada@example.com").await;
    let contact_path = format!("/api/v1/contacts/{}", ada["id"].as_str().unwrap());
    // Not subscribed: no delivery for the update.
    sys.call(
        Method::PUT,
        &contact_path,
        sys.key(),
        Some(json!({"email": "ada@example.com", "first_name": "Ada"})),
    )
    .await;
    sys.call(Method::DELETE, &contact_path, sys.key(), None)
        .await;
    let got = receiver.wait_for(2, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 2, "only the subscribed types");

    // Deliveries run concurrently: they may arrive in either order.
    let of_type = |t: &str| got.iter().find(|r| r.json()["type"] == t).unwrap();
    let first = of_type("contact.created");
    assert_eq!(first.path, "/hooks/pm");
    assert_eq!(first.header("content-type"), "application/json");
    assert!(first
        .header("user-agent")
        .starts_with("PenguinMails-Webhooks/"));
    let sent_at: i64 = first.header("webhook-timestamp").parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - sent_at).abs() < 30);
    let body = first.json();
    assert_eq!(body["type"], "contact.created");
    assert_eq!(body["data"]["email"], "ada@example.com");
    assert!(body["id"].is_string() && body["created_at"].is_string());
    assert_eq!(
        of_type("contact.deleted").json()["data"]["email"],
        "ada@example.com"
    );

    for received in &got {
        verify(&secret, received).unwrap();
        assert!(verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", received).is_err());
    }
    let reference = verify_with_reference_library(&[(&secret, &got[0]), (&secret, &got[1])]).await;
    assert_eq!(reference, [Ok(()), Ok(())]);
    // The reference check can fail: a body changed in transit does not verify.
    let mut tampered = first.clone();
    tampered.body = tampered.body.replace_ascii("ada@", "eve@");
    assert!(verify_with_reference_library(&[(&secret, &tampered)]).await[0].is_err());

    let log = delivery_status(&sys, &id, "succeeded", 2).await;
    let ids: Vec<&str> = log.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert!(
        ids.contains(&first.header("webhook-id")),
        "webhook-id is the delivery id"
    );
    let detail = delivery(&sys, &id, first.header("webhook-id")).await;
    assert_eq!(detail["attempts"][0]["status_code"], 200);
    assert_eq!(detail["attempts"][0]["succeeded"], true);
    assert_eq!(detail["payload"]["data"]["email"], "ada@example.com");
    assert!(detail["attempts"][0]["response_excerpt"]
        .as_str()
        .unwrap()
        .contains("received"));

    let (_, _, stats) = sys
        .call(
            Method::GET,
            &format!("{WEBHOOKS}/{id}/stats?window=1h"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(
        (stats["attempts"].as_i64(), stats["success_rate"].as_f64()),
        (Some(2), Some(1.0))
    );
    assert_eq!(stats["consecutive_failures"], 0);
    assert!(stats["p95_response_ms"].is_number());
    sys.stop().await;
}

trait ReplaceAscii {
    fn replace_ascii(&self, from: &str, to: &str) -> Vec<u8>;
}

impl ReplaceAscii for Vec<u8> {
    fn replace_ascii(&self, from: &str, to: &str) -> Vec<u8> {
        String::from_utf8(self.clone())
            .unwrap()
            .replace(from, to)
            .into_bytes()
    }
}

/// The one test that waits on the real clock: the roadmap's five retries after 1, 2, 4,
/// 8 and 16 s (about 31 s), then give-up, then a manual retry.
#[tokio::test]
async fn retries_keep_the_schedule_then_give_up_and_a_retry_replays() {
    let sys = Sys::start().await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(500));
    let (id, _) = subscribe(&sys, &receiver.url("/h"), &["contact.created"]).await;
    contact(&sys, "retry@example.com").await;
    let got = receiver.wait_for(6, Duration::from_secs(50)).await;
    let gaps: Vec<f64> = got
        .windows(2)
        .map(|w| (w[1].at - w[0].at).as_secs_f64())
        .collect();
    for (gap, expected) in gaps.iter().zip([1.0, 2.0, 4.0, 8.0, 16.0]) {
        assert!(
            (gap - expected).abs() <= expected * 0.2,
            "gaps {gaps:?}: {gap} is not {expected} ± 20 %"
        );
    }
    let webhook_id = got[0].header("webhook-id").to_string();
    assert!(got.iter().all(|r| r.header("webhook-id") == webhook_id));
    let failed = delivery_status(&sys, &id, "failed", 1).await;
    assert_eq!(failed[0]["attempts"], 6);
    assert_eq!(failed[0]["last_status_code"], 500);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        receiver.received().len(),
        6,
        "nothing after the fifth retry"
    );
    let detail = delivery(&sys, &id, &webhook_id).await;
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 6);
    assert_eq!(detail["attempts"][5]["error_kind"], "http_status");

    receiver.always(Reply::Status(204));
    let (status, _, replayed) = sys
        .call(
            Method::POST,
            &format!("{WEBHOOKS}/{id}/deliveries/{webhook_id}/retry"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(status, 202, "{replayed}");
    let got = receiver.wait_for(7, Duration::from_secs(10)).await;
    assert_eq!(
        got[6].header("webhook-id"),
        webhook_id,
        "the same delivery id"
    );
    let done = delivery_status(&sys, &id, "succeeded", 1).await;
    assert_eq!(done[0]["attempts"], 7);
    let (_, _, stats) = sys
        .call(
            Method::GET,
            &format!("{WEBHOOKS}/{id}/stats"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(
        (stats["attempts"].as_i64(), stats["failed"].as_i64()),
        (Some(7), Some(6))
    );
    sys.stop().await;
}

/// Shortened retry delays, so failing takes milliseconds.
async fn fast() -> Sys {
    Sys::start_with(&[
        ("WEBHOOK_RETRY_SCHEDULE_MS", "20,20,20,20,20".into()),
        ("WEBHOOK_TIMEOUT_MS", "400".into()),
    ])
    .await
}

#[tokio::test]
async fn recover_resends_every_failed_delivery_under_its_own_id() {
    let sys = fast().await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(502));
    let (id, _) = subscribe(&sys, &receiver.url("/h"), &["contact.created"]).await;
    contact(&sys, "a@example.com").await;
    contact(&sys, "b@example.com").await;
    let failed = delivery_status(&sys, &id, "failed", 2).await;
    let mut failed_ids: Vec<String> = failed
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(receiver.received().len(), 12);

    let (status, _, problem) = sys
        .call(
            Method::POST,
            &format!("{WEBHOOKS}/{id}/recover"),
            sys.key(),
            Some(json!({"since": "2999-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["errors"][0]["field"].as_str()),
        (422, Some("since"))
    );

    receiver.always(Reply::Status(200));
    let since = (chrono::Utc::now() - chrono::TimeDelta::hours(1)).to_rfc3339();
    let (status, _, recovered) = sys
        .call(
            Method::POST,
            &format!("{WEBHOOKS}/{id}/recover"),
            sys.key(),
            Some(json!({"since": since})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), recovered["recovered"].as_i64()),
        (202, Some(2))
    );
    let got = receiver.wait_for(14, Duration::from_secs(10)).await;
    let mut resent: Vec<String> = got[12..]
        .iter()
        .map(|r| r.header("webhook-id").to_string())
        .collect();
    resent.sort();
    failed_ids.sort();
    assert_eq!(resent, failed_ids);
    delivery_status(&sys, &id, "succeeded", 2).await;
    sys.stop().await;
}

/// Makes contacts until one's delivery carries `signatures` signatures (the dispatcher
/// caches secrets for a few seconds), and returns that delivery.
async fn signed_by(
    sys: &Sys,
    receiver: &Receiver,
    n: &mut usize,
    signatures: usize,
) -> pm_tests::receiver::Received {
    eventually(
        &format!("a delivery with {signatures} signature(s)"),
        Duration::from_secs(15),
        || {
            *n += 1;
            let email = format!("r{n}@example.com");
            async move {
                let before = receiver.received().len();
                contact(sys, &email).await;
                let got = receiver.wait_for(before + 1, Duration::from_secs(10)).await;
                let last = got.last().unwrap().clone();
                (last.header("webhook-signature").split(' ').count() == signatures).then_some(last)
            }
        },
    )
    .await
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends() {
    let sys = Sys::start().await;
    let receiver = Receiver::start().await;
    let (id, old) = subscribe(&sys, &receiver.url("/h"), &["contact.created"]).await;
    let (status, _, rotated) = sys
        .call(
            Method::POST,
            &format!("{WEBHOOKS}/{id}/rotate-secret"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let until: chrono::DateTime<chrono::Utc> = rotated["previous_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (until - chrono::Utc::now() - chrono::TimeDelta::hours(24))
            .num_seconds()
            .abs()
            < 60
    );

    let mut n = 0;
    let both = signed_by(&sys, &receiver, &mut n, 2).await;
    verify(&old, &both).unwrap();
    verify(&new, &both).unwrap();
    assert_eq!(
        verify_with_reference_library(&[(&old, &both), (&new, &both)]).await,
        [Ok(()), Ok(())]
    );

    // End the overlap (as 24 hours would): the old secret stops signing.
    let tenant = sys.running.tenant.id;
    let path = pm_webhook_delivery::secrets::path(tenant, id.parse().unwrap());
    let data = pm_ports::secrets::SecretData::new()
        .with("current", new.clone())
        .with("previous", old.clone())
        .with(
            "previous_expires_at",
            (chrono::Utc::now() - chrono::TimeDelta::seconds(1)).to_rfc3339(),
        );
    sys.running.app.secrets.put(&path, &data).await.unwrap();
    let one = signed_by(&sys, &receiver, &mut n, 1).await;
    verify(&new, &one).unwrap();
    assert!(verify(&old, &one).is_err());
    let (_, _, shown) = sys
        .call(
            Method::GET,
            &format!("{WEBHOOKS}/{id}/secret"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(
        (
            shown["secret"].as_str(),
            shown["previous_expires_at"].clone()
        ),
        (Some(new.as_str()), Value::Null)
    );
    sys.stop().await;
}

#[tokio::test]
async fn gone_disables_the_webhook_until_it_is_enabled_again() {
    let sys = fast().await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(410));
    let (id, _) = subscribe(&sys, &receiver.url("/h"), &["contact.created"]).await;
    contact(&sys, "gone@example.com").await;
    let disabled = eventually("the webhook disabled", Duration::from_secs(10), || async {
        let w = webhook(&sys, &id).await;
        (w["state"] == "disabled").then_some(w)
    })
    .await;
    assert_eq!(disabled["enabled"], false);
    assert!(
        disabled["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410"),
        "{disabled}"
    );
    assert_eq!(receiver.received().len(), 1, "no retry after 410");
    contact(&sys, "later@example.com").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "a disabled webhook gets nothing"
    );
    assert_eq!(deliveries(&sys, &id).await.len(), 1);

    receiver.always(Reply::Status(200));
    let (_, _, enabled) = sys
        .call(
            Method::PATCH,
            &format!("{WEBHOOKS}/{id}"),
            sys.key(),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(
        (
            enabled["state"].as_str(),
            enabled["disabled_reason"].clone()
        ),
        (Some("healthy"), Value::Null)
    );
    contact(&sys, "back@example.com").await;
    receiver.wait_for(2, Duration::from_secs(10)).await;
    sys.stop().await;
}

#[tokio::test]
async fn hangs_resets_and_redirects_are_failed_attempts_of_their_kind() {
    let sys = fast().await;
    let receiver = Receiver::start().await;
    receiver.once(Reply::Hang(Duration::from_secs(3)));
    receiver.once(Reply::Reset);
    receiver.once(Reply::Redirect(receiver.url("/elsewhere")));
    receiver.once(Reply::RetryAfter(429, "0".into()));
    let (id, _) = subscribe(&sys, &receiver.url("/h"), &["contact.created"]).await;
    contact(&sys, "slow@example.com").await;
    let done = delivery_status(&sys, &id, "succeeded", 1).await;
    let detail = delivery(&sys, &id, done[0]["id"].as_str().unwrap()).await;
    let kinds: Vec<Value> = detail["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| json!([a["error_kind"], a["status_code"]]))
        .collect();
    assert_eq!(
        kinds,
        [
            json!(["timeout", null]),
            kinds[1].clone(),
            json!(["http_status", 302]),
            json!(["http_status", 429]),
            json!([null, 200]),
        ],
        "{detail}"
    );
    assert!(
        ["connect", "other"].contains(&kinds[1][0].as_str().unwrap()),
        "{kinds:?}"
    );
    assert!(
        detail["attempts"][0]["response_ms"].as_i64().unwrap() < 2000,
        "the timeout cut it short"
    );
    assert!(
        receiver.received().iter().all(|r| r.path == "/h"),
        "redirects are not followed"
    );
    sys.stop().await;
}

#[tokio::test]
async fn filters_pick_the_events_a_webhook_receives() {
    let sys = Sys::start().await;
    let vip = Receiver::start().await;
    let everything = Receiver::start().await;
    let workspace = "0b7e3a2c-1d4f-4a6b-8c9d-0e1f2a3b4c5d";
    create(&sys, json!({"url": vip.url("/vip"), "event_types": ["contact.created"], "filters": {"tags": ["vip"], "workspace_ids": [workspace]}})).await;
    create(
        &sys,
        json!({"url": everything.url("/all"), "event_types": ["*"]}),
    )
    .await;
    for (email, tags, ws) in [
        ("1@example.com", json!(["vip"]), json!(workspace)),
        ("2@example.com", json!(["vip"]), Value::Null),
        ("3@example.com", json!([]), json!(workspace)),
    ] {
        let (status, _, _) = sys
            .call(
                Method::POST,
                "/api/v1/contacts",
                sys.key(),
                Some(json!({"email": email, "tags": tags, "workspace_id": ws})),
            )
            .await;
        assert_eq!(status, 201);
    }
    everything.wait_for(3, Duration::from_secs(10)).await;
    let got = vip.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        vip.received().len(),
        1,
        "only the vip contact in the workspace"
    );
    assert_eq!(got[0].json()["data"]["email"], "1@example.com");
    sys.stop().await;
}

#[tokio::test]
async fn an_event_too_large_for_the_queue_is_set_aside_and_blocks_nothing() {
    let sys = Sys::start().await;
    let receiver = Receiver::start().await;
    subscribe(
        &sys,
        &receiver.url("/h"),
        &["contact.created", "campaign.started"],
    )
    .await;
    // A campaign whose one step is 600 KB of HTML: its start event stays small.
    let (_, _, c) = sys
        .call(
            Method::POST,
            "/api/v1/contacts",
            sys.key(),
            Some(json!({"email": "big@example.com"})),
        )
        .await;
    let (status, _, campaign) = sys
        .call(
            Method::POST,
            "/api/v1/campaigns",
            sys.key(),
            Some(json!({
                "name": "Big",
                "sender": {"from_name": "A", "from_email": "a@example.com"},
                "steps": [{"subject": "Hi", "html": "x".repeat(600 * 1024)}],
                "audience": {"contact_ids": [c["id"]]}
            })),
        )
        .await;
    assert_eq!(status, 201, "{campaign}");
    let started = sys
        .call(
            Method::POST,
            &format!(
                "/api/v1/campaigns/{}/start",
                campaign["id"].as_str().unwrap()
            ),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(started.0, 200);
    // And one event that cannot fit, written past the API's own limits.
    let client = sys.running.app.db.client().await.unwrap();
    let poison: uuid::Uuid = client
        .query_one(
            "INSERT INTO event_outbox (tenant_id, event_type, payload) VALUES ($1, 'contact.created', $2) RETURNING id",
            &[&sys.running.tenant.id, &json!({"id": "poison", "blob": "x".repeat(300 * 1024)})],
        )
        .await
        .unwrap()
        .get(0);
    contact(&sys, "after@example.com").await;
    let got = receiver.wait_for(3, Duration::from_secs(15)).await;
    let types: Vec<String> = got
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_string())
        .collect();
    assert!(types.contains(&"campaign.started".to_string()), "{types:?}");
    let started = got
        .iter()
        .find(|r| r.json()["type"] == "campaign.started")
        .unwrap();
    assert!(
        started.body.len() < 16 * 1024,
        "{} bytes",
        started.body.len()
    );
    assert_eq!(started.json()["data"]["step_count"], 1);
    assert!(
        got.iter()
            .any(|r| r.json()["data"]["email"] == "after@example.com"),
        "later events flow"
    );
    let row = client
        .query_one(
            "SELECT publish_failed_at IS NOT NULL, publish_error, published_at IS NULL FROM event_outbox WHERE id = $1",
            &[&poison],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0) && row.get::<_, bool>(2));
    assert!(row.get::<_, String>(1).contains("bytes"));
    sys.stop().await;
}

/// A webhook failing for the whole disable period is disabled with the reason recorded
/// (here the period is zero, so the first failure ends it; production waits 5 days).
#[tokio::test]
async fn a_webhook_failing_for_the_disable_period_is_disabled() {
    let sys = Sys::start_with(&[
        ("WEBHOOK_RETRY_SCHEDULE_MS", "20,20,20,20,20".into()),
        ("WEBHOOK_DISABLE_AFTER_SECS", "0".into()),
    ])
    .await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(500));
    let (id, _) = subscribe(&sys, &receiver.url("/h"), &["contact.created"]).await;
    contact(&sys, "down@example.com").await;
    let disabled = eventually("the webhook disabled", Duration::from_secs(10), || async {
        let w = webhook(&sys, &id).await;
        (w["state"] == "disabled").then_some(w)
    })
    .await;
    assert_eq!(disabled["enabled"], false);
    assert!(
        disabled["disabled_reason"]
            .as_str()
            .unwrap()
            .starts_with("every attempt has failed since"),
        "{disabled}"
    );
    sys.stop().await;
}
