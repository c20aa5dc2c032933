//! `/api/v1/platform/api-keys`: key management for signed-in dashboard users (a session
//! JWT, never an API key). Every query is scoped to the session's tenant.

mod create;
mod list;
mod regenerate;
mod revoke;
mod usage;

pub use create::create;
pub use list::list;
pub use regenerate::regenerate;
pub use revoke::revoke;
pub use usage::usage;
