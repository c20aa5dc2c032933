//! `GET /health` through the handler code the Lambda runs, fed the SAM sample event.

use pm_http::{Body, Request, Response};
use pm_store::Db;
use pm_tests::db::{config_for, TestDb};
use pm_tests::{peers, workspace_root};

fn sample_event() -> Request {
    let text = std::fs::read_to_string(workspace_root().join("events/health.json")).unwrap();
    lambda_http::request::from_str(&text).expect("events/health.json is an HTTP API event")
}

fn json(response: &Response<Body>) -> serde_json::Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("expected a text body, got {other:?}"),
    }
}

async fn call(db: &Db) -> Response<Body> {
    pm_http::serve(sample_event(), |req, id| pm_health::handle(req, id, db)).await
}

#[tokio::test]
async fn healthy_when_the_database_answers() {
    let test = TestDb::new().await;
    let response = call(&test.db).await;
    assert_eq!(response.status(), 200);
    // API Gateway's request id, not the caller's X-Request-Id (evt-health-1).
    assert_eq!(
        response.headers()["x-request-id"],
        "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    );
    let body = json(&response);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "up");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn degraded_503_when_the_database_is_down() {
    let config = config_for("x")
        .with_url(format!(
            "postgres://postgres@127.0.0.1:{}/x?sslmode=disable",
            peers::free_port()
        ))
        .unwrap();
    let response = call(&Db::new(&config).unwrap()).await;
    assert_eq!(response.status(), 503);
    let body = json(&response);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["database"], "down");
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no connection details leak"
    );
}
