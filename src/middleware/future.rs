//! [`ResponseFuture`]: the future returned by [`CallbackAuth`](super::CallbackAuth).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
#[cfg(feature = "refresh")]
use std::task::ready;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

/// After a signature miss: wait for the refresher, verify again, then either the inner future or
/// the rejection. Boxed because it only exists on that rare path (and only with a refresher).
#[cfg(feature = "refresh")]
pub(crate) type Retry<F, B> = Pin<Box<dyn Future<Output = Result<F, Response<B>>> + Send>>;

pin_project! {
    /// Response future of [`CallbackAuth`](super::CallbackAuth).
    ///
    /// On the accept path it is the inner service's future, unboxed. A rejection is ready at once.
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: Kind<F, B>,
    }
}

// `pin_project!` carries no `cfg` onto its projections, so the state enum is declared twice:
// with the retry state (`refresh` feature) and without it.
#[cfg(feature = "refresh")]
pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        Inner { #[pin] future: F },
        Rejected { response: Option<Response<B>> },
        Retrying { retry: Retry<F, B> },
    }
}

#[cfg(not(feature = "refresh"))]
pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        Inner { #[pin] future: F },
        Rejected { response: Option<Response<B>> },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn inner(future: F) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }

    pub(crate) fn rejected(response: Response<B>) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
        }
    }

    #[cfg(feature = "refresh")]
    pub(crate) fn waiting(retry: Retry<F, B>) -> Self {
        Self {
            kind: Kind::Retrying { retry },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        // After a miss: once the refresher has answered, become the inner future or the rejection.
        #[cfg(feature = "refresh")]
        if let KindProj::Retrying { retry } = kind.as_mut().project() {
            let next = match ready!(retry.as_mut().poll(cx)) {
                Ok(future) => Kind::Inner { future },
                Err(response) => Kind::Rejected {
                    response: Some(response),
                },
            };
            kind.set(next);
        }
        match kind.as_mut().project() {
            KindProj::Inner { future } => future.poll(cx),
            KindProj::Rejected { response } => {
                let response = response.take().expect("future polled after completion");
                Poll::Ready(Ok(response))
            }
            #[cfg(feature = "refresh")]
            KindProj::Retrying { .. } => unreachable!("the retry state was left just above"),
        }
    }
}

impl<F, B> fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.kind {
            Kind::Inner { .. } => "inner",
            Kind::Rejected { .. } => "rejected",
            #[cfg(feature = "refresh")]
            Kind::Retrying { .. } => "retrying",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
