//! The local runtime over real HTTP: start-up (database, migrations, demo tenant,
//! credentials file) and the shared plumbing every route gets.

use std::time::Duration;

use pm_config::Env;
use pm_local::cli::ServeOptions;
use pm_local::runtime::{self, Running};
use pm_tests::db::{config_for, TestDb};
use pm_tests::eventually;
use pm_tests::{peers, unique};

async fn start(database_url: &str, credentials_out: Option<std::path::PathBuf>) -> Running {
    let env = runtime::local_env(Env::fixed([("DATABASE_URL", database_url)]));
    let options = ServeOptions {
        host: "127.0.0.1".into(),
        port: 0,
        credentials_out,
    };
    runtime::start(&options, &env)
        .await
        .expect("local runtime starts")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test]
async fn starts_creates_its_database_seeds_a_tenant_and_answers_health() {
    // A database that does not exist yet: the runtime must create and migrate it.
    let name = unique("pm_test_rt_");
    let url = config_for(&name).url.expose().clone();
    let credentials = std::env::temp_dir().join(format!("{name}.json"));
    let running = start(&url, Some(credentials.clone())).await;

    let response = client()
        .get(format!("{}/health", running.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["database"], "up");

    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&credentials).unwrap()).unwrap();
    assert_eq!(written["base_url"], running.base_url());
    assert_eq!(written["tenant_id"], running.tenant.id.to_string());
    // The written key and session work.
    let me = client()
        .get(format!("{}/api/v1/me", running.base_url()))
        .bearer_auth(written["api_key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let keys = client()
        .get(format!("{}/api/v1/platform/api-keys", running.base_url()))
        .bearer_auth(written["session_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(keys.status(), 200);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&credentials)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "credentials are private");
    }

    // Starting again on the same database reuses the demo tenant.
    let again = start(&url, None).await;
    assert_eq!(again.tenant.id, running.tenant.id);
    again.stop().await;
    running.stop().await;
    let _ = std::fs::remove_file(credentials);
}

#[tokio::test]
async fn unknown_routes_wrong_methods_and_big_bodies_get_problems() {
    let test = TestDb::new().await;
    let running = start(test.config.url.expose(), None).await;
    let base = running.base_url();
    let http = client();

    let response = http
        .get(format!("{base}/nope"))
        .header("x-request-id", "given-id")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    // The platform's own id, never the caller's (which is only logged beside it).
    let ours = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(ours, "given-id");
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "not_found");
    assert_eq!(problem["request_id"], ours.as_str());

    let response = http.post(format!("{base}/health")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");

    let response = http
        .post(format!("{base}/health"))
        .header("content-type", "application/json")
        .body(vec![b' '; pm_http::MAX_BODY_BYTES + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "payload_too_large");
    running.stop().await;
}

#[tokio::test]
async fn health_is_503_not_a_crash_when_the_database_goes_away() {
    let test = TestDb::new().await;
    let running = start(test.config.url.expose(), None).await;
    // Serve the same routes on an app whose database is unreachable.
    let dead = config_for("x")
        .with_url(format!(
            "postgres://postgres@127.0.0.1:{}/x?sslmode=disable",
            peers::free_port()
        ))
        .unwrap();
    let mut app = running.app.clone();
    app.db = pm_store::Db::new(&dead).unwrap();
    let (listener, addr) = pm_local::server::bind("127.0.0.1", 0).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let limits =
        pm_local::server::Limits::from_env(&pm_config::Env::fixed([("UNUSED", "")])).unwrap();
    let server = tokio::spawn(pm_local::server::serve(listener, app, limits, async {
        let _ = stopped.await;
    }));
    for _ in 0..2 {
        let response = client()
            .get(format!("http://{addr}/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["database"], "down");
    }
    let _ = stop.send(());
    server.await.unwrap();
    running.stop().await;
}

#[tokio::test]
async fn the_outbox_relay_runs_in_the_background() {
    let test = TestDb::new().await;
    let running = start(test.config.url.expose(), None).await;
    let mut client = running.app.db.client().await.unwrap();
    let tx = client.transaction().await.unwrap();
    let event = pm_store::outbox::record(
        &tx,
        running.tenant.id,
        pm_domain::EventType::ContactCreated,
        &serde_json::json!({"id": "c1"}),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // The schedule ticks every second; the fan-out consumer then takes the event off
    // the queue, so the outbox row's stamp is what shows it was published.
    let published_at: chrono::DateTime<chrono::Utc> = eventually(
        "the relay to publish the event",
        Duration::from_secs(10),
        || async {
            client
                .query_one(
                    "SELECT published_at FROM event_outbox WHERE id = $1",
                    &[&event.id],
                )
                .await
                .unwrap()
                .get(0)
        },
    )
    .await;
    assert!(published_at <= chrono::Utc::now());
    running.stop().await;
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_connections_are_bounded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sys = pm_tests::system::Sys::start_with(&[
        ("LOCAL_HEADER_TIMEOUT_MS", "300".into()),
        ("LOCAL_BODY_TIMEOUT_MS", "300".into()),
        ("LOCAL_MAX_CONNECTIONS", "4".into()),
    ])
    .await;
    let addr = sys.running.addr;
    // Headers that never finish: the connection is closed.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server closed the half-sent request");
    // A body that trickles: 408 request_timeout.
    let mut trickle = tokio::net::TcpStream::connect(addr).await.unwrap();
    trickle
        .write_all(b"POST /api/v1/contacts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"em")
        .await
        .unwrap();
    let mut head = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), trickle.read(&mut head))
        .await
        .expect("an answer")
        .unwrap();
    assert!(
        String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&head[..n])
    );
    // Four idle connections hold every slot: a fifth waits until one goes.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waiting = tokio::time::timeout(
        Duration::from_millis(150),
        sys.http.get(sys.url("/health")).send(),
    )
    .await;
    assert!(waiting.is_err(), "no slot for a fifth connection");
    drop(idle);
    let response = sys.http.get(sys.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    sys.stop().await;
}
