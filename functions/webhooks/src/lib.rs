//! `/api/v1/webhooks` (scope `manage_webhooks`; a dashboard session works too):
//! subscriptions, their signing secrets, test sends, the delivery log with replay and
//! recovery, and health figures. Delivery itself is `pm-webhook-delivery`'s workers.

mod api;
mod events;
mod handlers;
mod log;
mod model;
mod store;
mod validate;

use pm_domain::paging::{Order, SortField, SortKind, Sorting};
use pm_domain::Scope;
use pm_http::resource::Resource;

pub use api::WebhooksApi;
pub use events::events;
pub use handlers::{
    create, delete, event_types, get, list, replace, rotate_secret, secret, test, update,
};
pub use log::{deliveries, delivery, recover, retry, stats};

pub static RESOURCE: Resource = Resource {
    name: "webhook",
    scope: Some(Scope::ManageWebhooks),
    base_path: "/api/v1/webhooks",
    sorting: Sorting {
        fields: &[
            SortField::timestamp("created_at"),
            SortField::timestamp("updated_at"),
        ],
        default_order: Order::Desc,
    },
};

/// A webhook's deliveries: listed newest first by default.
pub static DELIVERIES: Resource = Resource {
    name: "delivery",
    scope: Some(Scope::ManageWebhooks),
    base_path: "/api/v1/webhooks",
    sorting: Sorting {
        fields: &[SortField::timestamp("created_at")],
        default_order: Order::Desc,
    },
};

/// The account's events (`GET /api/v1/events`): newest first by default; `created_at` is
/// when each happened (the outbox's `occurred_at`), as in webhook bodies.
pub static EVENTS: Resource = Resource {
    name: "event",
    scope: Some(Scope::ManageWebhooks),
    base_path: "/api/v1/events",
    sorting: Sorting {
        fields: &[SortField {
            name: "created_at",
            column: "occurred_at",
            kind: SortKind::Timestamp,
        }],
        default_order: Order::Desc,
    },
};
