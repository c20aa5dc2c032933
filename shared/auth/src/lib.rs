//! Who is calling, and what they may do.
//!
//! - API keys (`pm_live_…`): generated here, bcrypt-hashed into the secrets port, looked
//!   up by a keyed hash, checked for scope, rate limited per key and counted.
//! - Dashboard sessions: EdDSA JWTs (with `kid`) carrying user, tenant and role, 15
//!   minutes at most; verifiers hold public keys only.

pub mod api_key;
pub mod build;
mod context;
pub mod dashboard;
pub mod idempotency;
pub mod issue;
pub mod keys;
pub mod platform;
pub mod ratelimit;
pub mod retire;
pub mod session;
pub mod store;
pub mod usage;

pub use api_key::{ApiKeyAuth, Caller};
pub use context::{Ctx, Principal};
pub use session::{Role, Session};
