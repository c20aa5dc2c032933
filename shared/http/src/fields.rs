//! Field checks several resources share, each adding to the request's `errors[]`.

use crate::FieldError;

/// Characters no name-like field may hold: control characters (C0, DEL, C1, which
/// includes U+0085 NEL) and the Unicode line and paragraph separators, any of which
/// could break a mail header or a log line.
pub fn is_forbidden_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

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
    } else if name.chars().any(is_forbidden_char) {
        errors.push(FieldError::new(
            field,
            "invalid_characters",
            "line breaks and control characters are not allowed",
        ));
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_unicode_line_breaks_are_refused_in_names() {
        for bad in [
            "a\u{0}b",
            "a\nb",
            "a\u{85}b",
            "a\u{2028}b",
            "a\u{2029}b",
            "a\u{7f}b",
        ] {
            let mut errors = Vec::new();
            name("name", bad, 100, &mut errors);
            assert_eq!(errors.len(), 1, "{bad:?}");
            assert_eq!(errors[0].code, "invalid_characters");
        }
    }

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
