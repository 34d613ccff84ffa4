//! [`Stats`]: what the router and the extractor did, counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::ErrorKind;

const KINDS: usize = ErrorKind::ALL.len();

/// Counters shared by clones (one `Arc`): requests dispatched to a handler, answered by default
/// (no handler for the command), refused per reason, and answered by the
/// [`UnreadableBody`](crate::UnreadableBody) policy per reason.
///
/// ```
/// use tim_callback_events::{ErrorKind, Stats};
///
/// let stats = Stats::new();
/// assert_eq!((stats.dispatched(), stats.defaulted(), stats.refused(ErrorKind::Malformed)), (0, 0, 0));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Stats(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    dispatched: AtomicU64,
    defaulted: AtomicU64,
    refused: [AtomicU64; KINDS],
    by_policy: [AtomicU64; KINDS],
}

impl Stats {
    /// New counters, all zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Callbacks given to a handler (a typed route, or the fallback).
    pub fn dispatched(&self) -> u64 {
        self.0.dispatched.load(Ordering::Relaxed)
    }

    /// Callbacks of a command without a handler, answered `{"ErrorCode":0}` unread.
    pub fn defaulted(&self) -> u64 {
        self.0.defaulted.load(Ordering::Relaxed)
    }

    /// Callbacks refused with a non-200 for `kind`.
    pub fn refused(&self, kind: ErrorKind) -> u64 {
        self.0.refused[kind.index()].load(Ordering::Relaxed)
    }

    /// Before-callbacks whose body could not be read for `kind`, answered by the policy (200).
    pub fn answered_by_policy(&self, kind: ErrorKind) -> u64 {
        self.0.by_policy[kind.index()].load(Ordering::Relaxed)
    }

    pub(crate) fn count_dispatched(&self) {
        self.0.dispatched.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_defaulted(&self) {
        self.0.defaulted.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_refused(&self, kind: ErrorKind) {
        self.0.refused[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_by_policy(&self, kind: ErrorKind) {
        self.0.by_policy[kind.index()].fetch_add(1, Ordering::Relaxed);
    }
}

/// The second each reason was last logged in (process-wide: the log is what is rate-limited).
static LAST_LOGGED: [AtomicU64; KINDS] = [const { AtomicU64::new(0) }; KINDS];

/// Whether a line for `kind` may be logged now: at most once per reason per second.
pub(crate) fn may_log(kind: ErrorKind) -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 1;
    let last = &LAST_LOGGED[kind.index()];
    let previous = last.load(Ordering::Relaxed);
    previous != now
        && last
            .compare_exchange(previous, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_logged_once_per_second() {
        // Another test may have logged this second already: at most one `true` from here on.
        let logged = (0..100).filter(|_| may_log(ErrorKind::BodyRead)).count();
        assert!(logged <= 1);
        let stats = Stats::new();
        let clone = stats.clone();
        clone.count_refused(ErrorKind::TooLarge);
        clone.count_by_policy(ErrorKind::Malformed);
        clone.count_dispatched();
        clone.count_defaulted();
        assert_eq!(stats.refused(ErrorKind::TooLarge), 1);
        assert_eq!(stats.refused(ErrorKind::Malformed), 0);
        assert_eq!(stats.answered_by_policy(ErrorKind::Malformed), 1);
        assert_eq!((stats.dispatched(), stats.defaulted()), (1, 1));
    }
}
