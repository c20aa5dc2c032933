use pm_http::fields::{self, is_forbidden_char};
use pm_http::{ApiError, FieldError};

use crate::model::TemplateInput;
use crate::render::{check_syntax, TemplateParts};

pub const MAX_BODY_CHARS: usize = 512 * 1024;

/// Name 1–200 characters, subject 1–998 (the RFC 5322 line limit), at least one body,
/// and every part compiles.
pub fn template(input: TemplateInput) -> Result<(String, TemplateParts), ApiError> {
    let mut errors = Vec::new();
    let name = fields::name("name", &input.name, 200, &mut errors);
    if input.subject.trim().is_empty() || input.subject.chars().count() > 998 {
        errors.push(FieldError::new(
            "subject",
            "invalid_length",
            "subject must be 1 to 998 characters",
        ));
    }
    // (The name's characters are checked by fields::name.)
    if input.subject.chars().any(is_forbidden_char) {
        errors.push(FieldError::new(
            "subject",
            "invalid_characters",
            "line breaks and control characters are not allowed",
        ));
    }
    let html = input.html.filter(|h| !h.trim().is_empty());
    let text = input.text.filter(|t| !t.trim().is_empty());
    if html.is_none() && text.is_none() {
        errors.push(FieldError::new(
            "html",
            "required",
            "give an html or a text body (or both)",
        ));
    }
    for (field, body) in [("html", &html), ("text", &text)] {
        if body
            .as_ref()
            .is_some_and(|b| b.chars().count() > MAX_BODY_CHARS)
        {
            errors.push(FieldError::new(
                field,
                "too_long",
                format!("at most {MAX_BODY_CHARS} characters"),
            ));
        }
    }
    let parts = TemplateParts {
        subject: input.subject,
        html,
        text,
    };
    if errors.is_empty() {
        errors = check_syntax(&parts);
    }
    if errors.is_empty() {
        Ok((name, parts))
    } else {
        Err(ApiError::validation(errors))
    }
}
