//! Command-line options. Few enough to parse by hand, which keeps the build lean.

use std::path::PathBuf;

pub const USAGE: &str = "\
usage: pm-local [serve] [--host HOST] [--port PORT] [--credentials-out FILE]
       pm-local migrate
       pm-local provision-secrets
       pm-local rotate-tracking-key

  serve              run every route, the queue consumers and schedules (default)
  migrate            create the database if needed, apply migrations, and exit
  provision-secrets  create the platform secrets (key pepper, session signing key) in
                     the configured secrets store if missing, and exit
  rotate-tracking-key  sign new email tracking links with a new key; links signed with
                     the two keys before it keep working
  --host HOST        address to listen on (env HOST, default 127.0.0.1)
  --port PORT        port to listen on, 0 for any free one (env PORT, default 3000)
  --credentials-out FILE
                     write base_url, tenant_id, api_key and session_token of the demo
                     tenant as JSON to FILE (mode 0600)

Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/penguinmails_dev?sslmode=disable),
SECRETS_BACKEND, QUEUE_BACKEND, KV_BACKEND and the adapters' settings (see README).";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Serve(ServeOptions),
    Migrate,
    ProvisionSecrets,
    RotateTrackingKey,
    Help,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    pub host: String,
    pub port: u16,
    pub credentials_out: Option<PathBuf>,
}

/// Parses the arguments; `env` supplies `HOST` and `PORT` defaults.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    env: &pm_config::Env,
) -> Result<Command, String> {
    let mut args = args.into_iter().peekable();
    let command = match args.peek().map(String::as_str) {
        Some(word @ ("migrate" | "provision-secrets" | "rotate-tracking-key")) => {
            let command = match word {
                "migrate" => Command::Migrate,
                "provision-secrets" => Command::ProvisionSecrets,
                _ => Command::RotateTrackingKey,
            };
            args.next();
            if let Some(extra) = args.next() {
                return Err(format!("this command takes no arguments (got {extra:?})"));
            }
            return Ok(command);
        }
        Some("serve") => {
            args.next();
            "serve"
        }
        _ => "serve",
    };
    debug_assert_eq!(command, "serve");
    let mut options = ServeOptions {
        host: env.or("HOST", "127.0.0.1"),
        port: env.parsed_or("PORT", 3000u16).map_err(|e| e.to_string())?,
        credentials_out: None,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--host" => options.host = value("--host")?,
            "--port" => {
                let raw = value("--port")?;
                options.port = raw.parse().map_err(|_| {
                    format!("--port must be a number from 0 to 65535 (got {raw:?})")
                })?;
            }
            "--credentials-out" => {
                options.credentials_out = Some(value("--credentials-out")?.into())
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Command::Serve(options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_config::Env;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_come_from_env_then_flags_win() {
        let env = Env::fixed([("PORT", "4000")]);
        let Command::Serve(o) = parse(args(&[]), &env).unwrap() else {
            panic!()
        };
        assert_eq!((o.host.as_str(), o.port), ("127.0.0.1", 4000));
        let Command::Serve(o) = parse(
            args(&["serve", "--port", "0", "--credentials-out", "c.json"]),
            &env,
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(o.port, 0);
        assert_eq!(o.credentials_out, Some("c.json".into()));
    }

    #[test]
    fn bad_input_is_explained() {
        let env = Env::fixed::<&str, &str>([]);
        assert!(parse(args(&["--port", "http"]), &env)
            .unwrap_err()
            .contains("--port"));
        assert!(parse(args(&["--bogus"]), &env)
            .unwrap_err()
            .contains("--bogus"));
        assert!(parse(args(&["--port"]), &env)
            .unwrap_err()
            .contains("needs a value"));
        assert_eq!(parse(args(&["migrate"]), &env), Ok(Command::Migrate));
        assert_eq!(
            parse(args(&["rotate-tracking-key"]), &env),
            Ok(Command::RotateTrackingKey)
        );
        assert!(parse(args(&["rotate-tracking-key", "now"]), &env).is_err());
    }
}
