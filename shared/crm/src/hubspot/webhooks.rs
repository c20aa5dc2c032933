//! The change events HubSpot's webhooks send ("Webhooks API": a JSON array of events,
//! each with `eventId`, `portalId`, `objectId`, `subscriptionType`, `occurredAt` in
//! milliseconds, and for property changes `propertyName`, `propertyValue`,
//! `changeSource` and `sourceId`, which is our app's id when our app made the change).

use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    pub event_id: String,
    pub portal_id: String,
    pub object_id: String,
    pub subscription_type: String,
    pub occurred_at: DateTime<Utc>,
    pub property: Option<String>,
    pub value: Option<String>,
    pub source_id: Option<String>,
}

impl ChangeEvent {
    /// HubSpot says our app made this change (the first loop-prevention layer).
    pub fn by_app(&self, app_id: &str) -> bool {
        self.source_id.as_deref() == Some(app_id)
    }

    /// The id of a contact created in HubSpot (`contact.creation`), by anyone but us.
    pub fn created_contact(&self, app_id: &str) -> Option<&str> {
        (self.subscription_type == "contact.creation" && !self.by_app(app_id))
            .then_some(self.object_id.as_str())
    }

    /// A contact property change in the framework's terms (None: another kind of event).
    pub fn contact_change(&self, app_id: &str) -> Option<crate::provider::RemoteChange> {
        if self.subscription_type != "contact.propertyChange" {
            return None;
        }
        Some(crate::provider::RemoteChange {
            event_id: self.event_id.clone(),
            object_id: self.object_id.clone(),
            property: self.property.clone()?,
            value: self.value.clone(),
            occurred_at: self.occurred_at,
            by_us: self.by_app(app_id),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    event_id: serde_json::Value,
    portal_id: serde_json::Value,
    object_id: serde_json::Value,
    subscription_type: String,
    occurred_at: i64,
    property_name: Option<String>,
    property_value: Option<String>,
    source_id: Option<String>,
}

fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Why a webhook body was refused (a 400: HubSpot sends only well-formed ones, so this
/// is someone else's request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a HubSpot webhook body: {0}")]
pub struct BadBody(String);

pub fn parse(body: &[u8]) -> Result<Vec<ChangeEvent>, BadBody> {
    let raw: Vec<Raw> = serde_json::from_slice(body).map_err(|e| BadBody(e.to_string()))?;
    raw.into_iter()
        .map(|r| {
            Ok(ChangeEvent {
                event_id: text(&r.event_id).ok_or_else(|| BadBody("eventId".into()))?,
                portal_id: text(&r.portal_id).ok_or_else(|| BadBody("portalId".into()))?,
                object_id: text(&r.object_id).ok_or_else(|| BadBody("objectId".into()))?,
                subscription_type: r.subscription_type,
                occurred_at: DateTime::from_timestamp_millis(r.occurred_at)
                    .ok_or_else(|| BadBody("occurredAt".into()))?,
                property: r.property_name,
                value: r.property_value,
                source_id: r.source_id,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_property_change_batch_parses_and_names_its_origin() {
        let body = br#"[{"eventId":100,"subscriptionId":1,"portalId":62515,"appId":424242,
            "occurredAt":1764583200000,"subscriptionType":"contact.propertyChange","attemptNumber":0,
            "objectId":1001,"propertyName":"firstname","propertyValue":"Ada",
            "changeSource":"INTEGRATION","sourceId":"424242"}]"#;
        let events = parse(body).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(
            (
                e.event_id.as_str(),
                e.portal_id.as_str(),
                e.object_id.as_str()
            ),
            ("100", "62515", "1001")
        );
        assert_eq!(e.property.as_deref(), Some("firstname"));
        assert_eq!(e.value.as_deref(), Some("Ada"));
        assert!(e.by_app("424242"));
        assert!(!e.by_app("1"));
    }

    #[test]
    fn a_contact_created_by_someone_else_is_named_and_one_of_ours_is_not() {
        let body = br#"[{"eventId":7,"portalId":62515,"objectId":1251,"occurredAt":1764583200000,
            "subscriptionType":"contact.creation","sourceId":"userId:1"},
            {"eventId":8,"portalId":62515,"objectId":1252,"occurredAt":1764583200000,
            "subscriptionType":"contact.creation","sourceId":"424242"}]"#;
        let events = parse(body).unwrap();
        assert_eq!(events[0].created_contact("424242"), Some("1251"));
        assert_eq!(events[0].contact_change("424242"), None);
        assert_eq!(events[1].created_contact("424242"), None, "our own push");
    }

    #[test]
    fn a_body_that_is_not_hubspots_is_refused() {
        assert!(parse(b"{}").is_err());
        assert!(parse(br#"[{"eventId":null,"portalId":1,"objectId":1,"subscriptionType":"x","occurredAt":1}]"#).is_err());
    }
}
