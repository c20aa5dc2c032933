//! Reading columns without silent fallbacks.

use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use crate::DbError;

/// The column's value, or [`DbError::Corrupt`] naming the table and column when the
/// stored value does not decode (an unknown status name, malformed JSON): a corrupt row
/// is reported and logged as one, never read as a plausible default.
pub fn get<'a, T: FromSql<'a>>(
    row: &'a Row,
    table: &'static str,
    column: &str,
) -> Result<T, DbError> {
    row.try_get(column).map_err(|e| DbError::Corrupt {
        table,
        detail: format!("column {column}: {e}"),
    })
}

/// A JSON column decoded into `T`, or [`DbError::Corrupt`].
pub fn json<T: serde::de::DeserializeOwned>(
    row: &Row,
    table: &'static str,
    column: &str,
) -> Result<T, DbError> {
    let value: serde_json::Value = get(row, table, column)?;
    serde_json::from_value(value).map_err(|e| DbError::Corrupt {
        table,
        detail: format!("column {column}: {e}"),
    })
}
