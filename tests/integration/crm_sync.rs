//! The CRM sync end to end through the local runtime (the same routes, relay, queue
//! consumer and schedule the Lambdas run), HubSpot played by the fake built from its API
//! reference: connecting through the dashboard routes creates our properties and
//! backfills; a contact changed through the API reaches HubSpot once by way of the
//! outbox and the crm-sync queue; a change HubSpot reports (signed webhook) arrives once
//! and is not echoed back; email events become HubSpot engagements and engagement
//! properties; a bad signature changes nothing; another tenant sees and changes nothing;
//! disconnecting revokes and deletes the tokens.

use std::time::Duration;

use http::Method;
use pm_domain::EventType;
use pm_ports::secrets::{SecretData, SecretStore};
use pm_tests::eventually;
use pm_tests::hubspot::{FakeHubSpot, APP_ID, CLIENT_ID, CLIENT_SECRET};
use pm_tests::peers;
use pm_tests::system::Sys;
use serde_json::{json, Value};

use crate::crm_connections::{state_of, vault_store};

const PORTAL: u64 = 7401;
const BASE: &str = "/api/v1/platform/integrations";
const WEBHOOKS: &str = "/api/v1/integrations/hubspot/webhooks";

/// A local runtime with HubSpot's app registered, pointed at `fake` (API and install
/// page), secrets in OpenBao.
pub(crate) async fn start(fake: &FakeHubSpot) -> Sys {
    vault_store()
        .put(
            pm_integrations::api::HUBSPOT_APP_SECRET_PATH,
            &SecretData::new().with("client_secret", CLIENT_SECRET),
        )
        .await
        .unwrap();
    let vault = peers::vault();
    let sys = Sys::start_with(&[
        ("SECRETS_BACKEND", "vault".into()),
        ("VAULT_ADDR", vault.addr.clone()),
        ("VAULT_TOKEN", vault.token.clone()),
        ("HUBSPOT_CLIENT_ID", CLIENT_ID.into()),
        ("HUBSPOT_APP_ID", APP_ID.into()),
        ("HUBSPOT_API_BASE", fake.url()),
        ("HUBSPOT_APP_BASE", fake.url()),
        ("LOCAL_EMAIL_SEND_LOOPS", "0".into()),
        ("CAMPAIGN_SCHEDULER_ENABLED", "false".into()),
    ])
    .await;
    sys.unlimited().await;
    sys
}

async fn remote(fake: &FakeHubSpot, email: &str) -> Option<pm_tests::hubspot::Contact> {
    fake.contacts(PORTAL)
        .into_iter()
        .find(|c| c.properties.get("email").map(String::as_str) == Some(email))
}

/// Waits until the sync has nothing left: the outbox relayed, no push pending, no
/// engagement waiting, no run running.
async fn settled(sys: &Sys) {
    eventually("the CRM sync to settle", Duration::from_secs(60), || async {
        let client = sys.running.app.db.client().await.unwrap();
        let busy: i64 = client
            .query_one(
                "SELECT (SELECT count(*) FROM event_outbox WHERE published_at IS NULL AND publish_failed_at IS NULL) \
                      + (SELECT count(*) FROM crm_sync_pending) \
                      + (SELECT count(*) FROM crm_activity_pending) \
                      + (SELECT count(*) FROM crm_sync_runs WHERE status = 'running')",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        (busy == 0).then_some(())
    })
    .await
}

async fn log_of(sys: &Sys, session: &str, contact: &str) -> Vec<Value> {
    let (status, _, body) = sys
        .call(
            Method::GET,
            &format!("{BASE}/hubspot/log?contact_id={contact}&limit=100"),
            session,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn hubspot_syncs_end_to_end_through_the_routes_the_outbox_and_the_queue() {
    let fake = FakeHubSpot::start().await;
    let sys = start(&fake).await;
    let owner = sys.owner().to_string();
    let key = sys.key().to_string();

    // Not connected yet; HubSpot is available.
    let (status, _, list) = sys.call(Method::GET, BASE, &owner, None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"][0]["status"], "not_connected");

    // A contact that exists before the connection: the backfill takes it.
    let (status, _, before) = sys
        .call(
            Method::POST,
            "/api/v1/contacts",
            &key,
            Some(json!({"email": "early@example.com", "first_name": "Early"})),
        )
        .await;
    assert_eq!(status, 201, "{before}");
    fake.seed(
        PORTAL,
        &[(
            "crm-only@example.com".into(),
            vec![("firstname", "Only".into()), ("lastname", "There".into())],
        )],
    );

    // Connect: the state comes back through the dashboard's callback page.
    let (status, _, started) = sys
        .call(
            Method::POST,
            &format!("{BASE}/hubspot/connect"),
            &owner,
            None,
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let url = started["authorize_url"].as_str().unwrap();
    assert!(url.contains(&format!("client_id={CLIENT_ID}")), "{url}");
    assert!(
        url.contains(
            &urlencoding::encode(&format!(
                "{}/dashboard/integrations/hubspot/callback",
                sys.running.base_url()
            ))
            .into_owned()
        ),
        "{url}"
    );
    let code = fake.approve(PORTAL);
    // Someone else's state, or a made-up one, is refused and changes nothing.
    let (status, _, refused) = sys
        .call(
            Method::POST,
            &format!("{BASE}/hubspot/callback"),
            &owner,
            Some(json!({"code": code, "state": "not-a-state-anyone-started"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), refused["code"].as_str()),
        (400, Some("invalid_state"))
    );
    let (status, _, connected) = sys
        .call(
            Method::POST,
            &format!("{BASE}/hubspot/callback"),
            &owner,
            Some(json!({"code": code, "state": state_of(url)})),
        )
        .await;
    assert_eq!(status, 200, "{connected}");
    assert_eq!(connected["status"], "connected");
    assert_eq!(connected["account_id"], PORTAL.to_string());
    assert!(
        !connected.to_string().contains("access-"),
        "no token in the answer"
    );

    // The backfill ran by itself: both contacts on both sides.
    settled(&sys).await;
    let (_, _, runs) = sys
        .call(Method::GET, &format!("{BASE}/hubspot/runs"), &owner, None)
        .await;
    assert_eq!(runs["data"][0]["kind"], "backfill");
    assert_eq!(runs["data"][0]["status"], "completed", "{runs}");
    assert_eq!(
        remote(&fake, "early@example.com").await.unwrap().properties["firstname"],
        "Early"
    );
    let (_, _, found) = sys
        .call(
            Method::GET,
            "/api/v1/contacts?email=crm-only@example.com",
            &key,
            None,
        )
        .await;
    assert_eq!(found["data"][0]["last_name"], "There", "{found}");

    // A local change reaches HubSpot once, by way of the outbox and the queue.
    let (status, _, ada) = sys
        .call(
            Method::POST,
            "/api/v1/contacts",
            &key,
            Some(json!({"email": "ada@example.com", "first_name": "Ada", "company": "Engines", "tags": ["vip"]})),
        )
        .await;
    assert_eq!(status, 201, "{ada}");
    let ada_id = ada["id"].as_str().unwrap().to_string();
    let there = eventually("Ada in HubSpot", Duration::from_secs(30), || async {
        remote(&fake, "ada@example.com").await
    })
    .await;
    assert_eq!(there.properties["company"], "Engines");
    assert_eq!(there.properties["penguinmails_tags"], "vip");
    settled(&sys).await;
    let pushes = |log: &[Value]| {
        log.iter()
            .filter(|e| {
                e["direction"] == "push" && (e["outcome"] == "created" || e["outcome"] == "updated")
            })
            .count()
    };
    assert_eq!(
        pushes(&log_of(&sys, &owner, &ada_id).await),
        1,
        "written once"
    );
    assert_eq!(
        fake.contacts(PORTAL)
            .iter()
            .filter(|c| c.properties["email"] == "ada@example.com")
            .count(),
        1
    );

    // A change in HubSpot arrives once and is not echoed back.
    let calls = fake.calls();
    let hook_url = sys.url(WEBHOOKS);
    let (headers, body) =
        fake.change_event(&hook_url, PORTAL, &there.id, "firstname", "Augusta", false);
    for _ in 0..2 {
        // HubSpot retries until it gets a 2xx: the same event twice.
        let mut request = sys.http.post(&hook_url).body(body.clone());
        for (k, v) in &headers {
            request = request.header(k, v);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 200);
    }
    let (_, _, local) = sys
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{ada_id}"),
            &key,
            None,
        )
        .await;
    assert_eq!(local["first_name"], "Augusta");
    settled(&sys).await;
    assert_eq!(fake.calls(), calls, "nothing went back to HubSpot");
    let log = log_of(&sys, &owner, &ada_id).await;
    assert_eq!(
        log.iter()
            .filter(|e| e["direction"] == "pull" && e["outcome"] == "updated")
            .count(),
        1,
        "applied once: {log:?}"
    );
    assert_eq!(pushes(&log), 1, "not echoed: {log:?}");

    // A contact someone creates in HubSpot arrives here at once (not at the next
    // reconciliation), and only once however often HubSpot sends the notice.
    let grace = fake.edit(
        PORTAL,
        "grace@example.com",
        &[("firstname", "Grace"), ("lastname", "Hopper")],
    );
    let (headers, body) = fake.creation_event(&hook_url, PORTAL, &grace);
    for expected in [1, 0] {
        let mut request = sys.http.post(&hook_url).body(body.clone());
        for (k, v) in &headers {
            request = request.header(k, v);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        assert_eq!(answer["created"], expected, "{answer}");
    }
    let (_, _, found) = sys
        .call(
            Method::GET,
            "/api/v1/contacts?email=grace@example.com",
            &key,
            None,
        )
        .await;
    assert_eq!(found["data"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["data"][0]["last_name"], "Hopper");
    settled(&sys).await;

    // A forged or stale webhook is refused and changes nothing.
    let (headers, body) =
        fake.change_event(&hook_url, PORTAL, &there.id, "firstname", "Mallory", false);
    let mut forged = sys.http.post(&hook_url).body(body.clone());
    for (k, v) in &headers {
        let v = if k == "x-hubspot-signature-v3" {
            "bm90IGl0"
        } else {
            v.as_str()
        };
        forged = forged.header(k, v);
    }
    let answer = forged.send().await.unwrap();
    assert_eq!(answer.status(), 401);
    let problem: Value = answer.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_signature");
    let (_, _, local) = sys
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{ada_id}"),
            &key,
            None,
        )
        .await;
    assert_eq!(local["first_name"], "Augusta");

    // Email events: engagements on the HubSpot contact, and the engagement properties.
    {
        let mut client = sys.running.app.db.client().await.unwrap();
        let tx = pm_store::begin(&mut client).await.unwrap();
        for (event_type, extra) in [
            (
                EventType::EmailSent,
                json!({"sent_at": "2026-12-07T10:00:00Z"}),
            ),
            (
                EventType::EmailOpened,
                json!({"opened_at": "2026-12-07T10:05:00Z"}),
            ),
            // Reported at the same instant as the open (providers report whole seconds):
            // the later stage stands, whichever the worker sees last.
            (
                EventType::EmailReplied,
                json!({"replied_at": "2026-12-07T10:05:00Z"}),
            ),
        ] {
            let mut data = json!({
                "id": uuid::Uuid::new_v4(),
                "contact_id": ada_id,
                "to": "ada@example.com",
                "subject": "Welcome aboard, Ada",
            });
            data.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            pm_store::outbox::record(&tx, sys.running.tenant.id, event_type, &data)
                .await
                .unwrap();
        }
        pm_store::commit(tx).await.unwrap();
    }
    let emails = eventually(
        "two engagements in HubSpot",
        Duration::from_secs(30),
        || async {
            let emails = fake.emails(PORTAL);
            (emails.len() >= 2).then_some(emails)
        },
    )
    .await;
    settled(&sys).await;
    assert_eq!(
        fake.emails(PORTAL).len(),
        2,
        "sent and replied, once each: {emails:?}"
    );
    let ada_there = remote(&fake, "ada@example.com").await.unwrap();
    assert_eq!(
        ada_there.properties["penguinmails_campaign_status"],
        "replied"
    );
    assert!(ada_there.properties["penguinmails_last_opened"].starts_with("20"));
    assert!(ada_there.properties["penguinmails_last_replied"].starts_with("20"));

    // Another tenant sees nothing of it and cannot touch it.
    let (_, other) = sys.other_tenant(pm_auth::session::Role::Owner).await;
    let (_, _, theirs) = sys.call(Method::GET, BASE, &other, None).await;
    assert_eq!(theirs["data"][0]["status"], "not_connected");
    assert_eq!(theirs["data"][0]["latest_run"], Value::Null);
    let (status, _, their_log) = sys
        .call(Method::GET, &format!("{BASE}/hubspot/log"), &other, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(their_log["data"], json!([]));
    let (status, _, _) = sys
        .call(Method::DELETE, &format!("{BASE}/hubspot"), &other, None)
        .await;
    assert_eq!(status, 409, "their own connection: none");
    let (_, _, ours) = sys.call(Method::GET, BASE, &owner, None).await;
    assert_eq!(ours["data"][0]["status"], "connected");

    // A second run while one is under way is refused by name.
    let (status, _, run) = sys
        .call(
            Method::POST,
            &format!("{BASE}/hubspot/resync"),
            &owner,
            None,
        )
        .await;
    assert_eq!(status, 202, "{run}");
    let (status, _, again) = sys
        .call(
            Method::POST,
            &format!("{BASE}/hubspot/resync"),
            &owner,
            None,
        )
        .await;
    if status == 409 {
        assert_eq!(again["code"], "sync_running");
        assert_eq!(again["run_id"], run["id"]);
    } else {
        // The first finished in between (a small account): it started a new one.
        assert_eq!(status, 202, "{again}");
    }
    settled(&sys).await;

    // Disconnect: revoked at HubSpot, the tokens gone, the connection shown so.
    let path = pm_integrations::connections::token_path(sys.running.tenant.id, "hubspot");
    assert!(vault_store().get(&path).await.unwrap().is_some());
    let (status, _, _) = sys
        .call(Method::DELETE, &format!("{BASE}/hubspot"), &owner, None)
        .await;
    assert_eq!(status, 204);
    assert!(vault_store().get(&path).await.unwrap().is_none());
    let (_, _, after) = sys.call(Method::GET, BASE, &owner, None).await;
    assert_eq!(after["data"][0]["status"], "disconnected");
    let (status, _, problem) = sys
        .call(
            Method::POST,
            &format!("{BASE}/hubspot/resync"),
            &owner,
            None,
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (409, Some("not_connected"))
    );
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let fake = FakeHubSpot::start().await;
    let sys = start(&fake).await;
    let owner = sys.owner().to_string();
    let cases: [(Method, String, Option<Value>, u16, &str); 6] = [
        (
            Method::GET,
            format!("{BASE}/salesforce/runs"),
            None,
            404,
            "not_found",
        ),
        (
            Method::GET,
            format!("{BASE}/hubspot/runs?limit=0"),
            None,
            400,
            "invalid_limit",
        ),
        (
            Method::GET,
            format!("{BASE}/hubspot/log?outcome=maybe"),
            None,
            400,
            "invalid_parameter",
        ),
        (
            Method::PUT,
            format!("{BASE}/hubspot/mapping"),
            Some(
                json!({"fields": [{"local": "first_name", "remote": "firstname", "direction": "both", "conflict": "crm_wins"}]}),
            ),
            422,
            "validation_failed",
        ),
        (
            Method::PUT,
            format!("{BASE}/hubspot/mapping"),
            Some(json!({"fields": [
                {"local": "email", "remote": "email", "direction": "both", "conflict": "crm_wins"},
                {"local": "last_opened_at", "remote": "penguinmails_last_opened", "direction": "both", "conflict": "crm_wins"}
            ]})),
            422,
            "validation_failed",
        ),
        (
            Method::POST,
            format!("{BASE}/hubspot/callback"),
            Some(json!({"code": "", "state": "x"})),
            422,
            "validation_failed",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (got, _, problem) = sys.call(method.clone(), &path, &owner, body).await;
        assert_eq!(got.as_u16(), status, "{method} {path}: {problem}");
        assert_eq!(problem["code"], code, "{method} {path}");
    }
    // Without a session: 401; an API key is not a dashboard session.
    let (status, _, _) = sys.call(Method::GET, BASE, sys.key(), None).await;
    assert_eq!(status, 401);
    // A member may look but not connect.
    let (_, member) = sys.other_tenant(pm_auth::session::Role::Member).await;
    let (status, _, problem) = sys
        .call(
            Method::POST,
            &format!("{BASE}/hubspot/connect"),
            &member,
            None,
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (403, Some("insufficient_role"))
    );
}
