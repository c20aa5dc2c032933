//! The local runtime: every route of template.yaml served by one process, on the same
//! handler code the Lambdas run.

pub mod app;
pub mod cli;
pub mod consumers;
pub mod credentials;
pub mod dashboard;
pub mod docs;
pub mod router;
pub mod routes;
pub mod runtime;
pub mod schedules;
pub mod seed;
pub mod server;

pub use app::App;
