//! The tower middleware that verifies Tencent callbacks: [`CallbackAuthLayer`].
//!
//! The layer reads the query string of each request, verifies `Sign` and `RequestTime` with a
//! [`Verifier`](crate::Verifier) against the snapshot in a [`TokenHandle`](crate::TokenHandle), and
//! then either calls the inner service with a [`VerifiedCallback`](crate::VerifiedCallback) in the
//! request's extensions (the body is never read, so any body type works) or answers with a
//! rejection response. Verification allocates nothing, the response future is not boxed, and the
//! extension's insertion is the only allocation on the accept path (turn it off with
//! [`CallbackAuthLayer::with_verified_extension`]).
//!
//! Rejections are responses, not errors: by default `401` with a fixed JSON body (`503` while no token
//! is loaded), with the [`Rejection`](crate::Rejection) in the response's extensions. Rejections are
//! logged with `tracing` with the reason, the app and the callback command only: at most one `WARN`
//! line per reason per second (with the count it stands for), the rest at `DEBUG`.
//!
//! When a signature fails against every known token although its `RequestTime` is fresh, the token
//! may just have been rotated. If the handle is written by a
//! [`TokenRefresher`](crate::refresh::TokenRefresher), the layer asks it for a refresh (rate-limited,
//! never blocking it) and waits a bounded time for it before verifying once more.
//!
//! # Examples
//!
//! A static token in front of an axum router:
//!
//! ```
//! use axum::{routing::post, Router};
//! use tim_callback_auth::{CallbackAuthLayer, CallbackToken, TokenHandle, TokenSnapshot};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let token = CallbackToken::new("my-callback-token")?;
//! let handle = TokenHandle::new(TokenSnapshot::enabled(token.clone()));
//! let app = Router::new()
//!     .route("/im/callback", post(|| async { r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"# }))
//!     .layer(CallbackAuthLayer::new(handle));
//!
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! let uri = format!("/im/callback?SdkAppid=1400000000&Sign={}&RequestTime={now}", token.sign(now));
//! let request = http::Request::post(uri).body(axum::body::Body::empty())?;
//! assert_eq!(app.clone().oneshot(request).await?.status(), 200);
//!
//! let forged = http::Request::post(format!("/im/callback?Sign={}&RequestTime={now}", "0".repeat(64)))
//!     .body(axum::body::Body::empty())?;
//! assert_eq!(app.oneshot(forged).await?.status(), 401);
//! # Ok(())
//! # }
//! ```
//!
//! Configured: a 30-second window, the app id check, and Tencent's "forbid" reply (200 +
//! `ErrorCode` 1) for before-callbacks:
//!
//! ```
//! use std::time::Duration;
//! use axum::{routing::post, Router};
//! use tim_callback_auth::{CallbackAuthLayer, CallbackToken, Rejection, Reply, TokenHandle, TokenSnapshot, Verifier};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let token = CallbackToken::new("my-callback-token")?;
//! let handle = TokenHandle::new(TokenSnapshot::enabled(token.clone()));
//! let layer = CallbackAuthLayer::new(handle)
//!     .with_verifier(Verifier::new().with_window(Duration::from_secs(30)).with_app_id(1400000000))
//!     .with_rejection_response(|_: Rejection| Reply::forbid().into_response::<axum::body::Body>());
//! let app = Router::new().route("/im/callback", post(|| async { "ok" })).layer(layer);
//!
//! // Correctly signed, but for another app that shares the token.
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! let uri = format!("/im/callback?SdkAppid=1400000001&Sign={}&RequestTime={now}", token.sign(now));
//! let request = http::Request::post(uri).body(axum::body::Body::empty())?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.extensions().get::<Rejection>(), Some(&Rejection::AppIdMismatch));
//! # Ok(())
//! # }
//! ```
//!
//! # Security considerations
//!
//! The `Sign` covers only the token and `RequestTime`: not the body, the path, `SdkAppid` or
//! `CallbackCommand`. Anyone who sees one signed URL can send any body with it while the
//! `RequestTime` is inside the window. Serve the endpoint over HTTPS, never log callback URLs, check
//! `SdkAppid` with [`Verifier::with_app_id`](crate::Verifier::with_app_id), take the app and the
//! time from the [`VerifiedCallback`](crate::VerifiedCallback) extension rather than from the query,
//! and de-duplicate events by body fields (every callback of one second carries the same `Sign`).

mod config;
mod future;
mod layer;
mod service;

pub use self::future::ResponseFuture;
pub use self::layer::CallbackAuthLayer;
pub use self::service::CallbackAuth;
