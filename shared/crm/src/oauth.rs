//! The OAuth 2.0 authorization-code flow's two secrets of our own: the `state` that ties
//! a callback to the session that started it, and the PKCE pair (RFC 7636, S256) for
//! providers that take one. Both come from the OS CSPRNG; the flow keeps them server side
//! (with the session's tenant and user) until the callback, and uses each once.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use pm_config::Redacted;
use sha2::{Digest, Sha256};

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random number generator works");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh `state` value: 256 random bits, URL-safe.
pub fn new_state() -> String {
    random_token()
}

/// A PKCE verifier (43 characters, RFC 7636's minimum length and alphabet) and its S256
/// challenge.
pub struct Pkce {
    pub verifier: Redacted<String>,
    pub challenge: String,
}

impl Pkce {
    pub fn generate() -> Self {
        let verifier = random_token();
        Self {
            challenge: challenge_of(&verifier),
            verifier: Redacted::new(verifier),
        }
    }
}

/// `BASE64URL(SHA256(verifier))`, RFC 7636 section 4.2.
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn states_and_verifiers_are_fresh_url_safe_and_long_enough() {
        let (a, b) = (new_state(), new_state());
        assert_ne!(a, b);
        let pkce = Pkce::generate();
        let verifier = pkce.verifier.expose();
        assert_eq!(verifier.len(), 43);
        assert!(verifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(pkce.challenge, challenge_of(verifier));
        assert_eq!(format!("{:?}", pkce.verifier), "[redacted]");
    }
}
