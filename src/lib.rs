//! Verify the callbacks Tencent sends your server in a `tower` layer in front of axum or hyper:
//! Cloud Chat (IM) and TRTC Live callbacks (`Sign` and `RequestTime` in the query,
//! `Sign = hex(SHA-256(Token ‖ RequestTime))`), with the callback token fetched from Tencent's REST
//! API and kept fresh in the background; and TRTC event callbacks (a `Sign` header,
//! `base64(HMAC-SHA256(key, body))`, in [`trtc`]).
//!
//! - **Verification** ([`Verifier`], [`CallbackAuthLayer`]): constant-time, a symmetric time
//!   window, one reading of the query shared with your handler (which gets a [`VerifiedCallback`]),
//!   no heap allocation, rejections as responses with a typed [`Rejection`].
//! - **The token** ([`TokenHandle`], [`refresh::TokenRefresher`], [`rest::RestClient`]): fetched
//!   with a UserSig the crate generates, refreshed with jitter and backoff, the last good token
//!   served through any outage, the previous one accepted for a grace period after a rotation.
//! - **TRTC event callbacks** ([`trtc::TrtcCallbackAuthLayer`]): the HMAC over the body as
//!   received, a body limit, freshness, the same bytes handed to your handler with a
//!   [`trtc::VerifiedTrtcEvent`], and Tencent's retries of answered events answered by the layer.
//! - **Several apps** behind one endpoint ([`AppSet`]), per-app counters ([`stats`]), readiness
//!   ([`health`]), configuration from the environment ([`config`]), Tencent's replies ([`Reply`]).
//!
//! # Install
//!
//! ```toml
//! [dependencies]
//! tim-callback-auth = "0.1"
//! ```
//!
//! # An axum server
//!
//! The token from Tencent's API (`TIM_SDKAPPID`, `TIM_SECRET_KEY`, `TIM_REGION`) or the IM
//! console's (`TIM_CALLBACK_TOKEN`); see [`config`] for every variable.
//!
//! ```no_run
//! use axum::{routing::post, Extension, Router};
//! use tim_callback_auth::{config::Config, Reply, VerifiedCallback};
//!
//! async fn callback(Extension(callback): Extension<VerifiedCallback>, body: String) -> Reply {
//!     // `callback.app_id()` is the app the layer verified; the body is not covered by the Sign.
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
//!
//! # Where to go next
//!
//! - [`Verifier`]: the rules a callback must pass, and how the verifier reads the query;
//! - [`middleware`]: the layer, its rejection responses and its security considerations;
//! - [`refresh`] and [`rest`]: the token's life, without tower if you like;
//! - [`AppSet`], [`stats`], [`health`]: running several apps in production;
//! - the repository's README: the demo (`cargo run --example demo`), the example servers, the
//!   benchmarks and the security notes.
//!
//! # Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | *(none)* | | the verifier, the token types, the layer, `AppSet`, stats, health, `Reply` (no tokio, no HTTP client) |
//! | `refresh` | via `rest` | [`refresh::TokenRefresher`] and the `TokenSource` trait (tokio) |
//! | `rest` | via `config` | [`rest::RestClient`] and [`usersig`] (reqwest with rustls) |
//! | `config` | yes | [`config::Config`]: the environment and `TIM_APPS` (turns on `rest` and `trtc`) |
//! | `trtc` | via `config` | [`trtc`]: TRTC event callbacks (hmac, http-body, bytes) |
//! | `axum` | yes | [`Reply`] as an axum `IntoResponse` |
//! | `metrics` | no | the counters through the `metrics` facade |
// Lints: the `[workspace.lints]` table of Cargo.toml (tests, examples and benches too).
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod apps;
#[cfg(feature = "config")]
#[cfg_attr(docsrs, doc(cfg(feature = "config")))]
pub mod config;
#[cfg(feature = "refresh")]
mod error;
mod handle;
pub mod health;
mod hex;
pub mod middleware;
#[cfg(feature = "refresh")]
mod rand;
#[cfg(feature = "refresh")]
#[cfg_attr(docsrs, doc(cfg(feature = "refresh")))]
pub mod refresh;
mod reject;
mod reply;
#[cfg(feature = "rest")]
#[cfg_attr(docsrs, doc(cfg(feature = "rest")))]
pub mod rest;
pub mod source;
pub mod stats;
mod token;
#[cfg(feature = "trtc")]
#[cfg_attr(docsrs, doc(cfg(feature = "trtc")))]
pub mod trtc;
#[cfg(feature = "rest")]
#[cfg_attr(docsrs, doc(cfg(feature = "rest")))]
pub mod usersig;
mod verify;

pub use crate::apps::AppSet;
#[cfg(feature = "refresh")]
pub use crate::error::{Error, ErrorKind};
pub use crate::handle::TokenHandle;
pub use crate::middleware::CallbackAuthLayer;
#[cfg(feature = "refresh")]
pub use crate::refresh::TokenRefresher;
pub use crate::reply::{InvalidReply, Reply};
pub use crate::token::{CallbackToken, InvalidToken, TokenSnapshot};
pub use crate::verify::{Rejection, Verified, VerifiedCallback, Verifier};

/// The README's code blocks, compiled and run as doctests (the README is not the crate page).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
