use chrono::{DateTime, Utc};
use pm_domain::{ContactId, WorkspaceId};
use pm_http::bounded::Bounded;
use serde::{Deserialize, Serialize};

pm_domain::string_enum! {
    pub enum ContactStatus {
        Subscribed = "subscribed",
        Unsubscribed = "unsubscribed",
        Bounced = "bounced",
        Complained = "complained",
    }
}

impl ContactStatus {
    /// Unsubscribed, bounced hard or complained: the platform sends it nothing, and only
    /// an explicit re-subscribe (`POST /api/v1/contacts/{id}/resubscribe`) lifts that.
    pub fn is_suppressed(self) -> bool {
        self != ContactStatus::Subscribed
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: ContactId,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: serde_json::Value,
    pub status: ContactStatus,
    pub workspace_id: Option<WorkspaceId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The request body of create and replace. Every writable field; unknown fields are
/// refused (422), never dropped. Loose types here, so validation can name the field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub email: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub tags: Bounded<String, 500>,
    /// An object of at most 200 keys (capped while reading; the documented limit of 50
    /// is validation's), or anything else for validation to name.
    #[serde(
        default,
        deserialize_with = "pm_http::bounded::object_or_null::<_, 200>"
    )]
    pub custom_fields: Option<serde_json::Value>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub workspace_id: Option<String>,
}

/// A contact's writable fields after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidContact {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: serde_json::Value,
    /// `None`: not given (new contacts are subscribed; a replace keeps the status).
    pub status: Option<ContactStatus>,
    pub workspace_id: Option<WorkspaceId>,
}
