//! [`SharedSource`]: an instance's [`Source`] in a fleet: it reads the app's token from the
//! store, asks the fleet's holder on a signature miss, and fetches from Tencent itself only
//! when the store cannot be reached, on a miss, at a rate scaled by the fleet's size.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tim_callback_auth::refresh::Source;
use tim_callback_auth::{Error, TokenSnapshot};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::fleet::Inner;
use crate::record::Record;
use crate::store::{Store, StoreError};

/// Tencent's token API (or any source) behind a box: the fleet's task holds the apps of one
/// store side by side, whatever their source's type. A cold path (one call per interval).
pub(crate) trait Fetch: Send + Sync + 'static {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<TokenSnapshot, Error>> + Send + '_>>;
}

impl<S: Source<TokenSnapshot>> Fetch for S {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<TokenSnapshot, Error>> + Send + '_>> {
        Box::pin(Source::fetch(self))
    }
}

/// One app of one instance: what its source and the fleet's task share.
pub(crate) struct AppState {
    pub(crate) app: u64,
    pub(crate) tencent: Box<dyn Fetch>,
    /// Bumped by every [`Notice::Changed`](crate::Notice::Changed) for the app.
    pub(crate) generation: watch::Sender<u64>,
    /// The generation the last read served.
    pub(crate) served: AtomicU64,
    /// Whether this instance held the app's lease at its last attempt.
    pub(crate) holding: AtomicBool,
    /// The holder's last early fetch (the store's clock, milliseconds).
    pub(crate) last_early_ms: AtomicU64,
    /// No fallback fetch before this instant (`None`: the store was up at the last miss).
    pub(crate) fallback_next: Mutex<Option<Instant>>,
    /// Jitter for the fallback's spacing.
    pub(crate) rng: Mutex<u64>,
    /// A duty task is under way for the app.
    pub(crate) in_duty: AtomicBool,
    /// The holder's fetches that failed in a row, and until when it resigned after three.
    pub(crate) holder_failures: std::sync::atomic::AtomicU32,
    pub(crate) resign_until: Mutex<Option<Instant>>,
    /// The fetch time of the last record read (0: none yet).
    pub(crate) last_read_ms: AtomicU64,
}

impl AppState {
    pub(crate) fn new(app: u64, tencent: Box<dyn Fetch>, seed: u64) -> Self {
        Self {
            app,
            tencent,
            generation: watch::Sender::new(0),
            served: AtomicU64::new(0),
            holding: AtomicBool::new(false),
            last_early_ms: AtomicU64::new(0),
            fallback_next: Mutex::new(None),
            rng: Mutex::new(seed | 1),
            in_duty: AtomicBool::new(false),
            holder_failures: std::sync::atomic::AtomicU32::new(0),
            resign_until: Mutex::new(None),
            last_read_ms: AtomicU64::new(0),
        }
    }

    /// A number in `[0, 1)` (xorshift64*).
    fn unit(&self) -> f64 {
        let mut state = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        let bits = state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        bits as f64 / (1u64 << 53) as f64
    }
}

/// An instance's [`Source`] of one app's token in a fleet: made by
/// [`Fleet::source`](crate::Fleet::source), given to a
/// [`TokenRefresher`](tim_callback_auth::TokenRefresher) (use
/// [`Fleet::refresher`](crate::Fleet::refresher): its intervals suit a shared source).
///
/// - a scheduled fetch reads the store (no call to Tencent);
/// - a fetch on a signature miss asks the fleet's holder for an early fetch (at most one per
///   gap, fleet-wide), waits for its notice, and reads;
/// - a change notice wakes the refresher at once;
/// - while the store cannot be reached, the last token keeps being served (a failed read keeps
///   it), and only a miss fetches from Tencent directly, spaced by the fleet's size as last seen
///   (see [`FleetBuilder::fallback_rate`](crate::FleetBuilder::fallback_rate)).
pub struct SharedSource<St> {
    pub(crate) fleet: Arc<Inner<St>>,
    pub(crate) app: Arc<AppState>,
}

impl<St> fmt::Debug for SharedSource<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSource")
            .field("app", &self.app.app)
            .field("instance", &self.fleet.instance)
            .finish_non_exhaustive()
    }
}

impl<St: Store> SharedSource<St> {
    /// The store's record for the app.
    async fn read(&self) -> Result<TokenSnapshot, Error> {
        let generation = *self.app.generation.borrow();
        self.app.served.store(generation, Ordering::SeqCst);
        let stored = match self.fleet.store.read(self.app.app).await {
            Ok(stored) => {
                self.fleet.store_up();
                *self.fallback_next() = None;
                stored
            }
            Err(e) => {
                self.fleet.store_down(&e);
                // The fallback's first turn is drawn from when the store went away, so that a
                // miss long after (a rotation during the outage) is fetched at once.
                let spacing = self.spacing();
                let mut next = self.fallback_next();
                if next.is_none() {
                    *next = Some(Instant::now() + spacing.mul_f64(self.app.unit()));
                }
                return Err(Error::from_source(e));
            }
        };
        match stored.record {
            Some(line) => Record::decode(&line)
                .map(|record| {
                    self.app
                        .last_read_ms
                        .fetch_max(record.fetched_ms, Ordering::Relaxed);
                    record.snapshot
                })
                .map_err(Error::from_source),
            None => Err(Error::from_source(StoreError::new(
                "no token is stored for the app yet (its lease holder fetches it)",
            ))),
        }
    }

    fn fallback_next(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.app
            .fallback_next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The fallback's spacing: the fleet's size (as last seen) over its rate, at least the gap.
    fn spacing(&self) -> Duration {
        let settings = &self.fleet.settings;
        let size = self.fleet.fleet_size.load(Ordering::Relaxed).max(1) as f64;
        Duration::from_secs_f64(size / settings.fallback_rate).max(settings.early_gap)
    }

    /// The store is unreachable: a fetch from Tencent, when this instance's turn has come.
    async fn fallback(&self, cause: StoreError) -> Result<TokenSnapshot, Error> {
        let settings = &self.fleet.settings;
        let spacing = self.spacing();
        let now = Instant::now();
        {
            let mut next = self.fallback_next();
            match *next {
                // The store just went away: the first turn is drawn over one spacing, so that a
                // fleet losing its store at once does not fetch at once.
                None => {
                    *next = Some(now + spacing.mul_f64(self.app.unit()));
                    return Err(Error::from_source(cause));
                }
                Some(at) if now < at => return Err(Error::from_source(cause)),
                Some(_) => *next = Some(now + spacing.mul_f64(0.5 + self.app.unit())),
            }
        }
        self.fleet.fallback_fetches.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            app = self.app.app,
            "the fleet's store is unreachable: fetching the token from tencent directly"
        );
        match tokio::time::timeout(settings.fetch_timeout, self.app.tencent.fetch()).await {
            Ok(result) => result,
            Err(_) => Err(Error::from_source(StoreError::new(
                "the fallback fetch from tencent timed out",
            ))),
        }
    }
}

impl<St: Store> Source<TokenSnapshot> for SharedSource<St> {
    async fn fetch(&self) -> Result<TokenSnapshot, Error> {
        self.read().await
    }

    async fn fetch_on_miss(&self) -> Result<TokenSnapshot, Error> {
        let mut generation = self.app.generation.subscribe();
        let before = *generation.borrow_and_update();
        match self
            .fleet
            .store
            .ask_early(self.app.app, self.fleet.settings.early_gap)
            .await
        {
            Ok(asked) => {
                self.fleet.store_up();
                *self.fallback_next() = None;
                // Another instance asked within the gap: its answer may be stored already.
                if !asked {
                    let seen = self.app.last_read_ms.load(Ordering::Relaxed);
                    if let Ok(Some(record)) = self
                        .fleet
                        .store
                        .read(self.app.app)
                        .await
                        .map(|s| s.record.and_then(|l| Record::decode(&l).ok()))
                    {
                        if record.fetched_ms > seen {
                            self.app
                                .last_read_ms
                                .fetch_max(record.fetched_ms, Ordering::Relaxed);
                            return Ok(record.snapshot);
                        }
                    }
                }
                // The holder's fetch and notice, or nothing new within the wait (a forgery).
                let _ = tokio::time::timeout(
                    self.fleet.settings.early_wait,
                    generation.wait_for(|g| *g > before),
                )
                .await;
                self.read().await
            }
            Err(e) => {
                self.fleet.store_down(&e);
                self.fallback(e).await
            }
        }
    }

    async fn changed(&self) {
        let mut generation = self.app.generation.subscribe();
        let served = self.app.served.load(Ordering::SeqCst);
        let _ = generation.wait_for(|g| *g > served).await;
    }

    fn app_id(&self) -> Option<u64> {
        Some(self.app.app)
    }
}
