//! The Postmark and Mailgun adapters against a local HTTP receiver that records each request
//! and answers with a canned status and body.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use pm_mail::{
    build, Credentials, Endpoints, MailgunRegion, MailgunSettings, PostmarkSettings, SendError,
    TransportSettings,
};
use serde_json::json;
use tokio::net::TcpListener;

const WAIT: Duration = Duration::from_secs(10);

struct Recorded {
    path: String,
    headers: http::HeaderMap,
    body: Bytes,
}

struct Receiver {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Receiver {
    /// Serves every request with `status` and `body` until the test's runtime ends.
    async fn start(status: u16, reply: &'static str) -> Receiver {
        let status = http::StatusCode::from_u16(status).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let recorded = recorded.clone();
                let service = service_fn(move |request: Request<Incoming>| {
                    let recorded = recorded.clone();
                    async move {
                        let (parts, incoming) = request.into_parts();
                        let body = incoming.collect().await?.to_bytes();
                        recorded.lock().unwrap().push(Recorded {
                            path: parts.uri.path().to_owned(),
                            headers: parts.headers,
                            body,
                        });
                        let mut response =
                            Response::new(Full::new(Bytes::from_static(reply.as_bytes())));
                        *response.status_mut() = status;
                        response.headers_mut().insert(
                            "content-type",
                            http::HeaderValue::from_static("application/json"),
                        );
                        Ok::<_, hyper::Error>(response)
                    }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        Receiver { addr, requests }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn endpoints(&self) -> Endpoints {
        Endpoints {
            postmark: self.url(),
            mailgun_us: self.url(),
            mailgun_eu: format!("{}/eu", self.url()),
            allow_private_smtp: false,
            timeout: WAIT,
        }
    }

    fn only_request(&self) -> Recorded {
        let mut requests = self.requests.lock().unwrap();
        assert_eq!(requests.len(), 1, "expected exactly one request");
        requests.pop().unwrap()
    }
}

fn postmark() -> (TransportSettings, Credentials) {
    (
        TransportSettings::Postmark(PostmarkSettings {
            message_stream: "broadcast".into(),
        }),
        Credentials {
            server_token: Some("pm-server-token".into()),
            ..Credentials::default()
        },
    )
}

fn mailgun(region: MailgunRegion) -> (TransportSettings, Credentials) {
    (
        TransportSettings::Mailgun(MailgunSettings {
            domain: "mg.penguinmails.test".into(),
            region,
        }),
        Credentials {
            api_key: Some("key-mailgun-123".into()),
            ..Credentials::default()
        },
    )
}

async fn send_with(
    (settings, credentials): (TransportSettings, Credentials),
    endpoints: &Endpoints,
) -> Result<pm_mail::Delivered, SendError> {
    let transport = build(&settings, &credentials, endpoints).unwrap();
    tokio::time::timeout(WAIT * 2, transport.send(&common::campaign_message()))
        .await
        .expect("send hung")
}

const POSTMARK_OK: &str = r#"{"To":"ada@example.com","SubmittedAt":"2014-02-17T07:25:01.4178645-05:00","MessageID":"0a129aee-e1cd-480d-b08d-4f48548ff48d","ErrorCode":0,"Message":"OK"}"#;

#[tokio::test]
async fn postmark_request_follows_the_email_api() {
    let receiver = Receiver::start(200, POSTMARK_OK).await;
    let delivered = send_with(postmark(), &receiver.endpoints()).await.unwrap();
    assert_eq!(
        delivered.provider_message_id.as_deref(),
        Some("0a129aee-e1cd-480d-b08d-4f48548ff48d")
    );

    let request = receiver.only_request();
    assert_eq!(request.path, "/email");
    assert_eq!(
        request.headers["x-postmark-server-token"],
        "pm-server-token"
    );
    assert_eq!(request.headers["accept"], "application/json");
    assert_eq!(request.headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({
            "From": "Pingu at PenguinMails <news@penguinmails.test>",
            "To": "Ada Lovelace <ada@example.com>",
            "Cc": "cc@example.com",
            "Bcc": "audit@example.com",
            "ReplyTo": "replies@penguinmails.test",
            "Subject": "Our winter update ❄",
            "HtmlBody": "<p>Hello <b>Ada</b>, snow is falling.</p>",
            "TextBody": "Hello Ada, snow is falling.",
            "MessageStream": "broadcast",
            "Tag": "winter",
            "Metadata": {"campaign_id": "cmp_7", "contact_id": "ct_9"},
            "Headers": [
                {"Name": "Message-ID", "Value": "<0192f3a4.7c1e@mail.penguinmails.test>"},
                {"Name": "List-Unsubscribe", "Value": "<https://t.penguinmails.test/u/tok123>, <mailto:unsubscribe+tok123@penguinmails.test>"},
                {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
                {"Name": "X-Campaign-Id", "Value": "cmp_7"},
            ],
            "TrackOpens": false,
            "TrackLinks": "None",
        })
    );
}

/// Multipart form fields in order, from a `multipart/form-data` body.
fn form_fields(content_type: &str, body: &[u8]) -> Vec<(String, String)> {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("multipart boundary")
        .trim_matches('"');
    let body = String::from_utf8(body.to_vec()).unwrap();
    body.split(&format!("--{boundary}"))
        .filter_map(|part| {
            let (head, value) = part.split_once("\r\n\r\n")?;
            let name = head.split("name=\"").nth(1)?.split('"').next()?;
            Some((
                name.to_owned(),
                value.strip_suffix("\r\n").unwrap_or(value).to_owned(),
            ))
        })
        .collect()
}

#[tokio::test]
async fn mailgun_request_follows_the_messages_api() {
    let receiver = Receiver::start(
        200,
        r#"{"id":"<0192f3a4.7c1e@mail.penguinmails.test>","message":"Queued. Thank you."}"#,
    )
    .await;
    let delivered = send_with(mailgun(MailgunRegion::Us), &receiver.endpoints())
        .await
        .unwrap();
    assert_eq!(
        delivered.provider_message_id.as_deref(),
        Some("0192f3a4.7c1e@mail.penguinmails.test")
    );

    let request = receiver.only_request();
    assert_eq!(request.path, "/v3/mg.penguinmails.test/messages");
    let expected_auth = format!("Basic {}", STANDARD.encode("api:key-mailgun-123"));
    assert_eq!(request.headers["authorization"], expected_auth.as_str());
    let content_type = request.headers["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("multipart/form-data"),
        "{content_type}"
    );

    let fields = form_fields(content_type, &request.body);
    let values = |name: &str| {
        fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        values("from"),
        ["Pingu at PenguinMails <news@penguinmails.test>"]
    );
    assert_eq!(values("to"), ["Ada Lovelace <ada@example.com>"]);
    assert_eq!(values("cc"), ["cc@example.com"]);
    assert_eq!(values("bcc"), ["audit@example.com"]);
    assert_eq!(values("subject"), ["Our winter update ❄"]);
    assert_eq!(values("text"), ["Hello Ada, snow is falling."]);
    assert_eq!(
        values("html"),
        ["<p>Hello <b>Ada</b>, snow is falling.</p>"]
    );
    assert_eq!(
        values("h:Message-Id"),
        ["<0192f3a4.7c1e@mail.penguinmails.test>"]
    );
    assert_eq!(
        values("h:List-Unsubscribe"),
        ["<https://t.penguinmails.test/u/tok123>, <mailto:unsubscribe+tok123@penguinmails.test>"]
    );
    assert_eq!(
        values("h:List-Unsubscribe-Post"),
        ["List-Unsubscribe=One-Click"]
    );
    assert_eq!(values("h:Reply-To"), ["replies@penguinmails.test"]);
    assert_eq!(values("h:X-Campaign-Id"), ["cmp_7"]);
    // Mailgun keeps three tags; the fourth is dropped rather than failing the send.
    assert_eq!(values("o:tag"), ["winter", "newsletter", "eu"]);
    assert_eq!(values("o:tracking"), ["no"]);
    let variables: BTreeMap<_, _> = fields
        .iter()
        .filter(|(n, _)| n.starts_with("v:"))
        .cloned()
        .collect();
    assert_eq!(
        variables,
        BTreeMap::from([
            ("v:campaign_id".into(), "cmp_7".into()),
            ("v:contact_id".into(), "ct_9".into())
        ])
    );
}

#[tokio::test]
async fn mailgun_eu_region_uses_the_eu_endpoint() {
    let receiver = Receiver::start(200, r#"{"id":"<x@y>","message":"Queued. Thank you."}"#).await;
    send_with(mailgun(MailgunRegion::Eu), &receiver.endpoints())
        .await
        .unwrap();
    assert_eq!(
        receiver.only_request().path,
        "/eu/v3/mg.penguinmails.test/messages"
    );
}

#[tokio::test]
async fn provider_answers_are_classified() {
    let cases: [(u16, &'static str, bool); 5] = [
        (500, r#"{"ErrorCode":500,"Message":"Internal error"}"#, true),
        (
            429,
            r#"{"ErrorCode":0,"Message":"Rate limit exceeded"}"#,
            true,
        ),
        (
            422,
            r#"{"ErrorCode":300,"Message":"Invalid email request"}"#,
            false,
        ),
        (
            401,
            r#"{"ErrorCode":10,"Message":"Bad or missing Server API token."}"#,
            false,
        ),
        (400, r#"{"message":"to parameter is missing"}"#, false),
    ];
    for (status, body, transient) in cases {
        let receiver = Receiver::start(status, body).await;
        for provider in [postmark(), mailgun(MailgunRegion::Us)] {
            let error = send_with(provider, &receiver.endpoints())
                .await
                .unwrap_err();
            assert_eq!(error.is_transient(), transient, "{status}: {error:?}");
            assert!(
                !error.reason().contains("pm-server-token")
                    && !error.reason().contains("key-mailgun-123")
            );
        }
    }

    let receiver = Receiver::start(
        422,
        r#"{"ErrorCode":300,"Message":"Invalid email request"}"#,
    )
    .await;
    assert_eq!(
        send_with(postmark(), &receiver.endpoints())
            .await
            .unwrap_err(),
        SendError::Permanent("postmark error 300: Invalid email request".into())
    );
    let receiver = Receiver::start(401, "{}").await;
    assert_eq!(
        send_with(postmark(), &receiver.endpoints())
            .await
            .unwrap_err(),
        SendError::Permanent("postmark rejected the server token".into())
    );
}

#[tokio::test]
async fn connection_refused_is_transient() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let endpoints = Endpoints {
        postmark: url.clone(),
        mailgun_us: url,
        timeout: WAIT,
        ..Endpoints::default()
    };
    for provider in [postmark(), mailgun(MailgunRegion::Us)] {
        let error = send_with(provider, &endpoints).await.unwrap_err();
        assert!(error.is_transient(), "{error:?}");
    }
}
