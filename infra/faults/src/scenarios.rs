//! The faults, one at a time, each under the same load, and what is checked after each.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use pm_tests::receiver::Reply;
use serde::Serialize;

use crate::load::{Load, Tally};
use crate::proxy::Mode;
use crate::system::{connect_direct, System};

/// How long each phase lasts.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Timing {
    pub baseline: Duration,
    /// How long a lasting fault (a peer down or unreachable) is held.
    pub hold: Duration,
    /// How long the load goes on after the fault ends.
    pub settle: Duration,
    /// The most the system may take, after the fault ends, to deliver every event.
    pub drain: Duration,
    pub clients: usize,
}

impl Timing {
    pub const FULL: Self = Self {
        baseline: Duration::from_secs(5),
        hold: Duration::from_secs(10),
        settle: Duration::from_secs(20),
        drain: Duration::from_secs(90),
        clients: 8,
    };
    pub const QUICK: Self = Self {
        baseline: Duration::from_secs(2),
        hold: Duration::from_secs(4),
        settle: Duration::from_secs(8),
        drain: Duration::from_secs(60),
        clients: 4,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    PostgresRestarted,
    PostgresUnreachable,
    SecretsStopped,
    SecretsSlow,
    KeyValueStopped,
    QueueStopped,
    ProcessKilled,
    ReceiverHangs,
    ReceiverResets,
    ReceiverSlow,
    SmtpStopped,
    SmtpHangs,
}

impl Fault {
    pub const ALL: [Fault; 12] = [
        Fault::PostgresRestarted,
        Fault::PostgresUnreachable,
        Fault::SecretsStopped,
        Fault::SecretsSlow,
        Fault::KeyValueStopped,
        Fault::QueueStopped,
        Fault::ProcessKilled,
        Fault::ReceiverHangs,
        Fault::ReceiverResets,
        Fault::ReceiverSlow,
        Fault::SmtpStopped,
        Fault::SmtpHangs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::PostgresRestarted => "postgres-restarted",
            Fault::PostgresUnreachable => "postgres-unreachable",
            Fault::SecretsStopped => "secrets-stopped",
            Fault::SecretsSlow => "secrets-slow",
            Fault::KeyValueStopped => "kv-stopped",
            Fault::QueueStopped => "queue-stopped",
            Fault::ProcessKilled => "process-killed",
            Fault::ReceiverHangs => "receiver-hangs",
            Fault::ReceiverResets => "receiver-resets",
            Fault::ReceiverSlow => "receiver-slow",
            Fault::SmtpStopped => "smtp-stopped",
            Fault::SmtpHangs => "smtp-hangs",
        }
    }

    /// The most the system may take, once the load stops, to deliver every committed
    /// event. After a queue outage that is the queues' visibility timeout: a message
    /// whose consumer failed while the queue was away comes back only then. After a
    /// kill it is the events queue's: an event the dead fan-out had received reappears
    /// after 180 s (a delivery the dead dispatcher held is requeued sooner).
    pub fn drain(self, timing: Timing) -> Duration {
        use pm_ports::queue::catalog::{DELIVERIES_VISIBILITY, EVENTS_VISIBILITY};
        let margin = Duration::from_secs(30);
        match self {
            Fault::QueueStopped => timing.drain.max(DELIVERIES_VISIBILITY + margin),
            Fault::ProcessKilled => timing.drain.max(EVENTS_VISIBILITY + margin),
            _ => timing.drain,
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Fault::PostgresRestarted => "PostgreSQL restarted (fast shutdown: running queries cut off)",
            Fault::PostgresUnreachable => "PostgreSQL unreachable (packets dropped both ways)",
            Fault::SecretsStopped => "the secrets store (OpenBao) down: connections refused",
            Fault::SecretsSlow => "the secrets store answering 3 s late (its timeout is 2 s)",
            Fault::KeyValueStopped => "the key-value store (DynamoDB) down",
            Fault::QueueStopped => "the queue (SQS) down: outbox relay, fan-out, dispatcher",
            Fault::ProcessKilled => "the process (API, relay, fan-out, dispatcher) killed with SIGKILL and started again",
            Fault::ReceiverHangs => "the webhook receiver hangs past the delivery timeout (3 s)",
            Fault::ReceiverResets => "the webhook receiver resets every connection",
            Fault::ReceiverSlow => "the webhook receiver answers after 1 s",
            Fault::SmtpStopped => "the SMTP server down: connections refused",
            Fault::SmtpHangs => "the SMTP server unreachable (packets dropped; the send timeout is 3 s)",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub fault: &'static str,
    pub description: &'static str,
    pub tally: Tally,
    /// From the first answer that was not a 2xx to the last (0: there was none).
    pub disruption_ms: u64,
    /// From the fault's end to the last answer that was not a 2xx.
    pub recovery_ms: u64,
    /// From the load's end until every committed event was delivered.
    pub drained_ms: Option<u64>,
    pub contacts_committed: usize,
    pub contacts_lost: usize,
    pub events_undelivered: usize,
    /// Events delivered more than once: by the same delivery again (its `webhook-id`
    /// repeated: the at-least-once redelivery receivers deduplicate) or by a second
    /// delivery (a bug).
    pub redelivered: usize,
    pub duplicated_deliveries: usize,
    pub emails_accepted: usize,
    pub emails_lost: usize,
    /// Sent to the SMTP server twice: the at-least-once resend after an attempt whose
    /// outcome was not recorded (same Message-ID, which mail servers deduplicate by).
    pub emails_resent: usize,
    /// The undelivered events' state: delivery status and attempts, or no delivery yet.
    pub stuck: BTreeMap<String, i64>,
    pub failures: Vec<String>,
}

/// Injects the fault and holds it for `timing.hold` (a restart or a kill happens once),
/// then heals it.
pub async fn inject(system: &mut System, fault: Fault, timing: Timing) -> anyhow::Result<()> {
    if begin(system, fault).await? {
        tokio::time::sleep(timing.hold).await;
        heal(system);
    }
    Ok(())
}

/// Starts the fault; true when it lasts until [`heal`] (a peer down or slow), false when
/// it was over at once (a restart, a kill and start again).
pub async fn begin(system: &mut System, fault: Fault) -> anyhow::Result<bool> {
    let p = &system.proxies;
    match fault {
        Fault::PostgresRestarted => {
            let server = &system.postgres;
            // The restart blocks this thread briefly; the load runs on the others.
            tokio::task::block_in_place(|| server.restart());
            return Ok(false);
        }
        Fault::PostgresUnreachable => p.postgres.set(Mode::Blackhole),
        Fault::SecretsStopped => p.secrets.set(Mode::Refuse),
        Fault::SecretsSlow => p.secrets.set(Mode::Slow(Duration::from_secs(3))),
        Fault::KeyValueStopped => p.kv.set(Mode::Refuse),
        Fault::QueueStopped => p.queue.set(Mode::Refuse),
        Fault::ProcessKilled => {
            system.kill();
            tokio::time::sleep(Duration::from_secs(1)).await;
            system.spawn().await?;
            return Ok(false);
        }
        Fault::ReceiverHangs => system.receiver.always(Reply::Hang(Duration::from_secs(5))),
        Fault::ReceiverResets => system.receiver.always(Reply::Reset),
        Fault::ReceiverSlow => system.receiver.always(Reply::Hang(Duration::from_secs(1))),
        Fault::SmtpStopped => p.smtp.set(Mode::Refuse),
        Fault::SmtpHangs => p.smtp.set(Mode::Blackhole),
    }
    Ok(true)
}

pub fn heal(system: &System) {
    for proxy in [
        &system.proxies.postgres,
        &system.proxies.secrets,
        &system.proxies.kv,
        &system.proxies.queue,
        &system.proxies.smtp,
    ] {
        proxy.set(Mode::Pass);
    }
    system.receiver.always(Reply::Status(200));
}

/// Contact id → the `webhook-id` of each delivery of its `contact.created` event.
fn deliveries(system: &System) -> BTreeMap<String, Vec<String>> {
    let mut by_contact: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for received in system.receiver.received() {
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(&received.body) else {
            continue;
        };
        if body["type"] == "contact.created" {
            if let Some(id) = body["data"]["id"].as_str() {
                by_contact
                    .entry(id.to_string())
                    .or_default()
                    .push(received.header("webhook-id").to_string());
            }
        }
    }
    by_contact
}

/// What became of the committed contacts once the load stopped: kept in the database,
/// and their events delivered (waiting up to `drain` for the last of them).
pub struct Kept {
    pub contacts_lost: usize,
    pub emails_accepted: usize,
    /// Accepted emails the SMTP server never got.
    pub emails_lost: usize,
    /// Emails the SMTP server got more than once (the same Message-ID again).
    pub emails_resent: usize,
    /// The lost emails' status, for the report.
    pub emails_stuck: BTreeMap<String, i64>,
    pub undelivered: usize,
    pub drained_ms: Option<u64>,
    pub redelivered: usize,
    pub duplicated_deliveries: usize,
    pub stuck: BTreeMap<String, i64>,
}

impl Kept {
    pub fn failures(&self, drain: Duration) -> Vec<String> {
        let mut failures = Vec::new();
        if self.contacts_lost > 0 {
            failures.push(format!("{} committed contacts lost", self.contacts_lost));
        }
        if self.undelivered > 0 {
            failures.push(format!(
                "{} committed events not delivered within {} s ({:?})",
                self.undelivered,
                drain.as_secs(),
                self.stuck
            ));
        }
        if self.duplicated_deliveries > 0 {
            failures.push(format!(
                "{} events delivered by two different deliveries",
                self.duplicated_deliveries
            ));
        }
        if self.emails_lost > 0 {
            failures.push(format!(
                "{} accepted emails never reached the SMTP server ({:?})",
                self.emails_lost, self.emails_stuck
            ));
        }
        failures
    }
}

/// The Message-ID of every message the SMTP server holds, with how often it came.
fn mailed(system: &System) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for n in 1..=system.smtp.count() {
        let Some(raw) = system.smtp.raw(n) else {
            continue;
        };
        let text = String::from_utf8_lossy(&raw);
        let id = text.lines().take_while(|l| !l.is_empty()).find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().trim_matches(['<', '>']).to_string())
        });
        if let Some(id) = id {
            *seen.entry(id).or_default() += 1;
        }
    }
    seen
}

pub async fn account(
    system: &System,
    committed: &[String],
    accepted_emails: &[String],
    stopped: Instant,
    drain: Duration,
) -> anyhow::Result<Kept> {
    let db = connect_direct(&system.postgres.url("penguinmails_faults")).await?;
    let ids: Vec<uuid::Uuid> = committed.iter().filter_map(|id| id.parse().ok()).collect();
    let kept: i64 = db
        .query_one("SELECT count(*) FROM contacts WHERE id = ANY($1)", &[&ids])
        .await?
        .get(0);
    let contacts_lost = committed.len() - kept as usize;
    let email_ids: Vec<uuid::Uuid> = accepted_emails
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect();
    let message_ids: Vec<(String, String)> = db
        .query(
            "SELECT message_id, status FROM emails WHERE id = ANY($1)",
            &[&email_ids],
        )
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    // An accepted email missing from the table is lost too.
    let unrecorded = accepted_emails.len() - message_ids.len();

    let deadline = stopped + drain;
    let (undelivered, drained_ms) = loop {
        let delivered = deliveries(system);
        let missing = committed
            .iter()
            .filter(|id| !delivered.contains_key(*id))
            .count();
        let mailed = mailed(system);
        let unmailed = message_ids
            .iter()
            .filter(|(id, _)| !mailed.contains_key(id))
            .count();
        if missing == 0 && unmailed == 0 {
            break (0, Some((Instant::now() - stopped).as_millis() as u64));
        }
        if Instant::now() >= deadline {
            break (missing, None);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let delivered = deliveries(system);
    // Where the undelivered ones are stuck, for the report.
    let missing: Vec<String> = committed
        .iter()
        .filter(|id| !delivered.contains_key(*id))
        .cloned()
        .collect();
    let mut stuck = BTreeMap::new();
    for row in db
        .query(
            "SELECT coalesce(d.status, 'no delivery') || coalesce(' after ' || d.attempts || ' attempts', '') \
                    || coalesce(', published ' || (e.published_at IS NOT NULL)::text, ''), count(*) \
             FROM event_outbox e LEFT JOIN webhook_deliveries d ON d.event_id = e.id \
             WHERE e.event_type = 'contact.created' AND e.payload->>'id' = ANY($1) GROUP BY 1",
            &[&missing],
        )
        .await?
    {
        stuck.insert(row.get::<_, String>(0), row.get::<_, i64>(1));
    }
    let (mut redelivered, mut duplicated_deliveries) = (0, 0);
    for id in committed {
        let Some(webhook_ids) = delivered.get(id) else {
            continue;
        };
        let mut distinct = webhook_ids.clone();
        distinct.sort();
        distinct.dedup();
        if distinct.len() > 1 {
            duplicated_deliveries += 1;
        } else if webhook_ids.len() > 1 {
            redelivered += 1;
        }
    }

    let mailed = mailed(system);
    let mut emails_stuck = BTreeMap::new();
    for (id, status) in &message_ids {
        if !mailed.contains_key(id) {
            *emails_stuck.entry(status.clone()).or_default() += 1;
        }
    }
    if unrecorded > 0 {
        emails_stuck.insert("not recorded".into(), unrecorded as i64);
    }
    let emails_resent = message_ids
        .iter()
        .filter(|(id, _)| mailed.get(id).is_some_and(|n| *n > 1))
        .count();
    Ok(Kept {
        contacts_lost,
        emails_accepted: accepted_emails.len(),
        emails_lost: emails_stuck.values().sum::<i64>() as usize,
        emails_resent,
        emails_stuck,
        undelivered,
        drained_ms,
        redelivered,
        duplicated_deliveries,
        stuck,
    })
}

async fn scenario(system: &mut System, fault: Fault, timing: Timing) -> anyhow::Result<Outcome> {
    println!("fault: {} ...", fault.name());
    let load = Load::start(&system.base_url, &system.api_key, timing.clients);
    tokio::time::sleep(timing.baseline).await;
    inject(system, fault, timing).await?;
    let healed = Instant::now();
    tokio::time::sleep(timing.settle).await;
    let recovery_ms = load
        .last_bad()
        .filter(|last| *last > healed)
        .map_or(0, |last| (last - healed).as_millis() as u64);
    let tally = load.stop().await;
    let stopped = Instant::now();

    let kept = account(
        system,
        &tally.committed,
        &tally.accepted_emails,
        stopped,
        fault.drain(timing),
    )
    .await?;

    let mut failures = Vec::new();
    let unexpected = tally.unexpected(fault == Fault::ProcessKilled);
    if !unexpected.is_empty() {
        failures.push(format!("clients saw {unexpected:?}"));
    }
    failures.extend(kept.failures(fault.drain(timing)));
    if recovery_ms > timing.settle.as_millis() as u64 / 2 {
        failures.push(format!(
            "still failing {recovery_ms} ms after the fault ended"
        ));
    }
    let disruption_ms = match (tally.first_bad, tally.last_bad) {
        (Some(first), Some(last)) => (last - first).as_millis() as u64,
        _ => 0,
    };
    Ok(Outcome {
        fault: fault.name(),
        description: fault.description(),
        contacts_committed: tally.committed.len(),
        tally,
        disruption_ms,
        recovery_ms,
        drained_ms: kept.drained_ms,
        contacts_lost: kept.contacts_lost,
        events_undelivered: kept.undelivered,
        redelivered: kept.redelivered,
        duplicated_deliveries: kept.duplicated_deliveries,
        emails_accepted: kept.emails_accepted,
        emails_lost: kept.emails_lost,
        emails_resent: kept.emails_resent,
        stuck: kept.stuck,
        failures,
    })
}

pub async fn run_all(
    out: &Path,
    timing: Timing,
    only: Option<&[String]>,
) -> anyhow::Result<Vec<Outcome>> {
    let mut system = System::start(out).await?;
    let mut outcomes = Vec::new();
    for fault in Fault::ALL {
        if only.is_some_and(|only| !only.iter().any(|name| name == fault.name())) {
            continue;
        }
        let outcome = scenario(&mut system, fault, timing).await?;
        println!(
            "  {}",
            if outcome.failures.is_empty() {
                "ok".into()
            } else {
                outcome.failures.join("; ")
            }
        );
        outcomes.push(outcome);
    }
    Ok(outcomes)
}
