use chrono::{DateTime, Utc};
use pm_domain::{CampaignId, DeliveryId, EventId, EventType, WebhookId, WorkspaceId};
use pm_http::bounded::Bounded;
use pm_webhook_delivery::model::{DeliveryStatus, WebhookState};
use pm_webhook_delivery::policy::RetryPolicy;
use serde::{Deserialize, Deserializer, Serialize};

/// Which events a webhook receives beyond their type; an empty list matches all.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Filters {
    pub workspace_ids: Vec<WorkspaceId>,
    pub campaign_ids: Vec<CampaignId>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    pub description: Option<String>,
    /// Event type names, or `["*"]`.
    pub event_types: Vec<String>,
    pub filters: Filters,
    pub enabled: bool,
    pub retry_policy: RetryPolicy,
    pub state: WebhookState,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A webhook's writable fields after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidWebhook {
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub filters: Filters,
    pub enabled: bool,
    pub retry_policy: RetryPolicy,
}

impl From<&Webhook> for ValidWebhook {
    fn from(w: &Webhook) -> Self {
        Self {
            url: w.url.clone(),
            description: w.description.clone(),
            event_types: w.event_types.clone(),
            filters: w.filters.clone(),
            enabled: w.enabled,
            retry_policy: w.retry_policy,
        }
    }
}

/// Filters as sent: loose types, so validation can name each bad item.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiltersInput {
    #[serde(default)]
    pub workspace_ids: Bounded<String, 200>,
    #[serde(default)]
    pub campaign_ids: Bounded<String, 200>,
    #[serde(default)]
    pub tags: Bounded<String, 200>,
}

/// The body of create and replace: every writable field; omitted ones take defaults.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    pub event_types: Bounded<String, 64>,
    #[serde(default)]
    pub filters: Option<FiltersInput>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub retry_policy: Option<String>,
}

/// `Some(None)` for an explicit `null`, `None` for an absent field.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The body of PATCH: any subset of the writable fields (`"description": null` clears).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub event_types: Option<Bounded<String, 64>>,
    #[serde(default)]
    pub filters: Option<FiltersInput>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub retry_policy: Option<String>,
}

/// A created webhook: the only response (besides `GET …/secret`) with its secret.
#[derive(Serialize)]
pub struct NewWebhook<'a> {
    #[serde(flatten)]
    pub webhook: &'a Webhook,
    pub secret: String,
}

#[derive(Serialize)]
pub struct SecretView {
    pub secret: String,
    pub previous_expires_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestInput {
    pub event_type: EventType,
}

#[derive(Serialize)]
pub struct AttemptOutcome {
    /// The delivery the test send was recorded as (in the log, replayable).
    pub delivery_id: DeliveryId,
    pub success: bool,
    pub status_code: Option<u16>,
    pub response_ms: i32,
    pub error_kind: Option<&'static str>,
    pub response_excerpt: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub succeeded_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error_kind: Option<String>,
    /// How long the latest attempt took (none before the first).
    pub last_response_ms: Option<i32>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    pub attempt: i32,
    pub started_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub response_ms: i32,
    pub error_kind: Option<String>,
    pub response_excerpt: String,
    pub succeeded: bool,
}

/// A delivery as in the list, except that `attempts` is the attempt log (oldest
/// first) rather than a count, plus the `payload`: the body as sent.
pub fn delivery_detail(
    delivery: &Delivery,
    payload: serde_json::Value,
    attempts: &[Attempt],
) -> serde_json::Value {
    let mut detail = serde_json::to_value(delivery).expect("deliveries serialize");
    detail["attempts"] = serde_json::to_value(attempts).expect("attempts serialize");
    detail["payload"] = payload;
    detail
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverInput {
    pub since: DateTime<Utc>,
}

pm_domain::string_enum! {
    /// The period `GET …/stats` covers.
    pub enum StatsWindow {
        Hour = "1h",
        Day = "24h",
        Week = "7d",
    }
}

impl StatsWindow {
    pub fn seconds(self) -> f64 {
        match self {
            StatsWindow::Hour => 3600.0,
            StatsWindow::Day => 86_400.0,
            StatsWindow::Week => 604_800.0,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Stats {
    pub window: StatsWindow,
    pub attempts: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub success_rate: Option<f64>,
    pub error_rate: Option<f64>,
    pub avg_response_ms: Option<f64>,
    pub p95_response_ms: Option<f64>,
    pub consecutive_failures: i64,
    pub state: WebhookState,
}
