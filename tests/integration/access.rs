//! Who may call what, for every route in the route table (`pm_local::routes::ROUTES`),
//! driven by each route's declared `Access` so a new route is covered the day it is
//! added:
//! - no credentials: 401 (but for public routes);
//! - an API key holding every scope but the route's: 403 `insufficient_scope`;
//! - a session token on an API-key route, or an API key on a session route: 401;
//! - another tenant's credentials (every scope, owner role) on an id this tenant owns:
//!   404, and the resource is untouched.

use std::collections::HashMap;

use pm_auth::session::Role;
use pm_domain::Scope;
use pm_local::routes::{Access, ROUTES};
use pm_tests::system::{secret, Sys, KEYS};
use reqwest::Method;
use serde_json::{json, Value};

/// One of each resource of the demo tenant, and a body each writing route accepts.
struct Fixture {
    ids: Vec<(&'static str, String)>,
}

impl Fixture {
    async fn new(sys: &Sys) -> Self {
        let key = sys.key();
        let post = |path: &'static str, body: Value| async move {
            let (status, _, created) = sys.call(Method::POST, path, key, Some(body)).await;
            assert_eq!(status, 201, "{path}: {created}");
            created["id"].as_str().unwrap().to_string()
        };
        let contact = post("/api/v1/contacts", json!({"email": "a@example.com"})).await;
        let template = post("/api/v1/templates", template_body()).await;
        let campaign = post("/api/v1/campaigns", campaign_body(&template, &contact)).await;
        let api_key = sys
            .create_key(sys.owner(), "fixture", &["send_email"])
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        Self {
            ids: vec![
                ("/api/v1/contacts/", contact),
                ("/api/v1/templates/", template),
                ("/api/v1/campaigns/", campaign),
                ("/api/v1/platform/api-keys/", api_key),
            ],
        }
    }

    /// The route's path with `{id}` replaced by the demo tenant's resource.
    fn path(&self, route_path: &str) -> String {
        match self
            .ids
            .iter()
            .find(|(prefix, _)| route_path.starts_with(prefix))
        {
            Some((prefix, id)) if route_path.contains("{id}") => {
                format!("{prefix}{}", route_path[prefix.len()..].replace("{id}", id))
            }
            _ => route_path.to_string(),
        }
    }
}

fn template_body() -> Value {
    json!({"name": "T", "subject": "Hi", "text": "Hello"})
}

fn campaign_body(template: &str, contact: &str) -> Value {
    json!({
        "name": "C",
        "sender": {"from_name": "A", "from_email": "a@example.com"},
        "steps": [{"template_id": template}],
        "audience": {"contact_ids": [contact]}
    })
}

/// A valid body for the route, so that a refusal is about access, not about input.
fn body_for(method: &str, path: &str, fixture: &Fixture) -> Option<Value> {
    let id = |prefix| {
        fixture
            .ids
            .iter()
            .find(|(p, _)| *p == prefix)
            .unwrap()
            .1
            .clone()
    };
    match (method, path) {
        ("POST" | "PUT", "/api/v1/contacts" | "/api/v1/contacts/{id}") => {
            Some(json!({"email": "b@example.com"}))
        }
        ("POST" | "PUT", "/api/v1/templates" | "/api/v1/templates/{id}") => Some(template_body()),
        ("POST" | "PUT", "/api/v1/campaigns" | "/api/v1/campaigns/{id}") => Some(campaign_body(
            &id("/api/v1/templates/"),
            &id("/api/v1/contacts/"),
        )),
        ("POST", "/api/v1/templates/{id}/render") => Some(json!({"variables": {}})),
        ("POST", KEYS) => Some(json!({"name": "n", "scopes": ["send_email"]})),
        ("POST", "/api/v1/platform/api-keys/{id}/regenerate") => Some(json!({})),
        _ => None,
    }
}

#[tokio::test]
async fn every_route_enforces_its_declared_access() {
    let sys = Sys::start().await;
    sys.unlimited().await;
    let fixture = Fixture::new(&sys).await;
    let (_, other_session) = sys.other_tenant(Role::Owner).await;
    let all: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let other_key = secret(&sys.create_key(&other_session, "all", &all).await);

    // One key per scope left out (bcrypt makes keys slow to mint).
    let mut lacking_keys: HashMap<Scope, String> = HashMap::new();
    let mut checked = 0;
    for route in ROUTES {
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let path = fixture.path(route.path);
        let body = body_for(route.method, route.path, &fixture);
        let what = format!("{} {}", route.method, route.path);
        if route.access == Access::Public {
            let response = sys
                .http
                .request(method, sys.url(&path))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{what} is public");
            continue;
        }

        let anonymous = sys
            .http
            .request(method.clone(), sys.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401, "{what} without credentials");

        let (wrong_kind, other_tenant) = match route.access {
            Access::Key(scope) => {
                let others: Vec<&str> = all
                    .iter()
                    .copied()
                    .filter(|s| *s != scope.as_str())
                    .collect();
                if let std::collections::hash_map::Entry::Vacant(slot) = lacking_keys.entry(scope) {
                    slot.insert(secret(
                        &sys.create_key(sys.owner(), "lacking", &others).await,
                    ));
                }
                let lacking = &lacking_keys[&scope];
                let (status, _, problem) =
                    sys.call(method.clone(), &path, lacking, body.clone()).await;
                assert_eq!(
                    (status.as_u16(), problem["code"].as_str()),
                    (403, Some("insufficient_scope")),
                    "{what} without {scope}"
                );
                (sys.owner().to_string(), other_key.clone())
            }
            Access::AnyKey => (sys.owner().to_string(), other_key.clone()),
            Access::Session => (sys.key().to_string(), other_session.clone()),
            Access::Public => unreachable!(),
        };
        let (status, _, _) = sys
            .call(method.clone(), &path, &wrong_kind, body.clone())
            .await;
        assert_eq!(status, 401, "{what} with the wrong kind of credential");

        if route.path.contains("{id}") {
            let (status, _, problem) = sys
                .call(method.clone(), &path, &other_tenant, body.clone())
                .await;
            assert_eq!(status, 404, "{what} from another tenant: {problem}");
            assert_eq!(problem["code"], "not_found");
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} routes checked");

    // Nothing another tenant tried changed anything.
    for (prefix, id) in &fixture.ids {
        let path = format!("{prefix}{id}");
        if prefix.contains("platform") {
            let (_, _, list) = sys.call(Method::GET, KEYS, sys.owner(), None).await;
            let key = list["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["id"] == id.as_str())
                .cloned()
                .unwrap();
            assert_eq!(key["status"], "active", "{path}");
        } else {
            let (status, _, _) = sys.call(Method::GET, &path, sys.key(), None).await;
            assert_eq!(status, 200, "{path} still there");
        }
    }
    let (_, _, campaign) = sys
        .call(
            Method::GET,
            &fixture.path("/api/v1/campaigns/{id}"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(campaign["status"], "draft");
    sys.stop().await;
}
