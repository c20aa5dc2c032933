//! The deploy-time setup (pm-deploy) as CloudFormation drives it, on real PostgreSQL and
//! OpenBao: migrations as the schema owner, a runtime role that can change rows but not
//! tables, the platform secrets, and the custom resource's answer.

use std::time::Duration;

use pm_config::Env;
use pm_ports::secrets::{SecretData, SecretStore, VaultConfig, VaultStore};
use pm_runtime::Deps;
use pm_tests::db::{config_for, server_url};
use pm_tests::peers;
use pm_tests::receiver::{Receiver, Reply};
use serde_json::{json, Value};

/// A database with nothing in it, a role name, and secret paths of its own (the
/// platform's are `platform/database_migration` and `platform/database_runtime`).
struct Stage {
    database: String,
    role: String,
    migration_secret: String,
    runtime_secret: String,
    secrets: VaultStore,
}

impl Stage {
    async fn new() -> Self {
        let database = pm_tests::unique("pm_test_deploy_");
        pm_store::ensure_database(&config_for(&database))
            .await
            .unwrap();
        let scope = pm_tests::unique("deploy_");
        let vault = peers::vault();
        let secrets = VaultStore::new(VaultConfig {
            addr: vault.addr.clone(),
            token: Some(vault.token.clone().into()),
            mount: "secret".into(),
            timeout: Duration::from_secs(5),
            ..VaultConfig::default()
        })
        .unwrap();
        Self {
            database,
            role: pm_tests::unique("pm_rt_"),
            migration_secret: format!("{scope}/database_migration"),
            runtime_secret: format!("{scope}/database_runtime"),
            secrets,
        }
    }

    /// What the template gives the function: a URL naming only the host, and secrets.
    fn env(&self, extra: &[(&str, &str)]) -> Env {
        let vault = peers::vault();
        let mut vars = vec![
            (
                "DATABASE_URL".to_string(),
                format!(
                    "postgres://127.0.0.1:5432/{}?sslmode=disable",
                    self.database
                ),
            ),
            ("DB_POOL_SIZE".into(), "1".into()),
            ("SECRETS_BACKEND".into(), "vault".into()),
            ("VAULT_ADDR".into(), vault.addr.clone()),
            ("VAULT_TOKEN".into(), vault.token.clone()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Env::fixed(vars)
    }

    fn setup_env(&self) -> Env {
        self.env(&[
            ("DATABASE_SECRET", &self.migration_secret),
            ("DB_RUNTIME_SECRET", &self.runtime_secret),
        ])
    }

    async fn put_credentials(&self, path: &str, user: &str, password: &str) {
        let data = SecretData::new()
            .with("username", user)
            .with("password", password);
        self.secrets.put(path, &data).await.unwrap();
    }

    /// A connection as the runtime role (the server trusts loopback, so the role's
    /// password is not what is checked here: its verifier is, below).
    async fn as_runtime(&self) -> tokio_postgres::Client {
        let url = format!(
            "postgres://{}@127.0.0.1:5432/{}?sslmode=disable",
            self.role, self.database
        );
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    }

    async fn drop_all(self) {
        let (admin, connection) = tokio_postgres::connect(&server_url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        for statement in [
            format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.database),
            format!("DROP ROLE IF EXISTS \"{}\"", self.role),
        ] {
            admin.batch_execute(&statement).await.unwrap();
        }
    }
}

fn request(kind: &str, receiver: &Receiver) -> Value {
    json!({
        "RequestType": kind,
        "ResponseURL": receiver.url("/cfn-response?X-Amz-Signature=abc"),
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/pm/1",
        "RequestId": uuid::Uuid::new_v4().to_string(),
        "ResourceType": "Custom::DeploySetup",
        "LogicalResourceId": "DeploySetup",
        "ResourceProperties": { "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:setup" }
    })
}

async fn invoke(deps: &Deps, event: Value) -> Result<Value, String> {
    pm_deploy::handle(
        deps,
        event,
        Duration::from_secs(120),
        &pm_deploy::http_client(),
    )
    .await
    .map_err(|e| e.to_string())
}

fn migration_count() -> usize {
    std::fs::read_dir(pm_tests::workspace_root().join("infra/migrations"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count()
}

#[tokio::test]
async fn a_fresh_stack_is_set_up_by_the_custom_resource_and_again_harmlessly() {
    let stage = Stage::new().await;
    stage
        .put_credentials(&stage.migration_secret, "postgres", "unused-on-loopback")
        .await;
    stage
        .put_credentials(
            &stage.runtime_secret,
            &stage.role,
            "Gen3ratedPassw0rdWithoutPunctuation",
        )
        .await;
    let receiver = Receiver::start().await;
    let deps = Deps::new(stage.setup_env());

    let answer = invoke(&deps, request("Create", &receiver)).await.unwrap();
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(answer["Data"]["MigrationsApplied"], migration_count());
    assert_eq!(answer["Data"]["RuntimeRole"], stage.role.as_str());
    assert_eq!(answer["PhysicalResourceId"], pm_deploy::PHYSICAL_ID);
    // CloudFormation got the same answer, by PUT with the empty content type the
    // pre-signed URL was signed for.
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].method, "PUT");
    assert_eq!(got[0].path, "/cfn-response?X-Amz-Signature=abc");
    assert_eq!(got[0].header("content-type"), "");
    assert_eq!(got[0].json(), answer);

    // The platform secrets exist, so every function finds them at cold start.
    let pepper = pm_auth::platform::pepper(&stage.secrets).await;
    assert!(pepper.is_ok(), "{:?}", pepper.err());
    assert!(pm_auth::platform::session_key(&stage.secrets).await.is_ok());

    // The runtime role changes rows and nothing else.
    let runtime = stage.as_runtime().await;
    let tenant = uuid::Uuid::new_v4();
    runtime
        .execute(
            "INSERT INTO tenants (id, name, plan) VALUES ($1, 'Acme', 'starter')",
            &[&tenant],
        )
        .await
        .unwrap();
    let rows = runtime
        .execute("DELETE FROM tenants WHERE id = $1", &[&tenant])
        .await
        .unwrap();
    assert_eq!(rows, 1);
    for ddl in [
        "CREATE TABLE intruder (id int)",
        "DROP TABLE contacts",
        "ALTER TABLE contacts ADD COLUMN x int",
        "TRUNCATE event_outbox",
    ] {
        let err = runtime.batch_execute(ddl).await.expect_err(ddl);
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{ddl}: {err}"
        );
    }

    // Every other function connects as that role, its credentials from the secret.
    let runtime_deps = Deps::new(stage.env(&[("DATABASE_SECRET", &stage.runtime_secret)]));
    let db = runtime_deps.db().await.unwrap();
    let user: String = db
        .client()
        .await
        .unwrap()
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(user, stage.role);

    // The next deploy: nothing to migrate or create, the password rotated, success.
    stage
        .put_credentials(
            &stage.runtime_secret,
            &stage.role,
            "AnotherGeneratedPassword42",
        )
        .await;
    let answer = invoke(&deps, request("Update", &receiver)).await.unwrap();
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(answer["Data"]["MigrationsApplied"], 0);
    let stored: String = {
        let (admin, connection) = tokio_postgres::connect(&server_url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        admin
            .query_one(
                "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
                &[&stage.role],
            )
            .await
            .unwrap()
            .get(0)
    };
    assert_eq!(
        stored,
        verifier_with_salt_of(&stored, "AnotherGeneratedPassword42")
    );

    // Deleting the stack keeps the data.
    let answer = invoke(&deps, request("Delete", &receiver)).await.unwrap();
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let count: i64 = runtime
        .query_one("SELECT count(*) FROM contacts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
    assert_eq!(receiver.received().len(), 3);
    drop(runtime);
    stage.drop_all().await;
}

/// Our verifier for `password` with the salt of a stored one.
fn verifier_with_salt_of(stored: &str, password: &str) -> String {
    use base64::Engine;
    let salt = stored
        .split('$')
        .nth(1)
        .and_then(|s| s.split(':').nth(1))
        .expect("iterations:salt");
    let salt = base64::engine::general_purpose::STANDARD
        .decode(salt)
        .unwrap();
    pm_store::roles::scram_verifier(password, &salt).unwrap()
}

#[tokio::test]
async fn the_scram_verifier_is_the_one_postgresql_computes() {
    let (admin, connection) = tokio_postgres::connect(&server_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let role = pm_tests::unique("pm_scram_");
    admin
        .batch_execute(&format!(
            "SET password_encryption = 'scram-sha-256'; CREATE ROLE \"{role}\" PASSWORD 'correct horse 42'"
        ))
        .await
        .unwrap();
    let stored: String = admin
        .query_one(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
            &[&role],
        )
        .await
        .unwrap()
        .get(0);
    admin
        .batch_execute(&format!("DROP ROLE \"{role}\""))
        .await
        .unwrap();
    assert!(stored.starts_with("SCRAM-SHA-256$4096:"), "{stored}");
    assert_eq!(verifier_with_salt_of(&stored, "correct horse 42"), stored);
    assert_ne!(verifier_with_salt_of(&stored, "correct horse 43"), stored);
    // A password PostgreSQL would normalise first is refused, not hashed differently.
    assert!(pm_store::roles::scram_verifier("pässword", b"salt").is_err());
}

#[tokio::test]
async fn a_failed_setup_is_reported_to_cloudformation_and_a_delete_still_succeeds() {
    let stage = Stage::new().await;
    // No migration secret stored.
    let receiver = Receiver::start().await;
    let deps = Deps::new(stage.setup_env());
    let answer = invoke(&deps, request("Create", &receiver)).await.unwrap();
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(reason.contains(&stage.migration_secret), "{reason}");
    assert_eq!(
        receiver.wait_for(1, Duration::from_secs(5)).await[0].json(),
        answer
    );
    // CloudFormation rolls the failed create back with a delete, which must succeed.
    let answer = invoke(&deps, request("Delete", &receiver)).await.unwrap();
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");

    // A direct invoke reports the same failure as the invoke's error.
    let err = invoke(&deps, json!({})).await.unwrap_err();
    assert!(err.contains(&stage.migration_secret), "{err}");

    // An answer CloudFormation cannot take is retried, then reported, never dropped silently.
    stage
        .put_credentials(&stage.migration_secret, "postgres", "x")
        .await;
    receiver.always(Reply::Status(403));
    let err = invoke(&deps, request("Delete", &receiver))
        .await
        .unwrap_err();
    assert!(err.contains("HTTP 403"), "{err}");
    assert_eq!(receiver.received().len(), 2 + 3);
    stage.drop_all().await;
}

#[tokio::test]
async fn a_database_secret_with_a_missing_password_fails_the_cold_start_by_name() {
    let stage = Stage::new().await;
    stage
        .secrets
        .put(
            &stage.runtime_secret,
            &SecretData::new().with("username", "someone"),
        )
        .await
        .unwrap();
    let deps = Deps::new(stage.env(&[("DATABASE_SECRET", &stage.runtime_secret)]));
    let err = deps.db().await.err().expect("no pool").to_string();
    assert!(
        err.contains(&stage.runtime_secret) && err.contains("password"),
        "{err}"
    );
    stage.drop_all().await;
}
