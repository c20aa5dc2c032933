//! Scheduled Lambda (template.yaml: OutboxRelayFunction) that relays the outbox.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, LambdaEvent};
use pm_runtime::{telemetry, Deps};

/// Batches per invocation: 50 × 100 events, far inside the function's timeout.
const MAX_BATCHES: usize = 50;
/// Stop starting batches this long before the invocation's deadline: a batch's SQS
/// sends and its commit fit in it.
const MARGIN: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let db = deps.db().await?;
    let queue = deps.queue().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (db, queue) = (&db, queue.as_ref());
        // The context's deadline is wall-clock milliseconds; the loop counts on a
        // monotonic clock from now.
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let left = Duration::from_millis(event.context.deadline.saturating_sub(now_ms));
        let until = Instant::now() + left.saturating_sub(MARGIN);
        async move {
            let sent = pm_events::relay_pending(db, queue, MAX_BATCHES, Some(until)).await?;
            // The lag metric: stdout, where CloudWatch reads embedded metrics.
            println!("{}", pm_events::lag_metric_line(db, now_ms).await?);
            Ok::<_, lambda_runtime::Error>(serde_json::json!({ "relayed": sent }))
        }
    }))
    .await
}
