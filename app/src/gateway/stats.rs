//! The gateway's counters: what it forwarded, what it answered itself and why, and whether the
//! upstream has been answering. Each is also a `metrics` counter (`/metrics`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Why the gateway answered Tencent itself instead of with the upstream's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FallbackReason {
    /// The upstream did not answer within its budget.
    Timeout,
    /// The upstream could not be reached (refused, reset, DNS).
    Unreachable,
    /// The upstream answered with a status other than 2xx.
    Status,
    /// The upstream answered 2xx with a body that is not a JSON object.
    Garbage,
    /// Tencent's deadline left no budget for the upstream (a slow token refresh, a slow body).
    Deadline,
    /// The app's callback authentication is off, and `TIM_FORWARD_UNVERIFIED` is not `1`.
    Unverified,
    /// The callback's body or command could not be read (too large, malformed, commands that
    /// disagree): for a before-callback, answered by the fallback policy.
    Unreadable,
    /// `TIM_MAX_IN_FLIGHT` callbacks of its kind were in flight already: a before-callback gets
    /// the fallback policy's answer, anything else 503 at once (memory stays bounded; Tencent
    /// retries).
    Overloaded,
    /// The request was not done by Tencent's deadline (a body sent slowly): a before-callback
    /// gets the fallback policy's answer, anything else 408.
    TooSlow,
}

impl FallbackReason {
    /// Every reason, in counter order.
    pub const ALL: [FallbackReason; 9] = [
        Self::Timeout,
        Self::Unreachable,
        Self::Status,
        Self::Garbage,
        Self::Deadline,
        Self::Unverified,
        Self::Unreadable,
        Self::Overloaded,
        Self::TooSlow,
    ];

    /// The label in logs and metrics: `timeout`, `unreachable`, `status`, `garbage`, `deadline`,
    /// `unverified`, `unreadable`, `overloaded`, `too_slow`.
    pub const fn label(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::Status => "status",
            Self::Garbage => "garbage",
            Self::Deadline => "deadline",
            Self::Unverified => "unverified",
            Self::Unreadable => "unreadable",
            Self::Overloaded => "overloaded",
            Self::TooSlow => "too_slow",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Default)]
struct Counters {
    forwarded: AtomicU64,
    empty_ok: AtomicU64,
    invalid_replies: AtomicU64,
    retries_answered: AtomicU64,
    fallbacks: [AtomicU64; FallbackReason::ALL.len()],
    logged: [AtomicU64; FallbackReason::ALL.len()],
    consecutive_failures: AtomicU64,
    /// Unix seconds of the last answer from the upstream (0: none yet).
    last_success: AtomicU64,
}

/// The gateway's counters (a cheap handle: clones share them).
#[derive(Clone, Debug, Default)]
pub struct GatewayStats(Arc<Counters>);

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl GatewayStats {
    /// Callbacks whose answer came from the upstream (including an empty 2xx, answered with the
    /// kind's OK reply).
    pub fn forwarded(&self) -> u64 {
        self.0.forwarded.load(Ordering::Relaxed)
    }

    /// Upstream answers that were 2xx with an empty body, answered to Tencent with the kind's OK
    /// reply (an empty body is a failed callback at Tencent).
    pub fn empty_replies(&self) -> u64 {
        self.0.empty_ok.load(Ordering::Relaxed)
    }

    /// Upstream replies passed on although they are not valid for their command
    /// ([`check_reply`](tim_callback_events::check_reply)): Tencent ignores or misreads them.
    pub fn invalid_replies(&self) -> u64 {
        self.0.invalid_replies.load(Ordering::Relaxed)
    }

    /// TRTC retries answered from the fleet's memory (`TIM_REDIS_URL`): another instance's
    /// upstream answered the event already.
    pub fn retries_answered(&self) -> u64 {
        self.0.retries_answered.load(Ordering::Relaxed)
    }

    pub(crate) fn count_retry_answered(&self) {
        self.0.retries_answered.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("tim_gateway_retries_answered_total").increment(1);
    }

    /// Callbacks the gateway answered itself, for `reason`.
    pub fn fallbacks(&self, reason: FallbackReason) -> u64 {
        self.0.fallbacks[reason.index()].load(Ordering::Relaxed)
    }

    /// Upstream calls that failed in a row (0 after an answer).
    pub fn consecutive_failures(&self) -> u64 {
        self.0.consecutive_failures.load(Ordering::Relaxed)
    }

    /// Seconds since the upstream last answered (`None`: not yet).
    pub fn seconds_since_success(&self) -> Option<u64> {
        match self.0.last_success.load(Ordering::Relaxed) {
            0 => None,
            at => Some(unix_now().saturating_sub(at)),
        }
    }

    pub(crate) fn count_forwarded(&self, empty: bool) {
        self.0.forwarded.fetch_add(1, Ordering::Relaxed);
        self.0.consecutive_failures.store(0, Ordering::Relaxed);
        self.0
            .last_success
            .store(unix_now().max(1), Ordering::Relaxed);
        metrics::counter!("tim_gateway_forwarded_total").increment(1);
        if empty {
            self.0.empty_ok.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("tim_gateway_empty_replies_total").increment(1);
        }
    }

    pub(crate) fn count_invalid_reply(&self, command: &str, why: &str) {
        self.0.invalid_replies.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("tim_gateway_invalid_replies_total").increment(1);
        tracing::warn!(
            command,
            why,
            "the upstream's reply is not valid for its command; passed on"
        );
    }

    /// Counts a fallback, and logs it at most once per reason per second.
    pub(crate) fn count_fallback(&self, reason: FallbackReason, upstream_failed: bool) {
        self.0.fallbacks[reason.index()].fetch_add(1, Ordering::Relaxed);
        if upstream_failed {
            self.0.consecutive_failures.fetch_add(1, Ordering::Relaxed);
        }
        metrics::counter!("tim_gateway_fallbacks_total", "reason" => reason.label()).increment(1);
        let now = unix_now() + 1;
        let last = &self.0.logged[reason.index()];
        let previous = last.load(Ordering::Relaxed);
        if previous != now
            && last
                .compare_exchange(previous, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                reason = reason.label(),
                total = self.fallbacks(reason),
                "the gateway answered tencent itself (logged once a second per reason)"
            );
        }
    }

    /// The `upstream` member of the detailed health document.
    pub(crate) fn to_json(&self) -> String {
        let fallbacks: Vec<String> = FallbackReason::ALL
            .iter()
            .map(|r| format!(r#""{}":{}"#, r.label(), self.fallbacks(*r)))
            .collect();
        format!(
            r#"{{"forwarded":{},"empty_replies":{},"invalid_replies":{},"retries_answered":{},"consecutive_failures":{},"seconds_since_success":{},"fallbacks":{{{}}}}}"#,
            self.forwarded(),
            self.empty_replies(),
            self.invalid_replies(),
            self.retries_answered(),
            self.consecutive_failures(),
            self.seconds_since_success()
                .map_or_else(|| "null".to_owned(), |s| s.to_string()),
            fallbacks.join(",")
        )
    }
}
