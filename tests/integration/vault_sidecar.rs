//! The Vault adapter as it runs beside a sidecar, against OpenBao's own tools: `bao
//! proxy` with AppRole auto-auth (the platform holds no token at all), a token file an
//! agent's sink rewrites, a namespace, and a TLS server trusted through `VAULT_CACERT`.

use std::path::Path;
use std::time::Duration;

use pm_ports::secrets::{SecretData, SecretStore, VaultConfig, VaultStore};
use pm_ports::PortError;
use pm_tests::{eventually, peers, unique};
use serde_json::{json, Value};

use crate::secrets_contract::contract;

/// A call to the shared OpenBao dev server as its root.
async fn root(method: reqwest::Method, path: &str, namespace: Option<&str>, body: Value) -> Value {
    let vault = peers::vault();
    let mut request = reqwest::Client::new()
        .request(method, format!("{}/v1/{path}", vault.addr))
        .header("X-Vault-Token", &vault.token)
        .json(&body);
    if let Some(namespace) = namespace {
        request = request.header("X-Vault-Namespace", namespace);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A policy that may use the KV engine at `secret/` and nothing else.
async fn kv_policy() -> String {
    let name = unique("kv-");
    let policy = r#"path "secret/data/*" { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/*" { capabilities = ["read", "delete", "list"] }"#;
    root(
        reqwest::Method::PUT,
        &format!("sys/policies/acl/{name}"),
        None,
        json!({ "policy": policy }),
    )
    .await;
    name
}

async fn child_token(policy: &str) -> String {
    let created = root(
        reqwest::Method::POST,
        "auth/token/create",
        None,
        json!({ "policies": [policy], "ttl": "1h" }),
    )
    .await;
    created["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn store(config: VaultConfig) -> VaultStore {
    VaultStore::new(VaultConfig {
        mount: "secret".into(),
        timeout: Duration::from_secs(5),
        ..config
    })
    .unwrap()
}

/// Writes `text` to `path` as a sink does: a new file renamed into place.
fn replace_file(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn spawn(program: &str, args: &[String], log: &Path) -> tokio::process::Child {
    let log = std::fs::File::create(log).unwrap();
    tokio::process::Command::new(peers::tool(program))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{program} starts ({e}); run `make venv`"))
}

#[tokio::test]
async fn through_bao_proxy_with_approle_auto_auth_the_platform_needs_no_token() {
    let dir = std::env::temp_dir().join(unique("bao-proxy-"));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = kv_policy().await;
    let mount = unique("approle-");
    root(
        reqwest::Method::POST,
        &format!("sys/auth/{mount}"),
        None,
        json!({ "type": "approle" }),
    )
    .await;
    root(
        reqwest::Method::POST,
        &format!("auth/{mount}/role/platform"),
        None,
        json!({ "token_policies": [policy], "token_ttl": "1h" }),
    )
    .await;
    let role_id = root(
        reqwest::Method::GET,
        &format!("auth/{mount}/role/platform/role-id"),
        None,
        Value::Null,
    )
    .await["data"]["role_id"]
        .as_str()
        .unwrap()
        .to_string();
    let secret_id = root(
        reqwest::Method::POST,
        &format!("auth/{mount}/role/platform/secret-id"),
        None,
        json!({}),
    )
    .await["data"]["secret_id"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(dir.join("role-id"), role_id).unwrap();
    std::fs::write(dir.join("secret-id"), secret_id).unwrap();
    let port = peers::free_port();
    let config = format!(
        r#"vault {{ address = "{server}" }}
auto_auth {{
  method "approle" {{
    mount_path = "auth/{mount}"
    config = {{
      role_id_file_path = "{dir}/role-id"
      secret_id_file_path = "{dir}/secret-id"
      remove_secret_id_file_after_reading = false
    }}
  }}
}}
api_proxy {{ use_auto_auth_token = "force" }}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  tls_disable = true
  require_request_header = true
}}
"#,
        server = peers::vault().addr,
        dir = dir.display(),
    );
    std::fs::write(dir.join("proxy.hcl"), config).unwrap();
    let _proxy = spawn(
        "bao",
        &[
            "proxy".into(),
            format!("-config={}", dir.join("proxy.hcl").display()),
        ],
        &dir.join("proxy.log"),
    );
    let proxied = store(VaultConfig {
        addr: format!("http://127.0.0.1:{port}"),
        ..VaultConfig::default()
    });
    // The proxy is up once it has authenticated and forwards a write.
    let probe = SecretData::new().with("k", "v");
    eventually(
        "bao proxy forwards with its token",
        Duration::from_secs(20),
        || async { proxied.put("sidecar/probe", &probe).await.ok() },
    )
    .await;
    contract(&proxied).await;

    // Without X-Vault-Request the proxy refuses: the adapter sends it on every call.
    let bare = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/v1/secret/data/sidecar/probe"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 412, "require_request_header is on");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_token_file_is_read_again_when_the_agent_replaces_it() {
    let dir = std::env::temp_dir().join(unique("bao-token-"));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token");
    let policy = kv_policy().await;
    let first = child_token(&policy).await;
    replace_file(&token_file, &format!("{first}\n"));
    let from_file = store(VaultConfig {
        addr: peers::vault().addr.clone(),
        token_file: Some(token_file.clone()),
        ..VaultConfig::default()
    });
    let path = format!("sidecar/{}", unique("t-"));
    let data = SecretData::new().with("hash", "x");
    from_file.put(&path, &data).await.unwrap();

    // The agent renews into a new token and the old one is revoked: the next call reads
    // the file again instead of failing with the stale token.
    let second = child_token(&policy).await;
    replace_file(&token_file, &second);
    root(
        reqwest::Method::POST,
        "auth/token/revoke",
        None,
        json!({ "token": first }),
    )
    .await;
    assert_eq!(from_file.get(&path).await.unwrap(), Some(data));

    // An empty file (an agent not yet authenticated) is a transient failure, and says
    // which setting it is without printing any token.
    replace_file(&token_file, "");
    let err = from_file.get(&path).await.unwrap_err();
    assert!(matches!(err, PortError::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("VAULT_TOKEN_FILE"), "{err}");
    assert!(!err.to_string().contains(&second));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_namespace_is_sent_as_x_vault_namespace() {
    let namespace = unique("team-");
    root(
        reqwest::Method::POST,
        &format!("sys/namespaces/{namespace}"),
        None,
        json!({}),
    )
    .await;
    root(
        reqwest::Method::POST,
        "sys/mounts/secret",
        Some(&namespace),
        json!({ "type": "kv", "options": { "version": "2" } }),
    )
    .await;
    let vault = peers::vault();
    let scoped = store(VaultConfig {
        addr: vault.addr.clone(),
        token: Some(vault.token.clone().into()),
        namespace: Some(namespace.clone()),
        ..VaultConfig::default()
    });
    contract(&scoped).await;
    let path = format!("sidecar/{}", unique("ns-"));
    scoped
        .put(&path, &SecretData::new().with("k", "in the namespace"))
        .await
        .unwrap();
    let inside = root(
        reqwest::Method::GET,
        &format!("secret/data/{path}"),
        Some(&namespace),
        Value::Null,
    )
    .await;
    assert_eq!(inside["data"]["data"]["k"], "in the namespace");
    let outside = store(VaultConfig {
        addr: vault.addr.clone(),
        token: Some(vault.token.clone().into()),
        ..VaultConfig::default()
    });
    assert_eq!(
        outside.get(&path).await.unwrap(),
        None,
        "not in the root namespace"
    );
}

#[tokio::test]
async fn an_https_server_is_trusted_through_vault_cacert_and_only_then() {
    let dir = std::env::temp_dir().join(unique("bao-tls-"));
    std::fs::create_dir_all(&dir).unwrap();
    let port = peers::free_port();
    let token = unique("root-");
    let _server = spawn(
        "bao",
        &[
            "server".into(),
            "-dev".into(),
            "-dev-tls".into(),
            format!("-dev-tls-cert-dir={}", dir.display()),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            format!("-dev-root-token-id={token}"),
        ],
        &dir.join("server.log"),
    );
    let ca = dir.join("vault-ca.pem");
    eventually(
        "the TLS dev server's CA file",
        Duration::from_secs(20),
        || async { ca.exists().then_some(()) },
    )
    .await;
    let addr = format!("https://127.0.0.1:{port}");
    let trusted = store(VaultConfig {
        addr: addr.clone(),
        token: Some(token.clone().into()),
        ca_cert: Some(ca.clone()),
        ..VaultConfig::default()
    });
    let probe = SecretData::new().with("k", "v");
    eventually(
        "the TLS dev server answers",
        Duration::from_secs(20),
        || async { trusted.put("sidecar/probe", &probe).await.ok() },
    )
    .await;
    contract(&trusted).await;

    let untrusting = store(VaultConfig {
        addr,
        token: Some(token.into()),
        ..VaultConfig::default()
    });
    let err = untrusting.get("sidecar/probe").await.unwrap_err();
    assert!(matches!(err, PortError::Unavailable { .. }), "{err:?}");
    let missing = VaultStore::new(VaultConfig {
        ca_cert: Some(dir.join("nope.pem")),
        ..VaultConfig::default()
    })
    .err()
    .unwrap();
    assert!(missing.to_string().contains("VAULT_CACERT"), "{missing}");
    let _ = std::fs::remove_dir_all(&dir);
}
