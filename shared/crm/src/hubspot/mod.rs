//! HubSpot, the first provider. The endpoints used, each as HubSpot's API reference
//! (developers.hubspot.com/docs) describes it:
//!
//! - OAuth: the authorize page `{app}/oauth/authorize`; `POST /oauth/v1/token` (form:
//!   `authorization_code` and `refresh_token` grants); `GET /oauth/v1/access-tokens/{t}`
//!   (the portal id and scopes of a token); `DELETE /oauth/v1/refresh-tokens/{t}`.
//! - `GET /crm/v3/properties/contacts`: the account's contact properties.
//! - `POST /crm/v3/objects/contacts/batch/upsert`: up to 100 contacts, by `email`.
//! - `GET /crm/v3/objects/contacts`: a page of contacts (`limit`, `after`,
//!   `properties`), with `paging.next.after`.
//! - `POST /crm/v3/objects/emails/batch/create`: email engagements, each associated with
//!   its contact (association type 198, email to contact).
//! - Rate limits: 110 requests per rolling 10 s for an OAuth app on one account; answers
//!   carry `X-HubSpot-RateLimit-Remaining` and `-Daily-Remaining`; over the limit is 429.
//! - Webhooks it sends are signed with v3 signatures ([`signature`]).

pub mod signature;
pub mod webhooks;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pm_config::Redacted;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::governor::{jitter, Class, Observed};
use crate::provider::{
    Account, Activity, ActivityKind, Capabilities, ContactWrite, Page, PropertyInfo, Provider,
    ProviderError, PushMechanism, RateLimit, RemoteContact, Session, Tokens, WriteMode, Written,
};

pub const ID: &str = "hubspot";
/// HubSpot's batch limit for contacts and engagements.
pub const BATCH: usize = 100;
/// Association type "email to contact" (HUBSPOT_DEFINED).
const EMAIL_TO_CONTACT: u32 = 198;

pub const CAPABILITIES: Capabilities = Capabilities {
    batch_size: BATCH,
    write: WriteMode::NativeUpsert { key: "email" },
    push: PushMechanism::SignedWebhooks,
    rate: RateLimit {
        requests: 110,
        per: Duration::from_secs(10),
        // Public apps are not capped per day; the figure is a private app's on the
        // lowest tier, kept as a ceiling the governor stays under.
        daily: Some(250_000),
    },
    pkce: false,
    origin_marker: true,
};

/// The app's registration at HubSpot, and where HubSpot is (the fake, in tests).
#[derive(Clone, Debug)]
pub struct HubSpotConfig {
    pub client_id: String,
    pub client_secret: Redacted<String>,
    /// Our app's id: HubSpot puts it in a change's `sourceId` when we made the change.
    pub app_id: String,
    pub scopes: Vec<String>,
    /// `https://api.hubapi.com`.
    pub api_base: String,
    /// `https://app.hubspot.com`.
    pub app_base: String,
}

pub struct HubSpot {
    config: HubSpotConfig,
    http: reqwest::Client,
}

impl HubSpot {
    pub fn new(config: HubSpotConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client builds");
        Self { config, http }
    }

    pub fn config(&self) -> &HubSpotConfig {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_base.trim_end_matches('/'))
    }

    /// An authenticated call through the connection's governor.
    async fn call(
        &self,
        session: &Session<'_>,
        request: RequestBuilder,
    ) -> Result<Value, ProviderError> {
        let class = if session.interactive {
            Class::Interactive
        } else {
            Class::Background
        };
        session
            .governor
            .acquire(class)
            .await
            .map_err(|_| ProviderError::RateLimited { retry_after: None })?;
        let response = request
            .bearer_auth(session.access_token)
            .send()
            .await
            .map_err(network)?;
        let now = tokio::time::Instant::now();
        session.governor.observe(now, observed(&response));
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = retry_after(&response);
            session
                .governor
                .rate_limited(now, retry_after, jitter(Duration::from_secs(1)));
            return Err(ProviderError::RateLimited { retry_after });
        }
        answer(response).await
    }

    async fn token(
        &self,
        form: &[(&str, &str)],
        refreshing: bool,
    ) -> Result<Tokens, ProviderError> {
        let response = self
            .http
            .post(self.url("/oauth/v1/token"))
            .form(form)
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_client_error() {
            // BAD_REFRESH_TOKEN, BAD_AUTH_CODE, invalid_grant: the grant is no good.
            let code = body["status"]
                .as_str()
                .or(body["error"].as_str())
                .unwrap_or("");
            if refreshing && (code == "BAD_REFRESH_TOKEN" || code == "invalid_grant") {
                return Err(ProviderError::GrantRevoked);
            }
            return Err(ProviderError::Rejected {
                status: status.as_u16(),
                message: message(&body),
            });
        }
        if !status.is_success() {
            return Err(ProviderError::Unavailable(format!(
                "token endpoint answered {status}"
            )));
        }
        let granted: Granted = serde_json::from_value(body).map_err(|_| {
            ProviderError::Unavailable("the token endpoint's answer did not parse".into())
        })?;
        Ok(Tokens {
            access_token: Redacted::new(granted.access_token),
            refresh_token: Redacted::new(granted.refresh_token),
            expires_at: Utc::now() + chrono::Duration::seconds(granted.expires_in),
        })
    }
}

#[derive(Deserialize)]
struct Granted {
    access_token: String,
    refresh_token: String,
    expires_in: i64,
}

/// A transport failure, without the URL (some carry a token in their path).
fn network(e: reqwest::Error) -> ProviderError {
    ProviderError::Unavailable(e.without_url().to_string())
}

fn observed(response: &Response) -> Observed {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    };
    Observed {
        remaining: header("x-hubspot-ratelimit-remaining"),
        daily_remaining: header("x-hubspot-ratelimit-daily-remaining"),
    }
}

fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn message(body: &Value) -> String {
    body["message"]
        .as_str()
        .or(body["error_description"].as_str())
        .unwrap_or("no message")
        .chars()
        .take(300)
        .collect()
}

async fn answer(response: Response) -> Result<Value, ProviderError> {
    let status = response.status();
    if status == StatusCode::NO_CONTENT {
        return Ok(Value::Null);
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match status.as_u16() {
        200..=299 => Ok(body),
        401 => Err(ProviderError::Unauthorized),
        400..=499 => Err(ProviderError::Rejected {
            status: status.as_u16(),
            message: message(&body),
        }),
        _ => Err(ProviderError::Unavailable(format!(
            "HubSpot answered {status}"
        ))),
    }
}

/// A contact object of HubSpot's CRM API (`id`, `properties`, `updatedAt`).
fn remote_contact(c: &Value) -> Option<RemoteContact> {
    Some(RemoteContact {
        id: c["id"].as_str()?.to_string(),
        properties: c["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string)))
            .collect(),
        modified_at: modified_at(c),
    })
}

fn modified_at(contact: &Value) -> Option<DateTime<Utc>> {
    contact["updatedAt"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

#[async_trait]
impl Provider for HubSpot {
    fn id(&self) -> &'static str {
        ID
    }

    fn name(&self) -> &'static str {
        "HubSpot"
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn default_mapping(&self) -> Vec<crate::mapping::FieldMapping> {
        crate::mapping::hubspot_defaults()
    }

    fn authorize_url(&self, redirect_uri: &str, state: &str, _pkce: Option<&str>) -> String {
        format!(
            "{}/oauth/authorize?client_id={}&redirect_uri={}&scope={}&state={}",
            self.config.app_base.trim_end_matches('/'),
            urlencoding::encode(&self.config.client_id),
            urlencoding::encode(redirect_uri),
            urlencoding::encode(&self.config.scopes.join(" ")),
            urlencoding::encode(state),
        )
    }

    async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        _pkce_verifier: Option<&str>,
    ) -> Result<Tokens, ProviderError> {
        let secret = self.config.client_secret.expose();
        self.token(
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &self.config.client_id),
                ("client_secret", secret),
                ("redirect_uri", redirect_uri),
                ("code", code),
            ],
            false,
        )
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<Tokens, ProviderError> {
        let secret = self.config.client_secret.expose();
        self.token(
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &self.config.client_id),
                ("client_secret", secret),
                ("refresh_token", refresh_token),
            ],
            true,
        )
        .await
    }

    async fn revoke(&self, tokens: &Tokens) -> Result<(), ProviderError> {
        let path = format!(
            "/oauth/v1/refresh-tokens/{}",
            urlencoding::encode(tokens.refresh_token.expose())
        );
        let response = self
            .http
            .request(Method::DELETE, self.url(&path))
            .send()
            .await
            .map_err(network)?;
        match response.status().as_u16() {
            // Already gone is what disconnecting wants.
            200..=299 | 404 => Ok(()),
            _ => answer(response).await.map(|_| ()),
        }
    }

    async fn account(&self, session: &Session<'_>) -> Result<Account, ProviderError> {
        let path = format!(
            "/oauth/v1/access-tokens/{}",
            urlencoding::encode(session.access_token)
        );
        let body = self.call(session, self.http.get(self.url(&path))).await?;
        let id = match &body["hub_id"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => {
                return Err(ProviderError::Unavailable(
                    "no hub_id in the token's details".into(),
                ))
            }
        };
        let scopes = body["scopes"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Account { id, scopes })
    }

    async fn contact_properties(
        &self,
        session: &Session<'_>,
    ) -> Result<Vec<PropertyInfo>, ProviderError> {
        let body = self
            .call(
                session,
                self.http.get(self.url("/crm/v3/properties/contacts")),
            )
            .await?;
        Ok(body["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                Some(PropertyInfo {
                    name: p["name"].as_str()?.to_string(),
                    label: p["label"].as_str().unwrap_or_default().to_string(),
                    kind: p["type"].as_str().unwrap_or("string").to_string(),
                    read_only: p["modificationMetadata"]["readOnlyValue"]
                        .as_bool()
                        .unwrap_or(false),
                })
            })
            .collect())
    }

    async fn create_contact_property(
        &self,
        session: &Session<'_>,
        property: &PropertyInfo,
    ) -> Result<bool, ProviderError> {
        let request = self
            .http
            .post(self.url("/crm/v3/properties/contacts"))
            .json(&json!({
                "name": property.name,
                "label": property.label,
                "type": property.kind,
                "fieldType": "text",
                "groupName": "contactinformation",
            }));
        match self.call(session, request).await {
            Ok(_) => Ok(true),
            Err(ProviderError::Rejected { status: 409, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn write_contacts(
        &self,
        session: &Session<'_>,
        batch: &[ContactWrite],
    ) -> Result<Vec<Result<Written, ProviderError>>, ProviderError> {
        if batch.len() > BATCH {
            return Err(ProviderError::Rejected {
                status: 400,
                message: format!("at most {BATCH} contacts a call, not {}", batch.len()),
            });
        }
        let inputs: Vec<Value> = batch
            .iter()
            .map(|c| json!({"idProperty": "email", "id": c.key, "properties": c.properties}))
            .collect();
        let request = self
            .http
            .post(self.url("/crm/v3/objects/contacts/batch/upsert"))
            .json(&json!({ "inputs": inputs }));
        let body = self.call(session, request).await?;
        let mut by_email: BTreeMap<String, Written> = BTreeMap::new();
        for result in body["results"].as_array().into_iter().flatten() {
            let (Some(id), Some(email)) = (
                result["id"].as_str(),
                result["properties"]["email"].as_str(),
            ) else {
                continue;
            };
            by_email.insert(
                email.to_ascii_lowercase(),
                Written {
                    key: email.to_string(),
                    id: id.to_string(),
                    created: result["new"].as_bool().unwrap_or(false),
                },
            );
        }
        // Errors of a 207 name the inputs they concern in context.ids (or not at all).
        let mut refused: BTreeMap<String, String> = BTreeMap::new();
        for error in body["errors"].as_array().into_iter().flatten() {
            for id in error["context"]["ids"].as_array().into_iter().flatten() {
                if let Some(id) = id.as_str() {
                    refused.insert(id.to_ascii_lowercase(), message(error));
                }
            }
        }
        Ok(batch
            .iter()
            .map(|c| {
                let key = c.key.to_ascii_lowercase();
                match (by_email.remove(&key), refused.remove(&key)) {
                    (Some(written), _) => Ok(Written {
                        key: c.key.clone(),
                        ..written
                    }),
                    (None, Some(message)) => Err(ProviderError::Rejected {
                        status: 400,
                        message,
                    }),
                    (None, None) => Err(ProviderError::Unavailable(
                        "HubSpot did not report this contact".into(),
                    )),
                }
            })
            .collect())
    }

    async fn read_contacts(
        &self,
        session: &Session<'_>,
        properties: &[String],
        cursor: Option<&str>,
    ) -> Result<Page<RemoteContact>, ProviderError> {
        let mut query = vec![
            ("limit", BATCH.to_string()),
            ("properties", properties.join(",")),
        ];
        if let Some(after) = cursor {
            query.push(("after", after.to_string()));
        }
        let request = self
            .http
            .get(self.url("/crm/v3/objects/contacts"))
            .query(&query);
        let body = self.call(session, request).await?;
        let items = body["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(remote_contact)
            .collect();
        let next = body["paging"]["next"]["after"].as_str().map(str::to_string);
        Ok(Page { items, next })
    }

    async fn read_contact(
        &self,
        session: &Session<'_>,
        id: &str,
        properties: &[String],
    ) -> Result<Option<RemoteContact>, ProviderError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let request = self
            .http
            .get(self.url(&format!("/crm/v3/objects/contacts/{id}")))
            .query(&[("properties", properties.join(","))]);
        match self.call(session, request).await {
            Ok(body) => Ok(remote_contact(&body)),
            Err(ProviderError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn record_activities(
        &self,
        session: &Session<'_>,
        activities: &[Activity],
    ) -> Result<(), ProviderError> {
        for chunk in activities.chunks(BATCH) {
            let inputs: Vec<Value> = chunk
                .iter()
                .map(|a| {
                    let (direction, status) = match a.kind {
                        ActivityKind::Sent => ("EMAIL", "SENT"),
                        ActivityKind::Bounced => ("EMAIL", "BOUNCED"),
                        ActivityKind::Replied => ("INCOMING_EMAIL", "SENT"),
                    };
                    json!({
                        "properties": {
                            "hs_timestamp": a.at.to_rfc3339(),
                            "hs_email_direction": direction,
                            "hs_email_status": status,
                            "hs_email_subject": a.subject,
                        },
                        "associations": [{
                            "to": {"id": a.contact_id},
                            "types": [{
                                "associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": EMAIL_TO_CONTACT,
                            }],
                        }],
                    })
                })
                .collect();
            let request = self
                .http
                .post(self.url("/crm/v3/objects/emails/batch/create"))
                .json(&json!({ "inputs": inputs }));
            self.call(session, request).await?;
        }
        Ok(())
    }
}
