use std::collections::HashSet;

use pm_domain::WorkspaceId;
use pm_http::email::is_valid_email;
use pm_http::fields::is_forbidden_char;
use pm_http::{ApiError, FieldError};

use crate::model::{ContactInput, ContactStatus, ValidContact};

pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_CHARS: usize = 50;
pub const MAX_CUSTOM_FIELDS: usize = 50;
pub const MAX_CUSTOM_FIELDS_BYTES: usize = 8 * 1024;

fn text(
    field: &str,
    value: &Option<String>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let trimmed = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
    if trimmed.chars().count() > max {
        errors.push(FieldError::new(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    } else if trimmed.chars().any(is_forbidden_char) {
        // A name can reach a mail header (`To: Ada Lovelace <ada@…>`).
        errors.push(FieldError::new(
            field,
            "invalid_characters",
            "line breaks and control characters are not allowed",
        ));
    }
    Some(trimmed.to_string())
}

/// Linear in the number of tags (a set, not a scan per tag); the list itself is capped
/// while the body is read.
fn tags(raw: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for (i, tag) in raw.iter().enumerate() {
        let tag = tag.trim();
        if tag.is_empty()
            || tag.chars().count() > MAX_TAG_CHARS
            || tag.chars().any(is_forbidden_char)
        {
            errors.push(FieldError::new(
                format!("tags[{i}]"),
                "invalid_tag",
                format!("tags are 1 to {MAX_TAG_CHARS} printable characters"),
            ));
        } else if seen.insert(tag) {
            tags.push(tag.to_string());
        }
    }
    if tags.len() > MAX_TAGS {
        errors.push(FieldError::new(
            "tags",
            "too_many",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    tags
}

fn custom_fields(
    raw: &Option<serde_json::Value>,
    errors: &mut Vec<FieldError>,
) -> serde_json::Value {
    let Some(value) = raw else {
        return serde_json::json!({});
    };
    let Some(object) = value.as_object() else {
        errors.push(FieldError::new(
            "custom_fields",
            "invalid_type",
            "custom_fields must be a JSON object",
        ));
        return serde_json::json!({});
    };
    if object.len() > MAX_CUSTOM_FIELDS {
        errors.push(FieldError::new(
            "custom_fields",
            "too_many",
            format!("at most {MAX_CUSTOM_FIELDS} keys"),
        ));
    }
    for key in object.keys() {
        let valid = (1..=64).contains(&key.len())
            && key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            errors.push(FieldError::new(
                format!("custom_fields.{key}"),
                "invalid_key",
                "keys are 1 to 64 letters, digits or underscores, not starting with a digit",
            ));
        }
    }
    if value.to_string().len() > MAX_CUSTOM_FIELDS_BYTES {
        errors.push(FieldError::new(
            "custom_fields",
            "too_large",
            format!("at most {MAX_CUSTOM_FIELDS_BYTES} bytes as JSON"),
        ));
    }
    value.clone()
}

pub fn contact(input: &ContactInput) -> Result<ValidContact, ApiError> {
    let mut errors = Vec::new();
    let email = input.email.trim().to_string();
    if !is_valid_email(&email) {
        errors.push(FieldError::new(
            "email",
            "invalid_email",
            format!("{email:?} is not a valid email address"),
        ));
    }
    let first_name = text("first_name", &input.first_name, 100, &mut errors);
    let last_name = text("last_name", &input.last_name, 100, &mut errors);
    let company = text("company", &input.company, 200, &mut errors);
    let tags = tags(&input.tags, &mut errors);
    let custom_fields = custom_fields(&input.custom_fields, &mut errors);
    let status = match input.status.as_deref() {
        None => None,
        Some(raw) => raw.parse::<ContactStatus>().map(Some).unwrap_or_else(|_| {
            errors.push(FieldError::new(
                "status",
                "invalid_value",
                "status is subscribed, unsubscribed, bounced or complained",
            ));
            None
        }),
    };
    let workspace_id = match input.workspace_id.as_deref() {
        None => None,
        Some(raw) => match raw.parse::<WorkspaceId>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new(
                    "workspace_id",
                    "invalid_uuid",
                    "workspace_id must be a UUID",
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(ValidContact {
        email,
        first_name,
        last_name,
        company,
        tags,
        custom_fields,
        status,
        workspace_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> ContactInput {
        serde_json::from_value(json).unwrap()
    }

    fn fields(json: serde_json::Value) -> Vec<(String, String)> {
        contact(&input(json))
            .unwrap_err()
            .errors()
            .iter()
            .map(|e| (e.field.clone(), e.code.clone()))
            .collect()
    }

    #[test]
    fn normalises_a_valid_contact() {
        let c = contact(&input(serde_json::json!({
            "email": "  Ann@Example.com ", "first_name": " Ann ", "last_name": "",
            "tags": ["vip", " vip ", "beta"], "custom_fields": {"plan": "pro"}
        })))
        .unwrap();
        assert_eq!(c.email, "Ann@Example.com");
        assert_eq!(c.first_name.as_deref(), Some("Ann"));
        assert_eq!(c.last_name, None);
        assert_eq!(c.tags, vec!["vip", "beta"]);
        assert_eq!(c.status, None);
    }

    #[test]
    fn names_every_bad_field() {
        let errors = fields(serde_json::json!({
            "email": "nope", "first_name": "x".repeat(101), "tags": ["ok", ""],
            "custom_fields": {"1bad": 1, "fine": 2}, "status": "gone", "workspace_id": "w1"
        }));
        let expected = [
            ("email", "invalid_email"),
            ("first_name", "too_long"),
            ("tags[1]", "invalid_tag"),
            ("custom_fields.1bad", "invalid_key"),
            ("status", "invalid_value"),
            ("workspace_id", "invalid_uuid"),
        ];
        assert_eq!(
            errors,
            expected
                .map(|(f, c)| (f.to_string(), c.to_string()))
                .to_vec()
        );
    }

    #[test]
    fn custom_field_limits() {
        let many: serde_json::Map<String, serde_json::Value> = (0..51)
            .map(|i| (format!("k{i}"), serde_json::json!(i)))
            .collect();
        assert_eq!(
            fields(serde_json::json!({"email": "a@b.co", "custom_fields": many})),
            vec![("custom_fields".to_string(), "too_many".to_string())]
        );
        let big = serde_json::json!({"email": "a@b.co", "custom_fields": {"k": "x".repeat(9000)}});
        assert_eq!(fields(big)[0].1, "too_large");
        let not_object = serde_json::json!({"email": "a@b.co", "custom_fields": [1]});
        assert_eq!(fields(not_object)[0].1, "invalid_type");
    }
}
