//! A Lambda Runtime API (version 2018-06-01) of the tests' own, enough to run a function
//! binary the way Lambda runs it: the binary starts with `AWS_LAMBDA_RUNTIME_API` and the
//! variables Lambda sets, polls `GET /runtime/invocation/next`, gets one event with
//! Lambda's headers, and posts its answer to `/runtime/invocation/{id}/response` (or
//! `/error`; a failed start may post to `/runtime/init/error`). Then the process is
//! killed, as Lambda freezes and later discards an execution environment.
//!
//! A deliberately small HTTP/1.1 server (like [`crate::receiver`]): a binary that never
//! asks, asks for the wrong request id, exits, or never answers fails in bounded time
//! with its own output in the message, instead of hanging the test.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const PREFIX: &str = "/2018-06-01/runtime";

/// A function as Lambda would run it.
#[derive(Debug, Clone)]
pub struct Function {
    pub binary: PathBuf,
    /// `AWS_LAMBDA_FUNCTION_NAME` (and the log stream's, the ARN's).
    pub name: String,
    pub memory_mb: u64,
    /// The configured timeout: the invocation's deadline is this far from its start.
    pub timeout: Duration,
    /// The function's own environment (the template's variables), set over Lambda's.
    pub env: Vec<(String, String)>,
}

/// One invocation's payload and its optional context headers.
#[derive(Debug, Clone, Default)]
pub struct Invoke {
    pub event: Value,
    /// `Lambda-Runtime-Client-Context` (the AWS Mobile SDK's client data), if any.
    pub client_context: Option<String>,
    /// `Lambda-Runtime-Cognito-Identity`, if any.
    pub cognito_identity: Option<String>,
}

/// What the binary posted.
#[derive(Debug, Clone)]
pub enum Answer {
    Response(Value),
    /// `/invocation/{id}/error`: the error document and `Lambda-Runtime-Function-Error-Type`.
    Error {
        kind: String,
        body: Value,
    },
    /// `/init/error`: the function failed before asking for its event.
    InitError {
        kind: String,
        body: Value,
    },
}

#[derive(Debug)]
pub struct Invocation {
    pub answer: Answer,
    pub request_id: String,
    /// The process's stdout and stderr (its logs), for failure messages.
    pub output: String,
}

/// What a connection reports: the answer, or a breach of the protocol.
type Report = Result<Answer, String>;

impl Function {
    /// Starts the binary, hands it `invoke`, and returns its answer, waiting at most
    /// `within`. The process is killed afterwards in every case.
    pub async fn invoke(&self, invoke: &Invoke, within: Duration) -> Result<Invocation, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let request_id = uuid::Uuid::new_v4().to_string();
        let (report, mut reports) = mpsc::channel::<Report>(4);
        let next = Next {
            request_id: request_id.clone(),
            arn: format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{}",
                self.name
            ),
            deadline_ms: now_ms() + self.timeout.as_millis(),
            body: serde_json::to_vec(&invoke.event).map_err(|e| e.to_string())?,
            client_context: invoke.client_context.clone(),
            cognito_identity: invoke.cognito_identity.clone(),
        };
        let given = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(connection(
                    stream,
                    next.clone(),
                    given.clone(),
                    report.clone(),
                ));
            }
        });

        let log = std::env::temp_dir().join(crate::unique("pm_lambda_"));
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
        let stream = format!("2026/12/03/[$LATEST]{}", uuid::Uuid::new_v4().simple());
        let spawned = tokio::process::Command::new(&self.binary)
            // Lambda's environment is its own, not the test's.
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("TZ", ":UTC")
            .env("LANG", "en_US.UTF-8")
            .env("_HANDLER", "bootstrap")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", self.name),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", stream)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                server.abort();
                let _ = std::fs::remove_file(&log);
                return Err(format!("{} does not start: {e}", self.binary.display()));
            }
        };
        let outcome = tokio::select! {
            report = reports.recv() => report.unwrap_or_else(|| Err("the emulator stopped".into())),
            _ = tokio::time::sleep(within) => Err(format!("no answer within {within:?}")),
            status = child.wait() => {
                // It may have answered just before it exited.
                tokio::time::sleep(Duration::from_millis(50)).await;
                reports.try_recv().unwrap_or_else(|_| Err(format!(
                    "it exited ({}) without answering",
                    status.map_or_else(|e| e.to_string(), |s| s.to_string())
                )))
            }
        };
        let _ = child.kill().await;
        server.abort();
        let output = read_log();
        let _ = std::fs::remove_file(&log);
        match outcome {
            Ok(answer) => Ok(Invocation {
                answer,
                request_id,
                output,
            }),
            Err(why) => Err(format!("{why}\n--- its output ---\n{output}")),
        }
    }
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// The one event this process gets.
#[derive(Clone)]
struct Next {
    request_id: String,
    arn: String,
    deadline_ms: u128,
    body: Vec<u8>,
    client_context: Option<String>,
    cognito_identity: Option<String>,
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One connection: requests in a row (the runtime client keeps its connection alive).
async fn connection(
    stream: TcpStream,
    next: Next,
    given: std::sync::Arc<std::sync::atomic::AtomicBool>,
    report: mpsc::Sender<Report>,
) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    while let Some(request) = read_request(&mut read).await {
        let path = request.path.split('?').next().unwrap_or("");
        let route = path.strip_prefix(PREFIX).unwrap_or("");
        let invocation = route
            .strip_prefix("/invocation/")
            .and_then(|rest| rest.rsplit_once('/'));
        let error_body = || serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let error_kind = || {
            request
                .header("lambda-runtime-function-error-type")
                .unwrap_or("")
                .to_string()
        };
        let (status, reply, outcome): (u16, Value, Option<Report>) = match (
            request.method.as_str(),
            route,
            invocation,
        ) {
            ("GET", "/invocation/next", _) => {
                if given.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    // One event per process: a second poll waits, as a frozen
                    // execution environment does, until the process is killed.
                    std::future::pending::<()>().await;
                }
                if write_next(&mut write, &next).await.is_err() {
                    return;
                }
                continue;
            }
            ("POST", _, Some((id, "response"))) if id == next.request_id => (
                202,
                serde_json::json!({"status": "OK"}),
                Some(
                    serde_json::from_slice(&request.body)
                        .map(Answer::Response)
                        .map_err(|e| format!("the response is not JSON ({e})")),
                ),
            ),
            ("POST", _, Some((id, "error"))) if id == next.request_id => (
                202,
                serde_json::json!({"status": "OK"}),
                Some(Ok(Answer::Error {
                    kind: error_kind(),
                    body: error_body(),
                })),
            ),
            ("POST", _, Some((id, "response" | "error"))) => (
                400,
                serde_json::json!({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}),
                Some(Err(format!(
                    "it answered for request {id}, not {}",
                    next.request_id
                ))),
            ),
            ("POST", "/init/error", _) => (
                202,
                serde_json::json!({"status": "OK"}),
                Some(Ok(Answer::InitError {
                    kind: error_kind(),
                    body: error_body(),
                })),
            ),
            (method, _, _) => (
                404,
                serde_json::json!({"errorMessage": "Not found", "errorType": "NotFound"}),
                Some(Err(format!("it called {method} {}", request.path))),
            ),
        };
        let reply = reply.to_string();
        let head = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            if status == 202 { "Accepted" } else { "Error" },
            reply.len()
        );
        let _ = write.write_all(head.as_bytes()).await;
        let _ = write.write_all(reply.as_bytes()).await;
        if let Some(outcome) = outcome {
            let _ = report.send(outcome).await;
        }
    }
}

async fn write_next(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    next: &Next,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         lambda-runtime-aws-request-id: {}\r\n\
         lambda-runtime-deadline-ms: {}\r\n\
         lambda-runtime-invoked-function-arn: {}\r\n\
         lambda-runtime-trace-id: Root=1-{:08x}-{};Parent={};Sampled=1\r\n",
        next.body.len(),
        next.request_id,
        next.deadline_ms,
        next.arn,
        (next.deadline_ms / 1000) as u32,
        &uuid::Uuid::new_v4().simple().to_string()[..24],
        &uuid::Uuid::new_v4().simple().to_string()[..16],
    );
    if let Some(context) = &next.client_context {
        head.push_str(&format!("lambda-runtime-client-context: {context}\r\n"));
    }
    if let Some(identity) = &next.cognito_identity {
        head.push_str(&format!("lambda-runtime-cognito-identity: {identity}\r\n"));
    }
    head.push_str("\r\n");
    write.write_all(head.as_bytes()).await?;
    write.write_all(&next.body).await
}

/// One HTTP/1.1 request (Content-Length or chunked body); `None` at the end or on junk.
async fn read_request<R: tokio::io::AsyncBufRead + Unpin>(read: &mut R) -> Option<Request> {
    let mut line = String::new();
    if read.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let chunked = find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let length: usize = find("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            read.read_line(&mut size).await.ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            if size == 0 {
                // Trailers (a streamed response's error type), up to the blank line.
                loop {
                    let mut trailer = String::new();
                    if read.read_line(&mut trailer).await.ok()? == 0 || trailer.trim().is_empty() {
                        break;
                    }
                    let (name, value) = trailer.split_once(':')?;
                    headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                }
                break;
            }
            let mut chunk = vec![0u8; size + 2];
            read.read_exact(&mut chunk).await.ok()?;
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        read.read_exact(&mut body).await.ok()?;
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}
