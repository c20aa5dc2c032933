//! One HTTP listener for every route. Each request becomes the same `lambda_http`
//! request API Gateway would hand a function (path and query parameters included) and
//! goes through the same `pm_http::serve` wrapper.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextHttpDescription,
};
use lambda_http::request::RequestContext;
use pm_http::{ApiError, Body, Code, RequestExt, MAX_BODY_BYTES};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::router::{self, Match};
use crate::routes::{Route, ROUTES};
use crate::App;
use crate::{dashboard, docs};

/// What a client may take of the listener: slow or many clients cannot exhaust it.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; the next waits to be accepted.
    pub connections: usize,
    /// A client has this long to send a request's headers, and then its body.
    pub header_read: Duration,
    pub body_read: Duration,
    /// Each request's handler answers within this (less `pm_http::ANSWER_MARGIN`), as a
    /// function answers within its Lambda timeout: the request carries a Lambda context
    /// with that deadline, which `pm_http::serve` enforces.
    pub request: Duration,
}

impl Limits {
    /// `LOCAL_MAX_CONNECTIONS` (1024), `LOCAL_HEADER_TIMEOUT_MS` (10 s),
    /// `LOCAL_BODY_TIMEOUT_MS` (30 s), `LOCAL_REQUEST_TIMEOUT_MS` (30 s: HTTP API's limit,
    /// the longest any function may take; most functions' own timeout is 10 s).
    pub fn from_env(env: &pm_config::Env) -> Result<Self, pm_config::ConfigError> {
        Ok(Self {
            connections: env.parsed_or("LOCAL_MAX_CONNECTIONS", 1024usize)?.max(1),
            header_read: Duration::from_millis(
                env.parsed_or("LOCAL_HEADER_TIMEOUT_MS", 10_000u64)?,
            ),
            body_read: Duration::from_millis(env.parsed_or("LOCAL_BODY_TIMEOUT_MS", 30_000u64)?),
            request: Duration::from_millis(env.parsed_or("LOCAL_REQUEST_TIMEOUT_MS", 30_000u64)?),
        })
    }
}

/// Serves `ROUTES` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: App,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let slots = Arc::new(Semaphore::new(limits.connections));
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => return,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return,
        };
        let (stream, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                // Out of file descriptors and the like: wait a moment rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(dispatch(ROUTES, &app, req, peer, limits).await) }
            });
            if let Err(e) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
}

pub async fn bind(host: &str, port: u16) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind((host, port)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

async fn dispatch(
    routes: &'static [Route],
    app: &App,
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
    limits: Limits,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    // Stop reading once past the limit, rather than buffer whatever a client sends, and
    // stop waiting for a body that trickles in.
    let read = tokio::time::timeout(
        limits.body_read,
        Limited::new(body, MAX_BODY_BYTES).collect(),
    );
    let (body, body_error) = match read.await {
        Ok(Ok(collected)) => (to_lambda_body(collected.to_bytes()), None),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => (
            Body::Empty,
            Some(ApiError::payload_too_large(MAX_BODY_BYTES)),
        ),
        Ok(Err(_)) => (
            Body::Empty,
            Some(ApiError::invalid_json("the request body could not be read")),
        ),
        Err(_) => (
            Body::Empty,
            Some(ApiError::new(
                http::StatusCode::REQUEST_TIMEOUT,
                Code::RequestTimeout,
                "Request timeout",
                "the request body did not arrive in time",
            )),
        ),
    };
    let path = parts.uri.path().to_string();
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let found = router::find(routes, parts.method.as_str(), &path);
    let params = match &found {
        Match::Found { params, .. } => params.clone(),
        _ => HashMap::new(),
    };
    let query = query_parameters(parts.uri.query());
    let request = http::Request::from_parts(parts, body)
        .with_path_parameters(params)
        .with_query_string_parameters(query)
        .with_request_context(source_context(peer))
        .with_lambda_context(invocation(limits.request));

    let response = pm_http::serve(request, |req, id| async move {
        if let Some(error) = body_error {
            return Err(error);
        }
        if docs::serves(&path) {
            return docs::respond(req.method(), &path, host.as_deref());
        }
        if dashboard::serves(&path) {
            return dashboard::respond(&req, &path, app);
        }
        match found {
            Match::Found { route, .. } => (route.handler)(req, id, app).await,
            Match::WrongMethod(allowed) => Err(ApiError::method_not_allowed(&allowed)),
            Match::NotFound => Err(ApiError::not_found(format!("no route for {path}"))),
        }
    })
    .await;
    to_hyper_response(response)
}

/// A Lambda context whose deadline is `timeout` from now, as the Runtime API gives one.
fn invocation(timeout: Duration) -> lambda_http::Context {
    let mut context = lambda_http::Context::default();
    let deadline = std::time::SystemTime::now() + timeout;
    context.deadline = deadline
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    context
}

/// What API Gateway tells a function about the client: here, its address.
fn source_context(peer: SocketAddr) -> RequestContext {
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.source_ip = Some(peer.ip().to_string());
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http = http;
    RequestContext::ApiGatewayV2(context)
}

fn to_lambda_body(bytes: Bytes) -> Body {
    if bytes.is_empty() {
        return Body::Empty;
    }
    match String::from_utf8(bytes.to_vec()) {
        Ok(text) => Body::Text(text),
        Err(e) => Body::Binary(e.into_bytes()),
    }
}

fn query_parameters(query: Option<&str>) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        map.entry(key.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    map
}

fn to_hyper_response(response: pm_http::Response<Body>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}
