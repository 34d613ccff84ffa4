//! [`CallbackAuthLayer`]: the configuration, shared by every service it builds.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tower_layer::Layer;

use super::response::DefaultRejection;
use super::service::CallbackAuth;
use crate::handle::TokenHandle;
use crate::verify::Verifier;

/// A [`Layer`] that verifies Tencent callbacks before they reach the wrapped service.
///
/// See the [module docs](crate::middleware) for examples and security considerations.
pub struct CallbackAuthLayer<R = DefaultRejection> {
    pub(crate) config: Arc<Config<R>>,
}

/// Everything a request needs, behind one `Arc` so per-connection clones stay cheap.
pub(crate) struct Config<R> {
    pub(crate) handle: TokenHandle,
    pub(crate) verifier: Verifier,
    pub(crate) clock: Clock,
    pub(crate) rejection: R,
}

/// Where the current Unix time comes from. Read once per request.
#[derive(Clone)]
pub(crate) enum Clock {
    System,
    Custom(Arc<dyn Fn() -> u64 + Send + Sync>),
}

impl Clock {
    #[inline]
    pub(crate) fn now_unix(&self) -> u64 {
        match self {
            // A clock before 1970 reads as 0: every request is then "from the future" and rejected.
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            Clock::Custom(f) => f(),
        }
    }
}

impl CallbackAuthLayer {
    /// A layer that verifies against whatever `handle` holds, with [`Verifier::new`] and the
    /// [`DefaultRejection`] response.
    pub fn new(handle: TokenHandle) -> Self {
        Self {
            config: Arc::new(Config {
                handle,
                verifier: Verifier::new(),
                clock: Clock::System,
                rejection: DefaultRejection,
            }),
        }
    }
}

impl<R> CallbackAuthLayer<R> {
    fn map_config<R2>(
        self,
        f: impl FnOnce(&Config<R>) -> (Verifier, Clock, R2),
    ) -> CallbackAuthLayer<R2>
    where
        R: Clone,
    {
        let (verifier, clock, rejection) = f(&self.config);
        CallbackAuthLayer {
            config: Arc::new(Config {
                handle: self.config.handle.clone(),
                verifier,
                clock,
                rejection,
            }),
        }
    }

    /// Uses `verifier` (window, app id check, strict mode) instead of [`Verifier::new`].
    #[must_use]
    pub fn with_verifier(self, verifier: Verifier) -> Self
    where
        R: Clone,
    {
        self.map_config(|c| (verifier, c.clock.clone(), c.rejection.clone()))
    }

    /// Answers rejected requests with `rejection` instead of [`DefaultRejection`]: a
    /// [`RejectionResponse`](super::RejectionResponse) such as [`ForbidCallback`](super::ForbidCallback)
    /// or a closure `Fn(Rejection) -> Response<B>`.
    #[must_use]
    pub fn with_rejection_response<R2>(self, rejection: R2) -> CallbackAuthLayer<R2>
    where
        R: Clone,
    {
        self.map_config(|c| (c.verifier, c.clock.clone(), rejection))
    }

    /// Reads the current Unix time (seconds) from `clock` instead of the system clock. For tests
    /// and simulations; it is called once per request.
    #[must_use]
    pub fn with_clock<C>(self, clock: C) -> Self
    where
        C: Fn() -> u64 + Send + Sync + 'static,
        R: Clone,
    {
        self.map_config(|c| {
            (
                c.verifier,
                Clock::Custom(Arc::new(clock)),
                c.rejection.clone(),
            )
        })
    }

    /// The handle this layer reads.
    pub fn handle(&self) -> &TokenHandle {
        &self.config.handle
    }
}

impl<R> Clone for CallbackAuthLayer<R> {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
        }
    }
}

impl<R: fmt::Debug> fmt::Debug for CallbackAuthLayer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackAuthLayer")
            .field("handle", &self.config.handle)
            .field("verifier", &self.config.verifier)
            .field("rejection", &self.config.rejection)
            .finish()
    }
}

impl<S, R> Layer<S> for CallbackAuthLayer<R> {
    type Service = CallbackAuth<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        CallbackAuth {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}
