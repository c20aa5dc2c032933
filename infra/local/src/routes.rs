//! The route table: every public route, the Lambda function (template.yaml logical id)
//! and binary that serve it in AWS, and the handler the local runtime calls. A test
//! proves that template.yaml, openapi.yaml and this table list the same routes.

use futures::future::BoxFuture;
use pm_http::{ApiError, Body, Request, RequestId, Response};

use crate::App;

pub type Handler =
    for<'a> fn(Request, RequestId, &'a App) -> BoxFuture<'a, Result<Response<Body>, ApiError>>;

pub struct Route {
    pub method: &'static str,
    /// As in openapi.yaml: `{name}` marks a path parameter.
    pub path: &'static str,
    /// The function's logical id in template.yaml.
    pub function: &'static str,
    /// The binary (`src/bin/<name>.rs`) that runs it in Lambda.
    pub binary: &'static str,
    pub handler: Handler,
}

pub const ROUTES: &[Route] = &[Route {
    method: "GET",
    path: "/health",
    function: "HealthFunction",
    binary: "health",
    handler: |req, id, app| Box::pin(pm_health::handle(req, id, &app.db)),
}];
