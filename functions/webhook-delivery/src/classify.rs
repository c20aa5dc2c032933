//! Turning what the HTTP client returned into an [`Outcome`], the only thing the retry
//! decision looks at.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::outbound::is_refused;
use crate::policy::Outcome;

/// The outcome of an attempt that got an answer. `retry_after` is the raw
/// `Retry-After` header value, read relative to `now`.
pub fn response(status: u16, retry_after: Option<&str>, now: DateTime<Utc>) -> Outcome {
    if (200..300).contains(&status) {
        return Outcome::Success;
    }
    Outcome::HttpStatus {
        status,
        retry_after: retry_after.and_then(|value| parse_retry_after(value, now)),
    }
}

/// `Retry-After` as a wait: delta-seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`). A date already past is no wait; anything
/// unreadable is ignored rather than guessed at.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 is still "a very long time"; the policy caps it.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// The outcome of an attempt that got no answer.
///
/// TLS failures are recognised by the I/O error the TLS layer reports them as
/// (`InvalidData`, carrying the rustls error), which avoids depending on rustls here.
pub fn error(err: &reqwest::Error) -> Outcome {
    // First: a refusal is also a resolver (DNS) and connect error.
    if is_refused(err) {
        Outcome::RefusedAddress
    } else if err.is_timeout() {
        Outcome::Timeout
    } else if err.is_dns() {
        Outcome::Dns
    } else if err.is_connect() && has_invalid_data(err) {
        Outcome::Tls
    } else if err.is_connect() {
        Outcome::Connect
    } else {
        Outcome::Other
    }
}

fn has_invalid_data(err: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(err) = current {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::InvalidData {
                return true;
            }
            // The connector wraps the TLS layer's error in another `io::Error`, and
            // `io::Error::source` skips the wrapped error itself: look inside.
            if let Some(inner) = io.get_ref() {
                if has_invalid_data(inner) {
                    return true;
                }
            }
        }
        current = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::{client_builder, Lookup, OutboundPolicy};
    use std::net::IpAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2015-10-21T07:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn every_2xx_is_a_success_whatever_its_headers() {
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(response(status, Some("60"), now()), Outcome::Success);
        }
    }

    #[test]
    fn other_statuses_keep_their_code_and_retry_after() {
        assert_eq!(
            response(503, Some("120"), now()),
            Outcome::HttpStatus {
                status: 503,
                retry_after: Some(Duration::from_secs(120))
            }
        );
        assert_eq!(
            response(404, None, now()),
            Outcome::HttpStatus {
                status: 404,
                retry_after: None
            }
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("0", now()), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after(" 30 ", now()),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now()),
            Some(Duration::from_secs(28 * 60))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now()),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn a_retry_after_date_in_the_past_is_no_wait() {
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 06:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn unreadable_retry_after_values_are_ignored() {
        for value in ["", "soon", "-5", "1.5", "tomorrow at noon"] {
            assert_eq!(parse_retry_after(value, now()), None, "{value:?}");
        }
    }

    /// Every name is loopback: these tests never leave the machine.
    struct Loopback;

    impl Lookup for Loopback {
        async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
            match host {
                "missing.test" => Err(io::Error::from(io::ErrorKind::NotFound)),
                _ => Ok(vec!["127.0.0.1".parse().unwrap()]),
            }
        }
    }

    const LOCAL: OutboundPolicy = OutboundPolicy {
        allow_loopback: true,
        allow_http: true,
        only_loopback: false,
    };

    /// A loopback listener whose connections get `reply` (or nothing, if `None`).
    async fn listener(reply: Option<&'static [u8]>) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    match reply {
                        Some(bytes) => {
                            let _ = stream.write_all(bytes).await;
                        }
                        None => tokio::time::sleep(Duration::from_secs(5)).await,
                    }
                });
            }
        });
        port
    }

    async fn outcome_of(policy: OutboundPolicy, url: String, timeout: Duration) -> Outcome {
        let client = client_builder(policy, Loopback).build().unwrap();
        let err = client.post(url).timeout(timeout).send().await.unwrap_err();
        error(&err)
    }

    #[tokio::test]
    async fn a_refused_address_is_classified_as_such() {
        let port = listener(Some(b"HTTP/1.1 204 No Content\r\n\r\n")).await;
        let outcome = outcome_of(
            OutboundPolicy::default(),
            format!("http://receiver.test:{port}/"),
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(outcome, Outcome::RefusedAddress);
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_a_dns_failure() {
        let outcome =
            outcome_of(LOCAL, "http://missing.test/".into(), Duration::from_secs(5)).await;
        assert_eq!(outcome, Outcome::Dns);
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_failure() {
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
            probe.local_addr().unwrap().port()
        };
        let outcome = outcome_of(
            LOCAL,
            format!("http://receiver.test:{port}/"),
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(outcome, Outcome::Connect);
    }

    #[tokio::test]
    async fn a_receiver_that_never_answers_is_a_timeout() {
        let port = listener(None).await;
        let outcome = outcome_of(
            LOCAL,
            format!("http://receiver.test:{port}/"),
            Duration::from_millis(200),
        )
        .await;
        assert_eq!(outcome, Outcome::Timeout);
    }

    #[tokio::test]
    async fn a_receiver_that_does_not_speak_tls_is_a_tls_failure() {
        let port = listener(Some(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")).await;
        let outcome = outcome_of(
            LOCAL,
            format!("https://receiver.test:{port}/"),
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(outcome, Outcome::Tls);
    }

    #[tokio::test]
    async fn a_garbled_answer_is_other() {
        let port = listener(Some(b"this is not http\r\n\r\n")).await;
        let outcome = outcome_of(
            LOCAL,
            format!("http://receiver.test:{port}/"),
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(outcome, Outcome::Other);
    }
}
