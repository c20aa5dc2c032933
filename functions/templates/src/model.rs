use chrono::{DateTime, Utc};
use pm_domain::TemplateId;
use serde::{Deserialize, Serialize};

use crate::render::TemplateParts;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    pub id: TemplateId,
    pub name: String,
    pub subject: String,
    pub html: Option<String>,
    pub text: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Template {
    pub fn parts(&self) -> TemplateParts {
        TemplateParts {
            subject: self.subject.clone(),
            html: self.html.clone(),
            text: self.text.clone(),
        }
    }
}

/// A template in a list: everything but its bodies (up to 512 KiB each), so a page of
/// 100 stays far inside Lambda's 6 MB response limit. `GET /{id}` has the rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplateSummary {
    pub id: TemplateId,
    pub name: String,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The request body of create and replace.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub name: String,
    pub subject: String,
    #[serde(default)]
    pub html: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

/// The request body of render.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderInput {
    #[serde(default)]
    pub variables: pm_http::bounded::BoundedMap<1000>,
}
