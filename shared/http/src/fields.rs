//! Field checks several resources share, each adding to the request's `errors[]`.

use crate::FieldError;

/// A required name: trimmed, 1 to `max` characters, else `invalid_length` on `field`.
/// Returns the trimmed value either way, so the caller can go on collecting errors.
pub fn name(field: &str, raw: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let name = raw.trim().to_string();
    if name.is_empty() || name.chars().count() > max {
        errors.push(FieldError::new(
            field,
            "invalid_length",
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded_in_characters() {
        let mut errors = Vec::new();
        assert_eq!(name("name", "  Ünïcode  ", 7, &mut errors), "Ünïcode");
        assert!(errors.is_empty());
        name("name", "   ", 7, &mut errors);
        name("title", "eight ch", 7, &mut errors);
        let fields: Vec<_> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            [("name", "invalid_length"), ("title", "invalid_length")]
        );
        assert_eq!(errors[1].message, "title must be 1 to 7 characters");
    }
}
