//! [`TrtcCallbackAuth`]: the service that verifies each TRTC event.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use super::body::TrtcBody;
use super::future::TrtcResponseFuture;
use super::layer::Config;
use crate::middleware::log::Details;
use crate::middleware::{DefaultRejection, RejectionResponse};
use crate::stats::Counters;
use crate::verify::Rejection;

/// The service built by [`TrtcCallbackAuthLayer`](super::TrtcCallbackAuthLayer): checks the
/// headers, reads and verifies the body (any [`http_body::Body`]), then calls the inner service
/// with the same bytes as a [`TrtcBody`] and a [`VerifiedTrtcEvent`](super::VerifiedTrtcEvent),
/// or answers with the rejection response.
///
/// The inner service reserved by `poll_ready` is held while the body is read: with a concurrency
/// limit inside this layer, a slow sender holds a permit (put limits outside it).
pub struct TrtcCallbackAuth<S, R = DefaultRejection> {
    inner: S,
    config: Arc<Config<R>>,
}

impl<S, R> TrtcCallbackAuth<S, R> {
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

impl<S: Clone, R> Clone for TrtcCallbackAuth<S, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            config: self.config.clone(),
        }
    }
}

impl<S: fmt::Debug, R> fmt::Debug for TrtcCallbackAuth<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrtcCallbackAuth")
            .field("inner", &self.inner)
            .field("keys", &self.config.keys)
            .finish_non_exhaustive()
    }
}

impl<S, R, B, ResBody> Service<Request<B>> for TrtcCallbackAuth<S, R>
where
    S: Service<Request<TrtcBody>, Response = Response<ResBody>> + Clone,
    B: Body,
    ResBody: From<&'static str>,
    R: RejectionResponse<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = TrtcResponseFuture<S, B, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let config = &self.config;
        let claim = match config.verifier.check_headers(&config.keys, req.headers()) {
            Ok(claim) => claim,
            Err((rejection, app)) => {
                let (id, counters) = match app {
                    Some(app) => (Some(app.id), &app.counters),
                    None => (None, config.keys.unknown_counters()),
                };
                let response = config.reject(rejection, id, counters, config.clock.now_ms());
                return TrtcResponseFuture::rejected(response);
            }
        };
        let (app_id, sign) = (claim.app.id, claim.sign);
        if req.body().size_hint().lower() > config.body_limit as u64 {
            let now = config.clock.now_ms();
            let response = config.reject(
                Rejection::BodyTooLarge,
                Some(app_id),
                &claim.app.counters,
                now,
            );
            return TrtcResponseFuture::rejected(response);
        }
        // The inner service that `poll_ready` reserved goes with the request; a clone stays.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        TrtcResponseFuture::reading(self.config.clone(), inner, req, app_id, sign)
    }
}

impl<R> Config<R> {
    /// Counts, logs and answers a rejection.
    pub(crate) fn reject<ResBody>(
        &self,
        rejection: Rejection,
        app_id: Option<u64>,
        counters: &Counters,
        now_ms: u64,
    ) -> Response<ResBody>
    where
        R: RejectionResponse<ResBody>,
    {
        counters.record(Err(rejection));
        self.log
            .record(rejection, now_ms / 1000, app_id, || Details {
                command: "trtc event",
                skew_secs: None,
                source: None,
            });
        let mut response = self.rejection.response(rejection);
        response.extensions_mut().insert(rejection);
        response
    }
}
