//! The steady mixed load: a few clients, each looping over the key check (`GET /me`),
//! a contact creation (a write with an event behind it, which becomes a webhook
//! delivery), a contact list and, one turn in eight, an email to send (which goes out
//! through the SMTP server), paced so the machine is not saturated. Every answer is
//! classified; committed creations and accepted emails are remembered for the checks.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A client gives up on a request after this long: the "hang" bound.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const PACE: Duration = Duration::from_millis(25);

#[derive(Debug, Default, Clone, Serialize)]
pub struct Tally {
    /// `"200"`, `"201"`, `"503"`, `"503 without Retry-After"`, `"timeout"`,
    /// `"connection error"`, any other status.
    pub by_outcome: BTreeMap<String, u64>,
    #[serde(skip)]
    pub first_bad: Option<Instant>,
    #[serde(skip)]
    pub last_bad: Option<Instant>,
    /// Contacts whose creation was answered 201: each must exist, and its event be
    /// delivered, afterwards.
    #[serde(skip)]
    pub committed: Vec<String>,
    /// Emails answered 202: each must reach the SMTP server afterwards.
    #[serde(skip)]
    pub accepted_emails: Vec<String>,
    pub slowest_ms: u64,
}

impl Tally {
    pub fn total(&self) -> u64 {
        self.by_outcome.values().sum()
    }

    /// Outcomes other than 2xx or 503 with `Retry-After`.
    pub fn unexpected(&self, allow_connection_errors: bool) -> Vec<(String, u64)> {
        self.by_outcome
            .iter()
            .filter(|(outcome, _)| {
                !(outcome.starts_with('2')
                    || outcome.as_str() == "503"
                    || (allow_connection_errors && outcome.as_str() == "connection error"))
            })
            .map(|(o, n)| (o.clone(), *n))
            .collect()
    }
}

pub struct Load {
    stop: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
    tally: Arc<Mutex<Tally>>,
}

impl Load {
    pub fn start(base_url: &str, key: &str, clients: usize) -> Self {
        let (stop, stopped) = watch::channel(false);
        let tally = Arc::new(Mutex::new(Tally::default()));
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("a client builds");
        let workers = (0..clients)
            .map(|worker| {
                let (http, tally, stopped) = (http.clone(), tally.clone(), stopped.clone());
                let (base, key) = (base_url.to_string(), key.to_string());
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while !*stopped.borrow() {
                        n += 1;
                        let request = match n % 8 {
                            5 => http.post(format!("{base}{}", pm_tests::mail::SEND)).json(&json!({
                                "from": {"email": pm_tests::mail::FROM},
                                "to": format!("w{worker}-{n}@faults.example"),
                                "subject": "fault suite",
                                "text": "hello",
                            })),
                            0 | 1 | 4 => http.get(format!("{base}/api/v1/me")),
                            2 | 6 => http.post(format!("{base}/api/v1/contacts")).json(&json!({
                                "email": format!("w{worker}-{n}-{}@faults.example", uuid::Uuid::new_v4().simple()),
                            })),
                            _ => http.get(format!("{base}/api/v1/contacts?limit=5")),
                        };
                        let sent = Instant::now();
                        let answer = request.bearer_auth(&key).send().await;
                        let outcome = match answer {
                            Ok(response) => {
                                let status = response.status().as_u16();
                                let retry_after = response.headers().contains_key("retry-after");
                                let body: Value = response.json().await.unwrap_or(Value::Null);
                                if let Some(id) = body["id"].as_str() {
                                    let mut tally = tally.lock().unwrap();
                                    match status {
                                        201 => tally.committed.push(id.to_string()),
                                        202 => tally.accepted_emails.push(id.to_string()),
                                        _ => {}
                                    }
                                }
                                match status {
                                    503 if !retry_after => "503 without Retry-After".to_string(),
                                    _ => status.to_string(),
                                }
                            }
                            Err(e) if e.is_timeout() => "timeout".into(),
                            Err(_) => "connection error".into(),
                        };
                        let now = Instant::now();
                        {
                            let mut tally = tally.lock().unwrap();
                            tally.slowest_ms =
                                tally.slowest_ms.max((now - sent).as_millis() as u64);
                            if !outcome.starts_with('2') {
                                tally.first_bad.get_or_insert(sent);
                                tally.last_bad = Some(now);
                            }
                            *tally.by_outcome.entry(outcome).or_default() += 1;
                        }
                        tokio::time::sleep(PACE).await;
                    }
                })
            })
            .collect();
        Self {
            stop,
            workers,
            tally,
        }
    }

    /// When the last answer that was not a 2xx came (None: there was none).
    pub fn last_bad(&self) -> Option<Instant> {
        self.tally.lock().unwrap().last_bad
    }

    pub async fn stop(self) -> Tally {
        self.stop.send_replace(true);
        for worker in self.workers {
            let _ = worker.await;
        }
        let tally = self.tally.lock().unwrap().clone();
        tally
    }
}
