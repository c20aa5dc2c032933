//! Matches a request against the route table, the way API Gateway does: a literal
//! segment matches itself, `{name}` matches any one non-empty segment, and where
//! several routes match, the most specific (most literal segments) wins, so
//! `/api/v1/webhooks/event-types` is not taken for `/api/v1/webhooks/{id}`.

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
    let mut matches: Vec<(&Route, HashMap<String, String>)> = routes
        .iter()
        .filter_map(|route| match_path(route.path, path).map(|params| (route, params)))
        .collect();
    // The most specific path first: its methods are the ones this path has.
    matches.sort_by_key(|(route, _)| std::cmp::Reverse(literal_segments(route.path)));
    let Some(best) = matches
        .first()
        .map(|(route, _)| literal_segments(route.path))
    else {
        return Match::NotFound;
    };
    matches.retain(|(route, _)| literal_segments(route.path) == best);
    let allowed = matches.iter().map(|(route, _)| route.method).collect();
    match matches
        .into_iter()
        .find(|(route, _)| route.method.eq_ignore_ascii_case(method))
    {
        Some((route, params)) => Match::Found { route, params },
        None => Match::WrongMethod(allowed),
    }
}

fn literal_segments(template: &str) -> usize {
    template
        .trim_matches('/')
        .split('/')
        .filter(|segment| !segment.starts_with('{'))
        .count()
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

    #[test]
    fn the_most_specific_route_wins_whatever_the_table_order() {
        assert!(
            literal_segments("/api/v1/webhooks/event-types")
                > literal_segments("/api/v1/webhooks/{id}")
        );
        let Match::Found { route, .. } =
            find(crate::routes::ROUTES, "GET", "/api/v1/webhooks/event-types")
        else {
            panic!("no route")
        };
        assert_eq!(route.binary, "list_webhook_event_types");
        let Match::WrongMethod(allowed) = find(
            crate::routes::ROUTES,
            "DELETE",
            "/api/v1/webhooks/event-types",
        ) else {
            panic!("expected 405")
        };
        assert_eq!(allowed, ["GET"]);
    }
}
