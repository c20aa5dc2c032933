//! One HTTP attempt: POST the signed body, read at most the first 4 KiB of the answer,
//! and say how it went. Used by the dispatcher and by the API's test send alike.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};

use crate::model::{EXCERPT_BYTES, USER_AGENT as OUR_AGENT};
use crate::outbound::OutboundPolicy;
use crate::policy::Outcome;
use crate::signature::{self, SigningSecret};
use crate::{classify, policy};

/// What to send.
pub struct Outgoing<'a> {
    pub url: &'a str,
    /// `webhook-id`: the delivery's id, the same on every retry and replay.
    pub message_id: &'a str,
    pub body: &'a [u8],
    pub secrets: &'a [&'a SigningSecret],
}

/// How an attempt went, as the attempt log keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempted {
    pub started_at: DateTime<Utc>,
    pub response_ms: i32,
    pub status_code: Option<u16>,
    pub outcome: Outcome,
    /// The first bytes of the answer's body (lossy UTF-8), empty without one.
    pub excerpt: String,
}

impl Attempted {
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome, Outcome::Success)
    }

    pub fn error_kind(&self) -> Option<&'static str> {
        policy::error_kind(&self.outcome)
    }
}

/// The outbound body: `{"id", "type", "created_at", "data"}`.
pub fn body(
    event_id: impl serde::Serialize,
    event_type: &str,
    created_at: DateTime<Utc>,
    data: &serde_json::Value,
) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": event_id,
        "type": event_type,
        "created_at": created_at,
        "data": data,
    }))
    .expect("event bodies serialize")
}

/// Sends one attempt. `client` must come from [`crate::outbound::client_builder`], whose
/// resolver refuses forbidden addresses at connect time; an IP-literal host never
/// reaches a resolver, so it is checked here first.
pub async fn send(
    client: &reqwest::Client,
    outbound: OutboundPolicy,
    timeout: Duration,
    outgoing: &Outgoing<'_>,
) -> Attempted {
    let started_at = Utc::now();
    let clock = Instant::now();
    let finish = |status_code, outcome, excerpt| Attempted {
        started_at,
        response_ms: i32::try_from(clock.elapsed().as_millis()).unwrap_or(i32::MAX),
        status_code,
        outcome,
        excerpt,
    };
    let url = match reqwest::Url::parse(outgoing.url) {
        Ok(url) => url,
        Err(_) => return finish(None, Outcome::Other, String::new()),
    };
    if outbound.check_literal(&url).is_err() {
        return finish(None, Outcome::RefusedAddress, String::new());
    }
    let timestamp = started_at.timestamp();
    let signature = signature::signature_header(
        outgoing.secrets,
        outgoing.message_id,
        timestamp,
        outgoing.body,
    );
    let request = client
        .post(url)
        .timeout(timeout)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(USER_AGENT, HeaderValue::from_static(OUR_AGENT))
        .header(signature::HEADER_ID, outgoing.message_id)
        .header(signature::HEADER_TIMESTAMP, timestamp.to_string())
        .header(signature::HEADER_SIGNATURE, signature)
        .body(outgoing.body.to_vec());
    let mut response = match request.send().await {
        Ok(response) => response,
        Err(e) => return finish(None, classify::error(&e), String::new()),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Only the first bytes are kept, so only they are read: a receiver answering with
    // gigabytes costs us 4 KiB.
    let mut excerpt = Vec::new();
    let mut broken = None;
    while excerpt.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                broken = Some(classify::error(&e));
                break;
            }
        }
    }
    excerpt.truncate(EXCERPT_BYTES);
    let excerpt = String::from_utf8_lossy(&excerpt).into_owned();
    let outcome = match broken {
        // A 2xx whose body broke off still reached the receiver; anything else that
        // broke (a timeout while reading) is what it is.
        Some(outcome) if !(200..300).contains(&status) => outcome,
        _ => classify::response(status, retry_after.as_deref(), Utc::now()),
    };
    finish(Some(status), outcome, excerpt)
}
