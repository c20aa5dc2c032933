//! Mailgun webhooks, following Mailgun's published webhook documentation:
//!
//! * Event webhooks post JSON `{"signature": {"timestamp", "token", "signature"},
//!   "event-data": {"event", "id", "timestamp", "recipient", "severity", "url",
//!   "message": {"headers": {"message-id"}}, "delivery-status": {"code", "message",
//!   "description"}}}`.
//! * Routes with a `forward()` action post inbound mail as `application/x-www-form-urlencoded`
//!   with `timestamp`, `token`, `signature`, `sender`, `from`, `subject`, `Message-Id`,
//!   `In-Reply-To` and `References`.
//!
//! Both are signed the same way: hex HMAC-SHA256, keyed with the webhook signing key, over
//! `timestamp` followed by `token`. The signature does NOT cover the rest of the body, so the
//! timestamp window and the caller's refusal of a token seen before are what stop a captured
//! signature from being replayed with a different payload.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::events::{
    bare_message_id, detail, malformed, replied_message_id, EventError, ProviderEvent,
    ProviderEventKind,
};
use crate::transport::TransportKind;

/// Verifies an event webhook and maps it. Returns the event and the signature token, which the
/// caller must remember for `window` and refuse when it comes back (replay).
pub fn verify(
    signing_key: &str,
    body: &[u8],
    now: DateTime<Utc>,
    window: Duration,
) -> Result<(ProviderEvent, String), EventError> {
    #[derive(Deserialize)]
    struct Webhook {
        signature: Signature,
        // Kept untyped so nothing in it is interpreted before the signature is checked.
        #[serde(rename = "event-data")]
        event_data: serde_json::Value,
    }
    #[derive(Deserialize)]
    struct Signature {
        timestamp: String,
        token: String,
        signature: String,
    }

    let webhook: Webhook = serde_json::from_slice(body).map_err(malformed)?;
    let signature = webhook.signature;
    authenticate(
        signing_key,
        &signature.timestamp,
        &signature.token,
        &signature.signature,
        now,
        window,
    )?;
    let data: EventData = serde_json::from_value(webhook.event_data).map_err(malformed)?;
    Ok((data.into_event()?, signature.token))
}

/// Verifies a Route-forwarded inbound message and maps it to [`ProviderEventKind::Replied`].
/// Returns the event and the signature token (refuse repeats, as for [`verify`]).
pub fn verify_inbound(
    signing_key: &str,
    form_body: &[u8],
    now: DateTime<Utc>,
    window: Duration,
) -> Result<(ProviderEvent, String), EventError> {
    let form = parse_form(form_body);
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    let required =
        |name: &str| field(name).ok_or_else(|| EventError::Malformed(format!("missing {name}")));

    let timestamp = required("timestamp")?;
    let token = required("token")?;
    let signature = required("signature")?;
    let occurred_at = authenticate(signing_key, timestamp, token, signature, now, window)?;

    let event_id = field("Message-Id")
        .and_then(bare_message_id)
        .ok_or_else(|| EventError::Malformed("missing Message-Id".into()))?;
    let recipient = field("sender")
        .filter(|sender| !sender.is_empty())
        .map(str::to_owned)
        .or_else(|| field("from").map(email_of));
    Ok((
        ProviderEvent {
            provider: TransportKind::Mailgun,
            event_id,
            kind: ProviderEventKind::Replied,
            provider_message_id: None,
            message_id: replied_message_id(field("In-Reply-To"), field("References")),
            recipient,
            occurred_at,
            detail: field("subject").and_then(detail),
        },
        token.to_owned(),
    ))
}

/// Signature first (so an unauthenticated caller learns nothing else), then freshness.
/// Returns the signed timestamp.
fn authenticate(
    signing_key: &str,
    timestamp: &str,
    token: &str,
    signature_hex: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<DateTime<Utc>, EventError> {
    let signature = hex::decode(signature_hex.trim()).map_err(|_| EventError::BadSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(signing_key.as_bytes())
        .map_err(|_| EventError::BadSignature)?;
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    // verify_slice compares in constant time.
    mac.verify_slice(&signature)
        .map_err(|_| EventError::BadSignature)?;

    let seconds: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| EventError::Malformed("signature timestamp is not a number".into()))?;
    let signed_at = DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| EventError::Malformed("signature timestamp out of range".into()))?;
    let skew = (now - signed_at).abs().to_std().unwrap_or(Duration::MAX);
    if skew > window {
        return Err(EventError::Stale);
    }
    Ok(signed_at)
}

#[derive(Deserialize)]
struct EventData {
    event: String,
    id: String,
    timestamp: f64,
    #[serde(default)]
    recipient: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    message: Option<MessageInfo>,
    #[serde(rename = "delivery-status", default)]
    delivery_status: Option<DeliveryStatus>,
}

#[derive(Deserialize, Default)]
struct MessageInfo {
    #[serde(default)]
    headers: MessageHeaders,
}

#[derive(Deserialize, Default)]
struct MessageHeaders {
    #[serde(rename = "message-id", default)]
    message_id: Option<String>,
}

#[derive(Deserialize)]
struct DeliveryStatus {
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

impl DeliveryStatus {
    /// "550 The email account does not exist", from whichever text Mailgun filled in.
    fn summary(&self) -> String {
        let text = [&self.description, &self.message]
            .into_iter()
            .flatten()
            .find(|text| !text.trim().is_empty())
            .map(String::as_str)
            .unwrap_or_default();
        match &self.code {
            Some(code) => format!("{code} {text}"),
            None => text.to_owned(),
        }
    }
}

impl EventData {
    fn into_event(self) -> Result<ProviderEvent, EventError> {
        let kind = match self.event.as_str() {
            "delivered" => ProviderEventKind::Delivered,
            "failed" => match self.severity.as_deref() {
                Some("permanent") => ProviderEventKind::Bounced { hard: true },
                Some("temporary") => ProviderEventKind::Bounced { hard: false },
                other => {
                    return Err(EventError::Malformed(format!(
                        "failed event with severity {other:?}"
                    )))
                }
            },
            "complained" => ProviderEventKind::Complained,
            "opened" => ProviderEventKind::Opened,
            "clicked" => ProviderEventKind::Clicked {
                url: self
                    .url
                    .clone()
                    .ok_or_else(|| EventError::Malformed("clicked event without url".into()))?,
            },
            "unsubscribed" => ProviderEventKind::Unsubscribed,
            other => return Err(EventError::Ignored(format!("mailgun event {other}"))),
        };
        let occurred_at = timestamp_from_float(self.timestamp)?;
        let detail = match (&kind, &self.delivery_status) {
            (ProviderEventKind::Bounced { .. }, Some(status)) => {
                let reason = self
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                detail(&format!("{}{reason}", status.summary()))
            }
            _ => None,
        };
        // We send with h:Message-Id, so the id Mailgun returned and the Message-ID header it
        // reports here are both our message id.
        let message_id = self
            .message
            .and_then(|m| m.headers.message_id)
            .as_deref()
            .and_then(bare_message_id);
        Ok(ProviderEvent {
            provider: TransportKind::Mailgun,
            event_id: self.id,
            kind,
            provider_message_id: message_id.clone(),
            message_id,
            recipient: self.recipient,
            occurred_at,
            detail,
        })
    }
}

fn timestamp_from_float(seconds: f64) -> Result<DateTime<Utc>, EventError> {
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(EventError::Malformed("event timestamp out of range".into()));
    }
    // Mailgun sends microsecond precision; rounding there avoids float noise (…908181 → …908180).
    let whole = seconds.trunc();
    let nanos = (((seconds - whole) * 1e6).round().min(999_999.0) as u32) * 1000;
    DateTime::from_timestamp(whole as i64, nanos)
        .ok_or_else(|| EventError::Malformed("event timestamp out of range".into()))
}

/// `application/x-www-form-urlencoded` pairs; undecodable bytes are replaced, not fatal, since
/// a reply's subject is only informative.
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |part: &str| {
        let spaced = part.replace('+', " ");
        String::from_utf8_lossy(&urlencoding::decode_binary(spaced.as_bytes())).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// The address in `Name <addr>`, or the whole value when there are no brackets.
fn email_of(from: &str) -> String {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(start), Some(end)) if start < end => from[start + 1..end].trim().to_owned(),
        _ => from.trim().to_owned(),
    }
}
