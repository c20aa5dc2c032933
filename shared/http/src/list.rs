//! The list machinery every list endpoint shares: `limit` (1–100, default 20) and an
//! opaque `cursor` for keyset pagination.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::StatusCode;
use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ApiError;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// A query parameter that does not parse: 400 with a code naming the parameter kind.
pub fn bad_parameter(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        code,
        "Invalid query parameter",
        detail,
    )
}

/// One query parameter (the first, if repeated).
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name).map(str::to_string))
}

/// `limit`, validated.
pub fn limit(req: &Request) -> Result<i64, ApiError> {
    match query_param(req, "limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                bad_parameter(
                    "invalid_limit",
                    format!("limit must be an integer from 1 to {MAX_LIMIT} (got {raw:?})"),
                )
            }),
    }
}

/// Encodes a position (any serialisable value) as an opaque cursor.
pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).expect("cursor positions serialize"))
}

/// `cursor`, decoded to the position it was made from; a cursor that was not made by
/// [`encode_cursor`] for this kind of position is 400 `invalid_cursor`.
pub fn cursor<T: DeserializeOwned>(req: &Request) -> Result<Option<T>, ApiError> {
    let Some(raw) = query_param(req, "cursor") else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(raw.as_bytes())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .map(Some)
        .ok_or_else(|| bad_parameter("invalid_cursor", "cursor is not one this API issued"))
}

/// The list envelope: `{"data": [...], "pagination": {...}}`.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub pagination: CursorPagination,
}

#[derive(Debug, Serialize)]
pub struct CursorPagination {
    pub limit: i64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows (the extra row only says there is more);
    /// `position` gives the cursor of the last row shown.
    pub fn from_rows<P: Serialize>(
        mut rows: Vec<T>,
        limit: i64,
        position: impl Fn(&T) -> P,
    ) -> Self {
        let has_more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if has_more {
            rows.last().map(|row| encode_cursor(&position(row)))
        } else {
            None
        };
        Page {
            data: rows,
            pagination: CursorPagination {
                limit,
                has_more,
                next_cursor,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::with_query;

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(limit(&with_query(&[])).unwrap(), 20);
        assert_eq!(limit(&with_query(&[("limit", "100")])).unwrap(), 100);
        for bad in ["0", "101", "-1", "ten", ""] {
            let e = limit(&with_query(&[("limit", bad)])).unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.code),
                (400, "invalid_limit"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_400() {
        let c = encode_cursor(&("2026-01-01T00:00:00Z", 7));
        let back: Option<(String, i32)> = cursor(&with_query(&[("cursor", &c)])).unwrap();
        assert_eq!(back, Some(("2026-01-01T00:00:00Z".to_string(), 7)));
        let e = cursor::<(String, i32)>(&with_query(&[("cursor", "!!!")])).unwrap_err();
        assert_eq!(e.code, "invalid_cursor");
        let wrong_shape = encode_cursor(&"just a string");
        let e = cursor::<(String, i32)>(&with_query(&[("cursor", &wrong_shape)])).unwrap_err();
        assert_eq!(e.code, "invalid_cursor");
    }

    #[test]
    fn pages_report_more_only_when_there_is_more() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(page.data, vec![1, 2]);
        assert!(page.pagination.has_more);
        assert_eq!(page.pagination.next_cursor, Some(encode_cursor(&2)));
        let page = Page::from_rows(vec![1, 2], 2, |n| *n);
        assert!(!page.pagination.has_more);
        assert_eq!(page.pagination.next_cursor, None);
    }
}
