//! `/api/v1/templates` (scope `manage_templates`): email templates with `{{ variable }}`
//! placeholders, rendered by minijinja (a well-kept Jinja2 implementation).
//!
//! Syntax: `{{ first_name }}`; a default for a missing variable:
//! `{{ first_name | default("there") }}`. Values are HTML-escaped in the HTML body, not
//! in the subject or text body. A variable with no value and no default is a 422
//! `missing_variable` naming every such variable.

mod handlers;
mod model;
mod render;
mod store;
mod validate;

use pm_domain::paging::{Order, SortField, Sorting};
use pm_domain::Scope;
use pm_http::resource::Resource;

pub use handlers::{create, delete, get, list, render, replace};
pub use model::Template;
pub use render::{check_syntax, render_parts, Rendered, TemplateParts};

pub static RESOURCE: Resource = Resource {
    name: "template",
    scope: Some(Scope::ManageTemplates),
    base_path: "/api/v1/templates",
    sorting: Sorting {
        fields: &[
            SortField::timestamp("created_at"),
            SortField::timestamp("updated_at"),
            SortField::text("name"),
        ],
        default_order: Order::Desc,
    },
};
