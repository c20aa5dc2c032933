//! Provider webhooks: authenticity checks and normalisation into [`ProviderEvent`]s that the
//! caller records (suppressions, statistics, reply detection) whatever the provider.

pub mod mailgun;
pub mod postmark;

use chrono::{DateTime, Utc};

use crate::transport::TransportKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderEventKind {
    Delivered,
    /// `hard`: the address will never accept mail (suppress it); soft bounces may recover.
    Bounced {
        hard: bool,
    },
    Complained,
    Opened,
    Clicked {
        url: String,
    },
    Unsubscribed,
    Replied,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    pub provider: TransportKind,
    /// Stable per provider event, for de-duplicating webhook retries.
    pub event_id: String,
    pub kind: ProviderEventKind,
    /// The id the provider returned when the message was sent.
    pub provider_message_id: Option<String>,
    /// Our Message-ID (no angle brackets) when the payload carries it; for replies, the message
    /// being replied to (from In-Reply-To or References).
    pub message_id: Option<String>,
    pub recipient: Option<String>,
    pub occurred_at: DateTime<Utc>,
    /// Bounce description and the like, at most [`DETAIL_LIMIT`] characters.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("webhook signature or credentials do not match")]
    BadSignature,
    #[error("webhook timestamp is outside the accepted window")]
    Stale,
    #[error("malformed webhook payload: {0}")]
    Malformed(String),
    /// An authentic record of a type we do not act on; the caller should still answer 200 so
    /// the provider does not retry it.
    #[error("ignored webhook record: {0}")]
    Ignored(String),
}

pub const DETAIL_LIMIT: usize = 500;

/// Trims provider text to [`DETAIL_LIMIT`] characters (on a character boundary); empty text
/// becomes `None`.
pub(crate) fn detail(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(match text.char_indices().nth(DETAIL_LIMIT) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    })
}

/// `<id@host>` or `id@host` → `id@host`; empty → `None`.
pub(crate) fn bare_message_id(value: &str) -> Option<String> {
    let id = value
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty()).then(|| id.to_owned())
}

/// The message a reply answers: In-Reply-To when present, else the last id in References
/// (RFC 5322 §3.6.4 appends the parent's id last).
pub(crate) fn replied_message_id(
    in_reply_to: Option<&str>,
    references: Option<&str>,
) -> Option<String> {
    let first_id = |value: &str| value.split_whitespace().find_map(bare_message_id);
    in_reply_to.and_then(first_id).or_else(|| {
        references.and_then(|refs| refs.split_whitespace().rev().find_map(bare_message_id))
    })
}

pub(crate) fn malformed(error: serde_json::Error) -> EventError {
    EventError::Malformed(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_is_bounded_on_a_character_boundary() {
        let long = "é".repeat(DETAIL_LIMIT + 10);
        assert_eq!(detail(&long).unwrap().chars().count(), DETAIL_LIMIT);
        assert_eq!(detail("  "), None);
    }

    #[test]
    fn reply_target_prefers_in_reply_to_then_last_reference() {
        assert_eq!(
            replied_message_id(Some("<b@x>"), Some("<a@x> <c@x>")).as_deref(),
            Some("b@x")
        );
        assert_eq!(
            replied_message_id(None, Some("<a@x>\r\n <c@x>")).as_deref(),
            Some("c@x")
        );
        assert_eq!(replied_message_id(Some(""), None), None);
    }
}
