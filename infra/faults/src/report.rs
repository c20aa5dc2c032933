//! The suite's report: `report.json` (everything) and `report.md` (a table per fault, as
//! docs/reliability.md shows them).

use std::fmt::Write;
use std::path::Path;

use crate::scenarios::{Outcome, Timing};

/// Writes both files; returns how many faults broke an expectation.
pub fn write(out: &Path, outcomes: &[Outcome], timing: Timing) -> anyhow::Result<usize> {
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&serde_json::json!({ "timing": timing, "faults": outcomes }))?,
    )?;
    let mut md = String::new();
    writeln!(
        md,
        "Load: {} clients (GET /me, POST /contacts, GET /contacts, POST /emails/send); faults held {} s; {} s observed after each.\n",
        timing.clients,
        timing.hold.as_secs(),
        timing.settle.as_secs()
    )?;
    for o in outcomes {
        writeln!(md, "### {}: {}\n", o.fault, o.description)?;
        writeln!(md, "| measure | value |\n|---|---|")?;
        let statuses: Vec<String> = o
            .tally
            .by_outcome
            .iter()
            .map(|(outcome, n)| format!("{outcome}: {n}"))
            .collect();
        writeln!(md, "| requests | {} |", o.tally.total())?;
        writeln!(md, "| responses | {} |", statuses.join(", "))?;
        writeln!(md, "| slowest response | {} ms |", o.tally.slowest_ms)?;
        writeln!(
            md,
            "| longest client-visible disruption | {} ms |",
            o.disruption_ms
        )?;
        writeln!(
            md,
            "| errors after the fault ended, for | {} ms |",
            o.recovery_ms
        )?;
        writeln!(
            md,
            "| the rest of the events delivered, after the load stopped, in | {} |",
            o.drained_ms
                .map_or("not within the bound".into(), |ms| format!("{ms} ms"))
        )?;
        writeln!(
            md,
            "| contacts committed / lost | {} / {} |",
            o.contacts_committed, o.contacts_lost
        )?;
        writeln!(md, "| events undelivered | {} |", o.events_undelivered)?;
        writeln!(
            md,
            "| events redelivered (same webhook-id) / by a second delivery | {} / {} |",
            o.redelivered, o.duplicated_deliveries
        )?;
        writeln!(
            md,
            "| emails accepted / lost / sent twice (same Message-ID) | {} / {} / {} |",
            o.emails_accepted, o.emails_lost, o.emails_resent
        )?;
        writeln!(
            md,
            "| verdict | {} |\n",
            if o.failures.is_empty() {
                "ok".to_string()
            } else {
                o.failures.join("; ")
            }
        )?;
    }
    std::fs::write(out.join("report.md"), md)?;
    Ok(outcomes.iter().filter(|o| !o.failures.is_empty()).count())
}
