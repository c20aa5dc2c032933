//! /api/v1/campaigns over HTTP on the local runtime, against real PostgreSQL.

use pm_auth::session::Role;
use pm_tests::system::{secret, Sys};
use reqwest::Method;
use serde_json::{json, Value};

const CAMPAIGNS: &str = "/api/v1/campaigns";

/// An edit to a valid campaign body that makes it invalid.
type Change = Box<dyn Fn(&mut Value)>;

async fn post(sys: &Sys, path: &str, body: Value) -> Value {
    let (status, _, created) = sys.call(Method::POST, path, sys.key(), Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created
}

async fn template(sys: &Sys) -> String {
    let t = post(
        sys,
        "/api/v1/templates",
        json!({"name": "T", "subject": "Hi", "text": "Hello"}),
    )
    .await;
    t["id"].as_str().unwrap().to_string()
}

fn campaign(template_id: &str) -> Value {
    json!({
        "name": "Onboarding",
        "sender": {"from_name": "Acme", "from_email": "hello@example.com"},
        "steps": [
            {"template_id": template_id},
            {"subject": "Questions, {{ first_name | default('there') }}?", "text": "Ping", "delay_minutes": 4320}
        ],
        "audience": {"tags": ["trial"]},
        "schedule": {"days": ["mon", "wed"], "start_hour": 9, "end_hour": 17, "time_zone": "Europe/Berlin", "daily_cap": 200}
    })
}

#[tokio::test]
async fn the_status_machine() {
    let sys = Sys::start().await;
    sys.unlimited().await;
    let key = sys.key().to_string();
    let template_id = template(&sys).await;
    let created = post(&sys, CAMPAIGNS, campaign(&template_id)).await;
    assert_eq!(created["status"], "draft");
    assert_eq!(created["schedule"]["time_zone"], "Europe/Berlin");
    let id = created["id"].as_str().unwrap().to_string();
    let one = format!("{CAMPAIGNS}/{id}");
    let (start, pause) = (format!("{one}/start"), format!("{one}/pause"));

    // Nobody carries the tag yet: the audience is empty.
    let (status, _, problem) = sys.call(Method::POST, &start, &key, None).await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (422, Some("campaign_not_ready"))
    );
    assert_eq!(problem["errors"][0]["field"], "audience");
    // Pausing a draft is not a thing.
    let (status, _, problem) = sys.call(Method::POST, &pause, &key, None).await;
    assert_eq!(
        (status.as_u16(), problem["current_status"].as_str()),
        (409, Some("draft"))
    );

    post(
        &sys,
        "/api/v1/contacts",
        json!({"email": "t@example.com", "tags": ["trial"]}),
    )
    .await;
    let (status, _, active) = sys.call(Method::POST, &start, &key, None).await;
    assert_eq!(status, 200, "{active}");
    assert_eq!(active["status"], "active");
    assert!(active["started_at"].is_string());
    assert_eq!(sys.event_types(&id).await, ["campaign.started"]);

    let (status, _, problem) = sys.call(Method::POST, &start, &key, None).await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    assert_eq!(problem["current_status"], "active");

    // Running: steps are frozen, other fields are not; no deleting.
    let mut changed = campaign(&template_id);
    changed["steps"][1]["delay_minutes"] = json!(60);
    let (status, _, problem) = sys.call(Method::PUT, &one, &key, Some(changed)).await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (409, Some("campaign_running"))
    );
    let mut renamed = campaign(&template_id);
    renamed["name"] = json!("Onboarding v2");
    let (status, _, updated) = sys.call(Method::PUT, &one, &key, Some(renamed)).await;
    assert_eq!(
        (status.as_u16(), updated["name"].as_str()),
        (200, Some("Onboarding v2"))
    );
    assert_eq!(sys.call(Method::DELETE, &one, &key, None).await.0, 409);

    let (status, _, paused) = sys.call(Method::POST, &pause, &key, None).await;
    assert_eq!(
        (status.as_u16(), paused["status"].as_str()),
        (200, Some("paused"))
    );
    assert_eq!(sys.call(Method::POST, &pause, &key, None).await.0, 409);
    let (status, _, resumed) = sys.call(Method::POST, &start, &key, None).await;
    assert_eq!(
        (status.as_u16(), resumed["status"].as_str()),
        (200, Some("active"))
    );
    assert_eq!(
        resumed["started_at"], active["started_at"],
        "resuming keeps the first start"
    );
    sys.call(Method::POST, &pause, &key, None).await;
    assert_eq!(sys.call(Method::DELETE, &one, &key, None).await.0, 204);
    assert_eq!(sys.call(Method::GET, &one, &key, None).await.0, 404);
    sys.stop().await;
}

#[tokio::test]
async fn a_campaign_without_steps_cannot_start() {
    let sys = Sys::start().await;
    post(
        &sys,
        "/api/v1/contacts",
        json!({"email": "u@example.com", "tags": ["trial"]}),
    )
    .await;
    let mut body = campaign("unused");
    body["steps"] = json!([]);
    let created = post(&sys, CAMPAIGNS, body).await;
    let start = format!("{CAMPAIGNS}/{}/start", created["id"].as_str().unwrap());
    let (status, _, problem) = sys.call(Method::POST, &start, sys.key(), None).await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (422, Some("campaign_not_ready"))
    );
    assert_eq!(problem["errors"][0]["field"], "steps");
    sys.stop().await;
}

#[tokio::test]
async fn bad_campaigns_get_precise_errors() {
    let sys = Sys::start().await;
    let template_id = template(&sys).await;
    let (_, other) = sys.other_tenant(Role::Owner).await;
    let their_key = secret(&sys.create_key(&other, "t", &["manage_templates"]).await);
    let (_, _, theirs) = sys
        .call(
            Method::POST,
            "/api/v1/templates",
            &their_key,
            Some(json!({"name": "X", "subject": "S", "text": "T"})),
        )
        .await;
    let cases: Vec<(Change, &str, &str)> = vec![
        (
            Box::new(|c| c["sender"]["from_email"] = json!("nope")),
            "sender.from_email",
            "invalid_email",
        ),
        (
            Box::new(move |c| c["steps"][0]["template_id"] = theirs["id"].clone()),
            "steps[0].template_id",
            "unknown_template",
        ),
        (
            Box::new(|c| c["schedule"]["time_zone"] = json!("Mars/Olympus")),
            "schedule.time_zone",
            "invalid_time_zone",
        ),
        (
            Box::new(|c| c["schedule"]["days"] = json!(["mon", "someday"])),
            "schedule.days[1]",
            "invalid_value",
        ),
        (
            Box::new(|c| c["schedule"]["end_hour"] = json!(8)),
            "schedule.end_hour",
            "out_of_range",
        ),
        (
            Box::new(|c| {
                c["steps"][1]["template_id"] = json!("3c1f9a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b")
            }),
            "steps[1]",
            "ambiguous_content",
        ),
        (
            Box::new(|c| c["steps"][1]["text"] = json!("{{ broken")),
            "steps[1].text",
            "invalid_template",
        ),
        (
            Box::new(|c| c["steps"][1] = json!({"delay_minutes": 5})),
            "steps[1]",
            "required",
        ),
        (
            Box::new(|c| c["name"] = json!("")),
            "name",
            "invalid_length",
        ),
        (Box::new(|c| c["budget"] = json!(5)), "body", "invalid_type"),
    ];
    for (change, field, code) in cases {
        let mut body = campaign(&template_id);
        change(&mut body);
        let (status, _, problem) = sys
            .call(Method::POST, CAMPAIGNS, sys.key(), Some(body))
            .await;
        assert_eq!(status, 422, "{field}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{problem}");
    }
    sys.stop().await;
}

#[tokio::test]
async fn a_template_in_use_cannot_be_deleted() {
    let sys = Sys::start().await;
    let template_id = template(&sys).await;
    let created = post(&sys, CAMPAIGNS, campaign(&template_id)).await;
    let template_path = format!("/api/v1/templates/{template_id}");
    let (status, _, problem) = sys
        .call(Method::DELETE, &template_path, sys.key(), None)
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (409, Some("template_in_use"))
    );
    assert_eq!(problem["campaign_id"], created["id"]);
    // Once no step uses it, it can go.
    let mut body = campaign(&template_id);
    body["steps"] = json!([{"subject": "S", "text": "T"}]);
    let one = format!("{CAMPAIGNS}/{}", created["id"].as_str().unwrap());
    assert_eq!(
        sys.call(Method::PUT, &one, sys.key(), Some(body)).await.0,
        200
    );
    assert_eq!(
        sys.call(Method::DELETE, &template_path, sys.key(), None)
            .await
            .0,
        204
    );
    sys.stop().await;
}

#[tokio::test]
async fn listing_filters_by_status_and_name() {
    let sys = Sys::start().await;
    post(
        &sys,
        "/api/v1/contacts",
        json!({"email": "v@example.com", "tags": ["trial"]}),
    )
    .await;
    let template_id = template(&sys).await;
    for name in ["Spring sale", "Summer sale", "Welcome"] {
        let mut body = campaign(&template_id);
        body["name"] = json!(name);
        let created = post(&sys, CAMPAIGNS, body).await;
        if name == "Welcome" {
            let start = format!("{CAMPAIGNS}/{}/start", created["id"].as_str().unwrap());
            assert_eq!(sys.call(Method::POST, &start, sys.key(), None).await.0, 200);
        }
    }
    let names = |list: &Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, _, list) = sys
        .call(
            Method::GET,
            &format!("{CAMPAIGNS}?status=active"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(names(&list), ["Welcome"]);
    let (_, _, list) = sys
        .call(
            Method::GET,
            &format!("{CAMPAIGNS}?name=SALE&sort_by=name&order=asc"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(names(&list), ["Spring sale", "Summer sale"]);
    let (status, _, problem) = sys
        .call(
            Method::GET,
            &format!("{CAMPAIGNS}?status=running"),
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
async fn another_tenants_list_is_empty() {
    // (Every route's scope and 404 for another tenant: access::every_route_enforces_its_declared_access.)
    let sys = Sys::start().await;
    let template_id = template(&sys).await;
    post(&sys, CAMPAIGNS, campaign(&template_id)).await;
    let (_, other) = sys.other_tenant(Role::Owner).await;
    let theirs = secret(&sys.create_key(&other, "t", &["manage_campaigns"]).await);
    for query in ["", "?status=draft"] {
        let (_, _, list) = sys
            .call(Method::GET, &format!("{CAMPAIGNS}{query}"), &theirs, None)
            .await;
        assert_eq!(list["data"], json!([]), "{query}");
    }
    sys.stop().await;
}

#[tokio::test]
async fn a_campaign_starts_only_from_a_registered_sender() {
    let sys = Sys::start().await;
    let template_id = template(&sys).await;
    post(
        &sys,
        "/api/v1/contacts",
        json!({"email": "t@example.org", "tags": ["trial"]}),
    )
    .await;
    let mut body = campaign(&template_id);
    body["sender"]["from_email"] = json!("hello@acme.io");
    let id = post(&sys, CAMPAIGNS, body).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let start = format!("{CAMPAIGNS}/{id}/start");
    let (status, _, problem) = sys.call(Method::POST, &start, sys.key(), None).await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (422, Some("campaign_not_ready"))
    );
    assert_eq!(problem["errors"][0]["field"], "sender.from_email");
    assert_eq!(problem["errors"][0]["code"], "sender_not_allowed");
    sys.stop().await;
}
