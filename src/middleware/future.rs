//! [`ResponseFuture`]: the future returned by [`CallbackAuth`](super::CallbackAuth).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

/// After a signature miss: wait for the refresher, verify again, then either the inner future or
/// the rejection. Boxed because it only exists on that rare path.
type Retry<F, B> = Pin<Box<dyn Future<Output = Result<F, Response<B>>> + Send>>;

pin_project! {
    /// Response future of [`CallbackAuth`](super::CallbackAuth).
    ///
    /// On the accept path it is the inner service's future, unboxed. A rejection is ready at once.
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: Kind<F, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        Inner { #[pin] future: F },
        Rejected { response: Option<Response<B>> },
        Retrying { retry: Retry<F, B> },
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
        loop {
            match kind.as_mut().project() {
                KindProj::Inner { future } => return future.poll(cx),
                KindProj::Rejected { response } => {
                    let response = response.take().expect("future polled after completion");
                    return Poll::Ready(Ok(response));
                }
                KindProj::Retrying { retry } => match ready!(retry.as_mut().poll(cx)) {
                    Ok(future) => kind.set(Kind::Inner { future }),
                    Err(response) => kind.set(Kind::Rejected {
                        response: Some(response),
                    }),
                },
            }
        }
    }
}

impl<F, B> fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.kind {
            Kind::Inner { .. } => "inner",
            Kind::Rejected { .. } => "rejected",
            Kind::Retrying { .. } => "retrying",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
