//! [`ResponseFuture`]: the future returned by [`CallbackAuth`](super::CallbackAuth).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::config::Config;
use crate::reject::{DefaultRejection, RejectionResponse};

/// A wait for the refresher after a signature miss (boxed: it only exists on that rare path).
#[cfg(feature = "refresh")]
pub(crate) type Wait = crate::refresh::miss::RefreshWait;

/// Without the `refresh` feature nothing refreshes a handle: there is no wait, and the waiting
/// state cannot be built.
#[cfg(not(feature = "refresh"))]
pub(crate) enum Wait {}

#[cfg(not(feature = "refresh"))]
impl Future for Wait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        match *self {}
    }
}

pin_project! {
    /// Response future of [`CallbackAuth`](super::CallbackAuth).
    ///
    /// On the accept path it is the inner service's future, unboxed. A rejection is ready at once.
    /// After a signature miss that the app's refresher may answer, it waits for the refresh (the
    /// inner service that `poll_ready` reserved and the request held in it), verifies once more
    /// with the same clock reading, then becomes the inner future or the rejection.
    pub struct ResponseFuture<S, ReqBody, R = DefaultRejection>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        kind: Kind<S, ReqBody, R>,
    }
}

pin_project! {
    #[project = KindProj]
    #[project_replace = KindReplace]
    enum Kind<S, ReqBody, R>
    where
        S: Service<Request<ReqBody>>,
    {
        Inner { #[pin] future: S::Future },
        Rejected { response: Option<S::Response> },
        Waiting {
            wait: Wait,
            inner: S,
            req: Request<ReqBody>,
            config: Arc<Config<R>>,
            now: u64,
        },
    }
}

impl<S, ReqBody, R> ResponseFuture<S, ReqBody, R>
where
    S: Service<Request<ReqBody>>,
{
    pub(crate) fn inner(future: S::Future) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }

    pub(crate) fn rejected(response: S::Response) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
        }
    }

    pub(crate) fn waiting(
        wait: Wait,
        inner: S,
        req: Request<ReqBody>,
        config: Arc<Config<R>>,
        now: u64,
    ) -> Self {
        Self {
            kind: Kind::Waiting {
                wait,
                inner,
                req,
                config,
                now,
            },
        }
    }
}

impl<S, ReqBody, R, ResBody> Future for ResponseFuture<S, ReqBody, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    R: RejectionResponse<ResBody>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        loop {
            match kind.as_mut().project() {
                KindProj::Inner { future } => return future.poll(cx),
                KindProj::Rejected { response } => {
                    let response = response.take().expect("future polled after completion");
                    return Poll::Ready(Ok(response));
                }
                KindProj::Waiting { wait, .. } => {
                    ready!(Pin::new(wait).poll(cx));
                    // Take the request and the service out; the state left behind is the one
                    // of a finished future until the next state is set.
                    let taken = kind
                        .as_mut()
                        .project_replace(Kind::Rejected { response: None });
                    if let KindReplace::Waiting {
                        mut inner,
                        req,
                        config,
                        now,
                        ..
                    } = taken
                    {
                        // Verified once more, with the request's own clock reading.
                        let query = req.uri().query().unwrap_or("");
                        let (result, checked) = config.check(query, now);
                        let next = match result {
                            Ok(verified) => Kind::Inner {
                                future: config.accept(&mut inner, req, verified, &checked),
                            },
                            Err(rejection) => Kind::Rejected {
                                response: Some(config.reject(rejection, query, now, &checked)),
                            },
                        };
                        drop(checked);
                        kind.set(next);
                    }
                }
            }
        }
    }
}

impl<S, ReqBody, R> fmt::Debug for ResponseFuture<S, ReqBody, R>
where
    S: Service<Request<ReqBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.kind {
            Kind::Inner { .. } => "inner",
            Kind::Rejected { .. } => "rejected",
            Kind::Waiting { .. } => "waiting for a refresh",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
