//! A receiver's check of a Standard Webhooks signature, written from the spec and not
//! from [`crate::signature`], so the two can catch each other's mistakes. Tests and local
//! test receivers use it; the platform itself only signs.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How far the `webhook-timestamp` may be from the receiver's clock, either way (the
/// reference libraries' five minutes): beyond it a captured request cannot be replayed.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Why a delivery was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the secret is not `whsec_` followed by base64")]
    Secret,
    #[error("the timestamp is not an integer number of seconds")]
    Timestamp,
    #[error("the timestamp is more than five minutes old")]
    TooOld,
    #[error("the timestamp is more than five minutes in the future")]
    TooNew,
    #[error("no signature matches")]
    NoMatch,
}

/// Checks the three header values and the raw body at `now` (Unix seconds).
///
/// Accepts when any `v1` entry of the space-separated `signatures` matches; other
/// versions (`v1a`, asymmetric) are skipped, as the spec asks.
pub fn verify(
    secret: &str,
    msg_id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    // Like the reference libraries, accept the key with or without its prefix.
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| VerifyError::Secret)?;
    let sent_at: i64 = timestamp.parse().map_err(|_| VerifyError::Timestamp)?;
    if now - sent_at > TOLERANCE_SECS {
        return Err(VerifyError::TooOld);
    }
    if sent_at - now > TOLERANCE_SECS {
        return Err(VerifyError::TooNew);
    }

    let mut signed = Vec::with_capacity(msg_id.len() + timestamp.len() + body.len() + 2);
    signed.extend_from_slice(msg_id.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(body);

    let matched = signatures
        .split(' ')
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, encoded)| STANDARD.decode(encoded).ok())
        .any(|candidate| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
            mac.update(&signed);
            // Constant-time: a comparison that stops at the first differing byte would let
            // a caller recover a valid signature byte by byte from response timings.
            mac.verify_slice(&candidate).is_ok()
        });
    if matched {
        Ok(())
    } else {
        Err(VerifyError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: &str = "1614265330";
    const NOW: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_published_vector_verifies() {
        assert_eq!(verify(SECRET, ID, TS, SIG, BODY, NOW), Ok(()));
    }

    #[test]
    fn a_bare_key_without_the_prefix_is_accepted_like_the_reference_libraries_do() {
        assert_eq!(verify(&SECRET[6..], ID, TS, SIG, BODY, NOW), Ok(()));
    }

    #[test]
    fn a_changed_body_id_or_timestamp_does_not_verify() {
        let body = br#"{"test": 2432232315}"#;
        assert_eq!(
            verify(SECRET, ID, TS, SIG, body, NOW),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(SECRET, "msg_other", TS, SIG, BODY, NOW),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(SECRET, ID, "1614265331", SIG, BODY, NOW),
            Err(VerifyError::NoMatch)
        );
    }

    #[test]
    fn timestamps_up_to_five_minutes_away_are_accepted_and_beyond_refused() {
        assert_eq!(verify(SECRET, ID, TS, SIG, BODY, NOW + 300), Ok(()));
        assert_eq!(verify(SECRET, ID, TS, SIG, BODY, NOW - 300), Ok(()));
        assert_eq!(
            verify(SECRET, ID, TS, SIG, BODY, NOW + 301),
            Err(VerifyError::TooOld)
        );
        assert_eq!(
            verify(SECRET, ID, TS, SIG, BODY, NOW - 301),
            Err(VerifyError::TooNew)
        );
    }

    #[test]
    fn any_matching_v1_entry_in_the_list_is_enough() {
        let header = format!("v1,bm90IGl0 v1a,c29tZXRoaW5nIGVsc2U= {SIG}");
        assert_eq!(verify(SECRET, ID, TS, &header, BODY, NOW), Ok(()));
    }

    #[test]
    fn a_right_signature_under_another_version_tag_is_refused() {
        let header = SIG.replacen("v1,", "v2,", 1);
        assert_eq!(
            verify(SECRET, ID, TS, &header, BODY, NOW),
            Err(VerifyError::NoMatch)
        );
    }

    #[test]
    fn truncated_or_empty_signatures_are_refused() {
        for header in [
            "v1,",
            "v1,g0hM9SsE",
            "",
            "v1",
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ] {
            assert_eq!(
                verify(SECRET, ID, TS, header, BODY, NOW),
                Err(VerifyError::NoMatch),
                "{header:?}"
            );
        }
    }

    #[test]
    fn malformed_secrets_and_timestamps_are_named() {
        assert_eq!(
            verify("whsec_***", ID, TS, SIG, BODY, NOW),
            Err(VerifyError::Secret)
        );
        assert_eq!(
            verify(SECRET, ID, "soon", SIG, BODY, NOW),
            Err(VerifyError::Timestamp)
        );
    }
}
