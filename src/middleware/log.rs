//! [`RejectionLog`]: rejection log lines that a forged flood cannot turn into a log flood.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::verify::Rejection;

/// At most one `WARN` line per rejection reason per second (of the layer's clock), carrying the
/// number of lines of that reason it stood for since the previous one; every other rejection is
/// logged at `DEBUG`. The counters ([`CallbackStats`](crate::CallbackStats), metrics) stay exact:
/// only the log is thinned. Lock-free and allocation-free: two atomics per reason.
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

impl Clone for RejectionLog {
    /// A fresh limiter: a reconfigured layer starts its own seconds.
    fn clone(&self) -> Self {
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
