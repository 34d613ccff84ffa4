//! [`ResponseFuture`]: reads the body, verifies it, then runs the inner service.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::body::TrtcBody;
use super::config::Config;
use super::dedupe::EventKey;
use super::verify::Claim;
use crate::reject::{DefaultRejection, RejectionResponse};
use crate::verify::Rejection;

pin_project! {
    /// Response future of [`TrtcCallbackAuth`](super::TrtcCallbackAuth): reads the body into one
    /// buffer, verifies it, then is the inner service's future (unboxed). A rejection, or a retry
    /// answered by the layer, is ready without calling the inner service.
    pub struct ResponseFuture<S, B, R = DefaultRejection>
    where
        S: Service<Request<TrtcBody>>,
    {
        #[pin]
        kind: Kind<S, B, R>,
    }
}

pin_project! {
    #[project = KindProj]
    #[project_replace = KindReplace]
    enum Kind<S, B, R>
    where
        S: Service<Request<TrtcBody>>,
    {
        Done { response: Option<S::Response> },
        Reading {
            #[pin]
            body: B,
            parts: Parts,
            inner: S,
            buffer: Buffer,
            config: Arc<Config<R>>,
            app_id: u64,
            sign: [u8; 32],
        },
        Calling {
            #[pin]
            future: S::Future,
            config: Arc<Config<R>>,
            // The event and until when to remember it, once the inner service answers 2xx.
            remember: Option<(EventKey, u64)>,
        },
    }
}

impl<S, B, R> ResponseFuture<S, B, R>
where
    S: Service<Request<TrtcBody>>,
{
    pub(crate) fn rejected(response: S::Response) -> Self {
        Self {
            kind: Kind::Done {
                response: Some(response),
            },
        }
    }

    pub(crate) fn reading(
        config: Arc<Config<R>>,
        inner: S,
        req: Request<B>,
        app_id: u64,
        sign: [u8; 32],
    ) -> Self {
        let (parts, body) = req.into_parts();
        Self {
            kind: Kind::Reading {
                body,
                parts,
                inner,
                buffer: Buffer::Empty,
                config,
                app_id,
                sign,
            },
        }
    }
}

/// The body read so far: a single frame is kept as it came (no copy); from the second frame on,
/// the frames are gathered in one buffer sized from the body's size hint.
enum Buffer {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl Buffer {
    fn len(&self) -> usize {
        match self {
            Buffer::Empty => 0,
            Buffer::One(b) => b.len(),
            Buffer::Many(b) => b.len(),
        }
    }

    /// Adds a frame. `announced` is what the body says is still to come (its size hint), capped
    /// by the limit: the buffer reserves at most [`ANNOUNCED_RESERVE`] of it ahead, so a sender
    /// announcing a large body and sending two bytes makes the layer hold two bytes, not the
    /// announced size.
    fn push(&mut self, mut data: impl Buf, announced: usize) {
        match self {
            Buffer::Empty => *self = Buffer::One(data.copy_to_bytes(data.remaining())),
            Buffer::One(first) => {
                let needed = first.len() + data.remaining();
                let mut all = BytesMut::with_capacity(needed + announced.min(ANNOUNCED_RESERVE));
                all.put_slice(first);
                all.put(data);
                *self = Buffer::Many(all);
            }
            Buffer::Many(all) => all.put(data),
        }
    }

    fn take(&mut self) -> Bytes {
        match std::mem::replace(self, Buffer::Empty) {
            Buffer::Empty => Bytes::new(),
            Buffer::One(b) => b,
            Buffer::Many(b) => b.freeze(),
        }
    }
}

/// How much of a body's announced remainder the buffer reserves ahead of its arrival (larger
/// bodies grow the buffer as they arrive).
const ANNOUNCED_RESERVE: usize = 16 * 1024;

impl<S, B, R, ResBody> Future for ResponseFuture<S, B, R>
where
    S: Service<Request<TrtcBody>, Response = Response<ResBody>>,
    B: Body,
    R: RejectionResponse<ResBody>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        loop {
            match kind.as_mut().project() {
                KindProj::Done { response } => {
                    return Poll::Ready(Ok(response
                        .take()
                        .expect("ResponseFuture polled after completion")));
                }
                KindProj::Calling {
                    future,
                    config,
                    remember,
                } => {
                    let result = ready!(future.poll(cx));
                    if let (Ok(response), Some((key, until)), Some(recent)) =
                        (&result, remember.take(), config.recent())
                    {
                        if response.status().is_success() {
                            recent.insert(key, until, config.settings.clock.unix_millis());
                        }
                    }
                    return Poll::Ready(result);
                }
                KindProj::Reading {
                    mut body,
                    buffer,
                    config,
                    app_id,
                    sign,
                    ..
                } => {
                    let config = Arc::clone(config);
                    let (app_id, sign) = (*app_id, *sign);
                    let rejection = match ready!(body.as_mut().poll_frame(cx)) {
                        Some(Ok(frame)) => match frame.into_data() {
                            Ok(data)
                                if buffer.len() + data.remaining() > config.settings.body_limit =>
                            {
                                Rejection::BodyTooLarge
                            }
                            Ok(data) => {
                                // What is still to come, as the body announces it (hyper: the
                                // rest of the Content-Length).
                                let hint = body.size_hint();
                                let announced = hint.upper().unwrap_or(hint.lower());
                                let room =
                                    config.settings.body_limit - buffer.len() - data.remaining();
                                let announced =
                                    usize::try_from(announced).unwrap_or(usize::MAX).min(room);
                                buffer.push(data, announced);
                                continue;
                            }
                            // Trailers carry nothing that is signed.
                            Err(_) => continue,
                        },
                        Some(Err(_)) => Rejection::UnreadableBody,
                        None => {
                            let bytes = buffer.take();
                            // The body is read: take the request's head and the service out.
                            let taken =
                                kind.as_mut().project_replace(Kind::Done { response: None });
                            if let KindReplace::Reading {
                                parts, mut inner, ..
                            } = taken
                            {
                                match verified(&config, app_id, sign, bytes, parts) {
                                    Ok((req, remember)) => {
                                        let future = inner.call(req);
                                        kind.set(Kind::Calling {
                                            future,
                                            config,
                                            remember,
                                        });
                                    }
                                    Err(response) => return Poll::Ready(Ok(response)),
                                }
                            }
                            continue;
                        }
                    };
                    let table = config.settings.keys.table();
                    let counters = match table.app(app_id) {
                        Some(app) => &app.counters,
                        None => config.settings.keys.unknown_counters(),
                    };
                    let now = config.settings.clock.unix_millis();
                    let response = config.reject(rejection, Some(app_id), counters, now);
                    kind.set(Kind::Done { response: None });
                    return Poll::Ready(Ok(response));
                }
            }
        }
    }
}

/// Verifies the whole body. `Ok`: the request for the inner service (the same bytes, the
/// [`VerifiedTrtcEvent`](super::VerifiedTrtcEvent) in its extensions) and what to remember once
/// it is answered. `Err`: the answer (a rejection, or a retry answered by the layer).
#[allow(clippy::type_complexity)]
fn verified<R, ResBody>(
    config: &Config<R>,
    app_id: u64,
    sign: [u8; 32],
    bytes: Bytes,
    parts: Parts,
) -> Result<(Request<TrtcBody>, Option<(EventKey, u64)>), Response<ResBody>>
where
    R: RejectionResponse<ResBody>,
{
    let now = config.settings.clock.unix_millis();
    // The app may have left the set while the body was read.
    let table = config.settings.keys.table();
    let Some(app) = table.app(app_id) else {
        let counters = config.settings.keys.unknown_counters();
        return Err(config.reject(Rejection::AppIdMismatch, None, counters, now));
    };
    let event = config
        .settings
        .verifier
        .check_body(&Claim { app, sign }, &bytes, now)
        .map_err(|rejection| config.reject(rejection, Some(app_id), &app.counters, now))?;
    let remember = match config.recent() {
        Some(recent) => {
            let mut prefix = [0u8; 8];
            prefix.copy_from_slice(&sign[..8]);
            let key = (app_id, u64::from_ne_bytes(prefix), route(&parts));
            if recent.contains(key, now) {
                // The policy's answer (by default `200 {"code":0}`, as the handler answered the
                // first delivery); without one, the retry reaches the handler.
                if let Some(answer) = config.settings.rejection.retry_answered() {
                    app.counters.record_retry_answered();
                    return Err(answer);
                }
            }
            // Until the event leaves the window: `CallbackTs + window` is still accepted.
            let window =
                u64::try_from(config.settings.verifier.window().as_millis()).unwrap_or(u64::MAX);
            let until = event
                .callback_ts_ms()
                .saturating_add(window)
                .saturating_add(1);
            Some((key, until))
        }
        None => None,
    };
    app.counters.record(Ok(event.verified()));
    let mut req = Request::from_parts(parts, TrtcBody::new(bytes));
    if config.settings.insert_verified {
        req.extensions_mut().insert(event);
    }
    Ok((req, remember))
}

/// The route an event was delivered to (method and path), hashed, for the retry memory.
fn route(parts: &Parts) -> u64 {
    use std::hash::{Hash, Hasher};
    // Fixed keys: the route is chosen by whoever sends the request, but only events with a valid
    // MAC are ever inserted, so nobody can aim at the table's buckets.
    let mut hasher = std::hash::DefaultHasher::new();
    parts.method.hash(&mut hasher);
    parts.uri.path().hash(&mut hasher);
    hasher.finish()
}

impl<S, B, R> fmt::Debug for ResponseFuture<S, B, R>
where
    S: Service<Request<TrtcBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Done { .. } => "done",
            Kind::Reading { .. } => "reading the body",
            Kind::Calling { .. } => "calling the inner service",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
