//! [`AllowlistRefresher`]: keeps an [`AllowlistHandle`] fresh from Tencent's `GetIPList`.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::task::{backoff, deadline, jittered, CatchUnwind, Rng};
use crate::error::{Error, ErrorKind};
use crate::source::{AllowlistHandle, IpAllowlist};

/// Something that can fetch an address allowlist: Tencent's webhook egress addresses
/// ([`RestClient::webhook_addresses`](crate::rest::RestClient::webhook_addresses)) or your own.
pub trait AllowlistSource: Send + Sync + 'static {
    /// Fetches the current list.
    fn fetch(&self) -> impl Future<Output = Result<IpAllowlist, Error>> + Send;
}

/// Settings (see the builder methods for meanings and defaults).
#[derive(Clone, Copy, Debug)]
struct Config {
    interval: Duration,
    jitter: f64,
    backoff_min: Duration,
    backoff_max: Duration,
    initial_timeout: Duration,
    fetch_timeout: Duration,
}

/// Builds an [`AllowlistRefresher`]. Created by [`AllowlistRefresher::builder`].
pub struct AllowlistRefresherBuilder<S> {
    source: S,
    config: Config,
}

/// Runs the background task that keeps a source allowlist fresh: every 10 minutes (±10 %) by
/// default, with exponential backoff after failures; a failed fetch or an unusable answer (empty,
/// oversized, unparsable) never replaces the last good list. Dropping it stops the task.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::refresh::{AllowlistRefresher, AllowlistSource};
/// use tim_callback_auth::source::IpAllowlist;
/// use tim_callback_auth::Error;
///
/// /// Addresses kept in your own configuration store.
/// struct FromStore;
///
/// impl AllowlistSource for FromStore {
///     async fn fetch(&self) -> Result<IpAllowlist, Error> {
///         "203.0.113.0/24".parse().map_err(Error::from_source)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Error> {
/// let lists = AllowlistRefresher::builder(FromStore).start().await?;
/// assert!(lists.handle().load().unwrap().contains("203.0.113.9".parse().unwrap()));
/// assert_eq!(lists.status().entries(), Some(1));
/// # Ok(())
/// # }
/// ```
pub struct AllowlistRefresher {
    handle: AllowlistHandle,
    status: Arc<Mutex<Status>>,
    commands: mpsc::Sender<oneshot::Sender<Result<(), Error>>>,
    task: JoinHandle<()>,
}

#[derive(Clone, Debug, Default)]
struct Status {
    entries: Option<usize>,
    last_success: Option<SystemTime>,
    consecutive_failures: u32,
    last_error: Option<Error>,
    fetches: u64,
    changes: u64,
}

/// A point-in-time view of an [`AllowlistRefresher`]'s health.
#[derive(Clone, Debug)]
pub struct AllowlistStatus {
    inner: Status,
}

impl AllowlistStatus {
    /// How many entries the current list has (`None` before the first success).
    pub fn entries(&self) -> Option<usize> {
        self.inner.entries
    }

    /// When the last fetch succeeded.
    pub fn last_success(&self) -> Option<SystemTime> {
        self.inner.last_success
    }

    /// How long ago the last fetch succeeded: the age of the list.
    pub fn age(&self) -> Option<Duration> {
        let at = self.inner.last_success?;
        Some(SystemTime::now().duration_since(at).unwrap_or_default())
    }

    /// Failed fetches since the last success.
    pub fn consecutive_failures(&self) -> u32 {
        self.inner.consecutive_failures
    }

    /// The most recent error, if any fetch ever failed.
    pub fn last_error(&self) -> Option<&Error> {
        self.inner.last_error.as_ref()
    }

    /// How many fetches were attempted.
    pub fn fetches(&self) -> u64 {
        self.inner.fetches
    }

    /// How many times the list changed after the first load.
    pub fn changes(&self) -> u64 {
        self.inner.changes
    }
}

impl AllowlistRefresher {
    /// Starts building a refresher that fetches from `source`.
    pub fn builder<S: AllowlistSource>(source: S) -> AllowlistRefresherBuilder<S> {
        AllowlistRefresherBuilder {
            source,
            config: Config {
                interval: Duration::from_secs(600),
                jitter: 0.1,
                backoff_min: Duration::from_secs(1),
                backoff_max: Duration::from_secs(300),
                initial_timeout: Duration::from_secs(10),
                fetch_timeout: Duration::from_secs(30),
            },
        }
    }

    /// The handle the refresher keeps fresh (for a [`SourceFilter`](crate::source::SourceFilter)).
    pub fn handle(&self) -> AllowlistHandle {
        self.handle.clone()
    }

    /// The refresher's health.
    pub fn status(&self) -> AllowlistStatus {
        AllowlistStatus {
            inner: self
                .status
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }

    /// Fetches now, and waits for that fetch.
    ///
    /// # Errors
    ///
    /// The fetch's error (the last good list is kept), or [`ErrorKind::Stopped`].
    pub async fn refresh_now(&self) -> Result<(), Error> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(reply)
            .await
            .map_err(|_| Error::new(ErrorKind::Stopped))?;
        answer.await.map_err(|_| Error::new(ErrorKind::Stopped))?
    }
}

impl Drop for AllowlistRefresher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for AllowlistRefresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllowlistRefresher")
            .field("handle", &self.handle)
            .field("status", &self.status())
            .finish()
    }
}

impl<S> fmt::Debug for AllowlistRefresherBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllowlistRefresherBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: AllowlistSource> AllowlistRefresherBuilder<S> {
    /// Time between fetches (default 10 minutes; at least 1 s).
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.config.interval = interval.max(Duration::from_secs(1));
        self
    }

    /// Random spread of the interval, as a fraction (default 0.1; clamped to 0..=0.5).
    #[must_use]
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.config.jitter = if fraction.is_finite() {
            fraction.clamp(0.0, 0.5)
        } else {
            0.0
        };
        self
    }

    /// Backoff after failed fetches: exponential from `min` to `max` (default 1 s to 5 min).
    #[must_use]
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.config.backoff_min = min.max(Duration::from_millis(10));
        self.config.backoff_max = max.max(self.config.backoff_min);
        self
    }

    /// How long [`start`](Self::start) waits for the first list (default 10 s).
    #[must_use]
    pub fn initial_timeout(mut self, timeout: Duration) -> Self {
        self.config.initial_timeout = timeout;
        self
    }

    /// Upper bound on one fetch (default 30 s).
    #[must_use]
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.config.fetch_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Starts the task and returns at once; the handle is empty until the first list.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn spawn(self) -> AllowlistRefresher {
        self.launch().0
    }

    /// Starts the task and waits for the first list, retrying retryable errors until the initial
    /// timeout.
    ///
    /// # Errors
    ///
    /// The first non-retryable error (an API that is not enabled, a wrong key), or the last error
    /// when no list arrived within the initial timeout.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub async fn start(self) -> Result<AllowlistRefresher, Error> {
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
            Err(_) => Err(last_error.unwrap_or_else(|| {
                Error::new(ErrorKind::Timeout).with_source(format!(
                    "no address list within the initial timeout of {timeout:?}"
                ))
            })),
        }
    }

    #[allow(clippy::type_complexity)]
    fn launch(
        self,
    ) -> (
        AllowlistRefresher,
        watch::Receiver<Option<Result<(), Error>>>,
    ) {
        let handle = AllowlistHandle::empty();
        let status = Arc::new(Mutex::new(Status::default()));
        let (commands_tx, mut commands) = mpsc::channel::<oneshot::Sender<Result<(), Error>>>(8);
        let (outcomes_tx, outcomes_rx) = watch::channel(None);
        let (source, config) = (self.source, self.config);
        let (task_handle, task_status) = (handle.clone(), Arc::clone(&status));
        let task = tokio::spawn(async move {
            let mut next = tokio::time::Instant::now();
            loop {
                let reply = tokio::select! {
                    biased;
                    command = commands.recv() => match command {
                        Some(reply) => Some(reply),
                        None => return,
                    },
                    () = tokio::time::sleep_until(next) => None,
                };
                let fetched = CatchUnwind {
                    inner: source.fetch(),
                };
                let result = match tokio::time::timeout(config.fetch_timeout, fetched).await {
                    Ok(result) => result,
                    Err(_) => Err(Error::new(ErrorKind::Timeout)),
                };
                let result = apply(&task_handle, &task_status, result);
                let failures = task_status
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .consecutive_failures;
                next = deadline(match result {
                    Ok(()) => jittered(config.interval, config.jitter, &mut Rng::System),
                    Err(_) => backoff(
                        failures,
                        config.backoff_min,
                        config.backoff_max,
                        &mut Rng::System,
                    ),
                });
                if let Some(reply) = reply {
                    let _ = reply.send(result.clone());
                }
                let _ = outcomes_tx.send(Some(result));
            }
        });
        (
            AllowlistRefresher {
                handle,
                status,
                commands: commands_tx,
                task,
            },
            outcomes_rx,
        )
    }
}

/// Stores a good list (logging a change: the list is public), keeps the last one on an error.
fn apply(
    handle: &AllowlistHandle,
    status: &Mutex<Status>,
    fetched: Result<IpAllowlist, Error>,
) -> Result<(), Error> {
    let mut status = status.lock().unwrap_or_else(|e| e.into_inner());
    status.fetches += 1;
    let outcome = match fetched {
        Ok(list) => {
            let old = handle.load();
            if old.as_deref() != Some(&list) {
                if old.is_some() {
                    status.changes += 1;
                }
                tracing::info!(
                    entries = list.len(),
                    ranges = %list.ranges().collect::<Vec<_>>().join(","),
                    "source allowlist loaded"
                );
                status.entries = Some(list.len());
                handle.store(list);
            }
            status.last_success = Some(SystemTime::now());
            status.consecutive_failures = 0;
            Ok(())
        }
        Err(error) => {
            status.consecutive_failures = status.consecutive_failures.saturating_add(1);
            status.last_error = Some(error.clone());
            tracing::warn!(
                error = %error,
                consecutive_failures = status.consecutive_failures,
                kept = handle.load().is_some(),
                "source allowlist refresh failed; keeping the last good list"
            );
            Err(error)
        }
    };
    #[cfg(feature = "metrics")]
    {
        use crate::stats::names;
        if let Some(entries) = status.entries {
            metrics::gauge!(names::SOURCE_ALLOWLIST_ENTRIES).set(entries as f64);
        }
        metrics::gauge!(names::SOURCE_ALLOWLIST_FAILURES)
            .set(f64::from(status.consecutive_failures));
        if let Some(at) = status
            .last_success
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        {
            metrics::gauge!(names::SOURCE_ALLOWLIST_LAST_SUCCESS).set(at.as_secs_f64());
        }
    }
    outcome
}
