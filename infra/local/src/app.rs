use std::sync::Arc;

use pm_config::Env;
use pm_ports::config::PortFactory;
use pm_ports::kv::KeyValue;
use pm_ports::queue::Queue;
use pm_ports::secrets::SecretStore;
use pm_store::{DatabaseConfig, Db};

/// Everything the routes need, built once at start. In Lambda each function builds only
/// its own part of this; locally one process holds it all.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub secrets: Arc<dyn SecretStore>,
    pub queue: Arc<dyn Queue>,
    pub kv: Arc<dyn KeyValue>,
}

impl App {
    pub async fn build(database: &DatabaseConfig, env: &Env) -> anyhow::Result<Self> {
        let ports = PortFactory::new(env.clone());
        Ok(Self {
            db: Db::new(database)?,
            secrets: ports.secrets().await?,
            queue: ports.queue().await?,
            kv: ports.key_value().await?,
        })
    }
}
