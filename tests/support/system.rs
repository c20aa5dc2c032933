//! A whole local system for HTTP-level tests: a fresh database, the local runtime on a
//! free port, and helpers to call it as a client would.

use std::time::Duration;

use pm_auth::session::Role;
use pm_config::Env;
use pm_domain::{Plan, TenantId};
use pm_local::cli::ServeOptions;
use pm_local::runtime::{self, Running};
use pm_store::tenants;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::db::TestDb;

pub const KEYS: &str = "/api/v1/platform/api-keys";

/// The full key from a creation response.
pub fn secret(body: &Value) -> String {
    body["secret"]
        .as_str()
        .expect("a created key has its secret")
        .to_string()
}

pub struct Sys {
    pub running: Running,
    pub http: Client,
    _db: TestDb,
}

impl Sys {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra: &[(&str, String)]) -> Self {
        let db = TestDb::new().await;
        let mut vars = vec![("DATABASE_URL".to_string(), db.config.url.expose().clone())];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let env = runtime::local_env(Env::fixed(vars));
        let options = ServeOptions {
            host: "127.0.0.1".into(),
            port: 0,
            credentials_out: None,
        };
        let running = runtime::start(&options, &env)
            .await
            .expect("runtime starts");
        Self {
            running,
            http: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            _db: db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url())
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(bearer);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, headers, value)
    }

    pub fn owner(&self) -> &str {
        &self.running.session_token
    }

    pub async fn create_key(&self, session: &str, name: &str, scopes: &[&str]) -> Value {
        let (status, _, body) = self
            .call(
                Method::POST,
                KEYS,
                session,
                Some(json!({"name": name, "scopes": scopes})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    pub async fn me(&self, key: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        self.call(Method::GET, "/api/v1/me", key, None).await
    }

    /// A second tenant and a session for it.
    pub async fn other_tenant(&self, role: Role) -> (TenantId, String) {
        let client = self.running.app.db.client().await.unwrap();
        let tenant = tenants::create(&**client, "Other Co", Plan::Starter)
            .await
            .unwrap();
        let token = self.running.app.session_signer.issue(
            "other-user",
            tenant.id,
            role,
            Duration::from_secs(600),
        );
        (tenant.id, token)
    }

    pub async fn stop(self) {
        self.running.stop().await;
    }
}

impl Sys {
    /// Lifts the demo tenant's rate limit out of the way of tests that make many calls.
    pub async fn unlimited(&self) {
        let client = self.running.app.db.client().await.unwrap();
        client
            .execute(
                "UPDATE tenants SET rate_limit_per_minute = 1000000 WHERE id = $1",
                &[&self.running.tenant.id],
            )
            .await
            .unwrap();
    }

    /// The outbox events whose payload has this `id`, oldest first: (type, payload).
    pub async fn events(&self, resource_id: &str) -> Vec<(String, Value)> {
        let client = self.running.app.db.client().await.unwrap();
        client
            .query(
                "SELECT event_type, payload FROM event_outbox WHERE payload->>'id' = $1 \
                 ORDER BY position",
                &[&resource_id],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    /// Just the types of [`Sys::events`].
    pub async fn event_types(&self, resource_id: &str) -> Vec<String> {
        self.events(resource_id)
            .await
            .into_iter()
            .map(|(t, _)| t)
            .collect()
    }

    /// The demo key: every scope.
    pub fn key(&self) -> &str {
        &self.running.api_key
    }
}
