//! /api/v1/templates over HTTP on the local runtime, against real PostgreSQL.

use pm_auth::session::Role;
use pm_tests::system::{secret, Sys};
use reqwest::Method;
use serde_json::{json, Value};

const TEMPLATES: &str = "/api/v1/templates";

fn welcome() -> Value {
    json!({
        "name": "Welcome",
        "subject": "Welcome, {{ first_name | default('there') }}!",
        "html": "<p>Hi {{ first_name | default('there') }} from {{ company }}</p>",
        "text": "Hi {{ first_name | default('there') }} from {{ company }}"
    })
}

async fn create(sys: &Sys, key: &str, body: Value) -> Value {
    let (status, _, created) = sys.call(Method::POST, TEMPLATES, key, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created
}

#[tokio::test]
async fn create_get_replace_render_delete() {
    let sys = Sys::start().await;
    let key = sys.key().to_string();
    let created = create(&sys, &key, welcome()).await;
    let one = format!("{TEMPLATES}/{}", created["id"].as_str().unwrap());
    let (status, _, got) = sys.call(Method::GET, &one, &key, None).await;
    assert_eq!((status.as_u16(), &got), (200, &created));

    let render = format!("{one}/render");
    let (status, _, rendered) = sys
        .call(
            Method::POST,
            &render,
            &key,
            Some(json!({"variables": {"company": "A&B <Ltd>"}})),
        )
        .await;
    assert_eq!(status, 200, "{rendered}");
    assert_eq!(rendered["subject"], "Welcome, there!");
    assert_eq!(rendered["html"], "<p>Hi there from A&amp;B &lt;Ltd&gt;</p>");
    assert_eq!(rendered["text"], "Hi there from A&B <Ltd>");

    let (status, _, problem) = sys
        .call(
            Method::POST,
            &render,
            &key,
            Some(json!({"variables": {"first_name": "Ann"}})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (422, Some("missing_variable"))
    );
    assert_eq!(problem["errors"][0]["field"], "variables.company");
    assert_eq!(problem["errors"].as_array().unwrap().len(), 1);

    let (status, _, replaced) = sys
        .call(
            Method::PUT,
            &one,
            &key,
            Some(json!({"name": "Plain", "subject": "Hi", "text": "Hello {{ name }}"})),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["html"], Value::Null);
    let (_, _, rendered) = sys
        .call(
            Method::POST,
            &render,
            &key,
            Some(json!({"variables": {"name": "Bo"}})),
        )
        .await;
    assert_eq!(rendered["text"], "Hello Bo");

    assert_eq!(sys.call(Method::DELETE, &one, &key, None).await.0, 204);
    assert_eq!(sys.call(Method::GET, &one, &key, None).await.0, 404);
    assert_eq!(
        sys.call(Method::POST, &render, &key, Some(json!({})))
            .await
            .0,
        404
    );
    sys.stop().await;
}

#[tokio::test]
async fn bad_templates_get_precise_errors() {
    let sys = Sys::start().await;
    let key = sys.key().to_string();
    for (body, field, code) in [
        (json!({"name": "x", "subject": "s"}), "html", "required"),
        (
            json!({"name": "", "subject": "s", "text": "t"}),
            "name",
            "invalid_length",
        ),
        (
            json!({"name": "x", "subject": "{{ oops", "text": "t"}),
            "subject",
            "invalid_template",
        ),
        (
            json!({"name": "x", "subject": "s", "html": "{% if %}"}),
            "html",
            "invalid_template",
        ),
        (
            json!({"name": "x", "subject": "s", "text": "t", "body": "b"}),
            "body",
            "invalid_type",
        ),
    ] {
        let (status, _, problem) = sys
            .call(Method::POST, TEMPLATES, &key, Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{body}: {problem}");
    }
    let one = create(&sys, &key, welcome()).await;
    let render = format!("{TEMPLATES}/{}/render", one["id"].as_str().unwrap());
    let (status, _, problem) = sys
        .call(
            Method::POST,
            &render,
            &key,
            Some(json!({"variables": [1, 2]})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (422, Some("validation_failed"))
    );
    sys.stop().await;
}

#[tokio::test]
async fn listing_filters_by_name_and_sorts() {
    let sys = Sys::start().await;
    let key = sys.key().to_string();
    for name in ["Welcome", "Win-back", "Receipt"] {
        let mut body = welcome();
        body["name"] = json!(name);
        create(&sys, &key, body).await;
    }
    let names = |list: &Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, _, list) = sys
        .call(
            Method::GET,
            &format!("{TEMPLATES}?sort_by=name&order=asc"),
            &key,
            None,
        )
        .await;
    assert_eq!(names(&list), ["Receipt", "Welcome", "Win-back"]);
    let (_, _, list) = sys
        .call(
            Method::GET,
            &format!("{TEMPLATES}?name=w&sort_by=name&order=asc"),
            &key,
            None,
        )
        .await;
    assert_eq!(names(&list), ["Welcome", "Win-back"]);
    let (_, _, list) = sys
        .call(
            Method::GET,
            &format!("{TEMPLATES}?limit=1&sort_by=name&order=desc"),
            &key,
            None,
        )
        .await;
    assert_eq!(names(&list), ["Win-back"]);
    let cursor = list["pagination"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, _, next) = sys
        .call(
            Method::GET,
            &format!("{TEMPLATES}?limit=1&sort_by=name&order=desc&cursor={cursor}"),
            &key,
            None,
        )
        .await;
    assert_eq!(names(&next), ["Welcome"]);
    let (status, _, problem) = sys
        .call(
            Method::GET,
            &format!("{TEMPLATES}?sort_by=subject"),
            &key,
            None,
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (400, Some("invalid_sort"))
    );
    sys.stop().await;
}

#[tokio::test]
async fn another_tenants_list_is_empty() {
    // (Every route's scope and 404 for another tenant: access::every_route_enforces_its_declared_access.)
    let sys = Sys::start().await;
    create(&sys, sys.key(), welcome()).await;
    let (_, other_session) = sys.other_tenant(Role::Owner).await;
    let theirs = secret(
        &sys.create_key(&other_session, "t", &["manage_templates"])
            .await,
    );
    for query in ["", "?name=welcome"] {
        let (_, _, list) = sys
            .call(Method::GET, &format!("{TEMPLATES}{query}"), &theirs, None)
            .await;
        assert_eq!(list["data"], json!([]), "{query}");
    }
    sys.stop().await;
}
