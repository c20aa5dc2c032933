//! A two-step campaign end to end on the local runtime, with the scheduler on a clock
//! the test controls (its background ticks are off): the sending window and daily cap,
//! an open and a click recorded, a reply that stops the second step for its contact,
//! a pause and a resume, nothing sent twice, and completion with `campaign.completed`.

use chrono::{DateTime, Utc};
use pm_tests::mail::{body_of, email, set_provider, urls, wait_status, EMAILS};
use pm_tests::system::Sys;
use pm_tests::webhooks::contact;
use reqwest::Method;
use serde_json::{json, Value};

/// The scheduler's clock at `s`, a time of the calendar this test was written in (its
/// weekdays matter: 2026-12-07 is a Monday), moved on by whole weeks to lie ahead of the
/// real clock. Campaigns start at the real time, so a tick before it would find nothing
/// due: the test's week must not have passed.
fn at(s: &str) -> DateTime<Utc> {
    let written: DateTime<Utc> = s.parse().unwrap();
    let first: DateTime<Utc> = "2026-12-07T00:00:00Z".parse().unwrap();
    let weeks = (Utc::now() - first).num_weeks().max(-1) + 1;
    written + chrono::Duration::weeks(weeks)
}

/// The campaign's emails, oldest first.
async fn campaign_emails(sys: &Sys, campaign: &str) -> Vec<Value> {
    let (_, _, page) = sys
        .call(
            Method::GET,
            &format!("{EMAILS}?campaign_id={campaign}&order=asc&limit=100"),
            sys.key(),
            None,
        )
        .await;
    page["data"].as_array().unwrap().clone()
}

async fn tick(sys: &Sys, now: &str) -> usize {
    sys.running.app.campaigns.run(at(now)).await.unwrap().queued
}

async fn all_sent(sys: &Sys, campaign: &str) -> Vec<Value> {
    let emails = campaign_emails(sys, campaign).await;
    for e in &emails {
        wait_status(sys, e["id"].as_str().unwrap(), "sent").await;
    }
    campaign_emails(sys, campaign).await
}

#[tokio::test]
async fn a_two_step_campaign_runs_in_its_window_within_its_cap_and_stops_for_a_reply() {
    let sys = Sys::start_with(&[
        ("CAMPAIGN_SCHEDULER_ENABLED", "false".to_string()),
        // One tick a day: each tick may use the whole remaining daily cap.
        ("CAMPAIGN_TICK_SECS", "86400".to_string()),
    ])
    .await;
    sys.unlimited().await;
    set_provider(
        &sys,
        json!({"transport": {"type": "capture"}, "senders": ["@example.com"],
               "credentials": {"webhook_username": "hooks", "webhook_password": "hook-pass"}}),
    )
    .await;
    let mut contacts = Vec::new();
    for email in ["ada@example.org", "bob@example.org", "cy@example.org"] {
        let (status, _, c) = sys
            .call(Method::POST, "/api/v1/contacts", sys.key(), Some(json!({"email": email, "first_name": email[..3].to_string(), "tags": ["trial"]})))
            .await;
        assert_eq!(status, 201);
        contacts.push(c["id"].as_str().unwrap().to_string());
    }
    let _outsider = contact(&sys, "not-in-audience@example.org").await;
    let (status, _, campaign) = sys
        .call(
            Method::POST,
            "/api/v1/campaigns",
            sys.key(),
            Some(json!({
                "name": "Trial onboarding",
                "sender": {"from_name": "Pat", "from_email": "pat@example.com"},
                "steps": [
                    {"subject": "Welcome, {{ first_name }}", "html": "<p>Start <a href=\"https://acme.io/start\">here</a></p>"},
                    {"subject": "Following up", "text": "Any questions?", "delay_minutes": 60}
                ],
                "audience": {"tags": ["trial"]},
                "schedule": {"days": ["mon", "tue"], "start_hour": 9, "end_hour": 17, "time_zone": "Europe/Berlin", "daily_cap": 2}
            })),
        )
        .await;
    assert_eq!(status, 201, "{campaign}");
    let id = campaign["id"].as_str().unwrap().to_string();
    let (status, _, started) = sys
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/start"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(status, 200, "{started}");

    // Monday 2026-12-07: 08:30 in Berlin is before the window; at 10:00 the cap of 2 goes.
    assert_eq!(
        tick(&sys, "2026-12-07T07:30:00Z").await,
        0,
        "before the window"
    );
    assert_eq!(tick(&sys, "2026-12-07T09:00:00Z").await, 2, "the daily cap");
    assert_eq!(
        tick(&sys, "2026-12-07T09:01:00Z").await,
        0,
        "the cap is used up today"
    );
    let first = all_sent(&sys, &id).await;
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(
        |e| e["campaign_step"] == 0 && e["subject"].as_str().unwrap().starts_with("Welcome, ")
    ));
    let (a, b) = (&first[0], &first[1]);

    // The first recipient opens and clicks; the second replies (Postmark inbound).
    let a_email = email(&sys, a["id"].as_str().unwrap()).await;
    let html = body_of(a_email["captured_mime"].as_str().unwrap().as_bytes(), true);
    let base = sys.running.base_url();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client_id: uuid::Uuid = a["id"].as_str().unwrap().parse().unwrap();
    sys.running
        .app
        .db
        .client()
        .await
        .unwrap()
        .execute(
            "UPDATE emails SET sent_at = now() - interval '1 minute' WHERE id = $1",
            &[&client_id],
        )
        .await
        .unwrap();
    let browser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
    for url in [
        urls(&html, &format!("{base}/t/o/"))[0].clone(),
        urls(&html, &format!("{base}/t/c/"))[0].clone(),
    ] {
        let status = client
            .get(&url)
            .header("user-agent", browser)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status == 200 || status == 302, "{url}: {status}");
    }
    let reply = json!({
        "From": "bob@example.org", "Subject": "Re: Welcome", "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "Date": "Mon, 7 Dec 2026 10:30:00 +0100",
        "Headers": [{"Name": "In-Reply-To", "Value": format!("<{}>", b["message_id"].as_str().unwrap())}],
        "TextBody": "Thanks!"
    });
    use base64::Engine;
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("hooks:hook-pass")
    );
    let response = sys
        .http
        .post(sys.url(&format!(
            "/api/v1/provider-events/postmark/{}",
            sys.running.tenant.id
        )))
        .header("authorization", auth)
        .json(&reply)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let types = |e: Value| -> Vec<String> {
        e["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["type"].as_str().unwrap().to_string())
            .collect()
    };
    let a_types = types(email(&sys, a["id"].as_str().unwrap()).await);
    assert!(
        a_types.contains(&"opened".to_string()) && a_types.contains(&"clicked".to_string()),
        "{a_types:?}"
    );
    assert!(types(email(&sys, b["id"].as_str().unwrap()).await).contains(&"replied".to_string()));

    // Paused: nothing goes out, even when due and in the window.
    sys.call(
        Method::POST,
        &format!("/api/v1/campaigns/{id}/pause"),
        sys.key(),
        None,
    )
    .await;
    assert_eq!(tick(&sys, "2026-12-08T09:00:00Z").await, 0, "paused");
    let (status, _, _) = sys
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/start"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(status, 200, "resumed");

    // Tuesday: the third contact's first step and the first contact's second; the
    // replier gets nothing more. Wednesday is not a sending day.
    assert_eq!(tick(&sys, "2026-12-08T09:05:00Z").await, 2);
    assert_eq!(tick(&sys, "2026-12-08T09:06:00Z").await, 0);
    assert_eq!(
        tick(&sys, "2026-12-09T09:00:00Z").await,
        0,
        "not a sending day"
    );
    all_sent(&sys, &id).await;
    // Monday again: the third contact's second step, then the campaign is complete.
    assert_eq!(tick(&sys, "2026-12-14T09:00:00Z").await, 1);
    let emails = all_sent(&sys, &id).await;
    let report = sys
        .running
        .app
        .campaigns
        .run(at("2026-12-14T09:01:00Z"))
        .await
        .unwrap();
    assert_eq!(report.completed.len(), 1);

    let steps = |contact: &str| -> Vec<i64> {
        emails
            .iter()
            .filter(|e| e["contact_id"] == contact)
            .map(|e| e["campaign_step"].as_i64().unwrap())
            .collect()
    };
    let (a_contact, b_contact) = (
        a["contact_id"].as_str().unwrap(),
        b["contact_id"].as_str().unwrap(),
    );
    let c_contact = contacts
        .iter()
        .find(|c| *c != a_contact && *c != b_contact)
        .unwrap();
    assert_eq!(steps(a_contact), [0, 1]);
    assert_eq!(steps(b_contact), [0], "the reply stopped the sequence");
    assert_eq!(steps(c_contact), [0, 1]);
    assert_eq!(
        emails.len(),
        5,
        "nothing sent twice, nobody outside the audience"
    );
    let (_, _, done) = sys
        .call(
            Method::GET,
            &format!("/api/v1/campaigns/{id}"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(done["status"], "completed");
    assert_eq!(
        sys.event_types(&id).await,
        ["campaign.started", "campaign.started", "campaign.completed"]
    );
    // Ticks after completion do nothing.
    assert_eq!(tick(&sys, "2026-12-15T09:00:00Z").await, 0);
    sys.stop().await;
}
