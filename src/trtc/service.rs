//! [`TrtcCallbackAuth`]: the service that verifies each TRTC event.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use super::body::TrtcBody;
use super::config::Config;
use super::future::ResponseFuture;
use crate::reject::{DefaultRejection, RejectionResponse};
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
            .field("keys", &self.config.settings.keys)
            .finish_non_exhaustive()
    }
}

impl<S, R, B, ResBody> Service<Request<B>> for TrtcCallbackAuth<S, R>
where
    S: Service<Request<TrtcBody>, Response = Response<ResBody>> + Clone,
    B: Body,
    R: RejectionResponse<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, B, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let config = &self.config;
        let table = config.settings.keys.table();
        let claim = match config
            .settings
            .verifier
            .check_headers(&table, req.headers())
        {
            Ok(claim) => claim,
            Err((rejection, app)) => {
                let (id, counters) = match app {
                    Some(app) => (Some(app.id), &app.counters),
                    None => (None, config.settings.keys.unknown_counters()),
                };
                let response =
                    config.reject(rejection, id, counters, config.settings.clock.unix_millis());
                return ResponseFuture::rejected(response);
            }
        };
        let (app_id, sign) = (claim.app.id, claim.sign);
        if req.body().size_hint().lower() > config.settings.body_limit as u64 {
            let now = config.settings.clock.unix_millis();
            let response = config.reject(
                Rejection::BodyTooLarge,
                Some(app_id),
                &claim.app.counters,
                now,
            );
            return ResponseFuture::rejected(response);
        }
        // The inner service that `poll_ready` reserved goes with the request; a clone stays.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::reading(self.config.clone(), inner, req, app_id, sign)
    }
}
