//! The background refresher: keeps a [`TokenHandle`] up to date from a [`TokenSource`].
//!
//! A [`TokenRefresher`] owns one tokio task, the only writer of its handle. The task fetches at a
//! jittered interval, backs off exponentially on errors while the last good snapshot keeps being
//! served, keeps the previous token for a grace period after a rotation, and fetches early (at most
//! once per minimum gap, spaced further while misses keep bringing nothing new) when the
//! [`CallbackAuthLayer`](crate::CallbackAuthLayer) sees a fresh signature that matches no known
//! token. Dropping the `TokenRefresher` stops the task.
//!
//! The refresher knows nothing of tower: use its [`handle`](TokenRefresher::handle) with the layer,
//! with [`Verifier`](crate::Verifier) directly, or for anything else.
//!
//! # Examples
//!
//! A static token (the IM console token, which has no read API), refreshed from nowhere but usable
//! with the same code as the API-fetched one:
//!
//! ```
//! use tim_callback_auth::refresh::{StaticSource, TokenRefresher};
//! use tim_callback_auth::{CallbackToken, TokenSnapshot};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let source = StaticSource::new(TokenSnapshot::enabled(CallbackToken::new("console-token")?));
//! let refresher = TokenRefresher::builder(source).start().await?;
//! assert!(refresher.handle().load().unwrap().is_enabled());
//! assert_eq!(refresher.status().consecutive_failures(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! Tencent's API, configured (this one needs an account, so it is not run here):
//!
//! ```no_run
//! use std::time::Duration;
//! use tim_callback_auth::refresh::TokenRefresher;
//! use tim_callback_auth::rest::{Region, RestClient};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), tim_callback_auth::Error> {
//! let client = RestClient::builder(1400000000, "administrator", "secret key")
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

mod allowlist;
pub(crate) mod miss;
mod source;
mod task;

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use self::allowlist::{
    AllowlistRefresher, AllowlistRefresherBuilder, AllowlistSource, AllowlistStatus,
};
use self::miss::MissSignal;
pub use self::source::{StaticSource, TokenSource};
use self::task::Task;
use crate::error::{Error, ErrorKind};
use crate::handle::TokenHandle;

/// The smallest refresh-on-miss gap.
const MIN_MISS_GAP: Duration = Duration::from_secs(1);

/// Settings of a refresher (see the builder methods for meanings and defaults).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
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

impl Default for Config {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            jitter: 0.1,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            grace: Duration::from_secs(300),
            miss_gap: Duration::from_secs(10),
            miss_wait: Duration::from_secs(1),
            initial_timeout: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(30),
            app_id: None,
            confirm_disable: false,
            jitter_seed: None,
        }
    }
}

/// Builds a [`TokenRefresher`]. Created by [`TokenRefresher::builder`].
pub struct TokenRefresherBuilder<S> {
    source: S,
    config: Config,
}

/// Runs the background refresh task and gives access to its [`TokenHandle`] and status.
///
/// Dropping it stops the task (no fetch happens after the drop). See the [module docs](self).
///
/// # Examples
///
/// ```
/// use tim_callback_auth::refresh::{StaticSource, TokenRefresher};
/// use tim_callback_auth::{CallbackToken, TokenSnapshot};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let token = CallbackToken::new("a-console-token-0123456789")?;
/// let refresher = TokenRefresher::builder(StaticSource::new(TokenSnapshot::enabled(token)))
///     .app_id(1400000000)
///     .start()
///     .await?;
/// refresher.refresh_now().await?;
/// let status = refresher.status();
/// assert_eq!((status.fetches(), status.authentication_enabled()), (2, Some(true)));
/// assert_eq!(refresher.app_id(), Some(1400000000));
/// # Ok(())
/// # }
/// ```
pub struct TokenRefresher {
    handle: TokenHandle,
    app_id: Option<u64>,
    miss: Arc<MissSignal>,
    status: Arc<Mutex<StatusInner>>,
    commands: mpsc::Sender<task::Command>,
    task: JoinHandle<()>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct StatusInner {
    last_success: Option<SystemTime>,
    consecutive_failures: u32,
    last_error: Option<Error>,
    token_changes: u64,
    fetches: u64,
    successes: u64,
    authentication_enabled: Option<bool>,
    disables: u64,
}

/// A point-in-time view of a refresher's health.
#[derive(Clone, Debug)]
pub struct RefreshStatus {
    inner: StatusInner,
}

impl RefreshStatus {
    /// When the last fetch succeeded; `None` before the first success.
    pub fn last_success(&self) -> Option<SystemTime> {
        self.inner.last_success
    }

    /// Failed fetches since the last success (0 when healthy).
    pub fn consecutive_failures(&self) -> u32 {
        self.inner.consecutive_failures
    }

    /// The most recent error, if any fetch ever failed.
    pub fn last_error(&self) -> Option<&Error> {
        self.inner.last_error.as_ref()
    }

    /// How many times the effective configuration changed after the first load (token rotated,
    /// authentication switched on or off).
    pub fn token_changes(&self) -> u64 {
        self.inner.token_changes
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

    /// Whether callback authentication is on in the snapshot the refresher serves (`None` before
    /// the first success). `Some(false)` means callbacks are let through unverified (unless the
    /// verifier is in strict mode): alert on it.
    pub fn authentication_enabled(&self) -> Option<bool> {
        self.inner.authentication_enabled
    }

    /// How many times authentication was switched from on to off (`IsTokenEnable: false` or
    /// 100302 after an enabled token).
    pub fn disables(&self) -> u64 {
        self.inner.disables
    }
}

impl TokenRefresher {
    /// Starts building a refresher that fetches from `source`.
    pub fn builder<S: TokenSource>(source: S) -> TokenRefresherBuilder<S> {
        let config = Config {
            app_id: source.app_id(),
            ..Config::default()
        };
        TokenRefresherBuilder { source, config }
    }

    /// The SDKAppID this refresher serves: the builder's [`app_id`](TokenRefresherBuilder::app_id),
    /// or the source's (a [`RestClient`](crate::rest::RestClient)'s app).
    pub fn app_id(&self) -> Option<u64> {
        self.app_id
    }

    /// A handle on the snapshot this refresher keeps up to date (for the layer or the verifier).
    pub fn handle(&self) -> TokenHandle {
        self.handle.clone()
    }

    /// The refresher's health.
    pub fn status(&self) -> RefreshStatus {
        RefreshStatus {
            inner: self
                .status
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }

    /// Ends the grace period of the previous token at once, for an emergency rotation away from a
    /// leaked token; see [`TokenHandle::revoke_previous`]. Returns whether a previous token was
    /// dropped.
    pub fn revoke_previous(&self) -> bool {
        self.handle.revoke_previous()
    }

    /// Fetches now, and waits for that fetch.
    ///
    /// # Errors
    ///
    /// The fetch's error (the last good snapshot is kept), or [`ErrorKind::Stopped`] if the task
    /// is gone.
    pub async fn refresh_now(&self) -> Result<(), Error> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(reply)
            .await
            .map_err(|_| Error::new(ErrorKind::Stopped))?;
        answer.await.map_err(|_| Error::new(ErrorKind::Stopped))?
    }
}

impl Drop for TokenRefresher {
    fn drop(&mut self) {
        self.task.abort();
        // Layers may still hold the handle: misses must not wait for this refresher any more.
        self.miss.close();
    }
}

impl fmt::Debug for TokenRefresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRefresher")
            .field("handle", &self.handle)
            .field("status", &self.status())
            .finish()
    }
}

impl<S> fmt::Debug for TokenRefresherBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRefresherBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: TokenSource> TokenRefresherBuilder<S> {
    /// Time between regular fetches (default 60 s; at least 100 ms).
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.config.interval = interval.max(Duration::from_millis(100));
        self
    }

    /// Random spread of the interval, as a fraction (default 0.1, i.e. ±10 %; clamped to 0..=0.5),
    /// so that a fleet of instances does not poll in lockstep.
    #[must_use]
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.config.jitter = if fraction.is_finite() {
            fraction.clamp(0.0, 0.5)
        } else {
            0.0
        };
        self
    }

    /// Backoff after failed fetches: exponential from `min` up to `max`, with ±20 % jitter
    /// (default 1 s to 5 min; `min` is at least 10 ms, never a zero sleep). Until the first token
    /// is loaded, each wait is drawn uniformly between `min` and that step instead, so that a
    /// fleet started at once spreads its retries rather than coming back in waves.
    #[must_use]
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.config.backoff_min = min.max(Duration::from_millis(10));
        self.config.backoff_max = max.max(self.config.backoff_min);
        self
    }

    /// How long the previous token stays accepted after a rotation (default 5 min). To end it
    /// early, after rotating away from a leaked token, call
    /// [`TokenRefresher::revoke_previous`].
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.config.grace = grace;
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
    #[must_use]
    pub fn refresh_on_miss_gap(mut self, gap: Duration) -> Self {
        self.config.miss_gap = gap.max(MIN_MISS_GAP);
        self
    }

    /// Applies a switch of authentication from on to off only after a second fetch, made right
    /// away, agrees (default `false`). One glitched or spoofed answer then cannot turn
    /// verification off; if the second fetch fails, the enabled token is kept and the attempt
    /// counts as a failure.
    #[must_use]
    pub fn confirm_disable(mut self, confirm: bool) -> Self {
        self.config.confirm_disable = confirm;
        self
    }

    /// How long the layer waits for a miss-triggered fetch before answering (default 1 s;
    /// zero disables refresh-on-miss).
    #[must_use]
    pub fn refresh_on_miss_wait(mut self, wait: Duration) -> Self {
        self.config.miss_wait = wait;
        self
    }

    /// How long [`start`](Self::start) waits for the first good fetch (default 10 s).
    #[must_use]
    pub fn initial_timeout(mut self, timeout: Duration) -> Self {
        self.config.initial_timeout = timeout;
        self
    }

    /// The SDKAppID this refresher serves: the `app` label of its metrics, a field of its log
    /// lines, and its key in an [`AppSet`](crate::AppSet). Defaults to the source's app (a
    /// [`RestClient`](crate::rest::RestClient) knows it); otherwise none (label `default`).
    #[must_use]
    pub fn app_id(mut self, app_id: u64) -> Self {
        self.config.app_id = Some(app_id);
        self
    }

    /// Draws this refresher's jitter (schedule and backoff) from a fixed sequence seeded by `seed`
    /// instead of the process's randomness, so that a simulation on tokio's paused clock gives
    /// the same figures on every run (`tests/fleet.rs`, SCALING.md).
    ///
    /// Hidden and outside the stable API: for simulations only. In production, refreshers with
    /// the same seed would poll in lockstep, which is what the jitter exists to prevent.
    #[doc(hidden)]
    #[must_use]
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.config.jitter_seed = Some(seed);
        self
    }

    /// Upper bound on one fetch, for sources without their own timeout (default 30 s).
    #[must_use]
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.config.fetch_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Starts the task and returns at once. The handle is empty (the layer answers 503) until the
    /// first fetch succeeds.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn spawn(self) -> TokenRefresher {
        self.launch().0
    }

    /// Starts the task and waits for the first good fetch. Retryable failures are retried with
    /// backoff until the initial timeout; other failures (a wrong key, a wrong region…) end it at once.
    ///
    /// # Errors
    ///
    /// The first non-retryable error, or the last error (or a timeout) when no fetch succeeded
    /// within the initial timeout. The task is stopped then.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub async fn start(self) -> Result<TokenRefresher, Error> {
        let timeout = self.config.initial_timeout;
        let (refresher, mut outcomes) = self.launch();
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

    fn launch(self) -> (TokenRefresher, watch::Receiver<Option<Result<(), Error>>>) {
        let handle = TokenHandle::empty();
        let miss = Arc::new(MissSignal::new(self.config.miss_gap, self.config.miss_wait));
        handle.attach_miss_signal(Arc::clone(&miss));
        let status = Arc::new(Mutex::new(StatusInner::default()));
        let (commands_tx, commands_rx) = mpsc::channel(8);
        let (outcomes_tx, outcomes_rx) = watch::channel(None);
        let task = Task {
            source: Arc::new(self.source),
            handle: handle.clone(),
            miss: Arc::clone(&miss),
            config: self.config,
            status: Arc::clone(&status),
            commands: commands_rx,
            outcomes: outcomes_tx,
            rng: self
                .config
                .jitter_seed
                .map_or(task::Rng::System, task::Rng::seeded),
            fruitless_misses: 0,
            refused_misses: 0,
            last_miss_ms: None,
        };
        let join = tokio::spawn(task.run());
        (
            TokenRefresher {
                handle,
                app_id: self.config.app_id,
                miss,
                status,
                commands: commands_tx,
                task: join,
            },
            outcomes_rx,
        )
    }
}
