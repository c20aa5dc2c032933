//! Configuration read from environment variables.
//!
//! Each crate owns the section it needs (`DatabaseConfig` in the store, the adapter
//! choices in the ports crate) and builds it with the helpers here, so a Lambda reads and
//! validates only what it uses. Every failure names the variable; a secret value is held
//! in [`Redacted`] so neither `Debug` nor an error message can print it.

mod redacted;
mod source;

pub use redacted::Redacted;
pub use source::{ConfigError, Env};
