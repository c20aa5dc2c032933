//! /api/v1/webhooks as a client meets it: subscriptions, validation, secrets, the
//! catalog, and refusal of addresses deliveries may not reach.

use pm_tests::receiver::Receiver;
use pm_tests::system::Sys;
use pm_tests::webhooks::{create, subscribe, WEBHOOKS};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn create_read_update_and_delete_a_webhook() {
    let sys = Sys::start().await;
    let (status, headers, created) = sys
        .call(
            Method::POST,
            WEBHOOKS,
            sys.key(),
            Some(json!({
                "url": "http://127.0.0.1:9/hook",
                "description": "CRM sync",
                "event_types": ["contact.created", "contact.updated", "contact.created"],
                "filters": {"tags": ["vip", "vip"]},
                "retry_policy": "extended"
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    assert_eq!(headers["location"], format!("{WEBHOOKS}/{id}").as_str());
    assert_eq!(headers["cache-control"], "no-store");
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 6 + 44,
        "{secret}"
    );
    assert_eq!(
        created["event_types"],
        json!(["contact.created", "contact.updated"])
    );
    assert_eq!(created["filters"]["tags"], json!(["vip"]));
    assert_eq!(created["state"], "healthy");
    assert_eq!(created["enabled"], true);

    let path = format!("{WEBHOOKS}/{id}");
    let (_, _, got) = sys.call(Method::GET, &path, sys.key(), None).await;
    assert!(
        got.get("secret").is_none(),
        "the secret is shown at creation only"
    );
    assert_eq!(got["retry_policy"], "extended");
    let (status, headers, shown) = sys
        .call(Method::GET, &format!("{path}/secret"), sys.key(), None)
        .await;
    assert_eq!(
        (status.as_u16(), shown["secret"].as_str()),
        (200, Some(secret))
    );
    assert_eq!(headers["cache-control"], "no-store");

    // PATCH changes what it names; disabling and enabling move the state.
    let (status, _, patched) = sys
        .call(
            Method::PATCH,
            &path,
            sys.key(),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        (patched["enabled"].as_bool(), patched["state"].as_str()),
        (Some(false), Some("disabled"))
    );
    assert_eq!(patched["description"], "CRM sync");
    let (_, _, patched) = sys
        .call(
            Method::PATCH,
            &path,
            sys.key(),
            Some(json!({"enabled": true, "description": null})),
        )
        .await;
    assert_eq!(
        (
            patched["state"].as_str(),
            patched["disabled_reason"].clone()
        ),
        (Some("healthy"), Value::Null)
    );
    assert_eq!(patched["description"], Value::Null);

    // PUT replaces: omitted fields return to their defaults.
    let (status, _, replaced) = sys
        .call(
            Method::PUT,
            &path,
            sys.key(),
            Some(json!({"url": "http://127.0.0.1:9/other", "event_types": ["*"]})),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["event_types"], json!(["*"]));
    assert_eq!(replaced["retry_policy"], "standard");
    assert_eq!(replaced["filters"]["tags"], json!([]));

    let (_, _, list) = sys
        .call(
            Method::GET,
            &format!("{WEBHOOKS}?event_type=email.sent&enabled=true"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "* matches every type"
    );
    let (_, _, list) = sys
        .call(
            Method::GET,
            &format!("{WEBHOOKS}?state=disabled"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(list["data"], json!([]));

    assert_eq!(
        sys.call(Method::DELETE, &path, sys.key(), None).await.0,
        204
    );
    assert_eq!(sys.call(Method::GET, &path, sys.key(), None).await.0, 404);
    assert!(
        pm_webhook_delivery::secrets::load(
            sys.running.app.secrets.as_ref(),
            sys.running.tenant.id,
            id.parse().unwrap()
        )
        .await
        .unwrap()
        .is_none(),
        "the secret went with it"
    );
    sys.stop().await;
}

#[tokio::test]
async fn bad_subscriptions_get_precise_errors() {
    let sys = Sys::start().await;
    let cases = [
        (
            json!({"url": "http://127.0.0.1:9/h", "event_types": ["contact.made"]}),
            "event_types[0]",
            "unknown_event_type",
        ),
        (
            json!({"url": "http://127.0.0.1:9/h", "event_types": []}),
            "event_types",
            "required",
        ),
        (
            json!({"url": "http://127.0.0.1:9/h", "event_types": ["*", "email.sent"]}),
            "event_types",
            "invalid_value",
        ),
        (
            json!({"url": "not a url", "event_types": ["*"]}),
            "url",
            "invalid_url",
        ),
        (
            json!({"url": "ftp://example.com/h", "event_types": ["*"]}),
            "url",
            "invalid_url",
        ),
        (
            json!({"url": "https://user:pw@example.com/h", "event_types": ["*"]}),
            "url",
            "invalid_url",
        ),
        (
            json!({"url": format!("https://example.com/{}", "a".repeat(2048)), "event_types": ["*"]}),
            "url",
            "too_long",
        ),
        (
            json!({"url": "http://127.0.0.1:9/h", "event_types": ["*"], "retry_policy": "forever"}),
            "retry_policy",
            "invalid_value",
        ),
        (
            json!({"url": "http://127.0.0.1:9/h", "event_types": ["*"], "filters": {"campaign_ids": ["x"]}}),
            "filters.campaign_ids[0]",
            "invalid_uuid",
        ),
        (
            json!({"url": "http://127.0.0.1:9/h", "event_types": ["*"], "description": "d".repeat(501)}),
            "description",
            "too_long",
        ),
    ];
    for (body, field, code) in cases {
        let (status, _, problem) = sys
            .call(Method::POST, WEBHOOKS, sys.key(), Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}: {problem}");
        assert_eq!(problem["code"], "validation_failed");
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["code"] == code),
            "{body}: {problem}"
        );
    }
    let (status, _, problem) = sys
        .call(
            Method::POST,
            WEBHOOKS,
            sys.key(),
            Some(json!({"url": "http://x.io", "event_types": ["*"], "secret": "mine"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (422, Some("validation_failed")),
        "unknown fields are refused"
    );
    let (status, _, problem) = sys
        .call(
            Method::GET,
            &format!("{WEBHOOKS}?state=sleepy"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (400, Some("invalid_parameter"))
    );
    sys.stop().await;
}

#[tokio::test]
async fn the_catalog_lists_every_event_type_with_a_sample() {
    let sys = Sys::start().await;
    let (status, _, catalog) = sys
        .call(
            Method::GET,
            &format!("{WEBHOOKS}/event-types"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(status, 200, "{catalog}");
    let types: Vec<&str> = catalog["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = pm_domain::EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    assert_eq!(types, expected);
    for entry in catalog["data"].as_array().unwrap() {
        assert!(
            entry["sample"].is_object() && entry["description"].is_string(),
            "{entry}"
        );
    }
    sys.stop().await;
}

#[tokio::test]
async fn production_settings_refuse_every_address_deliveries_may_not_reach() {
    // Loopback refused, as in production; http allowed only so the scheme is not the reason.
    let sys = Sys::start_with(&[
        ("WEBHOOK_ALLOW_LOOPBACK", "false".into()),
        ("WEBHOOK_ALLOW_HTTP", "true".into()),
    ])
    .await;
    for url in [
        "http://127.0.0.1:8080/h",
        "http://127.1.2.3/h",
        "http://[::1]/h",
        "http://[::ffff:127.0.0.1]/h",
        "http://[::ffff:10.0.0.1]/h",
        "http://[64:ff9b::a9fe:a9fe]/h",
        "http://localhost:8080/h",
        "http://0.0.0.0/h",
        "http://10.1.2.3/h",
        "http://172.16.0.1/h",
        "http://192.168.1.1/h",
        "http://100.64.0.1/h",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00:ec2::254]/h",
        "http://[fe80::1]/h",
        "http://224.0.0.1/h",
        "http://192.0.2.1/h",
        "http://[2001:db8::1]/h",
    ] {
        let (status, _, problem) = sys
            .call(
                Method::POST,
                WEBHOOKS,
                sys.key(),
                Some(json!({"url": url, "event_types": ["*"]})),
            )
            .await;
        assert_eq!(status, 422, "{url}: {problem}");
        assert_eq!(
            problem["errors"][0]["code"], "refused_address",
            "{url}: {problem}"
        );
    }
    sys.stop().await;

    let strict = Sys::start_with(&[
        ("WEBHOOK_ALLOW_LOOPBACK", "false".into()),
        ("WEBHOOK_ALLOW_HTTP", "false".into()),
    ])
    .await;
    let (status, _, problem) = strict
        .call(
            Method::POST,
            WEBHOOKS,
            strict.key(),
            Some(json!({"url": "http://example.com/h", "event_types": ["*"]})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        problem["errors"][0]["code"], "invalid_url",
        "https only: {problem}"
    );
    strict.stop().await;
}

#[tokio::test]
async fn a_test_send_reports_the_receivers_answer() {
    let sys = Sys::start().await;
    let receiver = Receiver::start().await;
    let (id, secret) = subscribe(&sys, &receiver.url("/hook"), &["email.sent"]).await;
    let (status, _, outcome) = sys
        .call(
            Method::POST,
            &format!("{WEBHOOKS}/{id}/test"),
            sys.key(),
            Some(json!({"event_type": "email.clicked"})),
        )
        .await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["success"], true);
    assert_eq!(outcome["status_code"], 200);
    assert!(outcome["response_excerpt"]
        .as_str()
        .unwrap()
        .contains("received"));
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["type"], "email.clicked");
    assert_eq!(
        got[0].json()["data"],
        pm_domain::EventType::EmailClicked.sample_data()
    );
    pm_tests::webhooks::verify(&secret, &got[0]).unwrap();
    // Recorded like any delivery: in the log, under the webhook-id it was sent with.
    let delivery = outcome["delivery_id"].as_str().unwrap();
    assert_eq!(got[0].header("webhook-id"), delivery);
    let log = pm_tests::webhooks::deliveries(&sys, &id).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (
            log[0]["id"].as_str(),
            log[0]["status"].as_str(),
            log[0]["attempts"].as_u64(),
            log[0]["event_type"].as_str(),
        ),
        (
            Some(delivery),
            Some("succeeded"),
            Some(1),
            Some("email.clicked")
        )
    );
    assert!(log[0]["last_response_ms"].as_u64().is_some(), "{}", log[0]);
    let detail = pm_tests::webhooks::delivery(&sys, &id, delivery).await;
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 1, "{detail}");
    // The sample is not one of the account's events, and no other webhook gets it.
    let (_, _, events) = sys
        .call(Method::GET, "/api/v1/events", sys.key(), None)
        .await;
    assert_eq!(events["data"], json!([]), "{events}");

    receiver.always(pm_tests::receiver::Reply::Status(503));
    let (_, _, outcome) = sys
        .call(
            Method::POST,
            &format!("{WEBHOOKS}/{id}/test"),
            sys.key(),
            Some(json!({"event_type": "email.sent"})),
        )
        .await;
    assert_eq!(
        (
            outcome["success"].as_bool(),
            outcome["status_code"].as_u64()
        ),
        (Some(false), Some(503))
    );
    assert_eq!(outcome["error_kind"], "http_status");
    // A failed test send is failed, not retried: its answer is the point.
    let failed =
        pm_tests::webhooks::delivery(&sys, &id, outcome["delivery_id"].as_str().unwrap()).await;
    assert_eq!(
        (
            failed["status"].as_str(),
            failed["next_attempt_at"].as_str()
        ),
        (Some("failed"), None),
        "{failed}"
    );
    // And replaying it sends the same message again, now that the endpoint answers.
    receiver.always(pm_tests::receiver::Reply::Status(200));
    let retry = format!(
        "{WEBHOOKS}/{id}/deliveries/{}/retry",
        outcome["delivery_id"].as_str().unwrap()
    );
    let (status, _, _) = sys.call(Method::POST, &retry, sys.key(), None).await;
    assert!(status.is_success(), "{status}");
    let got = receiver
        .wait_for(3, std::time::Duration::from_secs(20))
        .await;
    assert_eq!(got[2].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(got[2].body, got[1].body, "the same event");
    let (status, _, _) = sys
        .call(
            Method::POST,
            &format!("{WEBHOOKS}/{id}/test"),
            sys.key(),
            Some(json!({"event_type": "email.nope"})),
        )
        .await;
    assert_eq!(status, 422);
    sys.stop().await;
}

#[tokio::test]
async fn a_dashboard_session_manages_webhooks_and_members_only_look() {
    let sys = Sys::start().await;
    let created = create(
        &sys,
        json!({"url": "http://127.0.0.1:9/h", "event_types": ["*"]}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let (status, _, list) = sys.call(Method::GET, WEBHOOKS, sys.owner(), None).await;
    assert_eq!(
        (status.as_u16(), list["data"].as_array().unwrap().len()),
        (200, 1)
    );
    let (status, _, _) = sys
        .call(
            Method::PATCH,
            &format!("{WEBHOOKS}/{id}"),
            sys.owner(),
            Some(json!({"description": "by the owner"})),
        )
        .await;
    assert_eq!(status, 200);
    sys.stop().await;
}

/// `GET /api/v1/events`: what happened, newest first, each as its webhook body, whether
/// or not a webhook wanted it; filtered by type, paged, and another tenant's never shown.
#[tokio::test]
async fn recent_events_are_listed_newest_first_as_webhooks_receive_them() {
    use pm_auth::session::Role;
    use pm_tests::webhooks::contact;
    let sys = Sys::start().await;
    let mut emails = Vec::new();
    for n in 0..3 {
        let email = format!("event{n}@example.org");
        contact(&sys, &email).await;
        emails.push(email);
    }
    let first = sys
        .call(Method::GET, "/api/v1/contacts", sys.key(), None)
        .await
        .2["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _, _) = sys
        .call(
            Method::PUT,
            &format!("/api/v1/contacts/{first}"),
            sys.key(),
            Some(json!({"email": "event2@example.org", "first_name": "Changed"})),
        )
        .await;
    assert_eq!(status, 200);

    let (status, _, all) = sys
        .call(Method::GET, "/api/v1/events", sys.key(), None)
        .await;
    assert_eq!(status, 200, "{all}");
    let types: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "contact.updated",
            "contact.created",
            "contact.created",
            "contact.created"
        ]
    );
    let newest = &all["data"][0];
    assert_eq!(newest["data"]["first_name"], "Changed");
    let stored = sys.events(&first).await;
    let (_, payload) = stored.last().unwrap();
    assert_eq!(&newest["data"], payload, "the body a webhook gets");
    assert!(newest["id"].as_str().is_some() && newest["created_at"].as_str().is_some());

    // One type, two at a time: the three creations, newest first, over two pages.
    let (_, _, page) = sys
        .call(
            Method::GET,
            "/api/v1/events?type=contact.created&limit=2",
            sys.key(),
            None,
        )
        .await;
    let cursor = page["pagination"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, _, rest) = sys
        .call(
            Method::GET,
            &format!("/api/v1/events?type=contact.created&limit=2&cursor={cursor}"),
            sys.key(),
            None,
        )
        .await;
    let created: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["data"].as_array().unwrap())
        .map(|e| e["data"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        created,
        [
            "event2@example.org",
            "event1@example.org",
            "event0@example.org"
        ]
    );
    assert_eq!(rest["pagination"]["has_more"], false);

    let (status, _, problem) = sys
        .call(
            Method::GET,
            "/api/v1/events?type=contact.exploded",
            sys.key(),
            None,
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (400, Some("invalid_parameter"))
    );

    // Another tenant sees none of these; a key without manage_webhooks is refused.
    let (_, other) = sys.other_tenant(Role::Owner).await;
    let (status, _, theirs) = sys.call(Method::GET, "/api/v1/events", &other, None).await;
    assert_eq!(
        (status.as_u16(), theirs["data"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let narrow = pm_tests::system::secret(
        &sys.create_key(sys.owner(), "contacts only", &["manage_contacts"])
            .await,
    );
    let (status, _, problem) = sys.call(Method::GET, "/api/v1/events", &narrow, None).await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    sys.stop().await;
}
