//! Checks on a webhook's writable fields. Every problem is collected (up to
//! [`MAX_ERRORS`]) so a client fixes its request in one round.

use pm_domain::{CampaignId, EventType, WorkspaceId};
use pm_http::{ApiError, FieldError};
use pm_webhook_delivery::outbound::{self, Lookup, OutboundPolicy, UrlRefusal};
use pm_webhook_delivery::policy::RetryPolicy;

use crate::model::{Filters, FiltersInput, ValidWebhook, WebhookInput};

pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_FILTER_ITEMS: usize = 50;
pub const MAX_TAG_CHARS: usize = 50;
/// A bad request cannot make an unbounded error list.
pub const MAX_ERRORS: usize = 50;

struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        if self.0.len() < MAX_ERRORS {
            self.0.push(FieldError::new(field, code, message));
        }
    }
}

/// The URL's rules and what its host resolves to now (see
/// [`outbound::check_registration`]); the normalised URL either way.
pub async fn url(
    raw: &str,
    policy: OutboundPolicy,
    lookup: &impl Lookup,
    errors: &mut Vec<FieldError>,
) -> String {
    match outbound::check_registration(raw.trim(), policy, lookup).await {
        Ok(url) => url.to_string(),
        Err(refusal) => {
            let code = match refusal {
                UrlRefusal::ForbiddenAddress(_) => "refused_address",
                UrlRefusal::TooLong => "too_long",
                _ => "invalid_url",
            };
            errors.push(FieldError::new("url", code, refusal.to_string()));
            raw.trim().to_string()
        }
    }
}

fn event_types(raw: &[String], errors: &mut Errors) -> Vec<String> {
    if raw.is_empty() {
        errors.push(
            "event_types",
            "required",
            "name at least one event type, or [\"*\"] for all",
        );
        return Vec::new();
    }
    if raw.iter().any(|t| t == "*") {
        if raw.len() > 1 {
            errors.push(
                "event_types",
                "invalid_value",
                "\"*\" stands alone: it already means every event type",
            );
        }
        return vec!["*".to_string()];
    }
    let mut types: Vec<String> = Vec::new();
    for (i, name) in raw.iter().enumerate().take(EventType::ALL.len() * 4) {
        match name.parse::<EventType>() {
            Ok(t) if !types.iter().any(|seen| seen == t.as_str()) => {
                types.push(t.as_str().to_string())
            }
            Ok(_) => {}
            Err(_) => errors.push(
                format!("event_types[{i}]"),
                "unknown_event_type",
                format!("{name:?} is not an event type (see GET /api/v1/webhooks/event-types)"),
            ),
        }
    }
    if raw.len() > EventType::ALL.len() * 4 {
        errors.push("event_types", "too_many", "too many event types");
    }
    types
}

fn ids<T: std::str::FromStr>(field: &str, raw: &[String], errors: &mut Errors) -> Vec<T> {
    if raw.len() > MAX_FILTER_ITEMS {
        errors.push(
            format!("filters.{field}"),
            "too_many",
            format!("at most {MAX_FILTER_ITEMS}"),
        );
        return Vec::new();
    }
    raw.iter()
        .enumerate()
        .filter_map(|(i, id)| {
            id.parse()
                .map_err(|_| {
                    errors.push(
                        format!("filters.{field}[{i}]"),
                        "invalid_uuid",
                        "must be a UUID",
                    )
                })
                .ok()
        })
        .collect()
}

fn filters(raw: Option<&FiltersInput>, errors: &mut Errors) -> Filters {
    let Some(raw) = raw else {
        return Filters::default();
    };
    let workspace_ids: Vec<WorkspaceId> = ids("workspace_ids", &raw.workspace_ids, errors);
    let campaign_ids: Vec<CampaignId> = ids("campaign_ids", &raw.campaign_ids, errors);
    let mut tags: Vec<String> = Vec::new();
    if raw.tags.len() > MAX_FILTER_ITEMS {
        errors.push(
            "filters.tags",
            "too_many",
            format!("at most {MAX_FILTER_ITEMS}"),
        );
    } else {
        for (i, tag) in raw.tags.iter().enumerate() {
            let tag = tag.trim();
            if tag.is_empty()
                || tag.chars().count() > MAX_TAG_CHARS
                || tag.chars().any(pm_http::fields::is_forbidden_char)
            {
                errors.push(
                    format!("filters.tags[{i}]"),
                    "invalid_tag",
                    format!("tags are 1 to {MAX_TAG_CHARS} printable characters"),
                );
            } else if !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_string());
            }
        }
    }
    Filters {
        workspace_ids,
        campaign_ids,
        tags,
    }
}

/// Everything but the URL (checked separately because it may resolve a name).
pub fn webhook(
    input: &WebhookInput,
    url: String,
    mut url_errors: Vec<FieldError>,
) -> Result<ValidWebhook, ApiError> {
    let mut errors = Errors(Vec::new());
    errors.0.append(&mut url_errors);
    let description = input
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
    {
        errors.push(
            "description",
            "too_long",
            format!("at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    let event_types = event_types(&input.event_types, &mut errors);
    let filters = filters(input.filters.as_ref(), &mut errors);
    let retry_policy = match input.retry_policy.as_deref() {
        None => RetryPolicy::Standard,
        Some(raw) => raw.parse().unwrap_or_else(|_| {
            errors.push(
                "retry_policy",
                "invalid_value",
                "retry_policy is standard or extended",
            );
            RetryPolicy::Standard
        }),
    };
    if !errors.0.is_empty() {
        return Err(ApiError::validation(errors.0));
    }
    Ok(ValidWebhook {
        url,
        description,
        event_types,
        filters,
        enabled: input.enabled.unwrap_or(true),
        retry_policy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(event_types: &[&str]) -> WebhookInput {
        WebhookInput {
            url: "https://example.com/hook".into(),
            description: None,
            event_types: pm_http::bounded::Bounded::new(
                event_types.iter().map(|s| s.to_string()).collect(),
            )
            .unwrap(),
            filters: None,
            enabled: None,
            retry_policy: None,
        }
    }

    fn codes(result: Result<ValidWebhook, ApiError>) -> Vec<(String, String)> {
        result
            .unwrap_err()
            .errors()
            .iter()
            .map(|e| (e.field.clone(), e.code.clone()))
            .collect()
    }

    #[test]
    fn event_types_collapse_duplicates_and_name_unknown_ones() {
        let ok = webhook(
            &input(&["contact.created", "contact.created"]),
            "u".into(),
            vec![],
        );
        assert_eq!(ok.unwrap().event_types, ["contact.created"]);
        assert_eq!(
            codes(webhook(&input(&["contact.made"]), "u".into(), vec![])),
            [(
                "event_types[0]".to_string(),
                "unknown_event_type".to_string()
            )]
        );
        assert_eq!(
            codes(webhook(&input(&["*", "email.sent"]), "u".into(), vec![]))[0].1,
            "invalid_value"
        );
        assert_eq!(
            codes(webhook(&input(&[]), "u".into(), vec![]))[0].1,
            "required"
        );
    }

    #[test]
    fn a_huge_bad_request_gets_a_bounded_error_list() {
        let mut bad = input(&["contact.created"]);
        bad.filters = Some(FiltersInput {
            workspace_ids: pm_http::bounded::Bounded::new(
                (0..50).map(|i| format!("x{i}")).collect(),
            )
            .unwrap(),
            campaign_ids: pm_http::bounded::Bounded::new(
                (0..50).map(|i| format!("y{i}")).collect(),
            )
            .unwrap(),
            tags: Default::default(),
        });
        assert_eq!(codes(webhook(&bad, "u".into(), vec![])).len(), MAX_ERRORS);
    }
}
