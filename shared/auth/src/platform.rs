//! Platform secrets the auth code needs: the lookup-hash pepper and the session signing
//! key, both in the secrets port. Functions read them once at cold start.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use pm_ports::secrets::{SecretData, SecretStore};
use pm_ports::PortError;

use crate::keys::Pepper;
use crate::session::SessionKey;

pub const PEPPER_PATH: &str = "platform/api_key_pepper";
pub const SESSION_KEY_PATH: &str = "platform/session_signing_key";
const FIELD: &str = "value";

#[derive(Debug, thiserror::Error)]
pub enum PlatformSecretError {
    #[error(
        "secret {0} is missing from the secrets store; create it with `pm-local provision-secrets`"
    )]
    Missing(&'static str),
    #[error("secret {0} is malformed (expected base64 of at least 32 bytes)")]
    Malformed(&'static str),
    #[error(transparent)]
    Port(#[from] PortError),
}

async fn load(
    secrets: &dyn SecretStore,
    path: &'static str,
) -> Result<Vec<u8>, PlatformSecretError> {
    let data = secrets
        .get(path)
        .await?
        .ok_or(PlatformSecretError::Missing(path))?;
    let bytes = data
        .get(FIELD)
        .and_then(|v| STANDARD.decode(v).ok())
        .filter(|b| b.len() >= 32)
        .ok_or(PlatformSecretError::Malformed(path))?;
    Ok(bytes)
}

pub async fn pepper(secrets: &dyn SecretStore) -> Result<Pepper, PlatformSecretError> {
    Ok(Pepper::new(load(secrets, PEPPER_PATH).await?))
}

pub async fn session_key(secrets: &dyn SecretStore) -> Result<SessionKey, PlatformSecretError> {
    Ok(SessionKey::new(load(secrets, SESSION_KEY_PATH).await?))
}

/// Creates each platform secret that does not exist yet (32 random bytes); existing ones
/// are kept, since replacing the pepper would orphan every key. Returns the paths created.
pub async fn provision(secrets: &dyn SecretStore) -> Result<Vec<&'static str>, PortError> {
    let mut created = Vec::new();
    for path in [PEPPER_PATH, SESSION_KEY_PATH] {
        if secrets.get(path).await?.is_none() {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).expect("the OS random number generator works");
            secrets
                .put(path, &SecretData::new().with(FIELD, STANDARD.encode(bytes)))
                .await?;
            created.push(path);
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_ports::secrets::MemorySecretStore;

    #[tokio::test]
    async fn provision_creates_once_and_keeps_existing() {
        let store = MemorySecretStore::new();
        assert!(matches!(
            pepper(&store).await,
            Err(PlatformSecretError::Missing(PEPPER_PATH))
        ));
        assert_eq!(provision(&store).await.unwrap().len(), 2);
        let first = pepper(&store).await.unwrap().lookup_hash("k");
        assert!(provision(&store).await.unwrap().is_empty());
        assert_eq!(pepper(&store).await.unwrap().lookup_hash("k"), first);
        session_key(&store).await.unwrap();
    }
}
