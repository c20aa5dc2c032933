use std::fmt;

use lambda_http::request::RequestContext;
use lambda_http::RequestExt;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
const MAX_LEN: usize = 128;

/// The id that ties a response, its logs and a support ticket together.
///
/// It is always the platform's own (API Gateway's request id, or a fresh UUID), so a
/// caller cannot make two requests share an id or plant one in the logs. A caller's own
/// `X-Request-Id` is kept beside it as [`RequestId::client`] (when short and made of safe
/// characters, so it cannot inject into logs), and logged as the client's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId {
    id: String,
    client: Option<String>,
}

impl RequestId {
    /// A fresh id, keeping a safe `client` id beside it.
    pub fn new(client: Option<&str>) -> Self {
        Self::with_id(uuid::Uuid::new_v4().to_string(), client)
    }

    fn with_id(id: String, client: Option<&str>) -> Self {
        Self {
            id,
            client: client
                .map(str::trim)
                .filter(|c| is_acceptable(c))
                .map(str::to_string),
        }
    }

    pub fn from_request(req: &lambda_http::Request) -> Self {
        let client = req
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok());
        let gateway = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
            _ => None,
        };
        match gateway.filter(|id| is_acceptable(id)) {
            Some(id) => Self::with_id(id, client),
            None => Self::new(client),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The caller's own `X-Request-Id`, if it sent a safe one.
    pub fn client(&self) -> Option<&str> {
        self.client.as_deref()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

fn is_acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            // `=`, `+` and `/`: API Gateway's own ids are base64 (`JKJaXmPLvHcESHA=`).
            .all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(b, b'-' | b'_' | b'.' | b':' | b'=' | b'+' | b'/')
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_always_ours_and_a_safe_client_id_is_kept_beside_it() {
        let id = RequestId::new(Some("abc-123_x.y:z"));
        assert_ne!(id.as_str(), "abc-123_x.y:z");
        assert!(uuid::Uuid::parse_str(id.as_str()).is_ok());
        assert_eq!(id.client(), Some("abc-123_x.y:z"));
    }

    #[test]
    fn unsafe_or_oversized_client_ids_are_dropped() {
        for bad in ["", "has space", "new\nline", &"a".repeat(129)] {
            assert_eq!(RequestId::new(Some(bad)).client(), None, "{bad:?}");
        }
    }
}
