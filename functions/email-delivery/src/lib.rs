//! Email delivery, the worker side: the sender (claim → prepare → the tenant's transport
//! → record and route), the sweep that re-queues lost and lapsed emails, engagement
//! recording (tracking hits and provider reports), and the email model and SQL the API
//! crate (`pm-emails`) shares. Like the webhook workers, it links no HTTP stack.

pub mod config;
pub mod engagement;
pub mod model;
pub mod providers;
pub mod queueing;
pub mod sender;
pub mod store;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use pm_ports::secrets::SecretStore;
use pm_runtime::BoxError;
use pm_tracking::TrackingKeys;

/// Where the tracking-token key lives in the secrets port. The runtime's provisioning
/// (`pm_auth::platform`) creates it; a test keeps the two names equal.
pub const TRACKING_KEY_PATH: &str = "platform/tracking_key";

/// Previous tracking keys kept after rotations: links in emails sent before a rotation
/// keep working through this many more.
pub const KEPT_PREVIOUS_TRACKING_KEYS: usize = 2;

fn decode_key(encoded: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(encoded.trim())
        .ok()
        .filter(|k| k.len() >= TrackingKeys::MIN_KEY_LEN)
}

/// The tracking-token keys, read at cold start: field `value` (base64 of at least 32
/// bytes) signs; field `previous` (comma-separated, newest first) still verifies. A
/// missing or short key stops the function rather than sign weak tokens.
pub async fn tracking_keys(secrets: &dyn SecretStore) -> Result<TrackingKeys, BoxError> {
    let data = secrets.get(TRACKING_KEY_PATH).await?.ok_or_else(|| {
        format!(
            "secret {TRACKING_KEY_PATH} is missing; create it with `pm-local provision-secrets`"
        )
    })?;
    let malformed =
        || format!("secret {TRACKING_KEY_PATH} is malformed (base64 of 32 bytes or more)");
    let current = data
        .get("value")
        .and_then(decode_key)
        .ok_or_else(malformed)?;
    let previous = data
        .get("previous")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split(',')
                .map(|k| decode_key(k).ok_or_else(malformed))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(TrackingKeys::new(current, previous))
}

/// Makes a new signing key and keeps the current one (and the one before it)
/// verifying: run it when the key may have leaked. Functions pick the new key up at
/// their next cold start; links signed with a key two rotations old stop working.
pub async fn rotate_tracking_key(secrets: &dyn SecretStore) -> Result<(), BoxError> {
    let data = secrets.get(TRACKING_KEY_PATH).await?.unwrap_or_default();
    let mut previous: Vec<String> = data
        .get("value")
        .map(|v| vec![v.to_string()])
        .unwrap_or_default();
    previous.extend(
        data.get("previous")
            .unwrap_or_default()
            .split(',')
            .filter(|k| !k.trim().is_empty())
            .map(str::to_string),
    );
    previous.truncate(KEPT_PREVIOUS_TRACKING_KEYS);
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| format!("the OS random number generator failed: {e}"))?;
    let new = pm_ports::secrets::SecretData::new()
        .with("value", STANDARD.encode(key))
        .with("previous", previous.join(","));
    secrets.put(TRACKING_KEY_PATH, &new).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_ports::secrets::MemorySecretStore;
    use pm_tracking::Action;
    use uuid::Uuid;

    #[tokio::test]
    async fn links_survive_two_rotations_and_not_a_third() {
        let store = MemorySecretStore::new();
        assert!(
            tracking_keys(&store).await.is_err(),
            "no key: the function does not start"
        );
        rotate_tracking_key(&store).await.unwrap();
        let email = Uuid::new_v4();
        let first = pm_tracking::sign(&tracking_keys(&store).await.unwrap(), email, Action::Open);
        for rotation in 1..=2 {
            rotate_tracking_key(&store).await.unwrap();
            let keys = tracking_keys(&store).await.unwrap();
            assert_eq!(
                pm_tracking::verify(&keys, &first),
                Ok((email, Action::Open)),
                "after rotation {rotation}"
            );
            assert_ne!(pm_tracking::sign(&keys, email, Action::Open), first);
        }
        rotate_tracking_key(&store).await.unwrap();
        let keys = tracking_keys(&store).await.unwrap();
        assert!(
            pm_tracking::verify(&keys, &first).is_err(),
            "the third rotation drops the first key"
        );
    }

    #[tokio::test]
    async fn a_short_or_garbled_key_stops_the_function() {
        let store = MemorySecretStore::new();
        let short = pm_ports::secrets::SecretData::new().with("value", STANDARD.encode([1u8; 16]));
        store.put(TRACKING_KEY_PATH, &short).await.unwrap();
        assert!(tracking_keys(&store).await.is_err());
        let garbled = pm_ports::secrets::SecretData::new()
            .with("value", STANDARD.encode([1u8; 32]))
            .with("previous", "not base64!");
        store.put(TRACKING_KEY_PATH, &garbled).await.unwrap();
        assert!(tracking_keys(&store).await.is_err());
    }
}
