//! `/api/v1/campaigns` (scope `manage_campaigns`): a sender, steps (a template or an
//! inline subject and body, each with a delay after the previous step), an audience
//! (contact ids and/or tags) and a sending schedule.
//!
//! Status: draft → active (start) → paused (pause) → active (start) → completed (set by
//! the sender). An illegal transition is 409 naming the current status; starting with
//! no steps or an audience that matches no contact is 422. A running campaign's steps
//! cannot be edited (409). `campaign.started` goes to the outbox with the transition.

mod handlers;
mod model;
mod store;
mod validate;

pub use handlers::{create, delete, get, list, pause, replace, start};
pub use model::{Audience, Campaign, CampaignStatus, Schedule, Sender, Step};

use pm_domain::paging::{Order, SortField, Sorting};
use pm_domain::Scope;
use pm_http::resource::Resource;

pub static RESOURCE: Resource = Resource {
    name: "campaign",
    scope: Some(Scope::ManageCampaigns),
    base_path: "/api/v1/campaigns",
    sorting: Sorting {
        fields: &[
            SortField::timestamp("created_at"),
            SortField::timestamp("updated_at"),
            SortField::text("name"),
        ],
        default_order: Order::Desc,
    },
};
