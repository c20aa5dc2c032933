//! /api/v1/emails as a client meets it: sending through the demo tenant's `capture`
//! transport, the timeline, lists and filters, validation, registered senders,
//! suppression, and another tenant's emails staying invisible.

use pm_auth::session::Role;
use pm_tests::mail::{
    body_of, header, message, send, set_provider, timeline, wait_status, EMAILS, FROM, SEND,
};
use pm_tests::system::Sys;
use pm_tests::webhooks::contact;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_sent_email_is_queued_then_sent_with_its_timeline_and_event() {
    let sys = Sys::start().await;
    let queued = send(
        &sys,
        message(
            "ada@example.org",
            json!({
                "html": "<p>Hi <a href=\"https://acme.io/pricing\">pricing</a></p>",
                "text": "Hi, see https://acme.io/pricing",
                "tags": ["welcome"],
                "metadata": {"order": "42"},
                "headers": {"X-Entity-Ref": "r-1"}
            }),
        ),
    )
    .await;
    assert_eq!(queued["status"], "queued");
    let id = queued["id"].as_str().unwrap();
    let sent = wait_status(&sys, id, "sent").await;
    assert_eq!(timeline(&sent), ["queued", "sent"]);
    assert_eq!(sent["transport"], "capture");
    let mime = sent["captured_mime"]
        .as_str()
        .expect("capture keeps the message");
    let raw = mime.as_bytes();
    let message_id = sent["message_id"].as_str().unwrap();
    assert!(message_id.ends_with("@example.com"), "{message_id}");
    assert_eq!(
        header(raw, "Message-ID").unwrap(),
        format!("<{message_id}>")
    );
    assert_eq!(
        header(raw, "List-Unsubscribe-Post").unwrap(),
        "List-Unsubscribe=One-Click"
    );
    assert!(header(raw, "List-Unsubscribe").unwrap().contains("/u/"));
    assert_eq!(header(raw, "X-Entity-Ref").unwrap(), "r-1");
    let html = body_of(raw, true);
    assert!(
        html.contains("/t/c/") && html.contains("/t/o/"),
        "tracked html: {html}"
    );
    assert!(
        !html.contains("https://acme.io/pricing"),
        "the link is rewritten"
    );
    assert!(
        body_of(raw, false).contains("https://acme.io/pricing"),
        "text keeps readable links"
    );
    let events = sys.event_types(id).await;
    assert_eq!(events, ["email.sent"]);
    let (_, payload) = sys.events(id).await.remove(0);
    assert_eq!(payload["tags"], json!(["welcome"]));
    assert_eq!(payload["metadata"], json!({"order": "42"}));

    // Lists: filters, and no bodies.
    let (status, _, page) = sys
        .call(
            Method::GET,
            &format!("{EMAILS}?status=sent&tag=welcome&recipient=ADA@example.org"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert!(
        page["data"][0].get("html").is_none() && page["data"][0].get("captured_mime").is_none()
    );
    let (_, _, none) = sys
        .call(
            Method::GET,
            &format!("{EMAILS}?status=failed"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(none["data"], json!([]));
    let (status, _, bad) = sys
        .call(
            Method::GET,
            &format!("{EMAILS}?status=lost"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(
        (status.as_u16(), bad["code"].as_str()),
        (400, Some("invalid_parameter"))
    );
    sys.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_precise_422_and_nothing_is_stored() {
    let sys = Sys::start().await;
    let cases = [
        (
            message(
                "ada@example.org",
                json!({"from": {"email": "boss@elsewhere.io"}}),
            ),
            "sender_not_allowed",
        ),
        (message("not-an-address", json!({})), "validation_failed"),
        (
            message(
                "ada@example.org",
                json!({"subject": "Hi\r\nBcc: spy@evil.io"}),
            ),
            "validation_failed",
        ),
        (
            message(
                "ada@example.org",
                json!({"headers": {"Bcc": "spy@evil.io"}}),
            ),
            "validation_failed",
        ),
        (
            message(
                "ada@example.org",
                json!({"headers": {"X-Ref": "a\nBcc: spy@evil.io"}}),
            ),
            "validation_failed",
        ),
        (
            message(
                "ada@example.org",
                json!({"template_id": uuid::Uuid::new_v4()}),
            ),
            "validation_failed",
        ),
        (
            message(
                "ada@example.org",
                json!({"subject": null, "text": null, "template_id": uuid::Uuid::new_v4()}),
            ),
            "template_not_found",
        ),
        (
            message(
                "ada@example.org",
                json!({"campaign_id": uuid::Uuid::new_v4()}),
            ),
            "campaign_not_found",
        ),
        (
            message(
                "ada@example.org",
                json!({"scheduled_at": "2020-01-01T00:00:00Z"}),
            ),
            "validation_failed",
        ),
        (
            message("ada@example.org", json!({"unknown": 1})),
            "validation_failed",
        ),
        (
            message(
                &"x".repeat(10),
                json!({"to": null, "contact_id": uuid::Uuid::new_v4()}),
            ),
            "contact_not_found",
        ),
    ];
    for (body, code) in cases {
        let (status, _, problem) = sys
            .call(Method::POST, SEND, sys.key(), Some(body.clone()))
            .await;
        assert_eq!(
            (status.as_u16(), problem["code"].as_str()),
            (422, Some(code)),
            "{body} → {problem}"
        );
    }
    let (_, _, page) = sys.call(Method::GET, EMAILS, sys.key(), None).await;
    assert_eq!(page["data"], json!([]), "nothing was stored");
    sys.stop().await;
}

#[tokio::test]
async fn a_template_renders_with_its_variables_and_a_missing_one_is_named() {
    let sys = Sys::start().await;
    let (status, _, template) = sys
        .call(
            Method::POST,
            "/api/v1/templates",
            sys.key(),
            Some(json!({"name": "Welcome", "subject": "Hi {{ name }}", "text": "Welcome, {{ name }}!"})),
        )
        .await;
    assert_eq!(status, 201, "{template}");
    let tid = template["id"].clone();
    let body = |vars: serde_json::Value| {
        message(
            "ada@example.org",
            json!({"subject": null, "text": null, "template_id": tid, "variables": vars}),
        )
    };
    let (status, _, problem) = sys
        .call(Method::POST, SEND, sys.key(), Some(body(json!({}))))
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (422, Some("missing_variable")),
        "{problem}"
    );
    let queued = send(&sys, body(json!({"name": "Ada"}))).await;
    assert_eq!(queued["subject"], "Hi Ada");
    assert_eq!(queued["template_id"], tid);
    // A variable cannot smuggle a header into the subject: line breaks do not survive.
    let queued = send(&sys, body(json!({"name": "x\r\nBcc: spy@evil.io"}))).await;
    let subject = queued["subject"].as_str().unwrap();
    assert!(!subject.contains(['\r', '\n']), "{subject:?}");
    sys.stop().await;
}

#[tokio::test]
async fn suppressed_contacts_get_nothing_until_explicitly_resubscribed() {
    let sys = Sys::start().await;
    let ada = contact(&sys, "ada@example.org").await;
    let id = ada["id"].as_str().unwrap();
    let path = format!("/api/v1/contacts/{id}");
    let (status, _, _) = sys
        .call(
            Method::PUT,
            &path,
            sys.key(),
            Some(json!({"email": "ada@example.org", "status": "unsubscribed"})),
        )
        .await;
    assert_eq!(status, 200);
    for body in [
        message("ADA@example.org", json!({})),
        message("bob@example.org", json!({"cc": ["ada@example.org"]})),
        message("x@y.io", json!({"to": null, "contact_id": id})),
    ] {
        let (status, _, problem) = sys.call(Method::POST, SEND, sys.key(), Some(body)).await;
        assert_eq!(
            (status.as_u16(), problem["code"].as_str()),
            (422, Some("recipient_suppressed")),
            "{problem}"
        );
    }
    // A replace that omits status keeps it; one that asks for subscribed is refused.
    let (status, _, kept) = sys
        .call(
            Method::PUT,
            &path,
            sys.key(),
            Some(json!({"email": "ada@example.org", "first_name": "Ada"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), kept["status"].as_str()),
        (200, Some("unsubscribed"))
    );
    let (status, _, problem) = sys
        .call(
            Method::PUT,
            &path,
            sys.key(),
            Some(json!({"email": "ada@example.org", "status": "subscribed"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (409, Some("contact_suppressed"))
    );
    // The explicit way back, with a reason.
    let resubscribe = format!("{path}/resubscribe");
    let (status, _, problem) = sys
        .call(
            Method::POST,
            &resubscribe,
            sys.key(),
            Some(json!({"reason": ""})),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    let (status, _, back) = sys
        .call(
            Method::POST,
            &resubscribe,
            sys.key(),
            Some(json!({"reason": "signed up again on 2026-11-28"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), back["status"].as_str()),
        (200, Some("subscribed"))
    );
    let (_, resubscribed) = sys.events(id).await.pop().unwrap();
    assert_eq!(
        resubscribed["resubscribed"]["previous_status"],
        "unsubscribed"
    );
    let queued = send(&sys, message("ada@example.org", json!({}))).await;
    assert_eq!(queued["contact_id"], ada["id"]);
    sys.stop().await;
}

#[tokio::test]
async fn another_tenant_cannot_see_or_use_these_emails_or_senders() {
    let sys = Sys::start().await;
    let queued = send(&sys, message("ada@example.org", json!({}))).await;
    let id = queued["id"].as_str().unwrap();
    let (other_tenant, other_owner) = sys.other_tenant(Role::Owner).await;
    let other_key =
        pm_tests::system::secret(&sys.create_key(&other_owner, "other", &["send_email"]).await);
    let (status, _, _) = sys
        .call(Method::GET, &format!("{EMAILS}/{id}"), &other_key, None)
        .await;
    assert_eq!(status, 404);
    let (_, _, page) = sys.call(Method::GET, EMAILS, &other_key, None).await;
    assert_eq!(page["data"], json!([]));
    // The demo tenant's senders are not the other tenant's: it has no provider at all.
    let (status, _, problem) = sys
        .call(
            Method::POST,
            SEND,
            &other_key,
            Some(message("x@example.org", json!({}))),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (422, Some("email_provider_not_configured"))
    );
    let (status, _, _) = sys
        .call(
            Method::GET,
            "/api/v1/platform/email-providers",
            &other_owner,
            None,
        )
        .await;
    assert_eq!(status, 404);
    let _ = other_tenant;
    sys.stop().await;
}

#[tokio::test]
async fn provider_settings_keep_credentials_write_only_and_masked() {
    let sys = Sys::start().await;
    let shown = set_provider(
        &sys,
        json!({
            "transport": {"type": "postmark", "message_stream": "outbound"},
            "credentials": {"server_token": "pm-server-token-abcd1234", "webhook_username": "hook", "webhook_password": "hook-password-9876"},
            "senders": ["Team@Example.com", "@news.example.com"],
        }),
    )
    .await;
    let text = shown.to_string();
    assert!(
        !text.contains("pm-server-token") && !text.contains("hook-password"),
        "{text}"
    );
    assert_eq!(shown["credentials"]["server_token"], "••••1234");
    assert_eq!(
        shown["senders"],
        json!(["team@example.com", "@news.example.com"])
    );
    assert!(shown["event_urls"]["postmark"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/postmark/{}", sys.running.tenant.id)));
    // Settings change without re-typing secrets; a transport without its credential is refused.
    let kept = set_provider(&sys, json!({"transport": {"type": "postmark", "message_stream": "broadcast"}, "senders": ["@example.com"]})).await;
    assert_eq!(kept["credentials"]["server_token"], "••••1234");
    let (status, _, problem) = sys
        .call(Method::PUT, "/api/v1/platform/email-providers", sys.owner(), Some(json!({"transport": {"type": "mailgun", "domain": "mg.example.com", "region": "eu"}, "credentials": {}})))
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "credentials.api_key");
    let (_, member) = sys.other_tenant(Role::Member).await;
    let (status, _, _) = sys
        .call(
            Method::PUT,
            "/api/v1/platform/email-providers",
            &member,
            Some(json!({"transport": {"type": "capture"}})),
        )
        .await;
    assert_eq!(status, 403);
    // An API key is not a session.
    let (status, _, _) = sys
        .call(
            Method::GET,
            "/api/v1/platform/email-providers",
            sys.key(),
            None,
        )
        .await;
    assert_eq!(status, 401);
    let _ = FROM;
    sys.stop().await;
}
