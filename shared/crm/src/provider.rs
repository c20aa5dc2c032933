//! What a CRM provider is to the sync: a set of declared capabilities and the calls the
//! sync makes. Each provider's differences are data here, not branches in the sync:
//!
//! | provider | batch | write | push |
//! |---|---|---|---|
//! | HubSpot | 100 | upsert by `email` | signed webhooks (v3 HMAC) |
//! | Salesforce | 200 (Composite) | upsert by an external-id field | change data capture (`changeOrigin`) |
//! | Pipedrive | 1 | search, then create or update | webhooks (Basic auth) |
//! | Zoho CRM | 100 | upsert with duplicate-check fields, per data centre host | notifications |
//! | Close | 1 | search, then create or update (leads hold contacts) | webhooks (HMAC) |
//!
//! Only HubSpot is implemented; the table is the test of the trait's shape: each row
//! fits it without a new method.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pm_config::Redacted;
use serde::{Deserialize, Serialize};

use crate::governor::Governor;

/// How the provider writes a record the sync may or may not have seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// One call creates or updates by a unique property (HubSpot's `email`, a
    /// Salesforce external-id field): no create-then-create race can duplicate.
    NativeUpsert { key: &'static str },
    /// A search by the key first, then a create or an update: the sync state's external
    /// id is what keeps a second create from happening.
    SearchThenWrite { key: &'static str },
}

/// How the provider tells us about changes on its side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushMechanism {
    SignedWebhooks,
    ChangeDataCapture,
    /// No push: the reconciliation polls for records modified since its cursor.
    Polling {
        every: Duration,
    },
}

/// The provider's published limit for one connection (an OAuth app on one account).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub per: Duration,
    /// Requests per day, when the provider caps them.
    pub daily: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// The most records one write or read call takes.
    pub batch_size: usize,
    pub write: WriteMode,
    pub push: PushMechanism,
    pub rate: RateLimit,
    /// The authorization endpoint takes a PKCE challenge.
    pub pkce: bool,
    /// Changes the provider reports say which app made them (HubSpot's `sourceId`,
    /// Salesforce's `changeOrigin`), so our own writes can be recognised at once.
    pub origin_marker: bool,
}

/// A connection's OAuth grant. Kept in the secrets port only; never printed.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access_token: Redacted<String>,
    pub refresh_token: Redacted<String>,
    pub expires_at: DateTime<Utc>,
}

/// What the provider says a connection is: its account and what it was granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// HubSpot's portal (hub) id, a Salesforce org id, …
    pub id: String,
    pub scopes: Vec<String>,
}

/// A property the provider describes for an object, for choosing custom field mappings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyInfo {
    pub name: String,
    pub label: String,
    pub kind: String,
    /// The provider computes it; it can be read, not written.
    pub read_only: bool,
}

/// A contact as the provider holds it: its id there and the properties asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteContact {
    pub id: String,
    pub properties: BTreeMap<String, Option<String>>,
    /// The provider's modification time of the record (for "newest wins").
    pub modified_at: Option<DateTime<Utc>>,
}

/// One record to write: the key's value (the email for HubSpot) and the properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactWrite {
    pub key: String,
    pub properties: BTreeMap<String, String>,
}

/// What became of one written record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub key: String,
    pub id: String,
    pub created: bool,
}

/// One page of a read, and where the next begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// One field changed on the provider's side, as its push mechanism reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteChange {
    /// The provider's id of the event, for de-duplication.
    pub event_id: String,
    /// The record's id at the provider.
    pub object_id: String,
    pub property: String,
    pub value: Option<String>,
    pub occurred_at: DateTime<Utc>,
    /// The provider's origin marker says our app made it.
    pub by_us: bool,
}

/// An email engagement recorded on the CRM contact. Opens and clicks are not engagements
/// of their own in a CRM's model: they reach the contact as the engagement properties of
/// the mapping (`penguinmails_last_opened`, …), which CRM workflows can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub contact_id: String,
    pub kind: ActivityKind,
    pub at: DateTime<Utc>,
    pub subject: String,
    /// Ours, so the same engagement recorded twice can be recognised.
    pub key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Sent,
    Replied,
    Bounced,
}

/// Why a provider call failed, in the terms the sync acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Slow down: the governor pauses the connection this long (jittered).
    #[error("rate limited by the provider")]
    RateLimited { retry_after: Option<Duration> },
    /// The access token was refused: refresh it and try once more.
    #[error("the provider refused the access token")]
    Unauthorized,
    /// The grant itself is gone (revoked, or the refresh token expired): the connection
    /// needs the customer to connect again.
    #[error("the provider no longer accepts this connection's grant")]
    GrantRevoked,
    /// The provider refused the input; retrying the same input will not help.
    #[error("the provider refused the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// The provider or the network failed; worth retrying later.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
}

impl ProviderError {
    /// Whether the same call may succeed later without anything else changing.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. } | ProviderError::Unavailable(_)
        )
    }
}

/// An authenticated call's context: the access token and the connection's governor,
/// which every call waits on before it goes out and feeds with the answer's headers.
pub struct Session<'a> {
    pub access_token: &'a str,
    pub governor: &'a Governor,
    /// An interactive call (a person waiting on the dashboard) may use the headroom the
    /// background sync leaves.
    pub interactive: bool,
}

#[async_trait]
pub trait Provider: Send + Sync {
    /// `hubspot`, `salesforce`, …: the path segment and the stored name.
    fn id(&self) -> &'static str;
    /// How people name it: `HubSpot`.
    fn name(&self) -> &'static str;
    fn capabilities(&self) -> Capabilities;
    /// The mapping a new connection starts with.
    fn default_mapping(&self) -> Vec<crate::mapping::FieldMapping>;

    /// Where to send the customer to grant access.
    fn authorize_url(
        &self,
        redirect_uri: &str,
        state: &str,
        pkce_challenge: Option<&str>,
    ) -> String;
    async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        pkce_verifier: Option<&str>,
    ) -> Result<Tokens, ProviderError>;
    /// A new access token; [`ProviderError::GrantRevoked`] when the refresh token is no
    /// longer good.
    async fn refresh(&self, refresh_token: &str) -> Result<Tokens, ProviderError>;
    /// Revokes the grant at the provider (disconnect).
    async fn revoke(&self, tokens: &Tokens) -> Result<(), ProviderError>;
    async fn account(&self, session: &Session<'_>) -> Result<Account, ProviderError>;

    async fn contact_properties(
        &self,
        session: &Session<'_>,
    ) -> Result<Vec<PropertyInfo>, ProviderError>;
    /// Creates a contact property of ours (the engagement and tag properties of the
    /// default mapping); false when it already exists.
    async fn create_contact_property(
        &self,
        session: &Session<'_>,
        property: &PropertyInfo,
    ) -> Result<bool, ProviderError>;
    /// Writes up to `capabilities().batch_size` contacts. The outer error is the whole
    /// call's; each record has its own outcome otherwise.
    async fn write_contacts(
        &self,
        session: &Session<'_>,
        batch: &[ContactWrite],
    ) -> Result<Vec<Result<Written, ProviderError>>, ProviderError>;
    /// Contacts with these properties, a page at a time from `cursor`.
    async fn read_contacts(
        &self,
        session: &Session<'_>,
        properties: &[String],
        cursor: Option<&str>,
    ) -> Result<Page<RemoteContact>, ProviderError>;
    /// One contact by the provider's id, with these properties (None: no such contact,
    /// or deleted): how a "created" notice, which names only the id, becomes a record.
    async fn read_contact(
        &self,
        session: &Session<'_>,
        id: &str,
        properties: &[String],
    ) -> Result<Option<RemoteContact>, ProviderError>;
    async fn record_activities(
        &self,
        session: &Session<'_>,
        activities: &[Activity],
    ) -> Result<(), ProviderError>;
}
