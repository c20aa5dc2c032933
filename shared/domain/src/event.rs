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
        EmailDelivered = "email.delivered",
        EmailOpened = "email.opened",
        EmailClicked = "email.clicked",
        EmailReplied = "email.replied",
        EmailBounced = "email.bounced",
        EmailUnsubscribed = "email.unsubscribed",
        EmailComplained = "email.complained",
        EmailFailed = "email.failed",
        CampaignStarted = "campaign.started",
        CampaignCompleted = "campaign.completed",
        ContactCreated = "contact.created",
        ContactUpdated = "contact.updated",
        ContactDeleted = "contact.deleted",
    }
}

impl EventType {
    /// Events a CRM connection syncs: contact changes go to the CRM record, email events
    /// become its activity and engagement properties.
    pub fn concerns_crm(self) -> bool {
        matches!(
            self,
            EventType::ContactCreated
                | EventType::ContactUpdated
                | EventType::EmailSent
                | EventType::EmailOpened
                | EventType::EmailClicked
                | EventType::EmailReplied
                | EventType::EmailBounced
                | EventType::EmailUnsubscribed
        )
    }

    /// One line for the catalog (`GET /api/v1/webhooks/event-types`).
    pub fn description(self) -> &'static str {
        match self {
            EventType::EmailSent => "An email was handed to the tenant's mail transport.",
            EventType::EmailDelivered => {
                "The recipient's mail server accepted an email (provider report)."
            }
            EventType::EmailOpened => "A recipient opened an email (tracking pixel loaded).",
            EventType::EmailClicked => "A recipient clicked a tracked link in an email.",
            EventType::EmailReplied => "A recipient replied to an email.",
            EventType::EmailBounced => "An email bounced (hard or soft).",
            EventType::EmailUnsubscribed => "A recipient unsubscribed through an email's link.",
            EventType::EmailComplained => "A recipient marked an email as spam (provider report).",
            EventType::EmailFailed => "An email could not be sent; `reason` says why.",
            EventType::CampaignStarted => "A campaign started (or resumed) sending.",
            EventType::CampaignCompleted => "A campaign finished: every step went to its audience.",
            EventType::ContactCreated => "A contact was created.",
            EventType::ContactUpdated => "A contact was changed.",
            EventType::ContactDeleted => "A contact was deleted; `data` is the contact as it was.",
        }
    }

    /// A representative `data` object for this type: the catalog shows it, and a
    /// webhook's test send delivers it.
    pub fn sample_data(self) -> serde_json::Value {
        use serde_json::json;
        let contact = json!({
            "id": "5b3f4f0e-8c1a-4d0e-9a51-2f6f1f9d2c11",
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company": "Analytical Engines",
            "tags": ["vip"],
            "custom_fields": {"plan": "pro"},
            "status": "subscribed",
            "workspace_id": null,
            "created_at": "2026-11-27T10:00:00Z",
            "updated_at": "2026-11-27T10:00:00Z"
        });
        let campaign = json!({
            "id": "0c7d2a8e-3f4b-4c1d-8e2f-6a5b4c3d2e1f",
            "name": "Onboarding",
            "status": "active",
            "sender": {"from_name": "Pat", "from_email": "pat@acme.io"},
            "step_count": 3,
            "audience": {"contact_ids": [], "tags": ["trial"]},
            "started_at": "2026-11-27T10:00:00Z",
            "created_at": "2026-11-26T09:00:00Z",
            "updated_at": "2026-11-27T10:00:00Z"
        });
        let email = |extra: serde_json::Value| {
            let mut base = json!({
                "id": "9f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
                "campaign_id": "0c7d2a8e-3f4b-4c1d-8e2f-6a5b4c3d2e1f",
                "contact_id": "5b3f4f0e-8c1a-4d0e-9a51-2f6f1f9d2c11",
                "to": "ada@example.com",
                "subject": "Welcome aboard, Ada",
                "tags": ["vip"],
                "metadata": {"crm_id": "4711"}
            });
            if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
                base.extend(extra.clone());
            }
            base
        };
        match self {
            EventType::EmailSent => email(json!({"sent_at": "2026-11-27T10:00:00Z"})),
            EventType::EmailDelivered => email(json!({"delivered_at": "2026-11-27T10:00:02Z"})),
            EventType::EmailOpened => email(json!({"opened_at": "2026-11-27T10:05:00Z"})),
            EventType::EmailClicked => email(json!({
                "clicked_at": "2026-11-27T10:06:00Z",
                "url": "https://acme.io/pricing"
            })),
            EventType::EmailReplied => email(json!({"replied_at": "2026-11-27T11:00:00Z"})),
            EventType::EmailBounced => email(json!({
                "bounced_at": "2026-11-27T10:00:05Z",
                "bounce_type": "hard",
                "reason": "550 5.1.1 mailbox unknown"
            })),
            EventType::EmailUnsubscribed => {
                email(json!({"unsubscribed_at": "2026-11-27T12:00:00Z"}))
            }
            EventType::EmailComplained => email(json!({"complained_at": "2026-11-27T12:30:00Z"})),
            EventType::EmailFailed => email(json!({
                "failed_at": "2026-11-27T10:01:00Z",
                "reason": "smtp: 550 relay not permitted"
            })),
            EventType::CampaignStarted => campaign,
            EventType::CampaignCompleted => {
                let mut done = campaign;
                done["status"] = json!("completed");
                done["completed_at"] = json!("2026-12-04T10:00:00Z");
                done
            }
            EventType::ContactCreated | EventType::ContactUpdated | EventType::ContactDeleted => {
                contact
            }
        }
    }
}

/// What webhook filters look at in an event: its workspace, campaign and contact tags,
/// where the event type carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterAttributes {
    pub workspace_id: Option<uuid::Uuid>,
    pub campaign_id: Option<uuid::Uuid>,
    pub tags: Vec<String>,
}

impl Event {
    /// Contact events carry the contact's workspace and tags; campaign events their own
    /// id as the campaign; email events their campaign, workspace and contact tags.
    pub fn filter_attributes(&self) -> FilterAttributes {
        let uuid = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse().ok());
        let tags = self.data["tags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let family = self.event_type.as_str().split('.').next().unwrap_or("");
        FilterAttributes {
            workspace_id: uuid(&self.data["workspace_id"]),
            campaign_id: match family {
                "campaign" => uuid(&self.data["id"]),
                _ => uuid(&self.data["campaign_id"]),
            },
            tags,
        }
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
    /// The X-Ray trace of the request that recorded it ([`crate::trace::current`]), for
    /// the queue message's `AWSTraceHeader`; never part of the message body.
    #[serde(skip)]
    pub trace_header: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_description_and_an_object_sample() {
        for t in EventType::ALL {
            assert!(!t.description().is_empty(), "{t}");
            assert!(t.sample_data().is_object(), "{t}");
        }
    }

    #[test]
    fn filters_see_the_campaign_of_campaign_and_email_events() {
        let event = |t: EventType| Event {
            id: EventId::random(),
            tenant_id: TenantId::random(),
            event_type: t,
            occurred_at: Utc::now(),
            data: t.sample_data(),
            trace_header: None,
        };
        let campaign = "0c7d2a8e-3f4b-4c1d-8e2f-6a5b4c3d2e1f".parse().ok();
        assert_eq!(
            event(EventType::CampaignStarted)
                .filter_attributes()
                .campaign_id,
            campaign
        );
        let sent = event(EventType::EmailSent).filter_attributes();
        assert_eq!(
            (sent.campaign_id, sent.tags),
            (campaign, vec!["vip".to_string()])
        );
        let contact = event(EventType::ContactCreated).filter_attributes();
        assert_eq!((contact.campaign_id, contact.workspace_id), (None, None));
    }

    #[test]
    fn event_types_are_dotted_resource_and_action() {
        for t in EventType::ALL {
            let (resource, action) = t.as_str().split_once('.').unwrap();
            assert!(["email", "campaign", "contact"].contains(&resource), "{t}");
            assert!(!action.is_empty() && !action.contains('.'), "{t}");
        }
    }
}
