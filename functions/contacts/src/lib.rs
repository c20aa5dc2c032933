//! `/api/v1/contacts` (scope `manage_contacts`). Every query is scoped to the caller's
//! tenant; creating and updating write `contact.created` / `contact.updated` to the
//! outbox in the same transaction.

mod handlers;
mod model;
mod store;
mod validate;

pub use handlers::{create, delete, get, list, replace};
pub use model::{Contact, ContactStatus};
