use std::collections::HashSet;

use pm_http::bounded::Bounded;
use pm_http::email::is_valid_email;
use pm_http::fields;
use pm_http::fields::is_forbidden_char;
use pm_http::{ApiError, FieldError};
use pm_templates::{check_syntax, TemplateParts};

use crate::model::{Audience, CampaignInput, Schedule, Sender, Step};

pub const MAX_STEPS: usize = 20;
pub const MAX_CONTACT_IDS: usize = 1000;
pub const MAX_TAGS: usize = 50;
const MAX_DELAY_MINUTES: u32 = 365 * 24 * 60;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A campaign's writable fields after the checks that need no database.
pub struct ValidCampaign {
    pub name: String,
    pub sender: Sender,
    pub steps: Vec<Step>,
    pub audience: Audience,
    pub schedule: Schedule,
}

fn sender(s: &Sender, errors: &mut Vec<FieldError>) -> Sender {
    let from_name = s.from_name.trim().to_string();
    if from_name.is_empty() || from_name.chars().count() > 100 {
        errors.push(FieldError::new(
            "sender.from_name",
            "invalid_length",
            "1 to 100 characters",
        ));
    }
    if from_name.chars().any(is_forbidden_char) {
        errors.push(FieldError::new(
            "sender.from_name",
            "invalid_characters",
            "line breaks and control characters are not allowed",
        ));
    }
    let from_email = s.from_email.trim().to_string();
    if !is_valid_email(&from_email) {
        errors.push(FieldError::new(
            "sender.from_email",
            "invalid_email",
            "not a valid email address",
        ));
    }
    let reply_to = s
        .reply_to
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(String::from);
    if reply_to.as_deref().is_some_and(|r| !is_valid_email(r)) {
        errors.push(FieldError::new(
            "sender.reply_to",
            "invalid_email",
            "not a valid email address",
        ));
    }
    Sender {
        from_name,
        from_email,
        reply_to,
    }
}

fn steps(steps: &[Step], errors: &mut Vec<FieldError>) {
    if steps.len() > MAX_STEPS {
        errors.push(FieldError::new(
            "steps",
            "too_many",
            format!("at most {MAX_STEPS} steps"),
        ));
    }
    for (i, step) in steps.iter().enumerate() {
        let inline = step.subject.is_some() || step.html.is_some() || step.text.is_some();
        match (step.template_id, inline) {
            (Some(_), true) => errors.push(FieldError::new(
                format!("steps[{i}]"),
                "ambiguous_content",
                "give a template_id or an inline subject and body, not both",
            )),
            (None, false) => errors.push(FieldError::new(
                format!("steps[{i}]"),
                "required",
                "give a template_id or an inline subject and body",
            )),
            (None, true) => {
                let subject = step.subject.clone().unwrap_or_default();
                if subject.trim().is_empty() {
                    errors.push(FieldError::new(
                        format!("steps[{i}].subject"),
                        "required",
                        "an inline step needs a subject",
                    ));
                }
                if subject.chars().any(is_forbidden_char) {
                    errors.push(FieldError::new(
                        format!("steps[{i}].subject"),
                        "invalid_characters",
                        "line breaks and control characters are not allowed",
                    ));
                }
                if step.html.is_none() && step.text.is_none() {
                    errors.push(FieldError::new(
                        format!("steps[{i}].html"),
                        "required",
                        "an inline step needs an html or text body",
                    ));
                }
                let parts = TemplateParts {
                    subject,
                    html: step.html.clone(),
                    text: step.text.clone(),
                };
                for e in check_syntax(&parts) {
                    errors.push(FieldError::new(
                        format!("steps[{i}].{}", e.field),
                        &e.code,
                        e.message,
                    ));
                }
            }
            (Some(_), false) => {}
        }
        if step.delay_minutes > MAX_DELAY_MINUTES {
            errors.push(FieldError::new(
                format!("steps[{i}].delay_minutes"),
                "out_of_range",
                format!("at most {MAX_DELAY_MINUTES} minutes (a year)"),
            ));
        }
    }
}

fn audience(a: &Audience, errors: &mut Vec<FieldError>) -> Audience {
    if a.contact_ids.len() > MAX_CONTACT_IDS {
        errors.push(FieldError::new(
            "audience.contact_ids",
            "too_many",
            format!("at most {MAX_CONTACT_IDS}"),
        ));
    }
    let mut tags: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for (i, tag) in a.tags.iter().enumerate() {
        let tag = tag.trim();
        if tag.is_empty() || tag.chars().count() > 50 || tag.chars().any(is_forbidden_char) {
            errors.push(FieldError::new(
                format!("audience.tags[{i}]"),
                "invalid_tag",
                "1 to 50 printable characters",
            ));
        } else if seen.insert(tag) {
            tags.push(tag.to_string());
        }
    }
    if tags.len() > MAX_TAGS {
        errors.push(FieldError::new(
            "audience.tags",
            "too_many",
            format!("at most {MAX_TAGS}"),
        ));
    }
    let mut contact_ids = a.contact_ids.to_vec();
    contact_ids.sort();
    contact_ids.dedup();
    Audience {
        contact_ids: Bounded::new(contact_ids).expect("no longer than before"),
        tags: Bounded::new(tags).expect("no longer than before"),
    }
}

fn schedule(s: &Schedule, errors: &mut Vec<FieldError>) {
    if s.days.is_empty() {
        errors.push(FieldError::new(
            "schedule.days",
            "required",
            "at least one sending day",
        ));
    }
    let mut seen = HashSet::new();
    for (i, day) in s.days.iter().enumerate() {
        if !DAYS.contains(&day.as_str()) || !seen.insert(day) {
            errors.push(FieldError::new(
                format!("schedule.days[{i}]"),
                "invalid_value",
                "days are mon, tue, wed, thu, fri, sat, sun, each once",
            ));
        }
    }
    if s.start_hour > 23 {
        errors.push(FieldError::new(
            "schedule.start_hour",
            "out_of_range",
            "0 to 23",
        ));
    }
    if s.end_hour == 0 || s.end_hour > 24 || s.end_hour <= s.start_hour {
        errors.push(FieldError::new(
            "schedule.end_hour",
            "out_of_range",
            "1 to 24, after start_hour",
        ));
    }
    if !(1..=100_000).contains(&s.daily_cap) {
        errors.push(FieldError::new(
            "schedule.daily_cap",
            "out_of_range",
            "1 to 100000",
        ));
    }
    if s.time_zone.trim().is_empty() {
        errors.push(FieldError::new(
            "schedule.time_zone",
            "required",
            "an IANA time zone such as Europe/Berlin",
        ));
    }
}

pub fn campaign(input: CampaignInput) -> Result<ValidCampaign, ApiError> {
    let mut errors = Vec::new();
    let name = fields::name("name", &input.name, 200, &mut errors);
    let sender = sender(&input.sender, &mut errors);
    steps(&input.steps, &mut errors);
    let audience = audience(&input.audience, &mut errors);
    let schedule = input.schedule.unwrap_or_default();
    self::schedule(&schedule, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(ValidCampaign {
        name,
        sender,
        steps: input.steps.into_inner(),
        audience,
        schedule,
    })
}
