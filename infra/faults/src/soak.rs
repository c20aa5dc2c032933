//! The soak: the mixed load for a long stretch (10 minutes by default) with every fault
//! but the kill injected on a schedule, the process sampled throughout. A process that
//! is killed and started again would reset its memory and descriptors, so the kill is
//! left out: what the soak measures is whether one long-lived process keeps its
//! footprint after fault upon fault.
//!
//! It passes when clients saw only 2xx and 503 with `Retry-After`, every committed
//! contact was kept and its event delivered (duplicates only as redeliveries of the same
//! delivery), and the process stayed within [`Bounds`].

use std::fmt::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::load::{Load, Tally};
use crate::scenarios::{account, begin, heal, Fault, Kept, Timing};
use crate::system::{connect_direct, System, POOL_SIZE};

/// Faults start after this (the warm-up, whose samples are the baseline)…
const WARM_UP: Duration = Duration::from_secs(60);
/// …one every this long, each lasting faults held for `Timing::FULL.hold` (10 s)…
const PERIOD: Duration = Duration::from_secs(50);
/// …and none is started unless the load runs this much longer after it ends.
const CALM_AT_END: Duration = Duration::from_secs(30);
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// What the process may hold at the end compared with just after the warm-up. The
/// bounds are stated before the run: a leak of a few kilobytes per request (at ~100
/// requests a second) would pass 32 MiB within the ten minutes.
pub struct Bounds;

impl Bounds {
    /// Resident memory, the last minute's highest against the warm-up's highest.
    pub const RSS_GROWTH_KIB: u64 = 32 * 1024;
    /// Open file descriptors, the same comparison.
    pub const FD_GROWTH: u64 = 32;
    /// Database connections at any sample: never more than the pool.
    pub const CONNECTIONS: u64 = POOL_SIZE as u64;
}

#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub at_s: u64,
    pub rss_kib: Option<u64>,
    pub fds: Option<u64>,
    /// The process's connections as PostgreSQL counts them (None: it could not be asked,
    /// as while it restarts).
    pub connections: Option<u64>,
    /// The fault in force when the sample was taken.
    pub fault: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct SoakOutcome {
    pub minutes: u64,
    pub injected: Vec<(u64, &'static str)>,
    pub tally: Tally,
    pub contacts_committed: usize,
    pub contacts_lost: usize,
    pub events_undelivered: usize,
    pub drained_ms: Option<u64>,
    pub redelivered: usize,
    pub duplicated_deliveries: usize,
    pub emails_accepted: usize,
    pub emails_lost: usize,
    pub emails_resent: usize,
    pub rss_warm_kib: u64,
    pub rss_end_kib: u64,
    pub fds_warm: u64,
    pub fds_end: u64,
    pub connections_max: u64,
    pub samples: Vec<Sample>,
    pub failures: Vec<String>,
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn fds(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// Connections to the system's database other than this one (the suite's own checks
/// connect only now and then, and not during the soak but for this).
async fn connections(system: &System) -> Option<u64> {
    let db = connect_direct(&system.postgres.url("penguinmails_faults"))
        .await
        .ok()?;
    let row = db
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND backend_type = 'client backend' \
               AND pid <> pg_backend_pid()",
            &[],
        )
        .await
        .ok()?;
    Some(row.get::<_, i64>(0) as u64)
}

pub async fn soak(out: &Path, minutes: u64) -> anyhow::Result<SoakOutcome> {
    let timing = Timing::FULL;
    let length = Duration::from_secs(minutes * 60);
    let mut system = System::start(out).await?;
    let pid = system.pid().unwrap_or_default();
    println!(
        "soak: {minutes} min, faults every {} s after {} s",
        PERIOD.as_secs(),
        WARM_UP.as_secs()
    );

    let started = Instant::now();
    let load = Load::start(&system.base_url, &system.api_key, timing.clients);
    let mut schedule = Fault::ALL
        .into_iter()
        .filter(|f| *f != Fault::ProcessKilled)
        .cycle();
    let mut next_fault = started + WARM_UP;
    let mut in_force: Option<(Fault, Instant)> = None;
    let (mut injected, mut samples) = (Vec::new(), Vec::new());
    while started.elapsed() < length {
        let now = Instant::now();
        if let Some((_, until)) = in_force {
            if now >= until {
                heal(&system);
                in_force = None;
            }
        }
        if in_force.is_none()
            && now >= next_fault
            && now + timing.hold + CALM_AT_END <= started + length
        {
            let fault = schedule.next().expect("the schedule cycles");
            println!("  {:>4} s: {}", started.elapsed().as_secs(), fault.name());
            injected.push((started.elapsed().as_secs(), fault.name()));
            if begin(&mut system, fault).await? {
                in_force = Some((fault, Instant::now() + timing.hold));
            }
            next_fault += PERIOD;
        }
        samples.push(Sample {
            at_s: started.elapsed().as_secs(),
            rss_kib: rss_kib(pid),
            fds: fds(pid),
            connections: connections(&system).await,
            fault: in_force.map(|(f, _)| f.name()),
        });
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    heal(&system);
    let tally = load.stop().await;
    let stopped = Instant::now();
    let drain = Fault::QueueStopped.drain(timing);
    let kept = account(
        &system,
        &tally.committed,
        &tally.accepted_emails,
        stopped,
        drain,
    )
    .await?;
    Ok(judge(minutes, injected, tally, kept, drain, samples))
}

fn judge(
    minutes: u64,
    injected: Vec<(u64, &'static str)>,
    tally: Tally,
    kept: Kept,
    drain: Duration,
    samples: Vec<Sample>,
) -> SoakOutcome {
    let warm = WARM_UP.as_secs();
    let end = samples.last().map_or(0, |s| s.at_s);
    let highest = |from: u64, to: u64, of: fn(&Sample) -> Option<u64>| {
        samples
            .iter()
            .filter(|s| s.at_s >= from && s.at_s < to)
            .filter_map(of)
            .max()
            .unwrap_or(0)
    };
    let rss_warm_kib = highest(0, warm, |s| s.rss_kib);
    let rss_end_kib = highest(end.saturating_sub(60), end + 1, |s| s.rss_kib);
    let fds_warm = highest(0, warm, |s| s.fds);
    let fds_end = highest(end.saturating_sub(60), end + 1, |s| s.fds);
    let connections_max = highest(0, end + 1, |s| s.connections);

    let mut failures = Vec::new();
    let unexpected = tally.unexpected(false);
    if !unexpected.is_empty() {
        failures.push(format!("clients saw {unexpected:?}"));
    }
    failures.extend(kept.failures(drain));
    if rss_end_kib > rss_warm_kib + Bounds::RSS_GROWTH_KIB {
        failures.push(format!(
            "resident memory grew from {rss_warm_kib} KiB to {rss_end_kib} KiB"
        ));
    }
    if fds_end > fds_warm + Bounds::FD_GROWTH {
        failures.push(format!(
            "open descriptors grew from {fds_warm} to {fds_end}"
        ));
    }
    if connections_max > Bounds::CONNECTIONS {
        failures.push(format!(
            "{connections_max} database connections (the pool holds {})",
            Bounds::CONNECTIONS
        ));
    }
    if samples.iter().all(|s| s.rss_kib.is_none()) {
        failures.push("the process could not be sampled".into());
    }
    SoakOutcome {
        minutes,
        injected,
        contacts_committed: tally.committed.len(),
        tally,
        contacts_lost: kept.contacts_lost,
        events_undelivered: kept.undelivered,
        drained_ms: kept.drained_ms,
        redelivered: kept.redelivered,
        duplicated_deliveries: kept.duplicated_deliveries,
        emails_accepted: kept.emails_accepted,
        emails_lost: kept.emails_lost,
        emails_resent: kept.emails_resent,
        rss_warm_kib,
        rss_end_kib,
        fds_warm,
        fds_end,
        connections_max,
        samples,
        failures,
    }
}

/// `soak.json` (every sample) and `soak.md` (the summary and a sample a minute).
pub fn write(out: &Path, o: &SoakOutcome) -> anyhow::Result<()> {
    std::fs::write(out.join("soak.json"), serde_json::to_string_pretty(o)?)?;
    let mut md = String::new();
    let statuses: Vec<String> = o
        .tally
        .by_outcome
        .iter()
        .map(|(outcome, n)| format!("{outcome}: {n}"))
        .collect();
    let faults: Vec<String> = o
        .injected
        .iter()
        .map(|(at, name)| format!("{name} at {at} s"))
        .collect();
    writeln!(
        md,
        "Soak: {} min, {} clients; faults: {}.\n",
        o.minutes,
        Timing::FULL.clients,
        faults.join(", ")
    )?;
    writeln!(md, "| measure | value | bound |\n|---|---|---|")?;
    writeln!(md, "| requests | {} | |", o.tally.total())?;
    writeln!(
        md,
        "| responses | {} | 2xx or 503 with Retry-After |",
        statuses.join(", ")
    )?;
    writeln!(
        md,
        "| slowest response | {} ms | under 10 000 ms |",
        o.tally.slowest_ms
    )?;
    writeln!(
        md,
        "| contacts committed / lost | {} / {} | lost: 0 |",
        o.contacts_committed, o.contacts_lost
    )?;
    writeln!(md, "| events undelivered | {} | 0 |", o.events_undelivered)?;
    writeln!(
        md,
        "| the rest delivered after the load stopped, in | {} | {} s |",
        o.drained_ms
            .map_or("not within the bound".into(), |ms| format!("{ms} ms")),
        Fault::QueueStopped.drain(Timing::FULL).as_secs()
    )?;
    writeln!(
        md,
        "| events redelivered (same webhook-id) / by a second delivery | {} / {} | second delivery: 0 |",
        o.redelivered, o.duplicated_deliveries
    )?;
    writeln!(
        md,
        "| emails accepted / lost / sent twice (same Message-ID) | {} / {} / {} | lost: 0 |",
        o.emails_accepted, o.emails_lost, o.emails_resent
    )?;
    writeln!(
        md,
        "| resident memory, warm-up's highest → last minute's highest | {} → {} KiB | growth ≤ {} KiB |",
        o.rss_warm_kib, o.rss_end_kib, Bounds::RSS_GROWTH_KIB
    )?;
    writeln!(
        md,
        "| open descriptors, the same | {} → {} | growth ≤ {} |",
        o.fds_warm,
        o.fds_end,
        Bounds::FD_GROWTH
    )?;
    writeln!(
        md,
        "| database connections, highest | {} | ≤ {} (the pool) |",
        o.connections_max,
        Bounds::CONNECTIONS
    )?;
    writeln!(
        md,
        "| verdict | {} | |\n",
        if o.failures.is_empty() {
            "ok".to_string()
        } else {
            o.failures.join("; ")
        }
    )?;
    writeln!(
        md,
        "| at | RSS (KiB) | descriptors | connections | fault in force |\n|---|---|---|---|---|"
    )?;
    let show = |v: Option<u64>| v.map_or("–".into(), |v| v.to_string());
    for s in o
        .samples
        .iter()
        .filter(|s| s.at_s % 60 < SAMPLE_EVERY.as_secs())
    {
        writeln!(
            md,
            "| {} s | {} | {} | {} | {} |",
            s.at_s,
            show(s.rss_kib),
            show(s.fds),
            show(s.connections),
            s.fault.unwrap_or("")
        )?;
    }
    std::fs::write(out.join("soak.md"), md)?;
    Ok(())
}
