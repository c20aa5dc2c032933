//! Who is on the other end of a request, as API Gateway (or the local runtime) saw it.

use std::net::IpAddr;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// The client's address from the request context (never from a header a client could
/// write, such as `X-Forwarded-For`).
pub fn source_ip(req: &Request) -> Option<IpAddr> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context.http.source_ip.as_deref()?.parse().ok(),
        _ => None,
    }
}
