//! What every resource's handlers share, from one description per resource crate.
//!
//! A `Resource` names the resource (for messages), the scope its routes need, its base
//! path and its one sort table. Handlers stay explicit per verb (the resources differ in
//! most of them); the repeated parts (the path id, the 404, the `Location` of a new one)
//! come from here.

use std::fmt::Display;
use std::str::FromStr;

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use pm_domain::paging::Sorting;
use pm_domain::Scope;
use serde::Serialize;

use crate::{json, ApiError};

#[derive(Debug)]
pub struct Resource {
    /// The singular noun used in messages: `contact`, `API key`.
    pub name: &'static str,
    /// The scope an API key needs; `None` for dashboard-session routes.
    pub scope: Option<Scope>,
    /// The collection's path, e.g. `/api/v1/contacts`.
    pub base_path: &'static str,
    /// The one sort table: list parsing and SQL both read it.
    pub sorting: Sorting,
}

impl Resource {
    /// `no <name> <id>`: the one 404 for a missing resource and for another tenant's.
    pub fn not_found(&self, id: impl Display) -> ApiError {
        ApiError::not_found(format!("no {} {id}", self.name))
    }

    /// The `{id}` path parameter. A malformed id names no resource, so it is the same
    /// 404 as any other id the caller cannot see.
    pub fn path_id<Id: FromStr>(&self, req: &Request) -> Result<Id, ApiError> {
        let raw = req
            .path_parameters_ref()
            .and_then(|p| p.first("id"))
            .unwrap_or_default();
        raw.parse()
            .map_err(|_| self.not_found(format_args!("{raw:?}")))
    }

    /// 201 with the new resource and its `Location`.
    pub fn created<T: Serialize>(
        &self,
        id: impl Display,
        value: &T,
    ) -> Result<Response<Body>, ApiError> {
        let mut response = json(StatusCode::CREATED, value)?;
        if let Ok(location) = format!("{}/{id}", self.base_path).parse() {
            response
                .headers_mut()
                .insert(http::header::LOCATION, location);
        }
        Ok(response)
    }
}

/// 204 with no body.
pub fn no_content() -> Result<Response<Body>, ApiError> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .map_err(|_| ApiError::internal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_domain::paging::{Order, SortField};
    use pm_domain::ContactId;
    use std::collections::HashMap;

    static THINGS: Resource = Resource {
        name: "thing",
        scope: None,
        base_path: "/api/v1/things",
        sorting: Sorting {
            fields: &[SortField::timestamp("created_at")],
            default_order: Order::Desc,
        },
    };

    fn with_id(id: &str) -> Request {
        http::Request::builder()
            .uri("/")
            .body(Body::Empty)
            .unwrap()
            .with_path_parameters(HashMap::from([("id".to_string(), id.to_string())]))
    }

    #[test]
    fn a_malformed_id_is_the_same_404_as_a_missing_one() {
        let id = ContactId::random();
        assert_eq!(
            THINGS.path_id::<ContactId>(&with_id(&id.to_string())),
            Ok(id)
        );
        let e = THINGS.path_id::<ContactId>(&with_id("nope")).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (404, "not_found"));
        assert_eq!(e.detail, "no thing \"nope\"");
    }

    #[test]
    fn created_points_at_the_new_resource() {
        let response = THINGS.created("abc", &serde_json::json!({})).unwrap();
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["location"], "/api/v1/things/abc");
    }
}
