//! Logging: JSON lines in Lambda (CloudWatch parses them; the function's LoggingConfig
//! sets `AWS_LAMBDA_LOG_FORMAT=JSON`), readable lines locally. `RUST_LOG` filters, and
//! `AWS_LAMBDA_LOG_LEVEL` is honoured when set by the function's log configuration.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var("AWS_LAMBDA_LOG_LEVEL").ok())
        .map(|level| EnvFilter::new(level.to_ascii_lowercase()))
        .unwrap_or_else(|| EnvFilter::new("info"));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
        .map(|f| f.eq_ignore_ascii_case("json"))
        .unwrap_or(false)
        || std::env::var("LOG_FORMAT")
            .map(|f| f == "json")
            .unwrap_or(false);
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // `try_init` so tests and a runtime that already set a subscriber do not panic.
    let _ = if json {
        builder
            .json()
            .with_current_span(false)
            .without_time() // CloudWatch stamps each line itself
            .try_init()
    } else {
        builder.compact().try_init()
    };
}
