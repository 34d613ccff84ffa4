//! The application beside [`tim_callback_auth`]: what a server needs around the library's
//! layers, as `aws-config` sits beside the AWS service crates.
//!
//! - [`Config`]: the `TIM_*` environment variables and the `TIM_APPS` file, every mistake named
//!   (the variable, never its value): conflicting modes refused, a setting that does nothing
//!   logged at `WARN`, white space around a token or a key refused (see
//!   [its docs](config#mistakes-it-names)); a [`ConfigError`] returned from `main` prints one
//!   line;
//! - [`Config::start`] → [`Running`]: each app's first token awaited, unsigned starts refused,
//!   the refreshers, the layers and the source allowlist;
//! - [`Health`]: readiness for `GET /healthz`;
//! - [`server`]: the listen address, logs and graceful shutdown of the example servers.
//!
//! The library itself reads no environment variable: everything here is built from its public
//! API, and a program that configures the library in code needs none of this crate.
//!
//! The ready-to-run server is this crate's `axum_server` example (`cargo run --release --example
//! axum_server`, from the workspace root too).
//!
//! # Example
//!
//! ```no_run
//! use axum::{routing::post, Extension, Router};
//! use tim_callback_auth::{Reply, VerifiedCallback};
//! use tim_callback_app::Config;
//!
//! async fn callback(Extension(callback): Extension<VerifiedCallback>, body: String) -> Reply {
//!     let _ = (callback.app_id(), body);
//!     Reply::ok()
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let running = Config::from_env()?.start().await?; // waits for each app's first token
//!     let app = Router::new().route("/im/callback", post(callback)).layer(running.layer());
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
// Lints: the `[workspace.lints]` table of the workspace's Cargo.toml.
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

pub mod config;
pub mod gateway;
pub mod health;
pub mod server;

pub use crate::config::{rest_client_from_env, Config, ConfigError, Running};
pub use crate::health::{Health, HealthState};
