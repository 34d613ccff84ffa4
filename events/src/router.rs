//! [`Router`]: verified callbacks dispatched by command to typed handlers, as a tower `Service`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Future};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tim_callback_auth::{Reply, VerifiedCallback};

use crate::body::{json, read, refuse};
use crate::event::Event;
use crate::parse::body_command;
use crate::{from_slice, query, Callback, CallbackReply, Config, Error, ErrorKind, Stats};

/// A boxed future of a response: each handler is its own future type, and one map holds them all.
type BoxFuture = Pin<Box<dyn Future<Output = Response<String>> + Send>>;

/// Dispatches verified callbacks by command to typed handlers: a tower [`Service`](tower_service::Service)
/// behind [`CallbackAuthLayer`](tim_callback_auth::CallbackAuthLayer) (one app or an `AppSet`),
/// in axum (`route_service`) or tower; hyper takes it through hyper-util's
/// `TowerToHyperService`.
///
/// For each request:
///
/// 1. the [`VerifiedCallback`] the layer inserted is taken (none: 500, the router is not behind
///    a verification layer);
/// 2. the command is read from the query ([`CallbackCommand`/`WebhookCommand`](crate::query)),
///    else from the body;
/// 3. a command with a handler ([`on`](Router::on)): the body is read (media type, limit),
///    parsed once into the command's type, whose own command must agree (else 400
///    [`CommandConflict`](ErrorKind::CommandConflict)), and given to the handler with the
///    `VerifiedCallback`; its typed reply is the answer;
/// 4. a command without one goes to the [`fallback`](Router::fallback) as an [`Event`] when
///    there is one, else is answered `{"ErrorCode":0}` without reading the body, counted
///    ([`Stats::defaulted`]).
///
/// A body that cannot be read is refused with its status (400, 413, 415), except for a
/// before-callback, answered by the [`UnreadableBody`](crate::UnreadableBody) policy (see
/// [`Config`]). A handler that panics is answered alike (500, or the policy for a
/// before-callback: Tencent delivers a message whose before-callback got no answer), counted as
/// [`HandlerPanicked`](ErrorKind::HandlerPanicked). When the query names no command (Tencent's
/// always does), the body is read for it first, then parsed for its route: two passes.
///
/// Neither the query's command nor the body's is covered by the `Sign`: the router makes them
/// agree, it cannot make them Tencent's.
///
/// ```
/// use tim_callback_events::chat::c2c::{C2cAfterSendMsg, C2cBeforeSendMsg};
/// use tim_callback_events::message::MsgElement;
/// use tim_callback_events::{Ack, Router, Verdict};
///
/// let router = Router::new()
///     .on(|event: C2cBeforeSendMsg, _verified| async move {
///         if event.msg_body.iter().any(|e| e.as_text().is_some_and(|t| t.contains("spam"))) {
///             Verdict::allow_with_msg_body(vec![MsgElement::text("***")])
///         } else {
///             Verdict::allow()
///         }
///     })
///     .on(|_event: C2cAfterSendMsg, _verified| async { Ack });
/// // axum: Router::new().route_service("/im/callback", router).layer(CallbackAuthLayer::new(handle))
/// # let _ = router;
/// ```
#[derive(Clone)]
pub struct Router {
    routes: Arc<HashMap<&'static str, Arc<dyn Route>>>,
    fallback: Option<Arc<dyn Fallback>>,
    config: Config,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut commands: Vec<&str> = self.routes.keys().copied().collect();
        commands.sort_unstable();
        f.debug_struct("Router")
            .field("commands", &commands)
            .field("fallback", &self.fallback.is_some())
            .field("config", &self.config)
            .finish()
    }
}

impl Default for Router {
    fn default() -> Self {
        Self::new()
    }
}

impl Router {
    /// A router without handlers (every command answered `{"ErrorCode":0}`), with
    /// [`Config::default`].
    pub fn new() -> Self {
        Self {
            routes: Arc::default(),
            fallback: None,
            config: Config::new(),
        }
    }

    /// Routes command `C` to `handler`, which gets the parsed event and the
    /// [`VerifiedCallback`], and answers `C`'s reply type. A second handler for the same command
    /// replaces the first.
    pub fn on<C, H, F>(mut self, handler: H) -> Self
    where
        C: Callback,
        H: Fn(C, VerifiedCallback) -> F + Send + Sync + 'static,
        F: Future<Output = C::Reply> + Send + 'static,
    {
        debug_assert!(
            query::plausible(C::COMMAND),
            "{} is not a command name the router can read",
            C::COMMAND
        );
        // A custom type for a known before-callback keeps the policy, whatever its reply type:
        // decided once, here.
        let decides = <C::Reply as CallbackReply>::DECIDES || Event::decides(C::COMMAND);
        let route: Arc<dyn Route> = Arc::new(Typed {
            handler,
            decides,
            command: PhantomData::<fn() -> C>,
        });
        Arc::make_mut(&mut self.routes).insert(C::COMMAND, route);
        self
    }

    /// Every command without a handler goes to `handler` as an [`Event`] (typed when this crate
    /// knows the command, [`Event::Unknown`] otherwise), answered with the untyped [`Reply`].
    pub fn fallback<H, F>(mut self, handler: H) -> Self
    where
        H: Fn(Event, VerifiedCallback) -> F + Send + Sync + 'static,
        F: Future<Output = Reply> + Send + 'static,
    {
        self.fallback = Some(Arc::new(FallbackFn(handler)));
        self
    }

    /// The body limit, the unreadable-body policy and the counters.
    pub fn with_config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.config.stats
    }

    /// Answers one request (what [`Service::call`](tower_service::Service::call) runs).
    async fn dispatch<B>(self, request: Request<B>) -> Response<String>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let config = &self.config;
        let Some(verified) = request.extensions().get::<VerifiedCallback>().copied() else {
            return refuse(&Error::new(ErrorKind::NotVerified), None, false, config);
        };
        let in_query = match query::command(request.uri().query()) {
            Ok(command) => command.map(str::to_owned),
            Err(error) => return refuse(&error, None, false, config),
        };
        // Known from the query: the route decides whether the body is read at all.
        let route = in_query
            .as_deref()
            .and_then(|c| self.routes.get(c))
            .cloned();
        let decides = in_query.as_deref().is_some_and(|c| {
            route
                .as_ref()
                .map_or_else(|| Event::decides(c), |r| r.decides())
        });
        if in_query.is_some() && route.is_none() && self.fallback.is_none() {
            config.stats.count_defaulted();
            return Reply::ok().into_response();
        }
        let (parts, body) = request.into_parts();
        let bytes = match read(&parts.headers, body, config.body_limit).await {
            Ok(bytes) => bytes,
            Err(error) => return refuse(&error, in_query.as_deref(), decides, config),
        };
        let command = match in_query {
            Some(command) => command,
            // No command could be read, so no route: refused with its status.
            None => match body_command(&bytes) {
                Ok(command) => command,
                Err(error) => return refuse(&error, None, false, config),
            },
        };
        if let Some(route) = self.routes.get(command.as_str()) {
            return route.call(bytes, verified, config).await;
        }
        let Some(fallback) = &self.fallback else {
            config.stats.count_defaulted();
            return Reply::ok().into_response();
        };
        match Event::parse(&command, &bytes) {
            Ok(event) => {
                config.stats.count_dispatched();
                let decides = Event::decides(&command);
                match catch_unwind(AssertUnwindSafe(|| fallback.call(event, verified))) {
                    Ok(reply) => {
                        let reply = Box::pin(async move { json(reply.await.to_json()) });
                        guarded(reply, "-", decides, config).await
                    }
                    Err(_) => panicked(&command, decides, config),
                }
            }
            Err(error) => refuse(&error, Some(&command), Event::decides(&command), config),
        }
    }
}

impl<B> tower_service::Service<Request<B>> for Router
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<String>;
    type Error = Infallible;
    type Future = RouterFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> RouterFuture {
        RouterFuture(Box::pin(self.clone().dispatch(request)))
    }
}

/// The [`Router`]'s response future.
pub struct RouterFuture(BoxFuture);

impl fmt::Debug for RouterFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RouterFuture")
    }
}

impl Future for RouterFuture {
    type Output = Result<Response<String>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx).map(Ok)
    }
}

/// The answer when a handler panicked: the policy's for a command whose reply decides, else 500.
fn panicked(command: &str, decides: bool, config: &Config) -> Response<String> {
    refuse(
        &Error::new(ErrorKind::HandlerPanicked),
        Some(command),
        decides,
        config,
    )
}

/// `future`, with a panic while it runs answered as [`panicked`].
fn guarded(future: BoxFuture, command: &'static str, decides: bool, config: &Config) -> BoxFuture {
    Box::pin(Guarded {
        future,
        command,
        decides,
        config: config.clone(),
    })
}

struct Guarded {
    future: BoxFuture,
    command: &'static str,
    decides: bool,
    config: Config,
}

impl Future for Guarded {
    type Output = Response<String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response<String>> {
        let this = &mut *self;
        match catch_unwind(AssertUnwindSafe(|| this.future.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(_) => Poll::Ready(panicked(this.command, this.decides, &this.config)),
        }
    }
}

/// A typed route, its command's type erased.
trait Route: Send + Sync {
    fn decides(&self) -> bool;
    fn call(&self, body: Bytes, verified: VerifiedCallback, config: &Config) -> BoxFuture;
}

struct Typed<C, H> {
    handler: H,
    /// Whether `C`'s reply decides.
    decides: bool,
    command: PhantomData<fn() -> C>,
}

impl<C, H, F> Route for Typed<C, H>
where
    C: Callback,
    H: Fn(C, VerifiedCallback) -> F + Send + Sync + 'static,
    F: Future<Output = C::Reply> + Send + 'static,
{
    fn decides(&self) -> bool {
        self.decides
    }

    fn call(&self, body: Bytes, verified: VerifiedCallback, config: &Config) -> BoxFuture {
        let decides = self.decides();
        match from_slice::<C>(&body) {
            Ok(event) => {
                config.stats.count_dispatched();
                let handler = &self.handler;
                match catch_unwind(AssertUnwindSafe(|| handler(event, verified))) {
                    Ok(reply) => {
                        let reply = Box::pin(async move { json(reply.await.to_json()) });
                        guarded(reply, C::COMMAND, decides, config)
                    }
                    Err(_) => Box::pin(ready(panicked(C::COMMAND, decides, config))),
                }
            }
            Err(error) => Box::pin(ready(refuse(&error, Some(C::COMMAND), decides, config))),
        }
    }
}

trait Fallback: Send + Sync {
    fn call(
        &self,
        event: Event,
        verified: VerifiedCallback,
    ) -> Pin<Box<dyn Future<Output = Reply> + Send>>;
}

struct FallbackFn<H>(H);

impl<H, F> Fallback for FallbackFn<H>
where
    H: Fn(Event, VerifiedCallback) -> F + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    fn call(
        &self,
        event: Event,
        verified: VerifiedCallback,
    ) -> Pin<Box<dyn Future<Output = Reply> + Send>> {
        Box::pin((self.0)(event, verified))
    }
}
