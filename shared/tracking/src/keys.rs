//! The secrets that sign tracking tokens.

use std::fmt;

/// Secret keys for tracking tokens; the first signs, all verify (rotation).
///
/// Rotation: make a new key current and keep the old one in `previous` for as long as
/// tokens signed with it should keep working. Tracking tokens never expire (see
/// [`crate::token`]), so dropping a previous key breaks every link in every email that
/// was sent while it was current.
#[derive(Clone)]
pub struct TrackingKeys {
    /// `keys[0]` is the current (signing) key, the rest are previous keys.
    keys: Vec<Vec<u8>>,
}

impl TrackingKeys {
    /// Shortest accepted secret: HMAC-SHA256 is only as strong as its key, and the
    /// platform's other secrets follow the same 32-byte rule.
    pub const MIN_KEY_LEN: usize = 32;

    /// # Panics
    ///
    /// If any key is shorter than [`Self::MIN_KEY_LEN`] bytes. Keys come from the secrets
    /// store at cold start, so a short one is a deployment error that must stop the
    /// function rather than let it sign guessable tokens.
    pub fn new(current: Vec<u8>, previous: Vec<Vec<u8>>) -> Self {
        let keys: Vec<Vec<u8>> = std::iter::once(current).chain(previous).collect();
        for (position, key) in keys.iter().enumerate() {
            assert!(
                key.len() >= Self::MIN_KEY_LEN,
                "tracking key #{position} is {} bytes; at least {} are required",
                key.len(),
                Self::MIN_KEY_LEN
            );
        }
        Self { keys }
    }

    /// The key new tokens are signed with.
    pub(crate) fn signing(&self) -> &[u8] {
        &self.keys[0]
    }

    /// Every key a token may have been signed with, current first (the likeliest match).
    pub(crate) fn verifying(&self) -> impl Iterator<Item = &[u8]> {
        self.keys.iter().map(Vec::as_slice)
    }
}

/// Shows how many keys there are, never their bytes: this type ends up in logged
/// configuration structs and panic messages.
impl fmt::Debug for TrackingKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackingKeys")
            .field("previous_keys", &(self.keys.len() - 1))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_does_not_contain_key_bytes() {
        let keys = TrackingKeys::new(vec![0xAB; 32], vec![vec![0xCD; 32]]);
        let shown = format!("{keys:?}");
        assert_eq!(shown, "TrackingKeys { previous_keys: 1, .. }");
    }

    #[test]
    fn current_key_signs_and_all_keys_verify() {
        let keys = TrackingKeys::new(vec![1; 32], vec![vec![2; 40], vec![3; 32]]);
        assert_eq!(keys.signing(), &[1; 32]);
        let verifying: Vec<&[u8]> = keys.verifying().collect();
        assert_eq!(verifying, [&[1u8; 32][..], &[2; 40], &[3; 32]]);
    }

    #[test]
    #[should_panic(expected = "tracking key #0 is 31 bytes")]
    fn short_current_key_is_refused() {
        TrackingKeys::new(vec![1; 31], Vec::new());
    }

    #[test]
    #[should_panic(expected = "tracking key #2 is 0 bytes")]
    fn short_previous_key_is_refused() {
        TrackingKeys::new(vec![1; 32], vec![vec![2; 32], Vec::new()]);
    }
}
