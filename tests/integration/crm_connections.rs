//! CRM connections on real PostgreSQL and OpenBao, HubSpot played by the fake built from
//! its API reference: the OAuth state bound to the user who started it and good once,
//! tokens only in the secrets store, one refresh under concurrency, a revoked grant
//! shown as `needs_reauth`, disconnect, and one tenant never reaching another's.

use std::sync::Arc;
use std::time::Duration;

use pm_config::Redacted;
use pm_crm::hubspot::{HubSpot, HubSpotConfig};
use pm_crm::provider::{ProviderError, Session};
use pm_domain::{Plan, TenantId};
use pm_integrations::connections::{token_path, ConnectError, Connections, Status};
use pm_ports::secrets::{SecretStore, VaultConfig, VaultStore};
use pm_store::tenants;
use pm_tests::db::TestDb;
use pm_tests::hubspot::{FakeHubSpot, APP_ID, CLIENT_ID, CLIENT_SECRET};
use pm_tests::peers;

const REDIRECT: &str =
    "https://app.penguinmails.example/api/v1/platform/integrations/hubspot/callback";

pub(crate) struct Setup {
    pub test: TestDb,
    pub fake: FakeHubSpot,
    pub secrets: Arc<dyn SecretStore>,
    pub connections: Arc<Connections>,
    pub tenant: TenantId,
}

pub(crate) async fn setup() -> Setup {
    let test = TestDb::new().await;
    let fake = FakeHubSpot::start().await;
    let secrets: Arc<dyn SecretStore> = Arc::new(vault_store());
    let hubspot = Arc::new(HubSpot::new(hubspot_config(&fake)));
    let connections = Arc::new(Connections::new(
        test.db.clone(),
        secrets.clone(),
        hubspot,
        REDIRECT,
    ));
    let tenant = {
        let client = test.db.client().await.unwrap();
        tenants::create(&**client, "Acme", Plan::Pro)
            .await
            .unwrap()
            .id
    };
    Setup {
        test,
        fake,
        secrets,
        connections,
        tenant,
    }
}

/// Our HubSpot app as the fake registers it.
pub(crate) fn hubspot_config(fake: &FakeHubSpot) -> HubSpotConfig {
    HubSpotConfig {
        client_id: CLIENT_ID.into(),
        client_secret: Redacted::new(CLIENT_SECRET.into()),
        app_id: APP_ID.into(),
        scopes: vec!["crm.objects.contacts.write".into()],
        api_base: fake.url(),
        app_base: "https://app.hubspot.com".into(),
    }
}

/// The test OpenBao's KV store, as the platform's secrets port.
pub(crate) fn vault_store() -> VaultStore {
    let vault = peers::vault();
    VaultStore::new(VaultConfig {
        addr: vault.addr.clone(),
        token: Some(vault.token.clone().into()),
        mount: "secret".into(),
        timeout: Duration::from_secs(5),
        ..VaultConfig::default()
    })
    .unwrap()
}

/// The `state` the authorize URL carries.
pub(crate) fn state_of(url: &str) -> String {
    let value = url
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    urlencoding::decode(value).unwrap().into_owned()
}

pub(crate) async fn connect(s: &Setup, user: &str, portal: u64) {
    let url = s.connections.start(s.tenant, user).await.unwrap();
    let code = s.fake.approve(portal);
    s.connections
        .complete(s.tenant, user, &state_of(&url), &code)
        .await
        .unwrap();
}

/// The default mapping without our own properties, which a connection creates in
/// HubSpot first (and the fake refuses until it has).
pub(crate) fn standard_mapping() -> Vec<pm_crm::mapping::FieldMapping> {
    pm_crm::mapping::hubspot_defaults()
        .into_iter()
        .filter(|m| !m.remote.starts_with("penguinmails_"))
        .collect()
}

/// Pushes `ids` and checks that nothing needed sending: no call reached HubSpot.
pub(crate) async fn assert_push_sends_nothing(s: &Setup, ids: &[uuid::Uuid]) {
    use pm_integrations::push::{push_contacts, Pushed};
    let calls = s.fake.calls();
    let pushed = push_contacts(&s.connections, s.tenant, &standard_mapping(), ids)
        .await
        .unwrap();
    let unchanged = Pushed {
        unchanged: ids.len(),
        ..Pushed::default()
    };
    assert_eq!(pushed, unchanged);
    assert_eq!(s.fake.calls(), calls, "no call to HubSpot");
}

/// As if the access token were about to expire (the fake's, too).
pub(crate) async fn near_expiry(s: &Setup) {
    let client = s.test.db.client().await.unwrap();
    client
        .execute(
            "UPDATE crm_connections SET token_expires_at = now() + interval '1 minute'",
            &[],
        )
        .await
        .unwrap();
    s.fake.expire_access_tokens();
}

#[tokio::test]
async fn the_state_is_bound_to_the_user_who_started_and_is_good_once() {
    let s = setup().await;
    let url = s.connections.start(s.tenant, "user-1").await.unwrap();
    let state = state_of(&url);
    let code = s.fake.approve(7101);
    for (user, state) in [("user-2", state.as_str()), ("user-1", "made-up-state")] {
        let refused = s
            .connections
            .complete(s.tenant, user, state, &code)
            .await
            .unwrap_err();
        assert!(matches!(refused, ConnectError::BadState), "{refused:?}");
    }
    // Another user's refusal did not spend it: its own user still completes.
    let connection = s
        .connections
        .complete(s.tenant, "user-1", &state, &code)
        .await
        .unwrap();
    assert_eq!(connection.status, Status::Connected);
    assert_eq!(connection.account_id.as_deref(), Some("7101"));
    assert_eq!(connection.connected_by.as_deref(), Some("user-1"));
    assert!(connection.token_expires_at.is_some());
    let again = s
        .connections
        .complete(s.tenant, "user-1", &state, &s.fake.approve(7101))
        .await
        .unwrap_err();
    assert!(
        matches!(again, ConnectError::BadState),
        "used once: {again:?}"
    );

    // An expired state is refused too.
    let url = s.connections.start(s.tenant, "user-1").await.unwrap();
    let client = s.test.db.client().await.unwrap();
    client
        .execute(
            "UPDATE crm_oauth_states SET expires_at = now() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    let late = s
        .connections
        .complete(s.tenant, "user-1", &state_of(&url), &s.fake.approve(7101))
        .await
        .unwrap_err();
    assert!(matches!(late, ConnectError::BadState), "{late:?}");
}

#[tokio::test]
async fn tokens_live_in_the_secrets_store_only_and_another_tenant_sees_nothing() {
    let s = setup().await;
    connect(&s, "user-1", 7102).await;
    let stored = s
        .secrets
        .get(&token_path(s.tenant, "hubspot"))
        .await
        .unwrap()
        .expect("tokens in OpenBao");
    let access = stored.get("access_token").unwrap().to_string();
    let refresh = stored.get("refresh_token").unwrap().to_string();
    assert_eq!(
        s.connections.access_token(s.tenant).await.unwrap().expose(),
        &access
    );
    // Nothing in PostgreSQL holds either token.
    let client = s.test.db.client().await.unwrap();
    for table in ["crm_connections", "crm_oauth_states"] {
        let rows = client
            .query(&format!("SELECT t::text FROM {table} t"), &[])
            .await
            .unwrap();
        for row in rows {
            let text: String = row.get(0);
            assert!(
                !text.contains(&access) && !text.contains(&refresh),
                "{table}: {text}"
            );
        }
    }
    let connection = s.connections.get(s.tenant).await.unwrap().unwrap();
    assert!(!format!("{connection:?}").contains(&access));

    let other = tenants::create(&**client, "Globex", Plan::Pro)
        .await
        .unwrap()
        .id;
    assert_eq!(s.connections.get(other).await.unwrap(), None);
    assert!(matches!(
        s.connections.access_token(other).await,
        Err(ConnectError::NotConnected)
    ));
    assert!(matches!(
        s.connections.disconnect(other).await,
        Err(ConnectError::NotConnected)
    ));
    // Globex's attempt to finish Acme's authorization fails even with Acme's state.
    let url = s.connections.start(s.tenant, "user-1").await.unwrap();
    let stolen = s
        .connections
        .complete(other, "user-1", &state_of(&url), &s.fake.approve(7102))
        .await
        .unwrap_err();
    assert!(matches!(stolen, ConnectError::BadState), "{stolen:?}");
    assert_eq!(
        s.connections.get(s.tenant).await.unwrap().unwrap().status,
        Status::Connected
    );
}

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_once_however_many_ask_at_once() {
    let s = setup().await;
    connect(&s, "user-1", 7103).await;
    near_expiry(&s).await;
    let askers: Vec<_> = (0..8)
        .map(|_| {
            let connections = s.connections.clone();
            let tenant = s.tenant;
            tokio::spawn(async move { connections.access_token(tenant).await.unwrap() })
        })
        .collect();
    let mut tokens = Vec::new();
    for asker in askers {
        tokens.push(asker.await.unwrap().expose().clone());
    }
    assert_eq!(s.fake.refreshes(), 1, "one refresher");
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "everyone got the fresh token");
    let governor = s.connections.governor(s.tenant);
    let session = Session {
        access_token: &tokens[0],
        governor: &governor,
        interactive: true,
    };
    assert_eq!(
        s.connections.provider().account(&session).await.unwrap().id,
        "7103"
    );
    let connection = s.connections.get(s.tenant).await.unwrap().unwrap();
    assert!(
        connection.token_expires_at.unwrap() > chrono::Utc::now() + chrono::Duration::minutes(25)
    );

    // A 401 mid-sync (the token revoked early by HubSpot) makes the next caller refresh.
    s.fake.expire_access_tokens();
    s.connections.token_refused(s.tenant).await.unwrap();
    s.connections.access_token(s.tenant).await.unwrap();
    assert_eq!(s.fake.refreshes(), 2);
}

#[tokio::test]
async fn a_revoked_grant_moves_the_connection_to_needs_reauth_visibly_and_stops_asking() {
    let s = setup().await;
    connect(&s, "user-1", 7104).await;
    s.fake.revoke_grant(7104);
    near_expiry(&s).await;
    assert!(matches!(
        s.connections.access_token(s.tenant).await,
        Err(ConnectError::NeedsReauth)
    ));
    let connection = s.connections.get(s.tenant).await.unwrap().unwrap();
    assert_eq!(connection.status, Status::NeedsReauth);
    assert!(connection
        .last_error
        .as_deref()
        .unwrap()
        .contains("connect again"));
    // Later callers are told at once; HubSpot is not asked again.
    assert!(matches!(
        s.connections.access_token(s.tenant).await,
        Err(ConnectError::NeedsReauth)
    ));
    assert_eq!(s.fake.refreshes(), 0);
    // Connecting again repairs it.
    connect(&s, "user-2", 7104).await;
    let connection = s.connections.get(s.tenant).await.unwrap().unwrap();
    assert_eq!(
        (connection.status, connection.last_error),
        (Status::Connected, None)
    );
    assert!(s.connections.access_token(s.tenant).await.is_ok());
}

#[tokio::test]
async fn disconnecting_revokes_at_the_provider_and_deletes_the_tokens() {
    let s = setup().await;
    connect(&s, "user-1", 7105).await;
    let stored = s
        .secrets
        .get(&token_path(s.tenant, "hubspot"))
        .await
        .unwrap()
        .unwrap();
    let refresh = stored.get("refresh_token").unwrap().to_string();
    s.connections.disconnect(s.tenant).await.unwrap();
    assert_eq!(
        s.secrets
            .get(&token_path(s.tenant, "hubspot"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.connections
            .provider()
            .refresh(&refresh)
            .await
            .unwrap_err(),
        ProviderError::GrantRevoked
    );
    assert_eq!(
        s.connections.get(s.tenant).await.unwrap().unwrap().status,
        Status::Disconnected
    );
    assert!(matches!(
        s.connections.access_token(s.tenant).await,
        Err(ConnectError::NotConnected)
    ));
    // Twice is fine: nothing left to revoke.
    s.connections.disconnect(s.tenant).await.unwrap();
}
