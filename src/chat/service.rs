//! [`CallbackAuth`]: the service that verifies each request.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::config::Config;
use super::future::ResponseFuture;
use super::layer::CallbackAuthLayer;
use crate::handle::TokenHandle;
use crate::reject::{DefaultRejection, RejectionResponse};
use crate::verify::Rejection;

/// The service built by [`CallbackAuthLayer`]: verifies the callback's query string, then calls
/// the inner service with a [`VerifiedCallback`](crate::VerifiedCallback) in the request's
/// extensions, or answers with the rejection response.
///
/// See the [module docs](crate::chat) for details.
pub struct CallbackAuth<S, R = DefaultRejection> {
    inner: S,
    config: Arc<Config<R>>,
}

// ===== impl CallbackAuth =====

impl<S> CallbackAuth<S> {
    /// Wraps `inner` with a single-app layer over `handle` and the default settings: the same as
    /// `CallbackAuthLayer::new(handle).layer(inner)`.
    pub fn new(inner: S, handle: TokenHandle) -> Self {
        tower_layer::Layer::layer(&CallbackAuthLayer::new(handle), inner)
    }
}

impl<S, R> CallbackAuth<S, R> {
    pub(crate) fn from_config(inner: S, config: Arc<Config<R>>) -> Self {
        Self { inner, config }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, without the verification.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, R> Clone for CallbackAuth<S, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            config: Arc::clone(&self.config),
        }
    }
}

impl<S: fmt::Debug, R: fmt::Debug> fmt::Debug for CallbackAuth<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackAuth")
            .field("inner", &self.inner)
            .field("tokens", &self.config.settings.tokens)
            .field("verifier", &self.config.settings.verifier)
            .field("rejection", &self.config.settings.rejection)
            .finish()
    }
}

// ===== impl Service =====

/// The same bounds under every feature set: no `Send`, no `'static`. `S: Clone` because a request
/// that waits for a refresh takes the inner service that `poll_ready` reserved with it (a clone
/// stays here for the next request); nothing else clones it.
impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for CallbackAuth<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    R: RejectionResponse<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    /// Verifies `req` and either calls the inner service or answers with the rejection. Borrows
    /// the shared configuration: no reference count is written on the accept path.
    #[inline]
    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let Self { inner, config } = self;
        let now = config.settings.clock.unix_secs();
        if let Some(refused) = config.check_source(&req, now) {
            return ResponseFuture::rejected(refused);
        }
        let (result, checked) = config.check(req.uri().query().unwrap_or(""), now);
        match result {
            Ok(verified) => ResponseFuture::inner(config.accept(inner, req, verified, &checked)),
            Err(rejection) => {
                // The token may have just been rotated: wait for the refresher, then verify once
                // more with the same clock reading.
                if rejection == Rejection::SignatureMismatch {
                    if let Some(wait) = checked.refresh_on_miss() {
                        drop(checked);
                        let clone = inner.clone();
                        let ready = std::mem::replace(inner, clone);
                        return ResponseFuture::waiting(wait, ready, req, Arc::clone(config), now);
                    }
                }
                let query = req.uri().query().unwrap_or("");
                ResponseFuture::rejected(config.reject(rejection, query, now, &checked))
            }
        }
    }
}
