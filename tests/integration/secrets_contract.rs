//! The secrets port's contract, run against every adapter: in-process, Vault KV v2 on a
//! real OpenBao dev server, and AWS Secrets Manager on moto.

use std::time::Duration;

use pm_ports::secrets::{
    MemorySecretStore, SecretData, SecretStore, SecretsManagerStore, VaultConfig, VaultStore,
};
use pm_ports::PortError;
use pm_tests::{aws, peers, unique};

pub(crate) async fn contract(store: &dyn SecretStore) {
    let base = unique("contract-");
    let path = format!("api_keys/{base}/key-1");

    assert_eq!(
        store.get(&path).await.unwrap(),
        None,
        "missing path reads as None"
    );

    let first = SecretData::new()
        .with("hash", "$2b$12$abcdefghijklmnopqrstuv")
        .with("note", "ünïcode \"quotes\" / slashes");
    store.put(&path, &first).await.unwrap();
    assert_eq!(store.get(&path).await.unwrap(), Some(first.clone()));

    // A put replaces the whole document; fields are not merged.
    let second = SecretData::new().with("hash", "replaced");
    store.put(&path, &second).await.unwrap();
    let read = store.get(&path).await.unwrap().unwrap();
    assert_eq!(read.get("hash"), Some("replaced"));
    assert_eq!(read.get("note"), None, "old fields must not survive a put");

    // Paths are independent.
    let sibling = format!("api_keys/{base}/key-2");
    assert_eq!(store.get(&sibling).await.unwrap(), None);

    store.delete(&path).await.unwrap();
    assert_eq!(store.get(&path).await.unwrap(), None, "deleted means gone");
    store.delete(&path).await.unwrap(); // deleting twice is fine

    for bad in ["", "../etc", "a//b", "with space", "/leading"] {
        assert!(
            matches!(store.get(bad).await, Err(PortError::Invalid(_))),
            "{bad:?} must be rejected"
        );
        assert!(matches!(
            store.put(bad, &second).await,
            Err(PortError::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn memory_adapter_meets_the_contract() {
    contract(&MemorySecretStore::new()).await;
}

fn vault_store(addr: String, token: Option<String>) -> VaultStore {
    VaultStore::new(VaultConfig {
        addr,
        token: token.map(Into::into),
        mount: "secret".into(),
        timeout: Duration::from_secs(5),
        ..VaultConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn vault_adapter_meets_the_contract_on_openbao() {
    let vault = peers::vault();
    contract(&vault_store(vault.addr.clone(), Some(vault.token.clone()))).await;
}

#[tokio::test]
async fn vault_adapter_writes_kv_v2_documents_other_tools_can_read() {
    let vault = peers::vault();
    let store = vault_store(vault.addr.clone(), Some(vault.token.clone()));
    let path = format!("api_keys/{}/k", unique("t"));
    store
        .put(&path, &SecretData::new().with("hash", "$2b$12$visible"))
        .await
        .unwrap();
    // Read it back with Vault's own HTTP API, as an operator or `bao kv get` would.
    let raw: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/secret/data/{path}", vault.addr))
        .header("X-Vault-Token", &vault.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw["data"]["data"]["hash"], "$2b$12$visible");
    assert_eq!(raw["data"]["metadata"]["version"], 1);

    // Delete removes every version (metadata included), not just the latest one.
    store.delete(&path).await.unwrap();
    let metadata = reqwest::Client::new()
        .get(format!("{}/v1/secret/metadata/{path}", vault.addr))
        .header("X-Vault-Token", &vault.token)
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.status(), 404, "no history is left behind");
}

/// An RDS or RDS Proxy secret (`{"username", "password", "port": 5432, …}`), as AWS or
/// an operator writes it: numbers read as their text, and anything nested is refused.
const RDS_STYLE: &str =
    r#"{"username":"pm_runtime","password":"pw","engine":"postgres","port":5432,"proxy":true}"#;

fn assert_rds_style(data: &SecretData) {
    assert_eq!(data.get("username"), Some("pm_runtime"));
    assert_eq!(data.get("port"), Some("5432"));
    assert_eq!(data.get("proxy"), Some("true"));
}

#[tokio::test]
async fn documents_other_tools_write_with_numbers_are_read_on_both_backends() {
    let vault = peers::vault();
    let store = vault_store(vault.addr.clone(), Some(vault.token.clone()));
    let path = format!("platform/{}", unique("db"));
    let http = reqwest::Client::new();
    let write = |data: &str| {
        http.post(format!("{}/v1/secret/data/{path}", vault.addr))
            .header("X-Vault-Token", &vault.token)
            .body(format!(r#"{{"data":{data}}}"#))
            .send()
    };
    assert!(write(RDS_STYLE).await.unwrap().status().is_success());
    assert_rds_style(&store.get(&path).await.unwrap().unwrap());
    assert!(write(r#"{"nested":{"a":"b"}}"#)
        .await
        .unwrap()
        .status()
        .is_success());
    assert!(store.get(&path).await.is_err(), "a nested value is refused");

    let sdk = aws::moto_sdk().await;
    let prefix = format!("{}/", unique("penguinmails-rds"));
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(format!("{prefix}platform/database_runtime"))
        .secret_string(RDS_STYLE)
        .send()
        .await
        .unwrap();
    let store = SecretsManagerStore::new(&sdk, prefix);
    assert_rds_style(
        &store
            .get("platform/database_runtime")
            .await
            .unwrap()
            .unwrap(),
    );
}

#[tokio::test]
async fn vault_without_a_valid_token_is_rejected_not_unavailable() {
    let vault = peers::vault();
    let store = vault_store(vault.addr.clone(), Some("not-a-token".into()));
    let err = store.get("api_keys/x/y").await.unwrap_err();
    assert!(matches!(err, PortError::Rejected { .. }), "{err:?}");
    assert!(
        !err.to_string().contains("not-a-token"),
        "token leaked: {err}"
    );
}

#[tokio::test]
async fn vault_that_is_down_is_unavailable() {
    let store = vault_store(format!("http://127.0.0.1:{}", peers::free_port()), None);
    let err = store
        .put("a/b", &SecretData::new().with("k", "v"))
        .await
        .unwrap_err();
    assert!(matches!(err, PortError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn secrets_manager_adapter_meets_the_contract_on_moto() {
    let sdk = aws::moto_sdk().await;
    contract(&SecretsManagerStore::new(&sdk, "penguinmails-test/")).await;
}

#[tokio::test]
async fn secrets_manager_that_is_down_is_unavailable() {
    let sdk = aws::unreachable_sdk().await;
    let err = SecretsManagerStore::new(&sdk, "p/")
        .get("a/b")
        .await
        .unwrap_err();
    assert!(matches!(err, PortError::Unavailable { .. }), "{err:?}");
}

/// A peer that takes the connection and never answers, as a stalled AWS endpoint does:
/// the SDK's attempt and operation limits end the call with a retryable failure instead
/// of letting a cold start or a request hang until Lambda's own limit.
#[tokio::test]
async fn a_stalled_aws_endpoint_times_out_instead_of_hanging() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let env = pm_config::Env::fixed([
        ("AWS_ATTEMPT_TIMEOUT_MS", "300"),
        ("AWS_OPERATION_TIMEOUT_MS", "1000"),
    ]);
    let store = SecretsManagerStore::new(&aws::sdk_with_timeouts(&endpoint, &env).await, "p/");
    let started = std::time::Instant::now();
    // Without the limits this would wait for the peer forever: bound the test itself.
    let err = tokio::time::timeout(Duration::from_secs(5), store.get("a/b"))
        .await
        .expect("the SDK gives up by itself")
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, PortError::Unavailable { .. }), "{err:?}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "ended by the limits: {took:?}"
    );

    let defaults = pm_ports::aws::timeout_config(&pm_config::Env::fixed::<&str, &str>([])).unwrap();
    assert_eq!(
        (
            defaults.connect_timeout(),
            defaults.operation_attempt_timeout(),
            defaults.operation_timeout()
        ),
        (
            Some(Duration::from_secs(2)),
            Some(Duration::from_secs(3)),
            Some(Duration::from_secs(8))
        )
    );
}
