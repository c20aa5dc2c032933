//! Signing deliveries the Standard Webhooks way (<https://www.standardwebhooks.com>), so
//! receivers can verify them with the existing libraries in any language.
//!
//! The signed content is `msg_id.timestamp.body`; the signature is
//! `v1,<base64 HMAC-SHA256>`; the secret is shown to customers as `whsec_<base64>`.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The message id; the same on every attempt, so receivers can use it as an idempotency key.
pub const HEADER_ID: &str = "webhook-id";
/// Unix seconds of this attempt (not of the event), so receivers can refuse replays.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Space-separated `v1,<base64>` signatures, one per active secret.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

const PREFIX: &str = "whsec_";
/// The spec allows 24 to 64 bytes of key. New secrets take 32, the SHA-256 block's half.
const GENERATED_LEN: usize = 32;
const MIN_LEN: usize = 24;
const MAX_LEN: usize = 64;

/// An endpoint's HMAC key. It never prints: reading it takes [`SigningSecret::expose`].
#[derive(Clone)]
pub struct SigningSecret {
    key: Vec<u8>,
}

/// Why a `whsec_...` string was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a signing secret starts with `whsec_`")]
    MissingPrefix,
    #[error("a signing secret is `whsec_` followed by standard base64")]
    NotBase64,
    #[error("a signing secret holds between 24 and 64 bytes, not {0}")]
    Length(usize),
}

impl SigningSecret {
    /// A new secret of 32 bytes from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut key = vec![0u8; GENERATED_LEN];
        getrandom::fill(&mut key).expect("the OS random number generator works");
        Self { key }
    }

    /// The `whsec_<base64>` form: shown to the customer and kept in the secret store.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.key))
    }
}

impl FromStr for SigningSecret {
    type Err = SecretError;

    /// Parses the `whsec_<base64>` form. The prefix is required (the reference libraries
    /// also accept a bare key) so a value of the wrong kind is not taken for a secret.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let encoded = text
            .strip_prefix(PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        if !(MIN_LEN..=MAX_LEN).contains(&key.len()) {
            return Err(SecretError::Length(key.len()));
        }
        Ok(Self { key })
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret([redacted])")
    }
}

/// `v1,<base64 HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}")>`.
///
/// `body` must be the exact bytes sent: any re-serialisation breaks the signature.
/// `msg_id` must not contain `.` (the spec's delimiter); ours are generated, never
/// customer input.
pub fn sign(secret: &SigningSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    debug_assert!(!msg_id.contains('.'), "a message id may not contain `.`");
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.key).expect("HMAC takes any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` value: one signature per secret, space-separated.
///
/// During a rotation both the new and the old secret sign, so receivers still holding
/// the old one keep verifying until they switch (the spec's zero-downtime rotation).
pub fn signature_header(
    secrets: &[&SigningSecret],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| sign(secret, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify;

    // The vector shared by the reference libraries' tests (Go `TestWebhookSign`,
    // Java `TestScenario`, C# `WebhookTest`) in github.com/standard-webhooks/standard-webhooks.
    const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const VECTOR_TIMESTAMP: i64 = 1614265330;
    const VECTOR_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const VECTOR_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_published_test_vector_signs_to_the_published_signature() {
        let secret: SigningSecret = VECTOR_SECRET.parse().unwrap();
        assert_eq!(
            sign(&secret, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY),
            VECTOR_SIGNATURE
        );
    }

    #[test]
    fn the_rust_reference_library_vector_signs_to_its_signature() {
        // From libraries/rust/src/lib.rs `test_sign` in the same repository.
        let secret: SigningSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".parse().unwrap();
        assert_eq!(
            sign(
                &secret,
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                br#"{"email":"test@example.com","username":"test_user"}"#,
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn a_signature_verifies_with_the_independent_verifier() {
        let secret = SigningSecret::generate();
        let header = signature_header(&[&secret], "msg_1", 1_700_000_000, b"{}");
        verify::verify(
            &secret.expose(),
            "msg_1",
            "1700000000",
            &header,
            b"{}",
            1_700_000_000,
        )
        .unwrap();
    }

    #[test]
    fn during_rotation_the_header_carries_two_signatures_each_verifiable_alone() {
        let old = SigningSecret::generate();
        let new = SigningSecret::generate();
        let header = signature_header(&[&new, &old], "msg_1", 1_700_000_000, b"{\"a\":1}");

        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_ne!(parts[0], parts[1]);
        for (secret, part) in [(&new, parts[0]), (&old, parts[1])] {
            verify::verify(
                &secret.expose(),
                "msg_1",
                "1700000000",
                part,
                b"{\"a\":1}",
                1_700_000_000,
            )
            .unwrap();
        }
        // A receiver holding either secret accepts the whole header.
        for secret in [&new, &old] {
            verify::verify(
                &secret.expose(),
                "msg_1",
                "1700000000",
                &header,
                b"{\"a\":1}",
                1_700_000_000,
            )
            .unwrap();
        }
    }

    #[test]
    fn a_generated_secret_round_trips_through_its_whsec_form() {
        let secret = SigningSecret::generate();
        let text = secret.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&text[6..]).unwrap().len(), 32);
        let parsed: SigningSecret = text.parse().unwrap();
        assert_eq!(parsed.expose(), text);
        assert_eq!(
            sign(&parsed, "msg_1", 1, b"x"),
            sign(&secret, "msg_1", 1, b"x")
        );
    }

    #[test]
    fn two_generated_secrets_differ() {
        assert_ne!(
            SigningSecret::generate().expose(),
            SigningSecret::generate().expose()
        );
    }

    #[test]
    fn debug_output_does_not_reveal_the_secret() {
        let secret: SigningSecret = VECTOR_SECRET.parse().unwrap();
        let printed = format!("{secret:?} {:?}", Some(&secret));
        assert!(!printed.contains("MfKQ9r8"), "{printed}");
        assert!(printed.contains("redacted"));
    }

    #[test]
    fn malformed_secrets_are_refused_with_the_reason() {
        assert_eq!(
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
                .parse::<SigningSecret>()
                .unwrap_err(),
            SecretError::MissingPrefix
        );
        assert_eq!(
            "whsec_not base64!".parse::<SigningSecret>().unwrap_err(),
            SecretError::NotBase64
        );
        // 16 bytes: below the spec's 24-byte minimum.
        assert_eq!(
            "whsec_AAAAAAAAAAAAAAAAAAAAAA=="
                .parse::<SigningSecret>()
                .unwrap_err(),
            SecretError::Length(16)
        );
    }
}
