//! A tenant's connection to one CRM: the OAuth flow that makes it, the tokens that keep
//! it (in the secrets port at `integrations/{tenant}/{provider}`), the refresh that
//! renews them, and the disconnect that ends it.
//!
//! One refresher at a time: a caller whose access token is within [`REFRESH_AHEAD`] of
//! expiry locks the connection's row (`SELECT … FOR UPDATE`) and looks again; whoever
//! holds the lock refreshes and stores the new tokens, and the callers queued behind it
//! find them fresh. This holds across processes (every function instance shares the
//! row), which an in-memory lock would not.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use pm_config::Redacted;
use pm_crm::governor::Governor;
use pm_crm::oauth::{self, Pkce};
use pm_crm::provider::{PropertyInfo, Provider, ProviderError, Session, Tokens};
use pm_domain::TenantId;
use pm_ports::secrets::{SecretData, SecretStore};
use pm_ports::PortError;
use pm_store::{Db, DbError};
use sha2::{Digest, Sha256};

/// Properties the platform creates in a CRM carry this prefix, so they cannot collide
/// with the account's own.
pub const OWN_PROPERTY_PREFIX: &str = "penguinmails_";

/// `penguinmails_last_opened` → `PenguinMails: last opened`.
fn own_label(name: &str) -> String {
    let rest = name
        .trim_start_matches(OWN_PROPERTY_PREFIX)
        .replace('_', " ");
    format!("PenguinMails: {rest}")
}

/// An access token closer than this to its expiry is refreshed before use.
pub const REFRESH_AHEAD: Duration = Duration::from_secs(5 * 60);
/// How long an authorization may take from "connect" to the callback.
pub const STATE_LIFETIME: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Connected,
    NeedsReauth,
    Disconnected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Connected => "connected",
            Status::NeedsReauth => "needs_reauth",
            Status::Disconnected => "disconnected",
        }
    }

    fn parse(s: &str) -> Result<Self, DbError> {
        match s {
            "connected" => Ok(Status::Connected),
            "needs_reauth" => Ok(Status::NeedsReauth),
            "disconnected" => Ok(Status::Disconnected),
            other => Err(DbError::Corrupt {
                table: "crm_connections",
                detail: format!("unknown status {other:?}"),
            }),
        }
    }
}

/// What the dashboard shows of a connection: never a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub provider: String,
    pub status: Status,
    pub account_id: Option<String>,
    pub scopes: Vec<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub connected_by: Option<String>,
    pub connected_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The state is unknown, used, expired, or another user's: start again.
    #[error("this authorization is unknown, used or expired; connect again")]
    BadState,
    #[error("not connected")]
    NotConnected,
    /// The provider refused the grant: the customer must connect again.
    #[error("the provider no longer accepts this connection; connect again")]
    NeedsReauth,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Store(#[from] DbError),
    #[error("secrets: {0}")]
    Secrets(#[from] PortError),
}

/// Where a connection's tokens are kept.
pub fn token_path(tenant: TenantId, provider: &str) -> String {
    format!("integrations/{tenant}/{provider}")
}

fn state_hash(state: &str) -> String {
    Sha256::digest(state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn to_secret(tokens: &Tokens) -> SecretData {
    SecretData::new()
        .with("access_token", tokens.access_token.expose().as_str())
        .with("refresh_token", tokens.refresh_token.expose().as_str())
        .with("expires_at", tokens.expires_at.to_rfc3339())
}

fn from_secret(data: &SecretData) -> Option<Tokens> {
    Some(Tokens {
        access_token: Redacted::new(data.get("access_token")?.to_string()),
        refresh_token: Redacted::new(data.get("refresh_token")?.to_string()),
        expires_at: DateTime::parse_from_rfc3339(data.get("expires_at")?)
            .ok()?
            .with_timezone(&Utc),
    })
}

const COLUMNS: &str = "provider, status, account_id, scopes, token_expires_at, last_error, \
                       connected_by, connected_at";

fn connection_of(row: &tokio_postgres::Row) -> Result<Connection, DbError> {
    let table = "crm_connections";
    Ok(Connection {
        provider: pm_store::row::get(row, table, "provider")?,
        status: Status::parse(&pm_store::row::get::<String>(row, table, "status")?)?,
        account_id: pm_store::row::get(row, table, "account_id")?,
        scopes: pm_store::row::get(row, table, "scopes")?,
        token_expires_at: pm_store::row::get(row, table, "token_expires_at")?,
        last_error: pm_store::row::get(row, table, "last_error")?,
        connected_by: pm_store::row::get(row, table, "connected_by")?,
        connected_at: pm_store::row::get(row, table, "connected_at")?,
    })
}

/// Connections to one provider, for every tenant.
pub struct Connections {
    db: Db,
    secrets: Arc<dyn SecretStore>,
    provider: Arc<dyn Provider>,
    /// The callback route's full URL, as registered with the provider.
    redirect_uri: String,
    /// One governor per connection, for this instance's calls.
    governors: std::sync::Mutex<std::collections::HashMap<TenantId, Arc<Governor>>>,
}

impl Connections {
    pub fn new(
        db: Db,
        secrets: Arc<dyn SecretStore>,
        provider: Arc<dyn Provider>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            db,
            secrets,
            provider,
            redirect_uri: redirect_uri.into(),
            governors: Default::default(),
        }
    }

    pub fn provider(&self) -> &dyn Provider {
        self.provider.as_ref()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The connection's rate governor (the same one for every caller of this instance).
    pub fn governor(&self, tenant: TenantId) -> Arc<Governor> {
        let mut governors = self.governors.lock().expect("governors lock");
        governors
            .entry(tenant)
            .or_insert_with(|| Arc::new(Governor::new(self.provider.capabilities().rate)))
            .clone()
    }

    /// Begins a connection for `user_id` of `tenant`: the URL to send the user to.
    pub async fn start(&self, tenant: TenantId, user_id: &str) -> Result<String, ConnectError> {
        let state = oauth::new_state();
        let pkce = self.provider.capabilities().pkce.then(Pkce::generate);
        let client = self.db.client().await?;
        client
            .execute("DELETE FROM crm_oauth_states WHERE expires_at < now()", &[])
            .await
            .map_err(DbError::from)?;
        client
            .execute(
                "INSERT INTO crm_oauth_states \
                   (state_hash, tenant_id, user_id, provider, redirect_uri, pkce_verifier, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))",
                &[
                    &state_hash(&state),
                    &tenant,
                    &user_id,
                    &self.provider.id(),
                    &self.redirect_uri,
                    &pkce.as_ref().map(|p| p.verifier.expose().clone()),
                    &(STATE_LIFETIME.as_secs() as f64),
                ],
            )
            .await
            .map_err(DbError::from)?;
        Ok(self.provider.authorize_url(
            &self.redirect_uri,
            &state,
            pkce.as_ref().map(|p| p.challenge.as_str()),
        ))
    }

    /// The callback: the state must be one this user of this tenant started, unused and
    /// unexpired; the code is exchanged, the tokens stored, the connection made.
    pub async fn complete(
        &self,
        tenant: TenantId,
        user_id: &str,
        state: &str,
        code: &str,
    ) -> Result<Connection, ConnectError> {
        let client = self.db.client().await?;
        // Used once: the row goes whatever happens next.
        let started = client
            .query_opt(
                "DELETE FROM crm_oauth_states \
                 WHERE state_hash = $1 AND tenant_id = $2 AND user_id = $3 AND provider = $4 \
                   AND expires_at > now() \
                 RETURNING redirect_uri, pkce_verifier",
                &[&state_hash(state), &tenant, &user_id, &self.provider.id()],
            )
            .await
            .map_err(DbError::from)?
            .ok_or(ConnectError::BadState)?;
        let redirect_uri: String = started.get(0);
        let verifier: Option<String> = started.get(1);
        let tokens = self
            .provider
            .exchange_code(code, &redirect_uri, verifier.as_deref())
            .await?;
        let governor = self.governor(tenant);
        let session = Session {
            access_token: tokens.access_token.expose(),
            governor: &governor,
            interactive: true,
        };
        let account = self.provider.account(&session).await?;
        self.secrets
            .put(&token_path(tenant, self.provider.id()), &to_secret(&tokens))
            .await?;
        let row = client
            .query_one(
                &format!(
                    "INSERT INTO crm_connections \
                       (tenant_id, provider, status, account_id, scopes, token_expires_at, \
                        last_error, connected_by, connected_at) \
                     VALUES ($1, $2, 'connected', $3, $4, $5, NULL, $6, now()) \
                     ON CONFLICT (tenant_id, provider) DO UPDATE SET \
                       status = 'connected', account_id = EXCLUDED.account_id, \
                       scopes = EXCLUDED.scopes, token_expires_at = EXCLUDED.token_expires_at, \
                       last_error = NULL, connected_by = EXCLUDED.connected_by, \
                       connected_at = now(), updated_at = now() \
                     RETURNING {COLUMNS}"
                ),
                &[
                    &tenant,
                    &self.provider.id(),
                    &account.id,
                    &account.scopes,
                    &tokens.expires_at,
                    &user_id,
                ],
            )
            .await
            .map_err(DbError::from)?;
        Ok(connection_of(&row)?)
    }

    /// The tenant's connection to this provider, if it ever connected.
    pub async fn get(&self, tenant: TenantId) -> Result<Option<Connection>, ConnectError> {
        let client = self.db.client().await?;
        let row = client
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM crm_connections WHERE tenant_id = $1 AND provider = $2"
                ),
                &[&tenant, &self.provider.id()],
            )
            .await
            .map_err(DbError::from)?;
        Ok(row.as_ref().map(connection_of).transpose()?)
    }

    async fn stored_tokens(&self, tenant: TenantId) -> Result<Tokens, ConnectError> {
        let data = self
            .secrets
            .get(&token_path(tenant, self.provider.id()))
            .await?
            .ok_or(ConnectError::NotConnected)?;
        from_secret(&data).ok_or_else(|| {
            ConnectError::Secrets(PortError::rejected(
                "secrets",
                "the connection's token document is incomplete",
            ))
        })
    }

    /// A working access token for the tenant's connection, refreshed first when it is
    /// near its expiry (by one caller; the others wait for it).
    pub async fn access_token(&self, tenant: TenantId) -> Result<Redacted<String>, ConnectError> {
        let connection = self.get(tenant).await?.ok_or(ConnectError::NotConnected)?;
        match connection.status {
            Status::Connected => {}
            Status::NeedsReauth => return Err(ConnectError::NeedsReauth),
            Status::Disconnected => return Err(ConnectError::NotConnected),
        }
        let ahead = chrono::Duration::from_std(REFRESH_AHEAD).expect("minutes");
        if connection
            .token_expires_at
            .is_some_and(|at| at > Utc::now() + ahead)
        {
            return Ok(self.stored_tokens(tenant).await?.access_token);
        }
        self.refresh(tenant, ahead).await
    }

    async fn refresh(
        &self,
        tenant: TenantId,
        ahead: chrono::Duration,
    ) -> Result<Redacted<String>, ConnectError> {
        let mut client = self.db.client().await?;
        let tx = pm_store::begin(&mut client).await?;
        let row = tx
            .query_opt(
                "SELECT status, token_expires_at FROM crm_connections \
                 WHERE tenant_id = $1 AND provider = $2 FOR UPDATE",
                &[&tenant, &self.provider.id()],
            )
            .await
            .map_err(DbError::from)?
            .ok_or(ConnectError::NotConnected)?;
        let status = Status::parse(row.get(0))?;
        let expires_at: Option<DateTime<Utc>> = row.get(1);
        if status == Status::NeedsReauth {
            return Err(ConnectError::NeedsReauth);
        }
        let tokens = self.stored_tokens(tenant).await?;
        // Another caller refreshed while this one waited for the lock.
        if expires_at.is_some_and(|at| at > Utc::now() + ahead) {
            return Ok(tokens.access_token);
        }
        match self.provider.refresh(tokens.refresh_token.expose()).await {
            Ok(fresh) => {
                self.secrets
                    .put(&token_path(tenant, self.provider.id()), &to_secret(&fresh))
                    .await?;
                tx.execute(
                    "UPDATE crm_connections SET token_expires_at = $3, last_error = NULL, \
                       updated_at = now() WHERE tenant_id = $1 AND provider = $2",
                    &[&tenant, &self.provider.id(), &fresh.expires_at],
                )
                .await
                .map_err(DbError::from)?;
                pm_store::commit(tx).await?;
                Ok(fresh.access_token)
            }
            Err(ProviderError::GrantRevoked) => {
                tracing::warn!(%tenant, provider = self.provider.id(), "the provider refused the grant; the connection needs the customer to connect again");
                tx.execute(
                    "UPDATE crm_connections SET status = 'needs_reauth', \
                       last_error = 'the provider refused the grant (revoked or expired): connect again', \
                       updated_at = now() WHERE tenant_id = $1 AND provider = $2",
                    &[&tenant, &self.provider.id()],
                )
                .await
                .map_err(DbError::from)?;
                pm_store::commit(tx).await?;
                Err(ConnectError::NeedsReauth)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Runs `call` with a working access token of the tenant's connection; when the
    /// provider refuses the token anyway (a 401: revoked early, clock skew), refreshes it
    /// once and calls again. Every authenticated call of the sync goes through here.
    pub async fn with_session<T, F>(
        &self,
        tenant: TenantId,
        interactive: bool,
        call: F,
    ) -> Result<T, ConnectError>
    where
        F: for<'s> Fn(&'s dyn Provider, Session<'s>) -> BoxFuture<'s, Result<T, ProviderError>>,
    {
        let governor = self.governor(tenant);
        let mut token = self.access_token(tenant).await?;
        let mut retried = false;
        loop {
            let session = Session {
                access_token: token.expose(),
                governor: &governor,
                interactive,
            };
            match call(self.provider.as_ref(), session).await {
                Err(ProviderError::Unauthorized) if !retried => {
                    self.token_refused(tenant).await?;
                    token = self.access_token(tenant).await?;
                    retried = true;
                }
                other => return Ok(other?),
            }
        }
    }

    /// Creates the properties of ours the tenant's mapping writes (`penguinmails_…`)
    /// that the CRM does not have yet; how many it created.
    pub async fn ensure_properties(
        &self,
        tenant: TenantId,
        mappings: &[pm_crm::mapping::FieldMapping],
    ) -> Result<usize, ConnectError> {
        let ours: Vec<PropertyInfo> = mappings
            .iter()
            .filter(|m| m.remote.starts_with(OWN_PROPERTY_PREFIX) && m.direction.pushes())
            .map(|m| PropertyInfo {
                name: m.remote.clone(),
                label: own_label(&m.remote),
                kind: "string".into(),
                read_only: false,
            })
            .collect();
        if ours.is_empty() {
            return Ok(0);
        }
        let existing = self
            .with_session(tenant, true, |p, s| {
                Box::pin(async move { p.contact_properties(&s).await })
            })
            .await?;
        let mut created = 0;
        for property in ours {
            if existing.iter().any(|e| e.name == property.name) {
                continue;
            }
            let made = self
                .with_session(tenant, true, |p, s| {
                    let property = property.clone();
                    Box::pin(async move { p.create_contact_property(&s, &property).await })
                })
                .await?;
            created += usize::from(made);
        }
        Ok(created)
    }

    /// The tenants connected to this provider account (HubSpot's portal): how a
    /// provider's webhook, which names only the account, finds whom it concerns. Two
    /// tenants may connect one account; each gets the change.
    pub async fn tenants_of_account(&self, account_id: &str) -> Result<Vec<TenantId>, DbError> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                "SELECT tenant_id FROM crm_connections \
                 WHERE provider = $1 AND account_id = $2 AND status = 'connected'",
                &[&self.provider.id(), &account_id],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// A call's answer said the access token is no good (a 401): marks it expired, so
    /// the next [`access_token`](Self::access_token) refreshes it.
    pub async fn token_refused(&self, tenant: TenantId) -> Result<(), ConnectError> {
        let client = self.db.client().await?;
        client
            .execute(
                "UPDATE crm_connections SET token_expires_at = now(), updated_at = now() \
                 WHERE tenant_id = $1 AND provider = $2",
                &[&tenant, &self.provider.id()],
            )
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    /// Ends the connection: the grant revoked at the provider (if it still works), the
    /// tokens deleted, the row kept as `disconnected` (its history stays readable).
    pub async fn disconnect(&self, tenant: TenantId) -> Result<(), ConnectError> {
        let path = token_path(tenant, self.provider.id());
        if let Some(tokens) = self
            .secrets
            .get(&path)
            .await?
            .as_ref()
            .and_then(from_secret)
        {
            match self.provider.revoke(&tokens).await {
                Ok(()) | Err(ProviderError::GrantRevoked | ProviderError::Unauthorized) => {}
                // Not revoked: say so rather than leave a live grant behind silently.
                Err(e) => return Err(e.into()),
            }
        }
        self.secrets.delete(&path).await?;
        let client = self.db.client().await?;
        let changed = client
            .execute(
                "UPDATE crm_connections SET status = $3, token_expires_at = NULL, \
                   updated_at = now() WHERE tenant_id = $1 AND provider = $2",
                &[&tenant, &self.provider.id(), &Status::Disconnected.as_str()],
            )
            .await
            .map_err(DbError::from)?;
        if changed == 0 {
            return Err(ConnectError::NotConnected);
        }
        Ok(())
    }
}
