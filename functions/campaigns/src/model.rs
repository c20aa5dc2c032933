use chrono::{DateTime, Utc};
use pm_domain::{CampaignId, ContactId, TemplateId};
use pm_http::bounded::Bounded;
use serde::{Deserialize, Serialize};

pm_domain::string_enum! {
    pub enum CampaignStatus {
        Draft = "draft",
        Active = "active",
        Paused = "paused",
        Completed = "completed",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    pub from_name: String,
    pub from_email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// One step: a stored template, or an inline subject with an html and/or text body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<TemplateId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Minutes after the previous step (after the start, for the first step).
    #[serde(default)]
    pub delay_minutes: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    #[serde(default)]
    pub contact_ids: Bounded<ContactId, 4000>,
    #[serde(default)]
    pub tags: Bounded<String, 200>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Sending days: mon, tue, wed, thu, fri, sat, sun.
    pub days: Bounded<String, 28>,
    /// Sending window, hours of the day in `time_zone`: [start_hour, end_hour).
    pub start_hour: u8,
    pub end_hour: u8,
    /// An IANA time zone, e.g. Europe/Berlin.
    pub time_zone: String,
    pub daily_cap: u32,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            days: Bounded::new(
                ["mon", "tue", "wed", "thu", "fri"]
                    .map(String::from)
                    .to_vec(),
            )
            .expect("five days"),
            start_hour: 9,
            end_hour: 17,
            time_zone: "UTC".into(),
            daily_cap: 500,
        }
    }
}

/// A campaign in a list: no step bodies (inline HTML up to 512 KiB each) and no
/// contact-id list, only their counts, so a page of 100 stays small. `GET /{id}` has
/// the rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignSummary {
    pub id: CampaignId,
    pub name: String,
    pub status: CampaignStatus,
    pub sender: Sender,
    pub step_count: i32,
    pub audience_contact_count: i32,
    pub audience_tags: Vec<String>,
    pub schedule: Schedule,
    pub started_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The request body of create and replace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    pub name: String,
    pub sender: Sender,
    #[serde(default)]
    pub steps: Bounded<Step, 100>,
    #[serde(default)]
    pub audience: Audience,
    #[serde(default)]
    pub schedule: Option<Schedule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub status: CampaignStatus,
    pub sender: Sender,
    pub steps: Vec<Step>,
    pub audience: Audience,
    pub schedule: Schedule,
    pub started_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
