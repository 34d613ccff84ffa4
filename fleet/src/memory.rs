//! [`MemoryStore`]: the [`Store`] rules under one lock, on tokio's clock (so a paused-clock
//! simulation runs a whole fleet in one process).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::store::{Lease, Notice, Store, StoreError, Stored};

/// A [`Store`] in memory, shared by its clones: for tests, and for simulating a fleet on one
/// machine. It can be taken down ([`set_down`](Self::set_down)) and flushed
/// ([`flush`](Self::flush)) as a Redis can.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    down: AtomicBool,
    /// The store's clock: this instant is `epoch_ms`.
    started: Instant,
    epoch_ms: u64,
}

#[derive(Default)]
struct State {
    /// Per app: the lease holder and when it expires.
    leases: HashMap<u64, (String, Instant)>,
    records: HashMap<u64, String>,
    /// Per app: when the last early ask was made, and until when no other may be.
    early: HashMap<u64, (u64, Instant)>,
    members: HashMap<String, Instant>,
    /// The retry memory: key → expiry.
    answered: HashMap<String, Instant>,
    /// When the members were last swept (a sweep per call would cost a fleet's size each).
    swept: Option<Instant>,
    subscribers: Vec<mpsc::Sender<Notice>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the records: they hold tokens.
        f.debug_struct("MemoryStore")
            .field("down", &self.inner.down.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store; its clock starts at the system's time now and runs with tokio's.
    pub fn new() -> Self {
        let epoch_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            inner: Arc::new(Inner {
                state: Mutex::default(),
                down: AtomicBool::new(false),
                started: Instant::now(),
                epoch_ms,
            }),
        }
    }

    /// Takes the store down (every call fails, notices stop) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.inner.down.store(down, Ordering::SeqCst);
    }

    /// Forgets everything stored, as `FLUSHALL` does (subscriptions stay).
    pub fn flush(&self) {
        let mut state = self.lock();
        state.leases.clear();
        state.records.clear();
        state.early.clear();
        state.members.clear();
        state.answered.clear();
    }

    /// The record stored for `app`, as written.
    pub fn record(&self, app: u64) -> Option<String> {
        self.lock().records.get(&app).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.inner.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.inner.epoch_ms.saturating_add(elapsed)
    }

    fn up(&self) -> Result<(), StoreError> {
        if self.inner.down.load(Ordering::SeqCst) {
            Err(StoreError::new("the memory store is down"))
        } else {
            Ok(())
        }
    }

    fn notify(state: &mut State, notice: Notice) {
        state.subscribers.retain(|s| {
            !matches!(
                s.try_send(notice),
                Err(mpsc::error::TrySendError::Closed(_))
            )
        });
    }
}

use crate::record::Record;

impl Store for MemoryStore {
    async fn lease(&self, app: u64, holder: &str, ttl: Duration) -> Result<Lease, StoreError> {
        self.up()?;
        let now = Instant::now();
        let now_ms = self.now_ms();
        let mut state = self.lock();
        let held = match state.leases.get(&app) {
            Some((current, expires)) if *expires > now && current != holder => false,
            _ => {
                state.leases.insert(app, (holder.to_owned(), now + ttl));
                true
            }
        };
        Ok(Lease { held, now_ms })
    }

    async fn read(&self, app: u64) -> Result<Stored, StoreError> {
        self.up()?;
        let now = Instant::now();
        let state = self.lock();
        let _ = now;
        Ok(Stored {
            record: state.records.get(&app).cloned(),
            // The last ask's time, kept past its gap (as Redis's `:asked`).
            early_ms: state.early.get(&app).map(|(at, _)| *at),
        })
    }

    async fn publish(
        &self,
        app: u64,
        holder: &str,
        fetched_ms: u64,
        record: &str,
    ) -> Result<bool, StoreError> {
        self.up()?;
        let now = Instant::now();
        let mut state = self.lock();
        let holds = state
            .leases
            .get(&app)
            .is_some_and(|(current, expires)| current == holder && *expires > now);
        // As the Redis script: an unreadable fetch time, or one more than a minute in the
        // store's future, does not fence.
        let now_ms = self.now_ms();
        let newer = state
            .records
            .get(&app)
            .and_then(|r| Record::fetched_ms_of(r))
            .is_none_or(|stored| {
                stored < fetched_ms || stored > now_ms.saturating_add(crate::fleet::FUTURE_MS)
            });
        if !(holds && newer) {
            return Ok(false);
        }
        state.records.insert(app, record.to_owned());
        Self::notify(&mut state, Notice::Changed(app));
        Ok(true)
    }

    async fn ask_early(&self, app: u64, gap: Duration) -> Result<bool, StoreError> {
        self.up()?;
        let now = Instant::now();
        let now_ms = self.now_ms();
        let mut state = self.lock();
        if state
            .early
            .get(&app)
            .is_some_and(|(_, expires)| *expires > now)
        {
            return Ok(false);
        }
        state.early.insert(app, (now_ms, now + gap));
        Self::notify(&mut state, Notice::Early(app));
        Ok(true)
    }

    async fn join(&self, instance: &str, window: Duration) -> Result<u64, StoreError> {
        self.up()?;
        let now = Instant::now();
        let mut state = self.lock();
        state.members.insert(instance.to_owned(), now);
        // Swept at most every tenth of the window: the count may include instances gone for up
        // to 1.1 windows, as a Redis sorted set trimmed on every call would not; the fallback's
        // spacing is all it scales.
        if state
            .swept
            .is_none_or(|at| now.saturating_duration_since(at) >= window / 10)
        {
            state
                .members
                .retain(|_, seen| now.saturating_duration_since(*seen) <= window);
            state.swept = Some(now);
        }
        Ok(state.members.len() as u64)
    }

    async fn answered(&self, key: &str) -> Result<bool, StoreError> {
        self.up()?;
        let now = Instant::now();
        Ok(self
            .lock()
            .answered
            .get(key)
            .is_some_and(|until| *until > now))
    }

    async fn remember(&self, key: &str, ttl: Duration) -> Result<(), StoreError> {
        self.up()?;
        let now = Instant::now();
        let mut state = self.lock();
        state.answered.retain(|_, until| *until > now);
        state.answered.insert(key.to_owned(), now + ttl);
        Ok(())
    }

    fn notices(&self) -> mpsc::Receiver<Notice> {
        let (sender, receiver) = mpsc::channel(256);
        self.lock().subscribers.push(sender);
        receiver
    }
}
