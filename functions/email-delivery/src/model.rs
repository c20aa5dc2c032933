//! An email, its status and its timeline, as the API shows them and the workers keep them.

use chrono::{DateTime, Utc};
use pm_domain::{CampaignId, ContactId, EmailId, TemplateId};
use serde::{Deserialize, Serialize};

pm_domain::string_enum! {
    /// queued → sending → sent → delivered | bounced; sending → queued (a retry) | failed.
    pub enum EmailStatus {
        Queued = "queued",
        Sending = "sending",
        Sent = "sent",
        Delivered = "delivered",
        Bounced = "bounced",
        Failed = "failed",
    }
}

pm_domain::string_enum! {
    /// The kinds of entry in an email's timeline.
    pub enum EmailEventType {
        Queued = "queued",
        Sent = "sent",
        Delivered = "delivered",
        Opened = "opened",
        Clicked = "clicked",
        Replied = "replied",
        Bounced = "bounced",
        Unsubscribed = "unsubscribed",
        Complained = "complained",
        Failed = "failed",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mailbox {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One entry of an email's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    #[serde(rename = "type")]
    pub event_type: EmailEventType,
    pub occurred_at: DateTime<Utc>,
    /// Where it came from: api, sender, tracking, postmark, mailgun, campaign.
    pub source: String,
    /// Why it looks automated (a link scanner, a privacy proxy), when it does.
    pub automated: Option<String>,
    pub data: serde_json::Value,
}

/// An email as `GET /api/v1/emails/{id}` shows it; lists leave out the bodies, the
/// timeline and the captured message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Email {
    pub id: EmailId,
    pub status: EmailStatus,
    pub from: Mailbox,
    pub to: String,
    pub contact_id: Option<ContactId>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub tags: Vec<String>,
    pub metadata: serde_json::Value,
    pub headers: serde_json::Value,
    pub template_id: Option<TemplateId>,
    pub campaign_id: Option<CampaignId>,
    pub campaign_step: Option<i32>,
    pub tracking: bool,
    pub message_id: String,
    pub transport: Option<String>,
    pub provider_message_id: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<TimelineEntry>>,
    /// The message as it would have gone out, for the `capture` transport.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_mime: Option<String>,
}

impl Email {
    /// The `data` of this email's `email.*` events: who, what, and the campaign and tags
    /// webhook filters look at.
    pub fn event_data(&self, extra: serde_json::Value) -> serde_json::Value {
        let mut data = serde_json::json!({
            "id": self.id,
            "campaign_id": self.campaign_id,
            "contact_id": self.contact_id,
            "to": self.to,
            "subject": self.subject,
            "tags": self.tags,
            "metadata": self.metadata,
        });
        if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
            data.extend(extra.clone());
        }
        data
    }
}
