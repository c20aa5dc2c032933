//! The checks of `POST /api/v1/emails/send` that need no database. Every header the
//! message will carry is checked here for line breaks and control characters, so no
//! field can inject a header.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use pm_domain::{CampaignId, ContactId, TemplateId};
use pm_http::email::is_valid_email;
use pm_http::fields::{self, is_forbidden_char};
use pm_http::{ApiError, FieldError};

use crate::model::{Mailbox, SendInput};

pub const MAX_RECIPIENTS: usize = 50;
pub const MAX_SUBJECT_CHARS: usize = 998;
pub const MAX_BODY_BYTES: usize = 512 * 1024;
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_CHARS: usize = 64;
pub const MAX_METADATA_KEYS: usize = 20;
pub const MAX_METADATA_VALUE_CHARS: usize = 500;
pub const MAX_HEADERS: usize = 20;
pub const MAX_HEADER_VALUE_CHARS: usize = 998;
/// How far ahead `scheduled_at` may be.
pub const MAX_SCHEDULE_AHEAD: TimeDelta = TimeDelta::days(30);
/// Standard headers a caller may set besides its own `X-…` ones; everything else
/// (From, To, Message-ID, List-Unsubscribe, …) is the platform's.
pub const ALLOWED_STANDARD_HEADERS: [&str; 3] = ["In-Reply-To", "References", "Keywords"];
/// `X-…` names reserved for the platform.
pub const RESERVED_HEADER_PREFIX: &str = "x-pm-";

/// Where the message's content comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Inline {
        subject: String,
        html: Option<String>,
        text: Option<String>,
    },
    Template {
        id: TemplateId,
        variables: serde_json::Map<String, serde_json::Value>,
    },
}

/// Whom it goes to: an address, or a contact to look up.
#[derive(Debug, Clone, PartialEq)]
pub enum Recipient {
    Address(String),
    Contact(ContactId),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidSend {
    pub from: Mailbox,
    pub to: Recipient,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Option<String>,
    pub content: Content,
    pub tags: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub campaign_id: Option<CampaignId>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub tracking: Option<bool>,
}

fn address(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> String {
    let email = raw.trim().to_string();
    if !is_valid_email(&email) {
        errors.push(FieldError::new(
            field,
            "invalid_email",
            "not a valid email address",
        ));
    }
    email
}

fn addresses(field: &str, raw: Vec<String>, errors: &mut Vec<FieldError>) -> Vec<String> {
    raw.iter()
        .enumerate()
        .map(|(i, a)| address(&format!("{field}[{i}]"), a, errors))
        .collect()
}

fn mailbox(m: &Mailbox, errors: &mut Vec<FieldError>) -> Mailbox {
    let email = address("from.email", &m.email, errors);
    let name = m
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(|n| fields::name("from.name", n, 100, errors));
    Mailbox { email, name }
}

fn no_forbidden(field: &str, value: &str, errors: &mut Vec<FieldError>) {
    if value.chars().any(is_forbidden_char) {
        errors.push(FieldError::new(
            field,
            "invalid_characters",
            "line breaks and control characters are not allowed",
        ));
    }
}

/// A subject as it goes into the header: 1–998 characters, no line breaks. Templates'
/// rendered subjects go through it too.
pub fn subject(raw: &str, errors: &mut Vec<FieldError>) -> String {
    let subject = raw.trim().to_string();
    if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS {
        errors.push(FieldError::new(
            "subject",
            "invalid_length",
            format!("subject must be 1 to {MAX_SUBJECT_CHARS} characters"),
        ));
    }
    no_forbidden("subject", &subject, errors);
    subject
}

fn body(field: &str, raw: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let body = raw.filter(|b| !b.trim().is_empty())?;
    if body.len() > MAX_BODY_BYTES {
        errors.push(FieldError::new(
            field,
            "too_large",
            format!("{field} must be at most {MAX_BODY_BYTES} bytes"),
        ));
    }
    if body.contains('\0') {
        errors.push(FieldError::new(
            field,
            "invalid_characters",
            "NUL is not allowed",
        ));
    }
    Some(body)
}

fn content(input: &mut SendInput, errors: &mut Vec<FieldError>) -> Option<Content> {
    let inline = input.subject.is_some() || input.html.is_some() || input.text.is_some();
    match (input.template_id.take(), inline) {
        (Some(_), true) => {
            errors.push(FieldError::new(
                "template_id",
                "conflicting_fields",
                "give template_id (with variables) or subject with html/text, not both",
            ));
            None
        }
        (Some(raw), false) => {
            let Ok(id) = raw.parse::<TemplateId>() else {
                errors.push(FieldError::new(
                    "template_id",
                    "invalid_value",
                    "must be a UUID",
                ));
                return None;
            };
            let variables = match input.variables.take() {
                // `object_or_null` reads `null` as None and anything not an object as
                // Some(null), which the arm below refuses.
                None => serde_json::Map::new(),
                Some(serde_json::Value::Object(map)) => map,
                Some(_) => {
                    errors.push(FieldError::new(
                        "variables",
                        "invalid_type",
                        "must be an object",
                    ));
                    serde_json::Map::new()
                }
            };
            Some(Content::Template { id, variables })
        }
        (None, _) => {
            // Some(null) is a non-object `variables`: refused here too, not ignored.
            if input.variables.is_some() {
                errors.push(FieldError::new(
                    "variables",
                    "conflicting_fields",
                    "variables apply to template_id only",
                ));
            }
            let subject = match input.subject.take() {
                Some(s) => subject(&s, errors),
                None => {
                    errors.push(FieldError::new(
                        "subject",
                        "required",
                        "subject (with html and/or text) or template_id is required",
                    ));
                    String::new()
                }
            };
            let html = body("html", input.html.take(), errors);
            let text = body("text", input.text.take(), errors);
            if html.is_none() && text.is_none() {
                errors.push(FieldError::new(
                    "html",
                    "required",
                    "html or text is required",
                ));
            }
            Some(Content::Inline {
                subject,
                html,
                text,
            })
        }
    }
}

fn recipient(input: &mut SendInput, errors: &mut Vec<FieldError>) -> Option<Recipient> {
    match (input.to.take(), input.contact_id.take()) {
        (Some(to), None) => Some(Recipient::Address(address("to", &to, errors))),
        (None, Some(id)) => match id.parse::<ContactId>() {
            Ok(id) => Some(Recipient::Contact(id)),
            Err(_) => {
                errors.push(FieldError::new(
                    "contact_id",
                    "invalid_value",
                    "must be a UUID",
                ));
                None
            }
        },
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                "to",
                "conflicting_fields",
                "give to or contact_id, not both",
            ));
            None
        }
        (None, None) => {
            errors.push(FieldError::new(
                "to",
                "required",
                "to or contact_id is required",
            ));
            None
        }
    }
}

fn tags(raw: Vec<String>, errors: &mut Vec<FieldError>) -> Vec<String> {
    if raw.len() > MAX_TAGS {
        errors.push(FieldError::new(
            "tags",
            "too_many",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    let mut tags: Vec<String> = Vec::new();
    for (i, tag) in raw.into_iter().enumerate() {
        let ok = (1..=MAX_TAG_CHARS).contains(&tag.chars().count())
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            errors.push(FieldError::new(
                format!("tags[{i}]"),
                "invalid_value",
                format!("1 to {MAX_TAG_CHARS} letters, digits, '-', '_' or '.'"),
            ));
        } else if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

fn string_map(
    field: &str,
    raw: Option<serde_json::Value>,
    max_keys: usize,
    errors: &mut Vec<FieldError>,
) -> Vec<(String, String)> {
    let map = match raw {
        // `object_or_null`: None is `null` or absent; Some(null) was not an object.
        None => return Vec::new(),
        Some(serde_json::Value::Object(map)) => map,
        Some(_) => {
            errors.push(FieldError::new(field, "invalid_type", "must be an object"));
            return Vec::new();
        }
    };
    if map.len() > max_keys {
        errors.push(FieldError::new(
            field,
            "too_many",
            format!("at most {max_keys} keys"),
        ));
    }
    map.into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            _ => {
                errors.push(FieldError::new(
                    format!("{field}.{k}"),
                    "invalid_type",
                    "values are strings",
                ));
                None
            }
        })
        .collect()
}

fn metadata(
    raw: Option<serde_json::Value>,
    errors: &mut Vec<FieldError>,
) -> BTreeMap<String, String> {
    string_map("metadata", raw, MAX_METADATA_KEYS, errors)
        .into_iter()
        .filter(|(k, v)| {
            let key_ok = (1..=40).contains(&k.chars().count()) && !k.chars().any(is_forbidden_char);
            let value_ok = v.chars().count() <= MAX_METADATA_VALUE_CHARS && !v.contains('\0');
            if !key_ok || !value_ok {
                errors.push(FieldError::new(
                    format!("metadata.{k}"),
                    "invalid_value",
                    format!("keys 1 to 40 characters, values at most {MAX_METADATA_VALUE_CHARS}"),
                ));
            }
            key_ok && value_ok
        })
        .collect()
}

/// Whether a caller may set this header: its own `X-…` names (not `X-PM-…`), and a
/// few standard ones about threading.
pub fn is_allowed_header(name: &str) -> bool {
    let token = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let lower = name.to_ascii_lowercase();
    token
        && ((lower.starts_with("x-")
            && lower.len() > 2
            && !lower.starts_with(RESERVED_HEADER_PREFIX))
            || ALLOWED_STANDARD_HEADERS
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name)))
}

fn headers(
    raw: Option<serde_json::Value>,
    errors: &mut Vec<FieldError>,
) -> BTreeMap<String, String> {
    string_map("headers", raw, MAX_HEADERS, errors)
        .into_iter()
        .filter(|(name, value)| {
            let field = format!("headers.{name}");
            if !is_allowed_header(name) {
                errors.push(FieldError::new(
                    field,
                    "header_not_allowed",
                    "custom headers are X-… names (not X-PM-…), In-Reply-To, References or Keywords",
                ));
                return false;
            }
            let before = errors.len();
            no_forbidden(&field, value, errors);
            if value.chars().count() > MAX_HEADER_VALUE_CHARS {
                errors.push(FieldError::new(
                    field,
                    "invalid_length",
                    format!("at most {MAX_HEADER_VALUE_CHARS} characters"),
                ));
            }
            errors.len() == before
        })
        .collect()
}

fn scheduled_at(
    raw: Option<String>,
    now: DateTime<Utc>,
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<Utc>> {
    let raw = raw?;
    let Ok(at) = DateTime::parse_from_rfc3339(&raw).map(|t| t.with_timezone(&Utc)) else {
        errors.push(FieldError::new(
            "scheduled_at",
            "invalid_value",
            "an RFC 3339 timestamp, e.g. 2026-12-01T09:00:00Z",
        ));
        return None;
    };
    if at < now - TimeDelta::minutes(1) || at > now + MAX_SCHEDULE_AHEAD {
        errors.push(FieldError::new(
            "scheduled_at",
            "out_of_range",
            "must be from now to 30 days ahead",
        ));
    }
    Some(at)
}

pub fn send(mut input: SendInput, now: DateTime<Utc>) -> Result<ValidSend, ApiError> {
    let mut errors = Vec::new();
    let from = mailbox(&input.from, &mut errors);
    let to = recipient(&mut input, &mut errors);
    let cc = addresses(
        "cc",
        std::mem::take(&mut input.cc).into_inner(),
        &mut errors,
    );
    let bcc = addresses(
        "bcc",
        std::mem::take(&mut input.bcc).into_inner(),
        &mut errors,
    );
    if 1 + cc.len() + bcc.len() > MAX_RECIPIENTS {
        errors.push(FieldError::new(
            "cc",
            "too_many",
            format!("at most {MAX_RECIPIENTS} recipients in all"),
        ));
    }
    let reply_to = input
        .reply_to
        .take()
        .filter(|r| !r.trim().is_empty())
        .map(|r| address("reply_to", &r, &mut errors));
    let content = content(&mut input, &mut errors);
    let tags = tags(std::mem::take(&mut input.tags).into_inner(), &mut errors);
    let metadata = metadata(input.metadata.take(), &mut errors);
    let headers = headers(input.headers.take(), &mut errors);
    let campaign_id = input.campaign_id.take().and_then(|raw| {
        raw.parse::<CampaignId>()
            .map_err(|_| {
                errors.push(FieldError::new(
                    "campaign_id",
                    "invalid_value",
                    "must be a UUID",
                ))
            })
            .ok()
    });
    let scheduled_at = scheduled_at(input.scheduled_at.take(), now, &mut errors);
    match (to, content) {
        (Some(to), Some(content)) if errors.is_empty() => Ok(ValidSend {
            from,
            to,
            cc,
            bcc,
            reply_to,
            content,
            tags,
            metadata,
            headers,
            campaign_id,
            scheduled_at,
            tracking: input.tracking,
        }),
        _ => Err(ApiError::validation(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> SendInput {
        serde_json::from_value(json).unwrap()
    }

    fn codes(json: serde_json::Value) -> Vec<(String, String)> {
        let err = send(input(json), Utc::now()).unwrap_err();
        err.errors()
            .iter()
            .map(|e| (e.field.clone(), e.code.to_string()))
            .collect()
    }

    #[test]
    fn a_minimal_message_is_valid() {
        let valid = send(
            input(serde_json::json!({
                "from": {"email": "pat@acme.io", "name": "Pat"},
                "to": "ada@example.com",
                "subject": "Hi",
                "text": "Hello"
            })),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(valid.to, Recipient::Address("ada@example.com".into()));
    }

    #[test]
    fn maps_that_are_not_objects_are_refused_and_null_is_absent() {
        let base = serde_json::json!({
            "from": {"email": "pat@acme.io"}, "to": "ada@example.com", "subject": "Hi", "text": "Hello"
        });
        for field in ["headers", "metadata"] {
            for wrong in [
                serde_json::json!([null, null]),
                serde_json::json!(true),
                serde_json::json!("x"),
            ] {
                let mut json = base.clone();
                json[field] = wrong.clone();
                assert_eq!(
                    codes(json),
                    [(field.to_string(), "invalid_type".to_string())],
                    "{field}: {wrong}"
                );
            }
            let mut json = base.clone();
            json[field] = serde_json::Value::Null;
            assert!(send(input(json), Utc::now()).is_ok(), "{field}: null");
        }
        let mut json = base.clone();
        json["template_id"] = serde_json::json!("5b3f4f0e-8c1a-4d0e-9a51-2f6f1f9d2c11");
        json["variables"] = serde_json::json!([1]);
        json.as_object_mut().unwrap().remove("subject");
        json.as_object_mut().unwrap().remove("text");
        assert!(codes(json).contains(&("variables".to_string(), "invalid_type".to_string())));
    }

    #[test]
    fn line_breaks_cannot_reach_any_header() {
        let found = codes(serde_json::json!({
            "from": {"email": "pat@acme.io", "name": "Pat\r\nBcc: x@evil.io"},
            "to": "ada@example.com",
            "subject": "Hi\nBcc: x@evil.io",
            "text": "Hello",
            "headers": {"X-Ref": "a\r\nBcc: x@evil.io"}
        }));
        for field in ["from.name", "subject", "headers.X-Ref"] {
            assert!(
                found
                    .iter()
                    .any(|(f, c)| f == field && c == "invalid_characters"),
                "{field}: {found:?}"
            );
        }
    }

    #[test]
    fn only_allow_listed_headers_pass() {
        assert!(is_allowed_header("X-Entity-Ref"));
        assert!(is_allowed_header("in-reply-to"));
        for bad in [
            "Bcc",
            "Message-ID",
            "List-Unsubscribe",
            "X-PM-Tenant",
            "X-",
            "X Ref",
            "From",
        ] {
            assert!(!is_allowed_header(bad), "{bad}");
        }
    }

    #[test]
    fn content_is_a_template_or_inline_never_both_nor_neither() {
        let both = codes(serde_json::json!({
            "from": {"email": "pat@acme.io"}, "to": "ada@example.com",
            "template_id": uuid::Uuid::new_v4(), "subject": "x", "text": "y"
        }));
        assert!(both.iter().any(|(_, c)| c == "conflicting_fields"));
        let neither =
            codes(serde_json::json!({"from": {"email": "pat@acme.io"}, "to": "ada@example.com"}));
        assert!(neither
            .iter()
            .any(|(f, c)| f == "subject" && c == "required"));
    }

    #[test]
    fn recipients_schedule_and_tags_are_bounded() {
        let cc: Vec<String> = (0..50).map(|i| format!("r{i}@example.com")).collect();
        let found = codes(serde_json::json!({
            "from": {"email": "pat@acme.io"}, "to": "ada@example.com", "cc": cc,
            "subject": "x", "text": "y",
            "scheduled_at": (Utc::now() + TimeDelta::days(31)).to_rfc3339(),
            "tags": ["ok", "not ok"]
        }));
        for (field, code) in [
            ("cc", "too_many"),
            ("scheduled_at", "out_of_range"),
            ("tags[1]", "invalid_value"),
        ] {
            assert!(
                found.iter().any(|(f, c)| f == field && c == code),
                "{field}: {found:?}"
            );
        }
    }
}
