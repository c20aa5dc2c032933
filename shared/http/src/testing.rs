//! Request builders for unit tests of handlers and helpers.

use std::collections::HashMap;

use lambda_http::{Body, Request, RequestExt};

/// A GET request with these query parameters, as API Gateway would deliver it.
pub fn with_query(pairs: &[(&str, &str)]) -> Request {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in pairs {
        map.entry(k.to_string()).or_default().push(v.to_string());
    }
    http::Request::builder()
        .uri("/")
        .body(Body::Empty)
        .expect("a static request builds")
        .with_query_string_parameters(map)
}
