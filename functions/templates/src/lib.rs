//! `/api/v1/templates` (scope `manage_templates`): email templates with `{{ variable }}`
//! placeholders, rendered by minijinja (a well-kept Jinja2 implementation).
//!
//! Syntax: `{{ first_name }}`; a default for a missing variable:
//! `{{ first_name | default("there") }}`. Values are HTML-escaped in the HTML body, not
//! in the subject or text body. A variable with no value and no default is a 422
//! `missing_variable` naming every such variable.

mod handlers;
mod render;
mod store;

pub use handlers::{create, delete, get, list, render, replace};
pub use render::{check_syntax, render_parts, Rendered, TemplateParts};
