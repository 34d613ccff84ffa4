//! [`MissSignal`]: the refresh-on-miss channel from the layer to the refresher.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{watch, Notify};

/// A wait for a refresh triggered by a signature miss. Boxed, because it only exists on the rare
/// miss path and `watch::Receiver::wait_for` returns an unnameable future.
pub(crate) type RefreshWait = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The rate-limited channel from the layer (many readers) to the refresher (one task): the layer
/// asks through the [`TokenHandle`](crate::TokenHandle) it reads, the task and its
/// `TokenRefresher` hold it directly.
pub(crate) struct MissSignal {
    /// The refresher sleeps on this besides its schedule.
    pub(crate) wake: Notify,
    /// Generation of the latest request; the refresher serves all requests up to it in one fetch.
    requested: AtomicU64,
    /// Generation of the latest completed miss-triggered fetch.
    completed: watch::Sender<u64>,
    /// No request before this instant, in milliseconds since `epoch` (0: one may be made now).
    /// A request moves it to its own time plus the gap; the refresher may push it further
    /// ([`extend`](Self::extend)) after fetches that found nothing new.
    next_allowed_ms: AtomicU64,
    epoch: tokio::time::Instant,
    gap_ms: u64,
    wait: Duration,
    /// Set when the refresher is gone: nothing would serve a request, so none is made.
    closed: AtomicBool,
}

impl MissSignal {
    pub(crate) fn new(gap: Duration, wait: Duration) -> Self {
        Self {
            wake: Notify::new(),
            requested: AtomicU64::new(0),
            completed: watch::Sender::new(0),
            next_allowed_ms: AtomicU64::new(0),
            epoch: tokio::time::Instant::now(),
            gap_ms: u64::try_from(gap.as_millis()).unwrap_or(u64::MAX),
            wait,
            closed: AtomicBool::new(false),
        }
    }

    /// The refresher stopped: from now on signature misses are rejected at once instead of waiting
    /// for a fetch that would never come.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.completed.send_modify(|done| *done = u64::MAX);
    }

    /// The generation the refresher is about to serve.
    pub(crate) fn pending(&self) -> u64 {
        self.requested.load(Ordering::Acquire)
    }

    /// Marks every request up to `generation` as served.
    pub(crate) fn complete(&self, generation: u64) {
        self.completed.send_if_modified(|done| {
            let advance = generation > *done;
            if advance {
                *done = generation;
            }
            advance
        });
    }

    /// Milliseconds since this signal was created (tokio's clock, so paused time works).
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// Allows no request before `until_ms` (never moves the instant back).
    pub(crate) fn extend(&self, until_ms: u64) {
        self.next_allowed_ms.fetch_max(until_ms, Ordering::AcqRel);
    }

    pub(crate) fn request(&self) -> Option<RefreshWait> {
        if self.wait.is_zero() || self.closed.load(Ordering::Acquire) {
            return None;
        }
        let now_ms = self.now_ms();
        let allowed = self.next_allowed_ms.load(Ordering::Acquire);
        let within_gap = now_ms < allowed;
        let target = if within_gap
            || self
                .next_allowed_ms
                .compare_exchange(
                    allowed,
                    now_ms.saturating_add(self.gap_ms),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_err()
        {
            // Someone asked recently: wait for that fetch if it is still running, else give up.
            let pending = self.requested.load(Ordering::Acquire);
            if *self.completed.borrow() >= pending {
                return None;
            }
            pending
        } else {
            let target = self.requested.fetch_add(1, Ordering::AcqRel) + 1;
            self.wake.notify_one();
            target
        };
        let mut done = self.completed.subscribe();
        let wait = self.wait;
        Some(Box::pin(async move {
            let _ = tokio::time::timeout(wait, done.wait_for(|&g| g >= target)).await;
        }))
    }
}
