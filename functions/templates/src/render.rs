use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use pm_http::{ApiError, Code, FieldError};
use serde::Serialize;

/// The three renderable parts of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateParts {
    pub subject: String,
    pub html: Option<String>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub html: Option<String>,
    pub text: Option<String>,
}

/// How many missing variables one render reports at most.
const MAX_MISSING: usize = 50;
/// The largest rendered part. Fuel bounds the work; this bounds the memory (one
/// `{{ "x" * 100000000 }}` is cheap in instructions and huge in bytes).
const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// A writer that refuses to grow past [`MAX_OUTPUT_BYTES`].
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT_BYTES {
            return Err(std::io::Error::other(
                "rendered output exceeds its size limit",
            ));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Only the HTML body is escaped; subject and text are plain text.
    env.set_auto_escape_callback(|name| {
        if name == "html" {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_fuel(Some(100_000)); // bounded work per render, whatever the template
    env
}

fn parts(template: &TemplateParts) -> Vec<(&'static str, &str)> {
    let mut parts = vec![("subject", template.subject.as_str())];
    if let Some(html) = &template.html {
        parts.push(("html", html));
    }
    if let Some(text) = &template.text {
        parts.push(("text", text));
    }
    parts
}

/// Every part compiles; otherwise a field error per broken part, with its line.
pub fn check_syntax(template: &TemplateParts) -> Vec<FieldError> {
    let mut env = environment();
    parts(template)
        .into_iter()
        .filter_map(|(name, source)| {
            env.add_template_owned(name.to_string(), source.to_string())
                .err()
                .map(|e| {
                    FieldError::new(
                        name,
                        "invalid_template",
                        format!(
                            "{} (line {})",
                            e.detail().unwrap_or("syntax error"),
                            e.line().unwrap_or(0)
                        ),
                    )
                })
        })
        .collect()
}

/// The variable a strict-mode undefined error names (`x` in "`x` is undefined").
fn undefined_name(error: &minijinja::Error) -> Option<String> {
    let detail = error.detail()?;
    let start = detail.find('`')? + 1;
    let end = start + detail[start..].find('`')?;
    Some(detail[start..end].to_string())
}

/// Renders every part with `variables`. A missing variable without a default is
/// reported with all the others missing in the same template: each one found is given a
/// placeholder and the render retried, so one response names them all.
pub fn render_parts(
    template: &TemplateParts,
    variables: &serde_json::Map<String, serde_json::Value>,
) -> Result<Rendered, ApiError> {
    let mut env = environment();
    for (name, source) in parts(template) {
        env.add_template_owned(name.to_string(), source.to_string())
            .map_err(|_| ApiError::internal())?; // stored templates were checked on save
    }
    let mut context = variables.clone();
    let mut missing: Vec<String> = Vec::new();
    loop {
        match render_all(&env, template, &context) {
            Ok(rendered) if missing.is_empty() => return Ok(rendered),
            Ok(_) => break,
            Err(e) if e.kind() == ErrorKind::UndefinedError && missing.len() < MAX_MISSING => {
                match undefined_name(&e) {
                    Some(name) if !context.contains_key(&name) => {
                        context.insert(name.clone(), serde_json::Value::String(String::new()));
                        missing.push(name);
                    }
                    _ => return Err(render_failed(&e)),
                }
            }
            Err(e) if e.kind() == ErrorKind::UndefinedError => break,
            Err(e) => return Err(render_failed(&e)),
        }
    }
    Err(ApiError::new(
        http::StatusCode::UNPROCESSABLE_ENTITY,
        Code::MissingVariable,
        "Missing template variables",
        format!("no value and no default for: {}", missing.join(", ")),
    )
    .with_errors(
        missing
            .iter()
            .map(|name| {
                FieldError::new(
                    format!("variables.{name}"),
                    "missing",
                    format!("{{{{ {name} }}}} has no value and no default"),
                )
            })
            .collect(),
    ))
}

fn render_failed(error: &minijinja::Error) -> ApiError {
    ApiError::new(
        http::StatusCode::UNPROCESSABLE_ENTITY,
        Code::RenderFailed,
        "Template could not be rendered",
        error
            .detail()
            .unwrap_or("the template failed with these variables")
            .to_string(),
    )
}

fn render_all(
    env: &Environment<'_>,
    template: &TemplateParts,
    context: &serde_json::Map<String, serde_json::Value>,
) -> Result<Rendered, minijinja::Error> {
    let context = minijinja::Value::from(minijinja::value::Serde(context));
    let part = |name: &str| -> Result<String, minijinja::Error> {
        let mut out = Bounded(Vec::new());
        env.get_template(name)?
            .render_captured_to(context.clone(), &mut out)?;
        Ok(String::from_utf8_lossy(&out.0).into_owned())
    };
    Ok(Rendered {
        // A subject is one header line: line breaks from variables become spaces.
        subject: part("subject")?.replace(['\r', '\n'], " "),
        html: template.html.as_ref().map(|_| part("html")).transpose()?,
        text: template.text.as_ref().map(|_| part("text")).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(subject: &str, html: &str, text: &str) -> TemplateParts {
        TemplateParts {
            subject: subject.into(),
            html: Some(html.into()),
            text: Some(text.into()),
        }
    }

    fn vars(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn renders_with_defaults_and_escapes_only_html() {
        let t = template(
            "Hi {{ first_name | default(\"there\") }} & co",
            "<p>{{ company }}</p>",
            "{{ company }}",
        );
        let r = render_parts(&t, &vars(json!({"company": "A&B <Ltd>"}))).unwrap();
        assert_eq!(r.subject, "Hi there & co");
        assert_eq!(r.html.unwrap(), "<p>A&amp;B &lt;Ltd&gt;</p>");
        assert_eq!(r.text.unwrap(), "A&B <Ltd>");
    }

    #[test]
    fn names_every_missing_variable() {
        let t = template("{{ a }}", "{{ b }} {{ c | default('x') }}", "{{ d }}");
        let e = render_parts(&t, &vars(json!({"d": 1}))).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (422, "missing_variable"));
        let fields: Vec<&str> = e.errors().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["variables.a", "variables.b"]);
    }

    #[test]
    fn syntax_errors_name_the_part() {
        let t = template("ok {{ x }}", "{{ broken", "{% if %}");
        let errors = check_syntax(&t);
        let fields: Vec<&str> = errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["html", "text"]);
        assert!(errors.iter().all(|e| e.code == "invalid_template"));
    }

    #[test]
    fn huge_output_stops() {
        let t = template("s", "{{ 'x' * 100000000 }}", "t");
        let e = render_parts(&t, &serde_json::Map::new()).unwrap_err();
        assert_eq!(e.code, "render_failed");
    }

    #[test]
    fn subjects_stay_one_line() {
        let t = template("Hi {{ name }}", "h", "t");
        let r = render_parts(&t, &vars(json!({"name": "A\r\nBcc: x@y.io"}))).unwrap();
        assert_eq!(r.subject, "Hi A  Bcc: x@y.io");
    }

    #[test]
    fn runaway_templates_stop() {
        let t = template(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "",
            "",
        );
        let e = render_parts(&t, &serde_json::Map::new()).unwrap_err();
        assert_eq!(e.code, "render_failed");
    }
}
