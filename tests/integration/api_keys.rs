//! API keys end to end over HTTP on the local runtime (the handlers the Lambdas run),
//! against real PostgreSQL; plus the pieces that need a real peer (OpenBao, moto).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use pm_auth::session::Role;
use pm_domain::paging::{Order, SortField, Sorting};
use pm_domain::{Plan, Scope};
use pm_http::resource::Resource;
use pm_store::tenants;
use pm_tests::db::TestDb;
use pm_tests::eventually;
use pm_tests::peers;
use pm_tests::system::{secret, Sys, KEYS};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn a_created_key_is_shown_once_and_works() {
    let sys = Sys::start().await;
    let (status, headers, body) = sys
        .call(Method::POST, KEYS, sys.owner(), Some(json!({"name": "Zapier", "scopes": ["manage_contacts", "read_analytics", "manage_contacts"]})))
        .await;
    assert_eq!(status, 201);
    assert_eq!(headers["cache-control"], "no-store");
    let key = secret(&body);
    assert!(key.starts_with("pm_live_") && key.len() == 40, "{key}");
    assert_eq!(
        body["display"],
        format!("pm_live_{}…{}", &key[8..12], &key[36..])
    );
    assert_eq!(body["scopes"], json!(["manage_contacts", "read_analytics"]));
    assert_eq!(body["status"], "active");
    assert_eq!(body["created_by"], "demo-user");

    // Never again: not in the list, not in /me.
    let (_, _, list) = sys.call(Method::GET, KEYS, sys.owner(), None).await;
    assert!(
        !list.to_string().contains(&key[8..]),
        "the list leaks the key"
    );
    let listed = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == body["id"])
        .unwrap();
    assert!(listed.get("secret").is_none());

    let (status, headers, me) = sys.me(&key).await;
    assert_eq!(status, 200, "{me}");
    assert!(!me.to_string().contains(&key[8..]));
    assert_eq!(me["api_key"]["id"], body["id"]);
    assert_eq!(
        me["api_key"]["scopes"],
        json!(["manage_contacts", "read_analytics"])
    );
    assert_eq!(me["tenant"]["id"], sys.running.tenant.id.to_string());
    assert_eq!(me["tenant"]["plan"], "pro");
    assert_eq!(me["rate_limit"]["requests_per_minute"], 300);
    for name in [
        "ratelimit-policy",
        "ratelimit",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(headers.contains_key(name), "missing {name}");
    }
    assert_eq!(headers["x-ratelimit-limit"], "300");
    assert_eq!(headers["ratelimit-policy"], "\"per-key\";q=300;w=60");
    sys.stop().await;
}

#[tokio::test]
async fn bad_create_requests_get_precise_errors() {
    let sys = Sys::start().await;
    let cases = [
        (json!({"scopes": ["send_email"]}), "body"),
        (json!({"name": "  ", "scopes": ["send_email"]}), "name"),
        (json!({"name": "x", "scopes": []}), "scopes"),
        (
            json!({"name": "x", "scopes": ["send_email", "send_mail"]}),
            "scopes[1]",
        ),
        (
            json!({"name": "x", "scopes": ["send_email"], "admin": true}),
            "body",
        ),
    ];
    for (body, field) in cases {
        let (status, _, problem) = sys
            .call(Method::POST, KEYS, sys.owner(), Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(problem["code"], "validation_failed");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let (_, _, problem) = sys
        .call(
            Method::POST,
            KEYS,
            sys.owner(),
            Some(json!({"name": "x", "scopes": ["send_mail"]})),
        )
        .await;
    assert_eq!(problem["errors"][0]["code"], "unknown_scope");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("\"send_mail\""));

    let response = sys
        .http
        .post(sys.url(KEYS))
        .bearer_auth(sys.owner())
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = sys
        .http
        .post(sys.url(KEYS))
        .bearer_auth(sys.owner())
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    // Nothing was created by any of that.
    let (_, _, list) = sys.call(Method::GET, KEYS, sys.owner(), None).await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "only the demo key: {list}"
    );
    sys.stop().await;
}

#[tokio::test]
async fn every_kind_of_bad_key_gets_the_same_401() {
    let sys = Sys::start().await;
    let revoked = secret(&sys.create_key(sys.owner(), "old", &["send_email"]).await);
    let id = {
        let (_, _, me) = sys.me(&revoked).await;
        me["api_key"]["id"].as_str().unwrap().to_string()
    };
    let (status, _, _) = sys
        .call(Method::DELETE, &format!("{KEYS}/{id}"), sys.owner(), None)
        .await;
    assert_eq!(status, 204);

    let mut bodies = HashSet::new();
    let unknown = format!("pm_live_{}", "A".repeat(32));
    for credential in [
        None,
        Some("pm_live_short"),
        Some(unknown.as_str()),
        Some(revoked.as_str()),
        Some(sys.owner()),
    ] {
        let mut request = sys.http.get(sys.url("/api/v1/me"));
        if let Some(c) = credential {
            request = request.bearer_auth(c);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{credential:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let mut body: Value = response.json().await.unwrap();
        body.as_object_mut().unwrap().remove("request_id");
        bodies.insert(body.to_string());
    }
    assert_eq!(bodies.len(), 1, "bodies differ: {bodies:?}");
    sys.stop().await;
}

#[tokio::test]
async fn the_warm_path_skips_bcrypt_and_revocation_bites_on_the_next_request() {
    let sys = Sys::start().await;
    let body = sys.create_key(sys.owner(), "ci", &["read_analytics"]).await;
    let key = secret(&body);
    let auth = &sys.running.app.auth;
    let before = auth.bcrypt_checks();
    for _ in 0..5 {
        assert_eq!(sys.me(&key).await.0, 200);
    }
    assert_eq!(
        auth.bcrypt_checks() - before,
        1,
        "bcrypt once per key per process"
    );

    let path = format!("{KEYS}/{}", body["id"].as_str().unwrap());
    assert_eq!(
        sys.call(Method::DELETE, &path, sys.owner(), None).await.0,
        204
    );
    assert_eq!(
        sys.me(&key).await.0,
        401,
        "revoked keys fail at once, cache or not"
    );
    assert_eq!(
        sys.call(Method::DELETE, &path, sys.owner(), None).await.0,
        204,
        "idempotent"
    );
    sys.stop().await;
}

#[tokio::test]
async fn scopes_are_enforced_by_the_middleware() {
    let sys = Sys::start().await;
    let key = secret(
        &sys.create_key(sys.owner(), "reader", &["read_analytics"])
            .await,
    );
    let request = |key: &str| {
        http::Request::builder()
            .uri("/api/v1/emails")
            .header("authorization", format!("Bearer {key}"))
            .body(pm_http::Body::Empty)
            .unwrap()
    };
    static CREATED_AT: [SortField; 1] = [SortField::timestamp("created_at")];
    fn resource(scope: Scope) -> &'static Resource {
        Box::leak(Box::new(Resource {
            name: "email",
            scope: Some(scope),
            base_path: "/api/v1/emails",
            sorting: Sorting {
                fields: &CREATED_AT,
                default_order: Order::Desc,
            },
        }))
    }
    let handler = |_| async { pm_http::json(http::StatusCode::OK, &json!({"sent": true})) };
    let auth = &sys.running.app.auth;
    let denied = auth
        .guard(request(&key), resource(Scope::SendEmail), handler)
        .await
        .unwrap_err();
    assert_eq!(
        (denied.status.as_u16(), denied.code),
        (403, "insufficient_scope")
    );
    assert!(denied.detail.contains("send_email"), "{}", denied.detail);
    let allowed = auth
        .guard(request(&key), resource(Scope::ReadAnalytics), handler)
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert!(allowed.headers().contains_key("x-ratelimit-remaining"));
    sys.stop().await;
}

#[tokio::test]
async fn tenants_cannot_see_change_or_use_each_others_keys() {
    let sys = Sys::start().await;
    let mine = sys.create_key(sys.owner(), "mine", &["send_email"]).await;
    let my_key = secret(&mine);
    let my_path = format!("{KEYS}/{}", mine["id"].as_str().unwrap());
    let (other_tenant, other) = sys.other_tenant(Role::Owner).await;
    let theirs = sys.create_key(&other, "theirs", &["send_email"]).await;

    let (_, _, list) = sys.call(Method::GET, KEYS, &other, None).await;
    let ids: Vec<&Value> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["id"])
        .collect();
    assert_eq!(ids, vec![&theirs["id"]], "only their own key");

    assert_eq!(
        sys.call(Method::DELETE, &my_path, &other, None).await.0,
        404
    );
    assert_eq!(
        sys.call(Method::POST, &format!("{my_path}/regenerate"), &other, None)
            .await
            .0,
        404
    );
    assert_eq!(
        sys.call(Method::GET, &format!("{my_path}/usage"), &other, None)
            .await
            .0,
        404
    );
    // The same 404 as for a key that does not exist at all.
    let missing = format!("{KEYS}/{}", uuid::Uuid::new_v4());
    let (_, _, a) = sys.call(Method::DELETE, &my_path, &other, None).await;
    let (_, _, b) = sys.call(Method::DELETE, &missing, &other, None).await;
    assert_eq!(a["code"], b["code"]);
    assert_eq!(
        sys.me(&my_key).await.0,
        200,
        "still works after their attempts"
    );

    let (_, _, me) = sys.me(&secret(&theirs)).await;
    assert_eq!(me["tenant"]["id"], other_tenant.to_string());
    sys.stop().await;
}

#[tokio::test]
async fn sessions_and_roles_guard_key_management() {
    let sys = Sys::start().await;
    let key = secret(&sys.create_key(sys.owner(), "k", &["send_email"]).await);
    // An API key is not a session, and a forged token is nothing.
    assert_eq!(sys.call(Method::GET, KEYS, &key, None).await.0, 401);
    assert_eq!(
        sys.call(Method::GET, KEYS, "eyJhbGciOiJIUzI1NiJ9.e30.x", None)
            .await
            .0,
        401
    );
    let response = sys.http.get(sys.url(KEYS)).send().await.unwrap();
    assert_eq!(response.status(), 401);

    let member = sys.running.app.session_signer.issue(
        "member-user",
        sys.running.tenant.id,
        Role::Member,
        Duration::from_secs(600),
    );
    assert_eq!(sys.call(Method::GET, KEYS, &member, None).await.0, 200);
    let (status, _, problem) = sys
        .call(
            Method::POST,
            KEYS,
            &member,
            Some(json!({"name": "x", "scopes": ["send_email"]})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (403, Some("insufficient_role"))
    );
    sys.stop().await;
}

#[tokio::test]
async fn rolling_a_key_with_and_without_grace() {
    let sys = Sys::start().await;
    let first = sys
        .create_key(sys.owner(), "prod", &["send_email", "manage_webhooks"])
        .await;
    let path = format!("{KEYS}/{}/regenerate", first["id"].as_str().unwrap());

    // With a grace period both keys work, and the old one says when it ends.
    let (status, _, rolled) = sys
        .call(
            Method::POST,
            &path,
            sys.owner(),
            Some(json!({"grace_period_seconds": 3600})),
        )
        .await;
    assert_eq!(status, 201, "{rolled}");
    assert_eq!(rolled["name"], "prod");
    assert_eq!(rolled["scopes"], first["scopes"]);
    assert_ne!(rolled["id"], first["id"]);
    assert_eq!(rolled["previous_key"]["status"], "expiring");
    assert_eq!(rolled["previous_key"]["replaced_by"], rolled["id"]);
    assert_eq!(sys.me(&secret(&first)).await.0, 200);
    assert_eq!(sys.me(&secret(&rolled)).await.0, 200);
    // A key already rolled cannot be rolled again.
    let (status, _, problem) = sys.call(Method::POST, &path, sys.owner(), None).await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (409, Some("key_not_active"))
    );

    // Without one (and without a body), the old key stops at once.
    let second_path = format!("{KEYS}/{}/regenerate", rolled["id"].as_str().unwrap());
    let (status, _, third) = sys
        .call(Method::POST, &second_path, sys.owner(), None)
        .await;
    assert_eq!(status, 201);
    assert_eq!(sys.me(&secret(&rolled)).await.0, 401);
    assert_eq!(sys.me(&secret(&third)).await.0, 200);
    assert_eq!(third["previous_key"]["status"], "revoked");

    for bad in [
        json!({"grace_period_seconds": 86401}),
        json!({"grace_period_seconds": -1}),
        json!({"grace": 5}),
    ] {
        let path = format!("{KEYS}/{}/regenerate", third["id"].as_str().unwrap());
        let (status, _, problem) = sys
            .call(Method::POST, &path, sys.owner(), Some(bad.clone()))
            .await;
        assert_eq!(status, 422, "{bad} → {problem}");
    }
    sys.stop().await;
}

async fn set_limit(sys: &Sys, per_minute: i32) {
    let client = sys.running.app.db.client().await.unwrap();
    client
        .execute(
            "UPDATE tenants SET rate_limit_per_minute = $1 WHERE id = $2",
            &[&per_minute, &sys.running.tenant.id],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn parallel_requests_beyond_the_limit_get_429_with_retry_after() {
    let sys = Sys::start().await;
    set_limit(&sys, 5).await;
    let key = secret(&sys.create_key(sys.owner(), "burst", &["send_email"]).await);
    sys.me(&key).await; // pay bcrypt first, so the burst is quick
    let sys = Arc::new(sys);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (sys, key) = (sys.clone(), key.clone());
        tasks.push(tokio::spawn(async move { sys.me(&key).await }));
    }
    let mut ok = 0;
    let mut limited = 0;
    for task in tasks {
        let (status, headers, body) = task.await.unwrap();
        assert_eq!(headers["x-ratelimit-limit"], "5");
        match status.as_u16() {
            200 => ok += 1,
            429 => {
                limited += 1;
                assert_eq!(body["code"], "rate_limited");
                let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
                assert!((1..=12).contains(&retry), "retry after {retry}");
            }
            other => panic!("unexpected {other}"),
        }
    }
    // 4 tokens were left after the warm-up call; refill is 1 per 12 s.
    assert_eq!((ok, limited), (4, 16));
    Arc::into_inner(sys).unwrap().stop().await;
}

#[tokio::test]
async fn usage_counts_requests_and_errors_per_key() {
    let sys = Sys::start().await;
    set_limit(&sys, 3).await;
    let body = sys
        .create_key(sys.owner(), "counted", &["send_email"])
        .await;
    let key = secret(&body);
    for _ in 0..5 {
        sys.me(&key).await; // 3 × 200, then 2 × 429
    }
    let id = body["id"].as_str().unwrap();
    // The local runtime flushes usage twice a second.
    let listed = eventually("usage to be flushed", Duration::from_secs(5), || async {
        let (_, _, list) = sys.call(Method::GET, KEYS, sys.owner(), None).await;
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id && k["request_count"] == 5)
            .cloned()
    })
    .await;
    assert_eq!(listed["request_count"], 5, "{listed}");
    assert_eq!(listed["error_count"], 2);
    assert!(listed["last_used_at"].is_string());

    let (status, _, usage) = sys
        .call(
            Method::GET,
            &format!("{KEYS}/{id}/usage?granularity=minute"),
            sys.owner(),
            None,
        )
        .await;
    assert_eq!(status, 200, "{usage}");
    let points = usage["data"].as_array().unwrap();
    assert_eq!(points.len(), 61);
    let requests: i64 = points.iter().map(|p| p["requests"].as_i64().unwrap()).sum();
    let errors: i64 = points.iter().map(|p| p["errors"].as_i64().unwrap()).sum();
    assert_eq!((requests, errors), (5, 2));
    let (status, _, hourly) = sys
        .call(
            Method::GET,
            &format!("{KEYS}/{id}/usage"),
            sys.owner(),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(hourly["data"].as_array().unwrap().len(), 25);
    for (query, code) in [
        ("from=1600-01-01T00:00:00Z", "invalid_parameter"),
        ("to=2200-01-01T00:00:00Z", "invalid_parameter"),
        (
            "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            "invalid_range",
        ),
        (
            "granularity=minute&from=2026-01-01T00:00:00Z&to=2026-01-02T00:01:00Z",
            "range_too_long",
        ),
    ] {
        let url = format!("{KEYS}/{id}/usage?{query}");
        let (status, _, problem) = sys.call(Method::GET, &url, sys.owner(), None).await;
        assert_eq!(
            (status.as_u16(), problem["code"].as_str()),
            (400, Some(code)),
            "{query}"
        );
    }
    let (status, _, problem) = sys
        .call(
            Method::GET,
            &format!("{KEYS}/{id}/usage?granularity=week"),
            sys.owner(),
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
async fn list_pages_with_a_cursor() {
    let sys = Sys::start().await;
    for i in 0..5 {
        sys.create_key(sys.owner(), &format!("k{i}"), &["send_email"])
            .await;
    }
    let mut seen = Vec::new();
    let mut path = format!("{KEYS}?limit=2");
    loop {
        let (status, _, page) = sys.call(Method::GET, &path, sys.owner(), None).await;
        assert_eq!(status, 200);
        assert!(page["data"].as_array().unwrap().len() <= 2);
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["id"].clone()),
        );
        match page["pagination"]["next_cursor"].as_str() {
            Some(cursor) => path = format!("{KEYS}?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "five keys and the demo key");
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        6,
        "no duplicates"
    );
    assert_eq!(
        sys.call(Method::GET, &format!("{KEYS}?limit=0"), sys.owner(), None)
            .await
            .0,
        400
    );
    assert_eq!(
        sys.call(
            Method::GET,
            &format!("{KEYS}?cursor=zzz"),
            sys.owner(),
            None
        )
        .await
        .0,
        400
    );
    sys.stop().await;
}

#[tokio::test]
async fn the_bcrypt_hash_is_stored_at_its_vault_path() {
    let vault = peers::vault();
    let sys = Sys::start_with(&[
        ("SECRETS_BACKEND", "vault".into()),
        ("VAULT_ADDR", vault.addr.clone()),
        ("VAULT_TOKEN", vault.token.clone()),
    ])
    .await;
    let body = sys
        .create_key(sys.owner(), "vaulted", &["send_email"])
        .await;
    let key = secret(&body);
    let path = format!(
        "api_keys/{}/{}",
        sys.running.tenant.id,
        body["id"].as_str().unwrap()
    );
    let raw: Value = reqwest::Client::new()
        .get(format!("{}/v1/secret/data/{path}", vault.addr))
        .header("X-Vault-Token", &vault.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hash = raw["data"]["data"]["hash"].as_str().unwrap();
    assert!(hash.starts_with("$2b$12$"), "{hash}");
    assert!(pm_auth::keys::bcrypt_verify(&key, hash));
    assert_eq!(sys.me(&key).await.0, 200);
    sys.stop().await;
}

#[tokio::test]
async fn a_secrets_outage_creates_nothing_and_says_503() {
    let test = TestDb::new().await;
    let pepper = pm_auth::keys::Pepper::new(vec![7; 32]);
    let dead = pm_ports::secrets::VaultStore::new(pm_ports::secrets::VaultConfig {
        addr: format!("http://127.0.0.1:{}", peers::free_port()),
        token: None,
        mount: "secret".into(),
        timeout: Duration::from_secs(2),
        ..Default::default()
    })
    .unwrap();
    let client = test.db.client().await.unwrap();
    let tenant = tenants::create(&**client, "Acme", Plan::Pro).await.unwrap();
    let issuer = pm_auth::issue::Issuer {
        db: test.db.clone(),
        secrets: std::sync::Arc::new(dead),
        pepper,
    };
    let err = issuer
        .create(tenant.id, "k", &[Scope::SendEmail], "u")
        .await
        .err()
        .unwrap();
    assert_eq!(
        (err.status.as_u16(), err.code),
        (503, "key_store_unavailable")
    );
    let count: i64 = client
        .query_one("SELECT count(*) FROM api_keys", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0, "no key row without its hash");
}

#[tokio::test]
async fn parallel_first_uses_of_a_new_key_pay_bcrypt_once() {
    let sys = Arc::new(Sys::start().await);
    sys.unlimited().await;
    let key = secret(&sys.create_key(sys.owner(), "burst", &["send_email"]).await);
    let before = sys.running.app.auth.bcrypt_checks();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (sys, key) = (sys.clone(), key.clone());
        tasks.push(tokio::spawn(async move { sys.me(&key).await.0 }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(sys.running.app.auth.bcrypt_checks() - before, 1);
    Arc::into_inner(sys).unwrap().stop().await;
}

#[tokio::test]
async fn a_tenant_holds_at_most_fifty_active_keys() {
    let sys = Sys::start().await;
    let tenant = sys.running.tenant.id;
    let active: i64 = {
        let client = sys.running.app.db.client().await.unwrap();
        let count: i64 = client
            .query_one(
                "SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL",
                &[&tenant],
            )
            .await
            .unwrap()
            .get(0);
        // Fill up to one below the cap with rows only (no bcrypt needed for the count).
        client
            .execute(
                "INSERT INTO api_keys (id, tenant_id, name, display, lookup_hash, scopes, created_by) \
                 SELECT gen_random_uuid(), $1, 'filler', 'pm_live_x', sha256(n::text::bytea), '{send_email}', 't' \
                 FROM generate_series(1, $2::int) n",
                &[&tenant, &((pm_auth::issue::MAX_ACTIVE_KEYS - count - 1) as i32)],
            )
            .await
            .unwrap();
        count
    };
    assert!(active >= 1);
    let last = sys
        .create_key(sys.owner(), "fiftieth", &["send_email"])
        .await;
    let (status, _, problem) = sys
        .call(
            Method::POST,
            KEYS,
            sys.owner(),
            Some(json!({"name": "one too many", "scopes": ["send_email"]})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (409, Some("key_limit_reached"))
    );
    // Revoking one makes room.
    let path = format!("{KEYS}/{}", last["id"].as_str().unwrap());
    assert_eq!(
        sys.call(Method::DELETE, &path, sys.owner(), None).await.0,
        204
    );
    sys.create_key(sys.owner(), "room again", &["send_email"])
        .await;
    sys.stop().await;
}

#[tokio::test]
async fn guessing_keys_gets_refused_before_any_lookup() {
    let sys = Sys::start().await;
    let mut statuses = Vec::new();
    for n in 0..pm_auth::api_key::AUTH_FAILURES_PER_MINUTE + 2 {
        let guess = format!("pm_live_{:032}", n);
        statuses.push(sys.me(&guess).await.0.as_u16());
    }
    let limit = pm_auth::api_key::AUTH_FAILURES_PER_MINUTE as usize;
    assert!(statuses[..limit].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[limit..].iter().all(|s| *s == 429), "{statuses:?}");
    // The address is refused for now, even with a good key; another address is not.
    assert_eq!(sys.me(sys.key()).await.0, 429);
    sys.stop().await;
}

#[tokio::test]
async fn retired_keys_leave_no_hash_behind() {
    let sys = Sys::start().await;
    let secrets = sys.running.app.secrets.clone();
    let tenant = sys.running.tenant.id;
    let hash_of =
        |id: &Value| pm_auth::api_key::hash_path(tenant, id.as_str().unwrap().parse().unwrap());
    // Revoked: deleted at once.
    let revoked = sys.create_key(sys.owner(), "gone", &["send_email"]).await;
    assert!(secrets
        .get(&hash_of(&revoked["id"]))
        .await
        .unwrap()
        .is_some());
    let path = format!("{KEYS}/{}", revoked["id"].as_str().unwrap());
    assert_eq!(
        sys.call(Method::DELETE, &path, sys.owner(), None).await.0,
        204
    );
    assert!(secrets
        .get(&hash_of(&revoked["id"]))
        .await
        .unwrap()
        .is_none());
    // Rolled with a grace period: deleted by the sweeper once the period is over.
    let rolled = sys.create_key(sys.owner(), "rolled", &["send_email"]).await;
    let (status, _, _) = sys
        .call(
            Method::POST,
            &format!("{KEYS}/{}/regenerate", rolled["id"].as_str().unwrap()),
            sys.owner(),
            Some(json!({"grace_period_seconds": 1})),
        )
        .await;
    assert_eq!(status, 201);
    assert!(
        secrets
            .get(&hash_of(&rolled["id"]))
            .await
            .unwrap()
            .is_some(),
        "still in its grace period"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let deleted = pm_auth::retire::sweep(&sys.running.app.db, secrets.as_ref(), 100)
        .await
        .unwrap();
    assert!(deleted >= 1);
    assert!(secrets
        .get(&hash_of(&rolled["id"]))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        pm_auth::retire::sweep(&sys.running.app.db, secrets.as_ref(), 100)
            .await
            .unwrap(),
        0
    );
    sys.stop().await;
}

#[tokio::test]
async fn a_dashboard_user_is_rate_limited_too() {
    let sys = Sys::start().await;
    let limit = pm_auth::dashboard::SESSION_REQUESTS_PER_MINUTE as usize;
    // The bucket refills continuously (limit per minute), so on a busy machine a request
    // or two more than `limit` may pass before the first 429: allow exactly the refill.
    let started = std::time::Instant::now();
    let mut allowed = 0;
    let mut limited = false;
    for _ in 0..limit * 2 {
        match sys
            .call(Method::GET, KEYS, sys.owner(), None)
            .await
            .0
            .as_u16()
        {
            200 => allowed += 1,
            429 => {
                limited = true;
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    let refilled = (started.elapsed().as_secs_f64() * limit as f64 / 60.0).ceil() as usize;
    assert!(limited, "no 429 after {allowed} requests");
    assert!(
        (limit..=limit + refilled).contains(&allowed),
        "{allowed} allowed; the limit is {limit}, plus {refilled} refilled"
    );
    sys.stop().await;
}
