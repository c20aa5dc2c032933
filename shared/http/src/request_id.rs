use std::fmt;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
const MAX_LEN: usize = 128;

/// The id that ties a response, its logs and a support ticket together.
///
/// A caller's `X-Request-Id` is kept when it is short and made of safe characters (so it
/// cannot inject into logs or headers); otherwise a fresh UUID is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub fn parse_or_new(incoming: Option<&str>) -> Self {
        match incoming.map(str::trim) {
            Some(id) if is_acceptable(id) => Self(id.to_string()),
            _ => Self(uuid::Uuid::new_v4().to_string()),
        }
    }

    pub fn from_request(req: &lambda_http::Request) -> Self {
        Self::parse_or_new(
            req.headers()
                .get(REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok()),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_safe_incoming_id() {
        assert_eq!(
            RequestId::parse_or_new(Some("abc-123_x.y:z")).as_str(),
            "abc-123_x.y:z"
        );
    }

    #[test]
    fn replaces_unsafe_or_oversized_ids() {
        for bad in ["", "has space", "new\nline", &"a".repeat(129)] {
            let id = RequestId::parse_or_new(Some(bad));
            assert_ne!(id.as_str(), bad);
            assert!(uuid::Uuid::parse_str(id.as_str()).is_ok());
        }
    }
}
