use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant, SystemTime};

use futures::FutureExt;
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::{ApiError, RequestId, REQUEST_ID_HEADER};

/// Runs one handler with everything every route needs around it:
/// - the request id (always the platform's; a caller's `X-Request-Id` is logged beside
///   it as the client's) goes to the handler, the logs and the response header;
/// - an `ApiError` becomes problem+json;
/// - a panic becomes a 500 problem instead of a dropped connection, and is logged;
/// - one access-log line per request;
/// - a query parameter given twice is 400 `invalid_parameter`: every parameter of this
///   API has one value, and silently reading one of two would surprise someone;
/// - a handler still running [`ANSWER_MARGIN`] before the invocation's deadline (Lambda's,
///   or the local runtime's) is stopped and the client gets 503 `service_unavailable`
///   with `Retry-After`, rather than a timeout from the gateway with no body. A peer that
///   stops answering mid-query (a network partition) would otherwise hold the request
///   until the function is killed. The request is then treated as a crashed one: what it
///   committed stays (with its outbox events), what it had not is rolled back, and its
///   `Idempotency-Key` stays claimed until the claim lapses.
pub async fn serve<F, Fut>(req: Request, handler: F) -> Response<Body>
where
    F: FnOnce(Request, RequestId) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let started = Instant::now();
    let request_id = RequestId::from_request(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_string();

    let outcome = match repeated_query_parameter(&req) {
        Some(name) => Ok(Err(crate::list::bad_parameter(
            crate::Code::InvalidParameter,
            format!("{name} is given more than once; give it once"),
        ))),
        None => {
            let budget = budget(&req);
            let run = AssertUnwindSafe(handler(req, request_id.clone())).catch_unwind();
            match budget {
                Some(budget) => tokio::time::timeout(budget, run).await.unwrap_or_else(|_| {
                    tracing::warn!(request_id = %request_id, "request stopped at its deadline");
                    Ok(Err(deadline_exceeded()))
                }),
                None => run.await,
            }
        }
    };
    let mut response = match outcome {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            if error.status.is_server_error() {
                tracing::warn!(request_id = %request_id, code = error.code, "request failed");
            }
            error.into_response(&request_id)
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic".to_string());
            tracing::error!(request_id = %request_id, panic = %message, "handler panicked");
            ApiError::internal().into_response(&request_id)
        }
    };
    if let Ok(value) = HeaderValue::from_str(request_id.as_str()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    tracing::info!(
        request_id = %request_id,
        client_request_id = request_id.client().unwrap_or(""),
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// Time left before the invocation's deadline for the handler to answer in.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(500);

/// How long the handler may run: until [`ANSWER_MARGIN`] before the deadline in the
/// request's Lambda context (`None` without one: a handler called directly by a test).
fn budget(req: &Request) -> Option<Duration> {
    use lambda_http::RequestExt;
    let deadline_ms = req.lambda_context_ref()?.deadline;
    if deadline_ms == 0 {
        return None;
    }
    let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(deadline_ms);
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    Some(left.saturating_sub(ANSWER_MARGIN))
}

fn deadline_exceeded() -> ApiError {
    ApiError::service_unavailable(
        "the request did not finish in time (a backing service is slow to answer); what \
         it did may or may not have taken effect: retry after Retry-After (with the same \
         Idempotency-Key, a retry within two minutes is refused as in flight)",
    )
}

fn repeated_query_parameter(req: &Request) -> Option<String> {
    use lambda_http::RequestExt;
    let query = req.query_string_parameters_ref()?;
    query
        .iter()
        .map(|(name, _)| name)
        .find(|name| query.all(name).is_some_and(|values| values.len() > 1))
        .map(str::to_string)
}

/// A JSON response with the given status.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_string(value).map_err(|e| {
        tracing::error!(error = %e, "response did not serialize");
        ApiError::internal()
    })?;
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body))
        .map_err(|_| ApiError::internal())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(request_id: Option<&str>) -> Request {
        let mut b = http::Request::builder().uri("/t");
        if let Some(id) = request_id {
            b = b.header(REQUEST_ID_HEADER, id);
        }
        b.body(Body::Empty).unwrap()
    }

    #[tokio::test]
    async fn a_query_parameter_given_twice_is_refused_before_the_handler() {
        use lambda_http::RequestExt;
        let query = |pairs: &[(&str, &str)]| {
            let mut map: std::collections::HashMap<String, Vec<String>> = Default::default();
            for (k, v) in pairs {
                map.entry(k.to_string()).or_default().push(v.to_string());
            }
            get(None).with_query_string_parameters(map)
        };
        let ran = std::sync::atomic::AtomicBool::new(false);
        let resp = serve(
            query(&[("tag", "a"), ("sender", "x"), ("sender", "y")]),
            |_, _| async {
                ran.store(true, std::sync::atomic::Ordering::SeqCst);
                json(StatusCode::OK, &serde_json::json!({}))
            },
        )
        .await;
        assert_eq!(resp.status(), 400);
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
        let Body::Text(text) = resp.body() else {
            panic!("a text body")
        };
        assert!(
            text.contains("\"invalid_parameter\"")
                && text.contains("sender is given more than once"),
            "{text}"
        );

        let resp = serve(query(&[("tag", "a"), ("sender", "x")]), |_, _| async {
            json(StatusCode::OK, &serde_json::json!({}))
        })
        .await;
        assert_eq!(resp.status(), 200);
    }

    #[tokio::test]
    async fn the_handler_and_the_response_get_our_id_not_the_callers() {
        let resp = serve(get(Some("abc-1")), |_, id| async move {
            assert_ne!(id.as_str(), "abc-1");
            assert_eq!(id.client(), Some("abc-1"));
            json(StatusCode::OK, &serde_json::json!({"ok": true}))
        })
        .await;
        assert_eq!(resp.status(), 200);
        let header = resp.headers()[REQUEST_ID_HEADER].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(header).is_ok(), "{header}");
    }

    #[tokio::test]
    async fn errors_become_problems_with_the_same_request_id() {
        let resp = serve(get(None), |_, _| async { Err(ApiError::not_found("nope")) }).await;
        assert_eq!(resp.status(), 404);
        let id = resp.headers()[REQUEST_ID_HEADER]
            .to_str()
            .unwrap()
            .to_string();
        let Body::Text(text) = resp.body() else {
            panic!()
        };
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["request_id"], id.as_str());
        assert_eq!(v["code"], "not_found");
    }

    /// A request whose invocation ends `in_ms` from now.
    fn with_deadline(in_ms: u64) -> Request {
        use lambda_http::RequestExt;
        let mut context = lambda_http::Context::default();
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap();
        context.deadline = now.as_millis() as u64 + in_ms;
        get(None).with_lambda_context(context)
    }

    #[tokio::test]
    async fn a_handler_still_running_at_its_deadline_is_stopped_with_a_503() {
        let stopped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let finished = stopped.clone();
        let started = Instant::now();
        // 200 ms to run after the margin; the handler would take 30 s.
        let resp = serve(with_deadline(700), |_, _| async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            finished.store(false, std::sync::atomic::Ordering::SeqCst);
            json(StatusCode::OK, &())
        })
        .await;
        let took = started.elapsed();
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()["retry-after"], "1");
        assert!(took < Duration::from_secs(2), "answered after {took:?}");
        assert!(
            took >= Duration::from_millis(150),
            "answered after {took:?}"
        );
        assert!(stopped.load(std::sync::atomic::Ordering::SeqCst));
        let Body::Text(text) = resp.body() else {
            panic!()
        };
        assert!(text.contains("service_unavailable") && text.contains("did not finish in time"));
    }

    #[tokio::test]
    async fn a_handler_inside_its_deadline_answers_and_no_deadline_means_no_limit() {
        let quick = serve(with_deadline(5_000), |_, _| async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            json(StatusCode::OK, &())
        })
        .await;
        assert_eq!(quick.status(), 200);
        // A context without a deadline (0), as a handler called by a test has.
        let unlimited = {
            use lambda_http::RequestExt;
            get(None).with_lambda_context(lambda_http::Context::default())
        };
        let unlimited = serve(unlimited, |_, _| async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            json(StatusCode::OK, &())
        });
        assert_eq!(unlimited.await.status(), 200);
        // Less than the margin left: nothing can finish in time, so it is refused at once.
        let late = serve(with_deadline(100), |_, _| async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            json(StatusCode::OK, &())
        })
        .await;
        assert_eq!(late.status(), 503);
    }

    #[tokio::test]
    async fn a_panic_is_a_500_problem_without_its_message() {
        let resp = serve(get(None), |_, _| async {
            if true {
                panic!("secret internal detail");
            }
            json(StatusCode::OK, &())
        })
        .await;
        assert_eq!(resp.status(), 500);
        let Body::Text(text) = resp.body() else {
            panic!()
        };
        assert!(text.contains("internal_error"));
        assert!(!text.contains("secret internal detail"));
    }
}
