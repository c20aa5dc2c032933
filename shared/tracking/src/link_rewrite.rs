//! Click and open tracking for HTML parts, and the unsubscribe URL.
//!
//! [`track_html`] rewrites links by these rules:
//!
//! - Only the `href` of `<a>` and `<area>` tags, whether double-quoted, single-quoted or
//!   unquoted. Only the first `href` of a tag counts, as in browsers.
//! - Only absolute `http://` and `https://` URLs (scheme in any case). `mailto:`, `tel:`,
//!   `#anchors`, relative URLs and anything else are left untouched, and so is any URL
//!   containing a `{{` template placeholder: it is meant to be filled in later, which a
//!   tracked copy would prevent.
//! - Character references in the href are decoded (`&amp;` → `&`) and surrounding
//!   whitespace trimmed; the result is the stored link, which the click endpoint
//!   redirects to.
//! - Each distinct link is stored once: the same URL appearing twice shares one index,
//!   so [`Tracked::links`] has no duplicates.
//! - A tag with a `data-pm-no-track` attribute is left alone.
//! - Links into the tracking service itself are never rewritten: the unsubscribe URL
//!   (`{base_url}/u/…`) must keep working without a redirect hop, and an already
//!   tracked `{base_url}/t/…` link must not be tracked twice.
//! - Comments are skipped — including Outlook conditional comments, so links in
//!   `<!--[if mso]>` VML buttons are not tracked — as are `<script>` and `<style>`
//!   contents.
//! - At most [`MAX_TRACKED_LINKS`] distinct links are tracked; further links stay as
//!   they are.
//!
//! Apart from the rewritten href values and the open pixel, the output is byte-identical
//! to the input, so the sender's markup (and how each client renders it) is unchanged.
//!
//! Text parts are deliberately not rewritten and there is no function for them: a
//! plain-text reader sees the raw URL, and an opaque tracking URL in its place looks
//! like phishing and hurts deliverability.

use std::collections::HashMap;

use uuid::Uuid;

use crate::entities::decode_attribute;
use crate::html_scan::scan;
use crate::keys::TrackingKeys;
use crate::token::{sign, Action};

/// More links than any real email has; the cap bounds the work per email and the size
/// of the stored link list.
pub const MAX_TRACKED_LINKS: usize = 500;

/// An HTML part ready to send, and the links its click tokens index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    pub html: String,
    /// `links[i]` is where a click with `Action::Click { link: i }` redirects to.
    pub links: Vec<String>,
}

/// Rewrites every http(s) link of `<a href>` to `{base_url}/t/c/{token}` where the token
/// carries the link's index in `links`; adds a 1×1 open pixel
/// `<img src="{base_url}/t/o/{token}" width="1" height="1" alt="" style="display:none">`
/// just before `</body>` (case-insensitive) or at the end when there is no body tag.
///
/// See the [module documentation](self) for exactly which links are rewritten.
/// `base_url` is the tracking service's absolute URL; a trailing `/` is ignored.
pub fn track_html(keys: &TrackingKeys, base_url: &str, email_id: Uuid, html: &str) -> Tracked {
    let base_url = base_url.trim_end_matches('/');
    let found = scan(html);

    let mut links: Vec<String> = Vec::new();
    let mut indexes: HashMap<String, u16> = HashMap::new();
    // (byte range of the input to replace, replacement), in input order.
    let mut edits = Vec::new();
    for href in found.hrefs {
        let Some(link) = trackable_link(&html[href.clone()], base_url) else {
            continue;
        };
        let index = match indexes.get(&link) {
            Some(index) => *index,
            None if links.len() < MAX_TRACKED_LINKS => {
                let index = u16::try_from(links.len()).expect("MAX_TRACKED_LINKS fits in u16");
                indexes.insert(link.clone(), index);
                links.push(link);
                index
            }
            None => continue,
        };
        let token = sign(keys, email_id, Action::Click { link: index });
        edits.push((href, escape_attribute(&format!("{base_url}/t/c/{token}"))));
    }

    let pixel_at = found.body_end.unwrap_or(html.len());
    let pixel = open_pixel_tag(keys, base_url, email_id);
    // Sorting is stable, so when the pixel shares an offset with an (empty) href value
    // both stay in a deterministic order; the two never overlap otherwise.
    edits.push((pixel_at..pixel_at, pixel));
    edits.sort_by_key(|(range, _)| range.start);

    let added: usize = edits.iter().map(|(_, text)| text.len()).sum();
    let mut out = String::with_capacity(html.len() + added);
    let mut copied = 0;
    for (range, replacement) in edits {
        out.push_str(&html[copied..range.start]);
        out.push_str(&replacement);
        copied = range.end;
    }
    out.push_str(&html[copied..]);
    Tracked { html: out, links }
}

/// `{base_url}/u/{token}`: where the unsubscribe link and the `List-Unsubscribe` header
/// point.
pub fn unsubscribe_url(keys: &TrackingKeys, base_url: &str, email_id: Uuid) -> String {
    let token = sign(keys, email_id, Action::Unsubscribe);
    format!("{}/u/{token}", base_url.trim_end_matches('/'))
}

fn open_pixel_tag(keys: &TrackingKeys, base_url: &str, email_id: Uuid) -> String {
    let token = sign(keys, email_id, Action::Open);
    let src = escape_attribute(&format!("{base_url}/t/o/{token}"));
    format!(r#"<img src="{src}" width="1" height="1" alt="" style="display:none">"#)
}

/// The link to store for a raw href value, or `None` if it must be left as it is.
fn trackable_link(raw: &str, base_url: &str) -> Option<String> {
    let decoded = decode_attribute(raw);
    // Browsers strip this whitespace from URLs before following them.
    let link = decoded.trim_matches(|c: char| c.is_ascii_whitespace());
    let absolute_http =
        starts_with_ignore_case(link, "http://") || starts_with_ignore_case(link, "https://");
    let own_service = ["/u/", "/t/"]
        .iter()
        .any(|path| starts_with_ignore_case(link, &format!("{base_url}{path}")));
    (absolute_http && !own_service && !link.contains("{{")).then(|| link.to_owned())
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Makes a URL safe inside any attribute value, quoted either way. Tokens are URL-safe
/// base64, so this only matters for unusual characters in `base_url`.
fn escape_attribute(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            _ => escaped.push(ch),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::verify;

    const BASE: &str = "https://t.penguinmails.example";

    fn keys() -> TrackingKeys {
        TrackingKeys::new(vec![0x42; 32], Vec::new())
    }

    fn email() -> Uuid {
        Uuid::from_u128(42)
    }

    fn track(html: &str) -> Tracked {
        track_html(&keys(), BASE, email(), html)
    }

    fn pixel() -> String {
        open_pixel_tag(&keys(), BASE, email())
    }

    fn click_url(link: u16) -> String {
        format!(
            "{BASE}/t/c/{}",
            sign(&keys(), email(), Action::Click { link })
        )
    }

    /// The actions named by every tracking URL in `html`, in order.
    fn tracked_actions(html: &str) -> Vec<Action> {
        html.match_indices(&format!("{BASE}/t/"))
            .map(|(at, prefix)| {
                let token: String = html[at + prefix.len() + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                let (id, action) = verify(&keys(), &token).expect("a valid token");
                assert_eq!(id, email());
                action
            })
            .collect()
    }

    #[test]
    fn rewrites_links_in_every_quoting_style() {
        let html = r#"<a href="https://d.example/">d</a><a href='http://s.example/'>s</a><a href=HTTPS://u.example/>u</a>"#;
        let tracked = track(html);
        let expected = format!(
            r#"<a href="{}">d</a><a href='{}'>s</a><a href={}>u</a>{}"#,
            click_url(0),
            click_url(1),
            click_url(2),
            pixel()
        );
        assert_eq!(tracked.html, expected);
        assert_eq!(
            tracked.links,
            [
                "https://d.example/",
                "http://s.example/",
                "HTTPS://u.example/"
            ]
        );
        assert_eq!(
            tracked_actions(&tracked.html),
            [
                Action::Click { link: 0 },
                Action::Click { link: 1 },
                Action::Click { link: 2 },
                Action::Open
            ]
        );
    }

    #[test]
    fn area_tags_are_rewritten_too() {
        let tracked = track(r#"<map><area shape="rect" href="https://m.example/"></map>"#);
        assert_eq!(tracked.links, ["https://m.example/"]);
        assert!(tracked
            .html
            .contains(&format!(r#"href="{}""#, click_url(0))));
    }

    #[test]
    fn entities_are_decoded_into_the_stored_link() {
        let tracked = track(r#"<a href=" https://e.example/?a=1&amp;b=2&#38;c=3 ">x</a>"#);
        assert_eq!(tracked.links, ["https://e.example/?a=1&b=2&c=3"]);
        assert!(tracked
            .html
            .starts_with(&format!(r#"<a href="{}">"#, click_url(0))));
    }

    #[test]
    fn duplicate_links_share_one_index() {
        let html = r#"<a href="https://a.example/">1</a><a href="https://b.example/">2</a><a href='https://a.example/'>3</a><a href="https://a.example/?x=1&amp;y=2"></a><a href="https://a.example/?x=1&y=2"></a>"#;
        let tracked = track(html);
        assert_eq!(
            tracked.links,
            [
                "https://a.example/",
                "https://b.example/",
                "https://a.example/?x=1&y=2"
            ]
        );
        let links: Vec<Action> = tracked_actions(&tracked.html);
        assert_eq!(
            links,
            [0, 1, 0, 2, 2]
                .map(|link| Action::Click { link })
                .into_iter()
                .chain([Action::Open])
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn non_http_links_and_placeholders_are_untouched() {
        let html = concat!(
            r#"<a href="mailto:hi@example.com">m</a>"#,
            r#"<a href="tel:+15555550100">t</a>"#,
            r##"<a href="#top">a</a>"##,
            r#"<a href="/relative/path">r</a>"#,
            r#"<a href="//protocol-relative.example/">p</a>"#,
            r#"<a href="ftp://files.example/">f</a>"#,
            r#"<a href="javascript:alert(1)">j</a>"#,
            r#"<a href="{{unsubscribe_url}}">u</a>"#,
            r#"<a href="https://shop.example/?c={{contact.id}}">c</a>"#,
            r#"<a href="">e</a><a href>v</a><a name="x">n</a>"#,
            r#"<a href="http:/broken">b</a>"#,
        );
        let tracked = track(html);
        assert_eq!(tracked.html, format!("{html}{}", pixel()));
        assert!(tracked.links.is_empty());
    }

    #[test]
    fn a_no_track_attribute_leaves_the_link_alone() {
        let html = r#"<a data-pm-no-track href="https://keep.example/">k</a><a href="https://track.example/">t</a>"#;
        let tracked = track(html);
        assert_eq!(tracked.links, ["https://track.example/"]);
        assert!(tracked
            .html
            .starts_with(r#"<a data-pm-no-track href="https://keep.example/">k</a>"#));
    }

    #[test]
    fn the_unsubscribe_url_and_tracked_links_are_not_rewritten() {
        let unsubscribe = unsubscribe_url(&keys(), BASE, email());
        let html = format!(
            r#"<a href="{unsubscribe}">unsubscribe</a><a href="{}">already tracked</a><a href="{BASE}/about">about</a>"#,
            click_url(0)
        );
        let tracked = track(&html);
        assert_eq!(tracked.links, [format!("{BASE}/about")]);
        assert!(tracked.html.contains(&format!(r#"href="{unsubscribe}""#)));
    }

    #[test]
    fn comments_are_skipped() {
        let html = r#"<!-- <a href="https://hidden.example/">h</a> --><a href="https://shown.example/">s</a>"#;
        let tracked = track(html);
        assert_eq!(tracked.links, ["https://shown.example/"]);
        assert!(tracked
            .html
            .starts_with(r#"<!-- <a href="https://hidden.example/">h</a> -->"#));
    }

    #[test]
    fn only_the_first_500_distinct_links_are_tracked() {
        let html: String = (0..=MAX_TRACKED_LINKS)
            .map(|n| format!(r#"<a href="https://l.example/{n}">{n}</a>"#))
            .collect();
        let tracked = track(&html);
        assert_eq!(tracked.links.len(), MAX_TRACKED_LINKS);
        assert_eq!(tracked.links[499], "https://l.example/499");
        assert!(tracked
            .html
            .contains(r#"<a href="https://l.example/500">500</a>"#));
        assert_eq!(tracked_actions(&tracked.html).len(), MAX_TRACKED_LINKS + 1);
    }

    #[test]
    fn a_link_already_tracked_is_rewritten_even_past_the_cap() {
        let mut html: String = (0..MAX_TRACKED_LINKS)
            .map(|n| format!(r#"<a href="https://l.example/{n}"></a>"#))
            .collect();
        html.push_str(r#"<a href="https://l.example/new"></a><a href="https://l.example/7"></a>"#);
        let tracked = track(&html);
        assert_eq!(tracked.links.len(), MAX_TRACKED_LINKS);
        assert!(tracked.html.contains(r#"href="https://l.example/new""#));
        assert!(tracked
            .html
            .ends_with(&format!(r#"<a href="{}"></a>{}"#, click_url(7), pixel())));
    }

    #[test]
    fn the_pixel_goes_before_the_body_end_tag_in_any_case() {
        for end in ["</body>", "</BODY>", "</Body >"] {
            let html = format!("<html><body><p>Hi</p>{end}</html>");
            let tracked = track(&html);
            assert_eq!(
                tracked.html,
                format!("<html><body><p>Hi</p>{}{end}</html>", pixel())
            );
        }
    }

    #[test]
    fn the_pixel_goes_at_the_end_without_a_body_end_tag() {
        let tracked = track("<p>Hi</p>");
        assert_eq!(tracked.html, format!("<p>Hi</p>{}", pixel()));
        assert_eq!(tracked_actions(&tracked.html), [Action::Open]);
    }

    #[test]
    fn the_pixel_markup_is_as_documented() {
        let token = sign(&keys(), email(), Action::Open);
        assert_eq!(
            pixel(),
            format!(
                r#"<img src="{BASE}/t/o/{token}" width="1" height="1" alt="" style="display:none">"#
            )
        );
    }

    #[test]
    fn a_document_without_links_changes_only_by_the_pixel() {
        let html = "<!DOCTYPE html>\r\n<html lang=\"fr\"><head><style>a{color:red}</style></head>\n<BODY>\n  <p class='x'>Café &amp; crème — ünïcödé, 1 < 2 > 0</p>\n  <img src=\"https://img.example/logo.png\" alt=logo>\n</BODY>\n</html>\n";
        let tracked = track(html);
        let at = html.find("</BODY>").unwrap();
        let mut expected = html.to_owned();
        expected.insert_str(at, &pixel());
        assert_eq!(tracked.html, expected);
        assert!(tracked.links.is_empty());
    }

    #[test]
    fn a_trailing_slash_on_the_base_url_is_ignored() {
        let with_slash = track_html(
            &keys(),
            &format!("{BASE}/"),
            email(),
            "<a href='https://x.example/'></a>",
        );
        assert_eq!(with_slash, track("<a href='https://x.example/'></a>"));
        assert_eq!(
            unsubscribe_url(&keys(), &format!("{BASE}/"), email()),
            unsubscribe_url(&keys(), BASE, email())
        );
    }

    #[test]
    fn the_unsubscribe_url_carries_an_unsubscribe_token() {
        let url = unsubscribe_url(&keys(), BASE, email());
        let token = url.strip_prefix(&format!("{BASE}/u/")).expect("under /u/");
        assert_eq!(verify(&keys(), token), Ok((email(), Action::Unsubscribe)));
    }

    #[test]
    fn unusual_base_url_characters_are_escaped_in_attributes() {
        let tracked = track_html(
            &keys(),
            "https://t.example/a'b&c",
            email(),
            "<a href='https://x.example/'></a>",
        );
        assert!(tracked
            .html
            .starts_with("<a href='https://t.example/a&#39;b&amp;c/t/c/"));
    }
}
