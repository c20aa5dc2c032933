//! Telling automated tracking hits from people.
//!
//! Link scanners (corporate security gateways) fetch every URL in an incoming email and
//! privacy proxies load every image on delivery, so their hits say nothing about the
//! recipient. The caller still records them, flagged with the reason, rather than
//! dropping them: they prove delivery and help tune these rules.

/// User-agent substrings (matched case-insensitively) and the reason they indicate.
///
/// Deliberately absent:
/// - `microsoft office` / `microsoft outlook`: Outlook for Windows loads images with
///   such a user agent when a person opens the email, so it is a real open.
/// - Microsoft Defender Safe Links and other scanners that present an ordinary browser
///   user agent: they cannot be recognised here; `too_soon_after_send` catches some.
const USER_AGENT_RULES: &[(&str, &str)] = &[
    // Gmail fetches images through its proxy, hiding the reader's address and client.
    ("googleimageproxy", PRIVACY_PROXY),
    // Yahoo Mail's equivalent image proxy.
    ("yahoomailproxy", PRIVACY_PROXY),
    // Barracuda Email Security Gateway's link protection follows every link.
    ("barracuda", SCANNER),
    // Proofpoint URL Defense rewrites and pre-fetches links.
    ("proofpoint", SCANNER),
    // Mimecast URL Protect scans links on delivery and on click.
    ("mimecast", SCANNER),
    // Office's "compatible; ms-office" probe checks a link before handing it to the
    // browser; the browser's own request follows and is the human click.
    ("ms-office", SCANNER),
    // Scripts and HTTP libraries: scanners and test harnesses, not mail readers.
    ("python-requests", SCANNER),
    ("python-urllib", SCANNER),
    ("curl/", SCANNER),
    ("wget/", SCANNER),
    ("go-http-client", SCANNER),
    ("java/", SCANNER),
    ("libwww-perl", SCANNER),
    // Headless browsers are how sandboxing scanners render pages.
    ("headlesschrome", SCANNER),
    ("phantomjs", SCANNER),
    // Crawlers and link unfurlers (Googlebot, bingbot, Slackbot, Twitterbot, …).
    ("bot", SCANNER),
    ("spider", SCANNER),
    ("crawler", SCANNER),
    // Facebook's link-preview fetcher does not call itself a bot.
    ("facebookexternalhit", SCANNER),
    // Link-preview generators ("SkypeUriPreview", "Outlook-iOS preview", …).
    ("preview", SCANNER),
];

/// Words that contain a generic rule's needle but name real people's devices; they are
/// removed before matching so that, for example, a Cubot Android phone is not a "bot".
const HUMAN_LOOKALIKES: &[&str] = &["cubot"];

const PRIVACY_PROXY: &str = "privacy_proxy";
const SCANNER: &str = "scanner_user_agent";

/// A hit this soon after sending is faster than any person: gateways scan on delivery.
const TOO_SOON_SECONDS: i64 = 2;

/// Why a tracking hit looks automated, if it does: link scanners and mail-privacy proxies
/// open and click everything.
///
/// Checked in order, the first match wins:
/// 1. `"head_request"`: the method is `HEAD`; browsers and image loaders use `GET`, link
///    checkers use `HEAD` to avoid downloading the page.
/// 2. `"no_user_agent"`: no (or a blank) `User-Agent`; every mail client and browser
///    sends one.
/// 3. `"privacy_proxy"`: Apple Mail Privacy Protection (whose proxy sends exactly
///    `Mozilla/5.0`) or a webmail image proxy ([`USER_AGENT_RULES`]). These load the
///    open pixel on delivery whether or not anyone reads the email. Such proxies fetch
///    only images, so the rule is the same for clicks.
/// 4. `"scanner_user_agent"`: a known security scanner, HTTP library, headless browser,
///    crawler or link previewer ([`USER_AGENT_RULES`]).
/// 5. `"too_soon_after_send"`: the hit came less than 2 seconds after the email was sent
///    (or, through clock skew, before).
///
/// `method` is the HTTP method as sent (`http::Method::as_str`).
pub fn automated_reason(
    user_agent: Option<&str>,
    method: &str,
    seconds_since_sent: Option<i64>,
) -> Option<&'static str> {
    if method.eq_ignore_ascii_case("HEAD") {
        return Some("head_request");
    }
    let user_agent = user_agent.map(str::trim).unwrap_or_default();
    if user_agent.is_empty() {
        return Some("no_user_agent");
    }
    if user_agent == "Mozilla/5.0" {
        return Some(PRIVACY_PROXY);
    }
    if let Some(reason) = user_agent_reason(user_agent) {
        return Some(reason);
    }
    if seconds_since_sent.is_some_and(|seconds| seconds < TOO_SOON_SECONDS) {
        return Some("too_soon_after_send");
    }
    None
}

fn user_agent_reason(user_agent: &str) -> Option<&'static str> {
    let mut normalized = user_agent.to_ascii_lowercase();
    for lookalike in HUMAN_LOOKALIKES {
        normalized = normalized.replace(lookalike, " ");
    }
    USER_AGENT_RULES
        .iter()
        .find(|(needle, _)| normalized.contains(needle))
        .map(|(_, reason)| *reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    const IPHONE_MAIL: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";
    const OUTLOOK_DESKTOP: &str =
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)";
    const CUBOT_PHONE: &str = "Mozilla/5.0 (Linux; Android 12; CUBOT KINGKONG 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";

    /// User agent, method, seconds since sent, expected reason.
    type Case = (
        Option<&'static str>,
        &'static str,
        Option<i64>,
        Option<&'static str>,
    );

    #[test]
    fn heuristics_table() {
        let cases: &[Case] = &[
            // People.
            (Some(CHROME), "GET", Some(3600), None),
            (Some(CHROME), "GET", None, None),
            (Some(CHROME), "GET", Some(2), None),
            (Some(IPHONE_MAIL), "GET", Some(86_400 * 365 * 3), None),
            (Some(OUTLOOK_DESKTOP), "GET", Some(60), None),
            (Some(CUBOT_PHONE), "GET", Some(60), None),
            (Some(CHROME), "POST", Some(60), None),
            // Method.
            (Some(CHROME), "HEAD", Some(3600), Some("head_request")),
            (Some(CHROME), "head", Some(3600), Some("head_request")),
            (None, "HEAD", Some(0), Some("head_request")),
            // Missing user agent.
            (None, "GET", Some(3600), Some("no_user_agent")),
            (Some(""), "GET", Some(3600), Some("no_user_agent")),
            (Some("   "), "GET", None, Some("no_user_agent")),
            // Privacy proxies.
            (Some("Mozilla/5.0"), "GET", Some(5), Some("privacy_proxy")),
            (
                Some("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"),
                "GET",
                Some(3600),
                Some("privacy_proxy"),
            ),
            (Some("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"), "GET", Some(60), Some("privacy_proxy")),
            // Scanners, crawlers, libraries, previewers.
            (Some("Barracuda Sentinel (EE)"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Proofpoint URL Defense"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Mimecast-URL-Protect/1.0"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Mozilla/4.0 (compatible; ms-office; MSOffice 16)"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("python-requests/2.31.0"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Python-urllib/3.11"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("curl/8.5.0"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Wget/1.21.4"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Go-http-client/2.0"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Java/17.0.2"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Mozilla/5.0 (compatible; Baiduspider/2.0)"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Some-Crawler/1.0"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("facebookexternalhit/1.1"), "GET", Some(60), Some("scanner_user_agent")),
            (Some("Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5"), "GET", Some(60), Some("scanner_user_agent")),
            // A Cubot phone running a crawler is still a crawler.
            (Some("Mozilla/5.0 (Linux; Android 12; CUBOT X) Googlebot/2.1"), "GET", Some(60), Some("scanner_user_agent")),
            // Timing.
            (Some(CHROME), "GET", Some(0), Some("too_soon_after_send")),
            (Some(CHROME), "GET", Some(1), Some("too_soon_after_send")),
            (Some(CHROME), "GET", Some(-30), Some("too_soon_after_send")),
            // User-agent reasons take precedence over timing.
            (Some("curl/8.5.0"), "GET", Some(0), Some("scanner_user_agent")),
        ];
        for (user_agent, method, seconds, expected) in cases {
            assert_eq!(
                automated_reason(*user_agent, method, *seconds),
                *expected,
                "{user_agent:?} {method} {seconds:?}"
            );
        }
    }

    #[test]
    fn every_rule_matches_its_needle_in_any_case() {
        for (needle, reason) in USER_AGENT_RULES {
            let user_agent = format!("Mozilla/5.0 X{}Y", needle.to_ascii_uppercase());
            assert_eq!(
                automated_reason(Some(&user_agent), "GET", Some(60)),
                Some(*reason),
                "{needle}"
            );
        }
    }
}
