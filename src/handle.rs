//! The cheap, cloneable cell that holds the current [`TokenSnapshot`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use tokio::sync::{watch, Notify};

use crate::token::TokenSnapshot;

/// A shared, lock-free cell holding the current [`TokenSnapshot`].
///
/// Cloning is cheap (one reference count) and every clone sees the same cell. Readers call
/// [`load`](TokenHandle::load) (or let the [`CallbackAuthLayer`](crate::CallbackAuthLayer) do it) once
/// per request; the single writer, usually the background refresher, calls
/// [`store`](TokenHandle::store). A handle created with [`TokenHandle::empty`] holds nothing until the
/// first store, and the layer answers 503 until then.
///
/// The handle works on its own, without tower or a refresher: store a static snapshot once, or write
/// your own update loop.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::{CallbackToken, TokenHandle, TokenSnapshot};
///
/// let handle = TokenHandle::empty();
/// assert!(handle.load().is_none());
///
/// let reader = handle.clone();
/// handle.store(TokenSnapshot::enabled(CallbackToken::new("my-token")?));
/// assert!(reader.load().unwrap().is_enabled());
/// # Ok::<(), tim_callback_auth::InvalidToken>(())
/// ```
#[derive(Clone)]
pub struct TokenHandle {
    shared: Arc<Shared>,
}

struct Shared {
    cell: ArcSwapOption<TokenSnapshot>,
    /// Wired by the refresher that writes this handle; absent for a static handle.
    miss: OnceLock<MissSignal>,
}

impl TokenHandle {
    /// A handle that already holds `snapshot`.
    pub fn new(snapshot: TokenSnapshot) -> Self {
        let handle = Self::empty();
        handle.store(snapshot);
        handle
    }

    /// A handle that holds nothing yet: verification answers
    /// [`Rejection::TokenUnavailable`](crate::Rejection::TokenUnavailable) until the first store.
    pub fn empty() -> Self {
        Self {
            shared: Arc::new(Shared {
                cell: ArcSwapOption::empty(),
                miss: OnceLock::new(),
            }),
        }
    }

    /// The current snapshot, or `None` before the first store.
    ///
    /// The result is an owned `Arc`, safe to keep across `.await`. Load once per unit of work: two
    /// loads may see two different snapshots.
    pub fn load(&self) -> Option<Arc<TokenSnapshot>> {
        self.shared.cell.load_full()
    }

    /// Runs `f` on the current snapshot without touching its reference count: the fastest read, used
    /// by the layer on every request.
    pub(crate) fn with_snapshot<T>(&self, f: impl FnOnce(Option<&TokenSnapshot>) -> T) -> T {
        let guard = self.shared.cell.load();
        f(guard.as_deref())
    }

    /// Replaces the current snapshot. Readers see either the old or the new one, never a mix.
    ///
    /// A token shorter than 16 bytes is logged once at `WARN` (by fingerprint) when it first
    /// arrives: a captured `Sign` lets anyone brute-force a short token offline.
    pub fn store(&self, snapshot: TokenSnapshot) {
        let old = self.shared.cell.swap(Some(Arc::new(snapshot)));
        self.warn_if_weak(old.as_deref());
    }

    /// Ends the grace period of the previous token at once (an emergency rotation away from a
    /// leaked token): from the next request on, only the current token is accepted. Returns whether
    /// there was a previous token to drop.
    ///
    /// An atomic read-modify-write of the cell, safe beside a refresher: the refresher never
    /// re-creates a dropped previous token (after a rotation, the previous token is always the one
    /// that was current). Call it once the handle holds the new token (for example after
    /// [`TokenRefresher::refresh_now`](crate::refresh::TokenRefresher::refresh_now)). Should a
    /// rotation be stored in the same instant, the token it just replaced is dropped too: that
    /// fails closed (its late callbacks are refused), never open.
    pub fn revoke_previous(&self) -> bool {
        let mut revoked = false;
        self.shared.cell.rcu(|current| {
            revoked = false;
            match current.as_deref() {
                Some(snapshot) if snapshot.previous().is_some() => {
                    revoked = true;
                    Some(Arc::new(snapshot.clone().without_previous()))
                }
                _ => current.clone(),
            }
        });
        if revoked {
            tracing::warn!("previous callback token revoked: its grace period ended now");
        }
        revoked
    }

    fn warn_if_weak(&self, old: Option<&TokenSnapshot>) {
        let guard = self.shared.cell.load();
        let Some(token) = guard.as_deref().and_then(TokenSnapshot::current) else {
            return;
        };
        let seen = old.and_then(TokenSnapshot::current) == Some(token);
        // Neither the length nor a fingerprint: both narrow the search for a short token.
        if !seen && token.is_weak() {
            tracing::warn!(
                "the callback token is shorter than 16 bytes: one captured Sign lets anyone \
                 brute-force it offline; use a random token of at least 128 bits"
            );
        }
    }

    /// Whether both handles share one cell.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Connects a refresher's refresh-on-miss channel. Returns `None` when the handle already has one.
    #[cfg_attr(not(feature = "refresh"), allow(dead_code))]
    pub(crate) fn attach_miss_signal(&self, gap: Duration, wait: Duration) -> bool {
        self.shared.miss.set(MissSignal::new(gap, wait)).is_ok()
    }

    /// The refresh-on-miss channel, when a refresher writes this handle.
    #[cfg_attr(not(feature = "refresh"), allow(dead_code))]
    pub(crate) fn miss_signal(&self) -> Option<&MissSignal> {
        self.shared.miss.get()
    }

    /// Called by the layer when a fresh-looking signature failed against every known token. Never
    /// blocks and never does I/O: it may wake the refresher, and returns a future that completes
    /// when the refresh it waits for is done (or after the configured wait), or `None` when there is
    /// nothing worth waiting for.
    pub(crate) fn refresh_on_miss(&self) -> Option<RefreshWait> {
        self.shared.miss.get()?.request()
    }
}

impl fmt::Debug for TokenHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let snapshot = self.shared.cell.load();
        f.debug_struct("TokenHandle")
            .field("loaded", &snapshot.is_some())
            .field(
                "enabled",
                &snapshot.as_deref().map(TokenSnapshot::is_enabled),
            )
            .finish()
    }
}

/// A wait for a refresh triggered by a signature miss. Boxed, because it only exists on the rare
/// miss path and `watch::Receiver::wait_for` returns an unnameable future.
pub(crate) type RefreshWait = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The rate-limited channel from the layer (many readers) to the refresher (one task).
pub(crate) struct MissSignal {
    /// The refresher sleeps on this besides its schedule.
    pub(crate) wake: Notify,
    /// Generation of the latest request; the refresher serves all requests up to it in one fetch.
    requested: AtomicU64,
    /// Generation of the latest completed miss-triggered fetch.
    completed: watch::Sender<u64>,
    /// When the last request was made, in milliseconds since `epoch`; `u64::MAX` for never.
    last_request_ms: AtomicU64,
    epoch: tokio::time::Instant,
    gap_ms: u64,
    wait: Duration,
    /// Set when the refresher is gone: nothing would serve a request, so none is made.
    closed: std::sync::atomic::AtomicBool,
}

impl MissSignal {
    fn new(gap: Duration, wait: Duration) -> Self {
        Self {
            wake: Notify::new(),
            requested: AtomicU64::new(0),
            completed: watch::Sender::new(0),
            last_request_ms: AtomicU64::new(u64::MAX),
            epoch: tokio::time::Instant::now(),
            gap_ms: u64::try_from(gap.as_millis()).unwrap_or(u64::MAX),
            wait,
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The refresher stopped: from now on signature misses are rejected at once instead of waiting
    /// for a fetch that would never come.
    #[cfg_attr(not(feature = "refresh"), allow(dead_code))]
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.completed.send_modify(|done| *done = u64::MAX);
    }

    /// The generation the refresher is about to serve.
    #[cfg_attr(not(feature = "refresh"), allow(dead_code))]
    pub(crate) fn pending(&self) -> u64 {
        self.requested.load(Ordering::Acquire)
    }

    /// Marks every request up to `generation` as served.
    #[cfg_attr(not(feature = "refresh"), allow(dead_code))]
    pub(crate) fn complete(&self, generation: u64) {
        self.completed.send_if_modified(|done| {
            let advance = generation > *done;
            if advance {
                *done = generation;
            }
            advance
        });
    }

    fn request(&self) -> Option<RefreshWait> {
        if self.wait.is_zero() || self.closed.load(Ordering::Acquire) {
            return None;
        }
        let now_ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        let last = self.last_request_ms.load(Ordering::Acquire);
        let within_gap = last != u64::MAX && now_ms.saturating_sub(last) < self.gap_ms;
        let target = if within_gap
            || self
                .last_request_ms
                .compare_exchange(last, now_ms, Ordering::AcqRel, Ordering::Acquire)
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
