//! Reading a list request from the query string (the types are `pm_domain::paging`).
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

use http::StatusCode;
use lambda_http::{Request, RequestExt};
use pm_domain::paging::{ListRequest, Order, Paging, Position, Sorting, DEFAULT_LIMIT, MAX_LIMIT};

use crate::ApiError;
use crate::Code;

/// The deepest offset: an offset makes PostgreSQL walk every row before it, so deep
/// pages use the cursor (an index range, the same cost at any depth).
pub const MAX_OFFSET: i64 = 10_000;

/// A query parameter that does not parse: 400 with a code naming the parameter kind.
pub fn bad_parameter(code: Code, detail: impl Into<String>) -> ApiError {
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
                        Code::InvalidParameter,
                        format!(
                            "{name} must be an RFC 3339 time such as 2026-11-27T10:00:00Z (got {raw:?})"
                        ),
                    )
                })
        })
        .transpose()
}

/// An optional query parameter read as `T`: absent is None; one that does not parse is
/// 400 `invalid_parameter` saying `{name} must be {what}` and what was given.
pub fn parsed_param<T: std::str::FromStr>(
    req: &Request,
    name: &str,
    what: &str,
) -> Result<Option<T>, ApiError> {
    query_param(req, name)
        .map(|raw| {
            raw.parse::<T>().map_err(|_| {
                bad_parameter(
                    Code::InvalidParameter,
                    format!("{name} must be {what} (got {raw:?})"),
                )
            })
        })
        .transpose()
}

/// One query parameter (repeats are refused before any handler runs).
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name).map(str::to_string))
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
                    Code::InvalidLimit,
                    format!("limit must be an integer from 1 to {MAX_LIMIT} (got {raw:?})"),
                )
            }),
    }
}

fn invalid_cursor() -> ApiError {
    bad_parameter(
        Code::InvalidCursor,
        "cursor is not one this API issued for this sort order",
    )
}

fn decode_cursor(raw: &str) -> Result<Position, ApiError> {
    Position::decode(raw).ok_or_else(invalid_cursor)
}

/// Parses `limit`, `offset`, `cursor`, `sort_by` and `order`.
pub fn list_request(req: &Request, sorting: &'static Sorting) -> Result<ListRequest, ApiError> {
    let limit = limit(req)?;
    let sort = match query_param(req, "sort_by") {
        None => sorting.default_field(),
        Some(raw) => sorting.find(&raw).ok_or_else(|| {
            bad_parameter(
                Code::InvalidSort,
                format!(
                    "sort_by must be one of {} (got {raw:?})",
                    sorting.names().join(", ")
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
                Code::InvalidOrder,
                format!("order must be asc or desc (got {other:?})"),
            ))
        }
    };
    let paging = match (query_param(req, "offset"), query_param(req, "cursor")) {
        (Some(_), Some(_)) => {
            return Err(bad_parameter(
                Code::InvalidPagination,
                "use offset or cursor, not both",
            ))
        }
        (Some(raw), None) => Paging::Offset(
            raw.parse::<i64>()
                .ok()
                .filter(|n| (0..=MAX_OFFSET).contains(n))
                .ok_or_else(|| {
                    bad_parameter(
                        Code::InvalidOffset,
                        format!(
                            "offset must be an integer from 0 to {MAX_OFFSET} (got {raw:?}); \
                             page deeper with the cursor: pass each page's next_cursor"
                        ),
                    )
                })?,
        ),
        (None, Some(raw)) => {
            let position = decode_cursor(&raw)?;
            if position.sort_by != sort.name || position.order != order {
                return Err(invalid_cursor());
            }
            Paging::After(Some(position))
        }
        (None, None) => Paging::After(None),
    };
    Ok(ListRequest {
        limit,
        sort,
        order,
        paging,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::with_query;

    use pm_domain::paging::SortField;
    use uuid::Uuid;

    static SORTING: Sorting = Sorting {
        fields: &[SortField::timestamp("created_at"), SortField::text("email")],
        default_order: Order::Desc,
    };

    fn parse(pairs: &[(&str, &str)]) -> Result<ListRequest, ApiError> {
        list_request(&with_query(pairs), &SORTING)
    }

    fn code(pairs: &[(&str, &str)]) -> &'static str {
        parse(pairs).unwrap_err().code
    }

    #[test]
    fn a_parsed_parameter_is_absent_read_or_a_400_saying_what_it_must_be() {
        let req = with_query(&[("enabled", "true"), ("window", "2h")]);
        assert_eq!(
            parsed_param::<bool>(&req, "enabled", "true or false").unwrap(),
            Some(true)
        );
        assert_eq!(
            parsed_param::<bool>(&req, "missing", "true or false").unwrap(),
            None
        );
        let e = parsed_param::<u8>(&req, "window", "1h, 24h or 7d").unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (400, "invalid_parameter"));
        assert_eq!(e.detail, "window must be 1h, 24h or 7d (got \"2h\")");
    }

    #[test]
    fn defaults() {
        let list = parse(&[]).unwrap();
        assert_eq!(list.limit, 20);
        assert_eq!(list.sort_by(), "created_at");
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
        assert_eq!(code(&[("offset", "10001")]), "invalid_offset");
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
}
