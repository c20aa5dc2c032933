//! The dashboard: its session as an HttpOnly cookie that counts only with its CSRF
//! token, the local one-time sign-in links, the built files served as a single-page app
//! (here and, through template.yaml's CloudFront function, in AWS), and the whole thing
//! driven end to end in headless Chromium.

use pm_auth::session::{csrf_token, CSRF_HEADER};
use pm_local::dashboard::CONTENT_SECURITY_POLICY;
use pm_tests::system::{Sys, KEYS};
use pm_tests::workspace_root;
use reqwest::header::{HeaderMap, COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const SESSION: &str = "/api/v1/platform/session";

/// The `Set-Cookie` header for cookie `name`.
fn set_cookie<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("a {name} cookie in {headers:?}"))
}

fn attribute<'a>(cookie: &'a str, name: &str) -> Option<&'a str> {
    cookie
        .split(';')
        .map(str::trim)
        .find(|part| part.split('=').next().unwrap().eq_ignore_ascii_case(name))
        .map(|part| part.split_once('=').map_or("", |(_, v)| v))
}

fn value(cookie: &str) -> &str {
    cookie.split(';').next().unwrap().split_once('=').unwrap().1
}

async fn with_cookie(
    sys: &Sys,
    method: Method,
    path: &str,
    token: &str,
    csrf: Option<&str>,
) -> StatusCode {
    let mut request = sys
        .http
        .request(method, sys.url(path))
        .header(COOKIE, format!("theme=light; __Host-pm_session={token}"));
    if let Some(csrf) = csrf {
        request = request.header(CSRF_HEADER, csrf);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn the_session_travels_in_an_httponly_cookie_that_counts_only_with_its_csrf_token() {
    let sys = Sys::start().await;
    let response = sys
        .http
        .post(sys.url(SESSION))
        .bearer_auth(sys.owner())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["user_id"].as_str(), body["role"].as_str()),
        (Some("demo-user"), Some("owner"))
    );
    assert_eq!(body["tenant_id"], sys.running.tenant.id.to_string());

    let session = set_cookie(&headers, "__Host-pm_session");
    assert_eq!(value(session), sys.owner(), "the cookie holds the token");
    assert!(attribute(session, "HttpOnly").is_some(), "{session}");
    assert_eq!(attribute(session, "SameSite"), Some("Strict"));
    // What the __Host- prefix requires, or browsers drop the cookie.
    assert_eq!(attribute(session, "Path"), Some("/"));
    assert!(attribute(session, "Secure").is_some());
    assert!(attribute(session, "Domain").is_none());
    let max_age: u64 = attribute(session, "Max-Age").unwrap().parse().unwrap();
    assert!(
        (1..=900).contains(&max_age),
        "lives as long as the token: {max_age}"
    );
    let csrf_cookie = set_cookie(&headers, "__Host-pm_csrf");
    assert!(
        attribute(csrf_cookie, "HttpOnly").is_none(),
        "the page reads it"
    );
    assert_eq!(attribute(csrf_cookie, "SameSite"), Some("Strict"));
    let csrf = value(csrf_cookie).to_string();
    assert_eq!(csrf, csrf_token(sys.owner()));

    // The cookie and its token: every session route, and the key-or-session ones.
    for path in [
        SESSION,
        KEYS,
        "/api/v1/webhooks",
        "/api/v1/platform/email-providers",
    ] {
        let status = with_cookie(&sys, Method::GET, path, sys.owner(), Some(&csrf)).await;
        assert_eq!(status, 200, "{path}");
    }
    // What a cross-site request can send: the cookie, without the token or with a guess.
    let (_, other) = sys.other_tenant(pm_auth::session::Role::Owner).await;
    for csrf in [None, Some(""), Some("x"), Some(csrf_token(&other).as_str())] {
        for path in [SESSION, KEYS, "/api/v1/webhooks"] {
            let status = with_cookie(&sys, Method::GET, path, sys.owner(), csrf).await;
            assert_eq!(status, 401, "{path} with CSRF token {csrf:?}");
        }
    }
    // Changes take the same proof: no key is created without it.
    let status = with_cookie(&sys, Method::POST, KEYS, sys.owner(), None).await;
    assert_eq!(status, 401);

    // A cookie cannot start a session, nor can an API key.
    let status = with_cookie(&sys, Method::POST, SESSION, sys.owner(), Some(&csrf)).await;
    assert_eq!(status, 401);
    let (status, _, problem) = sys.call(Method::POST, SESSION, sys.key(), None).await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (401, Some("unauthorized"))
    );

    // Signing out expires both cookies, with or without a live session.
    let response = sys.http.delete(sys.url(SESSION)).send().await.unwrap();
    assert_eq!(response.status(), 204);
    for name in ["__Host-pm_session", "__Host-pm_csrf"] {
        let cookie = set_cookie(response.headers(), name);
        assert_eq!(
            (value(cookie), attribute(cookie, "Max-Age")),
            ("", Some("0")),
            "{cookie}"
        );
    }
    sys.stop().await;
}

#[tokio::test]
async fn a_sign_in_link_works_once_and_hands_the_session_over_in_the_fragment() {
    let sys = Sys::start().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let link = sys.running.sign_in_url();
    // A link preview's HEAD does not spend it.
    let head = client.head(&link).send().await.unwrap();
    assert_eq!(head.status(), 405);
    let response = client.get(&link).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let token = location
        .strip_prefix("/dashboard/sign-in#token=")
        .unwrap_or_else(|| panic!("the token in the fragment: {location}"));
    let (status, _, body) = sys.call(Method::POST, SESSION, token, None).await;
    assert_eq!(
        (status, body["role"].as_str()),
        (StatusCode::OK, Some("owner"))
    );

    for used in [
        link.clone(),
        format!("{link}x"),
        sys.url("/dashboard/local-sign-in"),
    ] {
        let response = client.get(&used).send().await.unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(
            response.headers()["location"],
            "/dashboard/sign-in?reason=link_used",
            "{used}"
        );
    }
    sys.stop().await;
}

#[tokio::test]
async fn the_dashboard_is_a_single_page_app_under_a_strict_content_security_policy() {
    let sys = Sys::start().await;
    let get = |path: &str| sys.http.get(sys.url(path)).send();
    let mut asset = None;
    for path in [
        "/dashboard",
        "/dashboard/",
        "/dashboard/settings/webhooks/4a9d6c2e-1b3f-4e5d-8c7a-9b0e1f2d3c4b",
        "/dashboard/sign-in",
    ] {
        let response = get(path).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-security-policy"], CONTENT_SECURITY_POLICY);
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["cache-control"], "no-cache");
        let html = response.text().await.unwrap();
        assert!(html.contains("<div id=\"root\">"), "{path}: {html}");
        // No inline script (the policy would refuse it): every script has its src.
        for tag in html.split("<script").skip(1) {
            let tag = &tag[..tag.find('>').unwrap()];
            assert!(
                tag.contains("src=\"/dashboard/assets/"),
                "{path}: <script{tag}>"
            );
        }
        asset = html
            .split('"')
            .find(|s| s.starts_with("/dashboard/assets/") && s.ends_with(".js"))
            .map(str::to_string);
    }
    let asset = asset.expect("index.html loads a built script");
    let response = get(&asset).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    for path in [
        "/dashboard/assets/%2e%2e%2findex.html",
        "/dashboard/assets/missing.js",
        "/dashboard/assets/.vite",
    ] {
        assert_eq!(get(path).await.unwrap().status(), 404, "{path}");
    }
    let post = sys.http.post(sys.url("/dashboard")).send().await.unwrap();
    assert_eq!(post.status(), 405);

    // In AWS the same policy comes from CloudFront's response headers policy.
    let template: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap(),
    )
    .unwrap();
    let policy = &template["Resources"]["DashboardHeadersPolicy"]["Properties"]
        ["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
        ["ContentSecurityPolicy"];
    assert_eq!(policy.as_str(), Some(CONTENT_SECURITY_POLICY));
    sys.stop().await;
}

/// In AWS the built files come from a bucket through CloudFront, whose viewer-request
/// function sends every page path to the app's index.html and leaves assets alone. Its
/// own code, run in Node against the built tree, lands every path on a file.
#[tokio::test]
async fn the_cloudfront_function_maps_every_dashboard_path_to_a_built_file() {
    let dist = workspace_root().join("web/dist");
    let asset = std::fs::read_dir(dist.join("assets"))
        .expect("the dashboard is built (make dashboard)")
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .find(|name| name.ends_with(".js"))
        .unwrap();
    let asset = format!("/dashboard/assets/{asset}");
    let paths = [
        "/dashboard",
        "/dashboard/",
        "/dashboard/settings/developers/api-keys",
        "/dashboard/settings/webhooks/4a9d6c2e",
        &asset,
    ];
    let mapped = pm_tests::cloudfront_function("DashboardIndexFunction", &paths).await;
    assert_eq!(mapped[4], paths[4], "assets are served as they are");
    for (path, key) in paths.iter().zip(&mapped) {
        // Objects are published under dashboard/ (README: aws s3 sync ... /dashboard).
        let file = key.strip_prefix("/dashboard/").unwrap();
        assert!(dist.join(file).is_file(), "{path} → {key}");
    }
}

/// The dashboard as a person uses it, in headless Chromium against this system and a
/// webhook receiver on loopback (web/e2e/run.mjs says each step). The screenshots of
/// every page at 390, 820 and 1440 px go to target/artifacts/dashboard/, and axe-core
/// must find nothing serious or critical on any of them. What the browser did is then
/// checked on the server's side: the receiver got the test and the replay, signed.
#[tokio::test]
async fn the_dashboard_works_end_to_end_in_chromium() {
    // HubSpot played by the fake (its install page approves at once, for portal 7601).
    let hubspot = pm_tests::hubspot::FakeHubSpot::start().await;
    hubspot.consent_with(7601);
    let sys = crate::crm_sync::start(&hubspot).await;
    let receiver = pm_tests::receiver::Receiver::start().await;
    let out = pm_tests::artifacts().join("dashboard");
    let _ = std::fs::remove_dir_all(&out);
    let run = tokio::process::Command::new("node")
        .arg(workspace_root().join("web/e2e/run.mjs"))
        .arg(sys.running.base_url())
        .arg(sys.running.sign_in_url())
        .arg(receiver.url("/hooks/dashboard"))
        .arg(sys.key())
        .arg(&out)
        .arg(hubspot.url())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(300), run)
        .await
        .expect("the browser run finishes within 5 minutes")
        .expect("node runs (make test installs web/ and Chromium)");
    assert!(output.status.success(), "{}", pm_tests::explain(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let seen: Value = serde_json::from_str(stdout.trim().lines().last().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {}", pm_tests::explain(&output)));

    assert_eq!(seen["violations"], serde_json::json!([]), "axe-core");
    let pages = seen["pages_checked"].as_u64().unwrap();
    assert!(pages >= 20, "every page and dialog checked: {pages}");
    let screenshots = std::fs::read_dir(&out).unwrap().count() as u64;
    assert_eq!(screenshots, pages * 3, "three widths a page");
    for (step, expected) in [
        ("copied", Value::Bool(true)),
        ("env_download", Value::Bool(true)),
        ("me_with_new_key", 200.into()),
        ("old_key_after_regenerate", 401.into()),
        ("new_key_after_regenerate", 200.into()),
        ("revoked_key", 401.into()),
        ("disabled", Value::Bool(true)),
        ("deleted", Value::Bool(true)),
        ("hubspot_connected", Value::Bool(true)),
        ("mapping_saved", Value::Bool(true)),
        ("hubspot_disconnected", Value::Bool(true)),
        ("expired_to_sign_in", Value::Bool(true)),
    ] {
        assert_eq!(seen[step], expected, "{step}: {seen}");
    }
    assert!(
        seen["attempts_after_replay"].as_u64() > seen["attempts_before_replay"].as_u64(),
        "{seen}"
    );

    // The receiver got the test send twice (sent, then replayed from the log: the same
    // message), signed with the secret the dashboard showed, and after the rotation a
    // contact's event, signed with both secrets.
    let secret = seen["signing_secret"].as_str().unwrap();
    let rotated = seen["rotated_secret"].as_str().unwrap();
    assert_ne!(rotated, secret);
    let received = receiver.received();
    let kinds: Vec<(&str, String)> = received
        .iter()
        .map(|r| {
            (
                r.header("webhook-id"),
                r.json()["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert_eq!(kinds[0], kinds[1], "a replay is the same message");
    assert_eq!(received[0].body, received[1].body);
    assert_eq!(kinds[2].1, "contact.created");
    for request in &received {
        pm_tests::webhooks::verify(secret, request).unwrap();
    }
    pm_tests::webhooks::verify(rotated, &received[2]).unwrap();
    assert!(pm_tests::webhooks::verify(rotated, &received[0]).is_err());

    // And the server holds what the browser did: HubSpot connected through its install
    // page and the callback page (the first sync ran: its record is there), the mapping
    // saved with the rule chosen, then disconnected (its tokens deleted).
    let client = sys.running.app.db.client().await.unwrap();
    let connection = client
        .query_one(
            "SELECT status, account_id FROM crm_connections WHERE tenant_id = $1 AND provider = 'hubspot'",
            &[&sys.running.tenant.id],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            connection.get::<_, String>(0),
            connection.get::<_, Option<String>>(1)
        ),
        ("disconnected".into(), Some("7601".into()))
    );
    let mapping: Value = client
        .query_one(
            "SELECT mappings FROM crm_field_mappings WHERE tenant_id = $1 AND provider = 'hubspot'",
            &[&sys.running.tenant.id],
        )
        .await
        .unwrap()
        .get(0);
    let first_name = mapping
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["local"] == "first_name")
        .unwrap();
    assert_eq!(first_name["conflict"], "crm_wins", "{mapping}");
    let tokens = pm_integrations::connections::token_path(sys.running.tenant.id, "hubspot");
    assert!(sys
        .running
        .app
        .secrets
        .get(&tokens)
        .await
        .unwrap()
        .is_none());

    // And the server holds what the browser did.
    let webhook = seen["webhook_id"].as_str().unwrap();
    let (status, _, _) = sys
        .call(
            Method::GET,
            &format!("/api/v1/webhooks/{webhook}"),
            sys.key(),
            None,
        )
        .await;
    assert_eq!(status, 404, "deleted");
    let (_, _, keys) = sys.call(Method::GET, KEYS, sys.owner(), None).await;
    let statuses: Vec<&str> = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["name"] == "Browser test key")
        .map(|k| k["status"].as_str().unwrap())
        .collect();
    // Rolled without a grace period (the old key ends at once), then revoked.
    assert_eq!(statuses, ["revoked", "revoked"]);
    sys.stop().await;
}
