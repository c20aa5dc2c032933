//! A fake of HubSpot's API on a random loopback port, for the CRM sync tests: no real
//! HubSpot can run here. It implements exactly the endpoints the platform uses, as
//! HubSpot's API reference (developers.hubspot.com/docs) describes them:
//!
//! - OAuth ("Working with OAuth", "OAuth API"): the install page's outcome (`GET
//!   /oauth/authorize` redirects to `redirect_uri` with `code` and `state`, as after a
//!   person approves), `POST /oauth/v1/token` with the
//!   `authorization_code` and `refresh_token` grants (form-encoded; 400 with
//!   `BAD_AUTH_CODE` / `BAD_REFRESH_TOKEN`), `GET /oauth/v1/access-tokens/{token}`
//!   (`hub_id`, `scopes`), `DELETE /oauth/v1/refresh-tokens/{token}` (204); access tokens
//!   last `expires_in` 1800 s unless a test expires them.
//! - Properties ("CRM API | Properties"): `GET` and `POST /crm/v3/properties/contacts`
//!   (409 when the name exists).
//! - Contacts ("CRM API | Contacts"): `POST /crm/v3/objects/contacts/batch/upsert` by
//!   `idProperty: email` (≤ 100 inputs; `new` per result; an unknown property is a 400
//!   `PROPERTY_DOESNT_EXIST`), `GET /crm/v3/objects/contacts` (`limit` ≤ 100, `after`,
//!   `properties`; `paging.next.after`), `GET /crm/v3/objects/contacts/{contactId}`
//!   (`properties`; 404 `OBJECT_NOT_FOUND`).
//! - Engagements ("CRM API | Email"): `POST /crm/v3/objects/emails/batch/create` with
//!   associations.
//! - Rate limits ("API usage guidelines"): 110 requests per rolling 10 s per app and
//!   account, `X-HubSpot-RateLimit-Max`/`-Remaining`/`-Interval-Milliseconds` on every
//!   answer, 429 with `"policyName": "TEN_SECONDLY_ROLLING"` beyond it.
//! - Webhooks ("Webhooks API", "Validating requests"): `contact.propertyChange` and
//!   `contact.creation` events sent as a JSON array, signed with the v3 signature over
//!   the app's client secret.
//!
//! Unauthenticated or expired tokens get 401 `EXPIRED_AUTHENTICATION` as HubSpot's do.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::time::Instant;

pub const CLIENT_ID: &str = "fake-client-id";
pub const CLIENT_SECRET: &str = "fake-client-secret-0123456789";
pub const APP_ID: &str = "424242";
const WINDOW: Duration = Duration::from_secs(10);
const STANDARD_PROPERTIES: [&str; 7] = [
    "email",
    "firstname",
    "lastname",
    "company",
    "phone",
    "lastmodifieddate",
    "hs_object_id",
];

#[derive(Debug, Clone)]
pub struct Contact {
    pub id: String,
    pub properties: BTreeMap<String, String>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone)]
struct AccessToken {
    portal: u64,
    expires_at: Instant,
}

#[derive(Default)]
struct Portal {
    contacts: BTreeMap<u64, Contact>,
    /// Lower-cased email to id: HubSpot's unique `email` property.
    by_email: BTreeMap<String, u64>,
    custom_properties: Vec<String>,
    emails: Vec<Value>,
    next_id: u64,
}

#[derive(Default)]
struct State {
    codes: BTreeMap<String, u64>,
    access: BTreeMap<String, AccessToken>,
    refresh: BTreeMap<String, u64>,
    portals: BTreeMap<u64, Portal>,
    /// When each authenticated call came, per portal (the rolling window).
    calls: BTreeMap<u64, VecDeque<Instant>>,
    /// The most calls seen in any 10 s, per portal.
    peak: BTreeMap<u64, usize>,
    /// The next this many authenticated calls get a 429, whatever the window says (with
    /// this `Retry-After`, if any).
    storm: usize,
    storm_retry_after: Option<u64>,
    rate_limited: usize,
    refreshes: usize,
    total_calls: usize,
    issued: u64,
    /// The portal a person approves on the install page (`/oauth/authorize`).
    consenting_portal: u64,
}

#[derive(Clone)]
pub struct FakeHubSpot {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for FakeHubSpot {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

fn reply(status: u16, body: Value) -> Response<Full<Bytes>> {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    Response::builder()
        .status(status)
        .header("content-type", "application/json;charset=utf-8")
        .body(Full::new(Bytes::from(bytes)))
        .expect("a response")
}

fn error(status: u16, category: &str, message: &str) -> Response<Full<Bytes>> {
    reply(
        status,
        json!({"status": "error", "category": category, "message": message,
               "correlationId": uuid::Uuid::new_v4().to_string()}),
    )
}

impl FakeHubSpot {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let serving = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(&state, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            state,
            task: Arc::new(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The customer approves the app on portal `portal`: the code HubSpot would put on
    /// the redirect.
    pub fn approve(&self, portal: u64) -> String {
        let mut state = self.state.lock().unwrap();
        state.portals.entry(portal).or_default();
        let code = format!("code-{}", uuid::Uuid::new_v4().simple());
        state.codes.insert(code.clone(), portal);
        code
    }

    /// The portal the person approving on HubSpot's install page chooses.
    pub fn consent_with(&self, portal: u64) {
        self.state.lock().unwrap().consenting_portal = portal;
    }

    /// Every access token issued so far stops working (as after 30 minutes).
    pub fn expire_access_tokens(&self) {
        self.state.lock().unwrap().access.clear();
    }

    /// The customer uninstalls the app: its refresh and access tokens stop working.
    pub fn revoke_grant(&self, portal: u64) {
        let mut state = self.state.lock().unwrap();
        state.refresh.retain(|_, p| *p != portal);
        state.access.retain(|_, t| t.portal != portal);
    }

    /// The next `n` authenticated calls are answered 429, with `Retry-After` if given
    /// (HubSpot's own 429s for the rolling window carry none).
    pub fn storm(&self, n: usize, retry_after: Option<u64>) {
        let mut state = self.state.lock().unwrap();
        state.storm = n;
        state.storm_retry_after = retry_after;
    }

    pub fn refreshes(&self) -> usize {
        self.state.lock().unwrap().refreshes
    }

    pub fn rate_limited(&self) -> usize {
        self.state.lock().unwrap().rate_limited
    }

    /// Every authenticated call so far, answered or refused.
    pub fn calls(&self) -> usize {
        self.state.lock().unwrap().total_calls
    }

    /// The most authenticated calls the portal made in any rolling 10 s.
    pub fn peak_calls(&self, portal: u64) -> usize {
        self.state
            .lock()
            .unwrap()
            .peak
            .get(&portal)
            .copied()
            .unwrap_or(0)
    }

    pub fn contacts(&self, portal: u64) -> Vec<Contact> {
        let state = self.state.lock().unwrap();
        state
            .portals
            .get(&portal)
            .map(|p| p.contacts.values().cloned().collect())
            .unwrap_or_default()
    }

    pub fn emails(&self, portal: u64) -> Vec<Value> {
        let state = self.state.lock().unwrap();
        state
            .portals
            .get(&portal)
            .map(|p| p.emails.clone())
            .unwrap_or_default()
    }

    /// Contacts already in HubSpot (an account's existing CRM data), in one go.
    pub fn seed(&self, portal: u64, contacts: &[(String, Vec<(&str, String)>)]) {
        let mut state = self.state.lock().unwrap();
        let portal = state.portals.entry(portal).or_default();
        for (email, properties) in contacts {
            let properties = properties
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            upsert(portal, email, properties);
        }
    }

    /// A person edits a contact in HubSpot; returns its id.
    pub fn edit(&self, portal: u64, email: &str, properties: &[(&str, &str)]) -> String {
        let mut state = self.state.lock().unwrap();
        let portal = state.portals.entry(portal).or_default();
        let id = upsert(
            portal,
            email,
            properties
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .0;
        id.to_string()
    }

    /// HubSpot's webhook for a property change, signed v3, as the headers and body it
    /// would POST to `url`.
    pub fn change_event(
        &self,
        url: &str,
        portal: u64,
        object_id: &str,
        property: &str,
        value: &str,
        by_us: bool,
    ) -> (Vec<(String, String)>, Vec<u8>) {
        let now = chrono::Utc::now().timestamp_millis();
        let body = json!([{
            "eventId": rand_id(),
            "subscriptionId": 1,
            "portalId": portal,
            "appId": APP_ID.parse::<u64>().unwrap(),
            "occurredAt": now,
            "subscriptionType": "contact.propertyChange",
            "attemptNumber": 0,
            "objectId": object_id.parse::<u64>().unwrap_or(0),
            "propertyName": property,
            "propertyValue": value,
            "changeSource": if by_us { "INTEGRATION" } else { "CRM_UI" },
            "sourceId": if by_us { APP_ID.to_string() } else { "userId:1".to_string() },
        }])
        .to_string()
        .into_bytes();
        signed(url, now, body)
    }

    /// HubSpot's webhook for a contact someone created in HubSpot, signed v3.
    pub fn creation_event(
        &self,
        url: &str,
        portal: u64,
        object_id: &str,
    ) -> (Vec<(String, String)>, Vec<u8>) {
        let now = chrono::Utc::now().timestamp_millis();
        let body = json!([{
            "eventId": rand_id(),
            "subscriptionId": 2,
            "portalId": portal,
            "appId": APP_ID.parse::<u64>().unwrap(),
            "occurredAt": now,
            "subscriptionType": "contact.creation",
            "attemptNumber": 0,
            "objectId": object_id.parse::<u64>().unwrap_or(0),
            "changeSource": "CRM_UI",
            "sourceId": "userId:1",
        }])
        .to_string()
        .into_bytes();
        signed(url, now, body)
    }
}

/// A webhook request's headers and body, signed v3 with the app's client secret at `now`.
fn signed(url: &str, now: i64, body: Vec<u8>) -> (Vec<(String, String)>, Vec<u8>) {
    let timestamp = now.to_string();
    let signature =
        pm_crm::hubspot::signature::signature(CLIENT_SECRET, "POST", url, &body, &timestamp);
    (
        vec![
            ("x-hubspot-signature-v3".into(), signature),
            ("x-hubspot-request-timestamp".into(), timestamp),
            ("content-type".into(), "application/json".into()),
        ],
        body,
    )
}

fn rand_id() -> u64 {
    let id = uuid::Uuid::new_v4();
    u64::from(u32::from_le_bytes(id.as_bytes()[..4].try_into().unwrap()))
}

/// Creates or updates the contact with this email; (id, created).
fn upsert(portal: &mut Portal, email: &str, properties: BTreeMap<String, String>) -> (u64, bool) {
    let email = email.to_ascii_lowercase();
    let existing = portal.by_email.get(&email).copied();
    let now = chrono::Utc::now();
    match existing {
        Some(id) => {
            let contact = portal.contacts.get_mut(&id).unwrap();
            contact.properties.extend(properties);
            contact.updated_at = now;
            (id, false)
        }
        None => {
            portal.next_id += 1;
            let id = 1000 + portal.next_id;
            let mut all = properties;
            all.insert("email".into(), email.clone());
            all.insert("hs_object_id".into(), id.to_string());
            portal.by_email.insert(email, id);
            portal.contacts.insert(
                id,
                Contact {
                    id: id.to_string(),
                    properties: all,
                    updated_at: now,
                },
            );
            (id, true)
        }
    }
}

fn form(body: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            let decode = |s: &str| {
                urlencoding::decode(&s.replace('+', " "))
                    .map(|c| c.into_owned())
                    .unwrap_or_default()
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn issue(state: &mut State, portal: u64) -> Value {
    state.issued += 1;
    let access = format!("access-{}-{}", state.issued, uuid::Uuid::new_v4().simple());
    let refresh = format!("refresh-{}", uuid::Uuid::new_v4().simple());
    state.access.insert(
        access.clone(),
        AccessToken {
            portal,
            expires_at: Instant::now() + Duration::from_secs(1800),
        },
    );
    state.refresh.insert(refresh.clone(), portal);
    json!({"token_type": "bearer", "access_token": access, "refresh_token": refresh, "expires_in": 1800})
}

async fn handle(state: &Mutex<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query: BTreeMap<String, String> = req
        .uri()
        .query()
        .map(|q| form(q.as_bytes()))
        .unwrap_or_default();
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return error(400, "VALIDATION_ERROR", "unreadable body"),
    };
    let mut state = state.lock().unwrap();

    // The install page on app.hubspot.com, as if the person chose `consenting_portal`
    // and approved: HubSpot sends the browser back with a code and the state.
    if method == "GET" && path == "/oauth/authorize" {
        if query.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
            return error(400, "BAD_CLIENT_ID", "unknown client_id");
        }
        let (Some(redirect), Some(oauth_state)) = (query.get("redirect_uri"), query.get("state"))
        else {
            return error(
                400,
                "VALIDATION_ERROR",
                "redirect_uri and state are required",
            );
        };
        let portal = state.consenting_portal;
        state.portals.entry(portal).or_default();
        let code = format!("code-{}", uuid::Uuid::new_v4().simple());
        state.codes.insert(code.clone(), portal);
        let location = format!(
            "{redirect}?code={}&state={}",
            urlencoding::encode(&code),
            urlencoding::encode(oauth_state)
        );
        return Response::builder()
            .status(302)
            .header("location", location)
            .body(Full::new(Bytes::new()))
            .expect("a response");
    }

    // OAuth endpoints take no bearer token.
    if method == "POST" && path == "/oauth/v1/token" {
        let form = form(&body);
        if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
            || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
        {
            return reply(
                400,
                json!({"status": "BAD_CLIENT_ID", "message": "missing or invalid client credentials"}),
            );
        }
        return match form.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                match form.get("code").and_then(|c| state.codes.remove(c)) {
                    Some(portal) => reply(200, issue(&mut state, portal)),
                    None => reply(
                        400,
                        json!({"status": "BAD_AUTH_CODE", "message": "missing or unknown auth code"}),
                    ),
                }
            }
            Some("refresh_token") => {
                let portal = form
                    .get("refresh_token")
                    .and_then(|r| state.refresh.get(r).copied());
                match portal {
                    Some(portal) => {
                        state.refreshes += 1;
                        // HubSpot keeps the refresh token; the fake issues a new pair and
                        // keeps the old refresh token valid too, as HubSpot does.
                        let mut answer = issue(&mut state, portal);
                        answer["refresh_token"] = json!(form["refresh_token"]);
                        reply(200, answer)
                    }
                    None => reply(
                        400,
                        json!({"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"}),
                    ),
                }
            }
            _ => reply(
                400,
                json!({"status": "BAD_GRANT_TYPE", "message": "unknown grant_type"}),
            ),
        };
    }
    if method == "DELETE" {
        if let Some(token) = path.strip_prefix("/oauth/v1/refresh-tokens/") {
            let token = urlencoding::decode(token)
                .map(|t| t.into_owned())
                .unwrap_or_default();
            return match state.refresh.remove(&token) {
                Some(portal) => {
                    state.access.retain(|_, t| t.portal != portal);
                    reply(204, Value::Null)
                }
                None => error(404, "OBJECT_NOT_FOUND", "refresh token not found"),
            };
        }
    }

    // Everything else needs a live access token (or names one, for its details).
    let token_path = path.strip_prefix("/oauth/v1/access-tokens/").map(|t| {
        urlencoding::decode(t)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    });
    let presented = token_path.clone().or(bearer);
    let Some(token) = presented.and_then(|t| state.access.get(&t).cloned()) else {
        return error(
            401,
            "EXPIRED_AUTHENTICATION",
            "The OAuth token used to make this call expired or is invalid",
        );
    };
    if token.expires_at <= Instant::now() {
        return error(
            401,
            "EXPIRED_AUTHENTICATION",
            "The OAuth token used to make this call expired",
        );
    }
    let portal_id = token.portal;

    // The rolling window, counted per portal.
    state.total_calls += 1;
    let now = Instant::now();
    let calls = state.calls.entry(portal_id).or_default();
    while calls
        .front()
        .is_some_and(|at| now.duration_since(*at) >= WINDOW)
    {
        calls.pop_front();
    }
    let over = calls.len() >= 110;
    calls.push_back(now);
    let in_window = calls.len();
    let peak = state.peak.entry(portal_id).or_default();
    *peak = (*peak).max(in_window);
    if over || state.storm > 0 {
        let retry_after = (!over).then_some(state.storm_retry_after).flatten();
        state.storm = state.storm.saturating_sub(1);
        state.rate_limited += 1;
        let mut response = reply(
            429,
            json!({
                "status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING",
                "correlationId": uuid::Uuid::new_v4().to_string(),
            }),
        );
        // Over the window: its headers say nothing remains. A storm stands for a limit
        // the window does not show (another app's burst, a secondly policy).
        if over {
            limit_headers(&mut response, 0);
        }
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", seconds.to_string().parse().unwrap());
        }
        return response;
    }
    let remaining = 110usize.saturating_sub(in_window);

    let portal = state.portals.entry(portal_id).or_default();
    let mut response = match (method.as_str(), path.as_str()) {
        ("GET", p) if p.starts_with("/oauth/v1/access-tokens/") => reply(
            200,
            json!({
                "token": token_path, "hub_id": portal_id, "app_id": APP_ID.parse::<u64>().unwrap(),
                "scopes": ["crm.objects.contacts.read", "crm.objects.contacts.write", "oauth"],
                "token_type": "access", "expires_in": 1800,
            }),
        ),
        ("GET", "/crm/v3/properties/contacts") => {
            let results: Vec<Value> = STANDARD_PROPERTIES
                .iter()
                .map(|name| (name.to_string(), matches!(*name, "lastmodifieddate" | "hs_object_id")))
                .chain(portal.custom_properties.iter().map(|n| (n.clone(), false)))
                .map(|(name, read_only)| json!({
                    "name": name, "label": name, "type": if name == "lastmodifieddate" { "datetime" } else { "string" },
                    "fieldType": "text", "groupName": "contactinformation",
                    "modificationMetadata": {"archivable": true, "readOnlyDefinition": true, "readOnlyValue": read_only},
                }))
                .collect();
            reply(200, json!({ "results": results }))
        }
        ("POST", "/crm/v3/properties/contacts") => {
            let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            match input["name"].as_str() {
                None => error(400, "VALIDATION_ERROR", "name is required"),
                Some(name)
                    if STANDARD_PROPERTIES.contains(&name)
                        || portal.custom_properties.iter().any(|p| p == name) =>
                {
                    error(
                        409,
                        "OBJECT_ALREADY_EXISTS",
                        &format!("A property named '{name}' already exists."),
                    )
                }
                Some(name) => {
                    portal.custom_properties.push(name.to_string());
                    reply(
                        201,
                        json!({"name": name, "label": input["label"], "type": input["type"]}),
                    )
                }
            }
        }
        ("POST", "/crm/v3/objects/contacts/batch/upsert") => {
            let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let inputs = input["inputs"].as_array().cloned().unwrap_or_default();
            if inputs.is_empty() || inputs.len() > 100 {
                error(400, "VALIDATION_ERROR", "inputs must hold 1 to 100 objects")
            } else {
                let known = |name: &str| {
                    STANDARD_PROPERTIES.contains(&name)
                        || portal.custom_properties.iter().any(|p| p == name)
                };
                let unknown: Vec<String> = inputs
                    .iter()
                    .flat_map(|i| {
                        i["properties"]
                            .as_object()
                            .map(|p| p.keys().cloned().collect::<Vec<_>>())
                            .unwrap_or_default()
                    })
                    .filter(|k| !known(k))
                    .collect();
                if let Some(name) = unknown.first() {
                    error(
                        400,
                        "VALIDATION_ERROR",
                        &format!("Property \"{name}\" does not exist (PROPERTY_DOESNT_EXIST)"),
                    )
                } else if inputs.iter().any(|i| {
                    i["idProperty"] != "email" || !i["id"].as_str().is_some_and(|e| e.contains('@'))
                }) {
                    error(
                        400,
                        "VALIDATION_ERROR",
                        "each input needs idProperty email and an email as id",
                    )
                } else {
                    let results: Vec<Value> = inputs
                        .iter()
                        .map(|i| {
                            let email = i["id"].as_str().unwrap();
                            let properties = i["properties"]
                                .as_object()
                                .cloned()
                                .unwrap_or_default()
                                .into_iter()
                                .map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                                .collect();
                            let (id, created) = upsert(portal, email, properties);
                            let contact = &portal.contacts[&id];
                            json!({"id": id.to_string(), "properties": contact.properties, "new": created,
                                   "createdAt": contact.updated_at.to_rfc3339(), "updatedAt": contact.updated_at.to_rfc3339(),
                                   "archived": false})
                        })
                        .collect();
                    reply(200, json!({"status": "COMPLETE", "results": results}))
                }
            }
        }
        ("GET", "/crm/v3/objects/contacts") => {
            let limit = query
                .get("limit")
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(10)
                .clamp(1, 100);
            let after = query
                .get("after")
                .and_then(|a| a.parse::<u64>().ok())
                .unwrap_or(0);
            let wanted = wanted_properties(&query);
            let page: Vec<&Contact> = portal
                .contacts
                .range(after..)
                .take(limit + 1)
                .map(|(_, c)| c)
                .collect();
            let next = (page.len() > limit).then(|| page[limit].id.clone());
            let results: Vec<Value> = page
                .iter()
                .take(limit)
                .map(|c| contact_json(c, &wanted))
                .collect();
            let mut answer = json!({ "results": results });
            if let Some(next) = next {
                answer["paging"] = json!({"next": {"after": next}});
            }
            reply(200, answer)
        }
        ("GET", p) if p.starts_with("/crm/v3/objects/contacts/") => {
            let id = p.trim_start_matches("/crm/v3/objects/contacts/");
            match id
                .parse::<u64>()
                .ok()
                .and_then(|id| portal.contacts.get(&id))
            {
                Some(c) => reply(200, contact_json(c, &wanted_properties(&query))),
                None => error(404, "OBJECT_NOT_FOUND", "resource not found"),
            }
        }
        ("POST", "/crm/v3/objects/emails/batch/create") => {
            let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let inputs = input["inputs"].as_array().cloned().unwrap_or_default();
            let bad_association = inputs.iter().any(|i| {
                let to = i["associations"][0]["to"]["id"]
                    .as_str()
                    .and_then(|id| id.parse::<u64>().ok());
                !to.is_some_and(|id| portal.contacts.contains_key(&id))
                    || i["associations"][0]["types"][0]["associationTypeId"] != 198
            });
            if inputs.is_empty() || inputs.len() > 100 {
                error(400, "VALIDATION_ERROR", "inputs must hold 1 to 100 objects")
            } else if bad_association {
                error(
                    400,
                    "VALIDATION_ERROR",
                    "each email must be associated with an existing contact (type 198)",
                )
            } else {
                portal.emails.extend(inputs.iter().cloned());
                reply(201, json!({"status": "COMPLETE", "results": inputs}))
            }
        }
        _ => error(
            404,
            "OBJECT_NOT_FOUND",
            &format!("no such endpoint: {method} {path}"),
        ),
    };
    limit_headers(&mut response, remaining);
    response
}

/// The `properties` a read asks for (HubSpot's default three when none).
fn wanted_properties(query: &BTreeMap<String, String>) -> Vec<String> {
    query
        .get("properties")
        .map(|p| {
            p.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_else(|| vec!["email".into(), "firstname".into(), "lastname".into()])
}

/// A contact as the CRM API returns it, with the properties asked for.
fn contact_json(c: &Contact, wanted: &[String]) -> Value {
    let properties: BTreeMap<&str, Value> = wanted
        .iter()
        .map(|w| {
            (
                w.as_str(),
                c.properties.get(w).map_or(Value::Null, |v| json!(v)),
            )
        })
        .collect();
    json!({"id": c.id, "properties": properties, "updatedAt": c.updated_at.to_rfc3339(), "archived": false})
}

fn limit_headers(response: &mut Response<Full<Bytes>>, remaining: usize) {
    let headers = response.headers_mut();
    headers.insert("x-hubspot-ratelimit-max", "110".parse().unwrap());
    headers.insert(
        "x-hubspot-ratelimit-remaining",
        remaining.to_string().parse().unwrap(),
    );
    headers.insert(
        "x-hubspot-ratelimit-interval-milliseconds",
        "10000".parse().unwrap(),
    );
}
