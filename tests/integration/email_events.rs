//! What happens after sending: tracking links (opens, clicks, unsubscribes), and the
//! providers' signed reports (Postmark, Mailgun) with their effects on emails and
//! contacts. Providers' APIs are answered by a local receiver, shaped after their
//! published API references (Postmark Email API, Mailgun Messages API).

use std::time::Duration;

use hmac::{KeyInit, Mac};
use pm_tests::mail::{
    basic, body_of, header, message, postmark_system, send, set_provider, timeline, urls,
    wait_status, POSTMARK_HOOKS, SEND,
};
use pm_tests::receiver::{Receiver, Reply};
use pm_tests::system::Sys;
use pm_tests::webhooks::contact;
use reqwest::Method;
use serde_json::{json, Value};

const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

/// Backdates an email's send, so hits are not "too soon after sending" (a scanner sign).
async fn sent_a_minute_ago(sys: &Sys, id: &str) {
    let client = sys.running.app.db.client().await.unwrap();
    let id: uuid::Uuid = id.parse().unwrap();
    client
        .execute(
            "UPDATE emails SET sent_at = now() - interval '1 minute' WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
}

async fn contact_status(sys: &Sys, id: &str) -> String {
    let (_, _, c) = sys
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{id}"),
            sys.key(),
            None,
        )
        .await;
    c["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn opens_clicks_and_one_click_unsubscribes_are_recorded_from_signed_links() {
    let sys = Sys::start().await;
    let ada = contact(&sys, "ada@example.org").await;
    let contact_id = ada["id"].as_str().unwrap();
    let queued = send(
        &sys,
        message(
            "ada@example.org",
            json!({"html": "<html><body><a href=\"https://acme.io/a?x=1&amp;y=2\">A</a> <a href='https://acme.io/b'>B</a></body></html>"}),
        ),
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    let sent = wait_status(&sys, id, "sent").await;
    sent_a_minute_ago(&sys, id).await;
    let raw = sent["captured_mime"].as_str().unwrap().as_bytes().to_vec();
    let html = body_of(&raw, true);
    let base = sys.running.base_url();
    let pixel = urls(&html, &format!("{base}/t/o/")).remove(0);
    let clicks = urls(&html, &format!("{base}/t/c/"));
    assert_eq!(clicks.len(), 2, "{html}");
    let unsubscribe = urls(
        &header(&raw, "List-Unsubscribe").unwrap(),
        &format!("{base}/u/"),
    )
    .remove(0);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let got = no_redirects
        .get(&pixel)
        .header("user-agent", BROWSER)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            got.status().as_u16(),
            got.headers()["content-type"].to_str().unwrap()
        ),
        (200, "image/gif")
    );
    assert_eq!(&got.bytes().await.unwrap()[..6], b"GIF89a");
    // A scanner's hit is kept, flagged, and emits nothing.
    no_redirects
        .get(&pixel)
        .header("user-agent", "curl/8.5")
        .send()
        .await
        .unwrap();
    // A tampered token still gets an image, and records nothing.
    let mut tampered = pixel.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        no_redirects.get(&tampered).send().await.unwrap().status(),
        200
    );

    let clicked = no_redirects
        .get(&clicks[0])
        .header("user-agent", BROWSER)
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), 302);
    assert_eq!(clicked.headers()["location"], "https://acme.io/a?x=1&y=2");
    let mut forged = clicks[1].clone();
    forged.insert(forged.len() - 3, 'x');
    assert_eq!(
        no_redirects.get(&forged).send().await.unwrap().status(),
        404
    );

    // The page asks; only the POST (RFC 8058 one-click) unsubscribes.
    let page = no_redirects.get(&unsubscribe).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("<form method=\"post\">"));
    assert_eq!(contact_status(&sys, contact_id).await, "subscribed");
    for _ in 0..2 {
        let done = no_redirects
            .post(&unsubscribe)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
    }
    assert_eq!(contact_status(&sys, contact_id).await, "unsubscribed");

    let email = pm_tests::mail::email(&sys, id).await;
    assert_eq!(
        timeline(&email),
        [
            "queued",
            "sent",
            "opened",
            "opened",
            "clicked",
            "unsubscribed"
        ]
    );
    let automated: Vec<Value> = email["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["automated"].clone())
        .collect();
    assert_eq!(automated[3], "scanner_user_agent");
    assert_eq!(automated[2], Value::Null);
    assert_eq!(
        sys.event_types(id).await,
        [
            "email.sent",
            "email.opened",
            "email.clicked",
            "email.unsubscribed"
        ]
    );
    let (_, clicked) = sys.events(id).await.remove(2);
    assert_eq!(clicked["url"], "https://acme.io/a?x=1&y=2");
    // Suppressed now: the next send is refused.
    let (status, _, problem) = sys
        .call(
            Method::POST,
            SEND,
            sys.key(),
            Some(message("ada@example.org", json!({}))),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (422, Some("recipient_suppressed"))
    );
    sys.stop().await;
}

/// A provider's timestamp a few seconds from now (RFC 3339), so the timeline's order
/// (by when things happened) is the order of the test.
fn soon(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::TimeDelta::seconds(seconds)).to_rfc3339()
}

const POSTMARK_ID: &str = "b7bc2f4a-e38e-4336-af7d-e6c392c2f817";

#[tokio::test]
async fn postmark_sends_through_its_api_and_its_reports_move_emails_and_contacts() {
    let (postmark, sys) = postmark_system(POSTMARK_ID).await;
    let ada = contact(&sys, "ada@example.org").await;
    let id = send(
        &sys,
        message(
            "ada@example.org",
            json!({"html": "<p>Hi</p>", "tags": ["t1"]}),
        ),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sent = wait_status(&sys, &id, "sent").await;
    assert_eq!(
        (
            sent["transport"].as_str(),
            sent["provider_message_id"].as_str()
        ),
        (Some("postmark"), Some(POSTMARK_ID))
    );
    let request = postmark
        .wait_for(1, Duration::from_secs(10))
        .await
        .remove(0);
    assert_eq!(request.path, "/email");
    assert_eq!(
        request.header("x-postmark-server-token"),
        "server-token-1234"
    );
    let body = request.json();
    assert_eq!(
        (
            body["From"].as_str(),
            body["To"].as_str(),
            body["MessageStream"].as_str()
        ),
        (
            Some("Team <team@example.com>"),
            Some("ada@example.org"),
            Some("outbound")
        )
    );
    let headers = body["Headers"].to_string();
    assert!(
        headers.contains("List-Unsubscribe-Post")
            && headers.contains(sent["message_id"].as_str().unwrap()),
        "{headers}"
    );

    let events = format!("/api/v1/provider-events/postmark/{}", sys.running.tenant.id);
    let post = |payload: Value, auth: String| {
        let request = sys
            .http
            .post(sys.url(&events))
            .header("authorization", auth)
            .json(&payload);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let delivery = json!({"RecordType": "Delivery", "ServerID": 23, "MessageStream": "outbound", "MessageID": POSTMARK_ID,
        "Recipient": "ada@example.org", "Tag": "t1", "DeliveredAt": soon(2), "Details": "Test delivery webhook details", "Metadata": {}});
    let (status, problem) = post(delivery.clone(), basic("hooks", "wrong")).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("invalid_signature"))
    );
    assert_eq!(
        post(delivery.clone(), basic(POSTMARK_HOOKS.0, POSTMARK_HOOKS.1)).await,
        (200, json!({"status": "recorded"}))
    );
    assert_eq!(
        post(delivery, basic(POSTMARK_HOOKS.0, POSTMARK_HOOKS.1)).await,
        (200, json!({"status": "duplicate"}))
    );
    assert_eq!(
        wait_status(&sys, &id, "delivered").await["status"],
        "delivered"
    );

    let bounce = json!({"RecordType": "Bounce", "ID": 4323372036854775807u64, "Type": "HardBounce", "TypeCode": 1, "Name": "Hard bounce",
        "MessageID": POSTMARK_ID, "MessageStream": "outbound", "Description": "The server was unable to deliver your message",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.", "Email": "ada@example.org",
        "From": "team@example.com", "BouncedAt": soon(3), "Inactive": true, "CanActivate": true, "Subject": "Hello"});
    assert_eq!(
        post(bounce, basic(POSTMARK_HOOKS.0, POSTMARK_HOOKS.1))
            .await
            .0,
        200
    );
    let email = pm_tests::mail::email(&sys, &id).await;
    assert_eq!(email["status"], "bounced");
    assert_eq!(timeline(&email), ["queued", "sent", "delivered", "bounced"]);
    assert_eq!(
        contact_status(&sys, ada["id"].as_str().unwrap()).await,
        "bounced"
    );
    assert_eq!(
        sys.event_types(&id).await,
        ["email.sent", "email.delivered", "email.bounced"]
    );
    let (_, bounced) = sys.events(&id).await.pop().unwrap();
    assert_eq!(bounced["bounce_type"], "hard");
    // An unknown message is acknowledged (the provider would retry for days), and a
    // tenant without webhook credentials refuses everything.
    let unknown = json!({"RecordType": "Delivery", "MessageID": "00000000-0000-0000-0000-000000000000", "Recipient": "x@y.io", "DeliveredAt": "2026-11-28T10:00:05Z"});
    assert_eq!(
        post(unknown, basic(POSTMARK_HOOKS.0, POSTMARK_HOOKS.1)).await,
        (200, json!({"status": "unknown_message"}))
    );
    let elsewhere = format!("/api/v1/provider-events/postmark/{}", uuid::Uuid::new_v4());
    let response = sys
        .http
        .post(sys.url(&elsewhere))
        .header("authorization", basic(POSTMARK_HOOKS.0, POSTMARK_HOOKS.1))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    sys.stop().await;
}

fn mailgun_signature(key: &str, timestamp: &str, token: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("{timestamp}{token}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn mailgun_reports_are_signed_fresh_and_never_replayed() {
    let mailgun = Receiver::start().await;
    let sys = Sys::start_with(&[("MAILGUN_API_URL_US", mailgun.url(""))]).await;
    set_provider(
        &sys,
        json!({
            "transport": {"type": "mailgun", "domain": "mg.example.com", "region": "us"},
            "credentials": {"api_key": "key-mailgun-api", "webhook_signing_key": "signing-key-123"},
            "senders": ["@example.com"],
        }),
    )
    .await;
    let ada = contact(&sys, "ada@example.org").await;
    let queued = send(&sys, message("ada@example.org", json!({}))).await;
    let message_id = queued["message_id"].as_str().unwrap().to_string();
    mailgun.always(Reply::Json(
        200,
        json!({"id": format!("<{message_id}>"), "message": "Queued. Thank you."}).to_string(),
    ));
    let id = queued["id"].as_str().unwrap();
    wait_status(&sys, id, "sent").await;
    let request = mailgun.wait_for(1, Duration::from_secs(10)).await.remove(0);
    assert_eq!(request.path, "/v3/mg.example.com/messages");
    assert!(request.header("authorization").starts_with("Basic "));

    let path = format!("/api/v1/provider-events/mailgun/{}", sys.running.tenant.id);
    let event = |event: &str, token: &str, timestamp: i64, key: &str| {
        let ts = timestamp.to_string();
        json!({
            "signature": {"timestamp": ts, "token": token, "signature": mailgun_signature(key, &ts, token)},
            "event-data": {"event": event, "id": format!("ev-{token}"), "timestamp": timestamp as f64, "recipient": "ada@example.org",
                "message": {"headers": {"message-id": message_id}}}
        })
    };
    let post = |body: Value| {
        let request = sys.http.post(sys.url(&path)).json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    // A second ahead: the timeline orders by the provider's (whole-second) timestamps.
    let now = chrono::Utc::now().timestamp() + 1;
    assert_eq!(
        post(event("delivered", "t-1", now, "wrong-key")).await.1["code"],
        "invalid_signature"
    );
    assert_eq!(
        post(event("delivered", "t-2", now - 3600, "signing-key-123"))
            .await
            .1["code"],
        "stale_event"
    );
    assert_eq!(
        post(event("delivered", "t-3", now, "signing-key-123")).await,
        (200, json!({"status": "recorded"}))
    );
    let (status, replay) = post(event("delivered", "t-3", now, "signing-key-123")).await;
    assert_eq!(
        (status, replay["code"].as_str()),
        (409, Some("event_replayed"))
    );
    assert_eq!(
        post(event("complained", "t-4", now + 1, "signing-key-123"))
            .await
            .0,
        200
    );
    assert_eq!(
        contact_status(&sys, ada["id"].as_str().unwrap()).await,
        "complained"
    );
    let email = pm_tests::mail::email(&sys, id).await;
    assert_eq!(
        timeline(&email),
        ["queued", "sent", "delivered", "complained"]
    );

    // An inbound reply, forwarded by a Mailgun Route (form-encoded, signed the same way).
    let ts = (chrono::Utc::now().timestamp() + 3).to_string();
    let form = [
        ("timestamp", ts.clone()),
        ("token", "t-5".to_string()),
        (
            "signature",
            mailgun_signature("signing-key-123", &ts, "t-5"),
        ),
        ("Message-Id", "<reply-1@mail.example.org>".to_string()),
        ("In-Reply-To", format!("<{message_id}>")),
        ("from", "Ada <ada@example.org>".to_string()),
        ("subject", "Re: Hello".to_string()),
    ];
    let encoded: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
        .collect();
    let response = sys
        .http
        .post(sys.url(&format!("{path}/inbound")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encoded.join("&"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let email = pm_tests::mail::email(&sys, id).await;
    assert_eq!(timeline(&email).last().unwrap(), "replied");
    assert_eq!(
        sys.event_types(id).await,
        [
            "email.sent",
            "email.delivered",
            "email.complained",
            "email.replied"
        ]
    );
    sys.stop().await;
}
