//! [`CallbackAuthLayer`]: the configuration, shared by every service it builds.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use tower_layer::Layer;

use super::config::{Config, Settings, Tokens};
use super::service::CallbackAuth;
use crate::allowlist::AllowlistFilter;
use crate::apps::AppSet;
use crate::handle::TokenHandle;
use crate::reject::{Clock, DefaultRejection};
use crate::stats::CallbackStats;
use crate::verify::Verifier;

/// A [`Layer`] that verifies Tencent callbacks before they reach the wrapped service.
///
/// Cheap to clone (one `Arc`); configure it with the `with_*` methods. See the
/// [module docs](crate::chat) for more examples and the security considerations.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::{CallbackAuthLayer, CallbackToken, Rejection, TokenHandle, TokenSnapshot, Verifier};
/// use tower::{Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let token = CallbackToken::new("a-console-token-0123456789")?;
/// let layer = CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(token)))
///     .with_verifier(Verifier::new().with_app_id(1400000000));
/// let service = layer.layer(tower::service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// }));
///
/// // Unsigned: refused before the inner service runs, with the reason in the extensions.
/// let request = http::Request::post("/cb?SdkAppid=1400000000").body(String::new())?;
/// let response = service.oneshot(request).await?;
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.extensions().get::<Rejection>(), Some(&Rejection::MissingSign));
/// # Ok(())
/// # }
/// ```
///
/// # Settings and state
///
/// The `with_*` methods set plain values. What the layer accumulates while it runs (its counters
/// and its log limiter) is created with the layer and shared by its clones, by the layers the
/// `with_*` methods return, and by every service it builds: changing a setting never resets a
/// counter. The counters of a single-app layer carry the app id of its verifier when they first
/// count (or are read by [`stats`](Self::stats)).
#[must_use = "a layer does nothing until it wraps a service"]
pub struct CallbackAuthLayer<R = DefaultRejection> {
    config: Arc<Config<R>>,
}

impl CallbackAuthLayer {
    /// A layer that verifies against whatever `handle` holds, with [`Verifier::new`] and the
    /// [`DefaultRejection`] response. When the handle knows its app ([`TokenHandle::app_id`]: a
    /// refresher's handle, or [`TokenHandle::for_app`]), only callbacks whose `SdkAppid` names
    /// that app are accepted; a handle made with [`TokenHandle::new`] accepts any app (and the
    /// [`VerifiedCallback`](crate::VerifiedCallback) reports the query's, which the `Sign` does
    /// not cover).
    pub fn new(handle: TokenHandle) -> Self {
        let app_id = handle.app_id();
        let layer = Self::with_tokens(Tokens::Single(handle));
        match app_id {
            Some(app_id) => layer.set(|s| s.verifier = s.verifier.with_app_id(app_id)),
            None => layer,
        }
    }

    /// A layer for several apps behind one endpoint: each callback is verified against the app its
    /// `SdkAppid` names (and that app's refresher is asked on a signature miss). A callback naming
    /// no app of the set is rejected with
    /// [`Rejection::AppIdMismatch`](crate::Rejection::AppIdMismatch) before any hashing. The set can
    /// change while the layer runs. The verifier's own [`with_app_id`](Verifier::with_app_id) is
    /// ignored in this mode: the set decides.
    pub fn for_apps(apps: AppSet) -> Self {
        Self::with_tokens(Tokens::Apps(apps))
    }

    fn with_tokens(tokens: Tokens) -> Self {
        Self {
            config: Arc::new(Config {
                settings: Settings {
                    tokens,
                    verifier: Verifier::new(),
                    clock: Clock::System,
                    rejection: Arc::new(DefaultRejection),
                    insert_verified: true,
                    source: None,
                },
                state: Arc::default(),
            }),
        }
    }
}

impl<R> CallbackAuthLayer<R> {
    /// The same layer (the same state) with `change` applied to its settings.
    fn set(self, change: impl FnOnce(&mut Settings<R>)) -> Self {
        let mut config = Arc::unwrap_or_clone(self.config);
        change(&mut config.settings);
        Self {
            config: Arc::new(config),
        }
    }

    /// Uses `verifier` (window, app id check, strict mode) instead of [`Verifier::new`]. A
    /// verifier without an app id keeps the handle's app check (see [`new`](CallbackAuthLayer::new)).
    pub fn with_verifier(self, verifier: Verifier) -> Self {
        self.set(|s| {
            let handle_app = match &s.tokens {
                Tokens::Single(handle) => handle.app_id(),
                Tokens::Apps(_) => None,
            };
            s.verifier = match (verifier.app_id(), handle_app) {
                (None, Some(app_id)) => verifier.with_app_id(app_id),
                _ => verifier,
            };
        })
    }

    /// Answers rejected requests with `rejection` instead of [`DefaultRejection`]: a
    /// [`RejectionResponse`](crate::RejectionResponse), or a closure `Fn(Rejection) -> Response<B>`
    /// such as Tencent's "forbid" reply for before-callbacks,
    /// `|_| Reply::forbid().into_response()`.
    pub fn with_rejection_response<R2>(self, rejection: R2) -> CallbackAuthLayer<R2> {
        let Config { settings, state } = Arc::unwrap_or_clone(self.config);
        let Settings {
            tokens,
            verifier,
            clock,
            rejection: _,
            insert_verified,
            source,
        } = settings;
        CallbackAuthLayer {
            config: Arc::new(Config {
                settings: Settings {
                    tokens,
                    verifier,
                    clock,
                    rejection: Arc::new(rejection),
                    insert_verified,
                    source,
                },
                state,
            }),
        }
    }

    /// Reads the current time from `clock` instead of [`SystemTime::now`] (for tests and
    /// simulations; it is called once per request). A time before 1970 reads as 1970.
    pub fn with_clock(self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.set(|s| s.clock = Clock::custom(clock))
    }

    /// Whether accepted requests carry a [`VerifiedCallback`](crate::VerifiedCallback) in their
    /// extensions (default `true`). Inserting it costs the request's extension map its first
    /// allocations (see the README's benchmarks); turn it off to keep the layer at zero added
    /// allocations when handlers do not read it.
    pub fn with_verified_extension(self, insert: bool) -> Self {
        self.set(|s| s.insert_verified = insert)
    }

    /// Accepts requests only from the addresses of `filter`'s allowlist, checked before anything
    /// else (see [`allowlist`](crate::allowlist)). One filter per layer; it applies to every app of an
    /// [`AppSet`] layer, and its list handle can be shared with other layers.
    pub fn with_allowlist(self, filter: AllowlistFilter) -> Self {
        self.set(|s| s.source = Some(filter))
    }

    /// The handle this layer reads, for a single-app layer; `None` for [`for_apps`](Self::for_apps).
    pub fn handle(&self) -> Option<&TokenHandle> {
        match &self.config.settings.tokens {
            Tokens::Single(handle) => Some(handle),
            Tokens::Apps(_) => None,
        }
    }

    /// What the layer decided so far: one entry for a single-app layer; for
    /// [`for_apps`](Self::for_apps), one per app and one (`app_id() == None`) for callbacks that
    /// named no known app. Counting allocates nothing; with the `metrics` feature the same counts
    /// go to the [`metrics`](https://docs.rs/metrics) facade too.
    pub fn stats(&self) -> Vec<CallbackStats> {
        match &self.config.settings.tokens {
            Tokens::Single(handle) => vec![self.config.counters().snapshot(Some(handle))],
            Tokens::Apps(apps) => apps.stats(),
        }
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
            .field("tokens", &self.config.settings.tokens)
            .field("verifier", &self.config.settings.verifier)
            .field("rejection", &self.config.settings.rejection)
            .finish()
    }
}

impl<S, R> Layer<S> for CallbackAuthLayer<R> {
    type Service = CallbackAuth<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        CallbackAuth::from_config(inner, Arc::clone(&self.config))
    }
}
