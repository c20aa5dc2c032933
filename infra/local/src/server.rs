//! One HTTP listener for every route. Each request becomes the same `lambda_http`
//! request API Gateway would hand a function (path and query parameters included) and
//! goes through the same `pm_http::serve` wrapper.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use pm_http::{ApiError, Body, RequestExt, MAX_BODY_BYTES};
use tokio::net::TcpListener;

use crate::router::{self, Match};
use crate::routes::{Route, ROUTES};
use crate::App;

/// Serves `ROUTES` on `listener` until `shutdown` resolves.
pub async fn serve(listener: TcpListener, app: App, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return,
        };
        let (stream, _) = match accepted {
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
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(dispatch(ROUTES, &app, req).await) }
            });
            if let Err(e) = http1::Builder::new()
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
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    // Stop reading once past the limit, rather than buffer whatever a client sends.
    let (body, body_error) = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => (to_lambda_body(collected.to_bytes()), None),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => (
            Body::Empty,
            Some(ApiError::payload_too_large(MAX_BODY_BYTES)),
        ),
        Err(_) => (
            Body::Empty,
            Some(ApiError::invalid_json("the request body could not be read")),
        ),
    };
    let path = parts.uri.path().to_string();
    let found = router::find(routes, parts.method.as_str(), &path);
    let params = match &found {
        Match::Found { params, .. } => params.clone(),
        _ => HashMap::new(),
    };
    let query = query_parameters(parts.uri.query());
    let request = http::Request::from_parts(parts, body)
        .with_path_parameters(params)
        .with_query_string_parameters(query);

    let response = pm_http::serve(request, |req, id| async move {
        if let Some(error) = body_error {
            return Err(error);
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
