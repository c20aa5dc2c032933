//! Matches a request against the route table, the way API Gateway does: a literal
//! segment matches itself, `{name}` matches any one non-empty segment.

use std::collections::HashMap;

use crate::routes::Route;

pub enum Match<'r> {
    Found {
        route: &'r Route,
        params: HashMap<String, String>,
    },
    /// The path exists, but not for this method: these methods are allowed.
    WrongMethod(Vec<&'static str>),
    NotFound,
}

pub fn find<'r>(routes: &'r [Route], method: &str, path: &str) -> Match<'r> {
    let mut allowed = Vec::new();
    for route in routes {
        if let Some(params) = match_path(route.path, path) {
            if route.method.eq_ignore_ascii_case(method) {
                return Match::Found { route, params };
            }
            allowed.push(route.method);
        }
    }
    if allowed.is_empty() {
        Match::NotFound
    } else {
        Match::WrongMethod(allowed)
    }
}

fn match_path(template: &str, path: &str) -> Option<HashMap<String, String>> {
    let mut wanted = template.trim_matches('/').split('/');
    let mut given = path.trim_matches('/').split('/');
    let mut params = HashMap::new();
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) => {
                if let Some(name) = w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                    if g.is_empty() {
                        return None;
                    }
                    let value = percent_decode(g)?;
                    params.insert(name.to_string(), value);
                } else if w != g {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

fn percent_decode(segment: &str) -> Option<String> {
    // form_urlencoded would turn '+' into a space, which is wrong in a path.
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_parameter_segments() {
        assert!(match_path("/health", "/health").is_some());
        assert!(match_path("/health", "/health/x").is_none());
        let p = match_path("/api/v1/contacts/{id}", "/api/v1/contacts/a%20b").unwrap();
        assert_eq!(p["id"], "a b");
        assert!(match_path("/api/v1/contacts/{id}", "/api/v1/contacts/").is_none());
        assert!(match_path("/api/v1/contacts/{id}", "/api/v1/contacts/%zz").is_none());
    }
}
