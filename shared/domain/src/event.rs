//! Domain events: what changed, as the outbox records it and webhooks deliver it.
//!
//! The catalog follows one rule, so every resource emits evenly: an event is something a
//! receiver acts on, namely
//! - audience changes: `contact.created`, `contact.updated`, `contact.deleted`;
//! - a campaign run's boundaries: `campaign.started`, `campaign.completed`;
//! - email activity: `email.*`.
//!
//! Configuration edits (templates, campaign drafts, API keys, webhooks) emit nothing:
//! they are the integration's own writes, not news to it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{EventId, TenantId};

crate::string_enum! {
    /// Every event type the platform emits; openapi.yaml's `EventType` lists the same
    /// (a test compares them).
    pub enum EventType {
        EmailSent = "email.sent",
        EmailOpened = "email.opened",
        EmailClicked = "email.clicked",
        EmailReplied = "email.replied",
        EmailBounced = "email.bounced",
        EmailUnsubscribed = "email.unsubscribed",
        CampaignStarted = "campaign.started",
        CampaignCompleted = "campaign.completed",
        ContactCreated = "contact.created",
        ContactUpdated = "contact.updated",
        ContactDeleted = "contact.deleted",
    }
}

/// An event as it travels from the outbox to the events queue and on to webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub tenant_id: TenantId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub occurred_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_dotted_resource_and_action() {
        for t in EventType::ALL {
            let (resource, action) = t.as_str().split_once('.').unwrap();
            assert!(["email", "campaign", "contact"].contains(&resource), "{t}");
            assert!(!action.is_empty() && !action.contains('.'), "{t}");
        }
    }
}
