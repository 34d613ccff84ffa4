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
//! - **Several apps** behind one endpoint ([`AppSet`]), per-app counters ([`stats`]), Tencent's
//!   replies ([`Reply`]).
//!
//! # Which mode do I need?
//!
//! | your callback token lives in | mode | with |
//! |---|---|---|
//! | the IM console (Callback configuration → authentication token) | a static token (the console has no read API) | [`TokenHandle::from_token`] |
//! | TRTC Live's `live_config` API (`set_callback_token`) | the token from Tencent's API, refreshed | feature `rest`: [`rest::RestClient`] and [`TokenRefresher`] |
//! | anywhere, verified without tower | the handle on its own | [`Verifier`] on the handle's snapshot |
//!
//! ```toml
//! [dependencies]
//! tim-callback-auth = { version = "0.1", features = ["axum"] } # add "rest" for the API mode
//! ```
//!
//! The default build has no HTTP client and no TLS. Configuration from `TIM_*` environment
//! variables, start-up and health live in the `tim-callback-app` crate beside this one.
//!
//! # An axum server with a static token
//!
//! ```no_run
//! use axum::{routing::post, Extension, Router};
//! use tim_callback_auth::{CallbackAuthLayer, Reply, TokenHandle, VerifiedCallback};
//!
//! async fn callback(Extension(callback): Extension<VerifiedCallback>, body: String) -> Reply {
//!     // `callback.app_id()` is the app the layer verified; the body is not covered by the Sign.
//!     let _ = (callback.app_id(), body);
//!     Reply::ok()
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     tracing_subscriber::fmt::init(); // the crate's warnings reach you
//!     let handle = TokenHandle::from_token(1400000000, "the console's callback token")?;
//!     let app = Router::new()
//!         .route("/im/callback", post(callback))
//!         .layer(CallbackAuthLayer::new(handle)); // checks SdkAppid=1400000000 too
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! With the token from Tencent's API, the layer takes
//! `TokenRefresher::builder(RestClient::builder(..).build()?).start().await?.handle()`
//! instead: see [`refresh`].
//!
//! # Where to go next
//!
//! - [`Verifier`]: the rules a callback must pass, and how the verifier reads the query;
//! - [`chat`]: the layer, its rejection responses and its security considerations;
//! - [`refresh`] and [`rest`]: the token's life, without tower if you like;
//! - [`AppSet`], [`stats`]: running several apps in production;
//! - [`allowlist`]: only Tencent's webhook egress addresses may call;
//! - the README: the demo (`cargo run --example demo`, in the repository), the security notes;
//!   `BENCHMARKS.md` and `SCALING.md` in the package: the measurements.
//!
//! # Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | *(none)* | | the verifier, the token types, the layer, `AppSet`, stats, `Reply`, the [`allowlist`] (no tokio, no HTTP client) |
//! | `refresh` | no | [`refresh::TokenRefresher`], `AllowlistRefresher` and the `Source` trait (tokio) |
//! | `rest` | no | [`rest::RestClient`] and [`usersig`] (reqwest with rustls); turns on `refresh` |
//! | `trtc` | no | [`trtc`]: TRTC event callbacks (hmac, serde_json, base64, http-body) |
//! | `axum` | no | [`Reply`] as an axum `IntoResponse`; the client address from axum's `ConnectInfo` |
//! | `metrics` | no | the counters through the `metrics` facade |
// Lints: the `[workspace.lints]` table of Cargo.toml (tests, examples and benches too).
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod allowlist;
mod apps;
mod cell;
pub mod chat;
mod error;
mod handle;
mod hex;
#[cfg(feature = "refresh")]
mod random;
#[cfg(feature = "refresh")]
#[cfg_attr(docsrs, doc(cfg(feature = "refresh")))]
pub mod refresh;
mod reject;
mod reply;
#[cfg(feature = "rest")]
#[cfg_attr(docsrs, doc(cfg(feature = "rest")))]
pub mod rest;
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
pub use crate::chat::CallbackAuthLayer;
pub use crate::error::{Error, ErrorKind};
pub use crate::handle::TokenHandle;
#[cfg(feature = "refresh")]
pub use crate::refresh::TokenRefresher;
pub use crate::reject::{DefaultRejection, RejectionResponse};
pub use crate::reply::Reply;
pub use crate::token::{CallbackToken, TokenSnapshot};
pub use crate::verify::{Rejection, VerifiedCallback, Verifier};

/// The README's code blocks, compiled and run as doctests (the README is not the crate page).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
