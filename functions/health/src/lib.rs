//! `GET /health`, without authentication: load balancers, uptime checks and the local
//! runtime's start-up message use it. It answers 503 (not an error page, not a crash)
//! while the database is unreachable, so a monitor can tell "up but degraded" apart.

use std::time::Duration;

use http::StatusCode;
use pm_http::{json, ApiError, Body, Request, RequestId, Response};
use pm_store::Db;
use serde::Serialize;

/// How long the database gets to answer before it counts as down.
const DATABASE_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub database: &'static str,
}

pub async fn handle(_req: Request, _id: RequestId, db: &Db) -> Result<Response<Body>, ApiError> {
    let database_up = match tokio::time::timeout(DATABASE_DEADLINE, db.ping()).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health: database check failed");
            false
        }
        Err(_) => {
            tracing::warn!("health: database check timed out");
            false
        }
    };
    let (status, health) = if database_up {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "degraded")
    };
    let mut response = json(
        status,
        &Health {
            status: health,
            version: env!("CARGO_PKG_VERSION"),
            database: if database_up { "up" } else { "down" },
        },
    )?;
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        "no-store".parse().expect("static"),
    );
    Ok(response)
}
