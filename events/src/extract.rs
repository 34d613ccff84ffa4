//! axum extractors (feature `axum`): [`Typed<C>`] parses a verified callback's body once into
//! `C`; [`TypedTrtc`] types a verified TRTC event's `EventInfo`. Replies ([`Ack`], [`Verdict`]) are
//! `IntoResponse`.

use std::sync::OnceLock;

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use tim_callback_auth::trtc::VerifiedTrtcEvent;
use tim_callback_auth::VerifiedCallback;

use crate::body::{collect, json, read, refuse};
use crate::trtc::TrtcEvent;
use crate::{from_slice, query, Ack, Callback, CallbackReply, Config, Error, ErrorKind, Verdict};

/// A verified callback of command `C`, its body parsed once: the last argument of an axum
/// handler behind [`CallbackAuthLayer`](tim_callback_auth::CallbackAuthLayer) (take the
/// `VerifiedCallback` too with `Extension<VerifiedCallback>`).
///
/// For a route that receives `C` only: Tencent posts every command of an app to the one callback
/// URL, and any other command is refused here (400). Behind a shared URL, use the
/// [`Router`](crate::Router) (`route_service`) or [`AnyEvent`].
///
/// The query's command, when present, must be `C::COMMAND`, and so must the body's (else 400,
/// [`CommandConflict`](ErrorKind::CommandConflict)); the rest is the [`Router`](crate::Router)'s
/// reading, with the [`Config`] found in the request's extensions (`.layer(Extension(config))`),
/// else the defaults. A before-callback whose body cannot be read is answered by the policy
/// (the handler does not run).
///
/// ```no_run
/// use axum::{routing::post, Extension};
/// use tim_callback_auth::VerifiedCallback;
/// use tim_callback_events::chat::c2c::C2cBeforeSendMsg;
/// use tim_callback_events::extract::Typed;
/// use tim_callback_events::Verdict;
///
/// async fn moderate(
///     Extension(verified): Extension<VerifiedCallback>,
///     Typed(event): Typed<C2cBeforeSendMsg>,
/// ) -> Verdict<C2cBeforeSendMsg> {
///     let _ = verified.app_id();
///     if event.msg_body.iter().any(|e| e.as_text() == Some("spam")) { Verdict::forbid() } else { Verdict::allow() }
/// }
///
/// let app: axum::Router = axum::Router::new().route("/im/c2c-before-send", post(moderate));
/// // .layer(CallbackAuthLayer::new(handle))
/// ```
#[derive(Clone, Debug)]
pub struct Typed<C>(pub C);

/// The [`Typed`] and [`TypedTrtc`] rejection: the response (a status, or the policy's 200) and
/// why.
#[derive(Debug)]
pub struct Rejected {
    kind: ErrorKind,
    response: http::Response<String>,
}

impl Rejected {
    /// Why the callback was not handed to the handler.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "callback not handed to the handler: {} ({})",
            self.kind,
            self.response.status()
        )
    }
}

impl std::error::Error for Rejected {}

impl IntoResponse for Rejected {
    fn into_response(self) -> Response {
        self.response.into_response()
    }
}

fn default_config() -> &'static Config {
    static DEFAULT: OnceLock<Config> = OnceLock::new();
    DEFAULT.get_or_init(Config::new)
}

/// The request's [`Config`] (an `Extension`), else the process-wide default.
fn config_of(request: &Request) -> Config {
    request
        .extensions()
        .get::<Config>()
        .cloned()
        .unwrap_or_else(|| default_config().clone())
}

/// The counters of the extractors that found no [`Config`] in the request's extensions
/// (process-wide).
pub fn default_stats() -> crate::Stats {
    default_config().stats().clone()
}

impl<S: Send + Sync, C: Callback> FromRequest<S> for Typed<C> {
    type Rejection = Rejected;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Rejected> {
        let config = config_of(&request);
        let decides = <C::Reply as CallbackReply>::DECIDES || crate::Event::decides(C::COMMAND);
        let rejected = |error: Error, decides: bool| Rejected {
            kind: error.kind(),
            response: refuse(&error, Some(C::COMMAND), decides, &config),
        };
        if request.extensions().get::<VerifiedCallback>().is_none() {
            return Err(rejected(Error::new(ErrorKind::NotVerified), false));
        }
        match query::command(request.uri().query()) {
            Err(error) => return Err(rejected(error, false)),
            Ok(Some(command)) if command != C::COMMAND => {
                return Err(rejected(Error::new(ErrorKind::CommandConflict), false));
            }
            Ok(_) => {}
        }
        let (parts, body) = request.into_parts();
        let bytes = read(&parts.headers, body, config.body_limit)
            .await
            .map_err(|e| rejected(e, decides))?;
        let event = from_slice::<C>(&bytes).map_err(|e| rejected(e, decides))?;
        config.stats.count_dispatched();
        Ok(Self(event))
    }
}

/// A verified TRTC event with `EventInfo` typed: an axum handler's last argument behind
/// [`TrtcCallbackAuthLayer`](tim_callback_auth::trtc::TrtcCallbackAuthLayer) (which read the
/// envelope; only `EventInfo` is parsed here). Take the
/// [`VerifiedTrtcEvent`] too with `Extension<VerifiedTrtcEvent>`; answer
/// `tim_callback_auth::Reply::trtc_ok()`.
///
/// Refused with 500 when the request did not pass the layer, 400 when `EventInfo` does not match
/// its event's type (Tencent retries a non-200).
#[derive(Clone, Debug)]
pub struct TypedTrtc(pub TrtcEvent);

impl<S: Send + Sync> FromRequest<S> for TypedTrtc {
    type Rejection = Rejected;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Rejected> {
        let config = config_of(&request);
        let rejected = |error: Error| Rejected {
            kind: error.kind(),
            response: refuse(&error, None, false, &config),
        };
        let Some(verified) = request.extensions().get::<VerifiedTrtcEvent>().copied() else {
            return Err(rejected(Error::new(ErrorKind::NotVerified)));
        };
        // The layer buffered and verified the body: this collects what it holds.
        // Within the limit all the same, should a layer between them change the body.
        let bytes = collect(request.into_body(), config.body_limit)
            .await
            .map_err(rejected)?;
        let event = TrtcEvent::from_verified(&verified, &bytes).map_err(rejected)?;
        config.stats.count_dispatched();
        Ok(Self(event))
    }
}

/// Any verified callback, typed by its command ([`Event`](crate::Event); `Event::Unknown` for
/// commands this crate does not know): for a handler behind the one callback URL Tencent posts
/// every command to, matching on the event itself. The command is read as the
/// [`Router`](crate::Router) reads it (the query's, else the body's; both must agree), with the
/// same body rules and policy; answer with an untyped [`Reply`](tim_callback_auth::Reply) (or a
/// `Verdict`/`Ack`, which are `IntoResponse` too).
///
/// ```no_run
/// use tim_callback_auth::Reply;
/// use tim_callback_events::extract::AnyEvent;
/// use tim_callback_events::Event;
///
/// async fn callback(AnyEvent(event): AnyEvent) -> Reply {
///     match event {
///         Event::C2cBeforeSendMsg(message) if message.msg_body.is_empty() => Reply::forbid(),
///         _ => Reply::ok(),
///     }
/// }
/// let app: axum::Router = axum::Router::new().route("/im/callback", axum::routing::post(callback));
/// ```
#[derive(Clone, Debug)]
pub struct AnyEvent(pub crate::Event);

impl<S: Send + Sync> FromRequest<S> for AnyEvent {
    type Rejection = Rejected;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Rejected> {
        let config = config_of(&request);
        let rejected = |error: Error, command: Option<&str>, decides: bool| Rejected {
            kind: error.kind(),
            response: refuse(&error, command, decides, &config),
        };
        if request.extensions().get::<VerifiedCallback>().is_none() {
            return Err(rejected(Error::new(ErrorKind::NotVerified), None, false));
        }
        let in_query = query::command(request.uri().query())
            .map_err(|e| rejected(e, None, false))?
            .map(str::to_owned);
        let decides = in_query.as_deref().is_some_and(crate::Event::decides);
        let (parts, body) = request.into_parts();
        let bytes = read(&parts.headers, body, config.body_limit)
            .await
            .map_err(|e| rejected(e, in_query.as_deref(), decides))?;
        let command = match in_query {
            Some(command) => command,
            None => crate::parse::body_command(&bytes).map_err(|e| rejected(e, None, false))?,
        };
        let decides = crate::Event::decides(&command);
        let event = crate::Event::parse(&command, &bytes)
            .map_err(|e| rejected(e, Some(&command), decides))?;
        config.stats.count_dispatched();
        Ok(Self(event))
    }
}

impl IntoResponse for Ack {
    fn into_response(self) -> Response {
        json(self.to_json()).into_response()
    }
}

impl<C: Callback> IntoResponse for Verdict<C> {
    fn into_response(self) -> Response {
        json(self.to_json()).into_response()
    }
}
