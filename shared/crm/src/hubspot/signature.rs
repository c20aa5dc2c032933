//! HubSpot's v3 request signature, as "Validating requests from HubSpot" describes it
//! (developers.hubspot.com, apps/developer-platform/build-apps/authentication/
//! request-validation): `X-HubSpot-Signature-v3` is the base64 HMAC-SHA256, keyed with
//! the app's client secret, of `method + uri + body + timestamp`, where the URI is the
//! full URL with a fixed list of percent-escapes decoded and the timestamp is
//! `X-HubSpot-Request-Timestamp` (milliseconds). A request older than five minutes is
//! refused.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const HEADER_SIGNATURE: &str = "x-hubspot-signature-v3";
pub const HEADER_TIMESTAMP: &str = "x-hubspot-request-timestamp";
/// How old a signed request may be.
pub const MAX_AGE: Duration = Duration::from_secs(5 * 60);

/// The escapes HubSpot decodes before signing (its table), and only those.
const DECODED: [(&str, &str); 12] = [
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp")]
    Missing,
    #[error("X-HubSpot-Request-Timestamp is not a time in milliseconds")]
    BadTimestamp,
    #[error("the request is older than five minutes (or from the future)")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

fn decode_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let listed = rest
            .get(at..at + 3)
            .and_then(|escape| DECODED.iter().find(|(e, _)| e.eq_ignore_ascii_case(escape)));
        match listed {
            Some((_, decoded)) => {
                out.push_str(decoded);
                rest = &rest[at + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn sign(secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(method.as_bytes());
    mac.update(decode_uri(uri).as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    mac
}

/// The header value HubSpot would send (for the fake HubSpot of the tests).
pub fn signature(secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
    STANDARD.encode(
        sign(secret, method, uri, body, timestamp)
            .finalize()
            .into_bytes(),
    )
}

/// Verifies a request; `uri` is the full URL it was sent to (scheme, host, path, query).
pub fn verify(
    secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
        return Err(SignatureError::Missing);
    };
    let millis: i64 = timestamp
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    let sent = DateTime::from_timestamp_millis(millis).ok_or(SignatureError::BadTimestamp)?;
    let age = now.signed_duration_since(sent);
    let max = chrono::Duration::from_std(MAX_AGE).expect("five minutes");
    // A little allowance for clocks ahead of ours, none for replays.
    if age > max || age < -chrono::Duration::seconds(30) {
        return Err(SignatureError::Stale);
    }
    let given = STANDARD
        .decode(signature.trim())
        .map_err(|_| SignatureError::Mismatch)?;
    sign(secret, method, uri, body, timestamp)
        .verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const URI: &str = "https://hooks.example.com/api/v1/integrations/hubspot/webhooks?tenant=a%40b";
    const BODY: &[u8] = br#"[{"eventId":1}]"#;
    const TIMESTAMP: &str = "1764583200000";
    /// Computed apart from this code, with Python's hmac over the decoded URI:
    /// base64(hmac.new(SECRET, "POST" + "https://…/webhooks?tenant=a@b" + BODY +
    /// TIMESTAMP, sha256)).
    const EXPECTED: &str = "ZgiczJ9VWwYrXjKewMR0Y5iam7YlTp0kVd98k/U4Gv4=";

    fn at_millis(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    #[test]
    fn the_signature_matches_one_computed_independently() {
        assert_eq!(signature(SECRET, "POST", URI, BODY, TIMESTAMP), EXPECTED);
        let now = at_millis(1_764_583_260_000);
        assert_eq!(
            verify(
                SECRET,
                "POST",
                URI,
                BODY,
                Some(EXPECTED),
                Some(TIMESTAMP),
                now
            ),
            Ok(())
        );
    }

    #[test]
    fn only_the_listed_escapes_are_decoded() {
        assert_eq!(decode_uri("/a%3Ab%2fc?x=%20y%40z%"), "/a:b/c?x=%20y@z%");
    }

    #[test]
    fn a_changed_body_secret_method_or_uri_is_refused() {
        let now = at_millis(1_764_583_260_000);
        let check = |secret, method, uri, body: &[u8]| {
            verify(
                secret,
                method,
                uri,
                body,
                Some(EXPECTED),
                Some(TIMESTAMP),
                now,
            )
        };
        assert_eq!(
            check(SECRET, "POST", URI, br#"[{"eventId":2}]"#),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check("another", "POST", URI, BODY),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(SECRET, "GET", URI, BODY),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(SECRET, "POST", "https://evil.example.com/", BODY),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                SECRET,
                "POST",
                URI,
                BODY,
                Some("not base64!"),
                Some(TIMESTAMP),
                now
            ),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_stale_or_unsigned_request_is_refused() {
        let sent = 1_764_583_200_000;
        let verify_at = |now_ms| {
            verify(
                SECRET,
                "POST",
                URI,
                BODY,
                Some(EXPECTED),
                Some(TIMESTAMP),
                at_millis(now_ms),
            )
        };
        assert_eq!(verify_at(sent + 300_000), Ok(()));
        assert_eq!(verify_at(sent + 300_001), Err(SignatureError::Stale));
        assert_eq!(verify_at(sent - 60_000), Err(SignatureError::Stale));
        let now = at_millis(sent);
        assert_eq!(
            verify(SECRET, "POST", URI, BODY, None, Some(TIMESTAMP), now),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(SECRET, "POST", URI, BODY, Some(EXPECTED), Some("soon"), now),
            Err(SignatureError::BadTimestamp)
        );
    }
}
