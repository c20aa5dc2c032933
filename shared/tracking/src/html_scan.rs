//! A small scan of HTML that finds what link tracking needs — the `href` values of links
//! and where the body ends — without building a document.
//!
//! It follows the HTML tokenizer where that matters for finding tags: comments, bogus
//! comments (`<!DOCTYPE …>`, `<![if …]>`, `<?…>`), quoted attribute values that contain
//! `>`, and the raw-text elements `<script>` and `<style>`, whose contents are not markup.
//! Everything else is text. Positions are byte offsets into the input; they always fall
//! on ASCII delimiters, so they are valid `str` boundaries.

use std::ops::Range;

/// What [`scan`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// The value of each `href` of an `<a>` or `<area>` tag without `data-pm-no-track`,
    /// in document order, as raw text (quotes excluded, references not decoded).
    pub hrefs: Vec<Range<usize>>,
    /// Offset of the `<` of the last `</body>` end tag.
    pub body_end: Option<usize>,
}

struct Attribute {
    name: Range<usize>,
    value: Option<Range<usize>>,
}

/// Marks a link the sender does not want tracked (for example a link whose URL must stay
/// visible to the recipient when hovered).
const NO_TRACK_ATTRIBUTE: &str = "data-pm-no-track";

pub(crate) fn scan(html: &str) -> Scan {
    let bytes = html.as_bytes();
    let mut found = Scan::default();
    let mut at = 0;
    while let Some(offset) = find(bytes, at, b"<") {
        let open = offset;
        let next = bytes.get(open + 1).copied();
        at = match next {
            Some(b'!') if bytes[open..].starts_with(b"<!--") => {
                // `<!-->` and `<!--->` are complete (empty) comments, hence searching from
                // the second `-` rather than after `<!--`.
                match find(bytes, open + 2, b"-->") {
                    Some(close) => close + 3,
                    None => break,
                }
            }
            Some(b'!' | b'?') => match find(bytes, open + 2, b">") {
                Some(close) => close + 1,
                None => break,
            },
            Some(b'/') => match bytes.get(open + 2) {
                Some(first) if first.is_ascii_alphabetic() => {
                    let name = tag_name(bytes, open + 2);
                    let Some((_, end)) = attributes(bytes, name.end) else {
                        break;
                    };
                    if html[name].eq_ignore_ascii_case("body") {
                        found.body_end = Some(open);
                    }
                    end
                }
                // `</` not followed by a letter starts a bogus comment.
                _ => match find(bytes, open + 2, b">") {
                    Some(close) => close + 1,
                    None => break,
                },
            },
            Some(first) if first.is_ascii_alphabetic() => {
                let name = tag_name(bytes, open + 1);
                let Some((attributes, end)) = attributes(bytes, name.end) else {
                    // An unterminated tag is text to the tokenizer's end: nothing to track.
                    break;
                };
                let name = &html[name];
                if name.eq_ignore_ascii_case("a") || name.eq_ignore_ascii_case("area") {
                    found.hrefs.extend(link_href(html, &attributes));
                }
                if name.eq_ignore_ascii_case("script") || name.eq_ignore_ascii_case("style") {
                    match find_ignore_case(bytes, end, &format!("</{name}")) {
                        Some(close) => close,
                        None => break,
                    }
                } else {
                    end
                }
            }
            _ => open + 1,
        };
    }
    found
}

/// The `href` value of a link tag, unless the tag opts out of tracking. Only the first
/// `href` counts: browsers ignore repeated attributes.
fn link_href(html: &str, attributes: &[Attribute]) -> Option<Range<usize>> {
    let named = |wanted: &str| {
        attributes
            .iter()
            .find(move |attribute| html[attribute.name.clone()].eq_ignore_ascii_case(wanted))
    };
    if named(NO_TRACK_ATTRIBUTE).is_some() {
        return None;
    }
    named("href")?.value.clone()
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

fn tag_name(bytes: &[u8], start: usize) -> Range<usize> {
    let len = bytes[start..]
        .iter()
        .take_while(|b| !is_space(**b) && **b != b'/' && **b != b'>')
        .count();
    start..start + len
}

/// The attributes from `at` to the end of the tag, and the offset just after its `>`;
/// `None` when the input ends inside the tag.
fn attributes(bytes: &[u8], mut at: usize) -> Option<(Vec<Attribute>, usize)> {
    let skip_spaces = |at: &mut usize| {
        while bytes.get(*at).is_some_and(|b| is_space(*b)) {
            *at += 1;
        }
    };
    let mut found = Vec::new();
    loop {
        while bytes.get(at).is_some_and(|b| is_space(*b) || *b == b'/') {
            at += 1;
        }
        match bytes.get(at)? {
            b'>' => return Some((found, at + 1)),
            _ => {
                // The first character is part of the name even if it is `=`.
                let start = at;
                at += 1;
                while bytes
                    .get(at)
                    .is_some_and(|b| !is_space(*b) && !matches!(b, b'/' | b'>' | b'='))
                {
                    at += 1;
                }
                let name = start..at;
                skip_spaces(&mut at);
                let value = if bytes.get(at) == Some(&b'=') {
                    at += 1;
                    skip_spaces(&mut at);
                    Some(attribute_value(bytes, &mut at)?)
                } else {
                    None
                };
                found.push(Attribute { name, value });
            }
        }
    }
}

/// A value starting at `at` (just after `=` and spaces); moves `at` past it.
fn attribute_value(bytes: &[u8], at: &mut usize) -> Option<Range<usize>> {
    match *bytes.get(*at)? {
        quote @ (b'"' | b'\'') => {
            let start = *at + 1;
            let close = find(bytes, start, &[quote])?;
            *at = close + 1;
            Some(start..close)
        }
        _ => {
            // Unquoted: up to a space or the tag's end. A `>` right after `=` leaves the
            // value empty.
            let start = *at;
            while bytes.get(*at).is_some_and(|b| !is_space(*b) && *b != b'>') {
                *at += 1;
            }
            Some(start..*at)
        }
    }
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|position| from + position)
}

fn find_ignore_case(bytes: &[u8], from: usize, needle: &str) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
        .map(|position| from + position)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hrefs(html: &str) -> Vec<&str> {
        scan(html)
            .hrefs
            .into_iter()
            .map(|range| &html[range])
            .collect()
    }

    #[test]
    fn finds_href_values_in_every_quoting_style() {
        let html = r#"<a href="https://d.example/1">a</a><A HREF='https://s.example/2'>b</A><a href=https://u.example/3>c</a><a href = "https://sp.example/4">d</a>"#;
        assert_eq!(
            hrefs(html),
            [
                "https://d.example/1",
                "https://s.example/2",
                "https://u.example/3",
                "https://sp.example/4"
            ]
        );
    }

    #[test]
    fn only_a_and_area_tags_count() {
        let html = r#"<link href="https://x.example/css"><area href="https://m.example/"><abbr href="https://no.example/"><a class="x" title='>' href="https://y.example/">"#;
        assert_eq!(hrefs(html), ["https://m.example/", "https://y.example/"]);
    }

    #[test]
    fn the_first_href_wins_and_tags_may_end_with_a_slash() {
        assert_eq!(
            hrefs(r#"<a/href="https://1.example/" href="https://2.example/"/>"#),
            ["https://1.example/"]
        );
    }

    #[test]
    fn a_no_track_attribute_in_any_position_or_case_excludes_the_tag() {
        let html = r#"<a DATA-PM-NO-TRACK href="https://x.example/"><a href="https://x.example/" data-pm-no-track="1"><a href="https://y.example/">"#;
        assert_eq!(hrefs(html), ["https://y.example/"]);
    }

    #[test]
    fn comments_and_bogus_comments_are_skipped() {
        let html = concat!(
            "<!DOCTYPE html><!-- <a href=\"https://c.example/\"> -->",
            "<!--[if mso]><a href=\"https://mso.example/\"><![endif]-->",
            "<!--><a href=\"https://after-empty.example/\">",
            "<?xml <a href=\"https://pi.example/\">",
            "<a href=\"https://real.example/\">",
            "<!-- unterminated <a href=\"https://never.example/\">"
        );
        assert_eq!(
            hrefs(html),
            ["https://after-empty.example/", "https://real.example/"]
        );
    }

    #[test]
    fn script_and_style_contents_are_not_markup() {
        let html = concat!(
            "<script>var s = '<a href=\"https://js.example/\">';</script>",
            "<STYLE>/* <a href=\"https://css.example/\"> */</style >",
            "<a href=\"https://real.example/\">"
        );
        assert_eq!(hrefs(html), ["https://real.example/"]);
    }

    #[test]
    fn text_angle_brackets_and_unterminated_tags_do_not_confuse_the_scan() {
        assert_eq!(
            hrefs(r#"1 < 2 <3 <a href="https://x.example/">x</a> <a href="https://cut"#),
            ["https://x.example/"]
        );
    }

    #[test]
    fn empty_and_valueless_hrefs_are_reported_as_such() {
        let html = "<a href=><a href>";
        assert_eq!(hrefs(html), [""]);
    }

    #[test]
    fn the_last_body_end_tag_outside_comments_is_found() {
        let html = "<body><!-- </body> --><p>x</p></BODY >tail";
        assert_eq!(scan(html).body_end, Some(html.find("</BODY").unwrap()));
        assert_eq!(scan("<p>no body</p>").body_end, None);
        assert_eq!(scan("</bodyx>").body_end, None);
    }
}
