//! [`TrtcCallbackAuthLayer`]: verification of TRTC event callbacks as a `tower` layer.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use tower_layer::Layer;

use super::config::{Config, Settings, DEFAULT_BODY_LIMIT, DEFAULT_RECENT_EVENTS};
use super::service::TrtcCallbackAuth;
use super::{TrtcKeys, TrtcVerifier};
use crate::reject::{Clock, DefaultRejection};
use crate::stats::CallbackStats;

/// A `tower` layer that verifies TRTC event callbacks (`Sign` header = base64 HMAC-SHA256 of the
/// body) before they reach your handler.
///
/// For each request it checks the `SdkAppId` and `Sign` headers, reads the body up to a limit,
/// verifies the HMAC in constant time with the app's key (and its previous key during a rotation),
/// reads `EventGroupId`, `EventType` and `CallbackTs` from the verified bytes, checks that
/// `CallbackTs` is fresh, and then calls the inner service with **the same bytes** as the body and
/// a [`VerifiedTrtcEvent`](super::VerifiedTrtcEvent) in the extensions. Every rule is listed on
/// [`TrtcVerifier`]; a rejection is answered by the [`RejectionResponse`](crate::RejectionResponse)
/// (by default 401, 413 for a body over the limit, 400 for an unreadable or malformed one), with the
/// [`Rejection`](crate::Rejection) in the response's extensions, counted in [`TrtcKeys::stats`]
/// and logged without the key, the `Sign` or the body.
///
/// **Retries.** Tencent waits 5 seconds for an answer, then sends the same event again (same body,
/// same `Sign`) for about a minute. By default, once your handler has answered an event with a 2xx,
/// the layer answers its retries `200 {"code":0}` itself, without calling the handler again: a
/// bounded set of the last 4,096 answered events, each kept until its `CallbackTs` leaves the
/// window (about 400 KB; [`with_recent_events`](Self::with_recent_events)). The same set
/// answers a replay of a captured event. A handler that failed (non-2xx, or no answer) gets the
/// retry. Two copies arriving while the handler still works on the first both reach it, and each
/// instance of a fleet has its own set: handlers of events with side effects still need to be
/// idempotent (`EventInfo` carries ids to key on).
///
/// Any request body works (axum's `Body`, hyper's `Incoming`, …); the inner service gets the
/// verified bytes as a [`TrtcBody`](super::TrtcBody), which axum's routes accept like any body.
///
/// **Put it on the TRTC route only** (`post(handler).layer(…)` or `Router::route_layer`):
/// `Router::layer` also wraps the router's fallback, so every unknown path would answer 401, and
/// the memory of answered events would be shared by every route under it. That memory is keyed by
/// method and path too, so an event replayed to another route never stands for Tencent's delivery
/// to this one.
///
/// **Slow senders.** The layer reads at most the body limit, and reserves memory as bytes
/// arrive (never the whole announced `Content-Length` ahead), but it has no timer: a sender that
/// stops mid-body holds its connection until the server's own timeouts end it. Put a body timeout
/// in front (tower-http's `RequestBodyTimeoutLayer`, or your proxy's).
///
/// **Rejections** are answered `401` (`413`, `400`) so that Tencent retries a genuine event that
/// was refused (a clock skew, a key changed in the console before here); a `200` rejection
/// response (such as chat's "forbid" reply) would make Tencent drop it.
///
/// # Examples
///
/// ```
/// use axum::{routing::post, Extension, Router};
/// use tim_callback_auth::trtc::{TrtcCallbackAuthLayer, TrtcKey, TrtcKeys, VerifiedTrtcEvent};
/// use tim_callback_auth::Reply;
///
/// async fn trtc_event(Extension(event): Extension<VerifiedTrtcEvent>, body: String) -> Reply {
///     // `body` is exactly the bytes whose Sign was verified: parse `EventInfo` from it.
///     let _ = (event.event_group_id(), event.event_type(), body);
///     Reply::trtc_ok()
/// }
///
/// let keys = TrtcKeys::single(1400000001, TrtcKey::new("MyTrtcCallbackKey")?);
/// let app: Router = Router::new()
///     .route("/trtc/callback", post(trtc_event).layer(TrtcCallbackAuthLayer::new(keys)));
/// # let _ = app;
/// # Ok::<(), tim_callback_auth::Error>(())
/// ```
///
/// # Settings and state
///
/// The `with_*` methods set plain values. What the layer accumulates while it runs (the memory of
/// answered events and the log limiter) is created with the layer and shared by its clones, by the
/// layers the `with_*` methods return, and by every service it builds; the memory is sized by
/// [`with_recent_events`](Self::with_recent_events) as set when it is first used. The counters
/// live in the [`TrtcKeys`].
#[must_use = "a layer does nothing until it wraps a service"]
pub struct TrtcCallbackAuthLayer<R = DefaultRejection> {
    config: Arc<Config<R>>,
}

impl<R> Clone for TrtcCallbackAuthLayer<R> {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
        }
    }
}

impl TrtcCallbackAuthLayer {
    /// Verifies events for the apps of `keys`, with the default settings: a 10-minute window,
    /// a 64 KiB body limit, retries of answered events answered by the layer, and the
    /// [`DefaultRejection`].
    pub fn new(keys: TrtcKeys) -> Self {
        Self {
            config: Arc::new(Config {
                settings: Settings {
                    keys,
                    verifier: TrtcVerifier::new(),
                    body_limit: DEFAULT_BODY_LIMIT,
                    clock: Clock::System,
                    rejection: Arc::new(DefaultRejection::new()),
                    insert_verified: true,
                    recent_events: DEFAULT_RECENT_EVENTS,
                },
                state: Arc::default(),
            }),
        }
    }
}

impl<R> TrtcCallbackAuthLayer<R> {
    /// The same layer (the same state) with `change` applied to its settings.
    fn set(self, change: impl FnOnce(&mut Settings<R>)) -> Self {
        let mut config = Arc::unwrap_or_clone(self.config);
        change(&mut config.settings);
        Self {
            config: Arc::new(config),
        }
    }

    /// Uses `verifier` (its window).
    pub fn with_verifier(self, verifier: TrtcVerifier) -> Self {
        self.set(|s| s.verifier = verifier)
    }

    /// The largest body read, in bytes (default 64 KiB). A larger body is refused with
    /// [`Rejection::BodyTooLarge`](crate::Rejection::BodyTooLarge) without reading the rest: at
    /// once when its `Content-Length` says so, otherwise as soon as the limit is passed.
    pub fn with_body_limit(self, limit: usize) -> Self {
        self.set(|s| s.body_limit = limit)
    }

    /// How many answered events to remember so that their retries are answered without the
    /// handler (default 4,096, about 400 KB once the first event is answered; at most 2²⁰);
    /// `0` turns this off and every retry reaches the handler. The answer is the rejection
    /// policy's [`retry_answered`](crate::RejectionResponse::retry_answered); a policy
    /// without one (a closure) lets every retry reach the handler too.
    pub fn with_recent_events(self, capacity: usize) -> Self {
        self.set(|s| s.recent_events = capacity)
    }

    /// Reads the current time from `clock` instead of [`SystemTime::now`] (for tests and
    /// simulations). A time before 1970 reads as 1970.
    pub fn with_clock(self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.set(|s| s.clock = Clock::custom(clock))
    }

    /// Whether to insert the [`VerifiedTrtcEvent`](super::VerifiedTrtcEvent) into the request's
    /// extensions (default `true`).
    pub fn with_verified_extension(self, insert: bool) -> Self {
        self.set(|s| s.insert_verified = insert)
    }

    /// Answers rejections with `rejection` instead of the [`DefaultRejection`].
    pub fn with_rejection_response<R2>(self, rejection: R2) -> TrtcCallbackAuthLayer<R2> {
        let Config { settings, state } = Arc::unwrap_or_clone(self.config);
        let Settings {
            keys,
            verifier,
            body_limit,
            clock,
            rejection: _,
            insert_verified,
            recent_events,
        } = settings;
        TrtcCallbackAuthLayer {
            config: Arc::new(Config {
                settings: Settings {
                    keys,
                    verifier,
                    body_limit,
                    clock,
                    rejection: Arc::new(rejection),
                    insert_verified,
                    recent_events,
                },
                state,
            }),
        }
    }
}

impl<R> TrtcCallbackAuthLayer<R> {
    /// The keys (to rotate them).
    pub fn keys(&self) -> &TrtcKeys {
        &self.config.settings.keys
    }

    /// The counters of every app, then of events naming no known app: [`TrtcKeys::stats`].
    pub fn stats(&self) -> Vec<CallbackStats> {
        self.config.settings.keys.stats()
    }
}

impl<S, R> Layer<S> for TrtcCallbackAuthLayer<R> {
    type Service = TrtcCallbackAuth<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        TrtcCallbackAuth::from_config(inner, Arc::clone(&self.config))
    }
}

impl<R> fmt::Debug for TrtcCallbackAuthLayer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrtcCallbackAuthLayer")
            .field("keys", &self.config.settings.keys)
            .field("window", &self.config.settings.verifier.window())
            .field("body_limit", &self.config.settings.body_limit)
            .field("recent_events", &self.config.settings.recent_events)
            .finish_non_exhaustive()
    }
}
