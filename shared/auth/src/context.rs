//! What a resource handler is handed once the middleware has let a request through.

use std::str::FromStr;

use pm_domain::paging::ListRequest;
use pm_domain::TenantId;
use pm_http::list::list_request;
use pm_http::resource::Resource;
use pm_http::{json_body, ApiError, Request};
use pm_store::Db;
use serde::de::DeserializeOwned;

use crate::Caller;

/// The request, its authenticated caller, the database and the resource's description.
pub struct Ctx<'a> {
    pub req: Request,
    pub caller: Caller,
    pub resource: &'static Resource,
    pub(crate) db: &'a Db,
}

impl Ctx<'_> {
    /// The caller's tenant: every query a handler makes is scoped by it.
    pub fn tenant_id(&self) -> TenantId {
        self.caller.tenant_id
    }

    pub fn db(&self) -> &Db {
        self.db
    }

    /// The `{id}` path parameter as this resource's id type (a malformed one is 404).
    pub fn path_id<Id: FromStr>(&self) -> Result<Id, ApiError> {
        self.resource.path_id(&self.req)
    }

    /// The JSON body (415, 413, 400 or 422 when it is not one).
    pub fn body<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        json_body(&self.req)
    }

    /// `limit`, `offset`/`cursor`, `sort_by` and `order`, against the resource's sorting.
    pub fn list_request(&self) -> Result<ListRequest, ApiError> {
        list_request(&self.req, &self.resource.sorting)
    }

    pub fn not_found(&self, id: impl std::fmt::Display) -> ApiError {
        self.resource.not_found(id)
    }
}
