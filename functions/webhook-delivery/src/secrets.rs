//! Webhook signing secrets, kept in the secrets port at `webhooks/{tenant}/{webhook}`
//! (never in PostgreSQL). A rotation keeps the previous secret beside the new one for
//! [`ROTATION_OVERLAP`], and deliveries are signed with both meanwhile, so a receiver
//! can switch secrets without losing a single delivery.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use pm_domain::{TenantId, WebhookId};
use pm_ports::secrets::{SecretData, SecretStore};
use pm_ports::PortError;

use crate::signature::SigningSecret;

pub const ROTATION_OVERLAP: TimeDelta = TimeDelta::hours(24);

pub fn path(tenant: TenantId, webhook: WebhookId) -> String {
    format!("webhooks/{tenant}/{webhook}")
}

/// A webhook's secrets: the current one, and the previous one until it expires.
#[derive(Debug, Clone)]
pub struct Secrets {
    pub current: SigningSecret,
    pub previous: Option<(SigningSecret, DateTime<Utc>)>,
}

impl Secrets {
    /// The secrets that sign a delivery made at `now`: the current one, and the
    /// previous one while its overlap lasts.
    pub fn signing(&self, now: DateTime<Utc>) -> Vec<&SigningSecret> {
        let mut out = vec![&self.current];
        if let Some((previous, until)) = &self.previous {
            if *until > now {
                out.push(previous);
            }
        }
        out
    }

    /// When the previous secret stops signing, if it still does at `now`.
    pub fn previous_expires_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.previous
            .as_ref()
            .map(|(_, until)| *until)
            .filter(|until| *until > now)
    }

    fn to_data(&self) -> SecretData {
        let data = SecretData::new().with("current", self.current.expose());
        match &self.previous {
            Some((previous, until)) => data
                .with("previous", previous.expose())
                .with("previous_expires_at", until.to_rfc3339()),
            None => data,
        }
    }

    fn from_data(data: &SecretData) -> Result<Self, PortError> {
        let corrupt = |what: &str| PortError::Invalid(format!("webhook secret: bad {what}"));
        let current = data
            .get("current")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| corrupt("current"))?;
        let previous = match (data.get("previous"), data.get("previous_expires_at")) {
            (Some(secret), Some(until)) => Some((
                secret.parse().map_err(|_| corrupt("previous"))?,
                DateTime::parse_from_rfc3339(until)
                    .map_err(|_| corrupt("previous_expires_at"))?
                    .with_timezone(&Utc),
            )),
            _ => None,
        };
        Ok(Self { current, previous })
    }
}

/// Creates a webhook's first secret.
pub async fn create(
    store: &dyn SecretStore,
    tenant: TenantId,
    webhook: WebhookId,
) -> Result<Secrets, PortError> {
    let secrets = Secrets {
        current: SigningSecret::generate(),
        previous: None,
    };
    store
        .put(&path(tenant, webhook), &secrets.to_data())
        .await?;
    Ok(secrets)
}

/// The webhook's secrets; `None` if it has none (deleted meanwhile).
pub async fn load(
    store: &dyn SecretStore,
    tenant: TenantId,
    webhook: WebhookId,
) -> Result<Option<Secrets>, PortError> {
    store
        .get(&path(tenant, webhook))
        .await?
        .map(|data| Secrets::from_data(&data))
        .transpose()
}

/// A new current secret; the old one signs beside it until `now + ROTATION_OVERLAP`.
pub async fn rotate(
    store: &dyn SecretStore,
    tenant: TenantId,
    webhook: WebhookId,
    now: DateTime<Utc>,
) -> Result<Option<Secrets>, PortError> {
    let Some(old) = load(store, tenant, webhook).await? else {
        return Ok(None);
    };
    let rotated = Secrets {
        current: SigningSecret::generate(),
        previous: Some((old.current, now + ROTATION_OVERLAP)),
    };
    store
        .put(&path(tenant, webhook), &rotated.to_data())
        .await?;
    Ok(Some(rotated))
}

pub async fn delete(
    store: &dyn SecretStore,
    tenant: TenantId,
    webhook: WebhookId,
) -> Result<(), PortError> {
    store.delete(&path(tenant, webhook)).await
}

/// How long the dispatcher trusts a signing secret it read: a delivery burst to one
/// webhook reads its secret once per this, not once per delivery. Short, so a rotation
/// is seen quickly (and the old secret keeps signing for a day anyway).
pub const CACHE_FOR: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;
    use pm_ports::secrets::MemorySecretStore;

    #[tokio::test]
    async fn a_rotation_signs_with_both_secrets_for_a_day_then_one() {
        let store = MemorySecretStore::new();
        let (tenant, webhook) = (TenantId::random(), WebhookId::random());
        let first = create(&store, tenant, webhook).await.unwrap();
        let now = Utc::now();
        assert_eq!(first.signing(now).len(), 1);
        let rotated = rotate(&store, tenant, webhook, now).await.unwrap().unwrap();
        let loaded = load(&store, tenant, webhook).await.unwrap().unwrap();
        assert_eq!(loaded.current.expose(), rotated.current.expose());
        let both = loaded.signing(now + TimeDelta::hours(23));
        assert_eq!(both.len(), 2);
        assert_eq!(both[1].expose(), first.current.expose());
        assert_eq!(loaded.signing(now + TimeDelta::hours(25)).len(), 1);
        assert_eq!(
            loaded.previous_expires_at(now),
            Some(now + ROTATION_OVERLAP)
        );
    }
}
