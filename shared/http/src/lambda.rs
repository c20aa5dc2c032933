use std::future::Future;

use lambda_http::{Body, Request, Response};

use crate::{serve, ApiError, RequestId};

/// The whole `main` of an HTTP function after its cold-start set-up: every invocation
/// goes through [`serve`] (request id, problem+json, panic containment, access log).
pub async fn run<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request, RequestId) -> Fut + Sync,
    Fut: Future<Output = Result<Response<Body>, ApiError>> + Send,
{
    let handler = &handler;
    lambda_http::run(lambda_http::service_fn(|req| async move {
        Ok::<_, std::convert::Infallible>(serve(req, handler).await)
    }))
    .await
}
