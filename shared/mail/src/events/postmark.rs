//! Postmark webhooks, following Postmark's published webhook documentation.
//!
//! Postmark does not sign webhooks; its documented protection is HTTP Basic credentials in the
//! webhook URL, checked by [`authenticate`]. [`parse`] maps by `RecordType`: `Delivery`
//! (`MessageID`, `Recipient`, `DeliveredAt`), `Bounce` and `SpamComplaint` (`ID`, `Type`,
//! `TypeCode`, `MessageID`, `Email`, `Description`, `Details`, `BouncedAt`), `Open`
//! (`MessageID`, `Recipient`, `ReceivedAt`), `Click` (plus `OriginalLink`), and
//! `SubscriptionChange` (`MessageID`, `Recipient`, `ChangedAt`, `SuppressSending`,
//! `SuppressionReason`). Inbound-stream messages carry no delivery `RecordType` but have
//! `MessageID`, `From`/`FromFull`, `Subject`, `Date` (RFC 2822) and a `Headers` array holding
//! `In-Reply-To` / `References`; they become replies.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::events::{
    detail, malformed, replied_message_id, EventError, ProviderEvent, ProviderEventKind,
};
use crate::transport::TransportKind;

/// Checks the `Authorization: Basic ...` header Postmark sends for credentials embedded in the
/// webhook URL. Both parts are compared as SHA-256 digests in constant time, so neither the
/// contents nor the lengths of the expected values leak through timing.
pub fn authenticate(
    expected_username: &str,
    expected_password: &str,
    authorization_header: Option<&str>,
) -> Result<(), EventError> {
    // Unconfigured credentials must not turn into "anything with empty credentials passes".
    if expected_username.is_empty() || expected_password.is_empty() {
        return Err(EventError::BadSignature);
    }
    let header = authorization_header.ok_or(EventError::BadSignature)?.trim();
    let (scheme, encoded) = header.split_once(' ').ok_or(EventError::BadSignature)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(EventError::BadSignature);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| EventError::BadSignature)?;
    let decoded = String::from_utf8(decoded).map_err(|_| EventError::BadSignature)?;
    let (username, password) = decoded.split_once(':').ok_or(EventError::BadSignature)?;

    let same = |given: &str, expected: &str| Sha256::digest(given).ct_eq(&Sha256::digest(expected));
    // `&` on Choice, not `&&`: both comparisons always run.
    let matches = same(username, expected_username) & same(password, expected_password);
    if bool::from(matches) {
        Ok(())
    } else {
        Err(EventError::BadSignature)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Record {
    #[serde(default)]
    record_type: Option<String>,
    #[serde(rename = "MessageID", default)]
    message_id: Option<String>,
    #[serde(rename = "ID", default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    recipient: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(rename = "Type", default)]
    bounce_type: Option<String>,
    #[serde(default)]
    type_code: Option<i64>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    delivered_at: Option<String>,
    #[serde(default)]
    bounced_at: Option<String>,
    #[serde(default)]
    received_at: Option<String>,
    #[serde(default)]
    changed_at: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    original_link: Option<String>,
    #[serde(default)]
    suppress_sending: Option<bool>,
    #[serde(default)]
    suppression_reason: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    from_full: Option<FromFull>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    headers: Vec<Header>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FromFull {
    email: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Header {
    name: String,
    value: String,
}

/// Parses one webhook body. Call [`authenticate`] first.
pub fn parse(body: &[u8]) -> Result<ProviderEvent, EventError> {
    let record: Record = serde_json::from_slice(body).map_err(malformed)?;
    match record.record_type.as_deref() {
        Some("Delivery") => delivery(record),
        Some("Bounce") => bounce(record),
        Some("SpamComplaint") => complaint(record),
        Some("Open") => engagement(record, "open", ProviderEventKind::Opened),
        Some("Click") => {
            let url = required(&record.original_link, "OriginalLink")?.to_owned();
            engagement(record, "click", ProviderEventKind::Clicked { url })
        }
        Some("SubscriptionChange") => subscription_change(record),
        None | Some("Inbound") => inbound(record),
        Some(other) => Err(EventError::Ignored(format!("postmark record type {other}"))),
    }
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, EventError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| EventError::Malformed(format!("missing {name}")))
}

/// Postmark's record id is a (large) JSON number; keep its exact digits.
fn record_id(record: &Record) -> Result<String, EventError> {
    match &record.id {
        Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(EventError::Malformed("missing ID".into())),
    }
}

/// RFC 3339 for outbound records; RFC 2822 for inbound `Date`. Postmark's inbound sample writes
/// the zone as `-04:00`, which strict RFC 2822 parsing refuses, so the colon is dropped first.
fn timestamp(value: &str) -> Result<DateTime<Utc>, EventError> {
    if let Ok(parsed) = DateTime::parse_from_rfc3339(value) {
        return Ok(parsed.to_utc());
    }
    if let Ok(parsed) = DateTime::parse_from_rfc2822(value) {
        return Ok(parsed.to_utc());
    }
    let bytes = value.as_bytes();
    let n = bytes.len();
    if n > 6 && matches!(bytes[n - 6], b'+' | b'-') && bytes[n - 3] == b':' {
        let without_colon = format!("{}{}", &value[..n - 3], &value[n - 2..]);
        if let Ok(parsed) = DateTime::parse_from_rfc2822(&without_colon) {
            return Ok(parsed.to_utc());
        }
    }
    Err(EventError::Malformed(format!(
        "unreadable timestamp {value:?}"
    )))
}

fn outbound_event(
    record: &Record,
    event_id: String,
    kind: ProviderEventKind,
    recipient: Option<&String>,
    at: &Option<String>,
    at_name: &str,
) -> Result<ProviderEvent, EventError> {
    Ok(ProviderEvent {
        provider: TransportKind::Postmark,
        event_id,
        kind,
        provider_message_id: record.message_id.clone().filter(|id| !id.is_empty()),
        // Postmark reports its own MessageID only; our Message-ID is not in these payloads.
        message_id: None,
        recipient: recipient.cloned(),
        occurred_at: timestamp(required(at, at_name)?)?,
        detail: None,
    })
}

fn delivery(record: Record) -> Result<ProviderEvent, EventError> {
    let event_id = format!("delivery:{}", required(&record.message_id, "MessageID")?);
    outbound_event(
        &record,
        event_id,
        ProviderEventKind::Delivered,
        record.recipient.as_ref(),
        &record.delivered_at,
        "DeliveredAt",
    )
}

/// Postmark bounce types (published list, name / TypeCode) that mean the address itself is
/// dead, so the contact must be suppressed: HardBounce (1), BadEmailAddress (100000) and
/// ManuallyDeactivated (100002, Postmark deactivated it). Everything else that is a delivery
/// failure (Transient 2, DnsError 256, SoftBounce 4096, Blocked 100006, DMARCPolicy 100009,
/// Unknown 2048, ...) is soft: it may succeed later or is about content or reputation.
const HARD_BOUNCE_TYPES: &[(&str, i64)] = &[
    ("HardBounce", 1),
    ("BadEmailAddress", 100000),
    ("ManuallyDeactivated", 100002),
];

/// Types Postmark files under bounces that are not delivery failures: auto-replies,
/// list-management and verification mail. Recording them as bounces would suppress live
/// contacts, so they are ignored. (SpamComplaint 512/100001 and Unsubscribe 16 arrive as
/// bounces too and are mapped to their own kinds.)
const NOT_A_FAILURE_TYPES: &[&str] = &[
    "AutoResponder",
    "Subscribe",
    "AddressChange",
    "ChallengeVerification",
    "OpenRelayTest",
];

fn bounce(record: Record) -> Result<ProviderEvent, EventError> {
    let bounce_type = required(&record.bounce_type, "Type")?;
    let kind = match bounce_type {
        "SpamComplaint" | "SpamNotification" => ProviderEventKind::Complained,
        "Unsubscribe" => ProviderEventKind::Unsubscribed,
        t if NOT_A_FAILURE_TYPES.contains(&t) => {
            return Err(EventError::Ignored(format!("postmark bounce type {t}")));
        }
        t => ProviderEventKind::Bounced {
            hard: HARD_BOUNCE_TYPES
                .iter()
                .any(|&(name, code)| t == name || record.type_code == Some(code)),
        },
    };
    let event_id = format!("bounce:{}", record_id(&record)?);
    let mut event = outbound_event(
        &record,
        event_id,
        kind,
        record.email.as_ref(),
        &record.bounced_at,
        "BouncedAt",
    )?;
    event.detail = bounce_detail(&record);
    Ok(event)
}

fn complaint(record: Record) -> Result<ProviderEvent, EventError> {
    let event_id = format!("spam-complaint:{}", record_id(&record)?);
    let mut event = outbound_event(
        &record,
        event_id,
        ProviderEventKind::Complained,
        record.email.as_ref(),
        &record.bounced_at,
        "BouncedAt",
    )?;
    event.detail = bounce_detail(&record);
    Ok(event)
}

fn bounce_detail(record: &Record) -> Option<String> {
    let parts: Vec<&str> = [&record.description, &record.details]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    detail(&parts.join(" — "))
}

/// Opens and clicks have no record id; message, kind and time identify one.
fn engagement(
    record: Record,
    prefix: &str,
    kind: ProviderEventKind,
) -> Result<ProviderEvent, EventError> {
    let message_id = required(&record.message_id, "MessageID")?;
    let received_at = required(&record.received_at, "ReceivedAt")?;
    let event_id = format!("{prefix}:{message_id}:{received_at}");
    outbound_event(
        &record,
        event_id,
        kind,
        record.recipient.as_ref(),
        &record.received_at,
        "ReceivedAt",
    )
}

/// Only a recipient's own unsubscribe is an [`ProviderEventKind::Unsubscribed`]. Postmark also
/// sends SubscriptionChange when it suppresses after a hard bounce or spam complaint (already
/// reported by those records) and when a suppression is lifted; neither is an unsubscribe.
fn subscription_change(record: Record) -> Result<ProviderEvent, EventError> {
    let reason = record.suppression_reason.as_deref().unwrap_or_default();
    if record.suppress_sending != Some(true) || reason != "ManualSuppression" {
        return Err(EventError::Ignored(format!(
            "postmark subscription change (suppress {:?}, reason {reason:?})",
            record.suppress_sending
        )));
    }
    let message_id = required(&record.message_id, "MessageID")?;
    let recipient = required(&record.recipient, "Recipient")?;
    let changed_at = required(&record.changed_at, "ChangedAt")?;
    let event_id = format!("subscription-change:{message_id}:{recipient}:{changed_at}");
    outbound_event(
        &record,
        event_id,
        ProviderEventKind::Unsubscribed,
        record.recipient.as_ref(),
        &record.changed_at,
        "ChangedAt",
    )
}

fn inbound(record: Record) -> Result<ProviderEvent, EventError> {
    let message_id = required(&record.message_id, "MessageID")?;
    let header = |name: &str| {
        record
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    };
    let sender = record
        .from_full
        .as_ref()
        .map(|f| f.email.clone())
        .or_else(|| record.from.clone());
    Ok(ProviderEvent {
        provider: TransportKind::Postmark,
        event_id: format!("inbound:{message_id}"),
        kind: ProviderEventKind::Replied,
        provider_message_id: None,
        message_id: replied_message_id(header("In-Reply-To"), header("References")),
        recipient: sender,
        occurred_at: timestamp(required(&record.date, "Date")?)?,
        detail: record.subject.as_deref().and_then(detail),
    })
}
