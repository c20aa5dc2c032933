//! Who may call what, for every route in the route table (`pm_local::routes::ROUTES`),
//! driven by each route's declared `Access` so a new route is covered the day it is
//! added:
//! - no credentials: 401 (but for public routes; signed routes without their signed
//!   token or signature: 401 or 404, whatever else the request carries);
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
        let (status, _, email) = sys
            .call(
                Method::POST,
                "/api/v1/emails/send",
                key,
                Some(pm_tests::mail::message("a@example.com", json!({}))),
            )
            .await;
        assert_eq!(status, 202, "{email}");
        let email = email["id"].as_str().unwrap().to_string();
        let api_key = sys
            .create_key(sys.owner(), "fixture", &["send_email"])
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        Self {
            ids: vec![
                ("/api/v1/analytics/campaigns/", campaign.clone()),
                ("/api/v1/analytics/contacts/", contact.clone()),
                ("/api/v1/contacts/", contact),
                ("/api/v1/templates/", template),
                ("/api/v1/campaigns/", campaign),
                ("/api/v1/emails/", email),
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
            Some((prefix, id)) if route_path.contains("{id}") => format!(
                "{prefix}{}",
                route_path[prefix.len()..]
                    .replace("{id}", id)
                    // Only ever reached through another tenant's webhook (404 first).
                    .replace("{delivery_id}", "5b3f4f0e-8c1a-4d0e-9a51-2f6f1f9d2c11")
            ),
            _ => route_path.to_string(),
        }
    }
}

fn webhook_body() -> Value {
    // Email events only: the fixture's contact and campaign make no deliveries.
    json!({"url": "http://127.0.0.1:9/hook", "event_types": ["email.sent"]})
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
        ("POST" | "PUT", "/api/v1/webhooks" | "/api/v1/webhooks/{id}") => Some(webhook_body()),
        ("PATCH", "/api/v1/webhooks/{id}") => Some(json!({"enabled": true})),
        ("POST", "/api/v1/webhooks/{id}/test") => Some(json!({"event_type": "email.sent"})),
        ("POST", "/api/v1/webhooks/{id}/recover") => Some(json!({"since": "2026-01-01T00:00:00Z"})),
        ("POST", KEYS) => Some(json!({"name": "n", "scopes": ["send_email"]})),
        ("POST", "/api/v1/contacts/{id}/resubscribe") => Some(json!({"reason": "asked again"})),
        ("POST", "/api/v1/emails/send") => {
            Some(pm_tests::mail::message("b@example.com", json!({})))
        }
        ("PUT", "/api/v1/platform/email-providers") => {
            Some(json!({"transport": {"type": "capture"}, "senders": ["@example.com"]}))
        }
        ("POST", p) if p.starts_with("/api/v1/provider-events/") => Some(json!({})),
        ("POST", "/api/v1/platform/api-keys/{id}/regenerate") => Some(json!({})),
        _ => None,
    }
}

/// A key with every scope but `scope` (one per scope: bcrypt makes keys slow to mint).
async fn key_lacking(sys: &Sys, cache: &mut HashMap<Scope, String>, scope: Scope) -> String {
    if let Some(key) = cache.get(&scope) {
        return key.clone();
    }
    let others: Vec<&str> = Scope::ALL
        .iter()
        .map(|s| s.as_str())
        .filter(|s| *s != scope.as_str())
        .collect();
    let key = secret(&sys.create_key(sys.owner(), "lacking", &others).await);
    cache.insert(scope, key.clone());
    key
}

#[tokio::test]
async fn every_route_enforces_its_declared_access() {
    let sys = Sys::start().await;
    sys.unlimited().await;
    let fixture = Fixture::new(&sys).await;
    let (_, other_session) = sys.other_tenant(Role::Owner).await;
    let all: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let other_key = secret(&sys.create_key(&other_session, "all", &all).await);
    let member = sys.running.app.session_signer.issue(
        "member",
        sys.running.tenant.id,
        Role::Member,
        std::time::Duration::from_secs(600),
    );

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
            assert!(response.status().is_success(), "{what} is public");
            continue;
        }
        if route.access == Access::Signed {
            for bearer in ["", sys.key(), sys.owner()] {
                let mut request = sys
                    .http
                    .request(method.clone(), sys.url(&path))
                    .bearer_auth(bearer);
                if let Some(body) = &body {
                    request = request.json(body);
                }
                let response = request.send().await.unwrap();
                let status = response.status();
                // The open pixel answers every request with the image (a broken one
                // helps no one) and records nothing for a bad token.
                let image = response
                    .headers()
                    .get("content-type")
                    .is_some_and(|t| t == "image/gif");
                assert!(
                    [401, 404].contains(&status.as_u16()) || (status == 200 && image),
                    "{what} without its signature, bearer {bearer:.12}: {status}"
                );
            }
            continue;
        }

        let anonymous = sys
            .http
            .request(method.clone(), sys.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401, "{what} without credentials");

        let (wrong_kind, other_tenants) = match route.access {
            Access::Key(scope) | Access::KeyOrSession(scope) => {
                let lacking = key_lacking(&sys, &mut lacking_keys, scope).await;
                let (status, _, problem) = sys
                    .call(method.clone(), &path, &lacking, body.clone())
                    .await;
                assert_eq!(
                    (status.as_u16(), problem["code"].as_str()),
                    (403, Some("insufficient_scope")),
                    "{what} without {scope}"
                );
                if matches!(route.access, Access::Key(_)) {
                    (Some(sys.owner().to_string()), vec![other_key.clone()])
                } else {
                    let changes = route.method != "GET" || route.path.ends_with("/secret");
                    if changes {
                        let (status, _, problem) =
                            sys.call(method.clone(), &path, &member, body.clone()).await;
                        assert_eq!(
                            (status.as_u16(), problem["code"].as_str()),
                            (403, Some("insufficient_role")),
                            "{what} by a member"
                        );
                    }
                    (None, vec![other_key.clone(), other_session.clone()])
                }
            }
            Access::AnyKey => (Some(sys.owner().to_string()), vec![other_key.clone()]),
            Access::Session => (Some(sys.key().to_string()), vec![other_session.clone()]),
            Access::Public | Access::Signed => unreachable!(),
        };
        if let Some(wrong_kind) = wrong_kind {
            let (status, _, _) = sys
                .call(method.clone(), &path, &wrong_kind, body.clone())
                .await;
            assert_eq!(status, 401, "{what} with the wrong kind of credential");
        }

        if route.path.contains("{id}") {
            for other in &other_tenants {
                let (status, _, problem) =
                    sys.call(method.clone(), &path, other, body.clone()).await;
                assert_eq!(status, 404, "{what} from another tenant: {problem}");
                assert_eq!(problem["code"], "not_found");
            }
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
