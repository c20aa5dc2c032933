//! The list machinery every list endpoint shares.
//!
//! - `limit`: 1–100, default 20.
//! - Pagination by `offset`, or by an opaque `cursor` (keyset pagination: the cursor holds
//!   the sort value and id of the last row shown, so rows inserted or deleted between
//!   pages neither repeat nor skip the rows that were there). Without either, the first
//!   page is served in cursor mode. Both at once is an error.
//! - `sort_by` from the resource's whitelist, `order=asc|desc`. A cursor belongs to the
//!   sort it was made for; using it with another is `invalid_cursor`.
//!
//! Nothing from the query string reaches SQL except as a bound parameter or as a
//! whitelisted identifier chosen here.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::StatusCode;
use lambda_http::{Request, RequestExt};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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

/// An RFC 3339 time in the query string, or 400 `invalid_parameter` naming it.
pub fn timestamp_param(
    req: &Request,
    name: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    query_param(req, name)
        .map(|raw| {
            chrono::DateTime::parse_from_rfc3339(&raw)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| {
                    bad_parameter(
                        "invalid_parameter",
                        format!(
                            "{name} must be an RFC 3339 time such as 2026-11-27T10:00:00Z (got {raw:?})"
                        ),
                    )
                })
        })
        .transpose()
}

/// One query parameter (the first, if repeated).
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name).map(str::to_string))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
}

/// A resource's sortable fields; the first is the default.
pub struct Sorting {
    pub fields: &'static [&'static str],
    pub default_order: Order,
}

/// Where the previous page ended, inside a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "s")]
    pub sort_by: String,
    #[serde(rename = "o")]
    pub order: Order,
    /// The last row's sort value, as text (the store casts it back).
    #[serde(rename = "v")]
    pub value: String,
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    Offset(i64),
    /// Rows after this position (`None`: from the start).
    After(Option<Position>),
}

/// A validated list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub limit: i64,
    /// One of the resource's whitelisted field names.
    pub sort_by: &'static str,
    pub order: Order,
    pub paging: Paging,
}

fn limit(req: &Request) -> Result<i64, ApiError> {
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

fn invalid_cursor() -> ApiError {
    bad_parameter(
        "invalid_cursor",
        "cursor is not one this API issued for this sort order",
    )
}

fn decode_cursor(raw: &str) -> Result<Position, ApiError> {
    URL_SAFE_NO_PAD
        .decode(raw.as_bytes())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(invalid_cursor)
}

fn encode_cursor(position: &Position) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).expect("positions serialize"))
}

/// Parses `limit`, `offset`, `cursor`, `sort_by` and `order`.
pub fn list_request(req: &Request, sorting: &Sorting) -> Result<ListRequest, ApiError> {
    let limit = limit(req)?;
    let sort_by = match query_param(req, "sort_by") {
        None => sorting.fields[0],
        Some(raw) => sorting
            .fields
            .iter()
            .copied()
            .find(|f| *f == raw)
            .ok_or_else(|| {
                bad_parameter(
                    "invalid_sort",
                    format!(
                        "sort_by must be one of {} (got {raw:?})",
                        sorting.fields.join(", ")
                    ),
                )
            })?,
    };
    let order = match query_param(req, "order").as_deref() {
        None => sorting.default_order,
        Some("asc") => Order::Asc,
        Some("desc") => Order::Desc,
        Some(other) => {
            return Err(bad_parameter(
                "invalid_order",
                format!("order must be asc or desc (got {other:?})"),
            ))
        }
    };
    let paging = match (query_param(req, "offset"), query_param(req, "cursor")) {
        (Some(_), Some(_)) => {
            return Err(bad_parameter(
                "invalid_pagination",
                "use offset or cursor, not both",
            ))
        }
        (Some(raw), None) => Paging::Offset(
            raw.parse::<i64>()
                .ok()
                .filter(|n| (0..=1_000_000).contains(n))
                .ok_or_else(|| {
                    bad_parameter(
                        "invalid_offset",
                        format!("offset must be an integer from 0 to 1000000 (got {raw:?})"),
                    )
                })?,
        ),
        (None, Some(raw)) => {
            let position = decode_cursor(&raw)?;
            if position.sort_by != sort_by || position.order != order {
                return Err(invalid_cursor());
            }
            Paging::After(Some(position))
        }
        (None, None) => Paging::After(None),
    };
    Ok(ListRequest {
        limit,
        sort_by,
        order,
        paging,
    })
}

/// The list envelope: `{"data": [...], "pagination": {...}}`.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub pagination: Pagination,
}

#[derive(Debug, Serialize)]
pub struct Pagination {
    pub limit: i64,
    pub has_more: bool,
    /// Offset mode only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Cursor mode only (`null` on the last page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Option<String>>,
}

impl ListRequest {
    /// Rows to fetch: one more than shown, to learn whether there is more.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }

    /// Builds the page from up to `limit + 1` rows; `position` gives a row's sort value
    /// (as text) and id, for the next cursor.
    pub fn page<T>(&self, mut rows: Vec<T>, position: impl Fn(&T) -> (String, Uuid)) -> Page<T> {
        let has_more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let pagination = match self.paging {
            Paging::Offset(offset) => Pagination {
                limit: self.limit,
                has_more,
                offset: Some(offset),
                next_cursor: None,
            },
            Paging::After(_) => {
                let next = rows.last().filter(|_| has_more).map(|row| {
                    let (value, id) = position(row);
                    encode_cursor(&Position {
                        sort_by: self.sort_by.to_string(),
                        order: self.order,
                        value,
                        id,
                    })
                });
                Pagination {
                    limit: self.limit,
                    has_more,
                    offset: None,
                    next_cursor: Some(next),
                }
            }
        };
        Page {
            data: rows,
            pagination,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::with_query;

    const SORTING: Sorting = Sorting {
        fields: &["created_at", "email"],
        default_order: Order::Desc,
    };

    fn parse(pairs: &[(&str, &str)]) -> Result<ListRequest, ApiError> {
        list_request(&with_query(pairs), &SORTING)
    }

    fn code(pairs: &[(&str, &str)]) -> &'static str {
        parse(pairs).unwrap_err().code
    }

    #[test]
    fn defaults() {
        let list = parse(&[]).unwrap();
        assert_eq!(list.limit, 20);
        assert_eq!(list.sort_by, "created_at");
        assert_eq!(list.order, Order::Desc);
        assert_eq!(list.paging, Paging::After(None));
    }

    #[test]
    fn bad_parameters_are_400_with_their_code() {
        for bad in ["0", "101", "-1", "ten", ""] {
            assert_eq!(code(&[("limit", bad)]), "invalid_limit", "{bad:?}");
        }
        assert_eq!(code(&[("sort_by", "password")]), "invalid_sort");
        assert_eq!(
            code(&[("sort_by", "email; DROP TABLE contacts")]),
            "invalid_sort"
        );
        assert_eq!(code(&[("order", "up")]), "invalid_order");
        assert_eq!(code(&[("offset", "-5")]), "invalid_offset");
        assert_eq!(code(&[("cursor", "!!!")]), "invalid_cursor");
        assert_eq!(
            code(&[("offset", "0"), ("cursor", "x")]),
            "invalid_pagination"
        );
        assert_eq!(parse(&[("order", "up")]).unwrap_err().status, 400);
    }

    #[test]
    fn cursors_round_trip_and_belong_to_their_sort() {
        let list = parse(&[("limit", "2")]).unwrap();
        let id = Uuid::new_v4();
        let page = list.page(vec![1, 2, 3], |n| (format!("v{n}"), id));
        assert_eq!(page.data, vec![1, 2]);
        assert!(page.pagination.has_more);
        let cursor = page.pagination.next_cursor.unwrap().unwrap();
        let next = parse(&[("limit", "2"), ("cursor", &cursor)]).unwrap();
        let Paging::After(Some(position)) = next.paging else {
            panic!()
        };
        assert_eq!((position.value.as_str(), position.id), ("v2", id));
        assert_eq!(
            code(&[("cursor", &cursor), ("sort_by", "email")]),
            "invalid_cursor"
        );
        assert_eq!(
            code(&[("cursor", &cursor), ("order", "asc")]),
            "invalid_cursor"
        );
    }

    #[test]
    fn last_pages_and_offset_pages() {
        let page = parse(&[])
            .unwrap()
            .page(vec![1], |_| (String::new(), Uuid::nil()));
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["pagination"]["has_more"], false);
        assert!(json["pagination"]["next_cursor"].is_null());
        assert!(json["pagination"].get("offset").is_none());
        let page = parse(&[("offset", "40")])
            .unwrap()
            .page(vec![1], |_| (String::new(), Uuid::nil()));
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["pagination"]["offset"], 40);
        assert!(json["pagination"].get("next_cursor").is_none());
    }
}
