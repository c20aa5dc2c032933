//! Every function in template.yaml, run as Lambda runs it: its built binary under the
//! Runtime API emulator (`pm_tests::lambda_emulator`), with the environment the template
//! gives it (Globals merged) and every reference in it pointed at a real local peer, fed
//! its event from `events/`, and its answer checked against what that function must say.
//! The handlers' logic is tested elsewhere through the libraries; this proves each
//! binary's own part: that it starts, reads its configuration and secrets, reaches its
//! ports, decodes the event the way its trigger sends it, and answers in the trigger's
//! format.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use pm_auth::session::{csrf_token, Role};
use pm_tests::lambda_emulator::{Answer, Function, Invoke};
use pm_tests::receiver::Receiver;
use pm_tests::system::Sys;
use pm_tests::{aws, peers, workspace_root};
use reqwest::Method;
use serde_json::{json, Value as Json};
use serde_yaml::Value;

/// The binaries several others depend on, run first: the deploy setup (as in a deploy),
/// and the sender, which sends the email whose tracking links the tracking routes follow.
const FIRST: [&str; 2] = ["DeploySetupFunction", "EmailSenderFunction"];
/// Binaries started at once: the machine running the tests may have two cores.
const AT_ONCE: usize = 2;
/// One binary's start and answer, at most.
const WITHIN: Duration = Duration::from_secs(30);
/// Every scope, for the key the API events authenticate with.
const SCOPES: [&str; 8] = [
    "send_email",
    "read_analytics",
    "manage_contacts",
    "manage_campaigns",
    "manage_templates",
    "manage_domains",
    "read_inbox",
    "manage_webhooks",
];

/// A function of template.yaml, with what this test needs of it.
struct Declared {
    name: String,
    binary: String,
    /// The type of its (first) event source: `HttpApi`, `SQS`, `Schedule`; none for the
    /// custom resource's handler.
    trigger: Option<String>,
    memory_mb: u64,
    timeout: Duration,
    /// Its environment variables, Globals merged, as the template writes them.
    env: BTreeMap<String, Value>,
}

fn template() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

fn declared(template: &Value) -> Vec<Declared> {
    let globals = &template["Globals"]["Function"];
    let number = |props: &Value, key: &str| {
        props[key]
            .as_u64()
            .or_else(|| globals[key].as_u64())
            .unwrap_or_else(|| panic!("{key} is neither the function's nor in Globals"))
    };
    let mut all = Vec::new();
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let name = name.as_str().unwrap().to_string();
        let props = &resource["Properties"];
        let mut env = BTreeMap::new();
        for scope in [&globals["Environment"], &props["Environment"]] {
            for (k, v) in scope["Variables"].as_mapping().into_iter().flatten() {
                env.insert(k.as_str().unwrap().to_string(), v.clone());
            }
        }
        let trigger = props["Events"]
            .as_mapping()
            .and_then(|events| events.values().next())
            .and_then(|event| event["Type"].as_str())
            .map(String::from);
        all.push(Declared {
            binary: resource["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} has no Metadata.BuildProperties.Binary"))
                .to_string(),
            trigger,
            memory_mb: number(props, "MemorySize"),
            timeout: Duration::from_secs(number(props, "Timeout")),
            env,
            name,
        });
    }
    all
}

/// The intrinsic function of a tagged template value (`!Ref X` is `("Ref", X)`).
fn tag(value: &Value) -> Option<(&'static str, &Value)> {
    let Value::Tagged(tagged) = value else {
        return None;
    };
    let name = ["Ref", "If", "Sub", "GetAtt", "Join", "Select"]
        .into_iter()
        .find(|name| tagged.tag == *name)
        .unwrap_or("another intrinsic function");
    Some((name, &tagged.value))
}

/// The local peers standing in for what the template's references name.
struct Local {
    database_url: String,
    /// The secret DB_RUNTIME_SECRET names: the role the deploy setup makes.
    runtime_secret: String,
    table: String,
    /// Queue URLs by variable (`QUEUE_URL_DELIVERIES` → the moto queue's URL).
    queues: BTreeMap<String, String>,
    /// Lambda's `LoggingConfig` as the variables Lambda derives from it.
    logging: Vec<(String, String)>,
}

impl Local {
    /// A function's environment: the template's literal values as written, its
    /// references replaced by local peers; then what Lambda and the Vault extension add.
    fn env(&self, function: &Declared) -> Vec<(String, String)> {
        let vault = peers::vault();
        let mut env = Vec::new();
        for (name, value) in &function.env {
            let local = match (name.as_str(), value, tag(value)) {
                // The test database, its credentials in the URL. The template's
                // credentials-from-a-secret path is tested on its own (deploy_setup.rs).
                ("DATABASE_URL", _, _) => Some(self.database_url.clone()),
                ("DATABASE_SECRET", _, _) => None,
                ("DB_RUNTIME_SECRET", _, _) => Some(self.runtime_secret.clone()),
                (_, Value::String(text), _) => Some(text.clone()),
                // The Vault extension's settings: it is not attached locally.
                (_, _, Some(("If", Value::Sequence(args))))
                    if args.first().and_then(Value::as_str) == Some("UseVaultExtension") =>
                {
                    None
                }
                (_, _, Some(("Ref", Value::String(what)))) => Some(match what.as_str() {
                    "SecretsBackend" => "vault".into(),
                    "VaultAddr" => vault.addr.clone(),
                    "StateTable" => self.table.clone(),
                    "PublicBaseUrl" => "https://api.example.test".into(),
                    // HubSpot's app as the fake registers it; no call reaches it here.
                    "HubSpotClientId" => pm_tests::hubspot::CLIENT_ID.into(),
                    "HubSpotAppId" => pm_tests::hubspot::APP_ID.into(),
                    _ if name.starts_with("QUEUE_URL_") => self
                        .queues
                        .get(name)
                        .unwrap_or_else(|| panic!("{name}: no queue in the catalog has it"))
                        .clone(),
                    _ => panic!("{}: {name} = !Ref {what} has no local value", function.name),
                }),
                _ => panic!("{}: {name} = {value:?} has no local value", function.name),
            };
            if let Some(local) = local {
                env.push((name.clone(), local));
            }
        }
        env.extend(self.logging.iter().cloned());
        env.extend(
            [
                // In AWS the extension adds the token; here the function sends it itself.
                ("VAULT_TOKEN", vault.token.clone()),
                ("AWS_ENDPOINT_URL", peers::moto().endpoint.clone()),
                ("AWS_ACCESS_KEY_ID", "testing".into()),
                ("AWS_SECRET_ACCESS_KEY", "testing".into()),
                ("AWS_SESSION_TOKEN", "testing".into()),
            ]
            .map(|(k, v)| (k.to_string(), v)),
        );
        env
    }
}

fn binary_path(binary: &str) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("debug")
        .join(binary)
}

fn event_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(workspace_root().join("events"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".json") && f != "env.json")
        .collect();
    files.sort();
    files
}

/// The event of `function` with the placeholders (`{{NAME}}`) filled in, and its
/// `content-length` recomputed as API Gateway would for the filled-in body.
fn event(function: &str, values: &BTreeMap<&'static str, String>) -> Result<Json, String> {
    let path = workspace_root()
        .join("events")
        .join(format!("{function}.json"));
    let mut text =
        std::fs::read_to_string(&path).map_err(|e| format!("events/{function}.json: {e}"))?;
    for (name, value) in values {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    // What is left of the form `{{UPPER_CASE}}` (templates' own `{{ name }}` stay).
    let unfilled = text.match_indices("{{").find_map(|(at, _)| {
        let name = text[at + 2..].split("}}").next()?;
        (!name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
            .then_some(name)
    });
    if let Some(name) = unfilled {
        return Err(format!(
            "events/{function}.json: no value for {{{{{name}}}}}"
        ));
    }
    let mut event: Json =
        serde_json::from_str(&text).map_err(|e| format!("events/{function}.json: {e}"))?;
    if let Some(body) = event["body"].as_str().map(str::len) {
        if event["headers"].get("content-length").is_some() {
            event["headers"]["content-length"] = json!(body.to_string());
        }
    }
    Ok(event)
}

/// An HTTP API (payload format 2.0) response.
#[derive(Debug)]
struct Http {
    status: u64,
    headers: Json,
    cookies: Vec<String>,
    /// The body as JSON, or as a JSON string when it is not JSON.
    body: Json,
    base64: bool,
}

impl Http {
    fn from(response: &Json) -> Result<Self, String> {
        let text = response["body"].as_str().unwrap_or("");
        Ok(Self {
            status: response["statusCode"]
                .as_u64()
                .ok_or_else(|| format!("not an HTTP API response: {response}"))?,
            headers: response["headers"].clone(),
            cookies: response["cookies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str().map(String::from))
                .collect(),
            body: serde_json::from_str(text).unwrap_or_else(|_| json!(text)),
            base64: response["isBase64Encoded"] == true,
        })
    }

    fn header(&self, name: &str) -> &str {
        self.headers[name].as_str().unwrap_or("")
    }

    fn data(&self) -> &[Json] {
        self.body["data"].as_array().map_or(&[], Vec::as_slice)
    }
}

/// `Ok` if `holds`, else why not.
fn want(holds: bool, what: &str) -> Result<(), String> {
    holds.then_some(()).ok_or_else(|| what.to_string())
}

/// The answer each API route must give its event (the ids are the test's fixtures).
fn check_http(name: &str, r: &Http, v: &BTreeMap<&'static str, String>) -> Result<(), String> {
    let (status, holds, what): (u64, bool, &str) = match name {
        "HealthFunction" => (
            200,
            r.body["status"] == "ok" && r.body["database"] == "up",
            "healthy, database up",
        ),
        "MeFunction" => (
            200,
            r.body["tenant"]["id"] == v["TENANT_ID"] && r.body["api_key"]["id"] == v["API_KEY_ID"],
            "the key and its tenant",
        ),
        "CreateSessionFunction" => (
            200,
            r.cookies.iter().any(|c| {
                c.starts_with(&format!("__Host-pm_session={};", v["SESSION"]))
                    && c.contains("HttpOnly")
            }) && r.cookies.iter().any(|c| c.starts_with("__Host-pm_csrf=")),
            "the session and CSRF cookies",
        ),
        "GetSessionFunction" => (
            200,
            r.body["tenant_id"] == v["TENANT_ID"] && r.body["role"] == "owner",
            "the cookie's session",
        ),
        "DeleteSessionFunction" => (
            204,
            r.cookies.len() == 2 && r.cookies.iter().all(|c| c.contains("Max-Age=0")),
            "both cookies expired",
        ),
        "CreateApiKeyFunction" => (
            201,
            r.body["secret"]
                .as_str()
                .is_some_and(|s| s.starts_with("pm_live_") && s.len() == 40),
            "a new pm_live_ key",
        ),
        "ListApiKeysFunction" => (
            200,
            r.data().iter().any(|k| k["id"] == v["API_KEY_ID"]),
            "the test's key among the keys",
        ),
        "RevokeApiKeyFunction" => (204, true, "revoked"),
        "RegenerateApiKeyFunction" => (
            201,
            r.body["secret"]
                .as_str()
                .is_some_and(|s| s.starts_with("pm_live_")),
            "a replacement key",
        ),
        "ApiKeyUsageFunction" => (
            200,
            r.data()
                .first()
                .is_some_and(|point| point["requests"].is_u64() && point["at"].is_string()),
            "the key's hourly usage series",
        ),
        "ListContactsFunction" => (
            200,
            r.data().iter().any(|c| c["id"] == v["CONTACT_ID"]),
            "the vip contact listed",
        ),
        "CreateContactFunction" => (
            201,
            r.body["email"] == "ann@example.com",
            "the created contact",
        ),
        "GetContactFunction" => (
            200,
            r.body["id"] == v["CONTACT_ID"] && r.body["email"] == "ada@example.com",
            "the contact",
        ),
        "ReplaceContactFunction" => (
            200,
            r.body["company"] == "Analytical Engines",
            "the replaced contact",
        ),
        "DeleteContactFunction" => (204, true, "deleted"),
        "ResubscribeContactFunction" => (200, r.body["status"] == "subscribed", "subscribed again"),
        "ListTemplatesFunction" => (
            200,
            r.data().iter().any(|t| t["id"] == v["TEMPLATE_ID"]),
            "the template listed",
        ),
        "CreateTemplateFunction" => (201, r.body["name"] == "Welcome", "the created template"),
        "GetTemplateFunction" => (200, r.body["id"] == v["TEMPLATE_ID"], "the template"),
        "ReplaceTemplateFunction" => (
            200,
            r.body["name"] == "Welcome (v2)",
            "the replaced template",
        ),
        "DeleteTemplateFunction" => (204, true, "deleted"),
        "RenderTemplateFunction" => (
            200,
            r.body["subject"] == "Welcome, Ann!",
            "the subject rendered with the variables",
        ),
        "ListCampaignsFunction" => (
            200,
            r.data().iter().any(|c| c["id"] == v["CAMPAIGN_ID"]),
            "the draft campaign listed",
        ),
        "CreateCampaignFunction" => (
            201,
            r.body["status"] == "draft" && r.body["name"] == "Onboarding",
            "a draft campaign",
        ),
        "GetCampaignFunction" => (200, r.body["id"] == v["CAMPAIGN_ID"], "the campaign"),
        "ReplaceCampaignFunction" => (
            200,
            r.body["name"] == "Onboarding (EU)",
            "the replaced campaign",
        ),
        "DeleteCampaignFunction" => (204, true, "deleted"),
        "StartCampaignFunction" => (200, r.body["status"] == "active", "started"),
        "PauseCampaignFunction" => (200, r.body["status"] == "paused", "paused"),
        "CreateWebhookFunction" => (
            201,
            r.body["secret"]
                .as_str()
                .is_some_and(|s| s.starts_with("whsec_")),
            "the webhook with its secret",
        ),
        "ListWebhooksFunction" => (
            200,
            r.data().iter().any(|w| w["id"] == v["WEBHOOK_ID"]),
            "the webhook listed",
        ),
        "ListWebhookEventTypesFunction" => (
            200,
            r.data().iter().any(|t| t["type"] == "contact.created"),
            "the event types",
        ),
        "GetWebhookFunction" => (200, r.body["id"] == v["WEBHOOK_ID"], "the webhook"),
        "ReplaceWebhookFunction" => (
            200,
            r.body["url"] == "https://hooks.acme.io/penguinmails/v2",
            "the replaced webhook",
        ),
        "UpdateWebhookFunction" => (200, r.body["enabled"] == true, "the updated webhook"),
        "DeleteWebhookFunction" => (204, true, "deleted"),
        "GetWebhookSecretFunction" | "RotateWebhookSecretFunction" => (
            200,
            r.body["secret"]
                .as_str()
                .is_some_and(|s| s.starts_with("whsec_")),
            "a whsec_ secret",
        ),
        // The webhook's URL is on loopback, which deliveries from AWS must never reach:
        // the test send is refused at connect time and says so.
        "TestWebhookFunction" => (
            200,
            r.body["success"] == false && r.body["error_kind"] == "refused_address",
            "the loopback endpoint refused",
        ),
        "ListEventsFunction" => (
            200,
            r.data().iter().any(|e| e["id"] == v["EVENT_ID"]),
            "the contact's event listed",
        ),
        "ListWebhookDeliveriesFunction" => (
            200,
            r.data().iter().any(|d| d["id"] == v["DELIVERY_ID"]),
            "the test delivery listed",
        ),
        "GetWebhookDeliveryFunction" => (200, r.body["id"] == v["DELIVERY_ID"], "the delivery"),
        "RetryWebhookDeliveryFunction" => (202, true, "queued again"),
        "RecoverWebhookFunction" => (202, true, "recovery queued"),
        "WebhookStatsFunction" => (
            200,
            r.body["window"] == "24h" && r.body["attempts"].is_u64(),
            "the webhook's stats over the window asked for",
        ),
        "SendEmailFunction" => (202, r.body["status"] == "queued", "queued"),
        "ListEmailsFunction" => (
            200,
            r.data().iter().any(|e| e["id"] == v["EMAIL_ID"]),
            "the sent email listed",
        ),
        "GetEmailFunction" => (
            200,
            r.body["id"] == v["EMAIL_ID"] && r.body["status"] == "sent",
            "the email, sent by the sender binary",
        ),
        "EmailAnalyticsFunction" => (
            200,
            r.body["interval"] == "day" && r.body["series"].is_array(),
            "a daily series",
        ),
        "CampaignAnalyticsFunction" => (
            200,
            r.body["campaign_id"] == v["CAMPAIGN_ID"],
            "the campaign's analytics",
        ),
        "ContactAnalyticsFunction" => (
            200,
            r.body["contact_id"] == v["CONTACT_ID"],
            "the contact's analytics",
        ),
        "ExportAnalyticsFunction" => (
            200,
            r.header("content-type").starts_with("text/csv"),
            "a CSV export",
        ),
        "GetEmailProviderFunction" | "PutEmailProviderFunction" => (
            200,
            r.body["transport"]["type"] == "mailgun",
            "the tenant's Mailgun transport",
        ),
        "TrackOpenFunction" => (
            200,
            r.header("content-type") == "image/gif" && r.base64,
            "the pixel",
        ),
        "TrackClickFunction" => (
            302,
            r.header("location") == "https://example.com/start",
            "a redirect to the email's link",
        ),
        "UnsubscribePageFunction" | "UnsubscribeFunction" => (
            200,
            r.header("content-type").starts_with("text/html"),
            "the page",
        ),
        // Authentic (the tenant's credentials, from OpenBao, matched) and about a message
        // this system did not send: acknowledged, so the provider stops retrying.
        "PostmarkEventsFunction" | "MailgunEventsFunction" | "MailgunInboundFunction" => (
            200,
            r.body["status"] == "unknown_message",
            "an authenticated report of an unknown message",
        ),
        "ListIntegrationsFunction" => (
            200,
            r.body["data"][0]["provider"] == "hubspot"
                && r.body["data"][0]["status"] == "not_connected",
            "HubSpot, not connected",
        ),
        "ConnectIntegrationFunction" => (
            200,
            r.body["authorize_url"].as_str().is_some_and(|u| {
                u.starts_with("https://app.hubspot.com/oauth/authorize?")
                    && u.contains(&format!("client_id={}", pm_tests::hubspot::CLIENT_ID))
            }),
            "HubSpot's authorization URL",
        ),
        // A state nobody started: refused before any call to HubSpot.
        "CompleteIntegrationFunction" => (400, r.body["code"] == "invalid_state", "invalid_state"),
        "DisconnectIntegrationFunction"
        | "ResyncIntegrationFunction"
        | "ReplayIntegrationFunction" => (409, r.body["code"] == "not_connected", "not_connected"),
        "GetIntegrationMappingFunction" => (
            200,
            r.body["fields"][0]["remote"] == "email" && r.body["properties"].is_null(),
            "the default mapping",
        ),
        "PutIntegrationMappingFunction" => (
            200,
            r.body["fields"].as_array().is_some_and(|f| f.len() == 4),
            "the mapping saved",
        ),
        "ListIntegrationRunsFunction" | "ListIntegrationLogFunction" => (
            200,
            r.body["data"].as_array().is_some_and(|d| d.is_empty()),
            "an empty list",
        ),
        // Authentic, about a portal no tenant connected: acknowledged, nothing applied.
        "HubSpotWebhooksFunction" => (
            200,
            r.body["received"] == 1 && r.body["applied"] == 0,
            "one event received",
        ),
        _ => return Err("no expected answer for this function: add one to check_http".into()),
    };
    if r.status != status || !holds {
        return Err(format!(
            "expected {status} with {what}, got {} {}{}",
            r.status,
            r.body,
            if r.cookies.is_empty() {
                String::new()
            } else {
                format!(" cookies {:?}", r.cookies)
            }
        ));
    }
    Ok(())
}

/// Whether `answer` is the right one for `function` and its `event`.
fn check(
    function: &Declared,
    event: &Json,
    answer: &Answer,
    values: &BTreeMap<&'static str, String>,
) -> Result<(), String> {
    let response = match answer {
        Answer::Response(response) => response,
        other => return Err(format!("it failed: {other:?}")),
    };
    match function.trigger.as_deref() {
        Some("HttpApi") => {
            let http = Http::from(response)?;
            check_http(&function.name, &http, values)?;
            // Every answer carries API Gateway's request id (what its access log shows).
            want(
                http.header("x-request-id") == event["requestContext"]["requestId"],
                &format!(
                    "x-request-id {:?} is not API Gateway's request id {}",
                    http.header("x-request-id"),
                    event["requestContext"]["requestId"]
                ),
            )
        }
        // Each record handled: none handed back for redelivery.
        Some("SQS") => want(
            response == &json!({"batchItemFailures": []}),
            &format!("batch item failures: {response}"),
        ),
        // What each run reports it did (a count), or nothing for those that only log it.
        Some("Schedule") => {
            let count = match function.name.as_str() {
                "OutboxRelayFunction" => "relayed",
                "WebhookRequeueFunction" => "requeued",
                "ApiKeyHashSweeperFunction" => "deleted",
                "EmailRequeueFunction" | "CampaignSchedulerFunction" | "CrmReconcileFunction" => {
                    return want(response.is_null(), &format!("answered {response}"));
                }
                _ => return Err("no expected answer for this schedule: add one to check".into()),
            };
            want(
                response[count].is_u64() && response.as_object().is_some_and(|o| o.len() == 1),
                &format!("expected {{\"{count}\": n}}, got {response}"),
            )
        }
        None => want(
            response["Status"] == "SUCCESS" && response["RequestId"] == event["RequestId"],
            &format!("custom resource: {response}"),
        ),
        Some(other) => Err(format!("no check for {other} events")),
    }
}

/// What the events refer to: credentials and the resources they act on, made through
/// the local runtime (same database, same OpenBao) before any binary runs.
async fn fixtures(sys: &Sys, receiver: &Receiver) -> BTreeMap<&'static str, String> {
    let mut v = BTreeMap::new();
    let owner = sys.owner().to_string();
    let call = |method: Method, path: String, bearer: String, body: Option<Json>, want: u16| async move {
        let (status, _, body) = sys.call(method.clone(), &path, &bearer, body).await;
        assert_eq!(status.as_u16(), want, "{method} {path}: {body}");
        body
    };
    let id = |body: &Json| body["id"].as_str().unwrap().to_string();

    let key = sys.create_key(&owner, "lambda binaries", &SCOPES).await;
    v.insert("API_KEY", key["secret"].as_str().unwrap().to_string());
    v.insert("API_KEY_ID", id(&key));
    for (name, label) in [
        ("REVOKED_KEY_ID", "to revoke"),
        ("REGENERATED_KEY_ID", "to regenerate"),
    ] {
        v.insert(
            name,
            id(&sys.create_key(&owner, label, &["read_analytics"]).await),
        );
    }
    let api = v["API_KEY"].clone();
    v.insert("SESSION", owner.clone());
    v.insert("CSRF", csrf_token(&owner));
    v.insert("TENANT_ID", sys.running.tenant.id.to_string());

    // The webhooks first, so the contact's event is fanned out to them by the local
    // runtime: the fan-out binary then gets a redelivery.
    let hook = json!({"url": receiver.url("/hooks"), "event_types": ["contact.created"]});
    for name in ["WEBHOOK_ID", "REPLACED_WEBHOOK_ID", "DELETED_WEBHOOK_ID"] {
        let made = call(
            Method::POST,
            "/api/v1/webhooks".into(),
            api.clone(),
            Some(hook.clone()),
            201,
        )
        .await;
        v.insert(name, id(&made));
    }
    let contact = |body: Json| {
        call(
            Method::POST,
            "/api/v1/contacts".into(),
            api.clone(),
            Some(body),
            201,
        )
    };
    let ada =
        contact(json!({"email": "ada@example.com", "first_name": "Ada", "tags": ["vip"]})).await;
    v.insert("CONTACT_ID", id(&ada));
    v.insert(
        "DELETED_CONTACT_ID",
        id(&contact(json!({"email": "gone@example.com"})).await),
    );
    v.insert(
        "UNSUBSCRIBED_CONTACT_ID",
        id(&contact(json!({"email": "back@example.com", "status": "unsubscribed"})).await),
    );
    // The campaigns' audience.
    contact(json!({"email": "trial@example.com", "tags": ["trial"]})).await;
    let client = sys.running.app.db.client().await.unwrap();
    let outbox_event: uuid::Uuid = client
        .query_one(
            "SELECT id FROM event_outbox WHERE event_type = 'contact.created' AND payload->>'id' = $1",
            &[&v["CONTACT_ID"]],
        )
        .await
        .unwrap()
        .get(0);
    v.insert("EVENT_ID", outbox_event.to_string());
    pm_tests::eventually(
        "the local runtime fans the contact's event out",
        Duration::from_secs(20),
        || {
            let client = &client;
            async move {
                let n: i64 = client
                    .query_one(
                        "SELECT count(*) FROM webhook_deliveries WHERE event_id = $1",
                        &[&outbox_event],
                    )
                    .await
                    .unwrap()
                    .get(0);
                (n == 3).then_some(())
            }
        },
    )
    .await;

    let template = json!({"name": "Welcome", "subject": "Welcome, {{ first_name | default('there') }}!", "text": "Hi {{ first_name | default('there') }}."});
    for name in ["TEMPLATE_ID", "DELETED_TEMPLATE_ID"] {
        let made = call(
            Method::POST,
            "/api/v1/templates".into(),
            api.clone(),
            Some(template.clone()),
            201,
        )
        .await;
        v.insert(name, id(&made));
    }

    let campaign = body_of("CreateCampaignFunction");
    for name in [
        "CAMPAIGN_ID",
        "DELETED_CAMPAIGN_ID",
        "STARTED_CAMPAIGN_ID",
        "PAUSED_CAMPAIGN_ID",
    ] {
        let made = call(
            Method::POST,
            "/api/v1/campaigns".into(),
            api.clone(),
            Some(campaign.clone()),
            201,
        )
        .await;
        v.insert(name, id(&made));
    }
    call(
        Method::POST,
        format!("/api/v1/campaigns/{}/start", v["PAUSED_CAMPAIGN_ID"]),
        api.clone(),
        None,
        200,
    )
    .await;

    let sent = call(
        Method::POST,
        format!("/api/v1/webhooks/{}/test", v["WEBHOOK_ID"]),
        api.clone(),
        Some(json!({"event_type": "contact.created"})),
        200,
    )
    .await;
    assert_eq!(sent["success"], true, "{sent}");
    v.insert(
        "DELIVERY_ID",
        sent["delivery_id"].as_str().unwrap().to_string(),
    );

    // Queued only: the local runtime's sender is off, the sender binary sends it.
    let email = call(
        Method::POST,
        "/api/v1/emails/send".into(),
        api.clone(),
        Some(json!({
            "from": {"email": pm_tests::mail::FROM, "name": "Team"},
            "to": "reader@example.com",
            "subject": "Hello",
            "html": "<p>Hi, <a href=\"https://example.com/start\">start here</a>.</p>",
            "text": "Hi, start here: https://example.com/start",
        })),
        202,
    )
    .await;
    let email_id: uuid::Uuid = id(&email).parse().unwrap();
    v.insert("EMAIL_ID", email_id.to_string());
    let keys = &sys.running.app.emails.tracking;
    use pm_tracking::{sign, Action};
    v.insert("OPEN_TOKEN", sign(keys, email_id, Action::Open));
    v.insert(
        "CLICK_TOKEN",
        sign(keys, email_id, Action::Click { link: 0 }),
    );
    v.insert(
        "UNSUBSCRIBE_TOKEN",
        sign(keys, email_id, Action::Unsubscribe),
    );

    // Two more tenants with their providers: one on Postmark (its webhooks' Basic
    // credentials are the event's), one on Mailgun exactly as PutEmailProvider's event
    // sets it, so the two provider routes and the Mailgun events agree whatever runs first.
    let (postmark, postmark_owner) = sys.other_tenant(Role::Owner).await;
    call(
        Method::PUT,
        "/api/v1/platform/email-providers".into(),
        postmark_owner,
        Some(json!({
            "transport": {"type": "postmark", "message_stream": "outbound"},
            "credentials": {"server_token": "server-token-1234", "webhook_username": "hooks", "webhook_password": "s3cret-hooks"},
            "senders": ["@example.com"],
        })),
        200,
    )
    .await;
    v.insert("POSTMARK_TENANT_ID", postmark.to_string());
    let (mailgun, mailgun_owner) = sys.other_tenant(Role::Owner).await;
    let provider = body_of("PutEmailProviderFunction");
    let signing_key = provider["credentials"]["webhook_signing_key"]
        .as_str()
        .unwrap()
        .to_string();
    call(
        Method::PUT,
        "/api/v1/platform/email-providers".into(),
        mailgun_owner.clone(),
        Some(provider),
        200,
    )
    .await;
    v.insert("MAILGUN_TENANT_ID", mailgun.to_string());
    v.insert("PROVIDER_SESSION", mailgun_owner);
    // Mailgun signs a timestamp and a one-time token: fresh ones, one per event.
    let timestamp = chrono::Utc::now().timestamp().to_string();
    for (token, signature) in [
        ("MAILGUN_TOKEN", "MAILGUN_SIGNATURE"),
        ("MAILGUN_INBOUND_TOKEN", "MAILGUN_INBOUND_SIGNATURE"),
    ] {
        let value = uuid::Uuid::new_v4().simple().to_string();
        v.insert(
            signature,
            mailgun_signature(&signing_key, &timestamp, &value),
        );
        v.insert(token, value);
    }
    v.insert("MAILGUN_TIMESTAMP", timestamp);
    // The HubSpot app's client secret, which the integrations read at start; HubSpot's
    // v3 signature over the event's body, fresh.
    sys.running
        .app
        .secrets
        .put(
            pm_integrations::api::HUBSPOT_APP_SECRET_PATH,
            &pm_ports::secrets::SecretData::new()
                .with("client_secret", pm_tests::hubspot::CLIENT_SECRET),
        )
        .await
        .unwrap();
    let hubspot_ms = chrono::Utc::now().timestamp_millis().to_string();
    v.insert(
        "HUBSPOT_SIGNATURE",
        pm_crm::hubspot::signature::signature(
            pm_tests::hubspot::CLIENT_SECRET,
            "POST",
            "https://api.example.test/api/v1/integrations/hubspot/webhooks",
            raw_body_of("HubSpotWebhooksFunction").as_bytes(),
            &hubspot_ms,
        ),
    );
    v.insert("HUBSPOT_TIMESTAMP", hubspot_ms);
    v
}

/// A function's event body as the file has it, byte for byte (what a signature covers).
fn raw_body_of(function: &str) -> String {
    let path = workspace_root().join(format!("events/{function}.json"));
    let event: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["body"].as_str().unwrap().to_string()
}

/// The JSON body of a function's event, as the file has it.
fn body_of(function: &str) -> Json {
    serde_json::from_str(&raw_body_of(function)).unwrap()
}

fn mailgun_signature(key: &str, timestamp: &str, token: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("{timestamp}{token}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The catalog's queues on moto under a fresh prefix: their URLs by variable name.
async fn queues() -> BTreeMap<String, String> {
    let sqs = aws_sdk_sqs::Client::new(&aws::moto_sdk().await);
    let prefix = pm_tests::unique("lambda-");
    let mut urls = BTreeMap::new();
    for spec in pm_ports::queue::catalog::all() {
        let created = sqs
            .create_queue()
            .queue_name(format!("{prefix}-{}", spec.name))
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::DelaySeconds,
                spec.delay.as_secs().to_string(),
            )
            .send()
            .await
            .unwrap();
        urls.insert(
            pm_ports::queue::catalog::url_variable(&spec.name),
            created.queue_url().unwrap().to_string(),
        );
    }
    urls
}

/// What Lambda sets from the Globals' `LoggingConfig`.
fn logging(template: &Value) -> Vec<(String, String)> {
    let config = &template["Globals"]["Function"]["LoggingConfig"];
    let mut vars = Vec::new();
    if let Some(format) = config["LogFormat"].as_str() {
        vars.push(("AWS_LAMBDA_LOG_FORMAT".to_string(), format.to_string()));
    }
    let level = match tag(&config["ApplicationLogLevel"]) {
        Some(("Ref", Value::String(param))) => {
            template["Parameters"][param.as_str()]["Default"].as_str()
        }
        _ => config["ApplicationLogLevel"].as_str(),
    };
    if let Some(level) = level {
        vars.push(("AWS_LAMBDA_LOG_LEVEL".to_string(), level.to_string()));
    }
    vars
}

#[test]
fn every_event_file_belongs_to_a_function_and_every_function_has_one() {
    let functions = declared(&template());
    let names: Vec<String> = functions
        .iter()
        .map(|f| format!("{}.json", f.name))
        .collect();
    let files = event_files();
    // events/health.json is the fixture tests/integration/health.rs feeds the handler.
    let strays: Vec<&String> = files
        .iter()
        .filter(|f| !names.contains(f) && f.as_str() != "health.json")
        .collect();
    assert!(strays.is_empty(), "events for no function: {strays:?}");
    let missing: Vec<&String> = names.iter().filter(|n| !files.contains(n)).collect();
    assert!(missing.is_empty(), "functions without events: {missing:?}");
}

#[test]
fn the_sam_env_vars_file_overrides_only_what_each_function_declares() {
    // `sam local invoke --env-vars` replaces variables the template declares and ignores
    // the rest, so an entry for anything else would silently do nothing.
    let functions = declared(&template());
    let text = std::fs::read_to_string(workspace_root().join("events/env.json")).unwrap();
    let file: Json = serde_json::from_str(&text).unwrap();
    let file = file.as_object().unwrap();
    for (key, vars) in file {
        let vars = vars.as_object().unwrap();
        let declared_by: Vec<&Declared> = if key == "Parameters" {
            functions.iter().collect()
        } else {
            vec![functions
                .iter()
                .find(|f| &f.name == key)
                .unwrap_or_else(|| panic!("env.json: {key} is no function"))]
        };
        for (var, value) in vars {
            assert!(value.is_string(), "env.json: {key}.{var} is not a string");
            assert!(
                declared_by.iter().any(|f| f.env.contains_key(var)),
                "env.json: {key}.{var} is declared by no function, so SAM ignores it"
            );
        }
    }
    assert!(
        file.contains_key("Parameters"),
        "env.json has no Parameters"
    );
}

#[tokio::test]
async fn every_function_binary_answers_its_event_under_the_lambda_runtime_api() {
    let template = template();
    let functions = declared(&template);
    let missing: Vec<String> = functions
        .iter()
        .filter(|f| !binary_path(&f.binary).exists())
        .map(|f| format!("{} ({})", f.name, binary_path(&f.binary).display()))
        .collect();
    assert!(
        missing.is_empty(),
        "build the binaries first (cargo build --workspace --bins): {missing:?}"
    );

    // The system the fixtures are made in, on the same OpenBao the binaries read. Its
    // own sender and campaign ticks stay off: the email it queues is the sender
    // binary's to send.
    let vault = peers::vault();
    let sys = Sys::start_with(&[
        ("SECRETS_BACKEND", "vault".into()),
        ("VAULT_ADDR", vault.addr.clone()),
        ("VAULT_TOKEN", vault.token.clone()),
        ("LOCAL_EMAIL_SEND_LOOPS", "0".into()),
        ("EMAIL_REQUEUE_AFTER_SECS", "3600".into()),
        ("CAMPAIGN_SCHEDULER_ENABLED", "false".into()),
    ])
    .await;
    sys.unlimited().await;
    let receiver = Receiver::start().await;
    let mut values = fixtures(&sys, &receiver).await;
    let cloudformation = Receiver::start().await;
    values.insert(
        "RESPONSE_URL",
        cloudformation.url("/cfn-response?X-Amz-Signature=test"),
    );

    // The role DB_RUNTIME_SECRET names, which the deploy setup creates.
    let role = pm_tests::unique("pm_rt_lambda_");
    let runtime_secret = format!("{}/database_runtime", pm_tests::unique("lambda/"));
    let secrets = sys.running.app.secrets.clone();
    secrets
        .put(
            &runtime_secret,
            &pm_ports::secrets::SecretData::new()
                .with("username", role.clone())
                .with("password", uuid::Uuid::new_v4().simple().to_string()),
        )
        .await
        .unwrap();
    let db = sys.running.app.db.client().await.unwrap();
    let database: String = db
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    let table = pm_tests::unique("pm-lambda-");
    pm_ports::kv::DynamoDbStore::ensure_table(&aws::moto_sdk().await, &table)
        .await
        .unwrap();
    let local = Local {
        database_url: pm_tests::db::config_for(&database).url.expose().clone(),
        runtime_secret,
        table,
        queues: queues().await,
        logging: logging(&template),
    };

    let started = std::time::Instant::now();
    let (first, rest): (Vec<&Declared>, Vec<&Declared>) = functions
        .iter()
        .partition(|f| FIRST.contains(&f.name.as_str()));
    let mut failures = Vec::new();
    for batch in first.chunks(1).chain(rest.chunks(AT_ONCE)) {
        let runs = batch.iter().map(|declared| {
            let lambda = Function {
                binary: binary_path(&declared.binary),
                name: declared.name.clone(),
                memory_mb: declared.memory_mb,
                timeout: declared.timeout,
                env: local.env(declared),
            };
            let values = &values;
            async move {
                let event = event(&declared.name, values)?;
                let invoke = Invoke {
                    event: event.clone(),
                    ..Invoke::default()
                };
                let invocation = lambda.invoke(&invoke, WITHIN).await?;
                check(declared, &event, &invocation.answer, values)
                    .map_err(|why| format!("{why}\n--- its output ---\n{}", invocation.output))
            }
        });
        for (declared, outcome) in batch.iter().zip(futures::future::join_all(runs).await) {
            if let Err(why) = outcome {
                failures.push(format!("{} ({}): {why}", declared.name, declared.binary));
            }
        }
    }
    let elapsed = started.elapsed();

    // What the answers alone do not show.
    let puts: Vec<Json> = cloudformation
        .received()
        .iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.json())
        .collect();
    if !(puts.len() == 1
        && puts[0]["Status"] == "SUCCESS"
        && puts[0]["Data"]["RuntimeRole"] == role.as_str())
    {
        failures.push(format!(
            "DeploySetupFunction: CloudFormation got {puts:?}, not one SUCCESS naming {role}"
        ));
    }
    // A redelivered event and attempt change nothing: still one delivery of the event to
    // the webhook, one attempt of the test send.
    let count = |sql: &'static str, ids: Vec<&String>| {
        let ids: Vec<uuid::Uuid> = ids.into_iter().map(|id| id.parse().unwrap()).collect();
        let db = &db;
        async move {
            let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                ids.iter().map(|id| id as _).collect();
            db.query_one(sql, &params).await.unwrap().get::<_, i64>(0)
        }
    };
    let deliveries = count(
        "SELECT count(*) FROM webhook_deliveries WHERE event_id = $1 AND webhook_id = $2",
        vec![&values["EVENT_ID"], &values["WEBHOOK_ID"]],
    )
    .await;
    if deliveries != 1 {
        failures.push(format!(
            "WebhookFanOutFunction: {deliveries} deliveries of the event to the webhook"
        ));
    }
    let attempts = count(
        "SELECT count(*) FROM webhook_attempts WHERE delivery_id = $1",
        vec![&values["DELIVERY_ID"]],
    )
    .await;
    if attempts != 1 {
        failures.push(format!(
            "WebhookDispatcherFunction: {attempts} attempts of a delivered delivery"
        ));
    }

    let _ = db.batch_execute(&format!("DROP OWNED BY \"{role}\"")).await;
    let _ = db
        .batch_execute(&format!("DROP ROLE IF EXISTS \"{role}\""))
        .await;
    drop(db);
    sys.stop().await;
    assert!(
        failures.is_empty(),
        "{} of {} functions answered wrong:\n\n{}",
        failures.len(),
        functions.len(),
        failures.join("\n\n")
    );
    eprintln!(
        "{} functions answered their events in {elapsed:?}",
        functions.len()
    );
}

#[tokio::test]
async fn a_handler_error_reaches_the_runtime_api_as_an_invocation_error() {
    // The deploy setup refuses a request it cannot parse before it touches any peer.
    let function = Function {
        binary: binary_path("deploy_setup"),
        name: "DeploySetupFunction".into(),
        memory_mb: 256,
        timeout: Duration::from_secs(60),
        env: Vec::new(),
    };
    let invoke = Invoke {
        event: json!({"RequestType": "Rename", "ResponseURL": "http://127.0.0.1:9/"}),
        // As the AWS Mobile SDK sends it: the runtime client parses it with the event.
        client_context: Some(
            json!({
                "client": {"installationId": "b6d2a7b0", "appTitle": "PenguinMails", "appVersionName": "2.3.1", "appVersionCode": "231", "appPackageName": "com.penguinmails.app"},
                "custom": {},
                "env": {"platform": "Android"},
            })
            .to_string(),
        ),
        ..Invoke::default()
    };
    let invocation = function.invoke(&invoke, WITHIN).await.unwrap();
    match &invocation.answer {
        Answer::Error { kind, body } => assert!(
            !kind.is_empty()
                && body["errorType"].is_string()
                && body["errorMessage"]
                    .as_str()
                    .is_some_and(|m| m.contains("not a CloudFormation custom resource request")),
            "{kind}: {body}"
        ),
        other => panic!("expected an invocation error, got {other:?}"),
    }
}
