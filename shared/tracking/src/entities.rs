//! Decoding of character references in attribute values, so that the link stored for a
//! click redirect is the URL the browser would have followed (`?a=1&amp;b=2` → `?a=1&b=2`).
//!
//! Covers numeric references and the named ones that occur in URLs, which must end in
//! `;`. Other named references are kept literally: decoding them needs the full HTML
//! table, and in query strings (`?a=1&copy=2`) browsers keep them literally too.

use std::borrow::Cow;

/// Named references worth decoding in a URL.
const NAMED: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{A0}'),
    ("equals", '='),
    ("quest", '?'),
    ("sol", '/'),
    ("colon", ':'),
    ("num", '#'),
    ("percnt", '%'),
    ("plus", '+'),
];

/// `raw` with its character references decoded; borrowed when it has none.
pub(crate) fn decode_attribute(raw: &str) -> Cow<'_, str> {
    if !raw.contains('&') {
        return Cow::Borrowed(raw);
    }
    let mut decoded = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        decoded.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        match decode_reference(after) {
            Some((ch, consumed)) => {
                decoded.push(ch);
                rest = &after[consumed..];
            }
            None => {
                decoded.push('&');
                rest = after;
            }
        }
    }
    decoded.push_str(rest);
    Cow::Owned(decoded)
}

/// The character a reference starting just after `&` stands for, and how many bytes of
/// `after` it spans.
fn decode_reference(after: &str) -> Option<(char, usize)> {
    if let Some(numeric) = after.strip_prefix('#') {
        let (digits, radix, prefix_len) = match numeric.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16, 2),
            None => (numeric, 10, 1),
        };
        let len = digits
            .bytes()
            .take_while(|b| (*b as char).is_digit(radix))
            .count();
        if len == 0 {
            return None;
        }
        // Browsers accept a numeric reference without its `;` (a parse error, but decoded).
        let semicolon = usize::from(digits[len..].starts_with(';'));
        // Out-of-range, surrogate and NUL code points become U+FFFD, as in browsers.
        let ch = u32::from_str_radix(&digits[..len], radix)
            .ok()
            .filter(|code| *code != 0)
            .and_then(char::from_u32)
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        return Some((ch, prefix_len + len + semicolon));
    }
    let name_len = after.bytes().take_while(u8::is_ascii_alphanumeric).count();
    if !after[name_len..].starts_with(';') {
        return None;
    }
    let name = &after[..name_len];
    NAMED
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, ch)| (*ch, name_len + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_references_is_borrowed() {
        assert!(matches!(
            decode_attribute("https://a.example/x?y=1"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn named_references_are_decoded() {
        assert_eq!(
            decode_attribute("https://a.example/?a=1&amp;b=2&quot;&lt;&gt;&apos;"),
            "https://a.example/?a=1&b=2\"<>'"
        );
    }

    #[test]
    fn numeric_references_are_decoded_with_or_without_semicolon() {
        assert_eq!(decode_attribute("a&#38;b&#x26;c&#X26;d&#38e"), "a&b&c&d&e");
        assert_eq!(decode_attribute("&#104;ttps"), "https");
    }

    #[test]
    fn invalid_code_points_become_the_replacement_character() {
        assert_eq!(
            decode_attribute("&#0;&#xD800;&#x110000;"),
            "\u{FFFD}".repeat(3)
        );
        assert_eq!(decode_attribute("&#99999999999999999999;"), "\u{FFFD}");
    }

    #[test]
    fn unknown_or_unterminated_references_stay_literal() {
        assert_eq!(decode_attribute("?a=1&copy=2"), "?a=1&copy=2");
        assert_eq!(decode_attribute("&amp"), "&amp");
        assert_eq!(decode_attribute("&bogus;"), "&bogus;");
        assert_eq!(decode_attribute("& &# &#x; &"), "& &# &#x; &");
        assert_eq!(decode_attribute("&&amp;"), "&&");
    }

    #[test]
    fn non_ascii_text_survives() {
        assert_eq!(decode_attribute("é&amp;ü"), "é&ü");
    }
}
