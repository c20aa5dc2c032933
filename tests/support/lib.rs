//! The test harness: real peers (PostgreSQL, OpenBao, moto) for the integration tests.
//!
//! OpenBao and moto are started on free loopback ports the first time a test needs them,
//! unless `VAULT_ADDR`/`VAULT_TOKEN` or `MOTO_ENDPOINT` point at running ones. They are
//! shared by every test of the process (tests use unique names, so they cannot collide)
//! and die with it.

pub mod aws;
pub mod db;
mod eventually;
pub mod hubspot;
pub mod lambda_emulator;
pub mod mail;
pub mod peers;
pub mod postgres_server;
pub mod receiver;
pub mod system;
pub mod webhooks;

pub use eventually::eventually;

/// The workspace root, for tests that read template.yaml, openapi.yaml and friends.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Where tests keep what CI should keep (screenshots, reports): `target/artifacts`.
pub fn artifacts() -> std::path::PathBuf {
    let dir = workspace_root().join("target/artifacts");
    std::fs::create_dir_all(&dir).expect("target/artifacts can be made");
    dir
}

/// A finished child process as a failure message: its exit code and the last 20 KB of
/// its stdout and stderr.
pub fn explain(output: &std::process::Output) -> String {
    let tail = |bytes: &[u8]| {
        String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(20_000)..]).into_owned()
    };
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status.code(),
        tail(&output.stdout),
        tail(&output.stderr)
    )
}

/// A short unique suffix for names of queues, tables, secrets and databases.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Runs the code of template.yaml's CloudFront function `resource` in Node, as a
/// viewer-request handler for each of `uris`: the URIs it rewrites them to.
pub async fn cloudfront_function(resource: &str, uris: &[&str]) -> Vec<String> {
    let template: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap(),
    )
    .unwrap();
    let code = template["Resources"][resource]["Properties"]["FunctionCode"]
        .as_str()
        .unwrap_or_else(|| panic!("template.yaml has {resource}'s code"));
    let script = format!(
        "{code}\nconsole.log(JSON.stringify({uris:?}.map((uri) => handler({{ request: {{ uri }} }}).uri)));"
    );
    let output = tokio::process::Command::new("node")
        .args(["-e", &script])
        .output()
        .await
        .expect("node runs");
    assert!(output.status.success(), "{}", explain(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}
