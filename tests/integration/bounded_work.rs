//! Work per request is bounded: lists are capped while the body is read, duplicates are
//! removed in linear time, and error lists are capped, so a bad request costs little
//! and cannot make a response larger than itself.

use pm_tests::system::Sys;
use reqwest::Method;
use serde_json::{json, Value};

async fn post(sys: &Sys, path: &str, body: Value) -> (u16, Value) {
    let (status, _, problem) = sys.call(Method::POST, path, sys.key(), Some(body)).await;
    (status.as_u16(), problem)
}

#[tokio::test]
async fn a_hundred_thousand_tags_are_refused_while_reading() {
    let sys = Sys::start().await;
    let tags: Vec<String> = (0..100_000).map(|n| format!("{n:03x}")).collect();
    let (status, problem) = post(
        &sys,
        "/api/v1/contacts",
        json!({"email": "t@example.com", "tags": tags}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("more than 500 items"),
        "{problem}"
    );
    let days: Vec<&str> = vec!["mon"; 1000];
    let (status, problem) = post(
        &sys,
        "/api/v1/campaigns",
        json!({"name": "c", "sender": {"from_name": "a", "from_email": "a@example.com"},
               "schedule": {"days": days, "start_hour": 9, "end_hour": 17, "time_zone": "UTC", "daily_cap": 10}}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("more than 28 items"),
        "{problem}"
    );
    sys.stop().await;
}

#[tokio::test]
async fn error_lists_stop_at_fifty_and_say_so() {
    let sys = Sys::start().await;
    let tags = vec![""; 400];
    let (status, problem) = post(
        &sys,
        "/api/v1/contacts",
        json!({"email": "t@example.com", "tags": tags}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 50);
    assert_eq!(problem["errors_truncated"], true);
    // Duplicates collapse (and are not errors).
    let tags = vec!["vip"; 400];
    let (status, created) = post(
        &sys,
        "/api/v1/contacts",
        json!({"email": "d@example.com", "tags": tags}),
    )
    .await;
    assert_eq!((status, created["tags"].clone()), (201, json!(["vip"])));
    sys.stop().await;
}

#[tokio::test]
async fn unicode_line_breaks_and_control_characters_are_refused_in_names() {
    let sys = Sys::start().await;
    for bad in ["Week\u{2028}ly", "Week\u{85}ly", "Week\u{1b}ly"] {
        let (status, problem) = post(
            &sys,
            "/api/v1/templates",
            json!({"name": bad, "subject": "Hi", "text": "Hello"}),
        )
        .await;
        assert_eq!(status, 422, "{bad:?}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "name");
        let (status, _) = post(
            &sys,
            "/api/v1/contacts",
            json!({"email": "u@example.com", "tags": [bad]}),
        )
        .await;
        assert_eq!(status, 422, "tag {bad:?}");
    }
    sys.stop().await;
}

#[tokio::test]
async fn lists_carry_summaries_not_whole_bodies() {
    let sys = Sys::start().await;
    let big = "x".repeat(400 * 1024);
    let (status, template) = post(
        &sys,
        "/api/v1/templates",
        json!({"name": "Big", "subject": "Hi", "html": big}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, campaign) = post(
        &sys,
        "/api/v1/campaigns",
        json!({"name": "Big", "sender": {"from_name": "a", "from_email": "a@example.com"},
               "steps": [{"subject": "Hi", "html": big}, {"template_id": template["id"]}],
               "audience": {"tags": ["vip"]}}),
    )
    .await;
    assert_eq!(status, 201, "{campaign}");
    let (_, _, templates) = sys
        .call(Method::GET, "/api/v1/templates", sys.key(), None)
        .await;
    let item = &templates["data"][0];
    assert_eq!(item["name"], "Big");
    assert!(
        item.get("html").is_none() && item.get("text").is_none(),
        "{item}"
    );
    let (_, _, campaigns) = sys
        .call(Method::GET, "/api/v1/campaigns", sys.key(), None)
        .await;
    let item = &campaigns["data"][0];
    assert!(item.get("steps").is_none(), "{}", item.to_string().len());
    assert_eq!(
        (
            item["step_count"].as_i64(),
            item["audience_contact_count"].as_i64()
        ),
        (Some(2), Some(0))
    );
    assert_eq!(item["audience_tags"], json!(["vip"]));
    // The whole resource is one GET away.
    let (_, _, whole) = sys
        .call(
            Method::GET,
            &format!("/api/v1/templates/{}", template["id"].as_str().unwrap()),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(whole["html"].as_str().unwrap().len(), 400 * 1024);
    sys.stop().await;
}

#[tokio::test]
async fn objects_are_capped_while_reading_and_names_refuse_control_characters() {
    let sys = Sys::start().await;
    let fields: serde_json::Map<String, Value> =
        (0..5000).map(|n| (format!("f{n}"), json!(n))).collect();
    let (status, problem) = post(
        &sys,
        "/api/v1/contacts",
        json!({"email": "m@example.com", "custom_fields": fields}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("more than 200 keys"),
        "{problem}"
    );
    let (status, problem) = post(
        &sys,
        "/api/v1/contacts",
        json!({"email": "m@example.com", "custom_fields": [1, 2]}),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("custom_fields"))
    );
    let (status, created) = post(
        &sys,
        "/api/v1/contacts",
        json!({"email": "n@example.com", "custom_fields": null}),
    )
    .await;
    assert_eq!((status, created["custom_fields"].clone()), (201, json!({})));
    let (status, problem) = post(
        &sys,
        "/api/v1/contacts",
        json!({"email": "o@example.com", "first_name": "Ada\r\nBcc: x@evil.io"}),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("invalid_characters"))
    );
    sys.stop().await;
}
