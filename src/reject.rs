//! The one rejection path both middlewares use: the clock they read, the rate-limited log, the
//! response policy ([`RejectionResponse`], [`DefaultRejection`]) and [`reject`], which counts a
//! rejection, logs it, builds its response and puts the [`Rejection`] in the response's extensions.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{header, HeaderValue, Response, StatusCode};

use crate::stats::Counters;
use crate::verify::Rejection;

/// Where a layer reads the time: the system clock, or the one given to its `with_clock`. Read once
/// per request (and once more when a TRTC event's answer is remembered).
#[derive(Clone)]
pub(crate) enum Clock {
    System,
    Custom(Arc<dyn Fn() -> SystemTime + Send + Sync>),
}

impl Clock {
    pub(crate) fn custom(clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Clock::Custom(Arc::new(clock))
    }

    #[inline]
    fn since_epoch(&self) -> std::time::Duration {
        let now = match self {
            Clock::System => SystemTime::now(),
            Clock::Custom(f) => f(),
        };
        // A clock before 1970 reads as 0: every request is then "from the future" and rejected.
        now.duration_since(UNIX_EPOCH).unwrap_or_default()
    }

    /// Unix seconds.
    #[inline]
    pub(crate) fn unix_secs(&self) -> u64 {
        self.since_epoch().as_secs()
    }

    /// Unix milliseconds.
    #[cfg_attr(not(feature = "trtc"), allow(dead_code))]
    #[inline]
    pub(crate) fn unix_millis(&self) -> u64 {
        u64::try_from(self.since_epoch().as_millis()).unwrap_or(u64::MAX)
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Clock::System => "system",
            Clock::Custom(_) => "custom",
        })
    }
}

/// Builds the HTTP response for a rejected callback.
///
/// Implemented by [`DefaultRejection`] (401/503 with a fixed JSON body) and by any
/// `Fn(Rejection) -> Response<B>` closure, for example Tencent's "forbid" reply for
/// before-callbacks: `|_| Reply::forbid().into_response()`. The layer adds the [`Rejection`] to the
/// response's extensions after calling it, so outer layers can log it.
///
/// The response should not echo anything from the request: the query carries the `Sign`.
pub trait RejectionResponse<B> {
    /// The response for `rejection`.
    fn response(&self, rejection: Rejection) -> Response<B>;

    /// The answer the [TRTC layer](crate::trtc::TrtcCallbackAuthLayer) gives itself to a retry of
    /// an event the handler already answered with a 2xx. `None` (the default, and a closure's):
    /// the layer answers no retry itself, and every retry reaches the handler.
    /// [`DefaultRejection`] answers `200 {"code":0}`, as [`Reply::trtc_ok`](crate::Reply::trtc_ok).
    fn retry_answered(&self) -> Option<Response<B>> {
        None
    }
}

impl<B, F> RejectionResponse<B> for F
where
    F: Fn(Rejection) -> Response<B>,
{
    fn response(&self, rejection: Rejection) -> Response<B> {
        self(rejection)
    }
}

/// The default answer: `401 Unauthorized` (`403 Forbidden` for a source outside the allowlist or
/// unknown; `503 Service Unavailable` while no token or no allowlist is loaded; for TRTC events,
/// `413 Payload Too Large` for a body over the limit and `400 Bad Request` for an unreadable or
/// malformed one) with
/// `Content-Type: application/json` and a fixed body in Tencent's reply shape,
/// `{"ActionStatus":"FAIL","ErrorCode":1,"ErrorInfo":"callback authentication failed"}`. A retry of
/// a TRTC event already answered gets `200 {"code":0}`.
///
/// Tencent treats a non-200 answer as a failed callback. For a before-callback that means the
/// default (delivering the message) may apply; to actively block it instead, answer with Tencent's
/// "forbid" reply: `with_rejection_response(|_| Reply::forbid().into_response())`.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct DefaultRejection;

impl DefaultRejection {
    /// The default answer.
    pub const fn new() -> Self {
        Self
    }
}

const FAILED_BODY: &str =
    r#"{"ActionStatus":"FAIL","ErrorCode":1,"ErrorInfo":"callback authentication failed"}"#;
const UNAVAILABLE_BODY: &str =
    r#"{"ActionStatus":"FAIL","ErrorCode":1,"ErrorInfo":"callback authentication unavailable"}"#;

/// `status` with a fixed JSON body (no allocation for bodies made from a `&'static str`).
fn json_response<B: From<&'static str>>(status: StatusCode, body: &'static str) -> Response<B> {
    let mut response = Response::new(B::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl<B: From<&'static str>> RejectionResponse<B> for DefaultRejection {
    fn response(&self, rejection: Rejection) -> Response<B> {
        match rejection {
            Rejection::TokenUnavailable | Rejection::AllowlistUnavailable => {
                json_response(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_BODY)
            }
            Rejection::SourceNotAllowed | Rejection::UnknownSource => {
                json_response(StatusCode::FORBIDDEN, FAILED_BODY)
            }
            Rejection::BodyTooLarge => json_response(StatusCode::PAYLOAD_TOO_LARGE, FAILED_BODY),
            Rejection::UnreadableBody | Rejection::MalformedEvent => {
                json_response(StatusCode::BAD_REQUEST, FAILED_BODY)
            }
            _ => json_response(StatusCode::UNAUTHORIZED, FAILED_BODY),
        }
    }

    fn retry_answered(&self) -> Option<Response<B>> {
        Some(json_response(StatusCode::OK, crate::reply::TRTC_OK))
    }
}

/// Counts `rejection` on `counters`, logs it (rate-limited, see [`RejectionLog`]) and answers it
/// with `policy`, the [`Rejection`] in the response's extensions. `now_secs` is the request's clock
/// reading; `details` is called only when a line is written at an enabled level.
#[inline(never)]
pub(crate) fn reject<'a, R, B>(
    policy: &R,
    log: &RejectionLog,
    counters: &Counters,
    rejection: Rejection,
    now_secs: u64,
    app: Option<u64>,
    details: impl FnOnce() -> Details<'a>,
) -> Response<B>
where
    R: RejectionResponse<B> + ?Sized,
{
    counters.record(Err(rejection));
    log.record(rejection, now_secs, app, details);
    let mut response = policy.response(rejection);
    response.extensions_mut().insert(rejection);
    response
}

/// Rejection log lines that a forged flood cannot turn into a log flood.
///
/// At most one `WARN` line per rejection reason per second (of the layer's clock), carrying the
/// number of lines of that reason it stood for since the previous one; every other rejection is
/// logged at `DEBUG`. The counters ([`CallbackStats`](crate::CallbackStats), metrics) stay exact:
/// only the log is thinned. Lock-free and allocation-free: two atomics per reason. Runtime state of
/// a layer: not `Clone` (a layer and its clones share one).
#[derive(Debug)]
pub(crate) struct RejectionLog {
    /// Per reason: the second (plus one; 0 is "never") of the last `WARN` line.
    last_warn: [AtomicU64; Rejection::ALL.len()],
    /// Per reason: rejections logged at `DEBUG` since the last `WARN` line.
    suppressed: [AtomicU64; Rejection::ALL.len()],
}

/// What a rejection's log line says besides the reason and the app: never the `Sign`, the token or
/// the query.
pub(crate) struct Details<'a> {
    /// The callback command, when it looks like one.
    pub(crate) command: &'a str,
    /// For a stale or future request, its `RequestTime` minus now, in seconds.
    pub(crate) skew_secs: Option<i64>,
    /// For a source rejection, the address the request came from (public information).
    pub(crate) source: Option<IpAddr>,
}

impl Default for RejectionLog {
    fn default() -> Self {
        Self::new()
    }
}

impl RejectionLog {
    pub(crate) fn new() -> Self {
        Self {
            last_warn: Default::default(),
            suppressed: Default::default(),
        }
    }

    /// Logs one rejection at Unix second `now`. `details` is called only when a line is written
    /// at a level that is enabled.
    pub(crate) fn record<'a>(
        &self,
        rejection: Rejection,
        now: u64,
        app: Option<u64>,
        details: impl FnOnce() -> Details<'a>,
    ) {
        let i = rejection.index();
        if self.admit(i, now) {
            let suppressed = self.suppressed[i].swap(0, Ordering::Relaxed);
            let d = details();
            tracing::warn!(
                reason = %rejection,
                app,
                command = d.command,
                skew_secs = d.skew_secs,
                source = d.source.map(tracing::field::display),
                suppressed,
                "rejected tencent callback"
            );
        } else {
            self.suppressed[i].fetch_add(1, Ordering::Relaxed);
            if tracing::enabled!(tracing::Level::DEBUG) {
                let d = details();
                tracing::debug!(
                    reason = %rejection,
                    app,
                    command = d.command,
                    skew_secs = d.skew_secs,
                    source = d.source.map(tracing::field::display),
                    "rejected tencent callback"
                );
            }
        }
    }

    /// Whether reason `i` may have its `WARN` line at second `now`: the first time a later second
    /// than any before is seen.
    fn admit(&self, i: usize, now: u64) -> bool {
        // Seconds only move forward here: a request logged with an older clock reading (one that
        // waited for a refresh, or a clock stepped back) never earns a second line for its second.
        let stamp = now.saturating_add(1);
        let mut last = self.last_warn[i].load(Ordering::Relaxed);
        loop {
            if stamp <= last {
                break false;
            }
            match self.last_warn[i].compare_exchange_weak(
                last,
                stamp,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break true,
                Err(seen) => last = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_reason_per_second_and_seconds_never_go_back() {
        let log = RejectionLog::new();
        let admitted: Vec<bool> = [10, 10, 9, 10, 9, 11, 11, 10, u64::MAX, u64::MAX]
            .iter()
            .map(|&now| log.admit(0, now))
            .collect();
        assert_eq!(
            admitted,
            [true, false, false, false, false, true, false, false, true, false]
        );
        // Each reason has its own second.
        assert!(log.admit(1, 10));
    }
}
