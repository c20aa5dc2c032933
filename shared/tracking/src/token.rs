//! Signed tracking tokens.
//!
//! A token is the URL-safe base64 (no padding) of 36 bytes:
//!
//! | bytes  | content                                                   |
//! |--------|-----------------------------------------------------------|
//! | 0      | format version ([`VERSION`])                              |
//! | 1      | action: 1 open, 2 click, 3 unsubscribe                    |
//! | 2..4   | link index, big-endian (0 unless the action is a click)   |
//! | 4..20  | email id (UUID bytes)                                     |
//! | 20..36 | HMAC-SHA256 over [`DOMAIN`] ‖ bytes 0..20, first 16 bytes |
//!
//! That is 48 characters, short enough for URLs that mail clients and scanners do not
//! mangle, and a multiple of 3 bytes, so every character carries payload bits and no two
//! strings decode to the same token.
//!
//! Tokens never expire: a recipient may open an old email years later and its links must
//! still work. Revocation is key rotation (see [`TrackingKeys`]).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::keys::TrackingKeys;

/// Bumped if the layout ever changes, so old and new tokens can be told apart.
const VERSION: u8 = 1;
/// Prefixed to the MAC input so that a tracking key accidentally shared with another
/// HMAC use (webhook signing, say) cannot turn one system's signatures into the other's.
const DOMAIN: &[u8] = b"penguinmails/tracking-token/v1\0";
const PAYLOAD_LEN: usize = 20;
/// 128 bits: forging a token means guessing this online, one HTTP request per guess.
const TAG_LEN: usize = 16;
const TOKEN_LEN: usize = PAYLOAD_LEN + TAG_LEN;
/// Tokens arrive in URL paths anyone can send; refuse absurd input before decoding it.
const MAX_ENCODED_LEN: usize = 128;

const ACTION_OPEN: u8 = 1;
const ACTION_CLICK: u8 = 2;
const ACTION_UNSUBSCRIBE: u8 = 3;

/// What a tracking URL records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Open,
    /// `link` indexes [`crate::Tracked::links`] of the email's tracked HTML.
    Click {
        link: u16,
    },
    Unsubscribe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token this code could have produced: wrong length, not base64, unknown
    /// version or action.
    #[error("the tracking token is malformed")]
    Malformed,
    /// Well formed, but no current or previous key signed it.
    #[error("the tracking token's signature does not match")]
    BadSignature,
}

/// A token for `action` on `email_id`, signed with the current key.
pub fn sign(keys: &TrackingKeys, email_id: Uuid, action: Action) -> String {
    let payload = encode_payload(email_id, action);
    sign_payload(keys.signing(), &payload)
}

/// The email and action a token names, if one of `keys` signed it.
pub fn verify(keys: &TrackingKeys, token: &str) -> Result<(Uuid, Action), TokenError> {
    if token.len() > MAX_ENCODED_LEN {
        return Err(TokenError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| TokenError::Malformed)?;
    if bytes.len() != TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let (payload, tag) = bytes.split_at(PAYLOAD_LEN);
    if payload[0] != VERSION {
        return Err(TokenError::Malformed);
    }
    // `verify_truncated_left` compares in constant time: an early exit at the first
    // differing byte would let a caller find a valid tag byte by byte from timings.
    let signed = keys
        .verifying()
        .any(|key| mac(key, payload).verify_truncated_left(tag).is_ok());
    if !signed {
        return Err(TokenError::BadSignature);
    }
    // Only authenticated bytes are interpreted beyond the version.
    decode_payload(payload)
}

fn encode_payload(email_id: Uuid, action: Action) -> [u8; PAYLOAD_LEN] {
    let (action_byte, link) = match action {
        Action::Open => (ACTION_OPEN, 0),
        Action::Click { link } => (ACTION_CLICK, link),
        Action::Unsubscribe => (ACTION_UNSUBSCRIBE, 0),
    };
    let mut payload = [0; PAYLOAD_LEN];
    payload[0] = VERSION;
    payload[1] = action_byte;
    payload[2..4].copy_from_slice(&link.to_be_bytes());
    payload[4..].copy_from_slice(email_id.as_bytes());
    payload
}

fn decode_payload(payload: &[u8]) -> Result<(Uuid, Action), TokenError> {
    let link = u16::from_be_bytes([payload[2], payload[3]]);
    let action = match (payload[1], link) {
        (ACTION_OPEN, 0) => Action::Open,
        (ACTION_CLICK, link) => Action::Click { link },
        (ACTION_UNSUBSCRIBE, 0) => Action::Unsubscribe,
        _ => return Err(TokenError::Malformed),
    };
    let email_id = Uuid::from_slice(&payload[4..]).map_err(|_| TokenError::Malformed)?;
    Ok((email_id, action))
}

fn sign_payload(key: &[u8], payload: &[u8]) -> String {
    let tag = mac(key, payload).finalize().into_bytes();
    let mut token = [0; TOKEN_LEN];
    token[..PAYLOAD_LEN].copy_from_slice(payload);
    token[PAYLOAD_LEN..].copy_from_slice(&tag[..TAG_LEN]);
    URL_SAFE_NO_PAD.encode(token)
}

fn mac(key: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key)
        .expect("HMAC takes any key length")
        .chain_update(DOMAIN)
        .chain_update(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIONS: [Action; 5] = [
        Action::Open,
        Action::Click { link: 0 },
        Action::Click { link: 7 },
        Action::Click { link: u16::MAX },
        Action::Unsubscribe,
    ];

    fn keys() -> TrackingKeys {
        TrackingKeys::new(vec![0x11; 32], Vec::new())
    }

    fn email() -> Uuid {
        Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef)
    }

    #[test]
    fn every_action_round_trips() {
        for action in ACTIONS {
            let token = sign(&keys(), email(), action);
            assert_eq!(verify(&keys(), &token), Ok((email(), action)), "{action:?}");
        }
    }

    #[test]
    fn tokens_are_short_url_safe_and_distinct() {
        let tokens: Vec<String> = ACTIONS
            .iter()
            .map(|action| sign(&keys(), email(), *action))
            .chain([sign(&keys(), Uuid::nil(), Action::Open)])
            .collect();
        for token in &tokens {
            assert_eq!(token.len(), 48);
            assert!(token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
        let mut unique = tokens.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), tokens.len());
    }

    #[test]
    fn changing_any_decoded_byte_fails() {
        for action in ACTIONS {
            let bytes = URL_SAFE_NO_PAD
                .decode(sign(&keys(), email(), action))
                .unwrap();
            for position in 0..bytes.len() {
                for flip in [0x01, 0x80, 0xFF] {
                    let mut tampered = bytes.clone();
                    tampered[position] ^= flip;
                    let token = URL_SAFE_NO_PAD.encode(&tampered);
                    assert!(
                        verify(&keys(), &token).is_err(),
                        "byte {position} ^ {flip:#x} of {action:?} verified"
                    );
                }
            }
        }
    }

    #[test]
    fn changing_any_character_fails() {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let token = sign(&keys(), email(), Action::Click { link: 3 });
        for position in 0..token.len() {
            for &replacement in ALPHABET {
                if token.as_bytes()[position] == replacement {
                    continue;
                }
                let mut tampered = token.clone().into_bytes();
                tampered[position] = replacement;
                let tampered = String::from_utf8(tampered).unwrap();
                assert!(verify(&keys(), &tampered).is_err(), "{tampered} verified");
            }
        }
    }

    #[test]
    fn a_wrong_key_is_a_bad_signature() {
        let token = sign(&keys(), email(), Action::Open);
        let other = TrackingKeys::new(vec![0x22; 32], vec![vec![0x33; 32]]);
        assert_eq!(verify(&other, &token), Err(TokenError::BadSignature));
    }

    #[test]
    fn tokens_of_previous_keys_verify_after_rotation() {
        let old = TrackingKeys::new(vec![0x11; 32], Vec::new());
        let token = sign(&old, email(), Action::Click { link: 2 });

        let rotated = TrackingKeys::new(vec![0x22; 32], vec![vec![0x11; 32]]);
        assert_eq!(
            verify(&rotated, &token),
            Ok((email(), Action::Click { link: 2 }))
        );
        // New tokens come from the new key: the old key alone no longer verifies them.
        let fresh = sign(&rotated, email(), Action::Open);
        assert_eq!(verify(&old, &fresh), Err(TokenError::BadSignature));

        let retired = TrackingKeys::new(vec![0x22; 32], Vec::new());
        assert_eq!(verify(&retired, &token), Err(TokenError::BadSignature));
    }

    #[test]
    fn malformed_inputs_are_refused() {
        let valid = sign(&keys(), email(), Action::Open);
        let cases = [
            String::new(),
            "not base64!".to_owned(),
            format!("{valid}="),
            valid[..47].to_owned(),
            valid[..44].to_owned(),
            format!("{valid}AAAA"),
            "A".repeat(129),
            // Standard-alphabet characters are not URL-safe base64.
            format!("+{}", &valid[1..]),
            format!("/{}", &valid[1..]),
        ];
        for case in cases {
            assert_eq!(
                verify(&keys(), &case),
                Err(TokenError::Malformed),
                "{case:?}"
            );
        }
    }

    #[test]
    fn an_unknown_version_is_malformed_even_when_signed() {
        let mut payload = encode_payload(email(), Action::Open);
        payload[0] = 2;
        let token = sign_payload(keys().signing(), &payload);
        assert_eq!(verify(&keys(), &token), Err(TokenError::Malformed));
    }

    #[test]
    fn unknown_actions_and_stray_link_indexes_are_malformed_even_when_signed() {
        let mut unknown_action = encode_payload(email(), Action::Open);
        unknown_action[1] = 9;
        let mut open_with_link = encode_payload(email(), Action::Open);
        open_with_link[3] = 1;
        let mut unsubscribe_with_link = encode_payload(email(), Action::Unsubscribe);
        unsubscribe_with_link[2] = 1;
        for payload in [unknown_action, open_with_link, unsubscribe_with_link] {
            let token = sign_payload(keys().signing(), &payload);
            assert_eq!(verify(&keys(), &token), Err(TokenError::Malformed));
        }
    }

    #[test]
    fn the_signature_is_domain_separated() {
        // A plain HMAC of the payload, as another system sharing the key might compute,
        // must not be accepted.
        let payload = encode_payload(email(), Action::Open);
        let tag = Hmac::<Sha256>::new_from_slice(keys().signing())
            .unwrap()
            .chain_update(payload)
            .finalize()
            .into_bytes();
        let mut token = payload.to_vec();
        token.extend_from_slice(&tag[..TAG_LEN]);
        let token = URL_SAFE_NO_PAD.encode(token);
        assert_eq!(verify(&keys(), &token), Err(TokenError::BadSignature));
    }
}
