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

/// The tracking-token key (base64 of at least 32 bytes in field `value`), read at cold
/// start: a missing or short one stops the function rather than sign weak tokens.
pub async fn tracking_keys(secrets: &dyn SecretStore) -> Result<TrackingKeys, BoxError> {
    let data = secrets.get(TRACKING_KEY_PATH).await?.ok_or_else(|| {
        format!(
            "secret {TRACKING_KEY_PATH} is missing; create it with `pm-local provision-secrets`"
        )
    })?;
    let key = data
        .get("value")
        .and_then(|v| STANDARD.decode(v).ok())
        .filter(|k| k.len() >= TrackingKeys::MIN_KEY_LEN)
        .ok_or_else(|| {
            format!("secret {TRACKING_KEY_PATH} is malformed (base64 of 32 bytes or more)")
        })?;
    Ok(TrackingKeys::new(key, Vec::new()))
}
