//! Starting the whole system: database, migrations, demo tenant, ports, schedules and
//! the listener.

use std::net::SocketAddr;

use anyhow::Context;
use pm_config::Env;
use pm_runtime::Deps;
use pm_store::tenants::Tenant;
use pm_store::DatabaseConfig;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cli::ServeOptions;
use crate::credentials::Credentials;
use crate::{consumers, schedules, seed, server, App};

/// The development database the local runtime uses when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str =
    "postgres://postgres@127.0.0.1:5432/penguinmails_dev?sslmode=disable";

/// The environment with the local runtime's defaults filled in.
pub fn local_env(env: Env) -> Env {
    env.with_default("DATABASE_URL", DEFAULT_DATABASE_URL)
        .with_default("DB_POOL_SIZE", "16")
        // Local receivers listen on this machine, without certificates.
        .with_default("WEBHOOK_ALLOW_LOOPBACK", "true")
        .with_default("WEBHOOK_ALLOW_HTTP", "true")
        // Tenants' SMTP servers may be local sinks.
        .with_default("MAIL_ALLOW_PRIVATE_SMTP", "true")
}

/// Creates the database if needed and applies migrations; explains how to fix a
/// database that cannot be reached.
pub async fn prepare_database(config: &DatabaseConfig) -> anyhow::Result<()> {
    pm_store::ensure_database(config).await.map_err(|e| {
        anyhow::anyhow!(
            "PostgreSQL is not reachable ({e}).\n\
             Start it, or point DATABASE_URL at one, e.g.\n  \
             DATABASE_URL='postgres://user:password@host:5432/penguinmails_dev?sslmode=disable' make dev\n\
             (without sslmode the connection must be TLS with a certificate the system trusts)"
        )
    })?;
    let db = pm_store::Db::new(config)?;
    pm_store::migrate(&db)
        .await
        .context("applying migrations")?;
    Ok(())
}

/// A running local system.
pub struct Running {
    pub addr: SocketAddr,
    pub tenant: Tenant,
    pub app: App,
    /// The demo key (all scopes) and owner session created at start.
    pub api_key: String,
    pub session_token: String,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    workers: Vec<JoinHandle<()>>,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new one-time dashboard sign-in link for the demo tenant's owner.
    pub fn sign_in_url(&self) -> String {
        format!(
            "{}{}",
            self.base_url(),
            self.app.sign_in.issue(self.tenant.id)
        )
    }

    pub fn credentials(&self) -> Credentials {
        Credentials {
            base_url: self.base_url(),
            tenant_id: self.tenant.id,
            api_key: self.api_key.clone(),
            session_token: self.session_token.clone(),
            sign_in_url: self.sign_in_url(),
        }
    }

    /// Stops accepting connections and the background work, and waits for both.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        for worker in self.workers {
            let _ = worker.await;
        }
        // Whatever usage the flusher had not written yet.
        if let Err(e) = self.app.auth.usage().flush(&self.app.db).await {
            tracing::warn!(error = %e, "final usage flush failed");
        }
    }

    /// Runs until the listener stops (it only stops through [`Running::stop`]).
    pub async fn wait(self) {
        let _ = self.server.await;
    }
}

/// Starts everything: database, migrations, ports, demo tenant, key and session,
/// schedules and the listener.
pub async fn start(options: &ServeOptions, env: &Env) -> anyhow::Result<Running> {
    let database = DatabaseConfig::from_env(env)?;
    prepare_database(&database).await?;
    let (listener, addr) = server::bind(&options.host, options.port)
        .await
        .with_context(|| format!("cannot listen on {}:{}", options.host, options.port))?;
    // Tracking and unsubscribe links in sent emails point back at this listener.
    let env = env
        .clone()
        .with_default("PUBLIC_BASE_URL", &format!("http://{addr}"));
    let app = App::build(&Deps::new(env.clone())).await?;
    let tenant = seed::demo_tenant(&app.db).await?;
    seed::demo_email_provider(&app, &tenant).await?;
    let api_key = seed::demo_api_key(&app, &tenant).await?;
    let session_token = seed::demo_session(&app, &tenant);
    let (stop, stopped) = watch::channel(false);
    let mut workers = schedules::spawn_all(&app, &stopped);
    if let Some(path) = &options.credentials_out {
        workers.push(spawn_session_refresher(
            &app,
            &stopped,
            path.clone(),
            Credentials {
                base_url: format!("http://{addr}"),
                tenant_id: tenant.id,
                api_key: api_key.clone(),
                session_token: String::new(),
                sign_in_url: String::new(),
            },
        ));
    }
    workers.extend(consumers::spawn_all(&app, &stopped));
    workers.push(spawn_usage_flusher(&app, &stopped));
    let mut server_stopped = stopped.clone();
    let limits = server::Limits::from_env(&env)?;
    let server = tokio::spawn(server::serve(listener, app.clone(), limits, async move {
        let _ = server_stopped.wait_for(|stopped| *stopped).await;
    }));
    let running = Running {
        addr,
        tenant,
        app,
        api_key,
        session_token,
        stop,
        server,
        workers,
    };
    if let Some(path) = &options.credentials_out {
        running
            .credentials()
            .write(path)
            .with_context(|| format!("writing credentials to {}", path.display()))?;
    }
    Ok(running)
}

/// Sessions live 15 minutes: every 10 the demo owner's is re-issued into the
/// credentials file, so scripts reading it always find a valid one.
fn spawn_session_refresher(
    app: &App,
    stop: &watch::Receiver<bool>,
    path: std::path::PathBuf,
    mut credentials: Credentials,
) -> JoinHandle<()> {
    let app = app.clone();
    let mut stop = stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(600)) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            credentials.session_token = seed::demo_session_for(&app, credentials.tenant_id);
            credentials.sign_in_url = format!(
                "{}{}",
                credentials.base_url,
                app.sign_in.issue(credentials.tenant_id)
            );
            if let Err(e) = credentials.write(&path) {
                tracing::warn!(error = %e, "refreshing the demo session in the credentials file failed");
            }
        }
    })
}

/// Writes API-key usage every half second, so requests never wait on it.
fn spawn_usage_flusher(app: &App, stop: &watch::Receiver<bool>) -> JoinHandle<()> {
    let app = app.clone();
    let mut stop = stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            if let Err(e) = app.auth.usage().flush(&app.db).await {
                tracing::warn!(error = %e, "usage flush failed; kept for the next one");
            }
        }
    })
}
