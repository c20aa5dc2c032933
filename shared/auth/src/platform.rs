//! Platform secrets the auth code needs, in the secrets port, read once at cold start:
//! - the lookup-hash pepper (`platform/api_key_pepper`);
//! - the session signing key (`platform/session_signing_key`: Ed25519 PKCS#8 and its
//!   `kid`), which only the session issuer reads (the PenguinMails app; locally the
//!   runtime);
//! - the session public keys (`platform/session_public_keys`), which every verifier
//!   reads: a function that checks sessions cannot mint one.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use pm_ports::secrets::{SecretData, SecretStore};
use pm_ports::PortError;

use crate::keys::Pepper;
use crate::session::{SessionKey, SessionSigner};

pub const PEPPER_PATH: &str = "platform/api_key_pepper";
pub const SESSION_KEY_PATH: &str = "platform/session_signing_key";
pub const SESSION_PUBLIC_KEYS_PATH: &str = "platform/session_public_keys";
/// The key that signs email tracking tokens (opens, clicks, unsubscribes); the email
/// workers read it (`pm_email_delivery::tracking_keys`).
pub const TRACKING_KEY_PATH: &str = "platform/tracking_key";
/// Public keys kept after rotations: the current one and the one before it.
const KEPT_PUBLIC_KEYS: usize = 2;
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

/// A new Ed25519 key pair: (PKCS#8 document, raw 32-byte public key).
pub fn generate_ed25519() -> (Vec<u8>, Vec<u8>) {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new())
        .expect("the OS random number generator works");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("a fresh key parses");
    (pkcs8.as_ref().to_vec(), pair.public_key().as_ref().to_vec())
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PublicKey {
    kid: String,
    /// Base64 of the raw 32-byte Ed25519 public key.
    x: String,
}

async fn public_keys(secrets: &dyn SecretStore) -> Result<Vec<PublicKey>, PlatformSecretError> {
    let Some(data) = secrets.get(SESSION_PUBLIC_KEYS_PATH).await? else {
        return Ok(Vec::new());
    };
    data.get("keys")
        .and_then(|json| serde_json::from_str(json).ok())
        .ok_or(PlatformSecretError::Malformed(SESSION_PUBLIC_KEYS_PATH))
}

/// The verifier every session-checking function builds: public keys only.
pub async fn session_key(secrets: &dyn SecretStore) -> Result<SessionKey, PlatformSecretError> {
    let keys = public_keys(secrets).await?;
    if keys.is_empty() {
        return Err(PlatformSecretError::Missing(SESSION_PUBLIC_KEYS_PATH));
    }
    keys.into_iter()
        .map(|k| {
            STANDARD
                .decode(&k.x)
                .ok()
                .filter(|x| x.len() == 32)
                .map(|x| (k.kid, x))
                .ok_or(PlatformSecretError::Malformed(SESSION_PUBLIC_KEYS_PATH))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(SessionKey::new)
}

/// The issuer's signing key (only the issuer's role may read it).
pub async fn session_signer(
    secrets: &dyn SecretStore,
) -> Result<SessionSigner, PlatformSecretError> {
    let data = secrets
        .get(SESSION_KEY_PATH)
        .await?
        .ok_or(PlatformSecretError::Missing(SESSION_KEY_PATH))?;
    let kid = data
        .get("kid")
        .ok_or(PlatformSecretError::Malformed(SESSION_KEY_PATH))?;
    let pkcs8 = data
        .get("pkcs8")
        .and_then(|v| STANDARD.decode(v).ok())
        .ok_or(PlatformSecretError::Malformed(SESSION_KEY_PATH))?;
    Ok(SessionSigner::new(kid, &pkcs8))
}

/// A new signing key; its public key joins the published set (the previous one stays,
/// so sessions signed a moment ago still verify until they expire). Returns the kid.
pub async fn rotate_session_key(secrets: &dyn SecretStore) -> Result<String, PlatformSecretError> {
    let (pkcs8, public) = generate_ed25519();
    let mut kid_bytes = [0u8; 8];
    getrandom::fill(&mut kid_bytes).expect("the OS random number generator works");
    let kid: String = kid_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut keys = public_keys(secrets).await.unwrap_or_default();
    keys.push(PublicKey {
        kid: kid.clone(),
        x: STANDARD.encode(public),
    });
    let keep_from = keys.len().saturating_sub(KEPT_PUBLIC_KEYS);
    let keys = &keys[keep_from..];
    // Publish the public key before the signer uses the private one, so no verifier
    // meets a token it cannot check.
    secrets
        .put(
            SESSION_PUBLIC_KEYS_PATH,
            &SecretData::new().with("keys", serde_json::to_string(keys).expect("keys serialize")),
        )
        .await?;
    secrets
        .put(
            SESSION_KEY_PATH,
            &SecretData::new()
                .with("kid", kid.clone())
                .with("pkcs8", STANDARD.encode(pkcs8)),
        )
        .await?;
    Ok(kid)
}

/// Creates each platform secret that does not exist yet; existing ones are kept, since
/// replacing the pepper would orphan every key. (A signing key from before EdDSA, an
/// HS256 secret, is replaced: sessions are short-lived.) Returns the paths created.
pub async fn provision(
    secrets: &dyn SecretStore,
) -> Result<Vec<&'static str>, PlatformSecretError> {
    let mut created = Vec::new();
    for path in [PEPPER_PATH, TRACKING_KEY_PATH] {
        if secrets.get(path).await?.is_none() {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).expect("the OS random number generator works");
            secrets
                .put(path, &SecretData::new().with(FIELD, STANDARD.encode(bytes)))
                .await?;
            created.push(path);
        }
    }
    let signer_ok = session_signer(secrets).await.is_ok();
    let published = session_key(secrets).await.is_ok();
    if !signer_ok || !published {
        rotate_session_key(secrets).await?;
        created.push(SESSION_KEY_PATH);
        created.push(SESSION_PUBLIC_KEYS_PATH);
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_domain::TenantId;
    use pm_ports::secrets::MemorySecretStore;
    use std::time::Duration;

    #[tokio::test]
    async fn provision_creates_once_and_keeps_existing() {
        let store = MemorySecretStore::new();
        assert!(matches!(
            pepper(&store).await,
            Err(PlatformSecretError::Missing(PEPPER_PATH))
        ));
        assert_eq!(provision(&store).await.unwrap().len(), 4);
        assert!(store.get(TRACKING_KEY_PATH).await.unwrap().is_some());
        let first = pepper(&store).await.unwrap().lookup_hash("k");
        assert!(provision(&store).await.unwrap().is_empty());
        assert_eq!(pepper(&store).await.unwrap().lookup_hash("k"), first);
        let token = session_signer(&store).await.unwrap().issue(
            "u",
            TenantId::random(),
            crate::Role::Owner,
            Duration::from_secs(60),
        );
        assert!(session_key(&store).await.unwrap().verify(&token).is_some());
    }

    #[tokio::test]
    async fn a_rotation_keeps_verifying_sessions_of_the_previous_key() {
        let store = MemorySecretStore::new();
        provision(&store).await.unwrap();
        let old = session_signer(&store).await.unwrap();
        let tenant = TenantId::random();
        let before = old.issue("u", tenant, crate::Role::Owner, Duration::from_secs(60));
        let kid = rotate_session_key(&store).await.unwrap();
        let new = session_signer(&store).await.unwrap();
        assert_eq!(new.kid(), kid);
        let verifier = session_key(&store).await.unwrap();
        assert!(
            verifier.verify(&before).is_some(),
            "the previous key still verifies"
        );
        let after = new.issue("u", tenant, crate::Role::Owner, Duration::from_secs(60));
        assert!(verifier.verify(&after).is_some());
        // Two rotations later the oldest key is gone.
        rotate_session_key(&store).await.unwrap();
        rotate_session_key(&store).await.unwrap();
        assert!(session_key(&store).await.unwrap().verify(&before).is_none());
    }
}
