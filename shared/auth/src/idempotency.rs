//! `Idempotency-Key` on every POST of the public API, as Stripe does it:
//!
//! - the same key with the same request replays the first response, with
//!   `Idempotent-Replayed: true`;
//! - the same key with a different request (method, path, query or body) is
//!   `422 idempotency_key_reused`;
//! - while the first request with a key is still running, another is
//!   `409 idempotency_key_in_flight`.
//!
//! Records live in the key-value port per API key (DynamoDB conditional writes with TTL
//! in AWS), kept [`KEEP_FOR`]. Only successful (2xx) responses are kept: a request that
//! failed (validation, conflict, an outage) released its key, so the client may fix it
//! and retry with the same key, and nothing was done that a retry could repeat. A store
//! that cannot be reached is a 503 before the handler runs: never a request without its
//! guard. A claim left by a crashed instance lapses after [`IN_FLIGHT_FOR`].

use std::time::Duration;

use http::{HeaderName, HeaderValue, StatusCode};
use pm_domain::ApiKeyId;
use pm_http::{ApiError, Body, Code, Request, Response};
use pm_ports::kv::{Expect, KeyValue, Namespace};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
pub const MAX_KEY_CHARS: usize = 255;
/// How long a completed request's response is replayed.
pub const KEEP_FOR: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a request may hold its key before the claim lapses: longer than any API
/// function's timeout (template.yaml), so a live request is never overtaken.
pub const IN_FLIGHT_FOR: Duration = Duration::from_secs(120);
/// Responses larger than this are not kept (the store's items are at most 350 KiB);
/// no public POST answers with anything near it.
const MAX_KEPT_BODY: usize = 256 * 1024;
/// The response headers a replay repeats; the rest (request id, rate limits) are the
/// replaying request's own.
const REPLAYED_HEADERS: [&str; 2] = ["content-type", "location"];

const RECORDS: Namespace<Record> = Namespace::new("idem");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    /// SHA-256 of method, path with query, and body.
    fingerprint: String,
    #[serde(flatten)]
    state: State,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum State {
    InFlight,
    Done {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
}

/// A request's hold on its key, to be settled with [`Idempotency::finish`].
#[derive(Debug)]
pub struct Claim {
    id: String,
    fingerprint: String,
    version: u64,
}

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Begin {
    /// Run it; settle the claim afterwards.
    Run(Claim),
    /// Answer with the first response again.
    Replay(Response<Body>),
}

/// The request's `Idempotency-Key`, if a POST has one; a malformed key is a 400.
pub fn key_of(req: &Request) -> Result<Option<String>, ApiError> {
    if req.method() != http::Method::POST {
        return Ok(None);
    }
    let Some(raw) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .filter(|k| (1..=MAX_KEY_CHARS).contains(&k.len()))
        .filter(|k| k.bytes().all(|b| (0x20..=0x7e).contains(&b)))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Code::InvalidIdempotencyKey,
                "Invalid Idempotency-Key",
                format!("Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters"),
            )
        })?;
    Ok(Some(key.to_string()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn body_bytes(body: &Body) -> &[u8] {
    match body {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    }
}

/// What makes two requests "the same": method, path with query, and body bytes.
fn fingerprint(req: &Request) -> String {
    let mut hash = Sha256::new();
    hash.update(req.method().as_str().as_bytes());
    hash.update(b"\n");
    let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("");
    hash.update(target.as_bytes());
    hash.update(b"\n");
    hash.update(body_bytes(req.body()));
    hex(&hash.finalize())
}

/// The record's id: per API key, the client's key hashed (fixed length, whatever the
/// client sent).
fn record_id(key_id: ApiKeyId, key: &str) -> String {
    format!("{key_id}:{}", hex(&Sha256::digest(key.as_bytes())))
}

fn reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        Code::IdempotencyKeyReused,
        "Idempotency-Key reused",
        "this Idempotency-Key was used with a different request; use a new key for a new request",
    )
}

fn in_flight() -> ApiError {
    ApiError::conflict(
        Code::IdempotencyKeyInFlight,
        "a request with this Idempotency-Key is still being processed; retry shortly",
    )
    .with_header("retry-after", "1")
}

pub struct Idempotency<'a> {
    kv: &'a dyn KeyValue,
    keep_for: Duration,
    in_flight_for: Duration,
}

impl<'a> Idempotency<'a> {
    pub fn new(kv: &'a dyn KeyValue) -> Self {
        Self {
            kv,
            keep_for: KEEP_FOR,
            in_flight_for: IN_FLIGHT_FOR,
        }
    }

    /// Shorter windows, for tests of expiry that cannot wait a day.
    pub fn with_windows(mut self, keep_for: Duration, in_flight_for: Duration) -> Self {
        self.keep_for = keep_for;
        self.in_flight_for = in_flight_for;
        self
    }

    /// Claims `key` for this request, or answers it from the record already there.
    pub async fn begin(
        &self,
        key_id: ApiKeyId,
        key: &str,
        req: &Request,
    ) -> Result<Begin, ApiError> {
        let id = record_id(key_id, key);
        let fingerprint = fingerprint(req);
        let claim = Record {
            fingerprint: fingerprint.clone(),
            state: State::InFlight,
        };
        // Two rounds: a record that lapsed between our read and our write is claimed
        // on the second.
        for _ in 0..2 {
            if let Some(version) = RECORDS
                .put_if(
                    self.kv,
                    &id,
                    &claim,
                    Expect::Absent,
                    Some(self.in_flight_for),
                )
                .await?
            {
                return Ok(Begin::Run(Claim {
                    id,
                    fingerprint,
                    version,
                }));
            }
            let Some(found) = RECORDS.get(self.kv, &id).await? else {
                continue;
            };
            let found = found.map_err(|(e, _)| ApiError::from(e))?.value;
            if found.fingerprint != fingerprint {
                return Err(reused());
            }
            return match found.state {
                State::InFlight => Err(in_flight()),
                State::Done {
                    status,
                    headers,
                    body,
                } => Ok(Begin::Replay(replay(status, &headers, body))),
            };
        }
        Err(in_flight())
    }

    /// Keeps a successful response for replay; releases the key after anything else.
    /// A store failure here is logged, not answered: the work is done, and the claim
    /// lapses by itself.
    pub async fn finish(&self, claim: Claim, outcome: &Result<Response<Body>, ApiError>) {
        let kept = match outcome {
            Ok(response) if response.status().is_success() => keepable(response),
            _ => None,
        };
        let result = match kept {
            Some(state) => {
                let record = Record {
                    fingerprint: claim.fingerprint,
                    state,
                };
                RECORDS
                    .put_if(
                        self.kv,
                        &claim.id,
                        &record,
                        Expect::Version(claim.version),
                        Some(self.keep_for),
                    )
                    .await
                    .map(drop)
            }
            None => self.release(&claim).await,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "idempotency record not settled; its claim will lapse");
        }
    }

    /// Deletes the claim, unless it lapsed and another request holds the key now.
    async fn release(&self, claim: &Claim) -> Result<(), pm_ports::PortError> {
        match RECORDS.get(self.kv, &claim.id).await? {
            Some(Ok(found)) if found.version == claim.version => {
                RECORDS.delete(self.kv, &claim.id).await
            }
            _ => Ok(()),
        }
    }
}

fn keepable(response: &Response<Body>) -> Option<State> {
    let body = match response.body() {
        Body::Empty => String::new(),
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8(bytes.clone()).ok()?,
        _ => return None,
    };
    if body.len() > MAX_KEPT_BODY {
        tracing::warn!(
            bytes = body.len(),
            "response too large to keep for idempotent replay"
        );
        return None;
    }
    let headers = REPLAYED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(*name)?.to_str().ok()?;
            Some((name.to_string(), value.to_string()))
        })
        .collect();
    Some(State::Done {
        status: response.status().as_u16(),
        headers,
        body,
    })
}

fn replay(status: u16, headers: &[(String, String)], body: String) -> Response<Body> {
    let mut response = Response::new(if body.is_empty() {
        Body::Empty
    } else {
        Body::Text(body)
    });
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response.headers_mut().insert(
        HeaderName::from_static(REPLAYED_HEADER),
        HeaderValue::from_static("true"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(path: &str, body: &str, key: Option<&str>) -> Request {
        let mut builder = http::Request::builder().method("POST").uri(path);
        if let Some(key) = key {
            builder = builder.header(HEADER, key);
        }
        builder.body(Body::Text(body.to_string())).unwrap()
    }

    #[test]
    fn keys_are_one_to_255_printable_characters_on_posts_only() {
        assert_eq!(
            key_of(&post("/x", "", Some("abc-123"))).unwrap().as_deref(),
            Some("abc-123")
        );
        assert_eq!(key_of(&post("/x", "", None)).unwrap(), None);
        let long = "k".repeat(256);
        for bad in ["", long.as_str(), "tab\there", "é"] {
            let err = key_of(&post("/x", "", Some(bad))).unwrap_err();
            assert_eq!(err.code, "invalid_idempotency_key", "{bad:?}");
        }
        let get = http::Request::builder()
            .method("GET")
            .uri("/x")
            .header(HEADER, "")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(key_of(&get).unwrap(), None);
    }

    #[test]
    fn the_fingerprint_covers_path_query_and_body() {
        let base = fingerprint(&post("/a?x=1", "{}", None));
        assert_eq!(base, fingerprint(&post("/a?x=1", "{}", Some("k"))));
        assert_ne!(base, fingerprint(&post("/a?x=2", "{}", None)));
        assert_ne!(base, fingerprint(&post("/b?x=1", "{}", None)));
        assert_ne!(base, fingerprint(&post("/a?x=1", "{ }", None)));
    }
}
