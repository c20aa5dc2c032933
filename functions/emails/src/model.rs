//! The request body of `POST /api/v1/emails/send`; the email itself is the worker crate's.

use pm_http::bounded::Bounded;
use serde::Deserialize;

pub use pm_email_delivery::model::{Email, EmailEventType, EmailStatus, Mailbox};

/// `POST /api/v1/emails/send`. Loose types, so validation can name each field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendInput {
    pub from: Mailbox,
    /// The recipient's address; or `contact_id` instead.
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub contact_id: Option<String>,
    #[serde(default)]
    pub cc: Bounded<String, 200>,
    #[serde(default)]
    pub bcc: Bounded<String, 200>,
    #[serde(default)]
    pub reply_to: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub html: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub template_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "pm_http::bounded::object_or_null::<_, 500>"
    )]
    pub variables: Option<serde_json::Value>,
    #[serde(default)]
    pub tags: Bounded<String, 200>,
    #[serde(
        default,
        deserialize_with = "pm_http::bounded::object_or_null::<_, 200>"
    )]
    pub metadata: Option<serde_json::Value>,
    #[serde(
        default,
        deserialize_with = "pm_http::bounded::object_or_null::<_, 200>"
    )]
    pub headers: Option<serde_json::Value>,
    #[serde(default)]
    pub campaign_id: Option<String>,
    #[serde(default)]
    pub scheduled_at: Option<String>,
    #[serde(default)]
    pub tracking: Option<bool>,
}
