use std::process::ExitCode;

use pm_config::Env;
use pm_local::cli::{self, Command};
use pm_local::runtime;

#[tokio::main]
async fn main() -> ExitCode {
    pm_runtime::telemetry::init();
    let env = runtime::local_env(Env::process());
    let command = match cli::parse(std::env::args().skip(1), &env) {
        Ok(command) => command,
        Err(problem) => {
            eprintln!("pm-local: {problem}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let outcome = match command {
        Command::Help => {
            println!("{}", cli::USAGE);
            Ok(())
        }
        Command::Migrate => migrate(&env).await,
        Command::ProvisionSecrets => provision_secrets(&env).await,
        Command::RotateTrackingKey => rotate_tracking_key(&env).await,
        Command::Serve(options) => serve(&options, &env).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pm-local: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(env: &Env) -> anyhow::Result<()> {
    let database = pm_store::DatabaseConfig::from_env(env)?;
    runtime::prepare_database(&database).await?;
    println!("migrations applied");
    Ok(())
}

/// Creates the platform secrets (lookup pepper, session signing key) in the configured
/// secrets store if they are missing: run once per environment before the functions.
async fn provision_secrets(env: &Env) -> anyhow::Result<()> {
    let secrets = pm_runtime::Deps::new(env.clone()).secrets().await?;
    let created = pm_auth::platform::provision(secrets.as_ref()).await?;
    if created.is_empty() {
        println!("platform secrets already present; nothing changed");
    }
    for path in created {
        println!("created {path}");
    }
    Ok(())
}

/// A new email tracking key; the previous two keep verifying links already sent.
async fn rotate_tracking_key(env: &Env) -> anyhow::Result<()> {
    let secrets = pm_runtime::Deps::new(env.clone()).secrets().await?;
    pm_email_delivery::rotate_tracking_key(secrets.as_ref())
        .await
        .map_err(anyhow::Error::from_boxed)?;
    println!(
        "rotated {}; functions sign with the new key from their next cold start",
        pm_email_delivery::TRACKING_KEY_PATH
    );
    Ok(())
}

async fn serve(options: &cli::ServeOptions, env: &Env) -> anyhow::Result<()> {
    let running = runtime::start(options, env).await?;
    let base = running.base_url();
    println!("PenguinMails local runtime listening on {base}");
    println!("  health:      {base}/health");
    println!("  API docs:    {base}/api/docs");
    println!("  dashboard:   {base}/dashboard");
    println!(
        "  one-time dashboard sign-in link (owner of the demo tenant): {}",
        running.sign_in_url()
    );
    running.app.sign_in.announce_at(&base);
    println!("  demo tenant: {}", running.tenant.id);
    println!("  demo API key (all scopes): {}", running.api_key);
    println!(
        "  try: curl -H 'Authorization: Bearer {}' {base}/api/v1/me",
        running.api_key
    );
    if let Some(path) = &options.credentials_out {
        println!("  credentials: {}", path.display());
    }
    tokio::select! {
        () = running.wait() => {}
        _ = tokio::signal::ctrl_c() => println!("shutting down"),
    }
    Ok(())
}
