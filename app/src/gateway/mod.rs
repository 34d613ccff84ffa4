//! The gateway: verified callbacks forwarded to a backend in any language, re-signed in the
//! [Standard Webhooks](https://www.standardwebhooks.com/) format so that the backend checks them
//! with any Standard Webhooks library. The binary is `tim-callback-gateway`:
//!
//! ```sh
//! TIM_CALLBACK_TOKEN=… TIM_SDKAPPID=1400000000 \
//! TIM_UPSTREAM_URL=http://127.0.0.1:3000/tencent TIM_UPSTREAM_SECRET=whsec_… \
//! cargo run --release --bin tim-callback-gateway
//! ```
//!
//! # Variables
//!
//! Every variable of [`Config`](crate::Config) (the apps, their tokens, `TIM_APPS`, the source
//! allowlist, the TRTC keys), `LISTEN_ADDR` (default `127.0.0.1:8080`), and:
//!
//! | variable | meaning |
//! |---|---|
//! | `TIM_UPSTREAM_URL` | where verified callbacks go (`http://` or `https://`; no user or password); required unless every `TIM_APPS` entry has an `upstream` |
//! | `TIM_UPSTREAM_SECRET` | the Standard Webhooks secret (`whsec_` and the base64 of 24 to 64 bytes), or two separated by one space during a rotation (each request then carries both signatures); required unless every entry has `upstream_secret_env` |
//! | `TIM_UPSTREAM_TIMEOUT_MS` | the upstream's budget, 1 to 4750 (default 1500); never more than Tencent's deadline (Chat 2 s, TRTC 5 s, from the request's arrival) less 250 ms |
//! | `TIM_UPSTREAM_FALLBACK` | what a before-callback gets when the upstream cannot answer: `forbid` (default: fail closed) or `allow` (what Tencent does when a callback fails) |
//! | `TIM_FORWARD_UNVERIFIED` | `1`: forward the callbacks of an app whose authentication is off (`TIM_ALLOW_UNSIGNED=1`), marked unverified and signed with `TIM_UPSTREAM_UNVERIFIED_SECRET` (below); default `0`: answered by the fallback |
//! | `TIM_UPSTREAM_UNVERIFIED_SECRET` | required with `TIM_FORWARD_UNVERIFIED=1`: the Standard Webhooks secret unverified callbacks are signed with, different from every verified one |
//! | `TIM_MAX_IN_FLIGHT` | verified Chat callbacks handled at once, and TRTC events read at once (each its own pool), 1 to 65536 (default 1024); beyond, a before-callback gets the fallback policy's answer and the rest 503 (memory stays below twice this times the body limit) |
//! | `TIM_IM_CALLBACK_PATH` | the Chat / Live callback path (default `/im/callback`) |
//! | `TIM_TRTC_CALLBACK_PATH` | the TRTC event callback path (default `/trtc/callback`; served when an app has a TRTC key) |
//! | `TIM_BODY_LIMIT_BYTES` | the largest callback body, 1024 to 16 MiB (default 256 KiB) |
//! | `TIM_SHUTDOWN_GRACE_SECS` | on SIGTERM or Ctrl-C, how long in-flight requests may finish (default 10) |
//! | `ADMIN_LISTEN_ADDR` | the admin listener: the detailed health and `/metrics` (default `127.0.0.1:9090`; `off`: none) |
//! | `TIM_LOG_FORMAT` | `text` (default) or `json`: one JSON object per log line |
//! | `TIM_REDIS_URL` | the fleet on Redis ([`Config`](crate::Config)'s variable): every gateway instance shares one token fetch per app; the detailed health then has a `fleet` member |
//!
//! In `TIM_APPS`, an entry may name its own `upstream` and `upstream_secret_env` (the variable
//! holding its secret): with one secret per app, one app's backend cannot accept another's
//! callbacks. Every app needs its SDKAppID (`TIM_SDKAPPID` with a static token): the gateway
//! presents it as verified. Errors name the variable or the entry and field, never a value.
//!
//! # What the upstream receives
//!
//! Only verified callbacks (the library's layers, with the allowlist where configured; forged,
//! stale, disguised and foreign requests are refused with the layers' statuses and never
//! forwarded). Each is sent with the same method and body bytes, and:
//!
//! - **a query rebuilt from one reading**: `SdkAppid` (the verified app) and `CallbackCommand`
//!   (the command as [`command_of`] read it, the body's own
//!   checked against it), then `contenttype`, `ClientIP` and `OptPlatform` (Tencent's other
//!   parameters: the first of each, with a value of the shape Tencent sends, written
//!   canonically). Nothing else: not the `Sign` (a bearer credential for its window), not
//!   `RequestTime`, and no other name, whatever its spelling (`SdkAppi%64`, ` SdkAppid`,
//!   `SdkAppid[]`: PHP, qs and Rack would read those as `SdkAppid`). Parameters of your own
//!   belong in `TIM_UPSTREAM_URL`'s query;
//! - **headers from an allowlist**: `User-Agent`, `X-Request-Id`, `traceparent` and
//!   `tracestate` as the caller sent them (unless `Connection` names them: RFC 9110 §7.6.1);
//!   `X-Forwarded-For` with the peer appended; `Content-Type: application/json`;
//!   `Accept-Encoding: identity`; `Host` the upstream's. Nothing else the caller wrote (no
//!   `webhook-*` or `x-tim-*` header in any spelling, no `Forwarded`, no rewrite header);
//! - **the verified facts**, advisory (not signed): `x-tim-app-id`, `x-tim-request-time` (Chat:
//!   `RequestTime`, seconds; TRTC: `CallbackTs`, milliseconds), `x-tim-command` (Chat and Live) or
//!   `x-tim-trtc-event` (`EventGroupId.EventType`), `x-tim-verified` (`sign`: the Chat `Sign`;
//!   `trtc-sign`: TRTC's body HMAC; `unverified`) and `x-tim-previous-key` (`1` when the
//!   previous token or key verified it);
//! - **a Standard Webhooks signature**: `webhook-id`, `webhook-timestamp` and
//!   `webhook-signature` over `{id}.{timestamp}.{body}`. The id is `msg_` and the hex SHA-256 over
//!   the app, the command and the body bytes: the same on every instance and for every retry of
//!   one event, so a backend deduplicates on it. **Standard Webhooks signs the id, the timestamp
//!   and the body only**: a backend that needs the app takes it from the body or uses one secret
//!   per app. A callback forwarded without verification (`TIM_FORWARD_UNVERIFIED=1`) is signed
//!   with `TIM_UPSTREAM_UNVERIFIED_SECRET` instead, so that a backend that knows only the
//!   verified secret refuses it; one that accepts both tells them apart by the secret that
//!   verified and by the id, which starts `msg_unverified_`.
//!
//! # What Tencent receives
//!
//! The upstream's reply, when it is a JSON object from a 2xx answer within the budget (a reply
//! that is not valid for its command, [`check_reply`], is
//! passed on, counted and logged); the kind's OK reply for a 2xx with an empty body. Otherwise
//! (a timeout, no connection, a non-2xx status, a body that is not JSON) the gateway answers
//! itself, counted per [`FallbackReason`] and logged once per reason per second: a
//! before-callback (a command of the typed list that decides, or any named `.CallbackBefore…`
//! or `.CallbackPrev…`) by `TIM_UPSTREAM_FALLBACK` (200, allow or forbid); an after-callback,
//! another unknown command and a TRTC event with 502 (504 for a timeout), so that Tencent
//! retries where it retries. A body still unsent when the gateway must answer (Tencent's
//! deadline less 250 ms) and a callback beyond `TIM_MAX_IN_FLIGHT` are answered the same way
//! for a before-callback (never with a failure, which Tencent would count as "allow"), and with
//! 408 and 503 otherwise.
//!
//! # Operations
//!
//! `GET /healthz` on the public listener answers 200 (ready or degraded) or 503 and nothing else:
//! whether authentication is on is not for whoever can reach it. The admin listener
//! (`ADMIN_LISTEN_ADDR`, loopback by default) has the detailed JSON at `/healthz` (the apps as
//! [`Health`](crate::Health) and the upstream's reachability) and `/metrics` in the Prometheus
//! text format (the library's counters and `tim_gateway_*`).
//!
//! **TLS**: Tencent calls HTTPS URLs; the gateway listens on plain HTTP behind your TLS
//! terminator (a load balancer, nginx). With the source allowlist on, set
//! `TIM_TRUSTED_PROXY_HOPS` to the number of proxies that append to `X-Forwarded-For` in front
//! of it (1 behind one nginx), so that the caller's address is read from there and not taken
//! from a header a caller wrote.

mod forward;
mod settings;
mod sign;
mod stats;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use axum::routing::{get, post};
use http::header::{HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use tim_callback_auth::trtc::VerifiedTrtcEvent;
use tim_callback_auth::{Reply, VerifiedCallback};
use tim_callback_events::{check_reply, command_of, query, Event};
use tim_callback_fleet::Store as _;

pub use settings::GatewayConfig;
pub use stats::{FallbackReason, GatewayStats};

use settings::{Fallback, Upstream};

/// How long before Tencent's deadline the gateway stops waiting for the upstream, to answer
/// itself in time.
const HEADROOM: Duration = Duration::from_millis(250);
/// Tencent's deadlines: Chat and Live callbacks, TRTC events.
const CHAT_DEADLINE: Duration = Duration::from_secs(2);
const TRTC_DEADLINE: Duration = Duration::from_secs(5);
/// How long an answered TRTC event is remembered fleet-wide: the TRTC verifier's window (a retry
/// older than that is refused as expired anyway).
const RETRY_MEMORY: Duration = Duration::from_secs(600);
/// The longest the fleet's retry memory is waited for.
const RETRY_LOOKUP: Duration = Duration::from_millis(100);
/// The largest upstream reply read.
const REPLY_LIMIT: usize = 64 * 1024;

/// A started gateway: the apps' refreshers running, ready to [`serve`](Gateway::serve).
#[derive(Debug)]
pub struct Gateway {
    shared: Arc<Shared>,
    running: Arc<crate::Running>,
}

#[derive(Debug)]
struct Shared {
    default_upstream: Option<Arc<Upstream>>,
    upstreams: std::collections::HashMap<u64, Arc<Upstream>>,
    timeout: Duration,
    fallback: Fallback,
    forward_unverified: bool,
    unverified: Option<sign::Secrets>,
    /// Chat and Live callbacks in flight at most (`TIM_MAX_IN_FLIGHT`), taken once a callback is
    /// verified (the chat layer reads no body: an unverified request holds nothing).
    chat_in_flight: Arc<tokio::sync::Semaphore>,
    /// TRTC events in flight at most, taken before the layer reads the body it verifies: a
    /// separate pool, so that bodies trickling in cannot starve Chat.
    trtc_in_flight: Arc<tokio::sync::Semaphore>,
    body_limit: usize,
    grace: Duration,
    im_path: String,
    trtc_path: String,
    client: reqwest::Client,
    stats: GatewayStats,
    /// The fleet's store (`TIM_REDIS_URL`): TRTC's retry memory, fleet-wide.
    retry: Option<tim_callback_fleet::RedisStore>,
}

/// When the request arrived: Tencent's deadline counts from here, whatever the layers waited.
#[derive(Clone, Copy, Debug)]
struct Arrived(Instant);

impl GatewayConfig {
    /// Starts the apps (each first token awaited, unsigned starts refused as
    /// [`Config::start`](crate::Config::start) does) and the upstream client.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`](crate::ConfigError), as [`Config::start`](crate::Config::start).
    pub async fn start(self) -> Result<Gateway, crate::ConfigError> {
        let running = self.apps.start_apps().await?;
        let retry = running.fleet().map(|fleet| fleet.store().clone());
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            // Signed callbacks go to the upstream named, never through a proxy the environment
            // names (`HTTP_PROXY`).
            .no_proxy()
            .build()
            .map_err(|e| {
                crate::ConfigError::new(
                    "TIM_UPSTREAM_URL",
                    format!("the upstream client could not be built: {e}"),
                )
            })?;
        Ok(Gateway {
            shared: Arc::new(Shared {
                default_upstream: self.default_upstream,
                upstreams: self.upstreams,
                timeout: self.timeout,
                fallback: self.fallback,
                forward_unverified: self.forward_unverified,
                unverified: self.unverified,
                chat_in_flight: Arc::new(tokio::sync::Semaphore::new(self.max_in_flight)),
                trtc_in_flight: Arc::new(tokio::sync::Semaphore::new(self.max_in_flight)),
                body_limit: self.body_limit,
                grace: self.grace,
                im_path: self.im_path,
                trtc_path: self.trtc_path,
                client,
                stats: GatewayStats::default(),
                retry,
            }),
            running: Arc::new(running),
        })
    }
}

impl Gateway {
    /// The gateway's counters.
    pub fn stats(&self) -> GatewayStats {
        self.shared.stats.clone()
    }

    /// Serves callbacks on `listener` (and the detailed health and `/metrics` on `admin`) until
    /// `shutdown` resolves; then stops accepting, lets in-flight requests finish for up to
    /// `TIM_SHUTDOWN_GRACE_SECS`, and returns.
    ///
    /// # Errors
    ///
    /// The listener's error, when accepting fails for good.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        admin: Option<tokio::net::TcpListener>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let public = self.public_router();
        let grace = self.shared.grace;
        let admin_task = admin.map(|admin| {
            let router = self.admin_router();
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let _ = axum::serve(admin, router)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    })
                    .await;
            })
        });
        let mut signalled = stopped.clone();
        let server = axum::serve(
            listener,
            public.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: draining in-flight requests");
            let _ = stop.send(true);
        });
        let result = tokio::select! {
            result = server => result,
            () = async move {
                let _ = signalled.wait_for(|s| *s).await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(grace_secs = grace.as_secs(), "in-flight requests still running at the end of the grace period: stopping");
                Ok(())
            }
        };
        if let Some(task) = admin_task {
            task.abort();
        }
        result
    }

    fn public_router(&self) -> axum::Router {
        let shared = Arc::clone(&self.shared);
        let chat = {
            let shared = Arc::clone(&shared);
            post(move |request: Request| chat(shared, request)).layer(self.running.layer())
        };
        let mut router = axum::Router::new().route(&shared.im_path, chat);
        if let Some(layer) = self.running.trtc_layer() {
            let layer = layer.with_body_limit(shared.body_limit);
            let trtc = {
                let shared = Arc::clone(&shared);
                post(move |request: Request| trtc(shared, request)).layer(layer)
            };
            router = router.route(&shared.trtc_path, trtc);
        }
        // Bounds on every callback route (not on /healthz): requests in flight, and Tencent's
        // deadline for the whole request, a body sent slowly included.
        let router = router.route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            bounded,
        ));
        let running = Arc::clone(&self.running);
        router
            .route(
                "/healthz",
                get(move || {
                    let state = running.health(Duration::from_secs(300)).state();
                    async move {
                        match state {
                            crate::HealthState::NotReady => {
                                (StatusCode::SERVICE_UNAVAILABLE, "unavailable\n")
                            }
                            _ => (StatusCode::OK, "ok\n"),
                        }
                    }
                }),
            )
            .layer(axum::middleware::map_request(stamp))
    }

    fn admin_router(&self) -> axum::Router {
        let running = Arc::clone(&self.running);
        let stats = self.shared.stats.clone();
        axum::Router::new()
            .route(
                "/healthz",
                get(move || {
                    let health = running.health(Duration::from_secs(300));
                    let mut response = health.to_response::<Body>();
                    let apps = health.to_json();
                    // The apps' document, with the upstream's reachability (and the fleet's
                    // state, with TIM_REDIS_URL) added.
                    let apps = apps.strip_suffix('}').unwrap_or(&apps);
                    let fleet = running
                        .fleet()
                        .map(|f| format!(r#","fleet":{}"#, fleet_json(&f.status())))
                        .unwrap_or_default();
                    let body = format!(r#"{apps},"upstream":{}{fleet}}}"#, stats.to_json());
                    *response.body_mut() = Body::from(body);
                    async move { response }
                }),
            )
            .route("/metrics", get(metrics))
    }
}

/// Every callback done by its kind's deadline (408: a body trickling in holds nothing longer
/// than Tencent waits), and at most `TIM_MAX_IN_FLIGHT` TRTC events at once (503 beyond: memory
/// stays bounded by that times the body limit; Chat's bound is taken after verification, in
/// [`chat`]).
async fn bounded(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let chat = request.uri().path() == shared.im_path;
    let _permit = if chat {
        None
    } else {
        let Ok(permit) = Arc::clone(&shared.trtc_in_flight).try_acquire_owned() else {
            return overloaded(&shared);
        };
        Some(permit)
    };
    let deadline = if chat { CHAT_DEADLINE } else { TRTC_DEADLINE };
    let left = deadline.saturating_sub(arrived(&request).elapsed());
    match tokio::time::timeout(left, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            shared.stats.count_fallback(FallbackReason::TooSlow, false);
            plain(
                StatusCode::REQUEST_TIMEOUT,
                "the request was not done in time\n",
            )
        }
    }
}

/// The fleet's state for the detailed health: whether the store answers, the fleet's size, the
/// apps this instance fetches for, and its counters.
fn fleet_json(status: &tim_callback_fleet::FleetStatus) -> String {
    let holding: Vec<String> = status.holding().iter().map(u64::to_string).collect();
    format!(
        r#"{{"shared":{},"fleet_size":{},"holding":[{}],"scheduled_fetches":{},"early_fetches":{},"fallback_fetches":{},"fenced_writes":{},"store_failures":{}}}"#,
        status.is_shared(),
        status.fleet_size(),
        holding.join(","),
        status.scheduled_fetches(),
        status.early_fetches(),
        status.fallback_fetches(),
        status.fenced_writes(),
        status.store_failures(),
    )
}

/// Beyond `TIM_MAX_IN_FLIGHT`, for a callback whose answer does not decide: 503, counted.
fn overloaded(shared: &Shared) -> Response {
    shared
        .stats
        .count_fallback(FallbackReason::Overloaded, false);
    plain(
        StatusCode::SERVICE_UNAVAILABLE,
        "too many requests in flight\n",
    )
}

async fn stamp(mut request: Request) -> Request {
    request.extensions_mut().insert(Arrived(Instant::now()));
    request
}

/// The Prometheus text of every counter, from the recorder the gateway installs once per process
/// (`None` when another recorder was installed first).
fn prometheus() -> Option<&'static metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Installs the gateway's metrics recorder, when no other is installed: call it at start so that
/// counters from the first request on are recorded.
pub fn install_metrics() -> bool {
    prometheus().is_some()
}

async fn metrics() -> Response {
    match prometheus() {
        Some(handle) => {
            let mut response = Response::new(Body::from(handle.render()));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            response
        }
        None => plain(
            StatusCode::NOT_FOUND,
            "another metrics recorder is installed in this process\n",
        ),
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
}

fn json(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Which kind of callback, for its deadline, its OK reply and its fallback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A Chat or Live callback whose reply decides (a before-callback).
    Decides,
    /// A Chat or Live callback whose reply Tencent ignores, or an unknown command.
    Notice,
    /// A TRTC event.
    Trtc,
}

impl Shared {
    fn upstream(&self, app: Option<u64>) -> Option<&Arc<Upstream>> {
        app.and_then(|a| self.upstreams.get(&a))
            .or(self.default_upstream.as_ref())
    }

    /// The gateway's own answer, counted and logged.
    fn fallback(&self, kind: Kind, reason: FallbackReason) -> Response {
        let upstream_failed = matches!(
            reason,
            FallbackReason::Timeout
                | FallbackReason::Unreachable
                | FallbackReason::Status
                | FallbackReason::Garbage
        );
        self.stats.count_fallback(reason, upstream_failed);
        match kind {
            Kind::Decides => {
                let reply = match self.fallback {
                    Fallback::Allow => Reply::ok(),
                    Fallback::Forbid => Reply::forbid(),
                };
                json(StatusCode::OK, reply.to_json())
            }
            Kind::Notice | Kind::Trtc => {
                let status = if reason == FallbackReason::Timeout {
                    StatusCode::GATEWAY_TIMEOUT
                } else {
                    StatusCode::BAD_GATEWAY
                };
                plain(status, "the upstream could not answer\n")
            }
        }
    }
}

/// What is forwarded for one callback.
struct Forward<'a> {
    kind: Kind,
    arrived: Instant,
    app: Option<u64>,
    /// The command (Chat, Live) or `TRTC.<group>.<type>`, for the id.
    command: String,
    verified: bool,
    facts: Vec<(&'static str, String)>,
    query: String,
    parts: &'a http::request::Parts,
    body: Bytes,
}

/// A Chat or Live callback, after the layer verified it.
async fn chat(shared: Arc<Shared>, request: Request) -> Response {
    let Some(verified) = request.extensions().get::<VerifiedCallback>().copied() else {
        // Not behind the layer: a deployment mistake, refused.
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "not verified\n");
    };
    let arrived = arrived(&request);
    let in_query = match query::command(request.uri().query()) {
        Ok(command) => command.map(str::to_owned),
        Err(error) => return plain_error(&shared, error.kind()),
    };
    let early = if in_query.as_deref().is_some_and(decides) {
        Kind::Decides
    } else {
        Kind::Notice
    };
    // Verified: it may hold one of the Chat slots. A before-callback beyond them gets the
    // fallback policy's answer, not a failure Tencent would count as "allow".
    let Ok(_permit) = Arc::clone(&shared.chat_in_flight).try_acquire_owned() else {
        if early == Kind::Decides {
            return shared.fallback(early, FallbackReason::Overloaded);
        }
        return overloaded(&shared);
    };
    let (parts, body) = request.into_parts();
    // The body by the time the gateway must answer itself: a before-callback whose body
    // trickles in gets the fallback policy's answer in time.
    let left = CHAT_DEADLINE
        .saturating_sub(arrived.elapsed())
        .saturating_sub(HEADROOM);
    let read = tokio::time::timeout(left, axum::body::to_bytes(body, shared.body_limit));
    let body = match read.await {
        Ok(Ok(body)) => body,
        Err(_) if early == Kind::Decides => return shared.fallback(early, FallbackReason::TooSlow),
        Err(_) => {
            shared.stats.count_fallback(FallbackReason::TooSlow, false);
            return plain(
                StatusCode::REQUEST_TIMEOUT,
                "the body was not sent in time\n",
            );
        }
        Ok(Err(_)) if early == Kind::Decides => {
            return shared.fallback(early, FallbackReason::Unreadable)
        }
        Ok(Err(_)) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the body could not be read within the limit\n",
            )
        }
    };
    let command = match command_of(parts.uri.query(), &body) {
        Ok(command) => command,
        Err(_) if early == Kind::Decides => {
            return shared.fallback(early, FallbackReason::Unreadable)
        }
        Err(error) => return plain_error(&shared, error.kind()),
    };
    let kind = if decides(&command) {
        Kind::Decides
    } else {
        Kind::Notice
    };
    let unverified = verified.authentication_disabled();
    if unverified && !shared.forward_unverified {
        return shared.fallback(kind, FallbackReason::Unverified);
    }
    let app = Some(verified.app_id()).filter(|&a| a != 0);
    let mut facts = vec![("x-tim-command", command.clone())];
    if let Some(app) = app {
        facts.push(("x-tim-app-id", app.to_string()));
    }
    if let Some(time) = verified.request_time() {
        facts.push(("x-tim-request-time", time.to_string()));
    }
    facts.push((
        "x-tim-verified",
        if unverified { "unverified" } else { "sign" }.to_owned(),
    ));
    facts.push((
        "x-tim-previous-key",
        u8::from(verified.previous_token()).to_string(),
    ));
    let query = forward::upstream_query(parts.uri.query(), app, Some(&command));
    let forward = Forward {
        kind,
        arrived,
        app,
        command,
        verified: !unverified,
        facts,
        query,
        parts: &parts,
        body,
    };
    send(&shared, forward).await
}

/// Whether a command's reply decides: the typed callbacks' list, and any command named like a
/// before-callback (`.CallbackBefore…`, `.CallbackPrev…`) that the list does not have yet, so
/// that `forbid` fails closed for a command Tencent adds too.
fn decides(command: &str) -> bool {
    Event::decides(command)
        || command.split_once('.').is_some_and(|(_, name)| {
            name.starts_with("CallbackBefore") || name.starts_with("CallbackPrev")
        })
}

/// A TRTC event, after the layer verified its body.
async fn trtc(shared: Arc<Shared>, request: Request) -> Response {
    let Some(event) = request.extensions().get::<VerifiedTrtcEvent>().copied() else {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "not verified\n");
    };
    let arrived = arrived(&request);
    let (parts, body) = request.into_parts();
    // The layer read it within the limit already: these are the verified bytes.
    let Ok(body) = axum::body::to_bytes(body, shared.body_limit).await else {
        return shared.fallback(Kind::Trtc, FallbackReason::Unreadable);
    };
    let name = format!("{}.{}", event.event_group_id(), event.event_type());
    let facts = vec![
        ("x-tim-trtc-event", name.clone()),
        ("x-tim-app-id", event.app_id().to_string()),
        ("x-tim-request-time", event.callback_ts_ms().to_string()),
        ("x-tim-verified", "trtc-sign".to_owned()),
        (
            "x-tim-previous-key",
            u8::from(event.signed_with_previous_key()).to_string(),
        ),
    ];
    // Fleet-wide, a retry another instance's upstream already answered is answered here (the
    // layer's own memory covers this instance); remembered only after an upstream 2xx, so that
    // an event whose upstream failed reaches it again on Tencent's retry.
    let retry = shared.retry.clone().map(|store| {
        let sign = parts.headers.get("sign").map_or(&b""[..], |v| v.as_bytes());
        let key = tim_callback_fleet::retry_key(
            event.app_id(),
            sign,
            parts.method.as_str(),
            parts.uri.path(),
        );
        (store, key)
    });
    if let Some((store, key)) = &retry {
        // Bounded: an unreachable Redis must not eat TRTC's deadline (the layer's own memory
        // still answers this instance's retries).
        let lookup = tokio::time::timeout(RETRY_LOOKUP, store.answered(key)).await;
        if let Ok(Ok(true)) = lookup {
            shared.stats.count_retry_answered();
            return json(StatusCode::OK, Reply::trtc_ok().to_json());
        }
    }
    let query = forward::upstream_query(parts.uri.query(), None, None);
    let forward = Forward {
        kind: Kind::Trtc,
        arrived,
        app: Some(event.app_id()),
        command: format!("TRTC.{name}"),
        verified: true,
        facts,
        query,
        parts: &parts,
        body,
    };
    let response = send(&shared, forward).await;
    if let Some((store, key)) = retry {
        if response.status().is_success() {
            // Off the response's path.
            tokio::spawn(async move {
                if let Err(e) = store.remember(&key, RETRY_MEMORY).await {
                    tracing::debug!(error = %e, "the fleet's retry memory could not be written");
                }
            });
        }
    }
    response
}

fn arrived(request: &Request) -> Instant {
    request
        .extensions()
        .get::<Arrived>()
        .map_or_else(Instant::now, |a| a.0)
}

/// A refusal for a callback the gateway cannot read (not a before-callback): 400.
fn plain_error(_shared: &Shared, kind: tim_callback_events::ErrorKind) -> Response {
    tracing::debug!(reason = ?kind, "callback refused: its command cannot be read");
    plain(
        StatusCode::BAD_REQUEST,
        "the callback's command cannot be read\n",
    )
}

/// Signs and sends one callback, and answers Tencent with the upstream's reply or the fallback.
async fn send(shared: &Shared, forward: Forward<'_>) -> Response {
    let kind = forward.kind;
    let Some(upstream) = shared.upstream(forward.app) else {
        // Configuration makes this impossible (every app has an upstream); fail closed.
        return shared.fallback(kind, FallbackReason::Unreachable);
    };
    let deadline = if kind == Kind::Trtc {
        TRTC_DEADLINE
    } else {
        CHAT_DEADLINE
    };
    let left = deadline
        .saturating_sub(forward.arrived.elapsed())
        .saturating_sub(HEADROOM);
    let budget = shared.timeout.min(left);
    if budget.is_zero() {
        return shared.fallback(kind, FallbackReason::Deadline);
    }
    let id = sign::webhook_id(
        forward.app,
        &forward.command,
        &forward.body,
        forward.verified,
    );
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // An unverified callback is signed with its own secret: a backend that knows only the
    // verified one refuses it.
    let secrets = if forward.verified {
        &upstream.secrets
    } else {
        match &shared.unverified {
            Some(secrets) => secrets,
            None => return shared.fallback(kind, FallbackReason::Unverified),
        }
    };
    let signature = secrets.sign(&id, timestamp, &forward.body);
    let peer = forward
        .parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let mut headers = forward::upstream_headers(&forward.parts.headers, peer);
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(name, value);
        }
    };
    // The gateway reads the reply as it comes: no compressed answer.
    set("accept-encoding", "identity".to_owned());
    set("webhook-id", id);
    set("webhook-timestamp", timestamp.to_string());
    set("webhook-signature", signature);
    for (name, value) in forward.facts {
        set(name, value);
    }
    let url = with_query(&upstream.url, &forward.query);
    let request = shared
        .client
        .request(forward.parts.method.clone(), url)
        .headers(headers)
        .body(forward.body);
    let call = async {
        let mut response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            // Not read: a failing upstream's slow body must not eat the budget.
            return Ok((status, None));
        }
        let mut reply = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if reply.len() + chunk.len() > REPLY_LIMIT {
                return Ok((status, None));
            }
            reply.extend_from_slice(&chunk);
        }
        Ok::<_, reqwest::Error>((status, Some(reply)))
    };
    let (status, reply) = match tokio::time::timeout(budget, call).await {
        Err(_) => return shared.fallback(kind, FallbackReason::Timeout),
        Ok(Err(_)) => return shared.fallback(kind, FallbackReason::Unreachable),
        Ok(Ok(answer)) => answer,
    };
    if !status.is_success() {
        return shared.fallback(kind, FallbackReason::Status);
    }
    let Some(reply) = reply else {
        return shared.fallback(kind, FallbackReason::Garbage);
    };
    if reply.iter().all(u8::is_ascii_whitespace) {
        shared.stats.count_forwarded(true);
        let ok = if kind == Kind::Trtc {
            Reply::trtc_ok()
        } else {
            Reply::ok()
        };
        return json(StatusCode::OK, ok.to_json());
    }
    let is_object =
        serde_json::from_slice::<serde_json::Value>(&reply).is_ok_and(|v| v.is_object());
    if !is_object {
        return shared.fallback(kind, FallbackReason::Garbage);
    }
    if kind != Kind::Trtc {
        if let Err(invalid) = check_reply(&forward.command, &reply) {
            shared
                .stats
                .count_invalid_reply(&forward.command, invalid.reason());
        }
    }
    shared.stats.count_forwarded(false);
    json(StatusCode::OK, reply)
}

/// The upstream's URL with the rebuilt query added to its own.
fn with_query(url: &http::Uri, query: &str) -> String {
    let base = url.to_string();
    match (query.is_empty(), url.query().is_some()) {
        (true, _) => base,
        (false, true) => format!("{base}&{query}"),
        (false, false) => format!("{base}?{query}"),
    }
}
