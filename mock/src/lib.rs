//! Test your [`tim-callback-auth`](https://docs.rs/tim-callback-auth) handlers offline, in API mode
//! too: an in-process mock of Tencent Cloud Chat's callback-token REST API, and the helpers to send
//! callbacks signed the way Tencent signs them.
//!
//! - [`mock::MockApi`]: the REST API on 127.0.0.1 with an OS-assigned port. It checks every request
//!   as Tencent would (POST, path, query parameters, a UserSig whose HMAC verifies with the app's
//!   secret key) and serves the token it holds; [`MockApi::set_token`](mock::MockApi::set_token)
//!   rotates it, [`MockApi::script`](mock::MockApi::script) injects faults (error codes, 502 pages,
//!   hangs, stalled bodies).
//! - [`callback_uri`]: the query string of a signed callback, for a request to your router.
//! - `rest_client` (feature `rest`): a `RestClient` for the mock's default app, with short timeouts.
//! - [`now`], [`poll_once`], [`how`]: small helpers.
//!
//! Add it as a dev-dependency beside the library:
//!
//! ```toml
//! [dev-dependencies]
//! tim-callback-mock = "0.1"
//! ```
//!
//! Features (none by default, so a default build has no HTTP client and no TLS): `rest` (the
//! `rest_client` helper; the library's `rest` feature) and `tls` (`self_signed_tls_server`, rustls
//! with aws-lc).
//!
//! # Your handler against the mock, in API mode
//!
//! The whole path a production server takes: a `RestClient` pointed at the mock, a
//! `TokenRefresher` that fetches the token from it, the layer over the refresher's handle, and your
//! own handler behind it. Dependencies of this test beyond this crate: `tim-callback-auth` with
//! `features = ["rest", "axum"]`, `axum = { version = "0.8", default-features = false, features =
//! ["http1", "tokio"] }`, `tokio = { version = "1", features = ["rt-multi-thread", "macros"] }`,
//! `tower = { version = "0.5", default-features = false, features = ["util"] }` and `http = "1"`.
//!
//! ```
//! use axum::body::Body;
//! use axum::routing::post;
//! use axum::{Extension, Router};
//! use http::{Request, StatusCode};
//! use tim_callback_auth::refresh::TokenRefresher;
//! use tim_callback_auth::rest::{Region, RestClient};
//! use tim_callback_auth::{CallbackAuthLayer, CallbackToken, VerifiedCallback};
//! use tim_callback_mock::mock::{MockApi, ADMIN, SDK_APP_ID, SECRET_KEY};
//! use tim_callback_mock::{callback_uri, now};
//! use tower::ServiceExt;
//!
//! // Your handler: it runs only for callbacks the layer verified.
//! async fn on_callback(Extension(verified): Extension<VerifiedCallback>) -> String {
//!     format!(r#"{{"ActionStatus":"OK","ErrorCode":0,"App":{}}}"#, verified.app_id())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Tencent's API, as the mock: it holds the callback token the console would.
//!     let api = MockApi::start("my-test-token-0123456789").await;
//!     let client = RestClient::builder(SDK_APP_ID, SECRET_KEY)
//!         .admin(ADMIN)
//!         .region(Region::custom(&api.base_url())?)
//!         .build()?;
//!     let refresher = TokenRefresher::builder(client).start().await?;
//!     let app = Router::new()
//!         .route("/im/callback", post(on_callback))
//!         .layer(CallbackAuthLayer::new(refresher.handle()));
//!
//!     // Tencent's callback, signed with the token the mock serves.
//!     let token = CallbackToken::new("my-test-token-0123456789")?;
//!     let uri = callback_uri("/im/callback", SDK_APP_ID, "C2C.CallbackAfterSendMsg", &token, now());
//!     let request = Request::post(uri).body(Body::from(r#"{"From_Account":"a"}"#))?;
//!     let response = app.clone().oneshot(request).await?;
//!     assert_eq!(response.status(), StatusCode::OK);
//!
//!     // The same callback signed with another token never reaches the handler.
//!     let wrong = CallbackToken::new("another-token-0123456789")?;
//!     let uri = callback_uri("/im/callback", SDK_APP_ID, "C2C.CallbackAfterSendMsg", &wrong, now());
//!     let response = app.oneshot(Request::post(uri).body(Body::empty())?).await?;
//!     assert_ne!(response.status(), StatusCode::OK);
//!
//!     // Nothing the library sent would have been refused by Tencent.
//!     assert!(api.violations().is_empty(), "{:?}", api.violations());
//!     refresher.shutdown();
//!     Ok(())
//! }
//! ```
//!
//! In a test file, the same body goes into `#[tokio::test] async fn …() { … }`; the crate's own
//! `tests/handler.rs` is that file.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub mod mock;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{SystemTime, UNIX_EPOCH};

use tim_callback_auth::CallbackToken;

/// The current Unix time in seconds (0 if the clock is before 1970).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The URI of a callback to `path` as Tencent sends it: `SdkAppid`, `CallbackCommand`,
/// `contenttype=json`, `ClientIP`, `OptPlatform`, and `Sign` (from `token`) with `RequestTime`.
/// `request_time` is usually [`now()`]; an old one tests your clock-skew window.
pub fn callback_uri(
    path: &str,
    sdk_app_id: u64,
    command: &str,
    token: &CallbackToken,
    request_time: u64,
) -> String {
    format!(
        "{path}?SdkAppid={sdk_app_id}&CallbackCommand={command}&contenttype=json\
         &ClientIP=127.0.0.1&OptPlatform=RESTAPI&Sign={}&RequestTime={request_time}",
        token.sign(request_time)
    )
}

/// Polls `future` once with a no-op waker; panics if it is not ready. For services that never wait
/// (the layer over a static token answers at once).
pub fn poll_once<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the future was expected to be ready at once"),
    }
}

/// A REST client for the mock's default app at `base_url`, with short timeouts (500 ms).
///
/// # Panics
///
/// If `base_url` is not a URL (use [`MockApi::base_url`](mock::MockApi::base_url)).
#[cfg(feature = "rest")]
#[cfg_attr(docsrs, doc(cfg(feature = "rest")))]
pub fn rest_client(base_url: &str) -> tim_callback_auth::rest::RestClient {
    use std::time::Duration;
    use tim_callback_auth::rest::{Region, RestClient};
    RestClient::builder(mock::SDK_APP_ID, mock::SECRET_KEY)
        .admin(mock::ADMIN)
        .region(Region::custom(base_url).expect("a mock's url"))
        .request_timeout(Duration::from_millis(500))
        .connect_timeout(Duration::from_millis(500))
        .build()
        .expect("a valid client")
}

/// A TLS server on 127.0.0.1 with a self-signed certificate for `localhost` (in this crate's
/// `data/`, for tests only): every connection is handshaken, then closed. Returns its base URL,
/// `https://localhost:PORT`. A client that verifies certificates must refuse it.
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub async fn self_signed_tls_server() -> String {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let cert = CertificateDer::from_pem_slice(include_bytes!("../data/localhost.crt"))
        .expect("test certificate");
    let key =
        PrivateKeyDer::from_pem_slice(include_bytes!("../data/localhost.key")).expect("test key");
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("certificate and key");
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(stream).await;
            });
        }
    });
    format!("https://localhost:{port}")
}

/// How a callback passed, as one comparable value: what tests assert about a
/// [`VerifiedCallback`](tim_callback_auth::VerifiedCallback)'s predicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// The `Sign` matched the current token.
    CurrentToken,
    /// The `Sign` matched the previous token, in its grace period.
    PreviousToken,
    /// Authentication is off: nothing was verified.
    AuthenticationDisabled,
}

/// [`How`] `verified` passed.
pub fn how(verified: tim_callback_auth::VerifiedCallback) -> How {
    match (
        verified.authentication_disabled(),
        verified.previous_token(),
    ) {
        (true, _) => How::AuthenticationDisabled,
        (false, true) => How::PreviousToken,
        (false, false) => How::CurrentToken,
    }
}
