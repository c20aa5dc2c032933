//! API key material: generation, shape, display form, lookup hash.

use hmac::{Hmac, KeyInit, Mac};
use pm_config::Redacted;
use sha2::Sha256;

pub const PREFIX: &str = "pm_live_";
const SECRET_LEN: usize = 32;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// bcrypt cost (roadmap: 12).
pub const BCRYPT_COST: u32 = 12;

/// A new key: `pm_live_` + 32 base62 characters from the OS CSPRNG (≈190 bits).
pub fn generate() -> Redacted<String> {
    let mut out = String::with_capacity(PREFIX.len() + SECRET_LEN);
    out.push_str(PREFIX);
    let mut buffer = [0u8; 64];
    while out.len() < PREFIX.len() + SECRET_LEN {
        getrandom::fill(&mut buffer).expect("the OS random number generator works");
        // Rejection sampling: 248 = 4 × 62, so bytes below it map to base62 uniformly.
        for byte in buffer {
            if byte < 248 && out.len() < PREFIX.len() + SECRET_LEN {
                out.push(BASE62[(byte % 62) as usize] as char);
            }
        }
    }
    Redacted::new(out)
}

/// Whether `candidate` has the shape of a key; anything else is rejected before any
/// lookup, so malformed input costs nothing.
pub fn is_well_formed(candidate: &str) -> bool {
    candidate.strip_prefix(PREFIX).is_some_and(|rest| {
        rest.len() == SECRET_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The masked form shown in lists: `pm_live_` + first 4 + `…` + last 4.
pub fn display_form(key: &str) -> String {
    let secret = &key[PREFIX.len()..];
    format!("{PREFIX}{}…{}", &secret[..4], &secret[secret.len() - 4..])
}

/// The server-side secret mixed into lookup hashes, so a leaked database alone does not
/// let anyone test guessed keys.
#[derive(Clone)]
pub struct Pepper(Redacted<Vec<u8>>);

impl Pepper {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Redacted::new(bytes))
    }

    /// HMAC-SHA256(pepper, key): the indexed column keys are found by.
    pub fn lookup_hash(&self, key: &str) -> Vec<u8> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.0.expose()).expect("HMAC takes any key length");
        mac.update(key.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper([redacted])")
    }
}

/// bcrypt (cost 12) of the key. Slow on purpose: call it off the async threads.
pub fn bcrypt_hash(key: &str) -> Result<String, bcrypt::BcryptError> {
    bcrypt::hash(key, BCRYPT_COST)
}

pub fn bcrypt_verify(key: &str, hash: &str) -> bool {
    bcrypt::verify(key, hash).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn generated_keys_have_the_documented_shape_and_differ() {
        let keys: HashSet<String> = (0..200).map(|_| generate().expose().clone()).collect();
        assert_eq!(keys.len(), 200);
        for key in &keys {
            assert!(is_well_formed(key), "{key}");
            assert_eq!(key.len(), 40);
        }
    }

    #[test]
    fn every_base62_character_occurs() {
        let mut seen = HashSet::new();
        for _ in 0..100 {
            seen.extend(generate().expose()[PREFIX.len()..].chars());
        }
        assert_eq!(seen.len(), 62, "a skewed alphabet would weaken keys");
    }

    #[test]
    fn malformed_keys_are_recognised() {
        for bad in [
            "",
            "pm_live_",
            "pm_test_0123456789abcdefghijklmnopqrstuv",
            "pm_live_0123456789abcdefghijklmnopqrstu",
            "pm_live_0123456789abcdefghijklmnopqrstuvw",
            "pm_live_0123456789abcdefghijklmnopqrstu-",
        ] {
            assert!(!is_well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn display_masks_the_middle() {
        assert_eq!(
            display_form("pm_live_abcd0123456789012345678901234wxyz"),
            "pm_live_abcd…wxyz"
        );
    }

    #[test]
    fn lookup_hash_depends_on_the_pepper() {
        let a = Pepper::new(vec![1; 32]);
        let b = Pepper::new(vec![2; 32]);
        let key = "pm_live_0123456789abcdefghijklmnopqrstuv";
        assert_eq!(a.lookup_hash(key), a.lookup_hash(key));
        assert_ne!(a.lookup_hash(key), b.lookup_hash(key));
        assert!(!format!("{a:?}").contains('1'));
    }
}
