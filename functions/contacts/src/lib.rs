//! `/api/v1/contacts` (scope `manage_contacts`). Every query is scoped to the caller's
//! tenant; creating, updating and deleting write `contact.created` / `contact.updated` /
//! `contact.deleted` to the outbox in the same transaction.

mod handlers;
mod model;
mod store;
mod validate;

use pm_domain::paging::{Order, SortField, Sorting};
use pm_domain::Scope;
use pm_http::resource::Resource;

pub use handlers::{create, delete, get, list, replace, resubscribe};
pub use model::{Contact, ContactStatus};

pub static RESOURCE: Resource = Resource {
    name: "contact",
    scope: Some(Scope::ManageContacts),
    base_path: "/api/v1/contacts",
    sorting: Sorting {
        fields: &[
            SortField::timestamp("created_at"),
            SortField::timestamp("updated_at"),
            SortField::text("email"),
        ],
        default_order: Order::Desc,
    },
};
