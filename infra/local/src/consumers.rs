//! Queue consumers. In AWS each is a function with SQS events in template.yaml (a test
//! keeps the two lists equal); locally each runs as background loops on the same queue
//! port, handling messages with the same code the Lambda runs.

use tokio::sync::watch;
use tokio::task::JoinHandle;

use pm_ports::queue::catalog;
use pm_webhook_delivery::driver;

use crate::App;

pub struct Consumer {
    /// The function's logical id in template.yaml.
    pub function: &'static str,
    /// The queues it consumes (catalog names).
    pub queues: fn() -> Vec<&'static str>,
}

pub const CONSUMERS: &[Consumer] = &[
    Consumer {
        function: "WebhookFanOutFunction",
        queues: || vec![catalog::EVENTS.name()],
    },
    Consumer {
        function: "WebhookDispatcherFunction",
        queues: || {
            let mut queues = vec![catalog::DELIVERIES.name()];
            queues.extend(catalog::DELIVERY_RETRIES.iter().map(|(t, _)| t.name()));
            queues
        },
    },
    Consumer {
        function: "EmailSenderFunction",
        queues: || vec![catalog::EMAIL_SEND.name()],
    },
    Consumer {
        function: "CrmSyncFunction",
        queues: || vec![catalog::CRM_SYNC.name()],
    },
];

/// Loops on the CRM sync queue: a connection's work is serialised by its leases, so two
/// loops let two connections sync at once.
const CRM_SYNC_LOOPS: usize = 2;

/// Loops per delivery queue: each handles up to ten messages at a time.
const DISPATCH_LOOPS: usize = 4;

/// Starts every consumer; each stops when `stop` turns true.
pub fn spawn_all(app: &App, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    {
        let (app, stop) = (app.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            let requeue_after = app.delivery.requeue_after;
            driver::consume(
                app.queue.as_ref(),
                catalog::EVENTS,
                |event| {
                    let app = &app;
                    async move {
                        pm_webhook_delivery::fan_out::fan_out(
                            &app.db,
                            app.queue.as_ref(),
                            &event,
                            requeue_after,
                        )
                        .await
                        .map(|_| ())
                    }
                },
                stop,
            )
            .await
        }));
    }
    let delivery_topics = std::iter::once(catalog::DELIVERIES)
        .chain(catalog::DELIVERY_RETRIES.iter().map(|(t, _)| *t));
    for topic in delivery_topics {
        let loops = if topic.name() == catalog::DELIVERIES.name() {
            DISPATCH_LOOPS
        } else {
            1
        };
        for _ in 0..loops {
            let (app, stop) = (app.clone(), stop.clone());
            handles.push(tokio::spawn(async move {
                driver::consume(
                    app.queue.as_ref(),
                    topic,
                    |message| {
                        let dispatcher = &app.dispatcher;
                        async move { dispatcher.handle(message).await.map(|_| ()) }
                    },
                    stop,
                )
                .await
            }));
        }
    }
    for _ in 0..app.email_send_loops {
        let (app, stop) = (app.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            driver::consume(
                app.queue.as_ref(),
                catalog::EMAIL_SEND,
                |message| {
                    let sender = &app.sender;
                    async move { sender.handle(message).await.map(|_| ()) }
                },
                stop,
            )
            .await
        }));
    }
    for _ in 0..CRM_SYNC_LOOPS {
        let (app, stop) = (app.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            driver::consume(
                app.queue.as_ref(),
                catalog::CRM_SYNC,
                |message| {
                    let core = &app.integrations.core;
                    async move {
                        pm_integrations::worker::handle(
                            core,
                            message,
                            pm_integrations::worker::STEP_BUDGET,
                        )
                        .await
                    }
                },
                stop,
            )
            .await
        }));
    }
    handles
}
