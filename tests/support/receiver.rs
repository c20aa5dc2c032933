//! A webhook receiver on a random loopback port, after svix's `TestReceiver`: it records
//! every request it gets, and a test decides (and changes, mid-test) how it answers.
//! A deliberately small HTTP/1.1 server, so a test can also make it hang or cut the
//! connection, which a full framework would not let it do.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// How the receiver answers a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Status(u16),
    /// A status with a `Retry-After` header.
    RetryAfter(u16, String),
    /// Says nothing for this long, then answers 200.
    Hang(Duration),
    /// Closes the connection without answering.
    Reset,
    /// A redirect, which deliveries must not follow.
    Redirect(String),
    /// A status with this JSON body (an API the platform calls, e.g. a mail provider).
    Json(u16, String),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// One-off replies, used first, in order.
    next: VecDeque<Reply>,
    otherwise: Option<Reply>,
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

impl Receiver {
    /// Listens on 127.0.0.1 at a free port and answers 200 until told otherwise.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            otherwise: Some(Reply::Status(200)),
            ..State::default()
        }));
        let accepting = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(stream, accepting.clone()));
            }
        });
        Self {
            addr,
            state,
            task: Arc::new(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answers every later request this way.
    pub fn always(&self, reply: Reply) {
        let mut state = self.state.lock().unwrap();
        state.next.clear();
        state.otherwise = Some(reply);
    }

    /// Answers the next request this way (then as before).
    pub fn once(&self, reply: Reply) {
        self.state.lock().unwrap().next.push_back(reply);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// At least `n` requests, waiting up to `within`; panics otherwise.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        crate::eventually(&format!("{n} requests at the receiver"), within, || async {
            let got = self.received();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut buffer = Vec::new();
    loop {
        // Headers.
        let header_end = loop {
            if let Some(end) = find(&buffer, b"\r\n\r\n") {
                break end;
            }
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or("").split(' ');
        let method = request_line.next().unwrap_or("").to_string();
        let path = request_line.next().unwrap_or("/").to_string();
        let headers: BTreeMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let length: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let body_start = header_end + 4;
        while buffer.len() < body_start + length {
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buffer[body_start..body_start + length].to_vec();
        buffer.drain(..body_start + length);
        let reply = {
            let mut state = state.lock().unwrap();
            state.received.push(Received {
                at: Instant::now(),
                method,
                path,
                headers,
                body,
            });
            state
                .next
                .pop_front()
                .or_else(|| state.otherwise.clone())
                .unwrap_or(Reply::Status(200))
        };
        let response = match reply {
            Reply::Status(code) => status_line(code, ""),
            Reply::RetryAfter(code, after) => {
                status_line(code, &format!("retry-after: {after}\r\n"))
            }
            Reply::Hang(wait) => {
                tokio::time::sleep(wait).await;
                status_line(200, "")
            }
            Reply::Reset => return,
            Reply::Redirect(location) => status_line(302, &format!("location: {location}\r\n")),
            Reply::Json(code, body) => format!(
                "HTTP/1.1 {code} Status\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            ),
        };
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn status_line(code: u16, extra_headers: &str) -> String {
    let body = format!("{{\"received\":true,\"status\":{code}}}");
    format!(
        "HTTP/1.1 {code} Status\r\ncontent-type: application/json\r\n{extra_headers}content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
