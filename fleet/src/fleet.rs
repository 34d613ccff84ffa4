//! [`Fleet`]: one instance's membership in a fleet sharing a [`Store`], and the one background
//! task that holds leases, fetches from Tencent while it holds one, and hears the notices.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tim_callback_auth::refresh::{RefresherBuilder, Source};
use tim_callback_auth::{Error, TokenRefresher, TokenSnapshot};
use tokio::sync::{mpsc, Notify};

use crate::record::{valid_instance_id, Record};
use crate::source::{AppState, SharedSource};
use crate::store::{Notice, Store, StoreError};

/// The fleet's timings (see the [`FleetBuilder`] methods).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) lease: Duration,
    pub(crate) interval: Duration,
    pub(crate) poll: Duration,
    pub(crate) early_gap: Duration,
    pub(crate) early_wait: Duration,
    pub(crate) grace: Duration,
    pub(crate) fetch_timeout: Duration,
    pub(crate) fallback_rate: f64,
}

/// Builds a [`Fleet`]: [`Fleet::builder`].
#[derive(Debug)]
pub struct FleetBuilder<St> {
    store: St,
    instance: Option<String>,
    settings: Settings,
}

/// One instance's membership in a fleet of callback receivers sharing one token per app through
/// a [`Store`] (a [`RedisStore`](crate::RedisStore)): one lease holder per app calls Tencent on
/// the schedule and on the fleet's misses, every instance reads the store. Cheap to clone; its
/// task runs while the `Fleet` or any [`SharedSource`] of it is alive.
///
/// ```
/// use std::time::Duration;
/// use tim_callback_auth::{CallbackToken, TokenSnapshot};
/// use tim_callback_fleet::{Fleet, MemoryStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tim_callback_auth::Error> {
/// // In production: RedisStore::connect("redis://…", "tim:").await, and a RestClient.
/// let store = MemoryStore::new();
/// let tencent = TokenSnapshot::enabled(CallbackToken::new("the token")?);
/// let fleet = Fleet::builder(store).instance_id("receiver-1").start()?;
/// let refresher = fleet.refresher(1400000000, tencent).start().await?;
/// let handle = refresher.handle(); // for CallbackAuthLayer::new, as with any refresher
/// assert!(handle.load().unwrap().is_enabled());
/// assert_eq!(fleet.status().holding(), [1400000000]);
/// # Ok(())
/// # }
/// ```
pub struct Fleet<St> {
    inner: Arc<Inner<St>>,
}

impl<St> Clone for Fleet<St> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<St> fmt::Debug for Fleet<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("instance", &self.inner.instance)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner<St> {
    pub(crate) store: St,
    pub(crate) instance: String,
    /// The instance and a nonce of this process: what the store records as holder and member,
    /// so that two processes given one id (one `HOSTNAME`) never both hold a lease.
    holder: String,
    pub(crate) settings: Settings,
    apps: Mutex<Vec<Weak<AppState>>>,
    /// A new app: run its duty now.
    wake: Arc<Notify>,
    /// Whether the last call to the store succeeded.
    shared: AtomicBool,
    pub(crate) fleet_size: AtomicU64,
    pub(crate) fallback_fetches: AtomicU64,
    scheduled_fetches: AtomicU64,
    early_fetches: AtomicU64,
    fenced_writes: AtomicU64,
    store_failures: AtomicU64,
}

/// What one instance knows of its fleet: [`Fleet::status`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetStatus {
    shared: bool,
    fleet_size: u64,
    holding: Vec<u64>,
    scheduled_fetches: u64,
    early_fetches: u64,
    fallback_fetches: u64,
    fenced_writes: u64,
    store_failures: u64,
}

impl FleetStatus {
    /// Whether the store answered this instance's last call: `false` is the fallback mode (the
    /// last token served, Tencent called directly only on a miss).
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// The instances alive within the last three leases, as the store counted them last.
    pub fn fleet_size(&self) -> u64 {
        self.fleet_size
    }

    /// The apps whose lease this instance holds (it is their one fetcher).
    pub fn holding(&self) -> &[u64] {
        &self.holding
    }

    /// Fetches from Tencent this instance made as a holder on the schedule.
    pub fn scheduled_fetches(&self) -> u64 {
        self.scheduled_fetches
    }

    /// Fetches from Tencent this instance made as a holder because an instance asked (a miss).
    pub fn early_fetches(&self) -> u64 {
        self.early_fetches
    }

    /// Fetches from Tencent this instance made itself because the store was unreachable.
    pub fn fallback_fetches(&self) -> u64 {
        self.fallback_fetches
    }

    /// Writes the store refused because this instance no longer held the lease, or a newer
    /// record was stored (the fencing).
    pub fn fenced_writes(&self) -> u64 {
        self.fenced_writes
    }

    /// Calls to the store that failed.
    pub fn store_failures(&self) -> u64 {
        self.store_failures
    }
}

/// An instance id unique enough without configuration: the process id, the time and the
/// process's random hasher seed.
fn default_instance() -> String {
    let mut hasher = RandomState::new().build_hasher();
    std::process::id().hash(&mut hasher);
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
        .hash(&mut hasher);
    format!("i-{:016x}", hasher.finish())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl<St: Store> Fleet<St> {
    /// Starts building a fleet membership over `store`.
    pub fn builder(store: St) -> FleetBuilder<St> {
        FleetBuilder {
            store,
            instance: None,
            settings: Settings {
                lease: Duration::from_secs(10),
                interval: Duration::from_secs(60),
                poll: Duration::from_secs(10),
                early_gap: Duration::from_secs(1),
                early_wait: Duration::from_millis(800),
                grace: Duration::from_secs(300),
                fetch_timeout: Duration::from_secs(5),
                fallback_rate: 100.0,
            },
        }
    }

    /// The app's shared source: reads `app`'s token from the store; `tencent` (a
    /// `tim_callback_auth::rest::RestClient`) is called while this instance holds
    /// the app's lease, and in the fallback.
    ///
    /// One state per app per fleet: a second source for an app this fleet already serves shares
    /// the first's (and its `tencent`; the new one is dropped).
    pub fn source<S: Source<TokenSnapshot>>(&self, app: u64, tencent: S) -> SharedSource<St> {
        let mut apps = self
            .inner
            .apps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        apps.retain(|a| a.strong_count() > 0);
        let existing = apps.iter().filter_map(Weak::upgrade).find(|a| a.app == app);
        let state = match existing {
            Some(state) => state,
            None => {
                // Seeded by the instance and the app alone (SipHash with fixed keys): a
                // simulation of the fleet repeats itself.
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                self.inner.instance.hash(&mut hasher);
                app.hash(&mut hasher);
                let state = Arc::new(AppState::new(app, Box::new(tencent), hasher.finish()));
                apps.push(Arc::downgrade(&state));
                self.inner.wake.notify_one();
                state
            }
        };
        drop(apps);
        SharedSource {
            fleet: Arc::clone(&self.inner),
            app: state,
        }
    }

    /// A refresher builder over [`source`](Self::source), set for a shared source: its
    /// interval is the fleet's poll (a read of the store, not a call to Tencent), its
    /// refresh-on-miss gap the fleet's early gap, its backoff at most one poll.
    pub fn refresher<S: Source<TokenSnapshot>>(
        &self,
        app: u64,
        tencent: S,
    ) -> RefresherBuilder<SharedSource<St>, TokenSnapshot> {
        let settings = self.inner.settings;
        TokenRefresher::builder(self.source(app, tencent))
            .app_id(app)
            .interval(settings.poll)
            .backoff(Duration::from_millis(500), settings.poll)
            .grace(settings.grace)
            .refresh_on_miss_gap(settings.early_gap)
            .refresh_on_miss_wait(settings.early_wait + Duration::from_millis(200))
    }

    /// The store the fleet shares (for its retry memory: [`Store::answered`],
    /// [`Store::remember`]).
    pub fn store(&self) -> &St {
        &self.inner.store
    }

    /// This instance's view of the fleet.
    pub fn status(&self) -> FleetStatus {
        let inner = &self.inner;
        let mut holding: Vec<u64> = inner
            .live_apps()
            .iter()
            .filter(|a| a.holding.load(Ordering::Relaxed))
            .map(|a| a.app)
            .collect();
        holding.sort_unstable();
        FleetStatus {
            shared: inner.shared.load(Ordering::Relaxed),
            fleet_size: inner.fleet_size.load(Ordering::Relaxed),
            holding,
            scheduled_fetches: inner.scheduled_fetches.load(Ordering::Relaxed),
            early_fetches: inner.early_fetches.load(Ordering::Relaxed),
            fallback_fetches: inner.fallback_fetches.load(Ordering::Relaxed),
            fenced_writes: inner.fenced_writes.load(Ordering::Relaxed),
            store_failures: inner.store_failures.load(Ordering::Relaxed),
        }
    }
}

impl<St: Store> FleetBuilder<St> {
    /// This instance's id in the store (1 to 64 ASCII letters, digits, `.`, `_`, `:`, `-`):
    /// the pod or host name. Default: one made from the process id and the time.
    pub fn instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance = Some(id.into());
        self
    }

    /// How long a holder's lease lasts without renewal (default 10 s): another instance takes
    /// over within this long after the holder dies. Renewed every third of it.
    pub fn lease(mut self, ttl: Duration) -> Self {
        self.settings.lease = ttl.max(Duration::from_millis(300));
        self
    }

    /// How often the holder fetches from Tencent on the schedule (default 60 s).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.settings.interval = interval.max(Duration::from_secs(1));
        self
    }

    /// How often each instance reads the store besides the notices (default 10 s): the
    /// longest a lost notice delays a new token.
    pub fn poll(mut self, poll: Duration) -> Self {
        self.settings.poll = poll.max(Duration::from_millis(100));
        self
    }

    /// The fleet's refresh-on-miss gap (default 1 s): at most one early fetch per gap,
    /// fleet-wide.
    pub fn early_gap(mut self, gap: Duration) -> Self {
        self.settings.early_gap = gap.max(Duration::from_millis(100));
        self
    }

    /// How long the previous token is accepted after a rotation the holder saw (default 5 min),
    /// also by instances that start during it.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.settings.grace = grace;
        self
    }

    /// Calls per second to Tencent the whole fleet may make while its store is unreachable
    /// (default 100, half of Tencent's limit): each instance spaces its fallback fetches by the
    /// fleet's size over this rate (at least one early gap), its first turn drawn over one
    /// spacing from when it lost the store, so that an outage does not turn every instance into
    /// a poller, even under a forged flood.
    pub fn fallback_rate(mut self, calls_per_second: f64) -> Self {
        if calls_per_second.is_finite() && calls_per_second > 0.0 {
            self.settings.fallback_rate = calls_per_second;
        }
        self
    }

    /// Starts the fleet's task (within a tokio runtime).
    ///
    /// # Errors
    ///
    /// An error (of kind [`ErrorKind::Source`](tim_callback_auth::ErrorKind::Source)) when the
    /// instance id is not 1 to 64 of the allowed characters; it is not shown.
    pub fn start(self) -> Result<Fleet<St>, Error> {
        let instance = self.instance.unwrap_or_else(default_instance);
        if !valid_instance_id(&instance) {
            return Err(Error::from_source(
                "the fleet's instance id must be 1 to 64 ASCII letters, digits, '.', '_', ':' or '-'",
            ));
        }
        let notices = self.store.notices();
        let wake = Arc::new(Notify::new());
        let nonce = RandomState::new().hash_one(std::process::id()) as u32;
        let holder = format!("{instance}.{nonce:08x}");
        let inner = Arc::new(Inner {
            store: self.store,
            holder,
            instance,
            settings: self.settings,
            apps: Mutex::default(),
            wake: Arc::clone(&wake),
            shared: AtomicBool::new(true),
            fleet_size: AtomicU64::new(1),
            fallback_fetches: AtomicU64::new(0),
            scheduled_fetches: AtomicU64::new(0),
            early_fetches: AtomicU64::new(0),
            fenced_writes: AtomicU64::new(0),
            store_failures: AtomicU64::new(0),
        });
        tokio::spawn(run(Arc::downgrade(&inner), notices, wake));
        Ok(Fleet { inner })
    }
}

/// The fleet's task: every third of a lease, renew or take each app's lease and do the holder's
/// duty; on an early notice, the holder's duty for that app at once; on a change notice, wake
/// that app's refresher.
async fn run<St: Store>(
    inner: Weak<Inner<St>>,
    mut notices: mpsc::Receiver<Notice>,
    wake: Arc<Notify>,
) {
    let Some(tick) = inner.upgrade().map(|i| i.settings.lease / 3) else {
        return;
    };
    let mut next = tokio::time::Instant::now();
    loop {
        // Biased (the schedule first, so that a stream of notices cannot hold the lease's
        // renewal back): no random choice, and a simulation of the fleet repeats itself.
        let early = tokio::select! {
            biased;
            () = tokio::time::sleep_until(next) => None,
            () = wake.notified() => None,
            notice = notices.recv() => match notice {
                Some(Notice::Changed(app)) => {
                    let Some(inner) = inner.upgrade() else { return };
                    for state in inner.live_apps().iter().filter(|a| a.app == app) {
                        state.generation.send_modify(|g| *g += 1);
                    }
                    continue;
                }
                Some(Notice::Early(app)) => Some(app),
                None => {
                    // The store ended the subscription: ask for a new one after a tick.
                    tokio::time::sleep(tick).await;
                    let Some(inner) = inner.upgrade() else { return };
                    notices = inner.store.notices();
                    continue;
                }
            },
        };
        let Some(inner) = inner.upgrade() else { return };
        match early {
            // Only the holder acts on an ask (its tick catches an ask it did not hear).
            Some(app) => {
                for state in inner.live_apps().into_iter().filter(|a| a.app == app) {
                    if state.holding.load(Ordering::Relaxed) {
                        spawn_duty(&inner, state);
                    }
                }
            }
            None => {
                next = tokio::time::Instant::now() + tick;
                match inner
                    .store
                    .join(&inner.holder, inner.settings.lease * 3)
                    .await
                {
                    Ok(size) => {
                        inner.store_up();
                        inner.fleet_size.store(size.max(1), Ordering::Relaxed);
                    }
                    Err(e) => inner.store_down(&e),
                }
                for state in inner.live_apps() {
                    spawn_duty(&inner, state);
                }
            }
        }
    }
}

/// The app's duty in a task of its own (one app's slow fetch never holds another's renewal
/// back), unless one is under way; a panic in its source ends that task only.
fn spawn_duty<St: Store>(inner: &Arc<Inner<St>>, app: Arc<AppState>) {
    if app.in_duty.swap(true, Ordering::AcqRel) {
        return;
    }
    struct Done(Arc<AppState>);
    impl Drop for Done {
        fn drop(&mut self) {
            self.0.in_duty.store(false, Ordering::Release);
        }
    }
    let inner = Arc::clone(inner);
    tokio::spawn(async move {
        let done = Done(app);
        inner.duty(&done.0).await;
    });
}

impl<St: Store> Inner<St> {
    fn live_apps(&self) -> Vec<Arc<AppState>> {
        self.apps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    pub(crate) fn store_up(&self) {
        if !self.shared.swap(true, Ordering::Relaxed) {
            tracing::info!(instance = %self.instance, "the fleet's store is reachable again: tokens are shared");
        }
    }

    pub(crate) fn store_down(&self, error: &StoreError) {
        self.store_failures.fetch_add(1, Ordering::Relaxed);
        if self.shared.swap(false, Ordering::Relaxed) {
            tracing::warn!(
                instance = %self.instance,
                error = %error,
                "the fleet's store is unreachable: serving the last token, fetching from tencent only on a miss"
            );
        }
    }

    /// One fetch from Tencent for the holder, bounded by the fetch timeout.
    async fn fetch(&self, app: &AppState) -> Result<TokenSnapshot, String> {
        match tokio::time::timeout(self.settings.fetch_timeout, app.tencent.fetch()).await {
            Ok(Ok(snapshot)) => Ok(snapshot),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timed out".to_owned()),
        }
    }

    /// Takes or renews the app's lease; while held, fetches from Tencent when the stored record
    /// is an interval old (or missing, unreadable, or stamped in the store's future: a clock
    /// stepped back) or an instance asked since it was fetched (at most once per early gap),
    /// and publishes it, fenced. A holder whose fetches fail three times in a row resigns for
    /// two leases, so that another instance (another network path, another key) takes over.
    async fn duty(&self, app: &AppState) {
        if app
            .resign_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|until| tokio::time::Instant::now() < until)
        {
            app.holding.store(false, Ordering::Relaxed);
            return;
        }
        let lease = match self
            .store
            .lease(app.app, &self.holder, self.settings.lease)
            .await
        {
            Ok(lease) => lease,
            Err(e) => {
                app.holding.store(false, Ordering::Relaxed);
                return self.store_down(&e);
            }
        };
        self.store_up();
        app.holding.store(lease.held, Ordering::Relaxed);
        if !lease.held {
            return;
        }
        let stored = match self.store.read(app.app).await {
            Ok(stored) => stored,
            Err(e) => return self.store_down(&e),
        };
        let record = match stored.record.as_deref().map(Record::decode) {
            Some(Ok(record)) if record.fetched_ms <= lease.now_ms.saturating_add(FUTURE_MS) => {
                Some(record)
            }
            Some(Ok(_)) => {
                tracing::warn!(
                    app = app.app,
                    "replacing a token record stamped in the store's future"
                );
                None
            }
            Some(Err(bad)) => {
                tracing::warn!(app = app.app, error = %bad, "replacing an unreadable token record");
                None
            }
            None => None,
        };
        let fetched_ms = record.as_ref().map(|r| r.fetched_ms);
        let scheduled = fetched_ms
            .is_none_or(|at| lease.now_ms >= at.saturating_add(millis(self.settings.interval)));
        let asked = stored
            .early_ms
            .is_some_and(|asked| fetched_ms.is_none_or(|at| asked > at));
        let early_allowed = lease.now_ms
            >= app
                .last_early_ms
                .load(Ordering::Relaxed)
                .saturating_add(millis(self.settings.early_gap));
        if !(scheduled || (asked && early_allowed)) {
            return;
        }
        let mut snapshot = self.fetch(app).await;
        // Authentication switched off at Tencent: confirmed by a second answer before the
        // whole fleet lets callbacks through unverified.
        let disables = snapshot.as_ref().is_ok_and(|s| !s.is_enabled())
            && record.as_ref().is_some_and(|r| r.snapshot.is_enabled());
        if disables {
            tracing::warn!(
                app = app.app,
                "tencent reports callback authentication off; confirming with a second fetch"
            );
            snapshot = self.fetch(app).await;
        }
        let snapshot = match snapshot {
            Ok(snapshot) => {
                app.holder_failures.store(0, Ordering::Relaxed);
                snapshot
            }
            Err(e) => {
                let failures = app.holder_failures.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(app = app.app, error = %e, failures, "the holder's fetch from tencent failed; the stored token stays");
                if failures >= 3 {
                    app.holder_failures.store(0, Ordering::Relaxed);
                    *app.resign_until
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some(tokio::time::Instant::now() + self.settings.lease * 2);
                    tracing::warn!(
                        app = app.app,
                        "resigning the lease for two lease times: another instance may fetch"
                    );
                }
                return;
            }
        };
        if scheduled {
            self.scheduled_fetches.fetch_add(1, Ordering::Relaxed);
        } else {
            self.early_fetches.fetch_add(1, Ordering::Relaxed);
            app.last_early_ms.store(lease.now_ms, Ordering::Relaxed);
        }
        let snapshot = with_grace(snapshot, record.as_ref(), self.settings.grace);
        let next = Record {
            fetched_ms: lease.now_ms,
            holder: self.holder.clone(),
            snapshot,
        };
        match self
            .store
            .publish(app.app, &self.holder, lease.now_ms, &next.encode())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                self.fenced_writes.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    app = app.app,
                    "the store refused a late write (another holder, or a newer token)"
                );
            }
            Err(e) => self.store_down(&e),
        }
    }
}

/// How far in the store's future a record's fetch time may be before it counts as a clock that
/// stepped back (a failover to a server behind) and is replaced.
pub(crate) const FUTURE_MS: u64 = 60_000;

/// The previous token of a rotation the holder sees, kept for `grace`; an unchanged token keeps
/// the stored previous while it is valid.
fn with_grace(fetched: TokenSnapshot, stored: Option<&Record>, grace: Duration) -> TokenSnapshot {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let Some(current) = fetched.current().cloned() else {
        return fetched;
    };
    let Some(stored) = stored else {
        return fetched;
    };
    match stored.snapshot.current() {
        Some(old) if *old != current && !grace.is_zero() => {
            fetched.with_previous(old.clone(), now.saturating_add(grace.as_secs()))
        }
        Some(_) => match stored.snapshot.previous() {
            Some((previous, until)) if until > now && *previous != current => {
                fetched.with_previous(previous.clone(), until)
            }
            _ => fetched,
        },
        None => fetched,
    }
}
