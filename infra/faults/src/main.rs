//! pm-faults: the fault-injection suite. It starts the local runtime on its real peers
//! (its own PostgreSQL, OpenBao, moto for DynamoDB and SQS, a webhook receiver), holds a
//! steady mixed load on it, and injects one fault at a time. For each fault it records
//! what clients saw and checks the platform's promises: only 2xx or 503 with
//! `Retry-After` (never a 500, never a hang past the request timeout), every committed
//! contact kept, every committed event delivered, duplicates only as the at-least-once
//! contract allows, and recovery without a restart. Loopback only; it stops by itself.
//!
//! usage: pm-faults [--quick] [--only NAME[,NAME…]] [--out DIR]
//!        pm-faults --soak [MINUTES] [--out DIR]
//!   --quick  shorter faults and waits (`.ci/run` runs it on a few faults)
//!   --only   run only these faults (names as in the report)
//!   --soak   instead, the soak: the load for MINUTES (10) with faults on a schedule,
//!            memory, descriptors and connections sampled (soak.json, soak.md)
//!   --out    where the reports go (default target/faults)
//!
//! Exits non-zero when any expectation fails.

mod load;
mod proxy;
mod report;
mod scenarios;
mod soak;
mod system;

use std::path::PathBuf;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let quick = args.iter().any(|a| a == "--quick");
    let only: Option<Vec<String>> =
        value("--only").map(|list| list.split(',').map(str::to_string).collect());
    let out = value("--out")
        .map(PathBuf::from)
        .unwrap_or_else(|| pm_tests::workspace_root().join("target/faults"));
    std::fs::create_dir_all(&out)?;
    if let Some(at) = args.iter().position(|a| a == "--soak") {
        let minutes = match args.get(at + 1).filter(|a| !a.starts_with("--")) {
            Some(m) => m
                .parse()
                .map_err(|_| anyhow::anyhow!("--soak takes whole minutes, not {m:?}"))?,
            None => 10,
        };
        let outcome = soak::soak(&out, minutes).await?;
        soak::write(&out, &outcome)?;
        println!("{}", std::fs::read_to_string(out.join("soak.md"))?);
        anyhow::ensure!(
            outcome.failures.is_empty(),
            "the soak broke an expectation; see {}",
            out.display()
        );
        return Ok(());
    }
    let timing = if quick {
        scenarios::Timing::QUICK
    } else {
        scenarios::Timing::FULL
    };
    let results = scenarios::run_all(&out, timing, only.as_deref()).await?;
    let failed = report::write(&out, &results, timing)?;
    println!("{}", std::fs::read_to_string(out.join("report.md"))?);
    anyhow::ensure!(
        failed == 0,
        "{failed} fault(s) broke an expectation; see {}",
        out.display()
    );
    Ok(())
}
