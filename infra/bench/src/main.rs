//! pm-load: sends GET requests (or POSTs of one JSON body, with `--body`) with a bearer
//! token over N keep-alive connections and reports latency percentiles. Loopback only by
//! intent: it refuses other hosts.
//!
//! usage: pm-load URL TOKEN [--concurrency 32] [--requests 20000] [--warmup 2000] [--body JSON]

use std::time::{Duration, Instant};

fn arg_value(args: &[String], name: &str, default: usize) -> anyhow::Result<usize> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .ok_or_else(|| anyhow::anyhow!("{name} needs a value"))?
            .parse()
            .map_err(|_| anyhow::anyhow!("{name} must be a number")),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn run(
    url: &str,
    token: &str,
    body: Option<&str>,
    concurrency: usize,
    total: usize,
) -> anyhow::Result<(Vec<Duration>, usize, Duration)> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(10))
        .build()?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let share = total / concurrency + usize::from(worker < total % concurrency);
        let (client, url, token) = (client.clone(), url.to_string(), token.to_string());
        let body = body.map(str::to_string);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(share);
            let mut failures = 0;
            for _ in 0..share {
                let sent = Instant::now();
                let request = match &body {
                    Some(body) => client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone()),
                    None => client.get(&url),
                };
                let response = request.bearer_auth(&token).send().await;
                let ok = match response {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                latencies.push(sent.elapsed());
                failures += usize::from(!ok);
            }
            (latencies, failures)
        }));
    }
    let mut all = Vec::with_capacity(total);
    let mut failures = 0;
    for task in tasks {
        let (latencies, failed) = task.await?;
        all.extend(latencies);
        failures += failed;
    }
    Ok((all, failures, started.elapsed()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(url), Some(token)) = (args.first(), args.get(1)) else {
        anyhow::bail!(
            "usage: pm-load URL TOKEN [--concurrency 32] [--requests 20000] [--warmup 2000] [--body JSON]"
        );
    };
    let host = url
        .trim_start_matches("http://")
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    if !(host == "127.0.0.1" || host == "localhost" || host == "[::1]") {
        anyhow::bail!("pm-load only targets loopback addresses (got {host:?})");
    }
    let concurrency = arg_value(&args, "--concurrency", 32)?.max(1);
    let requests = arg_value(&args, "--requests", 20_000)?.max(1);
    let warmup = arg_value(&args, "--warmup", 2_000)?;
    let body = match args.iter().position(|a| a == "--body") {
        None => None,
        Some(i) => Some(
            args.get(i + 1)
                .ok_or_else(|| anyhow::anyhow!("--body needs a value"))?
                .as_str(),
        ),
    };

    if warmup > 0 {
        run(url, token, body, concurrency, warmup).await?;
    }
    let (mut latencies, failures, elapsed) = run(url, token, body, concurrency, requests).await?;
    latencies.sort();
    println!("requests:    {requests} ({failures} not 2xx) over {concurrency} connections");
    println!(
        "throughput:  {:.0} req/s in {:.2} s",
        requests as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "latency:     p50 {}  p90 {}  p95 {}  p99 {}  max {}",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 90.0)),
        ms(percentile(&latencies, 95.0)),
        ms(percentile(&latencies, 99.0)),
        ms(*latencies.last().unwrap_or(&Duration::ZERO))
    );
    if failures > 0 {
        anyhow::bail!("{failures} requests failed");
    }
    Ok(())
}
