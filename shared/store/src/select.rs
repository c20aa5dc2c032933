//! Building list queries from a validated [`ListRequest`]: tenant scope, filters as
//! bound parameters, keyset or offset paging, the resource's own sort columns.

use pm_domain::paging::{ListRequest, Order, Paging};
use pm_domain::TenantId;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row};

use crate::DbError;

/// An `ILIKE` pattern matching `term` anywhere, with `%`, `_` and `\` in the term
/// matching themselves rather than acting as wildcards.
pub fn contains_pattern(term: &str) -> String {
    let escaped = term
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

type Param = Box<dyn ToSql + Sync + Send>;

pub struct Select {
    sql: String,
    params: Vec<Param>,
}

impl Select {
    /// `base` is `SELECT … FROM table` with no WHERE; rows are limited to `tenant_id`.
    pub fn new(base: &str, tenant_id: TenantId) -> Self {
        Self {
            sql: format!("{base} WHERE tenant_id = $1"),
            params: vec![Box::new(tenant_id)],
        }
    }

    fn bind(&mut self, value: Param) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    /// Adds `AND <condition>`, where each `?` in `condition` is bound to the next value.
    pub fn and(mut self, condition: &str, values: Vec<Param>) -> Self {
        let mut values = values.into_iter();
        let mut clause = String::new();
        for (i, part) in condition.split('?').enumerate() {
            if i > 0 {
                let value = values.next().expect("one value per placeholder");
                let placeholder = self.bind(value);
                clause.push_str(&placeholder);
            }
            clause.push_str(part);
        }
        self.sql.push_str(" AND ");
        self.sql.push_str(&clause);
        self
    }

    /// Sort, keyset or offset, and limit, from the resource's own sort table (the list
    /// request holds the chosen field itself, so there is nothing to look up or miss).
    pub fn page(mut self, list: &ListRequest) -> Self {
        let sort = list.sort;
        let (direction, comparison) = match list.order {
            Order::Asc => ("ASC", ">"),
            Order::Desc => ("DESC", "<"),
        };
        if let Paging::After(Some(position)) = &list.paging {
            let value = self.bind(Box::new(position.value.clone()));
            let id = self.bind(Box::new(position.id));
            self.sql.push_str(&format!(
                " AND ({col}, id) {comparison} ({value}::text::{cast}, {id})",
                col = sort.column,
                cast = sort.cast(),
            ));
        }
        self.sql.push_str(&format!(
            " ORDER BY {col} {direction}, id {direction}",
            col = sort.column
        ));
        let limit = self.bind(Box::new(list.fetch_limit()));
        self.sql.push_str(&format!(" LIMIT {limit}"));
        if let Paging::Offset(offset) = list.paging {
            let offset = self.bind(Box::new(offset));
            self.sql.push_str(&format!(" OFFSET {offset}"));
        }
        self
    }

    pub async fn fetch(&self, client: &impl GenericClient) -> Result<Vec<Row>, DbError> {
        let params: Vec<&(dyn ToSql + Sync)> = self
            .params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        Ok(client.query(&self.sql, &params).await?)
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_domain::paging::{Position, SortField};
    use uuid::Uuid;

    static CREATED_AT: SortField = SortField::timestamp("created_at");

    #[test]
    fn contains_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn builds_bound_filters_and_keyset() {
        let list = ListRequest {
            limit: 10,
            sort: &CREATED_AT,
            order: Order::Desc,
            paging: Paging::After(Some(Position {
                sort_by: "created_at".into(),
                order: Order::Desc,
                value: "2026-01-01T00:00:00Z".into(),
                id: Uuid::nil(),
            })),
        };
        let select = Select::new("SELECT id FROM contacts", TenantId::from(Uuid::nil()))
            .and("status = ?", vec![Box::new("subscribed".to_string())])
            .and(
                "created_at >= ? AND created_at < ?",
                vec![Box::new(1), Box::new(2)],
            )
            .page(&list);
        assert_eq!(
            select.sql(),
            "SELECT id FROM contacts WHERE tenant_id = $1 AND status = $2 \
             AND created_at >= $3 AND created_at < $4 \
             AND (created_at, id) < ($5::text::timestamptz, $6) \
             ORDER BY created_at DESC, id DESC LIMIT $7"
        );
        assert_eq!(select.params.len(), 7);
    }
}
