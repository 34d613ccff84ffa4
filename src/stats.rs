//! Per-app counters of what the layer decided, read as a [`CallbackStats`] snapshot and mirrored
//! to the `metrics` facade with the `metrics` feature.
//!
//! Every request of every core writes its app's counters, so a single atomic per counter would
//! bounce one cache line between the cores of a busy server. Each app has eight copies of its
//! counters instead, each on its own cache line; a thread always writes the same stripe and a
//! snapshot sums them. Writes stay allocation-free relaxed increments; reads cost a few hundred
//! loads, which only [`CallbackStats`] snapshots pay.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::handle::TokenHandle;
use crate::verify::{Rejection, Verified};

/// Copies of each app's counters: enough that the threads of a usual server rarely share one.
const STRIPES: usize = 8;

/// One copy of an app's counters, alone on its cache line(s).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe {
    accepted: [AtomicU64; 3],
    rejected: [AtomicU64; Rejection::ALL.len()],
    retries_answered: AtomicU64,
}

/// The stripe this thread writes: threads take stripes in turn as they first count something.
fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    STRIPE.with(|s| *s)
}

/// Counters of one app (or of a single-app layer).
#[derive(Debug)]
pub(crate) struct Counters {
    app_id: Option<u64>,
    stripes: Box<[Stripe; STRIPES]>,
    #[cfg(feature = "metrics")]
    metrics: metrics_handles::Handles,
}

/// Which layer the counters belong to: the metric names differ, the counters do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// Chat/Live callbacks (`Sign` in the query).
    Chat,
    /// TRTC event callbacks (HMAC over the body).
    #[cfg_attr(not(feature = "trtc"), allow(dead_code))]
    Trtc,
}

impl Counters {
    pub(crate) fn new(app_id: Option<u64>) -> Self {
        Self::for_scheme(app_id, Scheme::Chat)
    }

    pub(crate) fn for_scheme(app_id: Option<u64>, scheme: Scheme) -> Self {
        #[cfg(not(feature = "metrics"))]
        let _ = scheme;
        Self {
            app_id,
            stripes: Box::default(),
            #[cfg(feature = "metrics")]
            metrics: metrics_handles::Handles::register(app_id, scheme),
        }
    }

    /// Counts a TRTC retry answered without calling the handler.
    #[cfg_attr(not(feature = "trtc"), allow(dead_code))]
    pub(crate) fn record_retry_answered(&self) {
        self.stripes[stripe()]
            .retries_answered
            .fetch_add(1, Ordering::Relaxed);
        #[cfg(feature = "metrics")]
        self.metrics.retries_answered.increment(1);
    }

    /// Counts one decision. A relaxed increment on this thread's stripe; no allocation.
    #[inline]
    pub(crate) fn record(&self, outcome: Result<Verified, Rejection>) {
        let stripe = &self.stripes[stripe()];
        match outcome {
            Ok(verified) => {
                let i = accepted_index(verified);
                stripe.accepted[i].fetch_add(1, Ordering::Relaxed);
                #[cfg(feature = "metrics")]
                self.metrics.accepted[i].increment(1);
            }
            Err(rejection) => {
                stripe.rejected[rejection.index()].fetch_add(1, Ordering::Relaxed);
                #[cfg(feature = "metrics")]
                self.metrics.rejected[rejection.index()].increment(1);
            }
        }
    }

    /// The counters, summed over the stripes, with whether authentication is on in the snapshot
    /// the app's handle holds (`None` before one is loaded).
    pub(crate) fn snapshot(&self, handle: Option<&TokenHandle>) -> CallbackStats {
        let mut accepted = [0; 3];
        let mut rejected = [0; Rejection::ALL.len()];
        let mut retries_answered = 0;
        for stripe in self.stripes.iter() {
            retries_answered += stripe.retries_answered.load(Ordering::Relaxed);
            for (sum, c) in accepted.iter_mut().zip(&stripe.accepted) {
                *sum += c.load(Ordering::Relaxed);
            }
            for (sum, c) in rejected.iter_mut().zip(&stripe.rejected) {
                *sum += c.load(Ordering::Relaxed);
            }
        }
        CallbackStats {
            app_id: self.app_id,
            authentication_enabled: handle.and_then(TokenHandle::load).map(|s| s.is_enabled()),
            accepted,
            rejected,
            retries_answered,
        }
    }
}

fn accepted_index(verified: Verified) -> usize {
    match verified {
        Verified::CurrentToken => 0,
        Verified::PreviousToken => 1,
        Verified::AuthenticationDisabled => 2,
    }
}

/// A point-in-time copy of the layer's counters for one app.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::{CallbackAuthLayer, Rejection, TokenHandle};
///
/// let layer = CallbackAuthLayer::new(TokenHandle::empty());
/// let stats = &layer.stats()[0];
/// assert_eq!(stats.accepted_total(), 0);
/// assert_eq!(stats.rejected(Rejection::TokenUnavailable), 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackStats {
    app_id: Option<u64>,
    authentication_enabled: Option<bool>,
    accepted: [u64; 3],
    rejected: [u64; Rejection::ALL.len()],
    retries_answered: u64,
}

impl CallbackStats {
    /// The app these counters belong to (`None` for a single-app layer without an app id check).
    pub fn app_id(&self) -> Option<u64> {
        self.app_id
    }

    /// Whether callback authentication is on for this app right now (`None` before a snapshot is
    /// loaded, and for the entry of callbacks that named no known app). `Some(false)`: callbacks
    /// are let through unverified.
    pub fn authentication_enabled(&self) -> Option<bool> {
        self.authentication_enabled
    }

    /// Callbacks accepted with the current token (for TRTC events: the current key).
    pub fn accepted_current(&self) -> u64 {
        self.accepted[0]
    }

    /// Callbacks accepted with the previous token, during a rotation's grace period (for TRTC
    /// events: the previous key, until it is retired).
    pub fn accepted_previous(&self) -> u64 {
        self.accepted[1]
    }

    /// Callbacks let through because authentication is disabled.
    pub fn accepted_disabled(&self) -> u64 {
        self.accepted[2]
    }

    /// All accepted callbacks.
    pub fn accepted_total(&self) -> u64 {
        self.accepted.iter().sum()
    }

    /// Callbacks rejected for `reason`.
    pub fn rejected(&self, reason: Rejection) -> u64 {
        self.rejected[reason.index()]
    }

    /// All rejected callbacks.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().sum()
    }

    /// TRTC events Tencent sent again after the handler had already answered them with a 2xx,
    /// answered `{"code":0}` by the layer without calling the handler (not counted in
    /// [`accepted_total`](Self::accepted_total)). Always 0 for Chat callbacks.
    pub fn retries_answered(&self) -> u64 {
        self.retries_answered
    }
}

/// The metric names, for dashboards and alerts.
pub mod names {
    /// Counter, labels `app`, `token` (`current`, `previous`, `disabled`).
    pub const ACCEPTED: &str = "tim_callback_accepted_total";
    /// Counter, labels `app`, `reason` (a [`Rejection::label`](crate::Rejection::label)).
    pub const REJECTED: &str = "tim_callback_rejected_total";
    /// Counter, labels `app`, `outcome` (`ok` or an [`ErrorKind::label`](crate::ErrorKind::label)).
    pub const REFRESHES: &str = "tim_callback_refreshes_total";
    /// Counter, label `app`: token rotations and switches of authentication on or off.
    pub const TOKEN_CHANGES: &str = "tim_callback_token_changes_total";
    /// Gauge, label `app`: Unix time of the last successful refresh (alert on
    /// `time() - tim_callback_last_refresh_success_timestamp_seconds`).
    pub const LAST_SUCCESS: &str = "tim_callback_last_refresh_success_timestamp_seconds";
    /// Gauge, label `app`: failed refreshes since the last success.
    pub const CONSECUTIVE_FAILURES: &str = "tim_callback_refresh_consecutive_failures";
    /// Gauge, label `app`: 1 while callback authentication is on, 0 while Tencent reports it off
    /// (callbacks are let through unverified): alert on 0.
    pub const AUTHENTICATION_ENABLED: &str = "tim_callback_authentication_enabled";
    /// Gauge: entries of the source allowlist an `AllowlistRefresher` keeps.
    pub const SOURCE_ALLOWLIST_ENTRIES: &str = "tim_callback_source_allowlist_entries";
    /// Gauge: failed refreshes of the source allowlist since the last success.
    pub const SOURCE_ALLOWLIST_FAILURES: &str =
        "tim_callback_source_allowlist_consecutive_failures";
    /// Gauge: Unix time of the last successful refresh of the source allowlist.
    pub const SOURCE_ALLOWLIST_LAST_SUCCESS: &str =
        "tim_callback_source_allowlist_last_success_timestamp_seconds";
    /// Counter, label `app`: switches of authentication from on to off.
    pub const AUTHENTICATION_DISABLES: &str = "tim_callback_authentication_disabled_total";
    /// Counter, labels `app`, `key` (`current`, `previous`): TRTC events accepted.
    pub const TRTC_ACCEPTED: &str = "tim_trtc_callback_accepted_total";
    /// Counter, labels `app`, `reason` (a [`Rejection::label`](crate::Rejection::label)): TRTC
    /// events rejected.
    pub const TRTC_REJECTED: &str = "tim_trtc_callback_rejected_total";
    /// Counter, label `app`: TRTC retries of an event already handled, answered by the layer.
    pub const TRTC_RETRIES_ANSWERED: &str = "tim_trtc_callback_retries_answered_total";
}

/// The `app` label value: the SDKAppID, or `default` for a single-app layer without one.
#[cfg(feature = "metrics")]
pub(crate) fn app_label(app_id: Option<u64>) -> String {
    app_id.map_or_else(|| "default".to_owned(), |id| id.to_string())
}

#[cfg(feature = "metrics")]
mod metrics_handles {
    use metrics::{counter, Counter};

    use super::{app_label, Scheme};
    use crate::stats::names;
    use crate::verify::Rejection;

    /// Counter handles registered once per app, so that counting allocates nothing.
    #[derive(Debug)]
    pub(super) struct Handles {
        pub(super) accepted: [Counter; 3],
        pub(super) rejected: [Counter; Rejection::ALL.len()],
        pub(super) retries_answered: Counter,
    }

    impl Handles {
        pub(super) fn register(app_id: Option<u64>, scheme: Scheme) -> Self {
            let app = app_label(app_id);
            match scheme {
                Scheme::Chat => Self {
                    accepted: ["current", "previous", "disabled"].map(
                        |token| counter!(names::ACCEPTED, "app" => app.clone(), "token" => token),
                    ),
                    rejected: Rejection::ALL.map(
                        |r| counter!(names::REJECTED, "app" => app.clone(), "reason" => r.label()),
                    ),
                    retries_answered: Counter::noop(),
                },
                Scheme::Trtc => Self {
                    // A TRTC key is never "disabled": that slot stays a no-op.
                    accepted: [
                        counter!(names::TRTC_ACCEPTED, "app" => app.clone(), "key" => "current"),
                        counter!(names::TRTC_ACCEPTED, "app" => app.clone(), "key" => "previous"),
                        Counter::noop(),
                    ],
                    rejected: Rejection::ALL.map(|r| {
                        counter!(names::TRTC_REJECTED, "app" => app.clone(), "reason" => r.label())
                    }),
                    retries_answered: counter!(names::TRTC_RETRIES_ANSWERED, "app" => app.clone()),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_each_outcome_in_its_own_counter() {
        let c = Counters::new(Some(7));
        c.record(Ok(Verified::CurrentToken));
        c.record(Ok(Verified::CurrentToken));
        c.record(Ok(Verified::PreviousToken));
        c.record(Ok(Verified::AuthenticationDisabled));
        c.record(Err(Rejection::Expired));
        c.record(Err(Rejection::TokenUnavailable));
        let s = c.snapshot(None);
        assert_eq!(s.app_id(), Some(7));
        assert_eq!(
            (
                s.accepted_current(),
                s.accepted_previous(),
                s.accepted_disabled()
            ),
            (2, 1, 1)
        );
        assert_eq!(s.rejected(Rejection::Expired), 1);
        assert_eq!(s.rejected(Rejection::TokenUnavailable), 1);
        assert_eq!(s.rejected(Rejection::SignatureMismatch), 0);
        assert_eq!((s.accepted_total(), s.rejected_total()), (4, 2));
    }

    #[test]
    fn counts_from_many_threads_are_summed_exactly() {
        let c = Counters::new(None);
        std::thread::scope(|scope| {
            for _ in 0..(2 * STRIPES + 1) {
                scope.spawn(|| {
                    for _ in 0..1000 {
                        c.record(Ok(Verified::CurrentToken));
                        c.record(Err(Rejection::Expired));
                    }
                });
            }
        });
        let s = c.snapshot(None);
        let threads = 2 * STRIPES as u64 + 1;
        assert_eq!(s.accepted_current(), 1000 * threads);
        assert_eq!(s.rejected(Rejection::Expired), 1000 * threads);
    }
}
