//! Sending email. The API (`/api/v1/emails`, scope `send_email`) stores a message as
//! queued and answers 202; the sender worker delivers it through the tenant's transport
//! (`/api/v1/platform/email-providers`); tracking links and provider events add to each
//! email's timeline and emit `email.*` events through the outbox.

mod api;
pub mod campaign_sending;
pub mod config;
pub mod engagement;
mod model;
pub mod provider_events;
pub mod providers;
mod queueing;
mod read;
pub(crate) mod send;
pub mod sender;
mod store;
pub mod tracking;
mod validate;

use pm_domain::paging::{Order, SortField, Sorting};
use pm_domain::Scope;
use pm_http::resource::Resource;

pub use api::{tracking_keys, EmailsApi};
pub use model::{Email, EmailEventType, EmailStatus};
pub use read::{get, list};
pub use send::send;

pub static RESOURCE: Resource = Resource {
    name: "email",
    scope: Some(Scope::SendEmail),
    base_path: "/api/v1/emails",
    sorting: Sorting {
        fields: &[SortField::timestamp("created_at")],
        default_order: Order::Desc,
    },
};
