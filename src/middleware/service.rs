//! [`CallbackAuth`]: the service that verifies each request.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::config::Config;
use super::future::ResponseFuture;
use super::layer::CallbackAuthLayer;
use super::response::{DefaultRejection, RejectionResponse};
use crate::handle::TokenHandle;
#[cfg(feature = "refresh")]
use crate::verify::Rejection;

/// The service built by [`CallbackAuthLayer`]: verifies the callback's query string, then calls
/// the inner service with a [`VerifiedCallback`](crate::VerifiedCallback) in the request's
/// extensions, or answers with the rejection response.
///
/// See the [module docs](crate::middleware) for details.
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

/// What the retry hook did with a request it was offered.
#[cfg(feature = "refresh")]
enum Offer<F, Req> {
    /// It waits for a refresh, then verifies again: this future answers.
    Taken(F),
    /// Nothing to wait for: the request comes back, and the miss is answered now.
    Declined(Req),
}

/// Verifies `req` and either calls `inner` or answers with the rejection. On a signature miss
/// (with the `refresh` feature) `retry` is offered the request first, to wait for a refresh.
/// Borrows the shared configuration: no reference count is written.
#[inline]
fn respond<S, R, ReqBody, ResBody>(
    config: &Config<R>,
    inner: &mut S,
    req: Request<ReqBody>,
    #[cfg(feature = "refresh")] retry: impl FnOnce(
        &mut S,
        &TokenHandle,
        Request<ReqBody>,
        u64,
    ) -> Offer<
        ResponseFuture<S::Future, ResBody>,
        Request<ReqBody>,
    >,
) -> ResponseFuture<S::Future, ResBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    R: RejectionResponse<ResBody>,
{
    let now = config.clock.now_unix();
    if let Some(refused) = config.check_source(&req, now) {
        return ResponseFuture::rejected(refused);
    }
    let (result, checked) = config.check(req.uri().query().unwrap_or(""), now);
    #[cfg(feature = "refresh")]
    let req = match (result, checked.miss_handle()) {
        (Err(Rejection::SignatureMismatch), Some(handle)) => match retry(inner, handle, req, now) {
            Offer::Taken(waiting) => return waiting,
            Offer::Declined(req) => req,
        },
        _ => req,
    };
    checked.record(result);
    match result {
        Ok(verified) => ResponseFuture::inner(config.accept(inner, req, verified)),
        Err(rejection) => {
            let query = req.uri().query().unwrap_or("");
            ResponseFuture::rejected(config.reject(rejection, query, now, &checked))
        }
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
            .field("tokens", &self.config.tokens)
            .field("verifier", &self.config.verifier)
            .field("rejection", &self.config.rejection)
            .finish()
    }
}

// ===== impl Service =====

/// With a refresher (`refresh` feature): a signature miss may wait for an early fetch. The ready
/// inner service moves into the waiting future (a clone takes its place), which is boxed: it only
/// exists on that rare path, and it needs the `Send + 'static` bounds below.
#[cfg(feature = "refresh")]
impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for CallbackAuth<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    R: RejectionResponse<ResBody> + Send + Sync + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let Self { inner, config } = self;
        respond(config, inner, req, |ready, handle, req, now| {
            // The token may have just been rotated: wait for the refresher, then verify once more
            // with the same clock reading.
            let Some(wait) = handle.refresh_on_miss() else {
                return Offer::Declined(req);
            };
            let clone = ready.clone();
            let mut inner = std::mem::replace(ready, clone);
            let config = Arc::clone(config);
            Offer::Taken(ResponseFuture::waiting(Box::pin(async move {
                wait.await;
                let query = req.uri().query().unwrap_or("");
                let (result, checked) = config.check(query, now);
                checked.record(result);
                match result {
                    Ok(verified) => Ok(config.accept(&mut inner, req, verified)),
                    Err(rejection) => Err(config.reject(rejection, query, now, &checked)),
                }
            })))
        })
    }
}

/// Without the `refresh` feature nothing refreshes a handle, so a miss is answered at once and the
/// service needs no extra bounds.
#[cfg(not(feature = "refresh"))]
impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for CallbackAuth<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    R: RejectionResponse<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        respond(&self.config, &mut self.inner, req)
    }
}
