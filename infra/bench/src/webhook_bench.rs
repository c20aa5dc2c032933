//! pm-webhook-bench: webhook delivery measured on this machine's real PostgreSQL, with
//! the same fan-out, dispatcher and relay code the Lambdas run, the in-process queue
//! and secrets adapters, and a receiver on a loopback port.
//!
//! 1. Dispatcher throughput: N deliveries queued, then dispatched (signed, POSTed,
//!    recorded) by the local runtime's consumer loops; deliveries per second.
//! 2. Fan-out cost per webhook: one event fanned out to 1, 10, 100 and 1,000 webhooks.
//! 3. Event-to-delivery latency: events committed at a steady rate while the relay,
//!    fan-out and dispatcher run; from the event's commit to its arrival at the receiver.
//!
//! usage: pm-webhook-bench [--deliveries 20000] [--rate 200] [--seconds 10] [--relay-ms 10]
//! DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/penguinmails_bench_webhooks?sslmode=disable

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use pm_config::Env;
use pm_domain::{EventType, Plan, TenantId};
use pm_ports::queue::{catalog, MemoryQueue, Queue};
use pm_ports::secrets::{MemorySecretStore, SecretStore};
use pm_store::{outbox, tenants, DatabaseConfig, Db};
use pm_webhook_delivery::config::DeliveryConfig;
use pm_webhook_delivery::dispatch::Dispatcher;
use pm_webhook_delivery::outbound::OutboundPolicy;
use pm_webhook_delivery::{driver, fan_out, secrets};
use tokio::net::TcpListener;
use tokio::sync::watch;

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

/// Arrivals at the receiver: when, and the event's `created_at` from the body.
type Arrivals = Arc<Mutex<Vec<(Instant, DateTime<Utc>, DateTime<Utc>)>>>;

async fn receiver(arrivals: Arrivals) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let arrivals = arrivals.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let arrivals = arrivals.clone();
                    async move {
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let created = serde_json::from_slice::<serde_json::Value>(&body)
                            .ok()
                            .and_then(|v| v["created_at"].as_str().and_then(|t| t.parse().ok()))
                            .unwrap_or_else(Utc::now);
                        arrivals
                            .lock()
                            .unwrap()
                            .push((Instant::now(), created, Utc::now()));
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(format!("http://{addr}/hook"))
}

async fn tenant_with_webhooks(
    db: &Db,
    store: &dyn SecretStore,
    url: &str,
    n: usize,
) -> anyhow::Result<TenantId> {
    let client = db.client().await?;
    let tenant = tenants::create(&**client, "Webhook Bench", Plan::Enterprise).await?;
    let ids: Vec<pm_domain::WebhookId> = client
        .query(
            "INSERT INTO webhooks (tenant_id, url, event_types) \
             SELECT $1, $2, '{*}' FROM generate_series(1, $3::int) RETURNING id",
            &[&tenant.id, &url, &(n as i32)],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for id in ids {
        secrets::create(store, tenant.id, id).await?;
    }
    Ok(tenant.id)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let total = arg(&args, "--deliveries", 20_000) as usize;
    let rate = arg(&args, "--rate", 200);
    let seconds = arg(&args, "--seconds", 10);
    let relay_every = Duration::from_millis(arg(&args, "--relay-ms", 10));
    let env = Env::process()
        .with_default(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/penguinmails_bench_webhooks?sslmode=disable",
        )
        .with_default("DB_POOL_SIZE", "32");
    let config = DatabaseConfig::from_env(&env)?;
    pm_store::ensure_database(&config).await?;
    let db = Db::new(&config)?;
    pm_store::migrate(&db).await?;
    db.client()
        .await?
        .batch_execute("DELETE FROM tenants WHERE name = 'Webhook Bench'")
        .await?;

    let arrivals: Arrivals = Arc::default();
    let url = receiver(arrivals.clone()).await?;
    let queue: Arc<MemoryQueue> = Arc::new(MemoryQueue::new(catalog::all()));
    let store = Arc::new(MemorySecretStore::new());
    let delivery = DeliveryConfig {
        outbound: OutboundPolicy {
            allow_loopback: true,
            allow_http: true,
            only_loopback: false,
        },
        ..DeliveryConfig::default()
    };
    let dispatcher = Arc::new(Dispatcher::new(
        db.clone(),
        queue.clone(),
        store.clone(),
        delivery.clone(),
    ));
    let (stop, stopped) = watch::channel(false);
    let loops = arg(&args, "--loops", 8) as usize;
    let start_dispatchers = |stopped: watch::Receiver<bool>| {
        (0..loops)
            .map(|_| {
                let (queue, dispatcher, stopped) =
                    (queue.clone(), dispatcher.clone(), stopped.clone());
                tokio::spawn(async move {
                    driver::consume(
                        queue.as_ref(),
                        catalog::DELIVERIES,
                        |m| {
                            let dispatcher = &dispatcher;
                            async move { dispatcher.handle(m).await.map(|_| ()) }
                        },
                        stopped,
                    )
                    .await
                })
            })
            .collect::<Vec<_>>()
    };

    // 1. Dispatcher throughput.
    let tenant = tenant_with_webhooks(&db, store.as_ref(), &url, 1).await?;
    {
        let mut client = db.client().await?;
        let tx = client.transaction().await?;
        let mut events = Vec::with_capacity(total);
        for n in 0..total {
            events.push(
                outbox::record(
                    &tx,
                    tenant,
                    EventType::ContactCreated,
                    &serde_json::json!({"id": n}),
                )
                .await?,
            );
        }
        tx.commit().await?;
        for event in &events {
            fan_out::fan_out(&db, queue.as_ref(), event, delivery.requeue_after).await?;
        }
        // Fanned out by hand, so the relay of phase 3 must not find them again.
        db.client()
            .await?
            .execute(
                "UPDATE event_outbox SET published_at = now() WHERE tenant_id = $1",
                &[&tenant],
            )
            .await?;
    }
    let started = Instant::now();
    let workers = start_dispatchers(stopped.clone());
    // Done when every delivery is recorded as succeeded (the receiver sees each one a
    // moment before its attempt is recorded).
    let succeeded = loop {
        let succeeded: i64 = db
            .client()
            .await?
            .query_one(
                "SELECT count(*) FROM webhook_deliveries WHERE tenant_id = $1 AND status = 'succeeded'",
                &[&tenant],
            )
            .await?
            .get(0);
        if succeeded as usize >= total {
            break succeeded;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "dispatch did not finish"
        );
    };
    let elapsed = started.elapsed();
    let received = arrivals.lock().unwrap().len();
    println!("== dispatcher throughput ({loops} consumer loops, 1 webhook, loopback receiver)");
    println!(
        "{total} signed deliveries in {:.2} s: {:.0} deliveries/s ({succeeded} recorded as succeeded, {received} received)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    let _ = stop.send(true);
    for w in workers {
        let _ = w.await;
    }

    // 2. Fan-out cost per webhook (no dispatcher running; messages only queued).
    println!("\n== fan-out: one event to W webhooks (mean of 20 events)");
    println!("| webhooks | per event | per webhook |\n|---|---|---|");
    let side_queue = MemoryQueue::new(catalog::all());
    // (These events are fanned out by hand and never relayed.)
    for w in [1usize, 10, 100, 1000] {
        let tenant = tenant_with_webhooks(&db, store.as_ref(), &url, w).await?;
        let mut times = Vec::new();
        for n in 0..20 {
            let event = {
                let mut client = db.client().await?;
                let tx = client.transaction().await?;
                let e = outbox::record(
                    &tx,
                    tenant,
                    EventType::ContactCreated,
                    &serde_json::json!({"id": n}),
                )
                .await?;
                tx.commit().await?;
                e
            };
            db.client()
                .await?
                .execute(
                    "UPDATE event_outbox SET published_at = now() WHERE id = $1",
                    &[&event.id],
                )
                .await?;
            let t = Instant::now();
            let made = fan_out::fan_out(&db, &side_queue, &event, delivery.requeue_after).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(made == w, "fan-out made {made}, not {w}");
        }
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        println!("| {w} | {mean:.2} ms | {:.3} ms |", mean / w as f64);
    }

    // 3. Event-to-delivery latency under a steady rate.
    let (stop, stopped) = watch::channel(false);
    let workers = start_dispatchers(stopped.clone());
    let fan_out_loop = {
        let (queue, db, stopped) = (queue.clone(), db.clone(), stopped.clone());
        let requeue_after = delivery.requeue_after;
        tokio::spawn(async move {
            driver::consume(
                queue.as_ref(),
                catalog::EVENTS,
                |e| {
                    let (db, queue) = (&db, queue.as_ref());
                    async move {
                        fan_out::fan_out(db, queue, &e, requeue_after)
                            .await
                            .map(|_| ())
                    }
                },
                stopped,
            )
            .await
        })
    };
    let relay_loop = {
        let (queue, db, mut stopped) = (queue.clone(), db.clone(), stopped.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(relay_every) => {}
                    _ = stopped.wait_for(|s| *s) => return,
                }
                let _ = pm_events::relay_pending(&db, queue.as_ref() as &dyn Queue, 50, None).await;
            }
        })
    };
    let tenant = tenant_with_webhooks(&db, store.as_ref(), &url, 1).await?;
    arrivals.lock().unwrap().clear();
    let count = (rate * seconds) as usize;
    let pace = Duration::from_secs_f64(1.0 / rate as f64);
    let begin = Instant::now();
    for n in 0..count {
        let due = begin + pace * n as u32;
        tokio::time::sleep_until(due.into()).await;
        let mut client = db.client().await?;
        let tx = client.transaction().await?;
        outbox::record(
            &tx,
            tenant,
            EventType::ContactCreated,
            &serde_json::json!({"id": n}),
        )
        .await?;
        tx.commit().await?;
    }
    while arrivals.lock().unwrap().len() < count {
        tokio::time::sleep(Duration::from_millis(20)).await;
        anyhow::ensure!(
            begin.elapsed() < Duration::from_secs(seconds + 120),
            "deliveries did not arrive"
        );
    }
    let mut latencies: Vec<f64> = arrivals
        .lock()
        .unwrap()
        .iter()
        .map(|(_, created, arrived)| {
            (*arrived - *created).num_microseconds().unwrap_or(0) as f64 / 1000.0
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    println!(
        "\n== event-to-delivery latency: {count} events at {rate}/s, relay every {} ms",
        relay_every.as_millis()
    );
    println!(
        "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 95.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(0.0)
    );
    let _ = stop.send(true);
    for w in workers {
        let _ = w.await;
    }
    let _ = fan_out_loop.await;
    let _ = relay_loop.await;
    Ok(())
}
