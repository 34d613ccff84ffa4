//! Test support for `tim-callback-auth`, shared by its integration tests and examples (not
//! published):
//!
//! - [`mock`]: an in-process mock of Tencent's REST API on 127.0.0.1 with an OS-assigned port;
//! - [`faults`]: the fault matrix and the harness that runs a refresher and a layer against it;
//! - small helpers every test needs ([`now`], [`poll_once`], [`rest_client`]).
//!
//! A library rather than a `tests/support` module: each test binary uses a different part of it,
//! and a library's public items are not dead code where they go unused.

pub mod faults;
pub mod mock;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tim_callback_auth::rest::{Region, RestClient};

/// The current Unix time in seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Polls `future` once with a no-op waker; panics if it is not ready. For services that never wait.
pub fn poll_once<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the future was expected to be ready at once"),
    }
}

/// A REST client for the mock's default app at `base_url`, with short timeouts (500 ms).
pub fn rest_client(base_url: &str) -> RestClient {
    RestClient::builder(mock::SDK_APP_ID, mock::SECRET_KEY)
        .admin(mock::ADMIN)
        .region(Region::custom(base_url).expect("a mock's url"))
        .request_timeout(Duration::from_millis(500))
        .connect_timeout(Duration::from_millis(500))
        .build()
        .expect("a valid client")
}

/// A TLS server on 127.0.0.1 with a self-signed certificate for `localhost` (`data/`, test-only):
/// every connection is handshaken, then closed. Returns its base URL, `https://localhost:PORT`.
/// A client that verifies certificates must refuse it.
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
