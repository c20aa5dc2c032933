//! Analytics over HTTP (scope `read_analytics`):
//! - `GET /api/v1/analytics/emails`: figures for a range, optionally one slice of the
//!   mail (a campaign, tag, workspace or sender), optionally as a series of periods;
//! - `GET /api/v1/analytics/campaigns/{id}`: one campaign, overall and per step, with its
//!   audience's progress and best step;
//! - `GET /api/v1/analytics/contacts/{id}`: one contact's engagement and timeline;
//! - `GET /api/v1/analytics/export?format=csv`: the email figures per period as CSV.
//!
//! Every figure comes from the recorded email events. The database counts them as they
//! are recorded (`V10__analytics.sql`), so a report reads counters, not events.

mod campaign;
mod contact;
mod emails;
pub mod figures;
mod report;
mod store;
pub mod window;

use pm_domain::paging::{Order, SortField, Sorting};
use pm_domain::Scope;
use pm_http::resource::Resource;

pub use campaign::campaign;
pub use contact::contact;
pub use emails::{emails, export};

/// A contact's timeline, newest first; the other reports are not lists.
static TIMELINE: &[SortField] = &[SortField::timestamp("occurred_at")];

const fn resource(name: &'static str, base_path: &'static str) -> Resource {
    Resource {
        name,
        scope: Some(Scope::ReadAnalytics),
        base_path,
        sorting: Sorting {
            fields: TIMELINE,
            default_order: Order::Desc,
        },
    }
}

pub static EMAILS: Resource = resource("report", "/api/v1/analytics/emails");
pub static CAMPAIGNS: Resource = resource("campaign", "/api/v1/analytics/campaigns");
pub static CONTACTS: Resource = resource("contact", "/api/v1/analytics/contacts");
