use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use crate::Redacted;

/// Why a configuration could not be built. It always names the variable and never
/// carries a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {var} is required but not set")]
    Missing { var: String },
    #[error("environment variable {var} is invalid: {reason}")]
    Invalid { var: String, reason: String },
}

impl ConfigError {
    pub fn invalid(var: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            var: var.to_string(),
            reason: reason.into(),
        }
    }
}

/// Where configuration values come from: the process environment, or a fixed map in
/// tests (so tests never mutate the global environment, which is racy across threads).
#[derive(Debug, Clone, Default)]
pub struct Env {
    fixed: Option<HashMap<String, String>>,
    defaults: HashMap<String, String>,
}

impl Env {
    /// The real process environment.
    pub fn process() -> Self {
        Self::default()
    }

    /// A fixed set of variables, for tests and for the local runtime's overrides.
    pub fn fixed<K: Into<String>, V: Into<String>>(vars: impl IntoIterator<Item = (K, V)>) -> Self {
        Self {
            fixed: Some(
                vars.into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
            defaults: HashMap::new(),
        }
    }

    /// The same source, with `value` used for `var` when the source has none: how the
    /// local runtime supplies its development defaults.
    pub fn with_default(mut self, var: &str, value: &str) -> Self {
        self.defaults.insert(var.to_string(), value.to_string());
        self
    }

    /// A value, treating an empty string as unset (a common shell and SAM idiom).
    pub fn get(&self, var: &str) -> Option<String> {
        let value = match &self.fixed {
            Some(map) => map.get(var).cloned(),
            None => std::env::var(var).ok(),
        };
        value
            .filter(|v| !v.trim().is_empty())
            .or_else(|| self.defaults.get(var).cloned())
    }

    pub fn required(&self, var: &str) -> Result<String, ConfigError> {
        self.get(var).ok_or_else(|| ConfigError::Missing {
            var: var.to_string(),
        })
    }

    pub fn required_secret(&self, var: &str) -> Result<Redacted<String>, ConfigError> {
        self.required(var).map(Redacted::new)
    }

    pub fn optional_secret(&self, var: &str) -> Option<Redacted<String>> {
        self.get(var).map(Redacted::new)
    }

    pub fn or(&self, var: &str, default: &str) -> String {
        self.get(var).unwrap_or_else(|| default.to_string())
    }

    /// A parsed value with a default; a value that does not parse is an error naming it.
    pub fn parsed_or<T>(&self, var: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(var) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e: T::Err| ConfigError::invalid(var, format!("{e} (got {raw:?})"))),
        }
    }

    /// One of a fixed set of words (case-insensitive), with a default.
    pub fn choice<'a>(
        &self,
        var: &str,
        allowed: &[&'a str],
        default: &'a str,
    ) -> Result<&'a str, ConfigError> {
        let Some(raw) = self.get(var) else {
            return Ok(default);
        };
        let wanted = raw.trim().to_ascii_lowercase();
        allowed
            .iter()
            .find(|a| **a == wanted)
            .copied()
            .ok_or_else(|| {
                ConfigError::invalid(
                    var,
                    format!("expected one of {}, got {raw:?}", allowed.join(", ")),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_variable_is_named() {
        let env = Env::fixed([("OTHER", "1")]);
        let err = env.required("DATABASE_URL").unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable DATABASE_URL is required but not set"
        );
    }

    #[test]
    fn empty_counts_as_unset() {
        let env = Env::fixed([("X", "  ")]);
        assert_eq!(env.get("X"), None);
        assert_eq!(env.or("X", "d"), "d");
    }

    #[test]
    fn defaults_fill_only_gaps() {
        let env = Env::fixed([("A", "set")])
            .with_default("A", "default-a")
            .with_default("B", "default-b");
        assert_eq!(env.get("A").as_deref(), Some("set"));
        assert_eq!(env.get("B").as_deref(), Some("default-b"));
    }

    #[test]
    fn bad_number_names_variable_and_value() {
        let env = Env::fixed([("DB_POOL_SIZE", "many")]);
        let err = env.parsed_or("DB_POOL_SIZE", 4u32).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("DB_POOL_SIZE"), "{text}");
        assert!(text.contains("\"many\""), "{text}");
    }

    #[test]
    fn choice_accepts_listed_words_only() {
        let env = Env::fixed([("B", "Vault"), ("C", "etcd")]);
        assert_eq!(env.choice("B", &["memory", "vault"], "memory"), Ok("vault"));
        assert_eq!(
            env.choice("A", &["memory", "vault"], "memory"),
            Ok("memory")
        );
        let err = env.choice("C", &["memory", "vault"], "memory").unwrap_err();
        assert!(err.to_string().contains("expected one of memory, vault"));
    }

    #[test]
    fn secret_is_redacted_in_debug() {
        let env = Env::fixed([("TOKEN", "s3cr3t")]);
        let token = env.required_secret("TOKEN").unwrap();
        assert!(!format!("{token:?}").contains("s3cr3t"));
    }
}
