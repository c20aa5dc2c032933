//! Sending email over HTTP. The API (`/api/v1/emails`, scope `send_email`) stores a
//! message as queued and answers 202; the sender worker (`pm-email-delivery`) delivers
//! it through the tenant's transport (`/api/v1/platform/email-providers`); tracking
//! links and provider events add to each email's timeline and emit `email.*` events
//! through the outbox. The campaign scheduler lives here because it renders templates.

mod api;
pub mod campaign_sending;
mod lookups;
mod model;
pub mod provider_events;
pub mod providers;
mod read;
pub(crate) mod send;
pub mod tracking;
mod validate;

use pm_domain::paging::{Order, SortField, Sorting};
use pm_domain::Scope;
use pm_http::resource::Resource;

pub use api::EmailsApi;
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
