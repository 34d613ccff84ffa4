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
    RestClient::builder(mock::SDK_APP_ID, mock::ADMIN, mock::SECRET_KEY)
        .region(Region::custom(base_url).expect("a mock's url"))
        .request_timeout(Duration::from_millis(500))
        .connect_timeout(Duration::from_millis(500))
        .build()
        .expect("a valid client")
}
