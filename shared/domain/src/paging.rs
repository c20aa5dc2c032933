//! The list request and page envelope every list endpoint shares. Parsing them from a
//! query string is HTTP's job (`pm_http::list`); building the SQL is the store's
//! (`pm_store::select`); both read the same [`Sorting`] table, so they cannot drift.
//!
//! Pagination is by `offset`, or by an opaque cursor (keyset pagination: the cursor holds
//! the sort value and id of the last row shown, so rows inserted or deleted between pages
//! neither repeat nor skip the rows that were there).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
}

/// How a sort column's cursor value is cast back in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKind {
    Timestamp,
    Text,
}

/// One sortable field: its public name, its column (never user text) and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortField {
    pub name: &'static str,
    pub column: &'static str,
    pub kind: SortKind,
}

impl SortField {
    /// A timestamp column sorted under its own name.
    pub const fn timestamp(name: &'static str) -> Self {
        Self {
            name,
            column: name,
            kind: SortKind::Timestamp,
        }
    }

    /// A text column sorted under its own name.
    pub const fn text(name: &'static str) -> Self {
        Self {
            name,
            column: name,
            kind: SortKind::Text,
        }
    }

    /// The SQL type a cursor value (text) is cast to.
    pub fn cast(&self) -> &'static str {
        match self.kind {
            SortKind::Timestamp => "timestamptz",
            SortKind::Text => "text",
        }
    }
}

/// A resource's one sort table: its sortable fields (the first is the default) and the
/// default order.
#[derive(Debug)]
pub struct Sorting {
    pub fields: &'static [SortField],
    pub default_order: Order,
}

impl Sorting {
    pub fn default_field(&'static self) -> &'static SortField {
        &self.fields[0]
    }

    pub fn find(&'static self, name: &str) -> Option<&'static SortField> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.name).collect()
    }
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

impl Position {
    /// The opaque cursor a client sees.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("positions serialize"))
    }

    /// `None` for anything that is not a cursor this API issued.
    pub fn decode(cursor: &str) -> Option<Self> {
        URL_SAFE_NO_PAD
            .decode(cursor.as_bytes())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
    }
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
    /// One of the resource's sort fields.
    pub sort: &'static SortField,
    pub order: Order,
    pub paging: Paging,
}

/// A timestamp as a cursor value: exact to the microsecond, as PostgreSQL stores it.
pub fn timestamp_value(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
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
    /// The sort field's public name.
    pub fn sort_by(&self) -> &'static str {
        self.sort.name
    }

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
                    Position {
                        sort_by: self.sort.name.to_string(),
                        order: self.order,
                        value,
                        id,
                    }
                    .encode()
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

    static SORTING: Sorting = Sorting {
        fields: &[SortField::timestamp("created_at"), SortField::text("email")],
        default_order: Order::Desc,
    };

    fn request(paging: Paging) -> ListRequest {
        ListRequest {
            limit: 2,
            sort: SORTING.default_field(),
            order: Order::Desc,
            paging,
        }
    }

    #[test]
    fn a_full_page_has_a_cursor_to_the_last_row_shown() {
        let id = Uuid::new_v4();
        let page = request(Paging::After(None)).page(vec![1, 2, 3], |n| (format!("v{n}"), id));
        assert_eq!(page.data, vec![1, 2]);
        assert!(page.pagination.has_more);
        let cursor = page.pagination.next_cursor.unwrap().unwrap();
        let position = Position::decode(&cursor).unwrap();
        assert_eq!((position.value.as_str(), position.id), ("v2", id));
        assert_eq!(position.sort_by, "created_at");
        assert!(Position::decode("!!!").is_none());
    }

    #[test]
    fn last_pages_and_offset_pages() {
        let page = request(Paging::After(None)).page(vec![1], |_| (String::new(), Uuid::nil()));
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["pagination"]["has_more"], false);
        assert!(json["pagination"]["next_cursor"].is_null());
        assert!(json["pagination"].get("offset").is_none());
        let page = request(Paging::Offset(40)).page(vec![1], |_| (String::new(), Uuid::nil()));
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["pagination"]["offset"], 40);
        assert!(json["pagination"].get("next_cursor").is_none());
    }

    #[test]
    fn sort_fields_are_found_by_name_only() {
        assert_eq!(SORTING.find("email").unwrap().cast(), "text");
        assert!(SORTING.find("password").is_none());
        assert_eq!(SORTING.names(), ["created_at", "email"]);
    }
}
