use std::process::ExitCode;

use pm_config::Env;
use pm_local::cli::{self, Command};
use pm_local::runtime;

#[tokio::main]
async fn main() -> ExitCode {
    pm_http::telemetry::init();
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

async fn serve(options: &cli::ServeOptions, env: &Env) -> anyhow::Result<()> {
    let running = runtime::start(options, env).await?;
    let base = running.base_url();
    println!("PenguinMails local runtime listening on {base}");
    println!("  health:      {base}/health");
    println!("  demo tenant: {}", running.tenant.id);
    if let Some(path) = &options.credentials_out {
        println!("  credentials: {}", path.display());
    }
    tokio::select! {
        () = running.wait() => {}
        _ = tokio::signal::ctrl_c() => println!("shutting down"),
    }
    Ok(())
}
