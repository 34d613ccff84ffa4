//! The background refresher: keeps a [`TokenHandle`] or an
//! [`AllowlistHandle`] up to date from a [`Source`].
//!
//! One mechanism for both: a [`Refresher`] owns one tokio task, the only writer of its handle. The
//! task fetches at a jittered interval, backs off exponentially on errors while the last good
//! value keeps being served, bounds every fetch by a timeout and catches a panicking source. For
//! tokens it also keeps the previous token for a grace period after a rotation, and fetches early
//! (at most once per minimum gap, spaced further while misses keep bringing nothing new) when the
//! [`CallbackAuthLayer`](crate::CallbackAuthLayer) sees a fresh signature that matches no known
//! token.
//!
//! # Lifetime
//!
//! The task runs for as long as anything reads from its handle: a layer, an
//! [`AppSet`](crate::AppSet), a clone you keep, or the `Refresher` itself. Dropping the
//! `Refresher` alone does **not** stop it, so
//! `CallbackAuthLayer::new(TokenRefresher::builder(client).start().await?.handle())` keeps
//! refreshing. It stops when the last handle is gone, on [`Refresher::shutdown`], or when the
//! runtime shuts down; a stopped refresher's handles say so in their
//! [`status`](crate::TokenHandle::status) ([`RefreshStatus::is_stopped`]), and a `WARN` is logged
//! once (unless it stopped because nothing read from it any more).
//!
//! The refresher knows nothing of tower: use its handle with the layer, with
//! [`Verifier`](crate::Verifier) directly, or for anything else.
//!
//! # Examples
//!
//! A static token (the IM console token, which has no read API) is its own source, usable with
//! the same code as the API-fetched one:
//!
//! ```
//! use tim_callback_auth::{CallbackToken, TokenRefresher, TokenSnapshot};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let snapshot = TokenSnapshot::enabled(CallbackToken::new("console-token")?);
//! let refresher = TokenRefresher::builder(snapshot).start().await?;
//! let handle = refresher.handle();
//! drop(refresher); // the handle keeps the task alive
//! assert!(handle.load().unwrap().is_enabled());
//! assert!(!handle.status().unwrap().is_stopped());
//! # Ok(())
//! # }
//! ```
//!
//! Tencent's API, configured (this one needs an account, so it is not run here):
//!
//! ```no_run
//! use std::time::Duration;
//! use tim_callback_auth::rest::{Region, RestClient};
//! use tim_callback_auth::TokenRefresher;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), tim_callback_auth::Error> {
//! let client = RestClient::builder(1400000000, "secret key")
//!     .region(Region::Usa)
//!     .build()?;
//! let refresher = TokenRefresher::builder(client)
//!     .interval(Duration::from_secs(120))
//!     .grace(Duration::from_secs(600))
//!     .start()
//!     .await?;
//! let handle = refresher.handle(); // give this to CallbackAuthLayer::new
//! # drop(handle);
//! # Ok(())
//! # }
//! ```

mod kind;
pub(crate) mod miss;
mod source;
mod task;

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::task::AbortHandle;

use self::kind::Kind;
use self::miss::MissSignal;
pub use self::source::Source;
use self::task::Task;
use crate::allowlist::{AllowlistHandle, IpAllowlist};
use crate::cell::Cell;
use crate::error::{Error, ErrorKind};
use crate::handle::TokenHandle;
use crate::token::TokenSnapshot;

/// The smallest refresh-on-miss gap.
const MIN_MISS_GAP: Duration = Duration::from_secs(1);

/// A refresher of callback tokens: [`TokenRefresher::builder`] takes a
/// [`RestClient`](crate::rest::RestClient), a [`TokenSnapshot`] (a static token) or your own
/// [`Source`].
pub type TokenRefresher = Refresher<TokenSnapshot>;

/// A refresher of a source allowlist: [`AllowlistRefresher::builder`] takes
/// [`RestClient::webhook_addresses`](crate::rest::RestClient::webhook_addresses), an
/// [`IpAllowlist`] or your own [`Source`].
pub type AllowlistRefresher = Refresher<IpAllowlist>;

/// Settings of a refresher (see the builder methods for meanings and defaults).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    interval: Duration,
    jitter: f64,
    backoff_min: Duration,
    backoff_max: Duration,
    grace: Duration,
    miss_gap: Duration,
    miss_wait: Duration,
    initial_timeout: Duration,
    fetch_timeout: Duration,
    app_id: Option<u64>,
    confirm_disable: bool,
    /// `Some` only through the hidden `jitter_seed`: deterministic jitter for simulations.
    jitter_seed: Option<u64>,
}

impl Settings {
    /// The defaults, with the interval of the kind of value refreshed.
    fn new(interval: Duration, app_id: Option<u64>) -> Self {
        Self {
            interval,
            jitter: 0.1,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            grace: Duration::from_secs(300),
            miss_gap: Duration::from_secs(10),
            miss_wait: Duration::from_secs(1),
            initial_timeout: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(30),
            app_id,
            confirm_disable: false,
            jitter_seed: None,
        }
    }
}

/// Builds a [`Refresher`]. Created by [`TokenRefresher::builder`] or
/// [`AllowlistRefresher::builder`]; `S` is the source, `T` what it fetches.
#[must_use = "a builder does nothing until `start` or `spawn`"]
pub struct RefresherBuilder<S, T> {
    source: S,
    settings: Settings,
    value: PhantomData<fn() -> T>,
}

/// Runs the background refresh task and gives access to its handle and status.
///
/// Dropping it does not stop the task: the task runs for as long as the refresher or any handle
/// it gave is alive, and [`shutdown`](Self::shutdown) stops it explicitly. See the
/// [module docs](self).
///
/// # Examples
///
/// ```
/// use tim_callback_auth::{CallbackToken, TokenRefresher, TokenSnapshot};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let token = CallbackToken::new("a-console-token-0123456789")?;
/// let refresher = TokenRefresher::builder(TokenSnapshot::enabled(token))
///     .app_id(1400000000)
///     .start()
///     .await?;
/// refresher.refresh_now().await?;
/// let status = refresher.status();
/// assert_eq!((status.fetches(), status.authentication_enabled()), (2, Some(true)));
/// assert_eq!(refresher.app_id(), Some(1400000000));
///
/// let handle = refresher.handle();
/// refresher.shutdown();
/// assert!(handle.status().unwrap().is_stopped());
/// # Ok(())
/// # }
/// ```
#[must_use = "the refresher's handle is what the layer reads"]
pub struct Refresher<T> {
    /// A reader like any handle: the task runs while this (or a handle) is alive.
    cell: Arc<Cell<T>>,
    link: Arc<Link>,
    commands: mpsc::Sender<task::Command>,
    task: AbortHandle,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct StatusInner {
    /// The task ended: nothing refreshes the handle any more.
    stopped: bool,
    last_success: Option<SystemTime>,
    consecutive_failures: u32,
    last_error: Option<Error>,
    changes: u64,
    fetches: u64,
    successes: u64,
    authentication_enabled: Option<bool>,
    disables: u64,
    entries: Option<usize>,
}

/// A point-in-time view of a refresher's health, from [`Refresher::status`] or a handle's
/// `status()`. The same type for tokens and lists: [`authentication_enabled`](Self::authentication_enabled)
/// and [`disables`](Self::disables) are about tokens, [`entries`](Self::entries) about lists.
///
/// `Debug` shows what the accessors return, under their names (the last error as its message).
#[derive(Clone)]
pub struct RefreshStatus {
    inner: StatusInner,
}

impl fmt::Debug for RefreshStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let mut out = f.debug_struct("RefreshStatus");
        out.field("stopped", &inner.stopped)
            .field("last_success", &inner.last_success)
            .field("consecutive_failures", &inner.consecutive_failures)
            .field(
                "last_error",
                &inner.last_error.as_ref().map(|e| e.to_string()),
            )
            .field("changes", &inner.changes)
            .field("fetches", &inner.fetches)
            .field("successes", &inner.successes)
            .field("authentication_enabled", &inner.authentication_enabled)
            .field("disables", &inner.disables);
        if let Some(entries) = inner.entries {
            out.field("entries", &entries);
        }
        out.finish()
    }
}

impl RefreshStatus {
    /// Whether nothing refreshes the handle any more: the task ended
    /// ([`Refresher::shutdown`], the runtime shut down, or nothing read the handle), and the
    /// handle keeps its last value. Alert on it while the handle is in use.
    ///
    /// The status is opaque so that later states can be added beside this one without a
    /// breaking change (a source that follows a leader instead of fetching, a fallback while the
    /// leader is gone), each with its own predicate.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped
    }

    /// When the last fetch succeeded; `None` before the first success.
    pub fn last_success(&self) -> Option<SystemTime> {
        self.inner.last_success
    }

    /// How long ago the last fetch succeeded: the age of the value served.
    pub fn age(&self) -> Option<Duration> {
        let at = self.inner.last_success?;
        Some(SystemTime::now().duration_since(at).unwrap_or_default())
    }

    /// Failed fetches since the last success (0 when healthy).
    pub fn consecutive_failures(&self) -> u32 {
        self.inner.consecutive_failures
    }

    /// The most recent error, if any fetch ever failed.
    pub fn last_error(&self) -> Option<&Error> {
        self.inner.last_error.as_ref()
    }

    /// How many times the served value changed after the first load (a token rotated,
    /// authentication switched on or off, a list changed).
    pub fn changes(&self) -> u64 {
        self.inner.changes
    }

    /// How many fetches were attempted.
    pub fn fetches(&self) -> u64 {
        self.inner.fetches
    }

    /// How many fetches succeeded.
    pub fn successes(&self) -> u64 {
        self.inner.successes
    }

    /// How many fetches failed, in all.
    pub fn failures(&self) -> u64 {
        self.inner.fetches - self.inner.successes
    }

    /// Tokens: whether callback authentication is on in the snapshot the refresher serves (`None`
    /// before the first success, and for lists). `Some(false)` means callbacks are let through
    /// unverified (unless the verifier is in strict mode): alert on it.
    pub fn authentication_enabled(&self) -> Option<bool> {
        self.inner.authentication_enabled
    }

    /// Tokens: how many times authentication was switched from on to off (`IsTokenEnable: false`
    /// or 100302 after an enabled token).
    pub fn disables(&self) -> u64 {
        self.inner.disables
    }

    /// Lists: how many entries the current list has (`None` before the first success, and for
    /// tokens).
    pub fn entries(&self) -> Option<usize> {
        self.inner.entries
    }
}

/// Why a refresher stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The last handle (and the refresher) is gone: nobody is left to tell.
    ReadersGone,
    /// [`Refresher::shutdown`].
    Shutdown,
    /// The task was dropped (the runtime shut down) or panicked.
    TaskEnded,
}

/// What a refresher shares with its cell and its task, without holding the cell: the status, the
/// refresh-on-miss channel (tokens), and the stop.
pub(crate) struct Link {
    app_id: Option<u64>,
    /// "callback token" or "source allowlist", for log lines.
    what: &'static str,
    status: Mutex<StatusInner>,
    miss: Option<MissSignal>,
    /// Notified by the cell's `Drop`: the last reader is gone.
    readers_gone: Notify,
    stopped: AtomicBool,
}

impl Link {
    fn lock(&self) -> std::sync::MutexGuard<'_, StatusInner> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn status(&self) -> RefreshStatus {
        RefreshStatus {
            inner: self.lock().clone(),
        }
    }

    /// The refresh-on-miss channel (tokens only).
    pub(crate) fn miss(&self) -> Option<&MissSignal> {
        self.miss.as_ref()
    }

    pub(crate) fn readers_gone(&self) {
        self.readers_gone.notify_one();
    }

    fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Marks the refresher stopped (once; later calls do nothing): the status says so, misses no
    /// longer wait for a fetch, and a `WARN` tells whoever still reads the handle.
    pub(crate) fn stop(&self, why: Stop) {
        if self.stopped.swap(true, Ordering::AcqRel) {
            return;
        }
        self.lock().stopped = true;
        if let Some(miss) = &self.miss {
            // Layers may still hold the handle: misses must not wait for this refresher any more.
            miss.close();
        }
        match why {
            Stop::ReadersGone => tracing::debug!(
                app = self.app_id,
                what = self.what,
                "refresher stopped: nothing reads its handle any more"
            ),
            Stop::Shutdown => tracing::warn!(
                app = self.app_id,
                what = self.what,
                "refresher shut down: its handles keep the last value and are no longer refreshed"
            ),
            Stop::TaskEnded => tracing::warn!(
                app = self.app_id,
                what = self.what,
                "refresher task ended (runtime shut down): its handles are no longer refreshed"
            ),
        }
    }
}

// ===== impl Refresher =====

impl<T> Refresher<T> {
    /// The SDKAppID this refresher serves: the builder's [`app_id`](RefresherBuilder::app_id),
    /// or the source's (a [`RestClient`](crate::rest::RestClient)'s app).
    pub fn app_id(&self) -> Option<u64> {
        self.link.app_id
    }

    /// The refresher's health (the same as its handles' `status()`).
    pub fn status(&self) -> RefreshStatus {
        self.link.status()
    }

    /// Fetches now, and waits for that fetch.
    ///
    /// # Errors
    ///
    /// The fetch's error (the last good value is kept), or [`ErrorKind::Stopped`] if the task
    /// is gone.
    pub async fn refresh_now(&self) -> Result<(), Error> {
        if self.link.is_stopped() {
            return Err(Error::new(ErrorKind::Stopped));
        }
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(reply)
            .await
            .map_err(|_| Error::new(ErrorKind::Stopped))?;
        answer.await.map_err(|_| Error::new(ErrorKind::Stopped))?
    }

    /// Stops the task now (a synchronous call: no fetch starts after it returns, and one under
    /// way is abandoned). Every handle keeps its last value, its status
    /// [`is_stopped`](RefreshStatus::is_stopped), a signature miss no longer waits for a fetch, and a
    /// `WARN` is logged. Dropping the refresher is not a shutdown (see the [module docs](self)).
    pub fn shutdown(&self) {
        self.link.stop(Stop::Shutdown);
        self.task.abort();
    }
}

impl TokenRefresher {
    /// Starts building a refresher that fetches tokens from `source`: a
    /// [`RestClient`](crate::rest::RestClient), a fixed [`TokenSnapshot`], or your own.
    pub fn builder<S: Source<TokenSnapshot>>(source: S) -> RefresherBuilder<S, TokenSnapshot> {
        RefresherBuilder::new(source, Duration::from_secs(60))
    }

    /// A handle on the snapshot this refresher keeps up to date (for the layer or the verifier).
    /// The task runs for as long as any such handle is alive.
    pub fn handle(&self) -> TokenHandle {
        TokenHandle::from_cell(Arc::clone(&self.cell))
    }

    /// Ends the grace period of the previous token at once, for an emergency rotation away from a
    /// leaked token; see [`TokenHandle::revoke_previous`]. Returns whether a previous token was
    /// dropped.
    pub fn revoke_previous(&self) -> bool {
        self.handle().revoke_previous()
    }
}

impl AllowlistRefresher {
    /// Starts building a refresher that fetches address lists from `source`:
    /// [`RestClient::webhook_addresses`](crate::rest::RestClient::webhook_addresses), a fixed
    /// [`IpAllowlist`], or your own. Its default interval is 10 minutes.
    pub fn builder<S: Source<IpAllowlist>>(source: S) -> RefresherBuilder<S, IpAllowlist> {
        RefresherBuilder::new(source, Duration::from_secs(600))
    }

    /// The handle the refresher keeps fresh (for a [`AllowlistFilter`](crate::allowlist::AllowlistFilter)).
    /// The task runs for as long as any such handle is alive.
    pub fn handle(&self) -> AllowlistHandle {
        AllowlistHandle::from_cell(Arc::clone(&self.cell))
    }
}

impl<T> fmt::Debug for Refresher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refresher")
            .field("what", &self.link.what)
            .field("app_id", &self.link.app_id)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

// ===== impl RefresherBuilder =====

impl<S, T> fmt::Debug for RefresherBuilder<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefresherBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<S, T> RefresherBuilder<S, T> {
    fn new(source: S, interval: Duration) -> Self
    where
        S: Source<T>,
    {
        let app_id = source.app_id();
        Self {
            source,
            settings: Settings::new(interval, app_id),
            value: PhantomData,
        }
    }

    /// Time between regular fetches (default 60 s for tokens, 10 minutes for lists; at least
    /// 100 ms).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.settings.interval = interval.max(Duration::from_millis(100));
        self
    }

    /// Random spread of the interval, as a fraction (default 0.1, i.e. ±10 %; clamped to 0..=0.5),
    /// so that a fleet of instances does not poll in lockstep.
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.settings.jitter = if fraction.is_finite() {
            fraction.clamp(0.0, 0.5)
        } else {
            0.0
        };
        self
    }

    /// Backoff after failed fetches: exponential from `min` up to `max`, with ±20 % jitter
    /// (default 1 s to 5 min; `min` is at least 10 ms, never a zero sleep). Until the first value
    /// is loaded, each wait is drawn uniformly between `min` and that step instead, so that a
    /// fleet started at once spreads its retries rather than coming back in waves.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.settings.backoff_min = min.max(Duration::from_millis(10));
        self.settings.backoff_max = max.max(self.settings.backoff_min);
        self
    }

    /// How long [`start`](Self::start) waits for the first good fetch (default 10 s).
    pub fn initial_timeout(mut self, timeout: Duration) -> Self {
        self.settings.initial_timeout = timeout;
        self
    }

    /// Upper bound on one fetch, for sources without their own timeout (default 30 s).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.settings.fetch_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The SDKAppID this refresher serves: the `app` label of its metrics, a field of its log
    /// lines, and (tokens) its key in an [`AppSet`](crate::AppSet). Defaults to the source's app
    /// (a [`RestClient`](crate::rest::RestClient) knows it); otherwise none (label `default`).
    pub fn app_id(mut self, app_id: u64) -> Self {
        self.settings.app_id = Some(app_id);
        self
    }

    /// Draws this refresher's jitter (schedule and backoff) from a fixed sequence seeded by `seed`
    /// instead of the process's randomness, so that a simulation on tokio's paused clock gives
    /// the same figures on every run (`tests/fleet.rs`, SCALING.md).
    ///
    /// Hidden and outside the stable API: for simulations only. In production, refreshers with
    /// the same seed would poll in lockstep, which is what the jitter exists to prevent.
    #[doc(hidden)]
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.settings.jitter_seed = Some(seed);
        self
    }
}

impl<S> RefresherBuilder<S, TokenSnapshot> {
    /// How long the previous token stays accepted after a rotation (default 5 min). To end it
    /// early, after rotating away from a leaked token, call [`TokenRefresher::revoke_previous`].
    pub fn grace(mut self, grace: Duration) -> Self {
        self.settings.grace = grace;
        self
    }

    /// Minimum time between two fetches triggered by signature misses (default 10 s; at least
    /// 1 s, so that a forged flood cannot turn every request into a fetch).
    ///
    /// Misses that keep coming while the fetches they trigger bring nothing new are a forged
    /// flood (or a sender with a wrong token). From the second such fetch in a row, the next one
    /// waits between 1 and 1.5 times the gap, at random, so that a fleet flooded at once drifts
    /// out of lockstep; while Tencent refuses them (the fleet's fetches exceed its limit of 200
    /// per second), the wait doubles with each refusal in a row, up to the
    /// [`interval`](Self::interval) (times 1 to 1.5), and comes back once Tencent answers. A
    /// fetch that brings a new token does not count, and two intervals without a miss-triggered
    /// fetch end the streak. SCALING.md in the repository has the figures of a simulated fleet.
    pub fn refresh_on_miss_gap(mut self, gap: Duration) -> Self {
        self.settings.miss_gap = gap.max(MIN_MISS_GAP);
        self
    }

    /// How long the layer waits for a miss-triggered fetch before answering (default 1 s;
    /// zero disables refresh-on-miss).
    pub fn refresh_on_miss_wait(mut self, wait: Duration) -> Self {
        self.settings.miss_wait = wait;
        self
    }

    /// Applies a switch of authentication from on to off only after a second fetch, made right
    /// away, agrees (default `false`). One glitched or spoofed answer then cannot turn
    /// verification off; if the second fetch fails, the enabled token is kept and the attempt
    /// counts as a failure.
    pub fn confirm_disable(mut self, confirm: bool) -> Self {
        self.settings.confirm_disable = confirm;
        self
    }
}

/// `spawn` and `start` for one kind of value (the same code; written per kind so that the hook
/// trait stays crate-private).
macro_rules! launchers {
    ($value:ty, $what:literal) => {
        impl<S: Source<$value>> RefresherBuilder<S, $value> {
            #[doc = concat!("Starts the task and returns at once. The handle is empty (the layer answers 503) until the first ", $what, " is fetched.")]
            ///
            /// # Panics
            ///
            /// When called outside a tokio runtime.
            pub fn spawn(self) -> Refresher<$value> {
                launch(self).0
            }

            #[doc = concat!("Starts the task and waits for the first good fetch of a ", $what, ". Retryable failures are retried with backoff until the initial timeout; other failures (a wrong key, a wrong region, an API not enabled…) end it at once.")]
            ///
            /// # Errors
            ///
            /// The first non-retryable error, or the last error (or a timeout) when no fetch
            /// succeeded within the initial timeout. The task is stopped then.
            ///
            /// # Panics
            ///
            /// When called outside a tokio runtime.
            pub async fn start(self) -> Result<Refresher<$value>, Error> {
                let timeout = self.settings.initial_timeout;
                let (refresher, outcomes) = launch(self);
                wait_first(refresher, outcomes, timeout).await
            }
        }
    };
}

launchers!(TokenSnapshot, "token");
launchers!(IpAllowlist, "list");

type Outcomes = watch::Receiver<Option<Result<(), Error>>>;

/// Waits for the first good fetch. On an error the refresher is dropped, and with it the only
/// reader of its cell: the task ends (quietly: nobody reads the handle).
async fn wait_first<T>(
    refresher: Refresher<T>,
    mut outcomes: Outcomes,
    timeout: Duration,
) -> Result<Refresher<T>, Error> {
    let mut last_error = None;
    let waited = tokio::time::timeout(timeout, async {
        loop {
            if outcomes.changed().await.is_err() {
                return Err(Error::new(ErrorKind::Stopped));
            }
            match &*outcomes.borrow_and_update() {
                Some(Ok(())) => return Ok(()),
                Some(Err(error)) if !error.is_retryable() => return Err(error.clone()),
                Some(Err(error)) => last_error = Some(error.clone()),
                None => {}
            }
        }
    })
    .await;
    match waited {
        Ok(Ok(())) => Ok(refresher),
        Ok(Err(error)) => Err(error),
        // The last full error explains the wait; without one, nothing answered at all.
        Err(_) => Err(last_error.unwrap_or_else(|| {
            Error::new(ErrorKind::Timeout).with_source(format!(
                "no answer within the initial timeout of {timeout:?}"
            ))
        })),
    }
}

fn launch<S: Source<T>, T: Kind>(builder: RefresherBuilder<S, T>) -> (Refresher<T>, Outcomes) {
    let settings = builder.settings;
    let cell = Arc::new(Cell::empty(settings.app_id));
    let link = Arc::new(Link {
        app_id: settings.app_id,
        what: T::WHAT,
        status: Mutex::new(StatusInner::default()),
        miss: T::REFRESH_ON_MISS.then(|| MissSignal::new(settings.miss_gap, settings.miss_wait)),
        readers_gone: Notify::new(),
        stopped: AtomicBool::new(false),
    });
    cell.attach(Arc::clone(&link));
    let (commands_tx, commands_rx) = mpsc::channel(8);
    let (outcomes_tx, outcomes_rx) = watch::channel(None);
    let task = Task {
        source: builder.source,
        cell: Arc::downgrade(&cell),
        link: Arc::clone(&link),
        settings,
        commands: Some(commands_rx),
        outcomes: outcomes_tx,
        rng: settings
            .jitter_seed
            .map_or(task::Rng::System, task::Rng::seeded),
        fruitless_misses: 0,
        refused_misses: 0,
        last_miss_ms: None,
    };
    let join = tokio::spawn(task.run());
    (
        Refresher {
            cell,
            link,
            commands: commands_tx,
            task: join.abort_handle(),
        },
        outcomes_rx,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::CallbackToken;

    #[tokio::test]
    async fn status_debug_names_only_public_things() {
        let token = CallbackToken::new("status-debug-token-0123456789").unwrap();
        let refresher = TokenRefresher::builder(TokenSnapshot::enabled(token))
            .start()
            .await
            .unwrap();
        let shown = format!("{:?}", refresher.status());
        assert!(
            shown.starts_with("RefreshStatus { stopped: false, last_success: Some("),
            "{shown}"
        );
        for needle in [
            "consecutive_failures: 0",
            "last_error: None",
            "fetches: 1",
            "successes: 1",
            "authentication_enabled: Some(true)",
            "disables: 0",
        ] {
            assert!(shown.contains(needle), "{needle}: {shown}");
        }
        for private in ["StatusInner", "inner", "entries", "status-debug-token"] {
            assert!(!shown.contains(private), "{private}: {shown}");
        }
        let list: IpAllowlist = "10.0.0.0/8".parse().unwrap();
        let lists = AllowlistRefresher::builder(list).start().await.unwrap();
        let shown = format!("{:?}", lists.status());
        assert!(shown.contains("entries: 1 }"), "{shown}");
        assert!(!shown.contains("StatusInner"), "{shown}");
    }
}
