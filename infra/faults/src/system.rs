//! The system under test: the local runtime (`pm-local serve`, every route, consumer and
//! schedule in one process) as a child process, its peers each behind a [`FaultProxy`]:
//! a PostgreSQL of its own (restartable), OpenBao, moto's DynamoDB and SQS, a webhook
//! receiver, and an SMTP server (aiosmtpd) as the tenant's mail transport.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use pm_tests::mail::SmtpSink;
use pm_tests::peers;
use pm_tests::postgres_server::PostgresServer;
use pm_tests::receiver::Receiver;
use serde_json::{json, Value};

use crate::proxy::FaultProxy;

/// The process's database pool: the most connections it may hold (the soak checks it).
pub const POOL_SIZE: usize = 4;

pub struct Proxies {
    pub postgres: FaultProxy,
    pub secrets: FaultProxy,
    pub kv: FaultProxy,
    pub queue: FaultProxy,
    pub smtp: FaultProxy,
}

pub struct System {
    pub postgres: PostgresServer,
    pub proxies: Proxies,
    pub receiver: Receiver,
    pub smtp: SmtpSink,
    pub base_url: String,
    /// A key of the system's own (all scopes), created through the API, so it outlives
    /// restarts of the process (the demo key does not).
    pub api_key: String,
    pub webhook_secret: String,
    port: u16,
    env: Vec<(String, String)>,
    child: Option<Child>,
    log: PathBuf,
}

impl Drop for System {
    fn drop(&mut self) {
        self.kill();
    }
}

fn socket(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = url.trim_start_matches("http://");
    Ok(rest.trim_end_matches('/').parse()?)
}

impl System {
    pub async fn start(out: &std::path::Path) -> anyhow::Result<Self> {
        let postgres = tokio::task::spawn_blocking(|| PostgresServer::start(&[], |_| {})).await?;
        let vault = peers::vault();
        let moto = peers::moto();
        let smtp = tokio::task::spawn_blocking(|| SmtpSink::start(None)).await?;
        let proxies = Proxies {
            postgres: FaultProxy::start(([127, 0, 0, 1], postgres.port).into()).await?,
            secrets: FaultProxy::start(socket(&vault.addr)?).await?,
            kv: FaultProxy::start(socket(&moto.endpoint)?).await?,
            queue: FaultProxy::start(socket(&moto.endpoint)?).await?,
            smtp: FaultProxy::start(([127, 0, 0, 1], smtp.port()).into()).await?,
        };
        let port = peers::free_port();
        let scope = pm_tests::unique("faults-");
        let env = vec![
            (
                "DATABASE_URL",
                format!(
                    "postgres://postgres@{}/penguinmails_faults?sslmode=disable",
                    proxies.postgres.addr
                ),
            ),
            ("DB_CONNECT_TIMEOUT_SECS", "2".into()),
            ("DB_POOL_SIZE", POOL_SIZE.to_string()),
            // As the functions' own timeout (template.yaml's Globals: 10 s): a request
            // held by an unreachable peer is answered 503 at its deadline, before the
            // client's own 10 s timeout.
            ("LOCAL_REQUEST_TIMEOUT_MS", "10000".into()),
            ("SECRETS_BACKEND", "vault".into()),
            ("VAULT_ADDR", format!("http://{}", proxies.secrets.addr)),
            ("VAULT_TOKEN", vault.token.clone()),
            ("VAULT_TIMEOUT_SECS", "2".into()),
            ("KV_BACKEND", "dynamodb".into()),
            ("KV_TABLE", scope.clone()),
            ("KV_CREATE_TABLE", "true".into()),
            (
                "AWS_ENDPOINT_URL_DYNAMODB",
                format!("http://{}", proxies.kv.addr),
            ),
            ("QUEUE_BACKEND", "sqs".into()),
            ("SQS_CREATE_QUEUES_WITH_PREFIX", format!("{scope}-")),
            (
                "AWS_ENDPOINT_URL_SQS",
                format!("http://{}", proxies.queue.addr),
            ),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_OPERATION_TIMEOUT_MS", "4000".into()),
            // The suite's load is far above a person's; limits are not what it measures.
            ("DASHBOARD_REQUESTS_PER_MINUTE", "100000".into()),
            // Shortened delivery settings, so a fault's backlog drains in seconds: one
            // attempt may take 3 s, and retries come after 0.5, 1, 2, 4 and 8 s.
            ("WEBHOOK_TIMEOUT_MS", "3000".into()),
            (
                "WEBHOOK_RETRY_SCHEDULE_MS",
                "500,1000,2000,4000,8000".into(),
            ),
            // Email through the SMTP server on loopback, with a shortened retry clock:
            // 2, 4, 8, 16 s between the five attempts, 30 s in all (production's 30 s
            // base covers seven and a half minutes), so a 10 s outage is outlasted.
            ("MAIL_ALLOW_PRIVATE_SMTP", "true".into()),
            ("MAIL_TIMEOUT_MS", "3000".into()),
            ("EMAIL_RETRY_BASE_MS", "2000".into()),
            ("EMAIL_LEASE_SECS", "10".into()),
            // A delivery whose message died with a killed dispatcher is sent again after
            // this (120 s by default: the bound for a crash mid-batch).
            ("WEBHOOK_REQUEUE_AFTER_SECS", "10".into()),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let receiver = Receiver::start().await;
        let mut system = Self {
            postgres,
            proxies,
            receiver,
            smtp,
            base_url: format!("http://127.0.0.1:{port}"),
            api_key: String::new(),
            webhook_secret: String::new(),
            port,
            env,
            child: None,
            log: out.join("pm-local.log"),
        };
        let credentials = system.spawn().await?;
        system.seed(&credentials).await?;
        Ok(system)
    }

    /// Starts `pm-local serve` and waits until `/health` answers; returns its
    /// credentials file's contents.
    pub async fn spawn(&mut self) -> anyhow::Result<Value> {
        let binary = pm_tests::workspace_root().join("target/debug/pm-local");
        anyhow::ensure!(
            binary.exists(),
            "build pm-local first (cargo build -p pm-local)"
        );
        let credentials = self.log.with_file_name("credentials.json");
        let _ = std::fs::remove_file(&credentials);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(binary)
            .args([
                "serve",
                "--port",
                &self.port.to_string(),
                "--credentials-out",
            ])
            .arg(&credentials)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("pm-local starts")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(text) = std::fs::read_to_string(&credentials) {
                if let Ok(value) = serde_json::from_str::<Value>(&text) {
                    return Ok(value);
                }
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "pm-local did not start; see {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The running process's id, for the soak's memory and descriptor samples.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL: no shutdown code runs, as when Lambda kills a container.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn seed(&mut self, credentials: &Value) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let session = credentials["session_token"].as_str().unwrap_or_default();
        let key: Value = http
            .post(format!("{}/api/v1/platform/api-keys", self.base_url))
            .bearer_auth(session)
            .json(&json!({
                "name": "fault suite",
                "scopes": ["manage_contacts", "manage_webhooks", "send_email"]
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        self.api_key = key["secret"].as_str().context("a key secret")?.to_string();
        // The demo tenant's limits are a plan's; the suite's load needs none.
        let client = connect_direct(&self.postgres.url("penguinmails_faults")).await?;
        client
            .execute("UPDATE tenants SET rate_limit_per_minute = 1000000", &[])
            .await?;
        let webhook: Value = http
            .post(format!("{}/api/v1/webhooks", self.base_url))
            .bearer_auth(&self.api_key)
            .json(&json!({
                "url": self.receiver.url("/hook"),
                "event_types": ["contact.created"],
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        self.webhook_secret = webhook["secret"].as_str().unwrap_or_default().to_string();
        http.put(format!("{}{}", self.base_url, pm_tests::mail::PROVIDER))
            .bearer_auth(session)
            .json(&json!({
                "transport": {
                    "type": "smtp",
                    "host": "127.0.0.1",
                    "port": self.proxies.smtp.addr.port(),
                    "security": "none",
                },
                "senders": ["@example.com"],
            }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

/// A direct connection to the system's database (past the proxy), for the suite's checks.
pub async fn connect_direct(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}
