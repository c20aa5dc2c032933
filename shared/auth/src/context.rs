//! What a resource handler is handed once the middleware has let a request through.

use std::str::FromStr;

use pm_domain::paging::ListRequest;
use pm_domain::TenantId;
use pm_http::list::list_request;
use pm_http::resource::Resource;
use pm_http::{json_body, ApiError, Request};
use pm_store::Db;
use serde::de::DeserializeOwned;

use crate::{Caller, Session};

/// Who is calling: an integration with an API key, or a dashboard user.
#[derive(Debug, Clone)]
pub enum Principal {
    Key(Caller),
    Session(Session),
}

/// The request, who made it, the database and the resource's description.
pub struct Ctx<'a> {
    pub req: Request,
    pub principal: Principal,
    pub resource: &'static Resource,
    pub(crate) db: &'a Db,
}

impl Ctx<'_> {
    /// The caller's tenant: every query a handler makes is scoped by it.
    pub fn tenant_id(&self) -> TenantId {
        match &self.principal {
            Principal::Key(caller) => caller.tenant_id,
            Principal::Session(session) => session.tenant_id,
        }
    }

    /// Who did it, for logs and audit fields: the key's id or the session's user.
    pub fn actor(&self) -> String {
        match &self.principal {
            Principal::Key(caller) => format!("api_key:{}", caller.key_id),
            Principal::Session(session) => format!("user:{}", session.user_id),
        }
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
